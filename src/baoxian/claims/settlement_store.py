"""The 医保 settlement import's reads and writes, set-based (``claims/settlement.py``).

* :meth:`SettlementStore.candidates` — which policies and insureds each row can be about,
  found through the blind index of the 身份证号 (``parties.id_hash``) in one join over a
  staged table, with or without the 保单号 and 被保险人编号 the file gives.  A programme of
  millions of members is never loaded: only the matching unit rows are read.
* :meth:`SettlementStore.claim_statuses` — which of the file's claims the store holds.
* :meth:`SettlementStore.add_reminders` — the 主动提醒 list kept in ``claim_reminders`` (one
  row per settlement number, so a file imported twice reminds nobody twice), which the daily
  proactive-service scan (``outreach/scan.py``) turns into notices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from baoxian.billing.ledger_tables import claim_reminders
from baoxian.claims.tables import claims
from baoxian.policies.repository import covered_from_column, id_blind_index
from baoxian.policies.tables import parties, policies, policy_units
from baoxian.store.bulk import copy_rows
from baoxian.store.crypto import FieldCipher

CHUNK = 20_000
"""Most keys per ``IN (…)`` list."""

_stage_metadata = MetaData()
_rows = Table(
    "settlement_import_rows",
    _stage_metadata,
    Column("row_no", Integer, nullable=False),
    Column("id_hash", String(64), nullable=False),
    Column("policy_number", String(32), nullable=False),  # "" when the file gives none
    Column("insured_key", String(64), nullable=False),  # "" when the file gives none
    prefixes=["TEMPORARY"],
)
_ROW_COLUMNS = ("row_no", "id_hash", "policy_number", "insured_key")


@dataclass(frozen=True, slots=True)
class Lookup:
    """A row to find: its number, the person's 身份证号 and what the file says of the policy."""

    row: int
    id_number: str
    policy_number: str
    insured_key: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A policy on which the row's person is an insured (a person unit with their party)."""

    policy_number: str
    unit_key: str
    party_id: str
    product_code: str
    status: str
    insured_since: date  # the first day of the member's unbroken cover
    term_end: date  # the end of the policy's current term


@dataclass(frozen=True, slots=True)
class ReminderRow:
    """A ``claim_reminders`` row: the member to remind, their bill and its estimate."""

    reminder_id: str
    settlement_no: str
    party_id: str
    policy_number: str
    insured_key: str
    kind: str
    loss_date: date
    amount_fen: int
    source_file: str
    created_on: date


class SettlementStore:
    """On the caller's connection (and transaction)."""

    def __init__(self, connection: Connection, cipher: FieldCipher) -> None:
        self._connection = connection
        self._cipher = cipher

    def candidates(
        self, lookups: Sequence[Lookup], product: str | None = None
    ) -> dict[int, list[Candidate]]:
        """Each row's candidate policies (only ``product``'s when given), by row number."""
        if not lookups:
            return {}
        _rows.create(self._connection)
        try:
            staged = (
                (k.row, id_blind_index(self._cipher, k.id_number), k.policy_number, k.insured_key)
                for k in lookups
            )
            copy_rows(self._connection, _rows, staged, _ROW_COLUMNS)
            found: dict[int, list[Candidate]] = {}
            for row in self._connection.execute(_candidates_query(product)):
                found.setdefault(row.row_no, []).append(_candidate(row))
            return found
        finally:
            _rows.drop(self._connection)

    def existing_policies(self, numbers: Iterable[str]) -> set[str]:
        """Those of ``numbers`` that are policies in the store."""
        wanted = sorted({n for n in numbers if n})
        found: set[str] = set()
        for first in range(0, len(wanted), CHUNK):
            chunk = wanted[first : first + CHUNK]
            query = select(policies.c.policy_number).where(policies.c.policy_number.in_(chunk))
            found.update(self._connection.execute(query).scalars())
        return found

    def claim_statuses(self, claim_ids: Iterable[str]) -> dict[str, str]:
        """The status of each of ``claim_ids`` the store holds."""
        wanted = sorted(set(claim_ids))
        statuses: dict[str, str] = {}
        for first in range(0, len(wanted), CHUNK):
            chunk = wanted[first : first + CHUNK]
            query = select(claims.c.claim_id, claims.c.status).where(claims.c.claim_id.in_(chunk))
            for claim_id, status in self._connection.execute(query):
                statuses[claim_id] = status
        return statuses

    def add_reminders(self, reminders: Sequence[ReminderRow]) -> int:
        """Keep the reminders whose settlement number is new; returns how many were added."""
        if not reminders:
            return 0
        values = [_reminder_values(r) for r in reminders]
        dialect = self._connection.dialect.name
        maker: Any = {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(dialect)
        added = 0
        for first in range(0, len(values), CHUNK):
            chunk = values[first : first + CHUNK]
            if maker is None:  # pragma: no cover - the store is SQLite or PostgreSQL
                statement = insert(claim_reminders)
            else:
                statement = maker(claim_reminders).on_conflict_do_nothing(
                    index_elements=["settlement_no"]
                )
            returned = statement.returning(claim_reminders.c.reminder_id)  # rows added
            added += len(self._connection.execute(returned, chunk).all())
        return added


def _candidates_query(product: str | None) -> Any:
    """Person units of the staged people, on the policy the row names (if any), as the
    insured the row names (if any); a member's own start where a member batch added them."""
    s, pa, u, p = _rows.c, parties.c, policy_units.c, policies.c
    query = (
        select(
            s.row_no,
            u.policy_number,
            u.unit_key,
            u.party_id,
            p.product_code,
            p.status,
            p.original_inception,
            p.term_end,
            covered_from_column().label("covered_from"),
        )
        .select_from(_rows)
        .join(parties, pa.id_hash == s.id_hash)
        .join(policy_units, (u.party_id == pa.party_id) & (u.kind == "person"))
        .join(policies, p.policy_number == u.policy_number)
        .where(
            (s.policy_number == "") | (s.policy_number == u.policy_number),
            (s.insured_key == "") | (s.insured_key == u.unit_key),
        )
        .order_by(s.row_no, u.policy_number)
    )
    if product is not None:
        query = query.where(p.product_code == product)
    return query


def _candidate(row: Any) -> Candidate:
    since = row.original_inception  # as ``Policy.insured_since``
    if row.covered_from is not None:
        since = max(since, row.covered_from)
    return Candidate(
        policy_number=row.policy_number,
        unit_key=row.unit_key,
        party_id=row.party_id,
        product_code=row.product_code,
        status=row.status,
        insured_since=since,
        term_end=row.term_end,
    )


def _reminder_values(r: ReminderRow) -> dict[str, Any]:
    return {
        "reminder_id": r.reminder_id,
        "settlement_no": r.settlement_no,
        "party_id": r.party_id,
        "policy_number": r.policy_number,
        "insured_key": r.insured_key,
        "kind": r.kind,
        "loss_date": r.loss_date,
        "amount_fen": r.amount_fen,
        "source_file": r.source_file[:200],
        "created_on": r.created_on,
    }


__all__ = ["Candidate", "Lookup", "ReminderRow", "SettlementStore"]
