"""The claim case (赔案): a claim with its state, money and route — pure, no I/O.

Statuses and the moves between them::

    reported ──► approved ──► paid
       │  └────► declined
       └──► referred ◄──► pending_info
               ├──► approved
               └──► declined

``referred`` is the human review queue (人工审核); ``pending_info`` waits for the customer
or provider to send what a handler asked for (补充资料).  The money obeys
``paid + reserve = incurred`` at every step: the reserve (未决赔款准备金) is what is still
expected to be paid; it starts at the amount claimed, becomes the assessed payable when the
claim is decided and falls by every payment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from baoxian.claims.model import Assessment, Claim, Step
from baoxian.claims.review import Review
from baoxian.shared.errors import InvalidTransition
from baoxian.shared.money import Money


class ClaimStatus(StrEnum):
    REPORTED = "reported"  # 报案
    REFERRED = "referred"  # 转人工审核
    PENDING_INFO = "pending_info"  # 待补充资料
    APPROVED = "approved"  # 核赔通过，待支付
    DECLINED = "declined"  # 拒赔 / 零赔付结案
    PAID = "paid"  # 已支付

    @property
    def zh(self) -> str:
        return _STATUS_ZH[self]


_STATUS_ZH = {
    ClaimStatus.REPORTED: "已报案",
    ClaimStatus.REFERRED: "人工审核中",
    ClaimStatus.PENDING_INFO: "待补充资料",
    ClaimStatus.APPROVED: "已核赔，待支付",
    ClaimStatus.DECLINED: "已结案（拒赔或零赔付）",
    ClaimStatus.PAID: "已支付",
}

CLAIM_TRANSITIONS: Mapping[ClaimStatus, frozenset[ClaimStatus]] = {
    ClaimStatus.REPORTED: frozenset(
        {ClaimStatus.APPROVED, ClaimStatus.REFERRED, ClaimStatus.DECLINED}
    ),
    ClaimStatus.REFERRED: frozenset(
        {ClaimStatus.APPROVED, ClaimStatus.DECLINED, ClaimStatus.PENDING_INFO}
    ),
    ClaimStatus.PENDING_INFO: frozenset({ClaimStatus.REFERRED, ClaimStatus.DECLINED}),
    ClaimStatus.APPROVED: frozenset({ClaimStatus.PAID}),
    ClaimStatus.DECLINED: frozenset(),
    ClaimStatus.PAID: frozenset(),
}

FAST_TRACKS = frozenset({"", "special_drug", "discharge"})
"""No fast track; 特药直付 (pharmacy paid directly, 48-hour SLA); 出院即结算 (from 医保
settlement data, no documents from the customer)."""


@dataclass(frozen=True, slots=True)
class ClaimCase:
    """A claim with its state: status, the money (paid + reserve = incurred), its EOB and
    the review's route."""

    claim: Claim
    term_no: int
    status: ClaimStatus
    channel: str
    reserve: Money
    paid: Money
    payable: Money | None = None
    eob: Mapping[str, Any] | None = None
    green_channel: bool = False
    version: int = 0
    product_code: str = ""
    review: Mapping[str, Any] | None = None
    straight_through: bool | None = None
    quality_sample: bool = False
    fast_track: str = ""
    stage: str = ""
    sla_due_at: datetime | None = None
    assignee: str | None = None

    @property
    def claim_id(self) -> str:
        return self.claim.claim_id

    @property
    def incurred(self) -> Money:
        return self.paid + self.reserve

    @property
    def outstanding(self) -> Money:
        """Decided payable not yet paid (zero before a decision)."""
        return Money.ZERO if self.payable is None else self.payable - self.paid


def move(case: ClaimCase, to: ClaimStatus) -> ClaimCase:
    """The claim state machine; an invalid move changes nothing."""
    require_move(case, to)
    return replace(case, status=to)


def require_move(case: ClaimCase, to: ClaimStatus) -> None:
    """Refuse a move the state machine does not have (``claim.cannot_<to>``)."""
    if to not in CLAIM_TRANSITIONS[case.status]:
        raise InvalidTransition(
            f"claim.cannot_{to.value}",
            f"赔案 {case.claim_id} 当前状态为“{case.status.zh}”，不能变为“{to.zh}”",
            f"claim {case.claim_id} is {case.status.value}; it cannot become {to.value}",
        )


def decided(case: ClaimCase, assessment: Assessment, result: Review) -> tuple[ClaimCase, bool]:
    """The case after an automatic decision, and whether the policy year's accumulators
    move (deductibles and limits are consumed only by claims that are decided to pay).

    * review ``decline`` → declined, nothing payable, accumulators untouched;
    * review ``refer`` → referred to a person; the assessment is kept as the provisional
      EOB and its payable as the reserve, but nothing is consumed until a handler decides
      (the claim is then re-assessed against the accumulators of that moment);
    * review ``pay`` → approved when something is payable, else declined as a decided zero
      payment with the engine's reasons — both straight through.
    """
    outcome = result.outcome
    payable: Money | None
    straight: bool | None
    if outcome == "decline":
        to, payable, reserve, straight = ClaimStatus.DECLINED, Money.ZERO, Money.ZERO, True
    elif outcome == "refer":
        to, payable = ClaimStatus.REFERRED, case.payable
        reserve = _still_to_pay(assessment.payable, case.paid)
        straight = case.straight_through
    else:
        payable = assessment.payable
        reserve = _still_to_pay(payable, case.paid)
        to = ClaimStatus.DECLINED if payable.is_zero() else ClaimStatus.APPROVED
        straight = True
    require_move(case, to)
    done = replace(
        case,
        status=to,
        eob=eob_json(assessment),
        review=review_json(result),
        quality_sample=result.quality_sample,
        payable=payable,
        reserve=reserve,
        straight_through=straight,
    )
    return done, to is ClaimStatus.APPROVED


def _still_to_pay(estimate: Money, paid: Money) -> Money:
    """The reserve: what the estimate leaves to pay after what was paid in advance (预赔付),
    never below zero (an advance above the final payable is recovered, not reserved)."""
    rest = estimate - paid
    return Money.ZERO if rest.amount < 0 else rest


def review_json(result: Review) -> dict[str, Any]:
    """The review as stored with the claim: route, every finding, score and QA sampling."""
    return {
        "outcome": result.outcome,
        "findings": [
            {"code": f.code, "severity": f.severity, "zh": f.zh, "en": f.en}
            for f in result.findings
        ],
        "anomaly_score": result.anomaly_score,
        "quality_sample": result.quality_sample,
    }


def eob_json(assessment: Assessment) -> dict[str, Any]:
    """The explanation of benefits as stored (every step with the code and arguments of its
    reason; ``reasons.step_texts`` gives its zh/en)."""
    return {
        "outcome": assessment.outcome,
        "claimed_fen": assessment.claimed.fen,
        "payable_fen": assessment.payable.fen,
        "reasons": [_step_json(s) for s in assessment.reasons],
        "items": [
            {
                "item": i.item,
                "coverage": i.coverage,
                "claimed_fen": i.claimed.fen,
                "payable_fen": i.payable.fen,
                "steps": [_step_json(s) for s in i.steps],
            }
            for i in assessment.items
        ],
    }


def _step_json(step: Step) -> dict[str, Any]:
    """A step as stored: its wording as a code and arguments (``reasons.step_texts``
    renders the zh/en on read)."""
    return {
        "rule": step.rule,
        "coverage": step.coverage,
        "reduction_fen": step.reduction.fen,
        "text": step.text,
        "args": list(step.args),
    }


__all__ = [
    "CLAIM_TRANSITIONS",
    "FAST_TRACKS",
    "ClaimCase",
    "ClaimStatus",
    "decided",
    "eob_json",
    "move",
    "require_move",
    "review_json",
]
