"""Typhoon best tracks (台风路径): the :class:`Track`, its readers, hourly interpolation, the
radius of maximum wind when a track has none, and wind averaging-period conversion.

A track is a storm's fixes in time order: UTC time, centre position, central pressure (hPa),
maximum sustained wind (m/s, with the agency's averaging period), the radius of maximum wind
(km, usually unknown) and the environmental pressure (hPa, 1010 unless given). Missing values
are NaN. Three file forms are read, and every problem is a :class:`ValidationFailed` whose code
is stable and whose message names the file, the line and the field:

* the project's CSV fixtures (``time_utc,lat,lon,pressure_hpa,vmax_ms,wind_avg_period_min,
  rmw_km,source``; an empty cell is a missing value);
* a JSON list of fixes with the same field names (or ``{"storm_id", "name", "fixes": [...]}``);
* the China Meteorological Administration best-track text files ``CHYYYYBST.txt``.

>>> from datetime import UTC, datetime
>>> track = Track.of(
...     storm_id="demo", name="DEMO",
...     times=[datetime(2026, 8, 1, 0, tzinfo=UTC), datetime(2026, 8, 1, 6, tzinfo=UTC)],
...     lat=[20.0, 20.6], lon=[120.0, 119.4], pressure_hpa=[960.0, 966.0],
...     vmax_ms=[40.0, 38.0], wind_avg_period_min=2)
>>> hourly = interpolate_hourly(track)
>>> hourly.size, float(hourly.lat[3]), float(hourly.pressure_hpa[3])
(7, 20.3, 963.0)
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from baoxian.radar._spline import not_a_knot_cubic
from baoxian.shared.errors import ValidationFailed

FloatArray = NDArray[np.float64]
TimeArray = NDArray[np.datetime64]

DEFAULT_ENV_PRESSURE_HPA = 1010.0
CSV_COLUMNS = (
    "time_utc",
    "lat",
    "lon",
    "pressure_hpa",
    "vmax_ms",
    "wind_avg_period_min",
    "rmw_km",
    "source",
)
_REQUIRED_CSV_COLUMNS = ("time_utc", "lat", "lon", "pressure_hpa", "vmax_ms")
_CMA_HEADER = "66666"
_CMA_PERIOD_MIN = 2
_SECONDS_PER_HOUR = 3600
Interpolation = Literal["linear", "cubic"]


# ---------------------------------------------------------------------------------------------
# The track
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Track:
    """One storm's fixes in strictly increasing UTC time (arrays of equal length).

    ``times`` is ``datetime64[s]`` in UTC; ``pressure_hpa``, ``vmax_ms`` and ``rmw_km`` hold NaN
    where the source has no value. ``vmax_ms`` is averaged over ``wind_avg_period_min`` minutes
    (CMA 2, JTWC 1, JMA 10); convert explicitly with :func:`convert_wind_averaging`.
    """

    storm_id: str
    name: str
    times: TimeArray
    lat: FloatArray
    lon: FloatArray
    pressure_hpa: FloatArray
    vmax_ms: FloatArray
    wind_avg_period_min: int
    rmw_km: FloatArray
    env_pressure_hpa: FloatArray
    source: str = ""

    def __post_init__(self) -> None:
        n = self.times.shape[0]
        arrays = (
            self.lat,
            self.lon,
            self.pressure_hpa,
            self.vmax_ms,
            self.rmw_km,
            self.env_pressure_hpa,
        )
        if n == 0 or any(a.shape != (n,) for a in arrays):
            raise ValidationFailed(
                "radar.track_shape",
                f"台风路径 {self.storm_id} 的各列长度不一致或为空",
                f"Track {self.storm_id}: columns are empty or of different lengths",
                storm_id=self.storm_id,
            )
        if n > 1 and not bool(np.all(np.diff(self.times.astype(np.int64)) > 0)):
            raise ValidationFailed(
                "radar.track_time_order",
                f"台风路径 {self.storm_id} 的时间未严格递增",
                f"Track {self.storm_id}: times are not strictly increasing",
                storm_id=self.storm_id,
            )

    @classmethod
    def of(
        cls,
        *,
        storm_id: str,
        name: str,
        times: Sequence[datetime] | TimeArray,
        lat: Iterable[float] | FloatArray,
        lon: Iterable[float] | FloatArray,
        pressure_hpa: Iterable[float] | FloatArray,
        vmax_ms: Iterable[float] | FloatArray,
        wind_avg_period_min: int,
        rmw_km: Iterable[float] | FloatArray | None = None,
        env_pressure_hpa: float | Iterable[float] | FloatArray = DEFAULT_ENV_PRESSURE_HPA,
        source: str = "",
    ) -> Track:
        """A track from plain sequences; aware datetimes are taken in UTC."""
        stamps = _to_datetime64(times)
        n = stamps.shape[0]
        env = (
            np.full(n, float(env_pressure_hpa))
            if isinstance(env_pressure_hpa, int | float)
            else _floats(env_pressure_hpa)
        )
        return cls(
            storm_id=storm_id,
            name=name,
            times=stamps,
            lat=_floats(lat),
            lon=_floats(lon),
            pressure_hpa=_floats(pressure_hpa),
            vmax_ms=_floats(vmax_ms),
            wind_avg_period_min=wind_avg_period_min,
            rmw_km=np.full(n, np.nan) if rmw_km is None else _floats(rmw_km),
            env_pressure_hpa=env,
            source=source,
        )

    @property
    def size(self) -> int:
        """The number of fixes."""
        return int(self.times.shape[0])

    def seconds(self) -> NDArray[np.int64]:
        """Fix times as seconds since the Unix epoch (UTC)."""
        return self.times.astype("datetime64[s]").astype(np.int64)

    def same_fixes(self, other: Track) -> bool:
        """Whether both tracks hold the same fixes (NaN equals NaN); names are not compared."""
        return (
            self.size == other.size
            and self.wind_avg_period_min == other.wind_avg_period_min
            and bool(np.array_equal(self.times, other.times))
            and all(
                np.array_equal(a, b, equal_nan=True)
                for a, b in zip(self._columns(), other._columns(), strict=True)
            )
        )

    def _columns(self) -> tuple[FloatArray, ...]:
        return (
            self.lat,
            self.lon,
            self.pressure_hpa,
            self.vmax_ms,
            self.rmw_km,
            self.env_pressure_hpa,
        )


def _floats(values: Iterable[float] | FloatArray) -> FloatArray:
    return np.array(list(values) if not isinstance(values, np.ndarray) else values, np.float64)


def _to_datetime64(times: Sequence[datetime] | TimeArray) -> TimeArray:
    if isinstance(times, np.ndarray):
        return times.astype("datetime64[s]")
    return np.array([_utc_naive(t) for t in times], dtype="datetime64[s]")


def _utc_naive(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValidationFailed(
            "radar.naive_time",
            "台风路径时间须带时区",
            "Track times must be timezone-aware",
        )
    return moment.astimezone(UTC).replace(tzinfo=None)


# ---------------------------------------------------------------------------------------------
# Errors that name file, line and field
# ---------------------------------------------------------------------------------------------


def _bad_value(path: Path, line: int | str, field: str, raw: str, zh: str, en: str) -> Exception:
    return ValidationFailed(
        "radar.track_bad_value",
        f"台风路径文件 {path} 第 {line} 行字段 {field} 的值“{raw}”无效：{zh}",
        f"Track file {path}, line {line}, field {field}: invalid value '{raw}' ({en})",
        file=str(path),
        line=line,
        field=field,
    )


def _open_error(path: Path, error: OSError) -> ValidationFailed:
    return ValidationFailed(
        "radar.track_file_unreadable",
        f"无法读取台风路径文件 {path}：{error.strerror or error}",
        f"Cannot read track file {path}: {error.strerror or error}",
        file=str(path),
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise _open_error(path, error) from error
    except UnicodeDecodeError as error:
        raise ValidationFailed(
            "radar.track_file_unreadable",
            f"台风路径文件 {path} 不是 UTF-8 文本",
            f"Track file {path} is not UTF-8 text",
            file=str(path),
        ) from error


@dataclass(frozen=True, slots=True)
class _Fix:
    """One parsed fix, before the columns are assembled."""

    time: datetime
    lat: float
    lon: float
    pressure_hpa: float
    vmax_ms: float
    period_min: int | None
    rmw_km: float
    env_hpa: float
    location: int | str


class _FieldReader:
    """Parses one record's fields, naming file, line and field in every error."""

    def __init__(self, path: Path, location: int | str) -> None:
        self.path = path
        self.location = location

    def time(self, field: str, raw: object) -> datetime:
        text = str(raw or "").strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as error:
            raise _bad_value(
                self.path, self.location, field, text, "不是 ISO 8601 时间", "not an ISO 8601 time"
            ) from error
        if moment.tzinfo is None:
            raise _bad_value(
                self.path,
                self.location,
                field,
                text,
                "时间须带时区（如 Z）",
                "the time needs a time zone such as Z",
            )
        return _utc_naive(moment)

    def number(
        self, field: str, raw: object, *, low: float, high: float, required: bool = False
    ) -> float:
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if required:
                raise _bad_value(self.path, self.location, field, "", "不能为空", "required")
            return math.nan
        text = str(raw).strip()
        try:
            value = float(text)
        except ValueError as error:
            raise _bad_value(
                self.path, self.location, field, text, "不是数字", "not a number"
            ) from error
        if not (low <= value <= high):  # also refuses NaN and infinities
            raise _bad_value(
                self.path,
                self.location,
                field,
                text,
                f"应在 {low:g} 至 {high:g} 之间",
                f"must lie between {low:g} and {high:g}",
            )
        return value

    def period(self, field: str, raw: object) -> int | None:
        value = self.number(field, raw, low=1, high=60)
        if math.isnan(value):
            return None
        if value != int(value):
            raise _bad_value(
                self.path, self.location, field, str(raw), "应为整数分钟", "whole minutes"
            )
        return int(value)


def _fix_from_mapping(path: Path, location: int | str, row: Mapping[str, Any]) -> _Fix:
    fields = _FieldReader(path, location)
    return _Fix(
        time=fields.time("time_utc", row.get("time_utc")),
        lat=fields.number("lat", row.get("lat"), low=-90, high=90, required=True),
        lon=fields.number("lon", row.get("lon"), low=-180, high=360, required=True),
        pressure_hpa=fields.number("pressure_hpa", row.get("pressure_hpa"), low=800, high=1100),
        vmax_ms=fields.number("vmax_ms", row.get("vmax_ms"), low=0, high=120),
        period_min=fields.period("wind_avg_period_min", row.get("wind_avg_period_min")),
        rmw_km=fields.number("rmw_km", row.get("rmw_km"), low=0, high=1000),
        env_hpa=_env_pressure(fields, row.get("env_pressure_hpa")),
        location=location,
    )


def _env_pressure(fields: _FieldReader, raw: object) -> float:
    value = fields.number("env_pressure_hpa", raw, low=900, high=1100)
    return DEFAULT_ENV_PRESSURE_HPA if math.isnan(value) else value


def _assemble(
    path: Path,
    fixes: Sequence[_Fix],
    *,
    storm_id: str,
    name: str,
    source: str,
    default_period: int | None = None,
) -> Track:
    if not fixes:
        raise ValidationFailed(
            "radar.track_empty",
            f"台风路径文件 {path} 中没有定位记录",
            f"Track file {path} holds no fixes",
            file=str(path),
        )
    periods = {f.period_min for f in fixes if f.period_min is not None}
    if len(periods) > 1:
        raise ValidationFailed(
            "radar.track_mixed_averaging",
            f"台风路径文件 {path} 混用了多个风速平均时距：{sorted(periods)} 分钟",
            f"Track file {path} mixes wind averaging periods: {sorted(periods)} minutes",
            file=str(path),
        )
    period = next(iter(periods), default_period)
    if period is None:
        raise ValidationFailed(
            "radar.track_no_averaging",
            f"台风路径文件 {path} 未给出风速平均时距（wind_avg_period_min）",
            f"Track file {path} does not give the wind averaging period (wind_avg_period_min)",
            file=str(path),
        )
    for earlier, later in pairwise(fixes):
        if later.time <= earlier.time:
            raise _bad_value(
                path,
                later.location,
                "time_utc",
                later.time.isoformat() + "Z",
                "时间须晚于上一条记录",
                "must be later than the previous fix",
            )
    return Track(
        storm_id=storm_id,
        name=name,
        times=np.array([f.time for f in fixes], dtype="datetime64[s]"),
        lat=np.array([f.lat for f in fixes]),
        lon=np.array([f.lon for f in fixes]),
        pressure_hpa=np.array([f.pressure_hpa for f in fixes]),
        vmax_ms=np.array([f.vmax_ms for f in fixes]),
        wind_avg_period_min=period,
        rmw_km=np.array([f.rmw_km for f in fixes]),
        env_pressure_hpa=np.array([f.env_hpa for f in fixes]),
        source=source,
    )


# ---------------------------------------------------------------------------------------------
# CSV and JSON
# ---------------------------------------------------------------------------------------------

_SOURCE_ID = re.compile(r"\(([^;()]+?) (\d{4})[;)]")


def _names_from_source(source: str, fallback: str) -> tuple[str, str]:
    """(storm id, name) from a fixture's source text, e.g. ``(MANGKHUT 1822; revised …)``."""
    match = _SOURCE_ID.search(source)
    return (match.group(2), match.group(1)) if match else (fallback, fallback.upper())


def read_csv(path: Path) -> Track:
    """A track from a CSV fixture (see ``data/typhoons/README.md``)."""
    text = _read_text(path)
    reader = csv.DictReader(text.splitlines())
    columns = reader.fieldnames or []
    missing = [c for c in _REQUIRED_CSV_COLUMNS if c not in columns]
    if missing:
        raise ValidationFailed(
            "radar.track_missing_column",
            f"台风路径文件 {path} 第 1 行缺少列：{', '.join(missing)}",
            f"Track file {path}, line 1: missing columns {', '.join(missing)}",
            file=str(path),
            line=1,
            field=missing[0],
        )
    fixes: list[_Fix] = []
    source = ""
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise ValidationFailed(
                "radar.track_bad_row",
                f"台风路径文件 {path} 第 {line} 行的列数与表头不符",
                f"Track file {path}, line {line}: the number of cells differs from the header",
                file=str(path),
                line=line,
            )
        fixes.append(_fix_from_mapping(path, line, row))
        source = source or (row.get("source") or "")
    storm_id, name = _names_from_source(source, path.stem)
    return _assemble(path, fixes, storm_id=storm_id, name=name, source=source)


def read_json(path: Path) -> Track:
    """A track from JSON: a list of fixes, or ``{"storm_id", "name", "source", "fixes"}``.

    Fixes use the CSV field names; ``time_utc`` is ISO 8601 with a time zone, numbers may be
    JSON numbers or strings, and ``null`` is a missing value. Errors name ``fixes[i]``.
    """
    text = _read_text(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationFailed(
            "radar.track_bad_json",
            f"台风路径文件 {path} 第 {error.lineno} 行不是有效的 JSON：{error.msg}",
            f"Track file {path}, line {error.lineno}: invalid JSON ({error.msg})",
            file=str(path),
            line=error.lineno,
        ) from error
    header: Mapping[str, Any] = document if isinstance(document, dict) else {}
    fixes_raw = header.get("fixes") if header else document
    if not isinstance(fixes_raw, list) or not all(isinstance(f, dict) for f in fixes_raw):
        raise ValidationFailed(
            "radar.track_bad_json",
            f"台风路径文件 {path} 应为定位记录列表（或含 fixes 列表的对象）",
            f"Track file {path} must be a list of fixes (or an object with a 'fixes' list)",
            file=str(path),
            line=1,
        )
    fixes = [_fix_from_mapping(path, f"fixes[{i}]", fix) for i, fix in enumerate(fixes_raw)]
    source = str(header.get("source", ""))
    fallback_id, fallback_name = _names_from_source(source, path.stem)
    return _assemble(
        path,
        fixes,
        storm_id=str(header.get("storm_id", fallback_id)),
        name=str(header.get("name", fallback_name)),
        source=source,
    )


# ---------------------------------------------------------------------------------------------
# CMA best-track text (CHYYYYBST.txt)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CmaStormHeader:
    """The ``66666`` line of one storm in a CMA best-track file."""

    international_id: str  # e.g. "1822"; "0000" for unnamed systems
    record_count: int
    serial: str
    china_id: str
    name: str
    revised: str
    line: int


def _cma_header(path: Path, line: int, text: str) -> CmaStormHeader:
    parts = text.split()
    if len(parts) < 8:
        raise ValidationFailed(
            "radar.track_bad_header",
            f"台风路径文件 {path} 第 {line} 行的 66666 头记录字段不足",
            f"Track file {path}, line {line}: the 66666 header line has too few fields",
            file=str(path),
            line=line,
        )
    if not parts[2].isdigit():
        raise _bad_value(path, line, "record_count", parts[2], "不是整数", "not a whole number")
    return CmaStormHeader(
        international_id=parts[1],
        record_count=int(parts[2]),
        serial=parts[3],
        china_id=parts[4],
        name=parts[7],
        revised=parts[8] if len(parts) > 8 else "",
        line=line,
    )


def _cma_fix(path: Path, line: int, text: str) -> _Fix:
    parts = text.split()
    if len(parts) < 6:
        raise ValidationFailed(
            "radar.track_bad_row",
            f"台风路径文件 {path} 第 {line} 行字段不足（应为 YYYYMMDDHH I LAT LON PRES WND）",
            f"Track file {path}, line {line}: too few fields (YYYYMMDDHH I LAT LON PRES WND)",
            file=str(path),
            line=line,
        )
    stamp, _category, lat, lon, pres, wnd = parts[:6]
    try:
        moment = datetime.strptime(stamp, "%Y%m%d%H")
    except ValueError as error:
        raise _bad_value(
            path, line, "YYYYMMDDHH", stamp, "不是有效的时间", "not a valid time"
        ) from error
    fields = _FieldReader(path, line)
    pressure = fields.number("PRES", pres, low=0, high=1100, required=True)
    wind = fields.number("WND", wnd, low=0, high=120, required=True)
    return _Fix(
        time=moment,
        lat=_tenths(fields, "LAT", lat, 900),
        lon=_tenths(fields, "LON", lon, 3600),
        pressure_hpa=math.nan if pressure == 0 else pressure,  # 0 = missing
        vmax_ms=math.nan if wind == 0 else wind,  # WND 0 = missing; 9 = below 10 m/s, kept
        period_min=_CMA_PERIOD_MIN,
        rmw_km=math.nan,
        env_hpa=DEFAULT_ENV_PRESSURE_HPA,
        location=line,
    )


def _tenths(fields: _FieldReader, field: str, raw: str, limit: int) -> float:
    if not raw.lstrip("-").isdigit():
        raise _bad_value(
            fields.path, fields.location, field, raw, "应为 0.1 度的整数", "whole tenths of degree"
        )
    value = int(raw)
    if abs(value) > limit:
        raise _bad_value(
            fields.path, fields.location, field, raw, "超出范围", f"beyond ±{limit // 10} degrees"
        )
    return value / 10


def _cma_blocks(path: Path) -> Iterator[tuple[CmaStormHeader, list[_Fix]]]:
    header: CmaStormHeader | None = None
    fixes: list[_Fix] = []
    for line, raw in enumerate(_read_text(path).splitlines(), start=1):
        text = raw.strip()
        if not text:
            continue
        if text.startswith(_CMA_HEADER):
            if header is not None:
                yield _checked_block(path, header, fixes)
            header, fixes = _cma_header(path, line, text), []
        elif header is None:
            raise ValidationFailed(
                "radar.track_bad_header",
                f"台风路径文件 {path} 第 {line} 行之前没有 66666 头记录",
                f"Track file {path}, line {line}: a data line before any 66666 header",
                file=str(path),
                line=line,
            )
        else:
            fixes.append(_cma_fix(path, line, text))
    if header is not None:
        yield _checked_block(path, header, fixes)


def _checked_block(
    path: Path, header: CmaStormHeader, fixes: list[_Fix]
) -> tuple[CmaStormHeader, list[_Fix]]:
    if len(fixes) != header.record_count:
        raise ValidationFailed(
            "radar.track_record_count",
            f"台风路径文件 {path} 第 {header.line} 行声明 {header.record_count} 条记录，"
            f"实际为 {len(fixes)} 条",
            f"Track file {path}, line {header.line}: the header announces "
            f"{header.record_count} records but {len(fixes)} follow",
            file=str(path),
            line=header.line,
            field="record_count",
        )
    return header, fixes


def read_cma_bst_all(path: Path) -> list[Track]:
    """Every storm of a CMA best-track text file, in file order."""
    return [_cma_track(path, header, fixes) for header, fixes in _cma_blocks(path)]


def read_cma_bst(path: Path, storm: str | None = None) -> Track:
    """One storm of a CMA best-track file, chosen by international number (``"1822"``), Chinese
    number or name (``"MANGKHUT"``, any case); ``None`` if the file holds a single storm.

    File layout (CMA Tropical Cyclone Data Center, tcdata.typhoon.org.cn): a header line
    ``66666 IIII NNN SSSS CCCC F D NAME DATE`` per storm, then ``NNN`` data lines
    ``YYYYMMDDHH I LAT LON PRES WND [OWD]`` with LAT/LON in 0.1°, PRES in hPa and WND the
    2-minute mean maximum sustained wind in m/s (0 = missing).
    """
    blocks = list(_cma_blocks(path))
    if storm is None:
        if len(blocks) == 1:
            return _cma_track(path, *blocks[0])
        raise ValidationFailed(
            "radar.track_ambiguous",
            f"台风路径文件 {path} 含 {len(blocks)} 个台风，请指定编号或名称",
            f"Track file {path} holds {len(blocks)} storms; name one by number or name",
            file=str(path),
        )
    wanted = storm.strip().upper()
    for header, fixes in blocks:
        if wanted in {header.international_id, header.china_id, header.name.upper()}:
            return _cma_track(path, header, fixes)
    raise ValidationFailed(
        "radar.track_not_found",
        f"台风路径文件 {path} 中没有编号或名称为 {storm} 的台风",
        f"Track file {path} holds no storm numbered or named {storm}",
        file=str(path),
        storm=storm,
    )


def _cma_track(path: Path, header: CmaStormHeader, fixes: list[_Fix]) -> Track:
    return _assemble(
        path,
        fixes,
        storm_id=header.international_id,
        name=header.name,
        source=f"CMA best track {path.name} ({header.name} {header.international_id}; "
        f"revised {header.revised})",
        default_period=_CMA_PERIOD_MIN,
    )


def read_track(path: Path, storm: str | None = None) -> Track:
    """A track from ``.csv``, ``.json`` or a CMA ``.txt`` file, by suffix."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path)
    if suffix == ".json":
        return read_json(path)
    if suffix == ".txt":
        return read_cma_bst(path, storm)
    raise ValidationFailed(
        "radar.track_unknown_format",
        f"不支持的台风路径文件格式：{path}（应为 .csv、.json 或 CMA .txt）",
        f"Unsupported track file format: {path} (expected .csv, .json or CMA .txt)",
        file=str(path),
    )


# ---------------------------------------------------------------------------------------------
# Hourly interpolation
# ---------------------------------------------------------------------------------------------


def interpolate_hourly(track: Track, *, positions: Interpolation = "linear") -> Track:
    """The track at every whole UTC hour from its first to its last fix.

    Pressure, wind, radius of maximum wind and environmental pressure are linear in time
    between the fixes that have a value (NaN outside their span). Positions are linear in time
    by default; ``positions="cubic"`` uses a not-a-knot cubic spline (quadratic for three fixes,
    linear for two), which is what CLIMADA's ``TCTracks.equal_timestep`` does through
    ``scipy.interpolate.interp1d`` — used only in the same-physics comparison mode. Longitudes
    are unwrapped across 180° before interpolating and wrapped to (-180, 180] after.
    """
    if track.size < 2:
        raise ValidationFailed(
            "radar.track_too_short",
            f"台风路径 {track.storm_id} 至少需要两条定位记录才能插值",
            f"Track {track.storm_id} needs at least two fixes to interpolate",
            storm_id=track.storm_id,
        )
    seconds = track.seconds()
    first = -(-seconds[0] // _SECONDS_PER_HOUR) * _SECONDS_PER_HOUR
    last = seconds[-1] // _SECONDS_PER_HOUR * _SECONDS_PER_HOUR
    grid = np.arange(first, last + 1, _SECONDS_PER_HOUR, dtype=np.int64)
    x = (seconds - seconds[0]).astype(np.float64)
    xnew = (grid - seconds[0]).astype(np.float64)
    lon_unwrapped = np.unwrap(track.lon, period=360.0)
    position = _interpolate_positions if positions == "cubic" else _interpolate_linear
    return Track(
        storm_id=track.storm_id,
        name=track.name,
        times=grid.astype("datetime64[s]"),
        lat=position(x, track.lat, xnew),
        lon=wrap_longitude(position(x, lon_unwrapped, xnew)),
        pressure_hpa=_interpolate_linear(x, track.pressure_hpa, xnew),
        vmax_ms=_interpolate_linear(x, track.vmax_ms, xnew),
        wind_avg_period_min=track.wind_avg_period_min,
        rmw_km=_interpolate_linear(x, track.rmw_km, xnew),
        env_pressure_hpa=_interpolate_linear(x, track.env_pressure_hpa, xnew),
        source=track.source,
    )


def _interpolate_linear(x: FloatArray, y: FloatArray, xnew: FloatArray) -> FloatArray:
    known = ~np.isnan(y)
    if not bool(known.any()):
        return np.full(xnew.shape, np.nan)
    xk, yk = x[known], y[known]
    result = np.interp(xnew, xk, yk)
    result[(xnew < xk[0]) | (xnew > xk[-1])] = np.nan
    return result


def _interpolate_positions(x: FloatArray, y: FloatArray, xnew: FloatArray) -> FloatArray:
    return not_a_knot_cubic(x, y, xnew)


def wrap_longitude(lon: FloatArray) -> FloatArray:
    """Longitudes mapped to (-180, 180]; values already in range are kept bit for bit."""
    wrapped = lon.copy()
    outside = (lon > 180.0) | (lon <= -180.0)
    wrapped[outside] = 180.0 - np.mod(180.0 - lon[outside], 360.0)
    return wrapped


# ---------------------------------------------------------------------------------------------
# Radius of maximum wind
# ---------------------------------------------------------------------------------------------

NM_TO_KM = 1.852
# Central pressure (hPa) → radius of maximum wind (nautical miles): the piecewise-linear fit
# to IBTrACS 1980–2019 (r² = 0.79) published with CLIMADA (climada.hazard.tc_tracks.
# estimate_rmw; the four coefficients are data, the code here is our own), flat beyond the
# end points.
_RMW_FIT_PRESSURE_HPA = (872.0, 940.0, 980.0, 1021.0)
_RMW_FIT_NMI = (14.907318, 15.726927, 25.742142, 56.856522)


def estimate_rmw_km(pressure_hpa: FloatArray) -> FloatArray:
    """Radius of maximum wind (km) estimated from central pressure (hPa).

    A statistical fit of IBTrACS radius of maximum wind to central pressure (1980–2019,
    r² ≈ 0.79), as used by CLIMADA's ``estimate_rmw``: piecewise linear through
    (872 hPa, 14.91 n mi), (940, 15.73), (980, 25.74), (1021, 56.86), constant outside, then
    converted at 1.852 km per nautical mile. NaN where the pressure is missing.

    >>> [round(float(r), 3) for r in estimate_rmw_km(np.array([940.0, 1000.0]))]
    [29.126, 75.784]
    """
    rmw_nmi = np.interp(pressure_hpa, _RMW_FIT_PRESSURE_HPA, _RMW_FIT_NMI)
    rmw_nmi[~(pressure_hpa > 0)] = np.nan
    return rmw_nmi * NM_TO_KM


# ---------------------------------------------------------------------------------------------
# Wind averaging periods
# ---------------------------------------------------------------------------------------------

# Ratio of a "sustained" wind of the given averaging period to the 10-minute mean wind at sea.
# 1 min: 1/0.93 — WMO/TD-No. 1555 (Harper, Kepert & Ginger 2010, "Guidelines for converting
# between various wind averaging periods in tropical cyclone conditions") recommends
# V10min = 0.93 × V1min for at-sea exposure. Other periods: the gust factor interpolated
# logarithmically in the averaging period between those two anchors (log-law shape of the
# Durst/ESDU gust-factor curves the guideline builds on) — an interpolation, stated as such.
_ONE_MIN_TO_TEN_MIN = 0.93


def wind_ratio_to_10min(period_min: float) -> float:
    """Ratio of the wind averaged over ``period_min`` minutes to the 10-minute mean (at sea).

    >>> wind_ratio_to_10min(10), round(wind_ratio_to_10min(1), 6), round(wind_ratio_to_10min(2), 4)
    (1.0, 1.075269, 1.0526)
    """
    if not (1 <= period_min <= 10):
        raise ValidationFailed(
            "radar.averaging_period",
            f"不支持的风速平均时距：{period_min} 分钟（支持 1–10 分钟）",
            f"Unsupported wind averaging period: {period_min} min (1 to 10 min supported)",
            period_min=period_min,
        )
    excess = 1.0 / _ONE_MIN_TO_TEN_MIN - 1.0
    return 1.0 + excess * math.log(10.0 / period_min) / math.log(10.0)


def convert_wind_averaging(wind_ms: FloatArray, from_min: float, to_min: float) -> FloatArray:
    """Wind speeds converted from one averaging period to another (WMO at-sea guidance).

    >>> convert_wind_averaging(np.array([50.0]), 1, 10).tolist()
    [46.5]
    """
    factor = wind_ratio_to_10min(to_min) / wind_ratio_to_10min(from_min)
    return wind_ms * factor


def one_minute_wind(track: Track) -> FloatArray:
    """The track's maximum sustained wind as a 1-minute mean (the Holland models' convention)."""
    return convert_wind_averaging(track.vmax_ms, track.wind_avg_period_min, 1)
