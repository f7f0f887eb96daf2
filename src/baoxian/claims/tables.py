"""The claims context's tables.  Claims reference policies by number only (no foreign key
across contexts); money is whole fen."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    false,
)

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
    Column("product_code", String(32), nullable=False, server_default="", index=True),
    Column("straight_through", Boolean, nullable=True),  # None until decided
    Column("quality_sample", Boolean, nullable=False, server_default=false()),
    Column("fast_track", String(16), nullable=False, server_default=""),  # special_drug / …
    Column("stage", String(24), nullable=False, server_default=""),  # fast-track stage
    Column("sla_due_at", UtcDateTime, nullable=True),
    Column("assignee", String(64), nullable=True),  # handler of a referred claim
    Column("incurred_fen", BigInteger, nullable=False, server_default="0"),
)
Index("ix_claims_insured", claims.c.policy_number, claims.c.unit_key)
Index("ix_claims_queue", claims.c.status, claims.c.assignee)

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

handlers = Table(
    "claim_handlers",
    metadata,
    Column("handler_id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("authority_fen", BigInteger, nullable=False),  # may approve up to this payable
    Column("active", Boolean, nullable=False),
)

blobs = Table(
    "claim_blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),  # content-addressed: stored once
    Column("size_bytes", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

documents = Table(
    "claim_documents",
    metadata,
    Column("document_id", String(36), primary_key=True),
    Column("claim_id", String(36), ForeignKey("claims.claim_id"), nullable=False, index=True),
    Column("kind", String(24), nullable=False),  # photo / invoice / discharge_summary / …
    Column("filename", String(200), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), ForeignKey("claim_blobs.sha256"), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    UniqueConstraint("claim_id", "sha256"),
)
