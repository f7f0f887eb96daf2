"""SQL persistence of the claims context: claims, accumulator ledgers, payments, events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Self

from sqlalchemy import ColumnElement, Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from baoxian.claims.case import ClaimCase, ClaimStatus
from baoxian.claims.model import (
    Accumulators,
    BillItem,
    Claim,
    HealthClaim,
    PropertyClaim,
    claimed_amount,
)
from baoxian.claims.review import PriorClaim
from baoxian.claims.statistics import HealthHistory
from baoxian.claims.tables import claim_ledgers, claims, payments
from baoxian.policies.repository import SqlEventLog
from baoxian.shared.clock import Clock, system_clock
from baoxian.shared.errors import ConcurrencyConflict, NotFound
from baoxian.shared.money import Money


@dataclass(frozen=True, slots=True)
class PaymentInstruction:
    """支付指令 to the insured, a pharmacy or a hospital; the idempotency key makes a re-run
    find the instruction it already wrote instead of paying twice."""

    payment_id: str
    claim_id: str
    kind: str
    payee_kind: str
    payee: str
    amount: Money
    idempotency_key: str
    status: str = "instructed"


def claim_json(claim: Claim) -> dict[str, Any]:
    """The claim as reported, field by field (money stays ``Money``; the JSON column tags it)."""
    data = {name: getattr(claim, name) for name in type(claim).__dataclass_fields__}
    if isinstance(claim, HealthClaim):
        data["items"] = [
            {name: getattr(item, name) for name in BillItem.__dataclass_fields__}
            for item in claim.items
        ]
    data["kind"] = "health" if isinstance(claim, HealthClaim) else "property"
    return data


def claim_from_json(data: Mapping[str, Any]) -> Claim:
    values = dict(data)
    kind = values.pop("kind")
    if kind == "property":
        return PropertyClaim(**values)
    values["items"] = tuple(BillItem(**item) for item in values["items"])
    return HealthClaim(**values)


def _row_values(case: ClaimCase) -> dict[str, Any]:
    claim = case.claim
    health = isinstance(claim, HealthClaim)
    return {
        "claim_id": claim.claim_id,
        "policy_number": claim.policy_number,
        "unit_key": claim.unit_key,
        "term_no": case.term_no,
        "kind": "health" if health else "property",
        "channel": case.channel,
        "status": case.status.value,
        "loss_date": claim.loss_date,
        "invoice_no": claim.invoice_no,
        "provider": claim.provider if isinstance(claim, HealthClaim) else "",
        "diagnosis": claim.diagnosis if isinstance(claim, HealthClaim) else claim.peril[:16],
        "claimed_fen": claimed_amount(claim).fen,
        "payable_fen": None if case.payable is None else case.payable.fen,
        "reserve_fen": case.reserve.fen,
        "paid_fen": case.paid.fen,
        "green_channel": case.green_channel,
        "data": claim_json(claim),
        "assessment": None if case.eob is None else dict(case.eob),
        "review": None if case.review is None else dict(case.review),
        "product_code": case.product_code,
        "straight_through": case.straight_through,
        "quality_sample": case.quality_sample,
        "fast_track": case.fast_track,
        "stage": case.stage,
        "sla_due_at": case.sla_due_at,
        "assignee": case.assignee,
        "incurred_fen": case.incurred.fen,
    }


class SqlClaimRepository:
    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock

    def add(self, case: ClaimCase) -> None:
        values = {**_row_values(case), "reported_at": self._clock(), "version": 0}
        self._connection.execute(insert(claims).values(values))

    def get(self, claim_id: str) -> ClaimCase:
        row = self._connection.execute(
            select(claims).where(claims.c.claim_id == claim_id)
        ).one_or_none()
        if row is None:
            raise NotFound("claim.not_found", f"没有赔案 {claim_id}", f"no claim {claim_id}")
        return _case_from_row(row)

    def update(self, case: ClaimCase, *, expected_version: int, decided: bool = False) -> ClaimCase:
        values = {**_row_values(case), "version": expected_version + 1}
        now = self._clock()
        if decided:
            values["decided_at"] = now
        if case.status is ClaimStatus.PAID:
            values["paid_at"] = now
        result = self._connection.execute(
            update(claims)
            .where(claims.c.claim_id == case.claim_id, claims.c.version == expected_version)
            .values(values)
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(
                "claim.concurrent_change",
                "赔案已被他人处理，请刷新后重试",
                "the claim was changed by someone else; reload and try again",
            )
        return ClaimCase(**{**_case_fields(case), "version": expected_version + 1})

    def prior_for_insured(self, policy_number: str, unit_key: str) -> list[ClaimCase]:
        rows = self._connection.execute(
            select(claims)
            .where(claims.c.policy_number == policy_number, claims.c.unit_key == unit_key)
            .order_by(claims.c.reported_at)
        )
        return [_case_from_row(row) for row in rows]

    def with_invoice(self, invoice_no: str) -> list[ClaimCase]:
        if not invoice_no:
            return []
        rows = self._connection.execute(select(claims).where(claims.c.invoice_no == invoice_no))
        return [_case_from_row(row) for row in rows]

    def find(self, claim_id: str) -> ClaimCase | None:
        try:
            return self.get(claim_id)
        except NotFound:
            return None

    def waiting(self, handler_id: str | None, limit: int) -> list[ClaimCase]:
        """Claims waiting for a person (referred or waiting for information): green channel
        first, then the nearest SLA clock, then the oldest; a handler sees their own and
        the unassigned ones."""
        condition: ColumnElement[bool] = claims.c.status.in_(["referred", "pending_info"])
        if handler_id is not None:
            condition = condition & (
                (claims.c.assignee == handler_id) | claims.c.assignee.is_(None)
            )
        rows = self._connection.execute(
            select(claims)
            .where(condition)
            .order_by(
                claims.c.green_channel.desc(),
                claims.c.sla_due_at.is_(None),
                claims.c.sla_due_at,
                claims.c.claim_id,
            )
            .limit(limit)
        )
        return [_case_from_row(row) for row in rows]

    def overdue(self, now: datetime) -> list[ClaimCase]:
        """Claims on a clock (特药直付) past it and not yet delivered."""
        rows = self._connection.execute(
            select(claims)
            .where(
                claims.c.sla_due_at.is_not(None),
                claims.c.sla_due_at < now,
                claims.c.stage != "delivered",
                claims.c.status != "declined",
            )
            .order_by(claims.c.sla_due_at)
        )
        return [_case_from_row(row) for row in rows]

    def for_policies(self, policy_numbers: Sequence[str], limit: int) -> list[ClaimCase]:
        rows = self._connection.execute(
            select(claims)
            .where(claims.c.policy_number.in_(list(policy_numbers)))
            .order_by(claims.c.claim_id.desc())
            .limit(limit)
        )
        return [_case_from_row(row) for row in rows]

    def policy_numbers(self, claim_ids: Sequence[str]) -> dict[str, str]:
        rows = self._connection.execute(
            select(claims.c.claim_id, claims.c.policy_number).where(
                claims.c.claim_id.in_(list(claim_ids))
            )
        )
        return {row.claim_id: row.policy_number for row in rows}

    def prior_claims(self, claim: Claim) -> list[PriorClaim]:
        """What review needs to know of earlier claims: every other claim of the same
        insured, and every other claim anywhere in the book with the same invoice number."""
        same_insured = (claims.c.policy_number == claim.policy_number) & (
            claims.c.unit_key == claim.unit_key
        )
        condition = same_insured
        if claim.invoice_no.strip():
            condition = same_insured | (claims.c.invoice_no == claim.invoice_no)
        rows = self._connection.execute(
            select(claims.c.claim_id, claims.c.data)
            .where(condition, claims.c.claim_id != claim.claim_id)
            .order_by(claims.c.reported_at, claims.c.claim_id)
        )
        return [prior_claim(claim_from_json(row.data)) for row in rows]

    def book_history(self) -> HealthHistory:
        """Every health claim in the book as the peer statistics and provider profiles of
        review read them: diagnosis, claimed amount, provider and invoice, as columns."""
        c = claims.c
        rows = self._connection.execute(
            select(c.diagnosis, c.claimed_fen, c.provider, c.invoice_no).where(c.kind == "health")
        )
        return HealthHistory.of(rows)

    def count_by_status(self) -> dict[str, int]:
        rows = self._connection.execute(
            select(claims.c.status, func.count()).group_by(claims.c.status)
        )
        return {status: int(count) for status, count in rows}


def prior_claim(claim: Claim) -> PriorClaim:
    """A claim as review sees it when it is an earlier one."""
    return PriorClaim(
        claim.claim_id,
        claim.policy_number,
        claim.unit_key,
        claim.invoice_no,
        claim.provider if isinstance(claim, HealthClaim) else "",
        claim.loss_date,
        claim.discharge_date if isinstance(claim, HealthClaim) else None,
        claim.diagnosis if isinstance(claim, HealthClaim) else "",
        claimed_amount(claim),
    )


def _case_fields(case: ClaimCase) -> dict[str, Any]:
    return {name: getattr(case, name) for name in ClaimCase.__dataclass_fields__}


def _case_from_row(row: Any) -> ClaimCase:
    return ClaimCase(
        claim=claim_from_json(row.data),
        term_no=row.term_no,
        status=ClaimStatus(row.status),
        channel=row.channel,
        reserve=Money.from_fen(row.reserve_fen),
        paid=Money.from_fen(row.paid_fen),
        payable=None if row.payable_fen is None else Money.from_fen(row.payable_fen),
        eob=row.assessment,
        green_channel=row.green_channel,
        version=row.version,
        product_code=row.product_code,
        review=row.review,
        straight_through=row.straight_through,
        quality_sample=row.quality_sample,
        fast_track=row.fast_track,
        stage=row.stage,
        sla_due_at=row.sla_due_at,
        assignee=row.assignee,
    )


class SqlLedgerRepository:
    """Accumulators per insured and policy year, guarded by a version so that two decisions
    for the same insured cannot both spend the same deductible or limit."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, policy_number: str, unit_key: str, term_no: int) -> tuple[Accumulators, int]:
        row = self._connection.execute(
            select(claim_ledgers.c.used, claim_ledgers.c.version).where(
                claim_ledgers.c.policy_number == policy_number,
                claim_ledgers.c.unit_key == unit_key,
                claim_ledgers.c.term_no == term_no,
            )
        ).one_or_none()
        if row is None:
            return Accumulators(), -1
        used = {key: Money.from_fen(fen) for key, fen in row.used.items()}
        return Accumulators(used), int(row.version)

    def save(
        self, policy_number: str, unit_key: str, term_no: int, used: Accumulators, version: int
    ) -> None:
        fen = {key: amount.fen for key, amount in used.used.items()}
        if version < 0:
            try:
                with self._connection.begin_nested():
                    self._connection.execute(
                        insert(claim_ledgers).values(
                            policy_number=policy_number,
                            unit_key=unit_key,
                            term_no=term_no,
                            used=fen,
                            version=0,
                        )
                    )
            except IntegrityError:
                raise _ledger_conflict() from None
            return
        result = self._connection.execute(
            update(claim_ledgers)
            .where(
                claim_ledgers.c.policy_number == policy_number,
                claim_ledgers.c.unit_key == unit_key,
                claim_ledgers.c.term_no == term_no,
                claim_ledgers.c.version == version,
            )
            .values(used=fen, version=version + 1)
        )
        if result.rowcount != 1:
            raise _ledger_conflict()


def _ledger_conflict() -> ConcurrencyConflict:
    return ConcurrencyConflict(
        "claim.ledger_conflict",
        "同一被保险人的另一赔案正在理算，请重试",
        "another claim of the same insured was decided at the same time; try again",
    )


class SqlPaymentRepository:
    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock

    def instruct(self, payment: PaymentInstruction) -> PaymentInstruction:
        """Write the instruction, or return the one already written under its key."""
        existing = self.by_key(payment.idempotency_key)
        if existing is not None:
            return existing
        values = {
            **{k: v for k, v in asdict(payment).items() if k != "amount"},
            "amount_fen": payment.amount.fen,
            "created_at": self._clock(),
        }
        self._connection.execute(insert(payments).values(values))
        return payment

    def by_key(self, key: str) -> PaymentInstruction | None:
        row = self._connection.execute(
            select(payments).where(payments.c.idempotency_key == key)
        ).one_or_none()
        return None if row is None else _payment(row)

    def for_claim(self, claim_id: str) -> list[PaymentInstruction]:
        rows = self._connection.execute(
            select(payments).where(payments.c.claim_id == claim_id).order_by(payments.c.created_at)
        )
        return [_payment(row) for row in rows]


def _payment(row: Any) -> PaymentInstruction:
    return PaymentInstruction(
        row.payment_id,
        row.claim_id,
        row.kind,
        row.payee_kind,
        row.payee,
        Money.from_fen(row.amount_fen),
        row.idempotency_key,
        row.status,
    )


class SqlClaimsUnitOfWork:
    """One transaction over the claims context's repositories and the event log."""

    claims: SqlClaimRepository
    ledgers: SqlLedgerRepository
    payments: SqlPaymentRepository
    events: SqlEventLog

    def __init__(self, engine: Engine, clock: Clock = system_clock) -> None:
        self._engine = engine
        self._clock = clock
        self._connection: Connection | None = None

    def __enter__(self) -> Self:
        connection = self._engine.connect()
        connection.begin()
        self._connection = connection
        self.claims = SqlClaimRepository(connection, self._clock)
        self.ledgers = SqlLedgerRepository(connection)
        self.payments = SqlPaymentRepository(connection, self._clock)
        self.events = SqlEventLog(connection)
        return self

    def __exit__(self, *exc: object) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            connection.rollback()
        finally:
            connection.close()
            self._connection = None

    def commit(self) -> None:
        assert self._connection is not None
        self._connection.commit()

    @property
    def connection(self) -> Connection:
        """The open transaction, for repositories kept beside this module (documents)."""
        assert self._connection is not None, "use the unit of work inside a with block"
        return self._connection


class SqlClaimsUnitOfWorkFactory:
    def __init__(self, engine: Engine, clock: Clock = system_clock) -> None:
        self.engine = engine
        self.clock = clock

    def __call__(self) -> SqlClaimsUnitOfWork:
        return SqlClaimsUnitOfWork(self.engine, self.clock)


__all__ = ["PaymentInstruction", "SqlClaimsUnitOfWork", "SqlClaimsUnitOfWorkFactory"]
