"""``baoxian billing …`` (收付费台账): schedule a policy's premiums, pay an instalment, run the
billing day, take, repay and renew policy loans, close an account product's policy year.
Thin: parse, call :class:`~baoxian.billing.ledger_service.LedgerService`, print (zh / en).
A domain error prints its message and stable code and exits 1; a declined charge exits 1."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from baoxian.billing.dividends import DividendDeclarations
from baoxian.billing.ledger_service import (
    BillingDay,
    InstalmentPayment,
    LedgerService,
    LoanState,
    RenewalOutcome,
    YearEnd,
)
from baoxian.billing.ledgers import StoredInstalment, StoredLoan
from baoxian.billing.ports import PaymentGateway
from baoxian.billing.reinstatement import Reinstatements
from baoxian.billing.schedule import ReinstatementQuote
from baoxian.bootstrap import App, build
from baoxian.settings import Settings
from baoxian.shared.clock import local_date
from baoxian.shared.errors import DomainError
from baoxian.shared.ids import new_id
from baoxian.shared.money import Money

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")

billing_app = typer.Typer(
    help="收付费台账 Billing ledgers: premium schedules, payments, the billing day, loans.",
    no_args_is_help=True,
)
loan_app = typer.Typer(help="保单贷款 Policy loans: take, repay, renew.", no_args_is_help=True)
billing_app.add_typer(loan_app, name="loan")

OnOption = Annotated[
    str | None, typer.Option("--on", help="业务日期 Business date YYYY-MM-DD (default: today)")
]
AmountOption = Annotated[str, typer.Option("--amount", help="金额 Amount in yuan, e.g. 1000.50")]

STATUS_NAMES: dict[str, str] = {
    "due": "待交 due",
    "in_grace": "宽限期 in grace",
    "paid": "已交 paid",
    "lapsed": "效力中止 lapsed",
    "waived": "豁免 waived",
    "open": "借款中 open",
    "overdue": "逾期 overdue",
    "repaid": "已还清 repaid",
    "renewed": "已续贷 renewed",
}


# --------------------------------------------------------------------------- premiums


@billing_app.command("schedule")
def schedule(
    policy_number: str,
    years: Annotated[int, typer.Option(min=1, max=100, help="交费年数 Policy years")] = 1,
) -> None:
    """建立交费计划 Write a policy's premium schedule into the ledger (once)."""
    service, _ = _service()
    scheduled = _call(lambda: service.schedule_policy(policy_number, years))
    _print_instalments(scheduled.instalments, f"交费计划 Premium schedule {policy_number}")
    console.print(
        f"[green]✓[/] 新写入 {scheduled.written} 期 written {scheduled.written} new instalments"
    )


@billing_app.command("pay")
def pay(policy_number: str, seq: int, on: OnOption = None) -> None:
    """交纳一期保费 Charge one instalment to the policyholder (once per instalment)."""
    service, app = _service()
    day = _date(on, "--on", service)
    gateway: PaymentGateway = app.billing.gateway
    payment = _call(lambda: service.pay_instalment(policy_number, seq, gateway, day))
    _print_payment(payment)
    if payment.declined is not None:
        raise typer.Exit(1)


@billing_app.command("reinstate")
def reinstate(
    policy_number: str,
    on: OnOption = None,
    quote_only: Annotated[
        bool, typer.Option("--quote", help="只试算不扣款 Price it only, charge nothing")
    ] = False,
) -> None:
    """复效 Reinstate a lapsed policy: charge the arrears with interest, back in force."""
    service, app = _service()
    day = _date(on, "--on", service)
    reinstatements = Reinstatements(app.engine, app.policies, app.catalog, service.clock)
    if quote_only:
        _print_reinstatement_quote(_call(lambda: reinstatements.quote(policy_number, day)))
        return
    gateway: PaymentGateway = app.billing.gateway
    done = _call(lambda: reinstatements.reinstate(policy_number, gateway, day))
    _print_reinstatement_quote(done.quote)
    if done.declined is not None:
        err_console.print(
            f"[red]✗ 扣款被拒 declined: {done.declined.zh}[/]\n  {done.declined.en}\n"
            f"  [dim]code: {done.declined.code}[/]"
        )
        raise typer.Exit(1)
    console.print(
        f"[green]✓[/] 保单 {policy_number} 已复效 reinstated on {day} (订单 order {done.order_id})"
    )


def _print_reinstatement_quote(quote: ReinstatementQuote) -> None:
    table = Table(title=f"复效试算 Reinstatement on {quote.on} (中止 lapsed {quote.lapsed_on})")
    for header in ("应交日 Due", "欠费 Premium", "天数 Days", "利息 Interest"):
        table.add_column(header, justify="right")
    for line in quote.lines:
        table.add_row(str(line.due_on), _yuan(line.premium), str(line.days), _yuan(line.interest))
    table.add_row("[bold]合计 Total[/]", _yuan(quote.arrears), "", _yuan(quote.interest))
    console.print(table)
    console.print(f"应付 To pay: [bold]¥{_yuan(quote.total)}[/]")


@billing_app.command("show")
def show(policy_number: str, on: OnOption = None) -> None:
    """查看收付费台账 Show a policy's instalments, loans and premium position."""
    service, _ = _service()
    day = _date(on, "--on", service)
    _print_instalments(service.instalments(policy_number), f"交费计划 Premiums {policy_number}")
    loans = service.loans(policy_number)
    if loans:
        _print_loans(loans, day)
    position = service.premium_position(policy_number, day)
    console.print(
        f"截至 {day} 应交 due {position.due} = 已交 paid {position.paid} + "
        f"未交 outstanding {position.outstanding}"
    )


@billing_app.command("run")
def run(day: Annotated[str, typer.Option("--date", help="批处理日期 Run date YYYY-MM-DD")]) -> None:
    """收付费日批 The billing day: grace, automatic premium loans, lapses, overdue loans."""
    service, _ = _service()
    result = _call(lambda: service.run_billing_day(_date(day, "--date", service)))
    _print_day(result)


# --------------------------------------------------------------------------- loans


@loan_app.command("take")
def loan_take(
    policy_number: str,
    amount: AmountOption,
    on: OnOption = None,
    loan_id: Annotated[
        str | None, typer.Option("--loan-id", help="借款编号 Loan ID (a retry reuses it)")
    ] = None,
) -> None:
    """申请保单贷款 Take a policy loan within the limit (80 % of the cash value less debt)."""
    service, _ = _service()
    money, day = _amount(amount), _date(on, "--on", service)
    state = _call(lambda: service.take_loan(policy_number, money, day, loan_id))
    _print_loan_state("保单贷款已发放 Loan drawn", state)


@loan_app.command("repay")
def loan_repay(
    loan_id: str,
    amount: AmountOption,
    on: OnOption = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="还款流水号 Repayment reference (retry key)")
    ] = None,
) -> None:
    """归还保单贷款 Repay a loan: interest first, then principal."""
    service, _ = _service()
    money, day = _amount(amount), _date(on, "--on", service)
    state = _call(lambda: service.repay_loan(loan_id, money, day, reference))
    _print_loan_state("还款已入账 Repayment recorded", state)


@loan_app.command("renew")
def loan_renew(loan_id: str, on: OnOption = None) -> None:
    """续贷 Renew a loan at its due date (the balance becomes a new loan)."""
    service, _ = _service()
    day = _date(on, "--on", service)
    outcome = _call(lambda: service.renew_loan(loan_id, day))
    _print_renewal(outcome)
    if outcome.refusal is not None:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- account products


@billing_app.command("dividends")
def dividends(
    product_code: str,
    year: Annotated[int, typer.Option("--year", min=1, help="保单年度 Policy year")],
    declared: Annotated[str, typer.Option("--declared", help="宣告红利总额 Declared, in yuan")],
    on: OnOption = None,
) -> None:
    """红利分配 Share a declared dividend among a product's policies by account value."""
    service, _ = _service()
    day = _date(on, "--on", service)
    amount = _amount(declared)
    declarations = DividendDeclarations(service.engine, service)
    done = _call(lambda: declarations.declare(product_code, year, amount, day))
    table = Table(title=f"红利分配 Dividends of {product_code}, policy year {year}")
    for header in ("保单号 Policy", "年末账户价值 Closing value", "红利 Dividend"):
        table.add_column(header, justify="right")
    for share in done.shares[:20]:
        table.add_row(share.policy_number, _yuan(share.basis), _yuan(share.amount))
    console.print(table)
    more = len(done.shares) - 20
    if more > 0:
        console.print(f"…另有 {more:,} 张保单 and {more:,} more policies")
    console.print(
        f"[green]✓[/] 宣告 declared ¥{_yuan(done.declared)}，分配 allocated "
        f"¥{_yuan(done.allocated)} 至 to {len(done.shares):,} 张保单 policies；"
        f"新写入 newly written {done.written:,}"
    )


@billing_app.command("year-end")
def year_end(
    policy_number: str,
    year: Annotated[int, typer.Option("--year", min=1, help="保单年度 Policy year")],
    dividend: Annotated[
        str | None, typer.Option("--dividend", help="本单分红 The policy's dividend (yuan)")
    ] = None,
    option: Annotated[
        Literal["cash", "accumulate"] | None,
        typer.Option("--option", help="红利领取方式 cash or accumulate (default: product's)"),
    ] = None,
) -> None:
    """年度结算 Close a policy year: statement (投资报告) and dividend (红利)."""
    service, _ = _service()
    share = None if dividend is None else _amount(dividend, allow_zero=True)
    closed = _call(lambda: service.post_year_end(policy_number, year, share, option))
    _print_year_end(closed)


# --------------------------------------------------------------------------- printing


def _print_instalments(rows: Sequence[StoredInstalment], title: str) -> None:
    table = Table(title=title)
    for header in ("期次 Seq", "应交日 Due", "金额 Amount", "已交 Paid", "交费日 Paid on"):
        table.add_column(header, justify="right")
    table.add_column("宽限期至 Grace until")
    table.add_column("状态 Status")
    for row in rows:
        table.add_row(
            str(row.seq),
            row.due_on.isoformat(),
            _yuan(row.amount),
            _yuan(row.paid),
            "" if row.paid_on is None else row.paid_on.isoformat(),
            row.grace_until.isoformat(),
            _status(row.status) + (" (垫交 auto loan)" if row.paid_by == "auto_loan" else ""),
        )
    console.print(table)


def _print_payment(payment: InstalmentPayment) -> None:
    row = payment.instalment
    if payment.declined is not None:
        err_console.print(
            f"[red]✗ {payment.declined.zh}[/]\n  {payment.declined.en}\n"
            f"  [dim]code: {payment.declined.code} · order: {payment.order_id}[/]"
        )
        return
    reference = f" · 流水号 reference {payment.reference}" if payment.reference else ""
    console.print(
        f"[green]✓[/] 保单 {row.policy_number} 第{row.seq}期保费 {_yuan(row.amount)} 元已交清 "
        f"instalment {row.seq} of {row.policy_number} is paid ({row.paid_on}){reference}"
    )


def _print_day(day: BillingDay) -> None:
    table = Table(title=f"收付费日批 Billing day {day.on}")
    table.add_column("事项 What")
    table.add_column("数量 Count", justify="right")
    table.add_row("进入宽限期 Instalments into grace", f"{day.into_grace:,}")
    table.add_row("保费自动垫交 Automatic premium loans", f"{len(day.premium_loans):,}")
    table.add_row("宽限期满未交 Unpaid after grace", f"{len(day.lapsed):,}")
    table.add_row("中止的期次 Instalments lapsed", f"{day.instalments_lapsed:,}")
    table.add_row("效力中止的保单 Policies lapsed", f"{len(day.policies_lapsed):,}")
    table.add_row("贷款逾期 Loans overdue", f"{day.loans_overdue:,}")
    console.print(table)
    for settled in day.premium_loans:
        console.print(
            f"  垫交 auto loan {settled.loan_id}: {settled.policy_number} 第{settled.seq}期 "
            f"{_yuan(settled.amount)}"
        )
    for settled in day.lapsed:
        refusal = settled.refusal
        reason = "" if refusal is None else f" — {refusal.zh} ({refusal.code})"
        console.print(f"  中止 lapsed: {settled.policy_number} 第{settled.seq}期{reason}")


def _print_loans(loans: Sequence[StoredLoan], on: date) -> None:
    table = Table(title=f"保单贷款 Loans on {on}")
    table.add_column("借款 Loan")
    table.add_column("种类 Kind")
    for header in ("本金 Principal", "年利率 Rate", "借款日 Drawn", "到期日 Due", "本息 Balance"):
        table.add_column(header, justify="right")
    table.add_column("状态 Status")
    for stored in loans:
        loan = stored.loan
        table.add_row(
            loan.loan_id,
            "垫交 auto premium" if loan.kind.value == "premium" else "保单贷款 policy",
            _yuan(loan.principal),
            f"{loan.annual_rate * 100:.2f}%",
            loan.drawn_on.isoformat(),
            loan.due_on.isoformat(),
            _yuan(loan.balance(on)),
            _status(stored.status)
            + ("" if stored.renewal_failure_code is None else f" ({stored.renewal_failure_code})"),
        )
    console.print(table)


def _print_loan_state(title: str, state: LoanState) -> None:
    _print_loans([state.stored], state.position.on)
    position = state.position
    console.print(
        f"[green]✓[/] {title}: 本金 principal {position.principal} + 利息 interest "
        f"{position.accrued_interest} − 已还 repaid {position.repaid} = 余额 balance "
        f"{position.balance}"
    )


def _print_renewal(outcome: RenewalOutcome) -> None:
    if outcome.refusal is not None:
        err_console.print(
            f"[red]✗ {outcome.refusal.zh}[/]\n  {outcome.refusal.en}\n"
            f"  [dim]code: {outcome.refusal.code}[/]"
        )
        return
    assert outcome.renewed is not None
    renewed = outcome.renewed.loan
    console.print(
        f"[green]✓[/] 已续贷 renewed {outcome.loan.loan_id} → {renewed.loan_id}: "
        f"本金 principal {renewed.principal}, {renewed.drawn_on} – {renewed.due_on}"
    )


def _print_year_end(closed: YearEnd) -> None:
    statement = closed.statement
    period = f"{statement.start}–{statement.end}"
    table = Table(title=f"年度报告 Statement {statement.policy_number} {period}")
    table.add_column("项目 Line")
    table.add_column("金额 Amount", justify="right")
    for line in statement.lines:
        table.add_row(f"{line.zh} {line.en}", _yuan(line.amount))
    console.print(table)
    if closed.dividend is not None:
        console.print(
            f"红利 Dividend {_yuan(closed.dividend.amount)} ({closed.dividend.option}) "
            f"分配日 allocated on {closed.dividend.allocated_on}"
        )
    done = "已写入 written" if closed.written else "此前已写入 already written"
    console.print(f"[green]✓[/] {done}")


# --------------------------------------------------------------------------- parsing


def _service() -> tuple[LedgerService, App]:
    app = build(Settings.from_env())
    clock = app.policies.clock
    return LedgerService(app.engine, app.policies, app.catalog, clock, new_id), app


def _call(action: Callable[[], T]) -> T:
    try:
        return action()
    except DomainError as error:
        err_console.print(f"[red]✗ {error.zh}[/]\n  {error.en}\n  [dim]code: {error.code}[/]")
        raise typer.Exit(1) from None


def _date(value: str | None, option: str, service: LedgerService) -> date:
    if value is None:
        return local_date(service.clock())
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"日期格式应为 YYYY-MM-DD / use YYYY-MM-DD, not {value!r}", param_hint=option
        ) from None


def _amount(value: str, allow_zero: bool = False) -> Money:
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:
        amount = Decimal("NaN")
    smallest = 0 if allow_zero else Decimal("0.01")
    if not amount.is_finite() or amount < smallest or amount != amount.quantize(Decimal("0.01")):
        raise typer.BadParameter(
            f"金额须大于零且最多两位小数 / the amount must be above zero with at most two "
            f"decimals: {value!r}",
            param_hint="--amount",
        )
    return Money(amount)


def _yuan(amount: Money) -> str:
    return f"{amount.amount:,.2f}"


def _status(code: str) -> str:
    return STATUS_NAMES.get(code, code)


__all__ = ["billing_app"]
