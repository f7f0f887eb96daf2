"""The wind index of a typhoon index cover: sample points, tiers at their edges, the averaging
conversion and rounding, and how far the 49-point disc maximum is from a dense sampling."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from baoxian.catalog.services import Catalog
from baoxian.radar.geo import haversine_km
from baoxian.radar.parametric import (
    RINGS,
    Tier,
    disc_max_wind,
    disc_points,
    index_tenths,
    payout,
    points_per_site,
    tier_index,
    tiers_of,
)
from baoxian.radar.tracks import Track, interpolate_hourly, wind_ratio_to_10min
from baoxian.radar.wind import max_wind
from baoxian.shared.money import Money


def test_sample_points_lie_on_their_rings() -> None:
    lat, lon = np.array([22.27, 45.0]), np.array([113.58, 179.9])
    lats, lons = disc_points(lat, lon, 30.0)
    assert points_per_site() == 49 and lats.shape == (98,)
    per_site = lats.reshape(2, 49), lons.reshape(2, 49)
    expected = np.concatenate([[0.0], *[[share * 30.0] * count for share, count in RINGS]])
    for site in range(2):
        distance = haversine_km(
            np.full(49, lat[site]), np.full(49, lon[site]), per_site[0][site], per_site[1][site]
        )
        assert np.allclose(distance, expected, atol=1e-6)
    assert bool(np.all(np.abs(lons) <= 180.0))  # points east of 180° wrap to the west


def test_the_index_tiers_of_the_product(catalog: Catalog) -> None:
    trigger = catalog.plan_on("TY-INDEX", date(2026, 3, 1)).coverages["typhoon_index"].parametric
    assert trigger is not None
    tiers = tiers_of(trigger)
    assert [(t.min_tenths, t.ratio) for t in tiers] == [
        (245, Decimal("0.20")),
        (327, Decimal("0.50")),
        (415, Decimal("1")),
    ]
    edges = [t.min_tenths for t in tiers]
    tenths = np.array([0, 244, 245, 326, 327, 414, 415, 700])
    assert tier_index(tenths, edges).tolist() == [-1, -1, 0, 0, 1, 1, 2, 2]
    sum_insured = Money.of("30000")
    assert [payout(sum_insured, t) for t in tiers] == [
        Money.of("6000.00"),
        Money.of("15000.00"),
        Money.of("30000.00"),
    ]
    assert payout(Money.of("33333.33"), tiers[0]) == Money.of("6666.67")  # 6,666.666 half up


def test_the_index_is_converted_to_two_minutes_and_rounded_half_up() -> None:
    two_minutes = wind_ratio_to_10min(2) / wind_ratio_to_10min(1)
    assert round(two_minutes, 5) == 0.97893  # a 2-minute mean is about 2 % below a 1-minute one
    model = np.array([25.0, 25.0 / two_minutes, 24.94 / two_minutes, 24.96 / two_minutes])
    # 25.0 × 0.97893 = 24.473 → 24.5; exactly 25.0; 24.94 → 24.9; 24.96 → 25.0
    assert index_tenths(model, 2).tolist() == [245, 250, 249, 250]
    assert index_tenths(np.array([24.449, 24.451]), 1).tolist() == [244, 245]


def test_the_disc_maximum_is_within_a_third_of_a_metre_per_second_of_dense_sampling(
    mangkhut: Track,
) -> None:
    """200 points of the Pearl River Delta under Mangkhut: 49 samples against 2,908 (rings every
    kilometre, points about a kilometre apart).  The disc maximum is never below the wind at
    the site itself."""
    hourly = interpolate_hourly(mangkhut)
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(21.0, 23.5, 200), rng.uniform(111.0, 115.0, 200)
    coarse = disc_max_wind(hourly, lat, lon, 30.0)
    dense_rings = [(k / 30, max(8, int(2 * np.pi * k))) for k in range(1, 31)]
    dense = disc_max_wind(hourly, lat, lon, 30.0, rings=dense_rings)
    assert float((dense - coarse).max()) < 0.35
    assert float(np.abs(dense - coarse).mean()) < 0.1
    assert bool(np.all(coarse >= max_wind(hourly, lat, lon)))
    assert float((coarse - max_wind(hourly, lat, lon)).max()) > 5.0  # the radius matters


def test_no_sites_no_work(mangkhut: Track) -> None:
    assert disc_max_wind(interpolate_hourly(mangkhut), np.zeros(0), np.zeros(0), 30.0).shape == (0,)


@pytest.mark.parametrize(("tenths", "text"), [(245, "24.5"), (415, "41.5")])
def test_a_tier_shows_its_wind(tenths: int, text: str) -> None:
    assert str(Tier("档", "tier", tenths, Decimal("0.2")).min_wind_ms) == text
