"""Benefit calculation (理算) driven only by the product data — pure, no I/O.

A claim is adjudicated against a :class:`CoverSnapshot` (what the policy covered for the
insured on the date of loss) and the :class:`Accumulators` of that policy year (deductible
and limits already used by claims decided before it).  The result is an explanation of
benefits: for every bill item, each step that changed the amount — 医保 paid, sub-limit,
deductible, payout ratio, limits — with its rule code and a reason in Chinese and English.
Every fen is accounted for: ``claimed = payable + Σ reductions`` per item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from baoxian.catalog.schema import Coverage, PlanVersion
from baoxian.shared.money import Money, total

Outcome = Literal["pay", "partial", "decline"]


# --------------------------------------------------------------------------- claims


@dataclass(frozen=True, slots=True)
class BillItem:
    """One line of an itemised hospital or pharmacy bill (费用明细)."""

    code: str
    description: str
    category: str  # in_list / out_of_list / special_drug / self_pay …
    amount: Money
    paid_by_basic: Money = Money.ZERO  # 医保统筹已支付
    designated_provider: bool = True


@dataclass(frozen=True, slots=True)
class HealthClaim:
    claim_id: str
    policy_number: str
    unit_key: str
    loss_date: date  # admission or purchase date
    diagnosis: str  # ICD-10
    items: tuple[BillItem, ...]
    accident: bool = False
    pre_existing: bool = False
    provider: str = ""
    invoice_no: str = ""
    discharge_date: date | None = None  # None for a pharmacy purchase or outpatient visit
    channel: str = "portal"  # portal / api / cli / settlement_import


@dataclass(frozen=True, slots=True)
class PropertyClaim:
    claim_id: str
    policy_number: str
    unit_key: str  # the site
    loss_date: date
    peril: str
    assessed_loss: Money
    basement_loss: Money = Money.ZERO
    invoice_no: str = ""


Claim = HealthClaim | PropertyClaim


@dataclass(frozen=True, slots=True)
class CoverSnapshot:
    """What the policy covered for one insured on the date of loss."""

    policy_number: str
    unit_key: str
    in_force: bool
    term_start: date
    term_end: date
    original_inception: date
    term_no: int
    sums_insured: Mapping[str, Money]  # coverage → sum insured for this unit
    plan: PlanVersion


@dataclass(frozen=True, slots=True)
class Accumulators:
    """What earlier decided claims of the same policy year used (keys name what they count:
    ``deductible:<coverage>``, ``deductible:shared:<code>``, ``limit:<coverage>``,
    ``limit:shared:<code>``, ``limit:sub:<coverage>:<code>``)."""

    used: Mapping[str, Money] = field(default_factory=dict)

    def get(self, key: str) -> Money:
        return self.used.get(key, Money.ZERO)

    def add(self, key: str, amount: Money) -> Accumulators:
        if amount.is_zero():
            return self
        return Accumulators({**self.used, key: self.get(key) + amount})


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Step:
    """One rule applied to one item: the amount it removed and why."""

    item: str
    coverage: str | None
    rule: str
    reduction: Money
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class ItemResult:
    item: str
    coverage: str | None
    claimed: Money
    payable: Money
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Assessment:
    """The explanation of benefits (理赔计算书) of one claim."""

    claim_id: str
    outcome: Outcome
    claimed: Money
    payable: Money
    items: tuple[ItemResult, ...]
    reasons: tuple[Step, ...]  # claim-level declines (not in force, waiting period, …)
    accumulators: Accumulators

    def explain(self) -> list[str]:
        lines = [f"{r.zh} / {r.en}" for r in self.reasons]
        for item in self.items:
            for step in item.steps:
                lines.append(f"{item.item}: −{step.reduction.amount} {step.zh} / {step.en}")
            lines.append(f"{item.item}: {item.claimed.amount} → {item.payable.amount}")
        return lines


# --------------------------------------------------------------------------- rules


def adjudicate(claim: Claim, cover: CoverSnapshot, used: Accumulators) -> Assessment:
    """Decide a claim: claim-level gates first, then each item through its coverage."""
    gate = _claim_gate(claim, cover)
    claimed = claimed_amount(claim)
    if gate is not None:
        return Assessment(claim.claim_id, "decline", claimed, Money.ZERO, (), (gate,), used)
    if isinstance(claim, HealthClaim):
        results, used = _health_items(claim, cover, used)
    else:
        results, used = _property_claim(claim, cover, used)
    payable = total([r.payable for r in results])
    outcome: Outcome = (
        "decline" if payable.is_zero() else "pay" if payable == claimed else "partial"
    )
    return Assessment(claim.claim_id, outcome, claimed, payable, tuple(results), (), used)


def claimed_amount(claim: Claim) -> Money:
    """What the claim asks for: the bill total, or the assessed property loss."""
    if isinstance(claim, HealthClaim):
        return total([item.amount for item in claim.items])
    return claim.assessed_loss


def _claim_gate(claim: Claim, cover: CoverSnapshot) -> Step | None:
    if not cover.in_force or not cover.term_start <= claim.loss_date < cover.term_end:
        return Step(
            "claim",
            None,
            "claim.policy_not_in_force",
            claimed_amount(claim),
            f"出险日 {claim.loss_date} 保单不在保险期间内或已终止",
            f"the policy was not in force on the date of loss {claim.loss_date}",
        )
    return None


def _waiting_period_step(
    claim: HealthClaim, coverage: Coverage, cover: CoverSnapshot, item: BillItem, amount: Money
) -> Step | None:
    period = coverage.waiting_period
    if period is None or cover.term_no > 1 or (claim.accident and period.accident_exempt):
        return None
    ends = cover.original_inception + timedelta(days=period.days)
    if claim.loss_date >= ends:
        return None
    return Step(
        item.code,
        coverage.code,
        "claim.waiting_period",
        amount,
        f"出险日在 {period.days} 天等待期内（{ends} 前），非意外不予赔付",
        f"illness within the {period.days}-day waiting period (before {ends})",
    )


def coverage_for(item: BillItem, claim: HealthClaim, cover: CoverSnapshot) -> Coverage | None:
    """The coverage that pays an item: one the policy has, whose categories include the item,
    whose diagnosis condition (if any) holds; a diagnosis-specific coverage wins."""
    candidates = [
        c
        for c in cover.plan.coverages
        if c.code in cover.sums_insured
        and item.category in c.item_categories
        and (not c.diagnosis_prefixes or claim.diagnosis.startswith(tuple(c.diagnosis_prefixes)))
    ]
    candidates.sort(key=lambda c: not c.diagnosis_prefixes)
    return candidates[0] if candidates else None


class _Ledger:
    """The running amount of one item and the steps that reduced it."""

    def __init__(self, item: str, amount: Money) -> None:
        self.item = item
        self.claimed = amount
        self.amount = amount
        self.steps: list[Step] = []

    def reduce(self, rule: str, by: Money, coverage: str | None, zh: str, en: str) -> None:
        by = min(by, self.amount)
        if by.amount <= 0:
            return
        self.amount = self.amount - by
        self.steps.append(Step(self.item, coverage, rule, by, zh, en))

    def result(self, coverage: str | None) -> ItemResult:
        return ItemResult(self.item, coverage, self.claimed, self.amount, tuple(self.steps))


def _health_items(
    claim: HealthClaim, cover: CoverSnapshot, used: Accumulators
) -> tuple[list[ItemResult], Accumulators]:
    results = []
    per_claim: dict[str, Money] = {}
    for item in claim.items:
        result, used = _health_item(claim, item, cover, used, per_claim)
        results.append(result)
    return results, used


def _health_item(
    claim: HealthClaim,
    item: BillItem,
    cover: CoverSnapshot,
    used: Accumulators,
    per_claim: dict[str, Money],
) -> tuple[ItemResult, Accumulators]:
    ledger = _Ledger(item.code, item.amount)
    coverage = coverage_for(item, claim, cover)
    if coverage is None:
        ledger.reduce(
            "claim.not_covered",
            item.amount,
            None,
            f"费用类别「{item.category}」不属于本保单保障范围",
            f"item category '{item.category}' is not covered by this policy",
        )
        return ledger.result(None), used
    code = coverage.code
    waiting = _waiting_period_step(claim, coverage, cover, item, item.amount)
    if waiting is not None:
        ledger.reduce(waiting.rule, item.amount, code, waiting.zh, waiting.en)
        return ledger.result(code), used
    ledger.reduce(
        "claim.paid_by_basic_insurance",
        item.paid_by_basic,
        code,
        "基本医疗保险已支付部分先行扣除",
        "amount already paid by basic medical insurance",
    )
    _eligible_item(coverage, item, ledger)
    used = _deductibles(coverage, cover.plan, used, per_claim, ledger, Money.ZERO)
    _co_payment(coverage, claim.pre_existing, ledger)
    used = _limits(coverage, cover, used, ledger, item.code, item.category)
    return ledger.result(code), used


def _eligible_item(coverage: Coverage, item: BillItem, ledger: _Ledger) -> None:
    if coverage.drug_list and item.code not in {d.code for d in coverage.drug_list}:
        ledger.reduce(
            "claim.drug_not_on_list",
            ledger.amount,
            coverage.code,
            f"药品 {item.code} 不在本产品特药清单内",
            f"drug {item.code} is not on the product's special-drug list",
        )
    if coverage.designated_providers_only and not item.designated_provider:
        ledger.reduce(
            "claim.not_designated_provider",
            ledger.amount,
            coverage.code,
            "未在指定药店或医院购药，不予赔付",
            "not bought at a designated pharmacy or hospital",
        )


def _deductibles(
    coverage: Coverage,
    plan: PlanVersion,
    used: Accumulators,
    per_claim: dict[str, Money],
    ledger: _Ledger,
    loss: Money,
) -> Accumulators:
    """Per-claim (the higher of an amount and a share of the loss), then the coverage's annual
    deductible, then a shared annual deductible — each consumed in the order claims are
    decided."""
    rule = coverage.deductible
    if rule.per_claim is not None or rule.per_claim_ratio_of_loss is not None:
        amount = Money(rule.per_claim or Decimal(0))
        if rule.per_claim_ratio_of_loss is not None:
            amount = max(amount, loss.times(rule.per_claim_ratio_of_loss))
        left = amount - per_claim.get(coverage.code, Money.ZERO)
        before = ledger.amount
        ledger.reduce(
            "claim.deductible_per_claim",
            left,
            coverage.code,
            f"每次事故免赔额 {amount.amount:,} 元",
            f"per-claim deductible of {amount.amount:,} CNY",
        )
        per_claim[coverage.code] = per_claim.get(coverage.code, Money.ZERO) + before - ledger.amount
    if rule.annual is not None:
        used = _annual(
            f"deductible:{coverage.code}",
            Money(rule.annual),
            used,
            ledger,
            coverage.code,
            "年度免赔额",
            "annual deductible",
        )
    if rule.shared is not None:
        shared = next(d for d in plan.shared_deductibles if d.code == rule.shared)
        used = _annual(
            f"deductible:shared:{shared.code}",
            Money(shared.annual),
            used,
            ledger,
            coverage.code,
            f"共用年度免赔额（{shared.name.zh}）",
            f"shared annual deductible ({shared.name.en})",
        )
    return used


def _annual(
    key: str, amount: Money, used: Accumulators, ledger: _Ledger, coverage: str, zh: str, en: str
) -> Accumulators:
    left = amount - used.get(key)
    before = ledger.amount
    ledger.reduce(
        "claim.deductible_annual",
        left,
        coverage,
        f"{zh} {amount.amount:,} 元，本年已用 {used.get(key).amount:,} 元",
        f"{en} of {amount.amount:,} CNY, {used.get(key).amount:,} used this year",
    )
    return used.add(key, before - ledger.amount)


def _co_payment(coverage: Coverage, pre_existing: bool, ledger: _Ledger) -> None:
    ratio = coverage.payout_ratio.standard
    if pre_existing and coverage.payout_ratio.pre_existing is not None:
        ratio = coverage.payout_ratio.pre_existing
    kept = ledger.amount.times(ratio)
    note_zh, note_en = ("（既往症）", " (pre-existing condition)") if pre_existing else ("", "")
    ledger.reduce(
        "claim.co_payment",
        ledger.amount - kept,
        coverage.code,
        f"按赔付比例 {ratio:.0%} 赔付{note_zh}",
        f"payout ratio {ratio:.0%}{note_en}",
    )


def _limits(
    coverage: Coverage,
    cover: CoverSnapshot,
    used: Accumulators,
    ledger: _Ledger,
    item_code: str,
    category: str,
) -> Accumulators:
    """Sub-limits that apply to the item, the coverage's sum insured, and shared limits; the
    amount paid counts against each of them."""
    caps: list[tuple[str, Money, str, str]] = []
    for sub in coverage.sub_limits:
        if not sub.applies_to or item_code in sub.applies_to or category in sub.applies_to:
            caps.append(
                (
                    f"limit:sub:{coverage.code}:{sub.code}",
                    Money(sub.amount),
                    f"分项限额「{sub.name.zh}」",
                    f"sub-limit '{sub.name.en}'",
                )
            )
    caps.append(
        (
            f"limit:{coverage.code}",
            cover.sums_insured[coverage.code],
            f"保险金额（{coverage.name.zh}）",
            f"sum insured ({coverage.name.en})",
        )
    )
    for shared in cover.plan.shared_limits:
        if coverage.code in shared.coverages:
            caps.append(
                (
                    f"limit:shared:{shared.code}",
                    Money(shared.amount),
                    f"共用保额「{shared.name.zh}」",
                    f"shared limit '{shared.name.en}'",
                )
            )
    for key, amount, zh, en in caps:
        left = amount - used.get(key)
        ledger.reduce(
            "claim.limit_exhausted",
            ledger.amount - max(left, Money.ZERO),
            coverage.code,
            f"超过{zh} {amount.amount:,} 元的剩余额度",
            f"over what is left of the {en} of {amount.amount:,} CNY",
        )
    for key, _amount, _zh, _en in caps:
        used = used.add(key, ledger.amount)
    return used


def _property_claim(
    claim: PropertyClaim, cover: CoverSnapshot, used: Accumulators
) -> tuple[list[ItemResult], Accumulators]:
    """A property loss: the coverage whose perils include the claim's peril pays the assessed
    loss less its deductible (the higher of an amount and a share of the loss), within the
    site's sum insured and any sub-limit (e.g. basements)."""
    ledger = _Ledger(claim.peril, claim.assessed_loss)
    coverage = next(
        (
            c
            for c in cover.plan.coverages
            if claim.peril in c.perils and c.code in cover.sums_insured
        ),
        None,
    )
    if coverage is None:
        ledger.reduce(
            "claim.peril_not_covered",
            claim.assessed_loss,
            None,
            f"致损原因「{claim.peril}」不在保险责任内",
            f"peril '{claim.peril}' is not covered",
        )
        return [ledger.result(None)], used
    basement = [s for s in coverage.sub_limits if "basement" in s.applies_to]
    if basement and claim.basement_loss.amount > 0:
        sub = basement[0]
        key = f"limit:sub:{coverage.code}:{sub.code}"
        left = max(Money(sub.amount) - used.get(key), Money.ZERO)
        over = claim.basement_loss - left
        ledger.reduce(
            "claim.sub_limit",
            over,
            coverage.code,
            f"地下室财产超过分项限额 {sub.amount:,} 元",
            f"basement property over the {sub.amount:,} CNY sub-limit",
        )
        used = used.add(key, min(claim.basement_loss, left))
    used = _deductibles(coverage, cover.plan, used, {}, ledger, claim.assessed_loss)
    limit_key = f"limit:{coverage.code}"
    left = cover.sums_insured[coverage.code] - used.get(limit_key)
    ledger.reduce(
        "claim.limit_exhausted",
        ledger.amount - max(left, Money.ZERO),
        coverage.code,
        "超过保险金额剩余额度",
        "over what is left of the sum insured",
    )
    return [ledger.result(coverage.code)], used.add(limit_key, ledger.amount)
