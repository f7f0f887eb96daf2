"""The examples in the radar modules' docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "baoxian.radar._spline",
    "baoxian.radar.area_notices",
    "baoxian.radar.areas",
    "baoxian.radar.advice",
    "baoxian.radar.exposure",
    "baoxian.radar.geo",
    "baoxian.radar.loss",
    "baoxian.radar.notices",
    "baoxian.radar.parametric",
    "baoxian.radar.services",
    "baoxian.radar.tracks",
    "baoxian.radar.vulnerability",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
    assert result.attempted > 0
