"""The REST API as an ASGI app, mounted at ``/api/v1`` by :mod:`baoxian.server`.

Routers are thin: parse (schemas), check who may (auth, access), call a service, map the
result.  Errors are problems (:mod:`baoxian.api.problems`); every POST carries an
``Idempotency-Key`` (:mod:`baoxian.api.idempotency`); OpenAPI is at ``/openapi.json``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI

from baoxian.api import problems
from baoxian.api.auth import ApiContext, Tokens
from baoxian.api.direct import DirectWrites
from baoxian.api.idempotency import ASGIApp, IdempotencyMiddleware, Message, Receive, Scope, Send
from baoxian.api.problems import PROBLEM_JSON, Problem, RedactingFilter
from baoxian.api.rate_limits import Limiter, limiter_from_env
from baoxian.api.routers import (
    claims,
    customers,
    members,
    policies,
    products,
    quotes,
    tokens,
    webhooks,
)
from baoxian.api.services import IdempotencyStore, api_access, webhook_service
from baoxian.bootstrap import App
from baoxian.shared.identity import is_valid_resident_id
from baoxian.store.sequences import block_sequences

API_VERSION = "1.0.0"
DESCRIPTION = """
保险合作伙伴接口 · The Baoxian partner API.

* **认证 Auth**: partners use OAuth2 client credentials (`POST /oauth/token`); customers sign
  in with a phone and a one-time code (`POST /customer/token`); staff with their ID and
  password (`POST /staff/token`). Send `Authorization: Bearer <token>`.
* **幂等 Idempotency**: every POST (except the token endpoints) needs an `Idempotency-Key`
  header; a retry with the same key and body gets the first answer.
* **金额 Money** is a string with two decimals, e.g. `"195.00"` — never a number.
* **错误 Errors** are `application/problem+json` with a stable `code` and `zh` / `en` text.
* **个人信息 Personal data** (身份证号, phone) is masked in every answer.
* **团体成员 Group members**: enrol and remove up to 100,000 members a request, the body
  streamed as `text/csv` or `application/x-ndjson`; the answer is the batch's report.
* **回调 Webhooks**: register an HTTPS endpoint (`POST /webhooks`) for policy and claim
  events; each delivery is signed (`Baoxian-Signature: t=…,v1=…`, HMAC-SHA256 over
  `t.body`) and carries `Baoxian-Event-Id` for deduplication.
"""

_PROBLEM = {"model": Problem, "content": {PROBLEM_JSON: {}}}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {**_PROBLEM, "description": description}
    for status, description in (
        (400, "Bad request (e.g. a missing Idempotency-Key)"),
        (401, "No valid token"),
        (403, "The token lacks a scope"),
        (404, "Not found (also someone else's object)"),
        (409, "Conflict (state, concurrent change, request in progress)"),
        (422, "Invalid request, naming each field"),
        (429, "Rate limit reached (see Retry-After)"),
    )
}

HEADERS = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
)


def create_api(
    application: App, *, wait_timeout: float = 10.0, limiter: Limiter | None = None
) -> FastAPI:
    """The API over a built :class:`~baoxian.bootstrap.App`; rate limits counted in Redis
    when ``BAOXIAN_RATE_LIMIT_URL`` is set (shared by every process), else per process."""
    context = ApiContext(
        application,
        api_access(application),
        Tokens(application.cipher.derive_key("api-tokens"), application),
        IdempotencyStore(application.engine, application.policies.clock, cipher=application.cipher),
        webhook_service(application),
        limiter or limiter_from_env(),
        block_sequences(application.engine),
        application.settings.api_db_threads,
        direct_writes(application),
    )
    api = FastAPI(
        title="Baoxian 保险 API",
        version=API_VERSION,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.state.api = context
    for module in (tokens, products, quotes, policies, members, claims, customers, webhooks):
        api.include_router(module.router, responses=PROBLEM_RESPONSES)
    problems.install(api)
    api.add_middleware(
        IdempotencyMiddleware,
        context=context,
        wait_timeout=wait_timeout,
        body_limits=members.BODY_LIMITS,
        atomic=(quotes.ATOMIC, policies.ATOMIC),
    )
    api.add_middleware(NoStore)
    _mask_logs()
    _warm_up()
    return api


def direct_writes(application: App) -> DirectWrites | None:
    """The connections for new quotes in one statement (:mod:`baoxian.api.direct`), on
    PostgreSQL unless ``BAOXIAN_API_DIRECT_CONNECTIONS`` is 0."""
    size = application.settings.api_direct_connections
    if size == 0 or application.engine.dialect.name != "postgresql":
        return None
    return DirectWrites(application.engine, size)


async def close_direct_writes(api: FastAPI) -> None:
    """Close the direct path's connections of the running event loop (at shutdown)."""
    context: ApiContext = api.state.api
    if context.direct is not None:
        await context.direct.close()


def _warm_up() -> None:
    """python-stdnum reads its 身份证 address-code table on first use; read it now, not in
    every thread of the pool racing on the first requests (seconds each under load)."""
    is_valid_resident_id("110105198104150310")


class NoStore:
    """Answers hold personal data: never cached, never sniffed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in HEADERS if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def _mask_logs() -> None:
    logger = logging.getLogger("baoxian.api")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


__all__ = ["API_VERSION", "close_direct_writes", "create_api", "direct_writes"]
