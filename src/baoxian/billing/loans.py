"""Policy loans (保单贷款) and the automatic premium loan (保单垫交) — pure.

The rules, as the standard clauses of Chinese life contracts state them:

* **Limit.**  The holder may borrow up to a share (``max_ratio``, 80 % in most contracts) of
  the cash value net of debt (现金价值扣除各项欠款后余额); the limit is rounded *down* to the
  fen so that rounding never lends more than the clause allows.  Only an in-force policy lends.
* **Interest.**  Simple interest by the day at the yearly loan rate, ACT/365
  (:mod:`baoxian.billing.interest`), on the principal outstanding; unpaid interest does not
  itself bear interest within a term.  Each period's interest (between two repayments) is
  rounded half-up to the fen.
* **Repayment.**  A repayment pays the interest accrued first, then the principal (先息后本).
* **Term and overdue.**  A loan runs ``term_months`` (6 in most contracts).  Unpaid after its
  due date it is overdue (贷款逾期) and goes on accruing at the same rate.
* **Renewal (续贷).**  At the due date the loan may be renewed: the interest is capitalised
  (the new principal is the whole balance) for another term.  Renewal fails — with a stable
  reason code, not an exception — when the policy is not in force or the new balance is above
  the limit; the loan then stays and becomes overdue.
* **Automatic premium loan (保单垫交).**  When a premium is still unpaid at the end of the grace
  period and the product offers it (and the holder has not declined it), the insurer lends
  the premium from the cash value net of debt, drawn on the last day of grace, so the
  premium is paid and the policy stays in force; if the cash value does not allow it, the
  policy lapses from the next day.  The loan is a loan like any other.

Identity kept and tested: on every date, loan balance = principal + accrued interest −
repayments (repayments include a balance carried into a renewal).

>>> from datetime import date
>>> from decimal import Decimal
>>> loan = PolicyLoan("L1", "P1", LoanKind.POLICY, Money.of("10000"), Decimal("0.05"),
...                   date(2026, 3, 1), date(2026, 9, 1))
>>> loan.accrued_interest(date(2026, 8, 31))
Money('250.68')
>>> max_loanable(Money.of("20000"), Money.of("2000"), Decimal("0.80"))
Money('14400.00')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from baoxian.billing.interest import floor_fen, simple_interest
from baoxian.billing.schedule import (
    Invoice,
    InvoiceStatus,
    Payment,
    apply_payment,
    grace_end,
    invoice_status,
    lapse_date,
)
from baoxian.catalog.schema import BillingTerms, PolicyLoanTerms
from baoxian.shared.clock import add_months
from baoxian.shared.errors import InvalidTransition, ValidationFailed
from baoxian.shared.money import Money, total


class LoanKind(StrEnum):
    POLICY = "policy"  # 保单贷款: asked for by the holder
    PREMIUM = "premium"  # 保单垫交: lent by the insurer to pay an unpaid premium


class LoanStatus(StrEnum):
    ACTIVE = "active"  # 借款中
    OVERDUE = "overdue"  # 贷款逾期
    REPAID = "repaid"  # 已还清
    RENEWED = "renewed"  # 已续贷 (its balance carried into a new loan)


LOAN_STATUS_NAMES: dict[LoanStatus, tuple[str, str]] = {
    LoanStatus.ACTIVE: ("借款中", "active"),
    LoanStatus.OVERDUE: ("贷款逾期", "overdue"),
    LoanStatus.REPAID: ("已还清", "repaid"),
    LoanStatus.RENEWED: ("已续贷", "renewed"),
}


@dataclass(frozen=True, slots=True)
class Repayment:
    """A repayment split interest-first; ``by_renewal`` when the balance was carried into the
    renewed loan named by ``reference``."""

    on: date
    amount: Money
    to_interest: Money
    to_principal: Money
    reference: str
    by_renewal: bool = False


@dataclass(frozen=True, slots=True)
class LoanPosition:
    """A loan on a date: balance = principal + accrued interest − repaid
    = outstanding principal + unpaid interest."""

    on: date
    principal: Money
    accrued_interest: Money
    repaid: Money
    outstanding_principal: Money
    unpaid_interest: Money

    @property
    def balance(self) -> Money:
        return self.outstanding_principal + self.unpaid_interest


@dataclass(frozen=True, slots=True)
class PolicyLoan:
    """A loan against a policy's cash value, drawn on ``drawn_on`` and due on ``due_on``."""

    loan_id: str
    policy_number: str
    kind: LoanKind
    principal: Money
    annual_rate: Decimal
    drawn_on: date
    due_on: date
    repayments: tuple[Repayment, ...] = ()
    renewed_as: str | None = None

    def position(self, on: date) -> LoanPosition:
        """Principal, interest and repayments as they stand at the end of ``on``."""
        if on < self.drawn_on:
            zero = Money.ZERO
            return LoanPosition(on, zero, zero, zero, zero, zero)
        accrued, paid_interest, paid_principal = Money.ZERO, Money.ZERO, Money.ZERO
        start = self.drawn_on
        for repayment in self.repayments:
            if repayment.on > on:
                break
            accrued += self._interest(self.principal - paid_principal, start, repayment.on)
            paid_interest += repayment.to_interest
            paid_principal += repayment.to_principal
            start = repayment.on
        accrued += self._interest(self.principal - paid_principal, start, on)
        return LoanPosition(
            on=on,
            principal=self.principal,
            accrued_interest=accrued,
            repaid=paid_interest + paid_principal,
            outstanding_principal=self.principal - paid_principal,
            unpaid_interest=accrued - paid_interest,
        )

    def accrued_interest(self, on: date) -> Money:
        return self.position(on).accrued_interest

    def balance(self, on: date) -> Money:
        """What it would take to repay the loan in full on ``on`` (本息合计)."""
        return self.position(on).balance

    def status(self, on: date) -> LoanStatus:
        if self.renewed_as is not None and on >= self.due_on:
            return LoanStatus.RENEWED
        if self.repayments and self.repayments[-1].on <= on and self.balance(on).is_zero():
            return LoanStatus.REPAID
        return LoanStatus.OVERDUE if on > self.due_on else LoanStatus.ACTIVE

    @property
    def closed(self) -> bool:
        """Repaid in full or renewed: nothing more can happen to it."""
        last = self.repayments[-1] if self.repayments else None
        return last is not None and self.balance(last.on).is_zero()

    def _interest(self, principal: Money, start: date, end: date) -> Money:
        return simple_interest(principal, self.annual_rate, max(0, (end - start).days))


def policy_debt(loans: Sequence[PolicyLoan], on: date) -> Money:
    """Everything the policy owes on its loans on ``on`` (各项欠款)."""
    return total([loan.balance(on) for loan in loans])


def max_loanable(cash_value: Money, debt: Money, max_ratio: Decimal) -> Money:
    """The most that may be lent: ``max_ratio`` of the cash value net of debt, rounded down
    to the fen, never below zero."""
    net = cash_value - debt
    return Money.ZERO if net.amount <= 0 else floor_fen(net.amount * max_ratio)


def take_loan(
    loan_id: str,
    policy_number: str,
    amount: Money,
    on: date,
    cash_value: Money,
    debt: Money,
    terms: PolicyLoanTerms | None,
    in_force: bool,
) -> PolicyLoan:
    """A new policy loan of ``amount`` drawn on ``on``, due ``term_months`` later."""
    terms = _require_loans(terms)
    if not in_force:
        raise InvalidTransition(
            "billing.loan_policy_not_in_force",
            "保单不在有效状态，不能办理保单贷款",
            "the policy is not in force; it cannot lend",
        )
    if amount.amount <= 0:
        raise ValidationFailed(
            "billing.loan_amount_not_positive",
            "贷款金额须大于零",
            "a loan must be more than zero",
        )
    limit = max_loanable(cash_value, debt, terms.max_ratio)
    if amount > limit:
        raise ValidationFailed(
            "billing.loan_exceeds_limit",
            f"贷款金额 {amount} 超过可贷额度 {limit}（现金价值扣除欠款后余额的"
            f"{terms.max_ratio * 100:.0f}%）",
            f"a loan of {amount} is more than the {limit} available "
            f"({terms.max_ratio * 100:.0f}% of the cash value net of debt)",
            limit=str(limit.amount),
        )
    return PolicyLoan(
        loan_id=loan_id,
        policy_number=policy_number,
        kind=LoanKind.POLICY,
        principal=amount,
        annual_rate=terms.annual_rate,
        drawn_on=on,
        due_on=add_months(on, terms.term_months),
    )


def repay(loan: PolicyLoan, on: date, amount: Money, reference: str) -> PolicyLoan:
    """The loan after a repayment on ``on``: interest accrued first, then principal."""
    _require_open(loan)
    if on < loan.drawn_on or (loan.repayments and on < loan.repayments[-1].on):
        raise ValidationFailed(
            "billing.repayment_out_of_order",
            "还款日期早于借款日或上一笔还款",
            "a repayment cannot be dated before the loan or the last repayment",
        )
    if amount.amount <= 0:
        raise ValidationFailed(
            "billing.repayment_not_positive", "还款金额须大于零", "a repayment must be above zero"
        )
    position = loan.position(on)
    if amount > position.balance:
        raise ValidationFailed(
            "billing.repayment_exceeds_balance",
            f"还款金额 {amount} 超过借款本息 {position.balance}",
            f"the repayment of {amount} is more than the {position.balance} owed",
            balance=str(position.balance.amount),
        )
    to_interest = min(amount, position.unpaid_interest)
    repayment = Repayment(on, amount, to_interest, amount - to_interest, reference)
    return replace(loan, repayments=(*loan.repayments, repayment))


# --------------------------------------------------------------------------- renewal


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an expected move did not happen: a stable code and the reason in both languages."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class LoanRenewal:
    """The outcome of 续贷: the old loan (closed into the new one when renewed) and the new
    loan — or the refusal, the old loan unchanged (it becomes overdue after its due date)."""

    loan: PolicyLoan
    renewed: PolicyLoan | None = None
    refusal: Refusal | None = None


def renew_loan(
    loan: PolicyLoan,
    new_loan_id: str,
    cash_value: Money,
    other_debt: Money,
    terms: PolicyLoanTerms | None,
    in_force: bool,
) -> LoanRenewal:
    """Renew a loan at its due date: the whole balance (principal + interest) becomes the
    principal of a new loan for another term at the product's current loan rate.  Cash value,
    other debt (the policy's other loans) and ``in_force`` are as of the due date."""
    terms = _require_loans(terms)
    _require_open(loan)
    if loan.repayments and loan.repayments[-1].on > loan.due_on:
        raise InvalidTransition(
            "billing.renewal_after_due_date",
            f"借款 {loan.loan_id} 到期后已有还款，不能再续贷",
            f"loan {loan.loan_id} has repayments after its due date; it cannot be renewed",
        )
    if not in_force:
        return LoanRenewal(loan, refusal=RENEWAL_NOT_IN_FORCE)
    position = loan.position(loan.due_on)
    limit = max_loanable(cash_value, other_debt, terms.max_ratio)
    if position.balance > limit:
        return LoanRenewal(
            loan,
            refusal=Refusal(
                "billing.renewal_exceeds_limit",
                f"续贷金额 {position.balance} 超过可贷额度 {limit}，请归还借款",
                f"the renewed balance of {position.balance} is above the {limit} available; "
                "please repay the loan",
            ),
        )
    carried = Repayment(
        loan.due_on,
        position.balance,
        position.unpaid_interest,
        position.outstanding_principal,
        new_loan_id,
        by_renewal=True,
    )
    renewed = PolicyLoan(
        loan_id=new_loan_id,
        policy_number=loan.policy_number,
        kind=loan.kind,
        principal=position.balance,
        annual_rate=terms.annual_rate,
        drawn_on=loan.due_on,
        due_on=add_months(loan.due_on, terms.term_months),
    )
    closed = replace(loan, repayments=(*loan.repayments, carried), renewed_as=new_loan_id)
    return LoanRenewal(closed, renewed)


RENEWAL_NOT_IN_FORCE = Refusal(
    "billing.renewal_policy_not_in_force",
    "保单不在有效状态，不能续贷",
    "the policy is not in force; the loan cannot be renewed",
)


# --------------------------------------------------------------------------- 保单垫交


@dataclass(frozen=True, slots=True)
class GraceOutcome:
    """What happens to a premium unpaid at the end of its grace period: a premium loan pays
    it (``loan``, and the invoice comes back paid), or the policy lapses on ``lapses_on``
    for the reason in ``refusal``."""

    invoice: Invoice
    loan: PolicyLoan | None = None
    lapses_on: date | None = None
    refusal: Refusal | None = None

    @property
    def lapsed(self) -> bool:
        return self.loan is None


def end_of_grace(
    invoice: Invoice,
    today: date,
    terms: BillingTerms,
    cash_value: Money,
    debt: Money,
    loan_id: str,
    elected: bool = True,
) -> GraceOutcome:
    """Settle a premium still unpaid after its grace period.  ``cash_value`` and ``debt`` are
    as of the last day of grace; ``elected`` is False when the holder declined 保单垫交."""
    if invoice_status(invoice, today, terms.grace_days) is not InvoiceStatus.OVERDUE:
        raise InvalidTransition(
            "billing.grace_not_over",
            f"应交日为 {invoice.due_on} 的保费已交清或仍在宽限期内",
            f"the premium due on {invoice.due_on} is paid or still within its grace period",
        )
    lapses_on = lapse_date(invoice.due_on, terms.grace_days)
    refusal = _premium_loan_refusal(terms, elected)
    last_day = grace_end(invoice.due_on, terms.grace_days)
    needed = invoice.outstanding_as_of(today)
    room = cash_value - debt
    if refusal is None and needed > room:
        refusal = Refusal(
            "billing.apl_insufficient_cash_value",
            f"现金价值扣除欠款后余额 {max(room, Money.ZERO)} 不足垫交保费 {needed}，保单效力中止",
            f"the cash value net of debt ({max(room, Money.ZERO)}) cannot pay the premium of "
            f"{needed}; the policy lapses",
        )
    if refusal is not None or terms.policy_loan is None:
        return GraceOutcome(invoice, lapses_on=lapses_on, refusal=refusal)
    loan = PolicyLoan(
        loan_id=loan_id,
        policy_number=invoice.instalment.policy_number,
        kind=LoanKind.PREMIUM,
        principal=needed,
        annual_rate=terms.policy_loan.annual_rate,
        drawn_on=last_day,
        due_on=add_months(last_day, terms.policy_loan.term_months),
    )
    (paid,) = apply_payment([invoice], Payment(last_day, needed, loan_id, "premium_loan"))
    return GraceOutcome(paid, loan=loan)


def _premium_loan_refusal(terms: BillingTerms, elected: bool) -> Refusal | None:
    if not terms.automatic_premium_loan:
        return Refusal(
            "billing.apl_not_offered",
            "宽限期满仍未交费，本产品不提供保费自动垫交，保单效力中止",
            "the premium is unpaid after the grace period and the product has no automatic "
            "premium loan; the policy lapses",
        )
    if not elected:
        return Refusal(
            "billing.apl_declined",
            "宽限期满仍未交费，投保人未选择保费自动垫交，保单效力中止",
            "the premium is unpaid after the grace period and the holder declined the "
            "automatic premium loan; the policy lapses",
        )
    return None


def _require_loans(terms: PolicyLoanTerms | None) -> PolicyLoanTerms:
    if terms is None:
        raise InvalidTransition(
            "billing.loan_not_offered",
            "该产品不提供保单贷款",
            "this product does not offer policy loans",
        )
    return terms


def _require_open(loan: PolicyLoan) -> None:
    if loan.closed:
        raise InvalidTransition(
            "billing.loan_closed",
            f"借款 {loan.loan_id} 已还清或已续贷",
            f"loan {loan.loan_id} is repaid or renewed",
        )


__all__ = [
    "LOAN_STATUS_NAMES",
    "RENEWAL_NOT_IN_FORCE",
    "GraceOutcome",
    "LoanKind",
    "LoanPosition",
    "LoanRenewal",
    "LoanStatus",
    "PolicyLoan",
    "Refusal",
    "Repayment",
    "end_of_grace",
    "max_loanable",
    "policy_debt",
    "renew_loan",
    "repay",
    "take_loan",
]
