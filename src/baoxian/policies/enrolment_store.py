"""Set-based persistence of a bulk enrolment (批量投保), on SQLite and PostgreSQL.

Accepted members go into a temporary staging table (COPY on PostgreSQL), then two
``INSERT … SELECT … ON CONFLICT DO NOTHING`` statements create the parties that are new
(matched on the blind index of the 身份证号) and the policy's member rows that are new — so a
re-run of the same file enrols nobody twice.  The policy row is updated under its version.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    func,
    select,
    text,
    update,
)

from baoxian.policies.enrolment import ValidMember
from baoxian.policies.model import PolicyStatus
from baoxian.policies.tables import parties, policies, policy_units
from baoxian.shared.errors import ConcurrencyConflict, NotFound
from baoxian.shared.ids import id_block
from baoxian.shared.money import Money
from baoxian.store.bulk import copy_rows
from baoxian.store.crypto import FieldCipher
from baoxian.store.tables import UtcDateTime

_stage_metadata = MetaData()
stage = Table(
    "enrolment_stage",
    _stage_metadata,
    Column("row_no", Integer, nullable=False),
    Column("party_id", String(36), nullable=False),
    Column("name", String(100), nullable=False),
    Column("id_number_enc", Text, nullable=False),
    Column("id_hash", String(64), nullable=False),
    Column("mobile_enc", Text, nullable=False),
    Column("mobile_hash", String(64), nullable=False),
    Column("address", Text, nullable=False),
    Column("region_code", String(12), nullable=False),
    Column("has_basic_medical", Boolean, nullable=False),
    Column("medical_insurance_city", String(12), nullable=False),
    Column("facts", Text, nullable=False),
    Column("premium_fen", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
)
STAGE_COLUMNS = tuple(c.name for c in stage.columns)
CHUNK = 100_000  # members staged and inserted at a time, to bound temporary state


@dataclass(frozen=True, slots=True)
class PolicyHeader:
    """The policy row without its (possibly millions of) members."""

    policy_number: str
    product_code: str
    plan_version: str
    status: PolicyStatus
    term_start: date
    term_end: date
    is_group: bool
    member_count: int
    version: int


@dataclass(frozen=True, slots=True)
class Written:
    enrolled: int
    premium: Money
    seconds: dict[str, float]


class _Stopwatch:
    """Seconds spent in each step, for operators and the benchmark (never asserted)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(self.laps.get(name, 0.0) + now - self._last, 3)
        self._last = now


class SqlEnrolments:
    def __init__(self, connection: Connection, cipher: FieldCipher) -> None:
        self._connection = connection
        self._cipher = cipher
        self._facts_json: dict[tuple[Any, ...], str] = {}

    def header(self, policy_number: str) -> PolicyHeader:
        row = self._connection.execute(
            select(
                policies.c.policy_number,
                policies.c.product_code,
                policies.c.plan_version,
                policies.c.status,
                policies.c.term_start,
                policies.c.term_end,
                policies.c.is_group,
                policies.c.member_count,
                policies.c.version,
            ).where(policies.c.policy_number == policy_number)
        ).one_or_none()
        if row is None:
            raise NotFound(
                "policy.not_found",
                f"没有保单 {policy_number}",
                f"no policy {policy_number}",
            )
        values = row._asdict()
        values["status"] = PolicyStatus(values["status"])
        return PolicyHeader(**values)

    def write(
        self,
        header: PolicyHeader,
        members: Sequence[ValidMember],
        cover: dict[str, int],
        batch_id: str,
        added_on: date,
        now: datetime,
    ) -> Written:
        """Stage, insert new parties and new members, and bump the policy; one transaction
        (the caller's)."""
        clock = _Stopwatch()
        start = self.next_position(header.policy_number)
        enrolled = 0
        self.open_stage()
        try:
            for first in range(0, len(members), CHUNK):
                self.stage(members[first : first + CHUNK])
                clock.lap("stage")
                self._insert_parties(now)
                clock.lap("insert_parties")
                enrolled += self._insert_members(header, cover, batch_id, added_on, start)
                self._connection.execute(stage.delete())
                clock.lap("insert_members")
        finally:
            self.close_stage()
        premium = self._batch_premium(header.policy_number, batch_id)
        self.bump(header, enrolled, premium, premium, now)
        clock.lap("update_policy")
        return Written(enrolled, Money.from_fen(premium), clock.laps)

    # ---------------------------------------------------------------- steps (also used by
    # the API's streamed enrolment, ``membership_store.py``)

    def open_stage(self) -> None:
        """Create the (temporary, per connection) staging table."""
        stage.create(self._connection)

    def close_stage(self) -> None:
        stage.drop(self._connection)

    def stage(self, members: Sequence[ValidMember]) -> None:
        """Add validated members to the staging table (encrypted, with blind indexes)."""
        rows = self._stage_rows(members, id_block(len(members)), self._facts_json)
        copy_rows(self._connection, stage, rows, STAGE_COLUMNS)

    def insert_staged(
        self,
        header: PolicyHeader,
        cover: dict[str, int],
        batch_id: str,
        added_on: date,
        start: int,
        now: datetime,
    ) -> int:
        """Insert the staged persons that are new as parties, and those not yet members as
        members; empty the stage.  Returns the number of members inserted."""
        self._insert_parties(now)
        enrolled = self._insert_members(header, cover, batch_id, added_on, start)
        self._connection.execute(stage.delete())
        return enrolled

    def _stage_rows(
        self,
        members: Sequence[ValidMember],
        party_ids: Iterator[str],
        facts_json: dict[tuple[Any, ...], str],
    ) -> Iterator[tuple[Any, ...]]:
        encrypt, blind = self._cipher.encrypt, self._cipher.blind_index
        mobile_index = self._cipher.mobile_index
        for member in members:
            row, facts = member.row, member.facts
            key = tuple(facts.values())
            dumped = facts_json.get(key)
            if dumped is None:
                dumped = facts_json[key] = json.dumps(facts, ensure_ascii=False)
            yield (
                row.row_no,
                next(party_ids),
                row.name,
                encrypt(row.id_number),
                blind(row.id_number),
                encrypt(row.mobile),
                mobile_index(row.mobile),
                row.address,
                row.medical_insurance_city,
                row.has_basic_medical,
                row.medical_insurance_city,
                dumped,
                member.premium.fen,
            )

    def _insert_parties(self, now: datetime) -> None:
        columns = [
            "party_id",
            "kind",
            "name",
            "id_number_enc",
            "id_hash",
            "mobile_enc",
            "address",
            "region_code",
            "has_basic_medical",
            "medical_insurance_city",
            "created_at",
            "mobile_hash",
        ]
        sql = text(
            f"INSERT INTO {parties.name} ({', '.join(columns)}) "
            "SELECT party_id, 'person', name, id_number_enc, id_hash, mobile_enc, address, "
            "region_code, has_basic_medical, medical_insurance_city, :now, mobile_hash "
            f"FROM {stage.name} WHERE true ON CONFLICT (id_hash) DO NOTHING"
        ).bindparams(bindparam("now", now, type_=UtcDateTime()))
        self._connection.execute(sql)

    def next_position(self, policy_number: str) -> int:
        """The position after the policy's last unit."""
        last = self._connection.execute(
            select(func.coalesce(func.max(policy_units.c.position), -1)).where(
                policy_units.c.policy_number == policy_number
            )
        ).scalar_one()
        return int(last) + 1

    def _insert_members(
        self,
        header: PolicyHeader,
        cover: dict[str, int],
        batch_id: str,
        added_on: date,
        start: int,
    ) -> int:
        json_cast = "CAST(:cover AS json)" if self._is_postgres else ":cover"
        facts_cast = "CAST(s.facts AS json)" if self._is_postgres else "s.facts"
        details = "CAST('{}' AS json)" if self._is_postgres else "'{}'"
        sql = (
            text(
                f"INSERT INTO {policy_units.name} (policy_number, unit_key, position, kind, "
                "party_id, facts, details, declared_sum_insured_fen, cover, premium_fen, added_on, "
                "enrolment_batch) "
                f"SELECT :policy_number, p.party_id, :start + s.row_no, 'person', p.party_id, "
                f"{facts_cast}, {details}, NULL, {json_cast}, s.premium_fen, :added_on, :batch "
                f"FROM {stage.name} s JOIN {parties.name} p ON p.id_hash = s.id_hash "
                "WHERE true ON CONFLICT (policy_number, unit_key) DO NOTHING"
            )
            .bindparams(
                policy_number=header.policy_number,
                start=start,
                cover=json.dumps(cover),
                batch=batch_id,
            )
            .bindparams(bindparam("added_on", added_on, type_=Date()))
        )
        return int(self._connection.execute(sql).rowcount)

    def _batch_premium(self, policy_number: str, batch_id: str) -> int:
        total = self._connection.execute(
            select(func.coalesce(func.sum(policy_units.c.premium_fen), 0)).where(
                policy_units.c.policy_number == policy_number,
                policy_units.c.enrolment_batch == batch_id,
            )
        ).scalar_one()
        return int(total)

    def bump(
        self, header: PolicyHeader, members: int, annual_fen: int, charged_fen: int, now: datetime
    ) -> None:
        """Count ``members`` more (or fewer) members, the annual premium and what was charged,
        on the version read (a concurrent change is a conflict)."""
        result = self._connection.execute(
            update(policies)
            .where(
                policies.c.policy_number == header.policy_number,
                policies.c.version == header.version,
            )
            .values(
                member_count=policies.c.member_count + members,
                annual_premium_fen=policies.c.annual_premium_fen + annual_fen,
                premium_charged_fen=policies.c.premium_charged_fen + charged_fen,
                version=header.version + 1,
                updated_at=now,
            )
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(
                "policy.concurrent_change",
                "保单已被他人修改，请刷新后重试",
                "the policy was changed by someone else; reload and try again",
            )

    @property
    def _is_postgres(self) -> bool:
        return self._connection.dialect.name == "postgresql"
