"""``Idempotency-Key`` (SQLite and PostgreSQL): a retry gets the stored answer and has one
effect; another body under the same key is refused; two copies at the same moment have
exactly one effect; a request still running answers 409 after the wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.routing import Mount

from baoxian.api.app import create_api
from baoxian.api.services import IdempotencyStore
from baoxian.bootstrap import App
from baoxian.policies.model import Quote
from baoxian.policies.schemas import QuoteRequestFile
from baoxian.store.tables import events
from tests.api.conftest import LI_ID, LI_MOBILE, Api, quote_body

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def quotes_created(app: App) -> int:
    with app.engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count())
                .select_from(events)
                .where(events.c.event_type == "quote.created")
            )
            or 0
        )


def slow_quotes(app: App, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Quoting takes a while, so a second copy of a request arrives while the first runs."""
    quote_request: Callable[..., Quote] = app.policies.quote_request

    def slowly(request: QuoteRequestFile, **options: Any) -> Quote:
        time.sleep(seconds)
        return quote_request(request, **options)

    monkeypatch.setattr(app.policies, "quote_request", slowly)


def test_every_post_needs_a_key(partner: Api) -> None:
    headers = partner.headers()
    missing = partner.client.post("/api/v1/quotes", json=quote_body(), headers=headers)
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency.key_required"
    short = partner.client.post(
        "/api/v1/quotes", json=quote_body(), headers={**headers, "Idempotency-Key": "abc"}
    )
    assert short.status_code == 400 and short.json()["code"] == "idempotency.key_invalid"
    assert quotes_created(partner.app) == 0


def test_a_retry_gets_the_first_answer_and_has_one_effect(partner: Api) -> None:
    first = partner.post("/quotes", quote_body(), key="retry-key-001")
    second = partner.post("/quotes", quote_body(), key="retry-key-001")
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["content-type"] == "application/json"
    assert quotes_created(partner.app) == 1


def test_the_same_key_with_another_body_is_refused(partner: Api) -> None:
    partner.post("/quotes", quote_body(), key="reused-key-01")
    other = partner.post("/quotes", quote_body(LI_ID, LI_MOBILE, "李四"), key="reused-key-01")
    assert other.status_code == 422 and other.json()["code"] == "idempotency.key_reused"
    assert quotes_created(partner.app) == 1


def test_keys_belong_to_their_caller(partner: Api, other_partner: Api) -> None:
    mine = partner.post("/quotes", quote_body(), key="shared-key-01").json()
    theirs = other_partner.post("/quotes", quote_body(), key="shared-key-01")
    assert theirs.status_code == 201 and theirs.json()["quote_id"] != mine["quote_id"]
    assert quotes_created(partner.app) == 2


def test_answers_worth_retrying_are_not_kept(partner: Api) -> None:
    number = partner.policy()["policy_number"]
    cancel = {"effective": "2026-09-01", "reason": "客户申请退保"}
    assert partner.post(f"/policies/{number}/cancel", cancel).status_code == 200
    conflict = partner.post(f"/policies/{number}/cancel", cancel, key="conflict-key1")
    again = partner.post(f"/policies/{number}/cancel", cancel, key="conflict-key1")
    assert conflict.status_code == again.status_code == 409
    assert "idempotent-replayed" not in again.headers


def _race(api: Api, copies: int, key: str) -> list[httpx.Response]:
    barrier = threading.Barrier(copies)

    def send(_: int) -> httpx.Response:
        barrier.wait()
        return api.post("/quotes", quote_body(), key=key)

    with ThreadPoolExecutor(copies) as pool:
        return list(pool.map(send, range(copies)))


def test_two_copies_at_the_same_moment_have_one_effect(
    partner: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow_quotes(partner.app, monkeypatch, 0.5)
    answers = _race(partner, 2, "race-key-0001")
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].content == answers[1].content
    assert sorted(a.headers.get("idempotent-replayed", "") for a in answers) == ["", "true"]
    assert quotes_created(partner.app) == 1


def test_a_copy_waiting_too_long_gets_409(partner: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    slow_quotes(partner.app, monkeypatch, 2.0)
    server = Starlette(routes=[Mount("/api/v1", create_api(partner.app, wait_timeout=0.2))])
    with TestClient(server, base_url="https://testserver") as client:
        impatient = Api(client, partner.app, partner.token)
        answers = _race(impatient, 2, "slow-key-0001")
    codes = sorted((a.status_code, a.json().get("code", "")) for a in answers)
    assert codes == [(201, ""), (409, "idempotency.in_progress")]
    assert next(a for a in answers if a.status_code == 409).headers["retry-after"] == "1"
    assert quotes_created(partner.app) == 1


def _starts(store: IdempotencyStore, key: str, copies: int) -> list[str]:
    barrier = threading.Barrier(copies)

    def begin(_: int) -> str:
        barrier.wait()
        return store.begin("partner:x", key, "f" * 64).outcome

    with ThreadPoolExecutor(copies) as pool:
        return sorted(pool.map(begin, range(copies)))


def test_of_many_simultaneous_starts_exactly_one_wins(app: App) -> None:
    store = IdempotencyStore(app.engine, app.policies.clock)
    for round_ in range(5):
        outcomes = _starts(store, f"store-key-{round_:04d}", 4)
        assert outcomes == ["busy", "busy", "busy", "started"]


def test_keys_older_than_the_time_to_live_are_purged_in_batches(app: App) -> None:
    moments = iter([NOW - timedelta(hours=30)] * 5 + [NOW - timedelta(hours=2)] * 2)
    old_store = IdempotencyStore(app.engine, lambda: next(moments))
    for n in range(5):
        assert old_store.begin("partner:x", f"old-{n}", "f" * 64).outcome == "started"
    for n in range(2):
        assert old_store.begin("partner:x", f"new-{n}", "f" * 64).outcome == "started"
    store = IdempotencyStore(app.engine, lambda: NOW)
    assert store.purge(batch=2) == 5  # three transactions: 2 + 2 + 1
    assert store.purge() == 0
    assert store.find("partner:x", "old-0") is None
    assert store.find("partner:x", "new-1") is not None
