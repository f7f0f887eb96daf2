"""``baoxian outreach deliver | worker | prefer``: delivering the outbox of proactive notices
once now, as a background worker on the job queue (huey), and a customer's channel
preference."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from baoxian.bootstrap import build, outbox_dispatcher
from baoxian.outreach.jobs import make_queue, register, worker_name
from baoxian.outreach.model import Preference
from baoxian.outreach.outbox import DispatchReport, outbox_counts
from baoxian.settings import Settings
from baoxian.shared.errors import DomainError

console = Console()


def _fail(error: DomainError) -> typer.Exit:
    Console(stderr=True).print(f"[red]✗ {error.zh}[/]\n  {error.en}  [dim]({error.code})[/]")
    return typer.Exit(1)


def _report_table(report: DispatchReport) -> Table:
    table = Table(title="投递结果 Delivery")
    table.add_column("结果 Outcome")
    table.add_column("数量 Count", justify="right")
    rows = (
        ("已发送 sent", report.sent),
        ("已在渠道 found at the provider", report.found),
        ("免打扰顺延 deferred (quiet hours)", report.deferred),
        ("稍后重试 to retry", report.retried),
        ("失败 failed", report.failed),
    )
    for label, count in rows:
        table.add_row(label, f"{count:,}")
    return table


def deliver() -> None:
    """投递到期通知 Deliver the notices that are due, now, until none is left."""
    app = build(Settings.from_env())
    report = outbox_dispatcher(app, worker_name()).run_until_empty()
    console.print(_report_table(report))
    counts = outbox_counts(app.engine)
    console.print("发件箱 Outbox: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))


def worker(
    workers: Annotated[int, typer.Option(min=1, max=16, help="并发线程 Worker threads")] = 1,
) -> None:
    """后台投递 Run the background worker: the queue's consumer, delivering every minute."""
    settings = Settings.from_env()
    queue = make_queue(settings.queue_url)
    register(queue, lambda: outbox_dispatcher(build(settings), worker_name()))
    console.print(f"队列 Queue: {settings.queue_url} · Ctrl-C 停止 to stop")
    queue.create_consumer(workers=workers, periodic=True).run()


def prefer(
    party_id: Annotated[str, typer.Argument(help="客户编号 Party ID")],
    channel: Annotated[
        str, typer.Option(help="渠道 Channel: sms / email / push / webhook / inbox")
    ] = "sms",
    locale: Annotated[str, typer.Option(help="语言 Language: zh / en")] = "zh",
    care: Annotated[bool, typer.Option("--care/--no-care", help="关爱版 Plain wording")] = False,
    address: Annotated[
        str | None, typer.Option(help="地址 E-mail, push token or URL where needed")
    ] = None,
) -> None:
    """设置通知偏好 Set how a customer receives proactive notices."""
    app = build(Settings.from_env())
    try:
        app.outreach.set_preference(Preference(party_id, channel, locale, care, address))
    except DomainError as error:
        raise _fail(error) from None
    console.print(f"[green]✓[/] {party_id}: {channel} · {locale}{' · 关爱版' if care else ''}")


def add_delivery_commands(app: typer.Typer) -> None:
    """Put the delivery commands on the ``outreach`` sub-app."""
    app.command("deliver")(deliver)
    app.command("worker")(worker)
    app.command("prefer")(prefer)


__all__ = ["add_delivery_commands"]
