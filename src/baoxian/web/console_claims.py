"""The console's claims work (人工审核): a referred claim with every review reason, its
explanation of benefits, documents and history; handlers assign, approve within their
authority, decline with a reason, or ask the customer for more.  Every action is audited
and the policyholder is told."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from baoxian.catalog.schema import Product
from baoxian.claims.case import ClaimCase, ClaimStatus
from baoxian.claims.desk import ClaimDesk, NotPermitted
from baoxian.identity.model import StaffUser
from baoxian.shared.errors import DomainError, NotFound
from baoxian.web.claim_views import claim_desk, eob_view, timeline
from baoxian.web.pages import Page, Web

router = APIRouter(prefix="/console")
Comment = Annotated[str, Form()]
WAITING = (ClaimStatus.REFERRED, ClaimStatus.PENDING_INFO)


def page_of(request: Request) -> Page:
    web: Web = request.app.state.web
    return web.page(request)


def acting_staff(page: Page) -> StaffUser:
    """The signed-in member of staff of a console action, or 403."""
    staff = page.staff()
    if staff is None:
        raise HTTPException(403)
    return staff


def waiting_claim(page: Page, claim_id: str) -> ClaimCase:
    try:
        return page.web.app.claims.case(claim_id)
    except NotFound:
        raise HTTPException(404) from None


@router.get("/claims/{claim_id}")
def claim_page(request: Request, claim_id: str) -> Response:
    page = page_of(request)
    staff = page.staff()
    if staff is None:
        return RedirectResponse("/console", status_code=303)
    return _claim_page(page, staff, waiting_claim(page, claim_id))


@router.get("/claims/{claim_id}/documents/{document_id}")
def claim_document(request: Request, claim_id: str, document_id: str) -> Response:
    """A document's content, after the store re-checks its checksum; reading is audited."""
    page = page_of(request)
    staff = page.staff()
    if staff is None:
        return RedirectResponse("/console", status_code=303)
    try:
        document, content = claim_desk(page.web.app).document(staff, claim_id, document_id)
    except NotFound:
        raise HTTPException(404) from None
    disposition = f"attachment; filename*=UTF-8''{quote(document.filename)}"
    return Response(
        content, media_type=document.media_type, headers={"Content-Disposition": disposition}
    )


@router.post("/claims/{claim_id}/assign")
def assign(request: Request, claim_id: str, comment: Comment = "") -> Response:
    page = page_of(request)
    staff = acting_staff(page)
    return _act(page, staff, claim_id, lambda: _desk(page).assign_to_me(staff, claim_id, comment))


@router.post("/claims/{claim_id}/approve")
def approve(request: Request, claim_id: str, comment: Comment = "") -> Response:
    page = page_of(request)
    staff = acting_staff(page)
    return _act(page, staff, claim_id, lambda: _desk(page).approve(staff, claim_id, comment))


@router.post("/claims/{claim_id}/decline")
def decline(
    request: Request,
    claim_id: str,
    reason_zh: Comment = "",
    reason_en: Comment = "",
    comment: Comment = "",
) -> Response:
    page = page_of(request)
    staff = acting_staff(page)
    return _act(
        page,
        staff,
        claim_id,
        lambda: _desk(page).decline(staff, claim_id, reason_zh, reason_en, comment),
    )


@router.post("/claims/{claim_id}/request-info")
def request_info(
    request: Request,
    claim_id: str,
    what_zh: Comment = "",
    what_en: Comment = "",
    comment: Comment = "",
) -> Response:
    page = page_of(request)
    staff = acting_staff(page)
    return _act(
        page,
        staff,
        claim_id,
        lambda: _desk(page).request_info(staff, claim_id, what_zh, what_en, comment),
    )


def _desk(page: Page) -> ClaimDesk:
    return claim_desk(page.web.app)


def _act(page: Page, staff: StaffUser, claim_id: str, action: Callable[[], ClaimCase]) -> Response:
    """Run an action; back to the claim's page, or the page again with the refusal."""
    case = waiting_claim(page, claim_id)
    try:
        action()
    except NotPermitted:
        raise HTTPException(403) from None
    except DomainError as error:
        return _claim_page(page, staff, case, error=error, status_code=400)
    return RedirectResponse(f"/console/claims/{claim_id}", status_code=303)


def _claim_page(
    page: Page,
    staff: StaffUser,
    case: ClaimCase,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    app = page.web.app
    product = _product(page, case.product_code)
    return page.render(
        "console/claim_detail.html",
        status_code=status_code,
        staff=staff,
        case=case,
        product=product,
        findings=(case.review or {}).get("findings", []),
        eob=eob_view(case, product),
        timeline=timeline(app.claims.history(case.claim_id), customer=False),
        payments=app.claims.payments(case.claim_id),
        documents=app.documents.list(case.claim_id),
        can_act=staff.has("claims_handler") and case.status in WAITING,
        error=error,
    )


def _product(page: Page, code: str) -> Product | None:
    try:
        return page.web.app.catalog.product(code)
    except DomainError:
        return None


__all__ = ["router"]
