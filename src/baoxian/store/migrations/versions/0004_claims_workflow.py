"""Claims workflow: review route, fast tracks, the human queue, handlers and documents.

* ``claims`` gains the product (for metrics by product), the review route
  (``straight_through``, ``quality_sample``), the fast track and its stage and SLA clock
  (特药直付 48 h), the handler a referred claim is assigned to, and the incurred estimate;
* ``claim_handlers`` — claims staff and their authority limit (审批权限);
* ``claim_documents`` / ``claim_blobs`` — photos and documents, stored once per SHA-256.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("claims") as batch:
        batch.add_column(
            sa.Column("product_code", sa.String(32), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("straight_through", sa.Boolean(), nullable=True))
        batch.add_column(
            sa.Column("quality_sample", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("fast_track", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("stage", sa.String(24), nullable=False, server_default=""))
        batch.add_column(_when("sla_due_at", nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("incurred_fen", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.create_index("ix_claims_queue", ["status", "assignee"])
        batch.create_index("ix_claims_product_code", ["product_code"])
    op.create_table(
        "claim_handlers",
        sa.Column("handler_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("authority_fen", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("handler_id", name=op.f("pk_claim_handlers")),
    )
    op.create_table(
        "claim_blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_claim_blobs")),
    )
    op.create_table(
        "claim_documents",
        sa.Column("document_id", sa.String(36), nullable=False),
        sa.Column("claim_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        _when("uploaded_at"),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_claim_documents")),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.claim_id"], name=op.f("fk_claim_documents_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["claim_blobs.sha256"], name=op.f("fk_claim_documents_sha256_claim_blobs")
        ),
        sa.UniqueConstraint("claim_id", "sha256", name=op.f("uq_claim_documents_claim_id_sha256")),
    )
    op.create_index(op.f("ix_claim_documents_claim_id"), "claim_documents", ["claim_id"])


def downgrade() -> None:
    op.drop_table("claim_documents")
    op.drop_table("claim_blobs")
    op.drop_table("claim_handlers")
    with op.batch_alter_table("claims") as batch:
        batch.drop_index("ix_claims_product_code")
        batch.drop_index("ix_claims_queue")
        for column in (
            "incurred_fen",
            "assignee",
            "sla_due_at",
            "stage",
            "fast_track",
            "quality_sample",
            "straight_through",
            "product_code",
        ):
            batch.drop_column(column)
