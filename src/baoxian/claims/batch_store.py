"""Set-based persistence of a claims batch (批量理算), on SQLite and PostgreSQL.

Reading: the batch's keys (claim ID, policy, insured, invoice) go into a temporary staging
table; joins against it find the claims already in the store, the current policy terms and
the insured units the batch names, the ledgers of its insureds, and the earlier claims of
its insureds or invoices — a handful of queries whatever the size of the batch.

Writing: decided rows go in as they come (COPY on PostgreSQL; on SQLite ``executemany``
straight to the driver, the rows already in SQLite's storage format), then the ledgers once
per insured and policy year: new ones inserted, existing ones updated under the version read
at the start — all inside the caller's transaction.

The policies context's tables are read here directly (``policies``, ``policy_units``): a
batch naming 750,000 members of one programme policy cannot load the programme through
``PolicyService.policy``, which reads every member.  Only the columns a cover snapshot and
the review need are read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    cast,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError

from baoxian.claims.model import Accumulators
from baoxian.claims.repository import SqlClaimRepository, claim_from_json, prior_claim
from baoxian.claims.review import PriorClaim
from baoxian.claims.statistics import HealthHistory
from baoxian.claims.tables import claim_ledgers, claims, payments
from baoxian.policies.model import PolicyStatus
from baoxian.policies.repository import covered_from_column
from baoxian.policies.tables import policies, policy_units
from baoxian.shared.clock import system_clock
from baoxian.shared.errors import ConcurrencyConflict
from baoxian.shared.money import Money
from baoxian.store.bulk import copy_rows
from baoxian.store.tables import JsonData, events, from_json

__all__ = [
    "CLAIM_COLUMNS",
    "EVENT_COLUMNS",
    "PAYMENT_COLUMNS",
    "BatchStore",
    "ChunkRows",
    "LedgerKey",
    "RowFormat",
    "Stored",
    "TermHeader",
]

LedgerKey = tuple[str, str, int]  # policy number, unit key, term number

CLAIM_COLUMNS = (
    "claim_id",
    "policy_number",
    "unit_key",
    "term_no",
    "kind",
    "channel",
    "status",
    "loss_date",
    "invoice_no",
    "provider",
    "diagnosis",
    "claimed_fen",
    "payable_fen",
    "reserve_fen",
    "paid_fen",
    "green_channel",
    "data",
    "assessment",
    "review",
    "product_code",
    "straight_through",
    "quality_sample",
    "fast_track",
    "stage",
    "sla_due_at",
    "assignee",
    "incurred_fen",
    "reported_at",
    "decided_at",
    "paid_at",
    "version",
)
PAYMENT_COLUMNS = (
    "payment_id",
    "claim_id",
    "kind",
    "payee_kind",
    "payee",
    "amount_fen",
    "idempotency_key",
    "status",
    "created_at",
)
EVENT_COLUMNS = ("aggregate_type", "aggregate_id", "event_type", "payload", "occurred_at")
LEDGER_COLUMNS = ("policy_number", "unit_key", "term_no", "used", "version")


@dataclass(slots=True)
class ChunkRows:
    """A chunk's decisions as rows (in :class:`RowFormat`), and its counts."""

    claims: list[tuple[Any, ...]] = field(default_factory=list)
    payments: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    ledgers: list[tuple[LedgerKey, str]] = field(default_factory=list)  # used, as JSON text
    statuses: dict[str, int] = field(default_factory=dict)
    straight: int = 0
    paid_fen: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class RowFormat:
    """How values are put in rows: Python values for COPY on PostgreSQL; on SQLite the text
    and integers the columns' own types would bind (dates, UTC times, flags).  JSON columns
    are always JSON text."""

    now: Any  # the batch's time, as written
    date_of: Callable[[date], Any]
    flag: Callable[[bool | None], Any]
    time_of: Callable[[datetime | None], Any]
    _dates: dict[date, Any] = field(default_factory=dict)

    def day(self, value: date | None) -> Any:
        if value is None:
            return None
        stored = self._dates.get(value)
        if stored is None:
            stored = self._dates[value] = self.date_of(value)
        return stored


# --------------------------------------------------------------------------- reading

_stage_metadata = MetaData()
_keys = Table(
    "claim_batch_keys",
    _stage_metadata,
    Column("claim_id", String(36), nullable=False),
    Column("policy_number", String(32), nullable=False),
    Column("unit_key", String(64), nullable=False),
    Column("invoice_no", String(64), nullable=False),
    prefixes=["TEMPORARY"],
)
_KEY_COLUMNS = ("claim_id", "policy_number", "unit_key", "invoice_no")

_ledger_stage = Table(
    "claim_batch_ledgers",
    _stage_metadata,
    Column("policy_number", String(32)),
    Column("unit_key", String(64)),
    Column("term_no", Integer),
    Column("used", Text),
    Column("version", Integer),
    prefixes=["TEMPORARY"],
)


StoredUnit = tuple[Mapping[str, Any], Mapping[str, Money], date | None]
"""A staged insured's rating facts, cover (coverage → sum insured) and, for a member who
joined after the policy was issued, the day their cover began."""


@dataclass(frozen=True, slots=True)
class TermHeader:
    """A policy's current term, as a cover snapshot and the review read it."""

    policy_number: str
    product_code: str
    plan_version: str
    status: PolicyStatus
    original_inception: date
    term_no: int
    term_start: date
    term_end: date
    ended_on: date | None


@dataclass(slots=True)
class Stored:
    """What the store holds that the batch's new claims need."""

    headers: dict[str, TermHeader]
    units: dict[tuple[str, str], StoredUnit]
    ledgers: dict[LedgerKey, tuple[Accumulators, int]]
    earlier: list[PriorClaim]  # of the batch's insureds or invoices, in the service's order
    history: HealthHistory  # every health claim of the book (peer statistics)


class BatchStore:
    """The batch's reads and writes, on the caller's connection and transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self._cache: int | None = None
        self._claims = _text_json(claims)
        self._events = _text_json(events)
        self._ledgers = _text_json(claim_ledgers)

    def tune(self, count: int) -> None:
        """On SQLite, a page cache for this transaction sized to what ``count`` claims write
        (about 6 KiB a claim, at most 6 GiB), so that dirty pages are not spilled to the WAL
        and index pages read back in the middle of the batch: at 1,000,000 claims the writes
        took 106–120 s with a 1 GiB cache and 66–72 s with 6 GiB.  :meth:`untune` gives the
        memory back."""
        if self.sqlite:
            self._cache = self.connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
            kib = min(max(count * 6, 2_048), 6 * 1024 * 1024)
            self.connection.exec_driver_sql(f"PRAGMA cache_size = -{kib}")

    def untune(self) -> None:
        """The connection's page cache as it was (after the batch's transaction)."""
        if self.sqlite and self._cache is not None and not self.connection.invalidated:
            self.connection.exec_driver_sql(f"PRAGMA cache_size = {int(self._cache)}")
            self.connection.commit()
            self._cache = None

    def stage(self, keys: Iterable[tuple[str, str, str, str]]) -> None:
        """(claim ID, policy number, unit key, invoice number) of every claim of the batch."""
        _keys.create(self.connection)
        self._insert(_keys, _KEY_COLUMNS, list(keys))

    def unstage(self) -> None:
        _keys.drop(self.connection)

    def stored_ids(self) -> set[str]:
        """The staged claim IDs already in the store."""
        rows = self.connection.execute(
            select(_keys.c.claim_id).join(claims, claims.c.claim_id == _keys.c.claim_id)
        )
        return {row[0] for row in rows}

    def forget_stored(self) -> None:
        """Drop the claims already in the store from the staged keys."""
        self.connection.execute(
            _keys.delete().where(_keys.c.claim_id.in_(select(claims.c.claim_id)))
        )

    def read(self, lap: Callable[[str], None], review: bool = True) -> Stored:
        """Everything the staged (new) claims need; ``lap`` names each step as it ends.
        Without ``review`` only the cover and ledgers (what the benefit engine reads)."""
        headers, units = self._terms()
        ledgers = self._ledgers_of_insureds()
        lap("read_policies")
        if not review:
            return Stored(headers, units, ledgers, [], HealthHistory())
        earlier = self._earlier_claims()
        history = SqlClaimRepository(self.connection, system_clock).book_history()
        lap("read_claims")
        return Stored(headers, units, ledgers, earlier, history)

    def _terms(
        self,
    ) -> tuple[dict[str, TermHeader], dict[tuple[str, str], StoredUnit]]:
        """The current terms of the staged policies, and the staged units' rating facts and
        cover — parsed once per distinct text (a programme's members share a handful)."""
        p = policies.c
        heads = self.connection.execute(
            select(
                p.policy_number,
                p.product_code,
                p.plan_version,
                p.status,
                p.original_inception,
                p.term_no,
                p.term_start,
                p.term_end,
                p.ended_on,
            ).where(p.policy_number.in_(select(_keys.c.policy_number).distinct()))
        )
        headers = {
            row.policy_number: TermHeader(**{**row._asdict(), "status": PolicyStatus(row.status)})
            for row in heads
        }
        staged = _staged_insureds()
        u = policy_units.c
        rows = self.connection.execute(
            select(
                u.policy_number,
                u.unit_key,
                cast(u.facts, Text),
                cast(u.cover, Text),
                covered_from_column(),
            ).join(
                staged,
                (u.policy_number == staged.c.policy_number) & (u.unit_key == staged.c.unit_key),
            )
        )
        facts: dict[str, Mapping[str, Any]] = {}
        covers: dict[str, Mapping[str, Money]] = {}
        units = {}
        for number, key, facts_text, cover_text, joined in rows:
            unit_facts = facts.get(facts_text)
            if unit_facts is None:
                unit_facts = facts[facts_text] = from_json(json.loads(facts_text))
            sums = covers.get(cover_text)
            if sums is None:
                sums = covers[cover_text] = {
                    code: Money.from_fen(fen) for code, fen in json.loads(cover_text).items()
                }
            units[(number, key)] = (unit_facts, sums, joined)
        return headers, units

    def _ledgers_of_insureds(self) -> dict[LedgerKey, tuple[Accumulators, int]]:
        staged = _staged_insureds()
        c = claim_ledgers.c
        rows = self.connection.execute(
            select(c.policy_number, c.unit_key, c.term_no, c.used, c.version).join(
                staged,
                (c.policy_number == staged.c.policy_number) & (c.unit_key == staged.c.unit_key),
            )
        )
        return {
            (row.policy_number, row.unit_key, row.term_no): (
                Accumulators({key: Money.from_fen(fen) for key, fen in row.used.items()}),
                int(row.version),
            )
            for row in rows
        }

    def _earlier_claims(self) -> list[PriorClaim]:
        """Claims in the store of the staged insureds or with a staged invoice number, in the
        order ``SqlClaimRepository.prior_claims`` reads them (reported, then claim ID)."""
        c = claims.c
        same_insured = (
            select(_keys.c.claim_id)
            .where(_keys.c.policy_number == c.policy_number, _keys.c.unit_key == c.unit_key)
            .exists()
        )
        invoices = select(_keys.c.invoice_no).where(_keys.c.invoice_no != "")
        rows = self.connection.execute(
            select(c.data)
            .where(same_insured | c.invoice_no.in_(invoices))
            .order_by(c.reported_at, c.claim_id)
        )
        return [prior_claim(claim_from_json(row.data)) for row in rows]

    # ------------------------------------------------------------------- writing

    def row_format(self, now: datetime) -> RowFormat:
        if not self.sqlite:
            return RowFormat(now, _same, _same, _same)
        dialect = self.connection.dialect
        day = _binder(claims.c.loss_date, dialect)
        flag = _binder(claims.c.green_channel, dialect)
        instant = _binder(claims.c.reported_at, dialect)
        return RowFormat(instant(now), day, flag, instant)

    def write(self, rows: ChunkRows) -> None:
        """A chunk's claims, payment instructions and events."""
        try:
            self._insert(self._claims, CLAIM_COLUMNS, rows.claims)
            self._insert(payments, PAYMENT_COLUMNS, rows.payments)
        except IntegrityError:
            raise _batch_conflict() from None
        self._insert(self._events, EVENT_COLUMNS, rows.events)

    def save_ledgers(
        self, new: Sequence[tuple[LedgerKey, str]], moved: Sequence[tuple[LedgerKey, str, int]]
    ) -> None:
        """New ledgers at version 0; existing ones (with the version read) once each, to the
        next version — a ledger someone else moved meanwhile is a conflict."""
        try:
            self._insert(self._ledgers, LEDGER_COLUMNS, [(*key, used, 0) for key, used in new])
        except IntegrityError:
            raise _ledger_conflict() from None
        if not moved:
            return
        _ledger_stage.create(self.connection)
        try:
            copy_rows(
                self.connection,
                _ledger_stage,
                ((*key, used, version) for key, used, version in moved),
                LEDGER_COLUMNS,
            )
            used = "s.used" if self.sqlite else "CAST(s.used AS json)"
            result = self.connection.execute(
                text(
                    f"UPDATE claim_ledgers SET used = {used}, version = s.version + 1 "
                    "FROM claim_batch_ledgers s "
                    "WHERE claim_ledgers.policy_number = s.policy_number "
                    "AND claim_ledgers.unit_key = s.unit_key "
                    "AND claim_ledgers.term_no = s.term_no "
                    "AND claim_ledgers.version = s.version"
                )
            )
        finally:
            _ledger_stage.drop(self.connection)
        if result.rowcount != len(moved):
            raise _ledger_conflict()

    def _insert(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if not self.sqlite:
            copy_rows(self.connection, table, rows, columns)
            return
        marks = ", ".join("?" * len(columns))
        self.connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows
        )


def _staged_insureds() -> Any:
    return select(_keys.c.policy_number, _keys.c.unit_key).distinct().subquery("staged")


def _text_json(table: Table) -> Table:
    """``table`` with its JSON columns as text (rows carry JSON already encoded) and without
    an autoincrementing key (the database numbers the rows)."""
    columns = [
        Column(c.name, Text if isinstance(c.type, JsonData) else c.type)
        for c in table.columns
        if not (c.primary_key and c.autoincrement is True and isinstance(c.type, Integer))
    ]
    return Table(table.name, MetaData(), *columns)


def _binder(column: Column[Any], dialect: Any) -> Callable[[Any], Any]:
    """The column type's own bind conversion on this dialect."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return _same if process is None else process


def _same(value: Any) -> Any:
    return value


def _batch_conflict() -> ConcurrencyConflict:
    return ConcurrencyConflict(
        "claim.batch_conflict",
        "部分赔案已由另一批次或操作写入，请重新运行本批次（已写入的赔案将被跳过）",
        "some claims were written by another batch or operation meanwhile; run the batch "
        "again (claims already in the store are skipped)",
    )


def _ledger_conflict() -> ConcurrencyConflict:
    return ConcurrencyConflict(
        "claim.ledger_conflict",
        "同一被保险人的另一赔案正在理算，请重试",
        "another claim of the same insured was decided at the same time; try again",
    )
