"""Settings read from the environment: defaults, and a clear refusal of a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from baoxian.settings import Settings


def test_defaults_when_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BAOXIAN_DATABASE_URL", "BAOXIAN_QUEUE_URL", "BAOXIAN_API_DB_THREADS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env(catalog_dir=Path("catalog"))
    assert settings.database_url == "sqlite:///var/baoxian.db"
    assert settings.api_db_threads == 2


def test_the_api_database_threads_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BAOXIAN_API_DB_THREADS", "3")
    assert Settings.from_env().api_db_threads == 3


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_thread_count_fails_at_start_up(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("BAOXIAN_API_DB_THREADS", value)
    with pytest.raises(ValueError, match="BAOXIAN_API_DB_THREADS must be a whole number"):
        Settings.from_env()
