"""The store's insured sites as the radar reads them (风险暴露读取), set-based.

One SQL read (:func:`read_site_rows`) brings every site unit of the policies of the chosen
products that were in force on a date — the same rule as a claim's cover snapshot: the
current term covers the date and the policy had not ended by then — into a Polars frame;
the JSON columns come as text and are decoded column-wise by Polars, never row by row in
Python.  :func:`site_book` then joins each site to its plan's cover for the
peril (the coverage, its fixed deductible and ratio of the loss, its sum insured) and builds
the :class:`~baoxian.radar.exposure.Exposure` bundle with its ratio-deductible column.

Where a site's city and province are not in its details (units written before they were),
they are read from the start of its address (``广东省深圳市…``, ``上海市浦东新区…``).

Reading another context's tables is deliberate here and read-only: the radar is a book-wide
batch (``docs/architecture.md``: set-based, never a query per row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Engine, Select, or_, select

from baoxian.catalog.schema import Coverage, ParametricTrigger, PlanVersion
from baoxian.catalog.services import Catalog
from baoxian.outreach.tables import outreach_preferences
from baoxian.policies.tables import policies, policy_units
from baoxian.radar.exposure import Categories, Exposure
from baoxian.radar.loss import RatioDeductible
from baoxian.store.frames import read_frame

SITE_PRODUCTS: tuple[str, ...] = ("PAR-ENT",)
"""Indemnity products whose sites the loss assessment reads by default."""

UNKNOWN = "未知"
MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")  # 直辖市: the city is the province

ROW_SCHEMA: Mapping[str, pl.DataType] = {
    "policy_number": pl.String(),
    "product_code": pl.String(),
    "plan_version": pl.String(),
    "holder_id": pl.String(),
    "unit_key": pl.String(),
    "facts": pl.String(),
    "details": pl.String(),
    "declared_fen": pl.Int64(),
    "cover": pl.String(),
}

PREFERENCE_SCHEMA: Mapping[str, pl.DataType] = {
    "party_id": pl.String(),
    "channel": pl.String(),
    "locale": pl.String(),
    "care": pl.Boolean(),
}


# --------------------------------------------------------------------------- reading


def site_query(on: date, products: Sequence[str]) -> Select[Any]:
    """Site units of the policies of ``products`` in force on ``on`` (policy, then position)."""
    p, u = policies.c, policy_units.c
    return (
        select(
            p.policy_number,
            p.product_code,
            p.plan_version,
            p.holder_id,
            u.unit_key,
            u.facts,
            u.details,
            u.declared_sum_insured_fen,
            u.cover,
        )
        .join_from(policies, policy_units, u.policy_number == p.policy_number)
        .where(
            u.kind == "site",
            p.product_code.in_(list(products)),
            p.term_start <= on,
            p.term_end > on,
            or_(p.ended_on.is_(None), p.ended_on > on),
            or_(p.status == "in_force", p.ended_on.is_not(None)),
        )
        .order_by(p.policy_number, u.position)
    )


def read_site_rows(engine: Engine, on: date, products: Sequence[str]) -> pl.DataFrame:
    """The rows of :func:`site_query` (columns :data:`ROW_SCHEMA`, JSON as text)."""
    with engine.connect() as connection:
        return read_frame(connection, site_query(on, products), ROW_SCHEMA)


def read_preferences(engine: Engine) -> pl.DataFrame:
    """Every stored channel preference (party, channel, locale, 关爱版); a party without one
    is reached by text message in Chinese."""
    c = outreach_preferences.c
    with engine.connect() as connection:
        return read_frame(
            connection, select(c.party_id, c.channel, c.locale, c.care), PREFERENCE_SCHEMA
        )


# --------------------------------------------------------------------------- cover terms


@dataclass(frozen=True, slots=True)
class PerilTerms:
    """What a plan version's cover for one peril is: the coverage, its per-claim deductible
    (the higher of an amount and a ratio of the loss) and, for an index cover, its trigger."""

    coverage: str
    deductible_fen: int
    deductible_ratio: Decimal
    parametric: ParametricTrigger | None


def peril_terms(
    catalog: Catalog, plans: Iterable[tuple[str, str]], peril: str
) -> dict[tuple[str, str], PerilTerms]:
    """The terms of each (product, plan version) whose plan covers ``peril``."""
    found: dict[tuple[str, str], PerilTerms] = {}
    for product, version in set(plans):
        coverage = peril_coverage(catalog.plan(product, version).plan, peril)
        if coverage is not None:
            found[(product, version)] = terms_of(coverage)
    return found


def peril_coverage(plan: PlanVersion, peril: str) -> Coverage | None:
    """The plan's first coverage that responds to ``peril`` (the claims engine's choice)."""
    return next((c for c in plan.coverages if peril in c.perils), None)


def terms_of(coverage: Coverage) -> PerilTerms:
    rule = coverage.deductible
    return PerilTerms(
        coverage=coverage.code,
        deductible_fen=int((rule.per_claim or Decimal(0)) * 100),
        deductible_ratio=rule.per_claim_ratio_of_loss or Decimal(0),
        parametric=coverage.parametric,
    )


# --------------------------------------------------------------------------- the book


@dataclass(frozen=True, slots=True, eq=False)
class SiteBook:
    """Insured sites ready for the radar: the exposure columns, each site's ratio deductible,
    and who and what each row is (``sites``: ``site_id`` = the exposure's row, policy, unit
    key, holder, product and plan version, coverage, site name, occupancy, city).

    ``unlocated``: in-force sites left out for want of valid coordinates; ``uncovered``:
    sites left out because their cover does not respond to the peril (e.g. a rider not
    taken)."""

    exposure: Exposure
    deductible_ratio: RatioDeductible
    sites: pl.DataFrame
    terms: Mapping[tuple[str, str], PerilTerms]
    unlocated: int = 0
    uncovered: int = 0

    @property
    def size(self) -> int:
        return self.exposure.size


def read_exposure(
    engine: Engine,
    catalog: Catalog,
    on: date,
    products: Sequence[str] = SITE_PRODUCTS,
    peril: str = "typhoon",
) -> SiteBook:
    """The insured sites of ``products`` in force on ``on``, with their cover for ``peril``."""
    rows = read_site_rows(engine, on, products)
    plans = rows.select("product_code", "plan_version").unique().rows()
    return site_book(rows, peril_terms(catalog, plans, peril))


def site_book(rows: pl.DataFrame, terms: Mapping[tuple[str, str], PerilTerms]) -> SiteBook:
    """The book from the stored rows (:data:`ROW_SCHEMA`) and the plans' terms (pure)."""
    parsed = _parsed(rows)
    covered = parsed.join(_terms_frame(terms), on=["product_code", "plan_version"], how="inner")
    covered = covered.with_columns(limit_fen=_limit(covered, terms))
    covered = covered.filter(pl.col("limit_fen").is_not_null())
    uncovered = parsed.height - covered.height
    located = covered.filter(
        pl.col("lat").is_between(-90.0, 90.0) & pl.col("lon").is_between(-180.0, 180.0)
    )
    book = located.with_columns(
        site_id=pl.int_range(pl.len(), dtype=pl.Int64),
        value_fen=pl.coalesce("declared_fen", "limit_fen"),
    )
    return SiteBook(
        exposure=_exposure(book),
        deductible_ratio=RatioDeductible(
            book["ratio_numerator"].to_numpy().astype(np.int64),
            book["ratio_denominator"].to_numpy().astype(np.int64),
        ),
        sites=book.select(
            "site_id",
            "policy_number",
            "unit_key",
            "holder_id",
            "product_code",
            "plan_version",
            "coverage",
            "name",
            "occupancy",
            "city",
            "province",
        ),
        terms=dict(terms),
        unlocated=covered.height - located.height,
        uncovered=uncovered,
    )


_PROVINCE = r"^(\p{Han}{2,7}?(?:省|自治区))"
_CITY = r"^(?:\p{Han}{2,7}?(?:省|自治区))?(\p{Han}{1,8}?市)"


DETAILS = pl.Struct(
    {
        "latitude": pl.Float64,
        "longitude": pl.Float64,
        "name": pl.String,
        "address": pl.String,
        "city": pl.String,
        "province": pl.String,
    }
)
FACTS = pl.Struct({"construction_class": pl.String, "occupancy": pl.String})


def _parsed(rows: pl.DataFrame) -> pl.DataFrame:
    details, facts = _fields(rows["details"], DETAILS), _fields(rows["facts"], FACTS)
    address = details["address"].fill_null("")
    city = pl.coalesce(details["city"], address.str.extract(_CITY, 1))
    municipality = pl.when(city.is_in(MUNICIPALITIES)).then(city)
    province = pl.coalesce(details["province"], address.str.extract(_PROVINCE, 1), municipality)
    return rows.with_columns(
        lat=details["latitude"],
        lon=details["longitude"],
        name=pl.coalesce(details["name"], pl.col("unit_key")),
        city=city.fill_null(UNKNOWN),
        province=province.fill_null(UNKNOWN),
        construction=facts["construction_class"].fill_null("-"),
        occupancy=facts["occupancy"].fill_null("-"),
    )


def _fields(column: pl.Series, fields: pl.Struct) -> pl.DataFrame:
    """The named fields of a JSON text column, in one pass when every value has the expected
    type; otherwise field by field, a value of another type becoming null (e.g. a latitude
    written as text that is not a number)."""
    try:
        return column.str.json_decode(fields).struct.unnest()
    except pl.exceptions.ComputeError:
        return pl.DataFrame(
            {
                f.name: column.str.json_path_match(f"$.{f.name}").cast(f.dtype, strict=False)
                for f in fields.fields
            }
        )


def _terms_frame(terms: Mapping[tuple[str, str], PerilTerms]) -> pl.DataFrame:
    ratios = [t.deductible_ratio.as_integer_ratio() for t in terms.values()]
    return pl.DataFrame(
        {
            "product_code": [k[0] for k in terms],
            "plan_version": [k[1] for k in terms],
            "coverage": [t.coverage for t in terms.values()],
            "deductible_fen": [t.deductible_fen for t in terms.values()],
            "ratio_numerator": [r[0] for r in ratios],
            "ratio_denominator": [r[1] for r in ratios],
        },
        schema={
            "product_code": pl.String(),
            "plan_version": pl.String(),
            "coverage": pl.String(),
            "deductible_fen": pl.Int64(),
            "ratio_numerator": pl.Int64(),
            "ratio_denominator": pl.Int64(),
        },
    )


def _limit(frame: pl.DataFrame, terms: Mapping[tuple[str, str], PerilTerms]) -> pl.Expr:
    """The unit's sum insured for its plan's peril coverage, from the cover JSON."""
    codes = sorted({t.coverage for t in terms.values()})
    if not codes:
        return pl.lit(None, pl.Int64)
    picks = [
        pl.when(pl.col("coverage") == code).then(
            pl.col("cover").str.json_path_match(f"$.{code}").cast(pl.Int64, strict=False)
        )
        for code in codes
    ]
    return pl.coalesce(picks)


def _exposure(book: pl.DataFrame) -> Exposure:
    def column(name: str) -> Categories:
        return Categories.encode(book[name].to_list())

    return Exposure(
        site_id=book["site_id"].to_numpy().astype(np.int64),
        policy=column("policy_number"),
        product=column("product_code"),
        lat=book["lat"].to_numpy().astype(np.float64),
        lon=book["lon"].to_numpy().astype(np.float64),
        value_fen=book["value_fen"].to_numpy().astype(np.int64),
        construction=column("construction"),
        occupancy=column("occupancy"),
        deductible_fen=book["deductible_fen"].to_numpy().astype(np.int64),
        limit_fen=book["limit_fen"].to_numpy().astype(np.int64),
        city=column("city"),
        province=column("province"),
    )


__all__ = [
    "PREFERENCE_SCHEMA",
    "ROW_SCHEMA",
    "SITE_PRODUCTS",
    "PerilTerms",
    "SiteBook",
    "peril_coverage",
    "peril_terms",
    "read_exposure",
    "read_frame",
    "read_preferences",
    "read_site_rows",
    "site_book",
    "site_query",
    "terms_of",
]
