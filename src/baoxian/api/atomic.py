"""One transaction per request for the busiest POSTs (``/quotes``, ``/policies``).

Elsewhere the idempotency key is claimed in a committed transaction of its own before the
route runs and its answer stored in another one after; the route's services and grants take
transactions of their own in between.  Here one PostgreSQL transaction holds it all: the
key's claim, the caller's re-read (a revoked partner is refused at once), the effect (the
services' units of work join it), the grants and the stored answer — so the effect and the
answer commit together, or neither does.  Of two copies of a request, the second finds the
key's advisory lock taken and waits (``busy``) until the first commits, then replays its
answer — or, after the middleware's ``wait_timeout``, answers 409.

On SQLite the key is claimed in a transaction of its own first (a copy waiting inside a
transaction would hold the database's one writer lock), then the rest runs in one.

The middleware (:mod:`baoxian.api.idempotency`) hands the route a :class:`Claim` instead of
claiming the key itself, and keeps a refusal raised in the route (a 422 after the rollback).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from fastapi import Request
from pydantic import BaseModel
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from starlette.responses import Response

from baoxian.api.auth import ApiContext, Bearer, authorise
from baoxian.api.model import KEEPS_RESPONSE, GrantKind, PartnerRead, Principal, StoredResponse
from baoxian.api.problems import problem_response
from baoxian.api.services import Begun
from baoxian.policies.enrolment_store import SqlEnrolments
from baoxian.policies.membership_store import SqlMemberships
from baoxian.policies.ports import Sequences
from baoxian.policies.repository import (
    SqlEventLog,
    SqlPartyRepository,
    SqlPolicyRepository,
    SqlQuoteRepository,
    SqlSequences,
    SqlUnitOfWork,
)
from baoxian.shared.clock import Clock
from baoxian.store.crypto import FieldCipher
from baoxian.store.db import is_sqlite_busy

CLAIM = "idempotency_claim"
"""Where the middleware leaves the :class:`Claim` in the request's state."""
JSON = "application/json"
SQLITE_RETRIES = 5


@dataclass(slots=True)
class Claim:
    """A request's idempotency key, for the route to claim in its transaction.  The route
    sets ``answered`` once its answer is committed with the key, and ``held`` while the key
    is claimed in a transaction of its own (SQLite) — the middleware then completes or
    releases it."""

    owner: str
    key: str
    fingerprint: str
    wait_timeout: float
    poll_seconds: float
    answered: bool = False
    held: bool = False
    holds: tuple[GrantKind, str] | None = None
    """The object a partner's request must hold a grant on, checked with the claim."""
    limited: bool = False
    """The request was counted against the caller's rate limit already (by the direct
    path, :mod:`baoxian.api.direct`)."""


@dataclass(frozen=True, slots=True)
class Transaction:
    """The request's one transaction: its connection, the caller and a unit-of-work factory
    whose units join it (for the services' ``within=``).  :meth:`grant` keeps what a
    partner created; the grants are written with the stored answer."""

    connection: Connection
    who: Principal
    uow: Callable[[], JoinedUnitOfWork]
    held: bool | None = None
    """Whether the partner holds a grant on the claim's ``holds`` (None: not read yet)."""
    granted: list[tuple[GrantKind, str]] = field(default_factory=list)

    def grant(self, *objects: tuple[GrantKind, str]) -> None:
        """Record that the caller created these (kind, ID) objects — a partner's only;
        customers and staff need no grants."""
        if self.who.kind == "partner":
            self.granted.extend(objects)


Work = Callable[[Transaction], Response]


def claim_of(request: Request) -> Claim:
    found: Claim | None = getattr(request.state, CLAIM, None)
    if found is None:  # the app always installs the middleware
        raise RuntimeError("an atomic route needs the idempotency middleware")
    return found


async def run_once_in_pool(
    ctx: ApiContext,
    request: Request,
    bearer: Bearer,
    work: Work,
    holds: tuple[GrantKind, str] | None = None,
) -> Response:
    """:func:`run_once` in one of the process's few database threads (``ctx.db_pool()``):
    more requests at once than threads wait on the event loop, not for the GIL — Python
    threads beyond two or so only take turns at it, and each turn costs a switch.
    ``holds``: the object a partner must hold a grant on, read with the key's claim (the
    route learns the answer as ``Transaction.held``)."""
    claim_of(request).holds = holds
    return await anyio.to_thread.run_sync(
        run_once, ctx, request, bearer, work, limiter=ctx.db_pool()
    )


def run_once(ctx: ApiContext, request: Request, bearer: Bearer, work: Work) -> Response:
    """Claim the request's key, check the caller, do ``work`` and store its answer in one
    transaction; a retry or a copy gets the stored answer instead (``Idempotent-Replayed``).
    A copy of a request still running waits for it up to the middleware's timeout."""
    claim = claim_of(request)
    deadline = time.monotonic() + claim.wait_timeout
    while True:
        done = _attempt_retrying_sqlite(ctx, claim, bearer, work)
        if isinstance(done, Response):
            return done
        if done.outcome != "busy" or time.monotonic() >= deadline:
            return answer(done)
        time.sleep(claim.poll_seconds)


def _attempt_retrying_sqlite(
    ctx: ApiContext, claim: Claim, bearer: Bearer, work: Work
) -> Response | Begun:
    """On SQLite a transaction that read before another writer committed cannot write
    ("database is locked" at once, not after the busy timeout); it changed nothing, so it
    runs again — the key stays claimed meanwhile."""
    for _ in range(SQLITE_RETRIES):
        try:
            return _attempt(ctx, claim, bearer, work)
        except OperationalError as error:
            if not (claim.held and is_sqlite_busy(error)):
                raise
            time.sleep(claim.poll_seconds)
    return _attempt(ctx, claim, bearer, work)


def _attempt(ctx: ApiContext, claim: Claim, bearer: Bearer, work: Work) -> Response | Begun:
    store = ctx.idempotency
    if not store.joins_transactions and not claim.held:
        begun = store.begin(claim.owner, claim.key, claim.fingerprint)
        if begun.outcome != "started":
            return begun
        claim.held = True
    with ctx.app.engine.begin() as connection:
        read: PartnerRead | None = None
        if not claim.held:
            partner = ctx.tokens.partner(bearer.token)
            if partner is None:
                begun = store.claim_in(connection, claim.owner, claim.key, claim.fingerprint)
            else:  # the client (and the grant the request needs) read in the claim's statement
                begun, read = store.claim_reading_client_in(
                    connection, claim.owner, claim.key, claim.fingerprint, partner, claim.holds
                )
            if begun.outcome != "started":
                return begun
        who = authorise(ctx, bearer, connection, read, counted=claim.limited)
        held = read.holds if read is not None and claim.holds is not None else None
        tx = Transaction(connection, who, joined(ctx, connection), held)
        response = work(tx)
        if response.status_code not in KEEPS_RESPONSE:  # refusals are raised, not returned
            raise RuntimeError(f"an atomic route answered {response.status_code}")
        stored = StoredResponse(response.status_code, JSON, bytes(response.body))
        grants = (who.subject, tx.granted) if tx.granted else None
        store.complete_in(connection, claim.owner, claim.key, stored, grants)
    claim.answered, claim.held = True, False
    return response


def json_response(model: BaseModel, status: int = 200) -> Response:
    """The model as JSON, encoded once by pydantic (the route declares it as its
    ``response_model`` for OpenAPI; FastAPI does not validate it again)."""
    return Response(model.model_dump_json(by_alias=True), status_code=status, media_type=JSON)


def answer(begun: Begun) -> Response:
    """The answer to a request whose key was not started: the stored one, or a refusal."""
    if begun.outcome == "replay" and begun.response is not None:
        stored = begun.response
        return Response(
            stored.body,
            status_code=stored.status,
            media_type=stored.media_type or None,
            headers={"Idempotent-Replayed": "true"},
        )
    if begun.outcome == "reused":
        return problem_response(
            422,
            "idempotency.key_reused",
            "该 Idempotency-Key 已用于另一个不同的请求",
            "this Idempotency-Key was already used for a different request",
        )
    return problem_response(
        409,
        "idempotency.in_progress",
        "使用该 Idempotency-Key 的请求仍在处理中，请稍后重试",
        "a request with this Idempotency-Key is still being processed; retry shortly",
        headers={"Retry-After": "1"},
    )


# --------------------------------------------------------------------------- joined units


class JoinedUnitOfWork(SqlUnitOfWork):
    """A policies unit of work inside the request's transaction: entering begins nothing,
    :meth:`commit` leaves the commit to the request, and leaving by an exception aborts the
    whole request (the transaction rolls back).  Leaving without commit and without an
    exception keeps what was written — the services only do that after writing nothing
    (a party already registered, a quote already issued).  Events are buffered and written
    in one statement when the unit commits or is left.  It holds the same repositories
    as :class:`SqlUnitOfWork`; policy numbers come in blocks when ``numbers`` is given."""

    def __init__(
        self,
        connection: Connection,
        cipher: FieldCipher,
        clock: Clock,
        numbers: Sequences | None = None,
    ) -> None:
        super().__init__(connection.engine, cipher, clock)
        self._joined = connection
        self._numbers = numbers

    def __enter__(self) -> JoinedUnitOfWork:
        connection = self._joined
        self._connection = connection
        self.parties = SqlPartyRepository(connection, self._cipher, self._clock)
        self.quotes = SqlQuoteRepository(connection, self._clock, self._cipher)
        self.policies = SqlPolicyRepository(connection, self._cipher, self._clock)
        self.events = SqlEventLog(connection, buffered=True)
        self.sequences = self._numbers or SqlSequences(connection)  # type: ignore[assignment]
        self.enrolments = SqlEnrolments(connection, self._cipher)
        self.memberships = SqlMemberships(connection, self._cipher)
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is None:  # what was written stays (see above), its events with it
            self.events.flush()
        self._connection = None

    def commit(self) -> None:
        """The request commits; the unit's events are written now, in one statement."""
        self.events.flush()

    def rollback(self) -> None:
        self.connection.rollback()


def joined(ctx: ApiContext, connection: Connection) -> Callable[[], JoinedUnitOfWork]:
    """Units of work for the policies service inside ``connection``'s transaction."""
    app = ctx.app

    def unit() -> JoinedUnitOfWork:
        return JoinedUnitOfWork(connection, app.cipher, app.uow.clock, ctx.numbers)

    return unit


__all__ = [
    "CLAIM",
    "Claim",
    "JoinedUnitOfWork",
    "Transaction",
    "answer",
    "claim_of",
    "joined",
    "json_response",
    "run_once",
    "run_once_in_pool",
]
