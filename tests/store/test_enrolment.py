"""Bulk enrolment through the store, on SQLite and PostgreSQL: set-based and re-runnable."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.demo.population import city_by_code, generate_people
from baoxian.policies import enrolment_store
from baoxian.policies.enrolment import EnrolmentService, MemberRow
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.policies.tables import parties, policy_units
from baoxian.shared.clock import Clock
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money
from tests.store.conftest import resident_id

CATALOG = Catalog(CatalogRepository(Path(__file__).resolve().parents[2] / "catalog"))
START = date(2026, 1, 1)
FIRST_MEMBER = resident_id("11010519810415031")


def open_programme(uow: SqlUnitOfWorkFactory, clock: Clock, group: bool = True) -> str:
    service = PolicyService(uow=uow, catalog=CATALOG, clock=clock, new_id=lambda: uuid.uuid4().hex)
    operator = service.register_organisation(
        "北京普惠健康保共保体", "91110000600037341L", "13900001111"
    )
    first = service.register_person(
        "王建国", FIRST_MEMBER, "13812345678", medical_insurance_city="110000"
    )
    insured = (InsuredInput("person", first.party_id),)
    quote = service.create_quote(
        QuoteInput("BJ-HMB", operator.party_id, START, insured, group=group)
    )
    return service.issue_policy(quote.quote_id, group=group).policy_number


def member_rows(count: int) -> list[MemberRow]:
    people = generate_people(7, count, as_of=START, city=city_by_code("110000"))
    return [
        MemberRow(i + 2, p.name, p.id_number, p.mobile, "110000", True, p.address)
        for i, p in enumerate(people)
    ]


@pytest.mark.parametrize("chunk", [100_000, 7])
def test_enrolment_writes_members_once(
    uow: SqlUnitOfWorkFactory, clock: Clock, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(enrolment_store, "CHUNK", chunk)
    number = open_programme(uow, clock)
    rows = member_rows(40)
    rows.append(MemberRow(42, "王建国", FIRST_MEMBER, "13812345678", "110000", True))
    rows.append(
        MemberRow(43, "赵敏", resident_id("31010119900101004"), "13912345678", "310000", True)
    )
    service = EnrolmentService(uow=uow, catalog=CATALOG, clock=clock)

    report = service.enrol(number, rows, batch_id="batch-1")

    assert (report.received, report.enrolled, report.already_enrolled) == (42, 40, 1)
    assert [(r.row_no, r.code) for r in report.rejected] == [
        (43, "eligibility.basic_medical_required")
    ]
    assert report.premium == Money.of("7800.00")  # 40 × 195
    with uow() as work:
        policy = work.policies.get(number)
        stored_parties = work.connection.execute(select(func.count()).select_from(parties))
        assert stored_parties.scalar_one() == 42  # operator, first member, 40 new
    assert policy.member_count == 41
    assert policy.premium_charged == Money.of("7995.00")
    assert policy.version == 1
    assert {c.coverage for c in policy.cover if c.unit_key == policy.units[-1].key} == {
        "in_list_inpatient",
        "out_of_list_inpatient",
        "special_drugs",
    }
    assert policy.units[-1].facts["medical_insurance_city"] == "110000"
    members = [u.key for u in policy.units][1:]  # in file order, with time-ordered IDs
    assert members == sorted(members) and len(set(members)) == 40

    shown, total = PolicyService(
        uow=uow, catalog=CATALOG, clock=clock, new_id=lambda: "unused"
    ).preview(number, units=5)
    assert (len(shown.units), total) == (5, 41)
    assert shown.units == policy.units[:5]
    assert len(shown.cover) == 15  # three coverages each

    replay = service.enrol(number, rows, batch_id="batch-1")
    assert replay.enrolled == 0
    again = service.enrol(number, rows, batch_id="batch-2")
    assert (again.enrolled, again.already_enrolled) == (0, 41)
    with uow() as work:
        units = work.connection.execute(
            select(func.count())
            .select_from(policy_units)
            .where(policy_units.c.policy_number == number)
        ).scalar_one()
        assert units == 41
        events = [e.event_type for e in work.events.for_aggregate(number)]
    assert events == ["policy.issued", "policy.members_enrolled", "policy.members_enrolled"]


def test_enrolment_needs_a_group_policy(uow: SqlUnitOfWorkFactory, clock: Clock) -> None:
    number = open_programme(uow, clock, group=False)
    service = EnrolmentService(uow=uow, catalog=CATALOG, clock=clock)
    with pytest.raises(ValidationFailed) as error:
        service.enrol(number, member_rows(3), batch_id="b")
    assert error.value.code == "endorsement.not_group"
