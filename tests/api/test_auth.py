"""Tokens and their limits: OAuth2 client credentials, customer and staff tokens, scopes,
expiry, revocation, hashed secrets and rate limits (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from sqlalchemy import Engine, select

from baoxian.api.services import api_access
from baoxian.api.tables import api_clients
from baoxian.store.db import make_engine
from baoxian.store.migrate import upgrade
from tests.api.conftest import WANG_MOBILE, Api, Clock, latest_code


@pytest.fixture
def blank_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only: nothing here depends on the store's dialect."""
    engine = make_engine(f"sqlite:///{tmp_path / 'api.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def engine(blank_engine: Engine) -> Engine:
    upgrade(blank_engine)
    return blank_engine


def _token(api: Api, client_id: str, secret: str, scope: str | None = None) -> object:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if scope is not None:
        form["scope"] = scope
    return api.client.post("/api/v1/oauth/token", data=form)


def test_client_credentials_give_a_short_lived_token(api: Api) -> None:
    client, secret = api_access(api.app).add_client("某银行", frozenset({"products:read"}))
    answer = api.client.post(
        "/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": secret,
        },
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer",
        600,
        "products:read",
    )
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 600 and claims["sub"] == client.client_id
    assert api.get("/products", token=body["access_token"]).status_code == 200
    with api.app.engine.connect() as connection:
        stored = connection.scalar(select(api_clients.c.secret_hash))
    assert stored is not None and stored.startswith("$argon2id$") and secret not in stored


def test_wrong_secrets_and_unknown_clients_get_the_same_answer(api: Api) -> None:
    client, secret = api_access(api.app).add_client("某银行", frozenset({"products:read"}))
    wrong = api.client.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client.client_id,
              "client_secret": secret + "x"},
    )  # fmt: skip
    unknown = api.client.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "0" * 32, "client_secret": secret},
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() and wrong.json()["code"] == "auth.invalid_client"
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.headers["www-authenticate"] == "Bearer"
    bad_grant = api.client.post(
        "/api/v1/oauth/token",
        data={"grant_type": "password", "client_id": client.client_id, "client_secret": secret},
    )
    assert bad_grant.status_code == 422
    assert [e["field"] for e in bad_grant.json()["errors"]] == ["grant_type"]


def test_scopes_are_asked_for_and_enforced(api: Api) -> None:
    client, secret = api_access(api.app).add_client(
        "药房", frozenset({"products:read", "claims:read"})
    )
    form = {"grant_type": "client_credentials", "client_id": client.client_id}
    too_much = api.client.post(
        "/api/v1/oauth/token", data={**form, "client_secret": secret, "scope": "quotes:write"}
    )
    assert too_much.status_code == 403 and too_much.json()["code"] == "auth.invalid_scope"
    narrow = api.client.post(
        "/api/v1/oauth/token", data={**form, "client_secret": secret, "scope": "claims:read"}
    ).json()
    assert narrow["scope"] == "claims:read"
    refused = api.get("/products", token=narrow["access_token"])
    assert refused.status_code == 403
    assert refused.json()["code"] == "auth.insufficient_scope"
    assert "products:read" in refused.json()["en"]


def test_tokens_expire_break_and_die_with_their_client(api: Api, clock: Clock) -> None:
    access = api_access(api.app)
    client, secret = access.add_client("骑手平台", frozenset({"products:read"}))
    form = {"grant_type": "client_credentials", "client_id": client.client_id}
    token = api.client.post("/api/v1/oauth/token", data={**form, "client_secret": secret}).json()[
        "access_token"
    ]
    assert api.get("/products", token=token).status_code == 200
    assert api.get("/products").json()["code"] == "auth.required"
    forged = jwt.encode(jwt.decode(token, options={"verify_signature": False}), "x" * 32)
    for broken in (token[:-2] + "xx", forged, "not-a-jwt"):
        answer = api.get("/products", token=broken)
        assert answer.status_code == 401 and answer.json()["code"] == "auth.invalid_token"
    clock.advance(minutes=10)
    assert api.get("/products", token=token).json()["code"] == "auth.invalid_token"
    fresh = api.client.post("/api/v1/oauth/token", data={**form, "client_secret": secret}).json()[
        "access_token"
    ]
    access.set_active(client.client_id, False)
    assert api.get("/products", token=fresh).json()["code"] == "auth.invalid_token"
    again = api.client.post("/api/v1/oauth/token", data={**form, "client_secret": secret})
    assert again.json()["code"] == "auth.invalid_client"


def test_a_client_over_its_rate_gets_429_with_retry_after(api: Api, clock: Clock) -> None:
    client, secret = api_access(api.app).add_client(
        "慢速伙伴", frozenset({"products:read"}), rate_per_minute=3
    )
    form = {"grant_type": "client_credentials", "client_id": client.client_id}
    token = api.client.post("/api/v1/oauth/token", data={**form, "client_secret": secret}).json()[
        "access_token"
    ]
    assert [api.get("/products", token=token).status_code for _ in range(3)] == [200] * 3
    limited = api.get("/products", token=token)
    assert limited.status_code == 429 and limited.json()["code"] == "api.rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    clock.advance(seconds=60)
    assert api.get("/products", token=token).status_code == 200


def test_guessing_a_secret_is_rate_limited(api: Api) -> None:
    client, _ = api_access(api.app).add_client("某银行", frozenset({"products:read"}))
    form = {"grant_type": "client_credentials", "client_id": client.client_id}
    codes = [
        api.client.post("/api/v1/oauth/token", data={**form, "client_secret": f"guess{i}"}).json()[
            "code"
        ]
        for i in range(11)
    ]
    assert codes == ["auth.invalid_client"] * 10 + ["api.rate_limited"]


def test_customer_and_staff_tokens(api: Api) -> None:
    api.client.post("/api/v1/customer/code", data={"mobile": WANG_MOBILE})
    wrong = api.client.post(
        "/api/v1/customer/token", data={"mobile": WANG_MOBILE, "code": "000000x"}
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "identity.sign_in_failed"
    customer = api.customer_token(WANG_MOBILE)
    claims = jwt.decode(customer, options={"verify_signature": False})
    assert claims["knd"] == "customer" and WANG_MOBILE not in customer and "mob" in claims
    assert "quotes:write" not in claims["scope"] and "claims:read" in claims["scope"]
    assert api.get("/policies", token=customer).json() == []
    assert latest_code(api.app)  # the code went out as a text message

    staff = api.staff_token("S001", "service")
    assert "personal_data:read" in jwt.decode(staff, options={"verify_signature": False})["scope"]
    refused = api.client.post(
        "/api/v1/staff/token", data={"staff_id": "S001", "password": "wrong password!"}
    )
    assert refused.status_code == 401 and refused.json()["code"] == "identity.password_failed"
    listed = api.get("/policies", token=staff)
    assert listed.status_code == 403 and listed.json()["code"] == "api.staff_list_not_offered"
