"""A realistic demo book: customers with valid 身份证 and Chinese addresses, policies across
the shipped products, written set-based (bulk inserts / COPY), deterministic for a seed.

The mix: 45% 惠民保 for Beijing residents, 25% long-term medical, 20% motor (about 40% NEVs),
10% enterprise property with one to four sites.  Quotes that underwriting declines or refers
are counted, not issued; a few policies are cancelled or lapsed so the book has history.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any

from baoxian.catalog.model import CompiledPlan, Quotation, QuoteRequest, RiskUnit, quote
from baoxian.catalog.services import Catalog
from baoxian.demo.claims import (
    POLICIES_PER_CLAIM,
    DemoInsured,
    claimable,
    decide_demo_claims,
    demo_claims,
)
from baoxian.demo.population import (
    FakePerson,
    city_by_code,
    generate_organisations,
    generate_people,
    generate_sites,
    generate_vehicles,
)
from baoxian.policies.model import (
    InsuredUnit,
    Organisation,
    Party,
    Person,
    Policy,
    PolicyStatus,
    Quote,
    QuoteStatus,
    cancellation_refund,
    issue,
    number_series,
    person_facts,
    policy_number,
)
from baoxian.policies.ports import Event
from baoxian.shared.clock import SHANGHAI
from baoxian.shared.money import Money

if TYPE_CHECKING:
    from baoxian.bootstrap import App

UnitSpec = tuple[str, dict[str, Any], Money | None, dict[str, Any]]
MIX = (("BJ-HMB", 45), ("LTM-15", 25), ("MOTOR-NEV", 20), ("PAR-ENT", 10))
BATCH = 5_000


@dataclass
class Batch:
    parties: list[Party] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    not_issued: int = 0
    attempted: int = 0


@dataclass(frozen=True, slots=True)
class DemoReport:
    issued: int
    not_issued: int
    seconds: float
    skipped: bool = False
    claims: Mapping[str, int] = field(default_factory=dict)  # demo claims by final status


def product_counts(total: int) -> list[tuple[str, int]]:
    """How many policies of each product a book of ``total`` gets (sums exactly)."""
    counts = [(code, total * share // 100) for code, share in MIX]
    short = total - sum(n for _, n in counts)
    code, first = counts[0]
    return [(code, first + short), *counts[1:]]


class BookBuilder:
    """Builds batches of parties, policies and events for one product; pure (no I/O)."""

    def __init__(self, catalog: Catalog, seed: int, as_of: date, new_id: Callable[[], str]):
        self.catalog = catalog
        self.seed = seed
        self.as_of = as_of
        self.new_id = new_id
        self.rng = random.Random(seed)
        self.numbers: dict[str, int] = {}
        self.used_ids: set[str] = set()

    def _people(self, seed: int, size: int, **kwargs: Any) -> Iterator[FakePerson]:
        """``size`` people whose 身份证号 is new to this book (calls are unique only within)."""
        produced = 0
        attempt = 0
        while produced < size:
            for fake in generate_people(
                seed + attempt * 7919, size - produced, as_of=self.as_of, **kwargs
            ):
                if fake.id_number in self.used_ids:
                    continue
                self.used_ids.add(fake.id_number)
                produced += 1
                yield fake
            attempt += 1

    def batches(self, code: str, count: int) -> Iterator[Batch]:
        builder = {
            "BJ-HMB": self._huiminbao,
            "LTM-15": self._long_term_medical,
            "MOTOR-NEV": self._motor,
            "PAR-ENT": self._property,
        }[code]
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            batch = Batch()
            builder(batch, size, self.seed + done + zlib.crc32(code.encode()) % 1000)
            done += size
            yield batch

    # ------------------------------------------------------------------ products

    def _huiminbao(self, batch: Batch, size: int, seed: int) -> None:
        beijing = city_by_code("110000")
        for fake in self._people(seed, size, city=beijing):
            person = self._person(fake, basic_share=0.97)
            start = date(2026, 1, 1)
            facts = person_facts(person, start)
            self._issue(batch, "BJ-HMB", start, person, [(person.party_id, facts, None, {})])

    def _long_term_medical(self, batch: Batch, size: int, seed: int) -> None:
        for fake in self._people(seed, size, max_age=62):
            person = self._person(fake, basic_share=0.9)
            start = self.as_of - timedelta(days=self.rng.randrange(365))
            conditions = ("高血压",) if self.rng.random() < 0.06 else ()
            facts = person_facts(person, start, conditions)
            instalment = "monthly" if self.rng.random() < 0.3 else "annual"
            self._issue(
                batch,
                "LTM-15",
                start,
                person,
                [(person.party_id, facts, None, {})],
                instalment=instalment,
            )

    def _motor(self, batch: Batch, size: int, seed: int) -> None:
        for fake in self._people(seed, size, min_age=20, max_age=70):
            person = self._person(fake, basic_share=0.95)
            vehicle = next(
                generate_vehicles(seed + len(batch.parties), 1, city=fake.city, as_of=self.as_of)
            )
            months = max(0, (self.as_of - vehicle.first_registration).days // 30)
            depreciation = 0.0082 if vehicle.energy == "nev" else 0.006
            value_fen = int(vehicle.new_price_fen * max(0.2, 1 - months * depreciation))
            value = Money.from_fen(value_fen // 100 * 100)
            facts = {
                "energy": vehicle.energy,
                "age_years": months // 12,
                "seats": vehicle.seats,
                "claims_free_years": self.rng.choice([0, 1, 1, 2, 2, 3, 4, 5]),
                "claims_last_year": self.rng.choice([0] * 8 + [1, 2]),
                "region_code": fake.city.region_code,
            }
            details = {"plate": vehicle.plate, "vin": vehicle.vin, "model": vehicle.make_model}
            riders: frozenset[str] = frozenset()
            if vehicle.energy == "nev" and self.rng.random() < 0.5:
                riders = frozenset({"grid_failure", "charging_pile"})
            limit = Money.of(self.rng.choice(["1000000", "2000000", "3000000"]))
            occupants = frozenset({"occupants"}) if self.rng.random() < 0.5 else frozenset()
            self._issue(
                batch,
                "MOTOR-NEV",
                self._start_in_2026(),
                person,
                [(vehicle.plate, facts, value, details)],
                selections={"third_party": limit},
                riders=riders,
                optional_coverages=occupants,
            )

    def _property(self, batch: Batch, size: int, seed: int) -> None:
        for i, org in enumerate(generate_organisations(seed, size)):
            holder = Organisation(
                self.new_id(),
                org.name,
                org.credit_code,
                _mobile(self.rng),
                org.address,
                org.city.region_code,
            )
            sites = list(generate_sites(seed * 7 + i, self.rng.randint(1, 4), city=org.city))
            units: list[UnitSpec] = []
            for n, site in enumerate(sites, start=1):
                key = f"{org.credit_code[-6:]}-{n:02d}"
                facts = {
                    "construction_class": site.construction_class,
                    "occupancy": site.occupancy,
                    "coastal": site.city.coastal,
                }
                details = {
                    "name": site.name,
                    "address": site.address,
                    "latitude": site.latitude,
                    "longitude": site.longitude,
                    "city": site.city.city,
                    "province": site.city.province,
                }
                units.append((key, facts, Money.from_fen(site.sum_insured_fen), details))
            riders = frozenset({"earthquake"}) if self.rng.random() < 0.2 else frozenset()
            self._issue(batch, "PAR-ENT", self._start_in_2026(), holder, units, riders=riders)

    # ------------------------------------------------------------------ helpers

    def _person(self, fake: FakePerson, basic_share: float) -> Person:
        return Person(
            party_id=self.new_id(),
            name=fake.name,
            id_number=fake.id_number,
            mobile=fake.mobile,
            address=fake.address,
            region_code=fake.city.region_code,
            has_basic_medical=self.rng.random() < basic_share,
            medical_insurance_city=fake.city.region_code,
        )

    def _start_in_2026(self) -> date:
        span = (self.as_of - date(2026, 1, 1)).days
        return date(2026, 1, 1) + timedelta(days=self.rng.randrange(max(1, span + 1)))

    def _issue(
        self,
        batch: Batch,
        code: str,
        start: date,
        holder: Party,
        units: list[UnitSpec],
        *,
        selections: dict[str, Money] | None = None,
        riders: frozenset[str] = frozenset(),
        optional_coverages: frozenset[str] = frozenset(),
        instalment: str = "annual",
    ) -> None:
        batch.attempted += 1
        batch.parties.append(holder)
        compiled = self.catalog.plan_on(code, start)
        risk_units = tuple(RiskUnit(key, facts, si) for key, facts, si, _ in units)
        result = quote(
            compiled,
            QuoteRequest(
                start, risk_units, selections or {}, riders, optional_coverages, instalment
            ),
        )
        if result.decision.outcome != "accept":
            batch.not_issued += 1
            return
        kind = compiled.product.risk_unit
        insured = tuple(
            InsuredUnit(
                key, kind, facts, details, holder.party_id if kind == "person" else None, si
            )
            for key, facts, si, details in units
        )
        policy = self._policy(
            compiled, result, holder, insured, riders, optional_coverages, selections or {}
        )
        policy = self._history(batch, policy)
        batch.policies.append(policy)

    def _policy(
        self,
        compiled: CompiledPlan,
        result: Quotation,
        holder: Party,
        units: tuple[InsuredUnit, ...],
        riders: frozenset[str],
        optional_coverages: frozenset[str],
        selections: dict[str, Money],
    ) -> Policy:
        series = number_series(compiled.product.code, result.start_date)
        self.numbers[series] = self.numbers.get(series, 0) + 1
        accepted = Quote(
            quote_id="",
            holder_id=holder.party_id,
            units=units,
            quotation=result,
            riders=riders,
            optional_coverages=optional_coverages,
            selections=selections,
            status=QuoteStatus.ACCEPTED,
        )
        number = policy_number(compiled.product.code, result.start_date, self.numbers[series])
        return issue(accepted, number, holder, compiled.plan.term_months)

    def _history(self, batch: Batch, policy: Policy) -> Policy:
        issued_at = datetime.combine(policy.term_start, clock_time(9, 0), SHANGHAI).astimezone(UTC)
        batch.events.append(
            Event(
                "policy",
                policy.policy_number,
                "policy.issued",
                {"premium_fen": policy.premium_charged.fen, "source": "demo"},
                issued_at,
            )
        )
        roll = self.rng.random()
        end = policy.term_start + timedelta(days=self.rng.randrange(1, 120))
        if roll < 0.02 and end < self.as_of and end < policy.term_end:
            refund = cancellation_refund(policy, end)
            batch.events.append(
                Event(
                    "policy",
                    policy.policy_number,
                    "policy.cancelled",
                    {
                        "refund_fen": refund.refund.fen,
                        "retained_fen": refund.retained.fen,
                        "charged_fen": refund.charged.fen,
                        "source": "demo",
                    },
                    datetime.combine(end, clock_time(10, 0), SHANGHAI).astimezone(UTC),
                )
            )
            return replace(
                policy, status=PolicyStatus.CANCELLED, ended_on=end, premium_charged=refund.retained
            )
        if roll < 0.03 and policy.instalment == "monthly" and end < self.as_of:
            batch.events.append(
                Event(
                    "policy",
                    policy.policy_number,
                    "policy.lapsed",
                    {"source": "demo"},
                    datetime.combine(end, clock_time(10, 0), SHANGHAI).astimezone(UTC),
                )
            )
            return replace(policy, status=PolicyStatus.LAPSED, ended_on=end)
        return policy


def _mobile(rng: random.Random) -> str:
    return rng.choice(["138", "139", "186", "135", "150"]) + f"{rng.randrange(10**8):08d}"


def load_demo_book(
    app: App,
    *,
    seed: int,
    policies: int,
    as_of: date,
    progress: Callable[[int], None] = lambda n: None,
) -> DemoReport:
    """Generate and store a book, each batch one transaction, then report and decide its
    demo claims (:mod:`baoxian.demo.claims`).  A store that already holds policies is left
    alone (re-running the demo changes nothing)."""
    began = time.perf_counter()
    with app.uow() as uow:
        if uow.policies.count() > 0:
            progress(policies)
            return DemoReport(0, 0, 0.0, skipped=True)
    builder = BookBuilder(app.catalog, seed, as_of, app.policies.new_id)
    issued = not_issued = 0
    insureds: list[DemoInsured] = []
    for code, count in product_counts(policies):
        for batch in builder.batches(code, count):
            with app.uow() as uow:
                uow.parties.add_many(batch.parties)
                uow.policies.add_many(batch.policies)
                uow.events.append_many(batch.events)
                for prefix, value in builder.numbers.items():
                    uow.sequences.advance_to(prefix, value)
                uow.commit()
            issued += len(batch.policies)
            not_issued += batch.not_issued
            insureds.extend(claimable(batch.policies))
            progress(batch.attempted)
    claims = demo_claims(insureds, seed=seed, as_of=as_of, count=issued // POLICIES_PER_CLAIM)
    decided = decide_demo_claims(app, claims)
    return DemoReport(issued, not_issued, time.perf_counter() - began, claims=decided.statuses)


def summarise(app: App) -> list[dict[str, Any]]:
    """Policies, insured and annual premium by product and status."""
    with app.uow() as uow:
        rows = uow.policies.summary()
    names = {p.code: p.name.zh for p in app.catalog.products()}
    return [{**row, "name": names.get(row["product_code"], "")} for row in rows]


__all__ = ["BookBuilder", "DemoReport", "load_demo_book", "product_counts", "summarise"]
