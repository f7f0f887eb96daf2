"""The billing ledgers (收付费台账): what the pure billing domain produces, kept narrow enough
for tens of millions of policies — premium instalments, policy loans and automatic premium
loans, benefit pay-outs, dividends, account statements — and the claim reminders that the
医保 settlement import writes.

Money is whole fen in BIGINT columns; dates are ``Date``; no foreign keys (these tables are
loaded and scanned in bulk; the policy number is the link to the policies context).

The indexes serve the book-wide daily scan of proactive service (``outreach/scan.py``): each
reads only the rows that can make a notice on the run date, from the index alone.  Unpaid
instalments have a partial index on their due date, and collectable pay-outs on theirs, so
the scan never walks the paid history.

Migration 0014 adds the repayments of each policy loan; ``billing/ledgers.py`` writes all of
these from real policies (``billing/ledger_service.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)

from baoxian.store.tables import metadata

UNPAID_STATUSES = ("due", "in_grace")
"""Instalment statuses that still owe money (the partial index and the scan use them)."""
UNPAID_CONDITION = "status IN ('due', 'in_grace')"
COLLECTABLE_CONDITION = "status = 'collectable'"

# The scan's indexes lead with the date it ranges over and carry every column it reads, so
# the daily scan reads them alone (no row look-ups: on a cold cache a random look-up per
# candidate row would dominate the run).
INSTALMENT_SCAN_COLUMNS = (
    "due_on",
    "policy_number",
    "seq",
    "amount_fen",
    "paid_fen",
    "grace_until",
    "status",
)
PAYOUT_SCAN_COLUMNS = ("due_on", "policy_number", "payout_id", "kind", "amount_fen", "status")
DIVIDEND_SCAN_COLUMNS = ("allocated_on", "policy_number", "policy_year", "amount_fen", "option")
STATEMENT_SCAN_COLUMNS = (
    "ready_on",
    "policy_number",
    "statement_year",
    "opening_fen",
    "closing_fen",
)

billing_instalments = Table(
    "billing_instalments",
    metadata,
    Column("policy_number", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),  # the instalment's number from 1 (期次)
    Column("due_on", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("paid_fen", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=True),
    Column("paid_by", String(16), nullable=True),
    Column("grace_until", Date, nullable=False),  # the last day of grace (24:00)
    Column("status", String(16), nullable=False),
    CheckConstraint("paid_by IN ('customer', 'auto_loan')", name="paid_by"),
    CheckConstraint("status IN ('due', 'paid', 'in_grace', 'lapsed', 'waived')", name="status"),
)
Index(
    "ix_billing_instalments_due_on_unpaid",
    *[billing_instalments.c[name] for name in INSTALMENT_SCAN_COLUMNS],
    sqlite_where=text(UNPAID_CONDITION),
    postgresql_where=text(UNPAID_CONDITION),
)

policy_loans = Table(
    "policy_loans",
    metadata,
    Column("loan_id", String(36), primary_key=True),
    Column("policy_number", String(32), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("principal_fen", BigInteger, nullable=False),
    Column("annual_rate_bp", Integer, nullable=False),  # basis points: 500 = 5.00 % a year
    Column("start_on", Date, nullable=False),
    Column("due_on", Date, nullable=False, index=True),
    Column("repaid_fen", BigInteger, nullable=False),  # principal repaid
    Column("interest_paid_fen", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("renewal_failed_on", Date, nullable=True),
    Column("renewal_failure_code", String(64), nullable=True),  # e.g. billing.renewal_…
    CheckConstraint("kind IN ('policy_loan', 'auto_premium_loan')", name="kind"),
    CheckConstraint("status IN ('open', 'overdue', 'repaid', 'renewed')", name="status"),
)

benefit_payouts = Table(
    "benefit_payouts",
    metadata,
    Column("payout_id", String(64), primary_key=True),  # the payable's key policy:kind:date
    Column("policy_number", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("collected_on", Date, nullable=True),
    CheckConstraint("kind IN ('annuity', 'survival')", name="kind"),
    CheckConstraint("status IN ('collectable', 'collected')", name="status"),
)
Index(
    "ix_benefit_payouts_due_on_collectable",
    *[benefit_payouts.c[name] for name in PAYOUT_SCAN_COLUMNS],
    sqlite_where=text(COLLECTABLE_CONDITION),
    postgresql_where=text(COLLECTABLE_CONDITION),
)

dividend_allocations = Table(
    "dividend_allocations",
    metadata,
    Column("policy_number", String(32), primary_key=True),
    Column("policy_year", Integer, primary_key=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("option", String(16), nullable=False),
    Column("allocated_on", Date, nullable=False),
    CheckConstraint("option IN ('cash', 'accumulate')", name="option"),
)
Index(
    "ix_dividend_allocations_allocated_on",
    *[dividend_allocations.c[name] for name in DIVIDEND_SCAN_COLUMNS],
)

account_statements = Table(
    "account_statements",
    metadata,
    Column("policy_number", String(32), primary_key=True),
    Column("statement_year", Integer, primary_key=True),  # the policy year reported on
    Column("ready_on", Date, nullable=False),
    Column("opening_fen", BigInteger, nullable=False),
    Column("closing_fen", BigInteger, nullable=False),
)
Index(
    "ix_account_statements_ready_on",
    *[account_statements.c[name] for name in STATEMENT_SCAN_COLUMNS],
)

# The repayments of a policy loan, in order (migration 0014): the loan's interest runs on the
# principal outstanding between two repayments, so the ledger keeps each one, not only the
# totals above.  ``reference`` is the repayment's idempotency key (a retried repayment finds
# its row); ``by_renewal`` marks the balance carried into a renewed loan (the reference is the
# new loan's ID).
policy_loan_repayments = Table(
    "policy_loan_repayments",
    metadata,
    Column("loan_id", String(36), primary_key=True),
    Column("seq", Integer, primary_key=True),  # from 1, in date order
    Column("paid_on", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("to_interest_fen", BigInteger, nullable=False),
    Column("to_principal_fen", BigInteger, nullable=False),
    Column("reference", String(64), nullable=False),
    Column("by_renewal", Boolean, nullable=False),
    UniqueConstraint("loan_id", "reference"),
)

# 主动提醒 from 医保 settlement data (``claims/settlement.py``): a member who has not
# authorised settlement, whose settled bill the policy would pay.  One row per settlement
# number, so importing a file twice reminds nobody twice.
claim_reminders = Table(
    "claim_reminders",
    metadata,
    Column("reminder_id", String(36), primary_key=True),
    Column("settlement_no", String(32), nullable=False),
    Column("party_id", String(36), nullable=False),  # the insured member
    Column("policy_number", String(32), nullable=False),
    Column("insured_key", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("loss_date", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),  # the estimated payable
    Column("source_file", String(200), nullable=False),
    Column("created_on", Date, nullable=False, index=True),
    CheckConstraint("kind IN ('inpatient', 'pharmacy', 'outpatient')", name="kind"),
    UniqueConstraint("settlement_no"),
)

__all__ = [
    "COLLECTABLE_CONDITION",
    "DIVIDEND_SCAN_COLUMNS",
    "INSTALMENT_SCAN_COLUMNS",
    "PAYOUT_SCAN_COLUMNS",
    "STATEMENT_SCAN_COLUMNS",
    "UNPAID_CONDITION",
    "UNPAID_STATUSES",
    "account_statements",
    "benefit_payouts",
    "billing_instalments",
    "claim_reminders",
    "dividend_allocations",
    "policy_loan_repayments",
    "policy_loans",
]
