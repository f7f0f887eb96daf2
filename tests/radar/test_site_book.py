"""From stored site rows to the radar's book (pure): coordinates, city and province (from the
details, else from the address), the plan's deductible and the unit's cover as the limit, and
which sites are left out and why."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

import polars as pl

from baoxian.catalog.services import Catalog
from baoxian.radar.repository import ROW_SCHEMA, PerilTerms, peril_terms, site_book

PAR = ("PAR-ENT", "2026")


def row(
    policy: str,
    unit: str,
    details: Mapping[str, object],
    cover: Mapping[str, int],
    declared: int | None = 80_000_000_00,
    product: tuple[str, str] = PAR,
    facts: Mapping[str, object] | None = None,
) -> dict[str, object]:
    return {
        "policy_number": policy,
        "product_code": product[0],
        "plan_version": product[1],
        "holder_id": f"H-{policy}",
        "unit_key": unit,
        "facts": json.dumps(facts or {"construction_class": "B", "occupancy": "warehouse"}),
        "details": json.dumps(details),
        "declared_fen": declared,
        "cover": json.dumps(cover),
    }


def frame(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=dict(ROW_SCHEMA))


COVER = {"material_damage": 80_000_000_00, "typhoon": 80_000_000_00, "flood": 80_000_000_00}


def test_the_terms_come_from_the_plan(catalog: Catalog) -> None:
    terms = peril_terms(catalog, [PAR, ("TY-INDEX", "2026"), ("BJ-HMB", "2026")], "typhoon")
    assert terms[PAR] == PerilTerms("typhoon", 2_000_000, Decimal("0.10"), None)
    index = terms[("TY-INDEX", "2026")]
    assert (index.coverage, index.deductible_fen, index.deductible_ratio) == (
        "typhoon_index",
        0,
        Decimal(0),
    )
    assert index.parametric is not None
    assert ("BJ-HMB", "2026") not in terms  # no typhoon cover at all


def test_sites_become_columns_with_their_terms(catalog: Catalog) -> None:
    terms = peril_terms(catalog, [PAR], "typhoon")
    shenzhen = {
        "latitude": 22.54,
        "longitude": 114.06,
        "city": "深圳市",
        "province": "广东省",
        "name": "一号厂房",
        "address": "广东省深圳市南山区科技园1号",
    }
    baoan = {"latitude": 22.60, "longitude": 114.10, "address": "广东省深圳市宝安区福永1号"}
    shanghai = {"latitude": 31.23, "longitude": 121.47, "address": "上海市浦东新区"}
    nowhere = {"address": "广西壮族自治区南宁市青秀区"}
    somewhere = {"latitude": 22.0, "longitude": 114.0}
    rows = frame(
        row("P1", "SZ-01", shenzhen, COVER),
        row("P1", "SZ-02", baoan, {**COVER, "typhoon": 50_000_000_00}, declared=None),
        row("P2", "SH-01", shanghai, COVER),
        row("P3", "X-01", nowhere, COVER),  # no coordinates
        row("P4", "X-02", {"latitude": 95.0, "longitude": 114.0}, COVER),  # not on Earth
        row("P5", "X-03", somewhere, {"material_damage": 1}),  # no typhoon cover on the unit
        row("P6", "X-04", somewhere, COVER, product=("BJ-HMB", "2026")),  # plan without it
    )
    book = site_book(rows, terms)
    assert (book.size, book.unlocated, book.uncovered) == (3, 2, 2)
    exposure = book.exposure
    assert exposure.lat.tolist() == [22.54, 22.60, 31.23]
    assert exposure.city.decode().to_list() == ["深圳市", "深圳市", "上海市"]
    assert exposure.province.decode().to_list() == ["广东省", "广东省", "上海市"]
    assert exposure.deductible_fen.tolist() == [2_000_000] * 3
    assert exposure.limit_fen.tolist() == [80_000_000_00, 50_000_000_00, 80_000_000_00]
    assert exposure.value_fen.tolist() == [80_000_000_00, 50_000_000_00, 80_000_000_00]
    assert (
        book.deductible_ratio.numerator.tolist(),
        book.deductible_ratio.denominator.tolist(),
    ) == (
        [1, 1, 1],
        [10, 10, 10],
    )
    assert exposure.occupancy.decode().to_list() == ["warehouse"] * 3
    assert book.sites.select("site_id", "policy_number", "unit_key", "name").rows() == [
        (0, "P1", "SZ-01", "一号厂房"),
        (1, "P1", "SZ-02", "SZ-02"),
        (2, "P2", "SH-01", "SH-01"),
    ]


def test_an_empty_book_is_an_empty_exposure(catalog: Catalog) -> None:
    book = site_book(frame(), peril_terms(catalog, [], "typhoon"))
    assert (book.size, book.unlocated, book.uncovered) == (0, 0, 0)
    assert book.sites.height == 0


def test_addresses_of_autonomous_regions_and_municipalities() -> None:
    terms = {PAR: PerilTerms("typhoon", 0, Decimal(0), None)}
    places = [
        "广西壮族自治区北海市海城区",
        "内蒙古自治区呼和浩特市新城区",
        "天津市滨海新区",
        "某地",
    ]
    rows = frame(
        *[
            row(f"P{i}", "S", {"latitude": 22.0, "longitude": 110.0, "address": a}, COVER)
            for i, a in enumerate(places)
        ]
    )
    book = site_book(rows, terms)
    assert book.exposure.city.decode().to_list() == ["北海市", "呼和浩特市", "天津市", "未知"]
    assert book.exposure.province.decode().to_list() == [
        "广西壮族自治区",
        "内蒙古自治区",
        "天津市",
        "未知",
    ]


def test_terms_are_read_once_per_plan(catalog: Catalog) -> None:
    assert len(peril_terms(catalog, [PAR, PAR, PAR], "typhoon")) == 1


def test_odd_json_values_are_read_field_by_field() -> None:
    """A latitude written as text, or a name that is a number, does not stop the read: the
    book falls back to reading field by field and gets the same coordinates."""
    terms = {PAR: PerilTerms("typhoon", 0, Decimal(0), None)}
    plain = {"latitude": 22.5, "longitude": 114.0, "city": "深圳市", "province": "广东省"}
    odd = {"latitude": "22.6", "longitude": 114.1, "name": 7, "city": "深圳市"}
    both = site_book(frame(row("P1", "A", plain, COVER), row("P2", "B", odd, COVER)), terms)
    fast = site_book(frame(row("P1", "A", plain, COVER)), terms)
    assert both.exposure.lat.tolist() == [22.5, 22.6]
    assert both.exposure.lon.tolist() == [114.0, 114.1]
    assert both.sites["name"].to_list() == ["A", "7"]
    assert both.exposure.province.decode().to_list() == ["广东省", "未知"]
    assert fast.exposure.lat.tolist() == [22.5]
