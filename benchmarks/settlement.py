"""Benchmark: import a 医保 settlement file for a 惠民保 programme (出院即结算, issue #3 point 4).

A programme of ``--members`` members (BJ-HMB, set-based enrolment) receives a settlement file
of ``--rows`` hospital stays with **no policy number**: each member is found through the blind
index of the 身份证号.  80 % of the rows are authorised (reported, decided and paid through the
batch, no documents), 20 % are not (estimated and kept as reminders).  Timed: reading and
validating the CSV, and the import; then the same file again (nothing new).

    .venv/bin/python benchmarks/settlement.py --members 200000 --rows 100000 --database both

No target is set by the issue for the import itself; the reference is the batch's own rate
(``claims.py``) — the figure shows what finding members by ID and estimating add to it.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.claims.repository import SqlClaimsUnitOfWorkFactory
from baoxian.claims.services import ClaimService
from baoxian.claims.settlement import COLUMNS, import_settlement, read_settlement
from baoxian.policies.enrolment import EnrolmentService
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import PolicyService
from baoxian.shared.ids import new_id
from baoxian.store.crypto import FieldCipher
from enrol import (
    DEFAULT_POSTGRES,
    START,
    members,
    migrated_store,
    open_programme,
)

ROOT = Path(__file__).resolve().parent.parent
DIAGNOSES = ("K35.8", "I63.9", "J18.9", "S72.0", "K80.2", "N20.0", "I21.9", "C34.9")


def write_file(path: Path, ids: list[str], rows: int, seed: int) -> None:
    """``rows`` hospital stays of randomly chosen members, amounts that add up."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.name for c in COLUMNS])
        for n in range(rows):
            admitted = START + timedelta(days=rng.randint(30, 300))
            in_list = rng.randint(2_000, 120_000)
            out_of_list = rng.randint(0, 30_000)
            self_pay = rng.randint(0, 10_000)
            basic = in_list * rng.randint(50, 75) // 100
            writer.writerow(
                [
                    f"JS{seed:04d}{n:08d}",
                    rng.choice(ids),
                    "",
                    "",  # no policy number: found by 身份证号
                    "",
                    "住院",
                    f"H1101{rng.randint(0, 80):05d}",
                    "是",
                    admitted.isoformat(),
                    (admitted + timedelta(days=rng.randint(1, 20))).isoformat(),
                    rng.choice(DIAGNOSES),
                    f"{in_list + out_of_list + self_pay}.00",
                    f"{in_list}.00",
                    f"{out_of_list}.00",
                    f"{self_pay}.00",
                    f"{basic}.00",
                    "",
                    "否",
                    "否",
                    "是" if rng.random() < 0.8 else "否",
                ]
            )


def run_one(database: str, count: int, rows: int, postgres_url: str) -> dict[str, object]:
    catalog = Catalog(CatalogRepository(ROOT / "catalog"))
    cipher = FieldCipher.from_encoded(FieldCipher.generate_key())
    with migrated_store(database, postgres_url) as (engine, tmp):
        uow = SqlUnitOfWorkFactory(engine, cipher)
        number = open_programme(uow, catalog)
        people = members(count, 2026)
        EnrolmentService(uow=uow, catalog=catalog, clock=lambda: datetime.now(UTC)).enrol(
            number, people, batch_id="bench", effective=START
        )
        path = tmp / "settlement.csv"
        write_file(path, [p.id_number for p in people], rows, 7)
        clock = lambda: datetime.now(UTC)  # noqa: E731
        policies = PolicyService(uow, catalog, clock, new_id)
        claims = ClaimService(SqlClaimsUnitOfWorkFactory(engine), policies, catalog, clock, new_id)
        began = time.perf_counter()
        parsed = read_settlement(path)
        read_s = time.perf_counter() - began
        began = time.perf_counter()
        result = import_settlement(claims, parsed, engine, cipher, product="BJ-HMB")
        import_s = time.perf_counter() - began
        began = time.perf_counter()
        again = import_settlement(claims, read_settlement(path), engine, cipher)
        rerun_s = time.perf_counter() - began
    return {
        "database": database,
        "members": count,
        "rows": result.rows,
        "read_validate_s": round(read_s, 2),
        "import_s": round(import_s, 2),
        "rows_per_s": round(result.rows / import_s),
        "created": result.created,
        "paid": result.paid,
        "referred": result.referred,
        "declined": result.declined,
        "unauthorised": result.unauthorised,
        "reminders_kept": result.reminders_stored,
        "rejected": result.rejected,
        "total_paid_cny": str(result.total_paid.amount),
        "rerun_s": round(rerun_s, 2),
        "rerun_created": again.created,
        "rerun_already_imported": again.already_imported,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average_1m": round(float(Path("/proc/loadavg").read_text().split()[0]), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        figures = run_one(args.database, args.members, args.rows, args.postgres_url)
        print(json.dumps(figures, ensure_ascii=False))
        return
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for database in databases:  # each in its own process: its own peak memory
        command = [
            sys.executable,
            __file__,
            "--one",
            "--database",
            database,
            "--members",
            str(args.members),
            "--rows",
            str(args.rows),
            "--postgres-url",
            args.postgres_url,
        ]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
