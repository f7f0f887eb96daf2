"""The staff console over HTTP: password sign-in (argon2), the referred-claims queue."""

from __future__ import annotations

from baoxian.bootstrap import App
from baoxian.shared.money import Money
from tests.web.conftest import Browser


def test_staff_sign_in_and_queue(app: App, browser: Browser) -> None:
    app.identity.add_staff(
        "zhang", "张理赔", "correct-horse-battery", ["claims_handler"], Money.of("50000")
    )
    token = browser.csrf("/console")
    wrong = browser.client.post(
        "/console/sign-in", data={"user_id": "zhang", "password": "nope-nope-nope", "csrf": token}
    )
    assert wrong.status_code == 400 and "工号或密码错误" in wrong.text
    unknown = browser.client.post(
        "/console/sign-in", data={"user_id": "nobody", "password": "nope-nope-nope", "csrf": token}
    )
    assert unknown.text.replace("nobody", "zhang") == wrong.text  # no hint who exists
    page = browser.client.post(
        "/console/sign-in",
        data={"user_id": "zhang", "password": "correct-horse-battery", "csrf": token},
    )
    assert page.status_code == 200 and "待人工审核的赔案" in page.text and "张理赔" in page.text


def test_a_customer_session_does_not_open_the_console(app: App, browser: Browser) -> None:
    page = browser.client.get("/console")
    assert "云柜面登录" in page.text
