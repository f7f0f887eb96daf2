"""Premium schedules, invoices, grace, lapse and reinstatement: worked examples to the fen and
the identities (instalments sum to the premium; due = paid + outstanding on every date)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baoxian.billing.schedule import (
    Frequency,
    InvoiceStatus,
    Payment,
    apply_payment,
    billing_terms,
    first_overdue,
    frequency_of,
    grace_end,
    invoice_status,
    lapse_date,
    open_invoices,
    premium_position,
    premium_schedule,
    reinstatement_quote,
    schedule_for_policy,
    split_premium,
)
from baoxian.catalog.schema import BillingTerms, Reinstatement
from baoxian.catalog.services import Catalog
from baoxian.policies.model import Policy, PolicyStatus
from baoxian.shared.clock import add_months
from baoxian.shared.errors import DomainError, InvalidTransition, ValidationFailed
from baoxian.shared.money import Money, total

money = st.integers(min_value=0, max_value=10**11).map(Money.from_fen)
frequencies = st.sampled_from(list(Frequency))
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


# --------------------------------------------------------------------------- schedule


def test_monthly_split_puts_the_odd_fen_on_the_first_instalment() -> None:
    # 1,000.00 / 12 = 83.333…: eleven of 83.33 and the first 1,000.00 − 11 × 83.33 = 83.37
    parts = split_premium(Money.of("1000.00"), Frequency.MONTHLY)
    assert parts == (Money.of("83.37"), *[Money.of("83.33")] * 11)
    assert split_premium(Money.of("12000"), Frequency.QUARTERLY) == (Money.of("3000.00"),) * 4
    assert split_premium(Money.of("100.01"), Frequency.SEMI_ANNUAL) == (
        Money.of("50.01"),
        Money.of("50.00"),
    )
    assert split_premium(Money.ZERO, Frequency.MONTHLY) == (Money.ZERO,) * 12


def test_a_negative_premium_cannot_be_split() -> None:
    with pytest.raises(ValidationFailed) as error:
        split_premium(Money.of("-1"), Frequency.ANNUAL)
    assert error.value.code == "billing.premium_negative"


@given(money, frequencies)
def test_instalments_sum_exactly_to_the_annual_premium(annual: Money, frequency: Frequency) -> None:
    parts = split_premium(annual, frequency)
    assert len(parts) == frequency.per_year
    assert total(list(parts)) == annual
    assert all(p == parts[1] for p in parts[1:])
    assert parts[0] >= parts[-1]
    assert parts[0].fen - parts[-1].fen < frequency.per_year


def test_due_dates_keep_the_day_of_month_and_fall_back_to_the_month_end() -> None:
    schedule = premium_schedule("P1", date(2026, 1, 31), Money.of("1200"), Frequency.MONTHLY)
    assert [i.due_on.isoformat() for i in schedule] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
        "2026-05-31",
        "2026-06-30",
        "2026-07-31",
        "2026-08-31",
        "2026-09-30",
        "2026-10-31",
        "2026-11-30",
        "2026-12-31",
    ]
    leap = premium_schedule("P1", date(2027, 8, 31), Money.of("1000"), Frequency.SEMI_ANNUAL, 2)
    assert [i.due_on.isoformat() for i in leap] == [
        "2027-08-31",
        "2028-02-29",
        "2028-08-31",
        "2029-02-28",
    ]
    assert [(i.number, i.policy_year) for i in leap] == [(1, 1), (2, 1), (3, 2), (4, 2)]
    assert leap[0].key == "P1:premium:2027-08-31"


@given(starts, money, frequencies, st.integers(min_value=1, max_value=5))
def test_every_policy_year_of_a_schedule_sums_to_the_annual_premium(
    start: date, annual: Money, frequency: Frequency, years: int
) -> None:
    schedule = premium_schedule("P1", start, annual, frequency, years)
    assert len(schedule) == years * frequency.per_year
    for year in range(1, years + 1):
        assert total([i.amount for i in schedule if i.policy_year == year]) == annual
    dates = [i.due_on for i in schedule]
    assert dates == sorted(set(dates))
    for year in range(years):
        assert schedule[year * frequency.per_year].due_on == add_months(start, 12 * year)


def test_the_payment_term_must_be_one_the_product_offers() -> None:
    terms = BillingTerms(payment_years=[1, 10])
    assert len(premium_schedule("P", date(2026, 3, 1), Money.of("1"), Frequency.ANNUAL, 10, terms))
    with pytest.raises(ValidationFailed) as error:
        premium_schedule("P", date(2026, 3, 1), Money.of("1"), Frequency.ANNUAL, 5, terms)
    assert error.value.code == "billing.payment_years_not_offered"


def test_the_schedule_of_a_policy_uses_its_charged_premium_and_instalment_option(
    catalog: Catalog,
) -> None:
    plan = catalog.plan("LTM-15", "2026").plan
    assert frequency_of(plan, "monthly") is Frequency.MONTHLY
    policy = _policy(charged=Money.of("1038.96"), instalment="monthly")
    schedule = schedule_for_policy(policy, plan)
    assert [i.amount for i in schedule] == [Money.of("86.58")] * 12
    assert schedule[-1].due_on == date(2027, 2, 1)
    with pytest.raises(ValidationFailed) as error:
        frequency_of(plan, "weekly")
    assert error.value.code == "billing.unknown_instalment"


def test_products_without_a_billing_section_get_the_default_terms(catalog: Catalog) -> None:
    terms = billing_terms(catalog.plan("BJ-HMB", "2026").plan)
    assert (terms.grace_days, terms.payment_years, terms.policy_loan) == (60, [1], None)
    pension = billing_terms(catalog.plan("PENSION-ANN", "2026").plan)
    assert pension.grace_days == 60 and pension.automatic_premium_loan


# --------------------------------------------------------------------------- invoices


def test_an_invoice_moves_from_upcoming_to_due_to_grace_to_overdue() -> None:
    (invoice,) = open_invoices(
        premium_schedule("P1", date(2026, 3, 1), Money.of("12000"), Frequency.ANNUAL)
    )
    # grace: 2 March to 30 April (60 days); lapse from 1 May
    assert grace_end(invoice.due_on, 60) == date(2026, 4, 30)
    assert lapse_date(invoice.due_on, 60) == date(2026, 5, 1)
    statuses = {
        day: invoice_status(invoice, date.fromisoformat(day), 60)
        for day in ("2026-02-28", "2026-03-01", "2026-03-02", "2026-04-30", "2026-05-01")
    }
    assert statuses == {
        "2026-02-28": InvoiceStatus.UPCOMING,
        "2026-03-01": InvoiceStatus.DUE,
        "2026-03-02": InvoiceStatus.IN_GRACE,
        "2026-04-30": InvoiceStatus.IN_GRACE,
        "2026-05-01": InvoiceStatus.OVERDUE,
    }
    assert first_overdue([invoice], date(2026, 5, 1), 60) == invoice
    paid = apply_payment([invoice], Payment(date(2026, 4, 30), Money.of("12000"), "R1"))
    assert invoice_status(paid[0], date(2026, 5, 1), 60) is InvoiceStatus.PAID
    assert invoice_status(paid[0], date(2026, 4, 29), 60) is InvoiceStatus.IN_GRACE
    assert first_overdue(paid, date(2026, 5, 1), 60) is None


def test_a_payment_goes_to_the_earliest_invoice_first_and_may_be_partial() -> None:
    invoices = open_invoices(
        premium_schedule("P1", date(2026, 1, 1), Money.of("1200"), Frequency.MONTHLY)
    )
    after = apply_payment(invoices, Payment(date(2026, 2, 10), Money.of("150.00"), "R1"))
    assert [i.paid for i in after[:3]] == [Money.of("100"), Money.of("50"), Money.ZERO]
    assert after[1].outstanding == Money.of("50.00")
    position = premium_position(after, date(2026, 2, 10))
    assert (position.due, position.paid, position.outstanding) == (
        Money.of("200.00"),
        Money.of("150.00"),
        Money.of("50.00"),
    )


def test_paying_more_than_is_outstanding_or_nothing_is_refused() -> None:
    invoices = open_invoices(
        premium_schedule("P1", date(2026, 1, 1), Money.of("100"), Frequency.ANNUAL)
    )
    for amount, code in (("100.01", "billing.overpayment"), ("0", "billing.payment_not_positive")):
        with pytest.raises(ValidationFailed) as error:
            apply_payment(invoices, Payment(date(2026, 1, 1), Money.of(amount), "R"))
        assert error.value.code == code
        assert error.value.zh and error.value.en


payments = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=400),  # days after the start
        st.integers(min_value=1, max_value=400_000),  # fen
    ),
    max_size=12,
)


@given(starts, money, frequencies, payments, st.integers(min_value=-30, max_value=800))
def test_premiums_due_equal_paid_plus_outstanding_for_any_payments(
    start: date,
    annual: Money,
    frequency: Frequency,
    received: list[tuple[int, int]],
    probe: int,
) -> None:
    invoices = open_invoices(premium_schedule("P1", start, annual, frequency, years=2))
    for n, (day, fen) in enumerate(sorted(received)):
        try:
            invoices = apply_payment(
                invoices, Payment(start + timedelta(days=day), Money.from_fen(fen), f"R{n}")
            )
        except ValidationFailed as error:
            assert error.code in {"billing.overpayment", "billing.payment_not_positive"}
    for invoice in invoices:
        assert invoice.amount == invoice.paid + invoice.outstanding
        assert not invoice.outstanding.is_negative()
    on = start + timedelta(days=probe)
    position = premium_position(invoices, on)
    assert position.due == position.paid + position.outstanding
    assert not position.outstanding.is_negative()
    billed = total([i.amount for i in invoices])
    assert billed == total([i.paid for i in invoices]) + total([i.outstanding for i in invoices])


# --------------------------------------------------------------------------- reinstatement


def test_reinstatement_charges_the_arrears_with_simple_interest_from_each_due_date() -> None:
    invoices = open_invoices(
        premium_schedule("P1", date(2026, 3, 1), Money.of("12000"), Frequency.SEMI_ANNUAL)
    )
    invoices = apply_payment(invoices, Payment(date(2026, 3, 1), Money.of("6000"), "R1"))
    lapsed_on = lapse_date(date(2026, 9, 1), 60)  # grace to 31 October, lapsed from 1 November
    assert lapsed_on == date(2026, 11, 1)
    quote = reinstatement_quote(
        invoices, lapsed_on, date(2027, 3, 1), Reinstatement(years=2, arrears_rate=Decimal("0.05"))
    )
    # 6,000 due 2026-09-01, 181 days: 6,000 × 5% × 181 / 365 = 148.767… → 148.77
    assert [(line.due_on, line.days, line.interest) for line in quote.lines] == [
        (date(2026, 9, 1), 181, Money.of("148.77"))
    ]
    assert (quote.arrears, quote.interest, quote.total) == (
        Money.of("6000.00"),
        Money.of("148.77"),
        Money.of("6148.77"),
    )


def test_reinstatement_is_refused_after_two_years_or_before_the_lapse() -> None:
    terms = Reinstatement(years=2, arrears_rate=Decimal("0.05"))
    invoices = open_invoices(
        premium_schedule("P1", date(2026, 3, 1), Money.of("100"), Frequency.ANNUAL)
    )
    lapsed_on = date(2026, 5, 1)
    last_day = reinstatement_quote(invoices, lapsed_on, date(2028, 4, 30), terms)
    assert last_day.arrears == Money.of("100")
    cases: list[tuple[date, Reinstatement | None, str]] = [
        (date(2028, 5, 1), terms, "billing.reinstatement_period_over"),
        (date(2026, 4, 30), terms, "billing.reinstatement_before_lapse"),
        (date(2026, 6, 1), None, "billing.reinstatement_not_offered"),
    ]
    for on, given_terms, code in cases:
        with pytest.raises(InvalidTransition) as error:
            reinstatement_quote(invoices, lapsed_on, on, given_terms)
        assert error.value.code == code
        assert isinstance(error.value, DomainError) and error.value.message()


def _policy(charged: Money, instalment: str) -> Policy:
    start = date(2026, 3, 1)
    return Policy(
        policy_number="LTM15202600000001",
        product_code="LTM-15",
        plan_version="2026",
        holder_id="h",
        status=PolicyStatus.IN_FORCE,
        original_inception=start,
        term_no=1,
        term_start=start,
        term_end=add_months(start, 12),
        instalment=instalment,
        units=(),
        cover=(),
        riders=frozenset(),
        optional_coverages=frozenset(),
        selections={},
        annual_premium=Money.of("999.00"),
        premium_charged=charged,
        contact_mobile="13800138000",
        contact_address="",
    )
