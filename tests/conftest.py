"""Shared test fixtures: the real catalogue and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog

ROOT = Path(__file__).resolve().parent.parent
CATALOG_DIR = ROOT / "catalog"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog(CatalogRepository(CATALOG_DIR))


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
