"""Webhooks for partners: registered endpoints (signing secrets encrypted), a delivery per
webhook and event, a log of every attempt, and the dispatcher's cursor over the events.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_webhooks",
        sa.Column("webhook_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(36), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("from_event_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("webhook_id", name=op.f("pk_api_webhooks")),
    )
    op.create_index(op.f("ix_api_webhooks_client_id"), "api_webhooks", ["client_id"])
    op.create_table(
        "api_webhook_deliveries",
        sa.Column("webhook_id", sa.String(32), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'dead')",
            name=op.f("ck_api_webhook_deliveries_status"),
        ),
        sa.PrimaryKeyConstraint("webhook_id", "event_id", name=op.f("pk_api_webhook_deliveries")),
    )
    op.create_index(
        "ix_api_webhook_deliveries_due", "api_webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_table(
        "api_webhook_attempts",
        sa.Column(
            "attempt_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("webhook_id", sa.String(32), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('delivered', 'retry', 'dead')",
            name=op.f("ck_api_webhook_attempts_outcome"),
        ),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_api_webhook_attempts")),
    )
    op.create_index(
        "ix_api_webhook_attempts_webhook", "api_webhook_attempts", ["webhook_id", "attempt_id"]
    )
    op.create_table(
        "api_webhook_cursor",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("gaps", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_api_webhook_cursor")),
    )


def downgrade() -> None:
    op.drop_table("api_webhook_cursor")
    op.drop_index("ix_api_webhook_attempts_webhook", table_name="api_webhook_attempts")
    op.drop_table("api_webhook_attempts")
    op.drop_index("ix_api_webhook_deliveries_due", table_name="api_webhook_deliveries")
    op.drop_table("api_webhook_deliveries")
    op.drop_index(op.f("ix_api_webhooks_client_id"), table_name="api_webhooks")
    op.drop_table("api_webhooks")
