"""SQL persistence of the identity context."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from baoxian.identity.model import Challenge, StaffUser
from baoxian.identity.tables import challenges, requests, staff_users
from baoxian.shared.money import Money


class SqlIdentityRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    # one-time codes -------------------------------------------------------------------

    def count_requests(self, scope: str, since: datetime) -> int:
        return int(
            self._connection.execute(
                select(func.count())
                .select_from(requests)
                .where(requests.c.scope == scope, requests.c.at > since)
            ).scalar_one()
        )

    def log_request(self, request_id: str, scope: str, at: datetime) -> None:
        self._connection.execute(insert(requests).values(request_id=request_id, scope=scope, at=at))

    def add_challenge(self, challenge: Challenge, now: datetime) -> None:
        values = {name: getattr(challenge, name) for name in Challenge.__dataclass_fields__}
        self._connection.execute(insert(challenges).values(created_at=now, **values))

    def latest_challenge(self, mobile_hash: str) -> Challenge | None:
        row = self._connection.execute(
            select(challenges)
            .where(challenges.c.mobile_hash == mobile_hash)
            .order_by(challenges.c.created_at.desc(), challenges.c.challenge_id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return Challenge(
            row.challenge_id,
            row.mobile_hash,
            row.code_hash,
            row.expires_at,
            row.tries,
            row.used,
        )

    def record_try(self, challenge_id: str, used: bool) -> None:
        self._connection.execute(
            update(challenges)
            .where(challenges.c.challenge_id == challenge_id)
            .values(tries=challenges.c.tries + 1, used=used)
        )

    # staff ----------------------------------------------------------------------------

    def put_staff(self, user: StaffUser, password_hash: str | None, now: datetime) -> None:
        values: dict[str, Any] = {
            "name": user.name,
            "roles": sorted(user.roles),
            "authority_fen": user.authority.fen,
            "active": user.active,
        }
        if password_hash is not None:
            values["password_hash"] = password_hash
        changed = self._connection.execute(
            update(staff_users).where(staff_users.c.user_id == user.user_id).values(values)
        )
        if changed.rowcount == 0:
            assert password_hash is not None, "a new staff user needs a password"
            self._connection.execute(
                insert(staff_users).values(user_id=user.user_id, created_at=now, **values)
            )

    def staff(self, user_id: str) -> tuple[StaffUser, str] | None:
        row = self._connection.execute(
            select(staff_users).where(staff_users.c.user_id == user_id)
        ).first()
        if row is None:
            return None
        return _staff(row), row.password_hash

    def all_staff(self) -> list[StaffUser]:
        rows = self._connection.execute(select(staff_users).order_by(staff_users.c.user_id))
        return [_staff(row) for row in rows]

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self._connection.execute(
            update(staff_users)
            .where(staff_users.c.user_id == user_id)
            .values(password_hash=password_hash)
        )


def _staff(row: Any) -> StaffUser:
    return StaffUser(
        row.user_id,
        row.name,
        frozenset(row.roles),
        Money.from_fen(row.authority_fen),
        row.active,
    )


__all__ = ["SqlIdentityRepository"]
