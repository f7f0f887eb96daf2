"""Insured loss per site and totals (损失测算), and typhoon warning levels (预警等级).

Per site: ground-up loss = value × damage ratio, rounded half-up to the fen; insured loss =
min(max(ground-up − deductible, 0), limit), in whole fen. The deductible is a fixed amount or,
with a :class:`RatioDeductible`, the higher of that amount and a share of the ground-up loss
(rounded half-up to the fen, exactly as the claims engine does). Floats are used only inside
the array arithmetic; every amount leaving this module is int64 fen (or :class:`Money`).

>>> ground_up_fen(np.array([1_000_000]), np.array([0.123455])).tolist()
[123455]
>>> insured_fen(np.array([500_000, 150_000, 9_000_000]), np.array([200_000] * 3),
...             np.array([5_000_000] * 3)).tolist()
[300000, 0, 5000000]
>>> deductible_fen(np.array([150_000_000, 1_000_000]), np.array([2_000_000] * 2),
...                RatioDeductible.of([Decimal("0.10")] * 2)).tolist()
[15000000, 2000000]
>>> warning_levels(np.array([10.7, 10.8, 17.2, 24.5, 32.7])).tolist()
[0, 1, 2, 3, 4]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from typing import Literal, NoReturn, Self

import numpy as np
import polars as pl
from numpy.typing import NDArray

from baoxian.radar.exposure import Categories, Exposure
from baoxian.radar.vulnerability import VulnerabilitySet
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
LevelArray = NDArray[np.int8]
Grouping = Literal["policy", "product", "city", "province"]
GROUPINGS: tuple[Grouping, ...] = ("policy", "product", "city", "province")


# ---------------------------------------------------------------------------------------------
# Warning levels
# ---------------------------------------------------------------------------------------------


class WarningLevel(IntEnum):
    """CMA typhoon warning signal colours (台风预警信号), lowest to highest."""

    NONE = 0
    BLUE = 1
    YELLOW = 2
    ORANGE = 3
    RED = 4

    @property
    def zh(self) -> str:
        return ("无", "蓝色", "黄色", "橙色", "红色")[self]

    @property
    def en(self) -> str:
        return ("none", "blue", "yellow", "orange", "red")[self]


@dataclass(frozen=True, slots=True)
class WarningThresholds:
    """Lowest sustained wind (m/s) of each colour. Defaults: the CMA typhoon warning signals
    (blue: Beaufort force 6 and above, 10.8 m/s; yellow: force 8, 17.2; orange: force 10, 24.5;
    red: force 12, 32.7 — lower bounds of those forces on the Beaufort scale, GB/T 28591-2012).
    The levels are applied to the model wind as given (1-minute sustained); convert first with
    :func:`~baoxian.radar.tracks.convert_wind_averaging` if another convention is wanted."""

    blue: float = 10.8
    yellow: float = 17.2
    orange: float = 24.5
    red: float = 32.7

    def __post_init__(self) -> None:
        if not (0 < self.blue < self.yellow < self.orange < self.red):
            raise ValidationFailed(
                "radar.warning_thresholds",
                "预警风速阈值须为正且蓝 < 黄 < 橙 < 红",
                "Warning thresholds must be positive and blue < yellow < orange < red",
            )


CMA_WARNING_THRESHOLDS = WarningThresholds()


def warning_levels(
    wind_ms: FloatArray, thresholds: WarningThresholds = CMA_WARNING_THRESHOLDS
) -> LevelArray:
    """:class:`WarningLevel` codes per site; a wind equal to a threshold reaches that level."""
    edges = np.array([thresholds.blue, thresholds.yellow, thresholds.orange, thresholds.red])
    return np.searchsorted(edges, wind_ms, side="right").astype(np.int8)


# ---------------------------------------------------------------------------------------------
# Site losses
# ---------------------------------------------------------------------------------------------


def ground_up_fen(value_fen: IntArray, damage_ratio: FloatArray) -> IntArray:
    """value × damage ratio, rounded half-up to the whole fen."""
    return np.floor(value_fen * damage_ratio + 0.5).astype(np.int64)


def insured_fen(ground_up: IntArray, deductible_fen: IntArray, limit_fen: IntArray) -> IntArray:
    """min(max(ground-up − deductible, 0), limit), exact in integers."""
    covered: IntArray = np.minimum(np.maximum(ground_up - deductible_fen, 0), limit_fen)
    return covered


_MAX_RATIO_DENOMINATOR = 10**9


@dataclass(frozen=True, slots=True, eq=False)
class RatioDeductible:
    """Per site, the deductible's share of the ground-up loss as an exact fraction
    ``numerator / denominator`` (0/1 where the site has none): the per-claim deductible is
    then the higher of the fixed amount and that share (免赔额取绝对免赔额与损失×比例较高者)."""

    numerator: IntArray
    denominator: IntArray

    def __post_init__(self) -> None:
        n, d = self.numerator, self.denominator
        if n.shape != d.shape or n.ndim != 1:
            _bad_ratio("分子与分母数组形状不一致", "numerators and denominators differ in shape")
        if n.size and not (
            int(d.min()) >= 1
            and int(d.max()) <= _MAX_RATIO_DENOMINATOR
            and int(n.min()) >= 0
            and bool(np.all(n <= d))
        ):
            _bad_ratio(
                "比例须在 0 至 1 之间，且最多 9 位小数",
                "ratios must lie in [0, 1] with at most 9 decimal places",
            )

    @classmethod
    def of(cls, ratios: Sequence[Decimal]) -> Self:
        """From exact decimal ratios (e.g. the product's ``per_claim_ratio_of_loss``)."""
        pairs = [ratio.as_integer_ratio() for ratio in ratios]
        return cls(
            np.array([p[0] for p in pairs], np.int64).reshape(-1),
            np.array([p[1] for p in pairs], np.int64).reshape(-1),
        )

    @classmethod
    def none(cls, n: int) -> Self:
        """No ratio part for any of ``n`` sites."""
        return cls(np.zeros(n, np.int64), np.ones(n, np.int64))

    @property
    def size(self) -> int:
        return int(self.numerator.shape[0])

    def share_fen(self, ground_up: IntArray) -> IntArray:
        """ground-up × ratio rounded half-up to the fen, exact in int64: with
        ground-up = q·d + r, the share is q·n + round(r·n / d) (no product overflows)."""
        n, d = self.numerator, self.denominator
        q, r = np.divmod(ground_up, d)
        share: IntArray = q * n + (2 * r * n + d) // (2 * d)
        return share


def _bad_ratio(zh: str, en: str) -> NoReturn:
    raise ValidationFailed(
        "radar.deductible_ratio", f"免赔比例无效：{zh}", f"Invalid deductible ratio: {en}"
    )


def deductible_fen(
    ground_up: IntArray, fixed_fen: IntArray, ratio: RatioDeductible | None = None
) -> IntArray:
    """The per-claim deductible of each site: the fixed amount, or the higher of it and the
    ratio's share of the ground-up loss."""
    if ratio is None:
        return fixed_fen
    higher: IntArray = np.maximum(fixed_fen, ratio.share_fen(ground_up))
    return higher


@dataclass(frozen=True, slots=True, eq=False)
class SiteLosses:
    """Per-site results, in the exposure's row order."""

    wind_ms: FloatArray
    damage_ratio: FloatArray
    ground_up_fen: IntArray
    insured_fen: IntArray
    warning: LevelArray

    @property
    def insured_total(self) -> Money:
        return Money.from_fen(int(self.insured_fen.sum(dtype=np.int64)))

    @property
    def ground_up_total(self) -> Money:
        return Money.from_fen(int(self.ground_up_fen.sum(dtype=np.int64)))


def site_losses(
    exposure: Exposure,
    wind_ms: FloatArray,
    vulnerability: VulnerabilitySet,
    thresholds: WarningThresholds = CMA_WARNING_THRESHOLDS,
    deductible_ratio: RatioDeductible | None = None,
) -> SiteLosses:
    """Damage ratio, ground-up and insured loss and warning level of every site.

    ``exposure.deductible_fen`` is the fixed deductible; with ``deductible_ratio`` each site's
    deductible is the higher of it and the ratio's share of its ground-up loss."""
    if wind_ms.shape != (exposure.size,):
        raise ValidationFailed(
            "radar.wind_shape",
            "风速数组与站点数不一致",
            "The wind array does not match the number of sites",
        )
    if deductible_ratio is not None and deductible_ratio.size != exposure.size:
        _bad_ratio("比例数组与站点数不一致", "the ratio arrays do not match the number of sites")
    ratio = vulnerability.damage_ratio(wind_ms, exposure.construction, exposure.occupancy)
    ground_up = ground_up_fen(exposure.value_fen, ratio)
    deductible = deductible_fen(ground_up, exposure.deductible_fen, deductible_ratio)
    return SiteLosses(
        wind_ms=wind_ms,
        damage_ratio=ratio,
        ground_up_fen=ground_up,
        insured_fen=insured_fen(ground_up, deductible, exposure.limit_fen),
        warning=warning_levels(wind_ms, thresholds),
    )


# ---------------------------------------------------------------------------------------------
# Totals
# ---------------------------------------------------------------------------------------------


def _column(exposure: Exposure, by: Grouping) -> Categories:
    return {
        "policy": exposure.policy,
        "product": exposure.product,
        "city": exposure.city,
        "province": exposure.province,
    }[by]


def totals(exposure: Exposure, losses: SiteLosses, by: Grouping) -> pl.DataFrame:
    """Sums per policy, product, city or province (exact int64 fen), largest insured first.

    Columns: ``key`` (label), ``sites``, ``affected_sites`` (insured loss > 0), ``value_fen``,
    ``ground_up_fen``, ``insured_fen``, ``max_wind_ms``; groups without sites are left out.
    """
    column = _column(exposure, by)
    codes = column.codes
    groups = len(column.labels)
    sites = exact_group_sums(codes, np.ones(1, np.int64), groups)
    max_wind = np.zeros(groups)
    np.maximum.at(max_wind, codes, losses.wind_ms)
    insured = exact_group_sums(codes, losses.insured_fen, groups)
    present = np.flatnonzero(sites)
    order = present[np.argsort(-insured[present], kind="stable")]
    labels = pl.Series("key", column.labels, dtype=pl.String)
    affected = exact_group_sums(codes, (losses.insured_fen > 0).astype(np.int64), groups)
    return pl.DataFrame(
        {
            "key": labels.gather(order),
            "sites": sites[order],
            "affected_sites": affected[order],
            "value_fen": exact_group_sums(codes, exposure.value_fen, groups)[order],
            "ground_up_fen": exact_group_sums(codes, losses.ground_up_fen, groups)[order],
            "insured_fen": insured[order],
            "max_wind_ms": max_wind[order],
        }
    )


def exact_group_sums(codes: NDArray[np.int32], values: IntArray, groups: int) -> IntArray:
    """Per-group sums of int64 amounts, exact (integer addition, never through float).

    >>> exact_group_sums(np.array([0, 1, 0], np.int32), np.array([2**53 + 1, 5, 2**53 + 1]), 2)
    array([18014398509481986,                 5])
    """
    total = np.zeros(groups, np.int64)
    np.add.at(total, codes, np.broadcast_to(values, codes.shape))
    return total


def all_totals(exposure: Exposure, losses: SiteLosses) -> Mapping[Grouping, pl.DataFrame]:
    """:func:`totals` for every grouping."""
    return {by: totals(exposure, losses, by) for by in GROUPINGS}
