"""The `baoxian` command line (Typer + Rich).  Thin: parse, call a service, print.

Every domain error is printed in Chinese and English with its stable code and exit status 1;
bad arguments exit 2 with Typer's usage message; nothing prints a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from baoxian.api.commands import api_app
from baoxian.billing.commands import billing_app
from baoxian.bootstrap import App, build
from baoxian.catalog.repository import Problem
from baoxian.catalog.schema import Product, json_schema
from baoxian.catalog.services import validate_catalog
from baoxian.claims.case import ClaimCase
from baoxian.claims.reasons import step_texts
from baoxian.outreach.commands import outreach_app
from baoxian.outreach.delivery_commands import add_delivery_commands
from baoxian.policies.model import Beneficiary, Policy, Quote
from baoxian.policies.schemas import InsuredPersonIn, PersonIn, QuoteRequestFile
from baoxian.policies.services import InsuredInput
from baoxian.radar.commands import radar_app
from baoxian.settings import Settings
from baoxian.shared.errors import DomainError
from baoxian.shared.identity import mask_phone
from baoxian.shared.money import Money

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="baoxian",
    help="保险服务平台 Baoxian — 产品、承保、保全。Insurance service platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
catalog_app = typer.Typer(
    help="产品目录 Product catalogue: list, show, validate.", no_args_is_help=True
)
policy_app = typer.Typer(help="保单 Policies: show, renew, cancel, lapse.", no_args_is_help=True)
endorse_app = typer.Typer(help="保全 Endorsements (policy changes).", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(policy_app, name="policy")
app.add_typer(endorse_app, name="endorse")
app.add_typer(api_app, name="api")
app.add_typer(radar_app, name="radar")
app.add_typer(billing_app, name="billing")
add_delivery_commands(outreach_app)
app.add_typer(outreach_app, name="outreach")

T = TypeVar("T")
DateOption = Annotated[str, typer.Option(help="生效日期 Effective date, YYYY-MM-DD")]
CatalogDir = Annotated[
    Path | None, typer.Option("--catalog", help="产品目录 Catalogue folder (default ./catalog)")
]


def _app(catalog: Path | None = None) -> App:
    return build(Settings.from_env(catalog_dir=catalog))


def parse_date(value: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"日期格式应为 YYYY-MM-DD / {what} must be YYYY-MM-DD: {value!r}"
        ) from None


def parse_money(value: str) -> Money:
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise typer.BadParameter(f"金额无效 / invalid amount: {value!r}") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise typer.BadParameter(
            f"金额须为非负且最多两位小数 / amount must be ≥ 0 with ≤ 2 decimals: {value!r}"
        )
    return Money(amount)


# --------------------------------------------------------------------------- set-up


@app.command()
def init(catalog: CatalogDir = None) -> None:
    """创建或升级数据库并校验产品目录 Create or upgrade the database and check the catalogue."""
    application = _app(catalog)
    products = application.catalog.products()
    console.print(
        f"[green]✓[/] 数据库就绪 Database ready: {application.settings.database_url}\n"
        f"[green]✓[/] 产品 {len(products)} 个已加载 Products loaded: "
        + ", ".join(p.code for p in products)
    )


@app.command()
def demo(
    policies: Annotated[
        int, typer.Option(min=1, max=2_000_000, help="保单数 Number of policies")
    ] = 50_000,
    seed: Annotated[int, typer.Option(help="随机种子 Seed (same seed, same book)")] = 20261123,
    as_of: Annotated[str, typer.Option(help="业务日期 Business date")] = "2026-03-01",
    catalog: CatalogDir = None,
) -> None:
    """生成演示保单簿并汇总 Generate a realistic demo book and print a summary."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeElapsedColumn

    from baoxian.demo.book import load_demo_book, summarise

    application = _app(catalog)
    day = parse_date(as_of, "--as-of")
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("生成保单 Generating policies", total=policies)
        report = load_demo_book(
            application,
            seed=seed,
            policies=policies,
            as_of=day,
            progress=lambda n: progress.update(task, advance=n),
        )
    if report.skipped:
        console.print(
            "[yellow]演示保单簿已存在，未重复生成（删除 var/baoxian.db 可重新生成）[/]\n"
            "The demo book is already there; nothing was added (delete var/baoxian.db to redo)."
        )
    else:
        console.print(
            f"[green]✓[/] 新增保单 {report.issued:,} 张，拒保/转人工 {report.not_issued:,} 件 "
            f"Issued {report.issued:,} policies, {report.not_issued:,} quotes declined or referred "
            f"in {report.seconds:.1f}s"
        )
        claims = report.claims
        console.print(
            f"[green]✓[/] 演示赔案 {sum(claims.values()):,} 件：已赔付 {claims.get('paid', 0):,}，"
            f"转人工 {claims.get('referred', 0):,}，拒赔或零赔付 {claims.get('declined', 0):,} "
            f"Demo claims {sum(claims.values()):,}: {claims.get('paid', 0):,} paid, "
            f"{claims.get('referred', 0):,} referred, {claims.get('declined', 0):,} declined"
        )
    _print_summary(summarise(application))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址 Address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 Port")] = 8000,
    demo_mode: Annotated[
        bool, typer.Option("--demo/--no-demo", help="演示模式：显示发件箱 Show the demo outbox")
    ] = False,
    catalog: CatalogDir = None,
) -> None:
    """启动门户、云柜面与接口 Serve the portal, the staff console and the REST API."""
    import uvicorn

    from baoxian.server import create_server

    application = _app(catalog)
    if demo_mode:
        _print_demo_sign_ins(application)
    console.print(
        f"门户 Portal: http://{host}:{port}/   云柜面 Console: http://{host}:{port}/console\n"
        f"接口 API: http://{host}:{port}/api/v1/openapi.json"
    )
    server = create_server(application, demo=demo_mode)
    uvicorn.run(server, host=host, port=port, log_level="warning")


def _print_demo_sign_ins(application: App) -> None:
    from baoxian.demo.signins import demo_customers, ensure_demo_staff

    table = Table(title="演示账号 Demo sign-ins（验证码显示在登录页 codes show on the page）")
    table.add_column("入口 Where")
    table.add_column("账号 Sign in with", no_wrap=True)
    table.add_column("密码 Password", no_wrap=True)
    table.add_column("说明 Notes", overflow="fold")
    for customer in demo_customers(application):
        notes = f"{customer.name} {customer.id_masked} {customer.policy_number}"
        table.add_row("门户 Portal", customer.mobile, "短信验证码 SMS code", notes)
    for staff in ensure_demo_staff(application):
        notes = f"{staff.name} · {', '.join(staff.roles)} · {staff.authority}"
        table.add_row("云柜面 Console", staff.user_id, staff.password, notes)
    console.print(table)


def _print_summary(rows: list[dict[str, Any]]) -> None:
    from baoxian.policies.model import STATUS_ZH, PolicyStatus

    table = Table(title="保单簿汇总 Book summary", show_footer=True)
    totals = [sum(row[key] for row in rows) for key in ("policies", "insured", "premium_fen")]
    table.add_column("产品 Product", "合计 Total")
    table.add_column("状态 Status")
    table.add_column("保单 Policies", f"{totals[0]:,}", justify="right")
    table.add_column("标的 Insured", f"{totals[1]:,}", justify="right")
    table.add_column(
        "年保费 Premium ¥", f"{Money.from_fen(totals[2]).amount:,.2f}", justify="right"
    )
    for row in rows:
        status = PolicyStatus(row["status"])
        table.add_row(
            f"{row['product_code']} {row['name'][:6]}",
            f"{STATUS_ZH[status]} {status.value}",
            f"{row['policies']:,}",
            f"{row['insured']:,}",
            f"{Money.from_fen(row['premium_fen']).amount:,.2f}",
        )
    console.print(table)


# --------------------------------------------------------------------------- catalogue


@catalog_app.command("list")
def catalog_list(catalog: CatalogDir = None) -> None:
    """列出产品 List products with their plan versions."""
    application = _app(catalog)
    table = Table(title="产品目录 Catalogue")
    for header in ("代码 Code", "名称 Name", "险种 Line", "计划版本 Versions"):
        table.add_column(header)
    for product in application.catalog.products():
        versions = ", ".join(
            f"{v.version} ({v.effective_from}–{v.effective_to or '…'})" for v in product.versions
        )
        table.add_row(product.code, f"{product.name.zh}\n{product.name.en}", product.line, versions)
    console.print(table)


@catalog_app.command("show")
def catalog_show(code: str, catalog: CatalogDir = None) -> None:
    """显示产品条款要点 Show a product's coverages, limits and rules."""
    product = _app(catalog).catalog.product(code)
    _print_product(product)


def _print_product(product: Product) -> None:
    console.print(f"[bold]{product.name.zh}[/]  {product.name.en}  ({product.code})")
    console.print(f"{product.description.zh}\n{product.description.en}")
    for plan in product.versions:
        table = Table(
            title=f"计划版本 Plan {plan.version}: "
            f"{plan.effective_from} – {plan.effective_to or '…'}"
        )
        for header in (
            "责任 Coverage",
            "保额 Sum insured",
            "免赔额 Deductible",
            "赔付比例 Ratio",
            "等待期 Waiting",
        ):
            table.add_column(header)
        for c in plan.coverages:
            si = c.sum_insured
            amount = (
                f"{si.fixed:,}"
                if si.fixed is not None
                else " / ".join(f"{x:,}" for x in si.choices)
                if si.choices
                else "申报 declared"
            )
            d = c.deductible
            deductible = (
                ", ".join(
                    part
                    for part in (
                        f"每次 {d.per_claim:,}" if d.per_claim is not None else "",
                        f"年度 {d.annual:,}" if d.annual is not None else "",
                        f"共用 shared:{d.shared}" if d.shared else "",
                    )
                    if part
                )
                or "—"
            )
            ratio = f"{c.payout_ratio.standard:.0%}"
            if c.payout_ratio.pre_existing is not None:
                ratio += f"（既往症 {c.payout_ratio.pre_existing:.0%}）"
            waiting = f"{c.waiting_period.days} 天" if c.waiting_period else "—"
            rider = f" [附加 rider: {c.rider}]" if c.rider else ""
            table.add_row(f"{c.name.zh}{rider}\n{c.name.en}", amount, deductible, ratio, waiting)
        console.print(table)
        for limit in plan.shared_limits:
            console.print(
                f"  共用限额 {limit.name.zh}: {limit.amount:,} ← {', '.join(limit.coverages)}"
            )
        for rule in plan.eligibility:
            console.print(
                f"  规则 {rule.code} ({rule.outcome}): {rule.require}  — {rule.message.zh}"
            )
        renewal = plan.renewal
        console.print(
            "  续保 Renewal: "
            + (
                f"保证续保 {renewal.guaranteed_years} 年 "
                f"guaranteed for {renewal.guaranteed_years} years"
                if renewal.guaranteed
                else "非保证续保 not guaranteed"
            )
        )


@catalog_app.command("validate")
def catalog_validate(
    folder: Annotated[Path, typer.Argument(help="产品目录 Catalogue folder")] = Path("catalog"),
) -> None:
    """校验产品文件 Validate every product file; problems name the file, path and cause."""
    result = _run(lambda: validate_catalog(folder))
    if result.problems:
        _print_problems(result.problems)
        raise typer.Exit(1)
    console.print(
        f"[green]✓[/] {len(result.products)} 个产品全部有效 products valid: "
        + ", ".join(sorted(result.products))
    )


def _print_problems(problems: list[Problem]) -> None:
    table = Table(
        title=f"产品目录有 {len(problems)} 处错误 {len(problems)} problems", show_lines=True
    )
    for header in ("文件 File", "位置 Path", "问题 Problem"):
        table.add_column(header, overflow="fold")
    for problem in problems:
        table.add_row(problem.file, problem.path or "(file)", problem.message)
    err_console.print(table)


@catalog_app.command("schema")
def catalog_schema(
    out: Annotated[Path, typer.Option(help="输出文件 Output file")] = Path(
        "docs/product.schema.json"
    ),
) -> None:
    """导出产品 JSON Schema Write the product JSON Schema."""
    out.write_text(json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(f"[green]✓[/] {out}")


# --------------------------------------------------------------------------- quote and issue


@app.command()
def quote(
    product: Annotated[
        str | None, typer.Argument(help="产品代码 Product code, e.g. LTM-15")
    ] = None,
    file: Annotated[
        Path | None, typer.Option(help="投保请求文件 Quote request (YAML/JSON), for any product")
    ] = None,
    name: Annotated[str | None, typer.Option(help="被保险人姓名 Insured's name")] = None,
    id_number: Annotated[str | None, typer.Option(help="身份证号 Resident ID number")] = None,
    mobile: Annotated[str | None, typer.Option(help="手机号 Mobile")] = None,
    start: Annotated[str, typer.Option(help="起保日期 Start date")] = "2026-03-01",
    address: Annotated[str, typer.Option(help="地址 Address")] = "",
    medical_insurance_city: Annotated[
        str, typer.Option(help="医保参保地代码 Basic insurance city, e.g. 110000")
    ] = "110000",
    no_basic_medical: Annotated[
        bool, typer.Option(help="无基本医保 No basic medical insurance")
    ] = False,
    condition: Annotated[
        list[str] | None, typer.Option(help="健康告知 Declared condition (repeatable)")
    ] = None,
    instalment: Annotated[str, typer.Option(help="交费方式 annual / monthly …")] = "annual",
    catalog: CatalogDir = None,
) -> None:
    """报价并核保 Quote and underwrite.

    For one person (holder = insured): PRODUCT --name --id-number --mobile.
    For anything else (sites, vehicles, groups): --file request.yaml (see docs/quote-request.md).
    """
    request = _quote_request(
        product,
        file,
        name,
        id_number,
        mobile,
        start,
        address,
        medical_insurance_city,
        no_basic_medical,
        condition or [],
        instalment,
    )
    application = _app(catalog)
    created = _run(lambda: application.policies.quote_request(request))
    _print_quote(created)


def _quote_request(
    product: str | None,
    file: Path | None,
    name: str | None,
    id_number: str | None,
    mobile: str | None,
    start: str,
    address: str,
    medical_insurance_city: str,
    no_basic_medical: bool,
    conditions: list[str],
    instalment: str,
) -> QuoteRequestFile:
    if file is not None:
        return _read_request(file)
    if product is None or name is None or id_number is None or mobile is None:
        raise typer.BadParameter(
            "请给出 --file，或 产品代码 与 --name --id-number --mobile / "
            "give --file, or PRODUCT with --name --id-number --mobile"
        )
    person = {
        "name": name,
        "id_number": id_number,
        "mobile": mobile,
        "address": address,
        "has_basic_medical": not no_basic_medical,
        "medical_insurance_city": medical_insurance_city,
    }
    return QuoteRequestFile(
        product=product,
        start=parse_date(start, "--start"),
        holder=PersonIn(**person),
        insured=[InsuredPersonIn(**person, declared_conditions=conditions)],
        instalment=instalment,
    )


def _read_request(file: Path) -> QuoteRequestFile:
    return _read_model(file, QuoteRequestFile)


M = TypeVar("M", bound=BaseModel)


def _read_model(file: Path, model: type[M]) -> M:
    """A YAML/JSON file checked against an input schema; problems exit 2 with their path."""
    import yaml
    from pydantic import ValidationError

    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
        return model.model_validate(raw)
    except OSError as error:
        raise typer.BadParameter(f"无法读取文件 / cannot read {file}: {error}") from None
    except yaml.YAMLError as error:
        raise typer.BadParameter(f"不是有效的 YAML/JSON / not valid YAML/JSON: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise typer.BadParameter(f"文件内容有误 / invalid file content: {problems}") from None


def _print_quote(created: Quote) -> None:
    q = created.quotation
    colour = {"accept": "green", "refer": "yellow", "decline": "red"}[q.decision.outcome]
    console.print(
        f"投保单 Quote [bold]{created.quote_id}[/]  {q.product_code} {q.plan_version}  "
        f"起保 start {q.start_date}  标的 insured {len(created.units)}"
    )
    table = Table()
    table.add_column("保费项目 Premium")
    table.add_column("金额 Amount (CNY)", justify="right")
    several = len(created.units) > 1
    for line in q.lines:
        label = f"{line.unit_key} · {line.component}" if several else line.component
        table.add_row(label, f"{line.amount.amount:,.2f}")
    if not q.minimum_premium_top_up.is_zero():
        table.add_row(
            "最低保费补足 Minimum premium top-up", f"{q.minimum_premium_top_up.amount:,.2f}"
        )
    table.add_row("[bold]年保费 Annual premium[/]", f"[bold]{q.annual_premium.amount:,.2f}[/]")
    table.add_row(
        f"分期 Instalments ({q.instalment} × {len(q.instalments)})",
        " + ".join(f"{i.amount:,.2f}" for i in q.instalments[:2])
        + (" …" if len(q.instalments) > 2 else ""),
    )
    console.print(table)
    console.print(f"核保结论 Decision: [{colour}]{q.decision.outcome}[/]")
    for reason in q.decision.reasons:
        console.print(f"  • [{reason.outcome}] {reason.code}: {reason.zh} / {reason.en}")


@app.command()
def issue(quote_id: str, catalog: CatalogDir = None) -> None:
    """承保出单 Issue a policy from an accepted quote (re-running returns the same policy)."""
    application = _app(catalog)
    policy = _run(lambda: application.policies.issue_policy(quote_id))
    _print_policy(policy)


@app.command()
def enrol(
    policy_number: str,
    members_csv: Annotated[Path, typer.Argument(help="成员名单 CSV (UTF-8, with header)")],
    batch_id: Annotated[
        str | None, typer.Option(help="批次号 Batch ID (idempotency key; default: file name)")
    ] = None,
    effective: Annotated[
        str | None,
        typer.Option(
            "--from", help="保障起始日 Cover from (YYYY-MM-DD, in the current term; default today)"
        ),
    ] = None,
    catalog: CatalogDir = None,
) -> None:
    """批量投保 Enrol a CSV of members into a group or programme policy (e.g. 惠民保).

    Columns: name, id_number, mobile, medical_insurance_city, has_basic_medical (是/否, 1/0),
    optional address.  Re-running the same file enrols nobody twice.
    """
    from baoxian.policies.enrolment import EnrolmentService, read_member_csv

    if not members_csv.is_file():
        raise typer.BadParameter(f"找不到文件 / file not found: {members_csv}")
    application = _app(catalog)
    service = EnrolmentService(
        uow=application.uow, catalog=application.catalog, clock=application.policies.clock
    )
    batch = batch_id or members_csv.name
    with console.status("批量投保中：校验并写入成员 Enrolling: validating and writing members…"):
        report = _run(
            lambda: service.enrol(
                policy_number,
                read_member_csv(members_csv),
                batch,
                None if effective is None else parse_date(effective, "--from"),
            )
        )
    console.print(
        f"批次 Batch {report.batch_id}: 收到 received {report.received:,}，"
        f"新增 enrolled {report.enrolled:,}，已在保 already {report.already_enrolled:,}，"
        f"退回 rejected {len(report.rejected):,}，保费 premium {report.premium}"
    )
    for rejection in report.rejected[:20]:
        err_console.print(f"  • {rejection.zh} / {rejection.en} [dim]({rejection.code})[/]")
    if len(report.rejected) > 20:
        err_console.print(f"  … 另有 {len(report.rejected) - 20} 行 more rows")


# --------------------------------------------------------------------------- policy


@policy_app.command("show")
def policy_show(policy_number: str, catalog: CatalogDir = None) -> None:
    """保单详情与历史 Show a policy's schedule and its history."""
    application = _app(catalog)
    policy, insured = _run(lambda: application.policies.preview(policy_number, units=20))
    _print_policy(policy, insured)
    history = Table(title="历史 History")
    for header in ("时间 At (Asia/Shanghai)", "事件 Event", "内容 Details"):
        history.add_column(header, overflow="fold")
    from baoxian.shared.clock import SHANGHAI

    for event in application.policies.history(policy_number):
        history.add_row(
            event.occurred_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            event.event_type,
            json.dumps(event.payload, ensure_ascii=False),
        )
    console.print(history)


def _print_policy(policy: Policy, insured: int | None = None) -> None:
    from baoxian.policies.model import STATUS_ZH

    end = policy.term_end.toordinal() - 1
    console.print(
        f"保单 Policy [bold]{policy.policy_number}[/]  "
        f"{policy.product_code} {policy.plan_version}  "
        f"状态 {STATUS_ZH[policy.status]} ({policy.status.value})\n"
        f"保险期间 Term {policy.term_no}: {policy.term_start} 0时 至 {date.fromordinal(end)} 24时  "
        f"年保费 {policy.annual_premium}  本期已收 charged {policy.premium_charged}  "
        f"联系电话 {mask_phone(policy.contact_mobile)}"
    )
    table = Table(title="保障明细 Schedule of cover")
    for header in ("被保险对象 Insured", "责任 Coverage", "保额 Sum insured (CNY)"):
        table.add_column(header)
    for line in policy.cover[:60]:
        table.add_row(line.unit_key, line.coverage, f"{line.sum_insured.amount:,.2f}")
    total = len(policy.units) if insured is None else insured
    if len(policy.cover) > 60 or total > len(policy.units):
        table.add_row("…", f"共 {total:,} 个被保险对象 insured in all", "")
    console.print(table)


@policy_app.command("renew")
def policy_renew(policy_number: str, catalog: CatalogDir = None) -> None:
    """续保 Renew for the next term (guaranteed renewal honoured)."""
    application = _app(catalog)
    _print_policy(_run(lambda: application.policies.renew(policy_number)))


@policy_app.command("cancel")
def policy_cancel(
    policy_number: str,
    effective: DateOption,
    reason: Annotated[str, typer.Option(help="退保原因 Reason")] = "客户申请 customer request",
    catalog: CatalogDir = None,
) -> None:
    """退保 Cancel with a pro-rata refund."""
    application = _app(catalog)
    day = parse_date(effective, "--effective")
    policy, refund = _run(lambda: application.policies.cancel(policy_number, day, reason))
    console.print(
        f"已退保 Cancelled {policy.policy_number}: 退费 refund {refund.refund}，"
        f"保留 retained {refund.retained}，已收 charged {refund.charged}"
    )


@policy_app.command("lapse")
def policy_lapse(policy_number: str, effective: DateOption, catalog: CatalogDir = None) -> None:
    """失效 Lapse for unpaid premium after the grace period."""
    application = _app(catalog)
    day = parse_date(effective, "--effective")
    _print_policy(_run(lambda: application.policies.lapse(policy_number, day)))


# --------------------------------------------------------------------------- endorsements


@endorse_app.command("contact")
def endorse_contact(
    policy_number: str,
    effective: DateOption,
    mobile: Annotated[str | None, typer.Option(help="新手机号 New mobile")] = None,
    address: Annotated[str | None, typer.Option(help="新地址 New address")] = None,
    request_id: Annotated[str | None, typer.Option(help="幂等键 Idempotency key")] = None,
    catalog: CatalogDir = None,
) -> None:
    """联系方式变更 Change contact mobile or address."""
    if mobile is None and address is None:
        raise typer.BadParameter("请至少给出 --mobile 或 --address / give --mobile or --address")
    application = _app(catalog)
    day = parse_date(effective, "--effective")
    _print_policy(
        _run(
            lambda: application.policies.change_contact(
                policy_number, day, mobile=mobile, address=address, request_id=request_id
            )
        )
    )


@endorse_app.command("beneficiary")
def endorse_beneficiary(
    policy_number: str,
    effective: DateOption,
    beneficiary: Annotated[
        list[str], typer.Option(help="姓名,身份证号,关系,份额% e.g. 李梅,110…,配偶,100")
    ],
    catalog: CatalogDir = None,
) -> None:
    """受益人变更 Replace the beneficiaries (shares add up to 100)."""
    application = _app(catalog)
    day = parse_date(effective, "--effective")
    parsed = [_beneficiary(text) for text in beneficiary]
    _print_policy(
        _run(lambda: application.policies.change_beneficiaries(policy_number, day, parsed))
    )


def _beneficiary(text: str) -> Beneficiary:
    parts = [p.strip() for p in text.replace("，", ",").split(",")]
    if len(parts) != 4 or not parts[3].isdigit():
        raise typer.BadParameter(
            f"格式应为 姓名,身份证号,关系,份额 / expected name,id,relationship,share: {text!r}"
        )
    return Beneficiary(parts[0], parts[1], parts[2], int(parts[3]))


@endorse_app.command("sum-insured")
def endorse_sum_insured(
    policy_number: str,
    effective: DateOption,
    coverage: Annotated[str, typer.Option(help="责任代码 Coverage code")],
    amount: Annotated[str, typer.Option(help="新保额 New sum insured (CNY)")],
    unit: Annotated[
        str | None, typer.Option(help="场所/车辆 Site or vehicle key, for declared sums")
    ] = None,
    catalog: CatalogDir = None,
) -> None:
    """保额变更 Change a sum insured; premium adjusted pro rata."""
    application = _app(catalog)
    day, money = parse_date(effective, "--effective"), parse_money(amount)
    _print_policy(
        _run(
            lambda: application.policies.change_sum_insured(
                policy_number, day, coverage, money, unit_key=unit
            )
        )
    )


@endorse_app.command("details")
def endorse_details(
    policy_number: str,
    effective: DateOption,
    unit: Annotated[str, typer.Option(help="场所/车辆 Site or vehicle key")],
    detail: Annotated[list[str] | None, typer.Option(help="key=value, e.g. address=…")] = None,
    fact: Annotated[
        list[str] | None, typer.Option(help="rating fact key=value (JSON value)")
    ] = None,
    catalog: CatalogDir = None,
) -> None:
    """标的信息变更 Change an insured site's or vehicle's details (re-rated pro rata)."""
    application = _app(catalog)
    day = parse_date(effective, "--effective")
    details = dict(_pair(p, json_value=False) for p in detail or [])
    facts = dict(_pair(p, json_value=True) for p in fact or [])
    _print_policy(
        _run(
            lambda: application.policies.change_unit_details(
                policy_number, day, unit, details=details, facts=facts
            )
        )
    )


def _pair(text: str, json_value: bool) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise typer.BadParameter(f"格式应为 key=value / expected key=value: {text!r}")
    if not json_value:
        return key, value
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


@endorse_app.command("rider")
def endorse_rider(
    policy_number: str,
    effective: DateOption,
    rider: Annotated[str, typer.Option(help="附加险代码 Rider code")],
    catalog: CatalogDir = None,
) -> None:
    """扩展责任 Add a rider mid-term (extension of cover), charged pro rata."""
    application = _app(catalog)
    day = parse_date(effective, "--effective")
    _print_policy(_run(lambda: application.policies.add_rider(policy_number, day, rider)))


@endorse_app.command("add-member")
def endorse_add_member(
    policy_number: str,
    effective: DateOption,
    name: Annotated[str, typer.Option(help="姓名 Name")],
    id_number: Annotated[str, typer.Option(help="身份证号 Resident ID")],
    mobile: Annotated[str, typer.Option(help="手机号 Mobile")],
    medical_insurance_city: Annotated[str, typer.Option(help="医保参保地代码")] = "110000",
    catalog: CatalogDir = None,
) -> None:
    """增加被保险人 Add a member to a group policy."""
    application = _app(catalog)
    day = parse_date(effective, "--effective")
    person = _run(
        lambda: application.policies.register_person(
            name, id_number, mobile, medical_insurance_city=medical_insurance_city
        )
    )
    member = InsuredInput("person", person.party_id)
    _print_policy(_run(lambda: application.policies.add_members(policy_number, day, [member])))


@endorse_app.command("remove-member")
def endorse_remove_member(
    policy_number: str,
    effective: DateOption,
    member: Annotated[str, typer.Option(help="被保险人编号 Member key (party ID)")],
    catalog: CatalogDir = None,
) -> None:
    """减少被保险人 Remove a member from a group policy (refund pro rata)."""
    application = _app(catalog)
    day = parse_date(effective, "--effective")
    _print_policy(_run(lambda: application.policies.remove_members(policy_number, day, [member])))


# --------------------------------------------------------------------------- claims

claim_app = typer.Typer(help="理赔 Claims: report, decide, pay, show.", no_args_is_help=True)
app.add_typer(claim_app, name="claim")


@claim_app.command("report")
def claim_report(
    file: Annotated[Path, typer.Argument(help="报案文件 Claim file (YAML/JSON)")],
    channel: Annotated[str, typer.Option(help="渠道 Channel")] = "cli",
    decide: Annotated[bool, typer.Option(help="报案后立即理算 Decide at once")] = True,
    catalog: CatalogDir = None,
) -> None:
    """报案 Report a claim from a file (see examples/claim-*.yaml); decides it at once."""
    from baoxian.claims.schemas import ClaimFile

    claim = _read_model(file, ClaimFile).claim.to_claim(channel)
    application = _app(catalog)
    case = _run(lambda: application.claims.report(claim, channel=channel))
    if decide:
        case = _run(lambda: application.claims.decide(case.claim_id))
    _print_claim(case)


@claim_app.command("decide")
def claim_decide(claim_id: str, catalog: CatalogDir = None) -> None:
    """理算 Decide a reported claim (re-running changes nothing)."""
    application = _app(catalog)
    _print_claim(_run(lambda: application.claims.decide(claim_id)))


@claim_app.command("pay")
def claim_pay(
    claim_id: str,
    payee_kind: Annotated[str, typer.Option(help="insured / pharmacy / hospital")] = "insured",
    catalog: CatalogDir = None,
) -> None:
    """支付 Instruct payment of an approved claim (idempotent)."""
    if payee_kind not in ("insured", "pharmacy", "hospital"):
        raise typer.BadParameter("收款方应为 insured / pharmacy / hospital")
    application = _app(catalog)
    case, payment = _run(lambda: application.claims.pay(claim_id, payee_kind))  # type: ignore[arg-type]
    _print_claim(case)
    console.print(
        f"支付指令 Payment {payment.payment_id}: {payment.amount} → {payment.payee_kind} "
        f"{payment.payee}"
    )


if TYPE_CHECKING:
    from baoxian.claims import settlement as settlement_types


@claim_app.command("import-settlement")
def claim_import_settlement(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="医保结算数据 Settlement data (.csv / .parquet)"
        ),
    ],
    reminders: Annotated[
        Path | None, typer.Option(help="提醒名单 Write the reminder list to this CSV")
    ] = None,
    product: Annotated[
        str | None,
        typer.Option(help="产品代码 Only members of this product (rows without a policy number)"),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="理算进程数 Processes deciding claims (default: by file size)", min=0),
    ] = None,
    catalog: CatalogDir = None,
) -> None:
    """出院即结算 Import 医保 settlement data (docs/settlement-import.md): settle the authorised
    claims with no documents, list and keep unauthorised members to remind.  Members are found
    by 身份证号 when a row has no policy number.  Re-running changes nothing."""
    from baoxian.claims import settlement

    parsed = _run(lambda: settlement.read_settlement(file))
    application = _app(catalog)
    result = _run(
        lambda: settlement.import_settlement(
            application.claims,
            parsed,
            application.engine,
            application.cipher,
            product=product,
            source=file.name,
            workers=workers,
        )
    )
    if reminders is not None:
        settlement.write_reminders_csv(result.reminders, reminders)
    _print_settlement(result)
    if reminders is not None:
        console.print(f"提醒名单已写入 Reminder list written: {reminders} ({result.reminded})")


def _print_settlement(result: settlement_types.ImportResult) -> None:
    table = Table(title="医保结算数据导入 Settlement import")
    table.add_column("项目 Item")
    table.add_column("数量 Count", justify="right")
    for label, value in (
        ("数据行 Rows", result.rows),
        ("新建赔案 Claims created", result.created),
        ("已导入 Already imported", result.already_imported),
        ("已赔付 Paid", result.paid),
        ("转人工审核 Referred", result.referred),
        ("拒赔或零赔付 Declined", result.declined),
        ("未授权 Not authorised", result.unauthorised),
        ("被拒行 Rejected rows", result.rejected),
        ("待提醒 Reminders", result.reminded),
        ("新记录的提醒 Reminders newly kept", result.reminders_stored),
    ):
        table.add_row(label, f"{value:,}")
    table.add_row("[bold]赔付合计 Total paid[/]", f"[bold]{result.total_paid}[/]")
    console.print(table)
    if result.rejections:
        rejected = Table(title="被拒行 Rejected rows")
        for header in ("行 Row", "列 Column", "代码 Code", "原因 Reason"):
            rejected.add_column(header, overflow="fold")
        for r in result.rejections:
            rejected.add_row(str(r.row), r.column or "—", r.code, f"{r.zh} / {r.en}")
        console.print(rejected)
    for reminder in result.reminders:
        console.print(
            f"提醒 Remind {reminder.policy_number} {reminder.id_number_masked} "
            f"{reminder.settlement_no}: {reminder.estimated_payable}"
        )


@claim_app.command("queue")
def claim_queue(
    handler: Annotated[str | None, typer.Option(help="处理人 Handler ID")] = None,
    catalog: CatalogDir = None,
) -> None:
    """人工审核队列 Claims waiting for a person: green channel first, then the SLA clock."""
    application = _app(catalog)
    table = Table(title="人工审核队列 Review queue")
    for header in (
        "赔案 Claim",
        "状态 Status",
        "准备金 Reserve",
        "绿色通道",
        "处理人 Handler",
        "原因 Reasons",
    ):
        table.add_column(header, overflow="fold")
    for case in _run(lambda: application.claims.queue(handler)):
        findings = (case.review or {}).get("findings", [])
        table.add_row(
            case.claim_id,
            f"{case.status.zh} {case.status.value}",
            f"{case.reserve}",
            "✓" if case.green_channel else "",
            case.assignee or "—",
            "; ".join(f["zh"] for f in findings),
        )
    console.print(table)


@claim_app.command("handler")
def claim_handler(
    handler_id: str,
    name: Annotated[str, typer.Option(help="姓名 Name")],
    authority: Annotated[str, typer.Option(help="审批权限（元）Authority limit, CNY")],
    catalog: CatalogDir = None,
) -> None:
    """登记理赔员及审批权限 Register a claims handler and the payable they may approve."""
    application = _app(catalog)
    limit = _money_option(authority, "--authority")
    handler = _run(lambda: application.claims.add_handler(handler_id, name, limit))
    console.print(f"理赔员 Handler {handler.handler_id} {handler.name}: {handler.authority}")


@claim_app.command("assign")
def claim_assign(claim_id: str, handler: str, catalog: CatalogDir = None) -> None:
    """分配 Assign a waiting claim to a handler."""
    application = _app(catalog)
    _print_claim(_run(lambda: application.claims.assign(claim_id, handler)))


@claim_app.command("approve")
def claim_approve(
    claim_id: str,
    handler: Annotated[str, typer.Option(help="处理人 Handler ID")],
    note: Annotated[str, typer.Option(help="审核意见 Note")] = "",
    catalog: CatalogDir = None,
) -> None:
    """核赔通过 Approve a referred claim within the handler's authority; pays at once."""
    application = _app(catalog)
    _print_claim(_run(lambda: application.claims.approve(claim_id, handler, note)))


@claim_app.command("decline")
def claim_decline(
    claim_id: str,
    handler: Annotated[str, typer.Option(help="处理人 Handler ID")],
    reason_zh: Annotated[str, typer.Option("--reason-zh", help="拒赔原因（中文）")],
    reason_en: Annotated[str, typer.Option("--reason-en", help="Reason in English")],
    catalog: CatalogDir = None,
) -> None:
    """拒赔 Decline a referred claim, with the reason in Chinese and English."""
    application = _app(catalog)
    _print_claim(_run(lambda: application.claims.decline(claim_id, handler, reason_zh, reason_en)))


@claim_app.command("request-info")
def claim_request_info(
    claim_id: str,
    handler: Annotated[str, typer.Option(help="处理人 Handler ID")],
    what_zh: Annotated[str, typer.Option("--what-zh", help="需补充的资料（中文）")],
    what_en: Annotated[str, typer.Option("--what-en", help="What is needed, in English")],
    catalog: CatalogDir = None,
) -> None:
    """补充资料 Ask the customer or provider for more information."""
    application = _app(catalog)
    _print_claim(_run(lambda: application.claims.request_info(claim_id, handler, what_zh, what_en)))


@claim_app.command("info-received")
def claim_info_received(claim_id: str, note: str = "", catalog: CatalogDir = None) -> None:
    """资料已补齐 The information arrived: back to the handler's queue."""
    application = _app(catalog)
    _print_claim(_run(lambda: application.claims.provide_info(claim_id, note)))


@claim_app.command("prepay")
def claim_prepay(
    claim_id: str,
    amount: Annotated[str, typer.Option(help="预赔付金额（元）Amount, CNY")],
    request_id: Annotated[str, typer.Option(help="请求号（重试不重复支付）Request ID")],
    payee_kind: Annotated[str, typer.Option(help="insured / pharmacy / hospital")] = "insured",
    catalog: CatalogDir = None,
) -> None:
    """预赔付 Pay part of a claim before the final assessment (trued up when decided)."""
    if payee_kind not in ("insured", "pharmacy", "hospital"):
        raise typer.BadParameter("收款方应为 insured / pharmacy / hospital")
    application = _app(catalog)
    money = _money_option(amount, "--amount")
    case, payment = _run(
        lambda: application.claims.prepay(claim_id, money, request_id, payee_kind)  # type: ignore[arg-type]
    )
    _print_claim(case)
    console.print(f"预赔付 Pre-payment {payment.payment_id}: {payment.amount} → {payment.payee}")


@claim_app.command("delivered")
def claim_delivered(claim_id: str, pharmacy: str, catalog: CatalogDir = None) -> None:
    """特药送达 The pharmacy confirms a special drug reached the patient."""
    application = _app(catalog)
    _print_claim(_run(lambda: application.claims.drug_delivered(claim_id, pharmacy)))


@claim_app.command("sla")
def claim_sla(catalog: CatalogDir = None) -> None:
    """特药直付超时 Special-drug claims past their 48-hour clock and not delivered."""
    application = _app(catalog)
    late = _run(application.claims.sla_breaches)
    if not late:
        console.print("没有超时案件 No claim is past its clock")
    for case in late:
        due = f"{case.sla_due_at:%Y-%m-%d %H:%M}" if case.sla_due_at else ""
        console.print(f"{case.claim_id}  {case.stage}  时限 due {due} UTC")


@claim_app.command("show")
def claim_show(claim_id: str, catalog: CatalogDir = None) -> None:
    """赔案详情与理赔计算书 Show a claim, its explanation of benefits and its history."""
    application = _app(catalog)
    _print_claim(_run(lambda: application.claims.case(claim_id)))
    console.print("状态历史 History")
    for event in application.claims.history(claim_id):
        console.print(f"  {event.occurred_at:%Y-%m-%d %H:%M} {event.event_type}")


@claim_app.command("attach")
def claim_attach(
    claim_id: str,
    file: Annotated[
        Path, typer.Argument(help="资料文件 Document file", exists=True, dir_okay=False)
    ],
    kind: Annotated[
        str, typer.Option(help="资料类型 Kind: photo / invoice / discharge_summary / … / other")
    ],
    sha256: Annotated[
        str | None, typer.Option("--sha256", help="期望的校验值 Expected SHA-256 (hex)")
    ] = None,
    catalog: CatalogDir = None,
) -> None:
    """上传理赔资料 Attach a photo or document to a claim (the same file twice: no change)."""
    from baoxian.claims.documents import media_type_for

    content = file.read_bytes()
    media_type = media_type_for(file.name) or "application/octet-stream"
    application = _app(catalog)
    document = _run(
        lambda: application.documents.attach(
            claim_id, kind, file.name, media_type, content, expected_sha256=sha256
        )
    )
    console.print(f"理赔资料 Document [bold]{document.document_id}[/]", soft_wrap=True)
    console.print(f"SHA-256 {document.sha256}", soft_wrap=True)


@claim_app.command("documents")
def claim_documents(claim_id: str, catalog: CatalogDir = None) -> None:
    """理赔资料清单 List a claim's photos and documents with their checksums."""
    from baoxian.shared.clock import SHANGHAI

    application = _app(catalog)
    found = _run(lambda: application.documents.list(claim_id))
    table = Table(title=f"理赔资料 Documents — {claim_id}")
    headers = ("编号 ID", "类型 Kind", "文件名 Filename", "格式 Type", "大小 Bytes", "SHA-256")
    for header in (*headers, "上传时间 Uploaded"):
        table.add_column(header, overflow="fold")
    for d in found:
        uploaded = d.uploaded_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        kind = f"{d.kind_zh} {d.kind}"
        size = f"{d.size_bytes:,}"
        table.add_row(d.document_id, kind, d.filename, d.media_type, size, d.sha256, uploaded)
    console.print(table)


@claim_app.command("metrics")
def claim_metrics(
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON Print JSON")] = False,
    catalog: CatalogDir = None,
) -> None:
    """理赔指标 Claims metrics by product and channel: counts, STP rate, cycle times, money."""
    from baoxian.claims.metrics import claims_metrics

    rows = claims_metrics(_app(catalog).engine)
    if as_json:
        typer.echo(json.dumps([row.as_json() for row in rows], ensure_ascii=False, indent=2))
        return
    table = Table(title="理赔指标 Claims metrics (p50 / p90)")
    for header in (
        "产品 Product",
        "渠道 Channel",
        "报案 Reported",
        "已决 Decided",
        "已付 Paid",
        "未决 Open",
        "直通率 STP",
        "报案→决定 To decision",
        "报案→支付 To payment",
        "申请 Claimed",
        "已付金额 Paid",
        "未决准备金 Reserve",
    ):
        table.add_column(header, overflow="fold")
    for row in rows:
        figures = row.as_json()
        table.add_row(
            row.product_code,
            row.channel,
            *(str(figures[k]) for k in ("reported", "decided", "paid", "open")),
            "—" if figures["stp_rate"] is None else f"{Decimal(figures['stp_rate']):.2%}",
            _cycle(row.report_to_decision.p50, row.report_to_decision.p90),
            _cycle(row.report_to_payment.p50, row.report_to_payment.p90),
            f"{row.claimed_amount}",
            f"{row.paid_amount}",
            f"{row.outstanding_reserve}",
        )
    console.print(table)


def _cycle(p50: int | None, p90: int | None) -> str:
    """Two durations in seconds as ``d hh:mm:ss`` (— where nothing was measured)."""

    def text(seconds: int | None) -> str:
        if seconds is None:
            return "—"
        days, rest = divmod(seconds, 86_400)
        clock = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
        return f"{days}d {clock}" if days else clock

    return f"{text(p50)} / {text(p90)}"


def _print_claim(case: ClaimCase) -> None:
    payable = "—" if case.payable is None else f"{case.payable}"
    console.print(
        f"赔案 Claim [bold]{case.claim_id}[/]  保单 {case.claim.policy_number}  "
        f"状态 {case.status.zh} {case.status.value}  赔付 payable {payable}  "
        f"已付 paid {case.paid}  准备金 reserve {case.reserve}"
    )
    extras = [
        ("绿色通道 green channel", "✓" if case.green_channel else ""),
        ("快速通道 fast track", f"{case.fast_track} {case.stage}".strip()),
        ("时限 SLA due", f"{case.sla_due_at:%Y-%m-%d %H:%M} UTC" if case.sla_due_at else ""),
        ("处理人 handler", case.assignee or ""),
        ("自动通过 straight through", {True: "✓", False: "✗", None: ""}[case.straight_through]),
        ("质检抽样 QA sample", "✓" if case.quality_sample else ""),
    ]
    shown = "  ".join(f"{label} {value}" for label, value in extras if value)
    if shown:
        console.print(shown)
    for finding in (case.review or {}).get("findings", []):
        console.print(f"  审核 review [{finding['code']}] {finding['zh']} / {finding['en']}")
    if case.eob is None:
        return
    table = Table(title="理赔计算书 Explanation of benefits")
    for header in ("项目 Item", "责任 Coverage", "扣减 Reduction", "原因 Reason"):
        table.add_column(header, overflow="fold")
    for reason in case.eob["reasons"]:
        table.add_row(
            "claim",
            "—",
            f"{Money.from_fen(reason['reduction_fen']).amount:,.2f}",
            " / ".join(step_texts(reason)),
        )
    for item in case.eob["items"]:
        for step in item["steps"]:
            table.add_row(
                item["item"],
                item["coverage"] or "—",
                f"{Money.from_fen(step['reduction_fen']).amount:,.2f}",
                " / ".join(step_texts(step)),
            )
        table.add_row(
            f"[bold]{item['item']}[/]",
            item["coverage"] or "—",
            "",
            f"[bold]申请 {Money.from_fen(item['claimed_fen']).amount:,.2f} → "
            f"赔付 {Money.from_fen(item['payable_fen']).amount:,.2f}[/]",
        )
    console.print(table)


def _money_option(value: str, option: str) -> Money:
    try:
        return Money.of(value)
    except (ArithmeticError, ValueError):
        raise typer.BadParameter(
            f"{option} 应为金额，如 1000 或 1000.50 / {option} must be an amount such as 1000.50"
        ) from None


# --------------------------------------------------------------------------- errors


def _run(call: Callable[[], T]) -> T:
    """Call a service; map domain errors to a bilingual message and exit status 1."""
    try:
        return call()
    except DomainError as error:
        _print_error(error)
        raise typer.Exit(1) from None


def _print_error(error: DomainError) -> None:
    err_console.print(f"[red]✗ {error.zh}[/]\n  {error.en}\n  [dim]code: {error.code}[/]")
    for key, value in error.details.items():
        err_console.print(f"  [dim]{key}: {value}[/]")


@contextmanager
def _guard() -> Iterator[None]:
    try:
        yield
    except DomainError as error:
        _print_error(error)
        sys.exit(1)
    except OperationalError as error:
        err_console.print(
            "[red]✗ 无法连接或写入数据库，请检查 BAOXIAN_DATABASE_URL[/]\n"
            f"  cannot reach or write the database; check BAOXIAN_DATABASE_URL ({error.orig})"
        )
        sys.exit(1)
    except SQLAlchemyError as error:
        err_console.print(
            "[red]✗ 数据库拒绝了这次写入，未做任何更改[/]\n"
            f"  the database refused the write; nothing was changed ({type(error).__name__})"
        )
        sys.exit(1)


def main() -> None:
    """Console entry point."""
    with _guard():
        app()


__all__ = ["app", "main"]
