"""100,000 members through the API in a fresh process: enrol them (CSV) and remove them
(NDJSON), each a single streamed request, and report the seconds and how far each request
raised the process's peak resident memory.  Run by ``test_members_volume.py`` (a fresh
interpreter, so that no memory freed by earlier tests hides a request's growth), or by hand:

    BAOXIAN_DATA_KEY=… python -m tests.api.members_load sqlite:///var/load.db
"""

from __future__ import annotations

import ctypes
import gc
import json
import re
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import httpx
from fastapi.testclient import TestClient

from baoxian.bootstrap import build
from baoxian.demo.population import city_by_code, generate_people
from baoxian.server import create_server
from baoxian.settings import Settings
from baoxian.store.db import make_engine
from tests.api.conftest import Api, Clock
from tests.api.test_members import HEADER, group_policy
from tests.conftest import CATALOG_DIR

CHUNK_ROWS = 2_000
Person = tuple[str, str, str]


def run(url: str, schema: str | None, count: int) -> dict[str, Any]:
    """Enrol and remove ``count`` members; the two reports' figures and the policy after."""
    args = {"options": f"-csearch_path={schema}"} if schema else {}
    engine = make_engine(url, connect_args=args)
    app = build(Settings(url, CATALOG_DIR), clock=Clock(), migrate=False, engine=engine)
    beijing = city_by_code("110000")
    people = [
        (p.name, p.id_number, p.mobile)
        for p in generate_people(11, count, as_of=date(2026, 6, 15), city=beijing)
    ]
    with TestClient(create_server(app), base_url="https://testserver") as client:
        partner = Api(client, app)
        partner = partner.as_(partner.partner_token("骑手平台"))
        number = group_policy(partner)["policy_number"]
        server = create_server(app)
        auth = {"Authorization": f"Bearer {partner.token}"}
        enrol = _measured(
            server,
            f"/policies/{number}/members",
            {**auth, "Content-Type": "text/csv", "Idempotency-Key": "load-enrol-0001"},
            _csv(people),
        )
        remove = _measured(
            server,
            f"/policies/{number}/members/removals?effective=2026-09-01",
            {**auth, "Content-Type": "application/x-ndjson", "Idempotency-Key": "load-rm-0001"},
            _ndjson(people),
        )
        policy = partner.get(f"/policies/{number}").json()
    engine.dispose()
    return {"database": engine.dialect.name, "enrol": enrol, "remove": remove, "policy": policy}


def _measured(app: Any, path: str, headers: dict[str, str], body: Iterator[bytes]) -> Any:
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # freed memory back to the system: growth shows
    before = _kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
    began = time.perf_counter()
    answer = anyio.run(_stream, app, path, headers, body)
    seconds = time.perf_counter() - began
    growth = (_kib("VmHWM") - before) / 1024
    assert answer.status_code == 201, answer.text
    report = answer.json()
    return {**{k: report[k] for k in _FIGURES}, "seconds": seconds, "peak_growth_mib": growth}


_FIGURES = ("received", "accepted", "rejected", "premium_charged", "refund")


def _kib(name: str) -> int:
    found = re.search(rf"^{name}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    assert found, name
    return int(found.group(1))


def _csv(people: Sequence[Person]) -> Iterator[bytes]:
    yield HEADER.encode()
    for first in range(0, len(people), CHUNK_ROWS):
        rows = people[first : first + CHUNK_ROWS]
        yield "".join(f"{n},{i},{m},110000,1,\n" for n, i, m in rows).encode()


def _ndjson(people: Sequence[Person]) -> Iterator[bytes]:
    for first in range(0, len(people), CHUNK_ROWS):
        rows = people[first : first + CHUNK_ROWS]
        yield "".join(f'{{"id_number": "{i}"}}\n' for _, i, _ in rows).encode()


async def _stream(app: Any, path: str, headers: dict[str, str], body: Iterator[bytes]) -> Any:
    """POST the body chunk by chunk, as a server hands it to the app."""

    async def chunks() -> AsyncIterator[bytes]:
        for chunk in body:
            yield chunk

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        return await client.post(f"/api/v1{path}", content=chunks(), headers=headers)


if __name__ == "__main__":
    url, schema, count = sys.argv[1], (sys.argv[2:3] or [""])[0], sys.argv[3:4] or ["100000"]
    print(json.dumps(run(url, schema or None, int(count[0]))))
