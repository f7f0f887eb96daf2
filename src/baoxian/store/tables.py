"""The shared schema: naming convention, column types, and the tables every context uses.

Each context declares its own tables on :data:`metadata` in ``baoxian/<context>/tables.py``
and lists the module in :data:`TABLE_MODULES`, so migrations and tests see the whole schema
through :func:`full_metadata`.

Column types:

- :class:`UtcDateTime` — timezone-aware in, stored as UTC, timezone-aware out (also on SQLite,
  which has no time zones);
- :class:`JsonData` — JSON that also round-trips ``Money``, ``Decimal`` and ``date`` values
  (tagged as ``{"$money": fen}``, ``{"$decimal": "1.5"}``, ``{"$date": "2026-03-01"}``);
- :data:`Id64` — a 64-bit autoincrementing key that SQLite also autoincrements.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
)

from baoxian.shared.money import Money

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: Modules that declare tables on :data:`metadata`, one per context.
TABLE_MODULES: tuple[str, ...] = (
    "baoxian.policies.tables",
    "baoxian.claims.tables",
    "baoxian.identity.tables",
    "baoxian.outreach.tables",
    "baoxian.billing.tables",
    "baoxian.billing.ledger_tables",
    "baoxian.api.tables",
)

Id64 = BigInteger().with_variant(Integer, "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps timezone-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JsonData(TypeDecorator[Any]):
    """JSON whose ``Money``, ``Decimal`` and ``date`` values come back as they went in."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else to_json(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else from_json(value)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def to_json(value: Any) -> Any:
    """Plain JSON values, with money, decimals and dates tagged (tuples become lists)."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, Money):
        return {"$money": value.fen}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    return value


def from_json(value: Any) -> Any:
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dict):
        if len(value) == 1:
            tag, inner = next(iter(value.items()))
            if tag in _DECODERS:
                return _DECODERS[tag](inner)
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


_DECODERS: dict[str, Any] = {
    "$money": Money.from_fen,
    "$decimal": Decimal,
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
}


def full_metadata() -> MetaData:
    """:data:`metadata` with every context's tables declared on it."""
    for module in TABLE_MODULES:
        importlib.import_module(module)
    return metadata


# --------------------------------------------------------------------------- shared tables

events = Table(
    "events",
    metadata,
    Column("id", Id64, primary_key=True, autoincrement=True),
    Column("aggregate_type", String(32), nullable=False),
    Column("aggregate_id", String(64), nullable=False, index=True),
    Column("event_type", String(64), nullable=False),
    Column("payload", JsonData, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("request_id", String(64), nullable=True),
    UniqueConstraint("request_id"),
)

sequences = Table(
    "sequences",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
