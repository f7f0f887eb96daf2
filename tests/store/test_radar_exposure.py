"""The radar reads the store's in-force sites set-based, on SQLite and PostgreSQL: which
policies count on a date, each site's deductible, ratio and limit from the product, and the
insured loss of a real storm to the fen — recomputed here by hand with ``Decimal``."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from sqlalchemy import Engine

from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.radar.loss import RatioDeductible, site_losses
from baoxian.radar.services import assess_book
from tests.store.radar_world import (
    ON,
    World,
    index_policy,
    make_world,
    property_policy,
    site,
    track,
)


@pytest.fixture
def world(engine: Engine, uow: SqlUnitOfWorkFactory) -> World:
    return make_world(engine, uow)


@pytest.fixture
def book(world: World) -> dict[str, str]:
    """Policy numbers by role."""
    p1 = property_policy(
        world,
        "珠海华发仓储有限公司",
        date(2026, 3, 1),
        site("ZH-01", "zhuhai", "20000000", "C", "warehouse"),
        site("SZ-01", "shenzhen", "80000000", "B", "light_manufacturing"),
    )
    p2 = property_policy(
        world,
        "广州天河商务有限公司",
        date(2026, 2, 1),
        site("GZ-01", "guangzhou", "50000000", "A", "office"),
    )
    gone = property_policy(
        world, "深圳已退保有限公司", date(2026, 1, 15), site("SZ-09", "shenzhen", "30000000")
    )
    world.policies.cancel(gone.policy_number, date(2026, 5, 1), "停业")
    later = property_policy(
        world, "佛山未起保有限公司", date(2026, 10, 1), site("FS-01", "foshan", "30000000")
    )
    far = property_policy(
        world,
        "北京远方有限公司",
        date(2026, 1, 1),
        site("BJ-01", "beijing", "40000000", "A", "office"),
    )
    blind = property_policy(
        world,
        "无坐标有限公司",
        date(2026, 1, 1),
        site("NO-01", "zhuhai", "10000000", located=False),
    )
    index = index_policy(world, "珠海小店", date(2026, 1, 1), "30000", site("IX-01", "zhuhai"))
    return {
        "p1": p1.policy_number,
        "p2": p2.policy_number,
        "gone": gone.policy_number,
        "later": later.policy_number,
        "far": far.policy_number,
        "blind": blind.policy_number,
        "index": index.policy_number,
    }


def test_only_sites_in_force_on_the_date_are_read(world: World, book: dict[str, str]) -> None:
    sites = world.radar.exposure(ON)
    keys = sites.sites.select("policy_number", "unit_key").rows()
    assert sorted(keys) == sorted(
        [
            (book["p1"], "ZH-01"),
            (book["p1"], "SZ-01"),
            (book["p2"], "GZ-01"),
            (book["far"], "BJ-01"),
        ]
    )
    assert (sites.unlocated, sites.uncovered) == (1, 0)
    before = world.radar.exposure(date(2026, 4, 30))  # the cancelled one was still in force
    assert (book["gone"], "SZ-09") in before.sites.select("policy_number", "unit_key").rows()
    assert (book["later"], "FS-01") in world.radar.exposure(date(2026, 10, 1)).sites.select(
        "policy_number", "unit_key"
    ).rows()
    assert world.radar.exposure(date(2026, 1, 1)).size == 1  # Beijing only (Jan 1 start)
    index = world.radar.exposure(ON, ("TY-INDEX",))
    assert index.sites.select("policy_number", "unit_key", "coverage").rows() == [
        (book["index"], "IX-01", "typhoon_index")
    ]
    assert index.exposure.limit_fen.tolist() == [3_000_000]  # the chosen 30,000.00
    assert index.exposure.deductible_fen.tolist() == [0]


def test_each_site_carries_the_products_terms(world: World, book: dict[str, str]) -> None:
    sites = world.radar.exposure(ON)
    frame = sites.sites.with_columns(
        limit=sites.exposure.limit_fen,
        value=sites.exposure.value_fen,
        deductible=sites.exposure.deductible_fen,
        city=sites.exposure.city.decode(),
        province=sites.exposure.province.decode(),
        construction=sites.exposure.construction.decode(),
        lat=sites.exposure.lat,
    ).sort("unit_key")
    assert frame.select(
        "unit_key", "value", "limit", "deductible", "city", "province", "construction", "lat"
    ).rows() == [
        ("BJ-01", 4_000_000_000, 4_000_000_000, 2_000_000, "北京市", "北京市", "A", 39.90),
        ("GZ-01", 5_000_000_000, 5_000_000_000, 2_000_000, "广州市", "广东省", "A", 23.13),
        ("SZ-01", 8_000_000_000, 8_000_000_000, 2_000_000, "深圳市", "广东省", "B", 22.54),
        ("ZH-01", 2_000_000_000, 2_000_000_000, 2_000_000, "珠海市", "广东省", "C", 22.27),
    ]
    ratio = sites.deductible_ratio
    assert set(zip(ratio.numerator.tolist(), ratio.denominator.tolist(), strict=True)) == {(1, 10)}


def test_a_storms_insured_loss_to_the_fen(world: World, book: dict[str, str]) -> None:
    hato = track("2017_hato")
    assessment = world.radar.assess(hato, ON)
    losses = assessment.losses
    frame = assessment.site_frame()
    # every site by hand: ground-up = value × damage (half up); deductible = max(20,000.00,
    # 10 % of ground-up half up); insured = min(max(ground-up − deductible, 0), limit)
    for row in frame.iter_rows(named=True):
        index = int(row["site_id"])
        value = int(assessment.book.exposure.value_fen[index])
        ground_up = int(
            (Decimal(value) * Decimal(float(losses.damage_ratio[index]))).quantize(
                Decimal(1), ROUND_HALF_UP
            )
        )
        assert row["ground_up_fen"] == ground_up
        share = (Decimal(ground_up) / 10).quantize(Decimal(1), ROUND_HALF_UP)
        deductible = max(Decimal(2_000_000), share)
        expected = min(max(ground_up - int(deductible), 0), value)
        assert row["insured_fen"] == expected, row["unit_key"]
    by_unit = dict(zip(frame["unit_key"], frame["insured_fen"], strict=True))
    assert by_unit["ZH-01"] > 0 and by_unit["SZ-01"] > 0 and by_unit["BJ-01"] == 0
    levels = dict(zip(frame["unit_key"], frame["level"], strict=True))
    assert levels["ZH-01"] == 4 and levels["BJ-01"] == 0
    # the totals agree with the sites, and a ratio-less deductible would have paid more
    for table in assessment.event.totals.values():
        assert int(table["insured_fen"].sum()) == int(losses.insured_fen.sum())
    fixed_only = site_losses(
        assessment.book.exposure, losses.wind_ms, world.radar.physics.vulnerability
    )
    assert int(fixed_only.insured_fen.sum()) > int(losses.insured_fen.sum())
    again = assess_book(hato, assessment.book)
    assert np.array_equal(again.losses.insured_fen, losses.insured_fen)
    none = site_losses(
        assessment.book.exposure,
        losses.wind_ms,
        world.radar.physics.vulnerability,
        deductible_ratio=RatioDeductible.none(assessment.book.size),
    )
    assert np.array_equal(none.insured_fen, fixed_only.insured_fen)


def test_an_empty_store_assesses_to_nothing(world: World) -> None:
    assessment = world.radar.assess(track("2018_mangkhut"), ON)
    assert assessment.book.size == 0
    assert assessment.losses.insured_total.is_zero()
    assert all(table.is_empty() for table in assessment.event.totals.values())
