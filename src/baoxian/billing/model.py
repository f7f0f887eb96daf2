"""Orders and payment results — pure: no I/O, no clock; times are arguments.

One order per quote: the quote ID is the idempotency key, so a double submit or a retry after
a decline never opens a second order.  An order moves

```
PENDING ──claim──► CHARGING ──approved──► PAID (final)
DECLINED ──claim──►    │     ──declined──► DECLINED (a retry may claim it again)
                       └── a charge whose answer was lost stays CHARGING; after ``LEASE``
                           another request may claim it again (the gateway answers the same
                           order once, so nothing is paid twice)
```

Every change bumps ``version``; the store writes an order only over the version it read, so
of two requests that race for one order exactly one charges.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from baoxian.policies.model import Quote, QuoteStatus
from baoxian.shared.errors import ConcurrencyConflict, InvalidTransition
from baoxian.shared.money import Money

#: How long a charge may wait for the gateway's answer before another request may retry it.
LEASE = timedelta(minutes=2)


class OrderStatus(StrEnum):
    PENDING = "pending"
    CHARGING = "charging"
    DECLINED = "declined"
    PAID = "paid"


@dataclass(frozen=True, slots=True)
class Payer:
    """Who pays: the policyholder (a party of the policies context)."""

    party_id: str


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """The gateway's answer: approved with its reference, or declined with a stable code and
    a message in both languages."""

    approved: bool
    reference: str | None = None
    code: str = ""
    zh: str = ""
    en: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    """The payment of one quote's premium."""

    order_id: str
    quote_id: str
    payer_id: str
    amount: Money
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    attempts: int = 0
    version: int = 0
    reference: str | None = None
    decline_code: str | None = None
    decline_zh: str = ""
    decline_en: str = ""
    policy_number: str | None = None

    @property
    def paid(self) -> bool:
        return self.status is OrderStatus.PAID


def require_payable(quote: Quote, today: date) -> None:
    """Only an accepted quote whose cover has not started yet may be paid: paying on or after
    the start date would buy cover backdated to midnight."""
    if quote.status is QuoteStatus.ISSUED:
        raise InvalidTransition(
            "payment.quote_issued",
            "该投保申请已出单，无需再付款",
            "a policy has already been issued for this application; nothing is due",
        )
    if quote.status is not QuoteStatus.ACCEPTED:
        raise InvalidTransition(
            "payment.quote_not_accepted",
            "该投保申请未通过核保，不能付款",
            "this application was not accepted by underwriting; it cannot be paid",
            status=quote.status.value,
        )
    if quote.quotation.start_date <= today:
        raise InvalidTransition(
            "payment.quote_expired",
            "报价已过期，请重新投保",
            "this quote has expired; please apply again",
        )


def open_order(order_id: str, quote: Quote, at: datetime) -> Order:
    """A new order for the whole premium payable on the quote."""
    return Order(
        order_id=order_id,
        quote_id=quote.quote_id,
        payer_id=quote.holder_id,
        amount=quote.quotation.total_payable,
        status=OrderStatus.PENDING,
        created_at=at,
        updated_at=at,
    )


def claim(order: Order, now: datetime) -> Order:
    """This request takes the order to charge it, or learns that another request has it."""
    if order.status is OrderStatus.PAID:
        raise InvalidTransition(
            "payment.already_paid", "该订单已付款", f"order {order.order_id} is already paid"
        )
    if order.status is OrderStatus.CHARGING and now - order.updated_at < LEASE:
        raise payment_in_progress()
    return replace(
        order,
        status=OrderStatus.CHARGING,
        attempts=order.attempts + 1,
        version=order.version + 1,
        updated_at=now,
    )


def settle(order: Order, result: PaymentResult, now: datetime) -> Order:
    """The order after the gateway's answer to the charge this request claimed."""
    if order.status is not OrderStatus.CHARGING:
        raise InvalidTransition(
            "payment.not_charging",
            "该订单不在付款中",
            f"order {order.order_id} is not being charged",
        )
    if result.approved:
        return replace(
            order,
            status=OrderStatus.PAID,
            reference=result.reference,
            decline_code=None,
            decline_zh="",
            decline_en="",
            version=order.version + 1,
            updated_at=now,
        )
    return replace(
        order,
        status=OrderStatus.DECLINED,
        decline_code=result.code,
        decline_zh=result.zh,
        decline_en=result.en,
        version=order.version + 1,
        updated_at=now,
    )


def payment_in_progress() -> ConcurrencyConflict:
    return ConcurrencyConflict(
        "payment.in_progress",
        "付款正在处理中，请稍候刷新页面查看结果",
        "the payment is being processed; refresh the page in a moment to see the result",
    )


__all__ = [
    "LEASE",
    "Order",
    "OrderStatus",
    "Payer",
    "PaymentResult",
    "claim",
    "open_order",
    "payment_in_progress",
    "require_payable",
    "settle",
]
