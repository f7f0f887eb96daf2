"""Benchmark: one claim from report to decision through the service layer with the store.

Target (issue #3 b): p50 ≤ 20 ms, p99 ≤ 100 ms on this 2-core machine.

    .venv/bin/python benchmarks/claims.py --claims 500 --database both

The batch part (1,000,000 claims, ≥ 20,000 claims/s) is not built yet.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.claims.model import BillItem, HealthClaim
from baoxian.claims.repository import SqlClaimsUnitOfWorkFactory
from baoxian.claims.services import ClaimService
from baoxian.demo.population import city_by_code, generate_people
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.ids import new_id
from baoxian.shared.money import Money
from baoxian.store.crypto import FieldCipher
from baoxian.store.migrate import upgrade
from enrol import DEFAULT_POSTGRES, drop_schema, fresh_engine

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_one(database: str, count: int, postgres_url: str) -> dict[str, object]:
    catalog = Catalog(CatalogRepository(ROOT / "catalog"))
    cipher = FieldCipher.from_encoded(FieldCipher.generate_key())
    with tempfile.TemporaryDirectory() as tmp:
        engine, schema = fresh_engine(database, Path(tmp), postgres_url)
        try:
            upgrade(engine)
            clock = lambda: datetime.now(UTC)  # noqa: E731
            policies = PolicyService(SqlUnitOfWorkFactory(engine, cipher), catalog, clock, new_id)
            claims = ClaimService(
                SqlClaimsUnitOfWorkFactory(engine), policies, catalog, clock, new_id
            )
            people = list(
                generate_people(5, 50, as_of=date(2026, 1, 1), city=city_by_code("110000"))
            )
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
            latencies = []
            for n in range(count):
                number, key = insured[n % len(insured)]
                claim = HealthClaim(
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
                began = time.perf_counter()
                claims.report(claim, channel="api")
                claims.decide(claim.claim_id)
                latencies.append((time.perf_counter() - began) * 1000)
        finally:
            engine.dispose()
            if database == "postgres":
                drop_schema(postgres_url, schema)
    return {
        "database": database,
        "claims": count,
        "p50_ms": round(statistics.median(latencies), 2),
        "p90_ms": round(percentile(latencies, 0.90), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2),
        "ratio_p50_vs_20ms": round(20 / statistics.median(latencies), 2),
        "ratio_p99_vs_100ms": round(100 / percentile(latencies, 0.99), 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    if args.database == "both":
        for database in ("sqlite", "postgres"):
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--claims",
                    str(args.claims),
                    "--database",
                    database,
                    "--postgres-url",
                    args.postgres_url,
                ],
                check=True,
            )
        return
    print(json.dumps(run_one(args.database, args.claims, args.postgres_url), ensure_ascii=False))


if __name__ == "__main__":
    main()
