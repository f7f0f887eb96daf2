"""Reading best tracks, hourly interpolation, radius of maximum wind, averaging periods."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from baoxian.radar.tracks import (
    Track,
    convert_wind_averaging,
    estimate_rmw_km,
    interpolate_hourly,
    one_minute_wind,
    read_cma_bst,
    read_cma_bst_all,
    read_csv,
    read_json,
    read_track,
    wind_ratio_to_10min,
)
from baoxian.shared.errors import DomainError
from tests.radar.conftest import DATA, TYPHOONS

# rows per file, from the shared data README
CMA_FILES = {
    "2014_rammasun.csv": 40,
    "2017_hato.csv": 26,
    "2018_mangkhut.csv": 52,
    "2019_lekima.csv": 62,
    "2021_infa.csv": 81,
    "2022_muifa.csv": 57,
}
HEADER = "time_utc,lat,lon,pressure_hpa,vmax_ms,wind_avg_period_min,rmw_km,source\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def track(
    hours: list[float], lat: list[float], lon: list[float], pressure: list[float] | None = None
) -> Track:
    start = datetime(2026, 8, 1, tzinfo=UTC)
    return Track.of(
        storm_id="T",
        name="TEST",
        times=[start + timedelta(hours=h) for h in hours],
        lat=lat,
        lon=lon,
        pressure_hpa=pressure or [980.0] * len(hours),
        vmax_ms=[30.0] * len(hours),
        wind_avg_period_min=2,
    )


# --------------------------------------------------------------------------- readers


@pytest.mark.parametrize(("name", "rows"), sorted(CMA_FILES.items()))
def test_every_cma_csv_fixture_parses(name: str, rows: int) -> None:
    parsed = read_csv(TYPHOONS / name)
    assert parsed.size == rows
    assert parsed.wind_avg_period_min == 2
    assert bool(np.all(np.diff(parsed.seconds()) > 0))
    assert not np.isnan(parsed.pressure_hpa).any()
    assert np.isnan(parsed.rmw_km).all()
    assert parsed.name.upper().replace("-", "") in name.upper().replace("_", "")


def test_agency_periods_and_missing_values() -> None:
    jtwc = read_csv(TYPHOONS / "jtwc" / "2018_mangkhut.csv")
    jma = read_csv(TYPHOONS / "jma" / "2018_mangkhut.csv")
    assert (jtwc.wind_avg_period_min, jma.wind_avg_period_min) == (1, 10)
    assert (jtwc.size, jma.size) == (44, 46)
    assert float(jtwc.rmw_km[0]) == 64.82
    assert np.isnan(jma.vmax_ms).any()  # JMA gives no wind for its depression fixes


def test_cma_text_fixture_equals_the_csv(mangkhut: Track) -> None:
    from_csv = read_csv(TYPHOONS / "2018_mangkhut.csv")
    assert mangkhut.same_fixes(from_csv)
    assert (mangkhut.storm_id, mangkhut.name) == (from_csv.storm_id, from_csv.name)
    assert (mangkhut.storm_id, mangkhut.name) == ("1822", "MANGKHUT")


def test_real_cma_file_excerpt_equals_the_lekima_csv() -> None:
    lekima = read_cma_bst(DATA / "CH2019BST_excerpt.txt", "LEKIMA")
    assert lekima.same_fixes(read_csv(TYPHOONS / "2019_lekima.csv"))


def test_cma_file_selects_a_storm_by_number_or_name() -> None:
    path = DATA / "CH2019BST_excerpt.txt"
    by_number = read_cma_bst(path, "1908")
    by_name = read_cma_bst(path, "francisco")
    assert by_number.same_fixes(by_name)
    assert (by_number.name, by_number.size) == ("FRANCISCO", 34)
    assert by_number.times[0] == np.datetime64("2019-08-01T06:00:00")
    assert (float(by_number.lat[0]), float(by_number.lon[0])) == (18.1, 154.8)
    assert [t.name for t in read_cma_bst_all(path)] == ["WIPHA", "FRANCISCO", "LEKIMA"]


def test_cma_file_with_several_storms_needs_a_choice() -> None:
    with pytest.raises(DomainError) as raised:
        read_cma_bst(DATA / "CH2019BST_excerpt.txt")
    assert raised.value.code == "radar.track_ambiguous"
    with pytest.raises(DomainError) as missing:
        read_cma_bst(DATA / "CH2019BST_excerpt.txt", "HAGIBIS")
    assert missing.value.code == "radar.track_not_found"


def test_json_form_equals_the_csv_form(tmp_path: Path, mangkhut: Track) -> None:
    fixes = [
        {
            "time_utc": str(t) + "Z",
            "lat": float(la),
            "lon": str(lo),  # numbers may be strings
            "pressure_hpa": float(p),
            "vmax_ms": float(v),
            "wind_avg_period_min": 2,
            "rmw_km": None,
        }
        for t, la, lo, p, v in zip(
            mangkhut.times,
            mangkhut.lat,
            mangkhut.lon,
            mangkhut.pressure_hpa,
            mangkhut.vmax_ms,
            strict=True,
        )
    ]
    as_list = write(tmp_path, "m.json", json.dumps(fixes))
    as_object = write(
        tmp_path, "o.json", json.dumps({"storm_id": "1822", "name": "MANGKHUT", "fixes": fixes})
    )
    assert read_json(as_list).same_fixes(mangkhut)
    assert read_track(as_object).same_fixes(mangkhut)
    assert read_track(as_object).name == "MANGKHUT"


def test_csv_round_trip_of_the_cma_fixture(tmp_path: Path, mangkhut: Track) -> None:
    lines = [HEADER]
    for t, la, lo, p, v in zip(
        mangkhut.times,
        mangkhut.lat,
        mangkhut.lon,
        mangkhut.pressure_hpa,
        mangkhut.vmax_ms,
        strict=True,
    ):
        lines.append(f"{t}Z,{la},{lo},{p:g},{v:g},2,,CMA (MANGKHUT 1822; x)\n")
    parsed = read_csv(write(tmp_path, "m.csv", "".join(lines)))
    assert parsed.same_fixes(mangkhut)
    assert (parsed.storm_id, parsed.name) == ("1822", "MANGKHUT")


# --------------------------------------------------------------------------- bad input


def bad_csv(tmp_path: Path, second_row: str) -> DomainError:
    text = HEADER + "2026-08-01T00:00:00Z,20.0,120.0,980,30,2,,x\n" + second_row + "\n"
    with pytest.raises(DomainError) as raised:
        read_csv(write(tmp_path, "bad.csv", text))
    return raised.value


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("2026-08-01T06:00:00Z,91.5,120.0,980,30,2,,x", "lat"),
        ("2026-08-01T06:00:00Z,20.5,east,980,30,2,,x", "lon"),
        ("2026-08-01T06:00:00Z,20.5,120.0,,30,2,,x", None),  # missing pressure is allowed
        ("2026-08-01T06:00:00Z,20.5,120.0,1500,30,2,,x", "pressure_hpa"),
        ("2026-08-01T06:00:00Z,20.5,120.0,980,-3,2,,x", "vmax_ms"),
        ("2026-08-01T06:00:00,20.5,120.0,980,30,2,,x", "time_utc"),  # no time zone
        ("yesterday,20.5,120.0,980,30,2,,x", "time_utc"),
        ("2026-08-01T00:00:00Z,20.5,120.0,980,30,2,,x", "time_utc"),  # not later
        ("2026-08-01T06:00:00Z,20.5,120.0,980,30,2.5,,x", "wind_avg_period_min"),
    ],
)
def test_a_bad_csv_value_names_file_line_and_field(
    tmp_path: Path, row: str, field: str | None
) -> None:
    if field is None:
        text = HEADER + "2026-08-01T00:00:00Z,20.0,120.0,980,30,2,,x\n" + row + "\n"
        assert np.isnan(read_csv(write(tmp_path, "ok.csv", text)).pressure_hpa[1])
        return
    error = bad_csv(tmp_path, row)
    assert error.code == "radar.track_bad_value"
    assert error.details == {"file": str(tmp_path / "bad.csv"), "line": 3, "field": field}
    assert "bad.csv" in error.zh and "第 3 行" in error.zh and field in error.zh
    assert "line 3" in error.en and field in error.en


def test_mixed_averaging_periods_are_refused(tmp_path: Path) -> None:
    error = bad_csv(tmp_path, "2026-08-01T06:00:00Z,20.5,120.0,980,30,10,,x")
    assert error.code == "radar.track_mixed_averaging"


def test_missing_column_and_ragged_row(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as raised:
        read_csv(write(tmp_path, "c.csv", "time_utc,lat,lon\n2026-08-01T00:00:00Z,20,120\n"))
    assert raised.value.code == "radar.track_missing_column"
    assert raised.value.details["field"] == "pressure_hpa"
    error = bad_csv(tmp_path, "2026-08-01T06:00:00Z,20.5,120.0")
    assert (error.code, error.details["line"]) == ("radar.track_bad_row", 3)


def test_missing_file_is_a_coded_error(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as raised:
        read_csv(tmp_path / "nowhere.csv")
    assert raised.value.code == "radar.track_file_unreadable"


def test_bad_cma_line_names_its_line(tmp_path: Path) -> None:
    good = (DATA / "CH2018BST_mangkhut.txt").read_text().splitlines()
    broken = [*good[:5], good[5].replace(" 1624 ", " 16x4 "), *good[6:]]
    assert broken[5] != good[5]
    with pytest.raises(DomainError) as raised:
        read_cma_bst(write(tmp_path, "CH.txt", "\n".join(broken)))
    assert raised.value.code == "radar.track_bad_value"
    assert raised.value.details == {"file": str(tmp_path / "CH.txt"), "line": 6, "field": "LON"}


def test_cma_record_count_must_match_its_header(tmp_path: Path) -> None:
    lines = (DATA / "CH2018BST_mangkhut.txt").read_text().splitlines()
    with pytest.raises(DomainError) as raised:
        read_cma_bst(write(tmp_path, "CH.txt", "\n".join(lines[:-1])))
    assert raised.value.code == "radar.track_record_count"
    assert raised.value.details["line"] == 1


def test_cma_data_before_any_header(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as raised:
        read_cma_bst(write(tmp_path, "CH.txt", "2018090700 1 121 1678 1002      13\n"))
    assert (raised.value.code, raised.value.details["line"]) == ("radar.track_bad_header", 1)


def test_bad_json(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as syntax:
        read_json(write(tmp_path, "a.json", '[\n{"time_utc": }\n]'))
    assert (syntax.value.code, syntax.value.details["line"]) == ("radar.track_bad_json", 2)
    fixes = [
        {
            "time_utc": "2026-08-01T00:00:00Z",
            "lat": 20,
            "lon": 120,
            "pressure_hpa": 980,
            "vmax_ms": 30,
            "wind_avg_period_min": 2,
        },
        {
            "time_utc": "2026-08-01T06:00:00Z",
            "lat": 20,
            "lon": 120,
            "pressure_hpa": "low",
            "vmax_ms": 30,
            "wind_avg_period_min": 2,
        },
    ]
    with pytest.raises(DomainError) as field:
        read_json(write(tmp_path, "b.json", json.dumps(fixes)))
    assert field.value.details["line"] == "fixes[1]"
    assert field.value.details["field"] == "pressure_hpa"


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as raised:
        read_track(tmp_path / "track.xml")
    assert raised.value.code == "radar.track_unknown_format"


# --------------------------------------------------------------------------- interpolation


def test_hourly_mangkhut(mangkhut: Track) -> None:
    hourly = interpolate_hourly(mangkhut)
    # 2018-09-07T00 to 2018-09-17T12: 10 days 12 hours
    assert hourly.size == 10 * 24 + 12 + 1
    assert bool(np.all(np.diff(hourly.seconds()) == 3600))
    assert hourly.times[0] == mangkhut.times[0] and hourly.times[-1] == mangkhut.times[-1]
    at_fixes = np.searchsorted(hourly.seconds(), mangkhut.seconds())
    for column in ("lat", "lon", "pressure_hpa", "vmax_ms"):
        assert np.array_equal(getattr(hourly, column)[at_fixes], getattr(mangkhut, column))
    assert hourly.wind_avg_period_min == 2


def test_linear_between_fixes() -> None:
    hourly = interpolate_hourly(track([0, 6], [20.0, 21.2], [120.0, 118.8], [960.0, 972.0]))
    assert hourly.size == 7
    assert np.allclose(hourly.lat, 20.0 + 0.2 * np.arange(7), rtol=0, atol=1e-12)
    assert np.allclose(hourly.lon, 120.0 - 0.2 * np.arange(7), rtol=0, atol=1e-12)
    assert np.allclose(hourly.pressure_hpa, 960.0 + 2.0 * np.arange(7), rtol=0, atol=1e-12)


def test_off_hour_fixes_give_whole_hours_inside() -> None:
    hourly = interpolate_hourly(track([0.5, 3.5], [20.0, 20.3], [120.0, 120.0]))
    assert hourly.size == 3  # 01:00, 02:00, 03:00
    assert np.allclose(hourly.lat, [20.05, 20.15, 20.25], rtol=0, atol=1e-12)


def test_longitudes_unwrap_across_the_antimeridian() -> None:
    hourly = interpolate_hourly(track([0, 2, 4], [10.0, 10.2, 10.4], [179.0, -179.0, -177.0]))
    assert np.allclose(hourly.lon, [179.0, 180.0, -179.0, -178.0, -177.0], rtol=0, atol=1e-9)
    cubic = interpolate_hourly(
        track([0, 2, 4, 6], [10.0, 10.2, 10.4, 10.6], [179.0, -179.0, -177.0, -175.0]),
        positions="cubic",
    )
    assert np.allclose(cubic.lon[:3], [179.0, 180.0, -179.0], rtol=0, atol=1e-9)


def test_cubic_positions_reproduce_a_cubic_path() -> None:
    hours = [0.0, 3.0, 6.0, 12.0, 18.0]
    path = [15.0 + 0.1 * h - 0.004 * h**2 + 0.0002 * h**3 for h in hours]
    hourly = interpolate_hourly(track(hours, path, [130.0] * 5), positions="cubic")
    h = np.arange(19.0)
    assert np.allclose(hourly.lat, 15.0 + 0.1 * h - 0.004 * h**2 + 0.0002 * h**3, atol=1e-10)


def test_a_single_fix_cannot_be_interpolated() -> None:
    with pytest.raises(DomainError) as raised:
        interpolate_hourly(track([0], [20.0], [120.0]))
    assert raised.value.code == "radar.track_too_short"


# --------------------------------------------------------------------------- RMW, averaging


def test_rmw_estimate_follows_the_pressure_fit() -> None:
    pressure = np.array([850.0, 872.0, 940.0, 960.0, 1000.0, 1030.0, np.nan])
    expected_nmi = [
        14.907318,
        14.907318,
        15.726927,
        15.726927 + (25.742142 - 15.726927) * 20 / 40,
        25.742142 + (56.856522 - 25.742142) * 20 / 41,
        56.856522,
    ]
    got = estimate_rmw_km(pressure)
    assert np.allclose(got[:-1], np.array(expected_nmi) * 1.852, rtol=0, atol=1e-9)
    assert math.isnan(got[-1])


def test_wind_averaging_conversion() -> None:
    wind = np.array([40.0, 50.0])
    assert np.allclose(convert_wind_averaging(wind, 1, 10), wind * 0.93, rtol=0, atol=1e-12)
    assert np.allclose(convert_wind_averaging(wind, 10, 1), wind / 0.93, rtol=0, atol=1e-12)
    assert np.array_equal(convert_wind_averaging(wind, 2, 2), wind)
    gust_2min = 1 + (1 / 0.93 - 1) * math.log10(5)
    assert wind_ratio_to_10min(2) == pytest.approx(gust_2min, abs=1e-12)
    two_to_one = convert_wind_averaging(wind, 2, 1)
    assert np.allclose(two_to_one, wind * (1 / 0.93) / gust_2min, rtol=0, atol=1e-12)
    assert bool(np.all((wind < two_to_one) & (two_to_one < wind / 0.93)))
    back = convert_wind_averaging(convert_wind_averaging(wind, 2, 10), 10, 2)
    assert np.allclose(back, wind, rtol=0, atol=1e-12)


def test_one_minute_wind_of_a_cma_track(mangkhut: Track) -> None:
    two_to_one = (1 / 0.93) / (1 + (1 / 0.93 - 1) * math.log10(5))
    assert np.allclose(one_minute_wind(mangkhut), mangkhut.vmax_ms * two_to_one, rtol=1e-12)


@pytest.mark.parametrize("period", [0, 0.5, 11, 60])
def test_unsupported_averaging_period(period: float) -> None:
    with pytest.raises(DomainError) as raised:
        wind_ratio_to_10min(period)
    assert raised.value.code == "radar.averaging_period"


def test_csv_module_dialect_is_plain(tmp_path: Path) -> None:
    """Quoted cells (as spreadsheets write them) read the same."""
    path = tmp_path / "q.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(HEADER.strip().split(","))
        writer.writerow(["2026-08-01T00:00:00Z", "20.0", "120.0", "980", "30", "2", "", "x"])
        writer.writerow(["2026-08-01T06:00:00Z", "20.5", "119.5", "975", "33", "2", "", "x"])
    assert read_csv(path).size == 2


def test_track_needs_aware_times_and_equal_columns() -> None:
    with pytest.raises(DomainError) as naive:
        Track.of(
            storm_id="N",
            name="NAIVE",
            times=[datetime(2026, 8, 1)],
            lat=[20.0],
            lon=[120.0],
            pressure_hpa=[980.0],
            vmax_ms=[30.0],
            wind_avg_period_min=2,
        )
    assert naive.value.code == "radar.naive_time"
    with pytest.raises(DomainError) as shape:
        Track.of(
            storm_id="S",
            name="SHAPE",
            times=[datetime(2026, 8, 1, tzinfo=UTC)],
            lat=[20.0, 21.0],
            lon=[120.0],
            pressure_hpa=[980.0],
            vmax_ms=[30.0],
            wind_avg_period_min=2,
        )
    assert shape.value.code == "radar.track_shape"
