"""Products and their plan versions (产品与计划版本), read from the catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from baoxian.api.deps import Ctx, Principal, scoped
from baoxian.api.schemas import (
    PlanVersionPublic,
    PlanVersionSummary,
    ProductPublic,
    plan_version_public,
    product_public,
)
from baoxian.catalog.model import plan_named

router = APIRouter(tags=["products 产品"])

Reader = Annotated[Principal, scoped("products:read")]
ProductCode = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9-]{1,31}$", examples=["BJ-HMB"])]
Version = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,32}$", examples=["2026"])]


@router.get("/products", response_model=list[ProductPublic])
def list_products(ctx: Ctx, who: Reader) -> list[ProductPublic]:
    return [product_public(p) for p in ctx.app.catalog.products()]


@router.get("/products/{code}", response_model=ProductPublic)
def get_product(ctx: Ctx, who: Reader, code: ProductCode) -> ProductPublic:
    return product_public(ctx.app.catalog.product(code))


@router.get("/products/{code}/versions", response_model=list[PlanVersionSummary])
def list_versions(ctx: Ctx, who: Reader, code: ProductCode) -> list[PlanVersionSummary]:
    return product_public(ctx.app.catalog.product(code)).versions


@router.get("/products/{code}/versions/{version}", response_model=PlanVersionPublic)
def get_version(ctx: Ctx, who: Reader, code: ProductCode, version: Version) -> PlanVersionPublic:
    """A plan version: coverages with sums insured, riders, instalments, renewal terms."""
    return plan_version_public(plan_named(ctx.app.catalog.product(code), version))


__all__ = ["router"]
