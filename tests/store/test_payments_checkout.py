"""Paying for a quote against SQLite and PostgreSQL: one order per quote, one charge, one
policy and one notice — after a decline and a retry, a double submit, two racing requests,
and a gateway answer lost in a crash."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, func, select

from baoxian.billing.gateway import FakeGateway
from baoxian.billing.model import LEASE, OrderStatus, Payer, PaymentResult
from baoxian.billing.services import BillingService
from baoxian.billing.tables import payment_orders
from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.outreach.services import OutreachService
from baoxian.policies.model import QuoteStatus
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.errors import ConcurrencyConflict, InvalidTransition
from baoxian.shared.money import Money
from baoxian.store.crypto import FieldCipher
from baoxian.store.tables import events
from tests.store.conftest import NOW, resident_id

CATALOG = Path(__file__).resolve().parents[2] / "catalog"
START = date(2026, 2, 16)  # the day after NOW in Shanghai


@dataclass
class Clock:
    """A clock the test moves."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Shop:
    policies: PolicyService
    billing: BillingService
    outreach: OutreachService
    gateway: FakeGateway
    clock: Clock
    engine: Engine

    def quote(self, beijing: bool = True, id17: str = "11010519810415031") -> str:
        person = self.policies.register_person(
            "王建国", resident_id(id17), "13812345678", medical_insurance_city="110000"
        )
        facts = {"medical_insurance_city": "110000" if beijing else ""}
        insured = (InsuredInput("person", person.party_id, facts=facts),)
        command = QuoteInput("BJ-HMB", person.party_id, START, insured)
        return self.policies.create_quote(command).quote_id

    def orders(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(payment_orders)) or 0)

    def payment_events(self) -> list[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(events.c.event_type)
                .where(events.c.aggregate_type == "order")
                .order_by(events.c.id)
            )
            return [row.event_type for row in rows]


def _shop(engine: Engine, cipher: FieldCipher, gateway: FakeGateway) -> Shop:
    clock = Clock()
    catalog = Catalog(CatalogRepository(CATALOG))

    def new_id() -> str:
        return uuid4().hex

    policies = PolicyService(SqlUnitOfWorkFactory(engine, cipher, clock), catalog, clock, new_id)
    outreach = OutreachService(engine, cipher, clock, new_id)
    billing = BillingService(engine, gateway, policies, catalog, outreach, clock, new_id)
    return Shop(policies, billing, outreach, gateway, clock, engine)


@pytest.fixture
def shop(engine: Engine, cipher: FieldCipher) -> Shop:
    return _shop(engine, cipher, FakeGateway())


def test_paying_issues_the_policy_and_paying_again_changes_nothing(shop: Shop) -> None:
    quote_id = shop.quote()
    first = shop.billing.pay(quote_id)
    assert first.policy is not None and first.declined is None
    assert first.order.status is OrderStatus.PAID and first.order.amount == Money.of("195.00")
    assert first.policy.premium_charged == Money.of("195.00")
    again = shop.billing.pay(quote_id)
    assert again.policy == first.policy and again.order.order_id == first.order.order_id
    assert len(shop.gateway.charges) == 1 and shop.orders() == 1
    assert shop.policies.quote(quote_id).status is QuoteStatus.ISSUED
    assert shop.payment_events() == ["payment.approved"]
    inbox = shop.outreach.inbox([first.policy.holder_id])
    assert [(n.subject_zh, n.subject_en) for n in inbox] == [
        ("保单已生效", "Your policy is in force")
    ]
    assert first.policy.policy_number in inbox[0].body_zh
    assert "2026-02-16 零时起至 2027-02-15 二十四时止" in inbox[0].body_zh


def test_a_declined_charge_leaves_the_quote_unissued_until_a_retry_pays(shop: Shop) -> None:
    quote_id = shop.quote()
    shop.gateway.decline_next = 1
    declined = shop.billing.pay(quote_id)
    assert declined.policy is None and declined.declined is not None
    assert declined.declined.code == "card_declined"
    assert declined.order.status is OrderStatus.DECLINED and declined.order.attempts == 1
    assert shop.policies.quote(quote_id).status is QuoteStatus.ACCEPTED
    stored = shop.billing.order_for(quote_id)
    assert stored == declined.order
    paid = shop.billing.pay(quote_id)
    assert paid.policy is not None and paid.order.attempts == 2
    assert paid.order.decline_code is None and paid.order.reference is not None
    assert len(shop.gateway.charges) == 1 and shop.orders() == 1
    assert shop.payment_events() == ["payment.declined", "payment.approved"]


def test_an_amount_ending_in_99_fen_is_declined_by_the_fake() -> None:
    gateway = FakeGateway()
    assert not gateway.charge("O1", Money.of("100.99"), Payer("P")).approved
    assert gateway.charge("O2", Money.of("100.98"), Payer("P")).approved


def test_a_declined_or_referred_quote_cannot_be_paid(shop: Shop) -> None:
    quote_id = shop.quote(beijing=False)
    with pytest.raises(InvalidTransition) as refused:
        shop.billing.pay(quote_id)
    assert refused.value.code == "payment.quote_not_accepted"
    assert shop.orders() == 0 and shop.gateway.charges == []


def test_a_quote_cannot_be_paid_once_its_cover_would_have_started(shop: Shop) -> None:
    quote_id = shop.quote()
    shop.clock.now = NOW + timedelta(days=1)  # now it is the start date in Shanghai
    with pytest.raises(InvalidTransition) as expired:
        shop.billing.pay(quote_id)
    assert expired.value.code == "payment.quote_expired"
    assert shop.gateway.charges == []


class _FlakyNetwork(FakeGateway):
    """The gateway charges, but until the network is back its answer never arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.network_up = False

    def charge(self, order_id: str, amount: Money, payer: Payer) -> PaymentResult:
        result = super().charge(order_id, amount, payer)
        if not self.network_up:
            raise ConnectionError("the gateway timed out")
        return result


def test_a_charge_whose_answer_was_lost_is_completed_by_a_later_try_without_paying_twice(
    engine: Engine, cipher: FieldCipher
) -> None:
    flaky = _FlakyNetwork()
    shop = _shop(engine, cipher, flaky)
    quote_id = shop.quote()
    with pytest.raises(ConnectionError):
        shop.billing.pay(quote_id)
    order = shop.billing.order_for(quote_id)
    assert order is not None and order.status is OrderStatus.CHARGING
    with pytest.raises(ConcurrencyConflict) as busy:  # within the lease: still in progress
        shop.billing.pay(quote_id)
    assert busy.value.code == "payment.in_progress"
    assert shop.policies.quote(quote_id).status is QuoteStatus.ACCEPTED

    shop.clock.now = NOW + LEASE + timedelta(seconds=1)
    flaky.network_up = True
    paid = shop.billing.pay(quote_id)
    assert paid.policy is not None and paid.order.attempts == 2
    assert len(flaky.charges) == 1  # the gateway approved the order once
    assert shop.payment_events() == ["payment.approved"]


class _SlowGateway(FakeGateway):
    """Holds every charge until both racing requests have reached the store."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self.barrier = barrier
        self.calls = 0

    def charge(self, order_id: str, amount: Money, payer: Payer) -> PaymentResult:
        self.calls += 1
        self.barrier.wait(timeout=10)
        return super().charge(order_id, amount, payer)


def test_two_racing_requests_charge_once_and_issue_one_policy(
    engine: Engine, cipher: FieldCipher
) -> None:
    barrier = threading.Barrier(2)
    gateway = _SlowGateway(barrier)
    shop = _shop(engine, cipher, gateway)
    quote_id = shop.quote()
    outcomes: list[str] = []

    def submit() -> None:
        try:
            checkout = shop.billing.pay(quote_id)
            outcomes.append("paid" if checkout.policy else "declined")
        except ConcurrencyConflict as conflict:
            outcomes.append(conflict.code)
            barrier.wait(timeout=10)  # let the winner's charge go through

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in _joined(threads):
        assert not thread.is_alive()
    assert sorted(outcomes) == ["paid", "payment.in_progress"]
    assert gateway.calls == 1 and len(gateway.charges) == 1 and shop.orders() == 1
    assert shop.billing.pay(quote_id).policy is not None  # a refresh finds the policy
    holder = shop.policies.quote(quote_id).holder_id
    assert len(shop.policies.policies_held_by([holder])) == 1
    assert len(shop.outreach.inbox([holder])) == 1


def _joined(threads: list[threading.Thread]) -> Iterator[threading.Thread]:
    for thread in threads:
        thread.join(timeout=30)
        yield thread
