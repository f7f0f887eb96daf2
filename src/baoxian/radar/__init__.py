"""风险雷达 (risk radar): typhoon tracks, wind fields, vulnerability and insured loss.

Pure and array-based: no database, web or settings. The public surface is re-exported here;
the modules are ``tracks`` (readers, interpolation), ``wind`` (Holland profiles, fast maximum
wind at sites), ``vulnerability`` (Emanuel and tabulated curves), ``exposure`` (site columns and
a seeded generator), ``loss`` (insured loss in fen with the ratio deductible, totals, warning
levels), ``assessment`` (the end-to-end call), ``parametric`` (the wind index of index covers),
``advice`` and ``notices`` (prevention advice and warning notices).

The edge of the context is not re-exported (it reads the store and talks to other contexts):
``repository`` (the in-force sites, set-based), ``services`` (``RadarService``: assess, warn,
pre-pay, trigger), ``maps`` (PNG and HTML) and ``commands`` (``baoxian radar …``).
"""

from baoxian.radar.assessment import EventAssessment, Physics, assess_event
from baoxian.radar.exposure import Categories, Exposure, generate_exposure
from baoxian.radar.geo import Metric, equirect_km, haversine_km
from baoxian.radar.loss import (
    CMA_WARNING_THRESHOLDS,
    RatioDeductible,
    SiteLosses,
    WarningLevel,
    WarningThresholds,
    all_totals,
    deductible_fen,
    ground_up_fen,
    insured_fen,
    site_losses,
    totals,
    warning_levels,
)
from baoxian.radar.tracks import (
    Track,
    convert_wind_averaging,
    estimate_rmw_km,
    interpolate_hourly,
    read_cma_bst,
    read_cma_bst_all,
    read_csv,
    read_json,
    read_track,
)
from baoxian.radar.vulnerability import EmanuelCurve, TabulatedCurve, VulnerabilitySet
from baoxian.radar.wind import (
    Profile,
    WindConfig,
    max_wind,
    max_wind_by_time,
    storm_nodes,
    wind_field,
)

__all__ = [
    "CMA_WARNING_THRESHOLDS",
    "Categories",
    "EmanuelCurve",
    "EventAssessment",
    "Exposure",
    "Metric",
    "Physics",
    "Profile",
    "RatioDeductible",
    "SiteLosses",
    "TabulatedCurve",
    "Track",
    "VulnerabilitySet",
    "WarningLevel",
    "WarningThresholds",
    "WindConfig",
    "all_totals",
    "assess_event",
    "convert_wind_averaging",
    "deductible_fen",
    "equirect_km",
    "estimate_rmw_km",
    "generate_exposure",
    "ground_up_fen",
    "haversine_km",
    "insured_fen",
    "interpolate_hourly",
    "max_wind",
    "max_wind_by_time",
    "read_cma_bst",
    "read_cma_bst_all",
    "read_csv",
    "read_json",
    "read_track",
    "site_losses",
    "storm_nodes",
    "totals",
    "warning_levels",
    "wind_field",
]
