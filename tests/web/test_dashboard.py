"""The console's dashboard: policies in force, loss ratio, straight-through rate and report to
payment by product, drawn as server-side SVG bars with the same numbers in tables."""

from __future__ import annotations

import doctest
import importlib
import re
from fractions import Fraction

import pytest

from baoxian.bootstrap import App
from baoxian.dashboards import dashboard
from baoxian.policies.requests import ChangeKind, ChannelCounts
from baoxian.shared.money import Money
from tests.web.claim_helpers import REQUEST_ID, send_claim, staff_sign_in
from tests.web.conftest import CSRF, Browser, customer_with_policy

PASSWORD = "correct-horse-battery"


def row(html: str, marker: str) -> list[str]:
    """The cells of the table row carrying a data attribute, as text."""
    found = re.search(rf"<tr {re.escape(marker)}>(.*?)</tr>", html, re.S)
    assert found, marker
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", found[1], re.S)
    ]


def test_the_dashboard_shows_the_exact_figures(
    app: App, browser: Browser, second_browser: Browser
) -> None:
    """Two 惠民保 policies (195 each); one claim paid 1,600.00 straight through, one referred
    (over the straight-through limit)."""
    number = customer_with_policy(app, "11010519810415031", "13812345678")
    customer_with_policy(app, "11010519900101002", "13987654321")
    browser.sign_in("13812345678")
    send_claim(browser, number)
    send_claim(
        browser,
        number,
        in_list="",
        paid_by_basic="",
        out_of_list="200000",
        invoice_no="INV-2",
        invoice=None,
    )
    app.identity.add_staff("zhao", "赵经理", PASSWORD, ["admin"])
    staff_sign_in(second_browser, "zhao", PASSWORD)

    home = second_browser.client.get("/console")
    assert 'href="/console/dashboard"' in home.text
    page = second_browser.client.get("/console/dashboard")

    assert page.status_code == 200
    assert row(page.text, 'data-product="BJ-HMB"') == [
        "BJ-HMB",
        "2",
        "¥390.00",
        "¥1,600.00",
        "410.3%",
    ]
    claims = row(page.text, 'data-claims="BJ-HMB/portal"')
    assert claims[:7] == ["BJ-HMB", "portal", "2", "1", "1", "100.0%", "1"]
    assert claims[9] == "¥1,600.00"
    assert row(page.text, 'data-claims="*/*"')[:7] == ["合计", "合计", "2", "1", "1", "100.0%", "1"]
    assert '<p class="figure" id="servicing-rate">—</p>' in page.text
    for chart in ("chart-in-force", "chart-loss", "chart-stp", "chart-speed"):
        assert f'<svg class="chart" id="{chart}"' in page.text
    assert 'width="300" height="18" class="bar"' in page.text  # the largest bar is full width
    assert "style=" not in page.text and "<script>" not in page.text


def test_loss_ratio_is_paid_over_premium_written(app: App, browser: Browser) -> None:
    number = customer_with_policy(app, "11010519810415031", "13812345678")
    browser.sign_in("13812345678")
    send_claim(browser, number)
    board = dashboard(app.uow, app.engine, app.changes)
    [product] = board.products
    assert product.premium_written == Money.of("195") and product.claims_paid == Money.of("1600")
    assert product.loss_ratio == Fraction(1600, 195)
    assert board.overall.stp_rate == 1 and board.servicing.rate is None


def send_contact_change(browser: Browser, form_path: str, number: str, address: str) -> None:
    """Open a contact-change form (the portal's, or a 慧保全 link's) and send it."""
    form = browser.client.get(form_path)
    csrf, request_id = CSRF.search(form.text), REQUEST_ID.search(form.text)
    assert form.status_code == 200 and csrf and request_id, form.text
    done = browser.client.post(
        f"/me/policies/{number}/changes/contact",
        data={"csrf": csrf[1], "request_id": request_id[1], "mobile": "", "address": address},
    )
    assert done.status_code == 200 and "已生效" in done.text, done.text


def test_the_online_servicing_rate_is_online_requests_over_all(
    app: App, browser: Browser, second_browser: Browser
) -> None:
    """Three change requests: one on the portal and one through a 慧保全 link (both the
    customer's, online), one entered by staff → 2 ÷ 3 = 66.7%."""
    number = customer_with_policy(app, "11010519810415031", "13812345678")
    browser.sign_in("13812345678")
    send_contact_change(
        browser, f"/me/policies/{number}/changes/contact", number, "北京市海淀区中关村大街1号"
    )
    pushed = app.changes.push_link(
        "zhao", "13812345678", number, ChangeKind.CONTACT, {"address": "北京市西城区金融街7号"}
    )
    send_contact_change(browser, f"/l/{pushed.token}", number, "北京市西城区金融街7号")
    app.changes.submit(
        number,
        ChangeKind.CONTACT,
        {"mobile": "", "address": "北京市东城区王府井大街8号"},
        by=app.changes.staff("zhao"),
        request_id=app.changes.new_request_id(),
    )
    assert app.changes.channel_counts() == ChannelCounts(online=2, counter=1)
    board = dashboard(app.uow, app.engine, app.changes)
    assert (board.servicing.online, board.servicing.total) == (2, 3)
    assert board.servicing.rate == Fraction(2, 3)

    app.identity.add_staff("zhao", "赵经理", PASSWORD, ["admin"])
    staff_sign_in(second_browser, "zhao", PASSWORD)
    page = second_browser.client.get("/console/dashboard")
    assert '<p class="figure" id="servicing-rate">66.7%</p>' in page.text
    assert "共 3 笔保全申请，其中 2 笔由客户在线提交（云门店或慧保全链接），其余由柜面录入。" in (
        page.text
    )


def test_an_empty_book_renders(app: App, second_browser: Browser) -> None:
    app.identity.add_staff("zhao", "赵经理", PASSWORD, ["service"])
    staff_sign_in(second_browser, "zhao", PASSWORD)
    page = second_browser.client.get("/console/dashboard")
    assert page.status_code == 200 and "暂无保单。" in page.text and "暂无赔案。" in page.text
    assert '<p class="figure" id="servicing-rate">—</p>' in page.text
    assert "暂无保全申请。" in page.text


def test_a_customer_cannot_open_the_dashboard(app: App, browser: Browser) -> None:
    customer_with_policy(app, "11010519810415031", "13812345678")
    browser.sign_in("13812345678")
    page = browser.client.get("/console/dashboard", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/console"


@pytest.mark.parametrize(
    "name",
    [
        "baoxian.claims.desk",
        "baoxian.customers",
        "baoxian.dashboards",
        "baoxian.web.claim_views",
        "baoxian.web.console_dashboard",
    ],
)
def test_docstring_examples_of_the_claims_pages(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
