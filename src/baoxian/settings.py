"""Typed settings read once at start-up from the environment; they fail fast."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///var/baoxian.db"
WEBHOOKS_LOOPBACK_ENV = "BAOXIAN_WEBHOOKS_ALLOW_LOOPBACK"
_FLAGS = {"": False, "0": False, "false": False, "1": True, "true": True}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    catalog_dir: Path
    webhooks_allow_loopback: bool = False
    """Accept ``http://127.0.0.1`` (and localhost) webhook endpoints: tests and development
    only; otherwise an endpoint must be HTTPS to a public host."""
    queue_url: str = "sqlite:///var/queue.db"
    """The background-job queue (huey): a SQLite file locally, ``redis://…`` in production
    (``BAOXIAN_QUEUE_URL``)."""
    api_db_threads: int = 2
    """Threads per served process that run the API's busiest requests (quotes, issues)
    against the database (``BAOXIAN_API_DB_THREADS``).  The work is Python under one GIL:
    two threads let one compute while the other waits on the database; more only contend
    for the GIL (measured in benchmarks/README.md).  Scale with worker processes instead."""
    api_direct_connections: int = 2
    """PostgreSQL connections per served process for quotes written in one statement from
    the event loop (``BAOXIAN_API_DIRECT_CONNECTIONS``; 0 turns that path off and every quote
    runs in the database threads).  See docs/architecture.md, "The API's busiest requests"."""

    @classmethod
    def from_env(cls, database_url: str | None = None, catalog_dir: Path | None = None) -> Settings:
        return cls(
            database_url=database_url
            or os.environ.get("BAOXIAN_DATABASE_URL")
            or DEFAULT_DATABASE_URL,
            catalog_dir=catalog_dir or Path(os.environ.get("BAOXIAN_CATALOG", "catalog")),
            webhooks_allow_loopback=_flag(WEBHOOKS_LOOPBACK_ENV),
            queue_url=os.environ.get("BAOXIAN_QUEUE_URL") or "sqlite:///var/queue.db",
            api_db_threads=_count("BAOXIAN_API_DB_THREADS", 2),
            api_direct_connections=_count("BAOXIAN_API_DIRECT_CONNECTIONS", 2, least=0),
        )


def _count(name: str, default: int, least: int = 1) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < least:
        raise ValueError(f"{name} must be a whole number of at least {least}, not {value!r}")
    return int(value)


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value not in _FLAGS:
        raise ValueError(f"{name} must be 1, 0, true or false, not {value!r}")
    return _FLAGS[value]
