"""Notices — pure.  A notice reaches a customer's inbox (站内信) or their phone (短信); every
notice carries its text in Chinese and in English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Channel = Literal["sms", "inbox"]


@dataclass(frozen=True, slots=True)
class Notice:
    notice_id: str
    channel: Channel
    mobile_masked: str
    party_id: str | None
    topic: str
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    created_at: datetime
    read_at: datetime | None = None

    @property
    def unread(self) -> bool:
        return self.read_at is None


@dataclass(frozen=True, slots=True)
class Preference:
    """How a customer wants proactive notices: channel, language, and the 关爱版 (plain
    words, no links, a hotline) for older customers.  ``address`` is the e-mail address,
    push token or URL where the channel needs one (text messages go to the policy mobile)."""

    party_id: str
    channel: str = "sms"
    locale: str = "zh"
    care: bool = False
    address: str | None = None


__all__ = ["Channel", "Notice", "Preference"]
