"""通知设置 on the portal: a customer chooses how proactive notices reach them."""

from __future__ import annotations

import re

from baoxian.bootstrap import App
from baoxian.outreach.model import Preference
from tests.web.conftest import Browser, customer_with_policy

MOBILE = "13812345678"


def party_of(app: App, browser: Browser) -> str:
    customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    return app.policies.parties_with_mobile(MOBILE)[0].party_id


def test_the_settings_start_at_text_messages_in_chinese(app: App, browser: Browser) -> None:
    party_of(app, browser)
    page = browser.client.get("/me/notice-settings")
    assert page.status_code == 200 and "通知设置" in page.text
    assert re.search(r'value="sms"\s+checked', page.text)
    assert re.search(r'value="zh"\s+checked', page.text)
    assert not re.search(r'value="(email|inbox|en)"\s+checked', page.text)
    assert "/me/notice-settings" in browser.client.get("/me").text


def test_a_customer_chooses_e_mail_in_english_with_the_plain_wording(
    app: App, browser: Browser
) -> None:
    party = party_of(app, browser)
    saved = browser.client.post(
        "/me/notice-settings",
        data={
            "channel": "email",
            "locale": "en",
            "care": "on",
            "address": " wang@example.cn ",
            "csrf": browser.csrf("/me/notice-settings"),
        },
    )
    assert saved.status_code == 200 and "已保存" in saved.text
    assert app.outreach.preference(party) == Preference(
        party, "email", "en", True, "wang@example.cn"
    )


def test_e_mail_without_an_address_is_refused_and_nothing_changes(
    app: App, browser: Browser
) -> None:
    party = party_of(app, browser)
    token = browser.csrf("/me/notice-settings")
    refused = browser.client.post(
        "/me/notice-settings", data={"channel": "email", "locale": "zh", "csrf": token}
    )
    assert refused.status_code == 400 and "需要填写地址" in refused.text
    webhook = browser.client.post(
        "/me/notice-settings", data={"channel": "webhook", "locale": "zh", "csrf": token}
    )
    assert webhook.status_code == 400 and "请选择短信、邮件或站内信" in webhook.text
    assert app.outreach.preference(party) == Preference(party)


def test_the_settings_need_a_signed_in_customer(browser: Browser) -> None:
    page = browser.client.get("/me/notice-settings", follow_redirects=False)
    assert page.status_code == 303
