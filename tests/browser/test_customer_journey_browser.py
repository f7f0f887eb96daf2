"""A customer's year in a real Chromium, through the pages only: buy 惠民保 (plan → sign in →
insured → questions → premium → pay), change the address (at once), come back months later,
sign in again and land where they were, file a claim with a photo of the invoice, see it
paid to the fen — and read it again in 关爱版."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from baoxian.bootstrap import App
from tests.browser.conftest import LiveServer, invoice_photo, screenshot, sign_in
from tests.store.conftest import resident_id
from tests.web.conftest import MovableClock

MOBILE = "13812345678"
WANG = resident_id("11010519810415031")
ADDRESS = "北京市海淀区中关村大街1号"


@pytest.fixture
def clock() -> MovableClock:
    """14 March 2026, 10:00 in Shanghai: cover bought now starts on the 15th."""
    return MovableClock(datetime(2026, 3, 14, 2, 0, tzinfo=UTC))


def test_a_customer_buys_changes_their_address_and_is_paid_a_claim(
    app: App, server: LiveServer, page: Page, clock: MovableClock
) -> None:
    number = buy_huiminbao(page, server)
    change_address(page, server, number)

    clock.advance(timedelta(days=109))  # 1 July: the session has long expired
    page.goto(f"{server.url}/me/policies/{number}")
    expect(page.locator("#sign-in-back")).to_be_visible()
    sign_in(page, server, MOBILE, lands_on=f"/me/policies/{number}")

    claim_paid(page)
    policy = app.policies.policy(number)
    assert policy.contact_address == ADDRESS


def buy_huiminbao(page: Page, server: LiveServer) -> str:
    """From the shelf to a policy in force; returns its number."""
    page.goto(server.url + "/buy")
    screenshot(page, "portal-buy-0-products")
    page.click("#buy-BJ-HMB")
    expect(page.locator("#step")).to_contain_text("第 1 步，共 5 步")
    expect(page.locator("#start")).to_have_text("2026-03-15")
    screenshot(page, "portal-buy-1-plan")
    page.click("#next")

    expect(page.locator("#sign-in-back")).to_be_visible()  # sign in first, then back
    sign_in(page, server, MOBILE, lands_on="/buy/BJ-HMB/insured")
    page.fill("#name", "王建国")
    page.fill("#id_number", WANG)
    screenshot(page, "portal-buy-2-insured")
    page.click("#next")

    expect(page.locator("#insured-name")).to_have_text("王建国")
    page.check("input[name=medical_insurance][value=beijing]")
    screenshot(page, "portal-buy-3-questions")
    page.click("#see-premium")

    expect(page.locator("#premium")).to_have_text("¥195.00")
    screenshot(page, "portal-buy-4-premium")
    page.click("#to-pay")
    expect(page.locator("#amount")).to_have_text("¥195.00")
    screenshot(page, "portal-buy-5-pay")
    page.click("#pay")  # the fake gateway approves

    expect(page.locator("h1")).to_have_text("保单已生效")
    expect(page.locator("#paid")).to_have_text("¥195.00")
    screenshot(page, "portal-buy-6-done")
    number = page.locator("#policy-number").inner_text()
    page.click(f"a[href='/me/policies/{number}']")
    expect(page.locator("#policy-number")).to_have_text(number)
    expect(page.locator("table").first).to_contain_text("医保目录外住院费用")  # names, not codes
    expect(page.locator("#change-offers")).to_be_visible()  # the htmx panel has loaded
    screenshot(page, "portal-buy-7-policy")
    return number


def change_address(page: Page, server: LiveServer, number: str) -> None:
    page.click(f"#change-offers a[href='/me/policies/{number}/changes/contact']")
    expect(page.locator("h1")).to_have_text("变更联系方式")
    expect(page.locator("#change-form")).to_be_visible()
    page.fill("#address", ADDRESS)
    screenshot(page, "portal-change-contact-form")
    page.click("#submit-change")

    expect(page.locator("#request-status")).to_have_text("已生效")
    expect(page.locator("#request-facts")).to_contain_text(ADDRESS)
    screenshot(page, "portal-change-contact-applied")
    page.goto(f"{server.url}/me/policies/{number}")
    expect(page.locator("#contact-details")).to_contain_text(ADDRESS)


def claim_paid(page: Page) -> None:
    """In-list 50,000, 医保 paid 30,000; the 18,000 deductible; 80 % of 2,000 = 1,600.00."""
    page.click("#file-claim")
    page.fill("#admitted", "2026-06-01")
    page.fill("#discharged", "2026-06-06")
    page.fill("#hospital", "北京协和医院")
    page.fill("#diagnosis", "K35.8")
    page.fill("#in_list", "50,000")
    page.fill("#paid_by_basic", "30,000")
    page.fill("#invoice_no", "INV-2026-0601")
    page.set_input_files("#invoice", files=[invoice_photo()])
    screenshot(page, "portal-claim-form")
    page.click("#submit-claim")

    expect(page.locator("#claim-status")).to_have_text("已赔付")
    expect(page.locator("#claim-paid")).to_have_text("¥1,600.00")
    timeline = page.locator("#timeline")
    for step in ("收到理赔申请", "收到资料: invoice.png", "系统审核通过", "已赔付 ¥1,600.00"):
        expect(timeline).to_contain_text(step)
    expect(page.locator("#eob caption")).to_have_text("申请 ¥50,000.00，可赔 ¥1,600.00")
    expect(page.locator("#payments")).to_contain_text("¥1,600.00")
    screenshot(page, "portal-claim-paid")

    page.click("#care-switch")
    expect(page.locator("body")).to_have_class("care")
    expect(page.locator("#claim-paid")).to_have_text("¥1,600.00")
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "24px"
    screenshot(page, "portal-claim-care-mode")
