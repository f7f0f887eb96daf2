"""Signing in from a page that needed it brings the customer back to that page (``next``,
carried through both sign-in forms); only paths within the site are followed."""

from __future__ import annotations

import re

import httpx
import pytest

from baoxian.bootstrap import App
from baoxian.web.portal import after_sign_in, local_path
from tests.web.claim_helpers import claim_id_of, send_claim
from tests.web.conftest import CSRF, Browser, customer_with_policy, latest_code

MOBILE = "13812345678"
NEXT = re.compile(r'<input type="hidden" name="next" value="([^"]*)">')


def sign_in_from(browser: Browser, location: str, mobile: str = MOBILE) -> httpx.Response:
    """Follow a redirect to the sign-in page and sign in with the forms as they are; returns
    the answer to the last form (not followed)."""
    page = browser.client.get(location)
    token = CSRF.search(page.text)
    assert page.status_code == 200 and token, page.text
    back = next_value(page.text)
    hidden = {"next": back} if back else {}
    sent = browser.client.post("/sign-in/code", data={"mobile": mobile, "csrf": token[1], **hidden})
    assert sent.status_code == 200 and next_value(sent.text) == back
    code = latest_code(browser.app, mobile)
    done: httpx.Response = browser.client.post(
        "/sign-in/verify",
        data={"mobile": mobile, "code": code, "csrf": token[1], **hidden},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return done


def next_value(html: str) -> str | None:
    """The value of a form's hidden ``next`` field, if it has one."""
    found = NEXT.search(html)
    return found[1] if found else None


def test_signing_in_from_a_buy_step_lands_back_on_it(app: App, browser: Browser) -> None:
    asked = browser.client.get("/buy/BJ-HMB/insured", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/?next=%2Fbuy%2FBJ-HMB%2Finsured"
    page = browser.client.get(asked.headers["location"])
    assert '<input type="hidden" name="next" value="/buy/BJ-HMB/insured">' in page.text
    assert "登录后将回到您刚才所在的页面。" in page.text
    english = browser.client.get(f"/prefs/lang/en?next={asked.headers['location']}")
    assert 'name="next" value="/buy/BJ-HMB/insured"' in english.text  # the switch keeps it
    browser.client.get("/prefs/lang/zh_CN?next=/")

    done = sign_in_from(browser, asked.headers["location"])

    assert done.headers["location"] == "/buy/BJ-HMB/insured"
    step = browser.client.get(done.headers["location"])
    assert step.status_code == 200 and "第 2 步，共 5 步" in step.text


def test_signing_in_from_a_claim_page_keeps_the_query_and_lands_back(
    app: App, browser: Browser
) -> None:
    number = customer_with_policy(app, "11010519810415031", MOBILE)
    browser.sign_in(MOBILE)
    claim_id = claim_id_of(send_claim(browser, number))
    browser.client.post("/sign-out", data={"csrf": browser.csrf("/me")})

    asked = browser.client.get(f"/me/claims/{claim_id}?from=sms", follow_redirects=False)
    assert asked.headers["location"] == f"/?next=%2Fme%2Fclaims%2F{claim_id}%3Ffrom%3Dsms"
    done = sign_in_from(browser, asked.headers["location"])

    assert done.headers["location"] == f"/me/claims/{claim_id}?from=sms"
    claim = browser.client.get(done.headers["location"])
    assert claim.status_code == 200 and 'id="claim-status">已赔付' in claim.text
    again = browser.client.get(f"/?next=/me/claims/{claim_id}", follow_redirects=False)
    assert again.headers["location"] == f"/me/claims/{claim_id}"  # already signed in


def test_a_form_posted_without_a_session_comes_back_to_its_page(browser: Browser) -> None:
    """A session that ran out while a form was open: back to the form's page (its
    same-site Referer), never to another site's."""
    token = browser.csrf("/")
    form = {"name": "王建国", "id_number": "x", "csrf": token}
    own = browser.client.post(
        "/buy/BJ-HMB/insured",
        data=form,
        headers={"referer": "https://testserver/buy/BJ-HMB/insured"},
        follow_redirects=False,
    )
    assert own.status_code == 303
    assert own.headers["location"] == "/?next=%2Fbuy%2FBJ-HMB%2Finsured"
    foreign = browser.client.post(
        "/buy/BJ-HMB/insured",
        data=form,
        headers={"referer": "https://evil.example/buy/BJ-HMB/insured"},
        follow_redirects=False,
    )
    assert foreign.headers["location"] == "/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/me",
        "/\\evil.example",
        "javascript:alert(1)",
        "me/claims",
        "/me\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_next_never_leaves_the_site(app: App, browser: Browser, target: str) -> None:
    customer_with_policy(app, "11010519810415031", MOBILE)
    page = browser.client.get("/", params={"next": target})
    assert 'name="next"' not in page.text
    token = CSRF.search(page.text)
    assert token
    browser.client.post("/sign-in/code", data={"mobile": MOBILE, "csrf": token[1]})
    done = browser.client.post(
        "/sign-in/verify",
        data={
            "mobile": MOBILE,
            "code": latest_code(app, MOBILE),
            "csrf": token[1],
            "next": target,  # a forged form
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/me"
    assert local_path(target) == "/" and after_sign_in(target) == "/me"
