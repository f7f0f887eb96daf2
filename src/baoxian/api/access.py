"""Who may see which object — checked on every access.

* A partner sees what it created through the API: the parties it registered (with matching
  name and mobile), its quotes, the policies issued from them, the claims it reported — and
  the claims on its policies.
* A customer sees the policies held by a party registered with their phone, the claims on
  them and their own notices.
* Staff read within their roles (the route's scope); every read is an audit event.

Someone else's object is "not found" with exactly the answer a missing one gets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection

from baoxian.api.auth import ApiContext
from baoxian.api.model import GrantKind, Principal
from baoxian.api.schemas import POLICY_UNITS_SHOWN
from baoxian.claims.case import ClaimCase
from baoxian.policies.model import Party, Policy, Quote
from baoxian.shared.errors import NotFound

T = TypeVar("T")

_NAMES: dict[GrantKind, tuple[str, str]] = {
    "party": ("当事人", "party"),
    "quote": ("投保单", "quote"),
    "policy": ("保单", "policy"),
    "claim": ("赔案", "claim"),
}


def not_found(kind: GrantKind, object_id: str) -> NotFound:
    zh, en = _NAMES[kind]
    return NotFound(f"{kind}.not_found", f"没有{zh} {object_id}", f"no {en} {object_id}")


def _load(kind: GrantKind, object_id: str, load: Callable[[], T]) -> T:
    try:
        return load()
    except NotFound:
        raise not_found(kind, object_id) from None


def _audit_staff(ctx: ApiContext, who: Principal, kind: str, object_id: str) -> None:
    if who.kind == "staff":
        ctx.app.identity.audit(who.subject, "api.staff_read", {"resource": kind, "id": object_id})


def quote(ctx: ApiContext, who: Principal, quote_id: str) -> Quote:
    found = _load("quote", quote_id, lambda: ctx.app.policies.quote(quote_id))
    if not _may(ctx, who, "quote", quote_id, found.holder_id):
        raise not_found("quote", quote_id)
    _audit_staff(ctx, who, "quote", quote_id)
    return found


def policy(ctx: ApiContext, who: Principal, policy_number: str) -> Policy:
    """The policy with its first insured (a programme policy may have millions)."""
    found, _ = _load(
        "policy",
        policy_number,
        lambda: ctx.app.policies.preview(policy_number, POLICY_UNITS_SHOWN),
    )
    if not may_see_policy(ctx, who, found):
        raise not_found("policy", policy_number)
    _audit_staff(ctx, who, "policy", policy_number)
    return found


def may_see_policy(ctx: ApiContext, who: Principal, found: Policy) -> bool:
    if who.kind == "partner":
        return ctx.access.granted(who.subject, [("policy", found.policy_number)])
    if who.kind == "customer":
        return found.holder_id in who.party_ids
    return True


def claim(ctx: ApiContext, who: Principal, claim_id: str) -> ClaimCase:
    case = _load("claim", claim_id, lambda: ctx.app.claims.case(claim_id))
    number = case.claim.policy_number
    if who.kind == "partner":
        allowed = ctx.access.granted(who.subject, [("claim", claim_id), ("policy", number)])
    elif who.kind == "customer":
        held, _ = ctx.app.policies.preview(number, units=0)
        allowed = held.holder_id in who.party_ids
    else:
        allowed = True
    if not allowed:
        raise not_found("claim", claim_id)
    _audit_staff(ctx, who, "claim", claim_id)
    return case


def party(ctx: ApiContext, who: Principal, party_id: str) -> Party:
    found = _load("party", party_id, lambda: ctx.app.policies.party(party_id))
    if not _may(ctx, who, "party", party_id, party_id):
        raise not_found("party", party_id)
    _audit_staff(ctx, who, "party", party_id)
    return found


def _may(ctx: ApiContext, who: Principal, kind: GrantKind, object_id: str, holder: str) -> bool:
    """A partner by its grant, a customer when one of their parties is the holder."""
    if who.kind == "partner":
        return ctx.access.granted(who.subject, [(kind, object_id)])
    if who.kind == "customer":
        return holder in who.party_ids
    return True


def grant(
    ctx: ApiContext,
    who: Principal,
    *objects: tuple[GrantKind, str],
    within: Connection | None = None,
) -> None:
    """Record that a partner created these (kind, ID) objects (customers and staff need
    none), in the transaction ``within`` when given."""
    if who.kind == "partner":
        ctx.access.grant(who.subject, objects, within)


def require_partner_grant(
    ctx: ApiContext,
    who: Principal,
    kind: GrantKind,
    object_id: str,
    within: Connection,
    held: bool | None = None,
) -> None:
    """A partner's object is one it holds a grant on: otherwise "not found", as for a
    missing one (the object itself is read by the service that uses it).  ``held``: the
    answer when already read in ``within`` (e.g. with the request's key)."""
    if held is None:
        held = ctx.access.granted(who.subject, [(kind, object_id)], within)
    if not held:
        raise not_found(kind, object_id)


__all__ = [
    "claim",
    "grant",
    "may_see_policy",
    "not_found",
    "party",
    "policy",
    "quote",
    "require_partner_grant",
]
