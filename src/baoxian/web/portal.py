"""The customer portal (云门店): sign in with a phone and a code, my policies, preferences.

Routes parse the request, call a service and render a page — nothing else.  A customer only
ever sees policies held by a party registered with their own phone number; anything else
is "not found", never "forbidden" (no hint that it exists).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from baoxian.identity.model import RateLimited, SignInFailed
from baoxian.identity.services import Customer
from baoxian.outreach.model import Preference
from baoxian.policies.model import Policy
from baoxian.shared.errors import ValidationFailed
from baoxian.web.i18n import LOCALES
from baoxian.web.pages import Page, Web
from baoxian.web.security import CARE_COOKIE, LOCALE_COOKIE, SESSION_COOKIE, Session

router = APIRouter()
YEAR = 365 * 24 * 3600


def page_of(request: Request) -> Page:
    web: Web = request.app.state.web
    return web.page(request)


def signed_in(page: Page) -> Customer:
    customer = page.customer()
    if customer is None:
        raise HTTPException(401)
    return customer


def own_policy(page: Page, customer: Customer, policy_number: str) -> Policy:
    """A policy the customer holds, or 404 — the same answer for someone else's policy and
    for one that does not exist."""
    for policy in page.web.app.policies.policies_held_by(customer.party_ids):
        if policy.policy_number == policy_number:
            return policy
    raise HTTPException(404)


def local_path(target: str | None) -> str:
    """Only ever redirect within the site (a backslash or a control character could make a
    browser read ``/\\host`` as another site, so those are refused too)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    return target


def back_to(target: str | None) -> str:
    """The ``next`` a sign-in form carries: a local page, or empty."""
    path = local_path(target)
    return "" if path == "/" else path


def after_sign_in(target: str | None) -> str:
    """Where a customer lands once signed in: the page that sent them, else my policies."""
    return back_to(target) or "/me"


def sign_in_first(request: Request) -> RedirectResponse:
    """To the sign-in page, which brings the customer back here afterwards: to this page
    (GET), or to the page a form was posted from (its same-site Referer)."""
    back = back_to(_here(request))
    return RedirectResponse(f"/?{urlencode({'next': back})}" if back else "/", status_code=303)


def _here(request: Request) -> str:
    if request.method in ("GET", "HEAD"):
        path, query = request.url.path, request.url.query
    else:
        referer = urlsplit(request.headers.get("referer", ""))
        if referer.netloc != request.url.netloc:
            return ""
        path, query = referer.path, referer.query
    return f"{path}?{query}" if query else path


# --------------------------------------------------------------------------- sign-in


@router.get("/")
def home(request: Request, next: str | None = None) -> Response:
    page = page_of(request)
    if page.customer() is not None:
        return RedirectResponse(after_sign_in(next), status_code=303)
    return page.render("portal/sign_in.html", back=back_to(next))


@router.post("/sign-in/code")
def request_code(
    request: Request, mobile: Annotated[str, Form()], next: Annotated[str, Form()] = ""
) -> Response:
    page = page_of(request)
    back = back_to(next)
    client = request.client.host if request.client else "unknown"
    sign_in = "portal/sign_in.html"
    try:
        page.web.app.identity.request_code(mobile, client)
    except ValidationFailed as error:
        return page.render(sign_in, status_code=400, error=error, mobile=mobile, back=back)
    except RateLimited as error:
        return page.render(sign_in, status_code=429, error=error, mobile=mobile, back=back)
    outbox = page.web.app.outreach.outbox(5) if page.web.demo else []
    return page.render("portal/code.html", mobile=mobile.strip(), outbox=outbox, back=back)


@router.post("/sign-in/verify")
def verify_code(
    request: Request,
    mobile: Annotated[str, Form()],
    code: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the code and sign in; then back to the page that asked for it (``next``, a
    local path only), else to my policies."""
    page = page_of(request)
    try:
        customer = page.web.app.identity.verify_code(mobile, code)
    except (SignInFailed, ValidationFailed) as error:
        return page.render(
            "portal/code.html", status_code=400, error=error, mobile=mobile, back=back_to(next)
        )
    session = Session("customer", customer.mobile, page.sid)
    response = RedirectResponse(after_sign_in(next), status_code=303)
    _set_session(response, page, session)
    return response


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, secure=True, samesite="lax")
    return response


def _set_session(response: Response, page: Page, session: Session) -> None:
    token = page.web.keys.issue(session, page.web.clock())
    response.set_cookie(SESSION_COOKIE, token, httponly=True, secure=True, samesite="lax")


# --------------------------------------------------------------------------- my policies


@router.get("/me")
def my_policies(request: Request) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    app = page.web.app
    policies = app.policies.policies_held_by(customer.party_ids)
    claims = app.claims.claims_on([p.policy_number for p in policies], limit=20)
    notices = app.outreach.inbox(customer.party_ids, limit=5)
    return page.render(
        "portal/me.html",
        customer=customer,
        policies=policies,
        claims=claims,
        notices=notices,
        products={p.code: p for p in app.catalog.products()},
    )


@router.get("/me/notices")
def my_notices(request: Request) -> Response:
    """消息中心: every notice to the customer's parties, newest first, unread marked."""
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return RedirectResponse("/?next=/me/notices", status_code=303)
    notices = page.web.app.outreach.inbox(customer.party_ids, limit=100)
    return page.render("portal/notices.html", customer=customer, notices=notices)


@router.post("/me/notices/{notice_id}/read")
def read_notice(request: Request, notice_id: str) -> Response:
    """Mark one of the customer's own notices read (someone else's: nothing happens)."""
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        raise HTTPException(404)
    if not page.web.app.outreach.mark_read(notice_id, customer.party_ids):
        raise HTTPException(404)
    return RedirectResponse("/me/notices", status_code=303)


@router.get("/me/policies/{policy_number}")
def my_policy(request: Request, policy_number: str) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    policy = own_policy(page, customer, policy_number)
    app = page.web.app
    return page.render(
        "portal/policy.html",
        customer=customer,
        policy=policy,
        product=app.catalog.product(policy.product_code),
        plan=app.catalog.plan(policy.product_code, policy.plan_version),
        claims=app.claims.claims_on([policy.policy_number]),
    )


# --------------------------------------------------------------------------- notice settings

PORTAL_CHANNELS = ("sms", "email", "inbox")
"""What a customer can choose here (push needs the app; webhooks are for partners)."""


@router.get("/me/notice-settings")
def notice_settings(request: Request, saved: str = "") -> Response:
    """通知设置: how proactive notices reach the customer (channel, language, 关爱版)."""
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    preference = page.web.app.outreach.preference(customer.party_ids[0])
    return page.render(
        "portal/notice_settings.html", customer=customer, preference=preference, saved=saved
    )


@router.post("/me/notice-settings")
def save_notice_settings(
    request: Request,
    channel: Annotated[str, Form()] = "",
    locale: Annotated[str, Form()] = "zh",
    care: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
) -> Response:
    """Keep the choice for every party registered with the signed-in number."""
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    outreach = page.web.app.outreach
    chosen = [
        Preference(party_id, channel, locale, care == "on", address.strip() or None)
        for party_id in customer.party_ids
    ]
    try:
        if channel not in PORTAL_CHANNELS:
            raise ValidationFailed(
                "outreach.unknown_channel",
                "请选择短信、邮件或站内信",
                "choose text message, e-mail or the inbox",
            )
        for preference in chosen:
            outreach.set_preference(preference)
    except ValidationFailed as error:
        return page.render(
            "portal/notice_settings.html",
            status_code=400,
            customer=customer,
            preference=chosen[0],
            saved="",
            error=error,
        )
    return RedirectResponse("/me/notice-settings?saved=1", status_code=303)


# --------------------------------------------------------------------------- preferences


@router.get("/prefs/lang/{locale}")
def switch_language(locale: str, next: str | None = None) -> Response:
    response = RedirectResponse(local_path(next), status_code=303)
    if locale in LOCALES:
        response.set_cookie(LOCALE_COOKIE, locale, max_age=YEAR, secure=True, samesite="lax")
    return response


@router.get("/prefs/care/{mode}")
def switch_care(mode: str, next: str | None = None) -> Response:
    """关爱版: large type, high contrast, one task per screen — on or off from any page."""
    response = RedirectResponse(local_path(next), status_code=303)
    value = "1" if mode == "on" else "0"
    response.set_cookie(CARE_COOKIE, value, max_age=YEAR, secure=True, samesite="lax")
    return response


@router.get("/dev/outbox")
def dev_outbox(request: Request) -> Response:
    """开发发件箱: the text messages the platform would have sent (demo mode only)."""
    page = page_of(request)
    if not page.web.demo:
        raise HTTPException(404)
    return page.render("portal/outbox.html", outbox=page.web.app.outreach.outbox(20))


__all__ = ["router"]
