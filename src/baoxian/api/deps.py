"""Typed dependencies the routers share: the API context, the caller with a scope, the
``Idempotency-Key`` header (declared so that OpenAPI documents it; the middleware enforces
it), and the request ID the key becomes for the services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Security

from baoxian.api.auth import ApiContext, caller, context
from baoxian.api.model import Principal, request_id

Ctx = Annotated[ApiContext, Depends(context)]

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        pattern=r"^[!-~]{8,128}$",
        description="A key of your own for this request (e.g. a UUID); a retry with the same "
        "key and body gets the first answer and changes nothing twice.",
        examples=["5f0c6a52-8d1e-4f7e-9a3b-2c1d0e9f8a7b"],
    ),
]


def scoped(*scopes: str) -> Any:
    """``Annotated[Principal, scoped("policies:read")]``: the caller, holding the scopes."""
    return Security(caller, scopes=list(scopes))


def service_request_id(who: Principal, key: str) -> str:
    """The idempotency key, namespaced by the caller, as the services' request ID."""
    return request_id(who.owner, key)


__all__ = ["Ctx", "IdempotencyKey", "Principal", "scoped", "service_request_id"]
