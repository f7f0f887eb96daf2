"""The ASGI application: portal and console routers, the browser-ID cookie, CSRF on every
form, security headers, and error pages in the user's language (never a traceback)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from baoxian.bootstrap import App
from baoxian.shared.errors import ConcurrencyConflict, DomainError, NotFound
from baoxian.web import (
    console,
    console_changes,
    console_claims,
    console_customers,
    console_dashboard,
    portal,
    portal_buy,
    portal_changes,
    portal_claims,
)
from baoxian.web.pages import Web
from baoxian.web.security import SID_COOKIE, Keys, new_sid

log = logging.getLogger("baoxian.web")
STATIC = Path(__file__).parent / "static"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
}


def create_app(application: App, demo: bool = False) -> FastAPI:
    """The web edge over a built :class:`~baoxian.bootstrap.App`."""
    keys = Keys(
        application.cipher.derive_key("web-session"), application.cipher.derive_key("web-csrf")
    )
    web = Web(application, keys, application.policies.clock, demo=demo)
    api = FastAPI(title="Baoxian 保险", docs_url=None, redoc_url=None, openapi_url=None)
    api.state.web = web
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    guarded = [Depends(csrf_guard)]
    api.include_router(portal.router, dependencies=guarded)
    api.include_router(console.router, dependencies=guarded)
    api.include_router(portal_buy.router, dependencies=guarded)
    api.include_router(portal_claims.router, dependencies=guarded)
    api.include_router(console_claims.router, dependencies=guarded)
    api.include_router(console_customers.router, dependencies=guarded)
    api.include_router(console_dashboard.router, dependencies=guarded)
    api.include_router(portal_changes.router, dependencies=guarded)
    api.include_router(console_changes.router, dependencies=guarded)
    api.middleware("http")(_browser)
    _errors(api, web)
    return api


async def _browser(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Give every browser an ID (the CSRF token is derived from it) and add the security
    headers.  The CSRF check itself is :func:`csrf_guard`, a dependency of every router,
    because only the route's own request object may read the form."""
    sid = request.cookies.get(SID_COOKIE)
    fresh = not sid or len(sid) > 64
    request.state.sid = new_sid() if fresh else sid
    request.state.sid_fresh = fresh
    return _finish(await call_next(request), request, fresh)


class CsrfRefused(Exception):
    """An unsafe request without the browser's CSRF token."""


async def csrf_guard(request: Request) -> None:
    """Refuse a POST that does not carry this browser's token (form field or header)."""
    if request.method not in UNSAFE:
        return
    web: Web = request.app.state.web
    token = request.headers.get("x-csrf-token") or await _form_token(request)
    sid = None if request.state.sid_fresh else request.state.sid
    if not web.keys.csrf_ok(sid, token):
        raise CsrfRefused()


async def _form_token(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if "form" not in content_type:
        return None
    form = await request.form()  # cached on the request: the route reads it again for free
    value = form.get("csrf")
    return value if isinstance(value, str) else None


def _finish(response: Response, request: Request, fresh: bool) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if fresh:
        response.set_cookie(
            SID_COOKIE, request.state.sid, httponly=True, secure=True, samesite="lax"
        )
    return response


def _errors(api: FastAPI, web: Web) -> None:
    @api.exception_handler(CsrfRefused)
    async def expired(request: Request, error: CsrfRefused) -> Response:
        return web.page(request).render(
            "error.html",
            status_code=403,
            title_zh="页面已过期",
            title_en="This page has expired",
            message_zh="为了您的安全，请返回上一页刷新后重试。",
            message_en="For your safety, go back, reload the page and try again.",
        )

    @api.exception_handler(DomainError)
    async def domain(request: Request, error: DomainError) -> Response:
        status = (
            404
            if isinstance(error, NotFound)
            else 409
            if isinstance(error, ConcurrencyConflict)
            else 400
        )
        return web.page(request).render(
            "error.html",
            status_code=status,
            title_zh="无法完成",
            title_en="This could not be done",
            message_zh=error.zh,
            message_en=error.en,
            code=error.code,
        )

    @api.exception_handler(StarletteHTTPException)
    async def http(request: Request, error: StarletteHTTPException) -> Response:
        zh, en = _HTTP_TEXT.get(error.status_code, ("出错了", "Something went wrong"))
        return web.page(request).render(
            "error.html",
            status_code=error.status_code,
            title_zh=zh,
            title_en=en,
            message_zh="请返回首页继续。",
            message_en="Go back to the home page to continue.",
        )

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in error.errors())
        return web.page(request).render(
            "error.html",
            status_code=400,
            title_zh="填写的内容有误",
            title_en="Something in the form is not right",
            message_zh=f"请检查这些项目：{fields}",
            message_en=f"Please check: {fields}",
        )

    @api.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path, exc_info=error)
        return web.page(request).render(
            "error.html",
            status_code=500,
            title_zh="系统繁忙",
            title_en="The system is busy",
            message_zh="很抱歉，请稍后再试。您填写的内容没有丢失，也没有重复提交。",
            message_en="Sorry — please try again shortly. Nothing was lost or sent twice.",
        )


_HTTP_TEXT = {
    403: ("无权访问", "You cannot open this page"),
    404: ("找不到该页面", "This page does not exist"),
    405: ("不支持此操作", "This action is not supported here"),
}

__all__ = ["HTTPException", "create_app"]
