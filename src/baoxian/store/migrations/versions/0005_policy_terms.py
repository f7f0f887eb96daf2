"""Policy terms: each policy year as it was, kept at renewal for claims reported late.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_terms",
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("term_no", sa.Integer(), nullable=False),
        sa.Column("plan_version", sa.String(32), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("cover", sa.JSON(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_number"],
            ["policies.policy_number"],
            name=op.f("fk_policy_terms_policy_number_policies"),
        ),
        sa.PrimaryKeyConstraint("policy_number", "term_no", name=op.f("pk_policy_terms")),
    )


def downgrade() -> None:
    op.drop_table("policy_terms")
