"""Orders and the fake gateway, without a database: the order's moves, the lease on a charge
whose answer was lost, and the gateway's rules."""

from __future__ import annotations

import doctest
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

import baoxian.billing.gateway
from baoxian.billing.model import (
    LEASE,
    Order,
    OrderStatus,
    PaymentResult,
    claim,
    settle,
)
from baoxian.shared.errors import ConcurrencyConflict, InvalidTransition
from baoxian.shared.money import Money

AT = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)
APPROVED = PaymentResult(approved=True, reference="R1")
DECLINED = PaymentResult(approved=False, code="card_declined", zh="拒绝", en="declined")


def _order(status: OrderStatus = OrderStatus.PENDING) -> Order:
    return Order("O1", "Q1", "P1", Money.of("195.00"), status, AT, AT)


def test_an_order_is_claimed_then_settled_each_move_bumping_its_version() -> None:
    charging = claim(_order(), AT)
    assert (charging.status, charging.attempts, charging.version) == (OrderStatus.CHARGING, 1, 1)
    paid = settle(charging, APPROVED, AT)
    assert (paid.status, paid.reference, paid.version) == (OrderStatus.PAID, "R1", 2)


def test_a_declined_order_keeps_the_reason_and_may_be_claimed_again() -> None:
    declined = settle(claim(_order(), AT), DECLINED, AT)
    assert (declined.status, declined.decline_code, declined.decline_zh) == (
        OrderStatus.DECLINED,
        "card_declined",
        "拒绝",
    )
    retried = claim(declined, AT + timedelta(seconds=5))
    assert retried.attempts == 2
    paid = settle(retried, APPROVED, AT)
    assert paid.decline_code is None and paid.decline_zh == ""


def test_a_charge_in_flight_is_left_alone_until_its_lease_runs_out() -> None:
    charging = claim(_order(), AT)
    with pytest.raises(ConcurrencyConflict) as busy:
        claim(charging, AT + LEASE - timedelta(seconds=1))
    assert busy.value.code == "payment.in_progress"
    assert claim(charging, AT + LEASE).attempts == 2


def test_a_paid_order_never_moves_again() -> None:
    paid = settle(claim(_order(), AT), APPROVED, AT)
    with pytest.raises(InvalidTransition):
        claim(paid, AT)
    with pytest.raises(InvalidTransition):
        settle(paid, DECLINED, AT)
    assert replace(paid).paid


def test_the_fake_gateways_examples_run() -> None:
    result = doctest.testmod(baoxian.billing.gateway)
    assert result.failed == 0 and result.attempted > 0
