"""Claims in the portal (我的理赔): file a health claim with its documents, follow a claim's
timeline and explanation of benefits, send what a handler asked for.

A customer reaches only claims on policies held by a party registered with their own phone;
any other claim is "not found", never "forbidden".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from baoxian.catalog.schema import Product
from baoxian.claims.case import ClaimCase
from baoxian.claims.desk import COMMON_DIAGNOSES, HealthClaimForm, Upload
from baoxian.claims.documents import MAX_DOCUMENT_BYTES
from baoxian.identity.services import Customer
from baoxian.policies.model import Policy
from baoxian.shared.errors import DomainError, NotFound
from baoxian.shared.ids import new_id
from baoxian.web.claim_views import claim_desk, eob_view, info_request, timeline
from baoxian.web.pages import Page, Web
from baoxian.web.portal import sign_in_first

router = APIRouter()


class ClaimFormIn(BaseModel):
    """The claim form's fields as posted (text; the claims desk parses and checks them)."""

    request_id: str = ""
    insured: str = ""
    admitted: str = ""
    discharged: str = ""
    hospital: str = ""
    diagnosis: str = ""
    invoice_no: str = ""
    in_list: str = ""
    paid_by_basic: str = ""
    out_of_list: str = ""
    special_drug: str = ""
    drug_code: str = ""
    designated_pharmacy: bool = False


def page_of(request: Request) -> Page:
    web: Web = request.app.state.web
    return web.page(request)


def upload_of(kind: str, file: UploadFile | None) -> list[Upload]:
    """A posted file as an upload (read up to one byte over the limit, so the service can
    refuse a file that is too large); an empty file field is no upload."""
    if file is None or not file.filename:
        return []
    content = file.file.read(MAX_DOCUMENT_BYTES + 1)
    return [Upload(kind, file.filename, file.content_type or "", content)]


def own_claim(page: Page, customer: Customer, claim_id: str) -> ClaimCase:
    """The customer's claim, or 404 — the same for someone else's claim and a missing one."""
    try:
        return claim_desk(page.web.app).own_claim(customer.party_ids, claim_id)
    except NotFound:
        raise HTTPException(404) from None


def held_policy(page: Page, customer: Customer, policy_number: str) -> Policy:
    try:
        return claim_desk(page.web.app).held_policy(customer.party_ids, policy_number)
    except NotFound:
        raise HTTPException(404) from None


# --------------------------------------------------------------------------- my claims


@router.get("/me/claims")
def my_claims(request: Request) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    claims = claim_desk(page.web.app).own_claims(customer.party_ids)
    return page.render("portal/claim_list.html", customer=customer, claims=claims)


@router.get("/me/claims/{claim_id}")
def my_claim(request: Request, claim_id: str) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    return _claim_page(page, customer, own_claim(page, customer, claim_id))


@router.post("/me/claims/{claim_id}/info")
def send_info(
    request: Request,
    claim_id: str,
    note: Annotated[str, Form()] = "",
    document: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """补充资料: the customer's answer and an optional file; the claim returns to its
    handler."""
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        raise HTTPException(401)
    case = own_claim(page, customer, claim_id)
    try:
        claim_desk(page.web.app).provide_info(
            customer.party_ids, claim_id, note, upload_of("other", document)
        )
    except DomainError as error:
        return _claim_page(page, customer, case, error=error, status_code=400)
    return RedirectResponse(f"/me/claims/{claim_id}", status_code=303)


def _claim_page(
    page: Page,
    customer: Customer,
    case: ClaimCase,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    app = page.web.app
    history = app.claims.history(case.claim_id)
    product = _product(page, case.product_code)
    return page.render(
        "portal/claim_detail.html",
        status_code=status_code,
        customer=customer,
        case=case,
        product=product,
        eob=eob_view(case, product),
        timeline=timeline(history, customer=True),
        asked=info_request(history),
        payments=app.claims.payments(case.claim_id),
        documents=app.documents.list(case.claim_id),
        error=error,
    )


def _product(page: Page, code: str) -> Product | None:
    try:
        return page.web.app.catalog.product(code)
    except DomainError:
        return None


# --------------------------------------------------------------------------- file a claim


@router.get("/me/policies/{policy_number}/claims/new")
def new_claim(request: Request, policy_number: str) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    policy = held_policy(page, customer, policy_number)
    form = ClaimFormIn(request_id=new_id(), designated_pharmacy=True)
    return _form_page(page, customer, policy, form)


@router.post("/me/policies/{policy_number}/claims")
def file_claim(
    request: Request,
    policy_number: str,
    form: Annotated[ClaimFormIn, Form()],
    invoice: Annotated[UploadFile | None, File()] = None,
    discharge_summary: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """报案: the claims desk checks the form and the files, reports, attaches and decides;
    the customer lands on the claim's page.  The same form sent twice is one claim."""
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        raise HTTPException(401)
    policy = held_policy(page, customer, policy_number)
    uploads = upload_of("invoice", invoice) + upload_of("discharge_summary", discharge_summary)
    try:
        case = claim_desk(page.web.app).file_claim(
            customer.party_ids, _claim_form(policy_number, form), uploads
        )
    except DomainError as error:
        return _form_page(page, customer, policy, form, error=error, status_code=400)
    return RedirectResponse(f"/me/claims/{case.claim_id}", status_code=303)


def _claim_form(policy_number: str, form: ClaimFormIn) -> HealthClaimForm:
    return HealthClaimForm(
        request_id=form.request_id,
        policy_number=policy_number,
        insured=form.insured,
        admitted=form.admitted,
        discharged=form.discharged,
        hospital=form.hospital,
        diagnosis=form.diagnosis,
        invoice_no=form.invoice_no,
        in_list=form.in_list,
        paid_by_basic=form.paid_by_basic,
        out_of_list=form.out_of_list,
        special_drug=form.special_drug,
        drug_code=form.drug_code,
        designated_pharmacy=form.designated_pharmacy,
    )


def _form_page(
    page: Page,
    customer: Customer,
    policy: Policy,
    form: ClaimFormIn,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    product = page.web.app.catalog.product(policy.product_code)
    names = {p.party_id: p.name for p in customer.parties}
    insured = [
        (unit.key, names.get(unit.party_id or "", ""))
        for unit in policy.units
        if unit.kind == "person"
    ]
    drugs = {
        d.code: d.name
        for version in product.versions
        for coverage in version.coverages
        for d in coverage.drug_list
    }
    return page.render(
        "portal/claim_new.html",
        status_code=status_code,
        customer=customer,
        policy=policy,
        product=product,
        form=form,
        insured=insured,
        diagnoses=COMMON_DIAGNOSES,
        drugs=drugs,
        health=product.line == "health",
        error=error,
    )


__all__ = ["router"]
