"""The claims context's tables.  Claims reference policies by number only (no foreign key
across contexts); money is whole fen."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, String, Table

from baoxian.store.tables import JsonData, UtcDateTime, metadata

claims = Table(
    "claims",
    metadata,
    Column("claim_id", String(36), primary_key=True),
    Column("policy_number", String(32), nullable=False, index=True),
    Column("unit_key", String(64), nullable=False),
    Column("term_no", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("channel", String(24), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("loss_date", Date, nullable=False),
    Column("invoice_no", String(64), nullable=False, index=True),
    Column("provider", String(64), nullable=False, index=True),
    Column("diagnosis", String(16), nullable=False),
    Column("claimed_fen", BigInteger, nullable=False),
    Column("payable_fen", BigInteger, nullable=True),
    Column("reserve_fen", BigInteger, nullable=False),
    Column("paid_fen", BigInteger, nullable=False),
    Column("green_channel", Boolean, nullable=False),
    Column("data", JsonData, nullable=False),
    Column("assessment", JsonData, nullable=True),
    Column("review", JsonData, nullable=True),
    Column("reported_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("paid_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
)
Index("ix_claims_insured", claims.c.policy_number, claims.c.unit_key)

claim_ledgers = Table(
    "claim_ledgers",
    metadata,
    Column("policy_number", String(32), primary_key=True),
    Column("unit_key", String(64), primary_key=True),
    Column("term_no", Integer, primary_key=True),
    Column("used", JsonData, nullable=False),  # accumulator key → fen used this policy year
    Column("version", Integer, nullable=False),
)

payments = Table(
    "claim_payments",
    metadata,
    Column("payment_id", String(36), primary_key=True),
    Column("claim_id", String(36), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # final / prepayment
    Column("payee_kind", String(16), nullable=False),  # insured / pharmacy / hospital
    Column("payee", String(100), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("idempotency_key", String(100), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
