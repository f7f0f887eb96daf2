"""The maps: extent around the exposed sites, the swath grid, a PNG that is a picture of the
right size, and an HTML file that opens offline with a tooltip for every site drawn."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from matplotlib.path import Path as MplPath
from PIL import Image

from baoxian.radar.maps import Extent, land_polygons, map_data, render_html, render_png
from baoxian.radar.repository import ROW_SCHEMA, PerilTerms, site_book
from baoxian.radar.services import BookAssessment, assess_book
from baoxian.radar.tracks import Track

SITES = [  # (unit, lat, lon, city): the Pearl River Delta, Hainan, and Beijing far away
    ("ZH-01", 22.27, 113.58, "珠海市"),
    ("SZ-01", 22.54, 114.06, "深圳市"),
    ("GZ-01", 23.13, 113.26, "广州市"),
    ("HK-01", 20.02, 110.35, "海口市"),
    ("BJ-01", 39.90, 116.41, "北京市"),
]


@pytest.fixture(scope="module")
def assessment(mangkhut: Track) -> BookAssessment:
    rows = pl.DataFrame(
        [
            {
                "policy_number": f"P{i}",
                "product_code": "PAR-ENT",
                "plan_version": "2026",
                "holder_id": f"H{i}",
                "unit_key": unit,
                "facts": '{"construction_class": "C", "occupancy": "warehouse"}',
                "details": f'{{"latitude": {lat}, "longitude": {lon}, "city": "{city}", '
                f'"province": "广东省", "name": "仓库"}}',
                "declared_fen": 50_000_000_00,
                "cover": '{"typhoon": 5000000000}',
            }
            for i, (unit, lat, lon, city) in enumerate(SITES)
        ],
        schema=dict(ROW_SCHEMA),
    )
    terms = {("PAR-ENT", "2026"): PerilTerms("typhoon", 2_000_000, Decimal("0.10"), None)}
    book = site_book(rows, terms)
    return BookAssessment(date(2026, 9, 1), book, assess_book(mangkhut, book))


def test_the_map_is_around_the_exposed_sites(mangkhut: Track, assessment: BookAssessment) -> None:
    data = map_data(mangkhut, assessment, cells=80)
    levels = dict(zip([s[0] for s in SITES], assessment.losses.warning.tolist(), strict=True))
    assert levels["ZH-01"] == 4 and levels["BJ-01"] == 0
    extent = data.extent
    for unit, lat, lon, _ in SITES[:4]:
        assert extent.west < lon < extent.east and extent.south < lat < extent.north, unit
    assert not extent.north > 39.9  # Beijing has no wind: it is not what the map is about
    assert extent.east - extent.west >= 8.0
    assert data.grid_wind.shape == (data.grid_lat.size, data.grid_lon.size)
    assert data.grid_lon[0] < extent.west and data.grid_lon[-1] > extent.east  # room to pan
    assert float(data.grid_wind.max()) > 40.0
    assert len(data.site_tips) == 4 and "ZH-01" in data.site_tips[0]
    assert "红色 red" in data.site_tips[0] and "Est. insured loss ¥" in data.site_tips[0]


def test_the_png_is_a_picture(mangkhut: Track, assessment: BookAssessment, tmp_path: Path) -> None:
    path = render_png(map_data(mangkhut, assessment, cells=80), tmp_path / "maps" / "m.png", dpi=80)
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert 700 < width < 1000 and 400 < height < 1400
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    colours = {tuple(int(c) for c in p) for p in pixels[:: max(1, len(pixels) // 20_000)]}
    assert len(colours) > 50  # land, sea, swath, sites: not a blank canvas


def test_the_html_opens_offline(
    mangkhut: Track, assessment: BookAssessment, tmp_path: Path
) -> None:
    data = map_data(mangkhut, assessment, cells=80)
    page = render_html(data, tmp_path / "m.html").read_text(encoding="utf-8")
    assert re.findall(r"https?://[^\s\"']+", page) == ["http://www.w3.org/2000/svg"]
    assert "<script" in page and "src=" not in page and "<link" not in page
    assert page.count('class="site ') == len(data.site_tips) == 4
    assert page.count('<circle class="fix"') == mangkhut.size
    assert page.count('class="swath"') == 4
    for words in ("风险雷达", "Typhoon risk radar", "逐时路径 Hourly track", "复位 Reset"):
        assert words in page
    assert "P0 / ZH-01" in page  # the tooltip of the Zhuhai site


def test_the_coastline_ships_with_the_package() -> None:
    polygons = land_polygons()
    assert len(polygons) > 100
    hainan = [p for p in polygons if MplPath(p[0]).contains_point((109.8, 19.2))]
    sea = [p for p in polygons if MplPath(p[0]).contains_point((114.5, 21.0))]
    assert len(hainan) == 1 and sea == []


def test_extent_helpers() -> None:
    extent = Extent(110.0, 120.0, 20.0, 30.0)
    grown = extent.grown(0.1)
    assert (grown.west, grown.east, grown.south, grown.north) == (109.0, 121.0, 19.0, 31.0)
    inside = extent.contains(np.array([115.0, 125.0]), np.array([25.0, 25.0]))
    assert inside.tolist() == [True, False]
