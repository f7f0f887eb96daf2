"""Engines and sessions.  Nothing here connects until an engine is used.

>>> normalise_url("postgres://app@db:5432/baoxian")
'postgresql+psycopg://app@db:5432/baoxian'
>>> normalise_url("sqlite:///var/baoxian.db")
'sqlite:///var/baoxian.db'
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

DATABASE_URL_ENV = "BAOXIAN_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///var/baoxian.db"
SQLITE_BUSY_TIMEOUT_MS = 5000

POOL_SIZE = 20
POOL_OVERFLOW = 10
"""PostgreSQL connections kept per process, and how many more it may open at a peak.  A
served process runs up to 40 requests at once in threads; with SQLAlchemy's default of 5
kept connections every busier moment opened and closed connections (a backend process each
time), which cost more than the requests themselves."""

_POSTGRES_PREFIXES = ("postgresql+psycopg://", "postgresql://", "postgres://")


def database_url() -> str:
    """The database URL from ``BAOXIAN_DATABASE_URL``, or the embedded SQLite file
    ``var/baoxian.db`` (relative to the working directory)."""
    return normalise_url(os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL)


def normalise_url(url: str) -> str:
    """PostgreSQL URLs always use psycopg 3 (``postgresql+psycopg://``)."""
    for prefix in _POSTGRES_PREFIXES:
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL, or ``None`` for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(
    url: str, *, connect_args: Mapping[str, Any] | None = None, echo: bool = False
) -> Engine:
    """An engine for ``url``; SQLite gets its folder created and its pragmas set per
    connection, PostgreSQL goes through psycopg 3."""
    url = normalise_url(url)
    if not is_sqlite(url):
        return create_engine(
            url,
            connect_args=dict(connect_args or {}),
            echo=echo,
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args=dict(connect_args or {}), echo=echo)
    _configure_sqlite(engine)
    return engine


def upsert_into(connection: Connection, table: Table) -> Any:
    """``INSERT`` for the connection's dialect, with ``on_conflict_do_nothing`` /
    ``on_conflict_do_update`` (PostgreSQL and SQLite both have them)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def _configure_sqlite(engine: Engine) -> None:
    """Pragmas on every connection, and real transactions: the ``sqlite3`` driver's legacy
    mode would not BEGIN before a SELECT, so reads inside a unit of work would not be
    isolated.  We switch the driver's own handling off and emit BEGIN ourselves."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def is_sqlite_busy(error: OperationalError) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED ("database is locked"): another writer got there first."""
    original = error.orig
    if not isinstance(original, sqlite3.OperationalError):
        return False
    code = getattr(original, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(original)
    return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
