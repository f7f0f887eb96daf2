"""The wind field: Holland profiles by hand, forward motion, cut-off, and the bucket index."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from baoxian.radar.geo import Metric, equirect_km, haversine_km
from baoxian.radar.tracks import Track, interpolate_hourly
from baoxian.radar.wind import (
    Profile,
    WindConfig,
    holland_profile,
    max_wind,
    max_wind_by_time,
    storm_nodes,
    wind_field,
)
from baoxian.shared.errors import DomainError

K = 111_120.0  # metres per degree (equirectangular)
START = datetime(2026, 8, 1, tzinfo=UTC)
RHO = 1.15
OMEGA = 7.29e-5
RMW_KM = 40.0


def moving_north(vmax_ms: float = 50.0, period: int = 1) -> Track:
    """Two hourly fixes 0.1° apart, straight north, pressure falling 950 → 948 hPa."""
    return Track.of(
        storm_id="T",
        name="TEST",
        times=[START, START + timedelta(hours=1)],
        lat=[20.0, 20.1],
        lon=[120.0, 120.0],
        pressure_hpa=[950.0, 948.0],
        vmax_ms=[vmax_ms, vmax_ms],
        wind_avg_period_min=period,
        rmw_km=[RMW_KM, RMW_KM],
    )


EQUIRECT = WindConfig(metric=Metric.EQUIRECT)
LAT = 20.1
TRANS = 0.1 * K / 3600.0  # forward speed, m/s, northward
DP_HPA = 1010.0 - 948.0
DP_PA = DP_HPA * 100.0
F = 2 * OMEGA * math.sin(math.radians(LAT))


def east_of_centre(r_km: float) -> tuple[np.ndarray, np.ndarray]:
    """A site r km due east of the second fix (equirectangular)."""
    dlon = r_km * 1000.0 / (math.cos(math.radians(LAT)) * K)
    return np.array([LAT]), np.array([120.0 + dlon])


def hand_b_2008() -> float:
    x = 0.6 * (1 - DP_HPA / 215)
    b = -4.4e-5 * DP_HPA**2 + 0.01 * DP_HPA + 0.03 * (-2.0) - 0.014 * LAT + 0.15 * TRANS**x + 1
    return float(min(max(b, 0.81), 2.025))


def hand_holland(r_m: float, b: float) -> float:
    """Holland (1980) eq. (4) with Coriolis, written out."""
    x = (RMW_KM * 1000.0 / r_m) ** b
    half_fr = 0.5 * F * r_m
    return math.sqrt(b / RHO * x * DP_PA * math.exp(-x) + half_fr**2) - half_fr


@pytest.mark.parametrize("r_km", [10.0, 40.0, 75.0, 150.0, 290.0])
def test_holland_2008_symmetric_profile_by_hand(r_km: float) -> None:
    config = replace(EQUIRECT, translation=False)
    lats, lons = east_of_centre(r_km)
    got = float(wind_field(moving_north(), 1, lats, lons, config)[0])
    assert 0.81 < hand_b_2008() < 2.025  # not clipped: the formula itself is tested
    assert got == pytest.approx(hand_holland(r_km * 1000.0, hand_b_2008()), rel=0, abs=1e-9)


@pytest.mark.parametrize("r_km", [10.0, 40.0, 150.0])
def test_holland_1980_profile_by_hand(r_km: float) -> None:
    config = replace(EQUIRECT, profile=Profile.HOLLAND_1980, translation=False)
    gradient = (50.0 - TRANS) / 0.9
    b = gradient**2 * math.e * RHO / DP_PA
    assert 1.0 < b < 2.5
    lats, lons = east_of_centre(r_km)
    got = float(wind_field(moving_north(), 1, lats, lons, config)[0])
    assert got == pytest.approx(0.9 * hand_holland(r_km * 1000.0, b), rel=0, abs=1e-9)


def test_holland_1980_uses_one_minute_wind() -> None:
    """A 10-min wind of 46.5 m/s is the 1-min 50 m/s of the test above (factor 0.93)."""
    config = replace(EQUIRECT, profile=Profile.HOLLAND_1980)
    lats, lons = east_of_centre(60.0)
    one = wind_field(moving_north(50.0, period=1), 1, lats, lons, config)
    ten = wind_field(moving_north(46.5, period=10), 1, lats, lons, config)
    assert float(ten[0]) == pytest.approx(float(one[0]), rel=0, abs=1e-9)


@pytest.mark.parametrize("r_km", [20.0, 40.0, 100.0])
def test_forward_motion_by_hand_right_side_stronger(r_km: float) -> None:
    """North-moving storm: east is the right-hand side. For H08 the profile already holds the
    forward speed, which is subtracted and added back as a vector weighted by min(1, Rmax/r)."""
    lat_e, lon_e = east_of_centre(r_km)
    lon_w = np.array([2 * 120.0 - float(lon_e[0])])
    east = float(wind_field(moving_north(), 1, lat_e, lon_e, EQUIRECT)[0])
    west = float(wind_field(moving_north(), 1, lat_e, lon_w, EQUIRECT)[0])
    profile = hand_holland(r_km * 1000.0, hand_b_2008())
    weight = min(1.0, RMW_KM / r_km)
    assert east == pytest.approx(profile, rel=0, abs=1e-9)
    assert west == pytest.approx(abs(profile - 2 * weight * TRANS), rel=0, abs=1e-9)
    assert east > west


def test_forward_motion_holland_1980_adds_and_subtracts() -> None:
    config = replace(EQUIRECT, profile=Profile.HOLLAND_1980)
    lat_e, lon_e = east_of_centre(40.0)
    lon_w = np.array([2 * 120.0 - float(lon_e[0])])
    east = float(wind_field(moving_north(), 1, lat_e, lon_e, config)[0])
    west = float(wind_field(moving_north(), 1, lat_e, lon_w, config)[0])
    symmetric = float(
        wind_field(moving_north(), 1, lat_e, lon_e, replace(config, translation=False))[0]
    )
    assert east == pytest.approx(symmetric + TRANS, rel=0, abs=1e-9)
    assert west == pytest.approx(symmetric - TRANS, rel=0, abs=1e-9)


def test_southern_hemisphere_left_side_is_stronger() -> None:
    south = Track.of(
        storm_id="S",
        name="SOUTH",
        times=[START, START + timedelta(hours=1)],
        lat=[-20.0, -20.1],  # moving south, away from the equator
        lon=[150.0, 150.0],
        pressure_hpa=[950.0, 948.0],
        vmax_ms=[50.0, 50.0],
        wind_avg_period_min=1,
        rmw_km=[RMW_KM, RMW_KM],
    )
    lats = np.array([-20.1, -20.1])
    lons = np.array([150.5, 149.5])  # east (left of a south-moving storm), west (right)
    east, west = wind_field(south, 1, lats, lons, EQUIRECT)
    assert east > west  # in the southern hemisphere the left-hand side is the strong one


def test_maximum_is_near_the_radius_of_maximum_wind() -> None:
    config = replace(EQUIRECT, translation=False)
    radii = np.arange(1.0, 300.0, 0.5)
    dlon = radii * 1000.0 / (math.cos(math.radians(LAT)) * K)
    wind = wind_field(moving_north(), 1, np.full(radii.size, LAT), 120.0 + dlon, config)
    peak = float(radii[int(np.argmax(wind))])
    assert abs(peak - RMW_KM) <= 0.05 * RMW_KM
    assert wind[radii < 20].max() < wind.max() and wind[radii > 80].max() < wind.max()


def test_cut_off_gives_zero_beyond_it() -> None:
    lats = np.array([LAT, LAT, LAT])
    lons = np.array([east_of_centre(r)[1][0] for r in (299.0, 301.0, 250.0)])
    near, far, mid = wind_field(moving_north(), 1, lats, lons, EQUIRECT)
    assert near > 0 and far == 0 and mid > 0
    assert wind_field(moving_north(), 1, lats, lons, replace(EQUIRECT, cutoff_km=200.0))[2] == 0
    assert max_wind(moving_north(), lats, lons, EQUIRECT)[1] == 0


def test_haversine_metric_uses_great_circle_distance() -> None:
    config = WindConfig(metric=Metric.HAVERSINE, translation=False)
    lats, lons = np.array([21.0]), np.array([120.7])
    r_km = float(haversine_km(np.array(LAT), np.array(120.0), lats, lons)[0])
    assert r_km != pytest.approx(float(equirect_km(np.array(LAT), np.array(120.0), lats, lons)[0]))
    got = float(wind_field(moving_north(), 1, lats, lons, config)[0])
    assert got == pytest.approx(hand_holland(r_km * 1000.0, hand_b_2008()), rel=0, abs=1e-9)


def test_storm_parameters_by_hand() -> None:
    nodes = storm_nodes(moving_north(), EQUIRECT)
    assert nodes.trans_v[1] == pytest.approx(TRANS, abs=1e-12)
    assert nodes.trans_u[1] == 0.0
    assert nodes.b[1] == pytest.approx(hand_b_2008(), abs=1e-12)
    assert nodes.rmax_m[1] == RMW_KM * 1000.0
    assert nodes.coriolis[1] == pytest.approx(F, abs=1e-18)
    assert bool(nodes.active.all())
    climada = storm_nodes(moving_north(), WindConfig.climada())
    assert not climada.active[0] and climada.trans_speed[0] == 0.0


def test_forward_speed_is_capped_at_30_knots() -> None:
    fast = Track.of(
        storm_id="F",
        name="FAST",
        times=[START, START + timedelta(hours=1)],
        lat=[20.0, 21.0],  # 111 km in an hour
        lon=[120.0, 120.0],
        pressure_hpa=[950.0, 950.0],
        vmax_ms=[50.0, 50.0],
        wind_avg_period_min=1,
    )
    nodes = storm_nodes(fast, EQUIRECT)
    assert nodes.trans_speed[1] == pytest.approx(30 * 1852 / 3600, abs=1e-12)


# --------------------------------------------------------------------------- bucket index


def brute_force(track: Track, lats: np.ndarray, lons: np.ndarray, config: WindConfig) -> np.ndarray:
    """Every node against every site, no index."""
    best = np.zeros(lats.size)
    for node in range(track.size):
        best = np.maximum(best, wind_field(track, node, lats, lons, config))
    best[best < config.min_wind_ms] = 0.0
    return best


@pytest.mark.parametrize(
    "config",
    [
        WindConfig(),
        WindConfig.climada(),
        WindConfig(metric=Metric.HAVERSINE, profile=Profile.HOLLAND_1980, cell_deg=0.37, chunk=999),
        WindConfig(metric=Metric.EQUIRECT, cutoff_km=120.0, cell_deg=1.0),
    ],
    ids=["native", "climada", "h1980-odd-buckets", "short-cutoff"],
)
def test_index_equals_brute_force_exactly(mangkhut: Track, config: WindConfig) -> None:
    hourly = interpolate_hourly(mangkhut)
    rng = np.random.default_rng(5)
    lats = rng.uniform(12.0, 27.0, 3000)
    lons = rng.uniform(105.0, 135.0, 3000)
    fast = max_wind(hourly, lats, lons, config)
    assert np.count_nonzero(fast) > 300
    assert np.array_equal(fast, brute_force(hourly, lats, lons, config))


@pytest.mark.parametrize("metric", [Metric.EQUIRECT, Metric.HAVERSINE])
def test_index_across_the_antimeridian(metric: Metric) -> None:
    crossing = Track.of(
        storm_id="X",
        name="DATELINE",
        times=[START + timedelta(hours=6 * k) for k in range(4)],
        lat=[15.0, 16.0, 17.0, 18.0],
        lon=[177.0, 179.5, -178.0, -175.5],
        pressure_hpa=[960.0, 955.0, 950.0, 955.0],
        vmax_ms=[40.0] * 4,
        wind_avg_period_min=1,
    )
    hourly = interpolate_hourly(crossing)
    rng = np.random.default_rng(9)
    lats = rng.uniform(12.0, 21.0, 2000)
    lons = rng.uniform(174.0, 187.0, 2000)
    lons = np.where(lons >= 180.0, lons - 360.0, lons)
    config = WindConfig(metric=metric)
    fast = max_wind(hourly, lats, lons, config)
    assert np.count_nonzero(fast[lons < 0]) > 100 and np.count_nonzero(fast[lons > 0]) > 100
    assert np.array_equal(fast, brute_force(hourly, lats, lons, config))
    shifted = max_wind(hourly, lats, np.where(lons < 0, lons + 360.0, lons), config)
    assert np.array_equal(shifted, fast)  # 0–360 longitudes are the same places


def test_no_sites_and_far_sites() -> None:
    empty = np.zeros(0)
    assert max_wind(moving_north(), empty, empty).shape == (0,)
    assert max_wind(moving_north(), np.array([-40.0]), np.array([10.0])).tolist() == [0.0]


def test_bad_site_arrays() -> None:
    with pytest.raises(DomainError) as raised:
        max_wind(moving_north(), np.array([20.0, 21.0]), np.array([120.0]))
    assert raised.value.code == "radar.sites_shape"
    with pytest.raises(DomainError) as out_of_range:
        max_wind(moving_north(), np.array([95.0]), np.array([120.0]))
    assert out_of_range.value.code == "radar.sites_range"


@pytest.mark.parametrize(
    "bad",
    [
        {"cutoff_km": 0.0},
        {"chunk": 0},
        {"rho_air": -1.0},
        {"gradient_to_surface": 1.2},
        {"min_wind_ms": -1.0},
    ],
)
def test_bad_config(bad: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as raised:
        replace(WindConfig(), **bad)
    assert raised.value.code == "radar.wind_config"


def test_profile_function_is_the_kernel_profile() -> None:
    radii_km = np.array([5.0, 40.0, 120.0])
    b = hand_b_2008()
    direct = holland_profile(radii_km * 1000.0, RMW_KM * 1000.0, b, DP_PA, RHO, F)
    by_hand = [hand_holland(r * 1000.0, b) for r in radii_km]
    assert np.allclose(direct, by_hand, rtol=0, atol=1e-9)
    dlon = radii_km * 1000.0 / (math.cos(math.radians(LAT)) * K)
    config = replace(EQUIRECT, translation=False)
    field = wind_field(moving_north(), 1, np.full(3, LAT), 120.0 + dlon, config)
    assert np.allclose(field, direct, rtol=0, atol=1e-9)


# --------------------------------------------------------------------------- forecasts


def test_max_wind_by_time_is_a_running_maximum(mangkhut: Track) -> None:
    hourly = interpolate_hourly(mangkhut)
    rng = np.random.default_rng(3)
    lats, lons = rng.uniform(18.0, 25.0, 500), rng.uniform(108.0, 120.0, 500)
    times = [
        datetime(2018, 9, 16, 12, tzinfo=UTC),
        datetime(2018, 9, 1, tzinfo=UTC),  # before the storm
        datetime(2018, 9, 15, tzinfo=UTC),
        datetime(2018, 9, 30, tzinfo=UTC),  # after it
    ]
    rows = max_wind_by_time(hourly, lats, lons, times)
    assert rows.shape == (4, 500)
    assert not rows[1].any()
    assert bool(np.all(rows[2] <= rows[0])) and bool(np.all(rows[0] <= rows[3]))
    assert np.array_equal(rows[3], max_wind(hourly, lats, lons))
    until = hourly.times <= np.datetime64("2018-09-16T12:00:00")
    columns = ("times", "lat", "lon", "pressure_hpa", "vmax_ms", "rmw_km", "env_pressure_hpa")
    truncated = replace(hourly, **{name: getattr(hourly, name)[until] for name in columns})
    assert np.array_equal(rows[0], max_wind(truncated, lats, lons))


def test_forecast_times_need_a_zone(mangkhut: Track) -> None:
    with pytest.raises(DomainError) as raised:
        max_wind_by_time(mangkhut, np.array([20.0]), np.array([115.0]), [datetime(2018, 9, 16)])
    assert raised.value.code == "radar.naive_time"
