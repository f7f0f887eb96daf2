"""The outbox of proactive notices and the worker that delivers it.

Writing (:func:`write_notices`): the daily scan's notice frame goes in set-based — staged,
then one ``INSERT … SELECT … ON CONFLICT (dedup_key) DO NOTHING`` — so a fact already told
(the same deduplication key, today or on an earlier day) is never queued twice.

Delivering (:class:`OutboxDispatcher`), exactly once per deduplication key to the channel:

1. *claim* — in one short transaction, the due notices (pending and past ``not_before``, or
   ``sending`` under a lease that ran out) become ``sending`` under this worker's lease;
   notices whose channel is in quiet hours are moved to the end of the window instead;
2. *hand over* — a notice that may have reached the provider before (it was ``sending`` when
   a worker died, or an earlier attempt failed) is first looked up at the provider by its
   key; only a notice the provider does not know is sent, with its key as the provider's
   idempotency key;
3. *record* — each outcome in its own transaction right after the hand-over: sent (with the
   provider's reference), tried again after the back-off, or failed.

A worker killed between 2 and 3 leaves the notice ``sending``; when the lease runs out the
next worker finds it at the provider in step 2 and records it without sending it again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)

from baoxian.outreach.delivery import (
    ChannelError,
    ChannelPort,
    OutgoingMessage,
    QuietHours,
    Receipt,
    next_attempt,
)
from baoxian.outreach.messages import DEFAULT_HOTLINE, render
from baoxian.outreach.tables import outreach_attempts, outreach_outbox, outreach_preferences
from baoxian.policies.tables import parties
from baoxian.shared.clock import Clock
from baoxian.store.bulk import copy_rows
from baoxian.store.crypto import FieldCipher

log = logging.getLogger("baoxian.outreach")

NOTICE_COLUMNS: tuple[str, ...] = (
    "dedup_key",
    "scenario",
    "party_id",
    "policy_number",
    "channel",
    "locale",
    "care",
    "reason_code",
    "reason_zh",
    "reason_en",
    "data",
    "due_on",
    "run_date",
)
"""The notice frame's columns, in order (what the detectors produce)."""

_stage = Table(
    "outreach_new_notices",
    MetaData(),
    Column("dedup_key", String(200)),
    Column("scenario", String(40)),
    Column("party_id", String(36)),
    Column("policy_number", String(32)),
    Column("channel", String(16)),
    Column("locale", String(8)),
    Column("care", Boolean),
    Column("reason_code", String(64)),
    Column("reason_zh", Text),
    Column("reason_en", Text),
    Column("data", Text),
    Column("due_on", Date),
    Column("run_date", Date),
    prefixes=["TEMPORARY"],
)


def write_notices(connection: Connection, frame: pl.DataFrame, now: datetime) -> int:
    """Queue the notices of ``frame`` (columns :data:`NOTICE_COLUMNS`) that the outbox does not
    hold yet, in the caller's transaction; returns how many were new."""
    missing = [name for name in NOTICE_COLUMNS if name not in frame.columns]
    if missing:
        raise ValueError(f"the notice frame lacks {', '.join(missing)}")
    if frame.is_empty():
        return 0
    _stage.create(connection)
    try:
        copy_rows(connection, _stage, frame.select(NOTICE_COLUMNS).iter_rows(), NOTICE_COLUMNS)
        names = ", ".join(NOTICE_COLUMNS)
        result = connection.execute(
            text(
                f"INSERT INTO outreach_outbox ({names}, status, attempts, created_at) "
                f"SELECT {names}, 'pending', 0, :now FROM outreach_new_notices WHERE 1 = 1 "
                "ON CONFLICT (dedup_key) DO NOTHING"  # (WHERE: SQLite's parser needs it)
            ).bindparams(bindparam("now", now, type_=outreach_outbox.c.created_at.type))
        )
        return int(result.rowcount)
    finally:
        _stage.drop(connection)


# --------------------------------------------------------------------------- delivering


@dataclass(slots=True)
class DispatchReport:
    """What one or more passes did, by outcome."""

    sent: int = 0
    found: int = 0  # already at the provider (after a crash): recorded, not sent again
    deferred: int = 0  # quiet hours
    retried: int = 0
    failed: int = 0

    def add(self, other: DispatchReport) -> None:
        self.sent += other.sent
        self.found += other.found
        self.deferred += other.deferred
        self.retried += other.retried
        self.failed += other.failed

    @property
    def handled(self) -> int:
        return self.sent + self.found + self.deferred + self.retried + self.failed


@dataclass(frozen=True, slots=True)
class _Claimed:
    key: str
    scenario: str
    party_id: str
    policy_number: str | None
    channel: str
    locale: str
    care: bool
    reason: str
    attempts: int
    uncertain: bool  # may have reached the provider already


@dataclass
class OutboxDispatcher:
    """Delivers due notices through the channel ports (see the module docstring)."""

    engine: Engine
    channels: Mapping[str, ChannelPort]
    cipher: FieldCipher
    clock: Clock
    worker: str
    quiet: QuietHours = field(default_factory=QuietHours)
    lease: timedelta = timedelta(minutes=5)
    batch: int = 200
    hotline: str = DEFAULT_HOTLINE

    def run_until_empty(self, max_passes: int = 10_000) -> DispatchReport:
        """Pass after pass until nothing is due (or ``max_passes``)."""
        report = DispatchReport()
        for _ in range(max_passes):
            done = self.run_once()
            report.add(done)
            if done.handled == 0:
                break
        return report

    def run_once(self) -> DispatchReport:
        """One pass: claim up to ``batch`` due notices, hand each over, record each."""
        report = DispatchReport()
        now = self.clock()
        with self.engine.begin() as connection:
            claimed = self._claim(connection, now, report)
            addresses = _addresses(connection, self.cipher, claimed)
        for notice in claimed:
            self._deliver(notice, addresses.get((notice.party_id, notice.channel), ""), report)
        return report

    # -- step 1
    def _claim(
        self, connection: Connection, now: datetime, report: DispatchReport
    ) -> list[_Claimed]:
        o = outreach_outbox.c
        due = or_(
            and_(o.status == "pending", or_(o.not_before.is_(None), o.not_before <= now)),
            and_(o.status == "sending", o.lease_until < now),
        )
        rows = connection.execute(
            select(outreach_outbox)
            .where(due)
            .order_by(func.coalesce(o.not_before, o.created_at), o.dedup_key)
            .limit(self.batch)
            .with_for_update(skip_locked=True)
        ).all()
        claimed: list[_Claimed] = []
        for row in rows:
            release = self.quiet.release(now, row.channel)
            if release is not None:
                connection.execute(
                    update(outreach_outbox)
                    .where(o.dedup_key == row.dedup_key, due)
                    .values(status="pending", not_before=release, lease_until=None)
                )
                report.deferred += 1
                continue
            moved = connection.execute(
                update(outreach_outbox)
                .where(o.dedup_key == row.dedup_key, due)
                .values(status="sending", worker=self.worker, lease_until=now + self.lease)
            ).rowcount
            if moved == 1:
                claimed.append(_claimed(row))
        return claimed

    # -- steps 2 and 3
    def _deliver(self, notice: _Claimed, address: str, report: DispatchReport) -> None:
        port = self.channels.get(notice.channel)
        if port is None or (not address and notice.channel != "inbox"):
            why = "no channel configured" if port is None else "no address for the channel"
            self._record(notice, "failed", why, report)
            return
        try:
            found = port.lookup(notice.key) if notice.uncertain else None
            receipt = found or port.send(self._message(notice, address))
        except ChannelError as error:
            self._record(notice, "retry" if error.transient else "failed", error.detail, report)
            return
        self._record(notice, "found" if found else "sent", receipt.provider_ref, report, receipt)

    def _message(self, notice: _Claimed, address: str) -> OutgoingMessage:
        words = render(
            notice.scenario,
            notice.locale,
            notice.care,
            notice.reason,
            notice.policy_number,
            self.hotline,
        )
        return OutgoingMessage(
            notice.key,
            notice.channel,
            address,
            notice.locale,
            words.subject,
            words.body,
            notice.party_id,
        )

    def _record(
        self,
        notice: _Claimed,
        outcome: str,
        detail: str,
        report: DispatchReport,
        receipt: Receipt | None = None,
    ) -> None:
        now = self.clock()
        attempt = notice.attempts + 1
        values: dict[str, Any]
        if outcome in ("sent", "found"):
            assert receipt is not None
            values = {"status": "sent", "sent_at": now, "provider_ref": receipt.provider_ref}
        else:
            retry_at = next_attempt(attempt, now) if outcome == "retry" else None
            if retry_at is None:
                outcome = "failed"
                values = {"status": "failed", "last_error": detail[:300]}
            else:
                values = {"status": "pending", "not_before": retry_at, "last_error": detail[:300]}
        o = outreach_outbox.c
        with self.engine.begin() as connection:
            connection.execute(
                update(outreach_outbox)
                .where(o.dedup_key == notice.key, o.status == "sending", o.worker == self.worker)
                .values(attempts=attempt, lease_until=None, **values)
            )
            connection.execute(
                insert(outreach_attempts).values(
                    dedup_key=notice.key,
                    attempt=attempt,
                    at=now,
                    worker=self.worker,
                    outcome=outcome,
                    detail=detail[:300],
                )
            )
        setattr(report, _COUNTERS[outcome], getattr(report, _COUNTERS[outcome]) + 1)


_COUNTERS = {"sent": "sent", "found": "found", "retry": "retried", "failed": "failed"}


def _claimed(row: Any) -> _Claimed:
    return _Claimed(
        key=row.dedup_key,
        scenario=row.scenario,
        party_id=row.party_id,
        policy_number=row.policy_number,
        channel=row.channel,
        locale=row.locale,
        care=bool(row.care),
        reason=row.reason_zh if row.locale == "zh" else row.reason_en,
        attempts=row.attempts,
        uncertain=row.status == "sending" or row.attempts > 0,
    )


def _addresses(
    connection: Connection, cipher: FieldCipher, claimed: Sequence[_Claimed]
) -> dict[tuple[str, str], str]:
    """Where each claimed notice goes: the mobile for text messages, pushes and the inbox;
    the address kept with the preference for e-mail and webhooks."""
    party_ids = sorted({n.party_id for n in claimed})
    if not party_ids:
        return {}
    mobiles = {
        row.party_id: cipher.decrypt(row.mobile_enc)
        for row in connection.execute(
            select(parties.c.party_id, parties.c.mobile_enc).where(
                parties.c.party_id.in_(party_ids)
            )
        )
    }
    kept = {
        row.party_id: cipher.decrypt(row.address_enc)
        for row in connection.execute(
            select(outreach_preferences.c.party_id, outreach_preferences.c.address_enc).where(
                outreach_preferences.c.party_id.in_(party_ids),
                outreach_preferences.c.address_enc.is_not(None),
            )
        )
    }
    found: dict[tuple[str, str], str] = {}
    for notice in claimed:
        own = kept if notice.channel in ("email", "webhook") else mobiles
        found[(notice.party_id, notice.channel)] = own.get(notice.party_id, "")
    return found


def outbox_counts(engine: Engine, run_date: date | None = None) -> dict[str, int]:
    """Notices by status (of one run date, or all)."""
    o = outreach_outbox.c
    query = select(o.status, func.count()).group_by(o.status)
    if run_date is not None:
        query = query.where(o.run_date == run_date)
    with engine.connect() as connection:
        return {status: int(count) for status, count in connection.execute(query)}


__all__ = [
    "NOTICE_COLUMNS",
    "DispatchReport",
    "OutboxDispatcher",
    "outbox_counts",
    "write_notices",
]
