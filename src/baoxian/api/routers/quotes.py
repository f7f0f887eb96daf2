"""Quotes (报价 / 投保单): a partner registers the holder and insured from the request and
gets the price and the underwriting decision with every reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from baoxian.api import access
from baoxian.api.deps import Ctx, IdempotencyKey, Principal, scoped
from baoxian.api.schemas import QuoteCreate, QuotePublic, quote_public
from baoxian.policies.application import require_own_party
from baoxian.policies.model import Organisation, Person
from baoxian.policies.schemas import OrganisationIn, PersonIn, QuoteRequestFile
from baoxian.policies.services import PolicyService
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.identity import normalise_mobile

router = APIRouter(tags=["quotes 报价"])

QuoteId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post("/quotes", response_model=QuotePublic, status_code=201)
def create_quote(
    ctx: Ctx,
    who: Annotated[Principal, scoped("quotes:write")],
    key: IdempotencyKey,
    body: QuoteCreate,
) -> QuotePublic:
    """Price and underwrite a proposal.  The persons are registered from the request; one
    already registered (same 身份证号) must come with the registered name and mobile."""
    request = body.to_request()
    require_registered_as_sent(ctx.app.policies, request)
    created = ctx.app.policies.quote_request(request)
    parties = {created.holder_id, *(u.party_id for u in created.units if u.party_id)}
    access.grant(ctx, who, *(("party", p) for p in sorted(parties)), ("quote", created.quote_id))
    return quote_public(created)


@router.get("/quotes/{quote_id}", response_model=QuotePublic)
def get_quote(
    ctx: Ctx, who: Annotated[Principal, scoped("quotes:read")], quote_id: QuoteId
) -> QuotePublic:
    return quote_public(access.quote(ctx, who, quote_id))


def require_registered_as_sent(policies: PolicyService, request: QuoteRequestFile) -> None:
    """Never attach a request to someone else's party: a 身份证号 (or credit code) already
    registered must come with the name and mobile it is registered with."""
    people: list[PersonIn | OrganisationIn] = [request.holder]
    people += [i for i in request.insured if isinstance(i, PersonIn)]
    checked: set[tuple[str, str, str]] = set()
    for sent in people:
        number = sent.credit_code if isinstance(sent, OrganisationIn) else sent.id_number
        if (number, sent.name, sent.mobile) in checked:  # the holder is often the insured
            continue
        checked.add((number, sent.name, sent.mobile))
        found = policies.party_with_id_number(number)
        if isinstance(found, Person):
            require_own_party(found, sent.name, normalise_mobile(sent.mobile))
        elif isinstance(found, Organisation) and (
            found.name != sent.name.strip() or found.mobile != normalise_mobile(sent.mobile)
        ):
            raise ValidationFailed(
                "application.organisation_mismatch",
                "名称或手机号与该统一社会信用代码登记的不一致，请核对。",
                "The name or mobile does not match those registered with this credit code.",
            )


__all__ = ["router"]
