"""Billing use cases: pay for a quote, then issue its policy and tell the customer.

Paying is idempotent per quote.  The order is opened once (the quote ID is unique among
orders), claimed by one request at a time (version-guarded writes), charged through the
gateway (which approves an order at most once) and, once paid, its policy is issued
(``issue_policy`` returns the same policy for the same quote) and the customer is notified
exactly once.  A crash anywhere leaves a state the next try completes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from baoxian.billing.model import (
    Order,
    Payer,
    PaymentResult,
    claim,
    open_order,
    payment_in_progress,
    require_payable,
    settle,
)
from baoxian.billing.ports import PaymentGateway
from baoxian.billing.repository import SqlOrderRepository
from baoxian.catalog.services import Catalog
from baoxian.outreach.services import OutreachService, Text
from baoxian.policies.model import Policy, Quote
from baoxian.policies.services import PolicyService
from baoxian.shared.clock import Clock, local_date


@dataclass(frozen=True, slots=True)
class Checkout:
    """What paying came to: the order and, once paid, the policy — or the gateway's decline
    (then the quote stays unissued and may be paid again)."""

    order: Order
    policy: Policy | None = None
    declined: PaymentResult | None = None


@dataclass
class BillingService:
    engine: Engine
    gateway: PaymentGateway
    policies: PolicyService
    catalog: Catalog
    outreach: OutreachService
    clock: Clock
    new_id: Callable[[], str]

    def pay(self, quote_id: str) -> Checkout:
        """Charge the premium of an accepted quote to its holder and issue the policy."""
        quote = self.policies.quote(quote_id)
        order = self.order_for(quote_id)
        if order is not None and order.paid:
            return self._issue(order)
        require_payable(quote, local_date(self.clock()))
        charging = self._claim(order or self._open(quote))
        if charging.paid:
            return self._issue(charging)
        result = self.gateway.charge(charging.order_id, charging.amount, Payer(quote.holder_id))
        settled = self._settle(charging, result)
        if settled.paid:
            return self._issue(settled)
        return Checkout(settled, declined=result)

    def order_for(self, quote_id: str) -> Order | None:
        """The quote's order, if payment was ever started."""
        with self.engine.connect() as connection:
            return SqlOrderRepository(connection).for_quote(quote_id)

    # ---------------------------------------------------------------- steps

    def _open(self, quote: Quote) -> Order:
        order = open_order(self.new_id(), quote, self.clock())
        try:
            with self.engine.begin() as connection:
                SqlOrderRepository(connection).add(order)
        except IntegrityError:  # another request opened it first: use theirs
            existing = self.order_for(quote.quote_id)
            if existing is None:  # pragma: no cover - the unique key says it exists
                raise
            return existing
        return order

    def _claim(self, order: Order) -> Order:
        """Take the order to charge it; a paid order comes back as it is."""
        claimed = claim(order, self.clock())
        with self.engine.begin() as connection:
            if SqlOrderRepository(connection).update(claimed, read_version=order.version):
                return claimed
        return self._after_losing(order)

    def _settle(self, order: Order, result: PaymentResult) -> Order:
        settled = settle(order, result, self.clock())
        with self.engine.begin() as connection:
            orders = SqlOrderRepository(connection)
            if not orders.update(settled, read_version=order.version):
                return self._after_losing(order)
            orders.record(
                settled,
                "payment.approved" if result.approved else "payment.declined",
                {
                    "quote_id": settled.quote_id,
                    "amount_fen": settled.amount.fen,
                    "attempt": settled.attempts,
                    "reference": result.reference,
                    "code": result.code or None,
                },
            )
        return settled

    def _after_losing(self, order: Order) -> Order:
        """Another request wrote the order first: its payment stands or is under way."""
        latest = self.order_for(order.quote_id)
        if latest is not None and latest.paid:
            return latest
        raise payment_in_progress()

    def _issue(self, order: Order) -> Checkout:
        policy = self.policies.issue_policy(order.quote_id)
        with self.engine.begin() as connection:
            first = SqlOrderRepository(connection).mark_issued(order.order_id, policy.policy_number)
        if first:
            self._tell_in_force(policy)
        return Checkout(replace(order, policy_number=policy.policy_number), policy)

    def _tell_in_force(self, policy: Policy) -> None:
        name = self.catalog.product(policy.product_code).name
        last_day = policy.term_end - timedelta(days=1)  # cover ends at 24:00 the day before
        self.outreach.notify(
            policy.holder_id,
            policy.contact_mobile,
            Text(
                topic="policy_issued",
                subject_zh="保单已生效",
                subject_en="Your policy is in force",
                body_zh=(
                    f"您投保的{name.zh}已成功出单，保单号 {policy.policy_number}，"
                    f"保险期间 {policy.term_start} 零时起至 {last_day} 二十四时止。"
                ),
                body_en=(
                    f"Your {name.en} policy {policy.policy_number} has been issued. "
                    f"Cover runs from {policy.term_start} 00:00 to {last_day} 24:00."
                ),
            ),
        )


__all__ = ["BillingService", "Checkout"]
