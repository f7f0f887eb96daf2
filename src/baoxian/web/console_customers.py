"""Customer 360 in the console (客户全景视图): by phone or ID number, the parties, their
policies, claims, notices and history, personal data masked; showing a party's full ID
number and phone is a separate, audited action.  Staff only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from baoxian.customers import CustomerView
from baoxian.identity.model import StaffUser
from baoxian.shared.errors import DomainError
from baoxian.shared.identity import mask_id, mask_phone
from baoxian.web.claim_views import customer_desk
from baoxian.web.console_claims import acting_staff, page_of
from baoxian.web.pages import Page

router = APIRouter(prefix="/console")


@router.get("/customers")
def customers(request: Request, mobile: str = "") -> Response:
    """Search by phone (the query string); an empty search shows the forms."""
    page = page_of(request)
    staff = page.staff()
    if staff is None:
        return RedirectResponse("/console", status_code=303)
    if not mobile.strip():
        return _render(page, staff, None)
    return _search(page, staff, mobile=mobile)


@router.post("/customers")
def customers_by_id(request: Request, id_number: Annotated[str, Form()] = "") -> Response:
    """Search by ID number — posted, so the number stays out of addresses and logs."""
    page = page_of(request)
    return _search(page, acting_staff(page), id_number=id_number)


@router.post("/customers/reveal")
def reveal(
    request: Request,
    party_id: Annotated[str, Form()],
    mobile: Annotated[str, Form()] = "",
    id_number: Annotated[str, Form()] = "",
) -> Response:
    """显示完整证件号: one party's full ID number and phone, written to the audit trail."""
    page = page_of(request)
    staff = acting_staff(page)
    desk = customer_desk(page.web.app)
    try:
        view = _find(page, staff, mobile, id_number)
        view = desk.reveal(staff.user_id, view, party_id)
    except DomainError as error:
        return _render(page, staff, None, mobile, id_number, error=error, status_code=400)
    return _render(page, staff, view, mobile, id_number)


def _search(page: Page, staff: StaffUser, mobile: str = "", id_number: str = "") -> Response:
    try:
        view = _find(page, staff, mobile, id_number)
    except DomainError as error:
        return _render(page, staff, None, mobile, id_number, error=error, status_code=400)
    return _render(page, staff, view, mobile, id_number)


def _find(page: Page, staff: StaffUser, mobile: str, id_number: str) -> CustomerView:
    desk = customer_desk(page.web.app)
    if mobile.strip():
        return desk.by_mobile(staff.user_id, mobile)
    return desk.by_id_number(staff.user_id, id_number)


def _render(
    page: Page,
    staff: StaffUser,
    view: CustomerView | None,
    mobile: str = "",
    id_number: str = "",
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    products = {p.code: p for p in page.web.app.catalog.products()}
    return page.render(
        "console/customer.html",
        status_code=status_code,
        staff=staff,
        view=view,
        mobile=mobile.strip(),
        id_number=id_number.strip(),
        products=products,
        mask_id=mask_id,
        mask_phone=mask_phone,
        error=error,
    )


__all__ = ["router"]
