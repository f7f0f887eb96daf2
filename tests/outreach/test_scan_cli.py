"""``baoxian outreach run`` end to end on a SQLite store with a generated book."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from baoxian.outreach.commands import outreach_app
from baoxian.outreach.synthetic import generate_book, write_book
from baoxian.store.db import make_engine
from baoxian.store.migrate import upgrade
from tests.outreach.books import GENERATED_RUN

runner = CliRunner()
cli = typer.Typer()
cli.add_typer(outreach_app, name="outreach")  # as ``baoxian outreach`` registers it


def test_run_writes_once_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        write_book(connection, generate_book(800, GENERATED_RUN, seed=3))
    engine.dispose()
    monkeypatch.setenv("BAOXIAN_DATABASE_URL", url)

    first = runner.invoke(cli, ["outreach", "run", "--date", "2026-12-15"])
    assert first.exit_code == 0, first.output
    assert "renewal_due" in first.output and "already known 0" in first.output
    again = runner.invoke(cli, ["outreach", "run", "--date", "2026-12-15", "--since", "2026-12-15"])
    assert again.exit_code == 0, again.output
    assert "new 0 " in again.output


def test_a_bad_date_is_refused() -> None:
    result = runner.invoke(cli, ["outreach", "run", "--date", "15/12/2026"])
    assert result.exit_code == 2
    result = runner.invoke(
        cli, ["outreach", "run", "--date", "2026-12-15", "--since", "2026-12-16"]
    )
    assert result.exit_code == 2
    result = runner.invoke(cli, ["outreach", "run", "--date", "2026-12-15", "--engine", "duckdb"])
    assert result.exit_code == 2
