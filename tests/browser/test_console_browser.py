"""Staff work in a real Chromium, each next to a customer in their own browser: a vehicle
change waits in the change queue until a member of staff with the ``service`` role approves
it; a large claim is referred, refused to a handler over their authority, approved by a
supervisor, and the customer sees it paid.  Staff accounts are made through the identity
service (nobody can sign up as staff); everything else is clicks and typing."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from baoxian.bootstrap import App
from baoxian.shared.money import Money
from tests.browser.conftest import (
    LiveServer,
    invoice_photo,
    screenshot,
    sign_in,
    staff_sign_in,
)
from tests.web.conftest import customer_with_policy
from tests.web.test_changes import MOTOR_MOBILE, issue_example

MOBILE = "13812345678"
PASSWORD = "correct-horse-battery"
NEW_PLATE = "粤B·F67890"


def test_a_vehicle_change_is_approved_in_the_change_queue(
    app: App, server: LiveServer, page: Page, other_page: Page
) -> None:
    number = issue_example(app, "quote-motor-nev.yaml")
    sign_in(page, server, MOTOR_MOBILE)
    page.click(f"a[href='/me/policies/{number}']")
    page.click(f"#change-offers a[href='/me/policies/{number}/changes/vehicle']")
    expect(page.locator("#change-form")).to_be_visible()
    page.fill("#plate", NEW_PLATE)
    screenshot(page, "portal-change-vehicle-form")
    page.click("#submit-change")
    expect(page.locator("#request-status")).to_have_text("审核中")
    screenshot(page, "portal-change-vehicle-pending")

    app.identity.add_staff("li", "李柜面", PASSWORD, ["service"])
    staff_sign_in(other_page, server, "li", PASSWORD)
    other_page.click("#changes-link")
    queue = other_page.locator("#change-queue")
    expect(queue).to_contain_text(number)
    expect(queue).to_contain_text(f"号牌号码: {NEW_PLATE}")
    screenshot(other_page, "console-change-queue")
    queue.locator("a", has_text="车辆信息变更").click()
    expect(other_page.locator("#current-values")).to_contain_text("粤B·D12345")
    expect(other_page.locator("#requested-values")).to_contain_text(NEW_PLATE)
    expect(other_page.locator("#decline")).to_have_text("不予通过")
    screenshot(other_page, "console-change-detail")
    other_page.click("#approve")
    expect(other_page.locator("#request-status")).to_have_text("已批准")

    page.reload()
    expect(page.locator("#request-status")).to_have_text("已批准")
    page.goto(server.url + "/me")
    expect(page.locator("#notices")).to_contain_text("保全申请已批准")
    assert app.policies.policy(number).unit("粤B·D12345").details["plate"] == NEW_PLATE


def test_a_referred_claim_is_approved_by_a_supervisor_and_paid(
    app: App, server: LiveServer, page: Page, other_page: Page
) -> None:
    """Out-of-list 200,000: (200,000 − 18,000) × 70 % = 127,400.00, over the 50,000
    straight-through limit and over the handler's 50,000 authority."""
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    app.identity.add_staff("zhang", "张理赔", PASSWORD, ["claims_handler"], Money.of("50000"))
    app.identity.add_staff("li", "李主管", PASSWORD, ["claims_supervisor"], Money.of("500000"))
    sign_in(page, server, MOBILE)
    page.click(f"a[href='/me/policies/{number}']")
    page.click("#file-claim")
    page.fill("#admitted", "2026-06-01")
    page.fill("#discharged", "2026-06-06")
    page.fill("#hospital", "北京协和医院")
    page.fill("#diagnosis", "K35.8")
    page.fill("#out_of_list", "200,000")
    page.fill("#invoice_no", "INV-2026-0602")
    page.set_input_files("#invoice", files=[invoice_photo()])
    page.click("#submit-claim")
    expect(page.locator("#claim-status")).to_have_text("理赔专员正在审核您的申请")
    claim_id = page.locator("#claim-id").inner_text()

    staff_sign_in(other_page, server, "zhang", PASSWORD)
    expect(other_page.locator("#claim-queue")).to_contain_text("超过自动赔付上限")
    screenshot(other_page, "console-claim-queue")
    other_page.click(f"#claim-queue a[href='/console/claims/{claim_id}']")
    expect(other_page.locator("#findings")).to_contain_text(
        "应付金额 127,400.00 元超过自动赔付上限 50,000.00 元"
    )
    screenshot(other_page, "console-claim-detail")
    other_page.fill("#approve-comment", "资料齐全")
    other_page.click("#approve")
    expect(other_page.locator(".alert")).to_contain_text("超过 张理赔 的审批权限 50,000.00 元")

    other_page.click("#sign-out")
    staff_sign_in(other_page, server, "li", PASSWORD)
    other_page.click(f"#claim-queue a[href='/console/claims/{claim_id}']")
    other_page.fill("#approve-comment", "医院证明齐全")
    other_page.click("#approve")
    expect(other_page.locator("#claim-status")).to_have_text("已支付")
    expect(other_page.locator("#timeline")).to_contain_text("医院证明齐全")

    other_page.click("a[href='/console/dashboard']")
    expect(other_page.locator("tr[data-product='BJ-HMB']")).to_contain_text("¥127,400.00")
    screenshot(other_page, "console-dashboard")
    other_page.click("a[href='/console/customers']")
    other_page.fill("#mobile", MOBILE)
    other_page.click("#search-mobile")
    expect(other_page.locator("#customer-claims")).to_contain_text(claim_id)
    expect(other_page.locator("#customer-claims")).to_contain_text("¥127,400.00")
    expect(other_page.locator("#parties")).to_contain_text("138****5678")
    screenshot(other_page, "console-customer-360")

    page.reload()
    expect(page.locator("#claim-status")).to_have_text("已赔付")
    expect(page.locator("#claim-paid")).to_have_text("¥127,400.00")
    expect(page.locator("#timeline")).to_contain_text("已赔付 ¥127,400.00")
    screenshot(page, "portal-claim-paid-after-review")
