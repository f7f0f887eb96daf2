"""Sending notices: a text message to a phone (in development it lands in the outbox that the
demo sign-in page shows), or a message in a customer's inbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from baoxian.outreach.delivery import CHANNELS
from baoxian.outreach.model import Notice, Preference
from baoxian.outreach.repository import SqlNoticeRepository
from baoxian.outreach.tables import outreach_preferences
from baoxian.policies.tables import parties
from baoxian.shared.clock import Clock
from baoxian.shared.errors import NotFound, ValidationFailed
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

    def set_preference(self, preference: Preference) -> Preference:
        """Keep a customer's channel preference (replacing the one before)."""
        _check_preference(preference)
        address = preference.address
        values = {
            "channel": preference.channel,
            "locale": preference.locale,
            "care": preference.care,
            "address_enc": None if address is None else self.cipher.encrypt(address),
            "updated_at": self.clock(),
        }
        p = outreach_preferences.c
        with self.engine.begin() as connection:
            if not connection.execute(
                select(parties.c.party_id).where(parties.c.party_id == preference.party_id)
            ).first():
                raise NotFound(
                    "party.not_found",
                    f"客户 {preference.party_id} 不存在",
                    f"customer {preference.party_id} does not exist",
                )
            changed = connection.execute(
                update(outreach_preferences)
                .where(p.party_id == preference.party_id)
                .values(**values)
            ).rowcount
            if not changed:
                connection.execute(
                    insert(outreach_preferences).values(party_id=preference.party_id, **values)
                )
        return preference

    def preference(self, party_id: str) -> Preference:
        """The customer's preference, or the default (text message in Chinese)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(outreach_preferences).where(outreach_preferences.c.party_id == party_id)
            ).one_or_none()
        if row is None:
            return Preference(party_id)
        address = None if row.address_enc is None else self.cipher.decrypt(row.address_enc)
        return Preference(party_id, row.channel, row.locale, bool(row.care), address)

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


def _check_preference(preference: Preference) -> None:
    if preference.channel not in CHANNELS:
        raise ValidationFailed(
            "outreach.unknown_channel",
            f"不支持的通知渠道 {preference.channel!r}，可选：{'、'.join(CHANNELS)}",
            f"unknown channel {preference.channel!r}; choose one of {', '.join(CHANNELS)}",
        )
    if preference.locale not in ("zh", "en"):
        raise ValidationFailed(
            "outreach.unknown_locale",
            f"不支持的语言 {preference.locale!r}，可选：zh、en",
            f"unknown language {preference.locale!r}; choose zh or en",
        )
    if preference.channel in ("email", "webhook", "push") and not preference.address:
        raise ValidationFailed(
            "outreach.address_required",
            f"通知渠道 {preference.channel} 需要填写地址",
            f"the {preference.channel} channel needs an address",
        )


__all__ = ["OutreachService", "Text"]
