"""Set-based persistence of member batches (批量增员 / 批量减员), on SQLite and PostgreSQL.

Enrolment stages validated members in the enrolment's temporary table
(:mod:`~baoxian.policies.enrolment_store`, COPY on PostgreSQL) and inserts them with its
``INSERT … SELECT … ON CONFLICT DO NOTHING``.  Removal stages the keys in a temporary table
of its own, resolves 身份证号 to members through the blind index, archives the members it
takes off (``INSERT … SELECT`` into ``policy_unit_removals``) and deletes them with one
statement.  Nothing here loads a policy's members into memory: a programme policy may have
millions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)

from baoxian.policies.enrolment import Rejection, ValidMember
from baoxian.policies.enrolment_store import PolicyHeader, SqlEnrolments, stage
from baoxian.policies.member_files import MemberKey
from baoxian.policies.membership import Member, MemberBatch, RemovalReason
from baoxian.policies.tables import (
    member_batch_rejections,
    member_batches,
    parties,
    policy_unit_removals,
    policy_units,
)
from baoxian.shared.money import Money
from baoxian.store.bulk import copy_rows
from baoxian.store.crypto import FieldCipher

_stage_metadata = MetaData()
key_stage = Table(
    "removal_stage",
    _stage_metadata,
    Column("row_no", Integer, primary_key=True),
    Column("id_hash", String(64), nullable=True),
    Column("unit_key", String(64), nullable=True),
    prefixes=["TEMPORARY"],
)
Index("ix_removal_stage_unit_key", key_stage.c.unit_key, key_stage.c.row_no)

REJECTION_COLUMNS = ("batch_id", "row_no", "code", "zh", "en")
_BATCH_COLUMNS = tuple(c.name for c in member_batches.columns)


class SqlMemberships:
    """The store of :class:`~baoxian.policies.membership.MembershipService`, on the unit of
    work's connection (one transaction per batch)."""

    def __init__(self, connection: Connection, cipher: FieldCipher) -> None:
        self._connection = connection
        self._cipher = cipher
        self._enrolments = SqlEnrolments(connection, cipher)

    def header(self, policy_number: str) -> PolicyHeader:
        return self._enrolments.header(policy_number)

    # ---------------------------------------------------------------- batches

    def batch(self, policy_number: str, batch_id: str) -> MemberBatch | None:
        row = self._connection.execute(
            select(member_batches).where(
                member_batches.c.batch_id == batch_id,
                member_batches.c.policy_number == policy_number,
            )
        ).one_or_none()
        return None if row is None else _batch_from_row(dict(row._mapping))

    def add_batch(self, batch: MemberBatch) -> None:
        self._connection.execute(insert(member_batches).values(_batch_values(batch)))

    def add_rejections(self, batch_id: str, rejections: Sequence[Rejection]) -> None:
        if rejections:
            rows = ((batch_id, r.row_no, r.code, r.zh, r.en) for r in rejections)
            copy_rows(self._connection, member_batch_rejections, rows, REJECTION_COLUMNS)

    def rejections(self, batch_id: str, after: int, limit: int) -> list[Rejection]:
        r = member_batch_rejections.c
        rows = self._connection.execute(
            select(r.row_no, r.code, r.zh, r.en)
            .where(r.batch_id == batch_id, r.row_no > after)
            .order_by(r.row_no)
            .limit(limit)
        )
        return [Rejection(*row) for row in rows]

    def members(self, policy_number: str, after: str | None, limit: int) -> list[Member]:
        u, p = policy_units.c, parties.c
        query = (
            select(
                u.unit_key,
                u.party_id,
                p.name,
                p.id_number_enc,
                p.mobile_enc,
                u.added_on,
                u.premium_fen,
            )
            .select_from(policy_units.join(parties, p.party_id == u.party_id))
            .where(u.policy_number == policy_number, u.kind == "person")
            .order_by(u.unit_key)
            .limit(limit)
        )
        if after is not None:
            query = query.where(u.unit_key > after)
        decrypt = self._cipher.decrypt
        return [
            Member(
                member_id=row.unit_key,
                party_id=row.party_id,
                name=row.name,
                id_number=decrypt(row.id_number_enc),
                mobile=decrypt(row.mobile_enc),
                added_on=row.added_on,
                annual_premium=None if row.premium_fen is None else Money.from_fen(row.premium_fen),
            )
            for row in self._connection.execute(query)
        ]

    def bump(
        self, header: PolicyHeader, members: int, annual_fen: int, charged_fen: int, now: datetime
    ) -> None:
        self._enrolments.bump(header, members, annual_fen, charged_fen, now)

    def has_members(self, policy_number: str) -> bool:
        found = self._connection.execute(
            select(policy_units.c.unit_key)
            .where(policy_units.c.policy_number == policy_number)
            .limit(1)
        ).first()
        return found is not None

    # ---------------------------------------------------------------- enrolment

    def open_enrolment(self) -> None:
        self._enrolments.open_stage()

    def stage_members(self, members: Sequence[ValidMember]) -> None:
        if members:
            self._enrolments.stage(members)

    def registered_elsewhere(self) -> list[int]:
        """Staged rows whose 身份证号 belongs to a party of another name or mobile (the
        quote's rule: never attach a request to someone else's party); unstaged."""
        self._analyse(stage)
        s, p = stage.c, parties.c
        other = exists().where(
            p.id_hash == s.id_hash,
            or_(p.name != s.name, and_(p.mobile_hash.is_not(None), p.mobile_hash != s.mobile_hash)),
        )
        rows = self._connection.execute(select(s.row_no).where(other).order_by(s.row_no))
        found = [int(row_no) for (row_no,) in rows]
        if found:
            self._connection.execute(delete(stage).where(other))
        return found

    def new_member_premiums(self, policy_number: str) -> list[tuple[int, int]]:
        s, p, u = stage.c, parties.c, policy_units.c
        member = (
            select(literal(1))
            .select_from(parties.join(policy_units, u.unit_key == p.party_id))
            .where(p.id_hash == s.id_hash, u.policy_number == policy_number)
        )
        query = (
            select(s.premium_fen, func.count())
            .where(~member.exists())
            .group_by(s.premium_fen)
            .order_by(s.premium_fen)
        )
        return [(int(fen), int(count)) for fen, count in self._connection.execute(query)]

    def enrol_staged(
        self,
        header: PolicyHeader,
        cover: dict[str, int],
        batch_id: str,
        added_on: date,
        now: datetime,
    ) -> int:
        start = self._enrolments.next_position(header.policy_number)
        enrolled = self._enrolments.insert_staged(header, cover, batch_id, added_on, start, now)
        self._enrolments.close_stage()
        return enrolled

    # ---------------------------------------------------------------- removal

    def open_removal(self) -> None:
        key_stage.create(self._connection)

    def stage_keys(self, keys: Sequence[MemberKey]) -> None:
        blind = self._cipher.blind_index
        rows = (
            (k.row_no, None if k.id_number is None else blind(k.id_number), k.member_id)
            for k in keys
        )
        copy_rows(self._connection, key_stage, rows, ("row_no", "id_hash", "unit_key"))

    def resolve_staged_keys(self) -> None:
        """A person's member ID is their party ID: find it for each 身份证号."""
        self._analyse(key_stage)
        party = (
            select(parties.c.party_id)
            .where(parties.c.id_hash == key_stage.c.id_hash)
            .scalar_subquery()
        )
        self._connection.execute(
            update(key_stage).where(key_stage.c.id_hash.is_not(None)).values(unit_key=party)
        )

    def unpriced_removals(
        self, policy_number: str, effective: date
    ) -> list[tuple[str, Mapping[str, Any]]]:
        u = policy_units.c
        query = self._removable(policy_number, effective, u.unit_key, u.facts).where(
            u.premium_fen.is_(None)
        )
        return [(row.unit_key, row.facts) for row in self._connection.execute(query)]

    def price(self, policy_number: str, premiums: Mapping[str, int]) -> None:
        u = policy_units.c
        statement = (
            update(policy_units)
            .where(u.policy_number == policy_number, u.unit_key == bindparam("b_unit_key"))
            .values(premium_fen=bindparam("b_premium_fen"))
        )
        self._connection.execute(
            statement,
            [{"b_unit_key": key, "b_premium_fen": fen} for key, fen in premiums.items()],
        )

    def removal_premiums(self, policy_number: str, effective: date) -> list[tuple[int, int]]:
        u = policy_units.c
        query = (
            self._removable(policy_number, effective, u.premium_fen, func.count())
            .group_by(u.premium_fen)
            .order_by(u.premium_fen)
        )
        return [(int(fen), int(count)) for fen, count in self._connection.execute(query)]

    def remove_staged(
        self, policy_number: str, batch_id: str, effective: date, refunds: Mapping[int, int]
    ) -> int:
        """Archive the removable members with their refunds, then delete them."""
        if not refunds:
            return 0
        u, s = policy_units.c, key_stage.c
        rows = self._removable(
            policy_number,
            effective,
            literal(batch_id, String()),
            u.unit_key,
            literal(policy_number, String()),
            s.row_no,
            u.party_id,
            u.facts,
            u.cover,
            u.premium_fen,
            case(dict(refunds), value=u.premium_fen, else_=0),
            u.added_on,
            u.enrolment_batch,
            literal(effective, Date()),
        )
        columns = [
            "batch_id",
            "unit_key",
            "policy_number",
            "row_no",
            "party_id",
            "facts",
            "cover",
            "annual_premium_fen",
            "refund_fen",
            "added_on",
            "enrolment_batch",
            "removed_on",
        ]
        self._connection.execute(insert(policy_unit_removals).from_select(columns, rows))
        archived = select(policy_unit_removals.c.unit_key).where(
            policy_unit_removals.c.batch_id == batch_id
        )
        result = self._connection.execute(
            delete(policy_units).where(u.policy_number == policy_number, u.unit_key.in_(archived))
        )
        return int(result.rowcount)

    def removal_outcomes(
        self, policy_number: str, batch_id: str, after: int, limit: int
    ) -> list[tuple[int, RemovalReason]]:
        """Why each staged key after row ``after`` removed nothing, by row."""
        s, u = key_stage.c, policy_units.c
        earlier = key_stage.alias("earlier")
        here = policy_unit_removals.alias("here")
        before = policy_unit_removals.alias("before")
        reason = case(
            (s.unit_key.is_(None), "not_found"),
            (
                exists().where(earlier.c.unit_key == s.unit_key, earlier.c.row_no < s.row_no),
                "duplicate",
            ),
            (
                exists().where(
                    u.policy_number == policy_number, u.unit_key == s.unit_key, _started_after()
                ),
                "before_start",
            ),
            (
                exists().where(
                    before.c.policy_number == policy_number, before.c.unit_key == s.unit_key
                ),
                "already_removed",
            ),
            else_="not_found",
        )
        removed_here = exists().where(
            here.c.batch_id == batch_id, here.c.unit_key == s.unit_key, here.c.row_no == s.row_no
        )  # by the primary key (batch_id, unit_key)
        query = (
            select(s.row_no, reason)
            .where(~removed_here, s.row_no > after)
            .order_by(s.row_no)
            .limit(limit)
        )
        return [
            (int(row_no), cast(RemovalReason, why))
            for row_no, why in self._connection.execute(query)
        ]

    def close_removal(self) -> None:
        key_stage.drop(self._connection)

    # ---------------------------------------------------------------- internals

    def _removable(
        self, policy_number: str, effective: date, *columns: ColumnElement[Any]
    ) -> Select[Any]:
        """The staged keys that name a current member whose cover began by ``effective``
        (the first row naming a member; a repeat is rejected)."""
        s, u = key_stage.c, policy_units.c
        earlier = key_stage.alias("earlier")
        return (
            select(*columns)
            .select_from(
                key_stage.join(
                    policy_units,
                    and_(u.policy_number == policy_number, u.unit_key == s.unit_key),
                )
            )
            .where(
                u.kind == "person",
                ~_started_after(effective),
                ~exists().where(earlier.c.unit_key == s.unit_key, earlier.c.row_no < s.row_no),
            )
        )

    def _analyse(self, table: Table) -> None:
        """PostgreSQL keeps no statistics of a temporary table until asked: gather them, so
        that the joins over the stage are planned for its real size."""
        if self._connection.dialect.name == "postgresql":
            self._connection.execute(text(f"ANALYZE {table.name}"))


def _started_after(effective: date | None = None) -> ColumnElement[bool]:
    """A member whose cover began after ``effective`` (any date, when None): one enrolled by
    a member batch, from the batch's effective date (``added_on``).  The members a policy
    was issued with, or a CLI enrolment added, are covered from the start of the term."""
    u, b = policy_units.c, member_batches.c
    from_batch = exists().where(b.batch_id == u.enrolment_batch, b.kind == "enrolment")
    if effective is None:
        return and_(u.kind == "person", from_batch)
    return and_(u.added_on.is_not(None), u.added_on > effective, from_batch)


def _batch_values(batch: MemberBatch) -> dict[str, Any]:
    return {
        "batch_id": batch.batch_id,
        "policy_number": batch.policy_number,
        "kind": batch.kind,
        "effective": batch.effective,
        "received": batch.received,
        "accepted": batch.accepted,
        "already_enrolled": batch.already_enrolled,
        "rejected": batch.rejected,
        "premium_charged_fen": batch.premium_charged.fen,
        "refund_fen": batch.refund.fen,
        "annual_premium_change_fen": batch.annual_premium_change.fen,
        "created_at": batch.created_at,
    }


def _batch_from_row(row: Mapping[str, Any]) -> MemberBatch:
    return MemberBatch(
        batch_id=row["batch_id"],
        policy_number=row["policy_number"],
        kind=row["kind"],
        effective=row["effective"],
        received=row["received"],
        accepted=row["accepted"],
        already_enrolled=row["already_enrolled"],
        rejected=row["rejected"],
        premium_charged=Money.from_fen(row["premium_charged_fen"]),
        refund=Money.from_fen(row["refund_fen"]),
        annual_premium_change=Money.from_fen(row["annual_premium_change_fen"]),
        created_at=row["created_at"],
    )


__all__ = ["SqlMemberships", "key_stage"]
