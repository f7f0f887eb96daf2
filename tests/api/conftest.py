"""API fixtures: the served process (API at /api/v1 and the web edge) over a store on
SQLite and on PostgreSQL (the ``engine`` fixture of ``tests/store``), a clock the tests
move, partner clients, customers and staff with their tokens."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from starlette.applications import Starlette
from starlette.routing import Mount

from baoxian.api.auth import ApiContext
from baoxian.api.services import api_access
from baoxian.bootstrap import App, build
from baoxian.server import create_server
from baoxian.settings import Settings
from baoxian.shared.money import Money
from baoxian.store.crypto import DATA_KEY_ENV, FieldCipher
from baoxian.store.tables import events
from tests.conftest import CATALOG_DIR
from tests.store import conftest as store
from tests.store.conftest import resident_id

# the store's database fixtures: SQLite and PostgreSQL, each test on a fresh, migrated store
postgres_url = store.postgres_url
blank_engine = store.blank_engine
engine = store.engine

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
START = "2026-03-01"
PARTNER_SCOPES = (
    "products:read quotes:read quotes:write policies:read policies:write "
    "claims:read claims:write customers:read notices:read webhooks:manage "
    "members:read members:write"
)
WANG_ID = resident_id("11010519810415031")
WANG_MOBILE = "13812345678"
LI_ID = resident_id("11010819900715002")
LI_MOBILE = "13987654321"


@dataclass
class Clock:
    """The application's clock, moved by the tests."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(engine: Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv(DATA_KEY_ENV, FieldCipher.generate_key())
    url = engine.url.render_as_string(hide_password=False)
    return build(Settings(url, CATALOG_DIR), clock=clock, migrate=False, engine=engine)


@dataclass
class Api:
    """An HTTP client of the served process with helpers for tokens and idempotent POSTs."""

    client: TestClient
    app: App
    token: str | None = None
    keys: list[str] = field(default_factory=list)

    def headers(self, token: str | None = None, key: str | None = None) -> dict[str, str]:
        found = token if token is not None else self.token
        headers = {"Authorization": f"Bearer {found}"} if found else {}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def get(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        answer: httpx.Response = self.client.get(
            f"/api/v1{path}", headers=self.headers(token), params=params
        )
        return answer

    def post(
        self,
        path: str,
        json: Any = None,
        token: str | None = None,
        key: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        key = key or str(uuid.uuid4())
        self.keys.append(key)
        answer: httpx.Response = self.client.post(
            f"/api/v1{path}", json=json, headers=self.headers(token, key), **kwargs
        )
        return answer

    def post_body(
        self,
        path: str,
        body: bytes,
        media_type: str,
        key: str | None = None,
        token: str | None = None,
        **params: Any,
    ) -> httpx.Response:
        """POST a raw body (CSV, NDJSON) with an Idempotency-Key."""
        key = key or str(uuid.uuid4())
        self.keys.append(key)
        headers = {**self.headers(token, key), "Content-Type": media_type}
        answer: httpx.Response = self.client.post(
            f"/api/v1{path}", content=body, headers=headers, params=params
        )
        return answer

    @property
    def context(self) -> ApiContext:
        """The served API's context (its routes under ``/api/v1``)."""
        server = self.client.app
        assert isinstance(server, Starlette)
        mount = server.routes[0]
        assert isinstance(mount, Mount) and mount.path == "/api/v1"
        found: ApiContext = mount.app.state.api  # type: ignore[attr-defined]
        return found

    def general_path(self) -> Api:
        """Quotes take the general path (:mod:`baoxian.api.atomic`) only, not the direct one
        (:mod:`baoxian.api.direct`; PostgreSQL)."""
        self.context.direct = None
        return self

    def as_(self, token: str) -> Api:
        """The same client acting with another token."""
        return Api(self.client, self.app, token)

    # ------------------------------------------------------------------ tokens

    def partner_token(
        self, name: str = "骑手平台", scopes: str = PARTNER_SCOPES, rate: int = 600
    ) -> str:
        client, secret = api_access(self.app).add_client(name, frozenset(scopes.split()), rate)
        answer = self.client.post(
            "/api/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client.client_id,
                "client_secret": secret,
            },
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def customer_token(self, mobile: str) -> str:
        sent = self.client.post("/api/v1/customer/code", data={"mobile": mobile})
        assert sent.status_code == 202, sent.text
        answer = self.client.post(
            "/api/v1/customer/token", data={"mobile": mobile, "code": latest_code(self.app)}
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def staff_token(self, user_id: str, *roles: str) -> str:
        password = "correct horse battery"
        self.app.identity.add_staff(user_id, "李客服", password, roles, Money.of("50000"))
        answer = self.client.post(
            "/api/v1/staff/token", data={"staff_id": user_id, "password": password}
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    # ------------------------------------------------------------------ the book

    def quote(
        self, id_number: str = WANG_ID, mobile: str = WANG_MOBILE, name: str = "王建国"
    ) -> Any:
        answer = self.post("/quotes", quote_body(id_number, mobile, name))
        assert answer.status_code == 201, answer.text
        return answer.json()

    def policy(
        self, id_number: str = WANG_ID, mobile: str = WANG_MOBILE, name: str = "王建国"
    ) -> Any:
        quote = self.quote(id_number, mobile, name)
        answer = self.post("/policies", {"quote_id": quote["quote_id"]})
        assert answer.status_code == 201, answer.text
        return answer.json()


def count_rows(app: App, table: Any, *where: Any) -> int:
    """Rows of ``table`` meeting ``where``, read now."""
    with app.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def count_events(app: App, event_type: str) -> int:
    return count_rows(app, events, events.c.event_type == event_type)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` meanwhile (their first words)."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()[:3]))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def quote_body(id_number: str = WANG_ID, mobile: str = WANG_MOBILE, name: str = "王建国") -> Any:
    person = {
        "kind": "person",
        "name": name,
        "id_number": id_number,
        "mobile": mobile,
        "medical_insurance_city": "110000",
    }
    return {"product": "BJ-HMB", "start": START, "holder": person, "insured": [person]}


def claim_body(policy: Any, **more: Any) -> dict[str, Any]:
    """The example claim of ``examples/claim-huiminbao.yaml`` on the policy's insured."""
    return {
        "kind": "health",
        "policy_number": policy["policy_number"],
        "insured": policy["insured"][0]["key"],
        "loss_date": "2026-06-01",
        "discharge_date": "2026-06-06",
        "diagnosis": "K35.8",
        "provider": "H110105001",
        "invoice_no": "110105-2026-0601-0001",
        "items": [
            {
                "code": "HOSP",
                "category": "in_list",
                "amount": "50000.00",
                "paid_by_basic": "30000.00",
            },
            {"code": "OUTL", "category": "out_of_list", "amount": "8000.00"},
        ],
        **more,
    }


def latest_code(app: App) -> str:
    found = re.search(r"\b(\d{6})\b", app.outreach.outbox(1)[0].body_en)
    assert found
    return found.group(1)


@pytest.fixture
def api(app: App) -> Iterator[Api]:
    with TestClient(create_server(app), base_url="https://testserver") as client:
        yield Api(client, app)


@pytest.fixture
def partner(api: Api) -> Api:
    """Partner A (a delivery platform) with every partner scope."""
    return api.as_(api.partner_token("骑手平台"))


@pytest.fixture
def other_partner(api: Api) -> Api:
    """Partner B (a bank), another client with the same scopes."""
    return api.as_(api.partner_token("某银行"))
