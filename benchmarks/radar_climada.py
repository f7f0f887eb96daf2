"""CLIMADA on the same storm and sites as ``benchmarks/radar.py`` — a benchmark peer only.

CLIMADA (https://github.com/CLIMADA-project/climada_python) is GPL-3.0: it is never a
dependency of Baoxian and nothing in ``src/`` or ``tests/`` imports it. Run this file with its
own virtualenv::

    python3 -m venv /tmp/climada-venv && /tmp/climada-venv/bin/pip install climada
    .venv/bin/python benchmarks/radar.py --export-points /tmp/points.npz --points 1000000
    /tmp/climada-venv/bin/python benchmarks/radar_climada.py --points 1000000 \\
        --points-file /tmp/points.npz --out /tmp/climada.npz
    .venv/bin/python benchmarks/radar.py --compare /tmp/climada.npz --points-file /tmp/points.npz

The timed part is what CLIMADA needs for one event: the track to hourly steps
(``TCTracks.equal_timestep``), the wind field (``TropCyclone.from_tracks``: H08,
equirectangular distance, 300 km, exposure points as centroids, no distance-to-coast filter)
and the insured impact (``ImpactCalc`` with the Emanuel (2011) curve and per-site
``deductible`` and ``cover`` — without both columns CLIMADA returns negative losses).
The output ``.npz`` holds the wind and the insured loss per point, the seconds and memory.
"""

from __future__ import annotations

import argparse
import importlib
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

KNOT_MS = 1852.0 / 3600.0
NMI_KM = 1.852


def _reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of resident memory (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_mib() -> float:
    """Peak resident memory (MiB) since the last reset, else over the process's life."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def climada_track(points: Any) -> Any:
    """The exported track as a CLIMADA track dataset (units: knots, hPa, n mi)."""
    xr = importlib.import_module("xarray")
    seconds = points["track_seconds"]
    times = seconds.astype("datetime64[s]").astype("datetime64[ns]")
    step_h = np.diff(seconds, prepend=seconds[0] - (seconds[1] - seconds[0])) / 3600.0
    n = seconds.shape[0]
    rmw_km = points["track_rmw_km"]
    return xr.Dataset(
        {
            "time_step": ("time", step_h.astype(np.float64)),
            "radius_max_wind": ("time", rmw_km / NMI_KM),
            "radius_oci": ("time", np.zeros(n)),
            "max_sustained_wind": ("time", points["track_vmax_ms"] / KNOT_MS),
            "central_pressure": ("time", points["track_pressure_hpa"]),
            "environmental_pressure": ("time", points["track_env_hpa"]),
            "basin": ("time", np.full(n, "WP", dtype="<U2")),
        },
        coords={
            "time": ("time", times),
            "lat": ("time", points["track_lat"]),
            "lon": ("time", points["track_lon"]),
        },
        attrs={
            "max_sustained_wind_unit": "kn",
            "central_pressure_unit": "mb",
            "name": str(points["track_name"]),
            "sid": str(points["track_id"]),
            "orig_event_flag": True,
            "data_provider": "CMA",
            "id_no": 1,
            "category": 5,
        },
    )


def run(points_file: Path, count: int | None) -> dict[str, Any]:
    """CLIMADA's wind and insured loss at the exported points, timed."""
    hazard = importlib.import_module("climada.hazard")
    entity = importlib.import_module("climada.entity")
    engine = importlib.import_module("climada.engine")
    metadata = importlib.import_module("importlib.metadata")
    with np.load(points_file) as data:
        points = {k: data[k] for k in data.files}
    n = points["lat"].shape[0] if count is None else count
    if n > points["lat"].shape[0]:
        sys.exit(f"{points_file} holds only {points['lat'].shape[0]} points")
    lat, lon = points["lat"][:n], points["lon"][:n]
    track = climada_track(points)
    reset = _reset_peak_rss()
    began = time.perf_counter()
    tracks = hazard.TCTracks([track])
    tracks.equal_timestep(time_step_h=1)
    centroids = hazard.Centroids(lat=lat, lon=lon)
    storm = hazard.TropCyclone.from_tracks(
        tracks,
        centroids=centroids,
        model="H08",
        ignore_distance_to_coast=True,
        metric="equirect",
        max_dist_eye_km=300,
    )
    wind_done = time.perf_counter()
    exposures = entity.Exposures(
        data={
            "value": points["value_cny"][:n],
            "deductible": points["deductible_cny"][:n],
            "cover": points["cover_cny"][:n],
            "impf_TC": np.ones(n, dtype=np.int64),
            "centr_TC": np.arange(n),
        },
        lat=lat,
        lon=lon,
    )
    functions = entity.ImpactFuncSet([entity.ImpfTropCyclone.from_emanuel_usa()])
    impact = engine.ImpactCalc(exposures, functions, storm).impact(
        save_mat=True, assign_centroids=False
    )
    seconds = time.perf_counter() - began
    return {
        "wind": np.asarray(storm.intensity.toarray()).ravel(),
        "loss": np.asarray(impact.imp_mat.toarray()).ravel(),
        "seconds": seconds,
        "wind_seconds": wind_done - began,
        "peak_rss_mib": _peak_rss_mib(),
        "peak_is_since_reset": reset,
        "process_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "climada_version": str(metadata.version("climada")),
        "points": n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="CLIMADA on the radar benchmark's sites.")
    parser.add_argument("--points", type=int, default=None, help="use the first N points")
    parser.add_argument("--points-file", type=Path, default=Path("/tmp/points.npz"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/climada.npz"))
    args = parser.parse_args()
    result = run(args.points_file, args.points)
    np.savez_compressed(args.out, **result)
    print(
        f"CLIMADA {result['climada_version']}: {result['points']:,} points in "
        f"{result['seconds']:.2f} s (wind {result['wind_seconds']:.2f} s), peak RSS "
        f"{result['peak_rss_mib']:.0f} MiB during the run "
        f"({result['process_peak_rss_mib']:.0f} MiB for the process) → {args.out}"
    )


if __name__ == "__main__":
    main()
