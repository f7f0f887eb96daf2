"""The billing context's tables: payment orders, one per quote."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, UniqueConstraint

from baoxian.store.tables import UtcDateTime, metadata

payment_orders = Table(
    "payment_orders",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("quote_id", String(36), nullable=False),  # the idempotency key
    Column("payer_id", String(36), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("reference", String(64), nullable=True),
    Column("decline_code", String(40), nullable=True),
    Column("decline_zh", String(200), nullable=False),
    Column("decline_en", String(200), nullable=False),
    Column("policy_number", String(32), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("quote_id"),
)
