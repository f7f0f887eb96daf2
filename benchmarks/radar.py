"""Benchmarks of the risk radar (风险雷达): one typhoon against N insured sites, end to end.

Timed per size: the track to hourly steps, every site's maximum wind, the damage ratio by
construction class, ground-up and insured loss with each site's deductible and limit (whole
fen), and the totals per policy, product, city and province. Generating the sites is not
timed. Each (size, layout) runs in its own process, so its peak memory is its own. Targets
(issue #7): 10^6 sites ≤ 2.5 s and ≤ 1 GiB, 10^7 sites ≤ 30 s; reference: CLIMADA ≈ 24 s and
3.8 GiB for 10^6 points on the same machine::

    .venv/bin/python benchmarks/radar.py --sizes 10000,100000,1000000,10000000 --layout both

Same-physics comparison with CLIMADA (its own virtualenv; see benchmarks/radar_climada.py)::

    .venv/bin/python benchmarks/radar.py --export-points /tmp/points.npz --points 1000000
    /tmp/climada-venv/bin/python benchmarks/radar_climada.py --points 1000000 \\
        --points-file /tmp/points.npz --out /tmp/climada.npz
    .venv/bin/python benchmarks/radar.py --compare /tmp/climada.npz --points-file /tmp/points.npz
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from baoxian.radar.assessment import Physics
from baoxian.radar.exposure import Categories, Exposure, Layout, generate_exposure
from baoxian.radar.loss import all_totals, site_losses
from baoxian.radar.tracks import Track, interpolate_hourly, read_track
from baoxian.radar.wind import max_wind

DESCRIPTION = "Risk radar benchmark: one typhoon against N insured sites, end to end."
DEFAULT_TRACK = Path(__file__).resolve().parent.parent / "data" / "typhoons" / "2018_mangkhut.csv"
DEFAULT_SIZES = "10000,100000,1000000,10000000"
TARGETS = {1_000_000: (2.5, 1024.0), 10_000_000: (30.0, None)}  # seconds, MiB
CLIMADA_REFERENCE = {1_000_000: (24.0, 3.8 * 1024)}  # seconds, MiB (issue #7)


# --------------------------------------------------------------------------- memory


def reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of resident memory (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status_mib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def peak_rss_mib() -> float:
    """Peak resident memory (MiB) since the last reset, else over the process's life."""
    peak = _status_mib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- one run


def physics_named(name: str) -> Physics:
    return Physics.climada() if name == "climada" else Physics.native()


def run_one(
    size: int, layout: Layout, track_path: Path, physics_name: str, seed: int
) -> dict[str, Any]:
    """Generate the sites (not timed), then time the whole assessment."""
    track = read_track(track_path)
    physics = physics_named(physics_name)
    exposure = generate_exposure(size, seed=seed, layout=layout)
    gc.collect()
    baseline = _status_mib("VmRSS") or 0.0
    reset = reset_peak_rss()
    began = time.perf_counter()
    hourly = interpolate_hourly(track, positions=physics.interpolation)
    wind = max_wind(hourly, exposure.lat, exposure.lon, physics.wind)
    wind_done = time.perf_counter()
    losses = site_losses(exposure, wind, physics.vulnerability)
    loss_done = time.perf_counter()
    totals = all_totals(exposure, losses)
    seconds = time.perf_counter() - began
    peak = peak_rss_mib()
    result: dict[str, Any] = {
        "sites": size,
        "layout": layout,
        "physics": physics_name,
        "track": track_path.name,
        "hourly_nodes": hourly.size,
        "seconds": round(seconds, 3),
        "wind_s": round(wind_done - began, 3),
        "loss_s": round(loss_done - wind_done, 3),
        "totals_s": round(seconds - (loss_done - began), 3),
        "sites_per_s": round(size / seconds),
        "peak_rss_mib": round(peak),
        "peak_is_during_run": reset,
        "rss_before_mib": round(baseline),
        "process_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "sites_with_wind": int(np.count_nonzero(wind)),
        "max_wind_ms": round(float(wind.max(initial=0.0)), 2),
        "insured_cny": str(losses.insured_total.amount),
        "policies_hit": int((totals["policy"]["insured_fen"] > 0).sum()),
    }
    target = TARGETS.get(size)
    if target:
        result["target_seconds"] = target[0]
        result["meets_time_target"] = seconds <= target[0]
        if target[1] is not None:
            result["target_mib"] = target[1]
            result["meets_memory_target"] = peak <= target[1]
    reference = CLIMADA_REFERENCE.get(size)
    if reference:
        result["speedup_vs_climada"] = round(reference[0] / seconds, 1)
        result["memory_ratio_vs_climada"] = round(reference[1] / peak, 1)
    return result


def print_line(result: dict[str, Any]) -> None:
    extra = ""
    if "speedup_vs_climada" in result:
        extra = (
            f"  vs CLIMADA ≈24 s / 3.8 GiB: ×{result['speedup_vs_climada']} faster, "
            f"×{result['memory_ratio_vs_climada']} less memory"
        )
    if "meets_time_target" in result:
        ok = result["meets_time_target"] and result.get("meets_memory_target", True)
        extra += "  target " + ("met" if ok else "MISSED")
    print(
        f"{result['sites']:>11,} {result['layout']:<9} {result['physics']:<7} "
        f"{result['seconds']:>7.2f} s (wind {result['wind_s']:.2f}, loss {result['loss_s']:.2f}, "
        f"totals {result['totals_s']:.2f})  {result['sites_per_s']:>12,} sites/s  "
        f"peak RSS {result['peak_rss_mib']:,} MiB (sites alone {result['rss_before_mib']:,})"
        f"{extra}",
        flush=True,
    )


# --------------------------------------------------------------------------- CLIMADA


def export_points(path: Path, count: int, layout: Layout, track_path: Path, seed: int) -> None:
    """The sites and the raw track for ``radar_climada.py`` (money in CNY and in fen)."""
    exposure = generate_exposure(count, seed=seed, layout=layout)
    track = read_track(track_path)
    np.savez(
        path,
        lat=exposure.lat,
        lon=exposure.lon,
        value_fen=exposure.value_fen,
        deductible_fen=exposure.deductible_fen,
        limit_fen=exposure.limit_fen,
        value_cny=exposure.value_fen / 100.0,
        deductible_cny=exposure.deductible_fen / 100.0,
        cover_cny=exposure.limit_fen / 100.0,
        track_seconds=track.seconds(),
        track_lat=track.lat,
        track_lon=track.lon,
        track_pressure_hpa=track.pressure_hpa,
        track_vmax_ms=track.vmax_ms,
        track_env_hpa=track.env_pressure_hpa,
        track_rmw_km=track.rmw_km,
        track_period_min=np.array(track.wind_avg_period_min),
        track_name=np.array(track.name),
        track_id=np.array(track.storm_id),
    )
    print(f"wrote {count:,} {layout} sites and track {track.name} ({track.size} fixes) → {path}")


def points_exposure(points: dict[str, Any], n: int) -> Exposure:
    """The exported sites as an exposure (one product, class and place: CLIMADA has none)."""
    one = Categories(np.zeros(n, np.int32), ("-",))
    return Exposure(
        site_id=np.arange(n, dtype=np.int64),
        policy=one,
        product=one,
        lat=points["lat"][:n],
        lon=points["lon"][:n],
        value_fen=points["value_fen"][:n],
        construction=one,
        occupancy=one,
        deductible_fen=points["deductible_fen"][:n],
        limit_fen=points["limit_fen"][:n],
        city=one,
        province=one,
    )


def points_track(points: dict[str, Any]) -> Track:
    return Track.of(
        storm_id=str(points["track_id"]),
        name=str(points["track_name"]),
        times=points["track_seconds"].astype("datetime64[s]"),
        lat=points["track_lat"],
        lon=points["track_lon"],
        pressure_hpa=points["track_pressure_hpa"],
        vmax_ms=points["track_vmax_ms"],
        wind_avg_period_min=int(points["track_period_min"]),
        rmw_km=points["track_rmw_km"],
        env_pressure_hpa=points["track_env_hpa"],
    )


def compare(climada_file: Path, points_file: Path) -> dict[str, Any]:
    """Our same-physics results against CLIMADA's, point by point."""
    with np.load(climada_file) as data:
        theirs = {k: data[k] for k in data.files}
    with np.load(points_file) as data:
        points = {k: data[k] for k in data.files}
    n = int(theirs["points"])
    exposure = points_exposure(points, n)
    track = points_track(points)
    physics = Physics.climada()
    gc.collect()
    reset_peak_rss()
    began = time.perf_counter()
    hourly = interpolate_hourly(track, positions=physics.interpolation)
    wind = max_wind(hourly, exposure.lat, exposure.lon, physics.wind)
    losses = site_losses(exposure, wind, physics.vulnerability)
    seconds = time.perf_counter() - began
    wind_diff = np.abs(wind - theirs["wind"])
    loss_diff = np.abs(losses.insured_fen / 100.0 - theirs["loss"])
    worst_wind, worst_loss = int(np.argmax(wind_diff)), int(np.argmax(loss_diff))
    return {
        "points": n,
        "climada_version": str(theirs["climada_version"]),
        "max_wind_diff_ms": float(wind_diff.max()),
        "wind_at_max_diff_ms": float(theirs["wind"][worst_wind]),
        "points_wind_diff_over_1e-6": int((wind_diff > 1e-6).sum()),
        "points_with_wind": int(np.count_nonzero(theirs["wind"])),
        "max_loss_diff_cny": float(loss_diff.max()),
        "loss_at_max_diff_cny": float(theirs["loss"][worst_loss]),
        "points_loss_diff_over_0.01": int((loss_diff > 0.01).sum()),
        "points_with_loss": int(np.count_nonzero(theirs["loss"])),
        "insured_total_ours_cny": str(losses.insured_total.amount),
        "insured_total_climada_cny": round(float(theirs["loss"].sum()), 2),
        "ours_seconds_wind_and_loss": round(seconds, 3),
        "ours_peak_rss_mib": round(peak_rss_mib()),
        "climada_seconds": round(float(theirs["seconds"]), 3),
        "climada_peak_rss_mib": round(float(theirs["peak_rss_mib"])),
        "climada_process_peak_rss_mib": round(float(theirs["process_peak_rss_mib"])),
        "speedup": round(float(theirs["seconds"]) / seconds, 1),
    }


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated site counts")
    parser.add_argument("--layout", choices=["uniform", "clustered", "both"], default="both")
    parser.add_argument("--track", type=Path, default=DEFAULT_TRACK)
    parser.add_argument("--physics", choices=["native", "climada"], default="native")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print JSON lines only")
    parser.add_argument("--export-points", type=Path, help="write sites + track for CLIMADA")
    parser.add_argument("--points", type=int, default=1_000_000, help="sites to export")
    parser.add_argument("--compare", type=Path, help="CLIMADA results (.npz) to compare with")
    parser.add_argument("--points-file", type=Path, default=Path("/tmp/points.npz"))
    parser.add_argument("--one", nargs=2, metavar=("SIZE", "LAYOUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    layout: Layout = "clustered" if args.layout == "clustered" else "uniform"
    if args.export_points:
        export_points(args.export_points, args.points, layout, args.track, args.seed)
        return
    if args.compare:
        print(json.dumps(compare(args.compare, args.points_file), ensure_ascii=False, indent=1))
        return
    if args.one:
        size, one_layout = int(args.one[0]), args.one[1]
        chosen: Layout = "clustered" if one_layout == "clustered" else "uniform"
        print(json.dumps(run_one(size, chosen, args.track, args.physics, args.seed)))
        return
    layouts = ("uniform", "clustered") if args.layout == "both" else (args.layout,)
    for size in (int(s) for s in args.sizes.split(",")):
        for each in layouts:
            command = [sys.executable, __file__, "--one", str(size), each]
            command += ["--track", str(args.track), "--physics", args.physics]
            command += ["--seed", str(args.seed)]
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            if args.json:
                print(json.dumps(result, ensure_ascii=False), flush=True)
            else:
                print_line(result)


if __name__ == "__main__":
    main()
