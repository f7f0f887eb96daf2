"""指数触发 (parametric triggers): the wind index of a typhoon index cover and its tier — pure.

The index of a site is the highest sustained wind anywhere within the cover's radius of it
during the storm (``max_wind_within_radius`` in the product file).  It is measured on sample
points — the site itself and three rings at a third, two thirds and all of the radius with 8,
16 and 24 points (49 points, at most about 8 km apart for a 30 km radius) — each point's
maximum wind over the storm's life from :func:`~baoxian.radar.wind.max_wind`, then the highest
of the site's points.  This is a lower bound of the exact maximum over the disc: a peak
between samples is missed, which can only lower the index, never raise it (a cover never pays
a tier the wind did not reach); ``tests/radar/test_parametric.py`` measures the gap against a
sampling every kilometre on Mangkhut.

The model's wind (1-minute mean) is converted to the cover's averaging period, then rounded
half-up to 0.1 m/s — the figure the customer is told is the figure that decides the tier.

>>> tier_index(np.array([244, 245, 327, 500]), (245, 327, 415)).tolist()
[-1, 0, 1, 2]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from baoxian.catalog.schema import ParametricTrigger
from baoxian.radar.geo import EARTH_RADIUS_KM
from baoxian.radar.tracks import Track, convert_wind_averaging
from baoxian.radar.wind import WindConfig, max_wind
from baoxian.shared.money import Money

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

RINGS: tuple[tuple[float, int], ...] = ((1 / 3, 8), (2 / 3, 16), (1.0, 24))
"""(share of the radius, points) of each sampling ring around the site."""
MODEL_AVERAGING_MIN = 1
DEFAULT_WIND = WindConfig()


@dataclass(frozen=True, slots=True)
class Tier:
    """One tier of a cover: from ``min_tenths`` (0.1 m/s) up, ``ratio`` of the sum insured."""

    zh: str
    en: str
    min_tenths: int
    ratio: Decimal

    @property
    def min_wind_ms(self) -> Decimal:
        return Decimal(self.min_tenths).scaleb(-1)


def tiers_of(trigger: ParametricTrigger) -> tuple[Tier, ...]:
    """The product's tiers, lowest first (the schema guarantees they climb)."""
    return tuple(
        Tier(t.name.zh, t.name.en, int(t.min_wind_ms * 10), t.payout_ratio) for t in trigger.tiers
    )


def disc_points(
    lat: FloatArray, lon: FloatArray, radius_km: float, rings: Sequence[tuple[float, int]] = RINGS
) -> tuple[FloatArray, FloatArray]:
    """Sample points of each site's disc, site after site: the site, then each ring's points
    (on the sphere: the destination at a distance and bearing from the site)."""
    distance = [0.0]
    bearing = [0.0]
    for share, count in rings:
        distance.extend([share * radius_km] * count)
        bearing.extend(2 * math.pi * k / count for k in range(count))
    delta = np.array(distance)[None, :] / EARTH_RADIUS_KM
    theta = np.array(bearing)[None, :]
    phi1 = np.radians(lat)[:, None]
    lambda1 = np.radians(lon)[:, None]
    sin_phi2 = np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(theta)
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lambda2 = lambda1 + np.arctan2(
        np.sin(theta) * np.sin(delta) * np.cos(phi1), np.cos(delta) - np.sin(phi1) * sin_phi2
    )
    lons = (np.degrees(lambda2) + 180.0) % 360.0 - 180.0
    return np.degrees(phi2).reshape(-1), lons.reshape(-1)


def points_per_site(rings: Sequence[tuple[float, int]] = RINGS) -> int:
    return 1 + sum(count for _share, count in rings)


def disc_max_wind(
    track_hourly: Track,
    lat: FloatArray,
    lon: FloatArray,
    radius_km: float,
    config: WindConfig = DEFAULT_WIND,
    rings: Sequence[tuple[float, int]] = RINGS,
) -> FloatArray:
    """Each site's highest model wind (1-min, m/s) at its disc's sample points."""
    if lat.shape[0] == 0:
        return np.zeros(0)
    lats, lons = disc_points(lat, lon, radius_km, rings)
    wind = max_wind(track_hourly, lats, lons, config)
    highest: FloatArray = wind.reshape(lat.shape[0], points_per_site(rings)).max(axis=1)
    return highest


def index_tenths(wind_1min_ms: FloatArray, averaging_min: int) -> IntArray:
    """The index in 0.1 m/s: the model wind converted to the cover's averaging period,
    rounded half-up."""
    wind = convert_wind_averaging(wind_1min_ms, MODEL_AVERAGING_MIN, averaging_min)
    return np.floor(wind * 10.0 + 0.5).astype(np.int64)


def tier_index(tenths: IntArray, thresholds: Sequence[int]) -> IntArray:
    """The highest tier reached by each index (−1: none); a wind equal to a tier reaches it."""
    reached: IntArray = np.searchsorted(np.array(thresholds), tenths, side="right") - 1
    return reached.astype(np.int64)


def payout(sum_insured: Money, tier: Tier) -> Money:
    """The tier's share of the sum insured, rounded half-up to the fen (``Money.times``)."""
    return sum_insured.times(tier.ratio)


__all__ = [
    "RINGS",
    "Tier",
    "disc_max_wind",
    "disc_points",
    "index_tenths",
    "payout",
    "points_per_site",
    "tier_index",
    "tiers_of",
]
