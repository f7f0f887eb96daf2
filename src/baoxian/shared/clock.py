"""Time: always timezone-aware; shown in Asia/Shanghai.  Clocks are passed in, never read
from a global inside the domain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    if at.tzinfo is None:
        raise ValueError("clocks are timezone-aware")
    return lambda: at


def local_date(at: datetime) -> date:
    """The calendar date in Shanghai of an instant."""
    return at.astimezone(SHANGHAI).date()


def add_months(start: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    for day in range(start.day, 27, -1):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return date(year, month, start.day)


def days_between(start: date, end: date) -> int:
    return (end - start).days
