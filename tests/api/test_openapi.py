"""The published OpenAPI and the served process: the API at /api/v1 beside the portal
(SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from baoxian.api.schemas import MONEY_PATTERN
from baoxian.store.db import make_engine
from baoxian.store.migrate import upgrade
from tests.api.conftest import Api


@pytest.fixture
def blank_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'api.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def engine(blank_engine: Engine) -> Engine:
    upgrade(blank_engine)
    return blank_engine


def _schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"][name]
    return found


def test_openapi_is_published_with_examples_money_and_keys(api: Api) -> None:
    answer = api.client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    spec = answer.json()
    assert spec["servers"] == [{"url": "/api/v1"}]
    for name in ("QuoteCreate", "PolicyCreate", "ContactUpdate", "CancellationCreate"):
        assert _schema(spec, name)["examples"], name
    for name in ("HealthClaimCreate", "PropertyClaimCreate"):
        assert _schema(spec, name)["examples"], name
    premium = _schema(spec, "QuotePublic")["properties"]["annual_premium"]
    assert premium["type"] == "string" and premium["pattern"] == MONEY_PATTERN
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            needs_key = method == "post" and path not in {
                "/oauth/token",
                "/customer/code",
                "/customer/token",
                "/staff/token",
            }
            assert ("Idempotency-Key" in headers) == needs_key, (method, path)
            assert "application/problem+json" in operation["responses"]["422"]["content"]
    flows = spec["components"]["securitySchemes"]["partner"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "oauth/token"


def test_the_server_serves_the_api_and_the_portal(api: Api) -> None:
    portal = api.client.get("/")
    assert portal.status_code == 200 and "text/html" in portal.headers["content-type"]
    answer = api.get("/products")
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"
