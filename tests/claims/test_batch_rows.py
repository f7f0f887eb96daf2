"""The batch's fast paths say exactly what the slower shared code says: the claim as stored
(``to_json(claim_json(...))``), money built from fen, the payout-ratio rounding of
``Money.times``, and chunks that keep every insured whole and in report order."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from baoxian.claims.batch import _Book, _chunks, _claim_data, _json_text
from baoxian.claims.model import (
    BillItem,
    Claim,
    HealthClaim,
    PropertyClaim,
    _money,
    _times,
    claimed_amount,
)
from baoxian.claims.repository import claim_json
from baoxian.shared.money import Money, total
from baoxian.store.tables import to_json

M = Money.of


def health(*items: BillItem, discharge: date | None = date(2026, 6, 5)) -> HealthClaim:
    return HealthClaim(
        "C1",
        "P1",
        "u1",
        date(2026, 6, 1),
        "K35.8",
        items,
        accident=True,
        provider="H1",
        invoice_no="INV-1",
        discharge_date=discharge,
        channel="api",
    )


def test_claim_data_is_what_the_repository_stores() -> None:
    claims: list[Claim] = [
        health(
            BillItem("HOSP", "住院", "in_list", M("50000.10"), M("30000")),
            BillItem("L01", "特药", "special_drug", M("1"), designated_provider=False),
        ),
        health(BillItem("OUT", "目录外", "out_of_list", M("0")), discharge=None),
        PropertyClaim("C2", "P2", "SZ-01", date(2026, 9, 16), "flood", M("3000000"), M("15")),
    ]
    for claim in claims:
        expected = to_json(claim_json(claim))
        assert _claim_data(claim) == expected
        assert json.loads(_json_text(_claim_data(claim))) == expected


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_money_from_fen_is_money(fen: int) -> None:
    built = _money(fen)
    assert built == Money.from_fen(fen)
    assert repr(built) == repr(Money.from_fen(fen)) and built.currency == "CNY"


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.decimals(min_value=0, max_value=1, places=4, allow_nan=False),
)
def test_ratio_rounds_as_money_times(fen: int, ratio: Decimal) -> None:
    assert _times(fen, ratio.as_integer_ratio()) == Money.from_fen(fen).times(ratio).fen


@given(st.lists(st.integers(min_value=0, max_value=10**10), max_size=4))
def test_claimed_amount_is_the_bill_total(amounts: list[int]) -> None:
    items = tuple(
        BillItem(f"I{n}", "x", "in_list", Money.from_fen(a)) for n, a in enumerate(amounts)
    )
    claimed = claimed_amount(health(*items))
    expected = total([item.amount for item in items])
    assert claimed == expected and repr(claimed) == repr(expected)


def test_chunks_keep_insureds_whole_and_in_report_order() -> None:
    book = _Book(batch=[])
    book.insured_claims = {("P", "a"): [0, 3, 7], ("P", "b"): [1, 2], ("P", "c"): [4, 5, 6, 8]}
    chunks = _chunks(book, 4)
    assert chunks == [[0, 1, 2, 3, 7], [4, 5, 6, 8]]
    assert sorted(i for chunk in chunks for i in chunk) == list(range(9))
