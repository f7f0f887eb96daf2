"""Quotes and policies through the API (SQLite and PostgreSQL): exact premiums, masked
personal data, issue, contact change, renewal and cancellation with exact money."""

from __future__ import annotations

import re
from typing import Any

from baoxian.api.schemas import MONEY_PATTERN
from tests.api.conftest import LI_ID, LI_MOBILE, WANG_ID, WANG_MOBILE, Api, quote_body

MONEY = re.compile(MONEY_PATTERN)
MONEY_FIELDS = frozenset(
    {"annual_premium", "total_payable", "premium_charged", "sum_insured", "refund", "retained"}
    | {"charged", "claimed", "payable", "paid", "reserve", "reduction", "amount"}
)


def money_values(data: Any) -> list[Any]:
    """Every value under a money field, anywhere in a JSON document."""
    if isinstance(data, list):
        return [v for item in data for v in money_values(item)]
    if not isinstance(data, dict):
        return []
    found = [v for k, v in data.items() if k in MONEY_FIELDS and v is not None]
    return found + [v for value in data.values() for v in money_values(value)]


def assert_masked(text: str) -> None:
    for secret in (WANG_ID, WANG_MOBILE, LI_ID, LI_MOBILE):
        assert secret not in text


def test_a_huiminbao_quote_costs_195_yuan(partner: Api) -> None:
    # catalog/bj-huiminbao.yaml, plan 2026: one flat premium of "195" for everyone enrolled
    # in Beijing basic medical insurance.
    answer = partner.post("/quotes", quote_body())
    assert answer.status_code == 201
    quote = answer.json()
    assert quote["status"] == "accepted" and quote["decision"] == {
        "outcome": "accept",
        "reasons": [],
    }
    assert (quote["annual_premium"], quote["total_payable"], quote["instalments"]) == (
        "195.00",
        "195.00",
        ["195.00"],
    )
    assert {c["coverage"]: c["sum_insured"] for c in quote["cover"]} == {
        "in_list_inpatient": "3000000.00",
        "out_of_list_inpatient": "3000000.00",
        "special_drugs": "3000000.00",
    }
    assert all(isinstance(v, str) and MONEY.match(v) for v in money_values(quote))
    assert_masked(answer.text)
    again = partner.get(f"/quotes/{quote['quote_id']}")
    assert again.status_code == 200 and again.json() == quote
    holder = partner.get(f"/customers/{quote['holder_id']}").json()
    assert holder["id_number"] == WANG_ID[:3] + "*" * 11 + WANG_ID[-4:]
    assert holder["mobile"] == "138****5678" and holder["name"] == "王建国"


def test_a_declined_quote_keeps_its_reason(partner: Api) -> None:
    body = quote_body()
    for person in (body["holder"], body["insured"][0]):
        person["medical_insurance_city"] = "310000"  # Shanghai: not Beijing 医保
    quote = partner.post("/quotes", body).json()
    assert quote["status"] == "declined"
    (reason,) = quote["decision"]["reasons"]
    assert reason["code"] == "basic_medical_required" and "北京" in reason["zh"]
    refused = partner.post("/policies", {"quote_id": quote["quote_id"]})
    assert refused.status_code == 409 and refused.json()["code"] == "quote.not_accepted"


def test_a_registered_person_must_come_with_their_own_name_and_mobile(partner: Api) -> None:
    partner.quote()
    other = partner.post("/quotes", quote_body(WANG_ID, LI_MOBILE, "王建国"))
    assert other.status_code == 422
    assert other.json()["code"] == "application.id_registered_to_another_mobile"
    renamed = partner.post("/quotes", quote_body(WANG_ID, WANG_MOBILE, "王五"))
    assert renamed.json()["code"] == "application.name_mismatch"


def test_issue_change_contact_and_cancel(partner: Api) -> None:
    policy = partner.policy()
    number = policy["policy_number"]
    assert re.fullmatch(r"BJHMB2026\d{8}", number)
    assert policy["status"] == "in_force" and policy["premium_charged"] == "195.00"
    assert (policy["term_start"], policy["term_end"]) == ("2026-03-01", "2027-03-01")
    assert policy["contact_mobile"] == "138****5678"
    assert partner.get(f"/policies/{number}").json() == policy
    assert [p["policy_number"] for p in partner.get("/policies").json()] == [number]

    changed = partner.post(
        f"/policies/{number}/contact", {"effective": "2026-07-01", "mobile": LI_MOBILE}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["contact_mobile"] == "139****4321"
    assert changed.json()["endorsement_count"] == 1
    assert_masked(changed.text)

    # 退保 on 1 September 2026: the term 2026-03-01 … 2027-03-01 has 365 days, 181 of them
    # left (30 + 31 + 30 + 31 + 31 + 28); refund = 195.00 × 181 / 365 = 96.698… → 96.70,
    # retained = 195.00 − 96.70 = 98.30.
    cancelled = partner.post(
        f"/policies/{number}/cancel", {"effective": "2026-09-01", "reason": "客户申请退保"}
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["refund"], body["retained"], body["charged"]) == ("96.70", "98.30", "195.00")
    assert body["policy"]["status"] == "cancelled" and body["policy"]["premium_charged"] == "98.30"
    again = partner.post(
        f"/policies/{number}/cancel", {"effective": "2026-09-01", "reason": "客户申请退保"}
    )
    assert again.status_code == 409 and again.json()["code"] == "policy.cannot_cancel"


def test_guaranteed_renewal_charges_the_attained_age(partner: Api) -> None:
    # catalog/long-term-medical.yaml (LTM-15), plan 2026: a man born 1981-04-15 is 44 on
    # 2026-03-01 → 672.00 (with basic medical insurance, factor 1.00); renewed on
    # 2027-03-01 at 45 on the same (guaranteed) plan version → 999.00.
    body = quote_body()
    body["product"] = "LTM-15"
    quote = partner.post("/quotes", body).json()
    assert quote["annual_premium"] == "672.00"
    policy = partner.post("/policies", {"quote_id": quote["quote_id"]}).json()
    renewed = partner.post(f"/policies/{policy['policy_number']}/renew")
    assert renewed.status_code == 200, renewed.text
    data = renewed.json()
    assert (data["term_no"], data["term_start"], data["term_end"]) == (
        2,
        "2027-03-01",
        "2028-03-01",
    )
    assert (data["plan_version"], data["annual_premium"]) == ("2026", "999.00")


def test_issuing_the_same_quote_again_returns_the_same_policy(partner: Api) -> None:
    quote = partner.quote()
    first = partner.post("/policies", {"quote_id": quote["quote_id"]}).json()
    second = partner.post("/policies", {"quote_id": quote["quote_id"]})
    assert second.status_code == 201 and second.json() == first
