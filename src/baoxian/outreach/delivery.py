"""Delivery rules of proactive notices — pure: quiet hours, back-off, what a channel port
receives and answers.  No I/O, no clock: ``now`` is an argument.

Quiet hours (免打扰时段): text messages and app pushes are not sent between 21:00 and 08:00
China time; a notice that falls due in that window waits for its end.  E-mail, the inbox
(站内信) and partners' webhooks are not held back (nobody's phone rings).

Back-off: a channel that fails for a passing reason is tried again after 1 minute, then 5,
30, 120 minutes and 12 hours; after the sixth failure the notice is marked failed for the
service desk.  A permanent refusal (an invalid number, an unsubscribed address) fails at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

ChannelName = Literal["sms", "email", "push", "webhook", "inbox"]
CHANNELS: tuple[ChannelName, ...] = ("sms", "email", "push", "webhook", "inbox")

CHINA = ZoneInfo("Asia/Shanghai")

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
"""Waits before the 2nd … 6th attempt; after the 6th failure a notice has failed."""


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window (local time) in which the ``channels`` stay silent; ``start`` after
    ``end`` means the window spans midnight."""

    start: time = time(21, 0)
    end: time = time(8, 0)
    zone: ZoneInfo = CHINA
    channels: frozenset[str] = field(default_factory=lambda: frozenset({"sms", "push"}))

    def release(self, now: datetime, channel: str) -> datetime | None:
        """When a notice for ``channel`` may go out if it is due ``now``: ``None`` for at
        once, else the end of the quiet window (an aware datetime in UTC's offset of ``now``).

        >>> from datetime import UTC
        >>> quiet = QuietHours()
        >>> quiet.release(datetime(2026, 12, 1, 14, 0, tzinfo=UTC), "sms")  # 22:00 in Beijing
        datetime.datetime(2026, 12, 2, 0, 0, tzinfo=datetime.timezone.utc)
        >>> quiet.release(datetime(2026, 12, 1, 14, 0, tzinfo=UTC), "email") is None
        True
        >>> quiet.release(datetime(2026, 12, 2, 1, 0, tzinfo=UTC), "sms") is None  # 09:00
        True
        """
        if channel not in self.channels or self.start == self.end:
            return None
        local = now.astimezone(self.zone)
        clock = local.time()
        spans_midnight = self.start > self.end
        inside = (
            (clock >= self.start or clock < self.end)
            if spans_midnight
            else (self.start <= clock < self.end)
        )
        if not inside:
            return None
        day = local.date()
        if spans_midnight and clock >= self.start:
            day += timedelta(days=1)
        opens = datetime.combine(day, self.end, tzinfo=self.zone)
        return opens.astimezone(now.tzinfo)


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to try again after the ``attempts``-th failure (1-based), or ``None`` when it
    was the last.

    >>> from datetime import UTC
    >>> next_attempt(1, datetime(2026, 12, 2, tzinfo=UTC))
    datetime.datetime(2026, 12, 2, 0, 1, tzinfo=datetime.timezone.utc)
    >>> next_attempt(len(RETRY_DELAYS) + 1, datetime(2026, 12, 2, tzinfo=UTC)) is None
    True
    """
    if attempts < 1:
        raise ValueError("attempts count from 1")
    if attempts > len(RETRY_DELAYS):
        return None
    return now + RETRY_DELAYS[attempts - 1]


# --------------------------------------------------------------------------- the port


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What a channel is asked to deliver.  ``key`` is the notice's deduplication key and is
    passed to the provider as its idempotency key (client message ID)."""

    key: str
    channel: str
    address: str
    locale: str
    subject: str
    body: str
    party_id: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """The provider's acknowledgement of one message."""

    key: str
    provider_ref: str
    accepted_at: datetime


class ChannelError(Exception):
    """A channel could not take a message; ``transient`` says whether trying later may help."""

    def __init__(self, detail: str, *, transient: bool) -> None:
        super().__init__(detail)
        self.detail = detail[:300]
        self.transient = transient


class ChannelPort(Protocol):
    """A delivery channel (SMS gateway, mail server, push service, webhook, inbox).

    ``send`` delivers once per key: a provider that receives a key again answers the first
    receipt.  ``lookup`` answers whether a key was accepted — what a worker asks after a
    crash left a notice half-sent, before it sends anything."""

    def send(self, message: OutgoingMessage) -> Receipt: ...

    def lookup(self, key: str) -> Receipt | None: ...


__all__ = [
    "CHANNELS",
    "CHINA",
    "RETRY_DELAYS",
    "ChannelError",
    "ChannelName",
    "ChannelPort",
    "OutgoingMessage",
    "QuietHours",
    "Receipt",
    "next_attempt",
]
