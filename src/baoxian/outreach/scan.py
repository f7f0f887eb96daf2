"""The book-wide daily run of proactive service (主动服务日批): read → detect → write.

1. **Read** (:func:`read_book`) — set-based, one query per fact table, and only the rows that
   can make a notice on the run date: unpaid instalments due by the longest reminder lead
   (a partial index holds only unpaid ones), open loans falling due or overdue in the window,
   failed renewals and automatic premium loans of the look-back, collectable pay-outs whose
   reminder days fall in it, and dividends, statements and claim reminders dated in it; then
   the policies those rows name (holder and status) and the stored channel preferences.  The
   ledgers' indexes carry the columns read, so no row is looked up.  On PostgreSQL each
   query streams through ``COPY … TO STDOUT`` into
   Polars; on SQLite the driver's cursor feeds Polars.  Every filter here is implied by the
   detectors' own rules, so the pruned book gives the notices the whole book would (tested).
2. **Detect** — :func:`baoxian.outreach.detectors.detect_all` on Polars, or the same rules on
   Spark (:mod:`baoxian.outreach.spark_detectors`, local mode unless a session is given).
3. **Write** — :func:`baoxian.outreach.outbox.write_notices`: staged, then ``INSERT … SELECT …
   ON CONFLICT (dedup_key) DO NOTHING``.  A re-run, or the next day's run, writes only facts
   not told before.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
from sqlalchemy import Connection, Engine, Select, and_, literal, or_, select, text, union
from sqlalchemy.sql.elements import ColumnElement

from baoxian.billing.ledger_tables import (
    COLLECTABLE_CONDITION,
    UNPAID_CONDITION,
    account_statements,
    benefit_payouts,
    billing_instalments,
    claim_reminders,
    dividend_allocations,
    policy_loans,
)
from baoxian.billing.tables import payment_orders
from baoxian.outreach.detectors import BOOK_SCHEMAS, BookFrames, detect_all
from baoxian.outreach.notice_specs import DetectorSettings, RunWindow, run_window
from baoxian.outreach.outbox import write_notices
from baoxian.outreach.tables import outreach_preferences
from baoxian.policies.tables import change_requests, policies
from baoxian.store.frames import read_frame

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

EngineKind = Literal["polars", "spark"]
NoticeWriter = Callable[[Connection, pl.DataFrame, datetime], int]

OPEN_ORDER_STATUSES = ("pending", "declined")
"""Payment orders opened and never paid (a declined card may be tried again)."""
OPEN_LOAN_STATUSES = ("open", "overdue")


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What one daily run did: notices found per scenario, how many were new to the outbox
    and how many it already held, rows read per table and seconds per stage."""

    run_date: date
    engine: EngineKind
    by_scenario: dict[str, int]
    detected: int
    written: int
    rows_read: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    read_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def already_known(self) -> int:
        return self.detected - self.written


# --------------------------------------------------------------------------- the queries


def book_queries(window: RunWindow, settings: DetectorSettings) -> dict[str, Select[Any]]:
    """One query per book frame except ``abandoned`` (:func:`abandoned_query`), each selecting
    the frame's columns and only the rows that can make a notice in ``window``."""
    run_date, since = window.run_date, window.since
    i, loan, pay = billing_instalments.c, policy_loans.c, benefit_payouts.c
    instalments = select(*[i[c] for c in BOOK_SCHEMAS["instalments"]]).where(
        text(UNPAID_CONDITION),  # literally the partial index's condition
        i.due_on <= run_date + timedelta(days=settings.max_renewal_lead),
        i.grace_until >= run_date,
        i.amount_fen > i.paid_fen,
    )
    loans = select(*[loan[c] for c in BOOK_SCHEMAS["loans"]]).where(
        or_(
            and_(
                loan.status.in_(OPEN_LOAN_STATUSES),
                loan.due_on.between(
                    since - timedelta(days=1),
                    run_date + timedelta(days=settings.max_loan_lead),
                ),
                loan.principal_fen > loan.repaid_fen,
            ),
            and_(
                loan.status.in_(OPEN_LOAN_STATUSES),
                loan.renewal_failed_on.between(since, run_date),
            ),
            and_(
                loan.kind == "auto_premium_loan",
                loan.start_on.between(window.loans_drawn_since, run_date),
            ),
        )
    )
    oldest_payout = since - timedelta(days=max(settings.benefit_reminder_days, default=0))
    payouts = select(*[pay[c] for c in BOOK_SCHEMAS["payouts"]]).where(
        text(COLLECTABLE_CONDITION), pay.due_on.between(oldest_payout, run_date)
    )
    dividends = select(*[dividend_allocations.c[c] for c in BOOK_SCHEMAS["dividends"]]).where(
        dividend_allocations.c.allocated_on.between(since, run_date)
    )
    statements = select(*[account_statements.c[c] for c in BOOK_SCHEMAS["statements"]]).where(
        account_statements.c.ready_on.between(since, run_date)
    )
    reminders = select(*[claim_reminders.c[c] for c in BOOK_SCHEMAS["claim_reminders"]]).where(
        claim_reminders.c.created_on.between(since, run_date)
    )
    named = union(
        *[
            select(query.selected_columns.policy_number).where(_where(query))
            for query in (instalments, loans, payouts, dividends, statements)
        ]
    )
    holders = select(policies.c.policy_number, policies.c.holder_id, policies.c.status).where(
        policies.c.policy_number.in_(named)
    )
    preferences = select(
        outreach_preferences.c.party_id,
        outreach_preferences.c.channel,
        outreach_preferences.c.locale,
        outreach_preferences.c.care,
    )
    return {
        "policies": holders,
        "instalments": instalments,
        "loans": loans,
        "payouts": payouts,
        "dividends": dividends,
        "statements": statements,
        "claim_reminders": reminders,
        "preferences": preferences,
    }


def _where(query: Select[Any]) -> ColumnElement[bool]:
    clause = query.whereclause
    assert clause is not None
    return clause


def abandoned_query(window: RunWindow) -> Select[Any]:
    """断点介入 candidates: payment orders opened and not paid, and customers' change
    requests submitted and not carried out, started in the window (party: the payer, or the
    policy's holder)."""
    o, c = payment_orders.c, change_requests.c
    orders = select(
        literal("payment_order").label("kind"),
        o.order_id.label("ref_id"),
        o.payer_id.label("party_id"),
        literal(None).label("policy_number"),
        literal("payment").label("topic"),
        o.amount_fen.label("amount_fen"),
        o.created_at.label("started_at"),
    ).where(
        o.status.in_(OPEN_ORDER_STATUSES),
        o.created_at.between(window.abandoned_from, window.abandoned_before),
    )
    requests = (
        select(
            literal("change_request").label("kind"),
            c.request_id.label("ref_id"),
            policies.c.holder_id.label("party_id"),
            c.policy_number.label("policy_number"),
            c.kind.label("topic"),
            literal(None).label("amount_fen"),
            c.created_at.label("started_at"),
        )
        .join_from(change_requests, policies, c.policy_number == policies.c.policy_number)
        .where(
            c.status == "submitted",
            c.requested_by_kind == "customer",
            c.created_at.between(window.abandoned_from, window.abandoned_before),
        )
    )
    return select(union(orders, requests).subquery())


# --------------------------------------------------------------------------- reading


def read_book(
    engine: Engine,
    run_date: date,
    settings: DetectorSettings | None = None,
    *,
    since: date | None = None,
    run_at: datetime | None = None,
    timings: dict[str, float] | None = None,
) -> BookFrames:
    """The part of the book that can make a notice on ``run_date`` (see the module
    docstring), read set-based in one repeatable-read snapshot where the store offers it.
    ``timings`` receives the seconds each frame took."""
    settings = settings or DetectorSettings()
    window = run_window(run_date, settings, since, run_at)
    spent = timings if timings is not None else {}
    frames: dict[str, pl.DataFrame] = {}
    with _snapshot(engine) as connection:
        for name, query in book_queries(window, settings).items():
            began = time.perf_counter()
            frames[name] = read_frame(connection, query, BOOK_SCHEMAS[name])
            spent[name] = round(time.perf_counter() - began, 3)
        began = time.perf_counter()
        frames["abandoned"] = read_abandoned(connection, abandoned_query(window))
        spent["abandoned"] = round(time.perf_counter() - began, 3)
    return BookFrames.of(**frames)


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    options: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    with engine.connect().execution_options(**options) as connection, connection.begin():
        yield connection


def read_abandoned(connection: Connection, query: Select[Any]) -> pl.DataFrame:
    """Abandoned-transaction candidates (few) through the ordinary result, so instants come
    back timezone-aware from either store."""
    rows = [
        (*row[:6], _aware(row[6]))
        for row in connection.execute(query)  # started_at as the column type returns it
    ]
    return pl.DataFrame(rows, schema=BOOK_SCHEMAS["abandoned"], orient="row")


def _aware(value: Any) -> datetime:
    """SQLite returns the union's instant as text or a naive datetime (stored as UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --------------------------------------------------------------------------- the run


def run_daily(
    engine: Engine,
    run_date: date,
    engine_kind: EngineKind = "polars",
    *,
    settings: DetectorSettings | None = None,
    since: date | None = None,
    run_at: datetime | None = None,
    now: datetime | None = None,
    spark: SparkSession | None = None,
    writer: NoticeWriter = write_notices,
) -> ScanResult:
    """Read, detect and write the notices of ``run_date``.  ``now`` stamps the outbox rows
    (default: the current time); ``spark`` is the session for ``engine_kind='spark'`` (a
    local one is started and stopped when none is given)."""
    settings = settings or DetectorSettings()
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    read_seconds: dict[str, float] = {}
    book = read_book(engine, run_date, settings, since=since, run_at=run_at, timings=read_seconds)
    rows_read = {name: frame.height for name, frame in book.collected().items()}
    seconds["read"] = time.perf_counter() - began
    if engine_kind == "polars":
        began = time.perf_counter()
        notices = detect_all(book, run_date, settings, since=since, run_at=run_at)
        seconds["detect"] = time.perf_counter() - began
    else:
        notices = _detect_on_spark(book, run_date, settings, since, run_at, spark, seconds)
    began = time.perf_counter()
    with engine.begin() as connection:
        written = writer(connection, notices, now or datetime.now(UTC))
    seconds["write"] = time.perf_counter() - began
    counts = notices.group_by("scenario").len().sort("scenario").iter_rows()
    return ScanResult(
        run_date=run_date,
        engine=engine_kind,
        by_scenario={str(scenario): int(n) for scenario, n in counts},
        detected=notices.height,
        written=written,
        rows_read=rows_read,
        seconds={stage: round(s, 3) for stage, s in seconds.items()},
        read_seconds=read_seconds,
    )


def _detect_on_spark(
    book: BookFrames,
    run_date: date,
    settings: DetectorSettings,
    since: date | None,
    run_at: datetime | None,
    spark: SparkSession | None,
    seconds: dict[str, float],
) -> pl.DataFrame:
    from baoxian.outreach.spark_detectors import (
        collect_notices,
        detect_all_spark,
        local_session,
        spark_book,
    )

    began = time.perf_counter()
    session = spark or local_session()
    seconds["spark_start"] = time.perf_counter() - began
    try:
        with tempfile.TemporaryDirectory(prefix="baoxian-scan-") as tmp:
            began = time.perf_counter()
            frames = spark_book(session, book, Path(tmp))
            seconds["hand_over"] = time.perf_counter() - began
            began = time.perf_counter()
            found = detect_all_spark(frames, run_date, settings, since=since, run_at=run_at)
            notices = collect_notices(found, Path(tmp))
            seconds["detect"] = time.perf_counter() - began
    finally:
        if spark is None:
            session.stop()
    return notices


__all__ = [
    "EngineKind",
    "NoticeWriter",
    "ScanResult",
    "abandoned_query",
    "book_queries",
    "read_abandoned",
    "read_book",
    "read_frame",
    "run_daily",
]
