"""SQL persistence of notices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from baoxian.outreach.model import Notice
from baoxian.outreach.tables import notices


class SqlNoticeRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, notice: Notice, mobile_hash: str | None) -> None:
        values = {name: getattr(notice, name) for name in Notice.__dataclass_fields__}
        self._connection.execute(insert(notices).values(mobile_hash=mobile_hash, **values))

    def for_parties(self, party_ids: Sequence[str], limit: int) -> list[Notice]:
        rows = self._connection.execute(
            select(notices)
            .where(notices.c.party_id.in_(list(party_ids)), notices.c.channel == "inbox")
            .order_by(notices.c.created_at.desc(), notices.c.notice_id.desc())
            .limit(limit)
        )
        return [_notice(row) for row in rows]

    def latest(self, channel: str, limit: int) -> list[Notice]:
        rows = self._connection.execute(
            select(notices)
            .where(notices.c.channel == channel)
            .order_by(notices.c.created_at.desc(), notices.c.notice_id.desc())
            .limit(limit)
        )
        return [_notice(row) for row in rows]

    def mark_read(self, notice_id: str, party_ids: Sequence[str], at: Any) -> int:
        result = self._connection.execute(
            update(notices)
            .where(
                notices.c.notice_id == notice_id,
                notices.c.party_id.in_(list(party_ids)),
                notices.c.read_at.is_(None),
            )
            .values(read_at=at)
        )
        return int(result.rowcount)


def _notice(row: Any) -> Notice:
    return Notice(**{name: getattr(row, name) for name in Notice.__dataclass_fields__})


__all__ = ["SqlNoticeRepository"]
