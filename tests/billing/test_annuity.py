"""The pay-out phase: the pension bought with the account at the product's conversion rates,
its payments with their deduplication keys, survival benefits — and pay-outs never start before
the start age (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baoxian.billing.account import Account, EntryKind, credit_premium, open_account
from baoxian.billing.annuity import (
    AnnuityPlan,
    PayoutFrequency,
    annuity_payouts,
    attained_age_date,
    pension_start_date,
    start_annuity,
    survival_benefits,
)
from baoxian.billing.payables import PayoutKind
from baoxian.catalog.model import age_on
from baoxian.catalog.schema import AccountTerms, AnnuityTerms, SurvivalBenefit, Text
from baoxian.catalog.services import Catalog
from baoxian.shared.errors import InvalidTransition, ValidationFailed
from baoxian.shared.money import Money

GUARANTEED = Decimal("0.02")


@pytest.fixture(scope="module")
def terms(catalog: Catalog) -> tuple[AnnuityTerms, AccountTerms]:
    plan = catalog.plan("PENSION-ANN", "2026").plan
    assert plan.annuity is not None and plan.account is not None
    return plan.annuity, plan.account


def account_of(value: str, on: date, terms: AccountTerms) -> Account:
    return credit_premium(open_account("P1", on), on, Money.of(value), terms, "R1")


def test_the_pension_starts_on_the_first_anniversary_at_or_after_the_start_age() -> None:
    assert pension_start_date(date(1970, 5, 20), date(2026, 3, 1), 60) == date(2031, 3, 1)
    assert pension_start_date(date(1970, 3, 1), date(2026, 3, 1), 60) == date(2030, 3, 1)
    assert pension_start_date(date(1970, 3, 2), date(2026, 3, 1), 60) == date(2031, 3, 1)
    # born on 29 February: 61 on 1 March 2025, so the anniversary of 28 February 2025 is early
    assert attained_age_date(date(1964, 2, 29), 61) == date(2025, 3, 1)
    assert pension_start_date(date(1964, 2, 29), date(2010, 2, 28), 61) == date(2026, 2, 28)
    assert age_on(date(1964, 2, 29), date(2026, 2, 28)) == 61


def test_the_account_buys_a_monthly_pension_at_the_products_conversion_rate(
    terms: tuple[AnnuityTerms, AccountTerms],
) -> None:
    annuity, account_terms = terms
    account = account_of("101010.10", date(2031, 2, 1), account_terms)  # 100,000.00 after 1%
    born = date(1969, 2, 16)  # a woman of 62 on 16 February 2031
    on = date(2031, 2, 16)
    closed, plan = start_annuity(
        account, on, annuity, account_terms, "lifelong", "monthly", born, "F", GUARANTEED
    )
    # broken month at the guarantee: 100,000.00 × 15 days × 2% / 365 = 82.19
    assert closed.entries[-2].kind is EntryKind.GUARANTEED_INTEREST
    assert closed.entries[-2].amount == Money.of("82.19")
    assert closed.entries[-1].kind is EntryKind.CONVERSION
    assert closed.value().is_zero() and closed.closed_on == date(2031, 2, 16)
    # 100,082.19 × 40.67 / 10,000 = 407.034… → 407.03 a month (F, 62, lifelong)
    assert (plan.converted_value, plan.amount, plan.age_at_start) == (
        Money.of("100082.19"),
        Money.of("407.03"),
        62,
    )
    with pytest.raises(InvalidTransition) as error:
        credit_premium(closed, date(2031, 3, 1), Money.of("1"), account_terms, "R2")
    assert error.value.code == "billing.account_closed"


def test_annual_and_fixed_term_rates(terms: tuple[AnnuityTerms, AccountTerms]) -> None:
    annuity, account_terms = terms
    account = account_of("303030.31", date(2031, 3, 1), account_terms)  # 300,000.00 after 1%
    born = date(1971, 3, 1)
    on = date(2031, 3, 1)
    _, lifelong = start_annuity(
        account, on, annuity, account_terms, "lifelong", "annual", born, "M", GUARANTEED
    )
    assert lifelong.amount == Money.of("15450.00")  # 300,000 × 515.00 / 10,000
    _, fixed = start_annuity(
        account, on, annuity, account_terms, "fixed_15", "monthly", born, "M", GUARANTEED
    )
    assert fixed.amount == Money.of("1891.50")  # 300,000 × 63.05 / 10,000


def test_a_pension_outside_the_start_ages_or_options_is_refused(
    terms: tuple[AnnuityTerms, AccountTerms],
) -> None:
    annuity, account_terms = terms
    account = account_of("1000", date(2031, 3, 1), account_terms)
    cases = [
        (date(1971, 3, 2), "lifelong", "monthly", "billing.pension_age_out_of_range"),  # 59
        (date(1960, 3, 1), "lifelong", "monthly", "billing.pension_age_out_of_range"),  # 71
        (date(1971, 3, 1), "fixed_5", "monthly", "billing.annuity_option_not_offered"),
        (date(1971, 3, 1), "lifelong", "weekly", "billing.annuity_frequency_not_offered"),
    ]
    on = date(2031, 3, 1)
    for born, option, frequency, code in cases:
        paid = cast(PayoutFrequency, frequency)
        with pytest.raises(ValidationFailed) as error:
            start_annuity(account, on, annuity, account_terms, option, paid, born, "M", GUARANTEED)
        assert error.value.code == code
    with pytest.raises(ValidationFailed) as unknown:
        born = date(1971, 3, 1)
        start_annuity(
            account, on, annuity, account_terms, "lifelong", "annual", born, "X", GUARANTEED
        )
    assert unknown.value.code == "billing.no_conversion_rate"


def plan(lifelong: bool, years: int, frequency: PayoutFrequency = "monthly") -> AnnuityPlan:
    return AnnuityPlan(
        policy_number="P1",
        option="lifelong" if lifelong else f"fixed_{years}",
        lifelong=lifelong,
        years=years,
        frequency=frequency,
        start_on=date(2031, 3, 31),
        age_at_start=60,
        converted_value=Money.of("100000"),
        amount=Money.of("424.90"),
    )


def test_monthly_payments_keep_the_month_end_and_carry_a_deduplication_key() -> None:
    payouts = annuity_payouts(plan(True, 10), through=date(2031, 6, 30))
    assert [(p.due_on.isoformat(), p.key) for p in payouts] == [
        ("2031-03-31", "P1:annuity:2031-03-31"),
        ("2031-04-30", "P1:annuity:2031-04-30"),
        ("2031-05-31", "P1:annuity:2031-05-31"),
        ("2031-06-30", "P1:annuity:2031-06-30"),
    ]
    assert {(p.kind, p.amount, p.payee) for p in payouts} == {
        (PayoutKind.ANNUITY, Money.of("424.90"), "insured")
    }
    assert annuity_payouts(plan(True, 10), through=date(2031, 3, 30)) == ()


def test_a_lifelong_pension_pays_the_guaranteed_years_to_the_beneficiary() -> None:
    died = date(2033, 7, 10)
    payouts = annuity_payouts(plan(True, 10, "annual"), through=date(2060, 1, 1), died_on=died)
    assert [(p.due_on.year, p.payee) for p in payouts] == [
        (2031, "insured"),
        (2032, "insured"),
        (2033, "insured"),
        *[(year, "beneficiary") for year in range(2034, 2041)],
    ]
    alive = annuity_payouts(plan(True, 10, "annual"), through=date(2060, 12, 31))
    assert len(alive) == 30 and {p.payee for p in alive} == {"insured"}


def test_a_fixed_term_pension_stops_after_its_years() -> None:
    payouts = annuity_payouts(plan(False, 15, "annual"), through=date(2099, 1, 1))
    assert len(payouts) == 15 and payouts[-1].due_on == date(2045, 3, 31)
    on_death_day = annuity_payouts(
        plan(False, 15, "annual"), through=date(2099, 1, 1), died_on=date(2032, 3, 31)
    )
    assert [p.payee for p in on_death_day[:3]] == ["insured", "insured", "beneficiary"]


def test_survival_benefits_on_anniversaries_while_alive_one_payable_per_date() -> None:
    name = Text(zh="生存金", en="Survival benefit")
    benefits = [
        SurvivalBenefit(
            code="early",
            name=name,
            first_anniversary=5,
            last_anniversary=7,
            ratio_of_annual_premium=Decimal("0.10"),
        ),
        SurvivalBenefit(
            code="yearly", name=name, first_anniversary=7, ratio_of_annual_premium=Decimal("0.05")
        ),
    ]
    due = survival_benefits(
        "P1", date(2026, 3, 1), Money.of("10000"), benefits, through=date(2036, 3, 1)
    )
    assert [(p.due_on.year, p.amount) for p in due] == [
        (2031, Money.of("1000.00")),
        (2032, Money.of("1000.00")),
        (2033, Money.of("1500.00")),
        (2034, Money.of("500.00")),
        (2035, Money.of("500.00")),
        (2036, Money.of("500.00")),
    ]
    assert due[0].key == "P1:survival_benefit:2031-03-01"
    assert len({p.key for p in due}) == len(due)
    died = survival_benefits(
        "P1", date(2026, 3, 1), Money.of("10000"), benefits, date(2036, 3, 1), date(2034, 6, 1)
    )
    assert died[-1].due_on == date(2034, 3, 1)


@given(
    st.dates(min_value=date(1950, 1, 1), max_value=date(2008, 12, 31)),
    st.integers(min_value=18, max_value=59),
    st.integers(min_value=0, max_value=364),
    st.integers(min_value=60, max_value=70),
    st.sampled_from(["M", "F"]),
    st.sampled_from(["lifelong", "fixed_15"]),
    st.sampled_from(list[PayoutFrequency](["monthly", "annual"])),
)
def test_pay_outs_never_start_before_the_start_age(
    catalog: Catalog,
    born: date,
    entry_age: int,
    days_after_birthday: int,
    start_age: int,
    gender: str,
    option: str,
    frequency: PayoutFrequency,
) -> None:
    plan_terms = catalog.plan("PENSION-ANN", "2026").plan
    assert plan_terms.annuity is not None and plan_terms.account is not None
    inception = attained_age_date(born, entry_age) + timedelta(days=days_after_birthday)
    start = pension_start_date(born, inception, start_age)
    assert start > inception and age_on(born, start) == start_age
    account = account_of("50000", start, plan_terms.account)
    annuity, account_terms = plan_terms.annuity, plan_terms.account
    _, pension = start_annuity(
        account, start, annuity, account_terms, option, frequency, born, gender, GUARANTEED
    )
    payouts = annuity_payouts(pension, through=start + timedelta(days=3 * 365))
    assert payouts and payouts[0].due_on == start
    assert all(age_on(born, p.due_on) >= start_age for p in payouts)
    with pytest.raises(ValidationFailed):
        too_early = attained_age_date(born, 60) - timedelta(days=1)
        start_annuity(
            account, too_early, annuity, account_terms, option, "annual", born, gender, GUARANTEED
        )
