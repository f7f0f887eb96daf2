"""The audit trail cannot be rewritten: the database refuses UPDATE and DELETE on events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from baoxian.policies.ports import Event
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.store.tables import events


def test_events_cannot_be_updated_or_deleted(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as work:
        work.events.append(
            Event("policy", "P1", "policy.issued", {"premium_fen": 19500}, datetime.now(UTC))
        )
        work.commit()
    for statement in (update(events).values(event_type="policy.forged"), delete(events)):
        with uow() as work, pytest.raises(DBAPIError) as error:
            work.connection.execute(statement)
        assert "append-only" in str(error.value)
    with uow() as work:
        (event,) = work.events.for_aggregate("P1")
    assert event.event_type == "policy.issued"
