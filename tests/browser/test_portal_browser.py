"""The portal in a real Chromium: sign in with the code from the demo outbox, see one's
policy, switch to English and to 关爱版, and fail to open another customer's policy."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from baoxian.bootstrap import App
from tests.browser.conftest import LiveServer, screenshot, sign_in
from tests.web.conftest import customer_with_policy

MOBILE = "13812345678"
OTHER = "13987654321"


def test_customer_signs_in_and_sees_their_policy(app: App, server: LiveServer, page: Page) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    page.goto(server.url + "/")
    screenshot(page, "portal-sign-in")
    sign_in(page, server, MOBILE)
    expect(page.locator("#policies")).to_contain_text(number)
    expect(page.locator("#policies")).to_contain_text("北京普惠健康保")
    screenshot(page, "portal-my-policies")
    page.click(f"text={number}")
    expect(page.locator("#policy-number")).to_have_text(number)
    screenshot(page, "portal-policy")


def test_english_and_care_mode(app: App, server: LiveServer, page: Page) -> None:
    page.goto(server.url + "/")
    expect(page.locator("h1")).to_have_text("手机号登录")
    page.click("#lang-switch")
    expect(page.locator("h1")).to_have_text("Sign in with your mobile number")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.click("#care-switch")
    expect(page.locator("body")).to_have_class("care")
    size = page.evaluate("getComputedStyle(document.body).fontSize")
    assert size == "24px"
    screenshot(page, "portal-care-mode-english")
    page.click("#lang-switch")
    expect(page.locator("h1")).to_have_text("手机号登录")
    expect(page.locator("body")).to_have_class("care")  # both choices are kept


def test_a_second_customer_cannot_open_the_first_ones_policy_by_url(
    app: App, server: LiveServer, page: Page, other_page: Page
) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    customer_with_policy(app, "11010519900101002", OTHER)
    sign_in(other_page, server, OTHER)
    response = other_page.goto(f"{server.url}/me/policies/{number}")
    assert response is not None and response.status == 404
    expect(other_page.locator("h1")).to_have_text("找不到该页面")
    sign_in(page, server, MOBILE)
    response = page.goto(f"{server.url}/me/policies/{number}")
    assert response is not None and response.status == 200
