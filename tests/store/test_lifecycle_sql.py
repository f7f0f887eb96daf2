"""The policy lifecycle through the service layer on the real store (SQLite and PostgreSQL):
the same worked amounts as the unit tests, now read back from the database."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import pytest

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.policies.model import PolicyStatus
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.clock import Clock
from baoxian.shared.errors import InvalidTransition
from baoxian.shared.money import Money
from tests.store.conftest import resident_id

CATALOG = Catalog(CatalogRepository(Path(__file__).resolve().parents[2] / "catalog"))
START = date(2026, 3, 1)


@pytest.fixture
def service(uow: SqlUnitOfWorkFactory, clock: Clock) -> PolicyService:
    counter = itertools.count(1)
    return PolicyService(
        uow=uow, catalog=CATALOG, clock=clock, new_id=lambda: f"{next(counter):032x}"
    )


def test_property_policy_endorsements_and_cancellation(service: PolicyService) -> None:
    owner = service.register_organisation(
        "深圳市华安精密制造有限公司", "91110000600037341L", "13900001111"
    )
    site = InsuredInput(
        "site",
        key="SZ-01",
        facts={"construction_class": "B", "occupancy": "light_manufacturing", "coastal": True},
        details={"address": "广东省深圳市南山区科技园路88号"},
        declared_sum_insured=Money.of("80000000"),
    )
    quote = service.create_quote(QuoteInput("PAR-ENT", owner.party_id, START, (site,)))
    number = service.issue_policy(quote.quote_id).policy_number
    assert number == "PARENT202600000001"

    service.change_sum_insured(
        number, date(2026, 8, 29), "material_damage", Money.of("100000000"), unit_key="SZ-01"
    )
    service.change_unit_details(
        number,
        date(2026, 9, 1),
        "SZ-01",
        details={"address": "深圳市宝安区"},
        facts={"coastal": True},
    )
    service.add_rider(number, date(2026, 9, 1), "earthquake")
    stored = service.policy(number)
    # 65,000 + 16,250 × 184/365 = 73,191.78; earthquake 10,000 × 181/365 = 4,958.90
    assert stored.annual_premium == Money.of("91250.00")
    assert stored.premium_charged == Money.of("78150.68")
    assert stored.unit("SZ-01").details["address"] == "深圳市宝安区"
    assert stored.endorsement_count == 3
    assert stored.version == 3

    cancelled, refund = service.cancel(number, date(2026, 12, 1), "停业")
    assert cancelled.ended_on == date(2026, 12, 1)
    # 78,150.68 × 90/365 = 19,270.03
    assert (refund.refund, refund.retained) == (Money.of("19270.03"), Money.of("58880.65"))
    assert service.policy(number).status is PolicyStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        service.renew(number)
    kinds = [e.event_type for e in service.history(number)]
    assert kinds == ["policy.issued"] + ["policy.endorsed"] * 3 + ["policy.cancelled"]


def test_group_members_and_guaranteed_renewal(service: PolicyService) -> None:
    employer = service.register_organisation(
        "北京测试科技有限公司", "91110000600037341L", "13900001111"
    )
    people = [
        service.register_person(
            f"员工{i}",
            resident_id(f"110105199001011{i:02d}"),
            "13800000000",
            medical_insurance_city="110000",
        )
        for i in range(3)
    ]
    members = tuple(InsuredInput("person", p.party_id) for p in people)
    quote = service.create_quote(
        QuoteInput("BJ-HMB", employer.party_id, START, members[:2], group=True)
    )
    number = service.issue_policy(quote.quote_id, group=True).policy_number
    service.add_members(number, date(2026, 9, 1), members[2:])
    shrunk = service.remove_members(number, date(2026, 12, 1), [people[0].party_id])
    assert shrunk.premium_charged == Money.of("438.62")
    assert [u.key for u in service.policy(number).units] == [p.party_id for p in people[1:]]

    holder = service.register_person(
        "王建国", resident_id("11010519810215031"), "13812345678", medical_insurance_city="110000"
    )
    ltm = service.create_quote(
        QuoteInput(
            "LTM-15", holder.party_id, date(2025, 3, 1), (InsuredInput("person", holder.party_id),)
        )
    )
    policy = service.issue_policy(ltm.quote_id)
    renewed = service.renew(policy.policy_number)
    assert (renewed.plan_version, renewed.term_no, renewed.annual_premium) == (
        "2025",
        2,
        Money.of("980.00"),
    )
    assert service.policy(policy.policy_number) == renewed
