"""The outreach context's tables: notices (inbox messages and text messages)."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text

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
