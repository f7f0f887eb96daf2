"""Quotes of every shipped product, with exact premiums to the fen."""

from __future__ import annotations

from datetime import date

import pytest

from baoxian.catalog.model import QuoteRequest, RiskUnit, quote
from baoxian.catalog.services import Catalog
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money

START = date(2026, 3, 1)


def person(age: int, gender: str = "M", **facts: object) -> RiskUnit:
    base: dict[str, object] = {
        "age": age,
        "gender": gender,
        "has_basic_medical": True,
        "medical_insurance_city": "110000",
        "region_code": "110105",
        "declared_conditions": [],
    }
    return RiskUnit(f"p{age}{gender}", {**base, **facts})


def test_huiminbao_one_flat_premium_for_everyone(catalog: Catalog) -> None:
    plan = catalog.plan_on("BJ-HMB", START)
    for unit in (person(3), person(45, "F"), person(99, declared_conditions=["cancer"])):
        result = quote(plan, QuoteRequest(START, (unit,)))
        assert result.annual_premium == Money.of("195.00")
        assert result.instalments == (Money.of("195.00"),)
        assert result.decision.outcome == "accept"
    cover = {line.coverage: line.sum_insured for line in result.cover}
    assert cover == {
        "in_list_inpatient": Money.of("3000000"),
        "out_of_list_inpatient": Money.of("3000000"),
        "special_drugs": Money.of("3000000"),
    }


def test_huiminbao_declines_without_beijing_basic_medical_insurance(catalog: Catalog) -> None:
    plan = catalog.plan_on("BJ-HMB", START)
    result = quote(plan, QuoteRequest(START, (person(40, medical_insurance_city="310000"),)))
    assert result.decision.outcome == "decline"
    assert [r.code for r in result.decision.reasons] == ["basic_medical_required"]
    assert result.decision.reasons[0].zh == "被保险人须为北京市基本医疗保险参保人员"


def test_huiminbao_group_premium_is_per_member(catalog: Catalog) -> None:
    plan = catalog.plan_on("BJ-HMB", START)
    units = tuple(person(age) for age in (20, 35, 50, 65, 80))
    assert quote(plan, QuoteRequest(START, units)).annual_premium == Money.of("975.00")


@pytest.mark.parametrize(
    ("age", "gender", "basic", "expected"),
    [
        (40, "M", True, "672.00"),
        (44, "F", True, "641.00"),
        (45, "M", True, "999.00"),
        (50, "F", True, "966.00"),
        (45, "M", False, "1598.40"),
        (30, "F", True, "245.00"),
        (0, "F", True, "590.00"),
    ],
)
def test_long_term_medical_premium_by_age_band_and_sex(
    catalog: Catalog, age: int, gender: str, basic: bool, expected: str
) -> None:
    plan = catalog.plan_on("LTM-15", START)
    result = quote(plan, QuoteRequest(START, (person(age, gender, has_basic_medical=basic),)))
    assert result.annual_premium == Money.of(expected)
    assert result.decision.outcome == "accept"


def test_long_term_medical_ages_40_to_50_pay_600_to_1000(catalog: Catalog) -> None:
    plan = catalog.plan_on("LTM-15", START)
    for age in range(40, 51):
        for gender in ("M", "F"):
            premium = quote(plan, QuoteRequest(START, (person(age, gender),))).annual_premium
            assert Money.of("600") <= premium <= Money.of("1000"), (age, gender, premium)


def test_long_term_medical_2025_table_differs_from_2026(catalog: Catalog) -> None:
    plan = catalog.plan_on("LTM-15", date(2025, 6, 1))
    assert plan.plan.version == "2025"
    result = quote(plan, QuoteRequest(date(2025, 6, 1), (person(45, "M"),)))
    assert result.annual_premium == Money.of("980.00")


def test_long_term_medical_monthly_instalments_sum_with_loading(catalog: Catalog) -> None:
    plan = catalog.plan_on("LTM-15", START)
    result = quote(plan, QuoteRequest(START, (person(45, "M"),), instalment="monthly"))
    # 999.00 × 1.04 = 1,038.96, split into 12: 86.58 × 12 = 1,038.96
    assert result.instalments == (Money.of("86.58"),) * 12
    assert result.total_payable == Money.of("1038.96")


def test_long_term_medical_refers_on_health_declaration_and_declines_over_60(
    catalog: Catalog,
) -> None:
    plan = catalog.plan_on("LTM-15", START)
    referred = quote(plan, QuoteRequest(START, (person(45, declared_conditions=["hypertension"]),)))
    assert referred.decision.outcome == "refer"
    assert [r.code for r in referred.decision.reasons] == ["health_declaration"]
    declined = quote(plan, QuoteRequest(START, (person(61, declared_conditions=["diabetes"]),)))
    assert declined.decision.outcome == "decline"
    assert [r.code for r in declined.decision.reasons] == ["entry_age", "health_declaration"]
    renewal = quote(plan, QuoteRequest(START, (person(70, "M"),), stage="renewal"))
    assert renewal.decision.outcome == "accept"
    assert renewal.annual_premium == Money.of("3860.00")


def site(key: str, value: str, cls: str, occupancy: str, coastal: bool) -> RiskUnit:
    facts = {"construction_class": cls, "occupancy": occupancy, "coastal": coastal}
    return RiskUnit(key, facts, Money.of(value))


def test_property_all_risks_per_site_rate_factors_and_rider(catalog: Catalog) -> None:
    plan = catalog.plan_on("PAR-ENT", START)
    sites = (
        # 80,000,000 × 0.50‰ × 1.30 × 1.25 = 65,000.00
        site("SZ-01", "80000000", "B", "light_manufacturing", True),
        # 20,000,000 × 0.35‰ × 0.80 × 1.00 = 5,600.00
        site("CD-01", "20000000", "A", "office", False),
    )
    result = quote(plan, QuoteRequest(START, sites))
    assert [(line.unit_key, line.amount) for line in result.lines] == [
        ("SZ-01", Money.of("65000.00")),
        ("CD-01", Money.of("5600.00")),
    ]
    assert result.annual_premium == Money.of("70600.00")
    with_quake = quote(plan, QuoteRequest(START, sites, riders=frozenset({"earthquake"})))
    # earthquake: 100,000,000 × 0.10‰ = 10,000.00
    assert with_quake.annual_premium == Money.of("80600.00")
    quarterly = quote(plan, QuoteRequest(START, sites, instalment="quarterly"))
    # 70,600 × 1.02 = 72,012.00 in four
    assert quarterly.instalments == (Money.of("18003.00"),) * 4


def test_property_minimum_premium_tops_up(catalog: Catalog) -> None:
    plan = catalog.plan_on("PAR-ENT", START)
    small = site("BJ-09", "3000000", "A", "office", False)  # 3,000,000 × 0.35‰ × 0.8 = 840.00
    result = quote(plan, QuoteRequest(START, (small,)))
    assert result.lines[0].amount == Money.of("840.00")
    assert result.minimum_premium_top_up == Money.of("1160.00")
    assert result.annual_premium == Money.of("2000.00")


def test_property_refers_large_combustible_site(catalog: Catalog) -> None:
    plan = catalog.plan_on("PAR-ENT", START)
    result = quote(plan, QuoteRequest(START, (site("X", "60000000", "D", "warehouse", True),)))
    assert result.decision.outcome == "refer"
    assert [r.code for r in result.decision.reasons] == ["combustible_large_site"]
    # 60,000,000 × 1.40‰ × 1.20 × 1.25 = 126,000.00
    assert result.annual_premium == Money.of("126000.00")


def index_site(key: str, coastal: bool) -> RiskUnit:
    return RiskUnit(key, {"construction_class": "C", "occupancy": "retail", "coastal": coastal})


def test_typhoon_index_rate_by_coast_and_chosen_sum_insured(catalog: Catalog) -> None:
    plan = catalog.plan_on("TY-INDEX", START)
    sites = (index_site("ZH-01", True), index_site("GZ-01", False), index_site("ZH-02", True))
    chosen = {"typhoon_index": Money.of("30000")}
    result = quote(plan, QuoteRequest(START, sites, selections=chosen))
    # 30,000 × 35‰ = 1,050.00 on the coast; 30,000 × 12‰ = 360.00 inland
    assert [(line.unit_key, line.amount) for line in result.lines] == [
        ("ZH-01", Money.of("1050.00")),
        ("GZ-01", Money.of("360.00")),
        ("ZH-02", Money.of("1050.00")),
    ]
    assert result.annual_premium == Money.of("2460.00")
    assert {(c.unit_key, c.coverage, c.sum_insured) for c in result.cover} == {
        (key, "typhoon_index", Money.of("30000")) for key in ("ZH-01", "GZ-01", "ZH-02")
    }
    assert result.decision.outcome == "accept"


def test_typhoon_index_default_sum_insured_and_minimum_premium(catalog: Catalog) -> None:
    plan = catalog.plan_on("TY-INDEX", START)
    inland = quote(plan, QuoteRequest(START, (index_site("CD-01", False),)))
    # default 10,000 × 12‰ = 120.00, topped up to the 200.00 minimum
    assert inland.lines[0].amount == Money.of("120.00")
    assert inland.minimum_premium_top_up == Money.of("80.00")
    assert inland.annual_premium == Money.of("200.00")
    top = quote(
        plan,
        QuoteRequest(
            START, (index_site("ZH-09", True),), selections={"typhoon_index": Money.of("50000")}
        ),
    )
    assert top.annual_premium == Money.of("1750.00")  # 50,000 × 35‰
    with pytest.raises(ValidationFailed) as error:
        quote(
            plan,
            QuoteRequest(
                START, (index_site("X", True),), selections={"typhoon_index": Money.of("40000")}
            ),
        )
    assert error.value.code == "quote.sum_insured_not_offered"


def vehicle(energy: str, value: str, claims_free: int, claims: int = 0) -> RiskUnit:
    facts = {
        "energy": energy,
        "age_years": 2,
        "seats": 5,
        "claims_free_years": claims_free,
        "claims_last_year": claims,
    }
    return RiskUnit("粤B·D12345", facts, Money.of(value))


def test_motor_nev_with_riders_and_no_claim_discount(catalog: Catalog) -> None:
    plan = catalog.plan_on("MOTOR-NEV", START)
    request = QuoteRequest(
        START,
        (vehicle("nev", "200000", claims_free=2),),
        selections={"third_party": Money.of("2000000"), "occupants": Money.of("10000")},
        riders=frozenset({"grid_failure", "charging_pile"}),
        optional_coverages=frozenset({"occupants"}),
    )
    result = quote(plan, request)
    assert {line.component: line.amount for line in result.lines} == {
        "own_damage": Money.of("2400.00"),  # (600 + 200,000 × 12‰) × 0.80
        "third_party": Money.of("1040.00"),  # 1,300 × 0.80
        "occupants": Money.of("150.00"),  # 10,000 × 3‰ × 5 seats
        "grid_failure": Money.of("100.00"),  # 200,000 × 0.5‰
        "charging_pile": Money.of("80.00"),
    }
    assert result.annual_premium == Money.of("3770.00")


def test_motor_region_factor_for_coastal_cities(catalog: Catalog) -> None:
    plan = catalog.plan_on("MOTOR-NEV", START)
    shenzhen = vehicle("nev", "200000", claims_free=2)
    shenzhen = RiskUnit(
        shenzhen.key, {**shenzhen.facts, "region_code": "440300"}, Money.of("200000")
    )
    result = quote(plan, QuoteRequest(START, (shenzhen,)))
    # own damage (600 + 2,400) × 0.80 × 1.10 = 2,640.00; third party 1,050 × 0.80 = 840.00
    assert {line.component: line.amount for line in result.lines} == {
        "own_damage": Money.of("2640.00"),
        "third_party": Money.of("840.00"),
    }


def test_motor_petrol_with_claims_loading(catalog: Catalog) -> None:
    plan = catalog.plan_on("MOTOR-NEV", START)
    result = quote(plan, QuoteRequest(START, (vehicle("petrol", "150000", 0, claims=2),)))
    # own damage (540 + 1,500) × 1.25 = 2,550.00; third party 1,050 × 1.25 = 1,312.50
    assert result.annual_premium == Money.of("3862.50")


def test_motor_nev_riders_refused_for_petrol_cars(catalog: Catalog) -> None:
    plan = catalog.plan_on("MOTOR-NEV", START)
    request = QuoteRequest(
        START, (vehicle("petrol", "150000", 1),), riders=frozenset({"grid_failure"})
    )
    with pytest.raises(ValidationFailed) as error:
        quote(plan, request)
    assert error.value.code == "quote.rider_not_available"


def test_sum_insured_not_offered_is_an_error(catalog: Catalog) -> None:
    plan = catalog.plan_on("MOTOR-NEV", START)
    request = QuoteRequest(
        START, (vehicle("nev", "200000", 1),), selections={"third_party": Money.of("1500000")}
    )
    with pytest.raises(ValidationFailed) as error:
        quote(plan, request)
    assert error.value.code == "quote.sum_insured_not_offered"


def test_pension_premium_is_the_contribution_chosen(catalog: Catalog) -> None:
    plan = catalog.plan_on("PENSION-ANN", START)
    default = quote(plan, QuoteRequest(START, (person(35),)))
    assert default.annual_premium == Money.of("12000.00")  # 12,000 × 1000‰
    assert default.decision.outcome == "accept"
    assert [(c.coverage, c.sum_insured) for c in default.cover] == [("pension", Money.of("12000"))]
    chosen = {"pension": Money.of("1200")}
    expected = {
        "annual": (Money.of("1200.00"),),
        "semi_annual": (Money.of("600.00"),) * 2,
        "quarterly": (Money.of("300.00"),) * 4,
        "monthly": (Money.of("100.00"),) * 12,  # 百元起交: no loading on an account product
    }
    for instalment, parts in expected.items():
        request = QuoteRequest(START, (person(35, "F"),), selections=chosen, instalment=instalment)
        assert quote(plan, request).instalments == parts


def test_pension_entry_ages_18_to_59_and_offered_contributions_only(catalog: Catalog) -> None:
    plan = catalog.plan_on("PENSION-ANN", START)
    for age, outcome in ((17, "decline"), (18, "accept"), (59, "accept"), (60, "decline")):
        result = quote(plan, QuoteRequest(START, (person(age),)))
        assert result.decision.outcome == outcome, age
    declined = quote(plan, QuoteRequest(START, (person(60),)))
    assert [r.code for r in declined.decision.reasons] == ["entry_age"]
    request = QuoteRequest(START, (person(40),), selections={"pension": Money.of("10000")})
    with pytest.raises(ValidationFailed) as error:
        quote(plan, request)
    assert error.value.code == "quote.sum_insured_not_offered"
