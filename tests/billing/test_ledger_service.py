"""The billing ledgers written from real policies, on SQLite and PostgreSQL: PENSION-ANN
policies issued through the policies service, their premium schedules, payments through the
fake gateway, the billing day (grace, automatic premium loan, lapse), policy loans, the year
end of the account and the pension — every amount to the fen — and the daily scan of
proactive service reading what the service wrote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from sqlalchemy import Engine, Table, func, select

from baoxian.billing.gateway import FakeGateway
from baoxian.billing.ledger_service import LedgerService, instalment_order_id
from baoxian.billing.ledger_tables import billing_instalments, policy_loans
from baoxian.billing.loans import LoanKind
from baoxian.billing.model import Payer
from baoxian.billing.services import BillingService
from baoxian.catalog.services import Catalog
from baoxian.outreach.scan import run_daily
from baoxian.outreach.services import OutreachService
from baoxian.outreach.tables import outreach_outbox
from baoxian.policies.model import PolicyStatus
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.clock import fixed_clock
from baoxian.shared.errors import InvalidTransition, NotFound, ValidationFailed
from baoxian.shared.money import Money, total
from baoxian.store.crypto import FieldCipher
from baoxian.store.tables import events
from tests.store.conftest import blank_engine, cipher, engine, postgres_url, resident_id

__all__ = ["blank_engine", "cipher", "engine", "postgres_url"]  # the store's fixtures

NOW = datetime(2026, 2, 15, 2, 0, tzinfo=UTC)
START = date(2026, 3, 1)
MONTHLY = "24000"  # 2,000.00 a month
ANNUAL = "12000"


@dataclass
class Book:
    """A store with the policies service, the ledger service and a fake gateway."""

    engine: Engine
    policies: PolicyService
    ledger: LedgerService
    gateway: FakeGateway

    def issue(self, contribution: str, instalment: str, id17: str = "11010519800101001") -> str:
        """Quote and issue a PENSION-ANN policy on one person (holder = insured)."""
        person = self.policies.register_person("王建国", resident_id(id17), "13812345678")
        command = QuoteInput(
            "PENSION-ANN",
            person.party_id,
            START,
            (InsuredInput("person", person.party_id),),
            selections={"pension": Money.of(contribution)},
            instalment=instalment,
        )
        quote = self.policies.create_quote(command)
        return self.policies.issue_policy(quote.quote_id).policy_number

    def scheduled(self, contribution: str = MONTHLY, instalment: str = "monthly") -> str:
        number = self.issue(contribution, instalment)
        self.ledger.schedule_policy(number)
        return number

    def pay(self, number: str, *seqs: int) -> None:
        """Pay each instalment on its due date."""
        due = {row.seq: row.due_on for row in self.ledger.instalments(number)}
        for seq in seqs:
            assert self.ledger.pay_instalment(number, seq, self.gateway, due[seq]).paid

    def instalment(self, number: str, seq: int) -> dict[str, object]:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(billing_instalments).where(
                    billing_instalments.c.policy_number == number,
                    billing_instalments.c.seq == seq,
                )
            ).one()
        return dict(row._mapping)

    def loan_row(self, loan_id: str) -> dict[str, object]:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(policy_loans).where(policy_loans.c.loan_id == loan_id)
            ).one()
        return dict(row._mapping)

    def count(self, table: Table) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(table)) or 0)


@pytest.fixture
def book(engine: Engine, cipher: FieldCipher, catalog: Catalog) -> Book:
    clock = fixed_clock(NOW)

    def new_id() -> str:
        return uuid4().hex

    policies = PolicyService(SqlUnitOfWorkFactory(engine, cipher, clock), catalog, clock, new_id)
    ledger = LedgerService(engine, policies, catalog, clock, new_id)
    return Book(engine, policies, ledger, FakeGateway())


# --------------------------------------------------------------------------- schedule


def test_a_schedule_written_twice_is_written_once(book: Book) -> None:
    number = book.issue(MONTHLY, "monthly")
    first = book.ledger.schedule_policy(number)
    assert first.written == 12
    assert [row.seq for row in first.instalments] == list(range(1, 13))
    assert {row.amount for row in first.instalments} == {Money.of("2000.00")}
    assert total([row.amount for row in first.instalments]) == Money.of("24000.00")
    assert (first.instalments[0].due_on, first.instalments[0].grace_until) == (
        date(2026, 3, 1),
        date(2026, 4, 30),
    )
    assert (first.instalments[-1].due_on, first.instalments[-1].grace_until) == (
        date(2027, 2, 1),
        date(2027, 4, 2),
    )
    assert {row.status for row in first.instalments} == {"due"}

    again = book.ledger.schedule_policy(number)
    assert again.written == 0 and again.instalments == first.instalments
    assert book.count(billing_instalments) == 12

    five_years = book.ledger.schedule_policy(number, years=5)  # 交费期间 5 years: 48 more
    assert five_years.written == 48 and len(five_years.instalments) == 60
    assert five_years.instalments[:12] == first.instalments


def test_a_premium_paid_at_the_online_checkout_is_scheduled_as_paid(
    book: Book, cipher: FieldCipher, catalog: Catalog
) -> None:
    clock = fixed_clock(NOW)
    outreach = OutreachService(book.engine, cipher, clock, lambda: uuid4().hex)
    shop = BillingService(
        book.engine, book.gateway, book.policies, catalog, outreach, clock, lambda: uuid4().hex
    )
    person = book.policies.register_person(
        "王建国", resident_id("11010519810415031"), "13812345678", medical_insurance_city="110000"
    )
    insured = InsuredInput("person", person.party_id, facts={"medical_insurance_city": "110000"})
    quote = book.policies.create_quote(
        QuoteInput("BJ-HMB", person.party_id, date(2026, 2, 16), (insured,))
    )
    checkout = shop.pay(quote.quote_id)
    assert checkout.policy is not None
    scheduled = book.ledger.schedule_policy(checkout.policy.policy_number)
    (row,) = scheduled.instalments  # annual: one premium, paid at the checkout (10:00 in Beijing)
    assert (row.amount, row.paid, row.paid_on, row.paid_by, row.status) == (
        Money.of("195.00"),
        Money.of("195.00"),
        date(2026, 2, 15),
        "customer",
        "paid",
    )
    assert len(book.gateway.charges) == 1
    assert run_daily(book.engine, date(2026, 2, 16), now=NOW).by_scenario == {}


def test_a_term_the_product_does_not_offer_is_refused(book: Book) -> None:
    number = book.issue(MONTHLY, "monthly")
    with pytest.raises(ValidationFailed) as error:
        book.ledger.schedule_policy(number, years=3)
    assert error.value.code == "billing.payment_years_not_offered"
    assert book.count(billing_instalments) == 0


# --------------------------------------------------------------------------- paying


def test_a_payment_retried_after_a_crash_charges_once(book: Book) -> None:
    number = book.scheduled()
    paid = book.ledger.pay_instalment(number, 1, book.gateway, START)
    assert paid.paid and paid.order_id == f"INST-{number}-1"
    again = book.ledger.pay_instalment(number, 1, book.gateway, START)  # double submit
    assert again.paid and again.reference is None
    assert len(book.gateway.charges) == 1

    # the gateway approved instalment 2, then the process died before the ledger was written
    holder = book.policies.policy(number).holder_id
    lost = book.gateway.charge(instalment_order_id(number, 2), Money.of("2000.00"), Payer(holder))
    assert book.instalment(number, 2)["status"] == "due"
    retried = book.ledger.pay_instalment(number, 2, book.gateway, date(2026, 4, 1))
    assert retried.paid and retried.reference == lost.reference
    assert [c.order_id for c in book.gateway.charges] == [f"INST-{number}-1", f"INST-{number}-2"]
    assert sum(c.amount.fen for c in book.gateway.charges) == 400000

    row = book.instalment(number, 2)
    assert (row["paid_fen"], row["paid_on"], row["paid_by"], row["status"]) == (
        200000,
        date(2026, 4, 1),
        "customer",
        "paid",
    )
    with book.engine.connect() as connection:
        paid_events = connection.scalar(
            select(func.count()).where(events.c.event_type == "instalment.paid")
        )
    assert paid_events == 2


def test_a_declined_charge_leaves_the_instalment_unpaid(book: Book) -> None:
    number = book.scheduled()
    book.gateway.decline_next = 1
    declined = book.ledger.pay_instalment(number, 1, book.gateway, START)
    assert not declined.paid and declined.declined is not None
    assert declined.declined.code == "card_declined"
    assert declined.declined.zh.startswith("付款未成功") and "declined" in declined.declined.en
    row = book.instalment(number, 1)
    assert (row["paid_fen"], row["paid_on"], row["paid_by"], row["status"]) == (
        0,
        None,
        None,
        "due",
    )
    assert book.gateway.charges == []

    assert book.ledger.pay_instalment(number, 1, book.gateway, START).paid
    assert len(book.gateway.charges) == 1


def test_an_instalment_cannot_be_paid_after_its_grace_period_or_before_it_exists(
    book: Book,
) -> None:
    number = book.scheduled()
    with pytest.raises(InvalidTransition) as late:
        book.ledger.pay_instalment(number, 1, book.gateway, date(2026, 5, 1))
    assert late.value.code == "billing.grace_period_over"
    assert "2026-04-30" in late.value.zh and "reinstatement" in late.value.en
    with pytest.raises(NotFound) as missing:
        book.ledger.pay_instalment(number, 13, book.gateway, START)
    assert missing.value.code == "billing.instalment_not_found"
    assert book.gateway.charges == []


def test_premiums_due_equal_paid_plus_outstanding_in_the_store(book: Book) -> None:
    number = book.scheduled()
    book.pay(number, 1, 2, 3)
    for on in (date(2026, 2, 28), START, date(2026, 4, 15), date(2026, 7, 1), date(2027, 3, 1)):
        position = book.ledger.premium_position(number, on)
        assert position.due == position.paid + position.outstanding
        with book.engine.connect() as connection:
            i = billing_instalments.c
            due_fen = connection.scalar(
                select(func.coalesce(func.sum(i.amount_fen), 0)).where(
                    i.policy_number == number, i.due_on <= on
                )
            )
            paid_fen = connection.scalar(
                select(func.coalesce(func.sum(i.paid_fen), 0)).where(
                    i.policy_number == number, i.due_on <= on, i.paid_on <= on
                )
            )
        assert (position.due.fen, position.paid.fen) == (due_fen, paid_fen)
    july = book.ledger.premium_position(number, date(2026, 7, 1))
    assert (july.due, july.paid, july.outstanding) == (
        Money.of("10000.00"),
        Money.of("6000.00"),
        Money.of("4000.00"),
    )


# --------------------------------------------------------------------------- the billing day


def test_the_billing_day_starts_grace_and_a_rerun_changes_nothing(book: Book) -> None:
    number = book.scheduled()
    book.pay(number, 1)
    day = book.ledger.run_billing_day(date(2026, 4, 2))  # instalment 2 was due on 1 April
    assert (day.into_grace, day.premium_loans, day.lapsed, day.loans_overdue) == (1, (), (), 0)
    assert book.instalment(number, 2)["status"] == "in_grace"
    assert book.instalment(number, 3)["status"] == "due"
    again = book.ledger.run_billing_day(date(2026, 4, 2))
    assert (again.into_grace, again.premium_loans, again.lapsed) == (0, (), ())
    # paying in grace is paying
    assert book.ledger.pay_instalment(number, 2, book.gateway, date(2026, 5, 31)).paid


def drawn_loans(book: Book) -> list[tuple[str, int]]:
    """The ``loan.premium_loan_drawn`` events: (loan ID, principal in fen)."""
    with book.engine.connect() as connection:
        rows = connection.execute(
            select(events.c.aggregate_id, events.c.payload).where(
                events.c.event_type == "loan.premium_loan_drawn"
            )
        ).all()
    return [(row.aggregate_id, row.payload["principal_fen"]) for row in rows]


def test_grace_end_pays_the_premium_by_an_automatic_premium_loan(book: Book) -> None:
    number = book.scheduled()
    book.pay(number, 1, 2, 3)  # instalment 4, due 1 June, is never paid
    # the cash value on the last day of grace (31 July): 3 × 1,980.00 credited plus interest
    # at 2% credited monthly (3.36, 6.52, 10.11, 9.80, 10.14) = 5,979.93, less the 5%
    # surrender charge of policy year 1 (299.00)
    value = book.ledger.cash_value(number, date(2026, 7, 31))
    assert (value.account_value, value.cash_value, value.debt, value.loan_limit) == (
        Money.of("5979.93"),
        Money.of("5680.93"),
        Money.ZERO,
        Money.of("4544.74"),
    )
    assert book.ledger.run_billing_day(date(2026, 7, 31)).premium_loans == ()  # still in grace

    day = book.ledger.run_billing_day(date(2026, 8, 1))
    (settled,) = day.premium_loans
    assert (settled.seq, settled.amount, settled.loan_id) == (
        4,
        Money.of("2000.00"),
        f"APL-{number}-4",
    )
    assert day.lapsed == () and day.policies_lapsed == ()
    loan = book.loan_row(f"APL-{number}-4")
    assert {k: loan[k] for k in ("kind", "principal_fen", "annual_rate_bp", "start_on")} == {
        "kind": "auto_premium_loan",
        "principal_fen": 200000,
        "annual_rate_bp": 500,
        "start_on": date(2026, 7, 31),  # drawn on the last day of grace
    }
    assert (loan["due_on"], loan["repaid_fen"], loan["interest_paid_fen"], loan["status"]) == (
        date(2027, 1, 31),
        0,
        0,
        "open",
    )
    row = book.instalment(number, 4)
    assert (row["paid_fen"], row["paid_on"], row["paid_by"], row["status"]) == (
        200000,
        date(2026, 7, 31),
        "auto_loan",
        "paid",
    )
    assert book.policies.policy(number).status is PolicyStatus.IN_FORCE

    assert drawn_loans(book) == [(f"APL-{number}-4", 200000)]  # the event, in the same write

    rerun = book.ledger.run_billing_day(date(2026, 8, 1))
    assert (rerun.premium_loans, rerun.lapsed, rerun.into_grace) == ((), (), 0)
    assert book.count(policy_loans) == 1
    assert len(drawn_loans(book)) == 1
    # the premium paid by the loan is in the account; the loan is debt
    after = book.ledger.cash_value(number, date(2026, 8, 1))
    # + 1,980.00 on 31 July, which earns a day's interest in July's credit (0.11)
    assert after.account_value == Money.of("7960.04")
    assert after.debt == Money.of("2000.27")  # 2,000.00 × 5% × 1 / 365 = 0.27

    # the loan falls overdue after its due date
    overdue = book.ledger.run_billing_day(date(2027, 2, 1))
    assert overdue.loans_overdue == 1
    assert book.loan_row(f"APL-{number}-4")["status"] == "overdue"


def test_grace_end_lapses_the_policy_when_the_cash_value_cannot_pay(book: Book) -> None:
    number = book.scheduled()
    book.pay(number, 1)  # instalment 2, due 1 April, is never paid; grace ends 31 May
    day = book.ledger.run_billing_day(date(2026, 6, 1))
    (lapsed,) = day.lapsed
    assert (lapsed.seq, lapsed.amount, lapsed.lapses_on) == (
        2,
        Money.of("2000.00"),
        START.replace(month=6),
    )
    assert lapsed.refusal is not None
    assert lapsed.refusal.code == "billing.apl_insufficient_cash_value"
    # 1,980.00 + 3.36 + 3.26 + 3.37 interest = 1,989.99, less 99.50 surrender charge
    assert "1,890.49" in lapsed.refusal.zh and "2,000.00" in lapsed.refusal.en
    assert day.premium_loans == () and day.policies_lapsed == (number,)
    assert day.instalments_lapsed == 11  # every unpaid instalment lapses with the policy
    assert book.instalment(number, 2)["status"] == "lapsed"
    assert book.instalment(number, 12)["status"] == "lapsed"
    assert book.instalment(number, 1)["status"] == "paid"
    assert book.count(policy_loans) == 0

    policy = book.policies.policy(number)
    assert (policy.status, policy.ended_on) == (PolicyStatus.LAPSED, date(2026, 6, 1))
    rerun = book.ledger.run_billing_day(date(2026, 6, 1))
    assert (rerun.lapsed, rerun.policies_lapsed, rerun.instalments_lapsed) == ((), (), 0)
    with pytest.raises(InvalidTransition) as error:
        book.ledger.pay_instalment(number, 3, book.gateway, date(2026, 6, 2))
    assert error.value.code == "billing.instalment_not_payable"


def test_a_rerun_after_a_crash_between_the_policy_lapse_and_the_ledger_finishes_it(
    book: Book,
) -> None:
    number = book.scheduled()
    book.pay(number, 1)
    book.policies.lapse(number, date(2026, 6, 1))  # the first step ran, then the process died
    day = book.ledger.run_billing_day(date(2026, 6, 1))
    (lapsed,) = day.lapsed
    assert lapsed.refusal is not None and lapsed.refusal.code == "billing.apl_policy_not_in_force"
    assert day.policies_lapsed == () and day.instalments_lapsed == 11
    assert book.instalment(number, 2)["status"] == "lapsed"


# --------------------------------------------------------------------------- loans


def test_loan_interest_accrues_act_365_and_repayments_pay_interest_first(book: Book) -> None:
    number = book.scheduled(ANNUAL, "annual")
    book.pay(number, 1)  # 12,000.00 on 1 March: 11,880.00 in the account
    on = date(2026, 4, 1)
    # cash value: 11,880.00 + 20.18 interest − 595.01 surrender charge = 11,305.17; 80 % ↓
    assert book.ledger.cash_value(number, on).loan_limit == Money.of("9044.13")
    with pytest.raises(ValidationFailed) as error:
        book.ledger.take_loan(number, Money.of("9044.14"), on)
    assert error.value.code == "billing.loan_exceeds_limit"
    assert error.value.details["limit"] == "9044.13"

    taken = book.ledger.take_loan(number, Money.of("9000.00"), on, loan_id="L-1")
    assert (taken.stored.loan.kind, taken.stored.status, taken.stored.loan.due_on) == (
        LoanKind.POLICY,
        "open",
        date(2026, 10, 1),
    )
    assert book.ledger.take_loan(number, Money.of("9000.00"), on, loan_id="L-1") == taken
    assert book.count(policy_loans) == 1

    # 1 July: 9,000.00 × 5% × 91 / 365 = 112.19 interest, then 887.81 principal
    repaid = book.ledger.repay_loan("L-1", Money.of("1000.00"), date(2026, 7, 1), "R-1")
    last = repaid.stored.loan.repayments[-1]
    assert (last.to_interest, last.to_principal) == (Money.of("112.19"), Money.of("887.81"))
    assert book.ledger.repay_loan("L-1", Money.of("1000.00"), date(2026, 7, 1), "R-1") == repaid

    # 1 October: + 8,112.19 × 5% × 92 / 365 = 102.24
    position = book.ledger.loan("L-1", date(2026, 10, 1)).position
    assert (position.accrued_interest, position.balance) == (
        Money.of("214.43"),
        Money.of("8214.43"),
    )
    row = book.loan_row("L-1")
    assert (row["principal_fen"], row["repaid_fen"], row["interest_paid_fen"]) == (
        900000,
        88781,
        11219,
    )
    # balance = principal + accrued interest − repayments, from the stored row
    stored_balance = (
        Money.from_fen(int(str(row["principal_fen"])))
        + position.accrued_interest
        - Money.from_fen(int(str(row["repaid_fen"])) + int(str(row["interest_paid_fen"])))
    )
    assert stored_balance == position.balance


def test_a_renewal_carries_the_balance_into_a_new_loan(book: Book) -> None:
    number = book.scheduled(ANNUAL, "annual")
    book.pay(number, 1)
    book.ledger.take_loan(number, Money.of("9000.00"), date(2026, 4, 1), loan_id="L-1")
    book.ledger.repay_loan("L-1", Money.of("1000.00"), date(2026, 7, 1), "R-1")

    outcome = book.ledger.renew_loan("L-1", date(2026, 9, 25))
    assert outcome.refusal is None and outcome.renewed is not None
    renewed = outcome.renewed.loan
    assert (renewed.principal, renewed.drawn_on, renewed.due_on) == (
        Money.of("8214.43"),
        date(2026, 10, 1),
        date(2027, 4, 1),
    )
    carried = outcome.loan.loan.repayments[-1]
    assert carried.by_renewal and carried.reference == renewed.loan_id
    assert (carried.to_interest, carried.to_principal) == (
        Money.of("102.24"),
        Money.of("8112.19"),
    )
    old = book.loan_row("L-1")
    assert (old["status"], old["repaid_fen"], old["interest_paid_fen"]) == (
        "renewed",
        900000,
        21443,
    )
    assert book.loan_row(renewed.loan_id)["status"] == "open"

    again = book.ledger.renew_loan("L-1", date(2026, 9, 26))
    assert again.renewed is not None and again.renewed.loan_id == renewed.loan_id
    assert book.count(policy_loans) == 2
    assert book.ledger.run_billing_day(date(2026, 10, 2)).loans_overdue == 0


def test_a_refused_renewal_is_recorded_with_its_code_and_the_loan_falls_overdue(
    book: Book,
) -> None:
    number = book.scheduled(ANNUAL, "annual")
    book.pay(number, 1)
    book.ledger.take_loan(number, Money.of("9044.13"), date(2026, 4, 1), loan_id="L-MAX")
    outcome = book.ledger.renew_loan("L-MAX", date(2026, 10, 1))
    assert outcome.renewed is None and outcome.refusal is not None
    assert outcome.refusal.code == "billing.renewal_exceeds_limit"
    # 9,044.13 + 9,044.13 × 5% × 183 / 365 = 9,270.85 owed; the limit on 1 October is 80 % of
    # (12,020.01 − 601.00) = 9,135.20
    assert "9,270.85" in outcome.refusal.zh and "9,135.20" in outcome.refusal.en
    row = book.loan_row("L-MAX")
    assert (row["renewal_failure_code"], row["renewal_failed_on"], row["status"]) == (
        "billing.renewal_exceeds_limit",
        date(2026, 10, 1),
        "open",
    )
    assert book.count(policy_loans) == 1

    scan = run_daily(book.engine, date(2026, 10, 1), now=NOW)
    assert scan.by_scenario.get("loan_renewal_failed") == 1
    assert book.ledger.run_billing_day(date(2026, 10, 2)).loans_overdue == 1
    assert book.loan_row("L-MAX")["status"] == "overdue"
    assert run_daily(book.engine, date(2026, 10, 2), now=NOW).by_scenario.get("loan_overdue") == 1


# --------------------------------------------------------------------------- account products


def test_the_year_end_writes_the_statement_and_dividend_once(book: Book) -> None:
    number = book.scheduled(ANNUAL, "annual")
    book.pay(number, 1)
    closed = book.ledger.post_year_end(number, 1, Money.of("120.00"), "accumulate")
    statement = closed.statement
    # 11,880.00 and twelve monthly credits at 2 % (20.18 in March … 18.57 in February)
    assert (statement.opening.amount, statement.closing.amount) == (
        Money.ZERO,
        Money.of("12119.80"),
    )
    movements = {line.code: line.amount for line in statement.movements}
    assert (movements["premium"], movements["initial_charge"]) == (
        Money.of("12000.00"),
        Money.of("-120.00"),
    )
    assert movements["guaranteed_interest"] == Money.of("239.80")
    assert statement.opening.amount + total(list(movements.values())) == statement.closing.amount
    assert (closed.stored_statement.ready_on, closed.stored_statement.closing) == (
        date(2027, 3, 1),
        Money.of("12119.80"),
    )
    assert closed.dividend is not None and closed.written
    assert (closed.dividend.amount, closed.dividend.option, closed.dividend.allocated_on) == (
        Money.of("120.00"),
        "accumulate",
        date(2027, 3, 1),
    )

    again = book.ledger.post_year_end(number, 1, Money.of("120.00"), "accumulate")
    assert not again.written and again.stored_statement == closed.stored_statement

    second = book.ledger.post_year_end(number, 2).statement  # the dividend is in year 2
    lines = {line.code: line.amount for line in second.movements}
    assert second.opening.amount == Money.of("12119.80")
    assert (lines["premium"], lines["dividend"]) == (Money.ZERO, Money.of("120.00"))
    assert second.opening.amount + total(list(lines.values())) == second.closing.amount


def test_a_pension_writes_its_payouts_once_and_the_scan_tells_them(book: Book) -> None:
    number = book.issue(ANNUAL, "annual", id17="11010519660520001")  # a man, 59 at issue
    book.ledger.schedule_policy(number)
    book.pay(number, 1)
    pension = book.ledger.post_pension(
        number, date(2027, 3, 1), "lifelong", "monthly", date(2027, 5, 1)
    )
    # 12,119.80 converted at 42.49 per 10,000 a month (age 60, man) = 51.50
    assert (pension.plan.converted_value, pension.plan.amount) == (
        Money.of("12119.80"),
        Money.of("51.50"),
    )
    assert [p.due_on for p in pension.payouts] == [
        date(2027, 3, 1),
        date(2027, 4, 1),
        date(2027, 5, 1),
    ]
    assert pension.written == 3
    later = book.ledger.post_pension(
        number, date(2027, 3, 1), "lifelong", "monthly", date(2027, 6, 1)
    )
    assert later.written == 1
    rows = book.ledger.payouts(number)
    assert [(r.kind, r.amount, r.status) for r in rows] == [
        ("annuity", Money.of("51.50"), "collectable")
    ] * 4

    scan = run_daily(book.engine, date(2027, 3, 1), now=NOW)
    assert scan.by_scenario.get("benefit_collectable") == 1
    assert book.ledger.collect_payout(rows[0].payout_id, date(2027, 3, 2))
    assert not book.ledger.collect_payout(rows[0].payout_id, date(2027, 3, 2))
    assert book.ledger.payouts(number)[0].status == "collected"


# --------------------------------------------------------------------------- the scan


def _outbox(engine: Engine) -> list[tuple[str, str, str]]:
    o = outreach_outbox.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(o.dedup_key, o.reason_code, o.reason_zh).order_by(o.dedup_key)
        )
        return [(row.dedup_key, row.reason_code, row.reason_zh) for row in rows]


def test_the_daily_scan_reminds_the_premiums_the_service_wrote(book: Book) -> None:
    number = book.scheduled()
    book.pay(number, 1)
    first = run_daily(book.engine, date(2026, 3, 17), now=NOW)  # 15 days before 1 April
    assert first.by_scenario == {"renewal_due": 1} and first.written == 1
    assert _outbox(book.engine) == [
        (
            f"renewal_due:{number}:2:2026-04-01:T-15",
            "renewal_due.upcoming",
            f"保单 {number} 第2期保费 2,000.00 元将于 2026-04-01 到期",
        )
    ]
    assert run_daily(book.engine, date(2026, 3, 17), now=NOW).written == 0

    book.ledger.run_billing_day(date(2026, 4, 2))
    in_grace = run_daily(book.engine, date(2026, 4, 2), now=NOW)
    assert in_grace.by_scenario == {"renewal_due": 1}
    told = {key: (code, zh) for key, code, zh in _outbox(book.engine)}
    assert told[f"renewal_due:{number}:2:2026-04-01:D+1"] == (
        "renewal_due.in_grace",
        f"保单 {number} 第2期保费 2,000.00 元已于 2026-04-01 到期未交，宽限期至 2026-05-31",
    )
    book.pay(number, 2)  # paid: its grace-ending reminder (G-7, 24 May) never comes
    assert run_daily(book.engine, date(2026, 5, 24), now=NOW).by_scenario == {}
    assert run_daily(book.engine, date(2026, 4, 16), now=NOW).written == 1  # instalment 3
    assert f"renewal_due:{number}:3:2026-05-01:T-15" in {key for key, _, _ in _outbox(book.engine)}


def test_the_scan_tells_an_automatic_premium_loan_on_the_billing_day(book: Book) -> None:
    number = book.scheduled()
    book.pay(number, 1, 2, 3)
    book.ledger.run_billing_day(date(2026, 8, 1))
    # the loan is dated the last day of grace (31 July), the day before the billing day that
    # draws it: that day's scan still tells of it, once
    scan = run_daily(book.engine, date(2026, 8, 1), now=NOW)
    assert scan.by_scenario.get("premium_auto_loan") == 1
    assert f"premium_auto_loan:APL-{number}-4" in [key for key, _, _ in _outbox(book.engine)]
    assert "premium_auto_loan" not in run_daily(book.engine, date(2026, 8, 2), now=NOW).by_scenario
