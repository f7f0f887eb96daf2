"""The outreach context's tables: notices (inbox messages and text messages), channel
preferences, and the outbox of proactive notices with its delivery attempts."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from baoxian.store.tables import UtcDateTime, metadata

notices = Table(
    "notices",
    metadata,
    Column("notice_id", String(36), primary_key=True),
    Column("channel", String(16), nullable=False),  # sms / inbox
    Column("mobile_hash", String(64), nullable=True, index=True),
    Column("mobile_masked", String(16), nullable=False),
    Column("party_id", String(36), nullable=True, index=True),
    Column("topic", String(40), nullable=False),  # sign_in_code / claim_paid / …
    Column("subject_zh", String(200), nullable=False),
    Column("subject_en", String(200), nullable=False),
    Column("body_zh", Text, nullable=False),
    Column("body_en", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("read_at", UtcDateTime, nullable=True),
)
Index("ix_notices_created_at", notices.c.created_at)

outreach_preferences = Table(
    "outreach_preferences",
    metadata,
    Column("party_id", String(36), primary_key=True),
    Column("channel", String(16), nullable=False),  # sms / email / push / webhook / inbox
    Column("locale", String(8), nullable=False),  # zh / en
    Column("care", Boolean, nullable=False),  # 关爱版: plain words, no links, a hotline
    Column("address_enc", Text, nullable=True),  # e-mail, push token or URL (encrypted)
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("channel IN ('sms', 'email', 'push', 'webhook', 'inbox')", name="channel"),
    CheckConstraint("locale IN ('zh', 'en')", name="locale"),
)
"""How each customer wants to be reached (主动服务 channel preference); none → SMS in Chinese."""

outreach_outbox = Table(
    "outreach_outbox",
    metadata,
    Column("dedup_key", String(200), primary_key=True),
    Column("scenario", String(40), nullable=False),
    Column("party_id", String(36), nullable=False),
    Column("policy_number", String(32), nullable=True),
    Column("channel", String(16), nullable=False),
    Column("locale", String(8), nullable=False),
    Column("care", Boolean, nullable=False),
    Column("reason_code", String(64), nullable=False),
    Column("reason_zh", Text, nullable=False),
    Column("reason_en", Text, nullable=False),
    Column("data", Text, nullable=False),  # the facts the notice rests on (canonical JSON)
    Column("due_on", Date, nullable=True),
    Column("run_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("not_before", UtcDateTime, nullable=True),  # quiet hours or back-off; NULL: now
    Column("lease_until", UtcDateTime, nullable=True),
    Column("worker", String(64), nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("provider_ref", String(100), nullable=True),
    Column("last_error", String(300), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
)
"""The outbox of proactive notices: one row per deduplication key, so a fact is told once."""
Index("ix_outreach_outbox_due", outreach_outbox.c.status, outreach_outbox.c.not_before)
Index("ix_outreach_outbox_party", outreach_outbox.c.party_id)

outreach_attempts = Table(
    "outreach_attempts",
    metadata,
    Column("dedup_key", String(200), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("worker", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),  # sent / found / retry / failed / deferred
    Column("detail", String(300), nullable=False),
    PrimaryKeyConstraint("dedup_key", "attempt"),
)
"""Every delivery attempt, for the service desk and audits."""
