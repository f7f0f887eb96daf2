"""Self-service policy changes (自助保全), the staff change queue and 慧保全 links, over HTTP.

The app runs on a clock the tests move (links expire; sessions too)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from httpx import Response

from baoxian.bootstrap import App, build
from baoxian.policies.repository import SqlEventLog
from baoxian.policies.schemas import QuoteRequestFile
from baoxian.settings import Settings
from tests.web.conftest import (
    CATALOG,
    CSRF,
    Browser,
    MovableClock,
    customer_with_policy,
    latest_code,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MOBILE = "13812345678"
OTHER = "13987654321"
MOTOR_MOBILE = "13612345678"  # the holder in examples/quote-motor-nev.yaml
FIRM_MOBILE = "13900001111"  # the organisation in examples/quote-property.yaml
PLATE = "粤B·D12345"
PASSWORD = "correct-horse-battery"
REQUEST_ID = re.compile(r'name="request_id" value="([0-9a-f]{32})"')
LINK = re.compile(r'<code id="link-url">https://testserver/l/([^<]+)</code>')


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime(2026, 3, 10, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai


@pytest.fixture
def app(tmp_path: Path, clock: MovableClock) -> App:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", catalog_dir=CATALOG)
    return build(settings, clock=clock)


@pytest.fixture
def staff_browser(app: App) -> Iterator[Browser]:
    from baoxian.web.app import create_app

    with TestClient(create_app(app, demo=True), base_url="https://testserver") as client:
        yield Browser(client, app)


def issue_example(app: App, name: str) -> str:
    """Issue the policy an example quote file describes; returns its number."""
    request = QuoteRequestFile.model_validate(yaml.safe_load((EXAMPLES / name).read_text()))
    quote = app.policies.quote_request(request)
    return app.policies.issue_policy(quote.quote_id).policy_number


def staff_sign_in(browser: Browser, user_id: str) -> None:
    token = browser.csrf("/console")
    page = browser.client.post(
        "/console/sign-in", data={"user_id": user_id, "password": PASSWORD, "csrf": token}
    )
    assert page.status_code == 200, page.text


def form_tokens(browser: Browser, path: str) -> tuple[str, str, str]:
    """Open a change form: its page text, CSRF token and request ID."""
    page = browser.client.get(path)
    assert page.status_code == 200, page.text
    csrf, request_id = CSRF.search(page.text), REQUEST_ID.search(page.text)
    assert csrf and request_id
    return page.text, csrf.group(1), request_id.group(1)


def submit_vehicle(browser: Browser, number: str, plate: str) -> str:
    """Ask for a new plate on the example vehicle; returns the request ID."""
    _, csrf, request_id = form_tokens(browser, f"/me/policies/{number}/changes/vehicle")
    done = browser.client.post(
        f"/me/policies/{number}/changes/vehicle",
        data={"csrf": csrf, "request_id": request_id, "unit_key": PLATE, "plate": plate},
    )
    assert done.status_code == 200 and done.url.path == f"/me/requests/{request_id}"
    return request_id


# --------------------------------------------------------------------------- contact


def test_a_contact_change_applies_at_once(app: App, browser: Browser) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    path = f"/me/policies/{number}/changes/contact"
    text, csrf, request_id = form_tokens(browser, path)
    assert "立即生效" in text and "联系方式不影响保障和保险金归属，提交后马上写入保单。" in text
    assert "138****5678" in text
    form = {
        "csrf": csrf,
        "request_id": request_id,
        "mobile": "",
        "address": "北京市海淀区中关村大街1号",
    }

    done = browser.client.post(path, data=form)
    assert done.status_code == 200 and done.url.path == f"/me/requests/{request_id}"
    assert "已生效" in done.text and "北京市海淀区中关村大街1号" in done.text
    assert "生效日期" in done.text and "2026-03-10" in done.text
    again = browser.client.post(path, data=form)  # the same form sent twice: one change
    assert again.url.path == f"/me/requests/{request_id}"

    policy = app.policies.policy(number)
    assert policy.contact_address == "北京市海淀区中关村大街1号"
    assert policy.endorsement_count == 1
    panel = browser.client.get(f"/me/policies/{number}/changes", headers={"HX-Request": "true"})
    assert panel.status_code == 200 and "<html" not in panel.text
    assert "北京市海淀区中关村大街1号" in panel.text and "已生效" in panel.text
    mine = browser.client.get("/me/requests")
    assert re.search(r"联系方式变更</a>\s*<span class=\"muted\">" + number, mine.text)
    assert '<span class="status status-applied">已生效</span>' in mine.text
    policy_page = browser.client.get(f"/me/policies/{number}")
    assert f'hx-get="/me/policies/{number}/changes"' in policy_page.text
    (notice,) = app.outreach.inbox([policy.holder_id])
    assert (notice.subject_zh, notice.body_zh) == (
        "保全变更已生效",
        f"您的保单 {number} 的联系方式变更已于 2026-03-10 生效。",
    )
    events = app.changes.history(request_id)
    assert [e.event_type for e in events] == [
        "change_request.submitted",
        "change_request.applied",
    ]
    assert "中关村" not in str([e.payload for e in events])  # no personal data in events


def test_a_change_form_refuses_bad_input_and_keeps_what_was_typed(
    app: App, browser: Browser
) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    path = f"/me/policies/{number}/changes/contact"
    _, csrf, request_id = form_tokens(browser, path)
    empty = browser.client.post(path, data={"csrf": csrf, "request_id": request_id})
    assert empty.status_code == 400 and "请至少填写一项要变更的内容" in empty.text
    bad = browser.client.post(
        path,
        data={"csrf": csrf, "request_id": request_id, "mobile": "12345", "address": "新地址"},
    )
    assert bad.status_code == 400 and "手机号码无效：12345" in bad.text
    assert 'value="新地址"' in bad.text
    assert app.changes.on_policies([number]) == []


def test_the_forms_work_in_english_and_in_care_mode(app: App, browser: Browser) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    browser.client.get("/prefs/care/on?next=/")
    browser.client.get("/prefs/lang/en?next=/")
    page = browser.client.get(f"/me/policies/{number}/changes/beneficiary")
    assert page.status_code == 200 and '<body class="care"' in page.text
    assert "Sent for staff review" in page.text and "Change beneficiaries" in page.text
    assert "Beneficiaries decide who is paid" in page.text


# --------------------------------------------------------------------------- beneficiaries


def test_a_beneficiary_change_waits_for_review_and_shares_must_add_up(
    app: App, browser: Browser
) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    path = f"/me/policies/{number}/changes/beneficiary"
    _, csrf, request_id = form_tokens(browser, path)
    rows = {
        "name": ["李娜", "王小明", ""],
        "id_number": ["110105198205060023", "110105201001010010", ""],
        "relationship": ["配偶", "子女", ""],
        "share": ["60", "30", ""],
    }
    wrong = browser.client.post(path, data={"csrf": csrf, "request_id": request_id, **rows})
    assert wrong.status_code == 400 and "受益人份额须为正数且合计100%" in wrong.text
    rows["share"] = ["60", "40", ""]
    done = browser.client.post(path, data={"csrf": csrf, "request_id": request_id, **rows})
    assert done.url.path == f"/me/requests/{request_id}" and "审核中" in done.text
    assert "李娜（配偶） 110***********0023 60%" in done.text
    assert app.policies.policy(number).beneficiaries == ()  # nothing changes before review


# --------------------------------------------------------------------------- the staff queue


def test_a_vehicle_change_is_approved_from_the_queue(
    app: App, browser: Browser, second_browser: Browser, staff_browser: Browser
) -> None:
    number = issue_example(app, "quote-motor-nev.yaml")
    premium = app.policies.policy(number).annual_premium
    browser.sign_in(MOTOR_MOBILE)
    form = browser.client.get(f"/me/policies/{number}/changes/vehicle")
    assert "提交人工审核" in form.text and "车辆信息是承保依据" in form.text
    request_id = submit_vehicle(browser, number, "粤B·F67890")
    assert "审核中" in browser.client.get(f"/me/requests/{request_id}").text

    app.identity.add_staff("wang", "王理赔", PASSWORD, ["claims_handler"])
    staff_sign_in(second_browser, "wang")
    assert second_browser.client.get("/console/changes").status_code == 403
    assert second_browser.client.get(f"/console/changes/{request_id}").status_code == 403
    token = second_browser.csrf("/console")
    refused = second_browser.client.post(
        f"/console/changes/{request_id}/approve", data={"csrf": token}
    )
    assert refused.status_code == 403 and "无权访问" in refused.text
    assert 'id="changes-link"' not in second_browser.client.get("/console").text

    app.identity.add_staff("li", "李柜面", PASSWORD, ["service"])
    staff_sign_in(staff_browser, "li")
    assert 'href="/console/changes"' in staff_browser.client.get("/console").text
    queue = staff_browser.client.get("/console/changes")
    assert queue.status_code == 200 and number in queue.text
    assert "车辆信息变更" in queue.text and "号牌号码: 粤B·F67890" in queue.text
    detail = staff_browser.client.get(f"/console/changes/{request_id}")
    assert "现号牌号码</dt><dd>粤B·D12345" in detail.text
    assert "现车架号（VIN）</dt><dd>LGXCE4CB8N0123456" in detail.text
    approved = staff_browser.client.post(
        f"/console/changes/{request_id}/approve", data={"csrf": staff_browser.csrf("/console")}
    )
    assert approved.status_code == 200 and approved.url.path == f"/console/changes/{request_id}"
    assert "已批准" in approved.text and "审核人</dt><dd>li" in approved.text
    again = staff_browser.client.post(
        f"/console/changes/{request_id}/approve", data={"csrf": staff_browser.csrf("/console")}
    )
    assert again.status_code == 409 and "该申请当前状态为「已批准」，不能批准" in again.text

    policy = app.policies.policy(number)
    assert policy.unit(PLATE).details == {
        "vin": "LGXCE4CB8N0123456",
        "model": "比亚迪 汉EV",
        "plate": "粤B·F67890",
    }
    assert policy.annual_premium == premium and policy.endorsement_count == 1
    mine = browser.client.get("/me/requests")
    assert '<span class="status status-approved">已批准</span>' in mine.text
    (notice,) = app.outreach.inbox([policy.holder_id])
    assert (notice.subject_zh, notice.body_zh) == (
        "保全申请已批准",
        f"您的保单 {number} 的车辆信息变更申请已审核通过，自 2026-03-10 起生效。",
    )
    assert "保全申请已批准" in browser.client.get("/me").text
    history = app.changes.history(request_id)
    assert [(e.event_type, e.payload.get("by")) for e in history] == [
        ("change_request.submitted", None),
        ("change_request.queued", None),
        ("change_request.approved", "li"),
    ]
    assert app.changes.queue() == []


def test_a_site_change_is_declined_with_a_comment_the_customer_reads(
    app: App, browser: Browser, staff_browser: Browser
) -> None:
    number = issue_example(app, "quote-property.yaml")
    browser.sign_in(FIRM_MOBILE)
    path = f"/me/policies/{number}/changes/site"
    text, csrf, request_id = form_tokens(browser, path)
    assert "现场所地址" in text and "广东省深圳市南山区科技园路88号" in text
    done = browser.client.post(
        path,
        data={
            "csrf": csrf,
            "request_id": request_id,
            "unit_key": "CD-01",
            "address": "成都市武侯区",
        },
    )
    assert done.url.path == f"/me/requests/{request_id}"
    _, csrf, second_id = form_tokens(browser, path)
    twice = browser.client.post(
        path,
        data={"csrf": csrf, "request_id": second_id, "unit_key": "CD-01", "name": "成都二号楼"},
    )
    assert twice.status_code == 400 and "已有一笔同类申请正在审核" in twice.text

    app.identity.add_staff("li", "李柜面", PASSWORD, ["service"])
    staff_sign_in(staff_browser, "li")
    token = staff_browser.csrf("/console")
    empty = staff_browser.client.post(
        f"/console/changes/{request_id}/decline", data={"csrf": token, "comment": " "}
    )
    assert empty.status_code == 400 and "请填写不予通过的原因" in empty.text
    comment = "新地址需提供房产证明，请致电95500补充材料。"
    declined = staff_browser.client.post(
        f"/console/changes/{request_id}/decline", data={"csrf": token, "comment": comment}
    )
    assert declined.status_code == 200 and "未通过" in declined.text

    assert (
        app.policies.policy(number).unit("CD-01").details["address"]
        == "四川省成都市高新区天府大道1号"
    )
    page = browser.client.get(f"/me/requests/{request_id}")
    assert '<span class="status status-declined">未通过</span>' in page.text
    assert f'<dd id="staff-comment">{comment}</dd>' in page.text
    (notice,) = app.outreach.inbox([app.policies.policy(number).holder_id])
    assert (
        notice.body_zh == f"您的保单 {number} 的保险标的场所信息变更申请未通过审核。说明：{comment}"
    )


# --------------------------------------------------------------------------- ownership


def test_another_customer_cannot_change_or_see_a_policy_by_url(
    app: App, browser: Browser, second_browser: Browser
) -> None:
    mine = customer_with_policy(app, "11010519810415031", MOBILE)
    customer_with_policy(app, "11010519900101002", OTHER)
    browser.sign_in(MOBILE)
    _, csrf, request_id = form_tokens(browser, f"/me/policies/{mine}/changes/contact")
    browser.client.post(
        f"/me/policies/{mine}/changes/contact",
        data={"csrf": csrf, "request_id": request_id, "address": "北京市东城区"},
    )

    second_browser.sign_in(OTHER)
    token = second_browser.csrf("/me")
    for kind in ("contact", "beneficiary"):
        assert second_browser.client.get(f"/me/policies/{mine}/changes/{kind}").status_code == 404
    assert second_browser.client.get(f"/me/policies/{mine}/changes").status_code == 404
    forged = second_browser.client.post(
        f"/me/policies/{mine}/changes/contact",
        data={"csrf": token, "request_id": "0" * 32, "address": "别人的地址"},
    )
    assert forged.status_code == 404
    assert second_browser.client.get(f"/me/requests/{request_id}").status_code == 404
    assert mine not in second_browser.client.get("/me/requests").text
    assert app.policies.policy(mine).contact_address == "北京市东城区"
    assert [r.request_id for r in app.changes.on_policies([mine])] == [request_id]
    # a vehicle change is not offered on a health policy
    assert browser.client.get(f"/me/policies/{mine}/changes/vehicle").status_code == 404


# --------------------------------------------------------------------------- 慧保全 links


def push_link(staff: Browser, number: str, mobile: str, **fields: str) -> str:
    """Create a link in the console; returns its token."""
    page = staff.client.post(
        "/console/changes/links",
        data={"csrf": staff.csrf("/console"), "policy_number": number, "mobile": mobile, **fields},
    )
    assert page.status_code == 200, page.text
    found = LINK.search(page.text)
    assert found, page.text
    return found.group(1)


def link_sign_in(browser: Browser, token: str, mobile: str) -> Response:
    """Sign in from a link's page; returns the page the browser lands on."""
    csrf = browser.csrf(f"/l/{token}")
    sent = browser.client.post(f"/l/{token}/code", data={"mobile": mobile, "csrf": csrf})
    assert sent.status_code == 200 and f'action="/l/{token}/verify"' in sent.text
    code = latest_code(browser.app, mobile)
    landed: Response = browser.client.post(
        f"/l/{token}/verify", data={"mobile": mobile, "code": code, "csrf": csrf}
    )
    return landed


def test_a_pushed_link_lands_on_the_change_pre_filled(
    app: App, browser: Browser, second_browser: Browser, staff_browser: Browser, clock: MovableClock
) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    customer_with_policy(app, "11010519900101002", OTHER)
    app.identity.add_staff("li", "李柜面", PASSWORD, ["service"])
    staff_sign_in(staff_browser, "li")
    wrong_phone = staff_browser.client.post(
        "/console/changes/links",
        data={
            "csrf": staff_browser.csrf("/console"),
            "policy_number": number,
            "mobile": OTHER,
            "kind": "contact",
        },
    )
    assert wrong_phone.status_code == 400
    assert f"手机号 139****4321 不是保单 {number} 投保人的登记手机号" in wrong_phone.text
    token = push_link(
        staff_browser, number, MOBILE, kind="contact", address="北京市西城区金融街7号", hours="24"
    )
    with app.engine.connect() as connection:
        (created,) = SqlEventLog(connection).for_aggregate(token.partition(".")[0])
    assert created.event_type == "change_link.created" and created.payload["by"] == "li"
    assert created.payload["mobile"] == "138****5678"
    sms = app.outreach.outbox(1)[0]
    assert sms.mobile_masked == "138****5678" and f"https://testserver/l/{token}" in sms.body_zh

    # not signed in: sign in from the link, then land on the form
    ask = browser.client.get(f"/l/{token}")
    assert ask.status_code == 200 and "请先登录" in ask.text
    landed = link_sign_in(browser, token, MOBILE)
    assert landed.status_code == 200 and "客服已为您预先填好此表" in landed.text
    assert 'value="北京市西城区金融街7号"' in landed.text
    assert f'action="/me/policies/{number}/changes/contact"' in landed.text

    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    refused = browser.client.get(f"/l/{tampered}")
    assert refused.status_code == 400 and "链接无效" in refused.text
    assert browser.client.get(f"/l/{'0' * 32}.forged").status_code == 400

    second_browser.sign_in(OTHER)
    other = second_browser.client.get(f"/l/{token}")
    assert other.status_code == 403 and "此链接是发给另一个手机号码的" in other.text

    clock.advance(timedelta(hours=25))
    expired = browser.client.get(f"/l/{token}")  # the session expired too: still refused
    assert expired.status_code == 410 and "链接已过期" in expired.text
    browser.sign_in(MOBILE)
    assert browser.client.get(f"/l/{token}").status_code == 410
