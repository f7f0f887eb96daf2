"""Sign-in rules — pure: one-time codes, rate limits, staff roles and authority.

A customer is whoever holds a phone number: they sign in with the number and a six-digit
code sent to it (短信验证码).  Codes live five minutes, allow five tries, and are stored only
as an HMAC.  Requests are limited per number and per client address, and the answer to a
request is the same whether or not the number is known — no account enumeration.

Staff sign in with an ID and a password (argon2) and act within their roles.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from baoxian.shared.errors import DomainError
from baoxian.shared.money import Money

Role = Literal["service", "claims_handler", "claims_supervisor", "admin"]
ROLES: tuple[Role, ...] = ("service", "claims_handler", "claims_supervisor", "admin")
ROLE_NAMES: dict[str, tuple[str, str]] = {
    "service": ("柜面服务", "Customer service"),
    "claims_handler": ("理赔员", "Claims handler"),
    "claims_supervisor": ("理赔主管", "Claims supervisor"),
    "admin": ("管理员", "Administrator"),
}

CODE_TTL = timedelta(minutes=5)
MAX_TRIES = 5
WINDOW = timedelta(hours=1)
PER_PHONE = 5  # code requests per number per hour
PER_CLIENT = 20  # code requests per client address per hour


class SignInFailed(DomainError):
    """A code or password did not match, or expired; says nothing about whether the account
    exists."""


class RateLimited(DomainError):
    """Too many requests in the window."""


@dataclass(frozen=True, slots=True)
class Challenge:
    """A one-time code sent to a phone (only its HMAC is kept)."""

    challenge_id: str
    mobile_hash: str
    code_hash: str
    expires_at: datetime
    tries: int = 0
    used: bool = False

    def open(self, now: datetime) -> bool:
        return not self.used and self.tries < MAX_TRIES and now < self.expires_at


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A member of staff: roles and the payable they may approve alone (审批权限)."""

    user_id: str
    name: str
    roles: frozenset[str]
    authority: Money
    active: bool = True

    def has(self, role: str) -> bool:
        """Admins hold every role; a supervisor also acts as a handler."""
        if "admin" in self.roles or role in self.roles:
            return True
        return role == "claims_handler" and "claims_supervisor" in self.roles


def code_from(random_bytes: bytes) -> str:
    """Six decimal digits from random bytes (at least 8), without modulo bias worth noting.

    >>> code_from(bytes(8)), code_from(b"\\xff" * 8)
    ('000000', '551615')
    """
    return f"{int.from_bytes(random_bytes[:8], 'big') % 1_000_000:06d}"


def code_hash(key: bytes, challenge_id: str, code: str) -> str:
    """The stored form of a code: HMAC-SHA256 over the challenge and the code."""
    return hmac.new(key, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def sign_in_failed() -> SignInFailed:
    return SignInFailed(
        "identity.sign_in_failed",
        "验证码错误或已过期，请重新获取",
        "the code is wrong or has expired; ask for a new one",
    )


def rate_limited() -> RateLimited:
    return RateLimited(
        "identity.rate_limited",
        "请求过于频繁，请一小时后再试",
        "too many requests; try again in an hour",
    )


def password_failed() -> SignInFailed:
    return SignInFailed("identity.password_failed", "工号或密码错误", "wrong staff ID or password")


__all__ = [
    "CODE_TTL",
    "MAX_TRIES",
    "PER_CLIENT",
    "PER_PHONE",
    "ROLES",
    "ROLE_NAMES",
    "WINDOW",
    "Challenge",
    "RateLimited",
    "Role",
    "SignInFailed",
    "StaffUser",
    "code_from",
    "code_hash",
    "password_failed",
    "rate_limited",
    "same",
    "sign_in_failed",
]
