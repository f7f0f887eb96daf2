"""Billing ledgers: premium instalments, policy loans and automatic premium loans, benefit
pay-outs, dividend allocations, account statements, and the claim reminders of the 医保
settlement import.  The daily scan's indexes lead with the date it ranges over and carry the
columns it reads (partial ones for unpaid instalments and collectable pay-outs).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNPAID = "status IN ('due', 'in_grace')"
COLLECTABLE = "status = 'collectable'"


def _fen(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "billing_instalments",
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        _fen("amount_fen"),
        _fen("paid_fen"),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_by", sa.String(16), nullable=True),
        sa.Column("grace_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.CheckConstraint(
            "paid_by IN ('customer', 'auto_loan')", name=op.f("ck_billing_instalments_paid_by")
        ),
        sa.CheckConstraint(
            "status IN ('due', 'paid', 'in_grace', 'lapsed', 'waived')",
            name=op.f("ck_billing_instalments_status"),
        ),
        sa.PrimaryKeyConstraint("policy_number", "seq", name=op.f("pk_billing_instalments")),
    )
    op.create_index(
        "ix_billing_instalments_due_on_unpaid",
        "billing_instalments",
        ["due_on", "policy_number", "seq", "amount_fen", "paid_fen", "grace_until", "status"],
        sqlite_where=sa.text(UNPAID),
        postgresql_where=sa.text(UNPAID),
    )
    op.create_table(
        "policy_loans",
        sa.Column("loan_id", sa.String(36), nullable=False),
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        _fen("principal_fen"),
        sa.Column("annual_rate_bp", sa.Integer(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        _fen("repaid_fen"),
        _fen("interest_paid_fen"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("renewal_failed_on", sa.Date(), nullable=True),
        sa.Column("renewal_failure_code", sa.String(64), nullable=True),
        sa.CheckConstraint(
            "kind IN ('policy_loan', 'auto_premium_loan')", name=op.f("ck_policy_loans_kind")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'overdue', 'repaid', 'renewed')",
            name=op.f("ck_policy_loans_status"),
        ),
        sa.PrimaryKeyConstraint("loan_id", name=op.f("pk_policy_loans")),
    )
    op.create_index(op.f("ix_policy_loans_policy_number"), "policy_loans", ["policy_number"])
    op.create_index(op.f("ix_policy_loans_due_on"), "policy_loans", ["due_on"])
    op.create_table(
        "benefit_payouts",
        sa.Column("payout_id", sa.String(64), nullable=False),
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        _fen("amount_fen"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("collected_on", sa.Date(), nullable=True),
        sa.CheckConstraint("kind IN ('annuity', 'survival')", name=op.f("ck_benefit_payouts_kind")),
        sa.CheckConstraint(
            "status IN ('collectable', 'collected')", name=op.f("ck_benefit_payouts_status")
        ),
        sa.PrimaryKeyConstraint("payout_id", name=op.f("pk_benefit_payouts")),
    )
    op.create_index(
        "ix_benefit_payouts_due_on_collectable",
        "benefit_payouts",
        ["due_on", "policy_number", "payout_id", "kind", "amount_fen", "status"],
        sqlite_where=sa.text(COLLECTABLE),
        postgresql_where=sa.text(COLLECTABLE),
    )
    op.create_table(
        "dividend_allocations",
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("policy_year", sa.Integer(), nullable=False),
        _fen("amount_fen"),
        sa.Column("option", sa.String(16), nullable=False),
        sa.Column("allocated_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "option IN ('cash', 'accumulate')", name=op.f("ck_dividend_allocations_option")
        ),
        sa.PrimaryKeyConstraint(
            "policy_number", "policy_year", name=op.f("pk_dividend_allocations")
        ),
    )
    op.create_index(
        "ix_dividend_allocations_allocated_on",
        "dividend_allocations",
        ["allocated_on", "policy_number", "policy_year", "amount_fen", "option"],
    )
    op.create_table(
        "account_statements",
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("statement_year", sa.Integer(), nullable=False),
        sa.Column("ready_on", sa.Date(), nullable=False),
        _fen("opening_fen"),
        _fen("closing_fen"),
        sa.PrimaryKeyConstraint(
            "policy_number", "statement_year", name=op.f("pk_account_statements")
        ),
    )
    op.create_index(
        "ix_account_statements_ready_on",
        "account_statements",
        ["ready_on", "policy_number", "statement_year", "opening_fen", "closing_fen"],
    )
    op.create_table(
        "claim_reminders",
        sa.Column("reminder_id", sa.String(36), nullable=False),
        sa.Column("settlement_no", sa.String(32), nullable=False),
        sa.Column("party_id", sa.String(36), nullable=False),
        sa.Column("policy_number", sa.String(32), nullable=False),
        sa.Column("insured_key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("loss_date", sa.Date(), nullable=False),
        _fen("amount_fen"),
        sa.Column("source_file", sa.String(200), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('inpatient', 'pharmacy', 'outpatient')",
            name=op.f("ck_claim_reminders_kind"),
        ),
        sa.PrimaryKeyConstraint("reminder_id", name=op.f("pk_claim_reminders")),
        sa.UniqueConstraint("settlement_no", name=op.f("uq_claim_reminders_settlement_no")),
    )
    op.create_index(op.f("ix_claim_reminders_created_on"), "claim_reminders", ["created_on"])


def downgrade() -> None:
    op.drop_index(op.f("ix_claim_reminders_created_on"), table_name="claim_reminders")
    op.drop_table("claim_reminders")
    op.drop_index("ix_account_statements_ready_on", table_name="account_statements")
    op.drop_table("account_statements")
    op.drop_index("ix_dividend_allocations_allocated_on", table_name="dividend_allocations")
    op.drop_table("dividend_allocations")
    op.drop_index("ix_benefit_payouts_due_on_collectable", table_name="benefit_payouts")
    op.drop_table("benefit_payouts")
    op.drop_index(op.f("ix_policy_loans_due_on"), table_name="policy_loans")
    op.drop_index(op.f("ix_policy_loans_policy_number"), table_name="policy_loans")
    op.drop_table("policy_loans")
    op.drop_index("ix_billing_instalments_due_on_unpaid", table_name="billing_instalments")
    op.drop_table("billing_instalments")
