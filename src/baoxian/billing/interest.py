"""Interest conventions of the billing context, in one place.

* Simple interest, day count ACT/365: ``amount × yearly rate × days / 365``, whatever the year
  (a leap year also divides by 365) — the convention of Chinese policy-loan and reinstatement
  clauses, which state a yearly rate and charge it by the day.
* Rates are ``Decimal`` fractions (``Decimal("0.05")`` is 5 % a year), never floats.
* Every amount of interest is rounded half-up to the fen once, when it is computed for a
  period; intermediate products are exact ``Decimal``.

>>> simple_interest(Money.of("10000"), Decimal("0.05"), 183)
Money('250.68')
>>> simple_interest(Money.of("10000"), Decimal("0.05"), 0)
Money('0.00')
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from baoxian.shared.money import FEN, Money

DAYS_IN_YEAR = Decimal(365)


def simple_interest(amount: Money, annual_rate: Decimal, days: int) -> Money:
    """Interest on ``amount`` for ``days`` at ``annual_rate``, ACT/365, rounded to the fen."""
    return amount.times(annual_rate * Decimal(days) / DAYS_IN_YEAR)


def interest_on_balance_days(balance_days: Decimal, annual_rate: Decimal) -> Money:
    """Interest on a sum of daily balances (yuan × days), ACT/365, rounded to the fen."""
    return Money(balance_days * annual_rate / DAYS_IN_YEAR)


def floor_fen(value: Decimal) -> Money:
    """Round down to the fen: for limits, which must never be exceeded by rounding.

    >>> floor_fen(Decimal("8000.019"))
    Money('8000.01')
    """
    return Money(value.quantize(FEN, rounding=ROUND_DOWN))


__all__ = ["DAYS_IN_YEAR", "floor_fen", "interest_on_balance_days", "simple_interest"]
