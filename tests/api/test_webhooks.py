"""Webhooks (SQLite and PostgreSQL): registration, signed deliveries from the event log,
retries with back-off on the test clock, dead after the last attempt, replay, and the
rule that a partner only ever gets the events of its own objects.  The dispatcher posts
through a fake receiver at the transport port; one test uses a real HTTP server."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from baoxian.api.services import api_access
from baoxian.api.tables import api_idempotency_keys
from baoxian.api.webhooks import MAX_ATTEMPTS, RETRY_DELAYS
from baoxian.api.webhooks_service import DispatchReport, WebhookDispatcher
from baoxian.api.webhooks_transport import HttpxTransport, Sent, WebhookTransport
from baoxian.bootstrap import App, build
from baoxian.policies.ports import Event
from baoxian.policies.repository import SqlEventLog
from baoxian.settings import Settings
from baoxian.store.crypto import DATA_KEY_ENV, FieldCipher
from tests.api.conftest import LI_ID, LI_MOBILE, PARTNER_SCOPES, Api, Clock, claim_body
from tests.conftest import CATALOG_DIR

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
HOOK = "http://127.0.0.1:9/hook"  # never connected to: the fake receiver answers


@pytest.fixture
def app(engine: Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> App:
    """The API's application, accepting webhook endpoints on this machine over HTTP."""
    monkeypatch.setenv(DATA_KEY_ENV, FieldCipher.generate_key())
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(url, CATALOG_DIR, webhooks_allow_loopback=True)
    return build(settings, clock=clock, migrate=False, engine=engine)


def documented_verify() -> Callable[..., bool]:
    """``verify_baoxian_webhook`` exactly as docs/api.md shows it to partners."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### 验证签名 · Verifying a delivery", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    scope: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOCS), "exec"), scope)
    verify: Callable[..., bool] = scope["verify_baoxian_webhook"]
    return verify


@dataclass
class Received:
    url: str
    body: bytes
    headers: Mapping[str, str]

    @property
    def event_id(self) -> str:
        return self.headers["Baoxian-Event-Id"]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A fake endpoint at the transport port: answers from a script (then 200) and keeps
    every request."""

    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Sent:
        self.received.append(Received(url, body, dict(headers)))
        return Sent(self.answers.pop(0) if self.answers else 200, None, 1)

    def types(self) -> list[str]:
        return [r.json["type"] for r in self.received]


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


def dispatcher(app: App, clock: Clock, transport: WebhookTransport) -> WebhookDispatcher:
    return WebhookDispatcher(
        app.engine, app.cipher, clock, transport, app.claims.policy_numbers, concurrency=1
    )


@pytest.fixture
def dispatch(app: App, clock: Clock, receiver: Receiver) -> Callable[[], DispatchReport]:
    """One round of the dispatcher, posting to the fake receiver."""
    return dispatcher(app, clock, receiver).run_once


@dataclass
class Partner(Api):
    """A partner whose credentials the test keeps: the test clock runs past a token's ten
    minutes, and ``signed_in()`` gets a new one."""

    client_id: str = ""
    secret: str = ""

    def signed_in(self) -> Api:
        answer = self.client.post(
            "/api/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.secret,
            },
        )
        assert answer.status_code == 200, answer.text
        return self.as_(str(answer.json()["access_token"]))


@pytest.fixture
def partner(api: Api) -> Partner:
    client, secret = api_access(api.app).add_client("骑手平台", frozenset(PARTNER_SCOPES.split()))
    signed = Partner(api.client, api.app, client_id=client.client_id, secret=secret)
    return Partner(api.client, api.app, signed.signed_in().token, [], client.client_id, secret)


def register(partner: Api, *event_types: str, url: str = HOOK) -> Any:
    answer = partner.post("/webhooks", {"url": url, "event_types": list(event_types)})
    assert answer.status_code == 201, answer.text
    return answer.json()


# --------------------------------------------------------------------------- registering


def test_the_secret_is_shown_once_and_kept_sealed(partner: Api) -> None:
    key = "webhook-create-0001"
    body = {"url": HOOK, "event_types": ["policy.*", "claim.paid"]}
    created = partner.post("/webhooks", body, key=key)
    assert created.status_code == 201
    hook = created.json()
    assert hook["secret"].startswith("whsec_") and hook["event_types"] == ["claim.paid", "policy.*"]
    again = partner.post("/webhooks", body, key=key)  # a retry gets the same answer
    assert again.json() == hook and again.headers["idempotent-replayed"] == "true"
    listed = partner.get("/webhooks").json()
    assert [w["webhook_id"] for w in listed] == [hook["webhook_id"]]
    assert (
        "secret" not in listed[0]
        and "secret" not in partner.get(f"/webhooks/{hook['webhook_id']}").json()
    )
    with partner.app.engine.connect() as connection:
        stored = connection.scalars(select(api_idempotency_keys.c.response_body)).all()
    assert stored and not any(hook["secret"].encode() in bytes(b) for b in stored)


def test_endpoints_and_event_types_are_checked(partner: Api, api: Api) -> None:
    for url in ("http://hooks.example.com/x", "https://10.1.2.3/x", "https://u:p@example.com/"):
        refused = partner.post("/webhooks", {"url": url, "event_types": ["policy.*"]})
        assert refused.status_code == 422 and refused.json()["code"] == "webhook.invalid_url"
    unknown = partner.post("/webhooks", {"url": HOOK, "event_types": ["claim.assigned"]})
    assert unknown.status_code == 422 and unknown.json()["code"] == "webhook.unknown_event_type"
    reader = api.as_(api.partner_token("药房", "policies:read webhooks:manage"))
    denied = reader.post("/webhooks", {"url": HOOK, "event_types": ["claim.*"]})
    assert denied.status_code == 403 and denied.json()["code"] == "auth.insufficient_scope"
    no_scope = api.as_(api.partner_token("医院", "policies:read claims:read"))
    assert no_scope.get("/webhooks").status_code == 403


def test_another_partners_webhook_is_not_found(partner: Api, other_partner: Api) -> None:
    hook = register(partner, "policy.*")
    path = f"/webhooks/{hook['webhook_id']}"
    assert other_partner.get(path).status_code == 404
    assert (
        other_partner.client.delete(f"/api/v1{path}", headers=other_partner.headers()).status_code
        == 404
    )
    assert other_partner.post(f"{path}/replay?since=0").status_code == 404
    assert partner.client.delete(f"/api/v1{path}", headers=partner.headers()).status_code == 204
    assert partner.get(path).status_code == 404 and partner.get("/webhooks").json() == []


# --------------------------------------------------------------------------- delivering


def test_a_delivery_is_signed_and_the_documented_check_verifies_it(
    partner: Api, receiver: Receiver, dispatch: Callable[[], DispatchReport], clock: Clock
) -> None:
    hook = register(partner, "policy.*")
    policy = partner.policy()
    dispatch()
    (delivery,) = receiver.received  # not quote.created, party.registered: not public
    assert delivery.url == HOOK
    event = delivery.json
    assert event["type"] == "policy.issued" and str(event["id"]) == delivery.event_id
    assert event["occurred_at"] == "2026-06-15T02:00:00Z"
    assert event["data"] == {
        "object": "policy",
        "id": policy["policy_number"],
        "quote_id": event["data"]["quote_id"],
        "premium": "195.00",
        "term_start": "2026-03-01",
        "term_end": "2027-03-01",
    }
    verify = documented_verify()
    now = clock.now.timestamp()
    signature = delivery.headers["Baoxian-Signature"]
    assert signature.startswith(f"t={int(now)},v1=")
    assert verify(hook["secret"], signature, delivery.body, now=now)
    assert not verify(hook["secret"], signature, delivery.body + b" ", now=now)
    assert not verify("whsec_another", signature, delivery.body, now=now)
    assert not verify(hook["secret"], signature, delivery.body, now=now + 301)
    dispatch()
    assert len(receiver.received) == 1  # delivered: not sent again


def test_fails_twice_then_succeeds_with_the_configured_back_off(
    partner: Partner, receiver: Receiver, dispatch: Callable[[], DispatchReport], clock: Clock
) -> None:
    hook = register(partner, "policy.issued")
    partner.policy()
    receiver.answers = [500, 503]
    started = clock.now
    dispatch()
    clock.advance(seconds=9)
    dispatch()  # not due yet
    assert len(receiver.received) == 1
    clock.advance(seconds=1)
    dispatch()
    clock.advance(seconds=59)
    dispatch()
    assert len(receiver.received) == 2
    clock.advance(seconds=1)
    dispatch()
    clock.advance(hours=3)
    dispatch()  # delivered: nothing more
    assert len(receiver.received) == 3
    assert len({r.event_id for r in receiver.received}) == 1
    assert len({r.body for r in receiver.received}) == 1
    stamps = [int(r.headers["Baoxian-Signature"].split(",")[0][2:]) for r in receiver.received]
    assert [s - int(started.timestamp()) for s in stamps] == [0, 10, 70]
    log = partner.signed_in().get(f"/webhooks/{hook['webhook_id']}/attempts").json()
    assert [(a["attempt"], a["status_code"], a["outcome"]) for a in log] == [
        (3, 200, "delivered"),
        (2, 503, "retry"),
        (1, 500, "retry"),
    ]
    assert log[2]["error"] == "HTTP 500" and log[0]["error"] is None
    due = [datetime.fromisoformat(a["next_attempt_at"]) for a in log[1:]]
    assert due == [started + timedelta(seconds=70), started + RETRY_DELAYS[0]]
    assert log[0]["next_attempt_at"] is None


def test_dead_after_the_last_attempt_and_a_replay_revives_it(
    partner: Partner, receiver: Receiver, dispatch: Callable[[], DispatchReport], clock: Clock
) -> None:
    hook = register(partner, "policy.*")
    partner.policy()
    receiver.answers = [500] * MAX_ATTEMPTS
    dispatch()
    for delay in RETRY_DELAYS:
        clock.advance(seconds=delay.total_seconds())
        dispatch()
    assert len(receiver.received) == MAX_ATTEMPTS == 6
    clock.advance(days=1)
    dispatch()
    assert len(receiver.received) == 6
    signed_in = partner.signed_in()
    last = signed_in.get(f"/webhooks/{hook['webhook_id']}/attempts", limit=1).json()[0]
    assert (last["attempt"], last["outcome"], last["next_attempt_at"]) == (6, "dead", None)
    replayed = signed_in.post(f"/webhooks/{hook['webhook_id']}/replay?since=0")
    assert replayed.status_code == 202
    assert replayed.json() == {
        "queued": 1,
        "through_event_id": replayed.json()["through_event_id"],
        "complete": True,
    }
    dispatch()
    assert len(receiver.received) == 7 and len({r.event_id for r in receiver.received}) == 1


def test_another_partners_events_never_reach_this_partner(
    app: App,
    clock: Clock,
    partner: Api,
    other_partner: Api,
    dispatch: Callable[[], DispatchReport],
    receiver: Receiver,
) -> None:
    mine = register(partner, "policy.*", "claim.*", url="http://127.0.0.1:9/mine")
    theirs = register(other_partner, "policy.*", "claim.*", url="http://127.0.0.1:9/theirs")
    their_policy = other_partner.policy(LI_ID, LI_MOBILE, "李娜")
    other_partner.post("/claims", claim_body(their_policy))
    my_policy = partner.policy()
    my_claim = partner.post("/claims", claim_body(my_policy)).json()
    customer = partner.as_(partner.customer_token(LI_MOBILE))  # the customer, on B's policy
    assert customer.get(f"/policies/{their_policy['policy_number']}").status_code == 200
    dispatch()
    by_url: dict[str, list[Received]] = {}
    for received in receiver.received:
        by_url.setdefault(received.url, []).append(received)
    mine_got = [r.json for r in by_url["http://127.0.0.1:9/mine"]]
    theirs_got = [r.json for r in by_url["http://127.0.0.1:9/theirs"]]
    assert {e["data"].get("policy_number", e["data"]["id"]) for e in mine_got} == {
        my_policy["policy_number"]
    }
    assert {e["data"].get("policy_number", e["data"]["id"]) for e in theirs_got} == {
        their_policy["policy_number"]
    }
    assert [e["type"] for e in mine_got] == ["policy.issued", "claim.reported", "claim.decided"] + [
        "claim.paid"
    ] * (my_claim["status"] == "paid")
    decided = next(e for e in mine_got if e["type"] == "claim.decided")
    assert decided["data"]["id"] == my_claim["claim_id"]
    assert set(decided["data"]) <= {"object", "id", "policy_number", "status", "payable"}
    assert not {r.event_id for r in by_url["http://127.0.0.1:9/mine"]} & {
        r.event_id for r in by_url["http://127.0.0.1:9/theirs"]
    }
    assert mine["webhook_id"] != theirs["webhook_id"]


def test_events_before_registration_come_only_by_replay(
    partner: Api, receiver: Receiver, dispatch: Callable[[], DispatchReport], clock: Clock
) -> None:
    first = partner.policy()
    hook = register(partner, "policy.issued")
    dispatch()
    assert receiver.received == []
    second = partner.policy(LI_ID, LI_MOBILE, "李娜")
    dispatch()
    assert [r.json["data"]["id"] for r in receiver.received] == [second["policy_number"]]
    since = (clock.now - timedelta(minutes=1)).isoformat()
    replayed = partner.post(f"/webhooks/{hook['webhook_id']}/replay", params={"since": since})
    assert replayed.status_code == 202 and replayed.json()["queued"] == 2
    dispatch()
    assert [r.json["data"]["id"] for r in receiver.received] == [
        second["policy_number"],
        first["policy_number"],
        second["policy_number"],
    ]
    bad = partner.post(f"/webhooks/{hook['webhook_id']}/replay", params={"since": "yesterday"})
    assert bad.status_code == 422


def test_a_removed_webhook_gets_nothing_more(
    partner: Api, receiver: Receiver, dispatch: Callable[[], DispatchReport]
) -> None:
    hook = register(partner, "policy.*")
    partner.policy()
    partner.client.delete(f"/api/v1/webhooks/{hook['webhook_id']}", headers=partner.headers())
    dispatch()
    assert receiver.received == []


@pytest.mark.parametrize(
    "blank_engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_an_event_committed_late_is_still_delivered(
    app: App, partner: Api, receiver: Receiver, dispatch: Callable[[], DispatchReport], clock: Clock
) -> None:
    """PostgreSQL hands out event IDs before commit: an event with a lower ID can become
    visible after a higher one was dispatched.  The cursor keeps the gap and looks again.
    (PostgreSQL only: SQLite has one writer at a time, so its IDs become visible in order.)"""
    register(partner, "policy.*")
    number = partner.policy()["policy_number"]
    with app.engine.connect() as slow:
        transaction = slow.begin()
        SqlEventLog(slow).append(
            Event("policy", number, "policy.endorsed", {"kind": "contact_change"}, clock.now)
        )
        with app.engine.begin() as fast:
            SqlEventLog(fast).append(
                Event("policy", number, "policy.lapsed", {"effective": "2026-07-01"}, clock.now)
            )
        dispatch()
        assert receiver.types() == ["policy.issued", "policy.lapsed"]
        transaction.commit()
    clock.advance(seconds=30)
    dispatch()
    assert receiver.types() == ["policy.issued", "policy.lapsed", "policy.endorsed"]
    ids = [int(r.event_id) for r in receiver.received]
    assert ids[2] < ids[1]


# --------------------------------------------------------------------------- real HTTP


@pytest.fixture
def http_receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A real HTTP server on this machine that answers 204 and keeps what it got."""
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            got.append((dict(self.headers.items()), self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/baoxian/webhooks", got
    finally:
        server.shutdown()
        server.server_close()


def test_a_real_endpoint_gets_a_verifiable_delivery(
    app: App,
    clock: Clock,
    partner: Api,
    http_receiver: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, got = http_receiver
    hook = register(partner, "policy.*", url=url)
    refused_port = register(partner, "policy.*", url="http://127.0.0.1:1/closed")
    policy = partner.policy()
    transport = HttpxTransport()
    try:
        report = WebhookDispatcher(
            app.engine, app.cipher, clock, transport, app.claims.policy_numbers
        ).run_once()
    finally:
        transport.close()
    assert (report.queued, report.delivered, report.retrying) == (2, 1, 1)
    ((headers, body),) = got
    assert json.loads(body)["data"]["id"] == policy["policy_number"]
    assert headers["Content-Type"] == "application/json"
    assert documented_verify()(
        hook["secret"], headers["Baoxian-Signature"], body, now=clock.now.timestamp()
    )
    failed = partner.get(f"/webhooks/{refused_port['webhook_id']}/attempts").json()[0]
    assert failed["status_code"] is None and failed["error"].startswith("ConnectError")
