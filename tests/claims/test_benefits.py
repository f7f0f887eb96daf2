"""Benefit calculation worked examples, to the fen, from the shipped product data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from baoxian.catalog.services import Catalog
from baoxian.claims.model import (
    Accumulators,
    Assessment,
    BillItem,
    CoverSnapshot,
    HealthClaim,
    PropertyClaim,
    adjudicate,
)
from baoxian.shared.clock import add_months
from baoxian.shared.money import Money, total

M = Money.of


def snapshot(
    catalog: Catalog,
    product: str,
    version: str,
    start: date = date(2026, 1, 1),
    in_force: bool = True,
    term_no: int = 1,
    sums: dict[str, Money] | None = None,
) -> CoverSnapshot:
    plan = catalog.plan(product, version).plan
    fixed = {c.code: Money(c.sum_insured.fixed) for c in plan.coverages if c.sum_insured.fixed}
    return CoverSnapshot(
        policy_number="P1",
        unit_key="u1",
        in_force=in_force,
        term_start=start,
        term_end=add_months(start, 12),
        original_inception=add_months(start, -12 * (term_no - 1)),
        term_no=term_no,
        sums_insured=sums or fixed,
        plan=plan,
    )


def health(*items: BillItem, loss: date = date(2026, 6, 1), **kw: object) -> HealthClaim:
    return HealthClaim("C1", "P1", "u1", loss, str(kw.pop("diagnosis", "K35.8")), items, **kw)  # type: ignore[arg-type]


def in_list(amount: str, basic: str = "0") -> BillItem:
    return BillItem("HOSP", "住院费用", "in_list", M(amount), M(basic))


def rules(assessment: Assessment) -> list[tuple[str, Money]]:
    return [(s.rule, s.reduction) for item in assessment.items for s in item.steps]


def test_huiminbao_crosses_the_shared_deductible_then_pays_the_next_claim(catalog: Catalog) -> None:
    cover = snapshot(catalog, "BJ-HMB", "2026")
    first = adjudicate(health(in_list("50000", basic="30000")), cover, Accumulators())
    # 50,000 − 30,000 医保 = 20,000; − 18,000 shared deductible = 2,000; × 80% = 1,600.00
    assert first.payable == M("1600.00")
    assert first.outcome == "partial"
    assert rules(first) == [
        ("claim.paid_by_basic_insurance", M("30000")),
        ("claim.deductible_annual", M("18000")),
        ("claim.co_payment", M("400")),
    ]
    assert first.accumulators.get("deductible:shared:hospital") == M("18000")
    out_of_list = BillItem("OUT", "目录外费用", "out_of_list", M("10000"))
    second = adjudicate(health(out_of_list), cover, first.accumulators)
    # deductible already met: 10,000 × 70% = 7,000.00
    assert second.payable == M("7000.00")
    assert second.accumulators.get("limit:shared:combined") == M("8600.00")


def test_pre_existing_condition_paid_at_the_lower_ratio(catalog: Catalog) -> None:
    cover = snapshot(catalog, "BJ-HMB", "2026")
    used = Accumulators({"deductible:shared:hospital": M("18000")})
    result = adjudicate(health(in_list("10000"), pre_existing=True), cover, used)
    assert result.payable == M("4000.00")
    assert result.items[0].steps[-1].zh == "按赔付比例 40% 赔付（既往症）"


def test_special_drugs_list_designated_pharmacy_and_car_t_sub_limit(catalog: Catalog) -> None:
    cover = snapshot(catalog, "BJ-HMB", "2026")
    items = (
        BillItem("L01EB04", "甲磺酸奥希替尼片", "special_drug", M("30000")),
        BillItem("L01XX99", "清单外药品", "special_drug", M("5000")),
        BillItem("L01FF02", "帕博利珠单抗", "special_drug", M("20000"), designated_provider=False),
        BillItem("XL01XL03", "阿基仑赛注射液", "special_drug", M("1200000")),
    )
    result = adjudicate(health(*items, diagnosis="C83.3"), cover, Accumulators())
    assert [(i.item, i.payable) for i in result.items] == [
        ("L01EB04", M("24000.00")),  # deductible 0, 80%
        ("L01XX99", M("0")),
        ("L01FF02", M("0")),
        ("XL01XL03", M("500000.00")),  # 1,200,000 × 80% = 960,000, CAR-T sub-limit 500,000
    ]
    assert rules(result)[1] == ("claim.drug_not_on_list", M("5000"))
    assert rules(result)[2] == ("claim.not_designated_provider", M("20000"))
    assert result.payable == M("524000.00")


def test_combined_limit_is_exhausted(catalog: Catalog) -> None:
    cover = snapshot(catalog, "BJ-HMB", "2026")
    used = Accumulators({"limit:shared:combined": M("2999000")})
    drug = BillItem("L01EB04", "甲磺酸奥希替尼片", "special_drug", M("10000"))
    result = adjudicate(health(drug), cover, used)
    # 10,000 × 80% = 8,000, only 1,000 left of the 3,000,000 combined limit
    assert result.payable == M("1000.00")
    assert rules(result)[-1] == ("claim.limit_exhausted", M("7000.00"))
    assert result.accumulators.get("limit:shared:combined") == M("3000000.00")
    again = adjudicate(health(drug), cover, result.accumulators)
    assert again.payable == M("0") and again.outcome == "decline"


def test_claim_after_the_policy_ended_is_declined(catalog: Catalog) -> None:
    cover = snapshot(catalog, "BJ-HMB", "2026")
    late = adjudicate(health(in_list("50000"), loss=date(2027, 1, 1)), cover, Accumulators())
    assert late.outcome == "decline"
    assert [r.rule for r in late.reasons] == ["claim.policy_not_in_force"]
    cancelled = snapshot(catalog, "BJ-HMB", "2026", in_force=False)
    assert adjudicate(health(in_list("5")), cancelled, Accumulators()).payable == M("0")


def test_long_term_medical_waiting_period_accident_and_renewal(catalog: Catalog) -> None:
    cover = snapshot(catalog, "LTM-15", "2026", start=date(2026, 3, 1))
    early = health(in_list("30000"), loss=date(2026, 3, 20))
    result = adjudicate(early, cover, Accumulators())
    assert result.payable == M("0")
    assert rules(result) == [("claim.waiting_period", M("30000"))]
    accident = adjudicate(
        health(in_list("30000"), loss=date(2026, 3, 20), accident=True), cover, Accumulators()
    )
    assert accident.payable == M("20000.00")  # 30,000 − 10,000 annual deductible
    renewed = snapshot(catalog, "LTM-15", "2026", start=date(2026, 3, 1), term_no=2)
    assert adjudicate(early, renewed, Accumulators()).payable == M("20000.00")
    # a member who joined the group in its second year serves the waiting period from the
    # day they joined (新增被保险人), although the policy itself was renewed
    joiner = snapshot(catalog, "LTM-15", "2026", start=date(2026, 3, 1), term_no=2)
    joiner = replace(joiner, original_inception=date(2026, 3, 10), term_start=date(2026, 3, 10))
    assert rules(adjudicate(early, joiner, Accumulators())) == [
        ("claim.waiting_period", M("30000"))
    ]
    before_joining = health(in_list("30000"), loss=date(2026, 3, 5), accident=True)
    declined = adjudicate(before_joining, joiner, Accumulators())
    assert declined.outcome == "decline" and declined.payable == M("0")
    assert [r.rule for r in declined.reasons] == ["claim.policy_not_in_force"]
    assert "2026-03-10" in declined.reasons[0].zh


def test_long_term_medical_annual_deductible_across_claims(catalog: Catalog) -> None:
    cover = snapshot(catalog, "LTM-15", "2026", start=date(2026, 1, 1))
    first = adjudicate(health(in_list("26000", basic="20000")), cover, Accumulators())
    assert first.payable == M("0")  # 6,000 goes to the 10,000 deductible
    second = adjudicate(health(in_list("9000")), cover, first.accumulators)
    assert second.payable == M("5000.00")  # 4,000 deductible left
    assert second.accumulators.get("deductible:general_medical") == M("10000")


def test_critical_illness_uses_its_own_coverage_without_deductible(catalog: Catalog) -> None:
    cover = snapshot(catalog, "LTM-15", "2026", start=date(2026, 1, 1))
    cancer = health(in_list("50000", basic="20000"), diagnosis="C34.1", loss=date(2026, 6, 1))
    result = adjudicate(cancer, cover, Accumulators())
    assert result.items[0].coverage == "critical_illness_medical"
    assert result.payable == M("30000.00")
    assert result.accumulators.get("limit:shared:annual_limit") == M("30000.00")


def site_cover(catalog: Catalog, value: str = "80000000") -> CoverSnapshot:
    sums = {c: M(value) for c in ("material_damage", "typhoon", "flood")}
    return snapshot(catalog, "PAR-ENT", "2026", sums=sums)


def test_property_typhoon_deductible_is_the_higher_of_amount_and_ratio(catalog: Catalog) -> None:
    loss = PropertyClaim("C9", "P1", "SZ-01", date(2026, 9, 16), "typhoon", M("1000000"))
    result = adjudicate(loss, site_cover(catalog), Accumulators())
    # deductible = max(20,000, 10% × 1,000,000) = 100,000
    assert result.payable == M("900000.00")
    small = PropertyClaim("C10", "P1", "SZ-01", date(2026, 9, 16), "typhoon", M("150000"))
    assert adjudicate(small, site_cover(catalog), Accumulators()).payable == M("130000.00")


def test_property_flood_basement_sub_limit_and_site_limit(catalog: Catalog) -> None:
    flood = PropertyClaim(
        "C11", "P1", "SZ-01", date(2026, 7, 1), "flood", M("3000000"), basement_loss=M("1500000")
    )
    result = adjudicate(flood, site_cover(catalog), Accumulators())
    # basement over 1,000,000: −500,000; deductible max(20,000, 300,000): −300,000
    assert result.payable == M("2200000.00")
    fire = PropertyClaim("C12", "P1", "SZ-02", date(2026, 7, 1), "fire", M("8000000"))
    capped = adjudicate(fire, site_cover(catalog, "5000000"), Accumulators())
    assert capped.payable == M("5000000.00")
    assert [s.rule for s in capped.items[0].steps] == [
        "claim.deductible_per_claim",
        "claim.limit_exhausted",
    ]


def test_property_peril_without_its_rider_is_declined(catalog: Catalog) -> None:
    quake = PropertyClaim("C13", "P1", "SZ-01", date(2026, 7, 1), "earthquake", M("500000"))
    result = adjudicate(quake, site_cover(catalog), Accumulators())
    assert result.outcome == "decline"
    assert rules(result) == [("claim.peril_not_covered", M("500000"))]


amounts = st.integers(min_value=0, max_value=5_000_000_00).map(Money.from_fen)


@given(
    st.lists(
        st.tuples(st.sampled_from(["in_list", "out_of_list"]), amounts), min_size=1, max_size=6
    ),
    st.booleans(),
)
def test_every_fen_is_accounted_for_and_deductible_never_exceeded(
    catalog: Catalog, claims: list[tuple[str, Money]], pre_existing: bool
) -> None:
    cover = snapshot(catalog, "BJ-HMB", "2026")
    used = Accumulators()
    paid = []
    for n, (category, amount) in enumerate(claims):
        item = BillItem(f"I{n}", "费用", category, amount)
        result = adjudicate(health(item, pre_existing=pre_existing), cover, used)
        for line in result.items:
            assert line.claimed == line.payable + total([s.reduction for s in line.steps])
            assert not line.payable.is_negative()
        used = result.accumulators
        paid.append(result.payable)
    assert used.get("deductible:shared:hospital") <= M("18000")
    assert used.get("limit:shared:combined") == total(paid) <= M("3000000")
