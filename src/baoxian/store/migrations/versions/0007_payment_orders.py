"""Payment orders: one per quote (the idempotency key), for policies bought online.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_orders",
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("quote_id", sa.String(36), nullable=False),
        sa.Column("payer_id", sa.String(36), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(64), nullable=True),
        sa.Column("decline_code", sa.String(40), nullable=True),
        sa.Column("decline_zh", sa.String(200), nullable=False),
        sa.Column("decline_en", sa.String(200), nullable=False),
        sa.Column("policy_number", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_payment_orders")),
        sa.UniqueConstraint("quote_id", name=op.f("uq_payment_orders_quote_id")),
    )


def downgrade() -> None:
    op.drop_table("payment_orders")
