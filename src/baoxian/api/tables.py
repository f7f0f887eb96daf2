"""The API's own state: partner clients (secrets stored as argon2 hashes), the grants that
say which parties, quotes, policies and claims a partner may see, and idempotency keys with
the response first given for each."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
)

from baoxian.store.tables import JsonData, UtcDateTime, metadata

api_clients = Table(
    "api_clients",
    metadata,
    Column("client_id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(200), nullable=False),
    Column("scopes", JsonData, nullable=False),
    Column("rate_per_minute", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

api_grants = Table(
    "api_grants",
    metadata,
    Column("client_id", String(36), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("object_id", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("client_id", "kind", "object_id"),
    CheckConstraint("kind IN ('party', 'quote', 'policy', 'claim')", name="kind"),
)

api_idempotency_keys = Table(
    "api_idempotency_keys",
    metadata,
    Column("owner", String(80), nullable=False),
    Column("key", String(128), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("response_type", String(100), nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("owner", "key"),
    CheckConstraint("state IN ('in_progress', 'done')", name="state"),
)
