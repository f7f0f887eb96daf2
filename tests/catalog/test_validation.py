"""`baoxian catalog validate`: every problem names the file, the path inside it and what."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from baoxian.catalog.repository import load_catalog
from baoxian.catalog.schema import json_schema
from tests.conftest import CATALOG_DIR


def copy_product(tmp_path: Path, name: str, change: dict[str, object]) -> Path:
    data = yaml.safe_load((CATALOG_DIR / name).read_text(encoding="utf-8"))
    plan = data["versions"][0]
    for dotted, value in change.items():
        target, *path = dotted.split(".")
        node = data if target == "product" else plan
        for key in path[:-1]:
            node = node[int(key)] if key.isdigit() else node[key]
        node[path[-1]] = value
    out = tmp_path / name
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


def test_shipped_catalogue_is_valid() -> None:
    result = load_catalog(CATALOG_DIR)
    assert result.problems == []
    assert sorted(result.products) == [
        "BJ-HMB",
        "LTM-15",
        "MOTOR-NEV",
        "PAR-ENT",
        "PENSION-ANN",
        "TY-INDEX",
    ]


def test_unknown_key_is_an_error_with_its_path(tmp_path: Path) -> None:
    path = copy_product(tmp_path, "bj-huiminbao.yaml", {"plan.coverages.0.limt": "1"})
    problems = load_catalog(tmp_path).problems
    assert [(p.file, p.path, p.message) for p in problems] == [
        (str(path), "versions[0].coverages[0].limt", "unknown key (not in the product schema)")
    ]


def test_float_money_is_refused(tmp_path: Path) -> None:
    copy_product(
        tmp_path, "property-all-risks.yaml", {"plan.coverages.0.deductible.per_claim": 0.5}
    )
    (problem,) = load_catalog(tmp_path).problems
    assert problem.path == "versions[0].coverages[0].deductible.per_claim"
    assert "never as floats" in problem.message


def test_missing_key_and_bad_reference(tmp_path: Path) -> None:
    copy_product(tmp_path, "property-all-risks.yaml", {"plan.rating.components.0.table": "nope"})
    (problem,) = load_catalog(tmp_path).problems
    assert problem.path == "versions[0]"
    assert "unknown table 'nope'" in problem.message


def test_invalid_cel_names_the_rule(tmp_path: Path) -> None:
    copy_product(tmp_path, "motor-nev.yaml", {"plan.eligibility.0.require": "vehicle.age_years <="})
    (problem,) = load_catalog(tmp_path).problems
    assert problem.path == "versions[0].eligibility[0].require"
    assert problem.message.startswith("invalid CEL")


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("code: [unclosed", encoding="utf-8")
    (problem,) = load_catalog(tmp_path).problems
    assert problem.file == str(bad)
    assert "not valid YAML" in problem.message


def test_overlapping_versions_are_refused(tmp_path: Path) -> None:
    copy_product(tmp_path, "long-term-medical.yaml", {"plan.effective_to": "2026-02-01"})
    (problem,) = load_catalog(tmp_path).problems
    assert "overlap" in problem.message


def test_a_premium_loan_needs_a_policy_loan_rate(tmp_path: Path) -> None:
    copy_product(tmp_path, "pension-annuity.yaml", {"plan.billing.policy_loan": None})
    (problem,) = load_catalog(tmp_path).problems
    assert problem.path == "versions[0].billing"
    assert "automatic_premium_loan needs policy_loan" in problem.message


def test_an_annuity_needs_an_account(tmp_path: Path) -> None:
    copy_product(tmp_path, "pension-annuity.yaml", {"plan.account": None})
    (problem,) = load_catalog(tmp_path).problems
    assert problem.path == "versions[0]"
    assert "add an account" in problem.message


def test_every_start_age_and_sex_needs_a_conversion_rate(tmp_path: Path) -> None:
    data = yaml.safe_load((CATALOG_DIR / "pension-annuity.yaml").read_text(encoding="utf-8"))
    rates = data["versions"][0]["annuity"]["conversion_rates"]
    rates[:] = [r for r in rates if (r.get("age"), r.get("gender")) != (65, "F")]
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (problem,) = load_catalog(tmp_path).problems
    assert problem.path == "versions[0].annuity"
    assert "no conversion rate for option lifelong, age 65, F" in problem.message


def test_billing_terms_refuse_floats_unknown_keys_and_unoffered_defaults(tmp_path: Path) -> None:
    cases = {
        "plan.account.guaranteed_rate": (0.02, "versions[0].account.guaranteed_rate"),
        "plan.billing.grace_period": (60, "versions[0].billing.grace_period"),
        "plan.account.dividends.default": ("cash_out", "versions[0].account.dividends.default"),
        "plan.billing.policy_loan.max_ratio": ("1.5", "versions[0].billing.policy_loan.max_ratio"),
    }
    for dotted, (value, path) in cases.items():
        folder = tmp_path / dotted
        folder.mkdir()
        copy_product(folder, "pension-annuity.yaml", {dotted: value})
        (problem,) = load_catalog(folder).problems
        assert problem.path == path, (dotted, problem)


def test_published_json_schema_matches_the_models() -> None:
    published = CATALOG_DIR.parent / "docs" / "product.schema.json"
    assert json.loads(published.read_text(encoding="utf-8")) == json_schema()
