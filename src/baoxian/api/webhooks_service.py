"""Webhooks: partners register endpoints (:class:`WebhookService`) and the dispatcher
(:class:`WebhookDispatcher`, ``baoxian api webhooks dispatch``) delivers the policy and
claim events of the objects each partner holds a grant on.

The event log is the outbox.  A scan reads the events above a stored cursor page by page
(one query a page) and matches them to webhooks set-based: the claims' policies in one
read, the payloads in one, the grants in one, and the new deliveries in one insert that
skips any already there.  Delivering leases the due deliveries, posts each through the
:class:`~baoxian.api.webhooks_transport.WebhookTransport` and writes every attempt to the
log in one transaction; a failure is tried again after the back-off of
:data:`~baoxian.api.webhooks.RETRY_DELAYS`, and is dead after the last.  Delivery is at
least once: a receiver deduplicates on the event ID.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from baoxian.api.webhooks import (
    EVENT_ID_HEADER,
    EVENT_TYPES,
    FAMILIES,
    MAX_WEBHOOKS_PER_CLIENT,
    SIGNATURE_HEADER,
    Attempt,
    Cursor,
    Webhook,
    advance,
    attempt_of,
    check_url,
    event_body,
    event_patterns,
    signature_header,
    wants,
)
from baoxian.api.webhooks_store import Due, LoggedEvent, SqlWebhookRepository, Subscriber
from baoxian.api.webhooks_transport import Sent, WebhookTransport
from baoxian.shared.clock import Clock
from baoxian.shared.errors import NotFound, ValidationFailed
from baoxian.shared.ids import new_id
from baoxian.store.crypto import FieldCipher

log = logging.getLogger("baoxian.api.webhooks")

PolicyOfClaims = Callable[[Sequence[str]], Mapping[str, str]]
"""The policy each claim is on (the claims context's ``ClaimService.policy_numbers``)."""

PAGE = 1000
REPLAY_MAX_EVENTS = 50_000
"""A replay looks at most this many events of the log per call; the answer says where it
stopped, and the partner continues from there."""


@dataclass(frozen=True, slots=True)
class Replayed:
    queued: int
    through_event_id: int
    complete: bool


@dataclass(frozen=True, slots=True)
class DispatchReport:
    queued: int
    delivered: int
    retrying: int
    dead: int


@dataclass
class Matcher:
    """Turns a page of events into deliveries for the subscribers that may see them: an
    event of a policy or claim the partner holds a grant on — a claim also through its
    policy, and ``policy.issued`` also through the quote it was issued from (the grant on
    the new policy is written just after the event)."""

    policy_of_claims: PolicyOfClaims

    def deliveries(
        self,
        repository: SqlWebhookRepository,
        page: Sequence[LoggedEvent],
        subscribers: Sequence[Subscriber],
        replay: bool = False,
    ) -> list[dict[str, Any]]:
        candidates = [
            e
            for e in page
            if e.aggregate_type in FAMILIES
            and e.event_type in EVENT_TYPES
            and any(_may_want(s, e, replay) for s in subscribers)
        ]
        if not candidates:
            return []
        claim_ids = [e.aggregate_id for e in candidates if e.aggregate_type == "claim"]
        policies = dict(self.policy_of_claims(sorted(set(claim_ids)))) if claim_ids else {}
        payloads = repository.payloads([e.event_id for e in candidates])
        keys = {e.event_id: _keys(e, payloads.get(e.event_id, {}), policies) for e in candidates}
        held = repository.grants(
            {s.webhook.client_id for s in subscribers}, {k for ks in keys.values() for k in ks}
        )
        found: list[dict[str, Any]] = []
        for event in candidates:
            body: bytes | None = None
            for subscriber in subscribers:
                client = subscriber.webhook.client_id
                if not _may_want(subscriber, event, replay) or not any(
                    (client, kind, object_id) in held for kind, object_id in keys[event.event_id]
                ):
                    continue
                body = body or event_body(
                    event.event_id,
                    event.event_type,
                    event.occurred_at,
                    event.aggregate_type,
                    event.aggregate_id,
                    payloads.get(event.event_id, {}),
                    policies.get(event.aggregate_id) if event.aggregate_type == "claim" else None,
                )
                found.append(
                    {
                        "webhook_id": subscriber.webhook.webhook_id,
                        "event_id": event.event_id,
                        "event_type": event.event_type,
                        "body": body.decode(),
                    }
                )
        return found


def _may_want(subscriber: Subscriber, event: LoggedEvent, replay: bool) -> bool:
    webhook = subscriber.webhook
    return (replay or event.event_id > webhook.from_event_id) and wants(
        webhook.event_types, event.event_type, subscriber.scopes
    )


def _keys(
    event: LoggedEvent, payload: Mapping[str, Any], policies: Mapping[str, str]
) -> set[tuple[str, str]]:
    """The grants any one of which lets a partner see this event."""
    keys = {(event.aggregate_type, event.aggregate_id)}
    if event.aggregate_type == "claim" and event.aggregate_id in policies:
        keys.add(("policy", policies[event.aggregate_id]))
    if event.event_type == "policy.issued" and isinstance(payload.get("quote_id"), str):
        keys.add(("quote", payload["quote_id"]))
    return keys


# --------------------------------------------------------------------------- registering


@dataclass
class WebhookService:
    """A partner's webhooks: register (the signing secret is returned once and kept
    encrypted), list, remove, read the attempt log, replay."""

    engine: Engine
    cipher: FieldCipher
    clock: Clock
    policy_of_claims: PolicyOfClaims
    allow_loopback: bool = False
    new_id: Callable[[], str] = new_id

    def register(
        self, client_id: str, scopes: frozenset[str], url: str, event_types: Sequence[str]
    ) -> tuple[Webhook, str]:
        clean = check_url(url, self.allow_loopback)
        patterns = event_patterns(event_types, scopes)
        secret = "whsec_" + secrets.token_urlsafe(32)
        with self.engine.begin() as connection:
            repository = SqlWebhookRepository(connection)
            if len(repository.for_client(client_id)) >= MAX_WEBHOOKS_PER_CLIENT:
                raise ValidationFailed(
                    "webhook.too_many",
                    f"每个客户端最多 {MAX_WEBHOOKS_PER_CLIENT} 个回调地址",
                    f"a client has at most {MAX_WEBHOOKS_PER_CLIENT} webhooks",
                )
            webhook = Webhook(
                self.new_id(),
                client_id,
                clean,
                patterns,
                True,
                repository.last_event_id(),
                self.clock(),
            )
            repository.add(webhook, self.cipher.encrypt(secret))
        return webhook, secret

    def webhooks(self, client_id: str) -> list[Webhook]:
        with self.engine.connect() as connection:
            return SqlWebhookRepository(connection).for_client(client_id)

    def webhook(self, client_id: str, webhook_id: str) -> Webhook:
        """The client's active webhook; anyone else's is "not found" like a missing one."""
        with self.engine.connect() as connection:
            return _own(SqlWebhookRepository(connection), client_id, webhook_id)

    def delete(self, client_id: str, webhook_id: str) -> None:
        """Stop delivering to the webhook (its log is kept)."""
        with self.engine.begin() as connection:
            repository = SqlWebhookRepository(connection)
            _own(repository, client_id, webhook_id)
            repository.deactivate(webhook_id, self.clock())

    def attempts(self, client_id: str, webhook_id: str, limit: int = 50) -> list[Attempt]:
        with self.engine.connect() as connection:
            repository = SqlWebhookRepository(connection)
            _own(repository, client_id, webhook_id)
            return repository.attempts(webhook_id, limit)

    def replay(
        self, client_id: str, webhook_id: str, since: int | datetime, limit: int = REPLAY_MAX_EVENTS
    ) -> Replayed:
        """Queue again every event after ``since`` (an event ID, or a time: the events that
        occurred at or after it) that the webhook would get — delivered, dead or never
        sent — from a first attempt.  Events before the webhook was registered count too."""
        now = self.clock()
        matcher = Matcher(self.policy_of_claims)
        with self.engine.begin() as connection:
            repository = SqlWebhookRepository(connection)
            _own(repository, client_id, webhook_id)
            subscribers = repository.subscribers(webhook_id)
            after = since if isinstance(since, int) else repository.event_before(since)
            queued, looked = 0, 0
            while looked < limit:
                page = repository.events_between(after, min(PAGE, limit - looked))
                if not page:
                    return Replayed(queued, after, True)
                looked += len(page)
                after = page[-1].event_id
                queued += repository.requeue(
                    matcher.deliveries(repository, page, subscribers, replay=True), now
                )
            complete = after >= repository.last_event_id()
        return Replayed(queued, after, complete)


def _own(repository: SqlWebhookRepository, client_id: str, webhook_id: str) -> Webhook:
    found = repository.get(webhook_id)
    if found is None or found.client_id != client_id or not found.active:
        raise NotFound("webhook.not_found", f"没有回调 {webhook_id}", f"no webhook {webhook_id}")
    return found


# --------------------------------------------------------------------------- dispatching


@dataclass
class WebhookDispatcher:
    """Scans the event log for new deliveries and sends those that are due.  Safe to run
    twice at once: the cursor row is locked while scanning and due deliveries are leased
    (``SKIP LOCKED`` on PostgreSQL)."""

    engine: Engine
    cipher: FieldCipher
    clock: Clock
    transport: WebhookTransport
    policy_of_claims: PolicyOfClaims
    batch: int = 200
    concurrency: int = 8
    lease: timedelta = timedelta(minutes=5)
    max_pages: int = 50
    _secrets: dict[str, str] = field(default_factory=dict, repr=False)

    def run_once(self) -> DispatchReport:
        """One round: scan the new events, then send everything due (batch by batch)."""
        queued = self.scan()
        sent: list[Attempt] = []
        while True:
            attempts = self.deliver_due()
            sent += attempts
            if len(attempts) < self.batch:
                break
        return DispatchReport(
            queued,
            sum(a.outcome == "delivered" for a in sent),
            sum(a.outcome == "retry" for a in sent),
            sum(a.outcome == "dead" for a in sent),
        )

    def run(self, interval: float = 1.0, stop: Callable[[], bool] = lambda: False) -> None:
        """Rounds until ``stop()``, pausing ``interval`` seconds when a round found nothing
        to do; a round the database failed is logged and the next one tries again."""
        while not stop():
            try:
                report = self.run_once()
            except DBAPIError:  # the database restarting, a lost connection: try again
                log.exception("webhook dispatch round failed")
                report = DispatchReport(0, 0, 0, 0)
            if report.queued == 0 and report.delivered + report.retrying + report.dead == 0:
                time.sleep(interval)

    def scan(self) -> int:
        """Match the events above the cursor to webhooks; queue the deliveries."""
        now = self.clock()
        matcher = Matcher(self.policy_of_claims)
        with self.engine.begin() as connection:
            repository = SqlWebhookRepository(connection)
            stored = repository.cursor()
            subscribers = repository.subscribers()
            cursor = _start(repository, stored, subscribers)
            if not subscribers:
                repository.save_cursor(cursor, now)
                return 0
            queued, seen, after = 0, [], -1
            for _ in range(self.max_pages):
                page = repository.events(cursor, after, PAGE)
                if not page:
                    break
                seen += [e.event_id for e in page]
                after = page[-1].event_id
                queued += repository.queue(matcher.deliveries(repository, page, subscribers), now)
                if len(page) < PAGE:
                    break
            through = max(after, cursor.position)
            repository.save_cursor(advance(cursor, seen, through, now), now)
        return queued

    def deliver_due(self) -> list[Attempt]:
        """Lease a batch of due deliveries, post them, record every attempt."""
        now = self.clock()
        with self.engine.begin() as connection:
            due = SqlWebhookRepository(connection).lease_due(now, now + self.lease, self.batch)
        if not due:
            return []
        if self.concurrency > 1 and len(due) > 1:
            with ThreadPoolExecutor(min(self.concurrency, len(due))) as pool:
                results = list(pool.map(self._post, due))
        else:
            results = [self._post(d) for d in due]
        with self.engine.begin() as connection:
            SqlWebhookRepository(connection).record(results)
        return results

    def _post(self, due: Due) -> Attempt:
        body = due.body.encode()
        now = self.clock()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Baoxian-Webhooks/1.0",
            EVENT_ID_HEADER: str(due.event_id),
            SIGNATURE_HEADER: signature_header(self._secret(due), int(now.timestamp()), body),
        }
        sent: Sent = self.transport.post(due.url, body, headers)
        return attempt_of(
            due.webhook_id,
            due.event_id,
            due.attempts + 1,
            now,
            sent.status_code,
            sent.error,
            sent.duration_ms,
        )

    def _secret(self, due: Due) -> str:
        found = self._secrets.get(due.secret)
        if found is None:
            found = self._secrets[due.secret] = self.cipher.decrypt(due.secret)
        return found


def _start(
    repository: SqlWebhookRepository, stored: Cursor | None, subscribers: Sequence[Subscriber]
) -> Cursor:
    """Where a scan begins: the stored cursor — but never below the oldest webhook's
    start (nothing before it is delivered without a replay), and at the log's end while
    no webhook is registered."""
    if not subscribers:
        return Cursor(repository.last_event_id())
    start = min(s.webhook.from_event_id for s in subscribers)
    if stored is None or stored.position < start:
        return Cursor(start)
    return stored


__all__ = [
    "DispatchReport",
    "Matcher",
    "Replayed",
    "WebhookDispatcher",
    "WebhookService",
]
