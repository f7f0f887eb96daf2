"""Premium schedules (交费计划), invoices (应收保费), grace, lapse and reinstatement — pure.

The rules, as the standard clauses of Chinese life contracts state them:

* **Schedule.**  The annual premium is split into 1, 2, 4 or 12 instalments (年交, 半年交, 季交,
  月交).  The split is exact to the fen: every instalment is the annual premium divided by
  their number rounded *down* to the fen, and the remainder goes on the *first* instalment, so
  the instalments of a policy year sum to the annual premium.  Due dates count from the first
  due date (the inception or the policy anniversary) in whole months and keep its day of the
  month, falling back to the month's end (31 Jan → 28/29 Feb → 31 Mar, never 28 Mar).
* **Grace period (宽限期).**  A premium not paid on its due date may be paid during the
  ``grace_days`` (60 in most contracts) that follow it; cover continues.  The grace period
  ends at 24:00 on ``due date + grace_days``.
* **Lapse (效力中止).**  If it is still unpaid, the contract lapses from 00:00 of the next day —
  unless an automatic premium loan pays it (:mod:`baoxian.billing.loans`).
* **Reinstatement (复效).**  Within a number of years of the lapse (2 in most contracts), the
  holder may reinstate by paying every premium in arrears plus simple interest on each from its
  due date (ACT/365, :mod:`baoxian.billing.interest`).

Identity kept and tested: for any sequence of payments, on any date, the premiums due equal
the premiums paid plus the premiums outstanding.

>>> from datetime import date
>>> split_premium(Money.of("1000.00"), Frequency.MONTHLY)[:3]
(Money('83.37'), Money('83.33'), Money('83.33'))
>>> [i.due_on.isoformat() for i in premium_schedule(
...     "P1", date(2026, 1, 31), Money.of("1200"), Frequency.MONTHLY)][:3]
['2026-01-31', '2026-02-28', '2026-03-31']
>>> grace_end(date(2026, 3, 1), 60), lapse_date(date(2026, 3, 1), 60)
(datetime.date(2026, 4, 30), datetime.date(2026, 5, 1))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from baoxian.billing.interest import simple_interest
from baoxian.catalog.schema import BillingTerms, PlanVersion, Reinstatement
from baoxian.policies.model import Policy
from baoxian.shared.clock import add_months
from baoxian.shared.errors import InvalidTransition, ValidationFailed
from baoxian.shared.money import Money, total

# --------------------------------------------------------------------------- frequencies


class Frequency(StrEnum):
    ANNUAL = "annual"
    SEMI_ANNUAL = "semi_annual"
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"

    @property
    def months(self) -> int:
        """Months between two due dates."""
        return MONTHS_BETWEEN[self]

    @property
    def per_year(self) -> int:
        return 12 // MONTHS_BETWEEN[self]


MONTHS_BETWEEN: dict[Frequency, int] = {
    Frequency.ANNUAL: 12,
    Frequency.SEMI_ANNUAL: 6,
    Frequency.QUARTERLY: 3,
    Frequency.MONTHLY: 1,
}
FREQUENCY_NAMES: dict[Frequency, tuple[str, str]] = {
    Frequency.ANNUAL: ("年交", "annual"),
    Frequency.SEMI_ANNUAL: ("半年交", "semi-annual"),
    Frequency.QUARTERLY: ("季交", "quarterly"),
    Frequency.MONTHLY: ("月交", "monthly"),
}
_BY_COUNT = {f.per_year: f for f in Frequency}


def frequency_for(count: int) -> Frequency:
    """The frequency of an instalment option paid ``count`` times a year."""
    try:
        return _BY_COUNT[count]
    except KeyError:
        raise ValidationFailed(
            "billing.unknown_frequency",
            f"不支持每年交费 {count} 次",
            f"paying {count} times a year is not supported",
        ) from None


def frequency_of(plan: PlanVersion, instalment: str) -> Frequency:
    """The frequency of the plan's instalment option ``instalment`` (e.g. ``monthly``)."""
    for option in plan.instalments:
        if option.code == instalment:
            return frequency_for(option.count)
    raise ValidationFailed(
        "billing.unknown_instalment",
        f"该计划不支持交费方式 {instalment}",
        f"the plan does not offer instalment option {instalment}",
    )


def billing_terms(plan: PlanVersion) -> BillingTerms:
    """The plan's billing terms; a plan without a ``billing`` section has the defaults
    (60 days' grace, single-year payment, no reinstatement, no loans)."""
    return plan.billing if plan.billing is not None else BillingTerms()


# --------------------------------------------------------------------------- schedule


def split_premium(annual: Money, frequency: Frequency) -> tuple[Money, ...]:
    """The instalments of one policy year: equal parts rounded down to the fen, the
    remainder on the first, summing exactly to ``annual``."""
    if annual.is_negative():
        raise ValidationFailed(
            "billing.premium_negative", "保费不能为负数", "a premium cannot be negative"
        )
    count = frequency.per_year
    base = annual.fen // count
    first = annual.fen - base * (count - 1)
    return (Money.from_fen(first), *[Money.from_fen(base)] * (count - 1))


@dataclass(frozen=True, slots=True)
class Instalment:
    """One premium of the schedule (期交保费): its number from 1, policy year, date, amount."""

    policy_number: str
    number: int
    policy_year: int
    due_on: date
    amount: Money

    @property
    def key(self) -> str:
        """The deduplication key of the invoice (and of its payment order)."""
        return f"{self.policy_number}:premium:{self.due_on.isoformat()}"


def premium_schedule(
    policy_number: str,
    first_due: date,
    annual_premium: Money,
    frequency: Frequency,
    years: int = 1,
    terms: BillingTerms | None = None,
) -> tuple[Instalment, ...]:
    """Every premium of ``years`` policy years from ``first_due``.  With ``terms`` the number
    of years must be a premium-paying term the product offers (交费期间)."""
    if years < 1 or (terms is not None and years not in terms.payment_years):
        offered = "、".join(str(y) for y in (terms.payment_years if terms else [])) or "≥1"
        raise ValidationFailed(
            "billing.payment_years_not_offered",
            f"交费期间 {years} 年不在可选范围（{offered}）",
            f"a premium-paying term of {years} years is not offered ({offered})",
        )
    parts = split_premium(annual_premium, frequency)
    return tuple(
        Instalment(
            policy_number=policy_number,
            number=year * frequency.per_year + i + 1,
            policy_year=year + 1,
            due_on=add_months(first_due, (year * frequency.per_year + i) * frequency.months),
            amount=amount,
        )
        for year in range(years)
        for i, amount in enumerate(parts)
    )


def schedule_for_policy(policy: Policy, plan: PlanVersion) -> tuple[Instalment, ...]:
    """The premiums of a policy's current term: the premium charged for the term (after
    any loading and endorsement) at the frequency of its instalment option."""
    return premium_schedule(
        policy.policy_number,
        policy.term_start,
        policy.premium_charged,
        frequency_of(plan, policy.instalment),
    )


# --------------------------------------------------------------------------- invoices

ReceiptSource = Literal["payment", "premium_loan"]


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received for premiums: from the gateway (``payment``), or lent from the cash
    value by an automatic premium loan (``premium_loan``; the reference is the loan ID)."""

    on: date
    amount: Money
    reference: str
    source: ReceiptSource = "payment"


@dataclass(frozen=True, slots=True)
class Receipt:
    """The part of a payment applied to one invoice."""

    on: date
    amount: Money
    reference: str
    source: ReceiptSource = "payment"


class InvoiceStatus(StrEnum):
    UPCOMING = "upcoming"  # 未到应交日
    DUE = "due"  # 应交日当天
    IN_GRACE = "in_grace"  # 宽限期内
    OVERDUE = "overdue"  # 宽限期满未交: the policy lapses unless a premium loan pays it
    PAID = "paid"  # 已交清


INVOICE_STATUS_NAMES: dict[InvoiceStatus, tuple[str, str]] = {
    InvoiceStatus.UPCOMING: ("待交费", "upcoming"),
    InvoiceStatus.DUE: ("今日应交", "due today"),
    InvoiceStatus.IN_GRACE: ("宽限期内", "in the grace period"),
    InvoiceStatus.OVERDUE: ("宽限期满未交费", "unpaid after the grace period"),
    InvoiceStatus.PAID: ("已交清", "paid"),
}


@dataclass(frozen=True, slots=True)
class Invoice:
    """应收保费: one instalment and what has been received against it."""

    instalment: Instalment
    receipts: tuple[Receipt, ...] = ()

    @property
    def key(self) -> str:
        return self.instalment.key

    @property
    def due_on(self) -> date:
        return self.instalment.due_on

    @property
    def amount(self) -> Money:
        return self.instalment.amount

    @property
    def paid(self) -> Money:
        return total([r.amount for r in self.receipts])

    @property
    def outstanding(self) -> Money:
        return self.amount - self.paid

    def paid_as_of(self, on: date) -> Money:
        """Received on or before ``on``."""
        return total([r.amount for r in self.receipts if r.on <= on])

    def outstanding_as_of(self, on: date) -> Money:
        return self.amount - self.paid_as_of(on)


def open_invoices(schedule: Sequence[Instalment]) -> tuple[Invoice, ...]:
    """An invoice, nothing received yet, for every instalment of a schedule."""
    return tuple(Invoice(instalment) for instalment in schedule)


def grace_end(due_on: date, grace_days: int) -> date:
    """The last day of the grace period: it runs ``grace_days`` from the day after the due
    date and ends at 24:00."""
    return due_on + timedelta(days=grace_days)


def lapse_date(due_on: date, grace_days: int) -> date:
    """The day (from 00:00) the contract lapses if the premium due on ``due_on`` is unpaid."""
    return grace_end(due_on, grace_days) + timedelta(days=1)


def invoice_status(invoice: Invoice, today: date, grace_days: int) -> InvoiceStatus:
    """Where an invoice stands at the end of ``today``."""
    if invoice.outstanding_as_of(today).is_zero():
        return InvoiceStatus.PAID
    if today < invoice.due_on:
        return InvoiceStatus.UPCOMING
    if today == invoice.due_on:
        return InvoiceStatus.DUE
    if today <= grace_end(invoice.due_on, grace_days):
        return InvoiceStatus.IN_GRACE
    return InvoiceStatus.OVERDUE


def apply_payment(invoices: Sequence[Invoice], payment: Payment) -> tuple[Invoice, ...]:
    """Apply a payment to the invoices, the earliest due first; a part payment leaves the
    rest outstanding.  More than is outstanding is refused (nothing is kept on account)."""
    if payment.amount.amount <= 0:
        raise ValidationFailed(
            "billing.payment_not_positive",
            "交费金额须大于零",
            "a payment must be more than zero",
        )
    owed = total([i.outstanding for i in invoices])
    if payment.amount > owed:
        raise ValidationFailed(
            "billing.overpayment",
            f"交费金额 {payment.amount} 超过未交保费 {owed}",
            f"the payment of {payment.amount} is more than the {owed} outstanding",
            outstanding=str(owed.amount),
        )
    left = payment.amount
    applied: dict[str, Invoice] = {}
    for invoice in sorted(invoices, key=lambda i: (i.due_on, i.instalment.number)):
        if left.is_zero():
            break
        part = min(left, invoice.outstanding)
        if part.is_zero():
            continue
        receipt = Receipt(payment.on, part, payment.reference, payment.source)
        applied[invoice.key] = replace(invoice, receipts=(*invoice.receipts, receipt))
        left = left - part
    return tuple(applied.get(i.key, i) for i in invoices)


@dataclass(frozen=True, slots=True)
class PremiumPosition:
    """Premiums fallen due on or before ``on``: due = paid + outstanding."""

    on: date
    due: Money
    paid: Money
    outstanding: Money


def premium_position(invoices: Sequence[Invoice], on: date) -> PremiumPosition:
    """The premiums due by ``on``, what was received for them by then, and what is left."""
    fallen_due = [i for i in invoices if i.due_on <= on]
    return PremiumPosition(
        on=on,
        due=total([i.amount for i in fallen_due]),
        paid=total([i.paid_as_of(on) for i in fallen_due]),
        outstanding=total([i.outstanding_as_of(on) for i in fallen_due]),
    )


def first_overdue(invoices: Sequence[Invoice], today: date, grace_days: int) -> Invoice | None:
    """The earliest invoice still unpaid after its grace period, if any: the one that lapses
    the policy (or that an automatic premium loan must pay)."""
    overdue = [i for i in invoices if invoice_status(i, today, grace_days) is InvoiceStatus.OVERDUE]
    return min(overdue, key=lambda i: i.due_on, default=None)


# --------------------------------------------------------------------------- reinstatement


@dataclass(frozen=True, slots=True)
class ArrearsLine:
    """One premium in arrears at reinstatement and its interest from the due date."""

    due_on: date
    premium: Money
    days: int
    interest: Money


@dataclass(frozen=True, slots=True)
class ReinstatementQuote:
    """What reinstating (复效) costs on ``on``: arrears + interest = total."""

    lapsed_on: date
    on: date
    lines: tuple[ArrearsLine, ...]
    arrears: Money
    interest: Money
    total: Money


def reinstatement_deadline(lapsed_on: date, terms: Reinstatement) -> date:
    """The first day on which the policy can no longer be reinstated."""
    return add_months(lapsed_on, 12 * terms.years)


def reinstatement_quote(
    invoices: Sequence[Invoice],
    lapsed_on: date,
    on: date,
    terms: Reinstatement | None,
) -> ReinstatementQuote:
    """The arrears (every premium due by ``on`` still unpaid) and simple interest on each from
    its due date to ``on`` at the product's arrears rate."""
    if terms is None:
        raise InvalidTransition(
            "billing.reinstatement_not_offered",
            "该产品不提供复效",
            "this product does not offer reinstatement",
        )
    if on < lapsed_on:
        raise InvalidTransition(
            "billing.reinstatement_before_lapse",
            f"保单于 {lapsed_on} 起效力中止，此前无需复效",
            f"the policy lapsed on {lapsed_on}; there is nothing to reinstate before then",
        )
    if on >= reinstatement_deadline(lapsed_on, terms):
        raise InvalidTransition(
            "billing.reinstatement_period_over",
            f"效力中止已满{terms.years}年，不能申请复效",
            f"more than {terms.years} years have passed since the lapse; "
            "the policy cannot be reinstated",
        )
    lines = tuple(
        _arrears_line(i, on, terms.arrears_rate)
        for i in sorted(invoices, key=lambda i: i.due_on)
        if i.due_on <= on and not i.outstanding_as_of(on).is_zero()
    )
    arrears = total([line.premium for line in lines])
    interest = total([line.interest for line in lines])
    return ReinstatementQuote(lapsed_on, on, lines, arrears, interest, arrears + interest)


def _arrears_line(invoice: Invoice, on: date, rate: Decimal) -> ArrearsLine:
    owed = invoice.outstanding_as_of(on)
    days = (on - invoice.due_on).days
    return ArrearsLine(invoice.due_on, owed, days, simple_interest(owed, rate, days))


__all__ = [
    "FREQUENCY_NAMES",
    "INVOICE_STATUS_NAMES",
    "ArrearsLine",
    "Frequency",
    "Instalment",
    "Invoice",
    "InvoiceStatus",
    "Payment",
    "PremiumPosition",
    "Receipt",
    "ReceiptSource",
    "ReinstatementQuote",
    "apply_payment",
    "billing_terms",
    "first_overdue",
    "frequency_for",
    "frequency_of",
    "grace_end",
    "invoice_status",
    "lapse_date",
    "open_invoices",
    "premium_position",
    "premium_schedule",
    "reinstatement_deadline",
    "reinstatement_quote",
    "schedule_for_policy",
    "split_premium",
]
