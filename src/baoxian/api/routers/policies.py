"""Policies (保单): issue from an accepted quote, read, and service them — contact change
(保全), renewal (续保) and cancellation (退保) — with the idempotency key as the services'
request ID, so a retry never changes a policy twice."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, Security

from baoxian.api import access
from baoxian.api.atomic import Transaction, json_response, run_once_in_pool
from baoxian.api.auth import Bearer, bearer_token
from baoxian.api.deps import Ctx, IdempotencyKey, Principal, scoped, service_request_id
from baoxian.api.model import ApiDenied
from baoxian.api.schemas import (
    CancellationCreate,
    CancellationPublic,
    ClaimPublic,
    ContactUpdate,
    PolicyCreate,
    PolicyPublic,
    claim_public,
    coverage_names,
    money_text,
    policy_public,
)
from baoxian.policies.model import Policy
from baoxian.shared.errors import NotFound

router = APIRouter(tags=["policies 保单"])

Reader = Annotated[Principal, scoped("policies:read")]
Writer = Annotated[Principal, scoped("policies:write")]
PolicyNumber = Annotated[str, Path(pattern=r"^[A-Z0-9]{4,32}$", examples=["BJHMB202600000001"])]
Limit = Annotated[int, Query(ge=1, le=100)]


ATOMIC = re.compile(r"/policies")
"""The route that runs in one transaction with its idempotency key."""


@router.post("/policies", response_model=PolicyPublic, status_code=201)
async def issue_policy(
    ctx: Ctx,
    request: Request,
    bearer: Annotated[Bearer, Security(bearer_token, scopes=["policies:write"])],
    key: IdempotencyKey,
    body: PolicyCreate,
) -> Response:
    """出单 from an accepted quote of yours; issuing the same quote again returns the policy
    it became."""

    def work(tx: Transaction) -> Response:
        quote_id = body.quote_id
        if tx.who.kind == "partner":
            access.require_partner_grant(ctx, tx.who, "quote", quote_id, tx.connection, tx.held)
        else:
            access.quote(ctx, tx.who, quote_id)
        try:
            policy = ctx.app.policies.issue_policy(quote_id, within=tx.uow)
        except NotFound as missing:
            if missing.code == "quote.not_found":
                raise access.not_found("quote", quote_id) from None
            raise
        tx.grant(("policy", policy.policy_number))
        return json_response(policy_public(policy), 201)

    return await run_once_in_pool(ctx, request, bearer, work, holds=("quote", body.quote_id))


@router.get("/policies", response_model=list[PolicyPublic])
def list_policies(ctx: Ctx, who: Reader, limit: Limit = 50) -> list[PolicyPublic]:
    """Your policies, newest first: a partner's those it issued, a customer's those held by
    a party registered with their phone.  Staff read one policy at a time."""
    if who.kind == "staff":
        raise ApiDenied(
            "api.staff_list_not_offered",
            "员工请按保单号查询",
            "staff read policies one by one, by number",
        )
    if who.kind == "customer":
        held = ctx.app.policies.policies_held_by(who.party_ids, limit)
        return [policy_public(p) for p in held]
    numbers = ctx.access.granted_ids(who.subject, "policy", limit)
    return [policy_public(access.policy(ctx, who, n)) for n in sorted(numbers, reverse=True)]


@router.get("/policies/{policy_number}", response_model=PolicyPublic)
def get_policy(ctx: Ctx, who: Reader, policy_number: PolicyNumber) -> PolicyPublic:
    return policy_public(access.policy(ctx, who, policy_number))


@router.get("/policies/{policy_number}/claims", response_model=list[ClaimPublic])
def policy_claims(
    ctx: Ctx,
    who: Annotated[Principal, scoped("claims:read")],
    policy_number: PolicyNumber,
    limit: Limit = 50,
) -> list[ClaimPublic]:
    """The claims on a policy, newest first."""
    policy = access.policy(ctx, who, policy_number)
    names = coverage_names(ctx.app.catalog.product(policy.product_code))
    return [claim_public(c, names) for c in ctx.app.claims.claims_on([policy_number], limit)]


@router.post("/policies/{policy_number}/contact", response_model=PolicyPublic)
def change_contact(
    ctx: Ctx, who: Writer, key: IdempotencyKey, policy_number: PolicyNumber, body: ContactUpdate
) -> PolicyPublic:
    """保全: a new contact mobile and/or address from a date in the current term."""
    _own(ctx, who, policy_number)
    changed = ctx.app.policies.change_contact(
        policy_number,
        body.effective,
        mobile=body.mobile,
        address=body.address,
        request_id=service_request_id(who, key),
    )
    return policy_public(changed)


@router.post("/policies/{policy_number}/renew", response_model=PolicyPublic)
def renew(ctx: Ctx, who: Writer, key: IdempotencyKey, policy_number: PolicyNumber) -> PolicyPublic:
    """续保 for the next term (guaranteed renewal keeps the policy's own plan version)."""
    _own(ctx, who, policy_number)
    renewed = ctx.app.policies.renew(policy_number, request_id=service_request_id(who, key))
    return policy_public(renewed)


@router.post("/policies/{policy_number}/cancel", response_model=CancellationPublic)
def cancel(
    ctx: Ctx,
    who: Writer,
    key: IdempotencyKey,
    policy_number: PolicyNumber,
    body: CancellationCreate,
) -> CancellationPublic:
    """退保 from a date in the term: refund + retained = charged, pro rata by day."""
    _own(ctx, who, policy_number)
    cancelled, refund = ctx.app.policies.cancel(
        policy_number, body.effective, body.reason, request_id=service_request_id(who, key)
    )
    return CancellationPublic(
        policy=policy_public(cancelled),
        refund=money_text(refund.refund),
        retained=money_text(refund.retained),
        charged=money_text(refund.charged),
    )


def _own(ctx: Ctx, who: Principal, policy_number: str) -> Policy:
    return access.policy(ctx, who, policy_number)


__all__ = ["ATOMIC", "router"]
