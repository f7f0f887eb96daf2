"""``baoxian api client …`` end to end on a fresh SQLite database: the secret is printed
once and works at the token endpoint; only its hash is stored.  ``baoxian api webhooks
dispatch --once`` runs a round."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from baoxian.api.tables import api_clients
from baoxian.bootstrap import build
from baoxian.cli import app
from baoxian.server import create_server
from baoxian.settings import Settings
from tests.conftest import CATALOG_DIR

runner = CliRunner()


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BAOXIAN_DATABASE_URL", url)
    monkeypatch.setenv("BAOXIAN_CATALOG", str(CATALOG_DIR))
    monkeypatch.setenv("COLUMNS", "200")
    return url


def test_add_list_and_revoke_a_client(environment: str) -> None:
    added = runner.invoke(
        app, ["api", "client", "add", "骑手平台", "--scopes", "products:read,quotes:write"]
    )
    assert added.exit_code == 0, added.output
    client_id = re.search(r"client_id\s+([0-9a-f]{32})", added.output)
    secret = re.search(r"client_secret\s+(\S+)", added.output)
    assert client_id and secret
    application = build(Settings(environment, CATALOG_DIR))
    with application.engine.connect() as connection:
        stored = connection.scalar(select(api_clients.c.secret_hash))
    assert stored and stored.startswith("$argon2id$") and secret.group(1) not in stored

    form = {
        "grant_type": "client_credentials",
        "client_id": client_id.group(1),
        "client_secret": secret.group(1),
    }
    with TestClient(create_server(application), base_url="https://testserver") as client:
        token = client.post("/api/v1/oauth/token", data=form)
        assert token.status_code == 200
        assert token.json()["scope"] == "products:read quotes:write"

        listed = runner.invoke(app, ["api", "client", "list"])
        assert client_id.group(1) in listed.output and secret.group(1) not in listed.output
        revoked = runner.invoke(app, ["api", "client", "revoke", client_id.group(1)])
        assert revoked.exit_code == 0
        assert client.post("/api/v1/oauth/token", data=form).status_code == 401


def test_unknown_scopes_are_refused() -> None:
    result = runner.invoke(app, ["api", "client", "add", "某银行", "--scopes", "everything"])
    assert result.exit_code == 1 and "api.unknown_scope" in result.output
    staff_only = runner.invoke(
        app, ["api", "client", "add", "某银行", "--scopes", "personal_data:read"]
    )
    assert staff_only.exit_code == 1


def test_one_round_of_the_webhook_dispatcher() -> None:
    result = runner.invoke(app, ["api", "webhooks", "dispatch", "--once"])
    assert result.exit_code == 0, result.output
    assert "queued 0" in result.output and "delivered 0" in result.output
