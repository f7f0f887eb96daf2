"""Exposure (风险暴露): insured sites as a bundle of columns, and a seeded generator.

A million sites are a million rows, so an :class:`Exposure` holds numpy columns, with text
columns (policy number, product, construction class, occupancy, city, province) stored as
:class:`Categories` — integer codes into a list of labels. Money is whole fen (int64).

>>> book = generate_exposure(1_000, seed=7, layout="clustered")
>>> book.size, book.construction.labels
(1000, ('A', 'B', 'C', 'D'))
>>> bool((book.limit_fen <= book.value_fen).all())
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Self

import numpy as np
import polars as pl
from numpy.typing import NDArray

from baoxian.shared.errors import ValidationFailed

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
CodeArray = NDArray[np.int32]
Layout = Literal["uniform", "clustered"]


@dataclass(frozen=True, slots=True, eq=False)
class Categories:
    """A text column as codes (int32) into ``labels``."""

    codes: CodeArray
    labels: tuple[str, ...]

    @classmethod
    def encode(cls, values: Sequence[str]) -> Self:
        """Codes in order of first appearance.

        >>> Categories.encode(["B", "A", "B"]).codes.tolist()
        [0, 1, 0]
        """
        series = pl.Series("v", list(values), dtype=pl.String)
        labels = series.unique(maintain_order=True)
        codes = series.replace_strict(labels, pl.int_range(labels.len(), eager=True))
        return cls(codes.cast(pl.Int32).to_numpy(), tuple(labels.to_list()))

    def decode(self) -> pl.Series:
        """The column as text."""
        return pl.Series(self.labels, dtype=pl.String).gather(self.codes)

    @property
    def size(self) -> int:
        return int(self.codes.shape[0])


@dataclass(frozen=True, slots=True, eq=False)
class Exposure:
    """Insured sites (one row per site)."""

    site_id: IntArray
    policy: Categories
    product: Categories
    lat: FloatArray
    lon: FloatArray
    value_fen: IntArray
    construction: Categories
    occupancy: Categories
    deductible_fen: IntArray
    limit_fen: IntArray
    city: Categories
    province: Categories

    def __post_init__(self) -> None:
        n = self.site_id.shape[0]
        columns = (self.lat, self.lon, self.value_fen, self.deductible_fen, self.limit_fen)
        categories = (
            self.policy,
            self.product,
            self.construction,
            self.occupancy,
            self.city,
            self.province,
        )
        if any(c.shape != (n,) for c in columns) or any(c.size != n for c in categories):
            _refuse("各列长度不一致", "columns differ in length")
        if not all(c.codes.size == 0 or _codes_ok(c) for c in categories):
            _refuse("分类编码超出标签范围", "a category code has no label")
        if n and not (
            bool(np.all(np.abs(self.lat) <= 90.0))
            and bool(np.all((self.lon >= -180.0) & (self.lon <= 180.0)))
        ):
            _refuse("坐标超出范围", "coordinates out of range")
        if (
            n
            and min(
                int(self.value_fen.min()), int(self.deductible_fen.min()), int(self.limit_fen.min())
            )
            < 0
        ):
            _refuse(
                "保额、免赔额与限额不能为负", "value, deductible and limit must not be negative"
            )

    @property
    def size(self) -> int:
        return int(self.site_id.shape[0])

    def to_polars(self) -> pl.DataFrame:
        """The sites as a table (text columns decoded)."""
        return pl.DataFrame(
            {
                "site_id": self.site_id,
                "policy_number": self.policy.decode(),
                "product_code": self.product.decode(),
                "lat": self.lat,
                "lon": self.lon,
                "value_fen": self.value_fen,
                "construction_class": self.construction.decode(),
                "occupancy": self.occupancy.decode(),
                "deductible_fen": self.deductible_fen,
                "limit_fen": self.limit_fen,
                "city": self.city.decode(),
                "province": self.province.decode(),
            }
        )


def _codes_ok(column: Categories) -> bool:
    return int(column.codes.min()) >= 0 and int(column.codes.max()) < len(column.labels)


def _refuse(zh: str, en: str) -> None:
    raise ValidationFailed(
        "radar.exposure_invalid", f"风险暴露数据无效：{zh}", f"Invalid exposure: {en}"
    )


# ---------------------------------------------------------------------------------------------
# Seeded generator for tests and benchmarks
# ---------------------------------------------------------------------------------------------

# Coastal cities of Guangdong, Fujian and Zhejiang: (city, province, lat, lon, weight).
COASTAL_CITIES: tuple[tuple[str, str, float, float, int], ...] = (
    ("深圳市", "广东省", 22.5431, 114.0579, 18),
    ("广州市", "广东省", 23.1291, 113.2644, 19),
    ("珠海市", "广东省", 22.2710, 113.5767, 3),
    ("湛江市", "广东省", 21.2707, 110.3594, 5),
    ("汕头市", "广东省", 23.3541, 116.6820, 5),
    ("厦门市", "福建省", 24.4798, 118.0894, 6),
    ("福州市", "福建省", 26.0745, 119.2965, 8),
    ("温州市", "浙江省", 27.9938, 120.6994, 8),
    ("台州市", "浙江省", 28.6564, 121.4208, 5),
    ("宁波市", "浙江省", 29.8683, 121.5440, 9),
)
# Uniform layout: a box over the south-east coast (lat 18–32 °N, lon 108–123 °E).
UNIFORM_BOX = (18.0, 32.0, 108.0, 123.0)
CLUSTER_MEAN_KM = 12.0
CLUSTER_MAX_KM = 80.0
CONSTRUCTION_CLASSES = ("A", "B", "C", "D")
_CONSTRUCTION_WEIGHTS = (0.30, 0.40, 0.20, 0.10)
OCCUPANCIES = ("office", "retail", "warehouse", "light_manufacturing", "heavy_manufacturing")
_OCCUPANCY_WEIGHTS = (0.25, 0.20, 0.20, 0.25, 0.10)
TYPHOON_DEDUCTIBLE_FEN = 2_000_000  # 20,000 CNY per claim (catalog/property-all-risks.yaml)
_VALUE_RANGE_CNY = (200_000.0, 500_000_000.0)
_SITES_PER_POLICY = 4
_KM_PER_DEGREE = 111.12


def generate_exposure(
    n: int, *, seed: int = 0, layout: Layout = "uniform", product_code: str = "PAR-ENT"
) -> Exposure:
    """``n`` synthetic sites, the same for the same seed: uniform over the south-east coast or
    clustered around ten coastal cities; values log-uniform 200,000–500 million CNY (whole
    1,000 CNY), a 20,000 CNY deductible, limit = value (a fifth of sites: first-loss 50 %)."""
    if n < 0:
        raise ValidationFailed("radar.exposure_invalid", "站点数不能为负", "n must not be negative")
    rng = np.random.default_rng(seed)
    if layout == "uniform":
        lat, lon = _uniform(rng, n)
        city_index = _nearest_city(lat, lon)
    else:
        lat, lon, city_index = _clustered(rng, n)
    value_fen = _values_fen(rng, n)
    first_loss = rng.random(n) < 0.2
    limit_fen = np.where(first_loss, value_fen // 2, value_fen)
    cities = tuple(c[0] for c in COASTAL_CITIES)
    provinces = tuple(dict.fromkeys(c[1] for c in COASTAL_CITIES))
    province_of_city = np.array([provinces.index(c[1]) for c in COASTAL_CITIES], np.int32)
    n_policies = max(1, -(-n // _SITES_PER_POLICY))
    return Exposure(
        site_id=np.arange(n, dtype=np.int64),
        policy=Categories(
            np.sort(rng.integers(0, n_policies, n)).astype(np.int32),
            _policy_numbers(product_code, seed, n_policies),
        ),
        product=Categories(np.zeros(n, np.int32), (product_code,)),
        lat=lat,
        lon=lon,
        value_fen=value_fen,
        construction=Categories(
            rng.choice(len(CONSTRUCTION_CLASSES), n, p=_CONSTRUCTION_WEIGHTS).astype(np.int32),
            CONSTRUCTION_CLASSES,
        ),
        occupancy=Categories(
            rng.choice(len(OCCUPANCIES), n, p=_OCCUPANCY_WEIGHTS).astype(np.int32), OCCUPANCIES
        ),
        deductible_fen=np.full(n, TYPHOON_DEDUCTIBLE_FEN, np.int64),
        limit_fen=limit_fen,
        city=Categories(city_index, cities),
        province=Categories(province_of_city[city_index], provinces),
    )


def _uniform(rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray]:
    lat_lo, lat_hi, lon_lo, lon_hi = UNIFORM_BOX
    return rng.uniform(lat_lo, lat_hi, n), rng.uniform(lon_lo, lon_hi, n)


def _clustered(rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray, CodeArray]:
    weights = np.array([c[4] for c in COASTAL_CITIES], np.float64)
    city = rng.choice(len(COASTAL_CITIES), n, p=weights / weights.sum()).astype(np.int32)
    centre_lat = np.array([c[2] for c in COASTAL_CITIES])[city]
    centre_lon = np.array([c[3] for c in COASTAL_CITIES])[city]
    distance = np.minimum(rng.exponential(CLUSTER_MEAN_KM, n), CLUSTER_MAX_KM)
    bearing = rng.uniform(0.0, 2 * np.pi, n)
    lat = centre_lat + distance * np.cos(bearing) / _KM_PER_DEGREE
    lon = centre_lon + distance * np.sin(bearing) / (
        _KM_PER_DEGREE * np.cos(np.radians(centre_lat))
    )
    return lat, lon, city


def _nearest_city(lat: FloatArray, lon: FloatArray) -> CodeArray:
    best = np.zeros(lat.shape[0], np.int32)
    best_d2 = np.full(lat.shape[0], np.inf)
    for k, (_city, _province, c_lat, c_lon, _w) in enumerate(COASTAL_CITIES):
        dx = (lon - c_lon) * np.cos(np.radians(c_lat))
        d2 = (lat - c_lat) ** 2 + dx * dx
        closer = d2 < best_d2
        best[closer] = k
        best_d2[closer] = d2[closer]
    return best


def _values_fen(rng: np.random.Generator, n: int) -> IntArray:
    low, high = np.log(_VALUE_RANGE_CNY[0]), np.log(_VALUE_RANGE_CNY[1])
    thousands = np.rint(np.exp(rng.uniform(low, high, n)) / 1000.0).astype(np.int64)
    return np.maximum(thousands, 1) * 100_000  # whole 1,000 CNY, in fen


def _policy_numbers(product_code: str, seed: int, count: int) -> tuple[str, ...]:
    numbers = pl.select(
        pl.format(
            "{}-{}-{}",
            pl.lit(product_code),
            pl.lit(f"{seed:03d}"),
            pl.int_range(0, count).cast(pl.String).str.zfill(8),
        )
    ).to_series()
    return tuple(numbers.to_list())
