"""The portal over HTTP: sign-in by phone and code, no account enumeration, rate limits,
CSRF, another customer's policy, language and 关爱版 switches, error pages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from baoxian.bootstrap import App
from tests.web.conftest import Browser, customer_with_policy, latest_code

MOBILE = "13812345678"
OTHER = "13987654321"


def test_customer_signs_in_with_a_code_and_sees_their_policy(app: App, browser: Browser) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    page = browser.client.get("/me")
    assert page.status_code == 200
    assert "我的保单" in page.text and number in page.text and "北京普惠健康保" in page.text
    detail = browser.client.get(f"/me/policies/{number}")
    assert detail.status_code == 200 and "保险期间" in detail.text
    assert "138****5678" in page.text and MOBILE not in page.text  # the number is masked


def test_a_known_and_an_unknown_number_get_the_same_answer(app: App, browser: Browser) -> None:
    customer_with_policy(app, "11010519810415031", MOBILE)
    token = browser.csrf()
    known = browser.client.post("/sign-in/code", data={"mobile": MOBILE, "csrf": token})
    unknown = browser.client.post("/sign-in/code", data={"mobile": OTHER, "csrf": token})
    assert known.status_code == unknown.status_code == 200
    strip = [("138****5678", ""), ("139****4321", ""), (MOBILE, ""), (OTHER, "")]

    def without_outbox(text: str) -> str:
        text = text.split('<aside class="demo"')[0]
        for old, new in strip:
            text = text.replace(old, new)
        return text

    assert without_outbox(known.text) == without_outbox(unknown.text)


def test_wrong_codes_then_the_right_one_is_refused_after_five_tries(
    app: App, browser: Browser
) -> None:
    customer_with_policy(app, "11010519810415031", MOBILE)
    token = browser.csrf()
    browser.client.post("/sign-in/code", data={"mobile": MOBILE, "csrf": token})
    code = latest_code(app, MOBILE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        page = browser.client.post(
            "/sign-in/verify", data={"mobile": MOBILE, "code": wrong, "csrf": token}
        )
        assert page.status_code == 400 and "验证码错误或已过期" in page.text
    late = browser.client.post(
        "/sign-in/verify", data={"mobile": MOBILE, "code": code, "csrf": token}
    )
    assert late.status_code == 400  # the challenge is spent
    assert browser.client.get("/me", follow_redirects=False).status_code == 303


def test_code_requests_are_rate_limited_per_number(browser: Browser) -> None:
    token = browser.csrf()
    for _ in range(5):
        ok = browser.client.post("/sign-in/code", data={"mobile": OTHER, "csrf": token})
        assert ok.status_code == 200
    limited = browser.client.post("/sign-in/code", data={"mobile": OTHER, "csrf": token})
    assert limited.status_code == 429 and "请求过于频繁" in limited.text


def test_a_bad_number_is_explained(browser: Browser) -> None:
    page = browser.client.post("/sign-in/code", data={"mobile": "12345", "csrf": browser.csrf()})
    assert page.status_code == 400 and "手机号码无效" in page.text


def test_forms_without_the_csrf_token_are_refused(browser: Browser) -> None:
    browser.csrf()  # the browser has an ID
    page = browser.client.post("/sign-in/code", data={"mobile": MOBILE})
    assert page.status_code == 403 and "页面已过期" in page.text
    forged = browser.client.post("/sign-in/code", data={"mobile": MOBILE, "csrf": "0" * 64})
    assert forged.status_code == 403


def test_another_customers_policy_is_not_found(
    app: App, browser: Browser, second_browser: Browser
) -> None:
    mine = customer_with_policy(app, "11010519810415031", MOBILE)
    theirs = customer_with_policy(app, "11010519900101002", OTHER)
    browser.sign_in(MOBILE)
    second_browser.sign_in(OTHER)
    assert browser.client.get(f"/me/policies/{theirs}").status_code == 404
    assert second_browser.client.get(f"/me/policies/{mine}").status_code == 404
    assert second_browser.client.get(f"/me/policies/{theirs}").status_code == 200
    assert mine not in second_browser.client.get("/me").text


def test_a_stolen_session_cookie_does_not_work_in_another_browser(
    app: App, browser: Browser, second_browser: Browser
) -> None:
    customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    second_browser.csrf()
    session = browser.client.cookies.get("bx_session")
    assert session
    second_browser.client.cookies.set("bx_session", session)
    assert second_browser.client.get("/me", follow_redirects=False).status_code == 303


def test_english_and_care_mode_switch_from_any_page(web: TestClient) -> None:
    page = web.get("/")
    assert 'lang="zh-CN"' in page.text and "手机号登录" in page.text
    english = web.get("/prefs/lang/en?next=/")
    assert english.status_code == 200 and 'lang="en"' in english.text
    assert "Sign in with your mobile number" in english.text
    care = web.get("/prefs/care/on?next=/")
    assert '<body class="care"' in care.text
    assert web.get("/prefs/lang/en?next=https://evil.example/").url.path == "/"


def test_error_pages_speak_the_users_language_without_a_traceback(web: TestClient) -> None:
    missing = web.get("/no/such/page")
    assert missing.status_code == 404 and "找不到该页面" in missing.text
    assert "Traceback" not in missing.text
    headers = missing.headers
    assert (
        headers["x-frame-options"] == "DENY"
        and "frame-ancestors" in headers["content-security-policy"]
    )
    cookie = web.cookies.jar
    assert any(c.name == "bx_sid" and c.secure for c in cookie)


def test_the_demo_outbox_shows_the_code(app: App, browser: Browser) -> None:
    token = browser.csrf()
    page = browser.client.post("/sign-in/code", data={"mobile": OTHER, "csrf": token})
    assert latest_code(app, OTHER) in page.text


def test_notices_inbox_marks_read_only_the_customers_own(
    app: App, browser: Browser, second_browser: Browser
) -> None:
    from baoxian.outreach.services import Text

    customer_with_policy(app, "11010519810415031", MOBILE)
    customer_with_policy(app, "11010519900101002", OTHER)
    mine = app.policies.parties_with_mobile(MOBILE)[0]
    notice = app.outreach.notify(
        mine.party_id, MOBILE, Text("test", "续保提醒", "Renewal due", "您的保单将到期", "Due")
    )
    browser.sign_in(MOBILE)
    inbox = browser.client.get("/me/notices")
    assert inbox.status_code == 200 and "续保提醒" in inbox.text and "您的保单将到期" in inbox.text
    assert 'class="badge">新<' in inbox.text
    second_browser.sign_in(OTHER)
    assert "续保提醒" not in second_browser.client.get("/me/notices").text
    stolen = second_browser.client.post(
        f"/me/notices/{notice.notice_id}/read", data={"csrf": second_browser.csrf("/me")}
    )
    assert stolen.status_code == 404
    read = browser.client.post(
        f"/me/notices/{notice.notice_id}/read", data={"csrf": browser.csrf("/me")}
    )
    assert read.status_code == 200 and 'class="badge">新<' not in read.text
