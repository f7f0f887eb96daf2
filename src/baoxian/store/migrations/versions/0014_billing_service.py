"""Billing ledgers written from real policies: the repayments of each policy loan (the loan's
interest runs on the principal outstanding between two repayments, so the ledger keeps each
one; ``reference`` is the repayment's idempotency key).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fen(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "policy_loan_repayments",
        sa.Column("loan_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        _fen("amount_fen"),
        _fen("to_interest_fen"),
        _fen("to_principal_fen"),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("by_renewal", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", "seq", name=op.f("pk_policy_loan_repayments")),
        sa.UniqueConstraint(
            "loan_id", "reference", name=op.f("uq_policy_loan_repayments_loan_id_reference")
        ),
    )


def downgrade() -> None:
    op.drop_table("policy_loan_repayments")
