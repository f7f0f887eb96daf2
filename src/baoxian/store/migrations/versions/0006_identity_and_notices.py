"""Identity and notices: sign-in by phone (a blind index of each party's mobile, one-time-code
challenges and the request log the rate limits count), staff users, and notices (inbox and
text messages).

Parties written before this revision have no ``mobile_hash`` (the migration has no data key
to compute it); they cannot sign in by phone until their mobile is changed or re-registered.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("parties") as batch:
        batch.add_column(sa.Column("mobile_hash", sa.String(64), nullable=True))
        batch.create_index("ix_parties_mobile_hash", ["mobile_hash"])
    op.create_table(
        "sign_in_challenges",
        sa.Column("challenge_id", sa.String(36), nullable=False),
        sa.Column("mobile_hash", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        _when("expires_at"),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("challenge_id", name=op.f("pk_sign_in_challenges")),
    )
    op.create_index(
        op.f("ix_sign_in_challenges_mobile_hash"), "sign_in_challenges", ["mobile_hash"]
    )
    op.create_table(
        "sign_in_requests",
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("scope", sa.String(80), nullable=False),
        _when("at"),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_sign_in_requests")),
    )
    op.create_index("ix_sign_in_requests_scope_at", "sign_in_requests", ["scope", "at"])
    op.create_table(
        "staff_users",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("authority_fen", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_staff_users")),
    )
    op.create_table(
        "notices",
        sa.Column("notice_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("mobile_hash", sa.String(64), nullable=True),
        sa.Column("mobile_masked", sa.String(16), nullable=False),
        sa.Column("party_id", sa.String(36), nullable=True),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("subject_zh", sa.String(200), nullable=False),
        sa.Column("subject_en", sa.String(200), nullable=False),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        _when("created_at"),
        _when("read_at", nullable=True),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_notices")),
    )
    op.create_index(op.f("ix_notices_mobile_hash"), "notices", ["mobile_hash"])
    op.create_index(op.f("ix_notices_party_id"), "notices", ["party_id"])
    op.create_index("ix_notices_created_at", "notices", ["created_at"])


def downgrade() -> None:
    op.drop_table("notices")
    op.drop_table("staff_users")
    op.drop_table("sign_in_requests")
    op.drop_table("sign_in_challenges")
    with op.batch_alter_table("parties") as batch:
        batch.drop_index("ix_parties_mobile_hash")
        batch.drop_column("mobile_hash")
