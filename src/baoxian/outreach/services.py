"""Sending notices: a text message to a phone (in development it lands in the outbox that the
demo sign-in page shows), or a message in a customer's inbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from baoxian.outreach.model import Notice
from baoxian.outreach.repository import SqlNoticeRepository
from baoxian.shared.clock import Clock
from baoxian.shared.identity import mask_phone
from baoxian.store.crypto import FieldCipher


@dataclass(frozen=True, slots=True)
class Text:
    """A message in both languages."""

    topic: str
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str


@dataclass
class OutreachService:
    engine: Engine
    cipher: FieldCipher
    clock: Clock
    new_id: Callable[[], str]

    def send_sms(self, mobile: str, text: Text, party_id: str | None = None) -> Notice:
        """短信.  No gateway is wired yet: the message is kept in the outbox (开发发件箱)."""
        return self._add("sms", mobile, party_id, text)

    def notify(self, party_id: str, mobile: str, text: Text) -> Notice:
        """站内信 to a customer's inbox."""
        return self._add("inbox", mobile, party_id, text)

    def inbox(self, party_ids: Sequence[str], limit: int = 50) -> list[Notice]:
        with self.engine.connect() as connection:
            return SqlNoticeRepository(connection).for_parties(party_ids, limit)

    def outbox(self, limit: int = 20) -> list[Notice]:
        """The latest text messages (development and demo only — they hold sign-in codes)."""
        with self.engine.connect() as connection:
            return SqlNoticeRepository(connection).latest("sms", limit)

    def mark_read(self, notice_id: str, party_ids: Sequence[str]) -> bool:
        with self.engine.begin() as connection:
            changed = SqlNoticeRepository(connection).mark_read(notice_id, party_ids, self.clock())
        return changed == 1

    def _add(self, channel: str, mobile: str, party_id: str | None, text: Text) -> Notice:
        notice = Notice(
            self.new_id(),
            "sms" if channel == "sms" else "inbox",
            mask_phone(mobile),
            party_id,
            text.topic,
            text.subject_zh,
            text.subject_en,
            text.body_zh,
            text.body_en,
            self.clock(),
        )
        with self.engine.begin() as connection:
            SqlNoticeRepository(connection).add(notice, self.cipher.mobile_index(mobile))
        return notice


__all__ = ["OutreachService", "Text"]
