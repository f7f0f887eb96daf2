"""Buying online over HTTP (网上投保): plan → insured → questions → premium → pay → policy in
force → certificate PDF.  Payment goes through the fake gateway; a decline, a retry and a
double submit each end with exactly one policy; nobody sees another phone's quote, policy or
certificate."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from baoxian.billing.gateway import FakeGateway
from baoxian.bootstrap import App, build
from baoxian.policies.model import QuoteStatus
from baoxian.settings import Settings
from baoxian.shared.clock import fixed_clock
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money
from baoxian.web.portal_buy import parse_options
from tests.store.conftest import resident_id
from tests.web.conftest import CATALOG, Browser, customer_with_policy
from tests.web.pdf_text import pdf_text

NOW = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: cover starts 2026-03-15
MOBILE = "13812345678"
OTHER = "13987654321"
WANG = resident_id("11010519810415031")  # born 1981-04-15, male: 43 on 2026-03-15
HMB_PREMIUM = "¥195.00"


@pytest.fixture
def app(tmp_path: Path) -> App:
    """The application on a fixed day, so the plan on sale and the ages never drift."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", catalog_dir=CATALOG)
    return build(settings, clock=fixed_clock(NOW))


def gateway_of(app: App) -> FakeGateway:
    gateway = app.billing.gateway
    assert isinstance(gateway, FakeGateway)
    return gateway


def apply(
    browser: Browser,
    product: str,
    answers: dict[str, str | list[str]],
    name: str = "王建国",
    id_number: str = WANG,
) -> httpx.Response:
    """Steps 1–3: open the plan, give the insured person, answer; returns the premium page."""
    assert browser.client.get(f"/buy/{product}").status_code == 200
    token = browser.csrf(f"/buy/{product}/insured")
    questions = browser.client.post(
        f"/buy/{product}/insured", data={"name": name, "id_number": id_number, "csrf": token}
    )
    assert questions.status_code == 200, questions.text
    party = re.search(r'name="party_id" value="([0-9a-f]+)"', questions.text)
    assert party, questions.text
    premium: httpx.Response = browser.client.post(
        f"/buy/{product}/quote", data={"party_id": party.group(1), "csrf": token, **answers}
    )
    assert premium.status_code == 200 and "/me/quotes/" in premium.url.path, premium.text
    return premium


def quote_id_of(page: httpx.Response) -> str:
    return page.url.path.split("/")[3]


def pay(browser: Browser, quote_id: str) -> httpx.Response:
    token = browser.csrf(f"/me/quotes/{quote_id}/pay")
    response: httpx.Response = browser.client.post(
        f"/me/quotes/{quote_id}/pay", data={"csrf": token}
    )
    return response


def test_a_customer_buys_huiminbao_end_to_end(app: App, browser: Browser) -> None:
    browser.sign_in(MOBILE)
    shelf = browser.client.get("/buy")
    assert shelf.status_code == 200 and 'id="buy-BJ-HMB"' in shelf.text
    assert 'id="contact-PAR-ENT"' in shelf.text and 'id="buy-PAR-ENT"' not in shelf.text
    plan = browser.client.get("/buy/BJ-HMB")
    assert "第 1 步，共 5 步" in plan.text and "2026-03-15" in plan.text
    assert "医保目录内住院及门诊特殊病自付费用" in plan.text and "¥3,000,000.00" in plan.text

    premium = apply(browser, "BJ-HMB", {"medical_insurance": "beijing"})
    assert re.search(r'id="premium">¥195\.00<', premium.text)
    number = _paid(browser, quote_id_of(premium))

    policy = app.policies.policy(number)
    assert policy.annual_premium == policy.premium_charged == Money.of("195.00")
    assert policy.term_start.isoformat() == "2026-03-15"
    assert [(c.amount, c.payer_id) for c in gateway_of(app).charges] == [
        (Money.of("195.00"), policy.holder_id)
    ]
    me = browser.client.get("/me")
    assert number in me.text and "北京普惠健康保" in me.text
    assert "保单已生效" in me.text  # the notice in the inbox
    detail = browser.client.get(f"/me/policies/{number}")
    assert detail.status_code == 200 and HMB_PREMIUM in detail.text
    assert f'href="/me/policies/{number}/certificate.pdf"' in detail.text
    assert 'id="buy-link" href="/buy"' in me.text


def _paid(browser: Browser, quote_id: str) -> str:
    """Step 5 (pay) and the page that follows it; returns the policy number."""
    page = browser.client.get(f"/me/quotes/{quote_id}/pay")
    assert page.status_code == 200 and re.search(r'id="amount">¥[\d,.]+<', page.text)
    done = pay(browser, quote_id)
    assert done.status_code == 200 and done.url.path.endswith("/done"), done.text
    assert "保单已生效" in done.text
    found = re.search(r'id="policy-number">(\w+)<', done.text)
    assert found
    return found.group(1)


def test_a_declined_payment_then_a_retry_issues_exactly_one_policy(
    app: App, browser: Browser
) -> None:
    browser.sign_in(MOBILE)
    quote_id = quote_id_of(apply(browser, "BJ-HMB", {"medical_insurance": "beijing"}))
    gateway_of(app).decline_next = 1
    declined = pay(browser, quote_id)
    assert declined.status_code == 402
    assert "付款未成功：发卡行拒绝了这笔交易。请稍后重试或更换付款方式。" in declined.text
    assert 'id="pay">重新支付<' in declined.text
    assert app.policies.quote(quote_id).status is QuoteStatus.ACCEPTED
    assert browser.client.get("/me").text.count("/me/policies/") == 0
    again = browser.client.get(f"/me/quotes/{quote_id}/pay")  # the decline is remembered
    assert "发卡行拒绝了这笔交易" in again.text

    number = _paid(browser, quote_id)
    held = app.policies.policies_held_by(app.identity.customer(MOBILE).party_ids)
    assert [p.policy_number for p in held] == [number]
    assert len(gateway_of(app).charges) == 1
    order = app.billing.order_for(quote_id)
    assert order is not None and order.attempts == 2 and order.policy_number == number


def test_a_double_submit_of_the_pay_form_issues_one_policy(app: App, browser: Browser) -> None:
    browser.sign_in(MOBILE)
    quote_id = quote_id_of(apply(browser, "BJ-HMB", {"medical_insurance": "beijing"}))
    token = browser.csrf(f"/me/quotes/{quote_id}/pay")
    first = browser.client.post(f"/me/quotes/{quote_id}/pay", data={"csrf": token})
    second = browser.client.post(f"/me/quotes/{quote_id}/pay", data={"csrf": token})
    assert first.url.path == second.url.path == f"/me/quotes/{quote_id}/done"
    held = app.policies.policies_held_by(app.identity.customer(MOBILE).party_ids)
    assert len(held) == 1 and len(gateway_of(app).charges) == 1
    inbox = app.outreach.inbox([held[0].holder_id])
    assert [n.subject_zh for n in inbox] == ["保单已生效"]


def test_an_applicant_without_beijing_medical_insurance_sees_why_and_gets_no_policy(
    app: App, browser: Browser
) -> None:
    browser.sign_in(MOBILE)
    premium = apply(browser, "BJ-HMB", {"medical_insurance": "other"})
    assert "很抱歉，我们无法承保。" in premium.text
    assert "被保险人须为北京市基本医疗保险参保人员" in premium.text
    assert 'id="to-pay"' not in premium.text
    refused = pay(browser, quote_id_of(premium))
    assert refused.status_code == 400 and "该投保申请未通过核保，不能付款" in refused.text
    assert app.policies.policies_held_by(app.identity.customer(MOBILE).party_ids) == []
    assert gateway_of(app).charges == []


def test_the_reason_is_shown_in_english_too(browser: Browser) -> None:
    browser.sign_in(MOBILE)
    browser.client.get("/prefs/lang/en?next=/")
    premium = apply(browser, "BJ-HMB", {"medical_insurance": "none"})
    assert "We are sorry: we cannot offer this cover." in premium.text
    assert "The insured must be enrolled in Beijing basic medical insurance" in premium.text


def test_long_term_medical_is_rated_on_age_sex_and_medical_insurance(
    app: App, browser: Browser
) -> None:
    browser.sign_in(MOBILE)
    plan = browser.client.get("/buy/LTM-15/insured")
    assert plan.status_code == 200
    with_medical = apply(browser, "LTM-15", {"medical_insurance": "yes", "health": "none"})
    assert re.search(r'id="premium">¥672\.00<', with_medical.text)  # 2026 table, male 40–44
    without = apply(browser, "LTM-15", {"medical_insurance": "none", "health": "none"})
    assert re.search(r'id="premium">¥1,075\.20<', without.text)  # × 1.60
    number = _paid(browser, quote_id_of(without))
    assert app.policies.policy(number).premium_charged == Money.of("1075.20")


def test_a_health_declaration_with_findings_is_referred_not_sold(
    app: App, browser: Browser
) -> None:
    browser.sign_in(MOBILE)
    premium = apply(
        browser, "LTM-15", {"medical_insurance": "yes", "health": ["diabetes", "stroke"]}
    )
    assert "您的投保申请需要核保人员审核" in premium.text
    assert "健康告知有异常，转人工核保" in premium.text
    assert 'id="to-pay"' not in premium.text
    quote = app.policies.quote(quote_id_of(premium))
    assert quote.status is QuoteStatus.REFERRED
    assert quote.units[0].facts["declared_conditions"] == ["diabetes", "stroke"]


def test_unanswered_or_contradictory_questions_are_asked_again(browser: Browser) -> None:
    browser.sign_in(MOBILE)
    token = browser.csrf("/buy/LTM-15/insured")
    questions = browser.client.post(
        "/buy/LTM-15/insured", data={"name": "王建国", "id_number": WANG, "csrf": token}
    )
    party = re.search(r'name="party_id" value="([0-9a-f]+)"', questions.text)
    assert party and "健康告知" in questions.text
    base = {"party_id": party.group(1), "csrf": token, "medical_insurance": "yes"}
    missing = browser.client.post("/buy/LTM-15/quote", data=base)
    assert missing.status_code == 400 and "请回答：健康告知" in missing.text
    both = browser.client.post("/buy/LTM-15/quote", data={**base, "health": ["none", "diabetes"]})
    assert both.status_code == 400 and "「以上都没有」不能与其他选项同时选择" in both.text
    assert 'value="yes" checked' in both.text  # answers are kept


def test_an_id_number_registered_with_another_phone_is_refused(app: App, browser: Browser) -> None:
    customer_with_policy(app, "11010519810415031", OTHER)
    browser.sign_in(MOBILE)
    token = browser.csrf("/buy/BJ-HMB/insured")
    page = browser.client.post(
        "/buy/BJ-HMB/insured", data={"name": "王建国", "id_number": WANG, "csrf": token}
    )
    assert page.status_code == 400
    assert "该身份证号已登记了其他手机号，无法用本手机号投保" in page.text
    assert 'name="party_id"' not in page.text
    assert app.identity.customer(MOBILE).parties == ()


def test_a_wrong_id_number_is_explained_on_the_same_step(browser: Browser) -> None:
    browser.sign_in(MOBILE)
    token = browser.csrf("/buy/BJ-HMB/insured")
    page = browser.client.post(
        "/buy/BJ-HMB/insured",
        data={"name": "王建国", "id_number": "110105198104150311", "csrf": token},
    )
    assert page.status_code == 400 and "身份证号码无效" in page.text and "第 2 步" in page.text


def test_nobody_else_can_quote_see_or_pay_for_a_customers_application(
    app: App, browser: Browser, second_browser: Browser
) -> None:
    browser.sign_in(MOBILE)
    quote_id = quote_id_of(apply(browser, "BJ-HMB", {"medical_insurance": "beijing"}))
    mine = app.identity.customer(MOBILE).party_ids[0]
    second_browser.sign_in(OTHER)
    token = second_browser.csrf("/buy/BJ-HMB/insured")
    for path in (f"/me/quotes/{quote_id}", f"/me/quotes/{quote_id}/pay", "/me/quotes/nope"):
        assert second_browser.client.get(path).status_code == 404
    stolen = second_browser.client.post(f"/me/quotes/{quote_id}/pay", data={"csrf": token})
    assert stolen.status_code == 404
    quoted = second_browser.client.post(
        "/buy/BJ-HMB/quote",
        data={"party_id": mine, "csrf": token, "medical_insurance": "beijing"},
    )
    assert quoted.status_code == 404
    assert gateway_of(app).charges == []


def test_only_the_customer_can_download_the_certificate(
    app: App, browser: Browser, second_browser: Browser
) -> None:
    browser.sign_in(MOBILE)
    number = _paid(browser, quote_id_of(apply(browser, "BJ-HMB", {"medical_insurance": "beijing"})))
    second_browser.sign_in(OTHER)
    path = f"/me/policies/{number}/certificate.pdf"
    assert second_browser.client.get(path).status_code == 404
    browser.client.post("/sign-out", data={"csrf": browser.csrf()})
    assert browser.client.get(path).status_code == 404


def test_the_certificate_is_a_pdf_with_the_chinese_text(app: App, browser: Browser) -> None:
    browser.sign_in(MOBILE)
    number = _paid(browser, quote_id_of(apply(browser, "BJ-HMB", {"medical_insurance": "beijing"})))
    response = browser.client.get(f"/me/policies/{number}/certificate.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    certificate = app.certificates.certificate(number)
    for expected in (
        "电子保险单",
        "北京普惠健康保（城市定制型商业医疗保险）",
        number,
        "王建国（110***********0310）",
        "2026-03-15 零时起至 2027-03-14 二十四时止",
        "医保目录内住院及门诊特殊病自付费用",
        "In-list inpatient and special-outpatient co-payments",
        "¥3,000,000.00",
        "¥195.00",
        "2026-03-14",  # the date of issue, in Shanghai
        certificate.verification_code,
    ):
        assert expected in text, expected
    assert WANG not in text  # the ID number is masked
    assert app.certificates.verify(number, certificate.verification_code.lower())
    assert not app.certificates.verify(number, "0000-0000-0000-0000")


def test_property_cover_asks_the_customer_to_contact_us(web: httpx.Client) -> None:
    page = web.get("/buy/PAR-ENT")
    assert page.status_code == 200 and "请致电 95500" in page.text
    assert web.get("/buy/NO-SUCH").status_code == 404


def test_the_steps_need_a_signed_in_customer(web: httpx.Client) -> None:
    assert web.get("/buy").status_code == 200  # anyone may look
    step = web.get("/buy/BJ-HMB/insured", follow_redirects=False)
    assert step.status_code == 303
    assert step.headers["location"] == "/?next=%2Fbuy%2FBJ-HMB%2Finsured"  # and back after


def test_care_mode_keeps_one_task_per_screen(browser: Browser) -> None:
    browser.sign_in(MOBILE)
    browser.client.get("/prefs/care/on?next=/")
    premium = apply(browser, "BJ-HMB", {"medical_insurance": "beijing"})
    assert '<body class="care"' in premium.text
    assert 'id="cover"' not in premium.text  # the cover table waits for the policy page
    assert premium.text.count("<form") == 1  # sign-out only; the next step is one button


def test_plan_options_travel_as_fields_and_bad_ones_are_refused() -> None:
    options = parse_options(["liability:500000"], ["earthquake", ""])
    assert options.selections == {"liability": Money.of("500000")}
    assert options.riders == frozenset({"earthquake"})
    assert options.fields() == [("choice", "liability:500000.00"), ("rider", "earthquake")]
    for bad in ("liability", ":100", "liability:NaN", "liability:lots"):
        with pytest.raises(ValidationFailed) as refused:
            parse_options([bad], [])
        assert refused.value.code == "buy.invalid_option"
