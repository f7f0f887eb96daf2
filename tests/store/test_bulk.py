"""Set-based writes: ``add_many`` / ``append_many`` round-trip like single writes and use a
fixed number of statements (COPY on PostgreSQL, executemany on SQLite), never one per row."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Engine, event, select

from baoxian.policies.model import InsuredUnit, Person, Policy, new_person
from baoxian.policies.ports import Event
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.tables import policy_units
from baoxian.shared.identity import resident_id_check_digit
from baoxian.shared.money import Money
from baoxian.store.bulk import copy_rows
from baoxian.store.tables import events

PolicyMaker = Callable[[str, Person, list[Person]], Policy]


def _people(count: int) -> list[Person]:
    return [
        new_person(
            uuid4().hex,
            f"客户{i}",
            _id(f"1101051985031{i:04d}"),
            f"138{i:08d}",
            has_basic_medical=i % 2 == 0,
            medical_insurance_city="110000",
        )
        for i in range(count)
    ]


def _id(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


Sent = list[tuple[str, str, int]]


@contextmanager
def _statements(engine: Engine) -> Iterator[Sent]:
    """(verb, table, rows) of each statement sent through the engine while the block runs;
    an executemany counts once with all its rows.  COPY does not pass through here."""
    sent: Sent = []

    def record(
        _conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        words = statement.replace("(", " ").split()
        table = words[1] if words[0] == "UPDATE" else words[2]
        sent.append((words[0], table, len(params) if many else 1))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _writes(sent: Sent) -> Sent:
    return [s for s in sent if s[0] in ("INSERT", "UPDATE", "DELETE")]


def test_parties_add_many_round_trips_without_a_query_per_row(
    engine: Engine, uow: SqlUnitOfWorkFactory
) -> None:
    people = _people(300)
    with uow() as work, _statements(engine) as sent:
        assert work.parties.add_many(people) == 300
        work.commit()
    assert len(_writes(sent)) <= 1
    with uow() as work:
        assert [work.parties.get(p.party_id) for p in people] == people
        assert work.parties.find_by_id_number(people[123].id_number) == people[123]


def test_policies_add_many_round_trips_with_units(
    engine: Engine, uow: SqlUnitOfWorkFactory, policy_of: PolicyMaker
) -> None:
    people = _people(40)
    book = [policy_of(f"BJHMB2026{n:08d}", people[n], people[n : n + 3]) for n in range(30)]
    with uow() as work:
        work.parties.add_many(people)
        with _statements(engine) as sent:
            assert work.policies.add_many(book) == 30
        work.commit()
    assert len(_writes(sent)) <= 2
    with uow() as work:
        assert [work.policies.get(p.policy_number) for p in book] == book
        assert work.policies.find(holder_id=people[7].party_id) == [book[7]]
    with engine.connect() as connection:
        batches = set(connection.execute(select(policy_units.c.enrolment_batch)).scalars())
    assert batches == {None}  # issued with the policy: covered from its start


def test_events_append_many_round_trips(uow: SqlUnitOfWorkFactory) -> None:
    at = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
    appended = [
        Event("policy", f"P{n % 3}", "policy.issued", {"n": n, "备注": "批量出单"}, at, f"r{n}")
        for n in range(50)
    ]
    with uow() as work:
        assert work.events.append_many(appended) == 50
        work.commit()
    with uow() as work:
        assert work.events.for_aggregate("P1") == [e for e in appended if e.aggregate_id == "P1"]
        assert work.events.seen("r49")


def test_copy_rows_serialises_json_and_aware_times(uow: SqlUnitOfWorkFactory) -> None:
    payload = {"名称": "台风“海葵”预警", "amount": Money.of("99.99"), "on": date(2026, 9, 3)}
    at = datetime(2026, 9, 3, 8, 0, tzinfo=UTC)
    columns = ("aggregate_type", "aggregate_id", "event_type", "payload", "occurred_at")
    with uow() as work:
        written = copy_rows(
            work.connection, events, [("radar", "T1", "radar.warned", payload, at)], columns
        )
        work.commit()
    with uow() as work:
        (loaded,) = work.events.for_aggregate("T1")
    assert written == 1
    assert loaded.payload == payload
    assert loaded.occurred_at == at


def test_copy_rows_refuses_unknown_columns(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as work, pytest.raises(ValueError, match="no column"):
        copy_rows(work.connection, events, [("x",)], ["nope"])


def test_update_writes_only_the_units_that_changed(
    engine: Engine, uow: SqlUnitOfWorkFactory, stored_policy: Policy
) -> None:
    first, second, site = stored_policy.units
    moved = replace(site, details={**site.details, "floors": 13})
    joined = InsuredUnit("VIN-LSVAA4182E2123456", "vehicle", {"seats": 5}, {"plate": "京A·12345"})
    with uow() as work:
        loaded = work.policies.get(stored_policy.policy_number)
        changed = replace(
            loaded,
            units=(second, moved, joined),
            cover=tuple(c for c in loaded.cover if c.unit_key != first.key),
        )
        with _statements(engine) as sent:
            saved = work.policies.update(changed, expected_version=loaded.version)
        work.commit()
    unit_writes = [(verb, rows) for verb, table, rows in _writes(sent) if table == "policy_units"]
    assert ("DELETE", 1) in unit_writes
    assert ("UPDATE", 1) in unit_writes  # the site only: the member kept is not rewritten
    assert len(unit_writes) <= 3  # + one INSERT for the vehicle (a COPY on PostgreSQL)
    with uow() as work:
        assert work.policies.get(stored_policy.policy_number) == saved
