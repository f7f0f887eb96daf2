"""The console's claims work over HTTP: a large portal claim is referred with its reason; a
handler is refused over their authority, a supervisor approves and the customer sees it paid
and is told; decline with a reason; a request for information answered by the customer;
documents re-checked on download; every action audited; customer 360 with an audited
"show full ID"; a customer session opens no console page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from baoxian.bootstrap import App
from baoxian.claims.case import ClaimStatus
from baoxian.policies.ports import Event
from baoxian.policies.repository import SqlEventLog
from baoxian.shared.money import Money
from baoxian.store.tables import events
from tests.store.conftest import resident_id
from tests.web.claim_helpers import (
    PNG,
    claim_id_of,
    post_form,
    send_claim,
    staff_sign_in,
    tiny_png,
)
from tests.web.conftest import Browser, customer_with_policy

MOBILE = "13812345678"
PASSWORD = "correct-horse-battery"


def audit_trail(app: App, actor: str) -> list[Event]:
    with app.engine.connect() as connection:
        return SqlEventLog(connection).for_aggregate(actor)


@pytest.fixture
def large_claim(app: App, browser: Browser) -> tuple[str, str]:
    """Out-of-list 200,000: (200,000 − 18,000) × 70 % = 127,400.00 payable, over the
    50,000 straight-through limit → referred.  Returns (policy number, claim ID)."""
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    page = send_claim(browser, number, in_list="", paid_by_basic="", out_of_list="200,000")
    assert "理赔专员正在审核您的申请" in page.text
    return number, claim_id_of(page)


@pytest.fixture
def staff(app: App) -> None:
    app.identity.add_staff("zhang", "张理赔", PASSWORD, ["claims_handler"], Money.of("50000"))
    app.identity.add_staff("li", "李主管", PASSWORD, ["claims_supervisor"], Money.of("500000"))
    app.identity.add_staff("wang", "王柜员", PASSWORD, ["service"])


@pytest.mark.usefixtures("staff")
def test_a_referred_claim_shows_its_reason_and_the_supervisor_pays_it(
    app: App, browser: Browser, second_browser: Browser, large_claim: tuple[str, str]
) -> None:
    _, claim_id = large_claim
    assert app.claims.case(claim_id).status is ClaimStatus.REFERRED
    staff_sign_in(second_browser, "zhang", PASSWORD)
    queue = second_browser.client.get("/console")
    assert f'<a href="/console/claims/{claim_id}">{claim_id}</a>' in queue.text
    page = second_browser.client.get(f"/console/claims/{claim_id}")
    assert "应付金额 127,400.00 元超过自动赔付上限 50,000.00 元" in page.text
    assert '按赔付比例 70% 赔付</td><td class="num">−¥54,600.00</td>' in page.text

    refused = post_form(
        second_browser,
        f"/console/claims/{claim_id}/approve",
        f"/console/claims/{claim_id}",
        comment="looks fine",
    )
    assert refused.status_code == 400
    assert (
        f"赔案 {claim_id} 应付 127,400.00 元，超过 张理赔 的审批权限 50,000.00 元，"
        "请转交更高权限人员"
    ) in refused.text
    assert app.claims.case(claim_id).status is ClaimStatus.REFERRED

    staff_sign_in(second_browser, "li", PASSWORD)
    done = post_form(
        second_browser,
        f"/console/claims/{claim_id}/approve",
        f"/console/claims/{claim_id}",
        comment="医院证明齐全",
    )
    assert done.status_code == 200 and str(done.url).endswith(f"/console/claims/{claim_id}")
    case = app.claims.case(claim_id)
    assert case.status is ClaimStatus.PAID and case.paid == Money.of("127400")
    assert case.assignee == "li"
    assert [
        (e.event_type, e.payload["claim_id"], e.payload["comment"])
        for e in audit_trail(app, "li")
        if e.event_type.startswith("console.")
    ] == [("console.claim_approved", claim_id, "医院证明齐全")]

    mine = browser.client.get(f"/me/claims/{claim_id}")
    assert 'id="claim-status">已赔付' in mine.text
    assert '<dd id="claim-paid">¥127,400.00</dd>' in mine.text
    me = browser.client.get("/me")
    assert "理赔款已支付" in me.text
    notice = app.outreach.inbox([case.claim.unit_key])[0]
    assert notice.body_zh == f"您的赔案 {claim_id} 已审核通过，赔款 ¥127,400.00 已支付。"


@pytest.mark.usefixtures("staff")
def test_a_handler_declines_with_a_reason_in_both_languages(
    app: App, browser: Browser, second_browser: Browser, large_claim: tuple[str, str]
) -> None:
    _, claim_id = large_claim
    staff_sign_in(second_browser, "zhang", PASSWORD)
    path = f"/console/claims/{claim_id}"
    assigned = post_form(second_browser, f"{path}/assign", path, comment="我来处理")
    assert '<dd id="assignee">zhang</dd>' in assigned.text
    post_form(
        second_browser,
        f"{path}/decline",
        path,
        reason_zh="住院前已确诊，属既往症且未如实告知",
        reason_en="diagnosed before cover began and not disclosed",
        comment="查阅门诊病历",
    )
    case = app.claims.case(claim_id)
    assert case.status is ClaimStatus.DECLINED and case.paid == Money.ZERO
    kinds = [e.event_type for e in audit_trail(app, "zhang") if e.event_type.startswith("console.")]
    assert kinds == ["console.claim_assigned", "console.claim_declined"]

    mine = browser.client.get(f"/me/claims/{claim_id}")
    assert 'id="claim-status">已结案，未予赔付' in mine.text
    assert "已结案，未予赔付: 住院前已确诊，属既往症且未如实告知" in mine.text
    english = browser.client.get(f"/prefs/lang/en?next=/me/claims/{claim_id}")
    assert "Closed without payment: diagnosed before cover began and not disclosed" in (
        english.text
    )
    assert "理赔结案通知" in app.outreach.inbox([case.claim.unit_key])[0].subject_zh


@pytest.mark.usefixtures("staff")
def test_a_request_for_information_is_answered_by_the_customer(
    app: App, browser: Browser, second_browser: Browser, large_claim: tuple[str, str]
) -> None:
    _, claim_id = large_claim
    staff_sign_in(second_browser, "zhang", PASSWORD)
    path = f"/console/claims/{claim_id}"
    post_form(
        second_browser,
        f"{path}/request-info",
        path,
        what_zh="请上传出院小结",
        what_en="please upload the discharge summary",
        comment="",
    )
    assert app.claims.case(claim_id).status is ClaimStatus.PENDING_INFO

    mine = browser.client.get(f"/me/claims/{claim_id}")
    assert 'id="claim-status">需要您补充资料' in mine.text
    assert '<p class="asked" id="asked">请上传出院小结</p>' in mine.text
    assert "请补充理赔资料" in browser.client.get("/me").text
    answered = browser.client.post(
        f"/me/claims/{claim_id}/info",
        data={"csrf": browser.csrf(f"/me/claims/{claim_id}"), "note": "已上传"},
        files={"document": ("discharge.png", tiny_png(b"\x00\x00\x00"), "image/png")},
    )
    assert answered.status_code == 200
    assert 'id="claim-status">理赔专员正在审核您的申请' in answered.text
    assert "已补充资料: 已上传" in answered.text and "收到资料: discharge.png" in answered.text
    assert app.claims.case(claim_id).status is ClaimStatus.REFERRED
    again = browser.client.post(
        f"/me/claims/{claim_id}/info", data={"csrf": browser.csrf("/me"), "note": "again"}
    )
    assert again.status_code == 400 and "此赔案目前不需要补充资料" in again.text

    page = second_browser.client.get(path)
    assert "discharge.png" in page.text and "invoice.png" in page.text


@pytest.mark.usefixtures("staff")
def test_documents_download_after_the_checksum_and_the_read_is_audited(
    app: App, second_browser: Browser, large_claim: tuple[str, str]
) -> None:
    _, claim_id = large_claim
    document = app.documents.list(claim_id)[0]
    staff_sign_in(second_browser, "wang", PASSWORD)
    page = second_browser.client.get(f"/console/claims/{claim_id}")
    link = f"/console/claims/{claim_id}/documents/{document.document_id}"
    assert f'href="{link}"' in page.text and 'id="actions"' not in page.text
    download = second_browser.client.get(link)
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''invoice.png"
    assert [e.event_type for e in audit_trail(app, "wang")][-1] == "console.claim_document_read"
    elsewhere = second_browser.client.get(
        f"/console/claims/{'0' * 32}/documents/{document.document_id}"
    )
    assert elsewhere.status_code == 404


@pytest.mark.usefixtures("staff")
def test_staff_without_the_handler_role_cannot_act(
    app: App, second_browser: Browser, large_claim: tuple[str, str]
) -> None:
    _, claim_id = large_claim
    staff_sign_in(second_browser, "wang", PASSWORD)
    path = f"/console/claims/{claim_id}"
    refused = post_form(second_browser, f"{path}/approve", path, comment="")
    assert refused.status_code == 403
    assert app.claims.case(claim_id).status is ClaimStatus.REFERRED
    assert app.claims.handlers() == []


@pytest.mark.usefixtures("staff")
def test_a_customer_session_opens_no_console_page(
    app: App, browser: Browser, large_claim: tuple[str, str]
) -> None:
    _, claim_id = large_claim
    for path in (
        f"/console/claims/{claim_id}",
        f"/console/claims/{claim_id}/documents/{app.documents.list(claim_id)[0].document_id}",
        "/console/dashboard",
        f"/console/customers?mobile={MOBILE}",
    ):
        page = browser.client.get(path)
        assert page.status_code == 200 and "云柜面登录" in page.text, path
        assert claim_id not in page.text
    token = browser.csrf("/me")
    for action in ("approve", "assign", "decline", "request-info"):
        refused = browser.client.post(f"/console/claims/{claim_id}/{action}", data={"csrf": token})
        assert refused.status_code == 403
    reveal = browser.client.post(
        "/console/customers/reveal", data={"csrf": token, "party_id": "x", "mobile": MOBILE}
    )
    assert reveal.status_code == 403
    assert app.claims.case(claim_id).status is ClaimStatus.REFERRED


@pytest.mark.usefixtures("staff")
def test_customer_360_masks_personal_data_and_audits_showing_it(
    app: App, second_browser: Browser, large_claim: tuple[str, str]
) -> None:
    number, claim_id = large_claim
    id_number = resident_id("11010519810415031")
    staff_sign_in(second_browser, "wang", PASSWORD)
    page = second_browser.client.get(f"/console/customers?mobile={MOBILE}")
    assert page.status_code == 200
    assert "王建国" in page.text and "138****5678" in page.text
    assert id_number not in page.text and f"110***********{id_number[-4:]}" in page.text
    assert number in page.text and f'href="/console/claims/{claim_id}"' in page.text
    assert "policy.issued" in page.text and "claim.reported" in page.text

    party = app.policies.parties_with_mobile(MOBILE)[0]
    shown = post_form(
        second_browser,
        "/console/customers/reveal",
        "/console/customers",
        party_id=party.party_id,
        mobile=MOBILE,
    )
    assert f'<td class="revealed">{id_number}</td>' in shown.text
    trail = [(e.event_type, dict(e.payload)) for e in audit_trail(app, "wang")]
    assert (
        "console.personal_data_viewed",
        {"party_id": party.party_id, "fields": ["id_number", "mobile"]},
    ) in trail
    assert ("console.customer_searched", {"by": "mobile", "query": "138****5678", "found": 1}) in (
        trail
    )

    by_id = post_form(
        second_browser, "/console/customers", "/console/customers", id_number=id_number
    )
    assert by_id.status_code == 200 and number in by_id.text
    assert f"<td>110***********{id_number[-4:]}</td>" in by_id.text
    nobody = second_browser.client.get("/console/customers?mobile=13900000000")
    assert "没有以此号码登记的客户。" in nobody.text
    with app.engine.connect() as connection:
        payloads = connection.execute(select(events.c.payload)).scalars().all()
    assert not any(id_number in str(p) or MOBILE in str(p) for p in payloads)
