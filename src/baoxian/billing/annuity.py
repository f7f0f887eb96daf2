"""The pay-out phase (领取期): the pension bought with the account value, and survival
benefits — pure.

The rules:

* **Start.**  A pension starts on the first policy anniversary on or after the day the insured
  attains the chosen start age (周岁; someone born on 29 February attains an age on 1 March in
  other years), and that age must lie in the product's range — 60 and over for
  专属商业养老保险 (CBIRC, 2021).  Pay-outs therefore never start before the start age.
* **Conversion.**  On the start date the account is closed (interest for the broken month
  credited) and its whole value buys the pension: the amount per payment is the value ÷ 10,000
  × the product's conversion rate (年金转换标准) for the option, the insured's age at the start
  and sex, and the frequency; rounded half-up to the fen.
* **Pay-outs.**  Monthly or yearly from the start date, on the same day of the month (falling
  back to the month's end).  A fixed-term pension pays for ``years``; a lifelong one pays while
  the insured is alive and at least for the ``years`` guaranteed (保证领取): a payment falling
  due after the insured's death within the guaranteed years goes to the beneficiary; none is
  due after that.  A payment due on the day of death is still the insured's.
* **Survival benefits (生存保险金).**  On the policy anniversaries the product names, while the
  insured is alive, a share of the annual premium.

Each pay-out is a :class:`~baoxian.billing.payables.Payable` keyed ``policy:kind:date``.

>>> from datetime import date
>>> pension_start_date(date(1970, 5, 20), date(2026, 3, 1), 60)
datetime.date(2031, 3, 1)
>>> conversion_amount(Money.of("300000"), Decimal("515.00"))
Money('15450.00')
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from baoxian.billing.account import Account, close_for_conversion
from baoxian.billing.payables import Payable, PayoutKind
from baoxian.catalog.model import age_on
from baoxian.catalog.schema import (
    AccountTerms,
    AnnuityOption,
    AnnuityTerms,
    SurvivalBenefit,
    conversion_rate,
)
from baoxian.shared.clock import add_months
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money

PayoutFrequency = Literal["annual", "monthly"]
TEN_THOUSAND = Decimal(10_000)
STEP_MONTHS: dict[PayoutFrequency, int] = {"annual": 12, "monthly": 1}


def attained_age_date(birth_date: date, age: int) -> date:
    """The day the insured attains ``age`` (周岁): the birthday, or 1 March for 29 February in
    a year without it."""
    try:
        return birth_date.replace(year=birth_date.year + age)
    except ValueError:  # 29 February in a common year
        return date(birth_date.year + age, 3, 1)


def pension_start_date(birth_date: date, inception: date, start_age: int) -> date:
    """The first policy anniversary (from the first) on or after the day the insured attains
    ``start_age``."""
    attained = attained_age_date(birth_date, start_age)
    years = max(1, attained.year - inception.year - 1)
    while add_months(inception, 12 * years) < attained:
        years += 1
    return add_months(inception, 12 * years)


def conversion_amount(account_value: Money, rate_per_10000: Decimal) -> Money:
    """The pension per payment bought by ``account_value`` at a rate per 10,000."""
    return account_value.times(rate_per_10000 / TEN_THOUSAND)


@dataclass(frozen=True, slots=True)
class AnnuityPlan:
    """A pension in payment: ``amount`` every ``frequency`` from ``start_on``."""

    policy_number: str
    option: str
    lifelong: bool
    years: int
    frequency: PayoutFrequency
    start_on: date
    age_at_start: int
    converted_value: Money
    amount: Money

    @property
    def certain_until(self) -> date:
        """The first day after the guaranteed (or fixed) years."""
        return add_months(self.start_on, 12 * self.years)

    def due_dates(self) -> Iterator[date]:
        """Every due date from the start, without end (callers stop)."""
        step, k = STEP_MONTHS[self.frequency], 0
        while True:
            yield add_months(self.start_on, k * step)
            k += 1


def start_annuity(
    account: Account,
    on: date,
    annuity: AnnuityTerms,
    account_terms: AccountTerms,
    option: str,
    frequency: PayoutFrequency,
    birth_date: date,
    gender: str,
    broken_period_rate: Decimal,
) -> tuple[Account, AnnuityPlan]:
    """Convert the account on ``on`` into a pension under ``option`` paid ``frequency``.
    ``broken_period_rate`` credits the interest of the month so far (the guarantee unless a
    rate has been declared).  Returns the closed account and the pension."""
    chosen = _option(annuity, option)
    if frequency not in annuity.frequencies:
        raise ValidationFailed(
            "billing.annuity_frequency_not_offered",
            f"该产品不提供 {frequency} 领取方式",
            f"the product does not pay a pension {frequency}",
        )
    age = require_start_age(annuity, birth_date, on)
    row = conversion_rate(annuity, chosen.code, age, gender)
    if row is None:  # the schema checks every start age has a rate for "M" and "F"
        raise ValidationFailed(
            "billing.no_conversion_rate",
            f"没有 {age} 周岁 {gender} 的年金转换标准",
            f"no conversion rate for age {age}, {gender}",
        )
    closed, value = close_for_conversion(account, on, broken_period_rate, account_terms)
    rate = row.annual if frequency == "annual" else row.monthly
    plan = AnnuityPlan(
        policy_number=account.policy_number,
        option=chosen.code,
        lifelong=chosen.lifelong,
        years=chosen.years,
        frequency=frequency,
        start_on=on,
        age_at_start=age,
        converted_value=value,
        amount=conversion_amount(value, rate),
    )
    return closed, plan


def require_start_age(annuity: AnnuityTerms, birth_date: date, on: date) -> int:
    """The insured's age on ``on``, which must lie in the product's start-age range."""
    age = age_on(birth_date, on)
    earliest, latest = annuity.start_age.earliest, annuity.start_age.latest
    if not earliest <= age <= latest:
        raise ValidationFailed(
            "billing.pension_age_out_of_range",
            f"开始领取养老年金的年龄须在{earliest}至{latest}周岁之间（{on} 时为{age}周岁）",
            f"a pension starts between ages {earliest} and {latest} (age {age} on {on})",
            age=age,
        )
    return age


def annuity_payouts(
    plan: AnnuityPlan, through: date, died_on: date | None = None
) -> tuple[Payable, ...]:
    """Every pension payment due from the start to ``through`` (inclusive)."""
    payouts: list[Payable] = []
    for due in plan.due_dates():
        if due > through or (not plan.lifelong and due >= plan.certain_until):
            break
        alive = died_on is None or due <= died_on
        if not alive and due >= plan.certain_until:
            break
        payee: Literal["insured", "beneficiary"] = "insured" if alive else "beneficiary"
        payouts.append(
            Payable(plan.policy_number, PayoutKind.ANNUITY, due, plan.amount, payee=payee)
        )
    return tuple(payouts)


def survival_benefits(
    policy_number: str,
    inception: date,
    annual_premium: Money,
    benefits: Sequence[SurvivalBenefit],
    through: date,
    died_on: date | None = None,
) -> tuple[Payable, ...]:
    """Survival benefits due on the policy anniversaries up to ``through`` while the insured
    is alive; two benefits on one anniversary are one payable (one key per date)."""
    due: dict[date, Money] = {}
    for benefit in benefits:
        year = benefit.first_anniversary
        while benefit.last_anniversary is None or year <= benefit.last_anniversary:
            anniversary = add_months(inception, 12 * year)
            if anniversary > through or (died_on is not None and anniversary > died_on):
                break
            amount = annual_premium.times(benefit.ratio_of_annual_premium)
            due[anniversary] = due.get(anniversary, Money.ZERO) + amount
            year += 1
    return tuple(
        Payable(policy_number, PayoutKind.SURVIVAL_BENEFIT, on, amount)
        for on, amount in sorted(due.items())
    )


def _option(annuity: AnnuityTerms, code: str) -> AnnuityOption:
    for option in annuity.options:
        if option.code == code:
            return option
    raise ValidationFailed(
        "billing.annuity_option_not_offered",
        f"该产品没有领取方式 {code}",
        f"the product has no pension option {code}",
    )


__all__ = [
    "AnnuityPlan",
    "PayoutFrequency",
    "annuity_payouts",
    "attained_age_date",
    "conversion_amount",
    "pension_start_date",
    "require_start_age",
    "start_annuity",
    "survival_benefits",
]
