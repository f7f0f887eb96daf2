"""A grid index of sites so that each storm position touches only the sites near it.

Sites are bucketed once into square cells of at least ``cell_deg`` degrees over their bounding
box (at most 65,535 cells, so that the 16-bit cell numbers sort in linear time with numpy's
radix sort) and kept in cell order: row by row, west to east. For a storm centre, each row of
cells within reach gets a longitude window wide enough to hold every site of that row within
the cut-off distance (a superset; the exact distance test follows in the wind kernel). The
cells a window covers are consecutive, so each window is one contiguous run of the sorted
arrays, read off a table of cell starts — no per-site test and no search.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_EPS_DEG = 1e-8  # ~1 mm: covers rounding of cell bounds
_MAX_CELLS = 65_535

# (row latitude low, row latitude high, dlat_min) → longitude half-width (degrees; ≥ 180 means
# the whole row; negative means none)
HalfWidth = Callable[[FloatArray, FloatArray, FloatArray], FloatArray]


@dataclass(frozen=True, slots=True, eq=False)
class SiteIndex:
    """Sites in cell order; ``order[k]`` is the original index of sorted site k."""

    order: IntArray
    lat: FloatArray
    lon: FloatArray  # in [-180, 180)
    cell_start: IntArray  # sorted positions where each cell begins (length n_cells + 1)
    lat_min: float
    lon_min: float
    cell_deg: float
    n_rows: int
    n_cols: int

    @classmethod
    def build(cls, lats: FloatArray, lons: FloatArray, cell_deg: float = 0.1) -> SiteIndex:
        """Bucket the sites once (linear-time radix sort of 16-bit cell numbers)."""
        lon = np.where(lons >= 180.0, lons - 360.0, lons)
        if lats.size == 0:
            empty = np.zeros(0)
            return cls(np.zeros(0, np.int64), empty, empty, np.zeros(1, np.int64), 0, 0, 1, 0, 0)
        lat_min, lon_min = float(lats.min()), float(lon.min())
        lat_span, lon_span = float(lats.max()) - lat_min, float(lon.max()) - lon_min
        size = cell_deg
        while (math.floor(lat_span / size) + 1) * (math.floor(lon_span / size) + 1) > _MAX_CELLS:
            size *= 1.05
        n_rows = math.floor(lat_span / size) + 1
        n_cols = math.floor(lon_span / size) + 1
        row = np.minimum(((lats - lat_min) / size).astype(np.int64), n_rows - 1)
        col = np.minimum(((lon - lon_min) / size).astype(np.int64), n_cols - 1)
        cell = (row * n_cols + col).astype(np.uint16)
        order = np.argsort(cell, kind="stable")
        counts = np.bincount(cell, minlength=n_rows * n_cols)
        cell_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(
            order=order,
            lat=lats[order],
            lon=lon[order],
            cell_start=cell_start,
            lat_min=lat_min,
            lon_min=lon_min,
            cell_deg=size,
            n_rows=n_rows,
            n_cols=n_cols,
        )

    @property
    def size(self) -> int:
        return int(self.order.shape[0])

    def candidates(
        self, lat_t: float, lon_t: float, reach_lat_deg: float, half_width: HalfWidth
    ) -> tuple[IntArray, bool]:
        """Sorted positions of the sites that may lie within reach of (lat_t, lon_t), and
        whether longitude differences must be wrapped across 180° for them."""
        if self.n_rows == 0:
            return np.zeros(0, np.int64), False
        reach = reach_lat_deg + _EPS_DEG
        first = max(0, math.floor((lat_t - reach - self.lat_min) / self.cell_deg))
        last = min(self.n_rows - 1, math.floor((lat_t + reach - self.lat_min) / self.cell_deg))
        if last < first:
            return np.zeros(0, np.int64), False
        rows = np.arange(first, last + 1, dtype=np.int64)
        low = self.lat_min + rows.astype(np.float64) * self.cell_deg - _EPS_DEG
        high = low + self.cell_deg + 2 * _EPS_DEG
        dlat_min = np.maximum(0.0, np.maximum(low - lat_t, lat_t - high))
        width = half_width(low, high, dlat_min)
        keep = width >= 0
        rows, width = rows[keep], width[keep] * (1 + _EPS_DEG) + _EPS_DEG
        lo_lon, hi_lon = lon_t - width, lon_t + width
        full = width >= 180.0
        wraps = bool(np.any(full | (lo_lon < -180.0) | (hi_lon >= 180.0)))
        lo_lon = np.where(full, -180.0, lo_lon)
        hi_lon = np.where(full, 180.0, hi_lon)
        # a window reaching past ±180 becomes two windows
        below = ~full & (lo_lon < -180.0)
        above = ~full & (hi_lon >= 180.0)
        win_rows = np.concatenate([rows, rows[below], rows[above]])
        win_lo = np.concatenate(
            [np.maximum(lo_lon, -180.0), lo_lon[below] + 360.0, np.full(int(above.sum()), -180.0)]
        )
        win_hi = np.concatenate(
            [np.minimum(hi_lon, 180.0), np.full(int(below.sum()), 180.0), hi_lon[above] - 360.0]
        )
        col_lo = np.floor((win_lo - self.lon_min) / self.cell_deg)
        col_hi = np.floor((win_hi - self.lon_min) / self.cell_deg)
        inside = (col_hi >= 0) & (col_lo <= self.n_cols - 1)
        base = win_rows[inside] * self.n_cols
        first_cell = base + np.maximum(col_lo[inside], 0).astype(np.int64)
        last_cell = base + np.minimum(col_hi[inside], self.n_cols - 1).astype(np.int64)
        return _ranges(self.cell_start[first_cell], self.cell_start[last_cell + 1]), wraps


def _ranges(starts: IntArray, ends: IntArray) -> IntArray:
    """The concatenation of ``arange(s, e)`` for every (s, e), without a Python loop."""
    lengths = np.maximum(ends - starts, 0)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    nonzero = lengths > 0
    starts, lengths = starts[nonzero], lengths[nonzero]
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total, dtype=np.int64)
