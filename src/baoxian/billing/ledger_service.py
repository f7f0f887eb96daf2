"""Billing ledger use cases (收付费台账): the pure billing rules applied to real policies and
written to the ledgers that the daily scan of proactive service reads.

* :meth:`LedgerService.schedule_policy` — the premium schedule of an issued policy (a first
  premium paid at an online checkout is recorded as paid).
* :meth:`LedgerService.pay_instalment` — charge one instalment through the
  :class:`~baoxian.billing.ports.PaymentGateway` under the order ID ``INST-{policy}-{期次}``,
  so a retried payment never charges twice; a declined charge leaves it unpaid.
* :meth:`LedgerService.run_billing_day` — the daily job: ``due`` → ``in_grace`` and loans
  past due → ``overdue`` (one statement each), then every instalment whose grace period has
  ended is paid by an automatic premium loan (保单垫交) or lapses with its policy.
* Loans — :meth:`~LedgerService.take_loan`, :meth:`~LedgerService.repay_loan` (interest
  first), :meth:`~LedgerService.renew_loan` (a refusal is recorded with its stable code).
* Account products — :meth:`~LedgerService.post_year_end` (statement and dividend),
  :meth:`~LedgerService.post_pension` and :meth:`~LedgerService.post_survival_benefits`
  (pay-outs), :meth:`~LedgerService.collect_payout`.

Each use case is one transaction (``engine.begin()``) and idempotent on retry: rows are keyed
(instalment by policy and 期次, loan by ID, repayment by reference, pay-out by its key,
dividend and statement by policy year) and state moves are guarded by the state read.  The
one exception is the lapse of a policy: the policies context changes its status in its own
transaction, *before* the billing day writes the ledger, so a crash in between is repaired by
running the day again (the policy, now lapsed, lapses its instalments).

The account value — what a policy loan, a premium loan and the cash value rest on — is
rebuilt from the ledger: the premiums paid (less the initial charge), the dividends left to
accumulate and the monthly interest, at the settlement rate declared for the month
(``settlement_rates``, keyed by the first day of the month) or else the guaranteed rate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Protocol
from uuid import NAMESPACE_URL, uuid5

from sqlalchemy import Engine

from baoxian.billing.account import (
    Account,
    DividendShare,
    Statement,
    annual_statement,
    cash_value,
    credit_dividend,
    credit_premium,
    month_end,
    open_account,
    policy_year_period,
    settle_dividend,
    settle_month,
)
from baoxian.billing.annuity import (
    AnnuityPlan,
    PayoutFrequency,
    annuity_payouts,
    start_annuity,
    survival_benefits,
)
from baoxian.billing.ledger_tables import UNPAID_STATUSES
from baoxian.billing.ledgers import (
    LAPSED,
    LOAN_STATUS_CODES,
    PAID,
    PAID_BY_CODES,
    SqlLedgers,
    StoredDividend,
    StoredInstalment,
    StoredLoan,
    StoredPayout,
    StoredStatement,
    stored_instalment,
)
from baoxian.billing.loans import (
    LoanPosition,
    PolicyLoan,
    Refusal,
    end_of_grace,
    max_loanable,
    policy_debt,
    renew_loan,
    repay,
    take_loan,
)
from baoxian.billing.model import Payer, PaymentResult
from baoxian.billing.payables import Payable
from baoxian.billing.ports import PaymentGateway
from baoxian.billing.schedule import (
    Invoice,
    Payment,
    PremiumPosition,
    apply_payment,
    billing_terms,
    frequency_of,
    grace_end,
    open_invoices,
    premium_position,
    premium_schedule,
    schedule_for_policy,
)
from baoxian.catalog.schema import AccountTerms, DividendOption, PlanVersion
from baoxian.catalog.services import Catalog
from baoxian.policies.model import Party, Person, Policy, PolicyStatus
from baoxian.shared.clock import Clock, add_months, local_date
from baoxian.shared.errors import InvalidTransition, NotFound, ValidationFailed
from baoxian.shared.money import Money, total

LOAN_ID_LENGTH = 36


class PolicyPort(Protocol):
    """What the ledger needs from the policies context (``PolicyService`` has it)."""

    def policy(self, policy_number: str) -> Policy: ...

    def party(self, party_id: str) -> Party: ...

    def lapse(self, policy_number: str, effective: date) -> Policy: ...


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Scheduled:
    """The policy's instalments after scheduling; ``written`` were new."""

    policy_number: str
    written: int
    instalments: tuple[StoredInstalment, ...]


@dataclass(frozen=True, slots=True)
class InstalmentPayment:
    """Paying an instalment came to: the instalment as it now stands and the gateway's
    reference — or its decline (the instalment stays unpaid and may be paid again)."""

    instalment: StoredInstalment
    order_id: str
    reference: str | None = None
    declined: PaymentResult | None = None

    @property
    def paid(self) -> bool:
        return self.instalment.status == PAID


@dataclass(frozen=True, slots=True)
class GraceSettlement:
    """An instalment unpaid at the end of its grace period: paid by the automatic premium
    ``loan``, or lapsed (with the refusal that says why no loan paid it)."""

    policy_number: str
    seq: int
    amount: Money
    loan: PolicyLoan | None = None
    lapses_on: date | None = None
    refusal: Refusal | None = None

    @property
    def lapsed(self) -> bool:
        return self.loan is None

    @property
    def loan_id(self) -> str | None:
        return None if self.loan is None else self.loan.loan_id


@dataclass(frozen=True, slots=True)
class BillingDay:
    """What the billing day did: instalments into grace, loans overdue, instalments paid by
    premium loans, instalments lapsed and the policies the policies context lapsed."""

    on: date
    into_grace: int
    loans_overdue: int
    premium_loans: tuple[GraceSettlement, ...]
    lapsed: tuple[GraceSettlement, ...]
    instalments_lapsed: int
    policies_lapsed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LoanState:
    """A loan as the ledger holds it and its position on ``position.on``."""

    stored: StoredLoan
    position: LoanPosition


@dataclass(frozen=True, slots=True)
class RenewalOutcome:
    """续贷: the old loan and the renewed one — or the refusal recorded on the old loan."""

    loan: StoredLoan
    renewed: StoredLoan | None = None
    refusal: Refusal | None = None


@dataclass(frozen=True, slots=True)
class CashValue:
    """A policy's account value, cash value, loan debt and loan limit on ``on``."""

    on: date
    account_value: Money
    cash_value: Money
    debt: Money
    loan_limit: Money


@dataclass(frozen=True, slots=True)
class YearEnd:
    """A policy year closed: its statement (投资报告) and dividend (红利), as stored; ``written``
    is False when a previous run had written them."""

    statement: Statement
    stored_statement: StoredStatement
    dividend: StoredDividend | None
    written: bool


@dataclass(frozen=True, slots=True)
class PensionPayouts:
    """The pension bought at the start date and the pay-outs due up to ``through``."""

    plan: AnnuityPlan
    payouts: tuple[Payable, ...]
    written: int


# --------------------------------------------------------------------------- the service


@dataclass
class LedgerService:
    """The billing ledger's use cases, wired to the store, the policies context, the
    catalogue and a clock."""

    engine: Engine
    policies: PolicyPort
    catalog: Catalog
    clock: Clock
    new_id: Callable[[], str]
    settlement_rates: Mapping[date, Decimal] = field(default_factory=dict)

    # ---------------------------------------------------------------- schedule and pay

    def schedule_policy(self, policy_number: str, years: int = 1) -> Scheduled:
        """Write the premium schedule of an issued policy: the current term's (``years`` = 1)
        or ``years`` policy years of a premium-paying term the product offers.  Instalments
        already written are left alone, so scheduling again writes nothing."""
        policy = self.policies.policy(policy_number)
        _require_in_force(policy, "billing.schedule_policy_not_in_force", "建立交费计划")
        plan = self._plan(policy)
        terms = billing_terms(plan)
        schedule = (
            schedule_for_policy(policy, plan)
            if years == 1
            else premium_schedule(
                policy.policy_number,
                policy.term_start,
                policy.premium_charged,
                frequency_of(plan, policy.instalment),
                years,
                terms,
            )
        )
        with self.engine.begin() as connection:
            ledgers = SqlLedgers(connection)
            known = ledgers.scheduled_seqs(policy_number)
            invoices = _paid_at_checkout(open_invoices(schedule), ledgers, policy_number)
            new = [
                stored_instalment(invoice, grace_end(invoice.due_on, terms.grace_days))
                for invoice in invoices
                if invoice.instalment.number not in known
            ]
            ledgers.add_instalments(new)
            rows = ledgers.instalments(policy_number)
        return Scheduled(policy_number, len(new), tuple(rows))

    def pay_instalment(
        self,
        policy_number: str,
        seq: int,
        gateway: PaymentGateway,
        on: date | None = None,
    ) -> InstalmentPayment:
        """Charge the holder for an instalment (what is outstanding on it) and record it
        paid.  The gateway order ID is ``INST-{policy}-{seq}``: a retry after a lost answer
        or a crash gets the first approval back and moves no money again."""
        on = on or self._today()
        order_id = instalment_order_id(policy_number, seq)
        stored = self._instalment(policy_number, seq)
        if stored.status == PAID:
            return InstalmentPayment(stored, order_id)
        _require_payable(stored, on)
        policy = self.policies.policy(policy_number)
        result = gateway.charge(order_id, stored.outstanding, Payer(policy.holder_id))
        if not result.approved:
            return InstalmentPayment(stored, order_id, declined=result)
        with self.engine.begin() as connection:
            ledgers = SqlLedgers(connection)
            # accepted even if the billing day lapsed it meanwhile: the money has moved
            moved = (*UNPAID_STATUSES, LAPSED)
            if ledgers.record_payment(policy_number, seq, on, PAID_BY_CODES["payment"], moved):
                ledgers.record(
                    "instalment",
                    f"{policy_number}:{seq}",
                    "instalment.paid",
                    {
                        "order_id": order_id,
                        "amount_fen": stored.outstanding.fen,
                        "reference": result.reference,
                        "paid_on": on.isoformat(),
                    },
                    self.clock(),
                )
            paid = ledgers.instalment(policy_number, seq)
        assert paid is not None
        return InstalmentPayment(paid, order_id, result.reference)

    def premium_position(self, policy_number: str, on: date) -> PremiumPosition:
        """The premiums fallen due by ``on``, paid and outstanding (due = paid + outstanding)."""
        with self.engine.connect() as connection:
            rows = SqlLedgers(connection).instalments(policy_number)
        return premium_position([row.invoice() for row in rows], on)

    def instalments(self, policy_number: str) -> list[StoredInstalment]:
        with self.engine.connect() as connection:
            return SqlLedgers(connection).instalments(policy_number)

    # ---------------------------------------------------------------- the billing day

    def run_billing_day(self, on: date) -> BillingDay:
        """The daily job for ``on`` (run after the end of the previous day).

        1. Read the instalments whose grace period ended before ``on`` and are unpaid, with
           their policies' ledgers (set-based), and settle each: an automatic premium loan
           from the cash value net of debt on the last day of grace when the product offers
           it and the policy is in force — or the lapse of the policy from the day after.
        2. The policies context lapses those policies (each in its own transaction).
        3. One transaction: ``due`` → ``in_grace`` for instalments due before ``on``; the
           premium loans and their paid instalments; every unpaid instalment of a lapsed
           policy → ``lapsed``; loans due before ``on`` → ``overdue``.  Every write is
           guarded by the state read, and premium loan IDs are derived from the instalment,
           so running the day again changes nothing.
        """
        with self.engine.connect() as connection:
            settled = self._settle_grace(SqlLedgers(connection), on)
        lapsing = sorted({s.policy_number for s in settled if s.lapsed})
        lapsed_now = tuple(self._lapse_policies(settled))
        with self.engine.begin() as connection:
            ledgers = SqlLedgers(connection)
            into_grace = ledgers.start_grace(on)
            loans = tuple(
                s for s in settled if not s.lapsed and self._write_premium_loan(ledgers, s)
            )
            instalments_lapsed = ledgers.lapse_unpaid(lapsing)
            overdue = ledgers.mark_loans_overdue(on)
        return BillingDay(
            on=on,
            into_grace=into_grace,
            loans_overdue=overdue,
            premium_loans=loans,
            lapsed=tuple(s for s in settled if s.lapsed),
            instalments_lapsed=instalments_lapsed,
            policies_lapsed=lapsed_now,
        )

    def _settle_grace(self, ledgers: SqlLedgers, on: date) -> list[GraceSettlement]:
        candidates = ledgers.grace_over(on)
        numbers = sorted({row.policy_number for row in candidates})
        books = _Books(
            ledgers.instalments_of(numbers),
            ledgers.accumulated_dividends(numbers),
            {n: [s.loan for s in loans] for n, loans in ledgers.loans_of(numbers).items()},
        )
        settled: list[GraceSettlement] = []
        for number, rows in groupby(candidates, key=lambda row: row.policy_number):
            policy = self.policies.policy(number)
            settled.extend(self._settle_policy(policy, list(rows), books, on))
        return settled

    def _settle_policy(
        self, policy: Policy, rows: Sequence[StoredInstalment], books: _Books, on: date
    ) -> list[GraceSettlement]:
        """Settle a policy's instalments at the end of grace, the earliest first; once one
        lapses the policy, the rest lapse with it."""
        plan = self._plan(policy)
        terms = billing_terms(plan)
        per_year = frequency_of(plan, policy.instalment).per_year
        settled: list[GraceSettlement] = []
        for row in rows:
            invoice = row.invoice(per_year)
            if settled and settled[-1].lapsed:
                settled.append(GraceSettlement(row.policy_number, row.seq, row.outstanding))
                continue
            if policy.status is not PolicyStatus.IN_FORCE:
                settled.append(_not_in_force(row))
                continue
            last_day = row.grace_until
            value = self._cash_value(policy, plan, books.facts(policy.policy_number), last_day)
            debt = policy_debt(books.loans.get(policy.policy_number, []), last_day)
            loan_id = premium_loan_id(row.policy_number, row.seq)
            outcome = end_of_grace(invoice, on, terms, value, debt, loan_id)
            if outcome.loan is None:
                settled.append(
                    GraceSettlement(
                        row.policy_number,
                        row.seq,
                        row.outstanding,
                        lapses_on=outcome.lapses_on,
                        refusal=outcome.refusal,
                    )
                )
                continue
            books.add_loan(outcome.loan, last_day)
            settled.append(
                GraceSettlement(row.policy_number, row.seq, outcome.loan.principal, outcome.loan)
            )
        return settled

    def _lapse_policies(self, settled: Sequence[GraceSettlement]) -> list[str]:
        lapsed: list[str] = []
        for settlement in settled:
            if not settlement.lapsed or settlement.lapses_on is None:
                continue
            number = settlement.policy_number
            if number in lapsed:
                continue
            if self.policies.policy(number).status is PolicyStatus.IN_FORCE:
                self.policies.lapse(number, settlement.lapses_on)
                lapsed.append(number)
        return lapsed

    def _write_premium_loan(self, ledgers: SqlLedgers, settlement: GraceSettlement) -> bool:
        """Mark the instalment paid by the loan and write the loan — only if the instalment
        is still unpaid (a re-run finds it paid and writes nothing)."""
        loan = settlement.loan
        assert loan is not None
        paid_by = PAID_BY_CODES["premium_loan"]
        if not ledgers.record_payment(
            loan.policy_number, settlement.seq, loan.drawn_on, paid_by, UNPAID_STATUSES
        ):
            return False
        ledgers.add_loan(StoredLoan(loan, LOAN_STATUS_CODES[loan.status(loan.drawn_on)]))
        ledgers.record(
            "loan",
            loan.loan_id,
            "loan.premium_loan_drawn",
            {
                "policy_number": loan.policy_number,
                "instalment": settlement.seq,
                "principal_fen": loan.principal.fen,
                "drawn_on": loan.drawn_on.isoformat(),
                "due_on": loan.due_on.isoformat(),
            },
            self.clock(),
        )
        return True

    # ---------------------------------------------------------------- loans

    def take_loan(
        self, policy_number: str, amount: Money, on: date, loan_id: str | None = None
    ) -> LoanState:
        """保单贷款 of ``amount`` drawn on ``on``, within the limit (the product's share of the
        cash value net of debt).  Given the ``loan_id`` of a loan already taken (a retry),
        that loan comes back and nothing is written."""
        loan_id = loan_id or self.new_id()
        policy = self.policies.policy(policy_number)
        plan = self._plan(policy)
        with self.engine.begin() as connection:
            ledgers = SqlLedgers(connection)
            ledgers.lock(f"policy:{policy_number}")  # two loans at once cannot pass the limit
            existing = ledgers.loan(loan_id)
            if existing is not None:
                return LoanState(existing, existing.loan.position(on))
            books = _read_books(ledgers, policy_number)
            value = self._cash_value(policy, plan, books.facts(policy_number), on)
            debt = policy_debt(books.loans.get(policy_number, []), on)
            loan = take_loan(
                loan_id,
                policy_number,
                amount,
                on,
                value,
                debt,
                billing_terms(plan).policy_loan,
                in_force=policy.status is PolicyStatus.IN_FORCE,
            )
            stored = StoredLoan(loan, LOAN_STATUS_CODES[loan.status(on)])
            ledgers.add_loan(stored)
            ledgers.record(
                "loan",
                loan_id,
                "loan.taken",
                {
                    "policy_number": policy_number,
                    "principal_fen": amount.fen,
                    "drawn_on": on.isoformat(),
                    "due_on": loan.due_on.isoformat(),
                },
                self.clock(),
            )
        return LoanState(stored, loan.position(on))

    def repay_loan(
        self, loan_id: str, amount: Money, on: date, reference: str | None = None
    ) -> LoanState:
        """A repayment on ``on``: the interest accrued first, then the principal.  A repeated
        ``reference`` (a retry) changes nothing."""
        reference = reference or self.new_id()
        with self.engine.begin() as connection:
            ledgers = SqlLedgers(connection)
            ledgers.lock(f"loan:{loan_id}")  # one repayment at a time
            stored = _require_loan(ledgers.loan(loan_id), loan_id)
            if any(r.reference == reference for r in stored.loan.repayments):
                return LoanState(stored, stored.loan.position(on))
            loan = repay(stored.loan, on, amount, reference)
            repaid = replace(stored, loan=loan, status=LOAN_STATUS_CODES[loan.status(on)])
            ledgers.add_repayment(loan_id, len(loan.repayments), loan.repayments[-1])
            ledgers.update_loan(repaid)
            last = loan.repayments[-1]
            ledgers.record(
                "loan",
                loan_id,
                "loan.repaid",
                {
                    "reference": reference,
                    "amount_fen": amount.fen,
                    "to_interest_fen": last.to_interest.fen,
                    "to_principal_fen": last.to_principal.fen,
                    "paid_on": on.isoformat(),
                },
                self.clock(),
            )
        return LoanState(repaid, loan.position(on))

    def renew_loan(self, loan_id: str, on: date) -> RenewalOutcome:
        """续贷 at the loan's due date: the balance becomes a new loan for another term — or the
        refusal is recorded on the loan (``renewal_failure_code``, ``renewal_failed_on`` =
        ``on``) and the loan stays to fall overdue.  Renewing a renewed loan returns the
        renewal."""
        with self.engine.connect() as connection:
            found = _require_loan(SqlLedgers(connection).loan(loan_id), loan_id)
        policy = self.policies.policy(found.loan.policy_number)
        plan = self._plan(policy)
        with self.engine.begin() as connection:
            ledgers = SqlLedgers(connection)
            ledgers.lock(f"policy:{policy.policy_number}")
            ledgers.lock(f"loan:{loan_id}")
            stored = _require_loan(ledgers.loan(loan_id), loan_id)
            if stored.loan.renewed_as is not None:
                return RenewalOutcome(stored, ledgers.loan(stored.loan.renewed_as))
            books = _read_books(ledgers, policy.policy_number)
            due = stored.loan.due_on
            others = [
                loan
                for loan in books.loans.get(policy.policy_number, [])
                if loan.loan_id != loan_id
            ]
            outcome = renew_loan(
                stored.loan,
                self.new_id(),
                self._cash_value(policy, plan, books.facts(policy.policy_number), due),
                policy_debt(others, due),
                billing_terms(plan).policy_loan,
                in_force=policy.status is PolicyStatus.IN_FORCE,
            )
            if outcome.renewed is None:
                assert outcome.refusal is not None
                failed = replace(
                    stored,
                    renewal_failed_on=on,
                    renewal_failure_code=outcome.refusal.code,
                )
                ledgers.update_loan(failed)
                ledgers.record(
                    "loan",
                    loan_id,
                    "loan.renewal_failed",
                    {"code": outcome.refusal.code, "on": on.isoformat()},
                    self.clock(),
                )
                return RenewalOutcome(failed, refusal=outcome.refusal)
            closed = StoredLoan(outcome.loan, LOAN_STATUS_CODES[outcome.loan.status(due)])
            ledgers.add_repayment(
                loan_id, len(outcome.loan.repayments), outcome.loan.repayments[-1]
            )
            ledgers.update_loan(closed)
            renewed = StoredLoan(outcome.renewed, LOAN_STATUS_CODES[outcome.renewed.status(on)])
            ledgers.add_loan(renewed)
            ledgers.record(
                "loan",
                loan_id,
                "loan.renewed",
                {"renewed_as": renewed.loan_id, "principal_fen": renewed.loan.principal.fen},
                self.clock(),
            )
        return RenewalOutcome(closed, renewed)

    def loan(self, loan_id: str, on: date) -> LoanState:
        with self.engine.connect() as connection:
            stored = _require_loan(SqlLedgers(connection).loan(loan_id), loan_id)
        return LoanState(stored, stored.loan.position(on))

    def loans(self, policy_number: str) -> list[StoredLoan]:
        with self.engine.connect() as connection:
            return SqlLedgers(connection).loans_of([policy_number]).get(policy_number, [])

    def cash_value(self, policy_number: str, on: date) -> CashValue:
        """The account value, cash value, debt and loan limit of a policy on ``on``."""
        policy = self.policies.policy(policy_number)
        plan = self._plan(policy)
        with self.engine.connect() as connection:
            books = _read_books(SqlLedgers(connection), policy_number)
        terms = plan.account
        account, value = Money.ZERO, Money.ZERO
        if terms is not None:
            account = self._rebuild(policy, terms, books.facts(policy_number), on).value(on)
            value = cash_value(account, policy_year_on(policy.original_inception, on), terms)
        debt = policy_debt(books.loans.get(policy_number, []), on)
        loan_terms = billing_terms(plan).policy_loan
        limit = (
            Money.ZERO if loan_terms is None else max_loanable(value, debt, loan_terms.max_ratio)
        )
        return CashValue(on, account, value, debt, limit)

    # ---------------------------------------------------------------- account products

    def post_year_end(
        self,
        policy_number: str,
        policy_year: int,
        dividend: Money | None = None,
        option: DividendOption | None = None,
    ) -> YearEnd:
        """Close a policy year of an account product: its statement (投资报告, ready on the
        anniversary) and, when the insurer declared one, the policy's dividend (its share,
        allocated on the anniversary, paid in cash or left to accumulate — the holder's
        ``option``, else the product's default).  Writing a year again changes nothing."""
        policy = self.policies.policy(policy_number)
        plan = self._plan(policy)
        terms = _require_account(plan)
        start, end = policy_year_period(policy.original_inception, policy_year)
        anniversary = end + timedelta(days=1)
        with self.engine.begin() as connection:
            ledgers = SqlLedgers(connection)
            books = _read_books(ledgers, policy_number)
            facts = books.facts(policy_number)
            account = self._rebuild(policy, terms, facts, end)
            debt = policy_debt(books.loans.get(policy_number, []), end)
            statement = annual_statement(account, start, end, terms, policy_year, debt)
            stored = StoredStatement(
                policy_number,
                policy_year,
                anniversary,
                statement.opening.amount,
                statement.closing.amount,
            )
            written = ledgers.add_statement(stored)
            if dividend is not None:
                chosen = option or _default_option(terms)
                share = DividendShare(policy_number, statement.closing.amount, dividend)
                settle_dividend(share, chosen, anniversary, terms, account)  # checks the option
                written = (
                    ledgers.add_dividend(
                        StoredDividend(policy_number, policy_year, dividend, chosen, anniversary)
                    )
                    or written
                )
            kept = ledgers.statement(policy_number, policy_year)
            allocated = ledgers.dividend(policy_number, policy_year)
        assert kept is not None
        return YearEnd(statement, kept, allocated, written)

    def post_pension(
        self,
        policy_number: str,
        start_on: date,
        option: str,
        frequency: PayoutFrequency,
        through: date,
    ) -> PensionPayouts:
        """The pension bought on ``start_on`` with the account value (the insured's age and
        sex from their 身份证号) and its pay-outs due up to ``through`` written as collectable.
        The conversion is recomputed from the ledger, so calling again with a later
        ``through`` adds only the new pay-outs."""
        policy = self.policies.policy(policy_number)
        plan = self._plan(policy)
        account_terms = _require_account(plan)
        if plan.annuity is None:
            raise ValidationFailed(
                "billing.no_pension",
                "该产品没有养老年金领取责任",
                "the product pays no pension",
            )
        insured = self._insured_person(policy)
        rate = self._rate(start_on, account_terms)
        with self.engine.begin() as connection:
            ledgers = SqlLedgers(connection)
            facts = _read_books(ledgers, policy_number).facts(policy_number)
            account = self._rebuild(policy, account_terms, facts, start_on - timedelta(days=1))
            _, pension = start_annuity(
                account,
                start_on,
                plan.annuity,
                account_terms,
                option,
                frequency,
                insured.birth_date,
                insured.gender,
                rate,
            )
            payouts = annuity_payouts(pension, through)
            written = ledgers.add_payouts(payouts)
        return PensionPayouts(pension, payouts, written)

    def post_survival_benefits(self, policy_number: str, through: date) -> int:
        """Write the survival benefits (生存保险金) the product pays up to ``through``;
        returns how many were new."""
        policy = self.policies.policy(policy_number)
        plan = self._plan(policy)
        benefits = plan.annuity.survival_benefits if plan.annuity is not None else []
        payables = survival_benefits(
            policy_number, policy.original_inception, policy.annual_premium, benefits, through
        )
        with self.engine.begin() as connection:
            return SqlLedgers(connection).add_payouts(payables)

    def collect_payout(self, payout_id: str, on: date) -> bool:
        """The pay-out collected on ``on``; False if it was collected already."""
        with self.engine.begin() as connection:
            return SqlLedgers(connection).collect_payout(payout_id, on)

    def payouts(self, policy_number: str) -> list[StoredPayout]:
        with self.engine.connect() as connection:
            return SqlLedgers(connection).payouts(policy_number)

    # ---------------------------------------------------------------- internals

    def _today(self) -> date:
        return local_date(self.clock())

    def _plan(self, policy: Policy) -> PlanVersion:
        return self.catalog.plan(policy.product_code, policy.plan_version).plan

    def _instalment(self, policy_number: str, seq: int) -> StoredInstalment:
        with self.engine.connect() as connection:
            found = SqlLedgers(connection).instalment(policy_number, seq)
        if found is None:
            raise NotFound(
                "billing.instalment_not_found",
                f"保单 {policy_number} 第{seq}期保费不存在（请先建立交费计划）",
                f"instalment {seq} of policy {policy_number} not found (schedule the policy first)",
                policy_number=policy_number,
                seq=seq,
            )
        return found

    def _rate(self, month: date, terms: AccountTerms) -> Decimal:
        return self.settlement_rates.get(month.replace(day=1), terms.guaranteed_rate)

    def _rebuild(
        self, policy: Policy, terms: AccountTerms, facts: AccountFacts, through: date
    ) -> Account:
        return account_from_ledger(
            policy.policy_number,
            policy.original_inception,
            facts,
            through,
            terms,
            lambda month: self._rate(month, terms),
        )

    def _cash_value(
        self, policy: Policy, plan: PlanVersion, facts: AccountFacts, on: date
    ) -> Money:
        """现金价值 on ``on``: the account value less the surrender charge of the policy year
        (nothing for a product without an account)."""
        terms = plan.account
        if terms is None:
            return Money.ZERO
        account = self._rebuild(policy, terms, facts, on)
        return cash_value(account.value(on), policy_year_on(policy.original_inception, on), terms)

    def _insured_person(self, policy: Policy) -> Person:
        party_id = next((u.party_id for u in policy.units if u.party_id is not None), None)
        party = None if party_id is None else self.policies.party(party_id)
        if not isinstance(party, Person):
            raise ValidationFailed(
                "billing.pension_needs_a_person",
                "养老年金的被保险人须为自然人",
                "a pension is paid to an insured person",
            )
        return party


# --------------------------------------------------------------------------- the account


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the ledger knows of a policy's account: premiums received (date, amount,
    reference) and dividends left to accumulate (date, amount)."""

    premiums: tuple[tuple[date, Money, str], ...] = ()
    dividends: tuple[tuple[date, Money], ...] = ()


def account_from_ledger(
    policy_number: str,
    opened_on: date,
    facts: AccountFacts,
    through: date,
    terms: AccountTerms,
    rate_for: Callable[[date], Decimal],
) -> Account:
    """The account rebuilt up to ``through``: each month's premiums (less the initial charge)
    and dividends posted, then the month settled at ``rate_for(first day of the month)``;
    what falls in the month of ``through`` is posted, its interest not yet credited."""
    postings = sorted(
        [(max(on, opened_on), 0, amount, ref) for on, amount, ref in facts.premiums]
        + [(max(on, opened_on), 1, amount, f"dividend:{on}") for on, amount in facts.dividends],
        key=lambda posting: (posting[0], posting[1]),
    )
    postings = [posting for posting in postings if posting[0] <= through]
    account = open_account(policy_number, opened_on)
    month, i = opened_on.replace(day=1), 0
    while True:
        end = min(month_end(month), through)
        while i < len(postings) and postings[i][0] <= end:
            on, kind, amount, ref = postings[i]
            if kind == 0:
                account = credit_premium(account, on, amount, terms, ref)
            else:
                account = credit_dividend(account, on, amount, ref)
            i += 1
        if month_end(month) > through:
            return account
        account = settle_month(account, month, rate_for(month), terms)
        month = add_months(month, 1)


def policy_year_on(inception: date, on: date) -> int:
    """The policy year (保单年度, from 1) that ``on`` falls in."""
    year = max(1, on.year - inception.year)
    while year > 1 and add_months(inception, 12 * (year - 1)) > on:
        year -= 1
    while add_months(inception, 12 * year) <= on:
        year += 1
    return year


@dataclass
class _Books:
    """The ledgers of some policies, read once for a batch and updated as it goes."""

    instalments: dict[str, list[StoredInstalment]]
    dividends: dict[str, list[tuple[date, Money]]]
    loans: dict[str, list[PolicyLoan]]
    premium_loans: dict[str, list[tuple[date, Money, str]]] = field(default_factory=dict)

    def facts(self, policy_number: str) -> AccountFacts:
        paid = [
            (row.paid_on, row.paid, f"{row.policy_number}:{row.seq}")
            for row in self.instalments.get(policy_number, [])
            if row.paid_on is not None and not row.paid.is_zero()
        ]
        return AccountFacts(
            tuple(paid + self.premium_loans.get(policy_number, [])),
            tuple(self.dividends.get(policy_number, [])),
        )

    def add_loan(self, loan: PolicyLoan, paid_on: date) -> None:
        """A premium loan settled in this batch: its loan and the premium it paid."""
        self.loans.setdefault(loan.policy_number, []).append(loan)
        self.premium_loans.setdefault(loan.policy_number, []).append(
            (paid_on, loan.principal, loan.loan_id)
        )


def _read_books(ledgers: SqlLedgers, policy_number: str) -> _Books:
    numbers = [policy_number]
    return _Books(
        ledgers.instalments_of(numbers),
        ledgers.accumulated_dividends(numbers),
        {n: [s.loan for s in loans] for n, loans in ledgers.loans_of(numbers).items()},
    )


# --------------------------------------------------------------------------- helpers


def instalment_order_id(policy_number: str, seq: int) -> str:
    """The gateway order ID of an instalment: the same on every retry."""
    return f"INST-{policy_number}-{seq}"


def premium_loan_id(policy_number: str, seq: int) -> str:
    """The ID of the automatic premium loan that pays an instalment: derived from it, so a
    re-run of the billing day cannot lend twice."""
    readable = f"APL-{policy_number}-{seq}"
    if len(readable) <= LOAN_ID_LENGTH:
        return readable
    return str(uuid5(NAMESPACE_URL, f"baoxian:apl:{policy_number}:{seq}"))


def _paid_at_checkout(
    invoices: Sequence[Invoice], ledgers: SqlLedgers, policy_number: str
) -> tuple[Invoice, ...]:
    """The schedule's invoices with the premium paid at an online checkout applied (the
    earliest first; never more than the schedule)."""
    result = tuple(invoices)
    for order in ledgers.paid_orders(policy_number):
        owed = total([invoice.outstanding for invoice in result])
        amount = min(order.amount, owed)
        if amount.amount > 0:
            result = apply_payment(result, Payment(order.paid_on, amount, order.reference))
    return result


def _require_in_force(policy: Policy, code: str, what: str) -> None:
    if policy.status is not PolicyStatus.IN_FORCE:
        raise InvalidTransition(
            code,
            f"保单 {policy.policy_number} 不在有效状态，不能{what}",
            f"policy {policy.policy_number} is not in force",
            status=policy.status.value,
        )


def _require_payable(stored: StoredInstalment, on: date) -> None:
    if not stored.unpaid:
        raise InvalidTransition(
            "billing.instalment_not_payable",
            f"保单 {stored.policy_number} 第{stored.seq}期保费状态为 {stored.status}，不能交费",
            f"instalment {stored.seq} of policy {stored.policy_number} is {stored.status}; "
            "it cannot be paid",
            status=stored.status,
        )
    if on > stored.grace_until:
        raise InvalidTransition(
            "billing.grace_period_over",
            f"保单 {stored.policy_number} 第{stored.seq}期保费的宽限期已于 {stored.grace_until} "
            "届满，保单效力中止，请申请复效",
            f"the grace period of instalment {stored.seq} of policy {stored.policy_number} "
            f"ended on {stored.grace_until}; the policy has lapsed — apply for reinstatement",
            grace_until=stored.grace_until.isoformat(),
        )


def _require_loan(stored: StoredLoan | None, loan_id: str) -> StoredLoan:
    if stored is None:
        raise NotFound(
            "billing.loan_not_found",
            f"借款 {loan_id} 不存在",
            f"loan {loan_id} not found",
            loan_id=loan_id,
        )
    return stored


def _require_account(plan: PlanVersion) -> AccountTerms:
    if plan.account is None:
        raise ValidationFailed(
            "billing.not_an_account_product",
            "该产品没有个人账户（无账户价值、红利与年度报告）",
            "the product has no account (no account value, dividends or statement)",
        )
    return plan.account


def _default_option(terms: AccountTerms) -> DividendOption:
    if terms.dividends is None:
        raise ValidationFailed(
            "billing.dividends_not_offered",
            "该产品不分配红利",
            "the product pays no dividends",
        )
    return terms.dividends.default


def _not_in_force(row: StoredInstalment) -> GraceSettlement:
    refusal = Refusal(
        "billing.apl_policy_not_in_force",
        "宽限期满仍未交费，保单不在有效状态，不能保费自动垫交",
        "the premium is unpaid after the grace period and the policy is not in force; "
        "no automatic premium loan",
    )
    lapses_on = row.grace_until + timedelta(days=1)
    return GraceSettlement(row.policy_number, row.seq, row.outstanding, None, lapses_on, refusal)


__all__ = [
    "AccountFacts",
    "BillingDay",
    "CashValue",
    "GraceSettlement",
    "InstalmentPayment",
    "LedgerService",
    "LoanState",
    "PensionPayouts",
    "PolicyPort",
    "RenewalOutcome",
    "Scheduled",
    "YearEnd",
    "account_from_ledger",
    "instalment_order_id",
    "policy_year_on",
    "premium_loan_id",
]
