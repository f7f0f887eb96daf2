"""A quote written in one statement from the event loop (PostgreSQL).

``POST /quotes`` is the API's busiest request.  Its general path (:mod:`baoxian.api.atomic`)
runs the policies service in one of the process's database threads, five statements in one
transaction.  This path does the same work with no thread and one statement:

1. The policies service quotes the request against a *recording* unit of work
   (:class:`Recording`): it assumes every person in the request is new, and keeps what the
   service writes — the parties it registers, the quote, the events — instead of writing
   it.  A service that asks the store anything a recording cannot answer (a person already
   registered, say) ends the attempt with :class:`NeedsStore`.
2. One statement, in autocommit (a statement is its own transaction), claims the
   idempotency key with its answer already in it, behind the key's advisory lock, and only
   then registers the parties and writes the quote, its events and the partner's grants —
   all or nothing.  It writes nothing unless the partner client is still active and holds
   the route's scopes, the key is new and free, and none of the persons is registered.  A
   person registered meanwhile by another request fails the statement (unique 身份证
   blind index) and so writes nothing either.

Whenever this path writes nothing — a replay, a copy still running, a known person, a
revoked client, a refusal by the service — the request goes on to the general path, which
gives the full answer (the stored one, a 409, a 401, a 422 …) as before.  So this path only
ever answers the case it fully handles: a new quote for new persons by an active partner.

The rate limit is counted once, here, with the client's limit as the previous request read
it (:attr:`ApiContext.partners`); the statement returns the limit as it is now.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Self

import anyio.to_thread
import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine

from baoxian.api.model import GrantKind, RateLimiter, StoredResponse
from baoxian.api.repository import idempotency_lock_id
from baoxian.api.schemas import quote_public
from baoxian.policies.model import Party, Policy, PolicyTerm, Quote
from baoxian.policies.ports import Event
from baoxian.policies.repository import (
    EVENT_COLUMNS,
    PARTY_COLUMNS,
    event_row,
    party_row,
    quote_values,
)
from baoxian.shared.errors import DomainError
from baoxian.store.crypto import FieldCipher
from baoxian.store.tables import to_json

if TYPE_CHECKING:
    from baoxian.api.atomic import Claim
    from baoxian.api.auth import ApiContext, Bearer
    from baoxian.policies.schemas import QuoteRequestFile


LOG = logging.getLogger("baoxian.api")


class NeedsStore(Exception):
    """The service asked the store something a recording cannot answer: the request takes
    the general path."""


# --------------------------------------------------------------------------- the recording


@dataclass
class Written:
    """What a recorded unit of work would have written, in order."""

    parties: list[Party] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


class _Parties:
    def __init__(self, written: Written) -> None:
        self._written = written

    def add_if_new(self, party: Party) -> bool:
        self._written.parties.append(party)  # new, as the statement checks
        return True

    def add(self, party: Party) -> None:
        raise NeedsStore("parties.add")

    def get(self, party_id: str) -> Party:
        raise NeedsStore("parties.get")

    def find_by_id_number(self, id_number: str) -> Party | None:
        raise NeedsStore("parties.find_by_id_number")

    def find_by_mobile(self, mobile: str) -> list[Party]:
        raise NeedsStore("parties.find_by_mobile")


class _Quotes:
    def __init__(self, written: Written) -> None:
        self._written = written

    def add(self, quote: Quote) -> None:
        self._written.quotes.append(quote)

    def get(self, quote_id: str) -> Quote:
        raise NeedsStore("quotes.get")

    def update(self, quote: Quote) -> None:
        raise NeedsStore("quotes.update")

    def get_with_holder(self, quote_id: str) -> tuple[Quote, Party]:
        raise NeedsStore("quotes.get_with_holder")

    def mark_issued(self, quote_id: str, policy_number: str) -> None:
        raise NeedsStore("quotes.mark_issued")


class _Policies:
    def add(self, policy: Policy) -> None:
        raise NeedsStore("policies.add")

    def get(self, policy_number: str) -> Policy:
        raise NeedsStore("policies.get")

    def update(self, policy: Policy, *, expected_version: int) -> Policy:
        raise NeedsStore("policies.update")

    def preview(self, policy_number: str, units: int) -> tuple[Policy, int]:
        raise NeedsStore("policies.preview")

    def find(self, *, holder_id: str | None = None, limit: int = 50) -> list[Policy]:
        raise NeedsStore("policies.find")

    def archive_term(self, policy_number: str, term: PolicyTerm) -> None:
        raise NeedsStore("policies.archive_term")

    def term_on(self, policy_number: str, on: date) -> PolicyTerm | None:
        raise NeedsStore("policies.term_on")


class _Events:
    def __init__(self, written: Written) -> None:
        self._written = written

    def append(self, event: Event) -> None:
        self._written.events.append(event)

    def for_aggregate(self, aggregate_id: str) -> list[Event]:
        raise NeedsStore("events.for_aggregate")

    def seen(self, request_id: str) -> bool:
        raise NeedsStore("events.seen")


class _Sequences:
    def next_value(self, name: str) -> int:
        raise NeedsStore("sequences.next_value")


class Recording:
    """A policies unit of work that writes nothing: it keeps what is written in
    :attr:`written` (see the module's doc).  Entering, committing and leaving do nothing."""

    def __init__(self) -> None:
        self.written = Written()
        self.parties = _Parties(self.written)
        self.quotes = _Quotes(self.written)
        self.policies = _Policies()
        self.events = _Events(self.written)
        self.sequences = _Sequences()

    def __call__(self) -> Self:  # the factory the services take as ``within``
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        return None

    def rollback(self) -> None:
        return None


# --------------------------------------------------------------------------- the statement

QUOTE_STATEMENT = """
WITH key_lock AS (
    SELECT pg_try_advisory_xact_lock(%(lock_id)s::bigint) AS got
),
client AS (
    SELECT c.rate_per_minute FROM api_clients AS c
    WHERE c.client_id = %(client_id)s AND c.active AND c.scopes::jsonb ?& %(scopes)s::text[]
),
sent AS (
    SELECT * FROM json_to_recordset(%(parties)s::json) AS s(
        party_id varchar, kind varchar, name varchar, id_number_enc text, id_hash varchar,
        mobile_enc text, address text, region_code varchar, has_basic_medical boolean,
        medical_insurance_city varchar, mobile_hash varchar
    )
),
go AS (
    SELECT 1 FROM key_lock, client
    WHERE key_lock.got
      AND NOT EXISTS (SELECT 1 FROM parties AS p WHERE p.id_hash IN (SELECT id_hash FROM sent))
),
answered AS (
    INSERT INTO api_idempotency_keys (owner, key, fingerprint, state, response_status,
                                      response_type, response_body, created_at, completed_at)
    SELECT %(owner)s, %(key)s, %(fingerprint)s, 'done', %(status)s, %(media_type)s,
           %(body)s, %(now)s, %(now)s
    FROM go
    ON CONFLICT DO NOTHING
    RETURNING 1 AS done
),
registered AS (
    INSERT INTO parties (party_id, kind, name, id_number_enc, id_hash, mobile_enc, address,
                         region_code, has_basic_medical, medical_insurance_city, created_at,
                         mobile_hash)
    SELECT s.party_id, s.kind, s.name, s.id_number_enc, s.id_hash, s.mobile_enc, s.address,
           s.region_code, s.has_basic_medical, s.medical_insurance_city, %(now)s, s.mobile_hash
    FROM sent AS s
    WHERE EXISTS (SELECT 1 FROM answered)
),
quoted AS (
    INSERT INTO quotes (quote_id, holder_id, status, product_code, plan_version, data,
                        policy_number, created_at, updated_at)
    SELECT %(quote_id)s, %(holder_id)s, %(quote_status)s, %(product_code)s, %(plan_version)s,
           %(data)s::json, %(policy_number)s, %(now)s, %(now)s
    WHERE EXISTS (SELECT 1 FROM answered)
),
logged AS (
    INSERT INTO events (aggregate_type, aggregate_id, event_type, payload, occurred_at,
                        request_id)
    SELECT e.aggregate_type, e.aggregate_id, e.event_type, e.payload::json, e.occurred_at,
           e.request_id
    FROM json_to_recordset(%(events)s::json) AS e(
        aggregate_type varchar, aggregate_id varchar, event_type varchar, payload json,
        occurred_at timestamptz, request_id varchar, n integer
    )
    WHERE EXISTS (SELECT 1 FROM answered)
    ORDER BY e.n
),
granted AS (
    INSERT INTO api_grants (client_id, kind, object_id, created_at)
    SELECT %(client_id)s, g.kind, g.object_id, %(now)s
    FROM json_to_recordset(%(grants)s::json) AS g(kind varchar, object_id varchar)
    WHERE EXISTS (SELECT 1 FROM answered)
    ON CONFLICT DO NOTHING
)
SELECT (SELECT count(*) FROM answered) AS answered,
       (SELECT rate_per_minute FROM client) AS rate_per_minute
"""
"""Everything a new quote writes, or nothing (see the module's doc).  The quote's holder
and the insured are checked against the parties at the end of the statement."""


@dataclass(frozen=True, slots=True)
class QuoteWrite:
    """The parameters of one new quote's statement."""

    owner: str
    key: str
    fingerprint: str
    client_id: str
    scopes: tuple[str, ...]
    answer: StoredResponse
    written: Written
    grants: tuple[tuple[GrantKind, str], ...]
    now: datetime

    def params(self, cipher: FieldCipher) -> dict[str, Any]:
        (quote,) = self.written.quotes
        values = quote_values(quote)
        params: dict[str, Any] = {
            "lock_id": idempotency_lock_id(self.owner, self.key),
            "client_id": self.client_id,
            "scopes": list(self.scopes),
            "owner": self.owner,
            "key": self.key,
            "fingerprint": self.fingerprint,
            "status": self.answer.status,
            "media_type": self.answer.media_type,
            "body": self.answer.body,
            "now": self.now,
            "quote_id": quote.quote_id,
            "holder_id": values["holder_id"],
            "quote_status": values["status"],
            "product_code": values["product_code"],
            "plan_version": values["plan_version"],
            "data": _json(values["data"]),
            "policy_number": values["policy_number"],
            "parties": _json([self._party(party, cipher) for party in self.written.parties]),
            "events": _json([_event(event, n) for n, event in enumerate(self.written.events)]),
            "grants": _json([{"kind": kind, "object_id": id_} for kind, id_ in self.grants]),
        }
        return params

    def _party(self, party: Party, cipher: FieldCipher) -> dict[str, Any]:
        row = dict(zip(PARTY_COLUMNS, party_row(party, cipher, self.now), strict=True))
        del row["created_at"]  # the statement's
        return row


def _event(event: Event, n: int) -> dict[str, Any]:
    row = dict(zip(EVENT_COLUMNS, event_row(event), strict=True))
    row["occurred_at"] = row["occurred_at"].isoformat()
    row["n"] = n
    return row


def _json(value: Any) -> str:
    """JSON text as the store's ``JsonData`` columns keep it (money, dates tagged)."""
    return json.dumps(to_json(value))


# --------------------------------------------------------------------------- connections


class DirectWrites:
    """The process's connections for this path: ``size`` autocommit connections per event
    loop (a served process has one loop; a test client starts one of its own)."""

    def __init__(self, engine: Engine, size: int) -> None:
        url = engine.url.set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        with engine.connect() as connection:  # the engine's own search path (a test schema)
            path = str(connection.exec_driver_sql("SHOW search_path").scalar())
        escaped = path.replace("\\", "\\\\").replace(" ", "\\ ")
        # one statement, prepared at once and planned once: planning its CTEs costs more
        # than running them
        self.options = f"-csearch_path={escaped} -cplan_cache_mode=force_generic_plan"
        self.size = size
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncConnectionPool] = (
            weakref.WeakKeyDictionary()
        )

    async def pool(self) -> AsyncConnectionPool:
        loop = asyncio.get_running_loop()
        found = self._pools.get(loop)
        if found is None:
            found = AsyncConnectionPool(
                self.conninfo,
                min_size=self.size,
                max_size=self.size,
                kwargs={"autocommit": True, "options": self.options, "prepare_threshold": 0},
                open=False,
                name="baoxian-api-direct",
            )
            self._pools[loop] = found
            await found.open()
        return found

    async def close(self) -> None:
        """Close this event loop's connections (the served app's shutdown)."""
        found = self._pools.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await found.close()

    async def write_quote(self, write: QuoteWrite, cipher: FieldCipher) -> tuple[bool, int | None]:
        """Run the statement: whether it wrote the quote, and the client's rate limit as it
        is now (None: revoked, or without the scopes)."""
        params = write.params(cipher)
        pool = await self.pool()
        try:
            async with pool.connection() as connection:
                cursor = await connection.execute(QUOTE_STATEMENT, params)
                row = await cursor.fetchone()
        except psycopg.errors.UniqueViolation:  # a person registered meanwhile
            return False, None
        except psycopg.Error as error:
            # a connection that failed (a restart, say) or anything unforeseen: whether the
            # statement committed or not, the general path finds out by the key — it replays
            # the answer or does the work (and reports what fails there)
            LOG.warning("direct quote statement failed (%s); general path", type(error).__name__)
            return False, None
        if row is None:  # pragma: no cover - the statement always answers one row
            raise RuntimeError("the quote statement answered no row")
        answered, rate = row
        return bool(answered), rate


# --------------------------------------------------------------------------- the route's part


async def direct_quote(
    ctx: ApiContext,
    claim: Claim,
    bearer: Bearer,
    request: QuoteRequestFile,
) -> StoredResponse | None:
    """The quote answered on this path, or None when the request takes the general path
    (which then counts no second hit against the rate limit)."""
    direct = ctx.direct
    if direct is None:
        return None
    claims = ctx.tokens.read(bearer.token)
    if claims["knd"] != "partner":
        return None
    subject = str(claims["sub"])
    client = ctx.partners.get(subject)
    if client is None or not client.active:
        return None
    scopes = frozenset(claims["scope"].split()) & client.scopes
    if any(scope not in scopes for scope in bearer.scopes):
        return None
    await _count_hit(ctx, claim.owner, client.rate_per_minute)
    claim.limited = True
    recording = Recording()
    try:
        created = ctx.app.policies.quote_request(request, within=recording, as_sent=True)
    except (NeedsStore, DomainError):  # the general path answers, reading the store
        return None
    body = quote_public(created).model_dump_json(by_alias=True).encode()
    answer = StoredResponse(201, "application/json", body)
    write = QuoteWrite(
        claim.owner,
        claim.key,
        claim.fingerprint,
        subject,
        bearer.scopes,
        answer,
        recording.written,
        quote_grants(created),
        ctx.app.policies.clock(),
    )
    wrote, rate = await direct.write_quote(write, ctx.app.cipher)
    if rate is None:
        ctx.partners.pop(subject, None)
    elif rate != client.rate_per_minute:
        ctx.partners[subject] = replace(client, rate_per_minute=rate)
    if not wrote:
        return None
    claim.answered = True
    return answer


def quote_grants(created: Quote) -> tuple[tuple[GrantKind, str], ...]:
    """What a partner holds once it created a quote: its persons and the quote."""
    parties = sorted({created.holder_id, *(u.party_id for u in created.units if u.party_id)})
    return (*(("party", p) for p in parties), ("quote", created.quote_id))


async def _count_hit(ctx: ApiContext, owner: str, per_minute: int) -> None:
    """The rate limit, in the event loop when it is counted in this process, else (Redis)
    in a thread."""
    if isinstance(ctx.limiter, RateLimiter):
        ctx.limit(owner, per_minute)
    else:
        await anyio.to_thread.run_sync(ctx.limit, owner, per_minute)


__all__ = [
    "QUOTE_STATEMENT",
    "DirectWrites",
    "NeedsStore",
    "QuoteWrite",
    "Recording",
    "Written",
    "direct_quote",
    "quote_grants",
]
