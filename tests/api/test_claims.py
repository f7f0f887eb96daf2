"""Claims through the API (SQLite and PostgreSQL): reported and decided at once with an
exact payable and its explanation in Chinese and English, documents, payments, notices."""

from __future__ import annotations

from sqlalchemy import func, select

from baoxian.claims.tables import claims
from baoxian.outreach.services import Text
from tests.api.conftest import WANG_MOBILE, Api, claim_body

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def test_a_claim_is_decided_and_paid_at_once(partner: Api) -> None:
    policy = partner.policy()
    answer = partner.post("/claims", claim_body(policy))
    assert answer.status_code == 201, answer.text
    claim = answer.json()
    # By hand, catalog/bj-huiminbao.yaml plan 2026, first claim of the policy year:
    #   HOSP (in_list) 50,000.00 − 30,000.00 paid by 医保 = 20,000.00
    #        − 18,000.00 shared annual hospital deductible = 2,000.00 × 80 % = 1,600.00
    #   OUTL (out_of_list) 8,000.00 × 70 % = 5,600.00   (the deductible is used up)
    #   payable = 1,600.00 + 5,600.00 = 7,200.00 of 58,000.00 claimed
    assert (claim["claimed"], claim["payable"], claim["paid"], claim["reserve"]) == (
        "58000.00",
        "7200.00",
        "7200.00",
        "0.00",
    )
    assert claim["status"] == "paid" and claim["status_zh"] == "已支付"
    assert claim["straight_through"] is True and claim["channel"] == "api"
    hosp, outl = claim["decision"]["items"]
    assert hosp["coverage_name"]["zh"] == "医保目录内住院及门诊特殊病自付费用"
    assert [(s["rule"], s["reduction"]) for s in hosp["steps"]] == [
        ("claim.paid_by_basic_insurance", "30000.00"),
        ("claim.deductible_annual", "18000.00"),
        ("claim.co_payment", "400.00"),
    ]
    assert hosp["steps"][2]["zh"] == "按赔付比例 80% 赔付"
    assert hosp["steps"][2]["en"] == "payout ratio 80%"
    assert (outl["payable"], outl["steps"][0]["reduction"]) == ("5600.00", "2400.00")
    assert partner.get(f"/claims/{claim['claim_id']}").json() == claim

    (payment,) = partner.get(f"/claims/{claim['claim_id']}/payments").json()
    assert (payment["kind"], payment["payee_kind"], payment["amount"]) == (
        "final",
        "insured",
        "7200.00",
    )
    listed = partner.get(f"/policies/{policy['policy_number']}/claims").json()
    assert [c["claim_id"] for c in listed] == [claim["claim_id"]]


def test_a_retried_report_is_one_claim(partner: Api) -> None:
    policy = partner.policy()
    first = partner.post("/claims", claim_body(policy), key="claim-key-0001")
    second = partner.post("/claims", claim_body(policy), key="claim-key-0001")
    assert second.status_code == 201 and second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    with partner.app.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(claims)) == 1


def test_claims_are_refused_with_a_reason(partner: Api) -> None:
    policy = partner.policy()
    future = partner.post("/claims", claim_body(policy, loss_date="2026-07-01"))
    assert future.status_code == 422 and future.json()["code"] == "claim.dates_invalid"
    stranger = partner.post("/claims", claim_body(policy, insured="0" * 32))
    assert stranger.status_code == 422 and stranger.json()["code"] == "policy.unknown_insured"


def test_documents_are_attached_by_upload(partner: Api) -> None:
    claim = partner.post("/claims", claim_body(partner.policy())).json()
    path = f"/claims/{claim['claim_id']}/documents"
    answer = partner.post(
        path, data={"kind": "invoice"}, files={"file": ("发票.pdf", PDF, "application/pdf")}
    )
    assert answer.status_code == 201, answer.text
    document = answer.json()
    assert (document["kind"], document["filename"], document["size_bytes"]) == (
        "invoice",
        "发票.pdf",
        len(PDF),
    )
    assert partner.get(path).json() == [document]
    disguised = partner.post(
        path, data={"kind": "photo"}, files={"file": ("photo.jpg", PDF, "image/jpeg")}
    )
    assert disguised.status_code == 422
    assert disguised.json()["code"].startswith("claim.document_")


def test_a_customer_follows_their_claim_and_notices(partner: Api) -> None:
    policy = partner.policy()
    claim = partner.post("/claims", claim_body(policy)).json()
    partner.app.outreach.notify(
        policy["holder_id"],
        WANG_MOBILE,
        Text("claim_paid", "理赔款已支付", "Claim paid", "赔款已支付。", "Paid."),
    )
    customer = partner.as_(partner.customer_token(WANG_MOBILE))
    assert customer.get(f"/claims/{claim['claim_id']}").json()["payable"] == "7200.00"
    assert [p["policy_number"] for p in customer.get("/policies").json()] == [
        policy["policy_number"]
    ]
    (notice,) = customer.get(f"/customers/{policy['holder_id']}/notices").json()
    assert (notice["subject_zh"], notice["subject_en"], notice["read"]) == (
        "理赔款已支付",
        "Claim paid",
        False,
    )
    mine = customer.post("/claims", claim_body(policy, invoice_no="INV-2"))
    assert mine.status_code == 201 and mine.json()["channel"] == "api"
