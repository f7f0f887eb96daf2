"""Claim use cases: report (报案), decide (理算 + 审核), pay; the entry every edge calls.

Deciding reads the policy through the policies context's service (never its tables), runs
the benefit engine against the insured's accumulators for the policy year, and — in one
transaction — stores the explanation of benefits, moves the accumulators (guarded by a
version), sets the reserve, writes the payment instruction for straight-through claims and
appends an event for every status change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from baoxian.catalog.services import Catalog
from baoxian.claims.case import ClaimCase, ClaimStatus, eob_json, move
from baoxian.claims.model import (
    Claim,
    CoverSnapshot,
    HealthClaim,
    adjudicate,
    claimed_amount,
)
from baoxian.claims.repository import PaymentInstruction, SqlClaimsUnitOfWork
from baoxian.policies.model import Policy, PolicyStatus
from baoxian.policies.ports import Event
from baoxian.policies.services import PolicyService
from baoxian.shared.clock import Clock
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money

PayeeKind = Literal["insured", "pharmacy", "hospital"]


@dataclass
class ClaimService:
    uow: Callable[[], SqlClaimsUnitOfWork]
    policies: PolicyService
    catalog: Catalog
    clock: Clock
    new_id: Callable[[], str]

    def report(
        self,
        claim: Claim,
        channel: str = "portal",
        green_channel: bool = False,
        fast_track: str = "",
    ) -> ClaimCase:
        """报案: check the policy and insured exist, keep the claim with a case reserve equal
        to what is claimed, and record it.  Reporting the same claim ID twice returns the
        first report."""
        policy = self.policies.policy(claim.policy_number)
        policy.unit(claim.unit_key)
        _require_items(claim)
        with self.uow() as uow:
            existing = _existing(uow, claim.claim_id)
            if existing is not None:
                return existing
            claimed = claimed_amount(claim)
            case = ClaimCase(
                claim=claim,
                term_no=policy.term_no,
                status=ClaimStatus.REPORTED,
                channel=channel,
                reserve=claimed,
                paid=Money.ZERO,
                green_channel=green_channel,
                product_code=policy.product_code,
                fast_track=fast_track,
            )
            uow.claims.add(case)
            self._record(
                uow, case, "claim.reported", {"claimed_fen": claimed.fen, "channel": channel}
            )
            uow.commit()
        return case

    def decide(self, claim_id: str) -> ClaimCase:
        """理算: adjudicate against the policy year's accumulators and settle the outcome."""
        with self.uow() as uow:
            case = uow.claims.get(claim_id)
        if case.status is not ClaimStatus.REPORTED:
            return case  # already decided: deciding again changes nothing
        policy = self.policies.policy(case.claim.policy_number)
        cover = snapshot(policy, case.claim.unit_key, self.catalog)
        with self.uow() as uow:
            case = uow.claims.get(claim_id)
            used, ledger_version = uow.ledgers.get(
                policy.policy_number, case.claim.unit_key, case.term_no
            )
            assessment = adjudicate(case.claim, cover, used)
            to = ClaimStatus.DECLINED if assessment.payable.is_zero() else ClaimStatus.APPROVED
            decided = replace(
                move(case, to),
                payable=assessment.payable,
                reserve=assessment.payable,
                eob=eob_json(assessment),
            )
            uow.ledgers.save(
                policy.policy_number,
                case.claim.unit_key,
                case.term_no,
                assessment.accumulators,
                ledger_version,
            )
            saved = uow.claims.update(decided, expected_version=case.version, decided=True)
            self._record(
                uow,
                saved,
                "claim.decided",
                {
                    "status": to.value,
                    "payable_fen": assessment.payable.fen,
                    "reasons": [s.rule for s in assessment.reasons]
                    + [s.rule for item in assessment.items for s in item.steps],
                },
            )
            uow.commit()
        return saved

    def pay(
        self, claim_id: str, payee_kind: PayeeKind = "insured", payee: str | None = None
    ) -> tuple[ClaimCase, PaymentInstruction]:
        """支付指令 for what is payable and not yet paid.  Idempotent: a re-run returns the
        instruction already written and pays nothing more."""
        with self.uow() as uow:
            case = uow.claims.get(claim_id)
            key = f"{claim_id}:final"
            existing = uow.payments.by_key(key)
            if existing is not None:
                return case, existing
            to_pay = (case.payable or Money.ZERO) - case.paid
            paid = replace(
                move(case, ClaimStatus.PAID), paid=case.paid + to_pay, reserve=Money.ZERO
            )
            instruction = uow.payments.instruct(
                PaymentInstruction(
                    self.new_id(),
                    claim_id,
                    "final",
                    payee_kind,
                    payee or case.claim.unit_key,
                    to_pay,
                    key,
                )
            )
            saved = uow.claims.update(paid, expected_version=case.version)
            self._record(
                uow,
                saved,
                "claim.paid",
                {
                    "amount_fen": to_pay.fen,
                    "payee_kind": payee_kind,
                    "payment_id": instruction.payment_id,
                },
            )
            uow.commit()
        return saved, instruction

    def case(self, claim_id: str) -> ClaimCase:
        with self.uow() as uow:
            return uow.claims.get(claim_id)

    def history(self, claim_id: str) -> list[Event]:
        with self.uow() as uow:
            uow.claims.get(claim_id)
            return uow.events.for_aggregate(claim_id)

    def _record(
        self, uow: SqlClaimsUnitOfWork, case: ClaimCase, event_type: str, payload: dict[str, Any]
    ) -> None:
        uow.events.append(Event("claim", case.claim_id, event_type, payload, self.clock()))


def snapshot(policy: Policy, unit_key: str, catalog: Catalog) -> CoverSnapshot:
    """What the policy covered for the insured, as the benefit engine needs it."""
    policy.unit(unit_key)
    end = policy.term_end if policy.ended_on is None else min(policy.term_end, policy.ended_on)
    in_force = policy.status is PolicyStatus.IN_FORCE or policy.ended_on is not None
    return CoverSnapshot(
        policy_number=policy.policy_number,
        unit_key=unit_key,
        in_force=in_force,
        term_start=policy.term_start,
        term_end=end,
        original_inception=policy.original_inception,
        term_no=policy.term_no,
        sums_insured={c.coverage: c.sum_insured for c in policy.cover if c.unit_key == unit_key},
        plan=catalog.plan(policy.product_code, policy.plan_version).plan,
    )


def _existing(uow: SqlClaimsUnitOfWork, claim_id: str) -> ClaimCase | None:
    try:
        return uow.claims.get(claim_id)
    except Exception:
        return None


def _require_items(claim: Claim) -> None:
    if isinstance(claim, HealthClaim) and not claim.items:
        raise ValidationFailed("claim.no_items", "请提供费用明细", "an itemised bill is required")
    amounts = (
        [i.amount for i in claim.items] if isinstance(claim, HealthClaim) else [claim.assessed_loss]
    )
    if any(a.is_negative() for a in amounts):
        raise ValidationFailed(
            "claim.negative_amount", "金额不能为负", "amounts cannot be negative"
        )


__all__ = ["ClaimService", "snapshot"]
