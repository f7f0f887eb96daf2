"""Claims metrics (理赔指标) by product and channel, for the dashboards.

A window selects claims by when they were reported (``since`` inclusive, ``until``
exclusive); every figure then describes that cohort as it stands now:

* counts: reported; decided (approved, declined or paid); paid; open (reported, referred or
  pending_info) — so ``reported = decided + open``;
* straight-through processing (STP, 直通率): decided without a person ÷ decided, exact;
* time from report to decision and from report to payment, p50 and p90 in whole seconds
  (nearest rank: the smallest value with at least p % of the sample at or below it);
* totals claimed, paid and outstanding reserve (未决赔款准备金), fen → ``Money``.

Counts and totals are grouped in SQL; the durations are read as timestamps and ranked in
Python, which keeps one code path for SQLite and PostgreSQL.

>>> nearest_rank([30, 10, 20, 40], 50), nearest_rank([30, 10, 20, 40], 90)
(20, 40)
>>> nearest_rank([], 50) is None
True
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, case, func, select

from baoxian.claims.case import ClaimStatus
from baoxian.claims.tables import claims
from baoxian.shared.money import Money

ALL = "*"
"""The product code and channel of the row that covers every claim."""

DECIDED = (ClaimStatus.APPROVED, ClaimStatus.DECLINED, ClaimStatus.PAID)
OPEN = (ClaimStatus.REPORTED, ClaimStatus.REFERRED, ClaimStatus.PENDING_INFO)

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Percentiles:
    """p50 and p90 of a duration in whole seconds; None when nothing was measured."""

    p50: int | None
    p90: int | None
    sample: int

    @classmethod
    def of(cls, seconds: Sequence[int]) -> Percentiles:
        return cls(nearest_rank(seconds, 50), nearest_rank(seconds, 90), len(seconds))


@dataclass(frozen=True, slots=True)
class MetricsRow:
    """The figures of one (product, channel); ``("*", "*")`` is every claim together."""

    product_code: str
    channel: str
    reported: int
    decided: int
    paid: int
    open: int
    straight_through: int
    report_to_decision: Percentiles
    report_to_payment: Percentiles
    claimed_amount: Money
    paid_amount: Money
    outstanding_reserve: Money

    @property
    def stp_rate(self) -> Fraction | None:
        """Straight-through rate, exact; None before anything is decided."""
        return None if self.decided == 0 else Fraction(self.straight_through, self.decided)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready: money as yuan strings, the STP rate as a 4-place decimal string."""
        return {
            "product_code": self.product_code,
            "channel": self.channel,
            "reported": self.reported,
            "decided": self.decided,
            "paid": self.paid,
            "open": self.open,
            "straight_through": self.straight_through,
            "stp_rate": _ratio_text(self.stp_rate),
            "report_to_decision_seconds": _percentiles_json(self.report_to_decision),
            "report_to_payment_seconds": _percentiles_json(self.report_to_payment),
            "claimed_amount": str(self.claimed_amount.amount),
            "paid_amount": str(self.paid_amount.amount),
            "outstanding_reserve": str(self.outstanding_reserve.amount),
        }


def nearest_rank(values: Sequence[int], percent: int) -> int | None:
    """The nearest-rank percentile: sorted, the value at rank ⌈percent/100 × n⌉."""
    if not values:
        return None
    rank = max(1, -(-percent * len(values) // 100))
    return sorted(values)[rank - 1]


def claims_metrics(
    source: Connection | Engine, since: datetime | None = None, until: datetime | None = None
) -> list[MetricsRow]:
    """One row per (product, channel) sorted by both, then the ``("*", "*")`` row."""
    if isinstance(source, Engine):
        with source.connect() as connection:
            return claims_metrics(connection, since, until)
    window = _window(since, until)
    counts = {(row.product_code, row.channel): row for row in source.execute(_counts(window))}
    decision, payment = _durations(source.execute(_timestamps(window)))
    rows = [_metrics_row(key, counts[key], decision[key], payment[key]) for key in sorted(counts)]
    return [*rows, _overall(rows, decision, payment)]


# --------------------------------------------------------------------------- SQL


def _window(since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware")
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(claims.c.reported_at >= since)
    if until is not None:
        conditions.append(claims.c.reported_at < until)
    return conditions


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _counts(window: list[ColumnElement[bool]]) -> Select[Any]:
    decided = claims.c.status.in_([s.value for s in DECIDED])
    return (
        select(
            claims.c.product_code,
            claims.c.channel,
            func.count().label("reported"),
            _count_where(decided).label("decided"),
            _count_where(claims.c.status == ClaimStatus.PAID.value).label("paid"),
            _count_where(claims.c.status.in_([s.value for s in OPEN])).label("open"),
            _count_where(decided & claims.c.straight_through.is_(True)).label("stp"),
            func.coalesce(func.sum(claims.c.claimed_fen), 0).label("claimed_fen"),
            func.coalesce(func.sum(claims.c.paid_fen), 0).label("paid_fen"),
            func.coalesce(func.sum(claims.c.reserve_fen), 0).label("reserve_fen"),
        )
        .where(*window)
        .group_by(claims.c.product_code, claims.c.channel)
    )


def _timestamps(window: list[ColumnElement[bool]]) -> Select[Any]:
    measured = claims.c.decided_at.is_not(None) | claims.c.paid_at.is_not(None)
    return select(
        claims.c.product_code,
        claims.c.channel,
        claims.c.status,
        claims.c.reported_at,
        claims.c.decided_at,
        claims.c.paid_at,
    ).where(measured, *window)


# --------------------------------------------------------------------------- figures

Key = tuple[str, str]
Durations = defaultdict[Key, list[int]]


def _durations(rows: Iterable[Any]) -> tuple[Durations, Durations]:
    """Seconds from report to decision (decided claims) and to payment (paid claims)."""
    decision: Durations = defaultdict(list)
    payment: Durations = defaultdict(list)
    decided = {s.value for s in DECIDED}
    for row in rows:
        key = (row.product_code, row.channel)
        if row.decided_at is not None and row.status in decided:
            decision[key].append((row.decided_at - row.reported_at) // _SECOND)
        if row.paid_at is not None and row.status == ClaimStatus.PAID.value:
            payment[key].append((row.paid_at - row.reported_at) // _SECOND)
    return decision, payment


def _metrics_row(key: Key, row: Any, decision: list[int], payment: list[int]) -> MetricsRow:
    return MetricsRow(
        product_code=key[0],
        channel=key[1],
        reported=int(row.reported),
        decided=int(row.decided),
        paid=int(row.paid),
        open=int(row.open),
        straight_through=int(row.stp),
        report_to_decision=Percentiles.of(decision),
        report_to_payment=Percentiles.of(payment),
        claimed_amount=Money.from_fen(int(row.claimed_fen)),
        paid_amount=Money.from_fen(int(row.paid_fen)),
        outstanding_reserve=Money.from_fen(int(row.reserve_fen)),
    )


def _overall(rows: list[MetricsRow], decision: Durations, payment: Durations) -> MetricsRow:
    """Counts and totals add up across groups; percentiles are ranked over every claim."""
    return MetricsRow(
        product_code=ALL,
        channel=ALL,
        reported=sum(r.reported for r in rows),
        decided=sum(r.decided for r in rows),
        paid=sum(r.paid for r in rows),
        open=sum(r.open for r in rows),
        straight_through=sum(r.straight_through for r in rows),
        report_to_decision=Percentiles.of([s for v in decision.values() for s in v]),
        report_to_payment=Percentiles.of([s for v in payment.values() for s in v]),
        claimed_amount=_money_sum(r.claimed_amount for r in rows),
        paid_amount=_money_sum(r.paid_amount for r in rows),
        outstanding_reserve=_money_sum(r.outstanding_reserve for r in rows),
    )


def _money_sum(amounts: Iterable[Money]) -> Money:
    return Money.from_fen(sum(a.fen for a in amounts))


def _ratio_text(ratio: Fraction | None) -> str | None:
    if ratio is None:
        return None
    exact = Decimal(ratio.numerator) / Decimal(ratio.denominator)
    return str(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def _percentiles_json(percentiles: Percentiles) -> dict[str, int | None]:
    return {"p50": percentiles.p50, "p90": percentiles.p90, "sample": percentiles.sample}


__all__ = ["ALL", "MetricsRow", "Percentiles", "claims_metrics", "nearest_rank"]
