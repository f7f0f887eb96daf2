"""Benchmark: the book-wide daily scan of proactive service (issue #6, point 5).

A generated life book of N policies (default 10,000,000) with what the billing ledgers hold
for them — the current policy year's premiums (20 % monthly, 80 % annual; the paid history
included), policy loans and automatic premium loans, pensions and survival benefits,
dividends, account statements, claim reminders, unfinished payments and change requests,
channel preferences — is written into a store (set-based, not timed).  Then, each in its own
process so that peak memory is its own:

* the daily scan on Polars, end to end (read → detect → write the notices to the outbox),
  on an empty outbox (the first run: every live reminder is new);
* the same day again (nothing new is written);
* the same day on Spark in local mode (the detected notices are compared with Polars').

Target: ≤ 60 s and ≤ 4 GiB for 10,000,000 policies on a 2-core machine with the local engine.

    .venv/bin/python benchmarks/outreach.py --policies 1000000
    .venv/bin/python benchmarks/outreach.py --database postgres --policies 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, text

from baoxian.outreach.outbox import write_notices
from baoxian.outreach.scan import ScanResult, run_daily
from baoxian.outreach.synthetic import generate_book, write_book
from baoxian.store.db import make_engine
from baoxian.store.migrate import upgrade

RUN_DATE = date(2026, 12, 15)
NOW = datetime(2026, 12, 15, 0, 30, tzinfo=UTC)
BLOCK = 1_000_000
TARGET_SECONDS = 60.0
TARGET_GIB = 4.0
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# --------------------------------------------------------------------------- the book


def build_store(url: str, policies: int, seed: int, schema: str | None) -> dict[str, Any]:
    """Migrate the store and write the generated book, block by block."""
    engine = _engine(url, schema)
    upgrade(engine)
    began = time.perf_counter()
    rows: dict[str, int] = {}
    for start in range(0, policies, BLOCK):
        size = min(BLOCK, policies - start)
        book = generate_book(size, RUN_DATE, seed=seed + start // BLOCK, start=start)
        with engine.begin() as connection:
            for name, count in write_book(connection, book).items():
                rows[name] = rows.get(name, 0) + count
        del book
    stored = time.perf_counter() - began
    began = time.perf_counter()
    _rebuild_scan_indexes(engine)
    engine.dispose()
    return {
        "generate_and_store_s": round(stored, 1),
        "reindex_s": round(time.perf_counter() - began, 1),
        "rows": rows,
    }


SCAN_INDEXES = (
    "ix_billing_instalments_due_on_unpaid",
    "ix_benefit_payouts_due_on_collectable",
    "ix_dividend_allocations_allocated_on",
    "ix_account_statements_ready_on",
)


def _rebuild_scan_indexes(engine: Engine) -> None:
    """What a bulk load does after loading: build the scan's indexes afresh (their pages in
    key order, as ``CREATE INDEX`` after a load lays them out), then gather statistics (and
    on PostgreSQL the visibility map that index-only scans need)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        kind = "INDEX " if engine.dialect.name == "postgresql" else ""
        for name in SCAN_INDEXES:
            connection.execute(text(f"REINDEX {kind}{name}"))
        if engine.dialect.name == "postgresql":
            connection.execute(text("VACUUM ANALYZE"))
        else:
            connection.execute(text("ANALYZE"))


def _engine(url: str, schema: str | None) -> Engine:
    if schema is None:
        return make_engine(url)
    return make_engine(url, connect_args={"options": f"-csearch_path={schema}"})


# --------------------------------------------------------------------------- one scan


def scan(url: str, schema: str | None, kind: str, policies: int) -> dict[str, Any]:
    """One timed run of the daily scan in this process."""
    engine = _engine(url, schema)
    kept: list[pl.DataFrame] = []

    def writer(connection: Connection, frame: pl.DataFrame, now: datetime) -> int:
        if kind == "spark" or kind == "polars-again":
            kept.append(frame.select("dedup_key", "reason_zh", "data"))
        return write_notices(connection, frame, now)

    spark = None
    jvm_peak = 0
    began = time.perf_counter()
    if kind == "spark":
        from baoxian.outreach.spark_detectors import local_session

        spark = local_session(partitions=4, driver_memory="3g", app_name="baoxian-benchmark")
        spark.sparkContext.setLogLevel("ERROR")
    try:
        result: ScanResult = run_daily(
            engine,
            RUN_DATE,
            "spark" if kind == "spark" else "polars",
            now=NOW,
            spark=spark,
            writer=writer,
        )
        total = time.perf_counter() - began
        if spark is not None:
            jvm_peak = _children_peak_kib()
    finally:
        if spark is not None:
            spark.stop()
        engine.dispose()
    if kept:
        folder = Path(os.environ.get("OUTREACH_BENCH_DIR", tempfile.gettempdir()))
        kept[0].write_parquet(folder / f"notices-{kind}.parquet")
    own = _peak_kib(os.getpid())
    return {
        "engine": kind,
        "total_s": round(total, 2),
        "stages_s": result.seconds,
        "policies_per_s": round(policies / total),
        "detected": result.detected,
        "written": result.written,
        "already_known": result.already_known,
        "by_scenario": result.by_scenario,
        "rows_read": result.rows_read,
        "read_s": result.read_seconds,
        "peak_rss_mib": round(own / 1024),
        "peak_rss_jvm_mib": round(jvm_peak / 1024),
    }


def _children_peak_kib() -> int:
    """The peak RSS (VmHWM) of this process's descendants — Spark's JVM — from /proc."""
    me = os.getpid()
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    family = {me}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in family and pid not in family:
                family.add(pid)
                grew = True
    return sum(_peak_kib(pid) for pid in family - {me})


def _peak_kib(pid: int) -> int:
    """VmHWM of a process: its peak resident set since its last ``exec`` (``ru_maxrss``
    would also count the parent's memory at the fork)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# --------------------------------------------------------------------------- driver


def _child(args: argparse.Namespace, url: str, schema: str | None, kind: str) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--scan",
        kind,
        "--url",
        url,
        "--policies",
        str(args.policies),
    ]
    if schema:
        command += ["--schema", schema]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--policies", type=int, default=10_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--engine", choices=["polars", "spark", "both"], default="both")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BAOXIAN_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--workdir", type=Path, default=None, help="where the SQLite file goes")
    parser.add_argument("--scan", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scan:
        print(json.dumps(scan(args.url, args.schema, args.scan, args.policies)))
        return

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        os.environ["OUTREACH_BENCH_DIR"] = tmp
        schema = None
        if args.database == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'outreach.db'}"
        else:
            url = args.postgres_url
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            with make_engine(url).begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            report: dict[str, Any] = {"database": args.database, "policies": args.policies}
            report["book"] = build_store(url, args.policies, args.seed, schema)
            print(json.dumps(report["book"], ensure_ascii=False), flush=True)
            runs = ["polars", "polars-again"] if args.engine != "spark" else []
            runs += ["spark"] if args.engine != "polars" else []
            for kind in runs:
                report[kind] = _child(args, url, schema, kind)
                print(json.dumps(report[kind], ensure_ascii=False), flush=True)
            if "spark" in report and "polars-again" in report:
                a = pl.read_parquet(Path(tmp) / "notices-polars-again.parquet")
                b = pl.read_parquet(Path(tmp) / "notices-spark.parquet")
                report["spark_equals_polars"] = a.sort("dedup_key").equals(b.sort("dedup_key"))
        finally:
            if schema is not None:
                with make_engine(url).begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    _summary(report)


def _summary(report: dict[str, Any]) -> None:
    first = report.get("polars")
    print(f"\noutreach daily scan · {report['database']} · {report['policies']:,} policies")
    for kind in ("polars", "polars-again", "spark"):
        run = report.get(kind)
        if run is None:
            continue
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in run["stages_s"].items())
        print(
            f"  {kind:<13} {run['total_s']:>7.1f} s  ({stages})  {run['policies_per_s']:,}/s  "
            f"notices {run['detected']:,} (new {run['written']:,})  "
            f"peak RSS {run['peak_rss_mib']:,} MiB"
            + (f" + JVM {run['peak_rss_jvm_mib']:,} MiB" if run["peak_rss_jvm_mib"] else "")
        )
    if first is not None:
        print(
            f"  vs target: time {TARGET_SECONDS / first['total_s']:.2f}×, "
            f"memory {TARGET_GIB * 1024 / first['peak_rss_mib']:.2f}× (≥ 1 meets it)"
        )
        print(f"  by scenario: {first['by_scenario']}")
    if "spark_equals_polars" in report:
        print(f"  Spark notices equal Polars': {report['spark_equals_polars']}")


if __name__ == "__main__":
    main()
