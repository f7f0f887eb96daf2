"""The management dashboard (经营看板): the book and the claims by product, read through each
context's own queries — policies in force and premium written (the policies repository's
``summary``), claims figures (``claims_metrics``), the loss ratio, and the online servicing
rate.

* **Loss ratio** (赔付率) of a product = claims paid ÷ annual premium written (every policy
  issued, whatever its status now); None while nothing is written.
* **Online servicing rate** (保全线上替代率) = change requests submitted online ÷ all change
  requests.  Change requests are not recorded yet, so it is "not available";
  :func:`online_servicing_rate` is the one place to compute it once they are.

>>> figures = product_figures(
...     [{"product_code": "BJ-HMB", "status": "in_force", "policies": 2, "premium_fen": 39000}],
...     {"BJ-HMB": Money.of("1600")})
>>> figures[0].in_force, figures[0].loss_ratio
(2, Fraction(160, 39))
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import Engine

from baoxian.claims.metrics import ALL, MetricsRow, claims_metrics
from baoxian.policies.model import PolicyStatus
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.shared.money import Money


@dataclass(frozen=True, slots=True)
class ProductFigures:
    """One product's book and claims paid."""

    product_code: str
    in_force: int
    premium_written: Money
    claims_paid: Money

    @property
    def loss_ratio(self) -> Fraction | None:
        """Claims paid ÷ premium written, exact; None while nothing is written."""
        if self.premium_written.fen <= 0:
            return None
        return Fraction(self.claims_paid.fen, self.premium_written.fen)


@dataclass(frozen=True, slots=True)
class ServicingRate:
    """保全线上替代率: online change requests ÷ all change requests (None when unknown)."""

    online: int | None
    total: int | None

    @property
    def rate(self) -> Fraction | None:
        if self.online is None or not self.total:
            return None
        return Fraction(self.online, self.total)


@dataclass(frozen=True, slots=True)
class Dashboard:
    products: tuple[ProductFigures, ...]
    claims: tuple[MetricsRow, ...]  # by product and channel
    overall: MetricsRow
    servicing: ServicingRate


def dashboard(uow: SqlUnitOfWorkFactory, engine: Engine) -> Dashboard:
    """The figures of the whole book now: two grouped queries and the claims metrics."""
    with uow() as unit:
        summary = unit.policies.summary()
    metrics = claims_metrics(engine)
    by_channel = tuple(row for row in metrics if row.product_code != ALL)
    overall = next(row for row in metrics if row.product_code == ALL)
    return Dashboard(
        product_figures(summary, paid_by_product(by_channel)),
        by_channel,
        overall,
        online_servicing_rate(engine),
    )


def paid_by_product(rows: Iterable[MetricsRow]) -> dict[str, Money]:
    """Claims paid per product, over every channel."""
    paid: defaultdict[str, int] = defaultdict(int)
    for row in rows:
        paid[row.product_code] += row.paid_amount.fen
    return {code: Money.from_fen(fen) for code, fen in paid.items()}


def product_figures(
    summary: Iterable[Mapping[str, Any]], paid: Mapping[str, Money]
) -> tuple[ProductFigures, ...]:
    """Policies in force and premium written per product (from the book summary), with
    the claims paid; products with claims but no policies are kept too."""
    in_force: defaultdict[str, int] = defaultdict(int)
    written: defaultdict[str, int] = defaultdict(int)
    for row in summary:
        code = str(row["product_code"])
        written[code] += int(row["premium_fen"])
        if row["status"] == PolicyStatus.IN_FORCE.value:
            in_force[code] += int(row["policies"])
    codes = sorted(set(written) | set(paid))
    return tuple(
        ProductFigures(
            code, in_force[code], Money.from_fen(written[code]), paid.get(code, Money.ZERO)
        )
        for code in codes
    )


def online_servicing_rate(engine: Engine) -> ServicingRate:
    """保全线上替代率 — not available until change requests (保全申请) are recorded with the
    channel they came through; then count them here (online ÷ all)."""
    del engine
    return ServicingRate(None, None)


__all__ = [
    "Dashboard",
    "ProductFigures",
    "ServicingRate",
    "dashboard",
    "online_servicing_rate",
    "paid_by_product",
    "product_figures",
]
