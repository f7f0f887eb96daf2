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


__all__ = ["Channel", "Notice"]
