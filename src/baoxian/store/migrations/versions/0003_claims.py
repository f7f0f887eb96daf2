"""Claims: claims, claim_ledgers (accumulators per insured and policy year), claim_payments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _money(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("claim_id", sa.String(36), nullable=False),
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("unit_key", sa.String(64), nullable=False),
        sa.Column("term_no", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(24), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("loss_date", sa.Date(), nullable=False),
        sa.Column("invoice_no", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("diagnosis", sa.String(16), nullable=False),
        _money("claimed_fen"),
        _money("payable_fen", nullable=True),
        _money("reserve_fen"),
        _money("paid_fen"),
        sa.Column("green_channel", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("assessment", sa.JSON(), nullable=True),
        sa.Column("review", sa.JSON(), nullable=True),
        _when("reported_at"),
        _when("decided_at", nullable=True),
        _when("paid_at", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_claims")),
    )
    for column in ("policy_number", "status", "invoice_no", "provider"):
        op.create_index(op.f(f"ix_claims_{column}"), "claims", [column])
    op.create_index("ix_claims_insured", "claims", ["policy_number", "unit_key"])
    op.create_table(
        "claim_ledgers",
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("unit_key", sa.String(64), nullable=False),
        sa.Column("term_no", sa.Integer(), nullable=False),
        sa.Column("used", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "policy_number", "unit_key", "term_no", name=op.f("pk_claim_ledgers")
        ),
    )
    op.create_table(
        "claim_payments",
        sa.Column("payment_id", sa.String(36), nullable=False),
        sa.Column("claim_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payee_kind", sa.String(16), nullable=False),
        sa.Column("payee", sa.String(100), nullable=False),
        _money("amount_fen"),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_claim_payments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_claim_payments_idempotency_key")),
    )
    op.create_index(op.f("ix_claim_payments_claim_id"), "claim_payments", ["claim_id"])


def downgrade() -> None:
    op.drop_table("claim_payments")
    op.drop_table("claim_ledgers")
    op.drop_table("claims")
