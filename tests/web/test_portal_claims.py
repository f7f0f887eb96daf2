"""Claims in the portal: a customer files a 惠民保 claim with a photo of the invoice and sees
it paid with its explanation of benefits and timeline; a double submit is one claim; upload
errors in the user's language; nobody else's claim or policy can be reached."""

from __future__ import annotations

from sqlalchemy import func, select

from baoxian.bootstrap import App
from baoxian.claims.case import ClaimStatus
from baoxian.claims.tables import claims
from baoxian.shared.money import Money
from tests.web.claim_helpers import PNG, claim_form, claim_id_of, send_claim
from tests.web.conftest import Browser, customer_with_policy

MOBILE = "13812345678"
OTHER = "13987654321"


def claim_count(app: App) -> int:
    with app.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(claims)).scalar_one())


def test_a_customer_files_a_huiminbao_claim_and_sees_it_paid(app: App, browser: Browser) -> None:
    """In-list 50,000, of which 医保 paid 30,000; the 18,000 annual deductible; 80 % of the
    remaining 2,000 → 1,600.00, paid straight through."""
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    policy_page = browser.client.get(f"/me/policies/{number}")
    assert f'href="/me/policies/{number}/claims/new"' in policy_page.text

    page = send_claim(browser, number)

    assert page.status_code == 200
    claim_id = claim_id_of(page)
    case = app.claims.case(claim_id)
    assert case.status is ClaimStatus.PAID and case.channel == "portal"
    assert case.paid == Money.of("1600.00") and case.straight_through is True
    text = page.text
    assert '<p class="claim-status status-paid" id="claim-status">已赔付' in text
    assert '<dd id="claim-paid">¥1,600.00</dd>' in text
    assert '<td>基本医疗保险已支付部分先行扣除</td><td class="num">−¥30,000.00</td>' in text
    assert '18,000.00 元，本年已用 0.00 元</td><td class="num">−¥18,000.00</td>' in text
    assert '<td>按赔付比例 80% 赔付</td><td class="num">−¥400.00</td>' in text
    assert "<caption>申请 ¥50,000.00，可赔 ¥1,600.00</caption>" in text
    for step in ("收到理赔申请", "收到资料: invoice.png", "系统审核通过", "已赔付 ¥1,600.00"):
        assert step in text
    assert text.index("收到理赔申请") < text.index("系统审核通过") < text.index("已赔付 ¥1,600.00")
    documents = app.documents.list(claim_id)
    assert [(d.kind, d.filename, d.media_type) for d in documents] == [
        ("invoice", "invoice.png", "image/png")
    ]
    assert app.documents.read(documents[0].document_id)[1] == PNG
    listed = browser.client.get("/me")
    assert f'href="/me/claims/{claim_id}"' in listed.text and 'href="/me/claims"' in listed.text


def test_the_timeline_speaks_english_after_the_switch(app: App, browser: Browser) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    claim_id = claim_id_of(send_claim(browser, number))
    page = browser.client.get(f"/prefs/lang/en?next=/me/claims/{claim_id}")
    assert 'id="claim-status">Paid' in page.text
    assert '<td>payout ratio 80%</td><td class="num">−¥400.00</td>' in page.text
    assert "Claim received" in page.text and "Paid ¥1,600.00" in page.text


def test_sending_the_same_form_twice_files_one_claim(app: App, browser: Browser) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    hidden = claim_form(browser, number)
    first = send_claim(browser, number, hidden=hidden)
    again = send_claim(browser, number, hidden=hidden)
    assert claim_id_of(first) == claim_id_of(again) == hidden["request_id"]
    assert claim_count(app) == 1
    assert [p.amount for p in app.claims.payments(hidden["request_id"])] == [Money.of("1600")]
    assert len(app.documents.list(hidden["request_id"])) == 1


def test_upload_and_form_errors_are_shown_in_the_users_language(app: App, browser: Browser) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    pdf_named_png = ("invoice.png", b"%PDF-1.7 a scanned invoice", "image/png")
    refused = send_claim(browser, number, invoice=pdf_named_png)
    assert refused.status_code == 400
    assert "文件“invoice.png”的内容（application/pdf）与声明的类型 image/png 或扩展名不符" in (
        refused.text
    )
    assert 'value="50,000"' in refused.text  # what was typed is kept
    assert claim_count(app) == 0  # nothing was reported

    browser.client.get("/prefs/lang/en?next=/")
    text_file = ("invoice.txt", b"hello", "text/plain")
    wrong_type = send_claim(browser, number, invoice=text_file)
    assert wrong_type.status_code == 400
    assert "media type &#39;text/plain&#39; is not accepted" in wrong_type.text
    too_much = send_claim(browser, number, in_list="1000", paid_by_basic="2000")
    assert too_much.status_code == 400
    assert "the amount 医保 paid cannot be more than the in-list amount" in too_much.text
    assert claim_count(app) == 0


def test_another_customer_cannot_reach_the_claim_or_file_on_the_policy(
    app: App, browser: Browser, second_browser: Browser
) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    customer_with_policy(app, "11010519900101002", OTHER)
    browser.sign_in(MOBILE)
    claim_id = claim_id_of(send_claim(browser, number))
    second_browser.sign_in(OTHER)
    theirs = second_browser.client.get(f"/me/claims/{claim_id}")
    missing = second_browser.client.get(f"/me/claims/{'0' * 32}")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.text.replace(claim_id, "0" * 32) == missing.text.replace(claim_id, "0" * 32)
    assert claim_id not in second_browser.client.get("/me/claims").text
    assert second_browser.client.get(f"/me/policies/{number}/claims/new").status_code == 404
    forged = send_claim(
        second_browser,
        number,
        hidden={"request_id": "f" * 32, "insured": "x", "csrf": second_browser.csrf("/me")},
    )
    assert forged.status_code == 404 and claim_count(app) == 1
    info = second_browser.client.post(
        f"/me/claims/{claim_id}/info", data={"csrf": second_browser.csrf("/me"), "note": "hi"}
    )
    assert info.status_code == 404


def test_a_request_id_of_someone_elses_claim_is_refused(
    app: App, browser: Browser, second_browser: Browser
) -> None:
    """A forged request ID naming another customer's claim files nothing and attaches
    nothing to that claim."""
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    theirs = customer_with_policy(app, "11010519900101002", OTHER)
    browser.sign_in(MOBILE)
    claim_id = claim_id_of(send_claim(browser, number))
    second_browser.sign_in(OTHER)
    hidden = claim_form(second_browser, theirs)
    forged = send_claim(second_browser, theirs, hidden={**hidden, "request_id": claim_id})
    assert forged.status_code == 400 and "表单已失效" in forged.text
    assert len(app.documents.list(claim_id)) == 1 and claim_count(app) == 1


def test_signed_out_visitors_are_sent_to_sign_in(app: App, browser: Browser) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    for path in ("/me/claims", f"/me/claims/{'0' * 32}", f"/me/policies/{number}/claims/new"):
        assert browser.client.get(path, follow_redirects=False).status_code == 303
