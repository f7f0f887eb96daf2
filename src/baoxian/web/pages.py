"""What every page shares: the request's language, 关爱版 mode, the signed-in person, the CSRF
token, and rendering a template in the user's language."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from baoxian.bootstrap import App
from baoxian.identity.model import StaffUser
from baoxian.identity.services import Customer
from baoxian.shared.clock import SHANGHAI
from baoxian.shared.money import Money
from baoxian.web.i18n import HTML_LANG, LOCALES, pick_locale, translations
from baoxian.web.security import (
    CARE_COOKIE,
    LOCALE_COOKIE,
    SESSION_COOKIE,
    Keys,
    Session,
)

TEMPLATES = Path(__file__).parent / "templates"


def yuan(value: Money | None) -> str:
    """¥1,234.50 — money as shown on a page."""
    return "—" if value is None else f"¥{value.amount:,.2f}"


def local_time(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["yuan"] = yuan
    env.filters["local_time"] = local_time
    env.globals["locale"] = locale
    env.globals["html_lang"] = HTML_LANG[locale]
    env.globals["zh"] = locale == "zh_CN"
    return env


@dataclass
class Web:
    """The web edge's state, built once per process."""

    app: App
    keys: Keys
    clock: Callable[[], datetime]
    demo: bool = False
    environments: dict[str, Environment] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.environments = {locale: _environment(locale) for locale in LOCALES}

    def page(self, request: Request) -> Page:
        sid = request.state.sid
        session = self.keys.read(request.cookies.get(SESSION_COOKIE), sid, self.clock())
        locale = pick_locale(
            request.cookies.get(LOCALE_COOKIE), request.headers.get("accept-language")
        )
        return Page(self, request, locale, request.cookies.get(CARE_COOKIE) == "1", session)


@dataclass
class Page:
    """One request's view of the user."""

    web: Web
    request: Request
    locale: str
    care: bool
    session: Session | None

    @property
    def sid(self) -> str:
        return str(self.request.state.sid)

    @property
    def here(self) -> str:
        """This page's path and query: the language and care switches come back to it."""
        url = self.request.url
        return f"{url.path}?{url.query}" if url.query else url.path

    def _(self, message: str) -> str:
        return translations(self.locale).gettext(message)

    def text(self, zh: str, en: str) -> str:
        """A message that comes in both languages (domain errors, notices)."""
        return zh if self.locale == "zh_CN" else en

    def customer(self) -> Customer | None:
        if self.session is None or self.session.kind != "customer":
            return None
        return self.web.app.identity.customer(self.session.subject)

    def staff(self) -> StaffUser | None:
        if self.session is None or self.session.kind != "staff":
            return None
        return self.web.app.identity.staff_user(self.session.subject)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        env = self.web.environments[self.locale]
        values: Mapping[str, Any] = {
            "request": self.request,
            "care": self.care,
            "csrf": self.web.keys.csrf_token(self.sid),
            "demo": self.web.demo,
            "path": self.here,
            "text": self.text,
            **context,
        }
        html = env.get_template(template).render(values)
        return HTMLResponse(html, status_code=status_code)


__all__ = ["Page", "Web", "local_time", "yuan"]
