"""Claims through the service layer on SQLite and PostgreSQL: accumulators persist across
claims, review routes claims (straight through, queue, decline), the human queue,
pre-payment, special-drug direct pay, idempotent payments, and paid + reserve = incurred
at every step."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.claims.case import ClaimCase, ClaimStatus
from baoxian.claims.model import BillItem, HealthClaim, PropertyClaim
from baoxian.claims.repository import SqlClaimsUnitOfWorkFactory
from baoxian.claims.services import ClaimService
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.errors import InvalidTransition, NotFound, ValidationFailed
from baoxian.shared.money import Money
from tests.store.conftest import resident_id

CATALOG = Catalog(CatalogRepository(Path(__file__).resolve().parents[2] / "catalog"))
M = Money.of
START = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    policies: PolicyService
    claims: ClaimService
    clock: Clock


@pytest.fixture
def world(engine: Engine, uow: SqlUnitOfWorkFactory) -> World:
    counter = itertools.count(1)
    clock = Clock()

    def new_id() -> str:
        return f"{next(counter):032x}"

    policies = PolicyService(uow=uow, catalog=CATALOG, clock=clock, new_id=new_id)
    claims = ClaimService(
        uow=SqlClaimsUnitOfWorkFactory(engine, clock),
        policies=policies,
        catalog=CATALOG,
        clock=clock,
        new_id=new_id,
    )
    return World(policies, claims, clock)


def huiminbao(
    policies: PolicyService, start: date = date(2026, 1, 1), id17: str = "11010519810415031"
) -> tuple[str, str]:
    person = policies.register_person(
        "王建国", resident_id(id17), "13812345678", medical_insurance_city="110000"
    )
    insured = (InsuredInput("person", person.party_id),)
    quote = policies.create_quote(QuoteInput("BJ-HMB", person.party_id, start, insured))
    return policies.issue_policy(quote.quote_id).policy_number, person.party_id


def factory(policies: PolicyService) -> str:
    owner = policies.register_organisation(
        "深圳市华安精密制造有限公司", "91110000600037341L", "13900001111"
    )
    site = InsuredInput(
        "site",
        key="SZ-01",
        facts={"construction_class": "B", "occupancy": "light_manufacturing", "coastal": True},
        declared_sum_insured=M("80000000"),
    )
    quote = policies.create_quote(QuoteInput("PAR-ENT", owner.party_id, date(2026, 3, 1), (site,)))
    return policies.issue_policy(quote.quote_id).policy_number


def stay(
    claim_id: str, number: str, insured: str, *items: BillItem, loss: date = date(2026, 6, 1)
) -> HealthClaim:
    return HealthClaim(
        claim_id,
        number,
        insured,
        loss,
        "K35.8",
        items,
        provider="H110105001",
        invoice_no=f"INV-{claim_id}",
        discharge_date=loss + timedelta(days=5),
    )


def typhoon(claim_id: str, number: str, loss: str = "1000000") -> PropertyClaim:
    return PropertyClaim(
        claim_id, number, "SZ-01", date(2026, 9, 16), "typhoon", M(loss), invoice_no=claim_id
    )


def balanced(world: World, case: ClaimCase) -> None:
    """paid + reserve = incurred, and paid is exactly what the payment instructions moved."""
    payments = world.claims.payments(case.claim_id)
    moved = sum(
        (p.amount if p.kind != "recovery" else -p.amount for p in payments), start=Money.ZERO
    )
    assert case.paid == moved
    assert case.paid + case.reserve == case.incurred
    stored = world.claims.case(case.claim_id)
    assert (stored.paid, stored.reserve, stored.status) == (case.paid, case.reserve, case.status)


# --------------------------------------------------------------------------- straight through


def test_straight_through_claims_share_the_deductible_and_pay_once(world: World) -> None:
    claims = world.claims
    number, insured = huiminbao(world.policies)
    first = claims.report(
        stay("C1", number, insured, BillItem("HOSP", "住院", "in_list", M("50000"), M("30000")))
    )
    assert (first.status, first.reserve, first.incurred) == (
        ClaimStatus.REPORTED,
        M("50000"),
        M("50000"),
    )
    decided = claims.decide("C1")
    # 50,000 − 30,000 paid by 医保 = 20,000; − the 18,000 annual deductible = 2,000; × 80 %
    assert (decided.status, decided.payable, decided.paid) == (
        ClaimStatus.PAID,
        M("1600.00"),
        M("1600.00"),
    )
    assert decided.straight_through is True and decided.reserve == M("0")
    assert decided.eob is not None and decided.eob["items"][0]["steps"][1]["rule"] == (
        "claim.deductible_annual"
    )
    assert decided.review is not None and decided.review["outcome"] == "pay"
    assert claims.decide("C1") == decided  # deciding again changes nothing
    balanced(world, decided)

    out_of_list = BillItem("OUT", "目录外", "out_of_list", M("10000"))
    claims.report(stay("C2", number, insured, out_of_list, loss=date(2026, 8, 1)))
    second = claims.decide("C2")
    assert second.payable == M("7000.00")  # the deductible was used by C1, read from the store

    again, instruction = claims.pay("C1")
    assert again == decided and instruction.amount == M("1600.00")
    assert (instruction.kind, instruction.payee_kind, instruction.payee) == (
        "final",
        "insured",
        insured,
    )
    assert [p.payment_id for p in claims.payments("C1")] == [instruction.payment_id]
    kinds = [e.event_type for e in claims.history("C1")]
    assert kinds == ["claim.reported", "claim.decided", "claim.paid"]


def test_claim_after_cancellation_is_a_decided_zero_payment(world: World) -> None:
    number, insured = huiminbao(world.policies)
    world.policies.cancel(number, date(2026, 5, 1), "退保")
    world.claims.report(
        stay("C3", number, insured, BillItem("HOSP", "住院", "in_list", M("50000")))
    )
    declined = world.claims.decide("C3")
    assert declined.status is ClaimStatus.DECLINED and declined.straight_through is True
    assert declined.payable == M("0") and declined.incurred == M("0")
    assert declined.eob is not None
    assert declined.eob["reasons"][0]["rule"] == "claim.policy_not_in_force"
    with pytest.raises(InvalidTransition) as error:
        world.claims.pay("C3")
    assert error.value.code == "claim.cannot_paid"


def test_duplicate_invoice_is_declined_and_consumes_nothing(world: World) -> None:
    claims = world.claims
    number, insured = huiminbao(world.policies)
    bill = BillItem("OUT", "目录外", "out_of_list", M("30000"))
    claims.report(stay("C1", number, insured, bill))
    assert claims.decide("C1").payable == M("8400.00")  # (30,000 − 18,000) × 70 %
    copy = HealthClaim(
        "C2",
        number,
        insured,
        date(2026, 7, 1),
        "K35.8",
        (bill,),
        provider="H110105001",
        invoice_no="INV-C1",
    )
    claims.report(copy)
    declined = claims.decide("C2")
    assert declined.status is ClaimStatus.DECLINED and declined.payable == M("0")
    assert declined.review is not None
    assert [f["code"] for f in declined.review["findings"]] == ["review.duplicate_invoice"]
    assert "已在理赔案件 C1 中报销" in declined.review["findings"][0]["zh"]
    # the deductible and limits were not touched by the duplicate
    small = BillItem("OUT", "目录外", "out_of_list", M("1000"))
    claims.report(stay("C3", number, insured, small, loss=date(2026, 8, 1)))
    third = claims.decide("C3")
    assert third.review is not None and third.review["findings"] == []
    assert third.payable == M("700.00")


# --------------------------------------------------------------------------- the queue


def test_large_property_claim_goes_to_a_handler_within_authority(world: World) -> None:
    claims = world.claims
    number = factory(world.policies)
    claims.report(typhoon("C4", number), channel="api")
    referred = claims.decide("C4")
    assert referred.status is ClaimStatus.REFERRED and referred.straight_through is None
    assert referred.review is not None
    assert [f["code"] for f in referred.review["findings"]] == ["review.over_auto_pay_limit"]
    assert referred.reserve == M("900000.00")  # the provisional payable
    assert [c.claim_id for c in claims.queue()] == ["C4"]

    claims.add_handler("zhang", "张理赔", M("500000"))
    claims.add_handler("li", "李经理", M("2000000"))
    with pytest.raises(ValidationFailed) as error:
        claims.approve("C4", "zhang")
    assert error.value.code == "claim.over_authority"
    assert claims.case("C4").status is ClaimStatus.REFERRED  # nothing changed
    with pytest.raises(NotFound) as nobody:
        claims.assign("C4", "nobody")
    assert nobody.value.code == "claim.handler_not_found"
    claims.assign("C4", "li")
    with pytest.raises(InvalidTransition) as taken:
        claims.approve("C4", "zhang")
    assert taken.value.code == "claim.assigned_to_other"
    assert claims.queue("zhang") == []
    paid = claims.approve("C4", "li", note="现场查勘属实")
    assert (paid.status, paid.paid, paid.straight_through) == (
        ClaimStatus.PAID,
        M("900000.00"),
        False,
    )
    balanced(world, paid)
    assert [e.event_type for e in claims.history("C4")] == [
        "claim.reported",
        "claim.decided",
        "claim.assigned",
        "claim.approved",
        "claim.paid",
    ]


def test_claim_soon_after_inception_waits_for_information_then_is_approved(world: World) -> None:
    claims = world.claims
    number, insured = huiminbao(world.policies, start=date(2026, 6, 1))
    bill = BillItem("OUT", "目录外", "out_of_list", M("20000"))
    claims.report(stay("C5", number, insured, bill, loss=date(2026, 6, 8)))
    referred = claims.decide("C5")
    assert referred.status is ClaimStatus.REFERRED
    assert referred.review is not None
    assert referred.review["findings"][0]["code"] == "review.soon_after_inception"
    claims.add_handler("zhang", "张理赔", M("50000"))
    asked = claims.request_info("C5", "zhang", "请提供既往病历", "send the earlier medical records")
    assert (asked.status, asked.assignee) == (ClaimStatus.PENDING_INFO, "zhang")
    with pytest.raises(InvalidTransition):
        claims.approve("C5", "zhang")
    with pytest.raises(ValidationFailed) as error:
        claims.request_info("C5", "zhang", "", "")
    assert error.value.code == "claim.reason_required"
    claims.provide_info("C5", "已上传病历")
    approved = claims.approve("C5", "zhang")
    assert (approved.status, approved.paid) == (ClaimStatus.PAID, M("1400.00"))  # 2,000 × 70 %
    history = claims.history("C5")
    assert [e.event_type for e in history][2:5] == [
        "claim.info_requested",
        "claim.info_provided",
        "claim.approved",
    ]
    assert history[2].payload["what_zh"] == "请提供既往病历"


def test_green_channel_jumps_the_queue(world: World) -> None:
    claims = world.claims
    number = factory(world.policies)
    for claim_id, green in (("C1", False), ("C2", True), ("C3", False)):
        claims.report(typhoon(claim_id, number, "200000"), green_channel=green)
        claims.decide(claim_id)
    assert [c.claim_id for c in claims.queue()] == ["C2", "C1", "C3"]


# --------------------------------------------------------------------------- money


def test_prepayment_is_trued_up_without_paying_twice(world: World) -> None:
    claims = world.claims
    number = factory(world.policies)
    claims.report(typhoon("C6", number))
    claims.decide("C6")  # referred: 900,000 provisional
    with pytest.raises(ValidationFailed) as error:
        claims.prepay("C6", M("450000.01"), "r1")
    assert error.value.code == "claim.prepayment_over_limit"
    first, instruction = claims.prepay("C6", M("300000"), "r1")
    assert (first.paid, first.reserve, first.incurred) == (
        M("300000"),
        M("600000.00"),
        M("900000.00"),
    )
    again, same = claims.prepay("C6", M("300000"), "r1")  # a retry of the same request
    assert same == instruction and again.paid == M("300000")
    with pytest.raises(ValidationFailed):
        claims.prepay("C6", M("150000.01"), "r2")  # 450,000 in all at most
    balanced(world, again)
    claims.add_handler("li", "李经理", M("2000000"))
    paid = claims.approve("C6", "li")
    assert (paid.status, paid.paid, paid.reserve) == (ClaimStatus.PAID, M("900000.00"), M("0"))
    amounts = [(p.kind, p.amount) for p in claims.payments("C6")]
    assert amounts == [("prepayment", M("300000")), ("final", M("600000.00"))]
    balanced(world, paid)
    with pytest.raises(InvalidTransition):
        claims.prepay("C6", M("1"), "r3")


def test_an_advance_paid_before_the_decision_is_not_reserved_again(world: World) -> None:
    """预赔付 right after the report (the risk radar's pre-payment list), then the review refers
    the claim: the reserve is what is left to pay, so incurred stays the estimate."""
    claims = world.claims
    number = factory(world.policies)
    claims.report(typhoon("C8", number))  # reserve: the 1,000,000 claimed
    advanced, _ = claims.prepay("C8", M("270000"), "advance")
    assert (advanced.paid, advanced.reserve) == (M("270000"), M("730000.00"))
    referred = claims.decide("C8")  # provisional payable 900,000
    assert referred.status is ClaimStatus.REFERRED
    assert (referred.paid, referred.reserve, referred.incurred) == (
        M("270000"),
        M("630000.00"),
        M("900000.00"),
    )
    balanced(world, referred)


def test_prepayment_on_a_declined_claim_is_to_be_recovered(world: World) -> None:
    claims = world.claims
    number = factory(world.policies)
    claims.report(typhoon("C7", number))
    claims.decide("C7")
    claims.prepay("C7", M("100000"), "r1")
    claims.add_handler("li", "李经理", M("2000000"))
    declined = claims.decline(
        "C7", "li", "经查勘损失非台风所致", "the loss was not caused by the typhoon"
    )
    assert (declined.status, declined.paid, declined.reserve) == (
        ClaimStatus.DECLINED,
        M("0"),
        M("0"),
    )
    assert [(p.kind, p.amount, p.status) for p in claims.payments("C7")] == [
        ("prepayment", M("100000"), "instructed"),
        ("recovery", M("100000"), "to_recover"),
    ]
    balanced(world, declined)


# --------------------------------------------------------------------------- special drugs


def special_drug(claim_id: str, number: str, insured: str) -> HealthClaim:
    drug = BillItem("L01EB04", "甲磺酸奥希替尼片", "special_drug", M("30000"))
    return HealthClaim(
        claim_id,
        number,
        insured,
        date(2026, 6, 9),
        "C34.9",
        (drug,),
        provider="PH110101",
        invoice_no=f"RX-{claim_id}",
    )


def test_special_drug_direct_pay_to_the_pharmacy_within_48_hours(world: World) -> None:
    claims = world.claims
    number, insured = huiminbao(world.policies)
    reported = claims.report(special_drug("D1", number, insured), fast_track="special_drug")
    assert reported.stage == "prescription_received"
    assert reported.sla_due_at == START + timedelta(hours=48)
    paid = claims.decide("D1")
    assert (paid.status, paid.stage, paid.paid) == (
        ClaimStatus.PAID,
        "paid_to_pharmacy",
        M("24000.00"),  # 30,000 × 80 %, no deductible for special drugs
    )
    assert [(p.payee_kind, p.payee) for p in claims.payments("D1")] == [("pharmacy", "PH110101")]
    world.clock.now = START + timedelta(hours=30)
    with pytest.raises(ValidationFailed):
        claims.drug_delivered("D1", "PH999999")
    delivered = claims.drug_delivered("D1", "PH110101")
    assert delivered.stage == "delivered"
    assert claims.history("D1")[-1].payload == {"pharmacy": "PH110101", "within_sla": True}

    claims.report(special_drug("D2", number, insured), fast_track="special_drug")
    claims.decide("D2")
    world.clock.now = START + timedelta(hours=30 + 49)  # D2 was reported at hour 30
    assert [c.claim_id for c in claims.sla_breaches()] == ["D2"]
    claims.drug_delivered("D2", "PH110101")
    assert claims.history("D2")[-1].payload["within_sla"] is False
    assert claims.sla_breaches() == []


def test_special_drug_fast_track_needs_a_drug_and_a_pharmacy(world: World) -> None:
    number, insured = huiminbao(world.policies)
    hospital = stay("D3", number, insured, BillItem("HOSP", "住院", "in_list", M("100")))
    with pytest.raises(ValidationFailed) as error:
        world.claims.report(hospital, fast_track="special_drug")
    assert error.value.code == "claim.special_drug_required"
    with pytest.raises(ValidationFailed) as unknown:
        world.claims.report(hospital, fast_track="teleport")
    assert unknown.value.code == "claim.unknown_fast_track"


def test_unknown_insured_is_refused(world: World) -> None:
    number = factory(world.policies)
    with pytest.raises(ValidationFailed) as error:
        world.claims.report(
            PropertyClaim("C9", number, "NO-SITE", date(2026, 9, 16), "typhoon", M("1"))
        )
    assert error.value.code == "policy.unknown_insured"


def test_claim_reported_after_renewal_is_decided_on_its_own_policy_year(world: World) -> None:
    claims, policies = world.claims, world.policies
    person = policies.register_person("李秀英", resident_id("11010519850312042"), "13812345679")
    insured = (InsuredInput("person", person.party_id),)
    quote = policies.create_quote(QuoteInput("LTM-15", person.party_id, date(2025, 3, 1), insured))
    number = policies.issue_policy(quote.quote_id).policy_number

    def bill(claim_id: str, amount: str, loss: date) -> HealthClaim:
        item = BillItem("OUT", "目录外", "out_of_list", M(amount))
        return stay(claim_id, number, person.party_id, item, loss=loss)

    claims.report(bill("C1", "15000", date(2025, 6, 1)))
    assert claims.decide("C1").payable == M("5000.00")  # 15,000 − the 10,000 annual deductible
    renewed = policies.renew(number)
    assert (renewed.term_no, renewed.term_start) == (2, date(2026, 3, 1))
    # a loss in February 2026, reported after the renewal: the first year's deductible is spent
    assert claims.report(bill("C2", "1000", date(2026, 2, 20))).term_no == 1
    assert claims.decide("C2").payable == M("1000.00")
    # a loss in the new policy year starts a new deductible
    assert claims.report(bill("C3", "1000", date(2026, 4, 1))).term_no == 2
    third = claims.decide("C3")
    assert (third.status, third.payable) == (ClaimStatus.DECLINED, M("0"))
    assert third.eob is not None
    assert third.eob["items"][0]["steps"][0]["rule"] == "claim.deductible_annual"
