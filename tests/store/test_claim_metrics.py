"""Claims metrics on SQLite and PostgreSQL: exact counts, STP rate, nearest-rank cycle times
and money totals by product and channel, over a book written row by row with known times."""

from __future__ import annotations

import doctest
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.claims import metrics as metrics_module
from baoxian.claims.case import ClaimStatus
from baoxian.claims.metrics import MetricsRow, Percentiles, claims_metrics, nearest_rank
from baoxian.claims.model import BillItem, HealthClaim
from baoxian.claims.repository import SqlClaimsUnitOfWorkFactory
from baoxian.claims.services import ClaimService
from baoxian.claims.tables import claims
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.money import Money
from baoxian.store.crypto import FieldCipher
from tests.store.conftest import NOW, resident_id

CATALOG = Catalog(CatalogRepository(Path(__file__).resolve().parents[2] / "catalog"))
T0 = datetime(2026, 6, 1, tzinfo=UTC)
M = Money.of


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def claim_row(
    claim_id: str,
    product: str,
    channel: str,
    status: str,
    *,
    reported: int = 0,
    decided: int | None = None,
    paid: int | None = None,
    stp: bool | None = None,
    claimed: str,
    paid_out: str = "0",
    reserve: str,
) -> dict[str, Any]:
    """A claims row with its times as seconds after ``T0``."""
    return {
        "claim_id": claim_id,
        "policy_number": f"P-{product}",
        "unit_key": "U1",
        "term_no": 1,
        "kind": "health",
        "channel": channel,
        "status": status,
        "loss_date": date(2026, 5, 1),
        "invoice_no": f"INV-{claim_id}",
        "provider": "H1",
        "diagnosis": "K35.8",
        "claimed_fen": M(claimed).fen,
        "payable_fen": None,
        "reserve_fen": M(reserve).fen,
        "paid_fen": M(paid_out).fen,
        "green_channel": False,
        "data": {},
        "reported_at": at(reported),
        "decided_at": None if decided is None else at(decided),
        "paid_at": None if paid is None else at(paid),
        "version": 0,
        "product_code": product,
        "straight_through": stp,
    }


BOOK = [
    # BJ-HMB by app: decided after 60, 120, 600 and 30 seconds; one paid after an hour
    claim_row(
        "A1", "BJ-HMB", "app", "approved", decided=60, stp=True, claimed="1000", reserve="800"
    ),
    claim_row(
        "A2",
        "BJ-HMB",
        "app",
        "paid",
        decided=120,
        paid=3600,
        stp=True,
        claimed="500",
        paid_out="400",
        reserve="0",
    ),
    claim_row(
        "A3", "BJ-HMB", "app", "declined", decided=600, stp=False, claimed="300", reserve="0"
    ),
    claim_row("A4", "BJ-HMB", "app", "referred", claimed="2000", reserve="2000"),
    claim_row("A5", "BJ-HMB", "app", "declined", decided=30, stp=True, claimed="100", reserve="0"),
    # BJ-HMB by portal: a person decided B2 after 300 seconds, paid after two hours
    claim_row(
        "B1", "BJ-HMB", "portal", "pending_info", reported=10, claimed="50.01", reserve="50.01"
    ),
    claim_row(
        "B2",
        "BJ-HMB",
        "portal",
        "paid",
        reported=10,
        decided=310,
        paid=7210,
        stp=False,
        claimed="999.99",
        paid_out="999.99",
        reserve="0",
    ),
    # PAR-ENT by api, reported the day before: still open
    claim_row(
        "C1",
        "PAR-ENT",
        "api",
        "reported",
        reported=-86_400,
        claimed="1000000",
        reserve="1000000",
    ),
]


@pytest.fixture
def book(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(insert(claims), BOOK)
    return engine


def test_metrics_by_product_and_channel(book: Engine) -> None:
    rows = claims_metrics(book)
    assert [(r.product_code, r.channel) for r in rows] == [
        ("BJ-HMB", "app"),
        ("BJ-HMB", "portal"),
        ("PAR-ENT", "api"),
        ("*", "*"),
    ]
    app, portal, property_api, overall = rows
    assert app == MetricsRow(
        "BJ-HMB",
        "app",
        reported=5,
        decided=4,
        paid=1,
        open=1,
        straight_through=3,
        report_to_decision=Percentiles(p50=60, p90=600, sample=4),  # [30, 60, 120, 600]
        report_to_payment=Percentiles(p50=3600, p90=3600, sample=1),
        claimed_amount=M("3900"),
        paid_amount=M("400"),
        outstanding_reserve=M("2800"),
    )
    assert app.stp_rate == Fraction(3, 4)
    assert portal.stp_rate == Fraction(0)
    assert portal.report_to_decision == Percentiles(300, 300, 1)
    assert portal.report_to_payment == Percentiles(7200, 7200, 1)
    assert (portal.claimed_amount, portal.paid_amount, portal.outstanding_reserve) == (
        M("1050.00"),
        M("999.99"),
        M("50.01"),
    )
    assert property_api.stp_rate is None
    assert property_api.report_to_decision == Percentiles(None, None, 0)
    assert overall == MetricsRow(
        "*",
        "*",
        reported=8,
        decided=5,
        paid=2,
        open=3,
        straight_through=3,
        report_to_decision=Percentiles(p50=120, p90=600, sample=5),  # [30, 60, 120, 300, 600]
        report_to_payment=Percentiles(p50=3600, p90=7200, sample=2),
        claimed_amount=M("1004950.00"),
        paid_amount=M("1399.99"),
        outstanding_reserve=M("1002850.01"),
    )
    assert overall.stp_rate == Fraction(3, 5)


def test_every_row_is_reported_equals_decided_plus_open(book: Engine) -> None:
    for row in claims_metrics(book):
        assert row.reported == row.decided + row.open
        assert row.paid <= row.decided and row.straight_through <= row.decided


def test_the_window_selects_claims_by_report_time(book: Engine) -> None:
    *_, overall = claims_metrics(book, since=T0)
    assert (overall.reported, overall.claimed_amount) == (7, M("4950.00"))
    rows = claims_metrics(book, since=T0, until=at(5))
    assert [(r.product_code, r.channel, r.reported) for r in rows] == [
        ("BJ-HMB", "app", 5),
        ("*", "*", 5),
    ]
    with pytest.raises(ValueError, match="timezone-aware"):
        claims_metrics(book, since=datetime(2026, 6, 1))


def test_an_empty_book_has_one_row_of_zeros(engine: Engine) -> None:
    with engine.connect() as connection:
        [overall] = claims_metrics(connection)
    assert overall == MetricsRow(
        "*",
        "*",
        0,
        0,
        0,
        0,
        0,
        Percentiles(None, None, 0),
        Percentiles(None, None, 0),
        Money.ZERO,
        Money.ZERO,
        Money.ZERO,
    )
    assert overall.stp_rate is None and overall.as_json()["stp_rate"] is None


def test_as_json(book: Engine) -> None:
    app = claims_metrics(book)[0]
    assert app.as_json() == {
        "product_code": "BJ-HMB",
        "channel": "app",
        "reported": 5,
        "decided": 4,
        "paid": 1,
        "open": 1,
        "straight_through": 3,
        "stp_rate": "0.7500",
        "report_to_decision_seconds": {"p50": 60, "p90": 600, "sample": 4},
        "report_to_payment_seconds": {"p50": 3600, "p90": 3600, "sample": 1},
        "claimed_amount": "3900.00",
        "paid_amount": "400.00",
        "outstanding_reserve": "2800.00",
    }
    assert claims_metrics(book)[-1].as_json()["stp_rate"] == "0.6000"


# --------------------------------------------------------------------------- end to end


@dataclass
class SteppingClock:
    """A clock the test moves on by hand, so every timestamp is known."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


def test_cycle_times_through_the_claim_service(engine: Engine, cipher: FieldCipher) -> None:
    clock = SteppingClock(NOW)
    ids = itertools.count(1)
    policies = PolicyService(
        uow=SqlUnitOfWorkFactory(engine, cipher, clock),
        catalog=CATALOG,
        clock=clock,
        new_id=lambda: f"{next(ids):032x}",
    )
    service = ClaimService(
        SqlClaimsUnitOfWorkFactory(engine, clock), policies, CATALOG, clock, lambda: f"{next(ids)}"
    )
    person = policies.register_person(
        "王建国", resident_id("11010519810415031"), "13812345678", medical_insurance_city="110000"
    )
    insured = (InsuredInput("person", person.party_id),)
    quote = policies.create_quote(QuoteInput("BJ-HMB", person.party_id, date(2026, 1, 1), insured))
    number = policies.issue_policy(quote.quote_id).policy_number
    item = BillItem("HOSP", "住院", "in_list", M("50000"), M("30000"))
    service.report(HealthClaim("E1", number, person.party_id, date(2026, 6, 1), "K35.8", (item,)))
    clock.advance(90)
    decided = service.decide("E1")
    clock.advance(3510)
    paid, _ = service.pay("E1")  # idempotent when the decision already paid straight through
    paid_after = 90 if decided.status is ClaimStatus.PAID else 3600

    portal, overall = claims_metrics(engine)
    assert (portal.product_code, portal.channel) == ("BJ-HMB", "portal")
    assert (overall.reported, overall.decided, overall.paid, overall.open) == (1, 1, 1, 0)
    assert overall.straight_through == (1 if paid.straight_through else 0)
    assert overall.report_to_decision == Percentiles(90, 90, 1)
    assert overall.report_to_payment == Percentiles(paid_after, paid_after, 1)
    assert (overall.claimed_amount, overall.paid_amount, overall.outstanding_reserve) == (
        M("50000"),
        M("1600.00"),
        Money.ZERO,
    )


def test_docstring_examples() -> None:
    result = doctest.testmod(metrics_module)
    assert (result.failed, result.attempted > 0) == (0, True)


@pytest.mark.parametrize(
    ("values", "p50", "p90"),
    [([7], 7, 7), ([1, 2], 1, 2), (list(range(10, 0, -1)), 5, 9), (list(range(1, 12)), 6, 10)],
)
def test_nearest_rank(values: list[int], p50: int, p90: int) -> None:
    assert (nearest_rank(values, 50), nearest_rank(values, 90)) == (p50, p90)
