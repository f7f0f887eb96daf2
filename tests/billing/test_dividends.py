"""红利分配 over the book, on SQLite and PostgreSQL: a declared surplus shared among the
participating policies in proportion to their closing account values, to the fen (largest
remainder), written once with each policy's statement, and told to each holder."""

from __future__ import annotations

from datetime import date

import pytest

from baoxian.billing.dividends import DividendDeclarations
from baoxian.outreach.scan import run_daily
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money
from tests.billing.test_ledger_service import NOW, Book, book
from tests.store.conftest import blank_engine, cipher, engine, postgres_url

__all__ = ["blank_engine", "book", "cipher", "engine", "postgres_url"]  # fixtures

M = Money.of


def three_policies(book: Book) -> list[str]:
    """Annual PENSION-ANN policies from 1 March 2026 of 12,000, 24,000 and 6,000 a year, the
    first premium paid."""
    numbers = []
    for contribution, id17 in (
        ("12000", "11010519800101001"),
        ("24000", "11010519800101002"),
        ("6000", "11010519800101003"),
    ):
        number = book.issue(contribution, "annual", id17)
        book.ledger.schedule_policy(number)
        book.pay(number, 1)
        numbers.append(number)
    return numbers


def test_a_declared_dividend_is_shared_by_closing_value_to_the_fen(book: Book) -> None:
    numbers = three_policies(book)
    declarations = DividendDeclarations(book.engine, book.ledger)
    declared = declarations.declare("PENSION-ANN", 1, M("1000.00"), date(2027, 3, 2))

    # closing values of year 1: 11,880.00 + 239.80 interest (the year-end test's figures);
    # twice and half the premium earn 479.56 and 119.88 (interest rounded month by month)
    bases = [share.basis for share in declared.shares]
    assert bases == [M("12119.80"), M("24239.56"), M("6059.88")]
    # 100,000 fen × basis / 42,419.24 = 28,571.47 | 57,142.84 | 14,285.69: 99,998 fen rounded
    # down, the 2 left to the largest remainders (0.84 and 0.69)
    assert [share.amount for share in declared.shares] == [M("285.71"), M("571.43"), M("142.86")]
    assert declared.allocated == M("1000.00") and declared.written == 3
    stored = [book.ledger.post_year_end(n, 1).dividend for n in numbers]
    assert [(d.amount, d.option, d.allocated_on) for d in stored if d is not None] == [
        (M("285.71"), "accumulate", date(2027, 3, 1)),
        (M("571.43"), "accumulate", date(2027, 3, 1)),
        (M("142.86"), "accumulate", date(2027, 3, 1)),
    ]

    again = declarations.declare("PENSION-ANN", 1, M("1000.00"), date(2027, 3, 2))
    assert again.written == 0 and again.shares == declared.shares

    told = run_daily(book.engine, date(2027, 3, 1), now=NOW)
    assert told.by_scenario.get("dividend_allocated") == 3


def test_a_year_not_yet_ended_is_refused(book: Book) -> None:
    three_policies(book)
    declarations = DividendDeclarations(book.engine, book.ledger)
    with pytest.raises(ValidationFailed) as error:
        declarations.declare("PENSION-ANN", 1, M("1000.00"), date(2027, 2, 28))
    assert error.value.code == "billing.dividend_no_policies"
