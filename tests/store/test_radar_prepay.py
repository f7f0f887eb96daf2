"""预赔付 after a typhoon through the claims context, on SQLite and PostgreSQL: an advance per
site, never twice for the same event and site; the final assessment pays only the rest, so
what is paid in all is the final payable — never more."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_FLOOR, Decimal

import pytest
from sqlalchemy import Engine

from baoxian.claims.case import ClaimStatus
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.radar.services import PrepaymentLine, advance_request_id, claim_id_for
from baoxian.shared.errors import DomainError
from baoxian.shared.money import Money
from tests.store.radar_world import ON, World, make_world, property_policy, site, track

M = Money.of


@pytest.fixture
def world(engine: Engine, uow: SqlUnitOfWorkFactory) -> World:
    world = make_world(engine, uow)
    world.claims.add_handler("li", "李经理", M("100000000"))
    return world


def paid_in_all(world: World, claim_id: str) -> list[tuple[str, Money]]:
    return [(p.kind, p.amount) for p in world.claims.payments(claim_id)]


def test_a_worked_advance_is_paid_once_and_trued_up(world: World) -> None:
    number = property_policy(
        world, "珠海华发仓储有限公司", date(2026, 3, 1), site("ZH-01", "zhuhai", "20000000", "C")
    ).policy_number
    # ground-up 1,000,000.00; deductible max(20,000, 10 %) = 100,000.00 → estimate 900,000.00;
    # advance 30 % = 270,000.00
    line = PrepaymentLine(
        number, "ZH-01", "仓库", "H", 45.0, M("1000000"), M("900000"), M("270000")
    )
    first = world.radar.prepay([line], "1713", ON)
    claim_id = claim_id_for("advance", "1713", number, "ZH-01")
    assert [(o.claim_id, o.status) for o in first.outcomes] == [(claim_id, "prepaid")]
    assert first.advanced == M("270000")
    case = world.claims.case(claim_id)
    assert (case.status, case.paid, case.reserve, case.green_channel, case.channel) == (
        ClaimStatus.REPORTED,
        M("270000"),
        M("730000.00"),
        True,
        "radar",
    )
    key = f"{claim_id}:prepay:{advance_request_id('1713', number, 'ZH-01')}"
    assert [p.idempotency_key for p in world.claims.payments(claim_id)] == [key]
    assert key == f"{claim_id}:prepay:1713:{number}:ZH-01:advance"

    second = world.radar.prepay([line], "1713", ON)  # a re-run: nothing is paid again
    assert [o.status for o in second.outcomes] == ["already"] and second.advanced == M("0")
    assert paid_in_all(world, claim_id) == [("prepayment", M("270000"))]

    decided = world.claims.decide(claim_id)  # the loss adjuster's final assessment
    assert decided.status is ClaimStatus.REFERRED  # over the straight-through limit
    final = world.claims.approve(claim_id, "li", note="查勘定损属实")
    assert (final.status, final.payable, final.paid, final.reserve) == (
        ClaimStatus.PAID,
        M("900000.00"),
        M("900000.00"),
        M("0"),
    )
    assert paid_in_all(world, claim_id) == [
        ("prepayment", M("270000")),
        ("final", M("630000.00")),
    ]
    third = world.radar.prepay([line], "1713", ON)  # after the final payment: still nothing
    assert [o.status for o in third.outcomes] == ["already"]
    assert sum((a for _, a in paid_in_all(world, claim_id)), start=M("0")) == M("900000.00")


def test_the_list_from_a_real_storm_pays_advances_then_exactly_the_estimates(
    world: World,
) -> None:
    property_policy(
        world,
        "珠海华发仓储有限公司",
        date(2026, 3, 1),
        site("ZH-01", "zhuhai", "20000000", "C", "warehouse"),
        site("SZ-01", "shenzhen", "80000000", "B", "light_manufacturing"),
    )
    property_policy(
        world, "佛山制造有限公司", date(2026, 2, 1), site("FS-01", "foshan", "60000000", "C")
    )
    property_policy(world, "北京远方", date(2026, 1, 1), site("BJ-01", "beijing", "40000000"))
    assessment = world.radar.assess(track("2017_hato"), ON)
    lines = world.radar.prepayment_list(assessment, Decimal("0.3"), M("10000"))
    assert [line.unit_key for line in lines] and "BJ-01" not in [line.unit_key for line in lines]
    assert [line.estimate for line in lines] == sorted(
        (line.estimate for line in lines), reverse=True
    )
    for line in lines:
        assert line.estimate >= M("10000")
        exact = (line.estimate.amount * Decimal("0.3")).quantize(Decimal("0.01"), ROUND_FLOOR)
        assert line.advance.amount == exact

    result = world.radar.prepay(lines, "1713", ON)
    assert result.count("prepaid") == len(lines) and result.count("refused") == 0
    assert result.advanced == sum((line.advance for line in lines), start=M("0"))
    assert world.radar.prepay(lines, "1713", ON).count("already") == len(lines)

    for line in lines:
        claim_id = claim_id_for("advance", "1713", line.policy_number, line.unit_key)
        case = world.claims.decide(claim_id)
        if case.status is ClaimStatus.REFERRED:
            case = world.claims.approve(claim_id, "li")
        # the radar's estimate is what the claims engine pays for the same ground-up loss
        assert (case.status, case.payable, case.paid) == (
            ClaimStatus.PAID,
            line.estimate,
            line.estimate,
        )
        kinds = paid_in_all(world, claim_id)
        assert kinds == [("prepayment", line.advance), ("final", line.estimate - line.advance)]


def test_no_advance_where_the_policy_did_not_cover_the_date_of_loss(world: World) -> None:
    number = property_policy(
        world, "深圳新投保有限公司", date(2026, 8, 15), site("SZ-01", "shenzhen", "50000000")
    ).policy_number
    line = PrepaymentLine(number, "SZ-01", "x", "H", 40.0, M("500000"), M("450000"), M("135000"))
    result = world.radar.prepay([line], "1713", date(2026, 8, 1))
    assert [(o.status, o.code) for o in result.outcomes] == [("refused", "radar.not_in_force")]
    claim_id = claim_id_for("advance", "1713", number, "SZ-01")
    with pytest.raises(DomainError):
        world.claims.case(claim_id)  # nothing was reported either
    too_much = PrepaymentLine(
        number, "SZ-01", "x", "H", 40.0, M("500000"), M("450000"), M("250000.01")
    )  # above half of the 500,000.00 reserve: the claims context refuses it
    refused = world.radar.prepay([too_much], "1713", ON).outcomes[0]
    assert (refused.status, refused.code) == ("refused", "claim.prepayment_over_limit")
    assert world.claims.case(claim_id).paid == M("0")


@pytest.mark.parametrize(("share", "event"), [(Decimal("0.6"), "1713"), (Decimal("0"), "1713")])
def test_shares_above_the_claims_limit_are_refused(
    world: World, share: Decimal, event: str
) -> None:
    assessment = world.radar.assess(track("2017_hato"), ON)
    with pytest.raises(DomainError) as raised:
        world.radar.prepayment_list(assessment, share)
    assert raised.value.code == "radar.prepayment_share"


def test_event_ids_are_short_and_plain(world: World) -> None:
    with pytest.raises(DomainError) as raised:
        world.radar.prepay([], "台风 1713", ON)
    assert raised.value.code == "radar.event_id"
    long = advance_request_id("E" * 24, "P" * 32, "U" * 64)
    assert len(long) <= 60 and long.startswith("E" * 24 + ":")
