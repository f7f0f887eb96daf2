"""The examples in module docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "baoxian.shared.money",
    "baoxian.shared.identity",
    "baoxian.shared.ids",
    "baoxian.demo.population",
    "baoxian.store.db",
    "baoxian.store.crypto",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
    assert result.attempted > 0
