"""The engine's reasons, stored as wording codes and arguments, read exactly as the
sentences it wrote before (each expected text below is what the engine wrote in full until
2026-12-02), and stored EOBs of either form render the same."""

from __future__ import annotations

import doctest
from datetime import date

import pytest

from baoxian.catalog.services import Catalog
from baoxian.claims import reasons
from baoxian.claims.case import eob_json
from baoxian.claims.model import Accumulators, Assessment, BillItem, PropertyClaim, adjudicate
from baoxian.claims.reasons import WORDINGS, render, step_texts
from baoxian.shared.money import Money
from tests.claims.test_benefits import health, in_list, site_cover, snapshot

M = Money.of


def scenarios(catalog: Catalog) -> list[Assessment]:
    """Claims that, together, use every wording."""
    hmb = snapshot(catalog, "BJ-HMB", "2026")
    ltm = snapshot(catalog, "LTM-15", "2026", start=date(2026, 3, 1))
    drugs = (
        BillItem("L01EB04", "甲磺酸奥希替尼片", "special_drug", M("30000")),
        BillItem("L01XX99", "清单外药品", "special_drug", M("5000")),
        BillItem("L01FF02", "帕博利珠单抗", "special_drug", M("20000"), designated_provider=False),
        BillItem("XL01XL03", "阿基仑赛注射液", "special_drug", M("1200000")),
    )
    met = Accumulators({"deductible:shared:hospital": M("18000")})
    first = adjudicate(health(in_list("50000", basic="30000")), hmb, Accumulators())
    sites = site_cover(catalog)
    return [
        first,
        adjudicate(health(in_list("10000"), pre_existing=True), hmb, met),
        adjudicate(health(*drugs, diagnosis="C83.3"), hmb, Accumulators()),
        adjudicate(
            health(BillItem("L01EB04", "奥希替尼", "special_drug", M("10000"))),
            hmb,
            Accumulators({"limit:shared:combined": M("2999000")}),
        ),
        adjudicate(health(in_list("50000"), loss=date(2027, 1, 1)), hmb, Accumulators()),
        adjudicate(health(BillItem("D1", "镶牙", "dental", M("800"))), hmb, Accumulators()),
        adjudicate(health(in_list("30000"), loss=date(2026, 3, 20)), ltm, Accumulators()),
        adjudicate(
            health(in_list("9000"), loss=date(2026, 6, 1)),
            ltm,
            Accumulators({"deductible:general_medical": M("6000.50")}),
        ),
        adjudicate(
            health(in_list("50000"), loss=date(2026, 6, 1)),
            ltm,
            Accumulators(
                {"deductible:general_medical": M("10000"), "limit:general_medical": M("2999990")}
            ),
        ),
        adjudicate(
            PropertyClaim("C9", "P1", "SZ-01", date(2026, 9, 16), "typhoon", M("1000000")),
            sites,
            Accumulators(),
        ),
        adjudicate(
            PropertyClaim(
                "C11", "P1", "SZ-01", date(2026, 7, 1), "flood", M("3000000"), M("1500000")
            ),
            sites,
            Accumulators(),
        ),
        adjudicate(
            PropertyClaim("C12", "P1", "SZ-02", date(2026, 7, 1), "fire", M("8000000")),
            site_cover(catalog, "5000000"),
            Accumulators(),
        ),
        adjudicate(
            PropertyClaim("C13", "P1", "SZ-01", date(2026, 7, 1), "earthquake", M("500000")),
            sites,
            Accumulators(),
        ),
        adjudicate(
            PropertyClaim(
                "C14",
                "P1",
                "SZ-01",
                date(2026, 9, 16),
                "typhoon",
                M("300000"),
                basis_zh="台风“桦加沙”实测风速 45.2 米/秒，第二档",
                basis_en="typhoon Ragasa measured 45.2 m/s, tier 2",
            ),
            sites,
            Accumulators(),
        ),
    ]


def texts(assessments: list[Assessment]) -> list[tuple[str, str, str]]:
    steps = [s for a in assessments for s in (*a.reasons, *(s for i in a.items for s in i.steps))]
    return [(s.rule, s.zh, s.en) for s in steps]


EXPECTED = [
    (
        "claim.paid_by_basic_insurance",
        "基本医疗保险已支付部分先行扣除",
        "amount already paid by basic medical insurance",
    ),
    (
        "claim.deductible_annual",
        "共用年度免赔额（住院责任年度共用免赔额） 18,000.00 元，本年已用 0.00 元",
        "shared annual deductible (Annual hospital deductible shared by both"
        " inpatient benefits) of 18,000.00 CNY, 0.00 used this year",
    ),
    (
        "claim.co_payment",
        "按赔付比例 80% 赔付",
        "payout ratio 80%",
    ),
    (
        "claim.co_payment",
        "按赔付比例 40% 赔付（既往症）",
        "payout ratio 40% (pre-existing condition)",
    ),
    (
        "claim.co_payment",
        "按赔付比例 80% 赔付",
        "payout ratio 80%",
    ),
    (
        "claim.drug_not_on_list",
        "药品 L01XX99 不在本产品特药清单内",
        "drug L01XX99 is not on the product's special-drug list",
    ),
    (
        "claim.not_designated_provider",
        "未在指定药店或医院购药，不予赔付",
        "not bought at a designated pharmacy or hospital",
    ),
    (
        "claim.co_payment",
        "按赔付比例 80% 赔付",
        "payout ratio 80%",
    ),
    (
        "claim.limit_exhausted",
        "超过分项限额「CAR-T细胞治疗药品」 500,000.00 元的剩余额度",
        "over what is left of the sub-limit 'CAR-T cell therapy' of 500,000.00 CNY",
    ),
    (
        "claim.co_payment",
        "按赔付比例 80% 赔付",
        "payout ratio 80%",
    ),
    (
        "claim.limit_exhausted",
        "超过共用保额「合计保险金额」 3,000,000.00 元的剩余额度",
        "over what is left of the shared limit 'Combined limit' of 3,000,000.00 CNY",
    ),
    (
        "claim.policy_not_in_force",
        "出险日 2027-01-01 不在被保险人的保障期间"
        "（2026-01-01 至 2027-01-01 前一日）内，或保单已终止",
        "the date of loss 2027-01-01 is outside the insured's cover (2026-01-01"
        " to the day before 2027-01-01) or the policy had ended",
    ),
    (
        "claim.not_covered",
        "费用类别「dental」不属于本保单保障范围",
        "item category 'dental' is not covered by this policy",
    ),
    (
        "claim.waiting_period",
        "出险日在 30 天等待期内（2026-03-31 前），非意外不予赔付",
        "illness within the 30-day waiting period (before 2026-03-31)",
    ),
    (
        "claim.deductible_annual",
        "年度免赔额 10,000.00 元，本年已用 6,000.50 元",
        "annual deductible of 10,000.00 CNY, 6,000.50 used this year",
    ),
    (
        "claim.limit_exhausted",
        "超过保险金额（一般医疗保险金） 1,000,000.00 元的剩余额度",
        "over what is left of the sum insured (General medical benefit) of 1,000,000.00 CNY",
    ),
    (
        "claim.deductible_per_claim",
        "每次事故免赔额 100,000.00 元",
        "per-claim deductible of 100,000.00 CNY",
    ),
    (
        "claim.sub_limit",
        "地下室财产超过分项限额 1,000,000 元",
        "basement property over the 1,000,000 CNY sub-limit",
    ),
    (
        "claim.deductible_per_claim",
        "每次事故免赔额 300,000.00 元",
        "per-claim deductible of 300,000.00 CNY",
    ),
    (
        "claim.deductible_per_claim",
        "每次事故免赔额 5,000.00 元",
        "per-claim deductible of 5,000.00 CNY",
    ),
    (
        "claim.limit_exhausted",
        "超过保险金额剩余额度",
        "over what is left of the sum insured",
    ),
    (
        "claim.peril_not_covered",
        "致损原因「earthquake」不在保险责任内",
        "peril 'earthquake' is not covered",
    ),
    (
        "claim.index_basis",
        "台风“桦加沙”实测风速 45.2 米/秒，第二档",
        "typhoon Ragasa measured 45.2 m/s, tier 2",
    ),
    (
        "claim.deductible_per_claim",
        "每次事故免赔额 30,000.00 元",
        "per-claim deductible of 30,000.00 CNY",
    ),
]


def test_reasons_read_as_the_engine_wrote_them(catalog: Catalog) -> None:
    assert texts(scenarios(catalog)) == EXPECTED


def test_the_scenarios_use_every_wording(catalog: Catalog) -> None:
    used = {
        s.text
        for a in scenarios(catalog)
        for s in (*a.reasons, *(s for i in a.items for s in i.steps))
    }
    assert used == set(WORDINGS)


def test_a_stored_eob_keeps_codes_and_arguments_and_renders_the_same(catalog: Catalog) -> None:
    for assessment in scenarios(catalog):
        stored = eob_json(assessment)
        steps = [*stored["reasons"], *(s for i in stored["items"] for s in i["steps"])]
        engine = [*assessment.reasons, *(s for i in assessment.items for s in i.steps)]
        assert all("zh" not in s and "en" not in s for s in steps)
        assert [step_texts(s) for s in steps] == [(s.zh, s.en) for s in engine]
    first = eob_json(scenarios(catalog)[0])["items"][0]["steps"][1]
    assert first == {
        "rule": "claim.deductible_annual",
        "coverage": first["coverage"],
        "reduction_fen": 1_800_000,
        "text": "deductible_shared",
        "args": [
            "住院责任年度共用免赔额",
            "Annual hospital deductible shared by both inpatient benefits",
            1_800_000,
            0,
        ],
    }


def test_an_eob_stored_with_its_sentences_reads_as_stored() -> None:
    older = {"rule": "claim.co_payment", "reduction_fen": 400, "zh": "按比例", "en": "ratio"}
    assert step_texts(older) == ("按比例", "ratio")


@pytest.mark.parametrize(("fen", "shown"), [(0, "0.00"), (5, "0.05"), (123456789, "1,234,567.89")])
def test_amounts_are_shown_in_yuan_to_the_fen(fen: int, shown: str) -> None:
    assert render("deductible_per_claim", (fen,)) == (
        f"每次事故免赔额 {shown} 元",
        f"per-claim deductible of {shown} CNY",
    )


def test_docstring_examples() -> None:
    assert doctest.testmod(reasons).failed == 0
