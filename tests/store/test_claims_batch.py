"""The batch decision (``decide_batch``) on SQLite and PostgreSQL: the same claims decided in
one batch and one by one through ``ClaimService.report`` + ``decide`` (in a second, fresh
store) end with the same rows — statuses, money, EOBs, reviews, ledgers, payments and
events; a re-run writes nothing new; what the service would refuse is rejected."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.claims.batch import BatchResult, decide_batch
from baoxian.claims.model import BillItem, Claim, HealthClaim, PropertyClaim
from baoxian.claims.repository import SqlClaimsUnitOfWorkFactory
from baoxian.claims.review import ReviewPolicy
from baoxian.claims.services import ClaimService
from baoxian.claims.tables import claim_ledgers, claims, payments
from baoxian.policies.enrolment import EnrolmentService, MemberRow
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.clock import fixed_clock
from baoxian.shared.money import Money
from baoxian.store.crypto import FieldCipher
from baoxian.store.db import make_engine
from baoxian.store.migrate import upgrade
from baoxian.store.tables import events
from tests.store.conftest import _postgres_schema, resident_id

CATALOG = Catalog(CatalogRepository(Path(__file__).resolve().parents[2] / "catalog"))
M = Money.of
NOW = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)
CLOCK = fixed_clock(NOW)
# straight through up to 5,000,000 so that a claim exhausting a limit can be paid at once
REVIEW = ReviewPolicy(auto_pay_limit=M("5000000"))
PAYMENT_IDS = itertools.count(1)


@pytest.fixture
def twin(engine: Engine, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A second fresh store on the same kind of database as ``engine``."""
    if engine.dialect.name == "sqlite":
        other = make_engine(f"sqlite:///{tmp_path / 'twin.db'}")
        upgrade(other)
        yield other
        other.dispose()
        return
    for other in _postgres_schema(request.getfixturevalue("postgres_url")):
        upgrade(other)
        yield other


def policy_service(engine: Engine, cipher: FieldCipher) -> PolicyService:
    counter = itertools.count(1)
    return PolicyService(
        uow=SqlUnitOfWorkFactory(engine, cipher, CLOCK),
        catalog=CATALOG,
        clock=CLOCK,
        new_id=lambda: f"{next(counter):032x}",
    )


@dataclass(frozen=True)
class Book:
    """The policies of the scenario: insured (policy number, unit key) by name."""

    insured: dict[str, tuple[str, str]]


def person_policy(
    policies: PolicyService, id17: str, product: str = "BJ-HMB", start: date = date(2026, 1, 1)
) -> tuple[str, str]:
    person = policies.register_person(
        "王建国", resident_id(id17), "13812345678", medical_insurance_city="110000"
    )
    insured = (InsuredInput("person", person.party_id),)
    quote = policies.create_quote(QuoteInput(product, person.party_id, start, insured))
    return policies.issue_policy(quote.quote_id).policy_number, person.party_id


def build_book(policies: PolicyService) -> Book:
    """The same policies, numbers and keys in any fresh store."""
    insured = {
        "a": person_policy(policies, "11010519810415031"),
        "b": person_policy(policies, "11010519850312042"),
        "new": person_policy(policies, "11010519900101003", start=date(2026, 5, 20)),
        "big": person_policy(policies, "11010519700707014"),
        "cancelled": person_policy(policies, "11010519600606025"),
        "renewed": person_policy(policies, "11010519750505036", "LTM-15", date(2025, 3, 1)),
    }
    policies.cancel(insured["cancelled"][0], date(2026, 5, 1), "退保")
    policies.renew(insured["renewed"][0])
    owner = policies.register_organisation(
        "深圳市华安精密制造有限公司", "91110000600037341L", "13900001111"
    )
    site = InsuredInput(
        "site",
        key="SZ-01",
        facts={"construction_class": "B", "occupancy": "light_manufacturing", "coastal": True},
        declared_sum_insured=M("80000000"),
    )
    quote = policies.create_quote(QuoteInput("PAR-ENT", owner.party_id, date(2026, 3, 1), (site,)))
    insured["site"] = (policies.issue_policy(quote.quote_id).policy_number, "SZ-01")
    insured["joiner"] = programme_member(policies, owner.party_id, date(2026, 5, 25))
    return Book(insured)


def programme_member(policies: PolicyService, operator: str, joined: date) -> tuple[str, str]:
    """A 惠民保 programme from 1 January and a member enrolled into it from ``joined``."""
    first = person_policy_input(policies, "11010519650909058")
    quote = policies.create_quote(
        QuoteInput("BJ-HMB", operator, date(2026, 1, 1), (first,), group=True)
    )
    programme = policies.issue_policy(quote.quote_id, group=True).policy_number
    id_number = resident_id("11010519880808047")
    member = policies.register_person(
        "李娜", id_number, "13812345679", medical_insurance_city="110000"
    )
    row = MemberRow(2, "李娜", id_number, "13812345679", "110000", True)
    uow = policies.uow
    assert isinstance(uow, SqlUnitOfWorkFactory)
    EnrolmentService(uow=uow, catalog=CATALOG, clock=CLOCK).enrol(
        programme, [row], batch_id="join-0525", effective=joined
    )
    return programme, member.party_id


def person_policy_input(policies: PolicyService, id17: str) -> InsuredInput:
    person = policies.register_person(
        "张伟", resident_id(id17), "13812345670", medical_insurance_city="110000"
    )
    return InsuredInput("person", person.party_id)


def stay(
    claim_id: str,
    who: tuple[str, str],
    *items: BillItem,
    loss: date = date(2026, 6, 1),
    invoice: str | None = None,
) -> HealthClaim:
    return HealthClaim(
        claim_id,
        *who,
        loss,
        "K35.8",
        items,
        provider="H110105001",
        invoice_no=invoice or f"INV-{claim_id}",
        discharge_date=loss + timedelta(days=5),
    )


def drug(claim_id: str, who: tuple[str, str], amount: str) -> HealthClaim:
    item = BillItem("L01EB04", "甲磺酸奥希替尼片", "special_drug", M(amount))
    return HealthClaim(
        claim_id, *who, date(2026, 6, 9), "C34.9", (item,), provider="PH110101", invoice_no=claim_id
    )


def in_list(amount: str, basic: str = "0") -> BillItem:
    return BillItem("HOSP", "住院", "in_list", M(amount), M(basic))


def out_of_list(amount: str) -> BillItem:
    return BillItem("OUT", "目录外", "out_of_list", M(amount))


def scenario(book: Book) -> list[Claim]:
    """Claims in report order, each showing one rule."""
    who = book.insured
    late = date(2026, 2, 20)  # in the renewed policy's first year, reported after renewal
    return [
        stay("C01", who["a"], in_list("50000", "30000")),  # crosses the 18,000 deductible
        stay("C02", who["a"], out_of_list("10000"), loss=date(2026, 7, 1)),  # deductible met
        stay("C03", who["b"], in_list("50000", "30000"), invoice="INV-C01"),  # invoice again
        drug("C04", who["a"], "30000"),  # 特药直付, paid to the pharmacy
        stay("C05", who["new"], in_list("20000")),  # 12 days after inception: referred
        drug("C06", who["big"], "4000000"),  # exhausts the 3,000,000 limit
        stay("C07", who["big"], in_list("50000"), loss=date(2026, 6, 20)),  # nothing left
        stay("C08", who["cancelled"], in_list("50000")),  # after cancellation: zero, decided
        PropertyClaim(
            "C09", *who["site"], date(2026, 9, 16), "typhoon", M("150000"), invoice_no="T1"
        ),
        stay("C10", who["renewed"], out_of_list("15000"), loss=late),  # first policy year
        stay("C11", who["renewed"], out_of_list("12000"), loss=date(2026, 4, 1)),  # second
        stay("C12", who["a"], in_list("3000"), invoice="INV-C01"),  # own invoice again
        # a member who joined the programme on 25 May: a week later is soon after *their*
        # inception (the programme began on 1 January), and before it they were not covered
        stay("C13", who["joiner"], in_list("20000")),
        stay("C14", who["joiner"], in_list("20000"), loss=date(2026, 5, 20)),
    ]


def fast_track(claim: Claim) -> str:
    return "special_drug" if claim.claim_id == "C04" else ""


def one_by_one(engine: Engine, policies: PolicyService, batch: list[Claim]) -> None:
    counter = itertools.count(1)
    service = ClaimService(
        uow=SqlClaimsUnitOfWorkFactory(engine, CLOCK),
        policies=policies,
        catalog=CATALOG,
        clock=CLOCK,
        new_id=lambda: f"pay{next(counter):029d}",
        review_policy=REVIEW,
    )
    for claim in batch:
        service.report(claim, channel="settlement_import", fast_track=fast_track(claim))
        service.decide(claim.claim_id)


def in_batch(
    engine: Engine, policies: PolicyService, batch: list[Claim], **options: Any
) -> BatchResult:
    return decide_batch(
        engine,
        policies,
        CATALOG,
        batch,
        **{
            "channel": "settlement_import",
            "fast_track": fast_track,
            "clock": CLOCK,
            "new_id": lambda: f"batch{next(PAYMENT_IDS):027d}",
            "review_policy": REVIEW,
            **options,
        },
    )


def stored(engine: Engine) -> dict[str, Any]:
    """Everything the two paths write, without what legitimately differs (payment IDs, the
    ledger version — one step per batch, one per claim one by one)."""
    with engine.connect() as connection:
        claim_rows = {
            row.claim_id: row._asdict()
            for row in connection.execute(select(claims).order_by(claims.c.claim_id))
        }
        paid = {
            row.claim_id: {**row._asdict(), "payment_id": None}
            for row in connection.execute(select(payments))
        }
        ledgers = {
            (row.policy_number, row.unit_key, row.term_no): row.used
            for row in connection.execute(select(claim_ledgers))
        }
        history = [
            (row.aggregate_id, row.event_type, {**row.payload, "payment_id": None}, row.occurred_at)
            for row in connection.execute(
                select(events).where(events.c.aggregate_type == "claim").order_by(events.c.id)
            )
        ]
    return {"claims": claim_rows, "payments": paid, "ledgers": ledgers, "events": history}


def by_claim(history: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for event in history:
        grouped.setdefault(event[0], []).append(event)
    return grouped


@pytest.mark.parametrize("workers", [0, 2])
def test_batch_decides_as_the_service_does_one_by_one(
    engine: Engine, twin: Engine, cipher: FieldCipher, workers: int
) -> None:
    batch_policies = policy_service(engine, cipher)
    twin_policies = policy_service(twin, cipher)
    batch = scenario(build_book(batch_policies))
    assert scenario(build_book(twin_policies)) == batch

    one_by_one(twin, twin_policies, batch)
    result = in_batch(engine, batch_policies, batch, workers=workers, chunk_claims=3)

    expected, got = stored(twin), stored(engine)
    assert got["claims"] == expected["claims"]
    assert got["payments"] == expected["payments"]
    assert got["ledgers"] == expected["ledgers"]
    assert by_claim(got["events"]) == by_claim(expected["events"])

    statuses = {cid: row["status"] for cid, row in got["claims"].items()}
    assert statuses == {
        "C01": "paid",
        "C02": "paid",
        "C03": "declined",  # duplicate invoice
        "C04": "paid",
        "C05": "referred",  # soon after inception
        "C06": "paid",
        "C07": "declined",  # limit exhausted: a decided zero payment
        "C08": "declined",  # not in force
        "C09": "paid",
        "C10": "paid",
        "C11": "paid",  # second policy year: its own deductible, 2,000 over it
        "C12": "declined",  # own invoice again
        "C13": "referred",  # a week after the member joined
        "C14": "declined",  # before the member joined
    }
    rows = got["claims"]
    assert (rows["C01"]["paid_fen"], rows["C02"]["paid_fen"]) == (160000, 700000)
    assert rows["C06"]["paid_fen"] == 300000000
    assert rows["C09"]["paid_fen"] == 13000000  # 150,000 − max(20,000, 10 %)
    assert got["payments"]["C04"]["payee_kind"] == "pharmacy"
    assert (rows["C10"]["paid_fen"], rows["C11"]["paid_fen"]) == (500000, 200000)
    assert (result.decided, result.already_in_store, result.rejected) == (14, 0, ())
    assert result.statuses == {"declined": 5, "paid": 7, "referred": 2}
    assert result.straight_through == 12
    joiner = {cid: [f["code"] for f in rows[cid]["review"]["findings"]] for cid in ("C13", "C14")}
    assert joiner == {"C13": ["review.soon_after_inception"], "C14": []}
    assert rows["C14"]["assessment"]["reasons"][0]["rule"] == "claim.policy_not_in_force"
    assert result.paid == M("3169600.00")


def test_rerun_writes_nothing_new_and_rejections_are_listed(
    engine: Engine, cipher: FieldCipher
) -> None:
    policies = policy_service(engine, cipher)
    book = build_book(policies)
    batch = scenario(book)
    first = in_batch(engine, policies, batch, workers=0)
    before = counts(engine)

    bad: list[Claim] = [
        PropertyClaim(
            "X1", book.insured["site"][0], "NO-SITE", date(2026, 9, 16), "typhoon", M("1")
        ),
        HealthClaim("X2", *book.insured["a"], date(2026, 6, 1), "K35.8", ()),
        stay("X3", book.insured["a"], in_list("100")),
        HealthClaim("X4", "NO-SUCH-POLICY", "u", date(2026, 6, 1), "K35.8", (in_list("1"),)),
    ]
    again = in_batch(
        engine,
        policies,
        [*batch, *bad],
        workers=0,
        fast_track=lambda c: "special_drug" if c.claim_id == "X3" else "",
    )
    assert counts(engine) == before
    assert (again.decided, again.already_in_store) == (0, len(batch))
    assert [(r.claim_id, r.code) for r in again.rejected] == [
        ("X1", "policy.unknown_insured"),
        ("X2", "claim.no_items"),
        ("X3", "claim.special_drug_required"),
        ("X4", "policy.not_found"),
    ]
    assert first.decided == len(batch)


def counts(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as connection:
        return tuple(
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (claims, payments, claim_ledgers, events)
        )


def test_new_claims_for_insureds_with_history_read_their_ledgers_and_invoices(
    engine: Engine, twin: Engine, cipher: FieldCipher
) -> None:
    """A second batch continues from the store: accumulators from the ledger (version
    guarded), earlier invoices of the same or another insured."""
    batch_policies = policy_service(engine, cipher)
    twin_policies = policy_service(twin, cipher)
    book = build_book(batch_policies)
    build_book(twin_policies)
    first = scenario(book)[:4]
    second: list[Claim] = [
        stay("D01", book.insured["a"], out_of_list("1000"), loss=date(2026, 8, 1)),
        stay("D02", book.insured["b"], in_list("700"), invoice="INV-C02"),  # C02's invoice
        drug("D03", book.insured["a"], "1000"),
    ]
    one_by_one(twin, twin_policies, first + second)
    in_batch(engine, batch_policies, first, workers=0)
    in_batch(engine, batch_policies, second, workers=0)
    expected, got = stored(twin), stored(engine)
    assert got["claims"] == expected["claims"]
    assert got["ledgers"] == expected["ledgers"]
    assert got["claims"]["D02"]["status"] == "declined"
