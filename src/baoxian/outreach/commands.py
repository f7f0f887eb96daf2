"""``baoxian outreach run --date D``: the book-wide daily scan of proactive service (主动服务
日批) — read the book, detect every scenario, queue the notices in the outbox once."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from baoxian.bootstrap import build
from baoxian.outreach.scan import ScanResult, run_daily
from baoxian.settings import Settings

console = Console()
outreach_app = typer.Typer(
    help="主动服务 Proactive service: the daily scan of the book.", no_args_is_help=True
)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"日期格式应为 YYYY-MM-DD / use YYYY-MM-DD, not {value!r}", param_hint=option
        ) from None


@outreach_app.command("run")
def run(
    day: Annotated[str, typer.Option("--date", help="扫描日期 Run date, YYYY-MM-DD")],
    since: Annotated[
        str | None,
        typer.Option(help="补扫起始日 Catch up facts dated from this day (default: --date)"),
    ] = None,
    engine: Annotated[
        Literal["polars", "spark"],
        typer.Option("--engine", help="计算引擎 polars (this machine) or spark (local mode)"),
    ] = "polars",
) -> None:
    """扫描全量保单并写入待发通知 Scan the book and queue the day's notices."""
    run_date = _day(day, "--date")
    first = _day(since, "--since") if since is not None else None
    if first is not None and first > run_date:
        raise typer.BadParameter("--since 不能晚于 --date / must not be after --date")
    app = build(Settings.from_env())
    result = run_daily(app.engine, run_date, engine, since=first)
    print_result(result)


def print_result(result: ScanResult) -> None:
    table = Table(title=f"主动服务日批 Daily scan {result.run_date} · {result.engine}")
    table.add_column("场景 Scenario")
    table.add_column("通知 Notices", justify="right")
    for scenario, count in result.by_scenario.items():
        table.add_row(scenario, f"{count:,}")
    console.print(table)
    stages = "  ".join(f"{stage} {seconds:.2f}s" for stage, seconds in result.seconds.items())
    console.print(
        f"[green]✓[/] 新通知 new {result.written:,} · 已通知过 already known "
        f"{result.already_known:,} · {stages}"
    )


__all__ = ["outreach_app"]
