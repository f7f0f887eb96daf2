"""The management dashboard (经营看板): the book and the claims by product, read through each
context's own queries — policies in force and premium written (the policies repository's
``summary``), claims figures (``claims_metrics``), the loss ratio, and the online servicing
rate (the change-request service's ``channel_counts``).

* **Loss ratio** (赔付率) of a product = claims paid ÷ annual premium written (every policy
  issued, whatever its status now); None while nothing is written.
* **Online servicing rate** (保全线上替代率) = change requests the customer submitted online
  (the portal or a 慧保全 link) ÷ all change requests (online + entered by staff), every
  status counted; None while there are none.

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
from baoxian.policies.requests_service import ChangeRequestService
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
    """保全线上替代率: online change requests ÷ all change requests.

    >>> ServicingRate(2, 3).rate, ServicingRate(0, 0).rate
    (Fraction(2, 3), None)
    """

    online: int
    total: int

    @property
    def rate(self) -> Fraction | None:
        """Exact; None while there are no change requests."""
        if self.total <= 0:
            return None
        return Fraction(self.online, self.total)


@dataclass(frozen=True, slots=True)
class Dashboard:
    products: tuple[ProductFigures, ...]
    claims: tuple[MetricsRow, ...]  # by product and channel
    overall: MetricsRow
    servicing: ServicingRate


def dashboard(
    uow: SqlUnitOfWorkFactory, engine: Engine, changes: ChangeRequestService
) -> Dashboard:
    """The figures of the whole book now: three grouped queries and the claims metrics."""
    with uow() as unit:
        summary = unit.policies.summary()
    metrics = claims_metrics(engine)
    by_channel = tuple(row for row in metrics if row.product_code != ALL)
    overall = next(row for row in metrics if row.product_code == ALL)
    return Dashboard(
        product_figures(summary, paid_by_product(by_channel)),
        by_channel,
        overall,
        online_servicing_rate(changes),
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


def online_servicing_rate(changes: ChangeRequestService) -> ServicingRate:
    """保全线上替代率: change requests by the customer online ÷ all change requests."""
    counts = changes.channel_counts()
    return ServicingRate(counts.online, counts.total)


__all__ = [
    "Dashboard",
    "ProductFigures",
    "ServicingRate",
    "dashboard",
    "online_servicing_rate",
    "paid_by_product",
    "product_figures",
]
