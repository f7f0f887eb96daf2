"""Catalogue use cases: list, show, validate, and the compiled plan for a date or version."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from baoxian.catalog.model import CompiledPlan, plan_named, plan_on
from baoxian.catalog.repository import CatalogRepository, LoadResult, load_catalog
from baoxian.catalog.schema import Product


def validate_catalog(folder: Path) -> LoadResult:
    """Every problem in every product file (an empty list means the catalogue is valid)."""
    return load_catalog(folder)


class Catalog:
    """Products of one catalogue with their compiled plans cached."""

    def __init__(self, repository: CatalogRepository) -> None:
        self.repository = repository
        self._compiled: dict[tuple[str, str], CompiledPlan] = {}

    def products(self) -> list[Product]:
        return self.repository.all()

    def product(self, code: str) -> Product:
        return self.repository.get(code)

    def plan_on(self, code: str, on: date) -> CompiledPlan:
        product = self.repository.get(code)
        return self._compile(product, plan_on(product, on).version)

    def plan(self, code: str, version: str) -> CompiledPlan:
        return self._compile(self.repository.get(code), version)

    def _compile(self, product: Product, version: str) -> CompiledPlan:
        key = (product.code, version)
        if key not in self._compiled:
            self._compiled[key] = CompiledPlan(product, plan_named(product, version))
        return self._compiled[key]
