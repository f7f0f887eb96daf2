"""The delivery worker as a process: killed in the middle of a batch (after the provider took
a message, before the outbox recorded it) and started again, every notice reaches the
provider exactly once; and the delivery runs as a task on huey's queue (SQLite and Redis)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import redis
from sqlalchemy import Engine, func, select

from baoxian.outreach.channels import FileProvider, MemoryChannel
from baoxian.outreach.jobs import make_queue, register
from baoxian.outreach.outbox import OutboxDispatcher, outbox_counts, write_notices
from baoxian.outreach.tables import outreach_attempts
from baoxian.policies.model import Person
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.store.crypto import FieldCipher

REDIS_URL_ENV = "BAOXIAN_TEST_REDIS_URL"
KEY = FieldCipher.generate_key()

CHILD = """
import sys
from datetime import timedelta
from pathlib import Path

from baoxian.outreach.channels import FileProvider
from baoxian.outreach.outbox import OutboxDispatcher
from baoxian.shared.clock import system_clock
from baoxian.store.crypto import FieldCipher
from baoxian.store.db import make_engine

url, schema, key, provider = sys.argv[1:5]
engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"} if schema else None)
port = FileProvider(Path(provider), pause_after=3, pause_seconds=300)
OutboxDispatcher(
    engine, {"inbox": port}, FieldCipher.from_encoded(key), system_clock, "doomed",
    lease=timedelta(seconds=2), batch=10,
).run_until_empty()
"""


def queue_notices(engine: Engine, party_id: str, count: int) -> list[str]:
    keys = [f"dividend_allocated:P{n:03d}:2026" for n in range(count)]
    frame = pl.DataFrame(
        {
            "dedup_key": keys,
            "scenario": ["dividend_allocated"] * count,
            "party_id": [party_id] * count,
            "policy_number": [f"P{n:03d}" for n in range(count)],
            "channel": ["inbox"] * count,
            "locale": ["zh"] * count,
            "care": [False] * count,
            "reason_code": ["dividend_allocated"] * count,
            "reason_zh": [f"保单 P{n:03d} 2026 年度红利 {n}.00 元已分配" for n in range(count)],
            "reason_en": [f"Dividend {n}.00 CNY allocated to P{n:03d}" for n in range(count)],
            "data": ["{}"] * count,
            "due_on": [None] * count,
            "run_date": [date(2026, 12, 2)] * count,
        },
        schema_overrides={"due_on": pl.Date},
    )
    with engine.begin() as connection:
        write_notices(connection, frame, datetime.now(UTC))
    return keys


@pytest.fixture
def party(engine: Engine, person: Person) -> Person:
    with SqlUnitOfWorkFactory(engine, FieldCipher.from_encoded(KEY))() as work:
        work.parties.add(person)
        work.commit()
    return person


def _schema(engine: Engine) -> str:
    if engine.dialect.name != "postgresql":
        return ""
    with engine.connect() as connection:
        return str(connection.exec_driver_sql("SELECT current_schema()").scalar_one())


def test_a_worker_killed_mid_batch_and_started_again_delivers_each_notice_once(
    engine: Engine, party: Person, tmp_path: Path
) -> None:
    keys = queue_notices(engine, party.party_id, 10)
    provider = tmp_path / "provider.db"
    FileProvider(provider)  # the provider's tables, before the worker starts
    url = engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, _schema(engine), KEY, str(provider)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while len(FileProvider(provider).accepted()) < 3:  # it pauses after the third
            assert child.poll() is None, "the worker ended before it was killed"
            assert time.monotonic() < deadline, "the worker never reached the provider"
            time.sleep(0.05)
        child.kill()  # SIGKILL: no clean-up, no last write
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -9
    assert outbox_counts(engine) == {"sent": 2, "sending": 8}  # the third: taken, unrecorded

    later = lambda: datetime.now(UTC) + timedelta(seconds=5)  # noqa: E731 — past the lease
    again = OutboxDispatcher(
        engine,
        {"inbox": FileProvider(provider)},
        FieldCipher.from_encoded(KEY),
        later,
        "restarted",
    ).run_until_empty()
    assert (again.found, again.sent, again.failed) == (1, 7, 0)
    assert FileProvider(provider).accepted() == dict.fromkeys(keys, 1)  # one send per key
    assert outbox_counts(engine) == {"sent": 10}
    with engine.connect() as connection:
        found = connection.execute(
            select(func.count()).where(outreach_attempts.c.outcome == "found")
        ).scalar_one()
    assert found == 1


def _run_on(queue_url: str, engine: Engine, party: Person, name: str) -> None:
    """Enqueue the delivery task and let a huey consumer (threads) run it."""
    keys = queue_notices(engine, party.party_id, 3)
    clock = lambda: datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # noqa: E731
    port = MemoryChannel(clock)
    queue = make_queue(queue_url, name=name)
    jobs = register(
        queue,
        lambda: OutboxDispatcher(
            engine, {"inbox": port}, FieldCipher.from_encoded(KEY), clock, "huey"
        ),
    )
    result = jobs.deliver()
    consumer = queue.create_consumer(workers=1, periodic=False, initial_delay=0.05)
    handlers = {
        sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    consumer.start()  # the scheduler and a worker thread; returns at once
    try:
        report = result.get(blocking=True, timeout=30)
    finally:
        consumer.stop(graceful=True)
        for sig, handler in handlers.items():  # the consumer installs its own
            signal.signal(sig, handler)
    assert report["sent"] == 3
    assert port.calls == dict.fromkeys(keys, 1)


def test_delivery_runs_as_a_task_on_a_sqlite_queue(
    engine: Engine, party: Person, tmp_path: Path
) -> None:
    _run_on(f"sqlite:///{tmp_path / 'queue.db'}", engine, party, "test")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_URL_ENV)
    if not url:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"CI=true but {REDIS_URL_ENV} is not set: the Redis queue must be tested")
        pytest.skip(f"the Redis queue test needs {REDIS_URL_ENV}")
    redis.Redis.from_url(url).ping()
    return url


def test_delivery_runs_as_a_task_on_a_redis_queue(
    engine: Engine, party: Person, redis_url: str
) -> None:
    name = f"baoxian-test-{uuid.uuid4().hex}"
    try:
        _run_on(redis_url, engine, party, name)
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"huey.*{name}*"):
            client.delete(key)
