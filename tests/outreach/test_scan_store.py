"""The daily run against the store (SQLite, and PostgreSQL when configured): the pruned read
gives the notices of the whole book, a re-run writes nothing, the next day writes only what
is new, and the Spark run writes the same notices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from pyspark.sql import SparkSession
from sqlalchemy import Connection, Engine, func, select, text

from baoxian.outreach.detectors import detect_all
from baoxian.outreach.notice_specs import DetectorSettings, run_window
from baoxian.outreach.outbox import write_notices
from baoxian.outreach.scan import book_queries, read_book, run_daily
from baoxian.outreach.synthetic import generate_book, write_book
from baoxian.outreach.tables import outreach_outbox
from baoxian.store.db import make_engine
from baoxian.store.migrate import upgrade
from tests.outreach.books import GENERATED_RUN, book_frames

NOW = datetime(2026, 12, 15, 0, 30, tzinfo=UTC)
RUN_AT = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)  # 16:00 in Beijing


@pytest.fixture
def book() -> dict[str, pl.DataFrame]:
    return generate_book(2500, GENERATED_RUN, seed=5)


@pytest.fixture
def stored(engine: Engine, book: dict[str, pl.DataFrame]) -> Engine:
    with engine.begin() as connection:
        write_book(connection, book)
    return engine


def _outbox_keys(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(outreach_outbox.c.dedup_key)))


@pytest.mark.parametrize("since", [None, GENERATED_RUN - timedelta(days=5)])
def test_the_pruned_read_gives_the_notices_of_the_whole_book(
    stored: Engine, book: dict[str, pl.DataFrame], since: date | None
) -> None:
    pruned = read_book(stored, GENERATED_RUN, since=since, run_at=RUN_AT)
    from_store = detect_all(pruned, GENERATED_RUN, since=since, run_at=RUN_AT)
    whole = detect_all(book_frames(book), GENERATED_RUN, since=since, run_at=RUN_AT)
    assert from_store.height > 40
    assert from_store.rows() == whole.rows()
    read = {name: frame.height for name, frame in pruned.collected().items()}
    assert read["instalments"] < book["instalments"].height // 10  # the paid history stays


def test_a_rerun_writes_nothing_and_the_next_day_only_what_is_new(stored: Engine) -> None:
    first = run_daily(stored, GENERATED_RUN, run_at=RUN_AT, now=NOW)
    assert first.written == first.detected > 40
    assert first.already_known == 0
    assert sum(first.by_scenario.values()) == first.detected
    assert set(first.seconds) == {"read", "detect", "write"}
    told = _outbox_keys(stored)
    assert len(told) == first.written

    again = run_daily(stored, GENERATED_RUN, run_at=RUN_AT, now=NOW)
    assert (again.detected, again.written, again.already_known) == (
        first.detected,
        0,
        first.detected,
    )
    assert _outbox_keys(stored) == told

    next_day = GENERATED_RUN + timedelta(days=1)
    expected = detect_all(read_book(stored, next_day), next_day)
    new = set(expected["dedup_key"]) - told
    later = run_daily(stored, next_day, now=NOW + timedelta(days=1))
    assert later.written == len(new) > 0
    assert _outbox_keys(stored) == told | new


def test_the_outbox_rows_are_the_notice_frame(stored: Engine) -> None:
    run_daily(stored, GENERATED_RUN, run_at=RUN_AT, now=NOW)
    frame = detect_all(
        read_book(stored, GENERATED_RUN, run_at=RUN_AT), GENERATED_RUN, run_at=RUN_AT
    )
    key = frame.filter(pl.col("scenario") == "renewal_due")["dedup_key"][0]
    expected = frame.filter(pl.col("dedup_key") == key).row(0, named=True)
    with stored.connect() as connection:
        row = connection.execute(
            select(outreach_outbox).where(outreach_outbox.c.dedup_key == key)
        ).one()
    for name, value in expected.items():
        assert getattr(row, name) == value
    assert row.status == "pending"


def test_the_spark_run_writes_the_same_notices(stored: Engine, spark: SparkSession) -> None:
    frames: dict[str, pl.DataFrame] = {}

    def keep(kind: str):  # type: ignore[no-untyped-def]
        def writer(connection: Connection, frame: pl.DataFrame, now: datetime) -> int:
            frames[kind] = frame
            return write_notices(connection, frame, now)

        return writer

    polars_run = run_daily(stored, GENERATED_RUN, run_at=RUN_AT, now=NOW, writer=keep("polars"))
    spark_run = run_daily(
        stored, GENERATED_RUN, "spark", run_at=RUN_AT, now=NOW, spark=spark, writer=keep("spark")
    )
    assert frames["spark"].rows() == frames["polars"].rows()
    assert spark_run.by_scenario == polars_run.by_scenario
    assert spark_run.written == 0
    assert {"read", "spark_start", "hand_over", "detect", "write"} == set(spark_run.seconds)


def test_unpaid_instalments_are_read_through_the_partial_index(tmp_path: Path) -> None:
    sqlite = make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    upgrade(sqlite)
    settings = DetectorSettings()
    query = book_queries(run_window(GENERATED_RUN, settings), settings)["instalments"]
    sql = str(query.compile(dialect=sqlite.dialect, compile_kwargs={"literal_binds": True}))
    with sqlite.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
    sqlite.dispose()
    assert "ix_billing_instalments_due_on_unpaid" in " ".join(str(row[-1]) for row in plan)


def test_an_empty_store_runs_clean(engine: Engine) -> None:
    result = run_daily(engine, GENERATED_RUN, now=NOW)
    assert (result.detected, result.written, result.by_scenario) == (0, 0, {})
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(outreach_outbox)) == 0
        assert connection.execute(text("SELECT 1")).scalar() == 1
