"""Sign-in use cases: a phone and a one-time code for customers; an ID and a password for
staff.  Every sign-in and staff change is an event (audit trail)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine

from baoxian.identity.model import (
    CODE_TTL,
    PER_CLIENT,
    PER_PHONE,
    ROLES,
    WINDOW,
    Challenge,
    StaffUser,
    code_from,
    code_hash,
    password_failed,
    rate_limited,
    same,
    sign_in_failed,
)
from baoxian.identity.repository import SqlIdentityRepository
from baoxian.outreach.services import OutreachService, Text
from baoxian.policies.model import Party
from baoxian.policies.ports import Event
from baoxian.policies.repository import SqlEventLog
from baoxian.policies.services import PolicyService
from baoxian.shared.clock import Clock
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.identity import mask_phone, normalise_mobile
from baoxian.shared.money import Money

_DUMMY_PASSWORD = "not-a-real-password"


@dataclass(frozen=True, slots=True)
class Customer:
    """A signed-in phone number and the parties registered with it."""

    mobile: str
    parties: tuple[Party, ...]

    @property
    def party_ids(self) -> tuple[str, ...]:
        return tuple(p.party_id for p in self.parties)

    @property
    def masked(self) -> str:
        return mask_phone(self.mobile)


@dataclass
class IdentityService:
    engine: Engine
    policies: PolicyService
    outreach: OutreachService
    code_key: bytes
    clock: Clock
    new_id: Callable[[], str]
    random_bytes: Callable[[int], bytes] = os.urandom
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    _dummy_hash: str = field(default="", init=False, repr=False)

    # ------------------------------------------------------------------ customers

    def request_code(self, mobile: str, client: str) -> None:
        """短信验证码: send a code to the number.  The answer is the same for every valid
        number, known or not; the number and the client address are rate-limited."""
        number = normalise_mobile(mobile)
        mobile_hash = self.outreach.cipher.mobile_index(number)
        now = self.clock()
        with self.engine.begin() as connection:
            repo = SqlIdentityRepository(connection)
            for scope, limit in (
                (f"phone:{mobile_hash}", PER_PHONE),
                (f"client:{client}", PER_CLIENT),
            ):
                if repo.count_requests(scope, now - WINDOW) >= limit:
                    raise rate_limited()
            for scope in (f"phone:{mobile_hash}", f"client:{client}"):
                repo.log_request(self.new_id(), scope, now)
            challenge_id = self.new_id()
            code = code_from(self.random_bytes(8))
            repo.add_challenge(
                Challenge(
                    challenge_id,
                    mobile_hash,
                    code_hash(self.code_key, challenge_id, code),
                    now + CODE_TTL,
                ),
                now,
            )
        self.outreach.send_sms(
            number,
            Text(
                "sign_in_code",
                "登录验证码",
                "Sign-in code",
                f"【保险】您的登录验证码是 {code}，5分钟内有效。请勿告诉他人。",
                f"[Baoxian] Your sign-in code is {code}. It is valid for 5 minutes. "
                "Do not share it.",
            ),
        )

    def verify_code(self, mobile: str, code: str) -> Customer:
        """Check the latest code sent to the number: right, unused, in time, within five
        tries.  A number with no party registered still signs in (to buy a first policy)."""
        number = normalise_mobile(mobile)
        mobile_hash = self.outreach.cipher.mobile_index(number)
        now = self.clock()
        with self.engine.begin() as connection:
            repo = SqlIdentityRepository(connection)
            challenge = repo.latest_challenge(mobile_hash)
            if challenge is None or not challenge.open(now):
                raise sign_in_failed()
            ok = same(
                challenge.code_hash, code_hash(self.code_key, challenge.challenge_id, code.strip())
            )
            repo.record_try(challenge.challenge_id, used=ok)
            self._audit(
                connection, "customer", mobile_hash[:16], "identity.code_checked", {"ok": ok}
            )
        if not ok:
            raise sign_in_failed()
        return self.customer(number)

    def customer(self, mobile: str) -> Customer:
        number = normalise_mobile(mobile)
        return Customer(number, tuple(self.policies.parties_with_mobile(number)))

    # ------------------------------------------------------------------ staff

    def add_staff(
        self,
        user_id: str,
        name: str,
        password: str,
        roles: Iterable[str],
        authority: Money = Money.ZERO,
        by: str = "system",
    ) -> StaffUser:
        """Create or change a member of staff (roles from :data:`ROLES`)."""
        wanted = frozenset(roles)
        unknown = wanted - set(ROLES)
        if unknown or not wanted:
            raise ValidationFailed(
                "identity.unknown_role",
                f"角色无效：{', '.join(sorted(unknown)) or '未指定'}",
                f"unknown or missing role: {', '.join(sorted(unknown)) or 'none'}",
            )
        if len(password) < 10:
            raise ValidationFailed(
                "identity.weak_password",
                "密码至少 10 位",
                "a password needs at least 10 characters",
            )
        user = StaffUser(user_id.strip(), name.strip(), wanted, authority)
        with self.engine.begin() as connection:
            SqlIdentityRepository(connection).put_staff(
                user, self.hasher.hash(password), self.clock()
            )
            self._audit(
                connection,
                "staff",
                user.user_id,
                "identity.staff_saved",
                {"by": by, "roles": sorted(wanted), "authority_fen": authority.fen},
            )
        return user

    def staff_sign_in(self, user_id: str, password: str) -> StaffUser:
        """Check a password (argon2).  An unknown ID costs the same as a wrong password."""
        with self.engine.begin() as connection:
            repo = SqlIdentityRepository(connection)
            found = repo.staff(user_id.strip())
            stored = found[1] if found else self._dummy()
            ok = self._verify(stored, password) and found is not None and found[0].active
            self._audit(
                connection, "staff", user_id.strip()[:64], "identity.staff_sign_in", {"ok": ok}
            )
            if ok and found is not None and self.hasher.check_needs_rehash(stored):
                repo.set_password_hash(found[0].user_id, self.hasher.hash(password))
        if not ok or found is None:
            raise password_failed()
        return found[0]

    def staff_user(self, user_id: str) -> StaffUser | None:
        with self.engine.connect() as connection:
            found = SqlIdentityRepository(connection).staff(user_id)
        return found[0] if found and found[0].active else None

    def all_staff(self) -> list[StaffUser]:
        with self.engine.connect() as connection:
            return SqlIdentityRepository(connection).all_staff()

    def audit(self, actor: str, event_type: str, payload: dict[str, Any]) -> None:
        """Record a staff action (every console action calls this or a service that does)."""
        with self.engine.begin() as connection:
            self._audit(connection, "staff", actor, event_type, payload)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if not self._dummy_hash:
            self._dummy_hash = self.hasher.hash(_DUMMY_PASSWORD)
        return self._dummy_hash

    def _audit(
        self,
        connection: Connection,
        aggregate_type: str,
        aggregate_id: str,
        event_type: str,
        payload: dict[str, Any],
    ) -> None:
        SqlEventLog(connection).append(
            Event(aggregate_type, aggregate_id, event_type, payload, self.clock())
        )


__all__ = ["Customer", "IdentityService"]
