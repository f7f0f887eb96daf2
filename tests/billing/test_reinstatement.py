"""复效 over the store, on SQLite and PostgreSQL: a PENSION-ANN policy that lapsed for an
unpaid monthly premium is priced (arrears + simple interest at 5 % a year, ACT/365, per
premium), charged once through the gateway and brought back in force; the later premiums are
due again; a declined charge, a retry and the product's two-year limit behave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from baoxian.billing.model import Payer
from baoxian.billing.reinstatement import Reinstatements, reinstatement_order_id
from baoxian.policies.model import Policy, PolicyStatus
from baoxian.policies.services import PolicyService
from baoxian.shared.errors import InvalidTransition
from baoxian.shared.money import Money
from baoxian.store.tables import events
from tests.billing.test_ledger_service import Book, book
from tests.store.conftest import blank_engine, cipher, engine, postgres_url

__all__ = ["blank_engine", "book", "cipher", "engine", "postgres_url"]  # fixtures

M = Money.of
LAPSED_ON = date(2026, 6, 1)
ON = date(2026, 7, 15)


def lapsed(book: Book) -> str:
    """A monthly policy (2,000.00) paid for March only: instalment 2 (1 April) is unpaid at
    the end of grace (31 May), the cash value cannot lend it, the policy lapses on 1 June."""
    number = book.scheduled()
    book.pay(number, 1)
    assert book.ledger.run_billing_day(LAPSED_ON).policies_lapsed == (number,)
    return number


def service(book: Book) -> Reinstatements:
    return Reinstatements(book.engine, book.policies, book.ledger.catalog, book.ledger.clock)


def test_reinstating_pays_the_arrears_with_interest_and_brings_the_policy_back(
    book: Book,
) -> None:
    number = lapsed(book)
    price = service(book).quote(number, ON)
    # due 1 April, 1 May, 1 June and 1 July; 2,000.00 × 5 % × days / 365 each
    assert [(line.due_on, line.days, line.interest) for line in price.lines] == [
        (date(2026, 4, 1), 105, M("28.77")),
        (date(2026, 5, 1), 75, M("20.55")),
        (date(2026, 6, 1), 44, M("12.05")),
        (date(2026, 7, 1), 14, M("3.84")),
    ]
    assert (price.arrears, price.interest, price.total) == (M("8000.00"), M("65.21"), M("8065.21"))

    done = service(book).reinstate(number, book.gateway, ON)
    assert done.in_force and done.declined is None
    assert [(c.order_id, c.amount) for c in book.gateway.charges[-1:]] == [
        (reinstatement_order_id(number, LAPSED_ON), M("8065.21"))
    ]
    policy = book.policies.policy(number)
    assert (policy.status, policy.ended_on) == (PolicyStatus.IN_FORCE, None)
    statuses = {row.seq: (row.status, row.paid_by) for row in book.ledger.instalments(number)}
    assert [statuses[seq] for seq in (2, 5)] == [("paid", "customer"), ("paid", "customer")]
    assert statuses[6] == ("due", None) and statuses[12] == ("due", None)
    position = book.ledger.premium_position(number, ON)
    assert (position.due, position.paid, position.outstanding) == (
        M("10000.00"),
        M("10000.00"),
        M("0.00"),
    )
    with book.engine.connect() as connection:
        recorded = connection.execute(
            events.select().where(events.c.event_type == "billing.reinstatement_paid")
        ).one()
    assert recorded.payload["instalments"] == [2, 3, 4, 5]
    assert (recorded.payload["arrears_fen"], recorded.payload["interest_fen"]) == (800000, 6521)

    # the next premium is paid as usual, and the policy is not lapsed again for the old one
    assert book.ledger.pay_instalment(number, 6, book.gateway, date(2026, 8, 1)).paid
    assert book.ledger.run_billing_day(date(2026, 8, 2)).policies_lapsed == ()


def test_a_declined_charge_changes_nothing_and_a_retry_charges_once(book: Book) -> None:
    number = lapsed(book)
    book.gateway.decline_next = 1
    declined = service(book).reinstate(number, book.gateway, ON)
    assert declined.declined is not None and not declined.in_force
    assert book.policies.policy(number).status is PolicyStatus.LAPSED
    assert {row.status for row in book.ledger.instalments(number) if row.seq > 1} == {"lapsed"}

    first = service(book).reinstate(number, book.gateway, ON)
    assert first.in_force
    charged = len(book.gateway.charges)
    with pytest.raises(InvalidTransition) as error:  # in force again: nothing to reinstate
        service(book).reinstate(number, book.gateway, ON)
    assert error.value.code == "billing.not_lapsed"
    assert len(book.gateway.charges) == charged


def test_a_charge_the_store_never_heard_of_is_not_taken_twice(book: Book) -> None:
    number = lapsed(book)
    reinstatements = service(book)
    # the gateway approved the order, then the process died before anything was written
    price = reinstatements.quote(number, ON)
    order = reinstatement_order_id(number, LAPSED_ON)
    holder = Payer(book.policies.policy(number).holder_id)
    assert book.gateway.charge(order, price.total, holder).approved
    assert reinstatements.reinstate(number, book.gateway, ON).in_force
    assert [c.order_id for c in book.gateway.charges].count(order) == 1


@dataclass
class DiesOnce:
    """The policies service, dying the first time it is asked to reinstate."""

    inner: PolicyService
    died: bool = False

    def policy(self, policy_number: str) -> Policy:
        return self.inner.policy(policy_number)

    def reinstate(self, policy_number: str, effective: date) -> Policy:
        if not self.died:
            self.died = True
            raise RuntimeError("process died")
        return self.inner.reinstate(policy_number, effective)


def test_a_crash_after_the_ledger_is_finished_by_the_next_call(book: Book) -> None:
    number = lapsed(book)
    policies = DiesOnce(book.policies)
    reinstatements = Reinstatements(book.engine, policies, book.ledger.catalog, book.ledger.clock)
    with pytest.raises(RuntimeError):
        reinstatements.reinstate(number, book.gateway, ON)
    assert book.policies.policy(number).status is PolicyStatus.LAPSED
    charged = len(book.gateway.charges)
    again = reinstatements.reinstate(number, book.gateway, ON)
    assert again.in_force and again.quote.total == M("0.00")  # the arrears were paid
    assert len(book.gateway.charges) == charged


def test_reinstatement_ends_two_years_after_the_lapse(book: Book) -> None:
    number = lapsed(book)
    with pytest.raises(InvalidTransition) as error:
        service(book).quote(number, date(2028, 6, 1))
    assert error.value.code == "billing.reinstatement_period_over"
    assert service(book).quote(number, date(2028, 5, 31)).total > M("0")
