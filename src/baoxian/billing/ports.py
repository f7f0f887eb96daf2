"""The port billing needs from the outside world: a payment gateway."""

from __future__ import annotations

from typing import Protocol

from baoxian.billing.model import Payer, PaymentResult
from baoxian.shared.money import Money


class PaymentGateway(Protocol):
    """Charges a payer for an order.

    The contract (that of a merchant order number at a real gateway): charging an order the
    gateway has already approved returns that approval again and moves no money; a declined
    order may be charged again.
    """

    def charge(self, order_id: str, amount: Money, payer: Payer) -> PaymentResult: ...
