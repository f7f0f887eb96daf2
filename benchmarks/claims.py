"""Benchmarks of claims: one claim at a time through the service layer, or a backlog in one
batch (``decide_batch``).

Single claims (issue #3 b): report to decision, p50 ≤ 20 ms, p99 ≤ 100 ms::

    .venv/bin/python benchmarks/claims.py --claims 500 --database both

A backlog (issue #3, point 8a): a book of 惠民保 members (set-based enrolment) and enterprise
property sites, N claims of mixed products with ~5 % planted fraud, decided, paid and written
in one batch — target ≥ 20,000 claims/s::

    .venv/bin/python benchmarks/claims.py --batch 1000000 --database both

Generating the claims and the book is not timed; the batch call is, and then its re-run
(everything already in the store, nothing written).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import multiprocessing
import os
import pickle
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Text, cast, select

from baoxian.catalog.model import age_on
from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.claims.batch import decide_batch
from baoxian.claims.model import BillItem, Claim, HealthClaim, PropertyClaim
from baoxian.claims.repository import SqlClaimsUnitOfWorkFactory
from baoxian.claims.services import ClaimService
from baoxian.claims.synthetic import generate
from baoxian.claims.tables import claims
from baoxian.demo.population import (
    city_by_code,
    generate_organisations,
    generate_people,
    generate_sites,
)
from baoxian.policies.enrolment import EnrolmentService, MemberRow
from baoxian.policies.model import QuoteStatus
from baoxian.policies.repository import SqlUnitOfWorkFactory, id_blind_index
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.policies.tables import parties, policy_units
from baoxian.shared.identity import birth_date_from_id, gender_from_id
from baoxian.shared.ids import new_id
from baoxian.shared.money import Money
from baoxian.store.crypto import FieldCipher
from enrol import DEFAULT_POSTGRES, START, migrated_store, open_programme

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def single_claim(insured: list[tuple[str, str]], n: int) -> HealthClaim:
    """An appendicitis stay at one hospital, a little dearer each time, its own invoice."""
    number, key = insured[n % len(insured)]
    return HealthClaim(
        uuid.uuid4().hex,
        number,
        key,
        date(2026, 6, 1),
        "K35.8",
        (
            BillItem("HOSP", "住院", "in_list", Money.of(20000 + n), Money.of(9000)),
            BillItem("OUT", "目录外", "out_of_list", Money.of(3000)),
        ),
        provider="H110105001",
        invoice_no=f"INV{n}",
    )


def run_one(database: str, count: int, postgres_url: str, history: int = 300) -> dict[str, object]:
    catalog = Catalog(CatalogRepository(ROOT / "catalog"))
    cipher = FieldCipher.from_encoded(FieldCipher.generate_key())
    with migrated_store(database, postgres_url) as (engine, _folder):
        clock = lambda: datetime.now(UTC)  # noqa: E731
        policies = PolicyService(SqlUnitOfWorkFactory(engine, cipher), catalog, clock, new_id)
        claims = ClaimService(SqlClaimsUnitOfWorkFactory(engine), policies, catalog, clock, new_id)
        people = list(generate_people(5, 50, as_of=date(2026, 1, 1), city=city_by_code("110000")))
        insured = []
        for p in people:
            person = policies.register_person(
                p.name, p.id_number, p.mobile, medical_insurance_city="110000"
            )
            q = policies.create_quote(
                QuoteInput(
                    "BJ-HMB",
                    person.party_id,
                    date(2026, 1, 1),
                    (InsuredInput("person", person.party_id),),
                )
            )
            insured.append((policies.issue_policy(q.quote_id).policy_number, person.party_id))
        for n in range(history):  # earlier claims: peers and a provider profile
            warm = single_claim(insured, count + n)
            claims.report(warm, channel="api")
            claims.decide(warm.claim_id)
        # a fresh service computes the book statistics over that history once, as a
        # running process would; with them the anomaly model scores every claim
        claims = ClaimService(SqlClaimsUnitOfWorkFactory(engine), policies, catalog, clock, new_id)
        claims.book_stats()
        claims.anomaly_model()  # fitted once per process (≈0.6 s), at start-up not here
        latencies, routes = [], Counter[str]()
        for n in range(count):
            claim = single_claim(insured, n)
            began = time.perf_counter()
            claims.report(claim, channel="api")
            decided = claims.decide(claim.claim_id)
            latencies.append((time.perf_counter() - began) * 1000)
            review = decided.review or {}
            scored = review.get("anomaly_score") is not None
            routes[f"{review.get('outcome')}{'' if scored else ' (unscored)'}"] += 1
    return {
        "database": database,
        "claims": count,
        "history": history,
        "routes": dict(routes),
        "p50_ms": round(statistics.median(latencies), 2),
        "p90_ms": round(percentile(latencies, 0.90), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2),
        "ratio_p50_vs_20ms": round(20 / statistics.median(latencies), 2),
        "ratio_p99_vs_100ms": round(100 / percentile(latencies, 0.99), 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


# --------------------------------------------------------------------------- batch

BATCH_TARGET = 20_000  # claims per second
BLOCK = 20_000  # claims per generated synthetic book (each with its own seed)
PROPERTY_SHARE = 0.005
YEAR = date(2026, 1, 1)


@dataclass(frozen=True, slots=True)
class Drawn:
    """A generated health claim, the planted fraud in it (or "normal"), and who it is about."""

    claim: HealthClaim
    kind: str
    gender: str
    age: int
    inception: date  # the insured's first day of cover (new enrollees: in 2026)


def draw_block(seed: int, block: int, count: int) -> list[Drawn]:
    """One synthetic book of ``count`` claims, 5 % planted fraud; IDs and invoice numbers
    made unique across blocks (duplicates planted inside a block stay duplicates)."""
    drawn = []
    for labelled in generate(seed=seed + block, n=count):
        claim = replace(
            labelled.claim,
            invoice_no=f"B{block:03d}-{labelled.claim.invoice_no}",
            channel="settlement_import",
        )
        context = labelled.context
        drawn.append(
            Drawn(
                claim,
                labelled.kind,
                context.insured_gender,
                context.insured_age,
                context.original_inception,
            )
        )
    return drawn


def draw_claims(count: int, seed: int) -> list[Drawn]:
    """``count`` health claims in blocks, drawn on every core."""
    sizes = [min(BLOCK, count - start) for start in range(0, count, BLOCK)]
    with multiprocessing.get_context("fork").Pool() as pool:
        blocks = pool.starmap(draw_block, [(seed, b, n) for b, n in enumerate(sizes)])
    return [d for block in blocks for d in block]


def enrol_members(
    engine: Engine, cipher: FieldCipher, catalog: Catalog, drawn: list[Drawn], seed: int
) -> tuple[str, list[HealthClaim]]:
    """A 惠民保 programme from ``START`` whose members are the synthetic insureds: each becomes a
    generated Beijing resident of the same sex and age (or the nearest age), enrolled from
    their synthetic inception when that falls in the term (new enrollees, set-based batches per
    day), from the start otherwise; 10 % more people than insureds.  Returns the programme's
    number and the health claims on its members."""
    uow = SqlUnitOfWorkFactory(engine, cipher)
    number = open_programme(uow, catalog)
    insureds: dict[tuple[str, str], Drawn] = {}
    for d in drawn:
        insureds.setdefault((d.claim.claim_id[:6], d.claim.unit_key), d)
    generated = generate_people(
        seed, len(insureds) * 11 // 10, as_of=START, max_age=99, city=city_by_code("110000")
    )
    people = list({p.id_number: p for p in generated}.values())  # one row per 身份证号
    pool: dict[tuple[str, int], list[int]] = defaultdict(list)
    for index, person in enumerate(people):
        born = birth_date_from_id(person.id_number)
        pool[(gender_from_id(person.id_number), age_on(born, START))].append(index)
    chosen = {key: _member(pool, d.gender, d.age) for key, d in insureds.items()}
    joins = {chosen[key]: max(START, d.inception) for key, d in insureds.items()}
    by_day: dict[date, list[MemberRow]] = defaultdict(list)
    for index, person in enumerate(people):
        row = MemberRow(
            index + 2, person.name, person.id_number, person.mobile, "110000", True, person.address
        )
        by_day[joins.get(index, START)].append(row)
    service = EnrolmentService(uow=uow, catalog=catalog, clock=lambda: datetime.now(UTC))
    for day, rows in sorted(by_day.items()):
        service.enrol(number, rows, batch_id=f"bench-{seed}-{day}", effective=day)
    party = {id_blind_index(cipher, p.id_number): i for i, p in enumerate(people)}
    key_of: dict[int, str] = {}
    with engine.connect() as connection:
        found = connection.execute(
            select(parties.c.id_hash, policy_units.c.unit_key)
            .join(policy_units, policy_units.c.party_id == parties.c.party_id)
            .where(policy_units.c.policy_number == number)
        )
        for id_hash, unit_key in found:
            if id_hash in party:
                key_of[party[id_hash]] = unit_key
    claims = [
        replace(
            d.claim,
            policy_number=number,
            unit_key=key_of[chosen[(d.claim.claim_id[:6], d.claim.unit_key)]],
        )
        for d in drawn
    ]
    return number, claims


def _member(pool: dict[tuple[str, int], list[int]], gender: str, age: int) -> int:
    for distance in range(100):
        for candidate in (age - distance, age + distance):
            found = pool.get((gender, candidate))
            if found:
                return found.pop()
    raise RuntimeError("not enough members")


def property_book(policies: PolicyService, sites: int, seed: int) -> list[tuple[str, str, Money]]:
    """Enterprise property policies (PAR-ENT), one site each: (number, site, sum insured)."""
    issued: list[tuple[str, str, Money]] = []
    for org, site in zip(
        generate_organisations(seed, sites * 2), generate_sites(seed, sites * 2), strict=True
    ):
        if len(issued) == sites:
            break
        holder = policies.register_organisation(org.name, org.credit_code, "13900001111")
        value = Money.from_fen(site.sum_insured_fen)
        unit = InsuredInput(
            "site",
            key="SITE-1",
            facts={
                "construction_class": site.construction_class,
                "occupancy": site.occupancy,
                "coastal": site.city.coastal,
            },
            declared_sum_insured=value,
        )
        quote = policies.create_quote(QuoteInput("PAR-ENT", holder.party_id, YEAR, (unit,)))
        if quote.status is QuoteStatus.ACCEPTED:
            issued.append((policies.issue_policy(quote.quote_id).policy_number, "SITE-1", value))
    return issued


def property_claims(sites: list[tuple[str, str, Money]], count: int, seed: int) -> list[Claim]:
    """Typhoon, flood, fire and theft losses from April to December."""
    rng = random.Random(seed)
    out: list[Claim] = []
    for n in range(count):
        number, site, value = sites[n % len(sites)]
        peril = rng.choice(("typhoon", "flood", "fire", "theft", "typhoon"))
        loss = Money.from_fen(min(value.fen, round(rng.lognormvariate(math.log(8e6), 1.0))))
        basement = loss.times("0.3") if peril == "flood" and rng.random() < 0.5 else Money.ZERO
        day = date(2026, 4, 1) + timedelta(days=rng.randint(0, 270))
        out.append(
            PropertyClaim(
                f"PR{seed:04d}{n:07d}", number, site, day, peril, loss, basement, f"PINV{n}"
            )
        )
    return out


def run_batch(
    database: str,
    drawn_file: Path,
    postgres_url: str,
    workers: int,
    after: Callable[[Engine], None] | None = None,
) -> dict[str, Any]:
    """The timed batch and its re-run; ``after`` reads the store before it is dropped."""
    catalog = Catalog(CatalogRepository(ROOT / "catalog"))
    cipher = FieldCipher.from_encoded(FieldCipher.generate_key())
    with drawn_file.open("rb") as handle:
        drawn: list[Drawn] = pickle.load(handle)
    count = len(drawn)
    with migrated_store(database, postgres_url) as (engine, _folder):
        began = time.perf_counter()
        n_property = max(1, round(count * PROPERTY_SHARE))
        _number, health = enrol_members(engine, cipher, catalog, drawn[: count - n_property], 2026)
        policies = PolicyService(
            SqlUnitOfWorkFactory(engine, cipher), catalog, lambda: datetime.now(UTC), new_id
        )
        sites = property_book(policies, max(20, n_property // 10), 2026)
        kinds = {d.claim.claim_id: d.kind for d in drawn}
        batch: list[Claim] = [*health, *property_claims(sites, n_property, 2026)]
        batch.sort(key=lambda c: (c.loss_date, c.claim_id))
        del drawn, health
        book_s = time.perf_counter() - began
        gc.collect()

        cpu = cpu_seconds()
        began = time.perf_counter()
        result = decide_batch(engine, policies, catalog, batch, workers=workers)
        seconds = time.perf_counter() - began
        parent_cpu, workers_cpu = (
            after - before for after, before in zip(cpu_seconds(), cpu, strict=True)
        )
        began = time.perf_counter()
        again = decide_batch(engine, policies, catalog, batch, workers=workers)
        rerun = time.perf_counter() - began
        caught = fraud_caught(engine, kinds)
        if after is not None:
            after(engine)
    rate = result.decided / seconds
    chunks = sorted(result.chunk_seconds)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "database": database,
        "claims": len(batch),
        "property_claims": n_property,
        "book_setup_s": round(book_s, 1),
        "batch_s": round(seconds, 2),
        "claims_per_s": round(rate),
        "ratio_vs_target": round(rate / BATCH_TARGET, 2),
        "decided": result.decided,
        "statuses": dict(result.statuses),
        "straight_through_rate": round(result.straight_through_rate, 4),
        "paid_cny": str(result.paid.amount),
        "rejected": len(result.rejected),
        "fraud": caught,
        "steps_s": dict(result.seconds),
        "cpu_s": {"this_process": round(parent_cpu, 1), "workers": round(workers_cpu, 1)},
        "load_average_1m": round(os.getloadavg()[0], 2),
        "chunks": len(chunks),
        "chunk_p50_s": round(percentile(chunks, 0.5), 2) if chunks else None,
        "chunk_p99_s": round(percentile(chunks, 0.99), 2) if chunks else None,
        "rerun_s": round(rerun, 2),
        "rerun_already_in_store": again.already_in_store,
        "rerun_decided": again.decided,
        "peak_rss_mib": round(own / 1024),
        "peak_rss_worker_mib": round(children / 1024),
    }


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def fraud_caught(engine: Engine, kinds: dict[str, str]) -> dict[str, Any]:
    """How the review routed the planted fraud: the share it referred or declined (a zero
    payment the benefit engine decided is not counted), and the same share of the normal
    claims."""
    stopped: Counter[str] = Counter()
    planted: Counter[str] = Counter()
    with engine.connect() as connection:
        rows = connection.execute(select(claims.c.claim_id, cast(claims.c.review, Text)))
        for claim_id, review in rows:
            kind = kinds.get(claim_id, "property")
            planted[kind] += 1
            stopped[kind] += '"outcome":"pay"' not in review
    fraud = [k for k in planted if k not in ("normal", "property")]
    caught = sum(stopped[k] for k in fraud)
    total_fraud = sum(planted[k] for k in fraud)
    return {
        "planted": total_fraud,
        "stopped": caught,
        "recall": round(caught / total_fraud, 3) if total_fraud else None,
        "precision": round(caught / max(1, caught + stopped["normal"]), 3),
        "normal_stopped_share": round(stopped["normal"] / max(1, planted["normal"]), 3),
        "by_kind": {k: f"{stopped[k]}/{planted[k]}" for k in sorted(fraud)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument(
        "--history", type=int, default=300, help="earlier claims decided before timing"
    )
    parser.add_argument("--batch", type=int, default=0, help="decide N claims in one batch")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--drawn", type=Path, help=argparse.SUPPRESS)  # claims drawn already
    args = parser.parse_args()
    if args.batch:
        batch_main(args)
        return
    if args.database == "both":
        for database in ("sqlite", "postgres"):
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--claims",
                    str(args.claims),
                    "--history",
                    str(args.history),
                    "--database",
                    database,
                    "--postgres-url",
                    args.postgres_url,
                ],
                check=True,
            )
        return
    result = run_one(args.database, args.claims, args.postgres_url, args.history)
    print(json.dumps(result, ensure_ascii=False))


def batch_main(args: argparse.Namespace) -> None:
    """Draw the claims once (not timed), then run each database in its own process so that
    peak memory is its own."""
    if args.drawn is not None:
        result = run_batch(args.database, args.drawn, args.postgres_url, args.workers)
        print(json.dumps(result, ensure_ascii=False))
        return
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        drawn = draw_claims(args.batch, args.seed)
        path = Path(tmp) / "drawn.pickle"
        with path.open("wb") as handle:
            pickle.dump(drawn, handle, protocol=pickle.HIGHEST_PROTOCOL)
        del drawn
        print(f"drew {args.batch:,} claims in {time.perf_counter() - began:.1f} s (not timed)")
        databases = ("sqlite", "postgres") if args.database == "both" else (args.database,)
        for database in databases:
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--batch",
                    str(args.batch),
                    "--database",
                    database,
                    "--postgres-url",
                    args.postgres_url,
                    "--workers",
                    str(args.workers),
                    "--drawn",
                    str(path),
                ],
                check=True,
            )


if __name__ == "__main__":
    main()
