"""Webhooks — pure rules: which event types a partner may subscribe to, what a delivery's
body says, how it is signed, when a failed delivery is tried again, and how the
dispatcher's cursor over the event log moves.  No I/O; ``now`` is an argument.

A delivery is the event as JSON — ``{"id", "type", "occurred_at", "data"}`` — signed with
HMAC-SHA256 over ``"<unix time>.<body>"`` under the webhook's secret:

>>> body = event_body(7, "policy.issued", datetime(2026, 6, 15, 2, 0, tzinfo=UTC),
...                   "policy", "BJHMB202600000001", {"premium_fen": 19500, "quote_id": "q1"})
>>> body.decode()
'{"data":{"id":"BJHMB202600000001","object":"policy","premium":"195.00","quote_id":"q1"},\
"id":7,"occurred_at":"2026-06-15T02:00:00Z","type":"policy.issued"}'
>>> header = signature_header("whsec_test", 1781488800, body)
>>> header.startswith("t=1781488800,v1=") and verify(
...     "whsec_test", header, body, now=1781488830)
True
>>> verify("whsec_test", header, body + b" ", now=1781488830)
False

A failed attempt is tried again after 10 s, 1 min, 5 min, 30 min and 2 h; then it is dead:

>>> now = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
>>> [str(retry_at(n, now) - now) if retry_at(n, now) else None for n in range(1, 7)]
['0:00:10', '0:01:00', '0:05:00', '0:30:00', '2:00:00', None]
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

from baoxian.api.model import ApiDenied
from baoxian.shared.errors import ValidationFailed

# --------------------------------------------------------------------------- event types

EVENT_TYPES: dict[str, tuple[str, str]] = {
    "policy.issued": ("出单", "a policy was issued"),
    "policy.endorsed": ("保全（批改）生效", "a policy was endorsed (保全)"),
    "policy.renewed": ("续保", "a policy was renewed"),
    "policy.cancelled": ("退保", "a policy was cancelled, with its refund"),
    "policy.lapsed": ("失效", "a policy lapsed"),
    "policy.reinstated": ("复效", "a policy was reinstated"),
    "policy.expired": ("满期", "a policy expired"),
    "policy.members_enrolled": ("批量投保完成", "members were enrolled in bulk"),
    "policy.members_removed": ("批量减员完成", "members were removed in bulk, with the refund"),
    "claim.reported": ("报案", "a claim was reported"),
    "claim.decided": ("理算完成", "a claim was decided (paid, referred or declined)"),
    "claim.approved": ("人工核赔通过", "a handler approved a referred claim"),
    "claim.declined": ("拒赔", "a claim was declined, with the reason"),
    "claim.info_requested": ("补充资料", "more information is needed, with what"),
    "claim.info_provided": ("资料已补充", "the information asked for was provided"),
    "claim.prepaid": ("预赔付", "a pre-payment was made"),
    "claim.paid": ("赔付", "the claim was paid"),
    "claim.overpayment_to_recover": ("追回", "a pre-payment above the payable is recovered"),
    "claim.drug_delivered": ("特药已送达", "a special drug reached the patient"),
    "claim.document_added": ("资料上传", "a document was attached to the claim"),
}
"""Every event type a partner can subscribe to (zh, en).  Other events in the log — the
handler a claim is assigned to, review findings, a party's registration — never leave."""

FAMILIES: dict[str, str] = {"policy": "policies:read", "claim": "claims:read"}
"""Each family of events and the scope a partner needs to receive it."""

MAX_EVENT_PATTERNS = 40

_PUBLIC_FIELDS = frozenset(
    {
        "quote_id",
        "term_start",
        "term_end",
        "term_no",
        "plan_version",
        "effective",
        "reason",
        "endorsement_no",
        "kind",
        "batch_id",
        "received",
        "enrolled",
        "already_enrolled",
        "removed",
        "rejected",
        "channel",
        "fast_track",
        "green_channel",
        "status",
        "reason_zh",
        "reason_en",
        "what_zh",
        "what_en",
        "payee_kind",
        "payment_id",
        "document_id",
        "media_type",
        "size_bytes",
        "within_sla",
    }
)
"""What of an event's payload a partner sees: no handler IDs, review findings, notes or
file names; money (``*_fen``) becomes text with two decimals."""


def event_patterns(wanted: Iterable[str], scopes: frozenset[str]) -> tuple[str, ...]:
    """The event types a webhook subscribes to: exact types or a family (``policy.*``,
    ``claim.*``), each family allowed by the partner's scopes.

    >>> event_patterns(["claim.*", "policy.issued", "claim.*"], frozenset(FAMILIES.values()))
    ('claim.*', 'policy.issued')
    """
    patterns = sorted({w.strip() for w in wanted})
    unknown = [p for p in patterns if p not in EVENT_TYPES and _family(p) is None]
    if not patterns or unknown or len(patterns) > MAX_EVENT_PATTERNS:
        raise ValidationFailed(
            "webhook.unknown_event_type",
            f"事件类型无效：{' '.join(unknown) or '未指定'}",
            f"unknown or missing event type: {' '.join(unknown) or 'none'}",
        )
    missing = sorted({FAMILIES[p.split(".")[0]] for p in patterns} - scopes)
    if missing:
        raise ApiDenied(
            "auth.insufficient_scope",
            f"订阅这些事件需要权限：{' '.join(missing)}",
            f"subscribing to these events needs the scope: {' '.join(missing)}",
        )
    return tuple(patterns)


def _family(pattern: str) -> str | None:
    family, _, rest = pattern.partition(".")
    return family if rest == "*" and family in FAMILIES else None


def wants(patterns: Sequence[str], event_type: str, scopes: frozenset[str]) -> bool:
    """Whether a webhook with these patterns, of a client holding these scopes, gets an
    event of this type.

    >>> wants(("claim.*",), "claim.paid", frozenset({"claims:read"}))
    True
    >>> wants(("claim.*",), "claim.assigned", frozenset({"claims:read"}))
    False
    >>> wants(("claim.*",), "claim.paid", frozenset({"policies:read"}))
    False
    """
    if event_type not in EVENT_TYPES:
        return False
    family = event_type.split(".")[0]
    if FAMILIES[family] not in scopes:
        return False
    return event_type in patterns or f"{family}.*" in patterns


# --------------------------------------------------------------------------- webhooks

MAX_WEBHOOKS_PER_CLIENT = 10


@dataclass(frozen=True, slots=True)
class Webhook:
    """An endpoint a partner registered, with the event types it wants.  Events after
    ``from_event_id`` (the log's end when it was registered) are delivered; earlier ones
    only by a replay."""

    webhook_id: str
    client_id: str
    url: str
    event_types: tuple[str, ...]
    active: bool
    from_event_id: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at delivering an event: the answer (or the error) and what happens next."""

    webhook_id: str
    event_id: int
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    outcome: Outcome
    next_attempt_at: datetime | None


def attempt_of(
    webhook_id: str,
    event_id: int,
    attempt: int,
    now: datetime,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
) -> Attempt:
    """Attempt number ``attempt`` (from 1) answered ``status_code`` (None: no answer):
    delivered, to be retried at the next back-off, or dead after the last.

    >>> t = datetime(2026, 6, 15, tzinfo=UTC)
    >>> a = attempt_of("w", 1, 2, t, 503, None, 12)
    >>> a.outcome, a.error, a.next_attempt_at - t
    ('retry', 'HTTP 503', datetime.timedelta(seconds=60))
    >>> attempt_of("w", 1, MAX_ATTEMPTS, t, None, "ConnectError", 3).outcome
    'dead'
    """
    if succeeded(status_code):
        return Attempt(
            webhook_id, event_id, attempt, now, status_code, None, duration_ms, "delivered", None
        )
    error = (error or f"HTTP {status_code}")[:200]
    later = retry_at(attempt, now)
    outcome: Outcome = "dead" if later is None else "retry"
    return Attempt(
        webhook_id, event_id, attempt, now, status_code, error, duration_ms, outcome, later
    )


# --------------------------------------------------------------------------- endpoints

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_URL_LENGTH = 2000


def check_url(url: str, allow_loopback: bool = False) -> str:
    """A webhook endpoint: HTTPS to a public host; plain HTTP only to this machine, and
    only where allowed (tests and development).  No user and password in the URL.

    >>> check_url("https://hooks.example.com/baoxian")
    'https://hooks.example.com/baoxian'
    >>> check_url("http://127.0.0.1:8911/hook", allow_loopback=True)
    'http://127.0.0.1:8911/hook'
    >>> check_url("https://10.0.0.8/hook")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    baoxian.shared.errors.ValidationFailed: [webhook.invalid_url] ...
    """
    clean = url.strip()
    try:
        parts = urlsplit(clean)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        raise _invalid_url() from None
    if (
        len(clean) > MAX_URL_LENGTH
        or not host
        or parts.username is not None
        or parts.password is not None
        or parts.fragment
        or any(c.isspace() for c in clean)
    ):
        raise _invalid_url()
    loopback = host in LOOPBACK_HOSTS
    if parts.scheme == "http" and loopback and allow_loopback:
        return clean
    if parts.scheme != "https" or (loopback and not allow_loopback) or _private(host):
        raise _invalid_url()
    return clean


def _private(host: str) -> bool:
    """An IP literal this server must not be made to call (private, loopback, link-local,
    reserved).  Host names are not resolved here."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host.endswith((".local", ".internal", ".localhost"))
    return not address.is_global


def _invalid_url() -> ValidationFailed:
    return ValidationFailed(
        "webhook.invalid_url",
        "回调地址须为 https:// 开头的公网地址（不含用户名和密码）",
        "the endpoint must be an https:// URL of a public host (no user or password)",
    )


# --------------------------------------------------------------------------- deliveries

SIGNATURE_HEADER = "Baoxian-Signature"
EVENT_ID_HEADER = "Baoxian-Event-Id"
SIGNATURE_TOLERANCE_SECONDS = 300

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
"""After the first attempt fails: wait 10 s, then 1 min, 5 min, 30 min, 2 h; after the last
of these fails the delivery is dead (a replay revives it)."""

MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

DeliveryStatus = Literal["pending", "delivered", "dead"]
Outcome = Literal["delivered", "retry", "dead"]


def retry_at(attempt: int, now: datetime) -> datetime | None:
    """When to try again after attempt number ``attempt`` (from 1) failed; None: give up."""
    return now + RETRY_DELAYS[attempt - 1] if attempt <= len(RETRY_DELAYS) else None


def succeeded(status_code: int | None) -> bool:
    """Only a 2xx answer counts; a redirect is not followed and counts as a failure."""
    return status_code is not None and 200 <= status_code < 300


def event_body(
    event_id: int,
    event_type: str,
    occurred_at: datetime,
    kind: str,
    object_id: str,
    payload: Mapping[str, Any],
    policy_number: str | None = None,
) -> bytes:
    """The JSON a receiver gets, byte for byte the same on every attempt."""
    data: dict[str, Any] = {"object": kind, "id": object_id}
    if policy_number is not None:
        data["policy_number"] = policy_number
    for key, value in payload.items():
        if key.endswith("_fen") and isinstance(value, int):
            data[key.removesuffix("_fen")] = _money_text(value)
        elif key in _PUBLIC_FIELDS:
            data[key] = value
    document = {
        "id": event_id,
        "type": event_type,
        "occurred_at": occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(
        document, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str
    ).encode()


def _money_text(fen: int) -> str:
    return str((Decimal(fen) / 100).quantize(Decimal("0.01")))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 (hex) of ``"<timestamp>.<body>"`` under the secret."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    now: int,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks (docs/api.md has the same for partners): the signature over
    the body as received, and a timestamp within ``tolerance`` seconds of ``now``."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), fields.get("v1", ""))


# --------------------------------------------------------------------------- the cursor


@dataclass(frozen=True, slots=True)
class Gap:
    """Event IDs ``first``–``last`` not seen yet although higher ones were: a transaction
    that took its IDs earlier may still be committing.  Noticed at ``since``."""

    first: int
    last: int
    since: datetime


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the dispatcher stands in the event log: every event up to ``position`` has
    been matched to webhooks, except those in ``gaps``, which are looked at again until
    they turn up or ``SETTLE`` has passed (a rolled-back transaction leaves a gap for good).
    """

    position: int
    gaps: tuple[Gap, ...] = field(default=())


SETTLE = timedelta(minutes=2)
MAX_GAPS = 500


def advance(
    cursor: Cursor, seen: Sequence[int], through: int, now: datetime, settle: timedelta = SETTLE
) -> Cursor:
    """The cursor after a scan that saw the event IDs ``seen`` (sorted), having looked at
    every ID up to ``through`` that was in a gap or above the position.

    >>> t = datetime(2026, 6, 15, tzinfo=UTC)
    >>> c = advance(Cursor(10), [11, 12, 15, 16], 16, t)
    >>> c.position, [(g.first, g.last) for g in c.gaps]
    (16, [(13, 14)])
    >>> c = advance(c, [14, 17], 17, t + timedelta(seconds=5))
    >>> c.position, [(g.first, g.last) for g in c.gaps]
    (17, [(13, 13)])
    >>> advance(c, [], 17, t + timedelta(minutes=3)).gaps
    ()
    """
    gaps: list[Gap] = []
    for gap in cursor.gaps:
        if now - gap.since > settle:
            continue
        gaps += _unseen(gap.first, min(gap.last, through), seen, gap.since)
        if gap.last > through:
            gaps.append(Gap(max(gap.first, through + 1), gap.last, gap.since))
    position = cursor.position
    if through > position:
        gaps += _unseen(position + 1, through, seen, now)
        position = through
    return Cursor(position, tuple(sorted(gaps, key=lambda g: g.first)[-MAX_GAPS:]))


def _unseen(first: int, last: int, seen: Sequence[int], since: datetime) -> list[Gap]:
    """The runs of IDs in ``first``–``last`` that are not in ``seen`` (sorted)."""
    found: list[Gap] = []
    expected = first
    for event_id in seen:
        if event_id < expected:
            continue
        if event_id > last:
            break
        if event_id > expected:
            found.append(Gap(expected, event_id - 1, since))
        expected = event_id + 1
    if expected <= last:
        found.append(Gap(expected, last, since))
    return found


def cursor_json(cursor: Cursor) -> list[list[Any]]:
    return [[g.first, g.last, g.since.isoformat()] for g in cursor.gaps]


def cursor_from(position: int, gaps: Sequence[Sequence[Any]]) -> Cursor:
    return Cursor(
        position,
        tuple(Gap(int(a), int(b), datetime.fromisoformat(str(s))) for a, b, s in gaps),
    )


__all__ = [
    "EVENT_ID_HEADER",
    "EVENT_TYPES",
    "FAMILIES",
    "MAX_ATTEMPTS",
    "MAX_WEBHOOKS_PER_CLIENT",
    "RETRY_DELAYS",
    "SETTLE",
    "SIGNATURE_HEADER",
    "Attempt",
    "Cursor",
    "DeliveryStatus",
    "Gap",
    "Outcome",
    "Webhook",
    "advance",
    "attempt_of",
    "check_url",
    "cursor_from",
    "cursor_json",
    "event_body",
    "event_patterns",
    "retry_at",
    "signature",
    "signature_header",
    "succeeded",
    "verify",
    "wants",
]
