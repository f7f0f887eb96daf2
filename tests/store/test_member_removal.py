"""Member batches through the store, on SQLite and PostgreSQL: a bulk removal refunds what
``PolicyService.remove_members`` refunds, keeps the removed members (facts, cover, premium),
rates members that were written without a premium, and leaves a policy that loads whole."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from baoxian.policies.enrolment import EnrolmentService, MemberRow
from baoxian.policies.member_files import MemberKey
from baoxian.policies.membership import MembershipService
from baoxian.policies.model import pro_rata_for_term
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import PolicyService
from baoxian.policies.tables import policy_unit_removals
from baoxian.shared.clock import Clock
from baoxian.shared.money import Money
from tests.store.test_enrolment import CATALOG, FIRST_MEMBER, member_rows, open_programme

TERM = (date(2026, 1, 1), date(2027, 1, 1))  # open_programme's BJ-HMB term (365 days)
ENROLLED = date(2026, 2, 15)  # the store's clock
REMOVED = date(2026, 8, 20)


def services(uow: SqlUnitOfWorkFactory, clock: Clock) -> tuple[MembershipService, PolicyService]:
    members = MembershipService(uow=uow, catalog=CATALOG, clock=clock)
    policies = PolicyService(uow=uow, catalog=CATALOG, clock=clock, new_id=lambda: "unused")
    return members, policies


def keys(rows: list[MemberRow]) -> list[MemberKey]:
    return [MemberKey(i + 2, id_number=r.id_number) for i, r in enumerate(rows)]


@pytest.mark.parametrize("removed", [1, 3])
def test_a_bulk_removal_refunds_what_the_single_path_refunds(
    uow: SqlUnitOfWorkFactory, clock: Clock, removed: int
) -> None:
    members, policies = services(uow, clock)
    rows = member_rows(4)
    single, bulk = open_programme(uow, clock), open_programme(uow, clock)
    for number in (single, bulk):
        members.enrol(number, rows, batch_id=f"enrol-{number}", effective=ENROLLED)
    gone = rows[:removed]
    with uow() as work:
        party_ids = [work.parties.find_by_id_number(r.id_number) for r in gone]
    unit_keys = [p.party_id for p in party_ids if p is not None]

    before = policies.policy(single)
    by_one = policies.remove_members(single, REMOVED, unit_keys)
    report = members.remove(bulk, keys(gone), batch_id="removal-1", effective=REMOVED)
    by_batch = policies.policy(bulk)

    each = pro_rata_for_term(Money.of("195"), *TERM, REMOVED)  # 195.00 × 134/365 = 71.59
    assert each == Money.of("71.59")
    assert report.refund == Money.from_fen(each.fen * removed)  # member by member
    refund_by_one = before.premium_charged - by_one.premium_charged  # on the sum, once
    assert abs((report.refund - refund_by_one).amount) <= Decimal("0.005") * removed
    if removed == 1:
        assert by_batch.premium_charged == by_one.premium_charged
    assert by_batch.annual_premium == by_one.annual_premium == Money.of(195 * (5 - removed))
    assert by_batch.member_count == by_one.member_count == 5 - removed
    assert [u.key for u in by_batch.units] == [u.key for u in by_one.units]
    assert {c.unit_key for c in by_batch.cover} == {u.key for u in by_batch.units}


def test_removed_members_are_kept_with_their_cover_and_refund(
    uow: SqlUnitOfWorkFactory, clock: Clock
) -> None:
    members, policies = services(uow, clock)
    number = open_programme(uow, clock)
    rows = member_rows(2)
    members.enrol(number, rows, batch_id="enrol-1", effective=ENROLLED)
    first = policies.policy(number).units[0]  # 王建国, from the quote: no premium of his own

    report = members.remove(
        number,
        [MemberKey(2, id_number=FIRST_MEMBER), MemberKey(3, id_number=rows[0].id_number)],
        batch_id="removal-1",
        effective=REMOVED,
    )

    assert (report.accepted, report.rejected) == (2, 0)
    assert report.refund == Money.of("143.18")  # 2 × 71.59: 王建国 rated on his facts
    with uow() as work:
        kept = work.connection.execute(
            select(policy_unit_removals).order_by(policy_unit_removals.c.row_no)
        ).all()
    assert [(r.row_no, r.unit_key, r.annual_premium_fen, r.refund_fen) for r in kept] == [
        (2, first.key, 19500, 7159),
        (3, kept[1].unit_key, 19500, 7159),
    ]
    assert kept[0].facts == dict(first.facts)
    assert set(kept[0].cover) == {"in_list_inpatient", "out_of_list_inpatient", "special_drugs"}
    assert (kept[0].removed_on, kept[1].enrolment_batch) == (REMOVED, "enrol-1")
    after = policies.policy(number)
    remaining = policies.party_with_id_number(rows[1].id_number)
    assert remaining is not None
    assert [u.key for u in after.units] == [remaining.party_id]
    assert after.member_count == 1 and {c.unit_key for c in after.cover} == {remaining.party_id}


def test_members_of_a_cli_enrolment_may_be_removed_from_the_start_of_the_term(
    uow: SqlUnitOfWorkFactory, clock: Clock
) -> None:
    """The CLI charges the whole year: its members are covered from the term's start, so a
    removal dated before the day of their enrolment is allowed (and refunds from then)."""
    members, _ = services(uow, clock)
    number = open_programme(uow, clock)
    rows = member_rows(2)
    EnrolmentService(uow=uow, catalog=CATALOG, clock=clock).enrol(number, rows, batch_id="cli")
    early = date(2026, 2, 1)  # before the enrolment (2026-02-15)

    report = members.remove(number, keys(rows[:1]), batch_id="removal-1", effective=early)

    assert (report.accepted, report.rejected) == (1, 0)
    assert report.refund == pro_rata_for_term(Money.of("195"), *TERM, early)
