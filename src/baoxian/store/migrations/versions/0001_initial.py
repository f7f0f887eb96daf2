"""Initial schema: events, sequences, parties, quotes, policies, policy_units.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Column types are the database types behind the store's Python-side types
(``UtcDateTime`` → timestamp with time zone, ``JsonData`` → JSON), so this file never
imports application code.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("aggregate_type", sa.String(length=32), nullable=False),
        sa.Column("aggregate_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _timestamp("occurred_at"),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("request_id", name=op.f("uq_events_request_id")),
    )
    op.create_index(op.f("ix_events_aggregate_id"), "events", ["aggregate_id"])

    op.create_table(
        "sequences",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sequences")),
    )

    op.create_table(
        "parties",
        sa.Column("party_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id_number_enc", sa.Text(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("mobile_enc", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("has_basic_medical", sa.Boolean(), nullable=True),
        sa.Column("medical_insurance_city", sa.String(length=12), nullable=True),
        _timestamp("created_at"),
        sa.CheckConstraint("kind IN ('person', 'organisation')", name=op.f("ck_parties_kind")),
        sa.PrimaryKeyConstraint("party_id", name=op.f("pk_parties")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_parties_id_hash")),
    )

    op.create_table(
        "quotes",
        sa.Column("quote_id", sa.String(length=36), nullable=False),
        sa.Column("holder_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("product_code", sa.String(length=32), nullable=False),
        sa.Column("plan_version", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("policy_number", sa.String(length=32), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["parties.party_id"], name=op.f("fk_quotes_holder_id_parties")
        ),
        sa.PrimaryKeyConstraint("quote_id", name=op.f("pk_quotes")),
    )
    op.create_index(op.f("ix_quotes_holder_id"), "quotes", ["holder_id"])

    op.create_table(
        "policies",
        sa.Column("policy_number", sa.String(length=32), nullable=False),
        sa.Column("product_code", sa.String(length=32), nullable=False),
        sa.Column("plan_version", sa.String(length=32), nullable=False),
        sa.Column("holder_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("original_inception", sa.Date(), nullable=False),
        sa.Column("term_no", sa.Integer(), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("instalment", sa.String(length=16), nullable=False),
        sa.Column("riders", sa.JSON(), nullable=False),
        sa.Column("optional_coverages", sa.JSON(), nullable=False),
        sa.Column("selections", sa.JSON(), nullable=False),
        sa.Column("annual_premium_fen", sa.BigInteger(), nullable=False),
        sa.Column("premium_charged_fen", sa.BigInteger(), nullable=False),
        sa.Column("contact_mobile_enc", sa.Text(), nullable=False),
        sa.Column("contact_address", sa.Text(), nullable=False),
        sa.Column("beneficiaries", sa.JSON(), nullable=False),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("endorsement_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["parties.party_id"], name=op.f("fk_policies_holder_id_parties")
        ),
        sa.PrimaryKeyConstraint("policy_number", name=op.f("pk_policies")),
    )
    op.create_index(op.f("ix_policies_holder_id"), "policies", ["holder_id"])

    op.create_table(
        "policy_units",
        sa.Column("policy_number", sa.String(length=32), nullable=False),
        sa.Column("unit_key", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=36), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("declared_sum_insured_fen", sa.BigInteger(), nullable=True),
        sa.Column("cover", sa.JSON(), nullable=False),
        sa.Column("premium_fen", sa.BigInteger(), nullable=True),
        sa.Column("added_on", sa.Date(), nullable=True),
        sa.Column("enrolment_batch", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "kind IN ('person', 'site', 'vehicle')", name=op.f("ck_policy_units_kind")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.party_id"], name=op.f("fk_policy_units_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["policy_number"],
            ["policies.policy_number"],
            name=op.f("fk_policy_units_policy_number_policies"),
        ),
        sa.PrimaryKeyConstraint("policy_number", "unit_key", name=op.f("pk_policy_units")),
    )
    op.create_index(op.f("ix_policy_units_party_id"), "policy_units", ["party_id"])


def downgrade() -> None:
    for table in ("policy_units", "policies", "quotes", "parties", "sequences", "events"):
        op.drop_table(table)
