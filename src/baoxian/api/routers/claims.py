"""Claims (理赔): report and have it decided at once (as the portal does), read its status
and the explanation of benefits in Chinese and English, attach documents, see payments.

A claim reported through the API takes its ID from the idempotency key (namespaced by the
caller), so even a retry after a lost answer reports it once."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, UploadFile

from baoxian.api import access
from baoxian.api.deps import Ctx, IdempotencyKey, Principal, scoped, service_request_id
from baoxian.api.schemas import (
    ClaimCreate,
    ClaimPublic,
    DocumentPublic,
    HealthClaimCreate,
    PaymentPublic,
    PropertyClaimCreate,
    claim_of,
    claim_public,
    coverage_names,
    document_public,
    payment_public,
)
from baoxian.claims.case import ClaimCase
from baoxian.claims.documents import MAX_DOCUMENT_BYTES
from baoxian.shared.clock import local_date
from baoxian.shared.errors import ValidationFailed

router = APIRouter(tags=["claims 理赔"])

Reader = Annotated[Principal, scoped("claims:read")]
Writer = Annotated[Principal, scoped("claims:write")]
ClaimId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,36}$")]
DocumentKind = Literal[
    "photo",
    "invoice",
    "discharge_summary",
    "prescription",
    "id_card",
    "bank_card",
    "police_report",
    "loss_assessment",
    "other",
]


@router.post("/claims", response_model=ClaimPublic, status_code=201)
def report_claim(ctx: Ctx, who: Writer, key: IdempotencyKey, body: ClaimCreate) -> ClaimPublic:
    """报案 on a policy of yours, decided at once: paid straight through, referred to a
    claims handler, or declined — with every reason."""
    access.policy(ctx, who, body.policy_number)
    _require_past(body, local_date(ctx.app.claims.clock()))
    claim = claim_of(body, service_request_id(who, key)[:32])
    ctx.app.claims.report(claim, channel="api", fast_track=body.fast_track)
    access.grant(ctx, who, ("claim", claim.claim_id))
    return _public(ctx, ctx.app.claims.decide(claim.claim_id))


@router.get("/claims/{claim_id}", response_model=ClaimPublic)
def get_claim(ctx: Ctx, who: Reader, claim_id: ClaimId) -> ClaimPublic:
    """Status and decision: the EOB line by line, each reduction with its reason."""
    return _public(ctx, access.claim(ctx, who, claim_id))


@router.post("/claims/{claim_id}/documents", response_model=DocumentPublic, status_code=201)
def attach_document(
    ctx: Ctx,
    who: Writer,
    key: IdempotencyKey,
    claim_id: ClaimId,
    kind: Annotated[DocumentKind, Form()],
    file: Annotated[UploadFile, File(description="JPEG, PNG, HEIC or PDF, at most 20 MiB")],
) -> DocumentPublic:
    """理赔资料: a photo or a paper (kind, type, size and content are checked; the same
    content attached again returns the first document)."""
    access.claim(ctx, who, claim_id)
    content = file.file.read(MAX_DOCUMENT_BYTES + 1)
    document = ctx.app.documents.attach(
        claim_id, kind, file.filename or "", file.content_type or "", content
    )
    return document_public(document)


@router.get("/claims/{claim_id}/documents", response_model=list[DocumentPublic])
def list_documents(ctx: Ctx, who: Reader, claim_id: ClaimId) -> list[DocumentPublic]:
    access.claim(ctx, who, claim_id)
    return [document_public(d) for d in ctx.app.documents.list(claim_id)]


@router.get("/claims/{claim_id}/payments", response_model=list[PaymentPublic])
def list_payments(ctx: Ctx, who: Reader, claim_id: ClaimId) -> list[PaymentPublic]:
    """Payment instructions of the claim: final, pre-payment, or an amount to recover."""
    access.claim(ctx, who, claim_id)
    return [payment_public(p) for p in ctx.app.claims.payments(claim_id)]


def _require_past(body: HealthClaimCreate | PropertyClaimCreate, today: date) -> None:
    last = body.discharge_date if isinstance(body, HealthClaimCreate) else None
    if body.loss_date > today or (last is not None and not body.loss_date <= last <= today):
        raise ValidationFailed(
            "claim.dates_invalid",
            "出险（入院）日期和出院日期不能晚于今天，出院日期不能早于入院日期",
            "the date of loss (admission) and of discharge cannot be after today, and "
            "discharge cannot be before admission",
        )


def _public(ctx: Ctx, case: ClaimCase) -> ClaimPublic:
    product = ctx.app.catalog.product(case.product_code) if case.product_code else None
    return claim_public(case, coverage_names(product) if product else {})


__all__ = ["router"]
