"""One storm against a book of sites, end to end: track → hourly → wind → damage → loss → totals.

:class:`Physics` bundles the choices that decide the numbers. ``Physics.native()`` is the
project's model; ``Physics.climada()`` is the same-physics mode in which our results agree
with CLIMADA's ``TropCyclone.from_tracks`` + ``ImpactCalc`` (see ``benchmarks/radar.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Self

import polars as pl

from baoxian.radar.exposure import Exposure
from baoxian.radar.loss import (
    CMA_WARNING_THRESHOLDS,
    Grouping,
    SiteLosses,
    WarningThresholds,
    all_totals,
    site_losses,
)
from baoxian.radar.tracks import Interpolation, Track, interpolate_hourly
from baoxian.radar.vulnerability import VulnerabilitySet
from baoxian.radar.wind import WindConfig, max_wind


@dataclass(frozen=True, slots=True)
class Physics:
    """Track interpolation, wind model and vulnerability curves."""

    interpolation: Interpolation = "linear"
    wind: WindConfig = field(default_factory=WindConfig)
    vulnerability: VulnerabilitySet = field(default_factory=VulnerabilitySet.property_default)

    @classmethod
    def native(cls) -> Self:
        """Linear hourly positions, Holland 2008 with haversine distance, classes A–D."""
        return cls()

    @classmethod
    def climada(cls) -> Self:
        """Same physics as CLIMADA's defaults: cubic positions (``equal_timestep``), H08 with
        equirectangular 111.12 km/° and 300 km cut-off, calm first node, 17.5 m/s threshold,
        Emanuel (2011) default curve tabulated every 5 m/s for every site."""
        return cls("cubic", WindConfig.climada(), VulnerabilitySet.climada_emanuel())


@dataclass(frozen=True, slots=True, eq=False)
class EventAssessment:
    """Per-site losses and the totals by policy, product, city and province."""

    track_hourly: Track
    losses: SiteLosses
    totals: Mapping[Grouping, pl.DataFrame]


def assess_event(
    track: Track,
    exposure: Exposure,
    physics: Physics = Physics(),
    thresholds: WarningThresholds = CMA_WARNING_THRESHOLDS,
) -> EventAssessment:
    """Every site's maximum wind, damage, ground-up and insured loss, and the totals."""
    hourly = interpolate_hourly(track, positions=physics.interpolation)
    wind = max_wind(hourly, exposure.lat, exposure.lon, physics.wind)
    losses = site_losses(exposure, wind, physics.vulnerability, thresholds)
    return EventAssessment(hourly, losses, all_totals(exposure, losses))
