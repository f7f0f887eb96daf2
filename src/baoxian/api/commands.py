"""``baoxian api …``: partner clients of the REST API (the secret is printed once, when the
client is added; only its argon2 hash is kept) and the webhook dispatcher."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from baoxian.api.model import SCOPES, partner_scopes
from baoxian.api.services import DEFAULT_RATE_PER_MINUTE, IdempotencyStore, api_access
from baoxian.api.webhooks_service import WebhookDispatcher
from baoxian.api.webhooks_transport import HttpxTransport
from baoxian.bootstrap import build
from baoxian.settings import Settings
from baoxian.shared.errors import DomainError

console = Console()
api_app = typer.Typer(
    help="合作伙伴接口 Partner API: clients and their scopes.", no_args_is_help=True
)
client_app = typer.Typer(help="接口客户端 API clients: add, list, revoke.", no_args_is_help=True)
api_app.add_typer(client_app, name="client")
webhooks_app = typer.Typer(help="回调 Webhooks: deliver events to partners.", no_args_is_help=True)
api_app.add_typer(webhooks_app, name="webhooks")
idempotency_app = typer.Typer(
    help="幂等键 Idempotency keys: forget the expired ones.", no_args_is_help=True
)
api_app.add_typer(idempotency_app, name="idempotency")

_SCOPE_HELP = "权限范围 Scopes, space- or comma-separated: " + " ".join(
    s for s in SCOPES if s != "personal_data:read"
)


def _fail(error: DomainError) -> typer.Exit:
    Console(stderr=True).print(f"[red]✗ {error.zh}[/]\n  {error.en}  [dim]({error.code})[/]")
    return typer.Exit(1)


@client_app.command("add")
def client_add(
    name: Annotated[str, typer.Argument(help="合作伙伴名称 Partner name")],
    scopes: Annotated[str, typer.Option("--scopes", help=_SCOPE_HELP)],
    rate: Annotated[
        int, typer.Option(min=1, max=100_000, help="每分钟请求上限 Requests per minute")
    ] = DEFAULT_RATE_PER_MINUTE,
) -> None:
    """新增客户端并打印一次密钥 Add a client and print its secret once."""
    try:
        client, secret = api_access(build(Settings.from_env())).add_client(
            name, partner_scopes(scopes), rate
        )
    except DomainError as error:
        raise _fail(error) from None
    console.print(
        f"[green]✓[/] 客户端已创建 Client added: {client.name}\n"
        f"  client_id     {client.client_id}\n"
        f"  client_secret {secret}\n"
        f"  scopes        {' '.join(sorted(client.scopes))}\n"
        "[yellow]密钥只显示这一次，请妥善保存。The secret is shown only now; keep it safe.[/]"
    )


@client_app.command("list")
def client_list() -> None:
    """列出客户端 List clients (never their secrets)."""
    table = Table(title="接口客户端 API clients")
    for column in ("client_id", "名称 Name", "权限 Scopes", "每分钟 Rate", "状态 Status"):
        table.add_column(column)
    for client in api_access(build(Settings.from_env())).clients():
        status = "有效 active" if client.active else "已停用 revoked"
        scopes = " ".join(sorted(client.scopes))
        table.add_row(client.client_id, client.name, scopes, str(client.rate_per_minute), status)
    console.print(table)


@client_app.command("revoke")
def client_revoke(client_id: str) -> None:
    """停用客户端 Revoke a client: its tokens stop working at once."""
    try:
        api_access(build(Settings.from_env())).set_active(client_id, False)
    except DomainError as error:
        raise _fail(error) from None
    console.print(f"[green]✓[/] 已停用 Revoked: {client_id}")


@webhooks_app.command("dispatch")
def webhooks_dispatch(
    once: Annotated[
        bool,
        typer.Option("--once", help="一轮后退出 One round (scan, send what is due), then exit"),
    ] = False,
    interval: Annotated[
        float,
        typer.Option(min=0.1, max=60, help="空闲时的轮询间隔（秒） Seconds between idle rounds"),
    ] = 1.0,
) -> None:
    """投递回调 Deliver webhooks: scan new policy and claim events, send what is due, retry
    with back-off (10 s, 1 min, 5 min, 30 min, 2 h), then give up."""
    application = build(Settings.from_env())
    transport = HttpxTransport()
    dispatcher = WebhookDispatcher(
        application.engine,
        application.cipher,
        application.policies.clock,
        transport,
        application.claims.policy_numbers,
    )
    try:
        if once:
            report = dispatcher.run_once()
            console.print(
                f"[green]✓[/] 新排队 queued {report.queued}  送达 delivered {report.delivered}  "
                f"待重试 retrying {report.retrying}  放弃 dead {report.dead}"
            )
            return
        console.print("回调投递中 Dispatching webhooks (Ctrl+C to stop)…")
        dispatcher.run(interval)
    except KeyboardInterrupt:
        pass
    finally:
        transport.close()


__all__ = ["api_app"]


@idempotency_app.command("purge")
def idempotency_purge() -> None:
    """清理过期幂等键 Forget Idempotency-Keys older than 24 hours (run daily)."""
    app = build(Settings.from_env())
    purged = IdempotencyStore(app.engine, app.policies.clock).purge()
    console.print(f"[green]✓[/] 已清理 purged {purged:,} 个过期幂等键 expired idempotency keys")
