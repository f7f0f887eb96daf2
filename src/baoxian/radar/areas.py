"""暴雨、洪水预警区域 (rainstorm and flood warning areas) as GeoJSON polygons — pure.

:func:`read_areas` reads a GeoJSON ``FeatureCollection`` (or one ``Feature``) of ``Polygon`` and
``MultiPolygon`` geometries; each feature's ``properties``:

* ``id`` — the area's stable ID (or the feature's own ``id``), 1–64 characters without spaces
  or ``:`` (it is part of the notices' deduplication key);
* ``hazard`` — ``rainstorm`` / ``暴雨`` or ``flood`` / ``洪水``;
* ``level`` — the CMA warning colour (暴雨预警信号): ``blue`` ``yellow`` ``orange`` ``red`` or
  ``蓝色`` ``黄色`` ``橙色`` ``红色`` (``蓝`` … and any letter case accepted);
* ``name`` — optional, a string (Chinese) or ``{"zh": …, "en": …}``;
* ``issued_at``, ``valid_until`` — optional ISO 8601 times with an offset.

Positions are ``[longitude, latitude]`` (RFC 7946); every ring must be closed (first position
repeated last, at least four positions); the first ring of a polygon is its outline and the
others are holes.  Anything else is a :class:`~baoxian.shared.errors.ValidationFailed` whose
message names the feature (``features[i]``, counted from 0) and the field.

:func:`sites_in_areas` gives each site the highest level of the areas that contain it: a
bounding-box prefilter, then the even–odd crossing test in numpy.  **Edges**: the half-open
crossing rule (an edge counts when ``(y1 > y) != (y2 > y)`` and the point lies strictly left of
the crossing), so a point exactly on an edge is inside on some edges and outside on others —
deterministic, and two areas that share a border never both claim a point on it.  Longitudes
are taken as given (no wrapping at ±180°).

>>> areas = read_areas('{"type": "Feature", "properties": {"id": "A1", "hazard": "暴雨",'
...     ' "level": "橙色"}, "geometry": {"type": "Polygon",'
...     ' "coordinates": [[[113, 22], [114, 22], [114, 23], [113, 23], [113, 22]]]}}')
>>> areas[0].hazard, areas[0].level.en
('rainstorm', 'orange')
>>> sites_in_areas(np.array([22.5, 21.0]), np.array([113.5, 113.5]), areas).tolist()
[3, 0]
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from baoxian.radar.loss import WarningLevel
from baoxian.shared.errors import ValidationFailed

Ring = NDArray[np.float64]  # (n, 2): longitude, latitude; closed (first = last)
Polygon = tuple[Ring, ...]  # outline, then holes

HAZARDS: Mapping[str, tuple[str, str]] = {
    "rainstorm": ("暴雨", "rainstorm"),
    "flood": ("洪水", "flood"),
}
"""Each hazard's words in Chinese and English."""
_HAZARD_NAMES = {"rainstorm": "rainstorm", "暴雨": "rainstorm", "flood": "flood", "洪水": "flood"}
_LEVEL_NAMES = {
    name: level
    for level in WarningLevel
    if level > WarningLevel.NONE
    for name in (level.en, level.zh, level.zh[0])
}
MAX_AREA_ID = 64
_CHUNK = 1 << 22  # points × edges per crossing test block (bounds memory)


@dataclass(frozen=True, slots=True, eq=False)
class WarningArea:
    """One warning area: its ID, hazard (``rainstorm`` or ``flood``), level and polygons."""

    area_id: str
    hazard: str
    level: WarningLevel
    polygons: tuple[Polygon, ...]
    name_zh: str = ""
    name_en: str = ""
    issued_at: datetime | None = None
    valid_until: datetime | None = None

    @property
    def rings(self) -> tuple[Ring, ...]:
        """Every ring of every polygon (outlines and holes)."""
        return tuple(ring for polygon in self.polygons for ring in polygon)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the outlines."""
        points = np.concatenate([polygon[0] for polygon in self.polygons])
        return (
            float(points[:, 0].min()),
            float(points[:, 1].min()),
            float(points[:, 0].max()),
            float(points[:, 1].max()),
        )

    @property
    def label_zh(self) -> str:
        return self.name_zh or self.name_en or self.area_id

    @property
    def label_en(self) -> str:
        return self.name_en or self.name_zh or self.area_id

    def contains(self, lats: NDArray[np.float64], lons: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Whether each point lies in the area (inside an outline and in none of its holes)."""
        lat = np.asarray(lats, dtype=np.float64)
        lon = np.asarray(lons, dtype=np.float64)
        inside = np.zeros(lat.shape, dtype=np.bool_)
        for polygon in self.polygons:
            inside |= _in_polygon(lon, lat, polygon)
        return inside


def sites_in_areas(
    lats: NDArray[np.float64], lons: NDArray[np.float64], areas: Sequence[WarningArea]
) -> NDArray[np.int8]:
    """Per site the highest level (:class:`WarningLevel` code, 0 = none) of the areas that
    contain it."""
    levels = np.zeros(np.shape(lats), dtype=np.int8)
    for area in areas:
        inside = area.contains(lats, lons)
        levels[inside] = np.maximum(levels[inside], np.int8(area.level))
    return levels


def _in_polygon(lon: NDArray[np.float64], lat: NDArray[np.float64], polygon: Polygon) -> Any:
    outline, *holes = polygon
    inside = _in_ring(lon, lat, outline)
    for hole in holes:
        inside &= ~_in_ring(lon, lat, hole)
    return inside


def _in_ring(lon: NDArray[np.float64], lat: NDArray[np.float64], ring: Ring) -> Any:
    """Even–odd crossing test of the points against one closed ring (half-open edges)."""
    inside = np.zeros(lon.shape, dtype=np.bool_)
    west, south = ring.min(axis=0)
    east, north = ring.max(axis=0)
    candidates = np.flatnonzero((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
    if candidates.size == 0:
        return inside
    x1, y1 = ring[:-1, 0], ring[:-1, 1]
    x2, y2 = ring[1:, 0], ring[1:, 1]
    step = max(1, _CHUNK // x1.size)
    for start in range(0, candidates.size, step):
        rows = candidates[start : start + step]
        px, py = lon[rows, None], lat[rows, None]
        straddles = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            crossing = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        odd = np.count_nonzero(straddles & (px < crossing), axis=1) % 2 == 1
        inside[rows] = odd
    return inside


# --------------------------------------------------------------------------- reading


def read_areas(source: str | Path) -> tuple[WarningArea, ...]:
    """The warning areas of a GeoJSON file (a :class:`~pathlib.Path`, or a string that is a
    path) or text (a string starting with ``{``)."""
    if isinstance(source, str) and source.lstrip().startswith("{"):
        text = source
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise _bad(
                f"无法读取预警区域文件 {source}：{error}",
                f"Cannot read the warning area file {source}: {error}",
            ) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise _bad(
            f"预警区域不是有效的 JSON（第 {error.lineno} 行第 {error.colno} 列）",
            f"The warning areas are not valid JSON (line {error.lineno}, column {error.colno})",
        ) from None
    features = _features(document)
    areas = tuple(_area(i, feature) for i, feature in enumerate(features))
    seen: set[str] = set()
    for i, area in enumerate(areas):
        if area.area_id in seen:
            raise _field_error(
                i, "id", f"编号 {area.area_id!r} 重复", f"duplicate ID {area.area_id!r}"
            )
        seen.add(area.area_id)
    return areas


def _features(document: object) -> list[Any]:
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "Feature":
        return [document]
    if kind == "FeatureCollection":
        features = document.get("features") if isinstance(document, dict) else None
        if isinstance(features, list):
            return features
        raise _bad(
            "FeatureCollection 缺少 features 数组", "The FeatureCollection has no features array"
        )
    raise _bad(
        "预警区域须为 GeoJSON FeatureCollection 或 Feature",
        "The warning areas must be a GeoJSON FeatureCollection or Feature",
    )


def _area(index: int, feature: object) -> WarningArea:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _field_error(index, "type", "不是 Feature", "is not a Feature")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise _field_error(index, "properties", "须为对象", "must be an object")
    name_zh, name_en = _names(index, properties.get("name"))
    issued_at = _time(index, properties, "issued_at")
    valid_until = _time(index, properties, "valid_until")
    if issued_at is not None and valid_until is not None and valid_until <= issued_at:
        raise _field_error(index, "valid_until", "须晚于 issued_at", "must be later than issued_at")
    return WarningArea(
        area_id=_area_id(index, properties.get("id", feature.get("id"))),
        hazard=_hazard(index, properties.get("hazard")),
        level=_level(index, properties.get("level")),
        polygons=_geometry(index, feature.get("geometry")),
        name_zh=name_zh,
        name_en=name_en,
        issued_at=issued_at,
        valid_until=valid_until,
    )


def _area_id(index: int, value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise _field_error(index, "id", "缺少区域编号", "the area ID is missing")
    if len(value) > MAX_AREA_ID or ":" in value or any(c.isspace() for c in value):
        raise _field_error(
            index,
            "id",
            f"区域编号须为 1–{MAX_AREA_ID} 个字符且不含空白和冒号：{value!r}",
            f"the area ID must be 1–{MAX_AREA_ID} characters without spaces or ':': {value!r}",
        )
    return value


def _hazard(index: int, value: object) -> str:
    if value is None:
        raise _field_error(index, "hazard", "缺少灾种", "the hazard is missing")
    hazard = _HAZARD_NAMES.get(str(value).strip().lower())
    if hazard is None:
        raise _field_error(
            index,
            "hazard",
            f"未知灾种 {value!r}（应为 rainstorm/暴雨 或 flood/洪水）",
            f"unknown hazard {value!r} (rainstorm/暴雨 or flood/洪水)",
        )
    return hazard


def _level(index: int, value: object) -> WarningLevel:
    if value is None or value == "":
        raise _field_error(index, "level", "缺少预警等级", "the warning level is missing")
    level = _LEVEL_NAMES.get(str(value).strip().lower())
    if level is None:
        raise _field_error(
            index,
            "level",
            f"未知预警等级 {value!r}（应为 蓝色/黄色/橙色/红色 或 blue/yellow/orange/red）",
            f"unknown warning level {value!r} (blue/yellow/orange/red or 蓝色/黄色/橙色/红色)",
        )
    return level


def _names(index: int, value: object) -> tuple[str, str]:
    if value is None:
        return "", ""
    if isinstance(value, str):
        return value, ""
    if isinstance(value, dict) and all(isinstance(value.get(k, ""), str) for k in ("zh", "en")):
        return value.get("zh", ""), value.get("en", "")
    raise _field_error(
        index, "name", "须为字符串或 {zh, en} 对象", "must be a string or a {zh, en} object"
    )


def _time(index: int, properties: Mapping[str, Any], field: str) -> datetime | None:
    value = properties.get(field)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _field_error(
            index,
            field,
            f"须为带时区的 ISO 8601 时间：{value!r}",
            f"must be an ISO 8601 time with an offset: {value!r}",
        )
    return moment


def _geometry(index: int, geometry: object) -> tuple[Polygon, ...]:
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        raise _field_error(
            index,
            "geometry",
            f"几何类型须为 Polygon 或 MultiPolygon，而非 {kind!r}",
            f"the geometry type must be Polygon or MultiPolygon, not {kind!r}",
            code="radar.area_geometry",
        )
    assert isinstance(geometry, dict)
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise _geometry_error(index, "没有多边形", "has no polygons")
    return tuple(_polygon(index, polygon) for polygon in polygons)


def _polygon(index: int, rings: object) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise _geometry_error(index, "多边形没有环", "a polygon has no rings")
    return tuple(_ring(index, ring) for ring in rings)


def _ring(index: int, ring: object) -> Ring:
    if not isinstance(ring, list) or len(ring) < 4:
        raise _geometry_error(
            index, "每个环至少须有 4 个位置", "every ring needs at least 4 positions"
        )
    points: list[tuple[float, float]] = []
    for position in ring:
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(_number(v) for v in position[:2])
        ):
            raise _geometry_error(
                index, f"坐标 {position!r} 不是 [经度, 纬度]", f"{position!r} is not [lon, lat]"
            )
        lon, lat = float(position[0]), float(position[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise _geometry_error(
                index,
                f"坐标 {position!r} 超出经纬度范围（GeoJSON 顺序为 [经度, 纬度]）",
                f"{position!r} is out of range (GeoJSON order is [lon, lat])",
            )
        points.append((lon, lat))
    if points[0] != points[-1]:
        raise _field_error(
            index,
            "geometry",
            f"环未闭合：首点 {list(points[0])} 与末点 {list(points[-1])} 不同",
            f"a ring is not closed: first {list(points[0])} and last {list(points[-1])} differ",
            code="radar.area_ring",
        )
    return np.array(points, dtype=np.float64)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _bad(zh: str, en: str) -> ValidationFailed:
    return ValidationFailed("radar.bad_geojson", zh, en)


def _geometry_error(index: int, zh: str, en: str) -> ValidationFailed:
    return _field_error(index, "geometry", zh, en, code="radar.area_geometry")


def _field_error(
    index: int, field: str, zh: str, en: str, code: str | None = None
) -> ValidationFailed:
    return ValidationFailed(
        code or f"radar.area_{field}",
        f"预警区域 features[{index}] 的 {field}：{zh}",
        f"Warning area features[{index}], {field}: {en}",
        feature=index,
        field=field,
    )


__all__ = ["HAZARDS", "MAX_AREA_ID", "WarningArea", "read_areas", "sites_in_areas"]
