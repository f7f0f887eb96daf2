"""复效 over the store: bring a lapsed policy back in force by paying its arrears with interest.

The rules are pure (``schedule.reinstatement_quote``): within the product's period after the
lapse (two years for PENSION-ANN), every premium fallen due by the reinstatement day and still
unpaid, plus simple interest from each due date at the product's arrears rate.  Here:

* :meth:`Reinstatements.quote` prices it from the ledger (nothing written);
* :meth:`Reinstatements.reinstate` charges the holder that amount through the payment gateway
  under the order ID ``REIN-{policy}-{lapse date}`` (a retry gets the first approval back and
  moves no money again), then, in one transaction, marks the arrears paid and puts the
  instalments due later back to ``due``, records the event, and reinstates the policy through
  the policies context.  A run interrupted after the charge is finished by the next call (the
  gateway answers the same order with the same approval).

Not modelled: the health declaration (健康告知) and underwriting that insurers may require on
reinstatement — a staff decision before this is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import Engine

from baoxian.billing.ledgers import LAPSED, PAID_BY_CODES, SqlLedgers
from baoxian.billing.model import Payer, PaymentResult
from baoxian.billing.ports import PaymentGateway
from baoxian.billing.schedule import ReinstatementQuote, billing_terms, reinstatement_quote
from baoxian.catalog.services import Catalog
from baoxian.policies.model import Policy, PolicyStatus
from baoxian.shared.clock import Clock, local_date
from baoxian.shared.errors import InvalidTransition


class ReinstatablePolicies(Protocol):
    """What reinstatement needs of the policies context."""

    def policy(self, policy_number: str) -> Policy: ...

    def reinstate(self, policy_number: str, effective: date) -> Policy: ...


@dataclass(frozen=True, slots=True)
class Reinstated:
    """What reinstating came to: the price paid and the policy — or the gateway's decline
    (then nothing changed and the holder may pay again)."""

    quote: ReinstatementQuote
    order_id: str
    policy: Policy
    reference: str | None = None
    declined: PaymentResult | None = None

    @property
    def in_force(self) -> bool:
        return self.policy.status is PolicyStatus.IN_FORCE


@dataclass
class Reinstatements:
    engine: Engine
    policies: ReinstatablePolicies
    catalog: Catalog
    clock: Clock
    today: Callable[[], date] | None = None

    def quote(self, policy_number: str, on: date | None = None) -> ReinstatementQuote:
        """What reinstating on ``on`` (default today) costs: arrears + interest."""
        policy = self.policies.policy(policy_number)
        return self._quote(policy, on or self._today())

    def reinstate(
        self, policy_number: str, gateway: PaymentGateway, on: date | None = None
    ) -> Reinstated:
        """Charge the arrears with interest and bring the policy back in force on ``on``."""
        on = on or self._today()
        policy = self.policies.policy(policy_number)
        price = self._quote(policy, on)
        order_id = reinstatement_order_id(policy_number, price.lapsed_on)
        reference = None
        if not price.total.is_zero():  # zero: a retry after the arrears were settled
            result = gateway.charge(order_id, price.total, Payer(policy.holder_id))
            if not result.approved:
                return Reinstated(price, order_id, policy, declined=result)
            reference = result.reference
        with self.engine.begin() as connection:
            ledgers = SqlLedgers(connection)
            ledgers.lock(f"policy:{policy_number}")
            settled = _settle_arrears(ledgers, policy_number, price)
            if settled:
                ledgers.record(
                    "policy",
                    policy_number,
                    "billing.reinstatement_paid",
                    {
                        "order_id": order_id,
                        "reference": reference,
                        "lapsed_on": price.lapsed_on.isoformat(),
                        "on": on.isoformat(),
                        "arrears_fen": price.arrears.fen,
                        "interest_fen": price.interest.fen,
                        "instalments": settled,
                    },
                    self.clock(),
                )
        reinstated = self.policies.reinstate(policy_number, on)
        return Reinstated(price, order_id, reinstated, reference)

    def _quote(self, policy: Policy, on: date) -> ReinstatementQuote:
        if policy.status is not PolicyStatus.LAPSED or policy.ended_on is None:
            raise InvalidTransition(
                "billing.not_lapsed",
                f"保单 {policy.policy_number} 未中止效力，无需复效",
                f"policy {policy.policy_number} has not lapsed: there is nothing to reinstate",
            )
        plan = self.catalog.plan(policy.product_code, policy.plan_version).plan
        with self.engine.connect() as connection:
            rows = SqlLedgers(connection).instalments(policy.policy_number)
        owed = [row.invoice() for row in rows if row.status == LAPSED]
        return reinstatement_quote(owed, policy.ended_on, on, billing_terms(plan).reinstatement)

    def _today(self) -> date:
        return self.today() if self.today is not None else local_date(self.clock())


def reinstatement_order_id(policy_number: str, lapsed_on: date) -> str:
    """The gateway order of a reinstatement: one per lapse, so a retry charges once.

    >>> reinstatement_order_id("PENANN202600000001", date(2026, 8, 1))
    'REIN-PENANN202600000001-20260801'
    """
    return f"REIN-{policy_number}-{lapsed_on:%Y%m%d}"


def _settle_arrears(
    ledgers: SqlLedgers, policy_number: str, price: ReinstatementQuote
) -> list[int]:
    """The lapsed instalments due by the reinstatement day → paid by the customer; the later
    ones → ``due`` again.  Returns the instalments paid ([] when a retry finds them paid)."""
    paid_by = PAID_BY_CODES["payment"]
    settled = []
    for row in ledgers.instalments(policy_number):
        if row.status != LAPSED:
            continue
        if row.due_on <= price.on:
            if ledgers.record_payment(policy_number, row.seq, price.on, paid_by, (LAPSED,)):
                settled.append(row.seq)
        else:
            ledgers.set_status(policy_number, row.seq, "due", (LAPSED,))
    return settled


__all__ = ["ReinstatablePolicies", "Reinstated", "Reinstatements", "reinstatement_order_id"]
