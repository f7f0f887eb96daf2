"""Intelligent review (智能审核) of an adjudicated claim — pure, no I/O.

After the benefit engine has decided *what* a claim would pay, review decides *whether it
may be paid without a person looking at it*.  Each rule is a named check with a stable
code, a severity and a reason in Chinese and English; every finding is kept, so a claims
handler sees all the reasons at once.  The route is:

* any ``decline`` finding → ``"decline"`` (e.g. the same invoice was already claimed);
* otherwise any ``refer`` finding → ``"refer"`` (a person reviews it);
* otherwise ``"pay"``: the claim goes straight through.  That includes a claim the benefit
  engine itself declined (nothing payable, e.g. not in force) when no rule fires: it goes
  straight through as a *decided zero payment* with the engine's reasons, not to a person.

Straight-through claims are sampled for quality assurance (抽检), deterministically by
claim ID so that re-running the review gives the same answer.

What the rules know about the insured and the book comes in a :class:`ReviewContext`
(earlier claims, peer statistics per diagnosis category, provider profiles); the two
helpers :func:`peer_stats` and :func:`provider_profiles` compute the book-wide parts from a
whole history in one pass.

>>> from datetime import date
>>> from baoxian.claims.model import Accumulators, Assessment, BillItem, HealthClaim
>>> bill = (BillItem("HOSP", "住院费用", "in_list", Money.of("8000")),)
>>> claim = HealthClaim("C1", "P1", "u1", date(2026, 6, 1), "K35.8", bill, provider="H1",
...                     invoice_no="INV-1", discharge_date=date(2026, 6, 5))
>>> paid = Assessment("C1", "pay", Money.of("8000"), Money.of("8000"), (), (), Accumulators())
>>> context = ReviewContext("F", 34, date(2024, 1, 1), (), {}, {})
>>> review(claim, paid, context).outcome
'pay'
>>> early = ReviewContext("F", 34, date(2026, 5, 20), (), {}, {})
>>> [f.code for f in review(claim, paid, early).findings]
['review.soon_after_inception']
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from baoxian.claims.model import Assessment, Claim, HealthClaim
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money, total

Severity = Literal["refer", "decline"]
Route = Literal["pay", "refer", "decline"]

__all__ = [
    "AGE_RULES",
    "SEX_RULES",
    "Finding",
    "PeerStats",
    "PriorClaim",
    "ProviderProfile",
    "Review",
    "ReviewContext",
    "ReviewPolicy",
    "Severity",
    "icd_category",
    "in_quality_sample",
    "nearest_rank",
    "peer_stats",
    "provider_profiles",
    "review",
    "stays_overlap",
]


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class PriorClaim:
    """An earlier claim known to the store: of the same insured, or with the same invoice
    number anywhere in the book."""

    claim_id: str
    policy_number: str
    unit_key: str
    invoice_no: str
    provider: str
    loss_date: date
    discharge_date: date | None
    diagnosis: str
    claimed: Money


@dataclass(frozen=True, slots=True)
class PeerStats:
    """Claimed amounts of one ICD-10 category (the first three characters of a diagnosis):
    nearest-rank median and 95th percentile, and how many claims they were taken from."""

    median: Money
    p95: Money
    count: int


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    """A hospital's or pharmacy's claims history: how many claims, their mean amount, the
    share above their category's 95th percentile, and the share that re-used an invoice."""

    claims: int
    mean_claimed: Money
    share_over_peer_p95: Decimal
    duplicate_invoice_share: Decimal


@dataclass(frozen=True, slots=True)
class ReviewContext:
    """What the review knows besides the claim: the insured, their history and the book."""

    insured_gender: str  # "M" / "F"
    insured_age: int  # completed years on the date of loss
    original_inception: date
    prior_claims: tuple[PriorClaim, ...]
    peer_stats: Mapping[str, PeerStats]
    provider_profiles: Mapping[str, ProviderProfile]


AUTO_PAY_LIMIT = Money.of("50000")


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """Thresholds of the review.

    * ``soon_after_inception_days`` — a loss fewer than this many days after the insured's
      *original* inception (first enrolment, not the renewal) is referred — a health claim
      unless it is an accident, a property claim always: buying cover when the loss is
      already happening is the commonest 带病投保 / 出险后投保 pattern.
    * ``peer_multiple`` — a health claim is referred when it is above this multiple of its
      diagnosis category's median *and* above the category's 95th percentile; the category
      must have at least ``peer_min_count`` claims for its statistics to count.
    * ``anomaly_refer_score`` — an anomaly score (0 normal … 1 most anomalous) at or above this
      is referred.
    * ``provider_over_p95_share`` / ``provider_duplicate_share`` — a provider with at least
      ``provider_min_claims`` claims whose share of claims above the peer 95th percentile, or
      whose share of re-used invoices, is *above* these shares makes its claims referred
      (below 20 claims a share is noise: one re-used invoice in ten claims is already 10 %).
    * ``quality_sample_share`` — share of straight-through claims sampled for QA (抽检).
    * ``auto_pay_limit`` — straight-through payment only up to this payable amount (a
      handler's authority limit takes over above it).
    """

    soon_after_inception_days: int = 30
    peer_multiple: Decimal = Decimal("3")
    anomaly_refer_score: float = 0.65
    provider_over_p95_share: Decimal = Decimal("0.30")
    provider_duplicate_share: Decimal = Decimal("0.05")
    quality_sample_share: Decimal = Decimal("0.02")
    auto_pay_limit: Money = AUTO_PAY_LIMIT
    peer_min_count: int = 10
    provider_min_claims: int = 20


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that fired: stable code, severity, reason in Chinese and English."""

    code: str
    severity: Severity
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Review:
    """The route of a claim and every reason for it."""

    outcome: Route
    findings: tuple[Finding, ...]
    anomaly_score: float | None
    quality_sample: bool

    def explain(self) -> list[str]:
        """The findings as shown to a person: Chinese first, then English."""
        return [f"[{f.code}] {f.zh} / {f.en}" for f in self.findings]


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True)
class SexRule:
    """ICD-10 categories ``low``–``high`` (inclusive, 3 characters) that only ``sex`` can have."""

    low: str
    high: str
    sex: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class AgeRule:
    """ICD-10 categories ``low``–``high`` expected only between ``min_age`` and ``max_age``."""

    low: str
    high: str
    min_age: int
    max_age: int
    zh: str
    en: str


SEX_RULES: tuple[SexRule, ...] = (
    SexRule("O00", "O9A", "F", "妊娠、分娩和产褥期", "pregnancy, childbirth and the puerperium"),
    SexRule("C51", "C58", "F", "女性生殖器官恶性肿瘤", "female genital organ cancer"),
    SexRule("D06", "D06", "F", "子宫颈原位癌", "carcinoma in situ of the cervix uteri"),
    SexRule("D25", "D26", "F", "子宫良性肿瘤", "benign neoplasm of the uterus"),
    SexRule("N70", "N98", "F", "女性盆腔及生殖器官疾病", "female pelvic or genital disorder"),
    SexRule("C60", "C63", "M", "男性生殖器官恶性肿瘤", "male genital organ cancer"),
    SexRule("N40", "N51", "M", "男性生殖器官疾病", "diseases of male genital organs"),
)
"""Diagnoses only one sex can have (ICD-10 chapter notes); a mismatch is declined."""

AGE_RULES: tuple[AgeRule, ...] = (
    AgeRule("P00", "P96", 0, 1, "围生期疾病", "a condition of the perinatal period"),
    AgeRule("O00", "O9A", 12, 55, "妊娠、分娩和产褥期", "pregnancy, childbirth and the puerperium"),
    AgeRule("F00", "F03", 40, 200, "痴呆", "dementia"),
    AgeRule("G30", "G30", 40, 200, "阿尔茨海默病", "Alzheimer's disease"),
    AgeRule("H25", "H25", 40, 200, "老年性白内障", "senile cataract"),
    AgeRule("R54", "R54", 60, 200, "老年衰弱", "senility"),
)
"""Diagnoses implausible outside an age band; a mismatch is referred (rare cases exist)."""


def icd_category(diagnosis: str) -> str:
    """The 3-character ICD-10 category of a diagnosis code.

    >>> icd_category(" k35.8 "), icd_category("O80"), icd_category("C50.912")
    ('K35', 'O80', 'C50')
    """
    return diagnosis.strip().upper().replace(".", "")[:3]


def _in_range(category: str, low: str, high: str) -> bool:
    return len(category) == 3 and low <= category <= high


# --------------------------------------------------------------------------- rules

Rule = Callable[[Claim, Assessment, ReviewContext, ReviewPolicy, float | None], Finding | None]


def _duplicate_invoice(
    claim: Claim, _a: Assessment, ctx: ReviewContext, _p: ReviewPolicy, _s: float | None
) -> Finding | None:
    if not claim.invoice_no.strip():
        return None
    earlier = next(
        (
            p
            for p in ctx.prior_claims
            if p.invoice_no == claim.invoice_no and p.claim_id != claim.claim_id
        ),
        None,
    )
    if earlier is None:
        return None
    return Finding(
        "review.duplicate_invoice",
        "decline",
        f"发票 {claim.invoice_no} 已在理赔案件 {earlier.claim_id} 中报销",
        f"invoice {claim.invoice_no} was already claimed under claim {earlier.claim_id}",
    )


def _soon_after_inception(
    claim: Claim, _a: Assessment, ctx: ReviewContext, policy: ReviewPolicy, _s: float | None
) -> Finding | None:
    if isinstance(claim, HealthClaim) and claim.accident:
        return None
    days = (claim.loss_date - ctx.original_inception).days
    limit = policy.soon_after_inception_days
    if days >= limit or days < 0:  # before the cover began: the benefit engine declines it
        return None
    return Finding(
        "review.soon_after_inception",
        "refer",
        f"出险日 {claim.loss_date} 距首次投保日 {ctx.original_inception} 不足 {limit} 天（非意外）",
        f"non-accident loss on {claim.loss_date}, less than {limit} days after "
        f"the original inception on {ctx.original_inception}",
    )


def _sex_mismatch(
    claim: Claim, _a: Assessment, ctx: ReviewContext, _p: ReviewPolicy, _s: float | None
) -> Finding | None:
    if not isinstance(claim, HealthClaim):
        return None
    category = icd_category(claim.diagnosis)
    rule = next((r for r in SEX_RULES if _in_range(category, r.low, r.high)), None)
    if rule is None or ctx.insured_gender == rule.sex:
        return None
    sex_zh, sex_en = ("女性", "women") if rule.sex == "F" else ("男性", "men")
    return Finding(
        "review.diagnosis_sex_mismatch",
        "decline",
        f"诊断 {claim.diagnosis}（{rule.zh}）仅见于{sex_zh}，与被保险人性别不符",
        f"diagnosis {claim.diagnosis} ({rule.en}) occurs only in {sex_en}; "
        "it does not match the insured's sex",
    )


def _age_mismatch(
    claim: Claim, _a: Assessment, ctx: ReviewContext, _p: ReviewPolicy, _s: float | None
) -> Finding | None:
    if not isinstance(claim, HealthClaim):
        return None
    category = icd_category(claim.diagnosis)
    age = ctx.insured_age
    rule = next(
        (
            r
            for r in AGE_RULES
            if _in_range(category, r.low, r.high) and not r.min_age <= age <= r.max_age
        ),
        None,
    )
    if rule is None:
        return None
    return Finding(
        "review.diagnosis_age_mismatch",
        "refer",
        f"诊断 {claim.diagnosis}（{rule.zh}）与被保险人年龄 {age} 岁不符",
        f"diagnosis {claim.diagnosis} ({rule.en}) is implausible at age {age}",
    )


def stays_overlap(a: tuple[date, date], b: tuple[date, date]) -> bool:
    """Whether two hospital stays (admission, discharge) overlap: they share a night, or a
    same-day stay falls strictly inside the other.  A transfer — discharged from one
    hospital and admitted to the next on the same day — is not an overlap.

    >>> d = date
    >>> stays_overlap((d(2026, 6, 1), d(2026, 6, 5)), (d(2026, 6, 4), d(2026, 6, 8)))
    True
    >>> stays_overlap((d(2026, 6, 1), d(2026, 6, 5)), (d(2026, 6, 5), d(2026, 6, 8)))
    False
    >>> stays_overlap((d(2026, 6, 3), d(2026, 6, 3)), (d(2026, 6, 1), d(2026, 6, 5)))
    True
    """
    if max(a[0], b[0]) < min(a[1], b[1]):
        return True
    return _inside(a, b) or _inside(b, a)


def _inside(day_case: tuple[date, date], stay: tuple[date, date]) -> bool:
    return day_case[0] == day_case[1] and stay[0] < day_case[0] < stay[1]


def _overlapping_stay(
    claim: Claim, _a: Assessment, ctx: ReviewContext, _p: ReviewPolicy, _s: float | None
) -> Finding | None:
    if not isinstance(claim, HealthClaim) or claim.discharge_date is None:
        return None
    stay = (claim.loss_date, claim.discharge_date)
    other = next((p for p in ctx.prior_claims if _overlaps(claim, stay, p)), None)
    if other is None or other.discharge_date is None:
        return None
    return Finding(
        "review.overlapping_stay",
        "refer",
        f"住院期间 {stay[0]}–{stay[1]} 与案件 {other.claim_id} 在 {other.provider} 的住院期间 "
        f"{other.loss_date}–{other.discharge_date} 重叠",
        f"the stay {stay[0]}–{stay[1]} overlaps the stay {other.loss_date}–"
        f"{other.discharge_date} at {other.provider} of claim {other.claim_id}",
    )


def _overlaps(claim: HealthClaim, stay: tuple[date, date], prior: PriorClaim) -> bool:
    if prior.discharge_date is None or prior.claim_id == claim.claim_id:
        return False
    if prior.unit_key != claim.unit_key:
        return False
    if prior.provider == claim.provider and prior.invoice_no == claim.invoice_no:
        return False  # the same bill again: review.duplicate_invoice's business
    return stays_overlap(stay, (prior.loss_date, prior.discharge_date))


_EXCLUDED_ITEM_RULES = frozenset({"claim.drug_not_on_list", "claim.not_designated_provider"})


def _drug_off_list(
    claim: Claim, assessment: Assessment, _c: ReviewContext, _p: ReviewPolicy, _s: float | None
) -> Finding | None:
    items = sorted(
        {s.item for i in assessment.items for s in i.steps if s.rule in _EXCLUDED_ITEM_RULES}
    )
    if not isinstance(claim, HealthClaim) or not items:
        return None
    listed = "、".join(items)
    return Finding(
        "review.drug_off_list",
        "refer",
        f"药品 {listed} 不在特药清单内或未在指定机构购买，已不予赔付，请核实处方与购药机构",
        f"drugs {', '.join(items)} are off the special-drug list or not bought at a designated "
        "provider (already excluded from payment); check the prescription and the provider",
    )


def _amount_above_peers(
    claim: Claim, assessment: Assessment, ctx: ReviewContext, policy: ReviewPolicy, _s: float | None
) -> Finding | None:
    if not isinstance(claim, HealthClaim):
        return None
    category = icd_category(claim.diagnosis)
    peers = ctx.peer_stats.get(category)
    if peers is None or peers.count < policy.peer_min_count:
        return None
    claimed = assessment.claimed
    if claimed <= peers.median.times(policy.peer_multiple) or claimed <= peers.p95:
        return None
    return Finding(
        "review.amount_above_peers",
        "refer",
        f"申请金额 {claimed.amount:,} 元超过同类诊断（{category}）中位数 "
        f"{peers.median.amount:,} 元的 {policy.peer_multiple} 倍及第 95 百分位数 "
        f"{peers.p95.amount:,} 元",
        f"claimed {claimed.amount:,} CNY is over {policy.peer_multiple}× the median "
        f"{peers.median.amount:,} CNY and over the 95th percentile {peers.p95.amount:,} CNY "
        f"of diagnosis category {category}",
    )


def _provider_anomalous(
    claim: Claim, _a: Assessment, ctx: ReviewContext, policy: ReviewPolicy, _s: float | None
) -> Finding | None:
    if not isinstance(claim, HealthClaim):
        return None
    profile = ctx.provider_profiles.get(claim.provider)
    if profile is None or profile.claims < policy.provider_min_claims:
        return None
    over = profile.share_over_peer_p95
    dup = profile.duplicate_invoice_share
    if over <= policy.provider_over_p95_share and dup <= policy.provider_duplicate_share:
        return None
    return Finding(
        "review.provider_anomalous",
        "refer",
        f"医疗机构 {claim.provider} 异常：{profile.claims} 件案件中 {over:.0%} "
        f"高于同类第 95 百分位数，{dup:.0%} 重复使用发票",
        f"provider {claim.provider} is anomalous: of its {profile.claims} claims {over:.0%} are "
        f"above their peers' 95th percentile and {dup:.0%} re-used an invoice",
    )


def _anomaly_score(
    _c: Claim, _a: Assessment, _x: ReviewContext, policy: ReviewPolicy, score: float | None
) -> Finding | None:
    if score is None or score < policy.anomaly_refer_score:
        return None
    return Finding(
        "review.anomaly_score",
        "refer",
        f"异常评分 {score:.2f} 不低于阈值 {policy.anomaly_refer_score:.2f}",
        f"anomaly score {score:.2f} is at or above the threshold {policy.anomaly_refer_score:.2f}",
    )


def _over_auto_pay_limit(
    _c: Claim, assessment: Assessment, _x: ReviewContext, policy: ReviewPolicy, _s: float | None
) -> Finding | None:
    limit = policy.auto_pay_limit
    if assessment.payable <= limit:
        return None
    return Finding(
        "review.over_auto_pay_limit",
        "refer",
        f"应付金额 {assessment.payable.amount:,} 元超过自动赔付上限 {limit.amount:,} 元",
        f"payable {assessment.payable.amount:,} CNY is over the straight-through limit "
        f"of {limit.amount:,} CNY",
    )


RULES: tuple[Rule, ...] = (
    _duplicate_invoice,
    _soon_after_inception,
    _sex_mismatch,
    _age_mismatch,
    _overlapping_stay,
    _drug_off_list,
    _amount_above_peers,
    _provider_anomalous,
    _anomaly_score,
    _over_auto_pay_limit,
)
"""Every rule, in the order its findings are listed.  Health-only rules return nothing for
a property claim, which keeps duplicate invoice, soon after inception, anomaly score and
the auto-pay limit."""


# --------------------------------------------------------------------------- review


def review(
    claim: Claim,
    assessment: Assessment,
    context: ReviewContext,
    policy: ReviewPolicy = ReviewPolicy(),
    anomaly_score: float | None = None,
) -> Review:
    """Run every rule over an adjudicated claim and route it: decline if any finding
    declines, refer if any refers, else pay — a claim the engine decided at zero with no
    finding is routed "pay" too (straight through, as a decided zero payment)."""
    if assessment.claim_id != claim.claim_id:
        raise ValidationFailed(
            "review.assessment_mismatch",
            f"理算结果属于案件 {assessment.claim_id}，不属于案件 {claim.claim_id}",
            f"the assessment is of claim {assessment.claim_id}, not of claim {claim.claim_id}",
        )
    found = (rule(claim, assessment, context, policy, anomaly_score) for rule in RULES)
    findings = tuple(f for f in found if f is not None)
    outcome = _route(findings)
    sampled = outcome == "pay" and in_quality_sample(claim.claim_id, policy.quality_sample_share)
    return Review(outcome, findings, anomaly_score, sampled)


def _route(findings: Sequence[Finding]) -> Route:
    if any(f.severity == "decline" for f in findings):
        return "decline"
    return "refer" if findings else "pay"


def in_quality_sample(claim_id: str, share: Decimal) -> bool:
    """Whether a straight-through claim is drawn for QA: the first 8 bytes of the SHA-256 of
    its ID, read as a number in [0, 1), fall below ``share`` — the same answer every time.

    >>> in_quality_sample("C1", Decimal("0")), in_quality_sample("C1", Decimal("1"))
    (False, True)
    """
    digest = hashlib.sha256(claim_id.encode("utf-8")).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64) < share


# --------------------------------------------------------------------------- book statistics


def nearest_rank(ordered: Sequence[Money], share: Decimal) -> Money:
    """The nearest-rank percentile of sorted amounts: the value at rank ⌈share × n⌉ (1-based,
    at least 1) — always an amount that was actually claimed, so exact to the fen.

    >>> nearest_rank([Money.of(v) for v in ("1", "2", "3", "4")], Decimal("0.5"))
    Money('2.00')
    """
    if not ordered:
        raise ValueError("no amounts")
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def peer_stats(claims: Iterable[tuple[str, Money]]) -> dict[str, PeerStats]:
    """Median and 95th percentile (nearest rank) of claimed amounts per ICD-10 category.

    >>> stats = peer_stats([("K35.8", Money.of("100")), ("K35.2", Money.of("300")),
    ...                     ("K35.9", Money.of("200")), ("J18.9", Money.of("50"))])
    >>> stats["K35"]
    PeerStats(median=Money('200.00'), p95=Money('300.00'), count=3)
    """
    by_category: dict[str, list[Money]] = defaultdict(list)
    for diagnosis, claimed in claims:
        by_category[icd_category(diagnosis)].append(claimed)
    return {category: _stats(sorted(amounts)) for category, amounts in by_category.items()}


def _stats(ordered: list[Money]) -> PeerStats:
    return PeerStats(
        nearest_rank(ordered, Decimal("0.5")), nearest_rank(ordered, Decimal("0.95")), len(ordered)
    )


def provider_profiles(
    history: Iterable[PriorClaim], peers: Mapping[str, PeerStats]
) -> dict[str, ProviderProfile]:
    """Profiles of every provider in a claims history, in one pass.

    ``share_over_peer_p95`` counts claims above their diagnosis category's 95th percentile
    (categories missing from ``peers`` never count); ``duplicate_invoice_share`` is the share
    of a provider's claims that repeat an invoice number already on another of its claims
    (claims with invoices − distinct invoices), so it does not depend on the order of the
    history.  Claims without a provider are skipped.
    """
    amounts: dict[str, list[Money]] = defaultdict(list)
    over: dict[str, int] = defaultdict(int)
    invoices: dict[str, list[str]] = defaultdict(list)
    for claim in history:
        if not claim.provider:
            continue
        amounts[claim.provider].append(claim.claimed)
        over[claim.provider] += _over_p95(claim, peers)
        if claim.invoice_no.strip():
            invoices[claim.provider].append(claim.invoice_no)
    return {
        provider: _profile(claimed, over[provider], invoices[provider])
        for provider, claimed in amounts.items()
    }


def _over_p95(claim: PriorClaim, peers: Mapping[str, PeerStats]) -> int:
    stats = peers.get(icd_category(claim.diagnosis))
    return int(stats is not None and claim.claimed > stats.p95)


def _profile(claimed: list[Money], over: int, invoices: list[str]) -> ProviderProfile:
    n = len(claimed)
    repeats = len(invoices) - len(set(invoices))
    return ProviderProfile(
        claims=n,
        mean_claimed=Money(total(claimed).amount / n),
        share_over_peer_p95=Decimal(over) / n,
        duplicate_invoice_share=Decimal(repeats) / n,
    )
