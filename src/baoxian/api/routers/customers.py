"""Customers (客户): a party with its personal data masked, its notices, and — for staff
with the service role only — its full personal data, every read of which is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from baoxian.api import access
from baoxian.api.deps import Ctx, Principal, scoped
from baoxian.api.schemas import (
    NoticePublic,
    PartyPublic,
    PersonalDataPublic,
    notice_public,
    party_public,
    personal_data,
)

router = APIRouter(tags=["customers 客户"])

PartyId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.get("/customers/{party_id}", response_model=PartyPublic)
def get_customer(
    ctx: Ctx, who: Annotated[Principal, scoped("customers:read")], party_id: PartyId
) -> PartyPublic:
    return party_public(access.party(ctx, who, party_id))


@router.get("/customers/{party_id}/notices", response_model=list[NoticePublic])
def customer_notices(
    ctx: Ctx,
    who: Annotated[Principal, scoped("notices:read")],
    party_id: PartyId,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[NoticePublic]:
    """The customer's inbox (站内信), newest first."""
    access.party(ctx, who, party_id)
    return [notice_public(n) for n in ctx.app.outreach.inbox([party_id], limit)]


@router.get("/customers/{party_id}/personal-data", response_model=PersonalDataPublic)
def customer_personal_data(
    ctx: Ctx, who: Annotated[Principal, scoped("personal_data:read")], party_id: PartyId
) -> PersonalDataPublic:
    """The full 身份证号 and mobile (staff with the service role; an audit event each)."""
    found = access.party(ctx, who, party_id)
    ctx.app.identity.audit(
        who.subject,
        "api.personal_data_viewed",
        {"party_id": party_id, "fields": ["id_number", "mobile"]},
    )
    return personal_data(found)


__all__ = ["router"]
