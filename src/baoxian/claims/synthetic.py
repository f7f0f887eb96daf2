"""Synthetic health claims with planted fraud (合成理赔数据), for tests and benchmarks.

:func:`generate` makes a book of 惠民保-style claims of one plan year (2026) — inpatient
stays and special-drug pharmacy purchases — each with the :class:`ReviewContext` the store
would give the review (insured, earlier claims, peer statistics, provider profiles) and a
label saying whether fraud was planted in it and of which kind.  Everything is drawn from
one ``random.Random(seed)``: the same seed and arguments give the same claims everywhere.

The book:

* insureds of every age (more of them old, as in real claims) and both sexes; most first
  enrolled 2021–2025, a quarter new in early 2026;
* a realistic ICD-10 mix (:data:`DIAGNOSES`): appendicitis, pneumonia, fractures, lung /
  breast / stomach / cervical / prostate cancer, stroke, heart attack, diabetes, COPD,
  childbirth, prostate hyperplasia, Alzheimer's, prematurity — each only for the ages and
  sex that have it, with a lognormal amount around a plausible CNY median and a plausible
  length of stay;
* hospital bills split into 医保目录内 (with the share 医保统筹 paid) and 目录外 items;
  special drugs bought at designated pharmacies, a few off the list or at a non-designated
  pharmacy;
* 170 hospitals with a long-tailed share of claims and 30 pharmacies; a few of the smaller
  hospitals are "bad providers".

Planted fraud (:data:`FRAUD_KINDS`, split of ``fraud_share`` in brackets): ``inflated``
(15 %: 5–15 × the usual amount), ``duplicate_invoice`` (15 %: an earlier bill submitted
again, by the same insured or another), ``sex_mismatch`` (10 %), ``age_mismatch`` (10 %),
``overlapping_stay`` (15 %: a second stay at another hospital inside a stay),
``soon_after_inception`` (15 %: a new enrollee's illness within 25 days), ``bad_provider``
(20 %: bad hospitals — one per 20 such claims, at least one — whose every bill is inflated
2–4 ×).  Apart from the planted overlaps, an insured's stays never overlap.

Peer statistics and provider profiles are computed from the whole generated book (as a
nightly batch would over the store), so they include the planted fraud.

>>> book = generate(seed=7, n=300)
>>> book == generate(seed=7, n=300)
True
>>> len(book), sum(c.fraud for c in book)
(300, 15)
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from types import MappingProxyType

from baoxian.claims.model import BillItem, HealthClaim
from baoxian.claims.review import (
    SEX_RULES,
    PeerStats,
    PriorClaim,
    ProviderProfile,
    ReviewContext,
    icd_category,
    peer_stats,
    provider_profiles,
)
from baoxian.shared.money import Money, total

__all__ = ["DIAGNOSES", "FRAUD_KINDS", "Diagnosis", "LabelledClaim", "generate"]

YEAR_START = date(2026, 1, 1)
YEAR_END = date(2026, 12, 31)


@dataclass(frozen=True, slots=True)
class LabelledClaim:
    """A generated claim, what the review would know about it, and the truth about it."""

    claim: HealthClaim
    context: ReviewContext
    fraud: bool
    kind: str  # "normal" or one of FRAUD_KINDS


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A diagnosis the generator uses: who has it, how much a stay costs (median, lognormal
    sigma), how long it lasts, how common it is, and whether special drugs treat it."""

    code: str
    zh: str
    median: int  # CNY per stay
    sigma: float
    stay: tuple[int, int]  # nights, inclusive
    weight: float
    ages: tuple[int, int]  # inclusive
    sex: str | None = None
    accident: bool = False
    drugs: tuple[str, ...] = ()  # special drugs bought at pharmacies for it


DIAGNOSES: tuple[Diagnosis, ...] = (
    Diagnosis("K35.8", "急性阑尾炎", 15000, 0.35, (3, 7), 8, (5, 85)),
    Diagnosis("J18.9", "肺炎", 12000, 0.5, (5, 12), 12, (0, 99)),
    Diagnosis("S72.0", "股骨颈骨折", 55000, 0.4, (7, 18), 6, (50, 99), accident=True),
    Diagnosis("S82.2", "胫骨骨折", 35000, 0.4, (5, 14), 5, (10, 80), accident=True),
    Diagnosis(
        "C34.1", "肺恶性肿瘤", 85000, 0.6, (8, 25), 8, (40, 99), drugs=("L01EB04", "L01FF02")
    ),
    Diagnosis("C50.9", "乳腺恶性肿瘤", 65000, 0.5, (6, 18), 6, (30, 90), "F", drugs=("L01FD01",)),
    Diagnosis("C16.9", "胃恶性肿瘤", 75000, 0.5, (10, 25), 4, (40, 99), drugs=("L01FF02",)),
    Diagnosis("C53.9", "宫颈恶性肿瘤", 60000, 0.5, (8, 20), 2, (30, 80), "F", drugs=("L01FF02",)),
    Diagnosis("C61", "前列腺恶性肿瘤", 50000, 0.5, (6, 15), 2, (55, 99), "M", drugs=("L01FF02",)),
    Diagnosis("I63.9", "脑梗死", 35000, 0.5, (8, 20), 10, (45, 99)),
    Diagnosis("I21.9", "急性心肌梗死", 60000, 0.45, (6, 14), 5, (40, 99)),
    Diagnosis("E11.9", "2型糖尿病", 9000, 0.4, (5, 12), 8, (30, 99)),
    Diagnosis("J44.1", "慢性阻塞性肺病急性加重", 14000, 0.45, (6, 14), 6, (50, 99)),
    Diagnosis("O80", "单胎顺产", 7000, 0.3, (2, 4), 6, (20, 45), "F"),
    Diagnosis("N40", "前列腺增生", 14000, 0.35, (4, 9), 4, (50, 99), "M"),
    Diagnosis("G30.9", "阿尔茨海默病", 20000, 0.5, (10, 30), 2, (65, 99)),
    Diagnosis("P07.3", "早产儿", 30000, 0.5, (10, 40), 1, (0, 0)),
)
"""The ICD-10 mix of the generated book."""

_BY_CODE = {d.code: d for d in DIAGNOSES}

FRAUD_KINDS: tuple[tuple[str, float], ...] = (
    ("inflated", 0.15),
    ("duplicate_invoice", 0.15),
    ("sex_mismatch", 0.10),
    ("age_mismatch", 0.10),
    ("overlapping_stay", 0.15),
    ("soon_after_inception", 0.15),
    ("bad_provider", 0.20),
)
"""Planted fraud kinds and their share of the fraud."""

HOSPITALS = tuple(f"BJH{i:03d}" for i in range(1, 171))
PHARMACIES = tuple(f"BJP{i:03d}" for i in range(1, 31))
_CLAIMS_PER_BAD_PROVIDER = 20
_DRUG_COST = {"L01EB04": 15000, "L01FF02": 18000, "L01FD01": 8000}
_OFF_LIST_DRUG = "L01XX99"
_PHARMACY_SHARE = 0.4  # of cancer claims
_OFF_LIST_SHARE = 0.03
_NON_DESIGNATED_SHARE = 0.02


@dataclass(frozen=True, slots=True)
class _Insured:
    key: str
    policy_number: str
    gender: str
    age: int
    inception: date


@dataclass(frozen=True, slots=True)
class _Draft:
    """A claim before it has its ID (IDs follow the order claims reach the store)."""

    claim: HealthClaim
    insured: _Insured
    kind: str


@dataclass(frozen=True, slots=True)
class _Book:
    """The fixed parts of one generated book: people and providers."""

    insureds: tuple[_Insured, ...]
    hospital_weights: tuple[float, ...]
    bad_hospitals: tuple[str, ...]


# --------------------------------------------------------------------------- entry point


def generate(seed: int, n: int, fraud_share: float = 0.05) -> list[LabelledClaim]:
    """``n`` claims of the 2026 plan year, ``round(n × fraud_share)`` of them fraudulent,
    in the order they reached the store (by date of loss)."""
    if n < 1 or not 0 <= fraud_share <= 1:
        raise ValueError("n must be ≥ 1 and fraud_share within [0, 1]")
    rng = random.Random(seed)
    plan = _fraud_plan(round(n * fraud_share))
    book = _book(rng, n, max(1, plan["bad_provider"] // _CLAIMS_PER_BAD_PROVIDER))
    gen = _Generator(rng, book)
    for _ in range(n - sum(plan.values())):
        gen.add(gen.normal())
    legit = tuple(gen.drafts)
    for kind, count in plan.items():
        for nth in range(count):
            gen.add(gen.fraud(kind, legit, nth))
    return _label(sorted(gen.drafts, key=lambda d: (d.claim.loss_date, d.claim.claim_id)), seed)


def _fraud_plan(count: int) -> dict[str, int]:
    """Split ``count`` over the fraud kinds by largest remainder."""
    exact = [(kind, count * share) for kind, share in FRAUD_KINDS]
    plan = {kind: math.floor(value) for kind, value in exact}
    by_remainder = sorted(exact, key=lambda kv: kv[1] - math.floor(kv[1]), reverse=True)
    for kind, _value in by_remainder[: count - sum(plan.values())]:
        plan[kind] += 1
    return plan


# --------------------------------------------------------------------------- population


def _book(rng: random.Random, n: int, bad_providers: int) -> _Book:
    insureds = tuple(_insured(rng, i) for i in range(max(1, n * 3 // 4)))
    weights = tuple(1 / (rank**0.8) for rank in range(1, len(HOSPITALS) + 1))
    bad = tuple(sorted(rng.sample(HOSPITALS[40:], bad_providers)))
    return _Book(insureds, weights, bad)


def _insured(rng: random.Random, index: int, new: bool = False) -> _Insured:
    age = _age(rng)
    inception = _inception(rng, new or rng.random() < 0.25)
    inception = max(inception, YEAR_START - timedelta(days=365 * age))  # not before birth
    gender = rng.choice("MF")
    return _Insured(f"I{index:07d}", f"BJHMB{index:08d}", gender, age, inception)


def _age(rng: random.Random) -> int:
    band = rng.choices(
        [(0, 17), (18, 39), (40, 59), (60, 79), (80, 95)], weights=[8, 15, 27, 35, 15]
    )[0]
    return rng.randint(*band)


def _inception(rng: random.Random, new: bool) -> date:
    if new:
        return YEAR_START + timedelta(days=rng.randint(0, 89))
    return date(2021, 1, 1) + timedelta(days=rng.randint(0, 5 * 365 - 1))


def _diagnosis_for(rng: random.Random, insured: _Insured, illness_only: bool = False) -> Diagnosis:
    fits = [
        d
        for d in DIAGNOSES
        if d.ages[0] <= insured.age <= d.ages[1]
        and d.sex in (None, insured.gender)
        and not (illness_only and d.accident)
    ]
    return rng.choices(fits, weights=[d.weight for d in fits])[0]


def _other_sex_diagnosis(rng: random.Random, insured: _Insured) -> Diagnosis:
    """A diagnosis only the other sex has — one that fits the insured's age if there is one."""
    other = [d for d in DIAGNOSES if _sex_only(d.code) not in (None, insured.gender)]
    of_age = [d for d in other if d.ages[0] <= insured.age <= d.ages[1]]
    return rng.choice(of_age or other)


def _sex_only(code: str) -> str | None:
    category = icd_category(code)
    return next((r.sex for r in SEX_RULES if r.low <= category <= r.high), None)


# --------------------------------------------------------------------------- claims


class _Generator:
    """Draws the claims of one book, keeping each insured's stays apart (a person is in one
    hospital at a time) except where an overlap is the planted fraud."""

    def __init__(self, rng: random.Random, book: _Book) -> None:
        self.rng = rng
        self.book = book
        self.drafts: list[_Draft] = []
        self.stays: dict[str, list[HealthClaim]] = defaultdict(list)

    def add(self, draft: _Draft) -> None:
        self.drafts.append(draft)
        if draft.claim.discharge_date is not None:
            self.stays[draft.insured.key].append(draft.claim)

    @property
    def seq(self) -> int:
        return len(self.drafts)

    def hospital(self) -> str:
        while True:
            provider = self.rng.choices(HOSPITALS, weights=self.book.hospital_weights)[0]
            if provider not in self.book.bad_hospitals:
                return provider

    def free_stay(
        self, insured: _Insured, dx: Diagnosis, provider: str, factor: float = 1.0
    ) -> HealthClaim:
        """A stay that does not overlap the insured's other stays (ten tries)."""
        claim = _stay_claim(self.rng, insured, dx, provider, self.seq, factor)
        for _ in range(10):
            if not self.busy(insured, claim):
                break
            claim = _stay_claim(self.rng, insured, dx, provider, self.seq, factor)
        return claim

    def busy(self, insured: _Insured, claim: HealthClaim) -> bool:
        return any(_same_time(claim, other) for other in self.stays.get(insured.key, []))

    # ----------------------------------------------------------------------- normal

    def normal(self) -> _Draft:
        insured = self.rng.choice(self.book.insureds)
        dx = _diagnosis_for(self.rng, insured)
        if dx.drugs and self.rng.random() < _PHARMACY_SHARE:
            return _Draft(_pharmacy_claim(self.rng, insured, dx, self.seq), insured, "normal")
        return _Draft(self.free_stay(insured, dx, self.hospital()), insured, "normal")

    # ----------------------------------------------------------------------- planted fraud

    def fraud(self, kind: str, legit: Sequence[_Draft], nth: int) -> _Draft:
        if kind == "duplicate_invoice":
            return self.duplicate(legit)
        if kind == "overlapping_stay":
            return self.overlap(legit)
        if kind == "soon_after_inception":
            return self.early()
        insured = self.rng.choice(self.book.insureds)
        if kind == "sex_mismatch":
            dx = _other_sex_diagnosis(self.rng, insured)
        elif kind == "age_mismatch":
            dx = _BY_CODE["G30.9" if insured.age < 40 else "P07.3"]
        else:
            dx = _diagnosis_for(self.rng, insured)
        if kind == "bad_provider":
            provider = self.book.bad_hospitals[nth % len(self.book.bad_hospitals)]
            claim = self.free_stay(insured, dx, provider, self.rng.uniform(2, 4))
        elif kind == "inflated":
            claim = self.free_stay(insured, dx, self.hospital(), self.rng.uniform(5, 15))
        else:
            claim = self.free_stay(insured, dx, self.hospital())
        return _Draft(claim, insured, kind)

    def duplicate(self, legit: Sequence[_Draft]) -> _Draft:
        """An earlier bill again: by the same insured (a second submission) or by another
        insured who was covered and not in hospital then."""
        original = self.rng.choice(_stays(legit))
        insured = original.insured
        if self.rng.random() < 0.3:
            insured = self.rng.choice(
                [
                    i
                    for i in self.book.insureds
                    if i.inception <= original.claim.loss_date and not self.busy(i, original.claim)
                ]
            )
        claim = replace(
            original.claim,
            claim_id=f"draft-{self.seq:08d}",
            policy_number=insured.policy_number,
            unit_key=insured.key,
            channel="portal",
        )
        return _Draft(claim, insured, "duplicate_invoice")

    def overlap(self, legit: Sequence[_Draft]) -> _Draft:
        """A second stay at another hospital, inside an earlier stay of the same insured."""
        original = self.rng.choice([d for d in _stays(legit) if _nights(d.claim) >= 2])
        first = original.claim
        offset = self.rng.randint(0, _nights(first) - 1)
        admitted = first.loss_date + timedelta(days=offset)
        nights = self.rng.randint(1, _nights(first) - offset)
        provider = self.hospital()
        while provider == first.provider:
            provider = self.hospital()
        dx = _diagnosis_for(self.rng, original.insured)
        claim = _stay_claim(self.rng, original.insured, dx, provider, self.seq, 1.0, admitted)
        claim = replace(claim, discharge_date=admitted + timedelta(days=nights))
        return _Draft(claim, original.insured, "overlapping_stay")

    def early(self) -> _Draft:
        """A new enrollee (inception in 2026) admitted for an illness 1–25 days later."""
        insured = _insured(self.rng, len(self.book.insureds) + self.seq, new=True)
        dx = _diagnosis_for(self.rng, insured, illness_only=True)
        loss = insured.inception + timedelta(days=self.rng.randint(1, 25))
        factor = self.rng.uniform(1, 2)
        claim = _stay_claim(self.rng, insured, dx, self.hospital(), self.seq, factor, loss)
        return _Draft(claim, insured, "soon_after_inception")


def _same_time(a: HealthClaim, b: HealthClaim) -> bool:
    if a.discharge_date is None or b.discharge_date is None:
        return False
    return a.loss_date <= b.discharge_date and b.loss_date <= a.discharge_date


def _stays(drafts: Sequence[_Draft]) -> list[_Draft]:
    return [d for d in drafts if d.claim.discharge_date is not None]


def _nights(claim: HealthClaim) -> int:
    return 0 if claim.discharge_date is None else (claim.discharge_date - claim.loss_date).days


def _loss_date(rng: random.Random, insured: _Insured) -> date:
    first = max(YEAR_START, insured.inception)
    return first + timedelta(days=rng.randint(0, (YEAR_END - first).days))


def _stay_claim(
    rng: random.Random,
    insured: _Insured,
    dx: Diagnosis,
    provider: str,
    seq: int,
    factor: float,
    loss: date | None = None,
) -> HealthClaim:
    admitted = loss or _loss_date(rng, insured)
    nights = rng.randint(*dx.stay)
    amount = _fen(rng.lognormvariate(math.log(dx.median), dx.sigma) * factor)
    return HealthClaim(
        claim_id=f"draft-{seq:08d}",
        policy_number=insured.policy_number,
        unit_key=insured.key,
        loss_date=admitted,
        diagnosis=dx.code,
        items=_hospital_items(rng, amount),
        accident=dx.accident,
        provider=provider,
        invoice_no=f"{provider}-{seq:08d}",
        discharge_date=admitted + timedelta(days=nights),
        channel=rng.choice(("portal", "settlement_import", "settlement_import", "api")),
    )


def _fen(yuan: float) -> int:
    """A drawn amount in whole fen (the draw is a float; the money never is)."""
    return max(100, round(yuan * 100))


def _hospital_items(rng: random.Random, fen: int) -> tuple[BillItem, ...]:
    in_list = round(fen * rng.uniform(0.55, 0.85))
    basic = round(in_list * rng.uniform(0.5, 0.75))
    return (
        BillItem(
            "HOSP-IN", "医保目录内费用", "in_list", Money.from_fen(in_list), Money.from_fen(basic)
        ),
        BillItem("HOSP-OUT", "医保目录外费用", "out_of_list", Money.from_fen(fen - in_list)),
    )


def _pharmacy_claim(rng: random.Random, insured: _Insured, dx: Diagnosis, seq: int) -> HealthClaim:
    provider = rng.choice(PHARMACIES)
    drug = rng.choice(dx.drugs)
    draw = rng.random()
    code = _OFF_LIST_DRUG if draw < _OFF_LIST_SHARE else drug
    designated = not _OFF_LIST_SHARE <= draw < _OFF_LIST_SHARE + _NON_DESIGNATED_SHARE
    packs = rng.choice((1, 1, 2, 3))
    fen = _fen(_DRUG_COST[drug] * packs * rng.uniform(0.9, 1.1))
    item = BillItem(code, "特药", "special_drug", Money.from_fen(fen), Money.ZERO, designated)
    return HealthClaim(
        claim_id=f"draft-{seq:08d}",
        policy_number=insured.policy_number,
        unit_key=insured.key,
        loss_date=_loss_date(rng, insured),
        diagnosis=dx.code,
        items=(item,),
        provider=provider,
        invoice_no=f"{provider}-{seq:08d}",
        channel="api",
    )


# --------------------------------------------------------------------------- contexts


def _label(drafts: Sequence[_Draft], seed: int) -> list[LabelledClaim]:
    """Give claims their IDs in store order and each the context the store would give."""
    claims = [
        replace(d.claim, claim_id=f"CL{seed:04d}{i:07d}") for i, d in enumerate(drafts, start=1)
    ]
    priors = [_prior(c) for c in claims]
    peers = MappingProxyType(peer_stats((p.diagnosis, p.claimed) for p in priors))
    profiles = MappingProxyType(provider_profiles(priors, peers))
    by_insured: dict[str, list[PriorClaim]] = defaultdict(list)
    by_invoice: dict[str, list[PriorClaim]] = defaultdict(list)
    out = []
    for draft, claim, prior in zip(drafts, claims, priors, strict=True):
        history = _history(claim, by_insured, by_invoice)
        context = _context(draft.insured, history, peers, profiles)
        out.append(LabelledClaim(claim, context, draft.kind != "normal", draft.kind))
        by_insured[claim.unit_key].append(prior)
        by_invoice[claim.invoice_no].append(prior)
    return out


def _prior(claim: HealthClaim) -> PriorClaim:
    return PriorClaim(
        claim_id=claim.claim_id,
        policy_number=claim.policy_number,
        unit_key=claim.unit_key,
        invoice_no=claim.invoice_no,
        provider=claim.provider,
        loss_date=claim.loss_date,
        discharge_date=claim.discharge_date,
        diagnosis=claim.diagnosis,
        claimed=total([item.amount for item in claim.items]),
    )


def _history(
    claim: HealthClaim,
    by_insured: Mapping[str, list[PriorClaim]],
    by_invoice: Mapping[str, list[PriorClaim]],
) -> tuple[PriorClaim, ...]:
    own = by_insured.get(claim.unit_key, [])
    others = [p for p in by_invoice.get(claim.invoice_no, []) if p.unit_key != claim.unit_key]
    return (*own, *others)


def _context(
    insured: _Insured,
    history: tuple[PriorClaim, ...],
    peers: Mapping[str, PeerStats],
    profiles: Mapping[str, ProviderProfile],
) -> ReviewContext:
    return ReviewContext(
        insured_gender=insured.gender,
        insured_age=insured.age,
        original_inception=insured.inception,
        prior_claims=history,
        peer_stats=peers,
        provider_profiles=profiles,
    )
