"""Two loans asked for at the same moment on one policy, on SQLite and PostgreSQL: the limit
(80 % of the cash value less debt) holds — one is lent, the other refused with its code —
and two repayments at once both count."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import pytest

from baoxian.billing.loans import policy_debt
from baoxian.shared.errors import DomainError
from baoxian.shared.money import Money
from tests.billing.test_ledger_service import ANNUAL, Book, book
from tests.store.conftest import blank_engine, cipher, engine, postgres_url

__all__ = ["blank_engine", "book", "cipher", "engine", "postgres_url"]  # fixtures

T = TypeVar("T")
ON = date(2026, 4, 1)


def at_once(*actions: Callable[[], T]) -> list[T | DomainError]:
    """Run the actions in threads released together; each result or its domain error."""
    start = threading.Barrier(len(actions))
    results: list[T | DomainError] = [DomainError("unset", "", "")] * len(actions)

    def run(index: int, action: Callable[[], T]) -> None:
        start.wait()
        try:
            results[index] = action()
        except DomainError as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def slow_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make each loan's read of the debt take a while, so that two requests overlap between
    reading the limit and writing the loan (the window the lock closes)."""
    real = policy_debt

    def slow(*args: Any, **kwargs: Any) -> Money:
        debt = real(*args, **kwargs)
        time.sleep(0.3)
        return debt

    monkeypatch.setattr("baoxian.billing.ledger_service.policy_debt", slow)


def test_two_loans_at_once_cannot_pass_the_limit(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow_reads(monkeypatch)
    number = book.scheduled(ANNUAL, "annual")
    book.pay(number, 1)
    assert book.ledger.cash_value(number, ON).loan_limit == Money.of("9044.13")
    results = at_once(
        lambda: book.ledger.take_loan(number, Money.of("6000.00"), ON, loan_id="L-A"),
        lambda: book.ledger.take_loan(number, Money.of("6000.00"), ON, loan_id="L-B"),
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].code == "billing.loan_exceeds_limit"
    assert len(book.ledger.loans(number)) == 1
    # 80 % of the cash value net of the debt: (11,305.17 − 6,000.00) × 80 % ↓
    assert book.ledger.cash_value(number, ON).loan_limit == Money.of("4244.13")


def test_two_repayments_at_once_both_count(book: Book) -> None:
    number = book.scheduled(ANNUAL, "annual")
    book.pay(number, 1)
    book.ledger.take_loan(number, Money.of("5000.00"), ON, loan_id="L-1")
    results = at_once(
        lambda: book.ledger.repay_loan("L-1", Money.of("1000.00"), ON, reference="R-1"),
        lambda: book.ledger.repay_loan("L-1", Money.of("1000.00"), ON, reference="R-2"),
    )
    assert not [r for r in results if isinstance(r, DomainError)]
    state = book.ledger.loan("L-1", ON)
    assert state.position.outstanding_principal == Money.of("3000.00")  # no interest: same day
    assert len(state.stored.loan.repayments) == 2
