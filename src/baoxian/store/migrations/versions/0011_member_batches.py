"""Member batches of the partner API: each bulk enrolment or removal with its counts and
amounts, every rejected row, and the members a removal took off a policy (kept with their
facts, cover and premium).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_batches",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("already_enrolled", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("premium_charged_fen", sa.BigInteger(), nullable=False),
        sa.Column("refund_fen", sa.BigInteger(), nullable=False),
        sa.Column("annual_premium_change_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('enrolment', 'removal')", name=op.f("ck_member_batches_kind")),
        sa.ForeignKeyConstraint(
            ["policy_number"],
            ["policies.policy_number"],
            name=op.f("fk_member_batches_policy_number_policies"),
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_member_batches")),
    )
    op.create_index(op.f("ix_member_batches_policy_number"), "member_batches", ["policy_number"])
    op.create_table(
        "member_batch_rejections",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("zh", sa.Text(), nullable=False),
        sa.Column("en", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "row_no", name=op.f("pk_member_batch_rejections")),
    )
    op.create_table(
        "policy_unit_removals",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("unit_key", sa.String(64), nullable=False),
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.String(36), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("cover", sa.JSON(), nullable=False),
        sa.Column("annual_premium_fen", sa.BigInteger(), nullable=False),
        sa.Column("refund_fen", sa.BigInteger(), nullable=False),
        sa.Column("added_on", sa.Date(), nullable=True),
        sa.Column("enrolment_batch", sa.String(64), nullable=True),
        sa.Column("removed_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "unit_key", name=op.f("pk_policy_unit_removals")),
    )
    op.create_index(
        "ix_policy_unit_removals_policy_number_unit_key",
        "policy_unit_removals",
        ["policy_number", "unit_key"],
    )


def downgrade() -> None:
    op.drop_table("policy_unit_removals")
    op.drop_table("member_batch_rejections")
    op.drop_table("member_batches")
