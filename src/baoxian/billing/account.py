"""The account value of an account-type product (个人养老账户), its dividends and its yearly
statement (年度报告 / 投资报告) — pure.

The rules, as the CBIRC's 2021 business plan for 专属商业养老保险 (account-type management,
a guaranteed part plus a floating part, charges disclosed) and universal-life practice state
them:

* **Premiums.**  Each premium is credited in full and the initial charge (初始费用, a share of
  the premium, rounded half-up to the fen) is debited the same day.
* **Interest.**  Interest accrues by the day on the balance at the end of each day (ACT/365,
  simple within the period) and is credited at the end of each month (按日计息、按月结算):
  the guaranteed part at the guaranteed rate (保证利率) and the excess up to the settlement rate
  the insurer declares for the month (结算利率, never below the guarantee), each rounded
  half-up to the fen.  Credited interest earns interest from the next month (monthly
  compounding).  When the account is converted to a pension in the middle of a month, the
  broken month is credited at the rate the caller passes (the guarantee, unless a rate has
  been declared).
* **Cash value (现金价值).**  The account value less the surrender charge (退保费用) of the
  policy year; no charge after the years the product lists.
* **Dividends (红利).**  The insurer declares a total for the year; it is shared among the
  policies in proportion to a basis (e.g. the account value at the declaration), to the fen
  by largest remainder, so the shares sum exactly to the total.  A policy's share is paid in
  cash (a payable) or accumulated at interest in the account, as the holder chose.
* **Statement (投资报告).**  For a period: opening value, premiums, initial charges,
  guaranteed and excess interest, dividends, withdrawals, conversion to a pension, closing
  value — and, as memo lines outside the identity, loans outstanding, the cash value and the
  net value.  Identity kept and tested: closing = opening + Σ movements.

>>> from datetime import date
>>> from decimal import Decimal
>>> from baoxian.catalog.schema import AccountTerms
>>> terms = AccountTerms(guaranteed_rate=Decimal("0.02"), initial_charge=Decimal("0.01"))
>>> account = credit_premium(open_account("P1", date(2026, 3, 1)), date(2026, 3, 1),
...                          Money.of("12000"), terms, "R1")
>>> account.value()
Money('11880.00')
>>> march = settle_month(account, date(2026, 3, 1), Decimal("0.045"), terms)
>>> [(e.kind.value, e.amount) for e in march.entries[2:]]
[('guaranteed_interest', Money('20.18')), ('excess_interest', Money('25.22'))]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from baoxian.billing.interest import interest_on_balance_days
from baoxian.billing.payables import Payable, PayoutKind
from baoxian.catalog.schema import AccountTerms, DividendOption
from baoxian.shared.clock import add_months
from baoxian.shared.errors import InvalidTransition, ValidationFailed
from baoxian.shared.money import Money, total


class EntryKind(StrEnum):
    PREMIUM = "premium"
    INITIAL_CHARGE = "initial_charge"
    GUARANTEED_INTEREST = "guaranteed_interest"
    EXCESS_INTEREST = "excess_interest"
    DIVIDEND = "dividend"
    WITHDRAWAL = "withdrawal"
    CONVERSION = "conversion"


DEBITS = frozenset({EntryKind.INITIAL_CHARGE, EntryKind.WITHDRAWAL, EntryKind.CONVERSION})
ENTRY_NAMES: dict[EntryKind, tuple[str, str]] = {
    EntryKind.PREMIUM: ("保险费", "Premiums"),
    EntryKind.INITIAL_CHARGE: ("初始费用", "Initial charges"),
    EntryKind.GUARANTEED_INTEREST: ("保证利息", "Guaranteed interest"),
    EntryKind.EXCESS_INTEREST: ("浮动收益（结算利率超过保证利率部分）", "Excess interest"),
    EntryKind.DIVIDEND: ("红利（累积生息）", "Dividends accumulated"),
    EntryKind.WITHDRAWAL: ("部分领取", "Withdrawals"),
    EntryKind.CONVERSION: ("转换为养老年金", "Converted to a pension"),
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One movement of the account; ``amount`` is never negative, the kind says its sign."""

    on: date
    kind: EntryKind
    amount: Money
    reference: str = ""

    @property
    def signed(self) -> Money:
        return -self.amount if self.kind in DEBITS else self.amount


@dataclass(frozen=True, slots=True)
class Account:
    """A policy's account: its entries in date order; interest is credited up to the day
    before ``interest_from``."""

    policy_number: str
    opened_on: date
    interest_from: date
    entries: tuple[Entry, ...] = ()
    closed_on: date | None = None

    def value(self, on: date | None = None) -> Money:
        """The account value at the end of ``on`` (of every entry when ``on`` is None)."""
        return total([e.signed for e in self.entries if on is None or e.on <= on])

    def balance_days(self, start: date, end: date) -> Decimal:
        """Σ over the days ``start``..``end`` (inclusive) of the value at the end of the day."""
        if end < start:
            return Decimal(0)
        changes = sorted(
            ((e.on, e.signed.amount) for e in self.entries if start <= e.on <= end),
            key=lambda change: change[0],
        )
        balance = self.value(start - timedelta(days=1)).amount
        result, day = Decimal(0), start
        for on, amount in changes:
            result += balance * (on - day).days
            balance += amount
            day = on
        return result + balance * ((end - day).days + 1)


def open_account(policy_number: str, opened_on: date) -> Account:
    return Account(policy_number, opened_on, interest_from=opened_on)


def credit_premium(
    account: Account, on: date, amount: Money, terms: AccountTerms, reference: str
) -> Account:
    """A premium into the account, less the initial charge."""
    _require_positive(amount, "billing.premium_not_positive", "保险费", "a premium")
    charge = amount.times(terms.initial_charge)
    entries = [Entry(on, EntryKind.PREMIUM, amount, reference)]
    if not charge.is_zero():
        entries.append(Entry(on, EntryKind.INITIAL_CHARGE, charge, reference))
    return _post(account, *entries)


def withdraw(account: Account, on: date, amount: Money, reference: str) -> Account:
    """A partial withdrawal (部分领取), never more than the value on the day (nor than the
    value on any later day already entered)."""
    _require_positive(amount, "billing.withdrawal_not_positive", "领取金额", "a withdrawal")
    later = {e.on for e in account.entries if e.on > on}
    available = min(account.value(day) for day in {on, *later})
    if amount > available:
        raise ValidationFailed(
            "billing.withdrawal_exceeds_value",
            f"领取金额 {amount} 超过账户价值 {available}",
            f"the withdrawal of {amount} is more than the account value of {available}",
        )
    return _post(account, Entry(on, EntryKind.WITHDRAWAL, amount, reference))


def credit_dividend(account: Account, on: date, amount: Money, reference: str) -> Account:
    """A dividend accumulated at interest in the account (累积生息)."""
    if amount.is_negative():
        raise ValidationFailed(
            "billing.dividend_negative", "红利不能为负数", "a dividend cannot be negative"
        )
    if amount.is_zero():
        return account
    return _post(account, Entry(on, EntryKind.DIVIDEND, amount, reference))


def credit_interest(
    account: Account, through: date, settlement_rate: Decimal, guaranteed_rate: Decimal
) -> Account:
    """Credit the interest of the days from ``interest_from`` to ``through`` (inclusive):
    the guaranteed part and the excess up to ``settlement_rate``, dated ``through``."""
    _require_open(account)
    if through < account.interest_from:
        raise InvalidTransition(
            "billing.interest_already_credited",
            f"{through} 之前的利息已结算",
            f"interest up to {through} has already been credited",
        )
    if settlement_rate < guaranteed_rate:
        raise ValidationFailed(
            "billing.rate_below_guarantee",
            f"结算利率 {settlement_rate} 低于保证利率 {guaranteed_rate}",
            f"the settlement rate {settlement_rate} is below the guaranteed {guaranteed_rate}",
        )
    days = account.balance_days(account.interest_from, through)
    guaranteed = interest_on_balance_days(days, guaranteed_rate)
    excess = interest_on_balance_days(days, settlement_rate - guaranteed_rate)
    entries = [
        Entry(through, kind, amount)
        for kind, amount in (
            (EntryKind.GUARANTEED_INTEREST, guaranteed),
            (EntryKind.EXCESS_INTEREST, excess),
        )
        if not amount.is_zero()
    ]
    credited = replace(account, interest_from=through + timedelta(days=1))
    return replace(credited, entries=(*credited.entries, *entries))


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return add_months(day.replace(day=1), 1) - timedelta(days=1)


def settle_month(
    account: Account, month: date, settlement_rate: Decimal, terms: AccountTerms
) -> Account:
    """Month-end settlement (月结): interest for the rest of ``month``'s month at the declared
    settlement rate."""
    return credit_interest(account, month_end(month), settlement_rate, terms.guaranteed_rate)


def close_for_conversion(
    account: Account, on: date, broken_period_rate: Decimal, terms: AccountTerms
) -> tuple[Account, Money]:
    """Close the account on ``on`` to buy a pension: interest up to the day before at
    ``broken_period_rate``, then the whole value debited.  Returns the closed account and the
    value converted."""
    _require_open(account)
    day_before = on - timedelta(days=1)
    if day_before >= account.interest_from:
        account = credit_interest(account, day_before, broken_period_rate, terms.guaranteed_rate)
    if any(e.on > on for e in account.entries):
        raise InvalidTransition(
            "billing.account_backdated",
            f"账户在 {on} 之后仍有记账，不能于该日转换",
            f"the account has entries after {on}; it cannot be converted on that day",
        )
    value = account.value(on)
    closed = _post(account, Entry(on, EntryKind.CONVERSION, value, "conversion"))
    return replace(closed, closed_on=on), value


def cash_value(account_value: Money, policy_year: int, terms: AccountTerms) -> Money:
    """现金价值: the account value less the surrender charge of the policy year."""
    charges = terms.surrender_charges
    ratio = charges[policy_year - 1] if 1 <= policy_year <= len(charges) else Decimal(0)
    return account_value - account_value.times(ratio)


def _post(account: Account, *entries: Entry) -> Account:
    _require_open(account)
    for entry in entries:
        if entry.on < account.interest_from:
            raise InvalidTransition(
                "billing.account_backdated",
                f"{entry.on} 所在期间的利息已结算，不能再记入该日",
                f"interest has been credited for {entry.on}; nothing can be dated then",
            )
    return replace(account, entries=(*account.entries, *entries))


def _require_open(account: Account) -> None:
    if account.closed_on is not None:
        raise InvalidTransition(
            "billing.account_closed",
            f"账户已于 {account.closed_on} 转换为养老年金",
            f"the account was converted to a pension on {account.closed_on}",
        )


def _require_positive(amount: Money, code: str, zh: str, en: str) -> None:
    if amount.amount <= 0:
        raise ValidationFailed(code, f"{zh}须大于零", f"{en} must be more than zero")


# --------------------------------------------------------------------------- dividends


@dataclass(frozen=True, slots=True)
class DividendShare:
    """One policy's share of a declared dividend, in proportion to its ``basis``."""

    policy_number: str
    basis: Money
    amount: Money


def allocate_dividends(
    declared: Money, bases: Sequence[tuple[str, Money]]
) -> tuple[DividendShare, ...]:
    """Share ``declared`` among policies in proportion to their bases: each share rounded
    down to the fen, then the fen left over go one each to the largest remainders (ties to
    the earlier policy), so the shares sum exactly to the declared total."""
    if declared.is_negative() or any(basis.is_negative() for _, basis in bases):
        raise ValidationFailed(
            "billing.dividend_negative",
            "红利总额与分配基数不能为负数",
            "the declared dividend and the bases cannot be negative",
        )
    whole = total([basis for _, basis in bases])
    if whole.amount <= 0:
        raise ValidationFailed(
            "billing.dividend_no_basis",
            "没有可分配红利的保单（分配基数合计为零）",
            "no policy to share the dividend (the bases sum to zero)",
        )
    exact = [Decimal(declared.fen) * basis.amount / whole.amount for _, basis in bases]
    fen = [int(x.to_integral_value(rounding=ROUND_DOWN)) for x in exact]
    left = declared.fen - sum(fen)
    by_remainder = sorted(range(len(bases)), key=lambda i: (-(exact[i] - fen[i]), i))
    for i in by_remainder[:left]:
        fen[i] += 1
    return tuple(
        DividendShare(number, basis, Money.from_fen(f))
        for (number, basis), f in zip(bases, fen, strict=True)
    )


def settle_dividend(
    share: DividendShare,
    option: DividendOption,
    on: date,
    terms: AccountTerms,
    account: Account | None,
) -> tuple[Account | None, Payable | None]:
    """Apply a policy's dividend as the holder chose: ``cash`` is a payable to the holder
    (key ``policy:dividend:date``); ``accumulate`` is credited to the account."""
    offered = terms.dividends.options if terms.dividends is not None else []
    if option not in offered:
        raise ValidationFailed(
            "billing.dividend_option_not_offered",
            f"该产品不提供红利领取方式 {option}",
            f"the product does not offer the dividend option {option}",
        )
    if option == "cash":
        if share.amount.is_zero():
            return account, None
        return account, Payable(
            share.policy_number, PayoutKind.DIVIDEND, on, share.amount, payee="holder"
        )
    if account is None:
        raise ValidationFailed(
            "billing.dividend_needs_account",
            "累积生息的红利须记入保单账户",
            "an accumulated dividend needs the policy's account",
        )
    return credit_dividend(account, on, share.amount, f"dividend:{on.isoformat()}"), None


# --------------------------------------------------------------------------- statement


@dataclass(frozen=True, slots=True)
class StatementLine:
    code: str
    zh: str
    en: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Statement:
    """年度报告 / 投资报告 of one period: closing = opening + Σ movements; the memo lines
    (loans, cash value, net value) are shown beside it and are not part of the identity."""

    policy_number: str
    start: date
    end: date
    opening: StatementLine
    movements: tuple[StatementLine, ...]
    closing: StatementLine
    memo: tuple[StatementLine, ...]

    @property
    def lines(self) -> tuple[StatementLine, ...]:
        """Every line in the order the report prints them."""
        return (self.opening, *self.movements, self.closing, *self.memo)


def policy_year_period(inception: date, policy_year: int) -> tuple[date, date]:
    """The first and last day of a policy year (保单年度), from 1."""
    start = add_months(inception, 12 * (policy_year - 1))
    return start, add_months(inception, 12 * policy_year) - timedelta(days=1)


def annual_statement(
    account: Account,
    start: date,
    end: date,
    terms: AccountTerms,
    policy_year: int,
    loans_outstanding: Money = Money.ZERO,
) -> Statement:
    """The statement of the days ``start``..``end`` (inclusive), usually a policy year.  The
    cash value uses ``policy_year``'s surrender charge; ``loans_outstanding`` is the policy's
    loan balance at ``end`` (保单贷款本息, not deducted from the account)."""
    within = [e for e in account.entries if start <= e.on <= end]
    movements = tuple(
        StatementLine(
            kind.value,
            *ENTRY_NAMES[kind],
            total([e.signed for e in within if e.kind is kind]),
        )
        for kind in EntryKind
    )
    closing = account.value(end)
    cash = cash_value(closing, policy_year, terms)
    return Statement(
        policy_number=account.policy_number,
        start=start,
        end=end,
        opening=StatementLine(
            "opening", "期初账户价值", "Opening value", account.value(start - timedelta(days=1))
        ),
        movements=movements,
        closing=StatementLine("closing", "期末账户价值", "Closing value", closing),
        memo=(
            StatementLine("loans", "保单贷款本息余额", "Loans outstanding", loans_outstanding),
            StatementLine("cash_value", "现金价值", "Cash value", cash),
            StatementLine(
                "net_value",
                "扣除借款后的现金价值",
                "Cash value net of loans",
                cash - loans_outstanding,
            ),
        ),
    )


__all__ = [
    "DEBITS",
    "ENTRY_NAMES",
    "Account",
    "DividendShare",
    "Entry",
    "EntryKind",
    "Statement",
    "StatementLine",
    "allocate_dividends",
    "annual_statement",
    "cash_value",
    "close_for_conversion",
    "credit_dividend",
    "credit_interest",
    "credit_premium",
    "month_end",
    "open_account",
    "policy_year_period",
    "settle_dividend",
    "settle_month",
    "withdraw",
]
