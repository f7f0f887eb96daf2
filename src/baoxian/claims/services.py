"""Claim use cases: report (报案), decide (理算 + 智能审核), the human review queue, fast
tracks and payments — the entry every edge calls.

Deciding reads the policy through the policies context's service (never its tables), runs
the benefit engine against the insured's accumulators for the policy year, reviews the
result (named rules and the anomaly score) and — in one transaction — stores the
explanation of benefits and the review, moves the accumulators (guarded by a version) when
the claim is decided to pay, sets the reserve and appends an event for every change.  A
straight-through claim is paid in the same transaction.  A referred claim waits in the
queue until a handler approves it within their authority, declines it or asks for more.

Money obeys ``paid + reserve = incurred`` after every call; a payment is an instruction
with an idempotency key, so no re-run pays twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from baoxian.catalog.services import Catalog
from baoxian.claims.anomaly import (
    AnomalyModel,
    default_model,
    model_row,
    scorable,
)
from baoxian.claims.case import FAST_TRACKS, ClaimCase, ClaimStatus, decided, eob_json, move
from baoxian.claims.model import (
    Assessment,
    Claim,
    CoverSnapshot,
    HealthClaim,
    adjudicate,
    claimed_amount,
)
from baoxian.claims.queue import Handler, HandlerRepository, queue_order
from baoxian.claims.repository import PaymentInstruction, SqlClaimsUnitOfWork
from baoxian.claims.review import (
    PeerStats,
    ProviderProfile,
    ReviewContext,
    ReviewPolicy,
    review,
)
from baoxian.claims.statistics import book_statistics
from baoxian.policies.model import Policy, PolicyStatus
from baoxian.policies.ports import Event
from baoxian.policies.services import PolicyService
from baoxian.shared.clock import Clock
from baoxian.shared.errors import InvalidTransition, ValidationFailed
from baoxian.shared.money import Money

PayeeKind = Literal["insured", "pharmacy", "hospital"]
PAYEE_KINDS: frozenset[str] = frozenset({"insured", "pharmacy", "hospital"})

SPECIAL_DRUG_SLA = timedelta(hours=48)
"""特药直付: from the prescription reaching us to the drug reaching the patient."""

OPEN = (ClaimStatus.REPORTED, ClaimStatus.REFERRED, ClaimStatus.PENDING_INFO)


@dataclass(frozen=True, slots=True)
class BookStats:
    """Peer statistics and provider profiles of the whole book, as review reads them."""

    peers: dict[str, PeerStats]
    providers: dict[str, ProviderProfile]
    computed_at: datetime


@dataclass
class ClaimService:
    uow: Callable[[], SqlClaimsUnitOfWork]
    policies: PolicyService
    catalog: Catalog
    clock: Clock
    new_id: Callable[[], str]
    review_policy: ReviewPolicy = field(default_factory=ReviewPolicy)
    anomaly_model: Callable[[], AnomalyModel | None] = default_model
    stats_max_age: timedelta = timedelta(minutes=10)
    prepayment_share: Decimal = Decimal("0.5")
    _stats: BookStats | None = field(default=None, init=False, repr=False)

    # ------------------------------------------------------------------ report

    def report(
        self,
        claim: Claim,
        channel: str = "portal",
        green_channel: bool = False,
        fast_track: str = "",
    ) -> ClaimCase:
        """报案: check the policy and insured exist, keep the claim with a case reserve equal
        to what is claimed, and record it.  The claim belongs to the policy term of the date
        of loss — an earlier one when it is reported after a renewal.  Reporting the same
        claim ID twice returns the first report.  A special-drug claim (特药直付) starts its
        48-hour clock now."""
        policy = self.policies.policy_on(claim.policy_number, claim.loss_date)
        policy.unit(claim.unit_key)
        require_items(claim)
        require_fast_track(claim, fast_track)
        now = self.clock()
        with self.uow() as uow:
            existing = uow.claims.find(claim.claim_id)
            if existing is not None:
                return existing
            claimed = claimed_amount(claim)
            special = fast_track == "special_drug"
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
                stage="prescription_received" if special else "",
                sla_due_at=now + SPECIAL_DRUG_SLA if special else None,
            )
            uow.claims.add(case)
            self._record(
                uow,
                case,
                "claim.reported",
                {
                    "claimed_fen": claimed.fen,
                    "channel": channel,
                    "green_channel": green_channel,
                    "fast_track": fast_track,
                },
            )
            uow.commit()
        return case

    # ------------------------------------------------------------------ decide

    def decide(self, claim_id: str) -> ClaimCase:
        """理算 + 智能审核: adjudicate against the policy year's accumulators, review, and
        settle the route — pay straight through, refer to the queue, or decline.  Deciding
        a claim that is no longer ``reported`` changes nothing."""
        case = self.case(claim_id)
        if case.status is not ClaimStatus.REPORTED:
            return case
        policy = self.policies.policy_on(case.claim.policy_number, case.claim.loss_date)
        cover = snapshot(policy, case.claim.unit_key, self.catalog)
        stats = self.book_stats()
        with self.uow() as uow:
            case = uow.claims.get(claim_id)
            used, ledger_version = uow.ledgers.get(
                policy.policy_number, case.claim.unit_key, case.term_no
            )
            assessment = adjudicate(case.claim, cover, used)
            context = review_context(policy, case.claim, uow.claims.prior_claims(case.claim), stats)
            result = review(
                case.claim,
                assessment,
                context,
                self.review_policy,
                self._score(case.claim, context),
            )
            after, consume = decided(case, assessment, result)
            if consume:
                uow.ledgers.save(
                    policy.policy_number,
                    case.claim.unit_key,
                    case.term_no,
                    assessment.accumulators,
                    ledger_version,
                )
            after = staged(after)
            saved = uow.claims.update(after, expected_version=case.version, decided=True)
            self._record(uow, saved, "claim.decided", decision_payload(saved, assessment))
            if saved.status is ClaimStatus.APPROVED:
                saved = self._settle(uow, saved, *default_payee(saved))
            uow.commit()
        return saved

    def book_stats(self) -> BookStats:
        """Peer statistics and provider profiles, recomputed from the store when older
        than ``stats_max_age`` (a nightly job would keep them; a process keeps a copy)."""
        now = self.clock()
        if self._stats is None or now - self._stats.computed_at > self.stats_max_age:
            with self.uow() as uow:
                history = uow.claims.book_history()
            self._stats = BookStats(*book_statistics(history), now)
        return self._stats

    def _score(self, claim: Claim, context: ReviewContext) -> float | None:
        if not isinstance(claim, HealthClaim):
            return None
        policy = self.review_policy
        if not scorable(claim, context, policy.peer_min_count, policy.provider_min_claims):
            return None
        model = self.anomaly_model()
        if model is None:
            return None
        return model.score_one(model_row(claim, context, model.columns))

    # ------------------------------------------------------------------ the queue

    def add_handler(self, handler_id: str, name: str, authority: Money) -> Handler:
        """Register a claims handler (理赔员) with the payable they may approve alone."""
        if authority.is_negative():
            raise ValidationFailed(
                "claim.handler_authority_negative",
                "审批权限金额不能为负",
                "an authority limit cannot be negative",
            )
        with self.uow() as uow:
            handler = HandlerRepository(uow.connection).put(Handler(handler_id, name, authority))
            uow.commit()
        return handler

    def handlers(self) -> list[Handler]:
        with self.uow() as uow:
            return HandlerRepository(uow.connection).all()

    def queue(self, handler_id: str | None = None, limit: int = 50) -> list[ClaimCase]:
        """Claims waiting for a person: green channel (绿色通道) first, then the nearest SLA
        clock, then the oldest report.  With ``handler_id``: that handler's claims and the
        unassigned ones."""
        with self.uow() as uow:
            waiting = uow.claims.waiting(handler_id, limit)
        return sorted(waiting, key=queue_order)

    def assign(self, claim_id: str, handler_id: str) -> ClaimCase:
        """Give a waiting claim to a handler (re-assigning is allowed and recorded)."""
        with self.uow() as uow:
            handler = HandlerRepository(uow.connection).get(handler_id)
            case = uow.claims.get(claim_id)
            _require_waiting(case)
            saved = uow.claims.update(
                replace(case, assignee=handler.handler_id), expected_version=case.version
            )
            self._record(
                uow, saved, "claim.assigned", {"handler": handler_id, "previous": case.assignee}
            )
            uow.commit()
        return saved

    def approve(self, claim_id: str, handler_id: str, note: str = "") -> ClaimCase:
        """核赔通过 by a handler: re-assess against the accumulators of this moment (claims
        decided since the referral may have used the deductible), check the payable is
        within the handler's authority, consume the accumulators and pay."""
        case = self.case(claim_id)
        if case.status is not ClaimStatus.REFERRED:
            raise _not_waiting(case, ClaimStatus.APPROVED)
        policy = self.policies.policy_on(case.claim.policy_number, case.claim.loss_date)
        cover = snapshot(policy, case.claim.unit_key, self.catalog)
        with self.uow() as uow:
            handler = HandlerRepository(uow.connection).get(handler_id)
            case = uow.claims.get(claim_id)
            _require_assignee(case, handler)
            used, version = uow.ledgers.get(policy.policy_number, case.claim.unit_key, case.term_no)
            assessment = adjudicate(case.claim, cover, used)
            handler.require_authority(assessment.payable, claim_id)
            payable = assessment.payable
            to = ClaimStatus.APPROVED if payable > Money.ZERO else ClaimStatus.DECLINED
            after = replace(
                move(case, to),
                payable=payable,
                reserve=payable - case.paid,
                eob=eob_json(assessment),
                straight_through=False,
                assignee=handler.handler_id,
            )
            uow.ledgers.save(
                policy.policy_number,
                case.claim.unit_key,
                case.term_no,
                assessment.accumulators,
                version,
            )
            saved = uow.claims.update(staged(after), expected_version=case.version, decided=True)
            payload = {**decision_payload(saved, assessment), "handler": handler_id, "note": note}
            self._record(uow, saved, "claim.approved", payload)
            if saved.status is ClaimStatus.APPROVED:
                saved = self._settle(uow, saved, *default_payee(saved))
            elif saved.paid > Money.ZERO:
                saved = self._recover(uow, saved, *default_payee(saved))
            uow.commit()
        return saved

    def decline(self, claim_id: str, handler_id: str, reason_zh: str, reason_en: str) -> ClaimCase:
        """拒赔 by a handler, with the reason in both languages; a pre-payment already made
        becomes an amount to recover (追回)."""
        _require_reason(reason_zh, reason_en)
        with self.uow() as uow:
            handler = HandlerRepository(uow.connection).get(handler_id)
            case = uow.claims.get(claim_id)
            if case.status not in (ClaimStatus.REFERRED, ClaimStatus.PENDING_INFO):
                raise _not_waiting(case, ClaimStatus.DECLINED)
            after = replace(
                move(case, ClaimStatus.DECLINED),
                payable=Money.ZERO,
                reserve=-case.paid,
                straight_through=False,
                assignee=handler.handler_id,
            )
            saved = uow.claims.update(after, expected_version=case.version, decided=True)
            self._record(
                uow,
                saved,
                "claim.declined",
                {"handler": handler_id, "reason_zh": reason_zh, "reason_en": reason_en},
            )
            if saved.paid > Money.ZERO:
                saved = self._recover(uow, saved, *default_payee(saved))
            uow.commit()
        return saved

    def request_info(self, claim_id: str, handler_id: str, what_zh: str, what_en: str) -> ClaimCase:
        """补充资料: the claim waits for the customer or provider; the request is an event
        the outreach context turns into a message."""
        _require_reason(what_zh, what_en)
        with self.uow() as uow:
            handler = HandlerRepository(uow.connection).get(handler_id)
            case = uow.claims.get(claim_id)
            after = replace(move(case, ClaimStatus.PENDING_INFO), assignee=handler.handler_id)
            saved = uow.claims.update(after, expected_version=case.version)
            self._record(
                uow,
                saved,
                "claim.info_requested",
                {"handler": handler_id, "what_zh": what_zh, "what_en": what_en},
            )
            uow.commit()
        return saved

    def provide_info(self, claim_id: str, note: str = "") -> ClaimCase:
        """The information asked for arrived: the claim goes back to its handler's queue."""
        with self.uow() as uow:
            case = uow.claims.get(claim_id)
            saved = uow.claims.update(
                move(case, ClaimStatus.REFERRED), expected_version=case.version
            )
            self._record(uow, saved, "claim.info_provided", {"note": note})
            uow.commit()
        return saved

    # ------------------------------------------------------------------ money

    def prepay(
        self,
        claim_id: str,
        amount: Money,
        request_id: str,
        payee_kind: PayeeKind = "insured",
        payee: str | None = None,
    ) -> tuple[ClaimCase, PaymentInstruction]:
        """预赔付: pay part of a claim before the final assessment — at most
        ``prepayment_share`` of the reserve (the provisional estimate) in all.  The same
        ``request_id`` never pays twice; the final payment pays only the rest."""
        _require_payee(payee_kind)
        with self.uow() as uow:
            key = f"{claim_id}:prepay:{request_id}"
            existing = uow.payments.by_key(key)
            if existing is not None:
                return uow.claims.get(claim_id), existing
            case = uow.claims.get(claim_id)
            if case.status not in OPEN:
                raise _not_waiting(case, ClaimStatus.APPROVED, "claim.cannot_prepay")
            ceiling = case.incurred.times(self.prepayment_share) - case.paid
            if amount <= Money.ZERO or amount > ceiling:
                raise ValidationFailed(
                    "claim.prepayment_over_limit",
                    f"预赔付金额须大于 0 且不超过 {max(ceiling, Money.ZERO).amount:,} 元"
                    f"（预估赔款的 {self.prepayment_share:.0%}，扣除已预付）",
                    f"a pre-payment must be above 0 and at most "
                    f"{max(ceiling, Money.ZERO).amount:,} CNY ({self.prepayment_share:.0%} of "
                    "the estimate, less what was pre-paid)",
                )
            instruction = uow.payments.instruct(
                PaymentInstruction(
                    self.new_id(),
                    claim_id,
                    "prepayment",
                    payee_kind,
                    payee or case.claim.unit_key,
                    amount,
                    key,
                )
            )
            after = replace(case, paid=case.paid + amount, reserve=case.reserve - amount)
            saved = uow.claims.update(after, expected_version=case.version)
            self._record(
                uow,
                saved,
                "claim.prepaid",
                {"amount_fen": amount.fen, "payment_id": instruction.payment_id},
            )
            uow.commit()
        return saved, instruction

    def pay(
        self, claim_id: str, payee_kind: PayeeKind = "insured", payee: str | None = None
    ) -> tuple[ClaimCase, PaymentInstruction]:
        """支付指令 for what is payable and not yet paid.  Idempotent: a re-run returns the
        instruction already written and pays nothing more."""
        _require_payee(payee_kind)
        with self.uow() as uow:
            existing = uow.payments.by_key(f"{claim_id}:final")
            case = uow.claims.get(claim_id)
            if existing is not None:
                return case, existing
            saved = self._settle(uow, case, payee_kind, payee or case.claim.unit_key)
            instruction = uow.payments.by_key(f"{claim_id}:final")
            assert instruction is not None
            uow.commit()
        return saved, instruction

    def payments(self, claim_id: str) -> list[PaymentInstruction]:
        with self.uow() as uow:
            uow.claims.get(claim_id)
            return uow.payments.for_claim(claim_id)

    def _settle(
        self, uow: SqlClaimsUnitOfWork, case: ClaimCase, payee_kind: str, payee: str
    ) -> ClaimCase:
        """The final payment of an approved claim: what is payable less any pre-payment."""
        to_pay = case.outstanding
        if to_pay.is_negative():
            return self._recover(uow, case, payee_kind, payee)
        instruction = uow.payments.instruct(
            PaymentInstruction(
                self.new_id(),
                case.claim_id,
                "final",
                payee_kind,
                payee,
                to_pay,
                f"{case.claim_id}:final",
            )
        )
        after = replace(move(case, ClaimStatus.PAID), paid=case.paid + to_pay, reserve=Money.ZERO)
        saved = uow.claims.update(staged(after), expected_version=case.version)
        self._record(
            uow,
            saved,
            "claim.paid",
            {
                "amount_fen": to_pay.fen,
                "payee_kind": payee_kind,
                "payee": payee,
                "payment_id": instruction.payment_id,
            },
        )
        return saved

    def _recover(
        self, uow: SqlClaimsUnitOfWork, case: ClaimCase, payee_kind: str, payee: str
    ) -> ClaimCase:
        """Pre-paid more than the final payable: the difference is to be recovered (追回)
        from the payee; ``paid`` becomes what stays paid, so the books still balance."""
        payable = case.payable or Money.ZERO
        over = case.paid - payable
        instruction = uow.payments.instruct(
            PaymentInstruction(
                self.new_id(),
                case.claim_id,
                "recovery",
                payee_kind,
                payee,
                over,
                f"{case.claim_id}:recovery",
                "to_recover",
            )
        )
        status = ClaimStatus.PAID if payable > Money.ZERO else case.status
        after = replace(case, status=status, paid=payable, reserve=Money.ZERO)
        saved = uow.claims.update(after, expected_version=case.version)
        self._record(
            uow,
            saved,
            "claim.overpayment_to_recover",
            {"amount_fen": over.fen, "payment_id": instruction.payment_id},
        )
        return saved

    # ------------------------------------------------------------------ special drugs

    def drug_delivered(self, claim_id: str, pharmacy: str) -> ClaimCase:
        """The designated pharmacy confirms the special drug reached the patient: the
        last stage of 特药直付; the event says whether it was within the 48-hour clock."""
        now = self.clock()
        with self.uow() as uow:
            case = uow.claims.get(claim_id)
            if case.fast_track != "special_drug" or case.status is not ClaimStatus.PAID:
                raise InvalidTransition(
                    "claim.cannot_deliver",
                    f"赔案 {claim_id} 不是已支付的特药直付案件，不能确认送达",
                    f"claim {claim_id} is not a paid special-drug direct-pay claim",
                )
            if isinstance(case.claim, HealthClaim) and pharmacy != case.claim.provider:
                raise ValidationFailed(
                    "claim.wrong_pharmacy",
                    f"药房 {pharmacy} 不是本案的指定药房",
                    f"pharmacy {pharmacy} is not this claim's designated pharmacy",
                )
            if case.stage == "delivered":
                return case
            saved = uow.claims.update(
                replace(case, stage="delivered"), expected_version=case.version
            )
            within = case.sla_due_at is None or now <= case.sla_due_at
            self._record(
                uow, saved, "claim.drug_delivered", {"pharmacy": pharmacy, "within_sla": within}
            )
            uow.commit()
        return saved

    def sla_breaches(self) -> list[ClaimCase]:
        """Special-drug claims whose 48-hour clock ran out before the drug was delivered."""
        with self.uow() as uow:
            return uow.claims.overdue(self.clock())

    # ------------------------------------------------------------------ reading

    def claims_on(self, policy_numbers: Sequence[str], limit: int = 50) -> list[ClaimCase]:
        """Claims on these policies, newest first (a customer's 我的理赔)."""
        if not policy_numbers:
            return []
        with self.uow() as uow:
            return uow.claims.for_policies(policy_numbers, limit)

    def policy_numbers(self, claim_ids: Sequence[str]) -> dict[str, str]:
        """The policy each of these claims is on (unknown IDs are left out), in one read."""
        if not claim_ids:
            return {}
        with self.uow() as uow:
            return uow.claims.policy_numbers(claim_ids)

    def case(self, claim_id: str) -> ClaimCase:
        with self.uow() as uow:
            return uow.claims.get(claim_id)

    def history(self, claim_id: str) -> list[Event]:
        """The claim's status history: every event, oldest first."""
        with self.uow() as uow:
            uow.claims.get(claim_id)
            return uow.events.for_aggregate(claim_id)

    def _record(
        self, uow: SqlClaimsUnitOfWork, case: ClaimCase, event_type: str, payload: dict[str, Any]
    ) -> None:
        uow.events.append(Event("claim", case.claim_id, event_type, payload, self.clock()))


# ---------------------------------------------------------------------- helpers


def snapshot(policy: Policy, unit_key: str, catalog: Catalog) -> CoverSnapshot:
    """What the policy covered for the insured, as the benefit engine needs it."""
    policy.unit(unit_key)
    end = policy.term_end if policy.ended_on is None else min(policy.term_end, policy.ended_on)
    in_force = policy.status is PolicyStatus.IN_FORCE or policy.ended_on is not None
    return CoverSnapshot(
        policy_number=policy.policy_number,
        unit_key=unit_key,
        in_force=in_force,
        term_start=policy.cover_starts(unit_key),
        term_end=end,
        original_inception=policy.insured_since(unit_key),
        term_no=policy.term_no,
        sums_insured={c.coverage: c.sum_insured for c in policy.cover if c.unit_key == unit_key},
        plan=catalog.plan(policy.product_code, policy.plan_version).plan,
    )


def review_context(
    policy: Policy, claim: Claim, prior: list[Any], stats: BookStats
) -> ReviewContext:
    """What review knows of the insured (sex and age from the rating facts), their and the
    invoice's earlier claims, and the book."""
    facts = policy.unit(claim.unit_key).facts
    return ReviewContext(
        insured_gender=str(facts.get("gender", "")),
        insured_age=int(facts.get("age", 0)),
        original_inception=policy.insured_since(claim.unit_key),
        prior_claims=tuple(prior),
        peer_stats=stats.peers,
        provider_profiles=stats.providers,
    )


def staged(case: ClaimCase) -> ClaimCase:
    """The special-drug stage that follows from the status."""
    if case.fast_track != "special_drug" or case.stage == "delivered":
        return case
    stage = {
        ClaimStatus.REFERRED: "under_review",
        ClaimStatus.PENDING_INFO: "under_review",
        ClaimStatus.APPROVED: "approved",
        ClaimStatus.PAID: "paid_to_pharmacy",
        ClaimStatus.DECLINED: "declined",
    }.get(case.status, case.stage)
    return replace(case, stage=stage)


def default_payee(case: ClaimCase) -> tuple[str, str]:
    """特药直付 pays the designated pharmacy; everything else pays the insured."""
    if case.fast_track == "special_drug" and isinstance(case.claim, HealthClaim):
        return "pharmacy", case.claim.provider
    return "insured", case.claim.unit_key


def decision_payload(case: ClaimCase, assessment: Assessment) -> dict[str, Any]:
    review_data = case.review or {}
    return {
        "status": case.status.value,
        "payable_fen": (case.payable or Money.ZERO).fen,
        "straight_through": case.straight_through,
        "quality_sample": case.quality_sample,
        "reasons": [s.rule for s in assessment.reasons]
        + [s.rule for item in assessment.items for s in item.steps],
        "findings": [f["code"] for f in review_data.get("findings", [])],
    }


def _require_waiting(case: ClaimCase) -> None:
    if case.status not in (ClaimStatus.REFERRED, ClaimStatus.PENDING_INFO):
        raise InvalidTransition(
            "claim.not_in_queue",
            f"赔案 {case.claim_id} 当前状态为“{case.status.zh}”，不在人工审核队列中",
            f"claim {case.claim_id} is {case.status.value}; it is not waiting for review",
        )


def _require_assignee(case: ClaimCase, handler: Handler) -> None:
    if case.assignee not in (None, handler.handler_id):
        raise InvalidTransition(
            "claim.assigned_to_other",
            f"赔案 {case.claim_id} 已分配给 {case.assignee}，请先改派",
            f"claim {case.claim_id} is assigned to {case.assignee}; re-assign it first",
        )


def _not_waiting(case: ClaimCase, to: ClaimStatus, code: str | None = None) -> InvalidTransition:
    return InvalidTransition(
        code or f"claim.cannot_{to.value}",
        f"赔案 {case.claim_id} 当前状态为“{case.status.zh}”，不能执行此操作",
        f"claim {case.claim_id} is {case.status.value}; this action is not possible",
    )


def _require_reason(zh: str, en: str) -> None:
    if not zh.strip() or not en.strip():
        raise ValidationFailed(
            "claim.reason_required",
            "请用中文和英文写明原因",
            "give the reason in Chinese and in English",
        )


def _require_payee(payee_kind: str) -> None:
    if payee_kind not in PAYEE_KINDS:
        raise ValidationFailed(
            "claim.unknown_payee_kind",
            f"收款方类型 {payee_kind} 无效，应为 insured / pharmacy / hospital",
            f"payee kind {payee_kind} is not one of insured / pharmacy / hospital",
        )


def require_fast_track(claim: Claim, fast_track: str) -> None:
    if fast_track not in FAST_TRACKS:
        raise ValidationFailed(
            "claim.unknown_fast_track",
            f"快速通道 {fast_track} 无效",
            f"fast track {fast_track} is not known",
        )
    if fast_track == "special_drug" and not (
        isinstance(claim, HealthClaim)
        and claim.provider
        and any(item.category == "special_drug" for item in claim.items)
    ):
        raise ValidationFailed(
            "claim.special_drug_required",
            "特药直付案件须有特药明细和购药药房",
            "a special-drug direct-pay claim needs special-drug items and the pharmacy",
        )


def require_items(claim: Claim) -> None:
    if isinstance(claim, HealthClaim) and not claim.items:
        raise ValidationFailed("claim.no_items", "请提供费用明细", "an itemised bill is required")
    amounts = (
        [i.amount for i in claim.items] if isinstance(claim, HealthClaim) else [claim.assessed_loss]
    )
    if any(a.is_negative() for a in amounts):
        raise ValidationFailed(
            "claim.negative_amount", "金额不能为负", "amounts cannot be negative"
        )


__all__ = [
    "SPECIAL_DRUG_SLA",
    "BookStats",
    "ClaimService",
    "decision_payload",
    "default_payee",
    "require_fast_track",
    "require_items",
    "review_context",
    "snapshot",
    "staged",
]
