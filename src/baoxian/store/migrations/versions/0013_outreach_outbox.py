"""Proactive service (主动服务): customers' channel preferences, the outbox of notices (one row
per deduplication key) and the log of every delivery attempt.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outreach_preferences",
        sa.Column("party_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("care", sa.Boolean(), nullable=False),
        sa.Column("address_enc", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('sms', 'email', 'push', 'webhook', 'inbox')",
            name=op.f("ck_outreach_preferences_channel"),
        ),
        sa.CheckConstraint("locale IN ('zh', 'en')", name=op.f("ck_outreach_preferences_locale")),
        sa.PrimaryKeyConstraint("party_id", name=op.f("pk_outreach_preferences")),
    )
    op.create_table(
        "outreach_outbox",
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("scenario", sa.String(40), nullable=False),
        sa.Column("party_id", sa.String(36), nullable=False),
        sa.Column("policy_number", sa.String(32), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("care", sa.Boolean(), nullable=False),
        sa.Column("reason_code", sa.String(64), nullable=False),
        sa.Column("reason_zh", sa.Text(), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_ref", sa.String(100), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')",
            name=op.f("ck_outreach_outbox_status"),
        ),
        sa.PrimaryKeyConstraint("dedup_key", name=op.f("pk_outreach_outbox")),
    )
    op.create_index("ix_outreach_outbox_due", "outreach_outbox", ["status", "not_before"])
    op.create_index("ix_outreach_outbox_party", "outreach_outbox", ["party_id"])
    op.create_table(
        "outreach_attempts",
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("dedup_key", "attempt", name=op.f("pk_outreach_attempts")),
    )


def downgrade() -> None:
    op.drop_table("outreach_attempts")
    op.drop_index("ix_outreach_outbox_party", table_name="outreach_outbox")
    op.drop_index("ix_outreach_outbox_due", table_name="outreach_outbox")
    op.drop_table("outreach_outbox")
    op.drop_table("outreach_preferences")
