"""保全申请 (change requests) and 慧保全 links: a customer's or staff member's request to
change a policy, with its status and encrypted values; and signed links staff send to one
phone for one transaction.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "change_requests",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("values_enc", sa.Text(), nullable=False),
        sa.Column("requested_by_kind", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("effective", sa.Date(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('contact', 'beneficiary', 'vehicle_details', 'site_details')",
            name=op.f("ck_change_requests_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'applied', 'pending_review', 'approved', 'declined')",
            name=op.f("ck_change_requests_status"),
        ),
        sa.CheckConstraint(
            "requested_by_kind IN ('customer', 'staff')",
            name=op.f("ck_change_requests_requested_by_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["policy_number"],
            ["policies.policy_number"],
            name=op.f("fk_change_requests_policy_number_policies"),
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_change_requests")),
    )
    op.create_index(op.f("ix_change_requests_policy_number"), "change_requests", ["policy_number"])
    op.create_index(
        "ix_change_requests_status_created_at", "change_requests", ["status", "created_at"]
    )
    op.create_table(
        "change_links",
        sa.Column("link_id", sa.String(36), nullable=False),
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("values_enc", sa.Text(), nullable=False),
        sa.Column("mobile_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        sa.ForeignKeyConstraint(
            ["policy_number"],
            ["policies.policy_number"],
            name=op.f("fk_change_links_policy_number_policies"),
        ),
        sa.PrimaryKeyConstraint("link_id", name=op.f("pk_change_links")),
    )


def downgrade() -> None:
    op.drop_table("change_links")
    op.drop_index("ix_change_requests_status_created_at", table_name="change_requests")
    op.drop_index(op.f("ix_change_requests_policy_number"), table_name="change_requests")
    op.drop_table("change_requests")
