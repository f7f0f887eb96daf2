"""Every resource tried with another partner's and another customer's identity (SQLite and
PostgreSQL): someone else's object is "not found", with exactly the answer a missing one
gets, and nothing changes.  Staff read within their roles, and every read is audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from baoxian.store.tables import events
from tests.api.conftest import LI_ID, LI_MOBILE, WANG_ID, WANG_MOBILE, Api, claim_body
from tests.api.test_claims import PDF

MISSING_ID = "f" * 32
MISSING_POLICY = "BJHMB202699999999"
MISSING_BATCH = "e" * 64
MEMBERS_CSV = (
    "name,id_number,mobile,medical_insurance_city,has_basic_medical\n"
    f"李四,{LI_ID},{LI_MOBILE},110000,是\n"
).encode()


@dataclass
class Book:
    """Partner A's customer 王建国 with a policy, a claim and a document; partner B's
    customer 李四 with a policy."""

    quote_id: str
    policy_number: str
    party_id: str
    claim_id: str
    other_policy: str


@pytest.fixture
def book(partner: Api, other_partner: Api) -> Book:
    quote = partner.quote()
    policy = partner.post("/policies", {"quote_id": quote["quote_id"]}).json()
    claim = partner.post("/claims", claim_body(policy)).json()
    partner.post(
        f"/claims/{claim['claim_id']}/documents",
        data={"kind": "invoice"},
        files={"file": ("invoice.pdf", PDF, "application/pdf")},
    )
    other = other_partner.policy(LI_ID, LI_MOBILE, "李四")
    return Book(
        quote["quote_id"],
        policy["policy_number"],
        policy["holder_id"],
        claim["claim_id"],
        other["policy_number"],
    )


Call = Callable[[Api, Book, bool], httpx.Response]
"""A request on partner A's object (``True``) or on a missing one (``False``)."""


def _q(b: Book, own: bool) -> str:
    return b.quote_id if own else MISSING_ID


def _p(b: Book, own: bool) -> str:
    return b.policy_number if own else MISSING_POLICY


def _c(b: Book, own: bool) -> str:
    return b.claim_id if own else MISSING_ID


def _party(b: Book, own: bool) -> str:
    return b.party_id if own else MISSING_ID


def _upload(api: Api, b: Book, own: bool) -> httpx.Response:
    return api.post(
        f"/claims/{_c(b, own)}/documents",
        data={"kind": "invoice"},
        files={"file": ("again.pdf", PDF + b"%", "application/pdf")},
    )


def _claim_on(api: Api, b: Book, own: bool) -> httpx.Response:
    policy = {"policy_number": _p(b, own), "insured": [{"key": b.party_id}]}
    return api.post("/claims", claim_body(policy, invoice_no="INV-OTHER"))


CALLS: dict[str, Call] = {
    "GET quote": lambda api, b, own: api.get(f"/quotes/{_q(b, own)}"),
    "POST policy from quote": lambda api, b, own: api.post("/policies", {"quote_id": _q(b, own)}),
    "GET policy": lambda api, b, own: api.get(f"/policies/{_p(b, own)}"),
    "GET policy claims": lambda api, b, own: api.get(f"/policies/{_p(b, own)}/claims"),
    "POST contact": lambda api, b, own: api.post(
        f"/policies/{_p(b, own)}/contact", {"effective": "2026-07-01", "mobile": "13700001111"}
    ),
    "POST renew": lambda api, b, own: api.post(f"/policies/{_p(b, own)}/renew"),
    "POST cancel": lambda api, b, own: api.post(
        f"/policies/{_p(b, own)}/cancel", {"effective": "2026-09-01", "reason": "x"}
    ),
    "POST claim": _claim_on,
    "GET claim": lambda api, b, own: api.get(f"/claims/{_c(b, own)}"),
    "POST document": _upload,
    "GET documents": lambda api, b, own: api.get(f"/claims/{_c(b, own)}/documents"),
    "GET payments": lambda api, b, own: api.get(f"/claims/{_c(b, own)}/payments"),
    "GET customer": lambda api, b, own: api.get(f"/customers/{_party(b, own)}"),
    "GET notices": lambda api, b, own: api.get(f"/customers/{_party(b, own)}/notices"),
    "POST members": lambda api, b, own: api.post_body(
        f"/policies/{_p(b, own)}/members", MEMBERS_CSV, "text/csv"
    ),
    "POST member removals": lambda api, b, own: api.post_body(
        f"/policies/{_p(b, own)}/members/removals", f"id_number\n{WANG_ID}\n".encode(), "text/csv"
    ),
    "GET members": lambda api, b, own: api.get(f"/policies/{_p(b, own)}/members"),
    "GET member batch": lambda api, b, own: api.get(
        f"/policies/{_p(b, own)}/member-batches/{MISSING_BATCH}"
    ),
    "GET member batch rejections": lambda api, b, own: api.get(
        f"/policies/{_p(b, own)}/member-batches/{MISSING_BATCH}/rejections"
    ),
}
CUSTOMER_CANNOT = {"GET quote", "POST policy from quote", "POST contact", "POST renew"} | {
    "POST cancel",
    "POST members",
    "POST member removals",
    "GET members",
    "GET member batch",
    "GET member batch rejections",
}
"""Customers hold no quotes, policies:write or members scope: 403 whoever's object it is."""


def _same_answer(foreign: httpx.Response, missing: httpx.Response, book: Book, name: str) -> None:
    assert foreign.status_code == missing.status_code == 404, (name, foreign.text, missing.text)
    text = foreign.text
    for mine, absent in (
        (book.quote_id, MISSING_ID),
        (book.policy_number, MISSING_POLICY),
        (book.claim_id, MISSING_ID),
        (book.party_id, MISSING_ID),
    ):
        text = text.replace(mine, absent)
    assert text == missing.text, name
    assert foreign.headers["content-type"] == "application/problem+json"


def _unchanged(partner: Api, book: Book) -> None:
    policy = partner.get(f"/policies/{book.policy_number}").json()
    assert (policy["status"], policy["term_no"], policy["endorsement_count"]) == ("in_force", 1, 0)
    assert len(partner.get(f"/claims/{book.claim_id}/documents").json()) == 1
    assert len(partner.get(f"/policies/{book.policy_number}/claims").json()) == 1


def test_another_partner_finds_nothing(partner: Api, other_partner: Api, book: Book) -> None:
    for name, call in CALLS.items():
        foreign, missing = call(other_partner, book, True), call(other_partner, book, False)
        _same_answer(foreign, missing, book, name)
    _unchanged(partner, book)


def test_another_customer_finds_nothing(partner: Api, book: Book) -> None:
    li = partner.as_(partner.customer_token(LI_MOBILE))  # holds partner B's policy only
    for name, call in CALLS.items():
        foreign, missing = call(li, book, True), call(li, book, False)
        if name in CUSTOMER_CANNOT:
            assert foreign.status_code == missing.status_code == 403, name
            assert foreign.json()["code"] == "auth.insufficient_scope", name
        else:
            _same_answer(foreign, missing, book, name)
    _unchanged(partner, book)


def test_the_customer_sees_their_own(partner: Api, book: Book) -> None:
    wang = partner.as_(partner.customer_token(WANG_MOBILE))
    for name in ("GET policy", "GET policy claims", "GET claim", "GET payments", "GET customer"):
        assert CALLS[name](wang, book, True).status_code == 200, name
    assert [p["policy_number"] for p in wang.get("/policies").json()] == [book.policy_number]


def test_lists_hold_only_your_own(partner: Api, other_partner: Api, book: Book) -> None:
    assert [p["policy_number"] for p in partner.get("/policies").json()] == [book.policy_number]
    assert [p["policy_number"] for p in other_partner.get("/policies").json()] == [
        book.other_policy
    ]


def test_a_partner_never_reads_full_personal_data(partner: Api, book: Book) -> None:
    answer = partner.get(f"/customers/{book.party_id}/personal-data")
    assert answer.status_code == 403 and answer.json()["code"] == "auth.insufficient_scope"


def _audit(api: Api, event_type: str) -> list[dict[str, Any]]:
    with api.app.engine.connect() as connection:
        rows = connection.execute(
            select(events.c.aggregate_id, events.c.payload).where(events.c.event_type == event_type)
        )
        return [{"by": r.aggregate_id, **r.payload} for r in rows]


def test_staff_read_within_their_roles_and_every_read_is_audited(api: Api, book: Book) -> None:
    service = api.as_(api.staff_token("S001", "service"))
    assert service.get(f"/policies/{book.policy_number}").status_code == 200
    assert service.get(f"/claims/{book.claim_id}").status_code == 200
    full = service.get(f"/customers/{book.party_id}/personal-data")
    assert full.status_code == 200
    assert (full.json()["id_number"], full.json()["mobile"]) == (WANG_ID, WANG_MOBILE)
    assert _audit(api, "api.personal_data_viewed") == [
        {"by": "S001", "party_id": book.party_id, "fields": ["id_number", "mobile"]}
    ]
    reads = [(e["resource"], e["id"]) for e in _audit(api, "api.staff_read")]
    assert reads == [
        ("policy", book.policy_number),
        ("claim", book.claim_id),
        ("party", book.party_id),
    ]

    handler = api.as_(api.staff_token("C001", "claims_handler"))
    assert handler.get(f"/claims/{book.claim_id}").status_code == 200
    for refused in (
        handler.get(f"/policies/{book.policy_number}"),
        handler.get(f"/customers/{book.party_id}/personal-data"),
        service.post(f"/policies/{book.policy_number}/renew"),
        _claim_on(service, book, True),
    ):
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "auth.insufficient_scope"
