"""Polars and Spark give identical notice sets — every column, compared as sorted rows — on a
generated book that has every scenario and edge, and both give the exact notices of the
hand-built book."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from pyspark.sql import SparkSession

from baoxian.outreach.detectors import BookFrames, detect_all
from baoxian.outreach.notice_specs import SCENARIOS, DetectorSettings
from baoxian.outreach.spark_detectors import (
    SparkBook,
    collect_notices,
    detect_all_spark,
    spark_book,
)
from tests.outreach.books import EXPECTED, GENERATED_RUN, RUN, generated, hand_book


@pytest.fixture(scope="module")
def book() -> BookFrames:
    return generated()


@pytest.fixture(scope="module")
def spark_frames(
    spark: SparkSession, book: BookFrames, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SparkBook, Path]]:
    folder = tmp_path_factory.mktemp("parity")
    yield spark_book(spark, book, folder), folder


def _both(
    book: BookFrames,
    frames: tuple[SparkBook, Path],
    run_date: date,
    settings: DetectorSettings | None = None,
    since: date | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    spark_frames, folder = frames
    local = detect_all(book, run_date, settings, since=since)
    distributed = collect_notices(
        detect_all_spark(spark_frames, run_date, settings, since=since), folder
    )
    return local, distributed


def test_the_generated_book_gives_identical_notices_on_both_engines(
    book: BookFrames, spark_frames: tuple[SparkBook, Path]
) -> None:
    since = GENERATED_RUN - timedelta(days=7)
    local, distributed = _both(book, spark_frames, GENERATED_RUN, since=since)
    assert local.height > 400
    assert distributed.schema == local.schema
    assert distributed.sort("dedup_key").rows() == local.sort("dedup_key").rows()
    # the book has every scenario and every reason, both preferences and defaults
    assert set(local["scenario"]) == set(SCENARIOS)
    assert {
        "renewal_due.upcoming",
        "renewal_due.in_grace",
        "renewal_due.grace_ending",
        "benefit_collectable.ready",
        "benefit_collectable.uncollected",
        "billing.renewal_exceeds_limit",
        "billing.renewal_policy_not_in_force",
        "billing.renewal_failed",
        "abandoned_transaction.payment",
        "abandoned_transaction.change_request",
    } <= set(local["reason_code"])
    assert set(local["locale"]) == {"zh", "en"} and set(local["care"]) == {True, False}
    assert {"sms", "email", "push", "webhook", "inbox"} <= set(local["channel"])


def test_the_run_date_alone_and_other_settings_agree_too(
    book: BookFrames, spark_frames: tuple[SparkBook, Path]
) -> None:
    settings = DetectorSettings(
        renewal_lead_days=(30, 7, 1), grace_reminder_days=(1, 15), benefit_reminder_days=(0,)
    )
    local, distributed = _both(book, spark_frames, GENERATED_RUN + timedelta(days=1), settings)
    assert local.height > 50
    assert distributed.sort("dedup_key").rows() == local.sort("dedup_key").rows()


def test_the_hand_built_book_on_spark(spark: SparkSession, tmp_path: Path) -> None:
    frames = spark_book(spark, hand_book(), tmp_path)
    notices = collect_notices(detect_all_spark(frames, RUN), tmp_path)
    got = {row["dedup_key"]: (row["reason_zh"], row["reason_en"]) for row in notices.to_dicts()}
    assert got == EXPECTED
    assert notices.rows() == detect_all(hand_book(), RUN).rows()


def test_spark_refuses_a_session_not_in_utc(spark: SparkSession, tmp_path: Path) -> None:
    frames = spark_book(spark, hand_book(), tmp_path)
    spark.conf.set("spark.sql.session.timeZone", "Asia/Shanghai")
    try:
        with pytest.raises(ValueError, match="UTC"):
            detect_all_spark(frames, RUN)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
