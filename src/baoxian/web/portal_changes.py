"""Self-service policy changes (自助保全) in the portal, and 慧保全 links.

* ``/me/policies/{number}/changes`` — the policy's requests and the changes on offer (also
  an htmx fragment on the policy page);
* ``/me/policies/{number}/changes/{contact|beneficiary|vehicle|site}`` — a change form that
  says what will happen (立即生效 / 提交人工审核) before the customer sends it;
* ``/me/requests`` and ``/me/requests/{id}`` — my requests and their status;
* ``/l/{token}`` — a link staff sent to one phone: after signing in with that phone it
  lands on the transaction, pre-filled.

Routes parse, call :class:`~baoxian.policies.requests_service.ChangeRequestService`, and
render.  A customer only reaches policies held by parties registered with their phone;
anything else is 404, as in :mod:`baoxian.web.portal`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import zip_longest
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from baoxian.identity.model import RateLimited, SignInFailed
from baoxian.identity.services import Customer
from baoxian.policies.model import Policy
from baoxian.policies.requests import (
    KIND_NAMES,
    RELATIONSHIPS,
    ROUTES,
    UNIT_FIELDS,
    UNIT_KIND,
    ChangeKind,
    ChangeLink,
    ChangeRequest,
    LinkExpired,
    LinkNotYours,
    LinkRefused,
    available_kinds,
    current_lines,
)
from baoxian.shared.errors import DomainError, InvalidTransition, ValidationFailed
from baoxian.web.pages import Page
from baoxian.web.portal import own_policy, page_of, sign_in_first
from baoxian.web.security import SESSION_COOKIE, Session

router = APIRouter()

#: URL names of the kinds of change.
SLUGS: Mapping[str, ChangeKind] = {
    "contact": ChangeKind.CONTACT,
    "beneficiary": ChangeKind.BENEFICIARY,
    "vehicle": ChangeKind.VEHICLE,
    "site": ChangeKind.SITE,
}
SLUG_OF: Mapping[ChangeKind, str] = {kind: slug for slug, kind in SLUGS.items()}
BENEFICIARY_ROWS = 3
FormText = Annotated[str, Form()]
FormList = Annotated[list[str], Form()]


def _signed_in_policy(page: Page, policy_number: str) -> tuple[Customer, Policy] | None:
    """The signed-in customer and one of their own policies (404 if not theirs), or None
    when nobody is signed in."""
    customer = page.customer()
    if customer is None:
        return None
    return customer, own_policy(page, customer, policy_number)


def _kind(slug: str, policy: Policy) -> ChangeKind:
    """The kind a URL names, if offered on this policy (else 404)."""
    kind = SLUGS.get(slug)
    if kind is None or kind not in available_kinds(policy):
        raise HTTPException(404)
    return kind


# --------------------------------------------------------------------------- the policy's changes


@router.get("/me/policies/{policy_number}/changes")
def policy_changes(request: Request, policy_number: str) -> Response:
    """The requests on one policy and the changes on offer; only the panel for htmx."""
    page = page_of(request)
    found = _signed_in_policy(page, policy_number)
    if found is None:
        return sign_in_first(request)
    customer, policy = found
    fragment = request.headers.get("hx-request") == "true"
    return page.render(
        "portal/_change_panel.html" if fragment else "portal/change_list.html",
        customer=customer,
        policy=policy,
        requests=page.web.app.changes.on_policies([policy.policy_number], limit=20),
        contact=current_lines(ChangeKind.CONTACT, {}, policy),
        offers=[(SLUG_OF[kind], ROUTES[kind], kind) for kind in available_kinds(policy)],
        kind_names=KIND_NAMES,
    )


@router.get("/me/policies/{policy_number}/changes/{slug}")
def change_form(request: Request, policy_number: str, slug: str) -> Response:
    page = page_of(request)
    found = _signed_in_policy(page, policy_number)
    if found is None:
        return sign_in_first(request)
    customer, policy = found
    return _form(page, customer, policy, _kind(slug, policy), {})


# --------------------------------------------------------------------------- submitting


@router.post("/me/policies/{policy_number}/changes/contact")
def submit_contact(
    request: Request,
    policy_number: str,
    request_id: FormText,
    mobile: FormText = "",
    address: FormText = "",
) -> Response:
    values = {"mobile": mobile, "address": address}
    return _submit(request, policy_number, ChangeKind.CONTACT, values, values, request_id)


@router.post("/me/policies/{policy_number}/changes/beneficiary")
def submit_beneficiary(
    request: Request,
    policy_number: str,
    request_id: FormText,
    name: FormList,
    id_number: FormList,
    relationship: FormList,
    share: FormList,
) -> Response:
    rows = _beneficiary_rows(name, id_number, relationship, share)
    return _submit(
        request,
        policy_number,
        ChangeKind.BENEFICIARY,
        {"beneficiaries": rows},
        {"beneficiaries": rows},
        request_id,
    )


@router.post("/me/policies/{policy_number}/changes/vehicle")
def submit_vehicle(
    request: Request,
    policy_number: str,
    request_id: FormText,
    unit_key: FormText,
    plate: FormText = "",
    vin: FormText = "",
    model: FormText = "",
) -> Response:
    details = {"plate": plate, "vin": vin, "model": model}
    values = {"unit_key": unit_key, "details": details}
    return _submit(request, policy_number, ChangeKind.VEHICLE, values, _flat(values), request_id)


@router.post("/me/policies/{policy_number}/changes/site")
def submit_site(
    request: Request,
    policy_number: str,
    request_id: FormText,
    unit_key: FormText,
    name: FormText = "",
    address: FormText = "",
) -> Response:
    values = {"unit_key": unit_key, "details": {"name": name, "address": address}}
    return _submit(request, policy_number, ChangeKind.SITE, values, _flat(values), request_id)


def _submit(
    request: Request,
    policy_number: str,
    kind: ChangeKind,
    values: Mapping[str, Any],
    shown: Mapping[str, Any],
    request_id: str,
) -> Response:
    """Send the request; on a refusal show the form again with what was typed."""
    page = page_of(request)
    found = _signed_in_policy(page, policy_number)
    if found is None:
        return sign_in_first(request)
    customer, policy = found
    _kind(SLUG_OF[kind], policy)
    changes = page.web.app.changes
    try:
        done = changes.submit(
            policy.policy_number,
            kind,
            values,
            by=changes.customer(customer.mobile),
            request_id=request_id,
        )
    except (ValidationFailed, InvalidTransition) as error:
        return _form(page, customer, policy, kind, shown, error=error, status_code=400)
    return RedirectResponse(f"/me/requests/{done.request_id}", status_code=303)


def _beneficiary_rows(
    names: Sequence[str], ids: Sequence[str], relationships: Sequence[str], shares: Sequence[str]
) -> list[dict[str, str]]:
    """The filled-in rows of the beneficiary form (empty rows are skipped)."""
    rows = []
    for name, id_number, relationship, share in zip_longest(
        names, ids, relationships, shares, fillvalue=""
    ):
        if name.strip() or id_number.strip() or share.strip():
            rows.append(
                {
                    "name": name,
                    "id_number": id_number,
                    "relationship": relationship,
                    "share_percent": share,
                }
            )
    return rows


# --------------------------------------------------------------------------- my requests


@router.get("/me/requests")
def my_requests(request: Request) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    numbers = [p.policy_number for p in page.web.app.policies.policies_held_by(customer.party_ids)]
    return page.render(
        "portal/change_requests.html",
        customer=customer,
        requests=page.web.app.changes.on_policies(numbers),
    )


@router.get("/me/requests/{request_id}")
def my_request(request: Request, request_id: str) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    found = _own_request(page, customer, request_id)
    return page.render("portal/change_request.html", customer=customer, change=found)


def _own_request(page: Page, customer: Customer, request_id: str) -> ChangeRequest:
    """A request on one of the customer's policies, or 404 (the same for one that does not
    exist)."""
    try:
        found = page.web.app.changes.request(request_id)
    except DomainError:
        raise HTTPException(404) from None
    own_policy(page, customer, found.policy_number)
    return found


# --------------------------------------------------------------------------- 慧保全 links


@router.get("/l/{token}")
def open_link(request: Request, token: str) -> Response:
    """A pushed link: refused if altered (400), expired (410) or for another phone (403);
    asks to sign in first; then the transaction, pre-filled."""
    page = page_of(request)
    changes = page.web.app.changes
    customer = page.customer()
    try:
        if customer is None:
            changes.check_link(token)
            return page.render("portal/change_link_sign_in.html", token=token)
        link = changes.open_link(token, customer.mobile)
    except LinkRefused as error:
        return _refused(page, error)
    policy = own_policy(page, customer, link.policy_number)
    if link.kind not in available_kinds(policy):
        raise HTTPException(404)
    return _form(page, customer, policy, link.kind, _link_values(link), link=link)


@router.post("/l/{token}/code")
def link_code(request: Request, token: str, mobile: FormText) -> Response:
    """Send a sign-in code from the link's page (the link is checked first)."""
    page = page_of(request)
    try:
        page.web.app.changes.check_link(token)
    except LinkRefused as error:
        return _refused(page, error)
    client = request.client.host if request.client else "unknown"
    number = mobile.strip()
    sign_in = "portal/change_link_sign_in.html"
    try:
        page.web.app.identity.request_code(mobile, client)
    except ValidationFailed as error:
        return page.render(sign_in, status_code=400, error=error, token=token, mobile=number)
    except RateLimited as error:
        return page.render(sign_in, status_code=429, error=error, token=token, mobile=number)
    outbox = page.web.app.outreach.outbox(5) if page.web.demo else []
    return page.render("portal/change_link_code.html", outbox=outbox, token=token, mobile=number)


@router.post("/l/{token}/verify")
def link_verify(request: Request, token: str, mobile: FormText, code: FormText) -> Response:
    """Check the code, sign in, and go back to the link."""
    page = page_of(request)
    try:
        customer = page.web.app.identity.verify_code(mobile, code)
    except (SignInFailed, ValidationFailed) as error:
        return page.render(
            "portal/change_link_code.html", status_code=400, error=error, token=token, mobile=mobile
        )
    response = RedirectResponse(f"/l/{token}", status_code=303)
    session = page.web.keys.issue(Session("customer", customer.mobile, page.sid), page.web.clock())
    response.set_cookie(SESSION_COOKIE, session, httponly=True, secure=True, samesite="lax")
    return response


def _refused(page: Page, error: LinkRefused) -> Response:
    status = (
        410 if isinstance(error, LinkExpired) else 403 if isinstance(error, LinkNotYours) else 400
    )
    return page.render(
        "portal/change_link_refused.html",
        status_code=status,
        error=error,
        other_phone=isinstance(error, LinkNotYours),
    )


def _link_values(link: ChangeLink) -> dict[str, Any]:
    """The form's values from a link: its pre-filled fields."""
    return _flat(link.values)


# --------------------------------------------------------------------------- forms


def _form(
    page: Page,
    customer: Customer,
    policy: Policy,
    kind: ChangeKind,
    values: Mapping[str, Any],
    *,
    error: DomainError | None = None,
    link: ChangeLink | None = None,
    status_code: int = 200,
) -> Response:
    slug = SLUG_OF[kind]
    template = "portal/change_unit.html" if kind in UNIT_KIND else f"portal/change_{slug}.html"
    rows = list(values.get("beneficiaries") or [])
    return page.render(
        template,
        status_code=status_code,
        customer=customer,
        policy=policy,
        kind=kind,
        slug=slug,
        route=ROUTES[kind],
        values=values,
        error=error,
        link=link,
        request_id=page.web.app.changes.new_request_id(),
        current=() if kind in UNIT_KIND else current_lines(kind, {}, policy),
        units=[
            (u.key, current_lines(kind, {"unit_key": u.key}, policy))
            for u in policy.units
            if u.kind == UNIT_KIND.get(kind)
        ],
        fields=UNIT_FIELDS.get(kind, {}),
        rows=rows + [{}] * max(0, BENEFICIARY_ROWS - len(rows)),
        relationships=RELATIONSHIPS,
        kind_names=KIND_NAMES,
    )


def _flat(values: Mapping[str, Any]) -> dict[str, Any]:
    """A unit change's values as the form's fields (``details`` spread out)."""
    return {k: v for k, v in values.items() if k != "details"} | dict(values.get("details") or {})


__all__ = ["router"]
