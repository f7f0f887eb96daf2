"""The change-request rules, pure: what applies at once and what waits for staff, the
request's moves, and the checks on requested values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from baoxian.catalog.model import CoverLine
from baoxian.policies.model import InsuredUnit, Policy, PolicyStatus
from baoxian.policies.requests import (
    ROUTES,
    ChangeKind,
    Line,
    Requester,
    RequestStatus,
    applied,
    approved,
    available_kinds,
    declined,
    describe,
    effective_on,
    new_request,
    outcome_text,
    queued,
    require_changeable,
    require_none_pending,
)
from baoxian.shared.errors import InvalidTransition, ValidationFailed
from baoxian.shared.identity import resident_id_check_digit
from baoxian.shared.money import Money

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
CUSTOMER = Requester("customer", "f" * 64)
CAR = InsuredUnit("粤B·D12345", "vehicle", {"energy": "nev"}, {"vin": "LGXCE4CB8N0123456"})
ID = "11010519820506002" + resident_id_check_digit("11010519820506002")


def motor_policy(units: tuple[InsuredUnit, ...] = (CAR,)) -> Policy:
    return Policy(
        policy_number="MOTORNEV202600000001",
        product_code="MOTOR-NEV",
        plan_version="2026",
        holder_id="p1",
        status=PolicyStatus.IN_FORCE,
        original_inception=date(2026, 3, 1),
        term_no=1,
        term_start=date(2026, 3, 1),
        term_end=date(2027, 3, 1),
        instalment="annual",
        units=units,
        cover=(CoverLine(CAR.key, "own_damage", Money.of("200000")),),
        riders=frozenset(),
        optional_coverages=frozenset(),
        selections={},
        annual_premium=Money.of("3000"),
        premium_charged=Money.of("3000"),
        contact_mobile="13612345678",
        contact_address="深圳",
    )


def test_only_contact_changes_apply_at_once() -> None:
    assert {kind: route.immediate for kind, route in ROUTES.items()} == {
        ChangeKind.CONTACT: True,
        ChangeKind.BENEFICIARY: False,
        ChangeKind.VEHICLE: False,
        ChangeKind.SITE: False,
    }


def test_the_changes_offered_follow_what_is_insured() -> None:
    assert available_kinds(motor_policy()) == (ChangeKind.CONTACT, ChangeKind.VEHICLE)
    person = InsuredUnit("p1", "person", {}, party_id="p1")
    assert available_kinds(motor_policy((person,))) == (ChangeKind.CONTACT, ChangeKind.BENEFICIARY)
    group = replace(motor_policy((person,)), group=True)
    assert available_kinds(group) == (ChangeKind.CONTACT,)


def test_a_change_takes_effect_today_or_when_cover_starts() -> None:
    policy = motor_policy()
    assert effective_on(policy, date(2026, 2, 20)) == date(2026, 3, 1)
    assert effective_on(policy, date(2026, 3, 10)) == date(2026, 3, 10)
    with pytest.raises(InvalidTransition) as cancelled:
        require_changeable(replace(policy, status=PolicyStatus.CANCELLED), date(2026, 3, 10))
    assert cancelled.value.code == "policy.cannot_endorse"
    with pytest.raises(ValidationFailed) as late:
        require_changeable(policy, date(2027, 3, 1))
    assert late.value.code == "endorsement.outside_term"


def test_a_request_moves_only_along_its_edges() -> None:
    policy = motor_policy()
    raw = {"unit_key": CAR.key, "details": {"plate": "粤b f67890", "vin": ""}}
    request = new_request("a" * 32, policy, ChangeKind.VEHICLE, raw, CUSTOMER, NOW)
    assert request.values == {"unit_key": CAR.key, "details": {"plate": "粤BF67890"}}
    waiting = queued(request, NOW)
    assert waiting.status is RequestStatus.PENDING_REVIEW
    with pytest.raises(InvalidTransition) as early:
        applied(waiting, NOW, date(2026, 3, 10))
    assert early.value.zh == "该申请当前状态为「审核中」，不能生效"
    done = approved(waiting, NOW, date(2026, 3, 10), "li")
    assert (done.status, done.decided_by) == (RequestStatus.APPROVED, "li")
    with pytest.raises(InvalidTransition):
        declined(done, NOW, "li", "迟了")
    with pytest.raises(ValidationFailed) as silent:
        declined(waiting, NOW, "li", "   ")
    assert silent.value.code == "change_request.comment_required"
    no = declined(waiting, NOW, "li", " 请补充行驶证 ")
    assert outcome_text(no).body_en == (
        "The vehicle details change you asked for on policy MOTORNEV202600000001 was "
        "declined. Note: 请补充行驶证"
    )
    with pytest.raises(ValidationFailed) as pending:
        require_none_pending([waiting], replace(request, request_id="b" * 32))
    assert pending.value.code == "change_request.already_pending"


@pytest.mark.parametrize(
    ("details", "code"),
    [
        ({"plate": "ABC123"}, "change_request.invalid_plate"),
        ({"vin": "LGXCE4CB8N012345O"}, "change_request.invalid_vin"),
        ({"plate": "", "vin": ""}, "change_request.nothing_to_change"),
    ],
)
def test_vehicle_details_are_checked(details: dict[str, str], code: str) -> None:
    raw = {"unit_key": CAR.key, "details": details}
    with pytest.raises(ValidationFailed) as refused:
        new_request("a" * 32, motor_policy(), ChangeKind.VEHICLE, raw, CUSTOMER, NOW)
    assert refused.value.code == code


def test_requests_are_described_with_numbers_masked() -> None:
    assert describe(ChangeKind.CONTACT, {"mobile": "13812345678"}) == (
        Line("新手机号码", "New mobile number", "138****5678"),
    )
    row = {"name": "李娜", "id_number": ID, "relationship": "配偶", "share_percent": 100}
    (line,) = describe(ChangeKind.BENEFICIARY, {"beneficiaries": [row]})
    assert (line.value, line.english) == (
        "李娜（配偶） 110***********0023 100%",
        "李娜 (Spouse) 110***********0023 100%",
    )
    assert describe(ChangeKind.BENEFICIARY, {"beneficiaries": []})[0].english == "The legal heirs"


def test_a_request_id_must_look_like_one() -> None:
    with pytest.raises(ValidationFailed) as bad:
        new_request("x", motor_policy(), ChangeKind.CONTACT, {"address": "a"}, CUSTOMER, NOW)
    assert bad.value.code == "change_request.invalid_id"
