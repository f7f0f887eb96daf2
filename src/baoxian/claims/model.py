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
from baoxian.claims.reasons import Arg, render
from baoxian.shared.money import Money

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
    basis_zh: str = ""
    """Why the assessed loss is what it is, when a measurement set it (an index cover: the
    storm, the wind measured and the tier); the EOB shows it as its first step."""
    basis_en: str = ""


Claim = HealthClaim | PropertyClaim


@dataclass(frozen=True, slots=True)
class CoverSnapshot:
    """What the policy covered for one insured on the date of loss."""

    policy_number: str
    unit_key: str
    in_force: bool
    term_start: date  # the term's first day of cover for this insured (a later joiner's own)
    term_end: date
    original_inception: date  # the insured's first day of unbroken cover (``insured_since``)
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
    text: str  # the wording (``reasons.WORDINGS``) and its arguments: rendered on read
    args: tuple[Arg, ...] = ()

    @property
    def zh(self) -> str:
        return render(self.text, self.args)[0]

    @property
    def en(self) -> str:
        return render(self.text, self.args)[1]


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
#
# The engine counts in whole fen (int).  Every amount it reads — bill items, sums insured,
# accumulators, the plan's money — is rounded to the fen, so sums, differences and minima in
# fen are exact; a payout ratio is applied with the half-up rounding of ``Money.times``.
# Amounts become ``Money`` only where a result carries them.  What a plan version says (which
# coverage pays which item, deductibles, ratios, limits and the texts of their reasons) is
# compiled once per plan version, not once per claim.


def adjudicate(claim: Claim, cover: CoverSnapshot, used: Accumulators) -> Assessment:
    """Decide a claim: claim-level gates first, then each item through its coverage."""
    gate = _claim_gate(claim, cover)
    claimed = claimed_amount(claim)
    if gate is not None:
        return Assessment(claim.claim_id, "decline", claimed, Money.ZERO, (), (gate,), used)
    running = _Running(used)
    if isinstance(claim, HealthClaim):
        results = _health_items(claim, cover, running)
    else:
        results = _property_claim(claim, cover, running)
    payable = _money(sum(_fen(r.payable) for r in results))
    outcome: Outcome = (
        "decline" if payable.is_zero() else "pay" if payable == claimed else "partial"
    )
    return Assessment(
        claim.claim_id, outcome, claimed, payable, tuple(results), (), running.accumulators()
    )


def claimed_amount(claim: Claim) -> Money:
    """What the claim asks for: the bill total, or the assessed property loss."""
    if not isinstance(claim, HealthClaim):
        return claim.assessed_loss
    items = claim.items
    if len(items) == 1:
        return items[0].amount
    return _money(sum(_fen(item.amount) for item in items))


def _fen(amount: Money) -> int:
    """Whole fen of an amount that is already rounded to the fen (as every Money is)."""
    return int(amount.amount.scaleb(2))


_new = object.__new__
_set = object.__setattr__


def _money(fen: int) -> Money:
    """``Money.from_fen(fen)`` without rounding again what is whole fen already (a Money is
    built for every step of every item: this is the engine's commonest allocation)."""
    money: Money = _new(Money)
    _set(money, "amount", Decimal(fen).scaleb(-2))
    _set(money, "currency", "CNY")
    return money


def _times(fen: int, ratio: tuple[int, int]) -> int:
    """``fen × numerator / denominator`` rounded half away from zero (``Money.times``)."""
    numerator, denominator = ratio
    scaled = 2 * fen * numerator
    if scaled >= 0:
        return (scaled + denominator) // (2 * denominator)
    return -((denominator - scaled) // (2 * denominator))


def _claim_gate(claim: Claim, cover: CoverSnapshot) -> Step | None:
    if not cover.in_force or not cover.term_start <= claim.loss_date < cover.term_end:
        return Step(
            "claim",
            None,
            "claim.policy_not_in_force",
            claimed_amount(claim),
            "policy_not_in_force",
            (str(claim.loss_date), str(cover.term_start), str(cover.term_end)),
        )
    return None


def _waiting_period_step(
    claim: HealthClaim, coverage: Coverage, cover: CoverSnapshot, item: BillItem, amount: Money
) -> Step | None:
    period = coverage.waiting_period
    if period is None or (claim.accident and period.accident_exempt):
        return None
    if cover.term_no > 1 and cover.original_inception < cover.term_start:
        return None  # renewed without a break: the waiting period was served in an earlier term
    ends = cover.original_inception + timedelta(days=period.days)
    if claim.loss_date >= ends:
        return None
    return Step(
        item.code,
        coverage.code,
        "claim.waiting_period",
        amount,
        "waiting_period",
        (period.days, str(ends)),
    )


def coverage_for(item: BillItem, claim: HealthClaim, cover: CoverSnapshot) -> Coverage | None:
    """The coverage that pays an item: one the policy has, whose categories include the item,
    whose diagnosis condition (if any) holds; a diagnosis-specific coverage wins."""
    benefit = _benefit_for(_compiled(cover.plan), item, claim, cover)
    return None if benefit is None else benefit.coverage


# --------------------------------------------------------------------------- compiled plan


@dataclass(frozen=True, slots=True)
class _Annual:
    """An annual deductible (the coverage's own or a shared one) with its reason texts."""

    key: str
    fen: int
    text: str  # deductible_annual, or deductible_shared with the shared deductible's names
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Cap:
    """A limit an item's payment counts against: a sub-limit (``applies_to`` empty: every
    item) or a shared limit, with its reason texts."""

    key: str
    fen: int
    applies_to: frozenset[str]
    text: str
    args: tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class _Ratio:
    ratio: tuple[int, int]
    text: str
    args: tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class _Benefit:
    """One coverage's rules as the engine applies them."""

    coverage: Coverage
    code: str
    prefixes: tuple[str, ...]
    drugs: frozenset[str] | None
    designated_only: bool
    per_claim_fen: int | None
    per_claim_ratio: tuple[int, int] | None
    annual: tuple[_Annual, ...]
    ratios: tuple[_Ratio, _Ratio]  # standard, pre-existing condition
    sub_limits: tuple[_Cap, ...]
    shared_limits: tuple[_Cap, ...]
    sum_insured_caps: dict[int, _Cap]  # by the sum insured (fen), filled as met


@dataclass(frozen=True, slots=True)
class _Plan:
    by_category: Mapping[str, tuple[_Benefit, ...]]  # in plan order
    by_code: Mapping[str, _Benefit]


_COMPILED: dict[int, tuple[PlanVersion, _Plan]] = {}


def _compiled(plan: PlanVersion) -> _Plan:
    """The plan version's rules, compiled on first use (plan versions are immutable)."""
    entry = _COMPILED.get(id(plan))
    if entry is None or entry[0] is not plan:
        if len(_COMPILED) >= 256:
            _COMPILED.clear()
        entry = (plan, _compile(plan))
        _COMPILED[id(plan)] = entry
    return entry[1]


def _compile(plan: PlanVersion) -> _Plan:
    benefits = [_benefit(coverage, plan) for coverage in plan.coverages]
    by_category: dict[str, list[_Benefit]] = {}
    for benefit in benefits:
        for category in dict.fromkeys(benefit.coverage.item_categories):
            by_category.setdefault(category, []).append(benefit)
    return _Plan(
        {category: tuple(found) for category, found in by_category.items()},
        {benefit.code: benefit for benefit in benefits},
    )


def _benefit(coverage: Coverage, plan: PlanVersion) -> _Benefit:
    rule = coverage.deductible
    fixed = Money(rule.per_claim or Decimal(0))
    annual = []
    if rule.annual is not None:
        annual.append(
            _Annual(
                f"deductible:{coverage.code}", _fen(Money(rule.annual)), "deductible_annual", ()
            )
        )
    if rule.shared is not None:
        shared = next(d for d in plan.shared_deductibles if d.code == rule.shared)
        annual.append(
            _Annual(
                f"deductible:shared:{shared.code}",
                _fen(Money(shared.annual)),
                "deductible_shared",
                (shared.name.zh, shared.name.en),
            )
        )
    payout = coverage.payout_ratio
    pre_existing = payout.standard if payout.pre_existing is None else payout.pre_existing
    return _Benefit(
        coverage=coverage,
        code=coverage.code,
        prefixes=tuple(coverage.diagnosis_prefixes),
        drugs=frozenset(d.code for d in coverage.drug_list) if coverage.drug_list else None,
        designated_only=coverage.designated_providers_only,
        per_claim_fen=(
            None if rule.per_claim is None and rule.per_claim_ratio_of_loss is None else _fen(fixed)
        ),
        per_claim_ratio=(
            None
            if rule.per_claim_ratio_of_loss is None
            else rule.per_claim_ratio_of_loss.as_integer_ratio()
        ),
        annual=tuple(annual),
        ratios=(
            _Ratio(payout.standard.as_integer_ratio(), "co_payment", (f"{payout.standard:.0%}",)),
            _Ratio(
                pre_existing.as_integer_ratio(),
                "co_payment_pre_existing",
                (f"{pre_existing:.0%}",),
            ),
        ),
        sub_limits=tuple(
            _cap(
                f"limit:sub:{coverage.code}:{sub.code}",
                Money(sub.amount),
                frozenset(sub.applies_to),
                "sub_limit",
                (sub.name.zh, sub.name.en),
            )
            for sub in coverage.sub_limits
        ),
        shared_limits=tuple(
            _cap(
                f"limit:shared:{shared.code}",
                Money(shared.amount),
                frozenset(),
                "shared_limit",
                (shared.name.zh, shared.name.en),
            )
            for shared in plan.shared_limits
            if coverage.code in shared.coverages
        ),
        sum_insured_caps={},
    )


def _cap(
    key: str, amount: Money, applies_to: frozenset[str], text: str, names: tuple[str, str]
) -> _Cap:
    fen = _fen(amount)
    return _Cap(key, fen, applies_to, text, (*names, fen))


def _benefit_for(
    plan: _Plan, item: BillItem, claim: HealthClaim, cover: CoverSnapshot
) -> _Benefit | None:
    """The first diagnosis-specific coverage that fits the item, else the first other one."""
    general = None
    for benefit in plan.by_category.get(item.category, ()):
        if benefit.code not in cover.sums_insured:
            continue
        if benefit.prefixes:
            if claim.diagnosis.startswith(benefit.prefixes):
                return benefit
        elif general is None:
            general = benefit
    return general


# --------------------------------------------------------------------------- running totals


class _Running:
    """The accumulators while one claim is adjudicated, in fen; only keys that moved become
    new Money (in the order they first moved, after the keys already there)."""

    __slots__ = ("before", "fen", "moved")

    def __init__(self, before: Accumulators) -> None:
        self.before = before
        self.fen: dict[str, int] = {}
        self.moved: dict[str, None] = {}

    def get(self, key: str) -> int:
        fen = self.fen.get(key)
        if fen is None:
            amount = self.before.used.get(key)
            fen = self.fen[key] = 0 if amount is None else _fen(amount)
        return fen

    def add(self, key: str, fen: int) -> None:
        if fen:
            self.fen[key] = self.get(key) + fen
            self.moved[key] = None

    def accumulators(self) -> Accumulators:
        if not self.moved:
            return self.before
        used = dict(self.before.used)
        for key in self.moved:
            used[key] = _money(self.fen[key])
        return Accumulators(used)


class _Ledger:
    """The running amount of one item (fen) and the steps that reduced it."""

    __slots__ = ("amount", "claimed", "item", "steps")

    def __init__(self, item: str, claimed: Money) -> None:
        self.item = item
        self.claimed = claimed
        self.amount = _fen(claimed)
        self.steps: list[Step] = []

    def take(self, by: int) -> int:
        """Remove up to ``by`` fen; what was removed (0 when nothing)."""
        by = min(by, self.amount)
        if by <= 0:
            return 0
        self.amount -= by
        return by

    def reduce(
        self, rule: str, by: int, coverage: str | None, text: str, args: tuple[Arg, ...] = ()
    ) -> None:
        taken = self.take(by)
        if taken:
            self.steps.append(Step(self.item, coverage, rule, _money(taken), text, args))

    def result(self, coverage: str | None) -> ItemResult:
        payable = self.claimed if not self.steps else _money(self.amount)
        return ItemResult(self.item, coverage, self.claimed, payable, tuple(self.steps))


# --------------------------------------------------------------------------- health


def _health_items(claim: HealthClaim, cover: CoverSnapshot, used: _Running) -> list[ItemResult]:
    plan = _compiled(cover.plan)
    per_claim: dict[str, int] = {}
    return [_health_item(claim, item, cover, plan, used, per_claim) for item in claim.items]


def _health_item(
    claim: HealthClaim,
    item: BillItem,
    cover: CoverSnapshot,
    plan: _Plan,
    used: _Running,
    per_claim: dict[str, int],
) -> ItemResult:
    ledger = _Ledger(item.code, item.amount)
    benefit = _benefit_for(plan, item, claim, cover)
    if benefit is None:
        ledger.reduce(
            "claim.not_covered",
            ledger.amount,
            None,
            "not_covered",
            (item.category,),
        )
        return ledger.result(None)
    code = benefit.code
    waiting = _waiting_period_step(claim, benefit.coverage, cover, item, item.amount)
    if waiting is not None:
        ledger.reduce(waiting.rule, ledger.amount, code, waiting.text, waiting.args)
        return ledger.result(code)
    ledger.reduce(
        "claim.paid_by_basic_insurance",
        _fen(item.paid_by_basic),
        code,
        "paid_by_basic_insurance",
    )
    _eligible_item(benefit, item, ledger)
    _deductibles(benefit, used, per_claim, ledger, 0)
    ratio = benefit.ratios[claim.pre_existing]
    kept = _times(ledger.amount, ratio.ratio)
    ledger.reduce("claim.co_payment", ledger.amount - kept, code, ratio.text, ratio.args)
    _limits(benefit, cover, used, ledger, item.code, item.category)
    return ledger.result(code)


def _eligible_item(benefit: _Benefit, item: BillItem, ledger: _Ledger) -> None:
    if benefit.drugs is not None and item.code not in benefit.drugs:
        ledger.reduce(
            "claim.drug_not_on_list",
            ledger.amount,
            benefit.code,
            "drug_not_on_list",
            (item.code,),
        )
    if benefit.designated_only and not item.designated_provider:
        ledger.reduce(
            "claim.not_designated_provider",
            ledger.amount,
            benefit.code,
            "not_designated_provider",
        )


def _deductibles(
    benefit: _Benefit, used: _Running, per_claim: dict[str, int], ledger: _Ledger, loss: int
) -> None:
    """Per-claim (the higher of an amount and a share of the loss), then the coverage's annual
    deductible, then a shared annual deductible — each consumed in the order claims are
    decided."""
    code = benefit.code
    if benefit.per_claim_fen is not None:
        amount = benefit.per_claim_fen
        if benefit.per_claim_ratio is not None:
            amount = max(amount, _times(loss, benefit.per_claim_ratio))
        before = ledger.amount
        ledger.reduce(
            "claim.deductible_per_claim",
            amount - per_claim.get(code, 0),
            code,
            "deductible_per_claim",
            (amount,),
        )
        per_claim[code] = per_claim.get(code, 0) + before - ledger.amount
    for annual in benefit.annual:
        so_far = used.get(annual.key)
        taken = ledger.take(annual.fen - so_far)
        if taken:
            ledger.steps.append(
                Step(
                    ledger.item,
                    code,
                    "claim.deductible_annual",
                    _money(taken),
                    annual.text,
                    (*annual.names, annual.fen, so_far),
                )
            )
        used.add(annual.key, taken)


def _limits(
    benefit: _Benefit,
    cover: CoverSnapshot,
    used: _Running,
    ledger: _Ledger,
    item_code: str,
    category: str,
) -> None:
    """Sub-limits that apply to the item, the coverage's sum insured, and shared limits; the
    amount paid counts against each of them."""
    caps = [
        cap
        for cap in benefit.sub_limits
        if not cap.applies_to or item_code in cap.applies_to or category in cap.applies_to
    ]
    caps.append(_sum_insured_cap(benefit, cover))
    caps.extend(benefit.shared_limits)
    for cap in caps:
        left = cap.fen - used.get(cap.key)
        ledger.reduce(
            "claim.limit_exhausted",
            ledger.amount - max(left, 0),
            benefit.code,
            cap.text,
            cap.args,
        )
    paid = ledger.amount
    for cap in caps:
        used.add(cap.key, paid)


def _sum_insured_cap(benefit: _Benefit, cover: CoverSnapshot) -> _Cap:
    amount = cover.sums_insured[benefit.code]
    fen = _fen(amount)
    cap = benefit.sum_insured_caps.get(fen)
    if cap is None:
        name = benefit.coverage.name
        cap = _cap(f"limit:{benefit.code}", amount, frozenset(), "sum_insured", (name.zh, name.en))
        if len(benefit.sum_insured_caps) < 1024:
            benefit.sum_insured_caps[fen] = cap
    return cap


# --------------------------------------------------------------------------- property


def _property_claim(claim: PropertyClaim, cover: CoverSnapshot, used: _Running) -> list[ItemResult]:
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
            ledger.amount,
            None,
            "peril_not_covered",
            (claim.peril,),
        )
        return [ledger.result(None)]
    benefit = _compiled(cover.plan).by_code[coverage.code]
    if claim.basis_zh or claim.basis_en:  # the measured basis: removes nothing, says why
        why = (claim.basis_zh, claim.basis_en)
        basis = Step(
            ledger.item, coverage.code, "claim.index_basis", Money.ZERO, "index_basis", why
        )
        ledger.steps.append(basis)
    basement = [s for s in coverage.sub_limits if "basement" in s.applies_to]
    basement_fen = _fen(claim.basement_loss)
    if basement and basement_fen > 0:
        sub = basement[0]
        key = f"limit:sub:{coverage.code}:{sub.code}"
        left = max(_fen(Money(sub.amount)) - used.get(key), 0)
        ledger.reduce(
            "claim.sub_limit",
            basement_fen - left,
            coverage.code,
            "basement_sub_limit",
            (f"{sub.amount:,}",),
        )
        used.add(key, min(basement_fen, left))
    _deductibles(benefit, used, {}, ledger, _fen(claim.assessed_loss))
    limit_key = f"limit:{coverage.code}"
    left = _fen(cover.sums_insured[coverage.code]) - used.get(limit_key)
    ledger.reduce(
        "claim.limit_exhausted",
        ledger.amount - max(left, 0),
        coverage.code,
        "property_sum_insured",
    )
    used.add(limit_key, ledger.amount)
    return [ledger.result(coverage.code)]
