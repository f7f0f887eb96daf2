"""What writing alone costs a claims batch: the floor under ``decide_batch``'s rate.

A batch of N claims is decided once (not timed, as ``claims.py --batch`` does it); then the
rows it wrote — claims with their claim, EOB and review JSON, payment instructions, events —
are written again, ``--copies`` times under new IDs, into a fresh store by the batch's own
writer (``BatchStore.write``, 20,000 claims a call, one transaction, the page cache the batch
asks for), and the commit. No deciding, no reading: the rate printed is the most claims a
second this store can take on this machine with rows of this size, whatever the engine::

    .venv/bin/python benchmarks/claims_write.py --claims 100000 --copies 10 --database both

``--variants`` also writes the same rows slimmed, to size a leaner storage before anyone
builds it (the slimmed rows are not what the platform stores; nothing reads them back):

* ``texts``: the review's findings without their zh/en reasons (the EOB's reasons are
  stored as wording codes and arguments already; an EOB stored before that loses its
  sentences too);
* ``events``: one event per claim (its last) instead of reported, decided and paid;
* ``data``: the claim's JSON without what the row's columns already hold;
* ``all``: the three together.

Issue #3 point 8a asks for 20,000 claims/s on both databases (1,000,000 claims in 50 s).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from baoxian.claims.batch_store import (
    CLAIM_COLUMNS,
    EVENT_COLUMNS,
    PAYMENT_COLUMNS,
    BatchStore,
    ChunkRows,
)
from baoxian.claims.tables import claims, payments
from baoxian.shared.ids import new_id
from baoxian.store.tables import events
from claims import draw_claims, run_batch
from enrol import DEFAULT_POSTGRES, migrated_store

TARGET = 20_000
CHUNK = 20_000
JSON_COLUMNS = {"data", "assessment", "review", "payload"}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--claims", type=int, default=100_000, help="claims decided once")
    parser.add_argument("--copies", type=int, default=10, help="times their rows are written")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument(
        "--variants", default="as-is", help="comma-separated: as-is, texts, events, data, all"
    )
    args = parser.parse_args()
    variants = args.variants.split(",")
    unknown = set(variants) - {"as-is", *SLIMMERS, "all"}
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    databases = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    with tempfile.TemporaryDirectory() as tmp:
        drawn = Path(tmp) / "drawn.pickle"
        with drawn.open("wb") as handle:
            pickle.dump(draw_claims(args.claims, args.seed), handle, pickle.HIGHEST_PROTOCOL)
        for database in databases:
            rows = decided_rows(database, drawn, args.postgres_url, args.workers)
            for variant in variants:
                slim = slimmed(rows, variant)
                result = write_floor(database, slim, args.copies, args.postgres_url)
                print(json.dumps({"variant": variant, **result}, ensure_ascii=False), flush=True)


def decided_rows(database: str, drawn: Path, postgres_url: str, workers: int) -> ChunkRows:
    """The rows one real batch wrote, read back in the form the batch writes them."""
    kept: list[ChunkRows] = []

    def keep(engine: Engine) -> None:
        with engine.connect() as connection:
            kept.append(
                ChunkRows(
                    claims=_rows(connection, claims.name, CLAIM_COLUMNS),
                    payments=_rows(connection, payments.name, PAYMENT_COLUMNS),
                    events=_rows(
                        connection, events.name, EVENT_COLUMNS, "aggregate_type = 'claim'"
                    ),
                )
            )

    run_batch(database, drawn, postgres_url, workers, after=keep)
    return kept[0]


def _rows(
    connection: Connection, table: str, columns: tuple[str, ...], where: str = "1 = 1"
) -> list[tuple[Any, ...]]:
    """Driver values; JSON as text (what the batch hands the writer)."""
    sqlite = connection.dialect.name == "sqlite"
    names = ", ".join(
        f"CAST({c} AS text)" if c in JSON_COLUMNS and not sqlite else c for c in columns
    )
    result = connection.exec_driver_sql(f"SELECT {names} FROM {table} WHERE {where}")
    return [tuple(row) for row in result]


def write_floor(database: str, rows: ChunkRows, copies: int, postgres_url: str) -> dict[str, Any]:
    count = len(rows.claims) * copies
    fresh = migrated_store(database, postgres_url)
    with fresh as (engine, _folder), engine.connect() as connection:
        store = BatchStore(connection)
        began = time.perf_counter()
        cpu = time.process_time()
        with connection.begin():
            store.tune(count)
            for chunk in _copies(rows, copies):
                store.write(chunk)
            written = time.perf_counter()
        seconds = time.perf_counter() - began
        commit = time.perf_counter() - written
        cpu = time.process_time() - cpu
        store.untune()
    rate = count / seconds
    return {
        "database": database,
        "claims": count,
        "payments": len(rows.payments) * copies,
        "events": len(rows.events) * copies,
        "bytes_per_claim": _bytes(rows),
        "write_s": round(seconds - commit, 1),
        "commit_s": round(commit, 1),
        "total_s": round(seconds, 1),
        "claims_per_s": round(rate),
        "us_per_claim": round(1e6 / rate, 1),
        "ratio_vs_target": round(rate / TARGET, 2),
        "this_process_cpu_s": round(cpu, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _copies(rows: ChunkRows, copies: int) -> Iterator[ChunkRows]:
    """The rows again under new claim and payment IDs, in chunks of the batch's size."""
    claim_at = CLAIM_COLUMNS.index("claim_id")
    paid_claim, paid_id, paid_key = (
        PAYMENT_COLUMNS.index(c) for c in ("claim_id", "payment_id", "idempotency_key")
    )
    event_of = EVENT_COLUMNS.index("aggregate_id")
    for copy in range(copies):
        prefix = f"W{copy:02d}"
        ids = {row[claim_at]: prefix + row[claim_at] for row in rows.claims}
        claims = [_with(row, claim_at, ids[row[claim_at]]) for row in rows.claims]
        payments = []
        for row in rows.payments:
            claim_id = ids[row[paid_claim]]
            renamed = _with(_with(row, paid_claim, claim_id), paid_id, new_id())
            payments.append(_with(renamed, paid_key, f"{claim_id}:final"))
        events = [_with(row, event_of, ids[row[event_of]]) for row in rows.events]
        by_claim = {claim[claim_at]: n // CHUNK for n, claim in enumerate(claims)}
        for start in range(0, len(claims), CHUNK):
            part = start // CHUNK
            yield ChunkRows(
                claims=claims[start : start + CHUNK],
                payments=[p for p in payments if by_claim[p[paid_claim]] == part],
                events=[e for e in events if by_claim[e[event_of]] == part],
            )


def slimmed(rows: ChunkRows, variant: str) -> ChunkRows:
    names = list(SLIMMERS) if variant == "all" else [variant] if variant in SLIMMERS else []
    for name in names:
        rows = SLIMMERS[name](rows)
    return rows


def _without_texts(rows: ChunkRows) -> ChunkRows:
    """Every EOB step and review finding without ``zh`` and ``en``."""
    eob, review = CLAIM_COLUMNS.index("assessment"), CLAIM_COLUMNS.index("review")

    def slim(text: str | None) -> str | None:
        if text is None:
            return None
        value = json.loads(text)
        items = value.get("items") or []
        lists = [value.get(k) or [] for k in ("reasons", "findings")]
        for entry in (
            e for found in (*lists, *(i.get("steps") or [] for i in items)) for e in found
        ):
            entry.pop("zh", None)
            entry.pop("en", None)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    claims_ = [
        _with(_with(row, eob, slim(row[eob])), review, slim(row[review])) for row in rows.claims
    ]
    return ChunkRows(claims=claims_, payments=rows.payments, events=rows.events)


def _last_event_only(rows: ChunkRows) -> ChunkRows:
    of = EVENT_COLUMNS.index("aggregate_id")
    last = {row[of]: row for row in rows.events}
    return ChunkRows(claims=rows.claims, payments=rows.payments, events=list(last.values()))


def _lean_data(rows: ChunkRows) -> ChunkRows:
    at = CLAIM_COLUMNS.index("data")
    columns = {
        "claim_id",
        "policy_number",
        "unit_key",
        "loss_date",
        "invoice_no",
        "provider",
        "diagnosis",
        "channel",
        "kind",
    }

    def lean(text: str) -> str:
        value = {k: v for k, v in json.loads(text).items() if k not in columns}
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    claims_ = [_with(row, at, lean(row[at])) for row in rows.claims]
    return ChunkRows(claims=claims_, payments=rows.payments, events=rows.events)


SLIMMERS: dict[str, Callable[[ChunkRows], ChunkRows]] = {
    "texts": _without_texts,
    "events": _last_event_only,
    "data": _lean_data,
}


def _with(row: tuple[Any, ...], at: int, value: Any) -> tuple[Any, ...]:
    return (*row[:at], value, *row[at + 1 :])


def _bytes(rows: ChunkRows) -> int:
    """UTF-8 bytes of text per claim (claim row, its events and payment)."""
    texts = (
        value
        for table in (rows.claims, rows.events, rows.payments)
        for row in table
        for value in row
        if isinstance(value, str)
    )
    return round(sum(len(t.encode()) for t in texts) / max(1, len(rows.claims)))


if __name__ == "__main__":
    main()
