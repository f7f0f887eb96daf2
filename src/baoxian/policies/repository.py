"""The policies ports over SQLAlchemy Core: parties, quotes, policies, events, sequences and the
unit of work that holds them in one transaction.

Domain dataclasses are mapped by hand (no ORM classes): personal data is encrypted with a
:class:`~baoxian.store.crypto.FieldCipher` on the way in and decrypted on the way out, money
is whole fen, and a policy update is guarded by its version (optimistic locking).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from operator import itemgetter
from typing import Any, Self

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from baoxian.catalog.model import CoverLine, Decision, PremiumLine, Quotation, Reason
from baoxian.policies.enrolment_store import SqlEnrolments
from baoxian.policies.membership_store import SqlMemberships
from baoxian.policies.model import (
    Beneficiary,
    InsuredUnit,
    Organisation,
    Party,
    Person,
    Policy,
    PolicyStatus,
    PolicyTerm,
    Quote,
    QuoteStatus,
)
from baoxian.policies.ports import Event
from baoxian.policies.tables import parties, policies, policy_terms, policy_units, quotes
from baoxian.shared.clock import Clock, local_date, system_clock
from baoxian.shared.errors import ConcurrencyConflict, NotFound, ValidationFailed
from baoxian.shared.money import Money
from baoxian.store.bulk import copy_rows, write_rows
from baoxian.store.crypto import FieldCipher
from baoxian.store.db import is_sqlite_busy
from baoxian.store.tables import events, sequences

__all__ = [
    "EVENT_COLUMNS",
    "PARTY_COLUMNS",
    "SqlEventLog",
    "SqlPartyRepository",
    "SqlPolicyRepository",
    "SqlQuoteRepository",
    "SqlSequences",
    "SqlUnitOfWork",
    "SqlUnitOfWorkFactory",
    "covered_from",
    "covered_from_column",
    "event_row",
    "id_blind_index",
    "party_row",
    "quote_values",
]


# --------------------------------------------------------------------------- errors


def _not_found(code: str, zh: str, en: str, key: str) -> NotFound:
    return NotFound(code, f"{zh} {key} 不存在", f"{en} {key} not found", key=key)


def _policy_conflict(policy_number: str) -> ConcurrencyConflict:
    return ConcurrencyConflict(
        "policy.concurrent_change",
        "保单已被他人修改，请刷新后重试",
        "the policy was changed by someone else; reload and try again",
        policy_number=policy_number,
    )


def _store_conflict() -> ConcurrencyConflict:
    return ConcurrencyConflict(
        "store.concurrent_change",
        "数据正被他人修改，请稍后重试",
        "the data is being changed by someone else; try again",
    )


@contextmanager
def _locks_as_conflict(conflict: ConcurrencyConflict) -> Iterator[None]:
    """On SQLite a second writer is refused with "database is locked"; that is the same
    lost race as a stale version, so it is reported as ``conflict``."""
    try:
        yield
    except OperationalError as error:
        if is_sqlite_busy(error):
            raise conflict from error
        raise


# --------------------------------------------------------------------------- parties

PARTY_COLUMNS = tuple(c.name for c in parties.columns)


def _party_id_number(party: Party) -> str:
    return party.id_number if isinstance(party, Person) else party.credit_code


def _id_key(id_number: str) -> str:
    return id_number.strip().upper()


def covered_from(added_on: date | None, enrolment_batch: str | None) -> date | None:
    """``InsuredUnit.covered_from`` of a unit row: a member added by an enrolment batch is
    covered from the batch's day (``added_on``); the units a policy is issued with, from its
    inception (None)."""
    return added_on if enrolment_batch is not None else None


def covered_from_column() -> ColumnElement[date | None]:
    """:func:`covered_from` in SQL, for reads that skip the domain (the claims batch, the
    settlement import)."""
    u = policy_units.c
    return case((u.enrolment_batch.is_not(None), u.added_on), else_=None)


def id_blind_index(cipher: FieldCipher, id_number: str) -> str:
    """The blind index of a 身份证号 or 统一社会信用代码, as ``parties.id_hash`` keeps it (for
    set-based look-ups by other contexts, e.g. the 医保 settlement import)."""
    return cipher.blind_index(_id_key(id_number))


def party_row(party: Party, cipher: FieldCipher, now: datetime) -> tuple[Any, ...]:
    """A ``parties`` row in :data:`PARTY_COLUMNS` order."""
    person = party if isinstance(party, Person) else None
    id_number = _party_id_number(party)
    return (
        party.party_id,
        "person" if person else "organisation",
        party.name,
        cipher.encrypt(id_number),
        cipher.blind_index(_id_key(id_number)),
        cipher.encrypt(party.mobile),
        party.address,
        party.region_code,
        person.has_basic_medical if person else None,
        person.medical_insurance_city if person else None,
        now,
        cipher.mobile_index(party.mobile),
    )


def _party_from_row(row: Row[Any], cipher: FieldCipher) -> Party:
    common = {
        "party_id": row.party_id,
        "name": row.name,
        "mobile": cipher.decrypt(row.mobile_enc),
        "address": row.address,
        "region_code": row.region_code,
    }
    id_number = cipher.decrypt(row.id_number_enc)
    if row.kind == "organisation":
        return Organisation(credit_code=id_number, **common)
    return Person(
        id_number=id_number,
        has_basic_medical=bool(row.has_basic_medical),
        medical_insurance_city=row.medical_insurance_city or "",
        **common,
    )


class SqlPartyRepository:
    def __init__(self, connection: Connection, cipher: FieldCipher, clock: Clock) -> None:
        self._connection = connection
        self._cipher = cipher
        self._clock = clock

    def add(self, party: Party) -> None:
        row = party_row(party, self._cipher, self._clock())
        try:
            self._connection.execute(insert(parties), dict(zip(PARTY_COLUMNS, row, strict=True)))
        except IntegrityError as error:
            raise ValidationFailed(
                "party.already_registered",
                "该证件号码或当事人编号已登记",
                "a party with this ID number or party ID is already registered",
                party_id=party.party_id,
            ) from error

    def add_if_new(self, party: Party) -> bool:
        """One statement: the insert does nothing when the ID number (or party ID) is
        registered already — also by a transaction that commits meanwhile, which this one
        then waits for (PostgreSQL) instead of failing."""
        row = party_row(party, self._cipher, self._clock())
        statement = _add_if_new(self._connection.dialect.name)
        added = self._connection.execute(statement, dict(zip(PARTY_COLUMNS, row, strict=True)))
        return added.first() is not None

    def add_many(self, new_parties: Sequence[Party]) -> int:
        """Bulk registration (demo books, enrolment files): one COPY, no query per row."""
        now = self._clock()
        rows = (party_row(party, self._cipher, now) for party in new_parties)
        return copy_rows(self._connection, parties, rows, PARTY_COLUMNS)

    def get(self, party_id: str) -> Party:
        row = self._connection.execute(
            select(parties).where(parties.c.party_id == party_id)
        ).one_or_none()
        if row is None:
            raise _not_found("party.not_found", "当事人", "party", party_id)
        return _party_from_row(row, self._cipher)

    def find_by_mobile(self, mobile: str) -> list[Party]:
        """Parties whose mobile is this number (a family may share one), oldest first."""
        rows = self._connection.execute(
            select(parties)
            .where(parties.c.mobile_hash == self._cipher.mobile_index(mobile))
            .order_by(parties.c.created_at, parties.c.party_id)
        )
        return [_party_from_row(row, self._cipher) for row in rows]

    def find_by_id_number(self, id_number: str) -> Party | None:
        """By 身份证号 or 统一社会信用代码, through the blind index."""
        digest = self._cipher.blind_index(_id_key(id_number))
        row = self._connection.execute(
            select(parties).where(parties.c.id_hash == digest)
        ).one_or_none()
        return None if row is None else _party_from_row(row, self._cipher)


@cache
def _add_if_new(dialect: str) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING party_id`` for the dialect, built once."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect_insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return dialect_insert(parties).on_conflict_do_nothing().returning(parties.c.party_id)


@cache
def _policy_with_unit() -> Any:
    """PostgreSQL: a policy and its one unit in one ``INSERT``, built once (the policy's
    insert is a data-modifying CTE; the unit's foreign key is checked at the end of the
    statement).  Parameters: ``p_<column>`` for the policy, ``u_<column>`` for the unit."""
    policy = {c: bindparam(f"p_{c}", type_=policies.c[c].type) for c in POLICY_COLUMNS}
    unit = {c: bindparam(f"u_{c}", type_=policy_units.c[c].type) for c in UNIT_COLUMNS}
    new_policy = insert(policies).values(policy).cte("new_policy")
    return insert(policy_units).values(unit).add_cte(new_policy)


# --------------------------------------------------------------------------- insured units


def _unit_json(unit: InsuredUnit) -> dict[str, Any]:
    return {
        "key": unit.key,
        "kind": unit.kind,
        "facts": dict(unit.facts),
        "details": dict(unit.details),
        "party_id": unit.party_id,
        "declared_sum_insured_fen": _fen_or_none(unit.declared_sum_insured),
    }


def _unit_from_json(data: Mapping[str, Any]) -> InsuredUnit:
    return InsuredUnit(
        key=data["key"],
        kind=data["kind"],
        facts=data["facts"],
        details=data["details"],
        party_id=data["party_id"],
        declared_sum_insured=_money_or_none(data["declared_sum_insured_fen"]),
    )


def _fen_or_none(amount: Money | None) -> int | None:
    return None if amount is None else amount.fen


def _money_or_none(fen: int | None) -> Money | None:
    return None if fen is None else Money.from_fen(fen)


def _money_map(amounts: Mapping[str, Money]) -> dict[str, int]:
    return {code: amount.fen for code, amount in amounts.items()}


def _money_map_from(fen: Mapping[str, int]) -> dict[str, Money]:
    return {code: Money.from_fen(value) for code, value in fen.items()}


# --------------------------------------------------------------------------- quotes


def _reason_json(reason: Reason) -> dict[str, Any]:
    return {
        "code": reason.code,
        "outcome": reason.outcome,
        "zh": reason.zh,
        "en": reason.en,
        "unit_key": reason.unit_key,
    }


def _quotation_json(quotation: Quotation) -> dict[str, Any]:
    return {
        "product_code": quotation.product_code,
        "plan_version": quotation.plan_version,
        "start_date": quotation.start_date.isoformat(),
        "cover": [[c.unit_key, c.coverage, c.sum_insured.fen] for c in quotation.cover],
        "lines": [[p.unit_key, p.component, p.amount.fen] for p in quotation.lines],
        "minimum_premium_top_up_fen": quotation.minimum_premium_top_up.fen,
        "annual_premium_fen": quotation.annual_premium.fen,
        "instalment": quotation.instalment,
        "instalments_fen": [amount.fen for amount in quotation.instalments],
        "decision": {
            "outcome": quotation.decision.outcome,
            "reasons": [_reason_json(r) for r in quotation.decision.reasons],
        },
    }


def _quotation_from_json(data: Mapping[str, Any]) -> Quotation:
    decision = data["decision"]
    return Quotation(
        product_code=data["product_code"],
        plan_version=data["plan_version"],
        start_date=date.fromisoformat(data["start_date"]),
        cover=tuple(CoverLine(u, c, Money.from_fen(f)) for u, c, f in data["cover"]),
        lines=tuple(PremiumLine(u, c, Money.from_fen(f)) for u, c, f in data["lines"]),
        minimum_premium_top_up=Money.from_fen(data["minimum_premium_top_up_fen"]),
        annual_premium=Money.from_fen(data["annual_premium_fen"]),
        instalment=data["instalment"],
        instalments=tuple(Money.from_fen(f) for f in data["instalments_fen"]),
        decision=Decision(decision["outcome"], tuple(Reason(**r) for r in decision["reasons"])),
    )


def _quote_data(quote: Quote) -> dict[str, Any]:
    return {
        "units": [_unit_json(unit) for unit in quote.units],
        "quotation": _quotation_json(quote.quotation),
        "selections": _money_map(quote.selections),
        "riders": sorted(quote.riders),
        "optional": sorted(quote.optional_coverages),
        "underwriter_note": quote.underwriter_note,
        "group": quote.group,
    }


def _quote_from_row(row: Row[Any]) -> Quote:
    data = row.data
    return Quote(
        quote_id=row.quote_id,
        holder_id=row.holder_id,
        units=tuple(_unit_from_json(unit) for unit in data["units"]),
        quotation=_quotation_from_json(data["quotation"]),
        riders=frozenset(data["riders"]),
        optional_coverages=frozenset(data["optional"]),
        selections=_money_map_from(data["selections"]),
        status=QuoteStatus(row.status),
        underwriter_note=data["underwriter_note"],
        policy_number=row.policy_number,
        group=bool(data.get("group", False)),
    )


def quote_values(quote: Quote) -> dict[str, Any]:
    """A ``quotes`` row but its ID and times (``data`` as the domain's JSON values)."""
    return {
        "holder_id": quote.holder_id,
        "status": quote.status.value,
        "product_code": quote.quotation.product_code,
        "plan_version": quote.quotation.plan_version,
        "data": _quote_data(quote),
        "policy_number": quote.policy_number,
    }


class SqlQuoteRepository:
    def __init__(
        self, connection: Connection, clock: Clock, cipher: FieldCipher | None = None
    ) -> None:
        self._connection = connection
        self._clock = clock
        self._cipher = cipher  # for the holder read with a quote

    def get_with_holder(self, quote_id: str) -> tuple[Quote, Party]:
        """The quote and its holder as registered now, in one read."""
        if self._cipher is None:
            raise RuntimeError("reading a quote's holder needs the field cipher")
        row = self._connection.execute(_QUOTE_WITH_HOLDER, {"w_id": quote_id}).one_or_none()
        if row is None:
            raise _not_found("quote.not_found", "投保单", "quote", quote_id)
        return _quote_from_row(row), _party_from_row(row, self._cipher)

    def add(self, quote: Quote) -> None:
        now = self._clock()
        values = {
            "quote_id": quote.quote_id,
            **quote_values(quote),
            "created_at": now,
            "updated_at": now,
        }
        self._connection.execute(insert(quotes), values)

    def get(self, quote_id: str) -> Quote:
        row = self._connection.execute(
            select(quotes).where(quotes.c.quote_id == quote_id)
        ).one_or_none()
        if row is None:
            raise _not_found("quote.not_found", "投保单", "quote", quote_id)
        return _quote_from_row(row)

    def update(self, quote: Quote) -> None:
        values = {**quote_values(quote), "updated_at": self._clock()}
        result = self._connection.execute(
            update(quotes).where(quotes.c.quote_id == quote.quote_id).values(values)
        )
        if result.rowcount == 0:
            raise _not_found("quote.not_found", "投保单", "quote", quote.quote_id)

    def mark_issued(self, quote_id: str, policy_number: str) -> None:
        """Only the status and number change (the quote's data stays as written); the
        ``accepted`` guard makes a second issue of the same quote at the same moment wait
        for the first and then find nothing to update."""
        result = self._connection.execute(
            _MARK_ISSUED,
            {"w_id": quote_id, "p_number": policy_number, "p_now": self._clock()},
        )
        if result.rowcount == 0:
            raise ConcurrencyConflict(
                "quote.issued_meanwhile",
                f"投保单 {quote_id} 正由另一请求出单，请稍后重试",
                f"quote {quote_id} is being issued by another request; retry shortly",
            )


_QUOTE_WITH_HOLDER = (
    select(
        *(quotes.c[c] for c in ("quote_id", "holder_id", "status", "data", "policy_number")),
        *(c for c in parties.c if c.name not in ("created_at",)),
    )
    .join_from(quotes, parties, parties.c.party_id == quotes.c.holder_id)
    .where(quotes.c.quote_id == bindparam("w_id"))
)
_MARK_ISSUED = (
    update(quotes)
    .where(
        quotes.c.quote_id == bindparam("w_id"),
        quotes.c.status == QuoteStatus.ACCEPTED.value,
    )
    .values(
        status=QuoteStatus.ISSUED.value,
        policy_number=bindparam("p_number"),
        updated_at=bindparam("p_now", type_=quotes.c.updated_at.type),
    )
)


# --------------------------------------------------------------------------- policies

POLICY_COLUMNS = tuple(c.name for c in policies.columns)
UNIT_COLUMNS = tuple(c.name for c in policy_units.columns)
_policy_tuple = itemgetter(*POLICY_COLUMNS)
_unit_tuple = itemgetter(*UNIT_COLUMNS)

#: Columns of a unit that follow from the domain object (the rest is bookkeeping kept as
#: first written: when and in which enrolment batch the unit joined).
UNIT_CONTENT = (
    "position",
    "kind",
    "party_id",
    "facts",
    "details",
    "declared_sum_insured_fen",
    "cover",
)


@dataclass(frozen=True, slots=True)
class _StoredUnits:
    """A policy's unit rows as last read or written in this unit of work, by key."""

    version: int
    content: Mapping[str, Mapping[str, Any]]


def _beneficiary_json(beneficiary: Beneficiary, cipher: FieldCipher) -> dict[str, Any]:
    return {
        "name": beneficiary.name,
        "id_number_enc": cipher.encrypt(beneficiary.id_number),
        "relationship": beneficiary.relationship,
        "share_percent": beneficiary.share_percent,
    }


def _beneficiary_from_json(data: Mapping[str, Any], cipher: FieldCipher) -> Beneficiary:
    return Beneficiary(
        name=data["name"],
        id_number=cipher.decrypt(data["id_number_enc"]),
        relationship=data["relationship"],
        share_percent=data["share_percent"],
    )


def _policy_values(policy: Policy, cipher: FieldCipher) -> dict[str, Any]:
    """Every column of the ``policies`` row except the key, the version and timestamps."""
    return {
        "product_code": policy.product_code,
        "plan_version": policy.plan_version,
        "holder_id": policy.holder_id,
        "status": policy.status.value,
        "original_inception": policy.original_inception,
        "term_no": policy.term_no,
        "term_start": policy.term_start,
        "term_end": policy.term_end,
        "ended_on": policy.ended_on,
        "instalment": policy.instalment,
        "riders": sorted(policy.riders),
        "optional_coverages": sorted(policy.optional_coverages),
        "selections": _money_map(policy.selections),
        "annual_premium_fen": policy.annual_premium.fen,
        "premium_charged_fen": policy.premium_charged.fen,
        "contact_mobile_enc": cipher.encrypt(policy.contact_mobile),
        "contact_address": policy.contact_address,
        "beneficiaries": [_beneficiary_json(b, cipher) for b in policy.beneficiaries],
        "is_group": policy.group,
        "member_count": policy.member_count,
        "endorsement_count": policy.endorsement_count,
    }


def _policy_row(policy: Policy, cipher: FieldCipher, now: datetime) -> tuple[Any, ...]:
    values = {
        "policy_number": policy.policy_number,
        **_policy_values(policy, cipher),
        "version": policy.version,
        "created_at": now,
        "updated_at": now,
    }
    row: tuple[Any, ...] = _policy_tuple(values)
    return row


def _cover_by_unit(policy: Policy) -> dict[str, dict[str, int]]:
    """The schedule of cover grouped by unit (coverage code → sum insured in fen)."""
    cover: dict[str, dict[str, int]] = {unit.key: {} for unit in policy.units}
    for line in policy.cover:
        if line.unit_key not in cover:
            raise ValidationFailed(
                "policy.cover_unknown_insured",
                f"保单 {policy.policy_number} 的保障责任指向不存在的被保险对象 {line.unit_key}",
                f"policy {policy.policy_number} has cover for an unknown insured {line.unit_key}",
            )
        cover[line.unit_key][line.coverage] = line.sum_insured.fen
    return cover


def _unit_content(unit: InsuredUnit, position: int, cover: Mapping[str, int]) -> dict[str, Any]:
    return {
        "position": position,
        "kind": unit.kind,
        "party_id": unit.party_id,
        "facts": dict(unit.facts),
        "details": dict(unit.details),
        "declared_sum_insured_fen": _fen_or_none(unit.declared_sum_insured),
        "cover": dict(cover),
    }


def _units_content(
    policy: Policy, positions: Mapping[str, int] | None = None
) -> dict[str, dict[str, Any]]:
    """The unit rows' content by key; positions default to the order of ``policy.units``."""
    cover = _cover_by_unit(policy)
    return {
        unit.key: _unit_content(
            unit, index if positions is None else positions[unit.key], cover[unit.key]
        )
        for index, unit in enumerate(policy.units)
    }


def _positions(before: Mapping[str, Mapping[str, Any]], keys: Sequence[str]) -> dict[str, int]:
    """Positions that keep the order of ``keys`` while moving as few rows as possible: when
    the units kept are still in their old order and new ones come after them (members added
    or removed), kept units keep their positions; otherwise everything is renumbered."""
    kept = [key for key in keys if key in before]
    old = [before[key]["position"] for key in kept]
    if keys[: len(kept)] != kept or old != sorted(old):
        return {key: index for index, key in enumerate(keys)}
    start = max((unit["position"] for unit in before.values()), default=-1) + 1
    added = [key for key in keys if key not in before]
    return {
        **{key: before[key]["position"] for key in kept},
        **{key: start + index for index, key in enumerate(added)},
    }


def _unit_rows(
    policy_number: str,
    content: Mapping[str, Mapping[str, Any]],
    added_on: date,
    batch: str | None,
) -> Iterator[tuple[Any, ...]]:
    for key, unit in content.items():
        values = {
            "policy_number": policy_number,
            "unit_key": key,
            **unit,
            "premium_fen": None,
            "added_on": added_on,
            "enrolment_batch": batch,
        }
        yield _unit_tuple(values)


def _unit_from_row(row: Row[Any]) -> InsuredUnit:
    return InsuredUnit(
        key=row.unit_key,
        kind=row.kind,
        facts=row.facts,
        details=row.details,
        party_id=row.party_id,
        declared_sum_insured=_money_or_none(row.declared_sum_insured_fen),
        covered_from=covered_from(row.added_on, row.enrolment_batch),
    )


def _policy_from_rows(row: Row[Any], unit_rows: Sequence[Row[Any]], cipher: FieldCipher) -> Policy:
    return Policy(
        policy_number=row.policy_number,
        product_code=row.product_code,
        plan_version=row.plan_version,
        holder_id=row.holder_id,
        status=PolicyStatus(row.status),
        original_inception=row.original_inception,
        term_no=row.term_no,
        term_start=row.term_start,
        term_end=row.term_end,
        instalment=row.instalment,
        units=tuple(_unit_from_row(unit) for unit in unit_rows),
        cover=tuple(
            CoverLine(unit.unit_key, coverage, Money.from_fen(fen))
            for unit in unit_rows
            for coverage, fen in unit.cover.items()
        ),
        riders=frozenset(row.riders),
        optional_coverages=frozenset(row.optional_coverages),
        selections=_money_map_from(row.selections),
        annual_premium=Money.from_fen(row.annual_premium_fen),
        premium_charged=Money.from_fen(row.premium_charged_fen),
        contact_mobile=cipher.decrypt(row.contact_mobile_enc),
        contact_address=row.contact_address,
        beneficiaries=tuple(_beneficiary_from_json(b, cipher) for b in row.beneficiaries),
        group=row.is_group,
        member_count=row.member_count,
        endorsement_count=row.endorsement_count,
        version=row.version,
        ended_on=row.ended_on,
    )


_UPDATE_UNIT = (
    update(policy_units)
    .where(
        policy_units.c.policy_number == bindparam("b_policy_number"),
        policy_units.c.unit_key == bindparam("b_unit_key"),
    )
    .values({name: bindparam(name) for name in UNIT_CONTENT})
)


@dataclass(frozen=True, slots=True)
class _Loaded:
    policy: Policy
    units: dict[str, dict[str, Any]]


class SqlPolicyRepository:
    def __init__(self, connection: Connection, cipher: FieldCipher, clock: Clock) -> None:
        self._connection = connection
        self._cipher = cipher
        self._clock = clock
        self._stored: dict[str, _StoredUnits] = {}

    def add(self, policy: Policy) -> None:
        self.add_many([policy])

    def add_many(self, new_policies: Sequence[Policy]) -> int:
        """Policies and their insured units in two set-based writes (COPY on PostgreSQL).  The
        units are those the policies are issued with: no enrolment batch, covered from the
        start (members who join later come through the enrolment stores)."""
        now = self._clock()
        added_on = local_date(now)
        if len(new_policies) == 1 and self._connection.dialect.name == "postgresql":
            policy = new_policies[0]
            units = list(_unit_rows(policy.policy_number, _units_content(policy), added_on, None))
            if len(units) == 1:  # one issued through the API: one statement
                row = _policy_row(policy, self._cipher, now)
                params = {f"p_{c}": v for c, v in zip(POLICY_COLUMNS, row, strict=True)}
                params.update({f"u_{c}": v for c, v in zip(UNIT_COLUMNS, units[0], strict=True)})
                self._connection.execute(_policy_with_unit(), params)
                return 1
        rows = (_policy_row(policy, self._cipher, now) for policy in new_policies)
        count = write_rows(self._connection, policies, rows, POLICY_COLUMNS)
        every_unit = (
            row
            for policy in new_policies
            for row in _unit_rows(policy.policy_number, _units_content(policy), added_on, None)
        )
        write_rows(self._connection, policy_units, every_unit, UNIT_COLUMNS)
        return count

    def get(self, policy_number: str) -> Policy:
        found = self._load(policies.c.policy_number == policy_number, limit=None)
        if not found:
            raise _not_found("policy.not_found", "保单", "policy", policy_number)
        return found[0].policy

    def preview(self, policy_number: str, units: int) -> tuple[Policy, int]:
        """Read-only view for display: the policy with its first ``units`` insured units (in
        order) and the number it has in all — a programme policy may have millions."""
        row = self._connection.execute(
            select(policies).where(policies.c.policy_number == policy_number)
        ).one_or_none()
        if row is None:
            raise _not_found("policy.not_found", "保单", "policy", policy_number)
        count = self._connection.execute(
            select(func.count())
            .select_from(policy_units)
            .where(policy_units.c.policy_number == policy_number)
        ).scalar_one()
        unit_rows = self._connection.execute(
            select(policy_units)
            .where(policy_units.c.policy_number == policy_number)
            .order_by(policy_units.c.position)
            .limit(units)
        ).all()
        return _policy_from_rows(row, unit_rows, self._cipher), int(count)

    def find(self, *, holder_id: str | None = None, limit: int = 50) -> list[Policy]:
        condition = policies.c.holder_id == holder_id if holder_id is not None else None
        return [loaded.policy for loaded in self._load(condition, limit=limit)]

    def count(self) -> int:
        return int(
            self._connection.execute(select(func.count()).select_from(policies)).scalar_one()
        )

    def archive_term(self, policy_number: str, term: PolicyTerm) -> None:
        cover = [[c.unit_key, c.coverage, c.sum_insured.fen] for c in term.cover]
        self._connection.execute(
            insert(policy_terms).values(
                policy_number=policy_number,
                term_no=term.term_no,
                plan_version=term.plan_version,
                term_start=term.term_start,
                term_end=term.term_end,
                ended_on=term.ended_on,
                cover=cover,
                archived_at=self._clock(),
            )
        )

    def term_on(self, policy_number: str, on: date) -> PolicyTerm | None:
        row = self._connection.execute(
            select(policy_terms).where(
                policy_terms.c.policy_number == policy_number,
                policy_terms.c.term_start <= on,
                policy_terms.c.term_end > on,
            )
        ).first()
        if row is None:
            return None
        cover = tuple(CoverLine(u, c, Money.from_fen(f)) for u, c, f in row.cover)
        return PolicyTerm(
            row.term_no, row.plan_version, row.term_start, row.term_end, row.ended_on, cover
        )

    def summary(self) -> list[dict[str, Any]]:
        """The book by product and status: ``product_code``, ``status``, ``policies``,
        ``insured`` (members) and ``premium_fen`` (annual premium) — one grouped query."""
        query = (
            select(
                policies.c.product_code,
                policies.c.status,
                func.count().label("policies"),
                func.coalesce(func.sum(policies.c.member_count), 0).label("insured"),
                func.coalesce(func.sum(policies.c.annual_premium_fen), 0).label("premium_fen"),
            )
            .group_by(policies.c.product_code, policies.c.status)
            .order_by(policies.c.product_code, policies.c.status)
        )
        return [
            {**row._asdict(), "insured": int(row.insured), "premium_fen": int(row.premium_fen)}
            for row in self._connection.execute(query)
        ]

    def update(self, policy: Policy, *, expected_version: int) -> Policy:
        """Write the policy row guarded by its version, then only the units that changed."""
        saved = replace(policy, version=expected_version + 1)
        before = self._stored_units(policy.policy_number, expected_version)
        after = _units_content(policy, _positions(before, [unit.key for unit in policy.units]))
        values = {
            **_policy_values(policy, self._cipher),
            "version": saved.version,
            "updated_at": self._clock(),
        }
        guarded = (
            update(policies)
            .where(
                policies.c.policy_number == policy.policy_number,
                policies.c.version == expected_version,
            )
            .values(values)
        )
        with _locks_as_conflict(_policy_conflict(policy.policy_number)):
            result = self._connection.execute(guarded)
        if result.rowcount == 0:
            raise self._missing_or_conflict(policy.policy_number)
        self._write_unit_changes(policy.policy_number, before, after)
        self._stored[policy.policy_number] = _StoredUnits(saved.version, after)
        return saved

    # ---------------------------------------------------------------- internals

    def _load(self, condition: Any, *, limit: int | None) -> list[_Loaded]:
        """Policies with their units (two queries), remembered as this unit of work read
        them so that a later :meth:`update` can tell which units changed."""
        query = select(policies).order_by(policies.c.policy_number)
        if condition is not None:
            query = query.where(condition)
        if limit is not None:
            query = query.limit(limit)
        rows = self._connection.execute(query).all()
        units = self._unit_rows_of([row.policy_number for row in rows])
        loaded = [self._loaded(row, units.get(row.policy_number, [])) for row in rows]
        for item in loaded:
            self._stored[item.policy.policy_number] = _StoredUnits(item.policy.version, item.units)
        return loaded

    def _loaded(self, row: Row[Any], unit_rows: Sequence[Row[Any]]) -> _Loaded:
        content = {
            unit.unit_key: _unit_content(_unit_from_row(unit), unit.position, unit.cover)
            for unit in unit_rows
        }
        return _Loaded(_policy_from_rows(row, unit_rows, self._cipher), content)

    def _unit_rows_of(self, numbers: Sequence[str]) -> dict[str, list[Row[Any]]]:
        if not numbers:
            return {}
        rows = self._connection.execute(
            select(policy_units)
            .where(policy_units.c.policy_number.in_(numbers))
            .order_by(policy_units.c.policy_number, policy_units.c.position)
        )
        grouped: dict[str, list[Row[Any]]] = {}
        for row in rows:
            grouped.setdefault(row.policy_number, []).append(row)
        return grouped

    def _stored_units(self, policy_number: str, version: int) -> Mapping[str, Mapping[str, Any]]:
        """The units as stored at ``version``: what this unit of work last read or wrote if
        that is the same version (the guarded update proves nobody changed them since),
        otherwise read afresh."""
        known = self._stored.get(policy_number)
        if known is not None and known.version == version:
            return known.content
        found = self._load(policies.c.policy_number == policy_number, limit=None)
        return found[0].units if found else {}

    def _write_unit_changes(
        self,
        policy_number: str,
        before: Mapping[str, Mapping[str, Any]],
        after: Mapping[str, Mapping[str, Any]],
    ) -> None:
        removed = [key for key in before if key not in after]
        added = {key: unit for key, unit in after.items() if key not in before}
        changed = [
            {"b_policy_number": policy_number, "b_unit_key": key, **unit}
            for key, unit in after.items()
            if key in before and before[key] != unit
        ]
        if removed:
            self._connection.execute(
                delete(policy_units).where(
                    policy_units.c.policy_number == policy_number,
                    policy_units.c.unit_key.in_(removed),
                )
            )
        if changed:
            self._connection.execute(_UPDATE_UNIT, changed)
        if added:
            rows = _unit_rows(policy_number, added, local_date(self._clock()), None)
            copy_rows(self._connection, policy_units, rows, UNIT_COLUMNS)

    def _missing_or_conflict(self, policy_number: str) -> NotFound | ConcurrencyConflict:
        exists = self._connection.execute(
            select(policies.c.version).where(policies.c.policy_number == policy_number)
        ).first()
        if exists is None:
            return _not_found("policy.not_found", "保单", "policy", policy_number)
        return _policy_conflict(policy_number)


# --------------------------------------------------------------------------- events

EVENT_COLUMNS = (
    "aggregate_type",
    "aggregate_id",
    "event_type",
    "payload",
    "occurred_at",
    "request_id",
)


def event_row(event: Event) -> tuple[Any, ...]:
    """An ``events`` row in :data:`EVENT_COLUMNS` order."""
    return (
        event.aggregate_type,
        event.aggregate_id,
        event.event_type,
        dict(event.payload),
        event.occurred_at,
        event.request_id,
    )


class SqlEventLog:
    """The event log in the caller's transaction.  ``buffered``: appended events are kept
    until :meth:`flush` (or a read) and then written in one statement — for a unit of work
    that appends several and flushes before it commits."""

    def __init__(self, connection: Connection, *, buffered: bool = False) -> None:
        self._connection = connection
        self._pending: list[dict[str, Any]] | None = [] if buffered else None

    def append(self, event: Event) -> None:
        row = dict(zip(EVENT_COLUMNS, event_row(event), strict=True))
        if self._pending is None:
            self._connection.execute(insert(events), row)
        else:
            self._pending.append(row)

    def flush(self) -> None:
        """Write the buffered events, in the order appended."""
        if self._pending:
            rows, self._pending = self._pending, []
            self._connection.execute(insert(events), rows)

    def append_many(self, new_events: Iterable[Event]) -> int:
        self.flush()
        rows = (event_row(event) for event in new_events)
        return copy_rows(self._connection, events, rows, EVENT_COLUMNS)

    def for_aggregate(self, aggregate_id: str) -> list[Event]:
        self.flush()
        rows = self._connection.execute(
            select(*(events.c[name] for name in EVENT_COLUMNS))
            .where(events.c.aggregate_id == aggregate_id)
            .order_by(events.c.id)
        )
        return [Event(*row) for row in rows]

    def seen(self, request_id: str) -> bool:
        self.flush()
        found = self._connection.execute(
            select(events.c.id).where(events.c.request_id == request_id).limit(1)
        ).first()
        return found is not None


# --------------------------------------------------------------------------- sequences


class SqlSequences:
    """Counters in the ``sequences`` table, incremented inside the caller's transaction:
    the UPDATE takes the row lock, so concurrent units of work never get the same value."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def next_value(self, name: str) -> int:
        with _locks_as_conflict(_store_conflict()):
            if not self._increment(name):
                self._create(name)
                self._increment(name)
            value = self._connection.execute(
                select(sequences.c.value).where(sequences.c.name == name)
            ).scalar_one()
        return int(value)

    def advance_to(self, name: str, value: int) -> None:
        """Make sure the counter is at least ``value`` (after numbers were handed out in bulk),
        so :meth:`next_value` continues above it; never moves a counter back."""
        with _locks_as_conflict(_store_conflict()):
            self._create(name)
            self._connection.execute(
                update(sequences)
                .where(sequences.c.name == name, sequences.c.value < value)
                .values(value=value)
            )

    def _increment(self, name: str) -> bool:
        result = self._connection.execute(
            update(sequences).where(sequences.c.name == name).values(value=sequences.c.value + 1)
        )
        return result.rowcount > 0

    def _create(self, name: str) -> None:
        """Insert the counter at zero unless a concurrent transaction just did."""
        statement = _insert_ignoring_duplicates(self._connection, sequences)
        self._connection.execute(statement, {"name": name, "value": 0})


def _insert_ignoring_duplicates(connection: Connection, table: Table) -> Any:
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


# --------------------------------------------------------------------------- unit of work


class SqlUnitOfWork:
    """One connection and one transaction: entering begins it, :meth:`commit` makes it
    durable, leaving without commit rolls it back."""

    parties: SqlPartyRepository
    quotes: SqlQuoteRepository
    policies: SqlPolicyRepository
    events: SqlEventLog
    sequences: SqlSequences
    enrolments: SqlEnrolments
    memberships: SqlMemberships

    def __init__(self, engine: Engine, cipher: FieldCipher, clock: Clock = system_clock) -> None:
        self._engine = engine
        self._cipher = cipher
        self._clock = clock
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        """The transaction's connection, for set-based work beside the repositories."""
        if self._connection is None:
            raise RuntimeError("the unit of work has not been entered")
        return self._connection

    def __enter__(self) -> Self:
        connection = self._engine.connect()
        connection.begin()
        self._connection = connection
        self.parties = SqlPartyRepository(connection, self._cipher, self._clock)
        self.quotes = SqlQuoteRepository(connection, self._clock, self._cipher)
        self.policies = SqlPolicyRepository(connection, self._cipher, self._clock)
        self.events = SqlEventLog(connection)
        self.sequences = SqlSequences(connection)
        self.enrolments = SqlEnrolments(connection, self._cipher)
        self.memberships = SqlMemberships(connection, self._cipher)
        return self

    def __exit__(self, *exc: object) -> None:
        connection = self.connection
        try:
            connection.rollback()
        finally:
            connection.close()
            self._connection = None

    def commit(self) -> None:
        with _locks_as_conflict(_store_conflict()):
            self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()


class SqlUnitOfWorkFactory:
    """What the services are given: each call is a fresh unit of work on the engine."""

    def __init__(self, engine: Engine, cipher: FieldCipher, clock: Clock = system_clock) -> None:
        self.engine = engine
        self.cipher = cipher
        self.clock = clock

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.cipher, self.clock)
