"""Claims through the service layer on SQLite and PostgreSQL: accumulators persist across
claims, payments are idempotent, and paid + reserve = incurred at every step."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.claims.case import ClaimStatus
from baoxian.claims.model import BillItem, HealthClaim, PropertyClaim
from baoxian.claims.repository import SqlClaimsUnitOfWorkFactory
from baoxian.claims.services import ClaimService
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.clock import Clock
from baoxian.shared.errors import InvalidTransition, ValidationFailed
from baoxian.shared.money import Money
from tests.store.conftest import resident_id

CATALOG = Catalog(CatalogRepository(Path(__file__).resolve().parents[2] / "catalog"))
M = Money.of


@pytest.fixture
def services(
    engine: Engine, uow: SqlUnitOfWorkFactory, clock: Clock
) -> tuple[PolicyService, ClaimService]:
    counter = itertools.count(1)

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
    return policies, claims


def huiminbao(policies: PolicyService) -> tuple[str, str]:
    person = policies.register_person(
        "王建国", resident_id("11010519810415031"), "13812345678", medical_insurance_city="110000"
    )
    insured = (InsuredInput("person", person.party_id),)
    quote = policies.create_quote(QuoteInput("BJ-HMB", person.party_id, date(2026, 1, 1), insured))
    return policies.issue_policy(quote.quote_id).policy_number, person.party_id


def stay(claim_id: str, number: str, insured: str, *items: BillItem) -> HealthClaim:
    return HealthClaim(
        claim_id,
        number,
        insured,
        date(2026, 6, 1),
        "K35.8",
        items,
        provider="H110105001",
        invoice_no=f"INV-{claim_id}",
        discharge_date=date(2026, 6, 6),
    )


def test_health_claims_share_the_deductible_and_pay_once(
    services: tuple[PolicyService, ClaimService],
) -> None:
    policies, claims = services
    number, insured = huiminbao(policies)
    first = claims.report(
        stay("C1", number, insured, BillItem("HOSP", "住院", "in_list", M("50000"), M("30000")))
    )
    assert (first.status, first.reserve, first.incurred) == (
        ClaimStatus.REPORTED,
        M("50000"),
        M("50000"),
    )
    decided = claims.decide("C1")
    assert decided.status is ClaimStatus.APPROVED
    assert decided.payable == M("1600.00")
    assert decided.reserve + decided.paid == M("1600.00")
    assert decided.eob is not None and decided.eob["items"][0]["steps"][1]["rule"] == (
        "claim.deductible_annual"
    )
    assert claims.decide("C1") == decided  # deciding again changes nothing

    claims.report(stay("C2", number, insured, BillItem("OUT", "目录外", "out_of_list", M("10000"))))
    second = claims.decide("C2")
    assert second.payable == M("7000.00")  # the deductible was used by C1, read from the store

    paid, instruction = claims.pay("C1")
    assert (paid.status, paid.paid, paid.reserve) == (ClaimStatus.PAID, M("1600.00"), M("0"))
    again, same = claims.pay("C1")
    assert same == instruction and again.paid == M("1600.00")
    assert instruction.amount == M("1600.00")
    kinds = [e.event_type for e in claims.history("C1")]
    assert kinds == ["claim.reported", "claim.decided", "claim.paid"]


def test_claim_after_cancellation_is_declined(
    services: tuple[PolicyService, ClaimService],
) -> None:
    policies, claims = services
    number, insured = huiminbao(policies)
    policies.cancel(number, date(2026, 5, 1), "退保")
    claims.report(stay("C3", number, insured, BillItem("HOSP", "住院", "in_list", M("50000"))))
    declined = claims.decide("C3")
    assert declined.status is ClaimStatus.DECLINED
    assert declined.payable == M("0") and declined.incurred == M("0")
    assert declined.eob is not None
    assert declined.eob["reasons"][0]["rule"] == "claim.policy_not_in_force"
    with pytest.raises(InvalidTransition) as error:
        claims.pay("C3")
    assert error.value.code == "claim.cannot_paid"


def test_property_typhoon_claim(services: tuple[PolicyService, ClaimService]) -> None:
    policies, claims = services
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
    number = policies.issue_policy(quote.quote_id).policy_number
    loss = PropertyClaim("C4", number, "SZ-01", date(2026, 9, 16), "typhoon", M("1000000"))
    claims.report(loss, channel="api")
    decided = claims.decide("C4")
    assert decided.payable == M("900000.00")
    with pytest.raises(ValidationFailed) as error:
        claims.report(PropertyClaim("C5", number, "NO-SITE", date(2026, 9, 16), "typhoon", M("1")))
    assert error.value.code == "policy.unknown_insured"
