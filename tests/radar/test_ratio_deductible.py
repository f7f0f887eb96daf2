"""The typhoon deductible "the higher of an amount and a ratio of the loss", to the fen — and the
identity that matters: the radar's insured loss is what the claims engine pays for the same
ground-up loss under the product's own terms."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baoxian.catalog.services import Catalog
from baoxian.claims.model import Accumulators, CoverSnapshot, PropertyClaim, adjudicate
from baoxian.radar.exposure import Categories, Exposure
from baoxian.radar.loss import (
    RatioDeductible,
    deductible_fen,
    insured_fen,
    site_losses,
)
from baoxian.radar.vulnerability import TabulatedCurve, VulnerabilitySet
from baoxian.shared.errors import DomainError
from baoxian.shared.money import Money

TENTH = RatioDeductible.of([Decimal("0.10")])
FIXED = np.array([2_000_000], np.int64)  # 20,000.00 CNY
FLAT = VulnerabilitySet(default=TabulatedCurve((0.0, 100.0), (0.0, 1.0)))  # ratio = wind / 100


def one(gu: int, ratio: RatioDeductible = TENTH, fixed: np.ndarray = FIXED) -> int:
    return int(deductible_fen(np.array([gu], np.int64), fixed, ratio)[0])


def test_worked_examples_to_the_fen() -> None:
    # 1,500,000.00 × 10 % = 150,000.00 > 20,000.00
    assert one(150_000_000) == 15_000_000
    # 150,000.00 × 10 % = 15,000.00 < 20,000.00: the amount applies
    assert one(15_000_000) == 2_000_000
    # 1,234,567.85 × 10 % = 123,456.785 → 123,456.79 (half up)
    assert one(123_456_785) == 12_345_679
    # 1,000,000.01 × 15 % = 150,000.0015 → 150,000.00; 1,000,000.10 × 15 % → 150,000.02 (.015 up)
    fifteen = RatioDeductible.of([Decimal("0.15")])
    assert one(100_000_001, fifteen, np.array([0])) == 15_000_000
    assert one(100_000_010, fifteen, np.array([0])) == 15_000_002
    # no ratio: the fixed amount as before
    assert int(deductible_fen(np.array([150_000_000]), FIXED)[0]) == 2_000_000


def test_site_losses_apply_the_ratio_then_the_limit() -> None:
    one_label = Categories(np.zeros(3, np.int32), ("x",))
    book = Exposure(
        site_id=np.arange(3, dtype=np.int64),
        policy=one_label,
        product=one_label,
        lat=np.array([22.5, 22.6, 22.7]),
        lon=np.array([114.0, 114.1, 114.2]),
        value_fen=np.array([1_000_000_000, 20_000_000, 5_000_000_000], np.int64),
        construction=one_label,
        occupancy=one_label,
        deductible_fen=np.full(3, 2_000_000, np.int64),
        limit_fen=np.array([1_000_000_000, 20_000_000, 300_000_000], np.int64),
        city=one_label,
        province=one_label,
    )
    wind = np.array([15.0, 50.0, 40.0])  # damage ratios 0.15, 0.50, 0.40
    losses = site_losses(
        book, wind, FLAT, deductible_ratio=RatioDeductible.of([Decimal("0.10")] * 3)
    )
    # 10,000,000.00 × 0.15 = 1,500,000.00; deductible 150,000.00 → 1,350,000.00
    # 200,000.00 × 0.50 = 100,000.00; 10 % is 10,000.00 < 20,000.00 → 80,000.00
    # 50,000,000.00 × 0.40 = 20,000,000.00; less 2,000,000.00 = 18,000,000.00 → limit 3,000,000.00
    assert losses.ground_up_fen.tolist() == [150_000_000, 10_000_000, 2_000_000_000]
    assert losses.insured_fen.tolist() == [135_000_000, 8_000_000, 300_000_000]
    assert losses.insured_total == Money.of("4430000.00")
    without = site_losses(book, wind, FLAT)
    assert without.insured_fen.tolist() == [148_000_000, 8_000_000, 300_000_000]


@given(st.integers(0, 10**13), st.integers(0, 10**9), st.integers(1, 10**9))
def test_the_share_is_exact_half_up(gu: int, numerator: int, denominator: int) -> None:
    numerator = min(numerator, denominator)
    ratio = RatioDeductible(np.array([numerator], np.int64), np.array([denominator], np.int64))
    exact = (Decimal(gu) * Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal(1), ROUND_HALF_UP
    )
    assert int(ratio.share_fen(np.array([gu], np.int64))[0]) == int(exact)


@given(
    st.integers(0, 10**11),
    st.integers(0, 10**8),
    st.integers(0, 10**11),
    st.decimals(min_value=0, max_value=1, places=4),
)
def test_deductible_used_never_exceeds_the_loss_or_falls_below_the_amount(
    gu: int, fixed: int, limit: int, share: Decimal
) -> None:
    ground_up = np.array([gu], np.int64)
    deductible = int(deductible_fen(ground_up, np.array([fixed]), RatioDeductible.of([share]))[0])
    covered = int(insured_fen(ground_up, np.array([deductible]), np.array([limit]))[0])
    assert deductible >= fixed
    assert 0 <= covered <= min(limit, gu)
    assert covered == min(max(gu - deductible, 0), limit)


@pytest.mark.parametrize(
    "ratios",
    [[Decimal("1.5")], [Decimal("0.1234567891")], [Decimal("-0.1")]],
)
def test_ratios_outside_0_1_or_too_fine_are_refused(ratios: list[Decimal]) -> None:
    with pytest.raises(DomainError) as raised:
        RatioDeductible.of(ratios)
    assert raised.value.code == "radar.deductible_ratio"


def test_the_ratio_column_must_match_the_sites() -> None:
    one_label = Categories(np.zeros(1, np.int32), ("x",))
    book = Exposure(
        np.arange(1, dtype=np.int64), one_label, one_label, np.array([22.0]), np.array([114.0]),
        np.array([100], np.int64), one_label, one_label, np.array([0], np.int64),
        np.array([100], np.int64), one_label, one_label,
    )  # fmt: skip
    with pytest.raises(DomainError) as raised:
        site_losses(book, np.array([10.0]), FLAT, deductible_ratio=RatioDeductible.none(2))
    assert raised.value.code == "radar.deductible_ratio"


# --------------------------------------------------------------------------- the identity


@settings(max_examples=300)
@given(st.integers(0, 10**12), st.integers(1, 10**11))
def test_radar_insured_loss_equals_what_the_claims_engine_pays(
    catalog: Catalog, gu: int, sum_insured: int
) -> None:
    """PAR-ENT typhoon cover: per claim the higher of 20,000 and 10 % of the loss, within the
    site's sum insured — the radar's vectorised arithmetic and the claims engine agree."""
    plan = catalog.plan_on("PAR-ENT", date(2026, 3, 1))
    terms = plan.coverages["typhoon"].deductible
    assert (terms.per_claim, terms.per_claim_ratio_of_loss) == (Decimal("20000"), Decimal("0.10"))
    cover = CoverSnapshot(
        policy_number="P1",
        unit_key="S1",
        in_force=True,
        term_start=date(2026, 3, 1),
        term_end=date(2027, 3, 1),
        original_inception=date(2026, 3, 1),
        term_no=1,
        sums_insured={"typhoon": Money.from_fen(sum_insured)},
        plan=plan.plan,
    )
    claim = PropertyClaim("C1", "P1", "S1", date(2026, 9, 16), "typhoon", Money.from_fen(gu))
    paid = adjudicate(claim, cover, Accumulators()).payable
    ground_up = np.array([gu], np.int64)
    deductible = deductible_fen(ground_up, np.array([2_000_000]), TENTH)
    radar = insured_fen(ground_up, deductible, np.array([sum_insured], np.int64))
    assert int(radar[0]) == paid.fen
