"""Fixtures of the risk radar tests: the real best tracks and small test files.

The six CSV best tracks are the project's reference data in ``data/typhoons`` (real CMA,
JTWC and JMA best tracks; sources in its README).  Mangkhut is also kept here in the CMA text
format (the same real data).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from baoxian.radar.tracks import Track, read_cma_bst

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
TYPHOONS = ROOT / "data" / "typhoons"


@pytest.fixture(scope="session")
def mangkhut() -> Track:
    """Typhoon Mangkhut (1822), CMA best track."""
    return read_cma_bst(DATA / "CH2018BST_mangkhut.txt")
