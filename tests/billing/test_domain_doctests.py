"""The examples in the billing domain's docstrings run (worked figures to the fen)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "baoxian.billing.interest",
    "baoxian.billing.payables",
    "baoxian.billing.schedule",
    "baoxian.billing.loans",
    "baoxian.billing.account",
    "baoxian.billing.annuity",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
    assert result.attempted > 0
