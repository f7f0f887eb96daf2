"""Demo claims: a deterministic claims history for the demo book, so that the staff
console's dashboard and its referred-claims queue have something to show.

About one claim per 25 policies, on in-force 惠民保 (BJ-HMB) and long-term medical (LTM-15)
insureds, and a few on enterprise property (PAR-ENT) sites.  Every date of loss is after the
policy started and before the business date; a health loss is outside its waiting period
(LTM-15: 30 days, 90 for critical illness), except the few planted "soon after inception"
惠民保 claims that review refers.  Large bills (referred: above the auto-pay limit), and a few
invoices submitted a second time through the portal (declined as duplicates) are planted.

Claims are reported and decided set-based through :func:`decide_batch`, one batch per
channel; claim IDs follow from the seed, so re-running adds nothing.

The first twelve 惠民保 policies are left alone: ``examples/settlement-2026-06.csv`` claims on
them.  The thirteenth gets a special-drug claim that is paid, so that a demo customer printed
by ``baoxian serve --demo`` has a paid claim to look at.

>>> from baoxian.shared.money import Money
>>> people = [DemoInsured(f"BJHMB2026{n:08d}", "BJ-HMB", f"p{n}", date(2026, 1, 1), "F", 60,
...                       None) for n in range(1, 200)]
>>> claims = demo_claims(people, seed=7, as_of=date(2026, 3, 1), count=8)
>>> claims == demo_claims(people, seed=7, as_of=date(2026, 3, 1), count=8)
True
>>> len(claims), claims[0].policy_number
(8, 'BJHMB202600000013')
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from baoxian.claims.batch import decide_batch
from baoxian.claims.model import BillItem, Claim, HealthClaim, PropertyClaim
from baoxian.claims.synthetic import DIAGNOSES, Diagnosis
from baoxian.policies.model import Policy, PolicyStatus
from baoxian.shared.money import Money

if TYPE_CHECKING:
    from baoxian.bootstrap import App

__all__ = ["DemoClaims", "DemoInsured", "claimable", "decide_demo_claims", "demo_claims"]

POLICIES_PER_CLAIM = 25
SETTLEMENT_EXAMPLE_POLICIES = 12  # the first BJ-HMB policies, claimed on by the example file
CHANNELS = ("settlement_import", "api", "portal")  # decided in this order; duplicates last
HOSPITALS = tuple(f"BJH{n:03d}" for n in range(1, 61))
PHARMACIES = tuple(f"BJP{n:03d}" for n in range(1, 13))
DRUG_COST = {"L01EB04": 15000, "L01FF02": 18000, "L01FD01": 8000}  # CNY per pack
CRITICAL = ("C", "I21", "I63")  # LTM-15 critical-illness benefit: a 90-day waiting period
LARGE_SHARE = 0.04  # bills 4–8 × the usual: payable above the auto-pay limit, referred
EARLY_SHARE = 0.03  # 惠民保 illness within 25 days of inception, referred
DUPLICATE_SHARE = 0.005  # an earlier invoice again, through the portal: declined
PROPERTY_SHARE = 0.02
LARGE_BILL = 30000  # CNY: the median bill of the diagnoses claimed
SOON_DAYS = 30  # review refers a loss sooner than this after inception


@dataclass(frozen=True, slots=True)
class DemoInsured:
    """What the demo claims read of an insured: policy, product, start, sex, age, value."""

    policy_number: str
    product_code: str
    unit_key: str
    start: date
    gender: str
    age: int
    sum_insured: Money | None


@dataclass(frozen=True, slots=True)
class DemoClaims:
    """What the demo claims came to: claims by final status, and those already there."""

    statuses: Mapping[str, int]
    already_there: int
    seconds: float


def claimable(policies: Iterable[Policy]) -> Iterator[DemoInsured]:
    """The insureds of in-force individual health and property policies."""
    for policy in policies:
        if policy.status is not PolicyStatus.IN_FORCE or policy.group:
            continue
        if policy.product_code not in ("BJ-HMB", "LTM-15", "PAR-ENT"):
            continue
        for unit in policy.units:
            yield DemoInsured(
                policy.policy_number,
                policy.product_code,
                unit.key,
                policy.term_start,
                str(unit.facts.get("gender", "")),
                int(unit.facts.get("age", 0)),
                unit.declared_sum_insured,
            )


def demo_claims(
    insureds: Sequence[DemoInsured], *, seed: int, as_of: date, count: int
) -> list[Claim]:
    """``count`` claims on ``insureds`` — fewer where too few have room for a loss before
    ``as_of`` — then the planted duplicates; pure: the same arguments, the same claims."""
    rng = random.Random(f"demo-claims-{seed}")
    hmb = sorted({i.policy_number for i in insureds if i.product_code == "BJ-HMB"})
    reserved = set(hmb[:SETTLEMENT_EXAMPLE_POLICIES])
    showcase = hmb[SETTLEMENT_EXAMPLE_POLICIES : SETTLEMENT_EXAMPLE_POLICIES + 1]
    draw = _Draw(rng, seed, as_of)
    claims = [draw.showcase(i) for i in insureds if [i.policy_number] == showcase][:count]
    sites = [i for i in insureds if i.product_code == "PAR-ENT"]
    wanted_sites = len(claims) + round(count * PROPERTY_SHARE)
    for insured in _shuffled(rng, sites):
        if len(claims) >= wanted_sites:
            break
        claims.extend(draw.property(insured))
    health = [
        i for i in insureds if i.product_code != "PAR-ENT" and i.policy_number not in reserved
    ]
    for insured in _shuffled(rng, health):
        if len(claims) >= count:
            break
        claims.extend(draw.health(insured))
    stays = [c for c in claims if isinstance(c, HealthClaim) and c.discharge_date is not None]
    again = rng.sample(stays, min(len(stays), round(count * DUPLICATE_SHARE)))
    return claims + [draw.duplicate(c) for c in again]


def _shuffled(rng: random.Random, insureds: Sequence[DemoInsured]) -> list[DemoInsured]:
    order = sorted(insureds, key=lambda i: (i.policy_number, i.unit_key))
    rng.shuffle(order)
    return order


class _Draw:
    """Draws one claim at a time from one random stream, numbering claims and invoices."""

    def __init__(self, rng: random.Random, seed: int, as_of: date) -> None:
        self.rng = rng
        self.seed = seed
        self.as_of = as_of
        self.seq = 0
        self.hospital_weights = [1 / rank**0.8 for rank in range(1, len(HOSPITALS) + 1)]

    def _next_id(self) -> str:
        self.seq += 1
        return f"DEMO-{self.seed}-{self.seq:06d}"

    def _channel(self) -> str:
        return self.rng.choices(CHANNELS, weights=(5, 3, 2))[0]

    def showcase(self, insured: DemoInsured) -> Claim:
        """A special drug bought at a designated pharmacy a month before the business date:
        no deductible, paid straight through."""
        claim_id = self._next_id()
        provider = PHARMACIES[0]
        item = BillItem("L01FD01", "特药", "special_drug", Money.of("8400"))
        return HealthClaim(
            claim_id,
            insured.policy_number,
            insured.unit_key,
            max(insured.start + timedelta(days=SOON_DAYS), self.as_of - timedelta(days=30)),
            "C50.9",
            (item,),
            provider=provider,
            invoice_no=f"{provider}-{claim_id}",
            channel="portal",
        )

    def health(self, insured: DemoInsured) -> list[Claim]:
        """A hospital stay or (for a cancer) a special drug, inside cover; none if the
        insured has no room for one before the business date."""
        rng = self.rng
        early = insured.product_code == "BJ-HMB" and rng.random() < EARLY_SHARE
        dx = self._diagnosis(insured, illness_only=early)
        if dx is None:
            return []
        nights = rng.randint(*dx.stay)
        first = insured.start + timedelta(days=1 if early else self._waiting(insured, dx))
        last = self.as_of - timedelta(days=nights)
        if early:
            last = min(last, insured.start + timedelta(days=25))
        if last < first:
            return []
        loss = first + timedelta(days=rng.randint(0, (last - first).days))
        channel = self._channel()
        claim_id = self._next_id()
        if dx.drugs and insured.product_code == "BJ-HMB" and rng.random() < 0.3:
            return [self._pharmacy(insured, dx, loss, claim_id, channel)]
        factor = rng.uniform(4, 8) if rng.random() < LARGE_SHARE else 1.0
        fen = round(rng.lognormvariate(math.log(dx.median), dx.sigma) * factor * 100)
        provider = rng.choices(HOSPITALS, weights=self.hospital_weights)[0]
        return [
            HealthClaim(
                claim_id,
                insured.policy_number,
                insured.unit_key,
                loss,
                dx.code,
                _hospital_items(rng, max(100_00, fen)),
                accident=dx.accident,
                provider=provider,
                invoice_no=f"{provider}-{claim_id}",
                discharge_date=loss + timedelta(days=nights),
                channel=channel,
            )
        ]

    def _diagnosis(self, insured: DemoInsured, illness_only: bool) -> Diagnosis | None:
        """A diagnosis of the insured's age and sex, of a large bill (people claim above the
        deductible: 18,000 on 惠民保, 10,000 on LTM-15)."""
        fits = [
            d
            for d in DIAGNOSES
            if d.ages[0] <= insured.age <= d.ages[1]
            and d.sex in (None, insured.gender)
            and d.median >= LARGE_BILL
            and not (illness_only and d.accident)
        ]
        if not fits:
            return None
        return self.rng.choices(fits, weights=[d.weight for d in fits])[0]

    @staticmethod
    def _waiting(insured: DemoInsured, dx: Diagnosis) -> int:
        """Days after the start before a loss is past the waiting period and not so soon
        after inception that review refers it."""
        if insured.product_code == "LTM-15" and not dx.accident:
            return 91 if dx.code.startswith(CRITICAL) else 31
        return SOON_DAYS

    def _pharmacy(
        self, insured: DemoInsured, dx: Diagnosis, loss: date, claim_id: str, channel: str
    ) -> HealthClaim:
        rng = self.rng
        drug = rng.choice(dx.drugs)
        fen = round(DRUG_COST[drug] * rng.choice((1, 1, 2, 3)) * rng.uniform(0.9, 1.1) * 100)
        provider = rng.choice(PHARMACIES)
        item = BillItem(drug, "特药", "special_drug", Money.from_fen(fen))
        return HealthClaim(
            claim_id,
            insured.policy_number,
            insured.unit_key,
            loss,
            dx.code,
            (item,),
            provider=provider,
            invoice_no=f"{provider}-{claim_id}",
            channel=channel,
        )

    def property(self, insured: DemoInsured) -> list[Claim]:
        """A fire, theft or accidental damage at a site, after the first month of cover."""
        rng = self.rng
        first = insured.start + timedelta(days=SOON_DAYS)
        if self.as_of - timedelta(days=1) < first or insured.sum_insured is None:
            return []
        loss = first + timedelta(days=rng.randint(0, (self.as_of - first).days - 1))
        fen = min(insured.sum_insured.fen, round(rng.lognormvariate(math.log(30000), 1.0) * 100))
        claim_id = self._next_id()
        return [
            PropertyClaim(
                claim_id,
                insured.policy_number,
                insured.unit_key,
                loss,
                rng.choice(("fire", "theft", "accidental_damage")),
                Money.from_fen(fen),
                invoice_no=f"LOSS-{claim_id}",
            )
        ]

    def duplicate(self, original: HealthClaim) -> HealthClaim:
        """The same invoice again, through the portal."""
        return replace(original, claim_id=self._next_id(), channel="portal")


def _hospital_items(rng: random.Random, fen: int) -> tuple[BillItem, ...]:
    in_list = round(fen * rng.uniform(0.55, 0.85))
    basic = round(in_list * rng.uniform(0.5, 0.75))
    return (
        BillItem(
            "HOSP-IN", "医保目录内费用", "in_list", Money.from_fen(in_list), Money.from_fen(basic)
        ),
        BillItem("HOSP-OUT", "医保目录外费用", "out_of_list", Money.from_fen(fen - in_list)),
    )


def channel_of(claim: Claim) -> str:
    """The channel a demo claim came through (property claims: the API)."""
    return claim.channel if isinstance(claim, HealthClaim) else "api"


def decide_demo_claims(app: App, claims: Sequence[Claim]) -> DemoClaims:
    """Report and decide ``claims`` through :func:`decide_batch`, one batch per channel in
    :data:`CHANNELS` order (claims already in the store are skipped)."""
    statuses: Counter[str] = Counter()
    already = 0
    seconds = 0.0
    for channel in CHANNELS:
        batch = [c for c in claims if channel_of(c) == channel]
        if not batch:
            continue
        result = decide_batch(
            app.engine,
            app.policies,
            app.catalog,
            batch,
            channel=channel,
            clock=app.claims.clock,
            new_id=app.claims.new_id,
            review_policy=app.claims.review_policy,
            anomaly_model=app.claims.anomaly_model,
            workers=0,
        )
        statuses.update(result.statuses)
        already += result.already_in_store
        seconds += sum(result.seconds.values())
    return DemoClaims(dict(sorted(statuses.items())), already, seconds)
