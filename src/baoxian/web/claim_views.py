"""What the claim pages of the portal and the console show, shaped for templates: the
explanation of benefits with money, the timeline of a claim, and the desks both edges call.

Only presentation lives here: nothing decides, nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from baoxian.bootstrap import App
from baoxian.catalog.schema import Product
from baoxian.claims.case import ClaimCase
from baoxian.claims.desk import ClaimDesk
from baoxian.claims.reasons import step_texts
from baoxian.customers import CustomerDesk
from baoxian.policies.ports import Event
from baoxian.shared.money import Money

CUSTOMER_HIDDEN = frozenset({"claim.assigned"})
"""Events a customer's timeline leaves out (internal work)."""


def claim_desk(app: App) -> ClaimDesk:
    """The claims desk over the process's services."""
    return ClaimDesk(
        app.claims, app.documents, app.policies, app.catalog, app.outreach, app.identity
    )


def customer_desk(app: App) -> CustomerDesk:
    return CustomerDesk(app.policies, app.claims, app.outreach, app.identity)


@dataclass(frozen=True, slots=True)
class EobStep:
    zh: str
    en: str
    reduction: Money


@dataclass(frozen=True, slots=True)
class EobItem:
    item: str
    coverage_zh: str
    coverage_en: str
    claimed: Money
    payable: Money
    steps: tuple[EobStep, ...]


@dataclass(frozen=True, slots=True)
class Eob:
    """The explanation of benefits (理赔计算书) line by line."""

    claimed: Money
    payable: Money
    reasons: tuple[EobStep, ...]
    items: tuple[EobItem, ...]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    kind: str
    at: datetime
    data: Mapping[str, Any]

    def money(self, key: str) -> Money:
        """An amount stored in fen in the event (``amount_fen``, ``payable_fen``)."""
        return Money.from_fen(int(self.data.get(key, 0)))


def eob_view(case: ClaimCase, product: Product | None) -> Eob | None:
    """The stored EOB with money and the coverages' names; None before a decision."""
    if case.eob is None:
        return None
    names = coverage_names(product)
    return Eob(
        Money.from_fen(int(case.eob["claimed_fen"])),
        Money.from_fen(int(case.eob["payable_fen"])),
        tuple(_step(s) for s in case.eob.get("reasons", [])),
        tuple(_item(i, names) for i in case.eob.get("items", [])),
    )


def coverage_names(product: Product | None) -> dict[str, tuple[str, str]]:
    """Coverage code → (zh, en) over every plan version of the product."""
    if product is None:
        return {}
    return {c.code: (c.name.zh, c.name.en) for v in product.versions for c in v.coverages}


def _step(data: Mapping[str, Any]) -> EobStep:
    return EobStep(*step_texts(data), Money.from_fen(int(data["reduction_fen"])))


def _item(data: Mapping[str, Any], names: Mapping[str, tuple[str, str]]) -> EobItem:
    coverage = str(data.get("coverage") or "")
    zh, en = names.get(coverage, (coverage or "—", coverage or "—"))
    return EobItem(
        str(data["item"]),
        zh,
        en,
        Money.from_fen(int(data["claimed_fen"])),
        Money.from_fen(int(data["payable_fen"])),
        tuple(_step(s) for s in data.get("steps", [])),
    )


def timeline(events: Sequence[Event], customer: bool) -> list[TimelineEntry]:
    """The claim's history oldest first; a customer's leaves out internal events."""
    return [
        TimelineEntry(e.event_type, e.occurred_at, dict(e.payload))
        for e in events
        if not (customer and e.event_type in CUSTOMER_HIDDEN)
    ]


def info_request(events: Sequence[Event]) -> tuple[str, str] | None:
    """What was last asked of the customer (zh, en), if anything."""
    for event in reversed(events):
        if event.event_type == "claim.info_requested":
            return str(event.payload.get("what_zh", "")), str(event.payload.get("what_en", ""))
    return None


def duration(seconds: int | None, zh: bool) -> str:
    """A duration in plain units.

    >>> duration(45, False), duration(5400, False), duration(5400, True), duration(None, True)
    ('45 s', '1.5 h', '1.5 小时', '—')
    """
    if seconds is None:
        return "—"
    for limit, size, unit_zh, unit_en in _UNITS:
        if seconds < limit:
            value = seconds / size
            text = f"{value:.0f}" if size == 1 else f"{value:.1f}"
            return f"{text} {unit_zh if zh else unit_en}"
    raise AssertionError("unreachable")


_UNITS = (
    (60, 1, "秒", "s"),
    (3600, 60, "分钟", "min"),
    (86400, 3600, "小时", "h"),
    (float("inf"), 86400, "天", "d"),
)


__all__ = [
    "CUSTOMER_HIDDEN",
    "Eob",
    "EobItem",
    "EobStep",
    "TimelineEntry",
    "claim_desk",
    "coverage_names",
    "customer_desk",
    "duration",
    "eob_view",
    "info_request",
    "timeline",
]
