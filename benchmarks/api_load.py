"""Benchmark: the partner API under load (issue #5).

Serves the API as ``baoxian serve`` does — uvicorn, here with ``--workers`` processes built
by ``baoxian.server:from_env`` — against PostgreSQL in a fresh schema, with one partner
client.  A second process drives it over loopback with ``--concurrency`` clients, each on
its own keep-alive connection (a small asyncio HTTP/1.1 client: cheaper per request than a
general-purpose one, so the figures are the server's):

(a) quotes: ``POST /quotes`` with an Idempotency-Key, a different synthetic Beijing resident
    as holder and insured each time (BJ-HMB, 195.00);
(b) issues: ``POST /policies`` from the quotes created in (a).

Targets: quotes ≥ 1,500 req/s, issues ≥ 500 req/s, p99 ≤ 100 ms, no errors.

    .venv/bin/python benchmarks/api_load.py --workers 2 --concurrency 50 --seconds 20
    .venv/bin/python benchmarks/api_load.py --profile --seconds 10   # one worker, cProfile

Before measuring it waits (up to ``--wait-max`` seconds) until the 1-minute load average is
below ``--quiet-load``: another benchmark on the machine would halve the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from baoxian.api.services import ApiAccess
from baoxian.demo.population import city_by_code, generate_people
from baoxian.settings import Settings
from baoxian.shared.clock import system_clock
from baoxian.store.crypto import FieldCipher
from baoxian.store.db import make_engine
from baoxian.store.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGETS = {"quotes": 1500.0, "issues": 500.0}
P99_TARGET_MS = 100.0
START = "2026-03-01"
SCOPES = frozenset({"quotes:write", "quotes:read", "policies:write", "policies:read"})


# --------------------------------------------------------------------------- the load


@dataclass
class Result:
    scenario: str
    requests: int
    errors: int
    seconds: float
    rate: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    driver_peak_rss_mib: int


def quote_bodies(seed: int, count: int) -> Iterator[bytes]:
    """A quote request per synthetic Beijing resident (distinct 身份证号)."""
    seen: set[str] = set()
    beijing = city_by_code("110000")
    for p in generate_people(seed, count, as_of=date(2026, 1, 1), city=beijing):
        if p.id_number in seen:
            continue
        seen.add(p.id_number)
        person = {
            "kind": "person",
            "name": p.name,
            "id_number": p.id_number,
            "mobile": p.mobile,
            "medical_insurance_city": "110000",
        }
        body = {"product": "BJ-HMB", "start": START, "holder": person, "insured": [person]}
        yield json.dumps(body, ensure_ascii=False).encode()


def issue_bodies(quote_ids: list[str]) -> Iterator[bytes]:
    for quote_id in quote_ids:
        yield json.dumps({"quote_id": quote_id}).encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    body = await reader.readexactly(length) if length else b""
    return status, body, close


async def _drive(
    host: str,
    port: int,
    path: str,
    token: str,
    bodies: Iterator[bytes],
    concurrency: int,
    seconds: float,
    warmup: int,
) -> tuple[list[float], dict[str, int], list[bytes], float]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    answers: list[bytes] = []
    sent = 0
    deadline = 0.0
    started = 0.0

    async def client() -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                body = next(bodies, None)
                if body is None or (deadline and time.perf_counter() > deadline):
                    return
                sent += 1
                counted = sent > warmup
                request = (
                    f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"Authorization: Bearer {token}\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode() + body
                began = time.perf_counter()
                try:
                    writer.write(request)
                    await writer.drain()
                    status, answer, close = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                if counted:
                    latencies.append(time.perf_counter() - began)
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                    if 200 <= status < 300:
                        answers.append(answer)
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    async def clock() -> None:
        nonlocal deadline, started
        while sent < warmup:
            await asyncio.sleep(0.01)
        started = time.perf_counter()
        deadline = started + seconds

    await asyncio.gather(clock(), *(client() for _ in range(concurrency)))
    return latencies, statuses, answers, time.perf_counter() - started


def drive(args: argparse.Namespace) -> None:
    """The load generator (its own process): writes the figures and what it created."""
    if args.scenario == "quotes":
        bodies = iter(list(quote_bodies(args.seed, args.count)))
        path = "/api/v1/quotes"
    else:
        bodies = iter(list(issue_bodies(Path(args.quote_ids).read_text().split())))
        path = "/api/v1/policies"
    latencies, statuses, answers, seconds = asyncio.run(
        _drive(
            args.host,
            args.port,
            path,
            args.token,
            bodies,
            args.concurrency,
            args.seconds,
            args.warmup,
        )
    )
    ok = [json.loads(a) for a in answers]
    created = [a["quote_id"] for a in ok if a.get("status") == "accepted"] if ok else []
    if args.scenario == "quotes":
        Path(args.quote_ids).write_text("\n".join(created))
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    result = Result(
        args.scenario,
        len(latencies),
        sum(n for s, n in statuses.items() if not s.startswith("2")),
        round(seconds, 2),
        round(len(latencies) / seconds, 1) if seconds else 0.0,
        round(cuts[49] * 1000, 1),
        round(cuts[89] * 1000, 1),
        round(cuts[98] * 1000, 1),
        round(max(latencies, default=0.0) * 1000, 1),
        statuses,
        round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    )
    Path(args.out).write_text(json.dumps(asdict(result)))


# --------------------------------------------------------------------------- the server


def wait_until_quiet(limit: float, max_seconds: float) -> tuple[float, float]:
    """Wait until the 1-minute load average is below ``limit``; the load then and waited."""
    began = time.monotonic()
    while True:
        load = os.getloadavg()[0]
        if load < limit or time.monotonic() - began > max_seconds:
            return load, time.monotonic() - began
        time.sleep(15)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def fresh_schema(postgres_url: str) -> tuple[str, str]:
    schema = f"bench_api_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    separator = "&" if "?" in postgres_url else "?"
    return schema, f"{postgres_url}{separator}options=-csearch_path%3D{schema}"


def drop_schema(postgres_url: str, schema: str) -> None:
    admin = make_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def prepare(url: str) -> tuple[str, str]:
    """Migrate the schema and add the partner client (no rate limit to speak of)."""
    engine = make_engine(url)
    upgrade(engine)
    client, secret = ApiAccess(engine, system_clock).add_client("压测 load test", SCOPES, 100_000)
    engine.dispose()
    return client.client_id, secret


def server_env(url: str, key: str, db_threads: int | None = None) -> dict[str, str]:
    threads = {"BAOXIAN_API_DB_THREADS": str(db_threads)} if db_threads else {}
    return {
        **os.environ,
        **threads,
        "BAOXIAN_DATABASE_URL": url,
        "BAOXIAN_DATA_KEY": key,
        "BAOXIAN_CATALOG": str(ROOT / "catalog"),
    }


def start_server(
    env: dict[str, str], port: int, workers: int, http: str = "auto", loop: str = "auto"
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "--factory", "baoxian.server:from_env"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--http", http, "--loop", loop]
    command += ["--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(command, env=env, cwd=ROOT)


def wait_ready(base: str, seconds: float = 60, path: str = "/api/v1/openapi.json") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not start")


def token(base: str, client_id: str, secret: str) -> str:
    answer = httpx.post(
        f"{base}/api/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=10,
    )
    answer.raise_for_status()
    found: str = answer.json()["access_token"]
    return found


def peak_rss_mib(pid: int) -> int:
    """Peak resident memory of the server's worker processes, summed (VmHWM)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0
    for each in [pid, *map(int, children)]:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return round(total / 1024)


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pids: list[int], reaped: bool = False) -> float:
    """User + system CPU of these processes so far (with ``reaped``, also that of their
    children that have exited)."""
    total = 0
    for pid in pids:
        try:
            fields = _stat(pid)
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
        if reaped:
            total += int(fields[13]) + int(fields[14])
    return total / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> list[int]:
    """The machine's CPU counters (user, nice, system, idle, iowait, irq, softirq, steal)."""
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]


def busy_and_steal(before: list[int], after: list[int]) -> tuple[float, float]:
    """The share of the machine's CPU time that was busy, and that the host took (steal)."""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(spent) or 1
    return round(1 - (spent[3] + spent[4]) / total, 2), round(spent[7] / total, 3)


def server_pids(pid: int) -> list[int]:
    return [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]


def postgres_cpu() -> float:
    """CPU of the local PostgreSQL: the postmaster, its live children (backends, WAL
    writer, …) and the children that have exited."""
    names: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                names[int(entry.name)] = (
                    (entry / "comm").read_text().strip(),
                    int(_stat(int(entry.name))[1]),
                )
            except (OSError, IndexError, ValueError):
                continue
    masters = [
        pid
        for pid, (name, parent) in names.items()
        if name == "postgres" and names.get(parent, ("", 0))[0] != "postgres"
    ]
    children = [pid for pid, (_, parent) in names.items() if parent in masters]
    return cpu_seconds(masters, reaped=True) + cpu_seconds(children)


def run_driver(
    scenario: str, port: int, bearer: str, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    out = workdir / f"{scenario}.json"
    command = [sys.executable, __file__, "drive", "--scenario", scenario, "--port", str(port)]
    command += ["--token", bearer, "--concurrency", str(args.concurrency)]
    command += ["--seconds", str(args.seconds), "--warmup", str(args.warmup)]
    command += ["--seed", str(args.seed), "--count", str(args.count)]
    command += ["--quote-ids", str(workdir / "quotes.txt"), "--out", str(out)]
    subprocess.run(command, check=True)
    found: dict[str, Any] = json.loads(out.read_text())
    return found


def run_costed(
    scenario: str, port: int, bearer: str, args: argparse.Namespace, workdir: Path, server: int
) -> dict[str, Any]:
    """A driver run with the CPU it cost the server and PostgreSQL, per request (warm-up
    included, so slightly high)."""
    pids = server_pids(server)
    before, machine = (cpu_seconds(pids), postgres_cpu()), machine_cpu()
    found = run_driver(scenario, port, bearer, args, workdir)
    after = cpu_seconds(pids), postgres_cpu()
    found["machine_busy"], found["machine_steal"] = busy_and_steal(machine, machine_cpu())
    sent = found["requests"] + args.warmup
    found["server_cpu_ms_per_request"] = round((after[0] - before[0]) * 1000 / sent, 2)
    found["postgres_cpu_ms_per_request"] = round((after[1] - before[1]) * 1000 / sent, 2)
    return found


def measure(args: argparse.Namespace) -> None:
    load_before, waited = wait_until_quiet(args.quiet_load, args.wait_max)
    schema, url = fresh_schema(args.postgres_url)
    key = FieldCipher.generate_key()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = None
    try:
        client_id, secret = prepare(url)
        server = start_server(
            server_env(url, key, args.db_threads), port, args.workers, args.http, args.loop
        )
        wait_ready(base)
        bearer = token(base, client_id, secret)
        with tempfile.TemporaryDirectory() as tmp:
            quotes = run_costed("quotes", port, bearer, args, Path(tmp), server.pid)
            issues = run_costed("issues", port, bearer, args, Path(tmp), server.pid)
        rss = peak_rss_mib(server.pid)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        drop_schema(args.postgres_url, schema)
    report = {
        "workers": args.workers,
        "db_threads": args.db_threads,
        "direct_connections": Settings.from_env().api_direct_connections,
        "concurrency": args.concurrency,
        "load_before": round(load_before, 2),
        "waited_s": round(waited),
        "load_after": round(os.getloadavg()[0], 2),
        "server_peak_rss_mib": rss,
        "quotes": quotes,
        "issues": issues,
    }
    for name, found in (("quotes", quotes), ("issues", issues)):
        found["rate_vs_target"] = round(found["rate"] / TARGETS[name], 2)
        found["p99_vs_target"] = round(found["p99_ms"] / P99_TARGET_MS, 2)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return
    print(
        f"api load · {args.workers} worker(s) · "
        f"{args.db_threads or 'default'} database thread(s) each · "
        f"direct quote connections {report['direct_connections']} · "
        f"{args.concurrency} clients · "
        f"http {args.http} · loop {args.loop} · "
        f"load {report['load_before']} → {report['load_after']} · "
        f"server peak RSS {rss} MiB"
    )
    for name, found in (("quotes", quotes), ("issues", issues)):
        print(
            f"  {name:<7} {found['rate']:>8.1f} req/s ({found['rate_vs_target']:.2f}× target) "
            f"p50 {found['p50_ms']} ms  p90 {found['p90_ms']} ms  p99 {found['p99_ms']} ms "
            f"({found['p99_vs_target']:.2f}× target)  errors {found['errors']}  "
            f"n={found['requests']}  statuses {found['statuses']}\n"
            f"          CPU per request: server {found['server_cpu_ms_per_request']} ms, "
            f"PostgreSQL {found['postgres_cpu_ms_per_request']} ms; machine busy "
            f"{found['machine_busy']:.0%}, steal {found['machine_steal']:.1%}"
        )


# --------------------------------------------------------------------------- profiling


class ThreadProfiles:
    """cProfile in every thread (the sync routes run in a thread pool), merged at the end.
    Wall time (waiting for PostgreSQL, the GIL or a pooled connection shows), or with
    ``cpu`` each thread's CPU time (slower: a clock call per function call).  Drive with few
    clients (``--concurrency 1``) for a clean picture of one request."""

    def __init__(self, cpu: bool = False) -> None:
        self.profiles: list[cProfile.Profile] = []
        self.timer = time.thread_time if cpu else time.perf_counter
        self._lock = threading.Lock()

    def start(self) -> None:
        threading.setprofile(self._first_call)
        self._first_call()

    def _first_call(self, *_: Any) -> None:
        profile = cProfile.Profile(self.timer)
        with self._lock:
            self.profiles.append(profile)
        profile.enable()

    def stats(self) -> pstats.Stats:
        threading.setprofile(None)
        for profile in self.profiles:
            profile.create_stats()
        stats = pstats.Stats(self.profiles[0])
        for profile in self.profiles[1:]:
            stats.add(profile)
        return stats


def profile(args: argparse.Namespace) -> None:
    """One worker in this process under cProfile, driven as in ``measure``."""
    import uvicorn

    schema, url = fresh_schema(args.postgres_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        client_id, secret = prepare(url)
        os.environ.update(server_env(url, FieldCipher.generate_key()))
        from baoxian.server import from_env

        server = uvicorn.Server(
            uvicorn.Config(from_env(), host="127.0.0.1", port=port, log_level="warning")
        )
        server.config.access_log = False
        profiles = ThreadProfiles(cpu=args.cpu)

        def serve() -> None:
            profiles.start()
            server.run()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        wait_ready(base)
        bearer = token(base, client_id, secret)
        with tempfile.TemporaryDirectory() as tmp:
            for scenario in ("quotes", "issues"):
                found = run_driver(scenario, port, bearer, args, Path(tmp))
                print(f"{scenario}: {found['rate']} req/s p99 {found['p99_ms']} ms (profiled)")
        server.should_exit = True
        thread.join(30)
        stats = profiles.stats()
    finally:
        drop_schema(args.postgres_url, schema)
    if args.profile_out:
        stats.dump_stats(args.profile_out)
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumulative").print_stats(r"baoxian", 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", nargs="?", default="measure", choices=["measure", "drive"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--db-threads",
        type=int,
        default=None,
        help="BAOXIAN_API_DB_THREADS for the server (default: the setting's, 2)",
    )
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=200, help="requests not counted")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--count", type=int, default=60_000, help="synthetic people")
    parser.add_argument("--quiet-load", type=float, default=0.5)
    parser.add_argument("--wait-max", type=float, default=900.0)
    parser.add_argument("--profile", action="store_true", help="one worker under cProfile")
    parser.add_argument(
        "--http", default="auto", choices=["auto", "h11", "httptools"], help="uvicorn's parser"
    )
    parser.add_argument(
        "--loop", default="auto", choices=["auto", "asyncio", "uvloop"], help="uvicorn's loop"
    )
    parser.add_argument("--cpu", action="store_true", help="profile CPU time, not wall time")
    parser.add_argument("--profile-out", help="also write the merged profile (pstats) here")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BAOXIAN_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--json", action="store_true")
    # the driver's own arguments
    parser.add_argument("--scenario", choices=["quotes", "issues"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--token")
    parser.add_argument("--quote-ids")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.mode == "drive":
        drive(args)
    elif args.profile:
        profile(args)
    else:
        measure(args)


if __name__ == "__main__":
    main()
