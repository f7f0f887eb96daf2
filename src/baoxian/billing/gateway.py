"""Gateways.  Only the fake exists yet: the demo and the tests use it; a real gateway
(支付宝 / 微信支付 / UnionPay) implements :class:`~baoxian.billing.ports.PaymentGateway`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from baoxian.billing.model import Payer, PaymentResult
from baoxian.shared.money import Money

DECLINED = PaymentResult(
    approved=False,
    code="card_declined",
    zh="付款未成功：发卡行拒绝了这笔交易。请稍后重试或更换付款方式。",
    en="The payment was declined by the card issuer. Try again later or use another card.",
)


@dataclass(frozen=True, slots=True)
class Charge:
    """Money that moved: one approved charge."""

    order_id: str
    amount: Money
    payer_id: str
    reference: str


@dataclass
class FakeGateway:
    """A gateway that moves no real money.

    Rules (like a real gateway's test amounts):

    * an amount whose fen end in 99 (¥12.99, ¥100.99) is declined as ``card_declined``;
    * while ``decline_next`` is above zero, each charge is declined and counts it down (tests
      script a failure, then a successful retry);
    * otherwise the charge is approved — once per order: charging an approved order again
      returns the same approval and records no second charge.

    >>> gateway = FakeGateway()
    >>> payer = Payer("P1")
    >>> gateway.charge("O1", Money.of("195.00"), payer).approved
    True
    >>> gateway.charge("O1", Money.of("195.00"), payer).reference == gateway.charges[0].reference
    True
    >>> gateway.charge("O2", Money.of("12.99"), payer).code, len(gateway.charges)
    ('card_declined', 1)
    """

    decline_next: int = 0
    charges: list[Charge] = field(default_factory=list)
    _approved: dict[str, PaymentResult] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def charge(self, order_id: str, amount: Money, payer: Payer) -> PaymentResult:
        with self._lock:
            if order_id in self._approved:
                return self._approved[order_id]
            if self.decline_next > 0 or amount.fen % 100 == 99:
                self.decline_next = max(0, self.decline_next - 1)
                return DECLINED
            reference = f"FAKE{len(self.charges) + 1:06d}{order_id[-8:].upper()}"
            self.charges.append(Charge(order_id, amount, payer.party_id, reference))
            self._approved[order_id] = PaymentResult(approved=True, reference=reference)
            return self._approved[order_id]


__all__ = ["DECLINED", "Charge", "FakeGateway"]
