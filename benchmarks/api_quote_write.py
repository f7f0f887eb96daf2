"""What a new quote costs without HTTP: the service, the statement's parameters, and the one
statement of the direct path (``baoxian.api.direct``) — CPU on our side and in the
PostgreSQL backend, per quote.  For scale, the same is measured for a one-row ``INSERT``
(``api_floor.py``'s stand-in) and for ``SELECT 1``.

    .venv/bin/python benchmarks/api_quote_write.py --quotes 2000

Issue #5 point 5 asks for 1,500 quotes/s on this 2-core machine: 1.33 ms of CPU a quote for
everything — the HTTP stack, the service, psycopg, PostgreSQL and the load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api_load import DEFAULT_POSTGRES, ROOT, drop_schema, fresh_schema, prepare, quote_bodies
from baoxian.api.direct import (
    QUOTE_STATEMENT,
    DirectWrites,
    QuoteWrite,
    Recording,
    quote_grants,
)
from baoxian.api.model import StoredResponse
from baoxian.api.schemas import QuoteCreate, quote_public
from baoxian.bootstrap import App, build
from baoxian.settings import Settings
from baoxian.store.crypto import DATA_KEY_ENV, FieldCipher

FLOOR_TABLE = "floor_quotes"


def quote_write(app: App, client_id: str, body: bytes) -> QuoteWrite:
    """The direct path's work before its statement, as the route does it."""
    recording = Recording()
    sent = QuoteCreate.model_validate_json(body).to_request()
    quote = app.policies.quote_request(sent, within=recording, as_sent=True)
    answer = quote_public(quote).model_dump_json(by_alias=True).encode()
    return QuoteWrite(
        f"partner:{client_id}",
        uuid.uuid4().hex,
        "f" * 64,
        client_id,
        ("quotes:write",),
        StoredResponse(201, "application/json", answer),
        recording.written,
        quote_grants(quote),
        datetime.now(UTC),
    )


def per_item(seconds: float, count: int) -> float:
    return round(seconds / count * 1000, 3)


async def measure(direct: DirectWrites, params: list[dict[str, Any]], warm: int) -> dict[str, Any]:
    pool = await direct.pool()
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT pg_backend_pid()")
        row = await cursor.fetchone()
        assert row is not None
        backend = int(row[0])
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (key text PRIMARY KEY, body text)"
        )

        async def timed(run: Callable[[int], Awaitable[Any]], count: int) -> dict[str, float]:
            for n in range(warm):
                await run(n)
            ours, theirs, wall = time.process_time(), backend_cpu(backend), time.perf_counter()
            for n in range(warm, warm + count):
                await run(n)
            return {
                "client_cpu_ms": per_item(time.process_time() - ours, count),
                "postgres_cpu_ms": per_item(backend_cpu(backend) - theirs, count),
                "wall_ms": per_item(time.perf_counter() - wall, count),
            }

        count = len(params) - warm

        async def quote(n: int) -> None:
            await connection.execute(QUOTE_STATEMENT, params[n])

        async def insert(n: int) -> None:
            await connection.execute(
                f"INSERT INTO {FLOOR_TABLE} (key, body) VALUES (%s, %s)",
                (uuid.uuid4().hex, params[n]["body"].decode()),
            )

        async def select_one(n: int) -> None:
            await connection.execute("SELECT 1")

        found = {
            "quote_statement": await timed(quote, count),
            "one_row_insert": await timed(insert, count),
            "select_1": await timed(select_one, count),
        }
    await direct.close()
    return found


def backend_cpu(pid: int) -> float:
    """User and system CPU seconds of a PostgreSQL backend (same machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quotes", type=int, default=2000)
    parser.add_argument("--warm", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    os.environ.setdefault(DATA_KEY_ENV, FieldCipher.generate_key())
    schema, url = fresh_schema(args.postgres_url)
    try:
        client_id, _ = prepare(url)
        app = build(Settings(url, ROOT / "catalog"))
        bodies = list(quote_bodies(args.seed, args.quotes + args.warm))
        start = time.process_time()
        writes = [quote_write(app, client_id, body) for body in bodies]
        service = time.process_time() - start
        start = time.process_time()
        params = [write.params(app.cipher) for write in writes]
        parameters = time.process_time() - start
        direct = DirectWrites(app.engine, 1)
        found = asyncio.run(measure(direct, params, args.warm))
        app.engine.dispose()
    finally:
        drop_schema(args.postgres_url, schema)
    report = {
        "quotes": len(bodies),
        "service_and_answer_cpu_ms": per_item(service, len(bodies)),
        "statement_parameters_cpu_ms": per_item(parameters, len(bodies)),
        **found,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
