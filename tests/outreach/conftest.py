"""Fixtures of the daily-scan tests: one local Spark session for the whole test session, and
the store's engines (SQLite, and PostgreSQL when ``BAOXIAN_TEST_POSTGRES_URL`` is set)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from baoxian.outreach.spark_detectors import local_session
from tests.store.conftest import blank_engine, engine, postgres_url

__all__ = ["blank_engine", "engine", "postgres_url"]


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """Local mode, two shuffle partitions: small books, quick stages."""
    session = local_session(partitions=2, driver_memory="1g", app_name="baoxian-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
