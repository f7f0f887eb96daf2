"""Web fixtures: the app over a fresh SQLite store, and browsers (HTTP clients with their own
cookies) that can sign in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from baoxian.bootstrap import App, build
from baoxian.policies.services import InsuredInput, QuoteInput
from baoxian.settings import Settings
from tests.store.conftest import resident_id

CATALOG = Path(__file__).resolve().parents[2] / "catalog"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


class MovableClock:
    """A clock the test moves forward."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@pytest.fixture
def app(tmp_path: Path) -> App:
    return build(Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", catalog_dir=CATALOG))


@dataclass
class Browser:
    client: TestClient
    app: App

    def csrf(self, path: str = "/") -> str:
        found = CSRF.search(self.client.get(path).text)
        assert found, "the page has no CSRF token"
        return found.group(1)

    def sign_in(self, mobile: str) -> None:
        token = self.csrf()
        page = self.client.post("/sign-in/code", data={"mobile": mobile, "csrf": token})
        assert page.status_code == 200, page.text
        code = latest_code(self.app, mobile)
        done = self.client.post(
            "/sign-in/verify", data={"mobile": mobile, "code": code, "csrf": token}
        )
        assert done.status_code == 200 and "/me" in str(done.url), done.text


def latest_code(app: App, mobile: str) -> str:
    for sms in app.outreach.outbox(50):
        if sms.mobile_masked == mobile[:3] + "****" + mobile[-4:]:
            found = re.search(r"\b(\d{6})\b", sms.body_en)
            assert found
            return found.group(1)
    raise AssertionError(f"no code sent to {mobile}")


@pytest.fixture
def web(app: App) -> Iterator[TestClient]:
    from baoxian.web.app import create_app

    with TestClient(create_app(app, demo=True), base_url="https://testserver") as client:
        yield client


@pytest.fixture
def browser(app: App, web: TestClient) -> Browser:
    return Browser(web, app)


@pytest.fixture
def second_browser(app: App) -> Iterator[Browser]:
    from baoxian.web.app import create_app

    with TestClient(create_app(app, demo=True), base_url="https://testserver") as client:
        yield Browser(client, app)


def customer_with_policy(app: App, id17: str, mobile: str) -> str:
    """A Beijing resident with a 惠民保 policy; returns the policy number."""
    person = app.policies.register_person(
        "王建国", resident_id(id17), mobile, medical_insurance_city="110000"
    )
    insured = (InsuredInput("person", person.party_id),)
    quote = app.policies.create_quote(
        QuoteInput("BJ-HMB", person.party_id, date(2026, 1, 1), insured)
    )
    return app.policies.issue_policy(quote.quote_id).policy_number
