"""The account value (个人养老账户), dividends and the yearly statement: worked examples to the
fen and the identities (closing = opening + movements; dividend shares sum to the total)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baoxian.billing.account import (
    Account,
    EntryKind,
    allocate_dividends,
    annual_statement,
    cash_value,
    credit_premium,
    month_end,
    open_account,
    policy_year_period,
    settle_dividend,
    settle_month,
    withdraw,
)
from baoxian.billing.payables import PayoutKind
from baoxian.catalog.schema import AccountTerms, DividendTerms
from baoxian.catalog.services import Catalog
from baoxian.shared.clock import add_months
from baoxian.shared.errors import InvalidTransition, ValidationFailed
from baoxian.shared.money import Money, total

OPENED = date(2026, 3, 1)
TERMS = AccountTerms(
    guaranteed_rate=Decimal("0.02"),
    initial_charge=Decimal("0.01"),
    surrender_charges=[Decimal("0.05"), Decimal("0.04")],
    dividends=DividendTerms(options=["accumulate", "cash"], default="accumulate"),
)
DECLARED = Decimal("0.045")


def funded() -> Account:
    return credit_premium(open_account("P1", OPENED), OPENED, Money.of("12000"), TERMS, "R1")


def test_the_shipped_pension_product_has_these_account_terms(catalog: Catalog) -> None:
    terms = catalog.plan("PENSION-ANN", "2026").plan.account
    assert terms is not None
    assert (terms.guaranteed_rate, terms.initial_charge) == (Decimal("0.02"), Decimal("0.01"))
    assert terms.dividends is not None and terms.dividends.default == "accumulate"


def test_a_premium_is_credited_less_the_initial_charge() -> None:
    account = funded()
    assert [(e.kind, e.amount) for e in account.entries] == [
        (EntryKind.PREMIUM, Money.of("12000.00")),
        (EntryKind.INITIAL_CHARGE, Money.of("120.00")),
    ]
    assert account.value() == Money.of("11880.00")


def test_interest_accrues_daily_and_is_credited_at_month_end_in_two_parts() -> None:
    march = settle_month(funded(), date(2026, 3, 15), DECLARED, TERMS)
    # 11,880.00 × 31 days = 368,280 yuan-days
    # guaranteed 368,280 × 2% / 365 = 20.179… → 20.18; excess × 2.5% / 365 = 25.224… → 25.22
    credited = [(e.on, e.kind, e.amount) for e in march.entries[2:]]
    assert credited == [
        (date(2026, 3, 31), EntryKind.GUARANTEED_INTEREST, Money.of("20.18")),
        (date(2026, 3, 31), EntryKind.EXCESS_INTEREST, Money.of("25.22")),
    ]
    assert march.interest_from == date(2026, 4, 1)
    # April compounds March's interest: 11,925.40 × 30 = 357,762 yuan-days
    # guaranteed 19.603… → 19.60; excess 24.504… → 24.50
    april = settle_month(march, date(2026, 4, 1), DECLARED, TERMS)
    assert [e.amount for e in april.entries[4:]] == [Money.of("19.60"), Money.of("24.50")]
    assert april.value() == Money.of("11969.50")


def test_a_withdrawal_in_the_month_earns_interest_up_to_its_day() -> None:
    account = withdraw(funded(), date(2026, 3, 16), Money.of("1880"), "W1")
    # 15 days × 11,880 + 16 days × 10,000 = 338,200 yuan-days → 18.53 and 23.16
    settled = settle_month(account, OPENED, DECLARED, TERMS)
    assert [e.amount for e in settled.entries[3:]] == [Money.of("18.53"), Money.of("23.16")]
    with pytest.raises(ValidationFailed) as error:
        withdraw(account, date(2026, 3, 20), Money.of("10000.01"), "W2")
    assert error.value.code == "billing.withdrawal_exceeds_value"


def test_at_the_guaranteed_rate_there_is_no_excess_and_never_less() -> None:
    at_guarantee = settle_month(funded(), OPENED, Decimal("0.02"), TERMS)
    assert [e.kind for e in at_guarantee.entries[2:]] == [EntryKind.GUARANTEED_INTEREST]
    with pytest.raises(ValidationFailed) as error:
        settle_month(funded(), OPENED, Decimal("0.0199"), TERMS)
    assert error.value.code == "billing.rate_below_guarantee"


def test_a_month_is_settled_once_and_nothing_is_dated_inside_it_afterwards() -> None:
    march = settle_month(funded(), OPENED, DECLARED, TERMS)
    with pytest.raises(InvalidTransition) as twice:
        settle_month(march, OPENED, DECLARED, TERMS)
    assert twice.value.code == "billing.interest_already_credited"
    with pytest.raises(InvalidTransition) as backdated:
        credit_premium(march, date(2026, 3, 31), Money.of("100"), TERMS, "R2")
    assert backdated.value.code == "billing.account_backdated"


def test_cash_value_is_the_account_value_less_the_surrender_charge_of_the_year() -> None:
    value = Money.of("11925.40")
    assert cash_value(value, 1, TERMS) == Money.of("11329.13")  # less 5%: 596.27
    assert cash_value(value, 2, TERMS) == Money.of("11448.38")  # less 4%: 477.02
    assert cash_value(value, 3, TERMS) == value


def test_the_statement_of_two_months_to_the_fen() -> None:
    march = settle_month(funded(), OPENED, DECLARED, TERMS)
    account = settle_month(march, date(2026, 4, 1), DECLARED, TERMS)
    statement = annual_statement(
        account, OPENED, date(2026, 4, 30), TERMS, 1, loans_outstanding=Money.of("3000")
    )
    assert [(line.code, line.amount) for line in statement.lines] == [
        ("opening", Money.ZERO),
        ("premium", Money.of("12000.00")),
        ("initial_charge", Money.of("-120.00")),
        ("guaranteed_interest", Money.of("39.78")),
        ("excess_interest", Money.of("49.72")),
        ("dividend", Money.ZERO),
        ("withdrawal", Money.ZERO),
        ("conversion", Money.ZERO),
        ("closing", Money.of("11969.50")),
        ("loans", Money.of("3000.00")),
        ("cash_value", Money.of("11371.02")),  # less 5%: 598.48
        ("net_value", Money.of("8371.02")),
    ]
    assert all(line.zh and line.en for line in statement.lines)
    assert statement.lines[0].zh == "期初账户价值"


def test_policy_years_run_anniversary_to_the_day_before_the_next() -> None:
    assert policy_year_period(date(2024, 2, 29), 2) == (date(2025, 2, 28), date(2026, 2, 27))
    assert policy_year_period(OPENED, 1) == (OPENED, date(2027, 2, 28))


months = st.lists(
    st.tuples(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=27),  # day of the month − 1
                st.sampled_from(["premium", "withdrawal", "dividend"]),
                st.integers(min_value=1, max_value=5_000_000),  # fen
            ),
            max_size=4,
        ),
        st.integers(min_value=0, max_value=600),  # settlement rate above the guarantee, bp/100
    ),
    min_size=1,
    max_size=14,
)


@given(months, st.data())
def test_every_statement_closes_at_opening_plus_movements(
    history: list[tuple[list[tuple[int, str, int]], int]], data: st.DataObject
) -> None:
    account = open_account("P1", OPENED)
    for index, (events, excess_bp) in enumerate(history):
        first = add_months(OPENED, index)
        for day, kind, fen in sorted(events):
            on, amount = first + timedelta(days=day), Money.from_fen(fen)
            if kind == "premium":
                account = credit_premium(account, on, amount, TERMS, "R")
            elif kind == "dividend":
                share = allocate_dividends(amount, [("P1", Money.of("1"))])[0]
                credited, _ = settle_dividend(share, "accumulate", on, TERMS, account)
                assert credited is not None
                account = credited
            elif amount <= account.value(on):
                account = withdraw(account, on, amount, "W")
        rate = TERMS.guaranteed_rate + Decimal(excess_bp) / 10_000
        account = settle_month(account, first, rate, TERMS)
    last = month_end(add_months(OPENED, len(history) - 1))
    start = data.draw(st.dates(min_value=OPENED - timedelta(days=40), max_value=last))
    end = data.draw(st.dates(min_value=start, max_value=last + timedelta(days=40)))
    statement = annual_statement(account, start, end, TERMS, 1)
    movements = total([line.amount for line in statement.movements])
    assert statement.closing.amount == statement.opening.amount + movements
    assert statement.closing.amount == account.value(end)
    assert not account.value(end).is_negative()
    assert all(not e.amount.is_negative() for e in account.entries)


# --------------------------------------------------------------------------- dividends


def test_dividends_are_shared_in_proportion_to_the_fen() -> None:
    shares = allocate_dividends(
        Money.of("100.00"), [("A", Money.of("1")), ("B", Money.of("1")), ("C", Money.of("1"))]
    )
    assert [s.amount for s in shares] == [Money.of("33.34"), Money.of("33.33"), Money.of("33.33")]
    # 0.05 in 1 : 2 = 0.0166… and 0.0333…: 1 and 3 fen, the odd fen to the larger remainder
    shares = allocate_dividends(Money.of("0.05"), [("A", Money.of("10")), ("B", Money.of("20"))])
    assert [s.amount for s in shares] == [Money.of("0.02"), Money.of("0.03")]


def test_dividends_need_a_basis() -> None:
    with pytest.raises(ValidationFailed) as error:
        allocate_dividends(Money.of("1"), [("A", Money.ZERO)])
    assert error.value.code == "billing.dividend_no_basis"
    with pytest.raises(ValidationFailed) as negative:
        allocate_dividends(Money.of("-1"), [("A", Money.of("1"))])
    assert negative.value.code == "billing.dividend_negative"


@given(
    st.integers(min_value=0, max_value=10**12).map(Money.from_fen),
    st.lists(st.integers(min_value=0, max_value=10**10), min_size=1, max_size=30).filter(any),
)
def test_allocated_dividends_sum_to_the_declared_total(declared: Money, bases: list[int]) -> None:
    named = [(f"P{i}", Money.from_fen(b)) for i, b in enumerate(bases)]
    shares = allocate_dividends(declared, named)
    assert total([s.amount for s in shares]) == declared
    whole = sum(bases)
    for share, basis in zip(shares, bases, strict=True):
        exact = Decimal(declared.fen) * basis / whole
        assert abs(Decimal(share.amount.fen) - exact) < 1
        if basis == 0:
            assert share.amount.is_zero()


def test_a_dividend_is_paid_in_cash_or_accumulated_in_the_account() -> None:
    (share,) = allocate_dividends(Money.of("88.80"), [("P1", Money.of("1"))])
    anniversary = date(2027, 3, 1)
    account, payable = settle_dividend(share, "cash", anniversary, TERMS, funded())
    assert account == funded() and payable is not None
    assert (payable.kind, payable.amount, payable.payee, payable.key) == (
        PayoutKind.DIVIDEND,
        Money.of("88.80"),
        "holder",
        "P1:dividend:2027-03-01",
    )
    accumulated, nothing = settle_dividend(share, "accumulate", anniversary, TERMS, funded())
    assert nothing is None and accumulated is not None
    assert accumulated.value() == Money.of("11968.80")
    assert accumulated.entries[-1].kind is EntryKind.DIVIDEND
    without = AccountTerms(guaranteed_rate=Decimal("0.02"))
    with pytest.raises(ValidationFailed) as error:
        settle_dividend(share, "cash", anniversary, without, funded())
    assert error.value.code == "billing.dividend_option_not_offered"
