"""The staff change queue (保全审核) and 慧保全 links in the console.

* ``/console/changes`` — requests waiting for review, oldest first;
* ``/console/changes/{id}`` — one request: what it asks beside what the policy says now,
  its history, approve (the endorsement is made) or decline with a comment;
* ``/console/changes/links/new`` — make a signed, expiring link for one customer's phone and
  one transaction, pre-filled; the page shows the URL (also texted to the phone).

Only staff with the ``service`` role (or admins) may open these pages (403 otherwise).
Every action is recorded by the service as an event carrying the staff ID.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from baoxian.identity.model import StaffUser
from baoxian.policies.requests import (
    KIND_NAMES,
    UNIT_FIELDS,
    ChangeKind,
    current_lines,
    kind_of,
)
from baoxian.shared.errors import ConcurrencyConflict, DomainError, InvalidTransition, NotFound
from baoxian.web.pages import Page, Web

router = APIRouter(prefix="/console/changes")
FormText = Annotated[str, Form()]
ROLE = "service"
#: How long a pushed link stays valid, as offered on the form (hours).
LINK_HOURS = (24, 72, 168)


def page_of(request: Request) -> Page:
    web: Web = request.app.state.web
    return web.page(request)


def service_staff(page: Page) -> StaffUser | None:
    """The signed-in member of staff if they may work the queue; None when nobody is signed
    in (the caller sends them to sign in); 403 for staff without the role."""
    staff = page.staff()
    if staff is None:
        return None
    if not staff.has(ROLE):
        raise HTTPException(403)
    return staff


# --------------------------------------------------------------------------- the queue


@router.get("")
def change_queue(request: Request) -> Response:
    page = page_of(request)
    staff = service_staff(page)
    if staff is None:
        return RedirectResponse("/console", status_code=303)
    return page.render(
        "console/changes.html", staff=staff, queue=page.web.app.changes.queue(limit=100)
    )


@router.get("/links/new")
def new_link_form(request: Request, policy_number: str = "", mobile: str = "") -> Response:
    page = page_of(request)
    staff = service_staff(page)
    if staff is None:
        return RedirectResponse("/console", status_code=303)
    return _link_form(page, staff, {"policy_number": policy_number, "mobile": mobile})


@router.post("/links")
def create_link(
    request: Request,
    policy_number: FormText,
    mobile: FormText,
    kind: FormText,
    hours: Annotated[int, Form()] = 72,
    unit_key: FormText = "",
    new_mobile: FormText = "",
    address: FormText = "",
    plate: FormText = "",
    vin: FormText = "",
    model: FormText = "",
    site_name: FormText = "",
    site_address: FormText = "",
) -> Response:
    """Make the link, text it to the customer, and show its URL."""
    page = page_of(request)
    staff = service_staff(page)
    if staff is None:
        return RedirectResponse("/console", status_code=303)
    form = {
        "policy_number": policy_number,
        "mobile": mobile,
        "kind": kind,
        "hours": str(hours),
        "unit_key": unit_key,
        "new_mobile": new_mobile,
        "address": address,
        "plate": plate,
        "vin": vin,
        "model": model,
        "site_name": site_name,
        "site_address": site_address,
    }
    changes = page.web.app.changes
    try:
        change_kind = kind_of(kind)
        pushed = changes.push_link(
            staff.user_id,
            mobile,
            policy_number.strip(),
            change_kind,
            _prefill(change_kind, form),
            ttl=timedelta(hours=hours),
        )
    except DomainError as error:
        status = 404 if isinstance(error, NotFound) else 400
        return _link_form(page, staff, form, error=error, status_code=status)
    url = f"{str(request.base_url).rstrip('/')}/l/{pushed.token}"
    changes.send_link(pushed, mobile, url)
    return page.render(
        "console/changes_link.html",
        staff=staff,
        link=pushed.link,
        url=url,
        kind_names=KIND_NAMES,
    )


def _prefill(kind: ChangeKind, form: dict[str, str]) -> dict[str, object]:
    """The form's fields for ``kind`` in the shape of a request's values."""
    if kind is ChangeKind.CONTACT:
        return {"mobile": form["new_mobile"], "address": form["address"]}
    if kind is ChangeKind.VEHICLE:
        details = {name: form[name] for name in UNIT_FIELDS[kind]}
        return {"unit_key": form["unit_key"], "details": details}
    if kind is ChangeKind.SITE:
        details = {"name": form["site_name"], "address": form["site_address"]}
        return {"unit_key": form["unit_key"], "details": details}
    return {}


def _link_form(
    page: Page,
    staff: StaffUser,
    form: dict[str, str],
    *,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    return page.render(
        "console/changes_link_new.html",
        status_code=status_code,
        staff=staff,
        form=form,
        error=error,
        kinds=list(KIND_NAMES.items()),
        hours=LINK_HOURS,
    )


# --------------------------------------------------------------------------- one request


@router.get("/{request_id}")
def change_detail(request: Request, request_id: str) -> Response:
    page = page_of(request)
    staff = service_staff(page)
    if staff is None:
        return RedirectResponse("/console", status_code=303)
    return _detail(page, staff, request_id)


@router.post("/{request_id}/approve")
def approve_change(request: Request, request_id: str) -> Response:
    page = page_of(request)
    staff = service_staff(page)
    if staff is None:
        return RedirectResponse("/console", status_code=303)
    try:
        page.web.app.changes.approve(request_id, staff.user_id)
    except DomainError as error:
        return _detail(page, staff, request_id, error=error, status_code=_status(error))
    return RedirectResponse(f"/console/changes/{request_id}", status_code=303)


@router.post("/{request_id}/decline")
def decline_change(request: Request, request_id: str, comment: FormText = "") -> Response:
    page = page_of(request)
    staff = service_staff(page)
    if staff is None:
        return RedirectResponse("/console", status_code=303)
    try:
        page.web.app.changes.decline(request_id, staff.user_id, comment)
    except DomainError as error:
        return _detail(
            page, staff, request_id, error=error, comment=comment, status_code=_status(error)
        )
    return RedirectResponse(f"/console/changes/{request_id}", status_code=303)


def _detail(
    page: Page,
    staff: StaffUser,
    request_id: str,
    *,
    error: DomainError | None = None,
    comment: str = "",
    status_code: int = 200,
) -> Response:
    app = page.web.app
    change = app.changes.request(request_id)  # NotFound → the 404 page
    policy = app.policies.policy(change.policy_number)
    return page.render(
        "console/changes_detail.html",
        status_code=status_code,
        staff=staff,
        change=change,
        policy=policy,
        current=current_lines(change.kind, change.values, policy),
        history=app.changes.history(request_id),
        error=error,
        comment=comment,
    )


def _status(error: DomainError) -> int:
    if isinstance(error, NotFound):
        return 404
    return 409 if isinstance(error, ConcurrencyConflict | InvalidTransition) else 400


__all__ = ["router"]
