"""Who is calling: access tokens for partners (OAuth2 client credentials), customers (a
phone and a one-time code) and staff (ID and password), and the dependency every route
uses to read the token, check its scopes and count the caller's rate limit.

Tokens are JWTs signed with HS256 under a key derived for "api-tokens"; they live ten
minutes (partners) or fifteen (customers and staff).  Each request re-reads who the token
stands for — a revoked client, a deactivated member of staff or a changed role takes effect
at once; a customer's parties are those registered with their phone now.  A customer's
phone number travels in the token only encrypted.  The busiest routes
(:mod:`baoxian.api.atomic`) read the partner client inside their one transaction.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

import anyio
import jwt
from fastapi import Depends, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import Connection

from baoxian.api.direct import DirectWrites
from baoxian.api.model import (
    CUSTOMER_SCOPES,
    SCOPES,
    ApiClient,
    ApiDenied,
    PartnerRead,
    Principal,
    PrincipalKind,
    RateLimiter,
    TooManyRequests,
    Unauthenticated,
    staff_scopes,
)
from baoxian.api.rate_limits import Limiter
from baoxian.api.schemas import TokenPublic
from baoxian.api.services import ApiAccess, IdempotencyStore
from baoxian.api.webhooks_service import WebhookService
from baoxian.bootstrap import App
from baoxian.shared.errors import DomainError
from baoxian.shared.ids import new_id
from baoxian.store.sequences import BlockSequences

ISSUER = "baoxian"
AUDIENCE = "baoxian-api"
TOKEN_TTL: dict[PrincipalKind, timedelta] = {
    "partner": timedelta(minutes=10),
    "customer": timedelta(minutes=15),
    "staff": timedelta(minutes=15),
}
CUSTOMER_RATE = 120
STAFF_RATE = 600
SIGN_IN_RATE = 10
"""Token requests per minute for one client ID, staff ID or phone."""
VERIFIED_TOKENS = 4096
"""Tokens whose signature is remembered as checked (forgotten all at once when full)."""

oauth2 = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="oauth/token", scopes={name: en for name, (_, en) in SCOPES.items()}
        )
    ),
    scheme_name="partner",
    description=(
        "Partners: OAuth2 client credentials at /api/v1/oauth/token. Customers "
        "(/api/v1/customer/token) and staff (/api/v1/staff/token) send their token the "
        "same way: `Authorization: Bearer <token>`."
    ),
    auto_error=False,
)


@dataclass
class Tokens:
    """Issue and read access tokens (JWT, HS256)."""

    key: bytes
    app: App
    _verified: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False)

    def issue(
        self, kind: PrincipalKind, subject: str, scopes: frozenset[str], **extra: str
    ) -> TokenPublic:
        now = self.app.policies.clock()
        ttl = TOKEN_TTL[kind]
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "knd": kind,
            "scope": " ".join(sorted(scopes)),
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": new_id(),
            **extra,
        }
        token = jwt.encode(claims, self.key, algorithm="HS256")
        return TokenPublic(
            access_token=token, expires_in=int(ttl.total_seconds()), scope=claims["scope"]
        )

    def read(self, token: str) -> dict[str, Any]:
        """The token's claims, or ``auth.invalid_token``; expiry is checked against the
        application's clock on every read.  A token whose signature was checked is
        remembered (by its exact text), so a request pays for that once, not three times."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            if len(self._verified) >= VERIFIED_TOKENS:
                self._verified.clear()
            self._verified[token] = claims
        now = self.app.policies.clock().timestamp()
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
            raise _invalid_token()
        if claims.get("knd") not in TOKEN_TTL or not isinstance(claims.get("scope"), str):
            raise _invalid_token()
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"verify_exp": False, "require": ["exp", "sub", "iat"]},
            )
        except jwt.PyJWTError:
            raise _invalid_token() from None
        return claims

    def partner(self, token: str) -> str | None:
        """The client ID of a valid partner token; None for a customer's or staff's."""
        claims = self.read(token)
        return str(claims["sub"]) if claims["knd"] == "partner" else None

    def owner(self, authorization: str | None) -> str | None:
        """The namespace of a request's idempotency keys, from a valid token; None when the
        request carries none (the route then answers 401)."""
        token = bearer(authorization)
        if token is None:
            return None
        try:
            claims = self.read(token)
        except DomainError:
            return None
        return f"{claims['knd']}:{claims['sub']}"


@dataclass
class ApiContext:
    """What the API's routes need, built once per process by ``create_api``."""

    app: App
    access: ApiAccess
    tokens: Tokens
    idempotency: IdempotencyStore
    webhooks: WebhookService
    limiter: Limiter = field(default_factory=RateLimiter)
    numbers: BlockSequences | None = None
    """Policy numbers in blocks for requests in one transaction (PostgreSQL)."""
    db_threads: int = 2
    """How many of the busiest requests (:mod:`baoxian.api.atomic`) run at once in this
    process; the others wait their turn on the event loop (see ``Settings.api_db_threads``)."""
    direct: DirectWrites | None = None
    """New quotes in one statement from the event loop (:mod:`baoxian.api.direct`;
    PostgreSQL only)."""
    partners: dict[str, ApiClient] = field(default_factory=dict)
    """Partner clients as this process last read them, by client ID: the rate limit the
    direct path counts before its statement re-reads the client."""
    _pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = field(
        default_factory=weakref.WeakKeyDictionary, init=False, repr=False
    )

    def db_pool(self) -> anyio.CapacityLimiter:
        """The threads for the busiest requests: ``db_threads`` at once, one limiter per
        event loop (a served process has one; a test client may start several)."""
        loop = asyncio.get_running_loop()
        found = self._pools.get(loop)
        if found is None:
            found = self._pools[loop] = anyio.CapacityLimiter(self.db_threads)
        return found

    def principal(
        self,
        token: str,
        within: Connection | None = None,
        read: PartnerRead | None = None,
    ) -> Principal:
        """Who the token stands for, read now (a partner client in the transaction
        ``within`` when given: one indexed read, no transaction of its own; or the client
        ``read`` already in that transaction)."""
        claims = self.tokens.read(token)
        kind: PrincipalKind = claims["knd"]
        subject = str(claims["sub"])
        scopes = frozenset(claims["scope"].split())
        if kind == "partner":
            client = read.client if read is not None else self.access.client(subject, within)
            if client is None:
                self.partners.pop(subject, None)
                raise _invalid_token()
            self.partners[subject] = client
            return Principal(
                kind, subject, scopes & client.scopes, rate_per_minute=client.rate_per_minute
            )
        if kind == "customer":
            try:
                mobile = self.app.cipher.decrypt(str(claims.get("mob", "")))
            except DomainError:
                raise _invalid_token() from None
            customer = self.app.identity.customer(mobile)
            return Principal(
                kind,
                subject,
                scopes & CUSTOMER_SCOPES,
                party_ids=customer.party_ids,
                rate_per_minute=CUSTOMER_RATE,
            )
        user = self.app.identity.staff_user(subject)
        if user is None:
            raise _invalid_token()
        return Principal(
            kind,
            subject,
            scopes & staff_scopes(user.roles),
            roles=user.roles,
            rate_per_minute=STAFF_RATE,
        )

    def limit(self, key: str, per_minute: int) -> None:
        wait = self.limiter.hit(key, per_minute, self.app.policies.clock())
        if wait is not None:
            raise TooManyRequests(max(wait, 1))


def api_context(request: Request) -> ApiContext:
    found: ApiContext = request.app.state.api
    return found


async def context(request: Request) -> ApiContext:
    """The API's context as a dependency (async: no thread-pool hop to read app state)."""
    return api_context(request)


def bearer(authorization: str | None) -> str | None:
    scheme, token = get_authorization_scheme_param(authorization)
    return token if scheme.lower() == "bearer" and token else None


@dataclass(frozen=True, slots=True)
class Bearer:
    """A request's valid access token and the scopes its route needs; who it stands for is
    read later, in the request's transaction (:func:`authorise`)."""

    token: str
    scopes: tuple[str, ...]


def caller(
    request: Request,
    security_scopes: SecurityScopes,
    authorization: Annotated[str | None, Depends(oauth2)],
) -> Principal:
    """The authenticated caller, within its rate limit, holding every scope the route
    names (``Security(caller, scopes=[…])``)."""
    token = _required(authorization)
    return authorise(api_context(request), Bearer(token, tuple(security_scopes.scopes)))


async def bearer_token(
    request: Request,
    security_scopes: SecurityScopes,
    authorization: Annotated[str | None, Depends(oauth2)],
) -> Bearer:
    """``Security(bearer_token, scopes=[…])``: a valid token (checked here, without I/O,
    so no thread-pool hop); the route calls :func:`authorise` in its transaction."""
    token = _required(authorization)
    api_context(request).tokens.read(token)
    return Bearer(token, tuple(security_scopes.scopes))


def authorise(
    ctx: ApiContext,
    bearer_: Bearer,
    within: Connection | None = None,
    read: PartnerRead | None = None,
    counted: bool = False,
) -> Principal:
    """The caller of a token, read now (in ``within`` when given; ``read``: the partner
    client already read there), within its rate limit (unless the request was ``counted``
    already) and holding every scope the route names."""
    principal = ctx.principal(bearer_.token, within, read)
    if not counted:
        ctx.limit(principal.owner, principal.rate_per_minute)
    missing = [s for s in bearer_.scopes if not principal.may(s)]
    if missing:
        raise ApiDenied(
            "auth.insufficient_scope",
            f"访问令牌缺少权限：{' '.join(missing)}",
            f"the access token lacks the scope: {' '.join(missing)}",
        )
    return principal


def _required(authorization: str | None) -> str:
    token = bearer(authorization)
    if token is None:
        raise Unauthenticated(
            "auth.required",
            "需要有效的访问令牌（Authorization: Bearer …）",
            "a bearer access token is required (Authorization: Bearer …)",
        )
    return token


def _invalid_token() -> Unauthenticated:
    return Unauthenticated(
        "auth.invalid_token",
        "访问令牌无效或已过期，请重新获取",
        "the access token is invalid or has expired; get a new one",
    )


__all__ = [
    "AUDIENCE",
    "ISSUER",
    "SIGN_IN_RATE",
    "TOKEN_TTL",
    "ApiContext",
    "Bearer",
    "Tokens",
    "api_context",
    "authorise",
    "bearer",
    "bearer_token",
    "caller",
    "context",
    "oauth2",
]
