"""Database URLs and engines: defaults, psycopg 3 for PostgreSQL, SQLite pragmas."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from baoxian.store.db import (
    DATABASE_URL_ENV,
    database_url,
    make_engine,
    normalise_url,
    session_factory,
)


def test_default_url_is_the_embedded_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    assert database_url() == "sqlite:///var/baoxian.db"


def test_url_from_the_environment_uses_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, "postgres://app@db:5432/baoxian")
    assert database_url() == "postgresql+psycopg://app@db:5432/baoxian"


@pytest.mark.parametrize(
    "url",
    ["postgres://u@h/d", "postgresql://u@h/d", "postgresql+psycopg://u@h/d"],
)
def test_postgres_urls_are_rewritten_to_psycopg_3(url: str) -> None:
    assert normalise_url(url) == "postgresql+psycopg://u@h/d"


def test_making_an_engine_does_not_connect() -> None:
    engine = make_engine("postgres://nobody@127.0.0.1:1/nowhere")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_sqlite_engine_creates_its_folder_and_sets_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'baoxian.db'}")
    with engine.connect() as connection:
        pragmas = {
            name: connection.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("foreign_keys", "journal_mode", "synchronous", "busy_timeout")
        }
    engine.dispose()
    assert (tmp_path / "var").is_dir()
    assert pragmas == {
        "foreign_keys": 1,
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 5000,
    }


def test_sqlite_reads_run_inside_the_transaction(tmp_path: Path) -> None:
    """The driver's legacy mode would not BEGIN before a SELECT; ours does."""
    engine = make_engine(f"sqlite:///{tmp_path / 'tx.db'}")
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        assert connection.connection.driver_connection.in_transaction  # type: ignore[union-attr]
    engine.dispose()


def test_session_factory_binds_the_engine(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    with session_factory(engine)() as session:
        assert session.execute(text("SELECT 41 + 1")).scalar() == 42
    engine.dispose()
