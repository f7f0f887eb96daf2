"""风险地图 (maps of a storm against the book): a PNG and a self-contained interactive HTML.

Both show the same layers on an equirectangular map centred on the exposed sites: land (the
Natural Earth coastline in ``radar/data``, public domain), the wind swath — each point's
highest wind over the storm's life, filled at the CMA warning levels —, the track (hourly
positions and the best-track fixes, a date label at 08:00 Beijing time each day) and the
sites coloured by warning level.  Legends and titles are Chinese first with English.

* :func:`render_png` draws with matplotlib (Agg, no pyplot state) in Noto Sans CJK when the
  system has it.
* :func:`render_html` writes one HTML file with an inline SVG and a little JavaScript: wheel
  to zoom, drag to pan, a tooltip per site and per fix; no tile server, CDN or font download —
  it opens offline.

The swath is computed on a grid of about ``cells`` × ``cells`` points over the map
(:func:`~baoxian.radar.wind.max_wind` at every grid point); at most ``max_sites`` sites are
drawn (the windiest first).
"""

from __future__ import annotations

import html
import itertools
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, cast

import contourpy
import numpy as np
from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from numpy.typing import NDArray

from baoxian.radar.advice import beaufort_force
from baoxian.radar.assessment import Physics
from baoxian.radar.loss import CMA_WARNING_THRESHOLDS, WarningLevel, WarningThresholds
from baoxian.radar.services import BookAssessment
from baoxian.radar.tracks import Track
from baoxian.radar.wind import max_wind
from baoxian.shared.clock import SHANGHAI

FloatArray = NDArray[np.float64]
Ring = FloatArray  # (n, 2): lon, lat
Polygon = list[Ring]  # exterior first, then holes

LEVEL_COLOURS: dict[WarningLevel, str] = {
    WarningLevel.NONE: "#8C8C8C",
    WarningLevel.BLUE: "#1E6FD9",
    WarningLevel.YELLOW: "#E8B600",
    WarningLevel.ORANGE: "#F57C00",
    WarningLevel.RED: "#D7191C",
}
LAND, SEA, COAST, TRACK_COLOUR = "#EEE8DA", "#D3E4F0", "#8F8672", "#2B2B2B"
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
)
LAND_FILE = "east_asia_land.geojson"
NATIVE = Physics()
GRID_MARGIN = 0.25  # the swath is computed this share beyond the map on every side (panning)


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True, slots=True)
class Extent:
    """The map's bounds in degrees."""

    west: float
    east: float
    south: float
    north: float

    @property
    def cos_lat(self) -> float:
        """Horizontal scale of the equirectangular map at its middle latitude."""
        return math.cos(math.radians((self.south + self.north) / 2))

    def grown(self, share: float) -> Extent:
        """The extent with ``share`` of its width and height added on every side."""
        dx = (self.east - self.west) * share
        dy = (self.north - self.south) * share
        return Extent(
            self.west - dx, self.east + dx, max(-85.0, self.south - dy), min(85.0, self.north + dy)
        )

    def contains(self, lon: FloatArray, lat: FloatArray, margin: float = 0.0) -> NDArray[np.bool_]:
        inside: NDArray[np.bool_] = (
            (lon >= self.west - margin)
            & (lon <= self.east + margin)
            & (lat >= self.south - margin)
            & (lat <= self.north + margin)
        )
        return inside


@dataclass(frozen=True, slots=True, eq=False)
class MapData:
    """Everything both maps draw."""

    storm_id: str
    storm_name: str
    on: date
    fixes: Track
    hourly: Track
    extent: Extent
    grid_lon: FloatArray
    grid_lat: FloatArray
    grid_wind: FloatArray  # (lat, lon)
    thresholds: WarningThresholds
    site_lon: FloatArray
    site_lat: FloatArray
    site_level: NDArray[np.int8]
    site_tips: tuple[str, ...]
    summary: tuple[str, ...]  # lines under the title


def map_data(
    track: Track,
    assessment: BookAssessment,
    physics: Physics = NATIVE,
    thresholds: WarningThresholds = CMA_WARNING_THRESHOLDS,
    max_sites: int = 5_000,
    cells: int = 220,
) -> MapData:
    """The layers of a storm's map: extent around the exposed sites, swath grid, sites."""
    losses = assessment.losses
    exposure = assessment.book.exposure
    hourly = assessment.event.track_hourly
    extent = map_extent(hourly, exposure.lon, exposure.lat, losses.warning, losses.wind_ms)
    grid_lon, grid_lat, grid_wind = swath_grid(hourly, extent.grown(GRID_MARGIN), physics, cells)
    shown = _shown_sites(extent, exposure.lon, exposure.lat, losses.wind_ms, max_sites)
    frame = assessment.site_frame()[shown]
    tips = tuple(_site_tip(row) for row in frame.iter_rows(named=True))
    return MapData(
        storm_id=track.storm_id,
        storm_name=track.name,
        on=assessment.on,
        fixes=track,
        hourly=hourly,
        extent=extent,
        grid_lon=grid_lon,
        grid_lat=grid_lat,
        grid_wind=grid_wind,
        thresholds=thresholds,
        site_lon=exposure.lon[shown],
        site_lat=exposure.lat[shown],
        site_level=losses.warning[shown],
        site_tips=tips,
        summary=_summary(assessment, len(shown)),
    )


def map_extent(
    hourly: Track,
    lon: FloatArray,
    lat: FloatArray,
    level: NDArray[np.int8],
    wind: FloatArray,
) -> Extent:
    """Around the warned sites (else the sites with any wind, else the track), with the part
    of the track that approaches them, at least 8° × 6°."""
    focus_lon, focus_lat = lon[level > 0], lat[level > 0]
    if focus_lon.size == 0:
        focus_lon, focus_lat = lon[wind > 0], lat[wind > 0]
    if focus_lon.size == 0:
        focus_lon, focus_lat = hourly.lon, hourly.lat
    box = _bounds(focus_lon, focus_lat, 1.5)
    near = box.contains(hourly.lon, hourly.lat, margin=4.0)
    west, east, south, north = _span(
        np.concatenate([focus_lon, hourly.lon[near]]),
        np.concatenate([focus_lat, hourly.lat[near]]),
    )
    padded = Extent(west - 0.8, east + 0.8, south - 0.8, north + 0.8)
    lat_span = padded.north - padded.south
    return _at_least(padded, max(8.0, 0.8 * lat_span / padded.cos_lat), 6.0)


def _bounds(lon: FloatArray, lat: FloatArray, pad: float) -> Extent:
    west, east, south, north = _span(lon, lat)
    return Extent(west - pad, east + pad, south - pad, north + pad)


def _span(lon: FloatArray, lat: FloatArray) -> tuple[float, float, float, float]:
    return float(lon.min()), float(lon.max()), float(lat.min()), float(lat.max())


def _at_least(extent: Extent, lon_span: float, lat_span: float) -> Extent:
    grow_lon = max(0.0, lon_span - (extent.east - extent.west)) / 2
    grow_lat = max(0.0, lat_span - (extent.north - extent.south)) / 2
    return Extent(
        extent.west - grow_lon,
        extent.east + grow_lon,
        max(-85.0, extent.south - grow_lat),
        min(85.0, extent.north + grow_lat),
    )


def swath_grid(
    hourly: Track, extent: Extent, physics: Physics = NATIVE, cells: int = 220
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Each grid point's highest wind (m/s) over the storm's life: lon, lat, wind (lat × lon)."""
    step = max(extent.east - extent.west, extent.north - extent.south) / cells
    grid_lon = np.arange(extent.west, extent.east + step / 2, step)
    grid_lat = np.arange(extent.south, extent.north + step / 2, step)
    mesh_lon, mesh_lat = np.meshgrid(grid_lon, grid_lat)
    wind = max_wind(hourly, mesh_lat.reshape(-1), mesh_lon.reshape(-1), physics.wind)
    return grid_lon, grid_lat, wind.reshape(mesh_lat.shape)


def _shown_sites(
    extent: Extent, lon: FloatArray, lat: FloatArray, wind: FloatArray, max_sites: int
) -> NDArray[np.int64]:
    inside = np.flatnonzero(extent.contains(lon, lat))
    order = inside[np.argsort(-wind[inside], kind="stable")]
    shown: NDArray[np.int64] = np.sort(order[:max_sites]).astype(np.int64)
    return shown


def _site_tip(row: dict[str, Any]) -> str:
    level = WarningLevel(int(row["level"]))
    wind = float(row["wind_ms"])
    force = int(beaufort_force(np.array([wind]))[0])
    return "\n".join(
        (
            f"{row['name']}（{row['city']}）",
            f"{row['policy_number']} / {row['unit_key']} · {row['occupancy']}",
            f"{level.zh} {level.en} · {wind:.1f} m/s（{force} 级 force {force}）",
            f"预估赔款 Est. insured loss ¥{row['insured_fen'] / 100:,.2f}",
        )
    )


def _summary(assessment: BookAssessment, shown: int) -> tuple[str, ...]:
    counts = assessment.sites_by_level()
    levels = "  ".join(
        f"{level.zh} {level.en} {counts[level]:,}" for level in WarningLevel if level > 0
    )
    total = assessment.losses.insured_total
    lines: tuple[str, ...] = (
        f"保单簿日期 Book on {assessment.on} · 场所 Sites {assessment.book.size:,} · {levels}",
        f"预估赔款 Estimated insured loss ¥{total.amount:,}",
    )
    if shown < assessment.book.size:
        lines += (f"地图显示 {shown:,} 个场所 Showing {shown:,} sites on the map",)
    return lines


# --------------------------------------------------------------------------- land


@cache
def land_polygons() -> tuple[Polygon, ...]:
    """East Asian land (Natural Earth 1:10m, public domain; see ``radar/data/README.md``)."""
    text = files("baoxian.radar").joinpath("data", LAND_FILE).read_text("utf-8")
    geometry = json.loads(text)["features"][0]["geometry"]
    return tuple(
        [np.array(ring, dtype=np.float64) for ring in polygon]
        for polygon in geometry["coordinates"]
    )


def _polygons_in(extent: Extent, margin: float) -> list[Polygon]:
    return [
        polygon
        for polygon in land_polygons()
        if bool(extent.contains(polygon[0][:, 0], polygon[0][:, 1], margin).any())
        or _covers(polygon[0], extent)
    ]


def _covers(ring: Ring, extent: Extent) -> bool:
    """Whether a ring's bounding box holds the extent's centre (a coast outside the map)."""
    lon_c, lat_c = (extent.west + extent.east) / 2, (extent.south + extent.north) / 2
    return bool(
        ring[:, 0].min() <= lon_c <= ring[:, 0].max()
        and ring[:, 1].min() <= lat_c <= ring[:, 1].max()
    )


# --------------------------------------------------------------------------- legend words


def _swath_levels(thresholds: WarningThresholds, top: float) -> list[float]:
    edges = [thresholds.blue, thresholds.yellow, thresholds.orange, thresholds.red]
    return [*edges, max(top, thresholds.red) + 1.0]


def _level_label(level: WarningLevel, thresholds: WarningThresholds) -> str:
    low = {
        WarningLevel.BLUE: thresholds.blue,
        WarningLevel.YELLOW: thresholds.yellow,
        WarningLevel.ORANGE: thresholds.orange,
        WarningLevel.RED: thresholds.red,
    }[level]
    force = int(beaufort_force(np.array([low]))[0])
    return f"{level.zh} {level.en.capitalize()} ≥ {low:g} m/s（{force}级 force {force}）"


def _title(data: MapData) -> str:
    return f"台风 {data.storm_name}（{data.storm_id}）风险雷达  Typhoon risk radar"


def _daily_labels(hourly: Track) -> list[tuple[float, float, str]]:
    """(lon, lat, label) at 08:00 Beijing time (00 UTC) each day."""
    labels = []
    for i, moment in enumerate(hourly.times.astype("datetime64[s]")):
        local = _local(moment)
        if local.hour == 8:
            labels.append((float(hourly.lon[i]), float(hourly.lat[i]), f"{local:%m/%d}"))
    return labels


def _local(moment: np.datetime64) -> datetime:
    return datetime.fromisoformat(f"{moment}+00:00").astimezone(SHANGHAI)


# --------------------------------------------------------------------------- PNG


def render_png(data: MapData, path: Path, dpi: int = 150) -> Path:
    """Draw the map as a PNG at ``path``."""
    family = _cjk_family()
    with rc_context({"font.family": [family, "DejaVu Sans"]} if family else None):
        figure = _figure(data)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=dpi, bbox_inches="tight", pad_inches=0.15)
    return path


def _figure(data: MapData) -> Figure:
    extent = data.extent
    width = 10.0
    height = width * (extent.north - extent.south) / ((extent.east - extent.west) * extent.cos_lat)
    figure = Figure(figsize=(width, min(max(height, 5.0), 14.0) + 2.4), layout="constrained")
    ax = figure.add_subplot()
    ax.set_facecolor(SEA)
    _draw_land(ax, extent)
    _draw_swath(ax, data)
    _draw_track(ax, data)
    _draw_sites(ax, data)
    _draw_frame(ax, extent)
    ax.set_title(_title(data) + "\n" + "\n".join(data.summary), fontsize=10, loc="left")
    ax.legend(
        handles=_legend_handles(data),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.06),
        ncol=3,
        fontsize=7.5,
        frameon=False,
    )
    ax.text(
        0.005,
        0.005,
        "底图 Land: Natural Earth · 路径 Track: " + (data.fixes.source or data.fixes.storm_id),
        transform=ax.transAxes,
        fontsize=6.5,
        color="#555555",
        zorder=20,
        bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1.5},
    )
    return figure


def _draw_swath(ax: Any, data: MapData) -> None:
    top = float(data.grid_wind.max()) if data.grid_wind.size else 0.0
    if top < data.thresholds.blue:
        return
    levels = _swath_levels(data.thresholds, top)
    colours = [LEVEL_COLOURS[WarningLevel(k)] for k in range(1, 5)]
    grid = (data.grid_lon, data.grid_lat, data.grid_wind)
    ax.contourf(*grid, levels=levels, colors=colours, alpha=0.32, zorder=2)
    ax.contour(*grid, levels=levels[:4], colors=colours, linewidths=0.8, zorder=3)


def _draw_frame(ax: Any, extent: Extent) -> None:
    ax.set_xlim(extent.west, extent.east)
    ax.set_ylim(extent.south, extent.north)
    ax.set_aspect(1.0 / extent.cos_lat)
    ax.grid(color="white", linewidth=0.5, alpha=0.7, zorder=0)
    ax.xaxis.set_major_formatter(lambda value, _pos: f"{value:g}°E")
    ax.yaxis.set_major_formatter(lambda value, _pos: f"{value:g}°N")
    ax.tick_params(labelsize=8)


@cache
def _cjk_family() -> str | None:
    """Register Noto Sans CJK with matplotlib; its family name, or None without the font."""
    family = None
    for candidate in CJK_FONTS:
        if Path(candidate).exists():
            font_manager.fontManager.addfont(candidate)
            family = family or font_manager.FontProperties(fname=candidate).get_name()
    return family


def _draw_land(ax: Any, extent: Extent) -> None:
    for polygon in _polygons_in(extent, margin=2.0):
        path = MplPath.make_compound_path(*(MplPath(ring, closed=True) for ring in polygon))
        ax.add_patch(PathPatch(path, facecolor=LAND, edgecolor=COAST, linewidth=0.5, zorder=1))


def _draw_track(ax: Any, data: MapData) -> None:
    ax.plot(data.hourly.lon, data.hourly.lat, color=TRACK_COLOUR, linewidth=1.4, zorder=4)
    ax.scatter(
        data.fixes.lon,
        data.fixes.lat,
        s=14,
        facecolor="white",
        edgecolor=TRACK_COLOUR,
        linewidth=0.9,
        zorder=5,
    )
    extent = data.extent
    for lon, lat, label in _daily_labels(data.hourly):
        if extent.contains(np.array([lon]), np.array([lat]))[0]:
            ax.annotate(
                label,
                (lon, lat),
                xytext=(5, 3),
                textcoords="offset points",
                fontsize=7,
                color=TRACK_COLOUR,
                zorder=6,
            )


def _draw_sites(ax: Any, data: MapData) -> None:
    for level in WarningLevel:
        chosen = data.site_level == level
        if not chosen.any():
            continue
        ax.scatter(
            data.site_lon[chosen],
            data.site_lat[chosen],
            s=6 if level == 0 else 10 + 4 * level,
            color=LEVEL_COLOURS[level],
            edgecolor="white" if level else "none",
            linewidth=0.4,
            zorder=7 + level,
            alpha=0.6 if level == 0 else 0.95,
        )


def _legend_handles(data: MapData) -> list[Any]:
    handles: list[Any] = [
        Line2D([], [], color=TRACK_COLOUR, linewidth=1.4, label="逐时路径 Hourly track"),
        Line2D(
            [],
            [],
            color=TRACK_COLOUR,
            marker="o",
            markerfacecolor="white",
            linestyle="none",
            markersize=4,
            label="最佳路径定位 Best-track fixes",
        ),
    ]
    handles += [
        Patch(
            facecolor=LEVEL_COLOURS[level],
            alpha=0.32,
            edgecolor=LEVEL_COLOURS[level],
            label="风圈 Swath " + _level_label(level, data.thresholds),
        )
        for level in WarningLevel
        if level > 0
    ]
    counts = np.bincount(data.site_level.astype(np.int64), minlength=5)
    handles += [
        Line2D(
            [],
            [],
            color=LEVEL_COLOURS[level],
            marker="o",
            linestyle="none",
            markersize=5,
            label=f"场所 Sites: {level.zh} {level.en} ({counts[level]:,})",
        )
        for level in WarningLevel
    ]
    return handles


# --------------------------------------------------------------------------- HTML


SVG_WIDTH = 1000.0


@dataclass(frozen=True, slots=True)
class _Projection:
    extent: Extent
    scale: float  # pixels per degree of latitude

    @classmethod
    def of(cls, extent: Extent) -> _Projection:
        return cls(extent, SVG_WIDTH / ((extent.east - extent.west) * extent.cos_lat))

    @property
    def height(self) -> float:
        return (self.extent.north - self.extent.south) * self.scale

    def xy(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        x = (lon - self.extent.west) * self.extent.cos_lat * self.scale
        y = (self.extent.north - lat) * self.scale
        return x, y

    def path(self, rings: Iterable[FloatArray]) -> str:
        """SVG path data of closed rings (lon, lat)."""
        parts = []
        for ring in rings:
            x, y = self.xy(ring[:, 0], ring[:, 1])
            points = " L".join(f"{a:.1f} {b:.1f}" for a, b in zip(x, y, strict=True))
            parts.append(f"M{points} Z")
        return " ".join(parts)


def render_html(data: MapData, path: Path) -> Path:
    """Write the interactive map as one self-contained HTML file at ``path``."""
    projection = _Projection.of(data.extent)
    body = "\n".join(
        (
            _svg_land(projection),
            _svg_swath(projection, data),
            _svg_graticule(projection),
            _svg_track(projection, data),
            _svg_sites(projection, data),
        )
    )
    page = _PAGE.format(
        title=html.escape(_title(data)),
        summary="".join(f"<p>{html.escape(line)}</p>" for line in data.summary),
        width=f"{SVG_WIDTH:.0f}",
        height=f"{projection.height:.0f}",
        body=body,
        legend=_html_legend(data),
        sea=SEA,
        script=_SCRIPT,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def _svg_land(projection: _Projection) -> str:
    paths = [projection.path(polygon) for polygon in _polygons_in(projection.extent, margin=10.0)]
    return (
        f'<path d="{" ".join(paths)}" fill="{LAND}" stroke="{COAST}" stroke-width="0.6" '
        'fill-rule="evenodd" vector-effect="non-scaling-stroke"/>'
    )


def _svg_swath(projection: _Projection, data: MapData) -> str:
    top = float(data.grid_wind.max()) if data.grid_wind.size else 0.0
    if top < data.thresholds.blue:
        return ""
    levels = _swath_levels(data.thresholds, top)
    generator = contourpy.contour_generator(
        data.grid_lon, data.grid_lat, data.grid_wind, fill_type="OuterOffset"
    )
    parts = []
    for k, level in enumerate(WarningLevel):
        if level == 0:
            continue
        filled = generator.filled(levels[k - 1], levels[k])
        points, offsets = cast(tuple[list[FloatArray], list[NDArray[np.uint32]]], filled)
        rings = [
            ring[a:b]
            for ring, cut in zip(points, offsets, strict=True)
            for a, b in itertools.pairwise(cut)
        ]
        colour = LEVEL_COLOURS[level]
        title = html.escape(_level_label(level, data.thresholds))
        parts.append(
            f'<path class="swath" d="{projection.path(rings)}" fill="{colour}" '
            f'fill-opacity="0.32" stroke="{colour}" stroke-width="0.8" fill-rule="evenodd" '
            f'vector-effect="non-scaling-stroke"><title>{title}</title></path>'
        )
    return "\n".join(parts)


def _svg_graticule(projection: _Projection) -> str:
    """Lines every 2° over the map and its margin; labels along the map's left and bottom."""
    wide = projection.extent.grown(GRID_MARGIN)
    (left, right), (top, bottom) = projection.xy(
        np.array([wide.west, wide.east]), np.array([wide.north, wide.south])
    )
    lines = []
    for lon in range(math.ceil(wide.west), math.floor(wide.east) + 1, 1):
        if lon % 2 == 0:
            x = float(projection.xy(np.array([float(lon)]), np.array([0.0]))[0][0])
            lines.append(
                f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}"/>'
                f'<text x="{x + 3:.1f}" y="{projection.height - 4:.1f}">{lon}°E</text>'
            )
    for lat in range(math.ceil(wide.south), math.floor(wide.north) + 1, 1):
        if lat % 2 == 0:
            y = float(projection.xy(np.array([0.0]), np.array([float(lat)]))[1][0])
            lines.append(
                f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}"/>'
                f'<text x="3" y="{y - 3:.1f}">{lat}°N</text>'
            )
    return f'<g class="graticule">{"".join(lines)}</g>'


def _svg_track(projection: _Projection, data: MapData) -> str:
    x, y = projection.xy(data.hourly.lon, data.hourly.lat)
    line = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))
    fixes = data.fixes
    fx, fy = projection.xy(fixes.lon, fixes.lat)
    dots = [
        f'<circle class="fix" cx="{a:.1f}" cy="{b:.1f}" r="3" data-r="3" '
        f'data-tip="{html.escape(_fix_tip(fixes, i))}"/>'
        for i, (a, b) in enumerate(zip(fx, fy, strict=True))
    ]
    labels = []
    for lon, lat, label in _daily_labels(data.hourly):
        lx, ly = projection.xy(np.array([lon]), np.array([lat]))
        labels.append(f'<text class="day" x="{lx[0] + 5:.1f}" y="{ly[0] - 4:.1f}">{label}</text>')
    return (
        f'<polyline class="track" points="{line}"/>'
        f'<g class="fixes">{"".join(dots)}</g><g class="days">{"".join(labels)}</g>'
    )


def _fix_tip(track: Track, i: int) -> str:
    local = _local(track.times.astype("datetime64[s]")[i])
    pressure = track.pressure_hpa[i]
    vmax = track.vmax_ms[i]
    return "\n".join(
        (
            f"{track.name}（{track.storm_id}）{local:%Y-%m-%d %H:%M} 北京时间 Beijing time",
            f"{track.lat[i]:.1f}°N {track.lon[i]:.1f}°E",
            f"中心气压 Pressure {pressure:.0f} hPa" if np.isfinite(pressure) else "",
            f"最大风速 Max wind {vmax:.0f} m/s（{track.wind_avg_period_min} min）"
            if np.isfinite(vmax)
            else "",
        )
    ).strip()


def _svg_sites(projection: _Projection, data: MapData) -> str:
    x, y = projection.xy(data.site_lon, data.site_lat)
    order = np.argsort(data.site_level, kind="stable")  # warned sites drawn on top
    circles = []
    for i in order:
        level = int(data.site_level[i])
        radius = 2.0 if level == 0 else 2.5 + 0.7 * level
        circles.append(
            f'<circle class="site l{level}" cx="{x[i]:.1f}" cy="{y[i]:.1f}" r="{radius}" '
            f'data-r="{radius}" fill="{LEVEL_COLOURS[WarningLevel(level)]}" '
            f'data-tip="{html.escape(data.site_tips[i])}"/>'
        )
    return f'<g class="sites">{"".join(circles)}</g>'


def _html_legend(data: MapData) -> str:
    counts = np.bincount(data.site_level.astype(np.int64), minlength=5)
    rows = [
        '<div><span class="line"></span>逐时路径 Hourly track</div>',
        '<div><span class="fix"></span>最佳路径定位 Best-track fixes</div>',
    ]
    for level in WarningLevel:
        colour = LEVEL_COLOURS[level]
        if level > 0:
            rows.append(
                f'<div><span class="area" style="background:{colour}"></span>风圈 Swath '
                f"{html.escape(_level_label(level, data.thresholds))}</div>"
            )
    for level in WarningLevel:
        colour = LEVEL_COLOURS[level]
        rows.append(
            f'<div><span class="dot" style="background:{colour}"></span>场所 Sites: '
            f"{level.zh} {level.en} ({counts[level]:,})</div>"
        )
    return "".join(rows)


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ margin: 0; font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
  color: #222; background: #fafafa; }}
header {{ padding: 10px 16px 4px; }}
h1 {{ font-size: 18px; margin: 0 0 4px; }}
header p {{ margin: 2px 0; font-size: 13px; color: #444; }}
#wrap {{ position: relative; margin: 6px 16px 16px; border: 1px solid #bbb; background: {sea}; }}
svg {{ display: block; width: 100%; height: calc(100vh - 170px); min-height: 420px;
  cursor: grab; user-select: none; }}
svg.dragging {{ cursor: grabbing; }}
.graticule line {{ stroke: #fff; stroke-width: 0.6; vector-effect: non-scaling-stroke; }}
.graticule text, .days text {{ font-size: 10px; fill: #555; }}
.track {{ fill: none; stroke: #2b2b2b; stroke-width: 1.6; vector-effect: non-scaling-stroke; }}
.fix {{ fill: #fff; stroke: #2b2b2b; stroke-width: 1; vector-effect: non-scaling-stroke; }}
.site {{ stroke: #fff; stroke-width: 0.6; vector-effect: non-scaling-stroke; }}
.site.l0 {{ stroke: none; opacity: 0.6; }}
.site:hover, .fix:hover {{ stroke: #000; stroke-width: 2; }}
#legend {{ position: absolute; right: 8px; bottom: 8px; background: rgba(255,255,255,.92);
  padding: 6px 8px; font-size: 12px; border-radius: 4px; line-height: 1.6; }}
#legend span {{ display: inline-block; margin-right: 6px; vertical-align: middle; }}
#legend .line {{ width: 18px; height: 2px; background: #2b2b2b; }}
#legend .fix {{ width: 7px; height: 7px; border: 1.5px solid #2b2b2b; border-radius: 50%;
  background: #fff; }}
#legend .area {{ width: 14px; height: 10px; opacity: .45; }}
#legend .dot {{ width: 9px; height: 9px; border-radius: 50%; }}
#tip {{ position: fixed; pointer-events: none; background: rgba(20,20,20,.9); color: #fff;
  font-size: 12px; padding: 6px 8px; border-radius: 4px; white-space: pre; display: none; }}
#controls {{ position: absolute; left: 8px; top: 8px; }}
#controls button {{ font-size: 13px; margin-right: 4px; }}
</style>
</head>
<body>
<header><h1>{title}</h1>{summary}
<p>滚轮缩放、拖动平移、悬停查看详情 · Wheel to zoom, drag to pan, hover for details</p></header>
<div id="wrap">
<div id="controls"><button id="zin">＋</button><button id="zout">－</button>
<button id="reset">复位 Reset</button></div>
<svg id="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"
 preserveAspectRatio="xMidYMid meet">
<rect x="-100000" y="-100000" width="200000" height="200000" fill="{sea}"/>
{body}
</svg>
<div id="legend">{legend}</div>
</div>
<div id="tip"></div>
<script>{script}</script>
</body>
</html>
"""

_SCRIPT = """
(function () {
  const svg = document.getElementById('map');
  const tip = document.getElementById('tip');
  const base = svg.getAttribute('viewBox').split(' ').map(Number);
  let box = base.slice();
  const marks = svg.querySelectorAll('circle[data-r]');
  function apply() {
    svg.setAttribute('viewBox', box.join(' '));
    const zoom = base[2] / box[2];
    marks.forEach(function (c) { c.setAttribute('r', c.dataset.r / Math.sqrt(zoom)); });
  }
  function point(e) {
    const p = svg.createSVGPoint();
    p.x = e.clientX; p.y = e.clientY;
    const q = p.matrixTransform(svg.getScreenCTM().inverse());
    return [q.x, q.y];
  }
  function zoomAt(p, f) {
    box = [p[0] - (p[0] - box[0]) * f, p[1] - (p[1] - box[1]) * f, box[2] * f, box[3] * f];
    apply();
  }
  svg.addEventListener('wheel', function (e) {
    e.preventDefault();
    zoomAt(point(e), e.deltaY < 0 ? 0.8 : 1.25);
  }, { passive: false });
  let drag = null;
  svg.addEventListener('mousedown', function (e) {
    drag = [e.clientX, e.clientY, box[0], box[1], svg.getScreenCTM().a];
    svg.classList.add('dragging');
  });
  window.addEventListener('mouseup', function () {
    drag = null; svg.classList.remove('dragging');
  });
  window.addEventListener('mousemove', function (e) {
    if (drag) {
      box[0] = drag[2] - (e.clientX - drag[0]) / drag[4];
      box[1] = drag[3] - (e.clientY - drag[1]) / drag[4];
      apply();
    }
    const t = e.target;
    if (t && t.dataset && t.dataset.tip) {
      tip.textContent = t.dataset.tip;
      tip.style.display = 'block';
      tip.style.left = (e.clientX + 14) + 'px';
      tip.style.top = (e.clientY + 14) + 'px';
    } else {
      tip.style.display = 'none';
    }
  });
  function centre() { return [box[0] + box[2] / 2, box[1] + box[3] / 2]; }
  document.getElementById('zin').onclick = function () { zoomAt(centre(), 0.7); };
  document.getElementById('zout').onclick = function () { zoomAt(centre(), 1 / 0.7); };
  document.getElementById('reset').onclick = function () { box = base.slice(); apply(); };
})();
"""


__all__ = [
    "LEVEL_COLOURS",
    "Extent",
    "MapData",
    "land_polygons",
    "map_data",
    "map_extent",
    "render_html",
    "render_png",
    "swath_grid",
]
