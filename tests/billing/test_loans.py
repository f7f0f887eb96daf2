"""Policy loans and the automatic premium loan: worked examples to the fen and the identity
balance = principal + accrued interest − repayments on every date (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baoxian.billing.loans import (
    LoanKind,
    LoanStatus,
    PolicyLoan,
    end_of_grace,
    max_loanable,
    policy_debt,
    renew_loan,
    repay,
    take_loan,
)
from baoxian.billing.schedule import (
    Frequency,
    InvoiceStatus,
    Payment,
    apply_payment,
    invoice_status,
    open_invoices,
    premium_schedule,
)
from baoxian.catalog.schema import BillingTerms, PolicyLoanTerms
from baoxian.shared.errors import InvalidTransition, ValidationFailed
from baoxian.shared.money import Money

RATE = Decimal("0.05")
TERMS = PolicyLoanTerms(max_ratio=Decimal("0.80"), annual_rate=RATE, term_months=6)
DRAWN = date(2026, 3, 1)


def ten_thousand() -> PolicyLoan:
    return take_loan(
        "L1", "P1", Money.of("10000"), DRAWN, Money.of("20000"), Money.ZERO, TERMS, True
    )


def test_interest_is_simple_by_the_day_act_365() -> None:
    loan = ten_thousand()
    assert (loan.kind, loan.due_on) == (LoanKind.POLICY, date(2026, 9, 1))
    # 10,000.00 × 5% × 183 / 365 = 250.684… → 250.68
    assert loan.accrued_interest(date(2026, 8, 31)) == Money.of("250.68")
    assert loan.balance(date(2026, 8, 31)) == Money.of("10250.68")
    assert loan.balance(DRAWN) == Money.of("10000.00")
    assert loan.balance(DRAWN - timedelta(days=1)) == Money.ZERO


def test_a_repayment_pays_interest_first_then_principal() -> None:
    # 92 days to 1 June: 10,000 × 5% × 92 / 365 = 126.027… → 126.03
    loan = repay(ten_thousand(), date(2026, 6, 1), Money.of("1000"), "R1")
    (repayment,) = loan.repayments
    assert (repayment.to_interest, repayment.to_principal) == (
        Money.of("126.03"),
        Money.of("873.97"),
    )
    # then 92 days on 9,126.03: × 5% × 92 / 365 = 115.013… → 115.01
    position = loan.position(date(2026, 9, 1))
    assert position.outstanding_principal == Money.of("9126.03")
    assert position.accrued_interest == Money.of("241.04")
    assert position.balance == Money.of("9241.04")
    assert position.balance == position.principal + position.accrued_interest - position.repaid


def test_repaying_in_full_closes_the_loan() -> None:
    loan = ten_thousand()
    on = date(2026, 8, 31)
    repaid = repay(loan, on, loan.balance(on), "R1")
    assert repaid.balance(on).is_zero() and repaid.balance(date(2027, 1, 1)).is_zero()
    assert repaid.status(on) is LoanStatus.REPAID and repaid.closed
    with pytest.raises(InvalidTransition) as error:
        repay(repaid, on, Money.of("1"), "R2")
    assert error.value.code == "billing.loan_closed"


def test_repayments_out_of_order_or_above_the_balance_are_refused() -> None:
    loan = repay(ten_thousand(), date(2026, 6, 1), Money.of("1000"), "R1")
    cases = [
        (date(2026, 5, 1), Money.of("1"), "billing.repayment_out_of_order"),
        (date(2026, 7, 1), Money.of("0"), "billing.repayment_not_positive"),
        (date(2026, 7, 1), Money.of("9200"), "billing.repayment_exceeds_balance"),
    ]
    for on, amount, code in cases:
        with pytest.raises(ValidationFailed) as error:
            repay(loan, on, amount, "R2")
        assert error.value.code == code


def test_the_limit_is_80_percent_of_the_cash_value_net_of_debt() -> None:
    assert max_loanable(Money.of("20000"), Money.of("2000"), Decimal("0.80")) == Money.of("14400")
    assert max_loanable(Money.of("0.03"), Money.ZERO, Decimal("0.80")) == Money.of("0.02")
    assert max_loanable(Money.of("1000"), Money.of("1500"), Decimal("0.80")) == Money.ZERO
    cash_value, debt = Money.of("20000"), Money.of("2000")
    with pytest.raises(ValidationFailed) as error:
        take_loan("L2", "P1", Money.of("14400.01"), DRAWN, cash_value, debt, TERMS, True)
    assert (error.value.code, error.value.details["limit"]) == (
        "billing.loan_exceeds_limit",
        "14400.00",
    )
    assert "80%" in error.value.zh and "80%" in error.value.en


def test_only_an_in_force_policy_of_a_product_with_loans_lends() -> None:
    cases: list[tuple[PolicyLoanTerms | None, bool, str]] = [
        (TERMS, False, "billing.loan_policy_not_in_force"),
        (None, True, "billing.loan_not_offered"),
    ]
    for terms, in_force, code in cases:
        with pytest.raises(InvalidTransition) as error:
            take_loan("L", "P1", Money.of("1"), DRAWN, Money.of("100"), Money.ZERO, terms, in_force)
        assert error.value.code == code


def test_an_unpaid_loan_is_overdue_after_its_due_date() -> None:
    loan = ten_thousand()
    assert loan.status(date(2026, 9, 1)) is LoanStatus.ACTIVE
    assert loan.status(date(2026, 9, 2)) is LoanStatus.OVERDUE
    # interest goes on accruing: 10,000 × 5% × 365 / 365
    assert loan.accrued_interest(date(2027, 3, 1)) == Money.of("500.00")


def test_renewal_capitalises_the_interest_for_another_term() -> None:
    loan = ten_thousand()
    # 184 days to 1 September: 10,000 × 5% × 184 / 365 = 252.054… → 252.05
    result = renew_loan(loan, "L2", Money.of("14000"), Money.ZERO, TERMS, True)
    assert result.refusal is None and result.renewed is not None
    renewed = result.renewed
    assert (renewed.principal, renewed.drawn_on, renewed.due_on) == (
        Money.of("10252.05"),
        date(2026, 9, 1),
        date(2027, 3, 1),
    )
    old = result.loan
    assert old.renewed_as == "L2" and old.status(date(2026, 9, 1)) is LoanStatus.RENEWED
    assert old.balance(date(2026, 12, 1)).is_zero()
    assert old.repayments[-1].by_renewal
    assert policy_debt([old, renewed], date(2026, 9, 1)) == Money.of("10252.05")
    with pytest.raises(InvalidTransition):
        renew_loan(old, "L3", Money.of("14000"), Money.ZERO, TERMS, True)
    late = repay(loan, date(2026, 9, 10), Money.of("100"), "R1")
    with pytest.raises(InvalidTransition) as error:
        renew_loan(late, "L3", Money.of("14000"), Money.ZERO, TERMS, True)
    assert error.value.code == "billing.renewal_after_due_date"


def test_renewal_fails_with_a_reason_above_the_limit_or_when_not_in_force() -> None:
    loan = ten_thousand()
    # limit 12,800 × 80% = 10,240.00 < 10,252.05
    above = renew_loan(loan, "L2", Money.of("12800"), Money.ZERO, TERMS, True)
    assert above.renewed is None and above.loan == loan
    assert above.refusal is not None and above.refusal.code == "billing.renewal_exceeds_limit"
    assert "¥10,252.05" in above.refusal.en and "¥10,240.00" in above.refusal.zh
    lapsed = renew_loan(loan, "L2", Money.of("50000"), Money.ZERO, TERMS, False)
    assert lapsed.refusal is not None
    assert lapsed.refusal.code == "billing.renewal_policy_not_in_force"
    assert loan.status(date(2026, 9, 2)) is LoanStatus.OVERDUE


moves = st.lists(
    st.tuples(st.integers(min_value=0, max_value=60), st.integers(min_value=1, max_value=10**6)),
    max_size=8,
)


@given(
    st.integers(min_value=1, max_value=10**8).map(Money.from_fen),
    st.integers(min_value=0, max_value=1200).map(lambda bp: Decimal(bp) / 10_000),
    moves,
    st.lists(st.integers(min_value=-5, max_value=700), min_size=1, max_size=10),
)
def test_balance_is_principal_plus_interest_minus_repayments_on_every_date(
    principal: Money, rate: Decimal, steps: list[tuple[int, int]], probes: list[int]
) -> None:
    loan = PolicyLoan("L", "P", LoanKind.POLICY, principal, rate, DRAWN, date(2026, 9, 1))
    on = DRAWN
    for gap, fen in steps:
        on += timedelta(days=gap)
        before = loan.position(on)
        try:
            loan = repay(loan, on, Money.from_fen(fen), "R")
        except (ValidationFailed, InvalidTransition):
            continue
        last = loan.repayments[-1]
        assert last.to_interest == min(last.amount, before.unpaid_interest)
    previous = Money.ZERO
    for day in sorted(probes):
        position = loan.position(DRAWN + timedelta(days=day))
        assert position.balance == position.principal + position.accrued_interest - position.repaid
        assert not position.unpaid_interest.is_negative()
        assert not position.outstanding_principal.is_negative()
        assert position.accrued_interest >= previous
        previous = position.accrued_interest


@given(
    st.integers(min_value=1, max_value=10**8).map(Money.from_fen),
    st.integers(min_value=0, max_value=10**9).map(Money.from_fen),
)
def test_a_renewal_carries_the_whole_balance(principal: Money, cash_value: Money) -> None:
    loan = PolicyLoan("L", "P", LoanKind.POLICY, principal, RATE, DRAWN, date(2026, 9, 1))
    result = renew_loan(loan, "L2", cash_value, Money.ZERO, TERMS, True)
    balance = loan.balance(loan.due_on)
    if result.renewed is None:
        assert balance > max_loanable(cash_value, Money.ZERO, TERMS.max_ratio)
        assert result.loan == loan
    else:
        assert result.renewed.principal == balance
        assert result.loan.balance(loan.due_on).is_zero()
        assert policy_debt([result.loan, result.renewed], loan.due_on) == balance


# --------------------------------------------------------------------------- 保单垫交

APL = BillingTerms(grace_days=60, policy_loan=TERMS, automatic_premium_loan=True)


def test_a_premium_unpaid_at_the_end_of_grace_is_lent_from_the_cash_value() -> None:
    (invoice,) = open_invoices(
        premium_schedule("P1", date(2026, 3, 1), Money.of("12000"), Frequency.ANNUAL)
    )
    outcome = end_of_grace(
        invoice, date(2026, 5, 1), APL, Money.of("15000"), Money.of("2000"), "APL1"
    )
    assert not outcome.lapsed and outcome.loan is not None
    loan = outcome.loan
    assert (loan.kind, loan.principal, loan.drawn_on, loan.due_on) == (
        LoanKind.PREMIUM,
        Money.of("12000"),
        date(2026, 4, 30),
        date(2026, 10, 30),
    )
    assert invoice_status(outcome.invoice, date(2026, 5, 1), 60) is InvoiceStatus.PAID
    (receipt,) = outcome.invoice.receipts
    assert (receipt.on, receipt.source, receipt.reference) == (
        date(2026, 4, 30),
        "premium_loan",
        "APL1",
    )


def test_without_enough_cash_value_the_policy_lapses_the_next_day() -> None:
    (invoice,) = open_invoices(
        premium_schedule("P1", date(2026, 3, 1), Money.of("12000"), Frequency.ANNUAL)
    )
    cases: list[tuple[BillingTerms, Money, bool, str]] = [
        (APL, Money.of("13999.99"), True, "billing.apl_insufficient_cash_value"),
        (BillingTerms(), Money.of("99999"), True, "billing.apl_not_offered"),
        (APL, Money.of("99999"), False, "billing.apl_declined"),
    ]
    for terms, cash_value, elected, code in cases:
        outcome = end_of_grace(
            invoice, date(2026, 5, 2), terms, cash_value, Money.of("2000"), "APL1", elected
        )
        assert outcome.lapsed and outcome.lapses_on == date(2026, 5, 1)
        assert outcome.refusal is not None and outcome.refusal.code == code
        assert outcome.invoice == invoice


def test_a_part_paid_premium_borrows_only_the_rest() -> None:
    (invoice,) = open_invoices(
        premium_schedule("P1", date(2026, 3, 1), Money.of("12000"), Frequency.ANNUAL)
    )
    (part,) = apply_payment([invoice], Payment(date(2026, 4, 1), Money.of("11000"), "R1"))
    outcome = end_of_grace(part, date(2026, 5, 1), APL, Money.of("1000"), Money.ZERO, "APL1")
    assert outcome.loan is not None and outcome.loan.principal == Money.of("1000")
    assert outcome.invoice.outstanding.is_zero()


def test_the_grace_period_must_be_over() -> None:
    (invoice,) = open_invoices(
        premium_schedule("P1", date(2026, 3, 1), Money.of("12000"), Frequency.ANNUAL)
    )
    with pytest.raises(InvalidTransition) as error:
        end_of_grace(invoice, date(2026, 4, 30), APL, Money.of("99999"), Money.ZERO, "APL1")
    assert error.value.code == "billing.grace_not_over"
