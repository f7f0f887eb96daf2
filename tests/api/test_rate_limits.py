"""Rate limits shared by every API process: two limiters (two processes) on one Redis count
one caller together; another caller and the next minute start afresh; an unreachable Redis
falls back to counting in the process instead of failing the request.  The Redis tests need
``BAOXIAN_TEST_REDIS_URL`` (CI sets it and fails if Redis is unreachable)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from baoxian.api.model import RateLimiter
from baoxian.api.rate_limits import ENV, RedisRateLimiter, limiter_from_env
from baoxian.api.services import api_access
from baoxian.bootstrap import App
from baoxian.server import create_server

NOW = datetime(2026, 6, 1, 2, 0, 10, tzinfo=UTC)
REDIS_URL = os.environ.get("BAOXIAN_TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS_URL and os.environ.get("CI") != "true",
    reason="the shared rate-limit tests need BAOXIAN_TEST_REDIS_URL",
)


@needs_redis
def test_two_processes_share_one_callers_limit() -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    first, second = (RedisRateLimiter.from_url(REDIS_URL) for _ in range(2))
    first.prefix = second.prefix = prefix
    answers = [(first if n % 2 else second).hit("client-a", 5, NOW) for n in range(6)]
    assert answers == [None, None, None, None, None, 50]  # 50 s left of the minute
    assert first.hit("client-b", 5, NOW) is None  # another caller has its own count
    assert second.hit("client-a", 5, NOW + timedelta(seconds=50)) is None  # the next minute


def test_an_unreachable_redis_falls_back_to_this_process() -> None:
    limiter = RedisRateLimiter.from_url("redis://127.0.0.1:1/0")
    answers = [limiter.hit("client-a", 2, NOW) for _ in range(3)]
    assert answers == [None, None, 50]


def test_the_environment_chooses_the_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert isinstance(limiter_from_env(), RateLimiter)
    monkeypatch.setenv(ENV, "redis://127.0.0.1:6379/2")
    assert isinstance(limiter_from_env(), RedisRateLimiter)


@needs_redis
def test_two_served_processes_share_a_partners_limit(
    app: App, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two API processes (two apps over one store) with ``BAOXIAN_RATE_LIMIT_URL`` set: a
    partner allowed 3 requests a minute gets 3 between them, then 429 from either."""
    monkeypatch.setenv(ENV, REDIS_URL)
    client, secret = api_access(app).add_client(
        f"慢速伙伴{uuid.uuid4().hex[:6]}", frozenset({"products:read"}), rate_per_minute=3
    )
    form = {"grant_type": "client_credentials", "client_id": client.client_id}
    with (
        TestClient(create_server(app), base_url="https://testserver") as one,
        TestClient(create_server(app), base_url="https://testserver") as two,
    ):
        token = one.post("/api/v1/oauth/token", data={**form, "client_secret": secret}).json()[
            "access_token"
        ]
        headers = {"Authorization": f"Bearer {token}"}
        codes = [
            (one if n % 2 else two).get("/api/v1/products", headers=headers).status_code
            for n in range(4)
        ]
    assert codes == [200, 200, 200, 429]
