"""暴雨、洪水预警区域: GeoJSON polygons read with their hazard, colour (English or Chinese) and
validity, bad files refused with a code naming the feature and the field, and each site's
highest level — checked against a plain ray-casting on random points."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from baoxian.radar.areas import WarningArea, read_areas, sites_in_areas
from baoxian.radar.loss import WarningLevel
from baoxian.shared.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]
SQUARE = [[113.0, 22.0], [114.0, 22.0], [114.0, 23.0], [113.0, 23.0], [113.0, 22.0]]
HOLE = [[113.4, 22.4], [113.6, 22.4], [113.6, 22.6], [113.4, 22.6], [113.4, 22.4]]


def feature(coordinates: Any, kind: str = "Polygon", **properties: Any) -> dict[str, Any]:
    props = {"id": "A", "hazard": "rainstorm", "level": "yellow", **properties}
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": kind, "coordinates": coordinates},
    }


def collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def levels(areas: tuple[WarningArea, ...], points: list[tuple[float, float]]) -> list[int]:
    lat = np.array([p[1] for p in points])
    lon = np.array([p[0] for p in points])
    found: list[int] = sites_in_areas(lat, lon, areas).tolist()
    return found


def test_a_square_with_its_properties() -> None:
    (area,) = read_areas(
        collection(
            feature(
                [SQUARE],
                id="GD-01",
                hazard="暴雨",
                level="橙色",
                name={"zh": "珠海", "en": "Zhuhai"},
                issued_at="2026-06-12T08:00+08:00",
                valid_until="2026-06-13T08:00+08:00",
            )
        )
    )
    assert (area.area_id, area.hazard, area.level) == ("GD-01", "rainstorm", WarningLevel.ORANGE)
    assert (area.name_zh, area.name_en) == ("珠海", "Zhuhai")
    assert area.issued_at == datetime(2026, 6, 12, 0, tzinfo=UTC)
    assert area.valid_until == datetime(2026, 6, 13, 0, tzinfo=UTC)
    assert area.bbox == (113.0, 22.0, 114.0, 23.0)
    # lon/lat order: (113.5, 22.5) is inside, the swapped (22.5, 113.5) is not a place at all
    assert levels((area,), [(113.5, 22.5), (112.9, 22.5), (113.5, 23.1), (114.5, 22.5)]) == [
        3,
        0,
        0,
        0,
    ]


def test_a_hole_is_outside() -> None:
    areas = read_areas(collection(feature([SQUARE, HOLE], level="red")))
    assert levels(areas, [(113.5, 22.5), (113.2, 22.5), (113.5, 22.7), (113.45, 22.45)]) == [
        0,
        4,
        4,
        0,
    ]


def test_a_multipolygon() -> None:
    far = [[120.0, 30.0], [121.0, 30.0], [120.5, 31.0], [120.0, 30.0]]
    (area,) = read_areas(collection(feature([[SQUARE], [far]], "MultiPolygon", level="blue")))
    assert len(area.polygons) == 2 and len(area.rings) == 2
    assert levels((area,), [(113.5, 22.5), (120.5, 30.4), (120.9, 30.9), (117.0, 26.0)]) == [
        1,
        1,
        0,
        0,
    ]


def test_overlapping_areas_the_highest_level_wins() -> None:
    inner = [[113.2, 22.2], [113.8, 22.2], [113.8, 22.8], [113.2, 22.8], [113.2, 22.2]]
    areas = read_areas(
        collection(
            feature([inner], id="RED", level="红色"),
            feature([SQUARE], id="BLUE", level="蓝色"),
            feature([SQUARE], id="YEL", level="Yellow", hazard="flood"),
        )
    )
    assert [a.level for a in areas] == [WarningLevel.RED, WarningLevel.BLUE, WarningLevel.YELLOW]
    assert areas[2].hazard == "flood"
    assert levels(areas, [(113.5, 22.5), (113.1, 22.1), (115.0, 22.5)]) == [4, 2, 0]


def test_chinese_colours_and_hazards_and_a_single_feature(tmp_path: Path) -> None:
    for colour, level in (("蓝色", 1), ("黄", 2), ("橙色", 3), ("红色", 4), ("ORANGE", 3)):
        (area,) = read_areas(json.dumps(feature([SQUARE], level=colour, hazard="洪水")))
        assert (area.level, area.hazard) == (level, "flood")
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps(feature([SQUARE], id=7)), encoding="utf-8")
    assert read_areas(path)[0].area_id == "7"
    assert read_areas(str(path))[0].area_id == "7"


def test_the_example_file() -> None:
    areas = read_areas(ROOT / "examples" / "flood-warning-2026-06.geojson")
    assert [(a.area_id, a.hazard, a.level.en) for a in areas] == [
        ("GD-PRD-RS-0612", "rainstorm", "orange"),
        ("GD-BJ-FL-0612", "flood", "red"),
        ("ZJ-LJ-FL-0612", "flood", "yellow"),
    ]
    # Guangzhou, Foshan, Qingyuan, Lanxi, Fuyang, the hole near Baiyun Mountain, Beijing
    lon = np.array([113.26, 113.12, 113.05, 119.46, 119.95, 113.31, 116.41])
    lat = np.array([23.13, 23.02, 23.68, 29.21, 30.05, 23.19, 39.90])
    assert sites_in_areas(lat, lon, areas).tolist() == [3, 3, 4, 2, 2, 0, 0]


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ('{"type": "FeatureCollection", "features": [', "radar.bad_geojson", ("JSON",)),
        ('{"type": "Point", "coordinates": [1, 2]}', "radar.bad_geojson", ("FeatureCollection",)),
        (
            collection(feature([SQUARE]), feature([113.5, 22.5], "Point", id="B")),
            "radar.area_geometry",
            ("features[1]", "geometry", "Point"),
        ),
        (
            collection(feature([SQUARE], level=None)),
            "radar.area_level",
            ("features[0]", "level", "缺少"),
        ),
        (
            collection(feature([SQUARE]), feature([SQUARE], id="B", level="purple")),
            "radar.area_level",
            ("features[1]", "level", "purple"),
        ),
        (
            collection(feature([[*SQUARE[:-1], [113.0, 22.5]]])),
            "radar.area_ring",
            ("features[0]", "geometry", "闭合"),
        ),
        (
            collection(feature([SQUARE], hazard="hail")),
            "radar.area_hazard",
            ("features[0]", "hazard", "hail"),
        ),
        (
            collection(feature([SQUARE]), feature([SQUARE])),
            "radar.area_id",
            ("features[1]", "id", "重复"),
        ),
        (
            collection(feature([SQUARE], valid_until="2026-06-13T08:00")),
            "radar.area_valid_until",
            ("features[0]", "valid_until"),
        ),
        (
            collection(feature([[[22.5, 113.0], [23.0, 113.0], [23.0, 114.0], [22.5, 113.0]]])),
            "radar.area_geometry",
            ("features[0]", "geometry", "[经度, 纬度]"),
        ),
        (
            collection(feature([[[113.0, 22.0], [114.0, 22.0], [113.0, 22.0]]])),
            "radar.area_geometry",
            ("features[0]", "geometry", "4"),
        ),
    ],
)
def test_bad_input_is_refused_with_a_code(text: str, code: str, words: tuple[str, ...]) -> None:
    with pytest.raises(ValidationFailed) as raised:
        read_areas(text)
    error = raised.value
    assert error.code == code
    for word in words:
        assert word in error.zh
    assert error.en and error.zh != error.en
    if "features[" in words[0]:
        assert words[0] in error.en and error.details["field"] == words[1]


def test_an_unreadable_or_non_json_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as raised:
        read_areas(tmp_path / "missing.geojson")
    assert raised.value.code == "radar.bad_geojson" and "missing.geojson" in raised.value.en
    path = tmp_path / "areas.geojson"
    path.write_text("id,level\nA,red\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as raised:
        read_areas(path)
    assert raised.value.code == "radar.bad_geojson" and "line 1, column 1" in raised.value.en


def ray_cast(x: float, y: float, ring: list[tuple[float, float]]) -> bool:
    """The textbook even–odd test (W. Randolph Franklin's pnpoly)."""
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def star(cx: float, cy: float, r1: float, r2: float, n: int) -> list[tuple[float, float]]:
    points = []
    for k in range(2 * n):
        r = r1 if k % 2 == 0 else r2
        angle = np.pi * k / n
        points.append((round(cx + r * np.cos(angle), 6), round(cy + r * np.sin(angle), 6)))
    return [*points, points[0]]


def test_against_plain_ray_casting_on_random_points() -> None:
    rng = random.Random(20260612)
    outline = star(113.5, 22.5, 1.0, 0.4, 9)  # concave
    hole = star(113.5, 22.5, 0.3, 0.15, 5)
    other = [(113.9, 22.0), (115.0, 22.3), (114.2, 23.6), (113.9, 22.0)]
    text = collection(
        feature([outline, hole], id="STAR", level="orange"),
        feature([[other]], "MultiPolygon", id="TRI", level="blue"),
    )
    areas = read_areas(text)
    lon = np.array([rng.uniform(112.0, 115.5) for _ in range(5000)])
    lat = np.array([rng.uniform(21.0, 24.0) for _ in range(5000)])
    got = sites_in_areas(lat, lon, areas).tolist()
    expected = []
    for x, y in zip(lon.tolist(), lat.tolist(), strict=True):
        level = 3 if ray_cast(x, y, outline) and not ray_cast(x, y, hole) else 0
        if level == 0 and ray_cast(x, y, other):
            level = 1
        expected.append(level)
    assert got == expected
    assert got.count(3) > 300 and got.count(1) > 300 and got.count(0) > 1000


def test_no_areas_or_no_sites() -> None:
    assert sites_in_areas(np.array([22.5]), np.array([113.5]), ()).tolist() == [0]
    areas = read_areas(collection(feature([SQUARE])))
    assert sites_in_areas(np.zeros(0), np.zeros(0), areas).tolist() == []
