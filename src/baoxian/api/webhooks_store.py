"""SQL persistence of webhooks: the endpoints, deliveries (one per webhook and event), the
attempt log and the dispatcher's cursor — and the set-based reads of the event log and the
grants that matching events to webhooks needs.  Every method is one statement or a few;
none is called once per event."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)

from baoxian.api.tables import (
    api_clients,
    api_grants,
    api_webhook_attempts,
    api_webhook_cursor,
    api_webhook_deliveries,
    api_webhooks,
)
from baoxian.api.webhooks import Attempt, Cursor, Webhook, cursor_from, cursor_json
from baoxian.store.db import upsert_into
from baoxian.store.tables import events

CURSOR = "events"
_ROWS_PER_STATEMENT = 2000
"""Rows per multi-row INSERT (11 parameters each, within SQLite's and PostgreSQL's limits)."""


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event of the log as matching needs it (the payload is read later, for matches)."""

    event_id: int
    aggregate_type: str
    aggregate_id: str
    event_type: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Subscriber:
    """An active webhook of an active client, with the scopes the client holds now."""

    webhook: Webhook
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Due:
    """A delivery whose time has come, with where it goes."""

    webhook_id: str
    event_id: int
    body: str
    attempts: int
    url: str
    secret: str  # encrypted


class SqlWebhookRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    # webhooks ---------------------------------------------------------------------------

    def add(self, webhook: Webhook, sealed_secret: str) -> None:
        self._connection.execute(
            insert(api_webhooks).values(
                webhook_id=webhook.webhook_id,
                client_id=webhook.client_id,
                url=webhook.url,
                event_types=list(webhook.event_types),
                secret=sealed_secret,
                active=webhook.active,
                from_event_id=webhook.from_event_id,
                created_at=webhook.created_at,
            )
        )

    def get(self, webhook_id: str) -> Webhook | None:
        row = self._connection.execute(
            select(api_webhooks).where(api_webhooks.c.webhook_id == webhook_id)
        ).one_or_none()
        return None if row is None else _webhook(row)

    def for_client(self, client_id: str) -> list[Webhook]:
        rows = self._connection.execute(
            select(api_webhooks)
            .where(api_webhooks.c.client_id == client_id, api_webhooks.c.active.is_(True))
            .order_by(api_webhooks.c.created_at, api_webhooks.c.webhook_id)
        )
        return [_webhook(row) for row in rows]

    def deactivate(self, webhook_id: str, now: datetime) -> int:
        result = self._connection.execute(
            update(api_webhooks)
            .where(api_webhooks.c.webhook_id == webhook_id, api_webhooks.c.active.is_(True))
            .values(active=False, deleted_at=now)
        )
        return int(result.rowcount)

    def subscribers(self, webhook_id: str | None = None) -> list[Subscriber]:
        """Active webhooks of active clients (or just one of them)."""
        statement = (
            select(api_webhooks, api_clients.c.scopes)
            .join(api_clients, api_clients.c.client_id == api_webhooks.c.client_id)
            .where(api_webhooks.c.active.is_(True), api_clients.c.active.is_(True))
        )
        if webhook_id is not None:
            statement = statement.where(api_webhooks.c.webhook_id == webhook_id)
        rows = self._connection.execute(statement)
        return [Subscriber(_webhook(row), frozenset(row.scopes)) for row in rows]

    # the event log ----------------------------------------------------------------------

    def last_event_id(self) -> int:
        return int(self._connection.scalar(select(func.max(events.c.id))) or 0)

    def event_before(self, at: datetime) -> int:
        """The ID just below the first event that occurred at or after ``at``."""
        first = self._connection.scalar(
            select(func.min(events.c.id)).where(events.c.occurred_at >= at)
        )
        return self.last_event_id() if first is None else int(first) - 1

    def events(self, cursor: Cursor, after: int, limit: int) -> list[LoggedEvent]:
        """Events above the cursor's position or in one of its gaps, from ID ``after`` on,
        in ID order (keyset pages)."""
        ranges = [events.c.id.between(g.first, g.last) for g in cursor.gaps]
        rows = self._connection.execute(
            select(
                events.c.id,
                events.c.aggregate_type,
                events.c.aggregate_id,
                events.c.event_type,
                events.c.occurred_at,
            )
            .where(or_(events.c.id > cursor.position, *ranges), events.c.id > after)
            .order_by(events.c.id)
            .limit(limit)
        )
        return [LoggedEvent(*row) for row in rows]

    def events_between(self, after: int, limit: int) -> list[LoggedEvent]:
        return self.events(Cursor(after), after, limit)

    def payloads(self, event_ids: Collection[int]) -> dict[int, Mapping[str, Any]]:
        if not event_ids:
            return {}
        rows = self._connection.execute(
            select(events.c.id, events.c.payload).where(events.c.id.in_(sorted(event_ids)))
        )
        return {int(row.id): row.payload for row in rows}

    def grants(
        self, client_ids: Collection[str], objects: Collection[tuple[str, str]]
    ) -> set[tuple[str, str, str]]:
        """Which of these clients hold a grant on which of these (kind, ID) objects."""
        if not client_ids or not objects:
            return set()
        rows = self._connection.execute(
            select(api_grants.c.client_id, api_grants.c.kind, api_grants.c.object_id).where(
                api_grants.c.client_id.in_(sorted(client_ids)),
                api_grants.c.object_id.in_(sorted({o for _, o in objects})),
            )
        )
        wanted = set(objects)
        return {(c, k, o) for c, k, o in rows if (k, o) in wanted}

    # the cursor -------------------------------------------------------------------------

    def cursor(self) -> Cursor | None:
        """The cursor, locked until the transaction ends (one scan at a time)."""
        row = self._connection.execute(
            select(api_webhook_cursor).where(api_webhook_cursor.c.name == CURSOR).with_for_update()
        ).one_or_none()
        return None if row is None else cursor_from(int(row.position), row.gaps)

    def save_cursor(self, cursor: Cursor, now: datetime) -> None:
        values = {"position": cursor.position, "gaps": cursor_json(cursor), "updated_at": now}
        statement = upsert_into(self._connection, api_webhook_cursor).values(name=CURSOR, **values)
        self._connection.execute(
            statement.on_conflict_do_update(index_elements=["name"], set_=values)
        )

    # deliveries -------------------------------------------------------------------------

    def queue(self, deliveries: Sequence[Mapping[str, Any]], now: datetime) -> int:
        """New deliveries, due now; one already there for the webhook and event is kept."""
        if not deliveries:
            return 0
        rows = [_delivery_row(d, now) for d in deliveries]
        queued = 0
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start : start + _ROWS_PER_STATEMENT]
            statement = (
                upsert_into(self._connection, api_webhook_deliveries)
                .values(chunk)
                .on_conflict_do_nothing()
                .returning(api_webhook_deliveries.c.event_id)
            )
            queued += len(self._connection.execute(statement).all())
        return queued

    def requeue(self, deliveries: Sequence[Mapping[str, Any]], now: datetime) -> int:
        """Deliveries due now from a first attempt, whatever became of them before."""
        if not deliveries:
            return 0
        rows = [_delivery_row(d, now) for d in deliveries]
        statement = upsert_into(self._connection, api_webhook_deliveries)
        statement = statement.on_conflict_do_update(
            index_elements=["webhook_id", "event_id"],
            set_={
                "body": statement.excluded.body,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": statement.excluded.next_attempt_at,
                "last_status_code": None,
                "last_error": None,
                "updated_at": statement.excluded.updated_at,
            },
        )
        self._connection.execute(statement, rows)
        return len(rows)

    def lease_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Due]:
        """Deliveries due by ``now`` (of active webhooks of active clients), moved to
        ``lease_until`` so that another dispatcher leaves them alone while they are sent;
        a dispatcher that dies mid-way has them sent again when the lease runs out."""
        d, w = api_webhook_deliveries, api_webhooks
        rows = self._connection.execute(
            select(d.c.webhook_id, d.c.event_id, d.c.body, d.c.attempts, w.c.url, w.c.secret)
            .join(w, w.c.webhook_id == d.c.webhook_id)
            .join(api_clients, api_clients.c.client_id == w.c.client_id)
            .where(
                d.c.status == "pending",
                d.c.next_attempt_at <= now,
                w.c.active.is_(True),
                api_clients.c.active.is_(True),
            )
            .order_by(d.c.next_attempt_at, d.c.event_id)
            .limit(limit)
            .with_for_update(of=d, skip_locked=True)
        ).all()
        due = [Due(*row) for row in rows]
        if due:
            self._connection.execute(
                update(d)
                .where(
                    tuple_(d.c.webhook_id, d.c.event_id).in_(
                        [(x.webhook_id, x.event_id) for x in due]
                    )
                )
                .values(next_attempt_at=lease_until, updated_at=now)
            )
        return due

    def record(self, attempts: Sequence[Attempt]) -> None:
        """Each attempt into the log and onto its delivery."""
        if not attempts:
            return
        d = api_webhook_deliveries
        self._connection.execute(
            update(d)
            .where(
                d.c.webhook_id == bindparam("w_id"),
                d.c.event_id == bindparam("e_id"),
                d.c.status == "pending",
            )
            .values(
                status=bindparam("new_status"),
                attempts=bindparam("attempt"),
                next_attempt_at=bindparam("next_at"),
                last_status_code=bindparam("status_code"),
                last_error=bindparam("error"),
                updated_at=bindparam("attempted_at"),
            ),
            [
                {
                    "w_id": a.webhook_id,
                    "e_id": a.event_id,
                    "new_status": "pending" if a.outcome == "retry" else a.outcome,
                    "attempt": a.attempt,
                    "next_at": a.next_attempt_at,
                    "status_code": a.status_code,
                    "error": a.error,
                    "attempted_at": a.attempted_at,
                }
                for a in attempts
            ],
        )
        self._connection.execute(
            insert(api_webhook_attempts),
            [
                {
                    "webhook_id": a.webhook_id,
                    "event_id": a.event_id,
                    "attempt": a.attempt,
                    "attempted_at": a.attempted_at,
                    "status_code": a.status_code,
                    "error": a.error,
                    "duration_ms": a.duration_ms,
                    "outcome": a.outcome,
                    "next_attempt_at": a.next_attempt_at,
                }
                for a in attempts
            ],
        )

    def attempts(self, webhook_id: str, limit: int) -> list[Attempt]:
        """The webhook's latest attempts, newest first."""
        a = api_webhook_attempts
        rows = self._connection.execute(
            select(
                a.c.webhook_id,
                a.c.event_id,
                a.c.attempt,
                a.c.attempted_at,
                a.c.status_code,
                a.c.error,
                a.c.duration_ms,
                a.c.outcome,
                a.c.next_attempt_at,
            )
            .where(a.c.webhook_id == webhook_id)
            .order_by(a.c.attempt_id.desc())
            .limit(limit)
        )
        return [Attempt(*row) for row in rows]

    def delivery_status(self, webhook_id: str, event_ids: Iterable[int]) -> dict[int, str]:
        d = api_webhook_deliveries
        rows = self._connection.execute(
            select(d.c.event_id, d.c.status).where(
                d.c.webhook_id == webhook_id, d.c.event_id.in_(list(event_ids))
            )
        )
        return {int(e): s for e, s in rows}


def _delivery_row(delivery: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "webhook_id": delivery["webhook_id"],
        "event_id": delivery["event_id"],
        "event_type": delivery["event_type"],
        "body": delivery["body"],
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_status_code": None,
        "last_error": None,
        "created_at": now,
        "updated_at": now,
    }


def _webhook(row: Any) -> Webhook:
    return Webhook(
        row.webhook_id,
        row.client_id,
        row.url,
        tuple(row.event_types),
        bool(row.active),
        int(row.from_event_id),
        row.created_at,
    )


__all__ = ["Due", "LoggedEvent", "SqlWebhookRepository", "Subscriber"]
