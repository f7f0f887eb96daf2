"""The API's own state: partner clients (secrets stored as argon2 hashes), the grants that
say which parties, quotes, policies and claims a partner may see, idempotency keys with
the response first given for each, and webhooks: the endpoints partners register (signing
secrets encrypted), one delivery per webhook and event, a log of every attempt, and the
dispatcher's cursor over the event log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from baoxian.store.tables import Id64, JsonData, UtcDateTime, metadata

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
# the daily purge reads the keys past their life by creation time (migration 0015)
Index("ix_api_idempotency_keys_created_at", api_idempotency_keys.c.created_at)

api_webhooks = Table(
    "api_webhooks",
    metadata,
    Column("webhook_id", String(32), primary_key=True),
    Column("client_id", String(36), nullable=False, index=True),
    Column("url", String(2000), nullable=False),
    Column("event_types", JsonData, nullable=False),
    Column("secret", String(300), nullable=False),  # AES-GCM under the data key
    Column("active", Boolean, nullable=False),
    Column("from_event_id", BigInteger, nullable=False),  # events after it are delivered
    Column("created_at", UtcDateTime, nullable=False),
    Column("deleted_at", UtcDateTime, nullable=True),
)

api_webhook_deliveries = Table(
    "api_webhook_deliveries",
    metadata,
    Column("webhook_id", String(32), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(200), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("webhook_id", "event_id"),
    CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
    Index("ix_api_webhook_deliveries_due", "status", "next_attempt_at"),
)

api_webhook_attempts = Table(
    "api_webhook_attempts",
    metadata,
    Column("attempt_id", Id64, primary_key=True, autoincrement=True),
    Column("webhook_id", String(32), nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", String(200), nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    CheckConstraint("outcome IN ('delivered', 'retry', 'dead')", name="outcome"),
    Index("ix_api_webhook_attempts_webhook", "webhook_id", "attempt_id"),
)

api_webhook_cursor = Table(
    "api_webhook_cursor",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("gaps", JsonData, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
