"""The interactive radar map in a real browser, from a file and offline: hovering a site shows
its tooltip, the wheel zooms in, dragging pans, and reset brings the first view back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
from playwright.sync_api import Page, expect

from baoxian.radar.maps import map_data, render_html
from baoxian.radar.repository import ROW_SCHEMA, PerilTerms, site_book
from baoxian.radar.services import BookAssessment, assess_book
from baoxian.radar.tracks import read_track

ROOT = Path(__file__).resolve().parents[2]


def write_map(folder: Path) -> Path:
    rows = pl.DataFrame(
        [
            {
                "policy_number": "PARENT202600000001",
                "product_code": "PAR-ENT",
                "plan_version": "2026",
                "holder_id": "H1",
                "unit_key": "ZH-01",
                "facts": '{"construction_class": "C", "occupancy": "warehouse"}',
                "details": '{"latitude": 22.27, "longitude": 113.58, "city": "珠海市", '
                '"province": "广东省", "name": "一号仓库"}',
                "declared_fen": 20_000_000_00,
                "cover": '{"typhoon": 2000000000}',
            }
        ],
        schema=dict(ROW_SCHEMA),
    )
    book = site_book(
        rows, {("PAR-ENT", "2026"): PerilTerms("typhoon", 2_000_000, Decimal("0.10"), None)}
    )
    storm = read_track(ROOT / "data" / "typhoons" / "2017_hato.csv")
    assessment = BookAssessment(date(2026, 9, 1), book, assess_book(storm, book))
    return render_html(map_data(storm, assessment, cells=60), folder / "hato.html")


def view_box(page: Page) -> list[float]:
    return [float(v) for v in page.locator("#map").get_attribute("viewBox").split()]  # type: ignore[union-attr]


def test_tooltip_zoom_pan_and_reset(page: Page, tmp_path: Path) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(write_map(tmp_path).as_uri())
    expect(page.locator("h1")).to_contain_text("台风 HATO（1713）风险雷达")
    start = view_box(page)

    page.locator("circle.site").first.hover()
    tip = page.locator("#tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("一号仓库（珠海市）")
    expect(tip).to_contain_text("红色 red")

    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)
    zoomed = view_box(page)
    assert zoomed[2] < start[2] and zoomed[3] < start[3]

    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2 + 60)
    page.mouse.up()
    panned = view_box(page)
    assert panned[0] < zoomed[0] and panned[1] < zoomed[1] and panned[2] == zoomed[2]

    page.locator("#reset").click()
    assert view_box(page) == start
    assert errors == []
