"""The optional ``parametric`` section of a coverage (指数触发): what it accepts and refuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from baoxian.catalog.repository import load_catalog
from baoxian.catalog.services import Catalog
from tests.catalog.test_validation import copy_product

TIERS = "plan.coverages.0.parametric.tiers"


def test_the_index_product_reads_back_its_trigger(catalog: Catalog) -> None:
    coverage = catalog.plan_on("TY-INDEX", date(2026, 3, 1)).coverages["typhoon_index"]
    trigger = coverage.parametric
    assert trigger is not None
    assert (trigger.index, trigger.radius_km, trigger.wind_averaging_min) == (
        "max_wind_within_radius",
        Decimal("30"),
        2,
    )
    assert [(t.min_wind_ms, t.payout_ratio) for t in trigger.tiers] == [
        (Decimal("24.5"), Decimal("0.20")),
        (Decimal("32.7"), Decimal("0.50")),
        (Decimal("41.5"), Decimal("1")),
    ]
    assert [t.name.zh for t in trigger.tiers] == [
        "十级风及以上",
        "十二级风及以上",
        "十四级风及以上",
    ]


def test_products_without_the_section_are_unchanged(catalog: Catalog) -> None:
    for product in catalog.products():
        for version in product.versions:
            for coverage in version.coverages:
                assert (coverage.parametric is not None) == (product.code == "TY-INDEX")


def tiers(*steps: tuple[object, str]) -> list[dict[str, object]]:
    return [
        {"name": {"zh": f"档{i}", "en": f"tier {i}"}, "min_wind_ms": wind, "payout_ratio": ratio}
        for i, (wind, ratio) in enumerate(steps)
    ]


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({TIERS: tiers(("32.7", "0.5"), ("24.5", "0.8"))}, "", "increasing order"),
        ({TIERS: tiers(("24.5", "0.5"), ("32.7", "0.5"))}, "", "higher payout_ratio"),
        ({TIERS: []}, "tiers", "at least 1"),
        ({TIERS: tiers(("24.55", "0.5"))}, "min_wind_ms", "decimal"),
        ({TIERS: tiers(("24.5", "0"))}, "payout_ratio", "greater than 0"),
        ({"plan.coverages.0.parametric.radius": "30"}, "radius", "unknown key"),
        ({"plan.coverages.0.parametric.wind_averaging_min": 3}, "wind_averaging_min", ""),
        ({"plan.coverages.0.parametric.index": "rainfall"}, "index", ""),
        ({"plan.coverages.0.kind": "property_damage"}, "", "fixed_benefit"),
        ({"plan.coverages.0.deductible": {"per_claim": "500"}}, "", "no deductible"),
        ({"plan.coverages.0.payout_ratio": {"standard": "0.8"}}, "", "payout_ratio 1"),
    ],
)
def test_a_bad_trigger_is_refused_with_its_path(
    tmp_path: Path, change: dict[str, object], path: str, words: str
) -> None:
    copy_product(tmp_path, "typhoon-index.yaml", change)
    problems = load_catalog(tmp_path).problems
    assert len(problems) >= 1
    where = " ".join(f"{p.path} {p.message}" for p in problems)
    assert "coverages[0]" in where and path in where and words in where, where


def test_a_float_wind_is_refused(tmp_path: Path) -> None:
    copy_product(tmp_path, "typhoon-index.yaml", {TIERS: tiers((24.5, "0.5"))})
    problems = load_catalog(tmp_path).problems
    assert any("never as floats" in p.message for p in problems), problems
