"""Benchmark: bulk-enrol N members into a 惠民保 programme policy (BJ-HMB).

A city plan enrols millions in days.  Target (issue #2): 1,000,000 enrolments in ≤ 60 s on
PostgreSQL on a 2-core machine, every member validated (身份证 checksum, mobile, duplicates,
the plan's eligibility rules, rating), written set-based (COPY + INSERT … SELECT).

    .venv/bin/python benchmarks/enrol.py --members 1000000 --database both

Each database runs in its own process so that peak memory is its own.  Generating the
synthetic members is timed separately and not counted in the enrolment rate.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, text

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.demo.population import city_by_code, generate_people
from baoxian.policies.enrolment import EnrolmentService, MemberRow
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.clock import fixed_clock
from baoxian.store.crypto import FieldCipher
from baoxian.store.db import make_engine
from baoxian.store.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_SECOND = 1_000_000 / 60
START = date(2026, 1, 1)
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def open_programme(uow: SqlUnitOfWorkFactory, catalog: Catalog) -> str:
    """The operator (共保体 lead) and the programme's master policy with one first member."""
    clock = fixed_clock(datetime(2025, 12, 20, 2, 0, tzinfo=UTC))
    service = PolicyService(uow=uow, catalog=catalog, clock=clock, new_id=lambda: uuid.uuid4().hex)
    operator = service.register_organisation(
        "北京普惠健康保共保体", "91110000600037341L", "13900001111", address="北京市西城区"
    )
    first = service.register_person(
        "王建国", "110105198104150310", "13812345678", medical_insurance_city="110000"
    )
    quote = service.create_quote(
        QuoteInput(
            "BJ-HMB",
            operator.party_id,
            START,
            (InsuredInput("person", first.party_id),),
            group=True,
        )
    )
    return service.issue_policy(quote.quote_id, group=True).policy_number


def members(count: int, seed: int) -> list[MemberRow]:
    beijing = city_by_code("110000")
    people = generate_people(seed, count, as_of=START, city=beijing)
    return [
        MemberRow(i + 2, p.name, p.id_number, p.mobile, "110000", True, p.address)
        for i, p in enumerate(people)
    ]


def fresh_engine(database: str, workdir: Path, postgres_url: str) -> tuple[Engine, str]:
    if database == "sqlite":
        return make_engine(f"sqlite:///{workdir / 'enrol.db'}"), "sqlite"
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return make_engine(postgres_url, connect_args={"options": f"-csearch_path={schema}"}), schema


def drop_schema(postgres_url: str, schema: str) -> None:
    admin = make_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@contextmanager
def migrated_store(database: str, postgres_url: str) -> Iterator[tuple[Engine, Path]]:
    """A fresh, migrated store — a SQLite file in a temporary folder, or a PostgreSQL schema
    of its own — and the folder; disposed of (the schema dropped) afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        engine, schema = fresh_engine(database, Path(tmp), postgres_url)
        try:
            upgrade(engine)
            yield engine, Path(tmp)
        finally:
            engine.dispose()
            if database == "postgres":
                drop_schema(postgres_url, schema)


def run_one(database: str, count: int, seed: int, postgres_url: str) -> dict[str, object]:
    catalog = Catalog(CatalogRepository(ROOT / "catalog"))
    cipher = FieldCipher.from_encoded(FieldCipher.generate_key())
    with migrated_store(database, postgres_url) as (engine, _folder):
        uow = SqlUnitOfWorkFactory(engine, cipher)
        policy_number = open_programme(uow, catalog)
        began = time.perf_counter()
        rows = members(count, seed)
        generated = time.perf_counter() - began
        service = EnrolmentService(uow=uow, catalog=catalog, clock=lambda: datetime.now(UTC))
        began = time.perf_counter()
        report = service.enrol(policy_number, rows, batch_id=f"bench-{seed}")
        seconds = time.perf_counter() - began
        began = time.perf_counter()
        again = service.enrol(policy_number, rows, batch_id=f"bench-{seed}-rerun")
        rerun = time.perf_counter() - began
    rate = report.enrolled / seconds
    return {
        "database": database,
        "members": count,
        "enrolled": report.enrolled,
        "rejected": len(report.rejected),
        "premium_cny": str(report.premium.amount),
        "generate_s": round(generated, 2),
        "enrol_s": round(seconds, 2),
        "members_per_s": round(rate),
        "ratio_vs_target": round(rate / TARGET_PER_SECOND, 2),
        "steps_s": dict(report.seconds),
        "rerun_same_file_s": round(rerun, 2),
        "rerun_enrolled": again.enrolled,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BAOXIAN_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line per database")
    args = parser.parse_args()
    if args.database == "both":
        for database in ("sqlite", "postgres"):
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--members",
                    str(args.members),
                    "--database",
                    database,
                    "--seed",
                    str(args.seed),
                    "--postgres-url",
                    args.postgres_url,
                ]
                + (["--json"] if args.json else []),
                check=True,
            )
        return
    result = run_one(args.database, args.members, args.seed, args.postgres_url)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    print(f"enrol · {result['database']} · {result['members']:,} members")
    for key, value in result.items():
        print(f"  {key:<20} {value}")


if __name__ == "__main__":
    main()
