"""What the serving stack alone allows the partner API: the floor under ``api_load.py``.

Serves a stand-in for ``POST /api/v1/quotes`` the way ``baoxian serve`` serves the API
(uvicorn with ``--workers`` processes, httptools, uvloop, FastAPI) and drives it with
``api_load.py``'s own load generator, the same request bodies and 50 clients.  The stand-in
does the least a quote can do: it reads the JSON body, writes one row to PostgreSQL (the
body, keyed by the ``Idempotency-Key``, in one statement and one transaction) and answers a
small JSON document.  No authentication, validation, pricing, encryption, parties or events:
whatever the real route adds comes on top of these figures.  The stand-in awaits async
psycopg on ``FLOOR_CONNECTIONS`` connections a process (default 2), with no thread
(``FLOOR_THREADS=1``: from a thread per request, on one connection)::

    .venv/bin/python benchmarks/api_floor.py --workers 2 --concurrency 50 --seconds 20
    .venv/bin/python benchmarks/api_floor.py --no-database   # the answer without the write
    .venv/bin/python benchmarks/api_floor.py --driver wrk    # wrk (C) drives instead
                                                             # (apt-get install wrk)

Issue #5 point 5 asks for quotes at ≥ 1,500 req/s with p99 ≤ 100 ms on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api_load import (
    DEFAULT_POSTGRES,
    P99_TARGET_MS,
    TARGETS,
    drop_schema,
    free_port,
    fresh_schema,
    quote_bodies,
    run_costed,
    wait_ready,
    wait_until_quiet,
)

ROOT = Path(__file__).resolve().parent
TABLE = "floor_quotes"
CONNECTIONS = int(os.environ.get("FLOOR_CONNECTIONS", "2"))  # per served process


def app_from_env() -> FastAPI:
    """The stand-in app (uvicorn ``--factory``): ``CONNECTIONS`` asynchronous psycopg
    connections per process, taken in turn (no threads: the cheapest way this stack has to
    wait for PostgreSQL), one ``INSERT`` per request — or, with ``FLOOR_THREADS=1``, one
    synchronous connection used from a thread per request (``anyio.to_thread``), as the
    API's routes run their SQLAlchemy work."""
    import psycopg
    from anyio import to_thread

    url = os.environ.get("FLOOR_POSTGRES_URL", "")
    threads = os.environ.get("FLOOR_THREADS") == "1"
    app = FastAPI()
    connections: list[Any] = []
    turn = [0]
    insert = f"INSERT INTO {TABLE} (key, body) VALUES (%s, %s)"
    synchronous: Any = psycopg.connect(url, autocommit=True) if url and threads else None

    async def connect() -> None:
        for _ in range(CONNECTIONS - len(connections)):
            connections.append(await psycopg.AsyncConnection.connect(url, autocommit=True))

    def write(key: str, body: bytes) -> None:
        synchronous.execute(insert, (key, body.decode()))

    @app.get("/ready")
    async def ready() -> dict[str, bool]:
        if url and not threads:
            await connect()
        return {"ready": True}

    @app.post("/api/v1/quotes")
    async def quote(request: Request) -> JSONResponse:
        body = await request.body()
        payload = json.loads(body)
        key = request.headers.get("idempotency-key", "")
        if url and threads:
            await to_thread.run_sync(write, key, body)
        elif url:
            if not connections:
                await connect()
            turn[0] = (turn[0] + 1) % len(connections)
            await connections[turn[0]].execute(insert, (key, body.decode()))
        answer = {"quote_id": key, "status": "accepted", "product": payload.get("product")}
        return JSONResponse(answer, status_code=201)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--count", type=int, default=60_000, help="synthetic people")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--no-database", action="store_true", help="answer without writing")
    parser.add_argument("--driver", choices=["python", "wrk"], default="python")
    parser.add_argument("--quiet-load", type=float, default=0.5)
    parser.add_argument("--wait-max", type=float, default=900.0)
    args = parser.parse_args()
    load_before, _waited = wait_until_quiet(args.quiet_load, args.wait_max)
    schema, url = fresh_schema(args.postgres_url)
    port = free_port()
    server = None
    try:
        if not args.no_database:
            _create_table(url)
        server = _serve(port, args.workers, "" if args.no_database else _libpq(url))
        wait_ready(f"http://127.0.0.1:{port}", path="/ready")
        with tempfile.TemporaryDirectory() as tmp:
            if args.driver == "wrk":
                found = run_wrk(port, args, Path(tmp))
            else:
                found = run_costed("quotes", port, "floor", args, Path(tmp), server.pid)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        drop_schema(args.postgres_url, schema)
    found["rate_vs_target"] = round(found["rate"] / TARGETS["quotes"], 2)
    found["p99_vs_target"] = round(found["p99_ms"] / P99_TARGET_MS, 2)
    report = {
        "stand_in": "body → JSON" + ("" if args.no_database else f" → one INSERT ({_how()})"),
        "driver": args.driver,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        **found,
    }
    print(json.dumps(report, ensure_ascii=False))


_WRK_SCRIPT = """
local body = [==[BODY]==]
local thread_id = 0
local counter = 0
function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end
function request()
  counter = counter + 1
  local key = string.format("wrk-%d-%d", tid, counter)
  return wrk.format("POST", "/api/v1/quotes",
    {["Content-Type"] = "application/json", ["Idempotency-Key"] = key}, body)
end
"""


def run_wrk(port: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """wrk with two threads and ``--concurrency`` connections, one quote body (the keys
    differ); its requests/s and latency percentiles."""
    body = next(quote_bodies(args.seed, 1)).decode()
    script = workdir / "quote.lua"
    script.write_text(_WRK_SCRIPT.replace("BODY", body))
    command = ["wrk", "-t2", f"-c{args.concurrency}", f"-d{int(args.seconds)}s", "--latency"]
    command += ["-s", str(script), f"http://127.0.0.1:{port}"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return {"rate": _wrk_rate(output), **_wrk_latencies(output), "errors": _wrk_errors(output)}


def _wrk_rate(output: str) -> float:
    line = next(x for x in output.splitlines() if x.startswith("Requests/sec:"))
    return float(line.split(":")[1])


def _wrk_latencies(output: str) -> dict[str, float]:
    """``--latency``'s distribution lines (``50%    3.21ms``) in milliseconds."""
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "90%", "99%"):
            found[f"p{parts[0][:-1]}_ms"] = round(_ms(parts[1]), 1)
    return found


def _ms(value: str) -> float:
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * scale
    raise ValueError(value)


def _wrk_errors(output: str) -> int:
    """Socket errors and non-2xx/3xx answers."""
    errors = 0
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("Non-2xx or 3xx responses:"):
            errors += int(line.split(":")[1])
        elif line.startswith("Socket errors:"):
            errors += sum(int(p.split()[1]) for p in line.split(":", 1)[1].split(","))
    return errors


def _how() -> str:
    if os.environ.get("FLOOR_THREADS") == "1":
        return "a thread per request, one connection a process"
    return f"async psycopg, {CONNECTIONS} connection(s) a process"


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _create_table(url: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(f"CREATE TABLE {TABLE} (key text PRIMARY KEY, body jsonb NOT NULL)")


def _serve(port: int, workers: int, url: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "--factory", "api_floor:app_from_env"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--http", "httptools", "--loop", "uvloop", "--log-level", "warning"]
    command += ["--no-access-log"]
    env = {**os.environ, "FLOOR_POSTGRES_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, env=env, cwd=ROOT)


if __name__ == "__main__":
    main()
