"""A new quote in one statement from the event loop (PostgreSQL, :mod:`baoxian.api.direct`):
what it writes, and every case where it writes nothing and leaves the request to the
general path — a known person, a revoked partner, a copy in flight, a person registered
meanwhile, a refusal — with the rate limit counted once."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from baoxian.api.app import direct_writes
from baoxian.api.direct import NeedsStore, Recording
from baoxian.api.repository import idempotency_lock_id
from baoxian.api.services import api_access
from baoxian.api.tables import api_grants, api_idempotency_keys
from baoxian.bootstrap import App
from baoxian.policies.model import Person, new_person
from baoxian.policies.repository import SqlPartyRepository, SqlUnitOfWork
from baoxian.policies.tables import parties, quotes
from tests.api.conftest import (
    LI_ID,
    LI_MOBILE,
    Api,
    count_events,
    count_rows,
    quote_body,
    statements,
)
from tests.store.conftest import resident_id

postgres_only = pytest.mark.parametrize(
    "blank_engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@contextmanager
def direct_runs(api: Api) -> Iterator[list[bool]]:
    """Each statement of the direct path meanwhile: whether it wrote the quote."""
    direct = api.context.direct
    assert direct is not None
    original = direct.write_quote
    runs: list[bool] = []

    async def noted(*args: Any) -> tuple[bool, int | None]:
        wrote, rate = await original(*args)
        runs.append(wrote)
        return wrote, rate

    direct.write_quote = noted  # type: ignore[method-assign,assignment]
    try:
        yield runs
    finally:
        del direct.write_quote


def warm(partner: Api) -> Any:
    """The partner's first request takes the general path: it reads the client, whose rate
    limit the direct path then counts."""
    return partner.quote(resident_id("11010519700101001"), "13900000001", "赵一")


@postgres_only
def test_a_new_quote_is_one_statement_that_writes_everything(partner: Api) -> None:
    warm(partner)
    with statements(partner.app.engine) as seen, direct_runs(partner) as runs:
        answer = partner.post("/quotes", quote_body(LI_ID, LI_MOBILE, "李四"), key="direct-0001")
    assert answer.status_code == 201, answer.text
    assert (seen, runs) == ([], [True])  # nothing through SQLAlchemy; one statement that wrote
    body = answer.json()
    assert body["annual_premium"] == "195.00"
    assert body["holder_id"] == body["insured"][0]["party_id"]
    holder, quote_id = body["holder_id"], body["quote_id"]
    assert count_rows(partner.app, parties, parties.c.party_id == holder) == 1
    assert count_rows(partner.app, quotes, quotes.c.quote_id == quote_id) == 1
    assert (
        count_events(partner.app, "party.registered"),
        count_events(partner.app, "quote.created"),
    ) == (2, 2)
    # the events read as the general path's for the warm-up's quote (same product, outcome)
    general, direct = _events_by_quote(partner.app)
    assert direct == general and direct[1][0] == "quote.created"
    assert direct[1][1]["annual_premium_fen"] == 19_500
    granted = {(row.kind, row.object_id) for row in _grants(partner.app)}
    assert {("party", holder), ("quote", quote_id)} <= granted
    # the stored answer is the one sent
    with partner.app.engine.connect() as connection:
        stored = connection.execute(
            select(api_idempotency_keys).where(api_idempotency_keys.c.key == "direct-0001")
        ).one()
    assert (stored.state, stored.response_status, bytes(stored.response_body)) == (
        "done",
        201,
        answer.content,
    )
    # read back through the store: the same quote, the person decrypted
    read = partner.get(f"/quotes/{quote_id}")
    assert read.status_code == 200 and read.json() == body
    with SqlUnitOfWork(partner.app.engine, partner.app.cipher, partner.app.uow.clock) as uow:
        person = uow.parties.get(holder)
        stored_quote = uow.quotes.get(quote_id)
    assert isinstance(person, Person)
    assert (person.name, person.mobile, person.id_number) == ("李四", LI_MOBILE, LI_ID)
    assert stored_quote.quotation.annual_premium.fen == 19_500


@postgres_only
def test_a_retry_gets_the_stored_answer_and_writes_nothing(partner: Api) -> None:
    warm(partner)
    first = partner.post("/quotes", quote_body(LI_ID, LI_MOBILE, "李四"), key="direct-retry")
    with direct_runs(partner) as runs:
        again = partner.post("/quotes", quote_body(LI_ID, LI_MOBILE, "李四"), key="direct-retry")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert runs == [False]  # the statement found the key and wrote nothing
    assert count_events(partner.app, "quote.created") == 2  # the warm-up's and this one


@postgres_only
def test_a_person_registered_already_is_quoted_by_the_general_path(partner: Api) -> None:
    first = warm(partner)
    with direct_runs(partner) as runs:
        again = partner.quote(resident_id("11010519700101001"), "13900000001", "赵一")
    assert runs == [False]
    assert again["holder_id"] == first["holder_id"]
    assert count_events(partner.app, "party.registered") == 1
    assert count_events(partner.app, "quote.created") == 2
    # a different name for the registered number is refused there, as before
    refused = partner.post(
        "/quotes", quote_body(resident_id("11010519700101001"), "13900000001", "钱二")
    )
    assert refused.status_code == 422
    assert count_events(partner.app, "quote.created") == 2


@postgres_only
def test_a_revoked_partner_is_refused_and_nothing_is_written(partner: Api) -> None:
    warm(partner)
    client_id = next(iter(partner.context.partners))
    api_access(partner.app).set_active(client_id, False)
    with direct_runs(partner) as runs:
        refused = partner.post("/quotes", quote_body(LI_ID, LI_MOBILE, "李四"))
    assert runs == [False]
    assert refused.status_code == 401
    assert refused.json()["code"] == "auth.invalid_token"
    assert client_id not in partner.context.partners
    assert count_events(partner.app, "quote.created") == 1
    assert count_rows(partner.app, parties) == 1


@postgres_only
def test_a_copy_in_flight_elsewhere_makes_the_direct_path_stand_aside(partner: Api) -> None:
    """Another session holds the key's advisory lock (a copy of the request in flight): the
    statement writes nothing, the general path waits for the lock, then does the work."""
    warm(partner)
    owner = partner.context.tokens.owner(f"Bearer {partner.token}")
    assert owner is not None
    lock = idempotency_lock_id(owner, "direct-held")
    with _session(partner) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (lock,))
        with ThreadPoolExecutor(1) as pool, direct_runs(partner) as runs:
            sent = pool.submit(
                partner.post, "/quotes", quote_body(LI_ID, LI_MOBILE, "李四"), key="direct-held"
            )
            _wait_for(lambda: runs == [False])
            other.execute("SELECT pg_advisory_unlock(%s)", (lock,))
            answer = sent.result(timeout=30)
    assert answer.status_code == 201, answer.text
    assert count_events(partner.app, "quote.created") == 2


@postgres_only
def test_a_person_registered_meanwhile_fails_the_whole_statement(partner: Api) -> None:
    """Another transaction registers the same person and commits while the statement waits
    on the 身份证 blind index: the statement fails and leaves nothing (no key, no quote), and
    the general path quotes the person just registered."""
    warm(partner)
    person = new_person("external-party-0001", "李四", LI_ID, LI_MOBILE)
    with partner.app.engine.connect() as other:
        other.begin()
        SqlPartyRepository(other, partner.app.cipher, partner.app.uow.clock).add(person)
        with ThreadPoolExecutor(1) as pool:
            sent = pool.submit(partner.post, "/quotes", quote_body(LI_ID, LI_MOBILE, "李四"))
            _wait_for(lambda: _waiting_on_a_lock(partner.app))
            other.commit()
            answer = sent.result(timeout=30)
    assert answer.status_code == 201, answer.text
    assert answer.json()["holder_id"] == "external-party-0001"
    assert count_events(partner.app, "party.registered") == 1  # the warm-up's only
    assert count_events(partner.app, "quote.created") == 2
    assert count_rows(partner.app, api_idempotency_keys) == 2


@postgres_only
def test_a_refusal_is_answered_by_the_general_path(partner: Api) -> None:
    warm(partner)
    wrong = LI_ID[:-1] + ("0" if LI_ID[-1] != "0" else "1")  # the check digit is wrong
    body = quote_body(wrong, LI_MOBILE, "李四")
    with direct_runs(partner) as runs:
        refused = partner.post("/quotes", body, key="direct-refused")
    assert runs == []  # the service refused before any statement
    assert refused.status_code == 422
    assert refused.json()["code"] == "party.invalid_resident_id"
    again = partner.post("/quotes", body, key="direct-refused")
    assert again.content == refused.content and again.headers["idempotent-replayed"] == "true"


@postgres_only
def test_the_rate_limit_is_counted_once_per_request(api: Api) -> None:
    """Three requests a minute: the warm-up (general path), a known person (the direct
    statement writes nothing and the general path answers, one hit between them), a new
    person (direct); the fourth is refused."""
    limited = api.as_(api.partner_token("限流平台", rate=3))
    warm(limited)
    assert limited.quote(resident_id("11010519700101001"), "13900000001", "赵一")
    assert limited.quote(LI_ID, LI_MOBILE, "李四")
    fourth = limited.post(
        "/quotes", quote_body(resident_id("11010519700101002"), "13900000002", "孙三")
    )
    assert fourth.status_code == 429


_PEOPLE = itertools.count(1)
_TEXT = st.characters(min_codepoint=32, exclude_categories=["Cs"])


@postgres_only
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(_TEXT, min_size=1, max_size=30).filter(str.strip),
    address=st.text(_TEXT, max_size=60),
)
def test_any_text_a_person_may_have_is_stored_as_sent(
    partner: Api, name: str, address: str
) -> None:
    """Names and addresses (quotes, backslashes, CJK, emoji …) travel as JSON text into the
    statement and come back as the domain keeps them."""
    if not partner.context.partners:
        warm(partner)
    born = date(1980, 1, 1) + timedelta(days=next(_PEOPLE))
    id_number = resident_id(f"110105{born:%Y%m%d}001")
    body = quote_body(id_number, LI_MOBILE, name)
    body["holder"]["address"] = body["insured"][0]["address"] = address
    with direct_runs(partner) as runs:
        answer = partner.post("/quotes", body)
    assert answer.status_code == 201, answer.text
    assert runs == [True]
    expected = new_person("p", name, id_number, LI_MOBILE, address=address)
    with SqlUnitOfWork(partner.app.engine, partner.app.cipher, partner.app.uow.clock) as uow:
        stored = uow.parties.get(answer.json()["holder_id"])
    assert (stored.name, stored.address) == (expected.name, expected.address)


def test_the_direct_path_is_for_postgresql_only(app: App) -> None:
    found = direct_writes(app)
    assert (found is None) == (app.engine.dialect.name != "postgresql")


def test_a_recording_answers_no_read() -> None:
    recording = Recording()
    with pytest.raises(NeedsStore):
        recording.parties.find_by_id_number(LI_ID)
    with pytest.raises(NeedsStore):
        recording.quotes.get("q")
    with pytest.raises(NeedsStore):
        recording.sequences.next_value("policy")
    person = new_person("p1", "李四", LI_ID, LI_MOBILE)
    assert recording.parties.add_if_new(person)
    assert recording.written.parties == [person]


# --------------------------------------------------------------------------- helpers


def _events_by_quote(app: App) -> list[list[tuple[str, Any, Any]]]:
    """Each quote's events as (type, payload, time), in order: the party's, the quote's."""
    with SqlUnitOfWork(app.engine, app.cipher, app.uow.clock) as uow:
        found = []
        for quote_row in _quotes(app):
            quote = uow.quotes.get(quote_row.quote_id)
            mine = [*uow.events.for_aggregate(quote.holder_id)]
            mine += uow.events.for_aggregate(quote.quote_id)
            found.append([(e.event_type, e.payload, e.occurred_at) for e in mine])
    return found


def _quotes(app: App) -> list[Any]:
    with app.engine.connect() as connection:
        return list(connection.execute(select(quotes).order_by(quotes.c.created_at)))


def _grants(app: App) -> list[Any]:
    with app.engine.connect() as connection:
        return list(connection.execute(select(api_grants)))


@contextmanager
def _session(api: Api) -> Iterator[psycopg.Connection[Any]]:
    """Another session on the direct path's database and schema."""
    direct = api.context.direct
    assert direct is not None
    with psycopg.connect(direct.conninfo, options=direct.options, autocommit=True) as session:
        yield session


def _waiting_on_a_lock(app: App) -> bool:
    with app.engine.connect() as connection:
        waiting = connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
    return bool(waiting)


def _wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(0.02)
