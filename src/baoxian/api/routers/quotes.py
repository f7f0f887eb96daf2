"""Quotes (报价 / 投保单): a partner registers the holder and insured from the request and
gets the price and the underwriting decision with every reason."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, Security

from baoxian.api import access
from baoxian.api.atomic import Transaction, claim_of, json_response, run_once_in_pool
from baoxian.api.auth import Bearer, bearer_token
from baoxian.api.deps import Ctx, IdempotencyKey, Principal, scoped
from baoxian.api.direct import direct_quote, quote_grants
from baoxian.api.schemas import QuoteCreate, QuotePublic, quote_public
from baoxian.shared.errors import ConcurrencyConflict, ValidationFailed

router = APIRouter(tags=["quotes 报价"])

QuoteId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


ATOMIC = re.compile(r"/quotes")
"""The route that runs in one transaction with its idempotency key."""


@router.post("/quotes", response_model=QuotePublic, status_code=201)
async def create_quote(
    ctx: Ctx,
    request: Request,
    bearer: Annotated[Bearer, Security(bearer_token, scopes=["quotes:write"])],
    key: IdempotencyKey,
    body: QuoteCreate,
) -> Response:
    """Price and underwrite a proposal.  The persons are registered from the request; one
    already registered (same 身份证号) must come with the registered name and mobile."""
    sent = body.to_request()
    answered = await direct_quote(ctx, claim_of(request), bearer, sent)
    if answered is not None:
        return Response(answered.body, status_code=answered.status, media_type=answered.media_type)

    def work(tx: Transaction) -> Response:
        try:
            created = ctx.app.policies.quote_request(sent, within=tx.uow, as_sent=True)
        except ValidationFailed as refused:
            if refused.code == "party.already_registered":
                raise _registered_meanwhile() from refused
            raise
        tx.grant(*quote_grants(created))
        return json_response(quote_public(created), 201)

    return await run_once_in_pool(ctx, request, bearer, work)


@router.get("/quotes/{quote_id}", response_model=QuotePublic)
def get_quote(
    ctx: Ctx, who: Annotated[Principal, scoped("quotes:read")], quote_id: QuoteId
) -> QuotePublic:
    return quote_public(access.quote(ctx, who, quote_id))


def _registered_meanwhile() -> ConcurrencyConflict:
    """A concurrent request registered the same person first: worth a retry (409 keeps the
    idempotency key free), which then finds them."""
    return ConcurrencyConflict(
        "party.registered_meanwhile",
        "该被保险人正由另一请求同时登记，请稍后重试",
        "another request is registering the same person; retry shortly",
    )


__all__ = ["ATOMIC", "router"]
