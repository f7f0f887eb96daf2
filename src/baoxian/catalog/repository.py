"""Reading product files from a catalogue folder, with problems that name file and path."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cel
import yaml
from pydantic import ValidationError

from baoxian.catalog.schema import Product
from baoxian.shared.errors import NotFound, ValidationFailed

PRODUCT_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a product file: where, and what."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(file)'}: {self.message}"


@dataclass(frozen=True, slots=True)
class LoadResult:
    products: dict[str, Product]
    problems: list[Problem]


def product_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in PRODUCT_SUFFIXES and p.is_file())


def load_catalog(folder: Path) -> LoadResult:
    """Parse and validate every product file; collect all problems instead of stopping."""
    if not folder.is_dir():
        raise NotFound(
            "catalog.folder_missing",
            f"产品目录不存在：{folder}",
            f"catalogue folder not found: {folder}",
        )
    products: dict[str, Product] = {}
    problems: list[Problem] = []
    for path in product_files(folder):
        product, found = load_product_file(path)
        problems.extend(found)
        if product is None:
            continue
        if product.code in products:
            problems.append(Problem(str(path), "code", f"duplicate product code {product.code}"))
            continue
        products[product.code] = product
    return LoadResult(products, problems)


def load_product_file(path: Path) -> tuple[Product | None, list[Problem]]:
    name = str(path)
    try:
        raw = _parse(path)
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, [Problem(name, "", f"not valid YAML/JSON: {exc}")]
    try:
        product = Product.model_validate(raw)
    except ValidationError as exc:
        return None, [Problem(name, _dotted(err["loc"]), _describe(err)) for err in exc.errors()]
    problems = list(_cel_problems(name, product))
    return (None if problems else product), problems


def _parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.safe_load(text)


def _cel_problems(name: str, product: Product) -> list[Problem]:
    problems = []
    for i, plan in enumerate(product.versions):
        expressions = [
            (f"eligibility[{j}].require", r.require) for j, r in enumerate(plan.eligibility)
        ]
        expressions += [
            (f"riders[{j}].require", r.require)
            for j, r in enumerate(plan.riders)
            if r.require is not None
        ]
        for where, expression in expressions:
            try:
                cel.compile(expression)
            except ValueError as exc:
                problems.append(Problem(name, f"versions[{i}].{where}", f"invalid CEL: {exc}"))
    return problems


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("function-") or part in {"str", "int", "bool", "list[str]"}:
            continue
        else:
            out += f".{part}" if out else part
    return out


def _describe(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (not in the product schema)"
    if err["type"] == "missing":
        return "required key is missing"
    return str(err["msg"])


class CatalogRepository:
    """The products of one catalogue folder, loaded once; refuses a catalogue with problems."""

    def __init__(self, folder: Path) -> None:
        result = load_catalog(folder)
        if result.problems:
            listing = "\n".join(str(p) for p in result.problems)
            raise ValidationFailed(
                "catalog.invalid",
                f"产品目录有 {len(result.problems)} 处错误，请先运行 baoxian catalog validate",
                f"the catalogue has {len(result.problems)} problems; run baoxian catalog validate",
                problems=listing,
            )
        self.folder = folder
        self._products = result.products

    def get(self, code: str) -> Product:
        try:
            return self._products[code]
        except KeyError:
            raise NotFound(
                "catalog.unknown_product",
                f"没有产品代码 {code}",
                f"no product with code {code}",
            ) from None

    def all(self) -> list[Product]:
        return [self._products[k] for k in sorted(self._products)]
