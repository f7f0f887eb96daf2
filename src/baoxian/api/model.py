"""The API's own rules — pure: scopes, who is calling, what each caller may see, rate-limit
windows and idempotency fingerprints.  No I/O; ``now`` is an argument.

>>> sorted(partner_scopes("products:read  quotes:write,policies:read"))
['policies:read', 'products:read', 'quotes:write']
>>> sorted(staff_scopes(frozenset({"claims_handler"})))
['claims:read', 'products:read']
>>> from datetime import UTC
>>> limiter = RateLimiter()
>>> now = datetime(2026, 3, 1, 8, 0, 30, tzinfo=UTC)
>>> [limiter.hit("partner:a", 2, now) for _ in range(3)]
[None, None, 30]
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from baoxian.shared.errors import DomainError, ValidationFailed

PrincipalKind = Literal["partner", "customer", "staff"]
GrantKind = Literal["party", "quote", "policy", "claim"]

SCOPES: dict[str, tuple[str, str]] = {
    "products:read": ("查看产品与计划版本", "Read products and plan versions"),
    "quotes:read": ("查看报价", "Read quotes"),
    "quotes:write": ("创建报价（登记投保人与被保险人）", "Create quotes (registers the persons)"),
    "policies:read": ("查看保单", "Read policies"),
    "policies:write": ("出单、保全、续保、退保", "Issue, endorse, renew and cancel policies"),
    "claims:read": ("查看赔案、理算结果与支付", "Read claims, their decision and payments"),
    "claims:write": ("报案与上传理赔资料", "Report claims and upload documents"),
    "customers:read": ("查看客户（脱敏）", "Read customers (masked)"),
    "notices:read": ("查看客户通知", "Read a customer's notices"),
    "webhooks:manage": (
        "管理回调：登记、查看、删除、重放事件",
        "Manage webhooks: register, list, remove, replay events",
    ),
    "members:read": (
        "查看团体保单成员（脱敏）与批次报告",
        "Read a group policy's members (masked) and batch reports",
    ),
    "members:write": (
        "批量增加、减少团体保单成员",
        "Enrol and remove members of a group policy in batches",
    ),
    "personal_data:read": ("查看完整个人信息（留痕）", "Read full personal data (audited)"),
}
"""Every scope, with what it allows (zh, en).  ``personal_data:read`` is never given to a
partner or a customer; staff with the service role hold it."""

PARTNER_SCOPES = frozenset(SCOPES) - {"personal_data:read"}
CUSTOMER_SCOPES = frozenset(
    {
        "products:read",
        "policies:read",
        "claims:read",
        "claims:write",
        "customers:read",
        "notices:read",
    }
)
_READ = frozenset(s for s in SCOPES if s.endswith(":read"))
STAFF_ROLE_SCOPES: dict[str, frozenset[str]] = {
    "service": _READ,
    "admin": _READ,
    "claims_handler": frozenset({"products:read", "claims:read"}),
    "claims_supervisor": frozenset({"products:read", "claims:read"}),
}
"""Staff read through the API as in the console: service staff read everything (and may ask
for full personal data, audited); claims staff read claims.  Staff never write here."""


class ApiDenied(DomainError):
    """The caller may not do this (a missing scope or role)."""


class Unauthenticated(DomainError):
    """No valid credentials: a missing, malformed, expired or revoked token or secret."""


class TooManyRequests(DomainError):
    """A rate limit was reached; ``retry_after`` says in how many seconds to try again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "api.rate_limited",
            f"请求过于频繁，请 {retry_after} 秒后再试",
            f"too many requests; try again in {retry_after} seconds",
        )
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ApiClient:
    """A partner system (a delivery platform, a bank, a pharmacy, a hospital)."""

    client_id: str
    name: str
    scopes: frozenset[str]
    rate_per_minute: int
    active: bool = True


@dataclass(frozen=True, slots=True)
class PartnerRead:
    """A partner's client as read with its request's idempotency key, in one statement: the
    client if it is active (None when revoked or gone), and whether it holds a grant on the
    object the request names (False when it names none)."""

    client: ApiClient | None
    holds: bool


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, with the scopes the token grants.  ``party_ids`` are a customer's
    parties (every party registered with their phone); ``roles`` a staff member's."""

    kind: PrincipalKind
    subject: str
    scopes: frozenset[str]
    party_ids: tuple[str, ...] = ()
    roles: frozenset[str] = frozenset()
    rate_per_minute: int = 120

    @property
    def owner(self) -> str:
        """The namespace of this caller's idempotency keys and rate limit."""
        return f"{self.kind}:{self.subject}"

    def may(self, scope: str) -> bool:
        return scope in self.scopes


def partner_scopes(text: str) -> frozenset[str]:
    """Scopes written space- or comma-separated; unknown ones (or staff-only ones) refused."""
    wanted = frozenset(s for s in re.split(r"[\s,]+", text.strip()) if s)
    unknown = wanted - PARTNER_SCOPES
    if unknown or not wanted:
        raise ValidationFailed(
            "api.unknown_scope",
            f"权限范围无效：{' '.join(sorted(unknown)) or '未指定'}",
            f"unknown or missing scope: {' '.join(sorted(unknown)) or 'none'}",
        )
    return wanted


def granted_scopes(allowed: frozenset[str], requested: str | None) -> frozenset[str]:
    """What a token carries: the requested scopes (all allowed ones when none are asked
    for); asking for one the client does not hold is refused, never silently narrowed."""
    if not requested or not requested.strip():
        return allowed
    wanted = frozenset(s for s in re.split(r"[\s,]+", requested.strip()) if s)
    if not wanted <= allowed:
        raise ApiDenied(
            "auth.invalid_scope",
            "申请的权限范围超出该客户端的授权",
            "the requested scope is not granted to this client",
        )
    return wanted


def staff_scopes(roles: frozenset[str]) -> frozenset[str]:
    return frozenset(s for role in roles for s in STAFF_ROLE_SCOPES.get(role, frozenset()))


def request_id(owner: str, key: str) -> str:
    """The idempotency key as the services' request ID: namespaced by the caller, so two
    partners using the same key never meet (64 hex characters)."""
    return hashlib.sha256(f"{owner}\x00{key}".encode()).hexdigest()


# --------------------------------------------------------------------------- rate limits


@dataclass
class RateLimiter:
    """A fixed window of one minute per caller, in process (thread-safe).  Behind several
    processes each keeps its own count; the limit per process is then the documented one."""

    window_seconds: int = 60
    _counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str, limit: int, now: datetime) -> int | None:
        """Count one request; None when within the limit, else the seconds to wait."""
        epoch = int(now.timestamp())
        window = epoch // self.window_seconds
        with self._lock:
            current, count = self._counts.get(key, (window, 0))
            if current != window:
                current, count = window, 0
            if count >= limit:
                return (window + 1) * self.window_seconds - epoch
            self._counts[key] = (current, count + 1)
            if len(self._counts) > 100_000:
                self._forget(window)
        return None

    def _forget(self, window: int) -> None:
        for stale in [k for k, (w, _) in self._counts.items() if w != window]:
            del self._counts[stale]


# --------------------------------------------------------------------------- idempotency

IdempotencyState = Literal["in_progress", "done"]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What the first request with a key answered; a retry gets exactly this."""

    status: int
    media_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class KeyRecord:
    owner: str
    key: str
    fingerprint: str
    state: IdempotencyState
    created_at: datetime
    response: StoredResponse | None = None


KEEPS_RESPONSE = frozenset(range(200, 500)) - {401, 403, 409, 429}
"""Answers kept for a key: successes and refusals of the request itself.  A conflict, a
rate limit, an authentication failure or a server error leaves the key free to retry."""

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{8,128}")
"""8–128 visible ASCII characters (a UUID fits)."""


def fingerprint(method: str, path: str, query: str, media_type: str, body: bytes) -> str:
    """SHA-256 of what makes two requests "the same": method, path, query and the body.
    A multipart body's random boundary is replaced, so a retried upload matches."""
    digest = Fingerprint(method, path, query, media_type)
    digest.update(body)
    return digest.hexdigest()


_BOUNDARY_MARK = b"--boundary--"


class Fingerprint:
    """:func:`fingerprint`, fed the body chunk by chunk as it arrives (a body of 100,000
    members is never held whole to be hashed).  A multipart boundary split between two
    chunks is still found: the last bytes that could begin one wait for the next chunk.

    >>> form = "multipart/form-data; boundary=ab12"
    >>> whole = fingerprint("POST", "/x", "", form, b"--ab12 a --ab12--")
    >>> digest = Fingerprint("POST", "/x", "", form)
    >>> for chunk in (b"--a", b"b", b"12 a --ab", b"12--"):
    ...     digest.update(chunk)
    >>> digest.hexdigest() == whole
    True
    """

    def __init__(self, method: str, path: str, query: str, media_type: str) -> None:
        self._digest = hashlib.sha256()
        for part in (method.upper(), path, query, media_type.split(";")[0].strip().lower()):
            self._digest.update(part.encode("utf-8", "surrogateescape") + b"\x00")
        boundary = _boundary(media_type)
        self._boundary = boundary.encode("latin-1") if boundary else b""
        self._carry = b""

    def update(self, chunk: bytes) -> None:
        if not self._boundary:
            self._digest.update(chunk)
            return
        data, position = self._carry + chunk, 0
        while (found := data.find(self._boundary, position)) != -1:
            self._digest.update(data[position:found] + _BOUNDARY_MARK)
            position = found + len(self._boundary)
        safe = max(position, len(data) - len(self._boundary) + 1)
        self._digest.update(data[position:safe])
        self._carry = data[safe:]

    def hexdigest(self) -> str:
        digest = self._digest.copy()
        digest.update(self._carry)
        return digest.hexdigest()


def _boundary(media_type: str) -> str | None:
    found = re.search(r'boundary="?([^";]+)"?', media_type)
    return found.group(1) if found and media_type.lower().startswith("multipart/") else None


__all__ = [
    "CUSTOMER_SCOPES",
    "IDEMPOTENCY_KEY",
    "KEEPS_RESPONSE",
    "PARTNER_SCOPES",
    "SCOPES",
    "STAFF_ROLE_SCOPES",
    "ApiClient",
    "ApiDenied",
    "Fingerprint",
    "GrantKind",
    "KeyRecord",
    "PartnerRead",
    "Principal",
    "PrincipalKind",
    "RateLimiter",
    "StoredResponse",
    "TooManyRequests",
    "Unauthenticated",
    "fingerprint",
    "granted_scopes",
    "partner_scopes",
    "request_id",
    "staff_scopes",
]
