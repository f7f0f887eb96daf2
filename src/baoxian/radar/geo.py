"""Distances on the Earth for the wind field: equirectangular and haversine.

* Equirectangular (sinusoidal) approximation: ``dy = Δlat × k``, ``dx = Δlon × cos(lat₁) × k``
  with ``k = 111.12 km`` per degree and the cosine taken at the *first* point (the storm
  centre); distance ``√(dx² + dy²)``. This is CLIMADA's ``dist_approx(method="equirect")``.
* Haversine: great-circle distance on a sphere of radius 6371 km.

>>> round(float(equirect_km(np.array(22.0), np.array(114.0), np.array(23.0), np.array(114.0))), 2)
111.12
>>> round(float(haversine_km(np.array(0.0), np.array(0.0), np.array(0.0), np.array(1.0))), 3)
111.195
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

KM_PER_DEGREE = 111.12
EARTH_RADIUS_KM = 6371.0


class Metric(StrEnum):
    """How distances from the storm centre are measured."""

    EQUIRECT = "equirect"
    HAVERSINE = "haversine"


def wrap_delta_lon(dlon: FloatArray) -> FloatArray:
    """Differences of two longitudes in [-180, 180] each, mapped to [-180, 180].

    Values already in range are returned bit for bit (no modulo rounding), as CLIMADA does.
    """
    return np.where(dlon > 180.0, dlon - 360.0, np.where(dlon < -180.0, dlon + 360.0, dlon))


def equirect_km(
    lat1: FloatArray,
    lon1: FloatArray,
    lat2: FloatArray,
    lon2: FloatArray,
    km_per_degree: float = KM_PER_DEGREE,
) -> FloatArray:
    """Equirectangular distance (km), cosine at the first point's latitude."""
    dy = (lat2 - lat1) * km_per_degree
    dx = wrap_delta_lon(lon2 - lon1) * np.cos(np.radians(lat1)) * km_per_degree
    return np.sqrt(dx * dx + dy * dy)


def haversine_km(
    lat1: FloatArray,
    lon1: FloatArray,
    lat2: FloatArray,
    lon2: FloatArray,
    radius_km: float = EARTH_RADIUS_KM,
) -> FloatArray:
    """Great-circle distance (km) by the haversine formula."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    half_dphi = 0.5 * (phi2 - phi1)
    half_dlambda = 0.5 * np.radians(wrap_delta_lon(lon2 - lon1))
    hav = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlambda) ** 2
    distance: FloatArray = 2.0 * radius_km * np.arcsin(np.sqrt(np.minimum(hav, 1.0)))
    return distance
