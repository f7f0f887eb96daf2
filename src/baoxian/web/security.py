"""Web sessions and CSRF.

* ``bx_sid`` — a random browser ID (HttpOnly, Secure, SameSite=Lax), set on the first visit;
* ``bx_session`` — who is signed in: a JWT (HS256, a key derived from the data key) naming
  the customer's phone or the staff ID, bound to ``bx_sid`` and expiring (customers after
  30 minutes, staff after 8 hours);
* the CSRF token of a form is an HMAC of ``bx_sid``: every POST must carry it (form field
  ``csrf`` or header ``X-CSRF-Token``) or is refused with 403.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import jwt

SID_COOKIE = "bx_sid"
SESSION_COOKIE = "bx_session"
LOCALE_COOKIE = "bx_lang"
CARE_COOKIE = "bx_care"
Kind = Literal["customer", "staff"]
LIFETIME: dict[str, timedelta] = {
    "customer": timedelta(minutes=30),
    "staff": timedelta(hours=8),
}


@dataclass(frozen=True, slots=True)
class Session:
    kind: Kind
    subject: str  # the customer's mobile, or the staff user ID
    sid: str


@dataclass(frozen=True, slots=True)
class Keys:
    """The web edge's secrets, derived from the data key at start-up."""

    session: bytes
    csrf: bytes

    def issue(self, session: Session, now: datetime) -> str:
        claims = {
            "kind": session.kind,
            "sub": session.subject,
            "sid": session.sid,
            "iat": int(now.timestamp()),
            "exp": int((now + LIFETIME[session.kind]).timestamp()),
        }
        return jwt.encode(claims, self.session, algorithm="HS256")

    def read(self, token: str | None, sid: str | None, now: datetime) -> Session | None:
        """The session in a cookie, if it is genuine, unexpired and of this browser."""
        if not token or not sid:
            return None
        try:
            claims = jwt.decode(
                token,
                self.session,
                algorithms=["HS256"],
                options={"require": ["exp", "sub", "sid", "kind"], "verify_exp": False},
            )
        except jwt.PyJWTError:
            return None
        if claims["exp"] <= now.timestamp() or claims["kind"] not in LIFETIME:
            return None
        if not hmac.compare_digest(str(claims["sid"]), sid):
            return None
        return Session(claims["kind"], str(claims["sub"]), sid)

    def csrf_token(self, sid: str) -> str:
        return hmac.new(self.csrf, sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, sid: str | None, token: str | None) -> bool:
        if not sid or not token:
            return False
        return hmac.compare_digest(self.csrf_token(sid), token)


def new_sid() -> str:
    return secrets.token_urlsafe(24)


__all__ = [
    "CARE_COOKIE",
    "LOCALE_COOKIE",
    "SESSION_COOKIE",
    "SID_COOKIE",
    "Keys",
    "Session",
    "new_sid",
]
