"""The ledger's codes against the domain's enums and the tables' CHECK constraints (mapped in
one place, ``billing/ledgers.py``), and the pure helpers of the ledger service: the account
rebuilt from the ledger, policy years, premium loan IDs."""

from __future__ import annotations

import doctest
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import CheckConstraint, Table

import baoxian.billing.ledgers
from baoxian.billing.ledger_service import (
    AccountFacts,
    account_from_ledger,
    policy_year_on,
    premium_loan_id,
)
from baoxian.billing.ledger_tables import (
    UNPAID_STATUSES,
    benefit_payouts,
    billing_instalments,
    policy_loans,
)
from baoxian.billing.ledgers import (
    INSTALMENT_STATUS_CODES,
    INSTALMENT_STATUSES,
    LAPSED,
    LOAN_KIND_CODES,
    LOAN_STATUS_CODES,
    PAID_BY_CODES,
    PAYOUT_KIND_CODES,
    PAYOUT_STATUSES,
    WAIVED,
    instalment_status_code,
    rate_bp,
    rate_of,
    stored_instalment,
)
from baoxian.billing.loans import LoanKind, LoanStatus
from baoxian.billing.payables import PayoutKind
from baoxian.billing.schedule import (
    Frequency,
    InvoiceStatus,
    Payment,
    apply_payment,
    invoice_status,
    open_invoices,
    premium_schedule,
)
from baoxian.catalog.schema import AccountTerms
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money


def allowed(table: Table, name: str) -> set[str]:
    """The values a CHECK constraint ``name IN (…)`` of the table allows."""
    (check,) = [
        c
        for c in table.constraints
        if isinstance(c, CheckConstraint) and str(c.sqltext).startswith(f"{name} IN")
    ]
    return set(re.findall(r"'([a-z_]+)'", str(check.sqltext)))


def test_instalment_statuses_are_the_check_constraints() -> None:
    assert set(INSTALMENT_STATUSES) == allowed(billing_instalments, "status")
    assert set(INSTALMENT_STATUS_CODES.values()) | {LAPSED, WAIVED} == set(INSTALMENT_STATUSES)
    assert set(UNPAID_STATUSES) < set(INSTALMENT_STATUS_CODES.values())
    assert set(PAID_BY_CODES.values()) == allowed(billing_instalments, "paid_by")


def test_every_invoice_state_but_overdue_has_a_stored_status() -> None:
    assert {
        s: instalment_status_code(s) for s in InvoiceStatus if s is not InvoiceStatus.OVERDUE
    } == {
        InvoiceStatus.UPCOMING: "due",
        InvoiceStatus.DUE: "due",
        InvoiceStatus.IN_GRACE: "in_grace",
        InvoiceStatus.PAID: "paid",
    }
    with pytest.raises(ValidationFailed) as error:
        instalment_status_code(InvoiceStatus.OVERDUE)
    assert error.value.code == "billing.overdue_not_stored"


def test_loan_kinds_and_statuses_are_the_check_constraints() -> None:
    assert set(LOAN_KIND_CODES) == set(LoanKind)
    assert set(LOAN_KIND_CODES.values()) == allowed(policy_loans, "kind")
    assert set(LOAN_STATUS_CODES) == set(LoanStatus)
    assert set(LOAN_STATUS_CODES.values()) == allowed(policy_loans, "status")
    assert LOAN_STATUS_CODES[LoanStatus.ACTIVE] == "open"


def test_payout_kinds_are_the_check_constraint_and_a_dividend_is_not_one() -> None:
    assert set(PAYOUT_KIND_CODES.values()) == allowed(benefit_payouts, "kind")
    assert PayoutKind.DIVIDEND not in PAYOUT_KIND_CODES
    assert set(PAYOUT_STATUSES) == allowed(benefit_payouts, "status")


def test_rates_are_whole_basis_points() -> None:
    assert [rate_bp(Decimal(r)) for r in ("0.05", "0.0525", "0")] == [500, 525, 0]
    assert rate_of(525) == Decimal("0.0525") and rate_of(rate_bp(Decimal("0.05"))) == Decimal(
        "0.05"
    )
    with pytest.raises(ValidationFailed) as error:
        rate_bp(Decimal("0.05123"))
    assert error.value.code == "billing.rate_not_whole_basis_points"


def test_a_stored_instalment_gives_back_its_invoice() -> None:
    (first, second, *_) = open_invoices(
        premium_schedule("P1", date(2026, 3, 1), Money.of("1200"), Frequency.MONTHLY)
    )
    (paid, part) = apply_payment([first, second], Payment(date(2026, 3, 1), Money.of("150"), "R"))
    row = stored_instalment(paid, date(2026, 4, 30))
    assert (row.status, row.paid_by, row.paid_on) == ("paid", "customer", date(2026, 3, 1))
    again = row.invoice(per_year=12)
    assert (again.paid, again.outstanding) == (Money.of("100.00"), Money.ZERO)
    assert again.instalment == first.instalment

    unpaid = stored_instalment(part, date(2026, 5, 31))
    assert (unpaid.status, unpaid.paid, unpaid.outstanding) == (
        "due",
        Money.of("50.00"),
        Money.of("50.00"),
    )
    for day, state in (
        (date(2026, 3, 31), InvoiceStatus.UPCOMING),
        (date(2026, 4, 1), InvoiceStatus.DUE),
        (date(2026, 5, 31), InvoiceStatus.IN_GRACE),
        (date(2026, 6, 1), InvoiceStatus.OVERDUE),
    ):
        assert invoice_status(unpaid.invoice(12), day, 60) is state


def test_the_account_is_rebuilt_month_by_month_at_the_declared_rate() -> None:
    terms = AccountTerms(guaranteed_rate=Decimal("0.02"), initial_charge=Decimal("0.01"))
    facts = AccountFacts(premiums=((date(2026, 3, 1), Money.of("12000"), "R1"),))
    rates = {date(2026, 3, 1): Decimal("0.045")}

    def rate(month: date) -> Decimal:
        return rates.get(month, Decimal("0.02"))

    march = account_from_ledger("P1", date(2026, 3, 1), facts, date(2026, 3, 31), terms, rate)
    # 11,880.00 for 31 days: 2 % guaranteed 20.18, 2.5 % excess 25.22 (as account.py's example)
    assert [(e.kind.value, e.amount) for e in march.entries[2:]] == [
        ("guaranteed_interest", Money.of("20.18")),
        ("excess_interest", Money.of("25.22")),
    ]
    mid_april = account_from_ledger("P1", date(2026, 3, 1), facts, date(2026, 4, 15), terms, rate)
    assert mid_april.value() == Money.of("11925.40")  # April's interest is not credited yet
    dividend = AccountFacts(facts.premiums, ((date(2026, 4, 10), Money.of("100")),))
    with_dividend = account_from_ledger(
        "P1", date(2026, 3, 1), dividend, date(2026, 4, 15), terms, rate
    )
    assert with_dividend.value() == Money.of("12025.40")


def test_policy_years_count_from_the_inception() -> None:
    start = date(2026, 3, 1)
    assert [policy_year_on(start, d) for d in (start, date(2027, 2, 28), date(2027, 3, 1))] == [
        1,
        1,
        2,
    ]
    assert policy_year_on(start, date(2046, 3, 1)) == 21
    leap = date(2024, 2, 29)
    assert [policy_year_on(leap, d) for d in (date(2025, 2, 27), date(2025, 2, 28))] == [1, 2]


def test_premium_loan_ids_are_derived_from_the_instalment() -> None:
    assert premium_loan_id("PENSIONANN202600000001", 4) == "APL-PENSIONANN202600000001-4"
    long = premium_loan_id("X" * 32, 4)
    assert len(long) == 36 and long == premium_loan_id("X" * 32, 4) != premium_loan_id("X" * 32, 5)


def test_the_ledgers_examples_run() -> None:
    result = doctest.testmod(baoxian.billing.ledgers)
    assert result.failed == 0 and result.attempted > 0
