"""The policy lifecycle through the service layer, on in-memory fakes."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from baoxian.catalog.services import Catalog
from baoxian.policies.model import Beneficiary, Person, Policy, PolicyStatus, QuoteStatus
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.clock import fixed_clock
from baoxian.shared.errors import DomainError, InvalidTransition, ValidationFailed
from baoxian.shared.identity import resident_id_check_digit
from baoxian.shared.money import Money
from tests.policies.fakes import FakeUnitOfWork, Store

START = date(2026, 3, 1)


def resident_id(birth: str, seq: int, region: str = "110105") -> str:
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + resident_id_check_digit(first17)


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def service(store: Store, catalog: Catalog) -> PolicyService:
    counter = itertools.count(1)
    return PolicyService(
        uow=lambda: FakeUnitOfWork(store),
        catalog=catalog,
        clock=fixed_clock(datetime(2026, 3, 1, 2, 0, tzinfo=UTC)),
        new_id=lambda: f"id{next(counter):04d}",
    )


def beijing_person(service: PolicyService, birth: str = "19810415", seq: int = 31) -> Person:
    return service.register_person(
        "王建国",
        resident_id(birth, seq),
        "13812345678",
        address="北京市朝阳区建国路88号",
        region_code="110105",
        medical_insurance_city="110000",
    )


def issue_long_term_medical(service: PolicyService, person: Person, **quote_args: object) -> Policy:
    command = QuoteInput(
        "LTM-15",
        person.party_id,
        START,
        (InsuredInput("person", party_id=person.party_id),),
        **quote_args,  # type: ignore[arg-type]
    )
    quote = service.create_quote(command)
    assert quote.status is QuoteStatus.ACCEPTED
    return service.issue_policy(quote.quote_id)


def test_register_person_validates_and_is_idempotent(service: PolicyService) -> None:
    first = beijing_person(service)
    again = beijing_person(service)
    assert again.party_id == first.party_id
    assert first.gender == "M"  # 17th digit 1 is odd
    assert first.age_on(START) == 44
    valid = resident_id("19810415", 31)
    wrong_check = valid[:17] + ("0" if valid[17] != "0" else "1")
    with pytest.raises(ValidationFailed) as error:
        service.register_person("李四", wrong_check, "13812345678")
    assert error.value.code == "party.invalid_resident_id"
    with pytest.raises(ValidationFailed) as error:
        service.register_person("李四", resident_id("19810415", 31), "12345")
    assert error.value.code == "party.invalid_mobile"


def test_register_organisation_checks_credit_code(service: PolicyService) -> None:
    org = service.register_organisation("北京测试科技有限公司", "91110000600037341L", "13900001111")
    assert org.credit_code == "91110000600037341L"
    with pytest.raises(ValidationFailed) as error:
        service.register_organisation("坏代码公司", "91110000600037341A", "13900001111")
    assert error.value.code == "party.invalid_credit_code"


def test_quote_issue_and_schedule(service: PolicyService, store: Store) -> None:
    person = beijing_person(service)
    policy = issue_long_term_medical(service, person)
    assert policy.policy_number == "LTM15202600000001"
    assert policy.status is PolicyStatus.IN_FORCE
    assert policy.term_end == date(2027, 3, 1)
    assert policy.annual_premium == Money.of("672.00")  # age 44, male, 2026 table
    assert policy.premium_charged == Money.of("672.00")
    assert {(c.coverage, c.sum_insured) for c in policy.cover} == {
        ("general_medical", Money.of("1000000")),
        ("critical_illness_medical", Money.of("1000000")),
    }
    events = [e.event_type for e in store.events if e.aggregate_id == policy.policy_number]
    assert events == ["policy.issued"]


def test_issuing_twice_returns_the_same_policy(service: PolicyService) -> None:
    person = beijing_person(service)
    quote = service.create_quote(
        QuoteInput("LTM-15", person.party_id, START, (InsuredInput("person", person.party_id),))
    )
    first = service.issue_policy(quote.quote_id)
    second = service.issue_policy(quote.quote_id)
    assert first.policy_number == second.policy_number


def test_referral_needs_an_underwriter_before_issue(service: PolicyService) -> None:
    person = beijing_person(service)
    insured = InsuredInput("person", person.party_id, declared_conditions=("高血压",))
    quote = service.create_quote(QuoteInput("LTM-15", person.party_id, START, (insured,)))
    assert quote.status is QuoteStatus.REFERRED
    assert [r.code for r in quote.decision.reasons] == ["health_declaration"]
    with pytest.raises(InvalidTransition) as error:
        service.issue_policy(quote.quote_id)
    assert error.value.code == "quote.not_accepted"
    accepted = service.decide_referral(quote.quote_id, "accept", "血压控制良好，标准体承保")
    assert accepted.status is QuoteStatus.ACCEPTED
    assert accepted.decision.reasons[0].code == "health_declaration"  # the reason is kept
    assert service.issue_policy(quote.quote_id).status is PolicyStatus.IN_FORCE


def test_declined_quote_keeps_reasons_and_cannot_issue(service: PolicyService) -> None:
    person = service.register_person("张桂英", resident_id("19600101", 22), "13700001111")
    insured = InsuredInput("person", person.party_id)
    quote = service.create_quote(QuoteInput("LTM-15", person.party_id, START, (insured,)))
    assert quote.status is QuoteStatus.DECLINED
    assert quote.decision.reasons[0].en == "Entry age must be between 30 days and 60"
    with pytest.raises(InvalidTransition):
        service.issue_policy(quote.quote_id)


def test_contact_and_beneficiary_changes(service: PolicyService, store: Store) -> None:
    policy = issue_long_term_medical(service, beijing_person(service))
    changed = service.change_contact(
        policy.policy_number, date(2026, 5, 1), mobile="13900002222", address="北京市海淀区"
    )
    assert changed.contact_mobile == "13900002222"
    spouse, child = resident_id("19830101", 42), resident_id("20100101", 51)
    result = service.change_beneficiaries(
        policy.policy_number,
        date(2026, 5, 2),
        [Beneficiary("李梅", spouse, "配偶", 60), Beneficiary("王小明", child, "子女", 40)],
    )
    assert [b.share_percent for b in result.beneficiaries] == [60, 40]
    with pytest.raises(ValidationFailed) as error:
        service.change_beneficiaries(
            policy.policy_number, date(2026, 5, 3), [Beneficiary("李梅", spouse, "配偶", 90)]
        )
    assert error.value.code == "endorsement.beneficiary_shares"
    endorsed = [e.payload["endorsement_no"] for e in store.events if "endorsement_no" in e.payload]
    assert endorsed == ["LTM15202600000001-E001", "LTM15202600000001-E002"]


def test_endorsement_retry_with_same_request_id_applies_once(service: PolicyService) -> None:
    policy = issue_long_term_medical(service, beijing_person(service))
    for _ in range(2):
        result = service.change_contact(
            policy.policy_number, date(2026, 5, 1), mobile="13900002222", request_id="req-1"
        )
    assert result.endorsement_count == 1


def register_site_owner(service: PolicyService) -> str:
    org = service.register_organisation(
        "深圳市华安精密制造有限公司", "91110000600037341L", "13900001111"
    )
    return org.party_id


def issue_property(service: PolicyService) -> str:
    owner = register_site_owner(service)
    sites = (
        InsuredInput(
            "site",
            key="SZ-01",
            facts={"construction_class": "B", "occupancy": "light_manufacturing", "coastal": True},
            details={"address": "广东省深圳市南山区科技园路88号", "lat": 22.54, "lon": 113.95},
            declared_sum_insured=Money.of("80000000"),
        ),
    )
    quote = service.create_quote(QuoteInput("PAR-ENT", owner, START, sites))
    return service.issue_policy(quote.quote_id).policy_number


def test_sum_insured_change_charges_pro_rata(service: PolicyService) -> None:
    number = issue_property(service)
    # 80m → 100m: annual 65,000 → 81,250; 184 of 365 days left from 2026-08-29
    changed = service.change_sum_insured(
        number, date(2026, 8, 29), "material_damage", Money.of("100000000"), unit_key="SZ-01"
    )
    assert changed.annual_premium == Money.of("81250.00")
    assert changed.premium_charged == Money.of("65000.00") + Money.of("8191.78")


def test_site_detail_change_rerates_and_cover_extension(service: PolicyService) -> None:
    number = issue_property(service)
    moved = service.change_unit_details(
        number,
        date(2026, 9, 1),
        "SZ-01",
        details={"address": "四川省成都市高新区天府大道1号"},
        facts={"coastal": False},
    )
    # 80m × 0.5‰ × 1.3 = 52,000; delta -13,000 × 181/365 = -6,446.58
    assert moved.annual_premium == Money.of("52000.00")
    assert moved.premium_charged == Money.of("58553.42")
    assert moved.unit("SZ-01").details["address"] == "四川省成都市高新区天府大道1号"
    extended = service.add_rider(number, date(2026, 9, 1), "earthquake")
    # earthquake 80m × 0.1‰ = 8,000 × 181/365 = 3,967.12
    assert extended.premium_charged == Money.of("62520.54")
    assert "earthquake" in {c.coverage for c in extended.cover}


def test_group_members_added_and_removed(service: PolicyService) -> None:
    employer = register_site_owner(service)
    people = [
        service.register_person(f"员工{i}", resident_id("19900101", 100 + i), "13800000000")
        for i in range(3)
    ]
    members = tuple(
        InsuredInput("person", p.party_id, facts={"medical_insurance_city": "110000"})
        for p in people
    )
    quote = service.create_quote(QuoteInput("BJ-HMB", employer, START, members[:2], group=True))
    policy = service.issue_policy(quote.quote_id, group=True)
    assert policy.premium_charged == Money.of("390.00")
    grown = service.add_members(policy.policy_number, date(2026, 9, 1), members[2:])
    # one more member: 195 × 181/365 = 96.70
    assert grown.member_count == 3
    assert grown.premium_charged == Money.of("486.70")
    shrunk = service.remove_members(policy.policy_number, date(2026, 12, 1), [people[0].party_id])
    # one less: -195 × 90/365 = -48.08
    assert shrunk.premium_charged == Money.of("438.62")
    with pytest.raises(ValidationFailed) as error:
        service.add_members(policy.policy_number, date(2026, 12, 2), members[1:2])
    assert error.value.code == "quote.duplicate_insured"


def test_members_only_on_group_policies(service: PolicyService) -> None:
    person = beijing_person(service)
    policy = issue_long_term_medical(service, person)
    other = service.register_person("赵六", resident_id("19900101", 7), "13800000001")
    with pytest.raises(ValidationFailed) as error:
        service.add_members(
            policy.policy_number, date(2026, 4, 1), [InsuredInput("person", other.party_id)]
        )
    assert error.value.code == "endorsement.not_group"


def test_guaranteed_renewal_uses_the_original_table_at_attained_age(
    service: PolicyService, catalog: Catalog
) -> None:
    person = beijing_person(service, birth="19810215")  # 45 on 2026-03-01
    quote = service.create_quote(
        QuoteInput(
            "LTM-15", person.party_id, date(2025, 3, 1), (InsuredInput("person", person.party_id),)
        )
    )
    policy = service.issue_policy(quote.quote_id)
    assert policy.plan_version == "2025"
    assert policy.annual_premium == Money.of("640.00")  # 44, male, 2025 table
    renewed = service.renew(policy.policy_number)
    assert renewed.term_no == 2
    assert renewed.term_start == date(2026, 3, 1)
    assert renewed.plan_version == "2025"  # stays on its own version
    assert renewed.annual_premium == Money.of("980.00")  # 45, 2025 table; new sales pay 999


def test_guaranteed_renewal_ignores_new_health_findings(service: PolicyService) -> None:
    policy = issue_long_term_medical(service, beijing_person(service))
    renewed = service.renew(policy.policy_number)
    assert renewed.status is PolicyStatus.IN_FORCE
    assert renewed.term_no == 2


def test_cancel_refunds_pro_rata_and_ends_the_policy(service: PolicyService) -> None:
    policy = issue_long_term_medical(service, beijing_person(service))
    cancelled, refund = service.cancel(policy.policy_number, date(2026, 9, 1), "客户申请退保")
    # 672.00 × 181/365 = 333.24 refunded, 338.76 retained
    assert refund.refund == Money.of("333.24")
    assert refund.retained == Money.of("338.76")
    assert cancelled.status is PolicyStatus.CANCELLED
    with pytest.raises(InvalidTransition) as error:
        service.change_contact(policy.policy_number, date(2026, 9, 2), mobile="13900002222")
    assert error.value.code == "policy.cannot_endorse"
    assert "已退保" in error.value.zh


def test_cancel_retry_with_same_request_id_returns_the_same_refund(
    service: PolicyService, store: Store
) -> None:
    policy = issue_long_term_medical(service, beijing_person(service))
    first = service.cancel(policy.policy_number, date(2026, 9, 1), "退保", request_id="c-1")
    events = len(store.events)
    again = service.cancel(policy.policy_number, date(2026, 9, 1), "退保", request_id="c-1")
    assert again[1] == first[1]
    assert again[1].refund == Money.of("333.24")
    assert len(store.events) == events


def test_lapse_reinstate_and_invalid_transitions_change_nothing(
    service: PolicyService, store: Store
) -> None:
    policy = issue_long_term_medical(service, beijing_person(service))
    lapsed = service.lapse(policy.policy_number, date(2026, 5, 1))
    assert lapsed.status is PolicyStatus.LAPSED
    before = (store.policies[policy.policy_number], len(store.events))
    with pytest.raises(InvalidTransition) as error:
        service.cancel(policy.policy_number, date(2026, 5, 2), "x")
    assert error.value.code == "policy.cannot_cancel"
    assert (store.policies[policy.policy_number], len(store.events)) == before
    assert (
        service.reinstate(policy.policy_number, date(2026, 5, 10)).status is PolicyStatus.IN_FORCE
    )


def test_endorsement_outside_the_term_is_refused(service: PolicyService) -> None:
    policy = issue_long_term_medical(service, beijing_person(service))
    with pytest.raises(ValidationFailed) as error:
        service.change_contact(policy.policy_number, date(2027, 3, 1), mobile="13900002222")
    assert error.value.code == "endorsement.outside_term"


def test_failed_endorsement_leaves_the_store_unchanged(
    service: PolicyService, store: Store
) -> None:
    number = issue_property(service)
    before = (replace(store.policies[number]), len(store.events))
    with pytest.raises(DomainError):
        service.add_rider(number, date(2026, 9, 1), "no_such_rider")
    assert (store.policies[number], len(store.events)) == before
