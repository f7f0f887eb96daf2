"""Typhoon wind at sites (风场): parametric Holland profiles with the storm's forward motion.

Wind speeds are **1-minute sustained winds at 10 m** in m/s, the convention of the Holland
(2008) surface b-parameter and of CLIMADA's ``TropCyclone``. For every hourly track position
(node) the symmetric wind at distance ``r`` from the centre is the Holland (1980) gradient-wind
profile

    V(r) = √( b/ρ · (Rmax/r)^b · Δp · exp(−(Rmax/r)^b) + (r·f/2)² ) − r·f/2

(Holland, G.J. 1980: An analytic model of the wind and pressure profiles in hurricanes.
Mon. Wea. Rev. 108, 1212–1218), with Δp = p_env − p_c (Pa), ρ = 1.15 kg/m³, f the Coriolis
parameter and ``b`` either

* **Holland 2008** (default): the surface value from pressure alone, eq. (11) of Holland, G.
  2008: A revised hurricane pressure–wind model. Mon. Wea. Rev. 136, 3432–3445:
  ``b_s = −4.4e-5 Δp² + 0.01 Δp + 0.03 ∂p_c/∂t − 0.014 |φ| + 0.15 v_t^x + 1``,
  ``x = 0.6 (1 − Δp/215)`` (Δp in hPa, ∂p_c/∂t in hPa/h, v_t in m/s), clipped to
  [0.9², 2.5 × 0.9²]; the forward speed, already inside b_s, is subtracted from the profile
  before the motion vector is added (as in CLIMADA);
* **Holland 1980**: ``B = ρ e v_g² / Δp`` clipped to [1, 2.5] from the gradient-level maximum
  wind ``v_g = max(0, v_max − v_t) / 0.9``; the profile is then reduced to the surface by 0.9.

Forward motion (asymmetry): the translation vector ``v_t`` (backward difference between hourly
nodes, at most 30 kn) is added to the rotating wind, weighted by ``min(1, Rmax/r)`` (Mouton &
Nordbeck 2005, as in CLIMADA), so the right-hand side of the track is stronger in the northern
hemisphere. Sites farther than the cut-off (default 300 km) from the centre get no wind from
that node. Each site's result is its maximum over the storm's life.

Speed: sites are bucketed once (:mod:`baoxian.radar._index`); each node touches only the
sites inside its cut-off window, in bounded chunks, in float64.

``WindConfig.climada()`` is the same-physics mode used to compare with CLIMADA's
``TropCyclone.from_tracks`` (H08, equirectangular distance with 111.12 km/degree, 300 km
cut-off, backward differences with a calm first node, winds below 17.5 m/s stored as 0).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Self

import numpy as np
from numpy.typing import NDArray

from baoxian.radar._index import HalfWidth, SiteIndex
from baoxian.radar.geo import EARTH_RADIUS_KM, KM_PER_DEGREE, Metric, wrap_delta_lon
from baoxian.radar.tracks import Track, estimate_rmw_km, one_minute_wind
from baoxian.shared.errors import ValidationFailed

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

RHO_AIR = 1.15  # kg/m³, Holland (1980)
GRADIENT_TO_SURFACE = 0.9  # Franklin, Black & Valde (2003) "90 % rule"
EARTH_ROTATION = 7.29e-5  # rad/s
KNOT_MS = 1852.0 / 3600.0
MAX_TRANSLATION_MS = 30.0 * KNOT_MS
_PA_PER_HPA = 100.0
_SECONDS_PER_HOUR = 3600.0
_LOWEST_PLAUSIBLE_PA = 850.0 * _PA_PER_HPA
_MIN_DISTANCE_M = 1.0  # at the very centre the wind is taken as calm (as in CLIMADA)


class Profile(StrEnum):
    """The parametric wind profile."""

    HOLLAND_1980 = "holland1980"
    HOLLAND_2008 = "holland2008"


@dataclass(frozen=True, slots=True)
class WindConfig:
    """How the wind field is computed; the defaults are the project's own model."""

    profile: Profile = Profile.HOLLAND_2008
    metric: Metric = Metric.HAVERSINE
    cutoff_km: float = 300.0
    km_per_degree: float = KM_PER_DEGREE
    earth_radius_km: float = EARTH_RADIUS_KM
    rho_air: float = RHO_AIR
    gradient_to_surface: float = GRADIENT_TO_SURFACE
    coriolis: bool = True
    translation: bool = True
    max_translation_ms: float = MAX_TRANSLATION_MS
    calm_first_node: bool = False  # CLIMADA: True (backward differences undefined there)
    min_wind_ms: float = 0.0  # winds below are reported as 0 (CLIMADA: 17.5)
    cell_deg: float = 0.1  # smallest cell of the site index (grown to ≤ 65,535 cells)
    chunk: int = 1 << 16  # sites per vector step (bounds memory; fits the cache)

    def __post_init__(self) -> None:
        if not (0 < self.cutoff_km <= 2000):
            raise ValidationFailed(
                "radar.wind_config",
                f"截断距离须在 0–2000 公里之间：{self.cutoff_km}",
                f"The cut-off distance must lie in (0, 2000] km: {self.cutoff_km}",
            )
        positive = (self.km_per_degree, self.earth_radius_km, self.rho_air, self.cell_deg)
        if self.chunk < 1 or min(positive) <= 0 or not (0 < self.gradient_to_surface <= 1):
            raise ValidationFailed(
                "radar.wind_config",
                "风场参数无效：长度、密度、网格与分块须为正，梯度风折减系数须在 (0, 1] 内",
                "Invalid wind settings: lengths, density, cell and chunk must be positive and "
                "the gradient-to-surface factor must lie in (0, 1]",
            )
        if self.min_wind_ms < 0 or self.max_translation_ms < 0:
            raise ValidationFailed(
                "radar.wind_config",
                "风速阈值与移速上限不能为负",
                "The wind threshold and the forward-speed cap must not be negative",
            )

    @classmethod
    def climada(cls) -> Self:
        """CLIMADA ``TropCyclone.from_tracks`` defaults: H08, equirect 111.12 km/°, 300 km,
        calm first node, 17.5 m/s storage threshold."""
        return cls(
            profile=Profile.HOLLAND_2008,
            metric=Metric.EQUIRECT,
            cutoff_km=300.0,
            km_per_degree=KM_PER_DEGREE,
            calm_first_node=True,
            min_wind_ms=17.5,
        )


# ---------------------------------------------------------------------------------------------
# Formulas (scalar or array)
# ---------------------------------------------------------------------------------------------


def coriolis_parameter(lat: FloatArray) -> FloatArray:
    """f = 2 Ω sin|φ| (1/s), Ω = 7.29e-5 rad/s."""
    return 2.0 * EARTH_ROTATION * np.sin(np.radians(np.abs(lat)))


def holland_b_2008(
    pdelta_hpa: FloatArray,
    dp_dt_hpa_per_h: FloatArray,
    lat: FloatArray,
    translation_ms: FloatArray,
    gradient_to_surface: float = GRADIENT_TO_SURFACE,
) -> FloatArray:
    """Holland (2008) eq. (11) surface b_s, clipped to [g², 2.5 g²] (g = 0.9, as CLIMADA)."""
    exponent = 0.6 * (1.0 - pdelta_hpa / 215.0)
    with np.errstate(divide="ignore"):
        b = (
            -4.4e-5 * pdelta_hpa**2
            + 0.01 * pdelta_hpa
            + 0.03 * dp_dt_hpa_per_h
            - 0.014 * np.abs(lat)
            + 0.15 * translation_ms**exponent
            + 1.0
        )
    g2 = gradient_to_surface**2
    return np.clip(b, g2, 2.5 * g2)


def holland_b_1980(gradient_wind_ms: FloatArray, pdelta_pa: FloatArray, rho: float) -> FloatArray:
    """Holland (1980) B = ρ e v_g² / Δp from eqs. (5)–(6) at r = Rmax, clipped to [1, 2.5]."""
    return np.clip(gradient_wind_ms**2 * math.e * rho / pdelta_pa, 1.0, 2.5)


def holland_profile(
    r_m: FloatArray,
    rmax_m: float,
    b: float,
    pdelta_pa: float,
    rho: float,
    coriolis: float,
) -> FloatArray:
    """Holland (1980) eq. (4) with Coriolis: the symmetric wind (m/s) at distance r (m)."""
    x = (rmax_m / np.maximum(r_m, _MIN_DISTANCE_M)) ** b
    half_fr = 0.5 * coriolis * r_m
    return np.sqrt(b / rho * x * pdelta_pa * np.exp(-x) + half_fr * half_fr) - half_fr


# ---------------------------------------------------------------------------------------------
# Per-node storm parameters
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class StormNodes:
    """Everything the wind kernel needs at each hourly node (arrays over nodes, SI units)."""

    seconds: IntArray
    lat: FloatArray
    lon: FloatArray
    rmax_m: FloatArray
    pdelta_pa: FloatArray
    b: FloatArray
    coriolis: FloatArray
    trans_v: FloatArray  # northward component of the forward motion, m/s
    trans_u: FloatArray  # eastward component, m/s
    trans_speed: FloatArray
    profile_scale: float  # 0.9 for Holland 1980 (gradient → surface), 1 for Holland 2008
    latsign: float
    active: NDArray[np.bool_]  # False: the node contributes no wind

    @property
    def size(self) -> int:
        return int(self.seconds.shape[0])


def storm_nodes(track: Track, config: WindConfig = WindConfig()) -> StormNodes:
    """Per-node parameters of an hourly track: Δp, Rmax, b, Coriolis and forward motion."""
    n = track.size
    seconds = track.seconds()
    env_pa = track.env_pressure_hpa * _PA_PER_HPA
    cen_pa = np.minimum(track.pressure_hpa * _PA_PER_HPA, env_pa)
    pdelta_pa = np.fmax(np.spacing(1.0), env_pa - cen_pa)
    rmax_m = 1000.0 * np.where(
        track.rmw_km > 0, track.rmw_km, estimate_rmw_km(cen_pa / _PA_PER_HPA)
    )
    dt = _time_steps(seconds, config.calm_first_node)
    trans_v, trans_u, trans_speed = _translation(track, dt, config)
    dp_dt = _pressure_tendency(cen_pa, dt, config.calm_first_node)
    if config.profile is Profile.HOLLAND_2008:
        b = holland_b_2008(
            pdelta_pa / _PA_PER_HPA, dp_dt, track.lat, trans_speed, config.gradient_to_surface
        )
        scale = 1.0
    else:
        vmax = one_minute_wind(track)
        gradient = np.fmax(0.0, vmax - trans_speed) / config.gradient_to_surface
        b = holland_b_1980(gradient, pdelta_pa, config.rho_air)
        scale = config.gradient_to_surface
    active = np.isfinite(b) & np.isfinite(rmax_m) & np.isfinite(pdelta_pa)
    if config.calm_first_node and n > 0:
        active[0] = False
    coriolis = coriolis_parameter(track.lat) if config.coriolis else np.zeros(n)
    return StormNodes(
        seconds=seconds,
        lat=track.lat,
        lon=track.lon,
        rmax_m=rmax_m,
        pdelta_pa=pdelta_pa,
        b=b,
        coriolis=coriolis,
        trans_v=trans_v,
        trans_u=trans_u,
        trans_speed=trans_speed,
        profile_scale=scale,
        latsign=-1.0 if np.count_nonzero(track.lat < 0) > np.count_nonzero(track.lat > 0) else 1.0,
        active=active,
    )


def _time_steps(seconds: IntArray, calm_first_node: bool) -> FloatArray:
    """Seconds since the previous node; the first node uses the next step (or 1 h)."""
    dt = np.empty(seconds.shape[0])
    dt[1:] = np.diff(seconds)
    dt[0] = dt[1] if seconds.shape[0] > 1 and not calm_first_node else _SECONDS_PER_HOUR
    return dt


def _translation(
    track: Track, dt: FloatArray, config: WindConfig
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Forward-motion vector (backward differences, equirectangular, capped at 30 kn)."""
    n = track.size
    k_m = config.km_per_degree * 1000.0
    v = np.zeros(n)
    u = np.zeros(n)
    if n > 1:
        v[1:] = (track.lat[1:] - track.lat[:-1]) * k_m / dt[1:]
        dlon = wrap_delta_lon(track.lon[1:] - track.lon[:-1])
        u[1:] = dlon * np.cos(np.radians(track.lat[:-1])) * k_m / dt[1:]
        if not config.calm_first_node:
            v[0], u[0] = v[1], u[1]
    speed = np.sqrt(v * v + u * u)
    over = speed > config.max_translation_ms
    factor = config.max_translation_ms / speed[over]
    v[over] *= factor
    u[over] *= factor
    speed[over] *= factor
    return v, u, speed


def _pressure_tendency(cen_pa: FloatArray, dt: FloatArray, calm_first_node: bool) -> FloatArray:
    """∂p_c/∂t in hPa/h by backward differences; 0 where the previous pressure is implausible
    (< 850 hPa or missing), as CLIMADA; the first node uses the forward difference unless calm."""
    previous = np.zeros_like(cen_pa)
    previous[1:] = cen_pa[:-1]
    if not calm_first_node and cen_pa.shape[0] > 1:
        previous[0] = cen_pa[0] - (cen_pa[1] - cen_pa[0])
    implausible = ~(previous >= _LOWEST_PLAUSIBLE_PA)
    previous[implausible] = cen_pa[implausible]
    return (cen_pa - previous) / dt * (_SECONDS_PER_HOUR / _PA_PER_HPA)


# ---------------------------------------------------------------------------------------------
# The kernel: wind of one node at a set of sites
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Node:
    """Scalars of one node, pre-multiplied for the kernel."""

    lat: float
    lon: float
    cos_k: float  # cos(lat) × metres per degree
    cos_lat: float
    rmax: float
    b: float
    amplitude: float  # b / ρ × Δp (m²/s²)
    half_f: float
    scale: float
    subtract: float  # forward speed removed from the profile (Holland 2008 only)
    trans_v: float
    trans_u: float
    latsign: float


def _node(nodes: StormNodes, i: int, config: WindConfig) -> _Node:
    k_m = config.km_per_degree * 1000.0
    lat = float(nodes.lat[i])
    translating = config.translation
    holland_2008 = config.profile is Profile.HOLLAND_2008
    return _Node(
        lat=lat,
        lon=float(nodes.lon[i]) - 360.0 * (float(nodes.lon[i]) >= 180.0),
        cos_k=math.cos(math.radians(lat)) * k_m,
        cos_lat=math.cos(math.radians(lat)),
        rmax=float(nodes.rmax_m[i]),
        b=float(nodes.b[i]),
        amplitude=float(nodes.b[i]) / config.rho_air * float(nodes.pdelta_pa[i]),
        half_f=0.5 * float(nodes.coriolis[i]),
        scale=nodes.profile_scale,
        subtract=float(nodes.trans_speed[i]) if translating and holland_2008 else 0.0,
        trans_v=float(nodes.trans_v[i]) if translating else 0.0,
        trans_u=float(nodes.trans_u[i]) if translating else 0.0,
        latsign=nodes.latsign,
    )


def _node_wind(
    node: _Node,
    lat: FloatArray,
    lon: FloatArray,
    cos_site: FloatArray | None,
    config: WindConfig,
    wrap: bool,
) -> FloatArray:
    """Wind speed (m/s) of one node at the given sites; 0 beyond the cut-off."""
    k_m = config.km_per_degree * 1000.0
    dlon = lon - node.lon
    if wrap:
        dlon = wrap_delta_lon(dlon)
    dy = (lat - node.lat) * k_m
    dx = dlon * node.cos_k
    norm = np.sqrt(dx * dx + dy * dy)
    if config.metric is Metric.EQUIRECT:
        d = norm
    else:
        d = _haversine_m(node, lat, dlon, cos_site, config.earth_radius_km)
    inside = (d <= config.cutoff_km * 1000.0) & (d > _MIN_DISTANCE_M)
    dd = np.maximum(d, _MIN_DISTANCE_M)
    ratio = node.rmax / dd
    x = ratio**node.b
    half_fr = node.half_f * d
    speed = np.sqrt(node.amplitude * x * np.exp(-x) + half_fr * half_fr) - half_fr
    if node.scale != 1.0:
        speed *= node.scale
    weight = np.minimum(ratio, 1.0)
    if node.subtract != 0.0:
        speed -= node.subtract * weight
    unit = node.latsign / np.maximum(norm, _MIN_DISTANCE_M)
    east = dx * unit
    north = dy * unit
    wind_v = east * speed + weight * node.trans_v
    wind_u = weight * node.trans_u - north * speed
    wind = np.sqrt(wind_v * wind_v + wind_u * wind_u)
    wind[~inside] = 0.0
    return wind


def _haversine_m(
    node: _Node, lat: FloatArray, dlon: FloatArray, cos_site: FloatArray | None, radius_km: float
) -> FloatArray:
    half_dphi = np.radians(lat - node.lat) * 0.5
    half_dlambda = np.radians(dlon) * 0.5
    cos2 = np.cos(np.radians(lat)) if cos_site is None else cos_site
    s1 = np.sin(half_dphi)
    s2 = np.sin(half_dlambda)
    hav = s1 * s1 + (node.cos_lat * cos2) * (s2 * s2)
    distance: FloatArray = (2000.0 * radius_km) * np.arcsin(np.sqrt(np.minimum(hav, 1.0)))
    return distance


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def wind_field(
    track_hourly: Track,
    node: int,
    lats: FloatArray,
    lons: FloatArray,
    config: WindConfig = WindConfig(),
) -> FloatArray:
    """The instantaneous wind (m/s) at the sites when the storm is at ``node`` (no threshold).

    Computed for every site directly (no index): for maps of one moment and for tests.
    """
    nodes = storm_nodes(track_hourly, config)
    if not bool(nodes.active[node]):
        return np.zeros(lats.shape[0])
    lon = np.where(lons >= 180.0, lons - 360.0, lons)
    return _node_wind(_node(nodes, node, config), lats, lon, None, config, wrap=True)


def max_wind(
    track_hourly: Track,
    lats: FloatArray,
    lons: FloatArray,
    config: WindConfig = WindConfig(),
) -> FloatArray:
    """Each site's maximum wind (m/s, 1-min sustained at 10 m) over the storm's life.

    ``track_hourly`` is normally :func:`~baoxian.radar.tracks.interpolate_hourly`'s output;
    any strictly increasing times work. Winds below ``config.min_wind_ms`` are reported as 0.
    """
    (result,) = _sweep(track_hourly, lats, lons, config, snapshots=None)
    return result


def max_wind_by_time(
    track_hourly: Track,
    lats: FloatArray,
    lons: FloatArray,
    times: Sequence[datetime] | NDArray[np.datetime64],
    config: WindConfig = WindConfig(),
) -> FloatArray:
    """For a forecast: row k holds each site's maximum wind over the nodes at or before
    ``times[k]`` (shape ``(len(times), n_sites)``; mind the memory for many times)."""
    wanted = _seconds_of(times)
    order = np.argsort(wanted, kind="stable")
    rows = _sweep(track_hourly, lats, lons, config, snapshots=wanted[order])
    result = np.empty((wanted.shape[0], lats.shape[0]))
    for position, row in zip(order, rows, strict=True):
        result[position] = row
    return result


def _seconds_of(times: Sequence[datetime] | NDArray[np.datetime64]) -> IntArray:
    if isinstance(times, np.ndarray):
        return times.astype("datetime64[s]").astype(np.int64)
    if any(t.tzinfo is None for t in times):
        raise ValidationFailed(
            "radar.naive_time",
            "预报时间须带时区",
            "Forecast times must be timezone-aware",
        )
    return np.array([int(t.timestamp()) for t in times], dtype=np.int64)


def _sweep(
    track_hourly: Track,
    lats: FloatArray,
    lons: FloatArray,
    config: WindConfig,
    snapshots: IntArray | None,
) -> list[FloatArray]:
    """Walk the nodes in time order, keeping each site's running maximum (in index order)."""
    _check_sites(lats, lons)
    nodes = storm_nodes(track_hourly, config)
    index = SiteIndex.build(lats, lons, config.cell_deg)
    cos_site = np.cos(np.radians(index.lat)) if config.metric is Metric.HAVERSINE else None
    running = np.zeros(index.size)
    taken: list[FloatArray] = []
    pending = [] if snapshots is None else list(snapshots)
    for i in range(nodes.size):
        while pending and pending[0] < nodes.seconds[i]:
            taken.append(_finish(running, index, config))
            pending.pop(0)
        if nodes.active[i]:
            _accumulate(running, index, cos_site, _node(nodes, i, config), config)
    taken.extend(_finish(running, index, config) for _ in pending)
    if snapshots is None:
        taken.append(_finish(running, index, config))
    return taken


def _accumulate(
    running: FloatArray,
    index: SiteIndex,
    cos_site: FloatArray | None,
    node: _Node,
    config: WindConfig,
) -> None:
    positions, wrap = index.candidates(
        node.lat, node.lon, _reach_lat_deg(config), _half_width(node, config)
    )
    for chunk in _chunks(positions, config.chunk):
        wind = _node_wind(
            node,
            index.lat[chunk],
            index.lon[chunk],
            None if cos_site is None else cos_site[chunk],
            config,
            wrap,
        )
        running[chunk] = np.maximum(running[chunk], wind)


def _chunks(positions: IntArray, size: int) -> Iterator[IntArray]:
    for start in range(0, positions.shape[0], size):
        yield positions[start : start + size]


def _finish(running: FloatArray, index: SiteIndex, config: WindConfig) -> FloatArray:
    result = np.empty_like(running)
    result[index.order] = running
    if config.min_wind_ms > 0:
        result[result < config.min_wind_ms] = 0.0
    return result


def _reach_lat_deg(config: WindConfig) -> float:
    if config.metric is Metric.EQUIRECT:
        return config.cutoff_km / config.km_per_degree
    return math.degrees(config.cutoff_km / config.earth_radius_km)


def _half_width(node: _Node, config: WindConfig) -> HalfWidth:
    """Longitude half-width (°) of the cut-off window for a row of sites (a superset)."""
    reach = _reach_lat_deg(config)

    def equirect(low: FloatArray, high: FloatArray, dlat_min: FloatArray) -> FloatArray:
        spare = reach * reach - dlat_min * dlat_min
        if node.cos_lat <= 1e-9:
            return np.where(spare >= 0, 180.0, -1.0)
        return np.where(spare >= 0, np.sqrt(np.maximum(spare, 0.0)) / node.cos_lat, -1.0)

    def haversine(low: FloatArray, high: FloatArray, dlat_min: FloatArray) -> FloatArray:
        hav_reach = math.sin(math.radians(reach) / 2) ** 2
        hav_dlat = np.sin(np.radians(dlat_min) / 2) ** 2
        cos_far = np.minimum(np.cos(np.radians(low)), np.cos(np.radians(high)))
        denominator = node.cos_lat * np.maximum(cos_far, 0.0)
        spare = hav_reach - hav_dlat
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(denominator > 1e-12, spare / denominator, np.inf)
        width = np.degrees(2.0 * np.arcsin(np.sqrt(np.clip(ratio, 0.0, 1.0))))
        return np.where(spare < 0, -1.0, np.where(ratio >= 1.0, 180.0, width))

    return equirect if config.metric is Metric.EQUIRECT else haversine


def _check_sites(lats: FloatArray, lons: FloatArray) -> None:
    if lats.shape != lons.shape or lats.ndim != 1:
        raise ValidationFailed(
            "radar.sites_shape",
            "站点纬度与经度数组形状不一致",
            "Site latitude and longitude arrays differ in shape",
        )
    if lats.size and not (
        bool(np.all(np.abs(lats) <= 90.0)) and bool(np.all((lons >= -180.0) & (lons <= 360.0)))
    ):
        raise ValidationFailed(
            "radar.sites_range",
            "站点坐标超出范围（纬度 ±90°，经度 -180°–360°）",
            "Site coordinates out of range (latitude ±90°, longitude -180° to 360°)",
        )
