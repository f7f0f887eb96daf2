"""Insured loss to the fen, totals, warning levels."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from baoxian.radar.exposure import Categories, Exposure, generate_exposure
from baoxian.radar.loss import (
    GROUPINGS,
    SiteLosses,
    WarningLevel,
    WarningThresholds,
    all_totals,
    exact_group_sums,
    ground_up_fen,
    insured_fen,
    site_losses,
    totals,
    warning_levels,
)
from baoxian.radar.vulnerability import EmanuelCurve, TabulatedCurve, VulnerabilitySet
from baoxian.shared.errors import DomainError
from baoxian.shared.money import Money

FLAT = VulnerabilitySet(default=TabulatedCurve((0.0, 100.0), (0.0, 1.0)))  # ratio = wind / 100


def three_sites() -> Exposure:
    """Worked examples: values 1,000,000.00 / 200,000.00 / 50,000,000.00 CNY."""
    one = Categories(np.zeros(3, np.int32), ("x",))
    return Exposure(
        site_id=np.arange(3, dtype=np.int64),
        policy=Categories(np.array([0, 0, 1], np.int32), ("P1", "P2")),
        product=one,
        lat=np.array([22.5, 22.6, 23.1]),
        lon=np.array([114.0, 114.1, 113.3]),
        value_fen=np.array([100_000_000, 20_000_000, 5_000_000_000], np.int64),
        construction=one,
        occupancy=one,
        deductible_fen=np.array([2_000_000, 2_000_000, 2_000_000], np.int64),
        limit_fen=np.array([100_000_000, 20_000_000, 1_000_000_000], np.int64),
        city=Categories(np.array([0, 0, 1], np.int32), ("深圳市", "广州市")),
        province=Categories(np.zeros(3, np.int32), ("广东省",)),
    )


def test_worked_examples_to_the_fen() -> None:
    wind = np.array([12.3456789, 5.0, 40.0])  # ratios 0.123456789, 0.05, 0.40
    losses = site_losses(three_sites(), wind, FLAT)
    # 1,000,000.00 × 0.123456789 = 123,456.789 CNY → 123,456.79; − 20,000 → 103,456.79
    # 200,000.00 × 0.05 = 10,000.00 CNY, below the 20,000 deductible → 0
    # 50,000,000.00 × 0.40 = 20,000,000.00; − 20,000 = 19,980,000.00, limited to 10,000,000.00
    assert losses.ground_up_fen.tolist() == [12_345_679, 1_000_000, 2_000_000_000]
    assert losses.insured_fen.tolist() == [10_345_679, 0, 1_000_000_000]
    assert losses.insured_total == Money.of("10103456.79")
    assert losses.ground_up_total == Money.of("20133456.79")


def test_rounding_is_half_up() -> None:
    values = np.array([3, 5, 7, 1], np.int64)
    ratios = np.array([0.5, 0.5, 0.5, 0.49])
    assert ground_up_fen(values, ratios).tolist() == [2, 3, 4, 0]  # not banker's rounding
    for value, ratio, got in zip(values, ratios, ground_up_fen(values, ratios), strict=True):
        exact = (Decimal(int(value)) * Decimal(str(ratio))).quantize(Decimal(1), ROUND_HALF_UP)
        assert int(exact) == got


@given(st.integers(0, 10**11), st.integers(0, 10**9), st.integers(0, 10**11))
def test_insured_plus_retained_equals_ground_up(gu: int, deductible: int, limit: int) -> None:
    covered = int(insured_fen(np.array([gu]), np.array([deductible]), np.array([limit]))[0])
    retained = min(gu, deductible)
    above_limit = max(gu - deductible - limit, 0)
    assert 0 <= covered <= limit
    assert covered + retained + above_limit == gu


def test_totals_equal_the_sum_of_site_losses() -> None:
    book = generate_exposure(20_000, seed=5, layout="clustered")
    wind = np.random.default_rng(0).uniform(0.0, 80.0, book.size)
    losses = site_losses(book, wind, VulnerabilitySet.property_default())
    assert int(np.count_nonzero(losses.insured_fen)) > 1000
    grand = int(losses.insured_fen.sum())
    for by, table in all_totals(book, losses).items():
        assert int(table["insured_fen"].sum()) == grand, by
        assert int(table["ground_up_fen"].sum()) == int(losses.ground_up_fen.sum())
        assert int(table["value_fen"].sum()) == int(book.value_fen.sum())
        assert int(table["sites"].sum()) == book.size
    by_policy: dict[str, int] = defaultdict(int)
    for label, fen in zip(book.policy.decode().to_list(), losses.insured_fen.tolist(), strict=True):
        by_policy[label] += fen
    table = totals(book, losses, "policy")
    got = dict(zip(table["key"].to_list(), table["insured_fen"].to_list(), strict=True))
    assert got == dict(by_policy)
    assert table["insured_fen"].to_list() == sorted(table["insured_fen"].to_list(), reverse=True)


def test_totals_by_city_of_the_worked_example() -> None:
    losses = site_losses(three_sites(), np.array([12.3456789, 5.0, 40.0]), FLAT)
    table = totals(three_sites(), losses, "city")
    assert table.rows() == [
        ("广州市", 1, 1, 5_000_000_000, 2_000_000_000, 1_000_000_000, 40.0),
        ("深圳市", 2, 1, 120_000_000, 13_345_679, 10_345_679, 12.3456789),
    ]
    assert set(GROUPINGS) == {"policy", "product", "city", "province"}


def test_exact_sums_beyond_float_precision() -> None:
    big = np.array([2**53 - 1, 2**53 - 1, 3, 2**40], np.int64)
    codes = np.array([0, 0, 0, 1], np.int32)
    assert exact_group_sums(codes, big, 3).tolist() == [2**54 + 1, 2**40, 0]


def test_wind_must_match_the_sites() -> None:
    with pytest.raises(DomainError) as raised:
        site_losses(three_sites(), np.zeros(2), FLAT)
    assert raised.value.code == "radar.wind_shape"


def test_emanuel_losses_by_hand() -> None:
    wind = np.array([50.0, 20.0, 80.0])
    losses = site_losses(three_sites(), wind, VulnerabilitySet(default=EmanuelCurve()))
    for value, v, got in zip(three_sites().value_fen, wind, losses.ground_up_fen, strict=True):
        vn = max(v - 25.7, 0) / 49.0
        assert got == int(
            Decimal(float(value) * vn**3 / (1 + vn**3)).quantize(Decimal(1), ROUND_HALF_UP)
        )


# --------------------------------------------------------------------------- warnings


def test_warning_levels_at_the_edges() -> None:
    wind = np.array([0.0, 10.79, 10.8, 17.19, 17.2, 24.49, 24.5, 32.69, 32.7, 70.0])
    expected = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert warning_levels(wind).tolist() == expected
    assert [WarningLevel(c).en for c in expected[::2]] == [
        "none",
        "blue",
        "yellow",
        "orange",
        "red",
    ]
    assert WarningLevel.RED.zh == "红色"


def test_configurable_warning_thresholds() -> None:
    custom = WarningThresholds(blue=5.0, yellow=10.0, orange=15.0, red=20.0)
    assert warning_levels(np.array([4.9, 5.0, 12.0, 19.9, 20.0]), custom).tolist() == [
        0,
        1,
        2,
        3,
        4,
    ]
    with pytest.raises(DomainError) as raised:
        WarningThresholds(blue=20.0, yellow=17.2)
    assert raised.value.code == "radar.warning_thresholds"


def test_site_losses_carry_warnings() -> None:
    losses: SiteLosses = site_losses(three_sites(), np.array([12.3456789, 5.0, 40.0]), FLAT)
    assert losses.warning.tolist() == [WarningLevel.BLUE, WarningLevel.NONE, WarningLevel.RED]
