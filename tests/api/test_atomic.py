"""The busiest POSTs in one transaction (SQLite and PostgreSQL): a quote or an issue commits
its key, effect, grants and answer together; the caller is re-read inside it (a revoked
partner is refused at once and leaves nothing behind); a person who is holder and insured is
registered once; policy numbers come in blocks and stay unique."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, event

from baoxian.api.atomic import JoinedUnitOfWork
from baoxian.api.services import api_access
from baoxian.bootstrap import App
from baoxian.policies.repository import SqlPartyRepository, SqlQuoteRepository, SqlUnitOfWork
from baoxian.store.sequences import BlockSequences, block_sequences
from tests.api.conftest import Api, Clock, count_events, quote_body, statements
from tests.store.conftest import resident_id

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def commits(engine: Engine) -> Iterator[list[int]]:
    """How many transactions commit on ``engine`` meanwhile."""
    counted: list[int] = []

    def count(_: Any) -> None:
        counted.append(1)

    event.listen(engine, "commit", count)
    try:
        yield counted
    finally:
        event.remove(engine, "commit", count)


@pytest.mark.parametrize(
    "blank_engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_quote_and_an_issue_commit_once_each(partner: Api) -> None:
    """On PostgreSQL (SQLite claims the key in a transaction of its own first), the general
    path (a new quote's direct path is one statement: ``tests/api/test_direct.py``)."""
    partner.general_path().quote()  # warm: the first request reads the catalogue
    with commits(partner.app.engine) as quoted:
        quote = partner.quote()
    with commits(partner.app.engine) as issued:
        answer = partner.post("/policies", {"quote_id": quote["quote_id"]})
    assert answer.status_code == 201
    assert (len(quoted), len(issued)) == (1, 1)


@pytest.mark.parametrize(
    "blank_engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_quote_claims_its_key_with_the_client_and_writes_its_events_at_once(
    partner: Api,
) -> None:
    """The general path: five statements.  The key's claim reads the partner client; the new
    person registered (an insert that does nothing for someone registered already); the
    quote; its two events in one insert; the grants with the stored answer."""
    partner.general_path().quote()  # warm
    with statements(partner.app.engine) as seen:
        partner.quote(resident_id("11010819900715002"), "13987654321", "李四")
    assert seen == [
        "WITH key_lock AS",
        "INSERT INTO parties",
        "INSERT INTO quotes",
        "INSERT INTO events",
        "WITH granted AS",
    ]
    assert count_events(partner.app, "party.registered") == 2
    assert count_events(partner.app, "quote.created") == 2
    again = partner.quote(resident_id("11010819900715002"), "13987654321", "李四")
    assert count_events(partner.app, "party.registered") == 2  # found, not registered again
    assert partner.get(f"/quotes/{again['quote_id']}").status_code == 200  # granted


@pytest.mark.parametrize(
    "blank_engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_an_issue_checks_the_quotes_grant_with_its_key(partner: Api) -> None:
    """Six statements (the policy number's block aside): the key's claim reads the client
    and whether it holds the quote; the quote with its holder, the quote marked issued, the
    policy with its unit, the event, the grant with the answer."""
    partner.policy()  # warm, and the first block of numbers
    quote = partner.quote(resident_id("11010819900715002"), "13987654321", "李四")
    with statements(partner.app.engine) as seen:
        answer = partner.post("/policies", {"quote_id": quote["quote_id"]})
    assert answer.status_code == 201
    assert seen == [
        "WITH key_lock AS",
        "SELECT quotes.quote_id, quotes.holder_id,",
        "UPDATE quotes SET",
        "WITH new_policy AS",
        "INSERT INTO events",
        "WITH granted AS",
    ]
    number = answer.json()["policy_number"]
    assert partner.get(f"/policies/{number}").status_code == 200  # granted


def test_the_holder_who_is_the_insured_is_registered_once(partner: Api) -> None:
    quote = partner.quote()
    assert quote["holder_id"] == quote["insured"][0]["party_id"]
    assert count_events(partner.app, "party.registered") == 1


def test_a_revoked_partner_is_refused_at_once_and_leaves_nothing(partner: Api) -> None:
    client_id = api_access(partner.app).clients()[0].client_id
    api_access(partner.app).set_active(client_id, False)
    refused = partner.post("/quotes", quote_body(), key="revoked-key-01")
    assert refused.status_code == 401 and refused.json()["code"] == "auth.invalid_token"
    assert count_events(partner.app, "quote.created") == 0
    assert count_events(partner.app, "party.registered") == 0
    api_access(partner.app).set_active(client_id, True)
    again = partner.post("/quotes", quote_body(), key="revoked-key-01")  # the key is free
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers


def test_a_refusal_inside_the_transaction_is_kept_for_the_key(partner: Api) -> None:
    partner.quote()
    other_name = partner.post("/quotes", quote_body(name="王小明"), key="mismatch-key-1")
    retry = partner.post("/quotes", quote_body(name="王小明"), key="mismatch-key-1")
    assert other_name.status_code == retry.status_code == 422
    assert other_name.json()["code"] == "application.name_mismatch"
    assert retry.headers["idempotent-replayed"] == "true"
    assert count_events(partner.app, "quote.created") == 1


def test_someone_elses_quote_is_not_found_and_not_issued(partner: Api, other_partner: Api) -> None:
    quote = partner.quote()
    theirs = other_partner.post("/policies", {"quote_id": quote["quote_id"]})
    missing = other_partner.post("/policies", {"quote_id": "0" * 32})
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["code"] == missing.json()["code"] == "quote.not_found"
    assert theirs.json()["detail"].replace(quote["quote_id"], "0" * 32) == missing.json()["detail"]
    assert count_events(partner.app, "policy.issued") == 0


def test_an_expired_token_is_refused_though_its_signature_was_checked(
    partner: Api, clock: Clock
) -> None:
    partner.quote()
    clock.advance(minutes=11)
    late = partner.post("/quotes", quote_body())
    assert late.status_code == 401 and late.json()["code"] == "auth.invalid_token"


def test_a_joined_unit_of_work_holds_the_same_repositories(app: App) -> None:
    with app.engine.connect() as connection, connection.begin():
        with SqlUnitOfWork(app.engine, app.cipher) as own:
            expected = {n: type(v) for n, v in vars(own).items() if not n.startswith("_")}
        with JoinedUnitOfWork(connection, app.cipher, app.uow.clock) as joined:
            found = {n: type(v) for n, v in vars(joined).items() if not n.startswith("_")}
            assert joined.connection is connection
    assert found == expected


# --------------------------------------------------------------------------- policy numbers


def _take(numbers: BlockSequences, name: str, count: int, start: threading.Barrier) -> list[int]:
    start.wait()
    return [numbers.next_value(name) for _ in range(count)]


@pytest.mark.parametrize(
    "blank_engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_block_numbers_are_unique_across_concurrent_allocators(app: App) -> None:
    """Blocks are for PostgreSQL; SQLite takes the counter in the unit of work's transaction."""
    allocators = [block_sequences(app.engine, block=7) for _ in range(2)]
    start = threading.Barrier(4)
    with ThreadPoolExecutor(4) as pool:
        runs = [
            pool.submit(_take, numbers, "BJHMB2026", 50, start)
            for numbers in allocators * 2
            if numbers is not None
        ]
        taken = [value for run in runs for value in run.result()]
    assert len(taken) == 200 and len(set(taken)) == 200
    assert min(taken) == 1
    with app.uow() as uow:  # the one-at-a-time counter continues above every block
        assert uow.sequences.next_value("BJHMB2026") > max(taken)


def test_issues_through_the_api_get_distinct_numbers(partner: Api) -> None:
    people = [
        ("11010519810415031", "13812345678", "王建国"),
        ("11010819900715002", "13987654321", "李四"),
    ]
    numbers = [partner.policy(resident_id(i), m, n)["policy_number"] for i, m, n in people]
    assert len(set(numbers)) == 2


def at_once(send: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``send`` for each item, each from its own thread, all released at the same moment."""
    start = threading.Barrier(len(items))

    def released(item: T) -> R:
        start.wait()
        return send(item)

    with ThreadPoolExecutor(len(items)) as pool:
        return list(pool.map(released, items))


def slowed(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> None:
    """``owner.name`` sleeps 0.3 s after it returns: two requests arriving together are
    forced to overlap just after it."""
    original = getattr(owner, name)

    def slow(self: Any, *args: Any) -> Any:
        found = original(self, *args)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(owner, name, slow)


def quotes_at_once(partner: Api, people: list[str]) -> list[int]:
    """A quote for each of ``people`` (身份证号), all sent at the same moment; the statuses."""

    def send(id_number: str) -> int:
        return partner.post("/quotes", quote_body(id_number, "13812345678", "王建国")).status_code

    return at_once(send, people)


def test_quotes_for_different_people_at_the_same_moment_all_succeed(partner: Api) -> None:
    people = [resident_id(f"11010519810415{n:03d}") for n in range(4)]
    statuses = quotes_at_once(partner, people)
    assert statuses == [201] * len(people)
    assert count_events(partner.app, "quote.created") == len(people)


def test_the_same_new_person_quoted_twice_at_once_is_registered_once(partner: Api) -> None:
    statuses = sorted(at_once(lambda _: partner.post("/quotes", quote_body()).status_code, [0, 1]))
    assert statuses in ([201, 201], [201, 409])  # 409: retry, the key stays free
    assert count_events(partner.app, "party.registered") == 1


def test_the_busiest_requests_run_at_most_db_threads_at_once(
    partner: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six quotes sent together: all answered, never more than ``api_db_threads`` (2) in
    their transactions at the same moment — the others wait on the event loop."""
    from baoxian.api import atomic

    inside, peak, lock = [0], [0], threading.Lock()
    original = atomic.run_once

    def counted(*args: Any) -> Any:
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        try:
            time.sleep(0.05)  # long enough for the others to arrive
            return original(*args)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(atomic, "run_once", counted)
    partner.general_path()
    assert partner.app.settings.api_db_threads == 2
    people = [resident_id(f"11010519810415{n:03d}") for n in range(6)]
    statuses = quotes_at_once(partner, people)
    assert statuses == [201] * len(people)
    assert peak[0] == 2


@pytest.mark.parametrize(
    "blank_engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_one_quote_issued_twice_at_the_same_moment_becomes_one_policy(
    partner: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests (different keys) both read the quote as accepted before either writes
    (the read is slowed to force it): the second waits for the first's row lock, finds the
    quote issued and answers a retryable 409; its retry returns the same policy."""
    quote = partner.quote()
    slowed(monkeypatch, SqlQuoteRepository, "get_with_holder")

    def send(n: int) -> Any:
        return partner.post("/policies", {"quote_id": quote["quote_id"]}, key=f"issue-twice-{n}")

    answers = at_once(send, [0, 1])
    assert sorted(a.status_code for a in answers) == [201, 409]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["code"] == "quote.issued_meanwhile"
    assert count_events(partner.app, "policy.issued") == 1
    issued = next(a for a in answers if a.status_code == 201).json()["policy_number"]
    retried = partner.post("/policies", {"quote_id": quote["quote_id"]}, key="issue-twice-1")
    assert retried.status_code == 201 and retried.json()["policy_number"] == issued


@pytest.mark.parametrize(
    "blank_engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_new_person_quoted_twice_at_the_same_moment_is_one_party_for_both(
    partner: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request's insert is held open (slowed) while the second arrives: the
    second's insert waits for it, does nothing, and finds the person just registered (the
    general path; the direct one: ``tests/api/test_direct.py``)."""
    partner.general_path()
    slowed(monkeypatch, SqlPartyRepository, "add_if_new")
    answers = at_once(lambda _: partner.post("/quotes", quote_body()), [0, 1])
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["holder_id"] == answers[1].json()["holder_id"]
    assert count_events(partner.app, "party.registered") == 1
