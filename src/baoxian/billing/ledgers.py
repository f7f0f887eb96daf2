"""The billing ledgers (收付费台账) over SQLAlchemy Core: what
:mod:`baoxian.billing.ledger_service` writes from real policies and the daily scan of proactive
service (:mod:`baoxian.outreach.scan`) reads.

The ledger's codes are not the pure domain's enums, so they are mapped here, in one place
(and tested against the tables' CHECK constraints):

* instalments — :class:`~baoxian.billing.schedule.InvoiceStatus` ``upcoming`` and ``due`` are
  stored as ``due`` (the scan reminds before the due date, so an instalment not yet due is
  already "to be paid"), ``in_grace`` and ``paid`` as themselves; ``overdue`` is never stored:
  the end of grace settles it as ``paid`` by an automatic premium loan or ``lapsed`` with its
  policy.  ``waived`` has no domain counterpart.  Who paid: a ``payment`` receipt is paid by
  the ``customer``, a ``premium_loan`` receipt by the ``auto_loan``.
* loans — :class:`~baoxian.billing.loans.LoanKind` ``policy`` / ``premium`` are
  ``policy_loan`` / ``auto_premium_loan``; :class:`~baoxian.billing.loans.LoanStatus`
  ``active`` is ``open``, the others keep their names.  Rates are whole basis points.
* pay-outs — :class:`~baoxian.billing.payables.PayoutKind` ``annuity`` and
  ``survival_benefit`` are ``annuity`` and ``survival``; a cash dividend is not a benefit
  pay-out: ``dividend_allocations`` records it (option ``cash``).

Writes that a retry may repeat are idempotent by key: instalments by (policy, 期次), pay-outs
by the payable's key, dividends and statements by (policy, year), loans by their ID and
repayments by their reference.  Writes that move a state are guarded by the state read.

>>> instalment_status_code(InvoiceStatus.UPCOMING), LOAN_STATUS_CODES[LoanStatus.ACTIVE]
('due', 'open')
>>> rate_bp(Decimal("0.05")), rate_of(500)
(500, Decimal('0.05'))
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Row, Table, func, insert, select, update

from baoxian.billing.ledger_tables import (
    UNPAID_STATUSES,
    account_statements,
    benefit_payouts,
    billing_instalments,
    dividend_allocations,
    policy_loan_repayments,
    policy_loans,
)
from baoxian.billing.loans import LoanKind, LoanStatus, PolicyLoan, Repayment
from baoxian.billing.payables import Payable, PayoutKind
from baoxian.billing.schedule import Instalment, Invoice, InvoiceStatus, Receipt, ReceiptSource
from baoxian.billing.tables import payment_orders
from baoxian.shared.clock import local_date
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money
from baoxian.store.db import upsert_into
from baoxian.store.tables import events

# --------------------------------------------------------------------------- the codes

INSTALMENT_STATUS_CODES: dict[InvoiceStatus, str] = {
    InvoiceStatus.UPCOMING: "due",
    InvoiceStatus.DUE: "due",
    InvoiceStatus.IN_GRACE: "in_grace",
    InvoiceStatus.PAID: "paid",
}
"""The stored status of an invoice's state (``overdue`` has none: see the module docstring)."""
LAPSED = "lapsed"
WAIVED = "waived"
PAID = "paid"
INSTALMENT_STATUSES = ("due", "paid", "in_grace", LAPSED, WAIVED)
"""Every stored instalment status (the table's CHECK constraint)."""

PAID_BY_CODES: dict[ReceiptSource, str] = {"payment": "customer", "premium_loan": "auto_loan"}
RECEIPT_SOURCES: dict[str, ReceiptSource] = {code: s for s, code in PAID_BY_CODES.items()}

LOAN_KIND_CODES: dict[LoanKind, str] = {
    LoanKind.POLICY: "policy_loan",
    LoanKind.PREMIUM: "auto_premium_loan",
}
LOAN_KINDS: dict[str, LoanKind] = {code: kind for kind, code in LOAN_KIND_CODES.items()}
LOAN_STATUS_CODES: dict[LoanStatus, str] = {
    LoanStatus.ACTIVE: "open",
    LoanStatus.OVERDUE: "overdue",
    LoanStatus.REPAID: "repaid",
    LoanStatus.RENEWED: "renewed",
}
OPEN_LOAN_CODES = ("open", "overdue")

PAYOUT_KIND_CODES: dict[PayoutKind, str] = {
    PayoutKind.ANNUITY: "annuity",
    PayoutKind.SURVIVAL_BENEFIT: "survival",
}
"""Benefit pay-outs; :attr:`PayoutKind.DIVIDEND` is kept in ``dividend_allocations``."""
PAYOUT_STATUSES = ("collectable", "collected")

BASIS_POINT = Decimal("0.0001")
IN_CHUNK = 500  # policy numbers per ``IN (…)`` list


def instalment_status_code(status: InvoiceStatus) -> str:
    """The stored status of an invoice's state; ``overdue`` is settled, never stored."""
    try:
        return INSTALMENT_STATUS_CODES[status]
    except KeyError:
        raise ValidationFailed(
            "billing.overdue_not_stored",
            "宽限期满未交的保费须先垫交或中止效力，不能直接记账",
            "a premium unpaid after its grace period is settled by a premium loan or a lapse; "
            "it is never stored as overdue",
        ) from None


def rate_bp(rate: Decimal) -> int:
    """A yearly rate in whole basis points (``0.05`` → 500); finer rates are refused."""
    bp = rate / BASIS_POINT
    if bp != bp.to_integral_value():
        raise ValidationFailed(
            "billing.rate_not_whole_basis_points",
            f"利率 {rate} 须为整数个基点（0.01%）",
            f"the rate {rate} must be a whole number of basis points (0.01%)",
        )
    return int(bp)


def rate_of(bp: int) -> Decimal:
    """A yearly rate from basis points (500 → ``0.05``)."""
    return (Decimal(bp) * BASIS_POINT).normalize()


def _lock_id(key: str) -> int:
    """A signed 64-bit advisory-lock ID for a billing key (a collision only makes two
    unrelated writes wait for each other)."""
    digest = hashlib.blake2b(f"billing\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class StoredInstalment:
    """A row of ``billing_instalments``."""

    policy_number: str
    seq: int
    due_on: date
    amount: Money
    paid: Money
    paid_on: date | None
    paid_by: str | None
    grace_until: date
    status: str

    @property
    def outstanding(self) -> Money:
        return self.amount - self.paid

    @property
    def unpaid(self) -> bool:
        """Still owed (``due`` or ``in_grace``)."""
        return self.status in UNPAID_STATUSES

    def invoice(self, per_year: int = 1) -> Invoice:
        """The domain's invoice: the instalment and, when something was paid, one receipt
        (the ledger keeps the total and the date of the last payment)."""
        instalment = Instalment(
            self.policy_number,
            self.seq,
            (self.seq - 1) // per_year + 1,
            self.due_on,
            self.amount,
        )
        if self.paid.is_zero() or self.paid_on is None:
            return Invoice(instalment)
        source = RECEIPT_SOURCES.get(self.paid_by or "customer", "payment")
        receipt = Receipt(self.paid_on, self.paid, f"{self.policy_number}:{self.seq}", source)
        return Invoice(instalment, (receipt,))


def stored_instalment(invoice: Invoice, grace_until: date) -> StoredInstalment:
    """The row of a newly scheduled invoice (``paid`` when receipts already cover it)."""
    receipts = invoice.receipts
    last = receipts[-1] if receipts else None
    return StoredInstalment(
        policy_number=invoice.instalment.policy_number,
        seq=invoice.instalment.number,
        due_on=invoice.due_on,
        amount=invoice.amount,
        paid=invoice.paid,
        paid_on=None if last is None else last.on,
        paid_by=None if last is None else PAID_BY_CODES[last.source],
        grace_until=grace_until,
        status=PAID if invoice.outstanding.is_zero() else "due",
    )


@dataclass(frozen=True, slots=True)
class StoredLoan:
    """A row of ``policy_loans`` with its repayments, as the domain's loan."""

    loan: PolicyLoan
    status: str
    renewal_failed_on: date | None = None
    renewal_failure_code: str | None = None

    @property
    def loan_id(self) -> str:
        return self.loan.loan_id

    @property
    def open(self) -> bool:
        return self.status in OPEN_LOAN_CODES


@dataclass(frozen=True, slots=True)
class StoredPayout:
    payout_id: str
    policy_number: str
    kind: str
    due_on: date
    amount: Money
    status: str
    collected_on: date | None


@dataclass(frozen=True, slots=True)
class StoredDividend:
    policy_number: str
    policy_year: int
    amount: Money
    option: str
    allocated_on: date


@dataclass(frozen=True, slots=True)
class StoredStatement:
    policy_number: str
    statement_year: int
    ready_on: date
    opening: Money
    closing: Money


@dataclass(frozen=True, slots=True)
class PaidOrder:
    """A payment order of an online purchase, paid, for the policy it issued."""

    order_id: str
    amount: Money
    paid_on: date
    reference: str


# --------------------------------------------------------------------------- the repository


class SqlLedgers:
    """The ledgers on one connection, inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    # ---------------------------------------------------------------- instalments

    def lock(self, key: str) -> None:
        """Serialise the writes about ``key`` (a policy's loans, one loan's repayments) until
        this transaction ends, before anything is read: on PostgreSQL a transaction-level
        advisory lock; on SQLite the database's write lock, taken by a write that changes
        nothing (one writer at a time, and the reads that follow see the last commit)."""
        if self._connection.dialect.name == "postgresql":
            self._connection.execute(select(func.pg_advisory_xact_lock(_lock_id(key))))
            return
        loan_id = policy_loans.c.loan_id
        self._connection.execute(update(policy_loans).where(loan_id == "").values(loan_id=loan_id))

    def scheduled_seqs(self, policy_number: str) -> set[int]:
        i = billing_instalments.c
        return set(self._connection.scalars(select(i.seq).where(i.policy_number == policy_number)))

    def add_instalments(self, rows: Sequence[StoredInstalment]) -> None:
        """Insert instalments; one already there (same policy and 期次) is left as it is."""
        if not rows:
            return
        statement = upsert_into(self._connection, billing_instalments).on_conflict_do_nothing()
        self._connection.execute(statement, [_instalment_values(row) for row in rows])

    def instalment(self, policy_number: str, seq: int) -> StoredInstalment | None:
        i = billing_instalments.c
        row = self._connection.execute(
            select(billing_instalments).where(i.policy_number == policy_number, i.seq == seq)
        ).one_or_none()
        return None if row is None else _instalment(row)

    def instalments(self, policy_number: str) -> list[StoredInstalment]:
        return self.instalments_of([policy_number]).get(policy_number, [])

    def instalments_of(self, policy_numbers: Iterable[str]) -> dict[str, list[StoredInstalment]]:
        """Every instalment of the policies, in 期次 order (one query per 500 policies)."""
        i = billing_instalments.c
        found: dict[str, list[StoredInstalment]] = defaultdict(list)
        for chunk in _chunks(policy_numbers):
            query = (
                select(billing_instalments)
                .where(i.policy_number.in_(chunk))
                .order_by(i.policy_number, i.seq)
            )
            for row in self._connection.execute(query):
                found[row.policy_number].append(_instalment(row))
        return dict(found)

    def record_payment(
        self,
        policy_number: str,
        seq: int,
        paid_on: date,
        paid_by: str,
        from_statuses: Sequence[str],
    ) -> bool:
        """Mark the instalment paid in full, if it is still in one of ``from_statuses``."""
        i = billing_instalments.c
        result = self._connection.execute(
            update(billing_instalments)
            .where(i.policy_number == policy_number, i.seq == seq, i.status.in_(from_statuses))
            .values(paid_fen=i.amount_fen, paid_on=paid_on, paid_by=paid_by, status=PAID)
        )
        return result.rowcount == 1

    def set_status(
        self, policy_number: str, seq: int, status: str, from_statuses: Sequence[str]
    ) -> bool:
        """Move the instalment to ``status`` if it is still in one of ``from_statuses``."""
        i = billing_instalments.c
        result = self._connection.execute(
            update(billing_instalments)
            .where(i.policy_number == policy_number, i.seq == seq, i.status.in_(from_statuses))
            .values(status=status)
        )
        return result.rowcount == 1

    def start_grace(self, on: date) -> int:
        """``due`` → ``in_grace`` for every instalment due before ``on`` (one statement)."""
        i = billing_instalments.c
        result = self._connection.execute(
            update(billing_instalments)
            .where(i.status == "due", i.due_on < on)
            .values(status="in_grace")
        )
        return int(result.rowcount)

    def grace_over(self, on: date) -> list[StoredInstalment]:
        """Unpaid instalments whose grace period ended before ``on`` (from the partial index of
        unpaid instalments: a grace period ends after its due date)."""
        i = billing_instalments.c
        query = (
            select(billing_instalments)
            .where(i.status.in_(UNPAID_STATUSES), i.due_on < on, i.grace_until < on)
            .order_by(i.policy_number, i.due_on, i.seq)
        )
        return [_instalment(row) for row in self._connection.execute(query)]

    def lapse_unpaid(self, policy_numbers: Iterable[str]) -> int:
        """Every unpaid instalment of these policies → ``lapsed`` (one statement per 500)."""
        i = billing_instalments.c
        count = 0
        for chunk in _chunks(policy_numbers):
            result = self._connection.execute(
                update(billing_instalments)
                .where(i.policy_number.in_(chunk), i.status.in_(UNPAID_STATUSES))
                .values(status=LAPSED)
            )
            count += int(result.rowcount)
        return count

    def paid_orders(self, policy_number: str) -> list[PaidOrder]:
        """The paid orders of the online purchase that issued the policy (its first premium)."""
        o = payment_orders.c
        rows = self._connection.execute(
            select(o.order_id, o.amount_fen, o.updated_at, o.reference)
            .where(o.policy_number == policy_number, o.status == "paid")
            .order_by(o.created_at)
        )
        return [
            PaidOrder(
                row.order_id,
                Money.from_fen(row.amount_fen),
                _day(row.updated_at),
                row.reference or row.order_id,
            )
            for row in rows
        ]

    # ---------------------------------------------------------------- loans

    def add_loan(self, stored: StoredLoan) -> bool:
        """Insert the loan and its repayments; False (nothing written) if its ID is taken."""
        if not self._insert_new(policy_loans, _loan_values(stored)):
            return False
        for seq, repayment in enumerate(stored.loan.repayments, start=1):
            self.add_repayment(stored.loan_id, seq, repayment)
        return True

    def loan(self, loan_id: str) -> StoredLoan | None:
        row = self._connection.execute(
            select(policy_loans).where(policy_loans.c.loan_id == loan_id)
        ).one_or_none()
        if row is None:
            return None
        return _loan(row, self._repayments_of([loan_id]).get(loan_id, []))

    def loans_of(self, policy_numbers: Iterable[str]) -> dict[str, list[StoredLoan]]:
        """Every loan of the policies with its repayments (two queries per 500 policies)."""
        loan = policy_loans.c
        found: dict[str, list[StoredLoan]] = defaultdict(list)
        for chunk in _chunks(policy_numbers):
            rows = self._connection.execute(
                select(policy_loans)
                .where(loan.policy_number.in_(chunk))
                .order_by(loan.policy_number, loan.start_on, loan.loan_id)
            ).all()
            repayments = self._repayments_of([row.loan_id for row in rows])
            for row in rows:
                found[row.policy_number].append(_loan(row, repayments.get(row.loan_id, [])))
        return dict(found)

    def add_repayment(self, loan_id: str, seq: int, repayment: Repayment) -> None:
        self._connection.execute(
            insert(policy_loan_repayments).values(
                loan_id=loan_id,
                seq=seq,
                paid_on=repayment.on,
                amount_fen=repayment.amount.fen,
                to_interest_fen=repayment.to_interest.fen,
                to_principal_fen=repayment.to_principal.fen,
                reference=repayment.reference,
                by_renewal=repayment.by_renewal,
            )
        )

    def update_loan(self, stored: StoredLoan) -> None:
        """Write the loan's totals, status and renewal failure as ``stored`` has them."""
        values = _loan_values(stored)
        del values["loan_id"]
        self._connection.execute(
            update(policy_loans).where(policy_loans.c.loan_id == stored.loan_id).values(values)
        )

    def mark_loans_overdue(self, on: date) -> int:
        """``open`` → ``overdue`` for every loan due before ``on`` (one statement)."""
        loan = policy_loans.c
        result = self._connection.execute(
            update(policy_loans)
            .where(loan.status == "open", loan.due_on < on)
            .values(status="overdue")
        )
        return int(result.rowcount)

    def _repayments_of(self, loan_ids: Sequence[str]) -> dict[str, list[Row[Any]]]:
        r = policy_loan_repayments.c
        found: dict[str, list[Row[Any]]] = defaultdict(list)
        for chunk in _chunks(loan_ids):
            query = (
                select(policy_loan_repayments)
                .where(r.loan_id.in_(chunk))
                .order_by(r.loan_id, r.seq)
            )
            for row in self._connection.execute(query):
                found[row.loan_id].append(row)
        return dict(found)

    # ---------------------------------------------------------------- dividends, statements

    def add_dividend(self, row: StoredDividend) -> bool:
        """Insert the dividend of a policy year; False if that year's is already there."""
        return self._insert_new(
            dividend_allocations,
            {
                "policy_number": row.policy_number,
                "policy_year": row.policy_year,
                "amount_fen": row.amount.fen,
                "option": row.option,
                "allocated_on": row.allocated_on,
            },
        )

    def dividend(self, policy_number: str, policy_year: int) -> StoredDividend | None:
        d = dividend_allocations.c
        row = self._connection.execute(
            select(dividend_allocations).where(
                d.policy_number == policy_number, d.policy_year == policy_year
            )
        ).one_or_none()
        if row is None:
            return None
        return StoredDividend(
            row.policy_number,
            row.policy_year,
            Money.from_fen(row.amount_fen),
            row.option,
            row.allocated_on,
        )

    def accumulated_dividends(
        self, policy_numbers: Iterable[str]
    ) -> dict[str, list[tuple[date, Money]]]:
        """Dividends left to accumulate in the account (累积生息), by policy, in date order."""
        d = dividend_allocations.c
        found: dict[str, list[tuple[date, Money]]] = defaultdict(list)
        for chunk in _chunks(policy_numbers):
            query = (
                select(d.policy_number, d.allocated_on, d.amount_fen)
                .where(d.policy_number.in_(chunk), d.option == "accumulate")
                .order_by(d.policy_number, d.allocated_on)
            )
            for row in self._connection.execute(query):
                found[row.policy_number].append((row.allocated_on, Money.from_fen(row.amount_fen)))
        return dict(found)

    def add_statement(self, row: StoredStatement) -> bool:
        return self._insert_new(
            account_statements,
            {
                "policy_number": row.policy_number,
                "statement_year": row.statement_year,
                "ready_on": row.ready_on,
                "opening_fen": row.opening.fen,
                "closing_fen": row.closing.fen,
            },
        )

    def statement(self, policy_number: str, year: int) -> StoredStatement | None:
        s = account_statements.c
        row = self._connection.execute(
            select(account_statements).where(
                s.policy_number == policy_number, s.statement_year == year
            )
        ).one_or_none()
        if row is None:
            return None
        return StoredStatement(
            row.policy_number,
            row.statement_year,
            row.ready_on,
            Money.from_fen(row.opening_fen),
            Money.from_fen(row.closing_fen),
        )

    # ---------------------------------------------------------------- pay-outs

    def add_payouts(self, payables: Sequence[Payable]) -> int:
        """Insert the pay-outs (collectable) not yet there, by their key; returns how many
        were new."""
        if not payables:
            return 0
        p = benefit_payouts.c
        keys = [payable.key for payable in payables]
        known = {
            key
            for chunk in _chunks(keys)
            for key in self._connection.scalars(select(p.payout_id).where(p.payout_id.in_(chunk)))
        }
        new = [payable for payable in payables if payable.key not in known]
        if new:
            statement = upsert_into(self._connection, benefit_payouts).on_conflict_do_nothing()
            self._connection.execute(statement, [_payout_values(payable) for payable in new])
        return len(new)

    def payouts(self, policy_number: str) -> list[StoredPayout]:
        p = benefit_payouts.c
        rows = self._connection.execute(
            select(benefit_payouts).where(p.policy_number == policy_number).order_by(p.due_on)
        )
        return [
            StoredPayout(
                row.payout_id,
                row.policy_number,
                row.kind,
                row.due_on,
                Money.from_fen(row.amount_fen),
                row.status,
                row.collected_on,
            )
            for row in rows
        ]

    def collect_payout(self, payout_id: str, on: date) -> bool:
        """``collectable`` → ``collected`` on ``on``; False if it was not collectable."""
        p = benefit_payouts.c
        result = self._connection.execute(
            update(benefit_payouts)
            .where(p.payout_id == payout_id, p.status == "collectable", p.due_on <= on)
            .values(status="collected", collected_on=on)
        )
        return result.rowcount == 1

    def _insert_new(self, table: Table, values: Mapping[str, Any]) -> bool:
        """Insert one row unless its key is taken; True if it was inserted.  (An INSERT's
        row count is kept only on request in SQLAlchemy 2.1.)"""
        statement = (
            upsert_into(self._connection, table)
            .values(**values)
            .on_conflict_do_nothing()
            .execution_options(preserve_rowcount=True)
        )
        return self._connection.execute(statement).rowcount == 1

    # ---------------------------------------------------------------- the event log

    def record(
        self,
        aggregate: str,
        aggregate_id: str,
        event_type: str,
        payload: Mapping[str, Any],
        at: datetime,
    ) -> None:
        """An event on the shared append-only log (who did what to a ledger row, and when)."""
        self._connection.execute(
            insert(events).values(
                aggregate_type=aggregate,
                aggregate_id=aggregate_id,
                event_type=event_type,
                payload=dict(payload),
                occurred_at=at,
                request_id=None,
            )
        )


# --------------------------------------------------------------------------- mapping


def _instalment_values(row: StoredInstalment) -> dict[str, Any]:
    return {
        "policy_number": row.policy_number,
        "seq": row.seq,
        "due_on": row.due_on,
        "amount_fen": row.amount.fen,
        "paid_fen": row.paid.fen,
        "paid_on": row.paid_on,
        "paid_by": row.paid_by,
        "grace_until": row.grace_until,
        "status": row.status,
    }


def _instalment(row: Row[Any]) -> StoredInstalment:
    return StoredInstalment(
        policy_number=row.policy_number,
        seq=row.seq,
        due_on=row.due_on,
        amount=Money.from_fen(row.amount_fen),
        paid=Money.from_fen(row.paid_fen),
        paid_on=row.paid_on,
        paid_by=row.paid_by,
        grace_until=row.grace_until,
        status=row.status,
    )


def _loan_values(stored: StoredLoan) -> dict[str, Any]:
    loan = stored.loan
    return {
        "loan_id": loan.loan_id,
        "policy_number": loan.policy_number,
        "kind": LOAN_KIND_CODES[loan.kind],
        "principal_fen": loan.principal.fen,
        "annual_rate_bp": rate_bp(loan.annual_rate),
        "start_on": loan.drawn_on,
        "due_on": loan.due_on,
        "repaid_fen": sum(r.to_principal.fen for r in loan.repayments),
        "interest_paid_fen": sum(r.to_interest.fen for r in loan.repayments),
        "status": stored.status,
        "renewal_failed_on": stored.renewal_failed_on,
        "renewal_failure_code": stored.renewal_failure_code,
    }


def _loan(row: Row[Any], repayment_rows: Sequence[Row[Any]]) -> StoredLoan:
    repayments = tuple(
        Repayment(
            r.paid_on,
            Money.from_fen(r.amount_fen),
            Money.from_fen(r.to_interest_fen),
            Money.from_fen(r.to_principal_fen),
            r.reference,
            by_renewal=bool(r.by_renewal),
        )
        for r in repayment_rows
    )
    renewed_as = next((r.reference for r in repayments if r.by_renewal), None)
    loan = PolicyLoan(
        loan_id=row.loan_id,
        policy_number=row.policy_number,
        kind=LOAN_KINDS[row.kind],
        principal=Money.from_fen(row.principal_fen),
        annual_rate=rate_of(row.annual_rate_bp),
        drawn_on=row.start_on,
        due_on=row.due_on,
        repayments=repayments,
        renewed_as=renewed_as,
    )
    return StoredLoan(loan, row.status, row.renewal_failed_on, row.renewal_failure_code)


def _payout_values(payable: Payable) -> dict[str, Any]:
    if payable.kind not in PAYOUT_KIND_CODES:
        raise ValidationFailed(
            "billing.payout_kind_not_ledgered",
            f"{payable.zh}不记入给付台账",
            f"a {payable.en.lower()} is not a benefit pay-out of the ledger",
        )
    return {
        "payout_id": payable.key,
        "policy_number": payable.policy_number,
        "kind": PAYOUT_KIND_CODES[payable.kind],
        "due_on": payable.due_on,
        "amount_fen": payable.amount.fen,
        "status": "collectable",
        "collected_on": None,
    }


def _day(at: datetime | date) -> date:
    return local_date(at) if isinstance(at, datetime) else at


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    iterator = iter(dict.fromkeys(values))
    while chunk := list(islice(iterator, IN_CHUNK)):
        yield chunk


__all__ = [
    "INSTALMENT_STATUSES",
    "INSTALMENT_STATUS_CODES",
    "LAPSED",
    "LOAN_KINDS",
    "LOAN_KIND_CODES",
    "LOAN_STATUS_CODES",
    "OPEN_LOAN_CODES",
    "PAID",
    "PAID_BY_CODES",
    "PAYOUT_KIND_CODES",
    "PAYOUT_STATUSES",
    "RECEIPT_SOURCES",
    "WAIVED",
    "PaidOrder",
    "SqlLedgers",
    "StoredDividend",
    "StoredInstalment",
    "StoredLoan",
    "StoredPayout",
    "StoredStatement",
    "instalment_status_code",
    "rate_bp",
    "rate_of",
    "stored_instalment",
]
