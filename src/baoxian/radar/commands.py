"""``baoxian radar …`` (风险雷达): assess a typhoon track against the store's book, warn the
insured from a forecast or from rainstorm and flood warning areas (GeoJSON), pre-pay after
the event, trigger the index covers.  Thin: parse,
call :class:`~baoxian.radar.services.RadarService`, print."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from baoxian.bootstrap import build
from baoxian.radar.areas import HAZARDS, read_areas
from baoxian.radar.assessment import Physics
from baoxian.radar.loss import Grouping, WarningLevel
from baoxian.radar.services import AreaWarningResult, BookAssessment, RadarService
from baoxian.radar.tracks import Track, read_track
from baoxian.settings import Settings
from baoxian.shared.clock import local_date
from baoxian.shared.errors import DomainError
from baoxian.shared.ids import new_id
from baoxian.shared.money import Money

console = Console()
T = TypeVar("T")

radar_app = typer.Typer(
    help="风险雷达 Risk radar: typhoon exposure, warnings, pre-payment, index covers.",
    no_args_is_help=True,
)


class PhysicsName(StrEnum):
    NATIVE = "native"
    CLIMADA = "climada"


TrackArg = Annotated[
    Path,
    typer.Argument(
        help="台风路径 Track file: CMA best-track .txt, .csv or .json (see data/typhoons)",
        exists=True,
        dir_okay=False,
    ),
]
StormOption = Annotated[
    str | None,
    typer.Option("--storm", help="风暴编号或名称 Storm ID or name (CMA files with many storms)"),
]
OnOption = Annotated[
    str | None,
    typer.Option("--on", help="保单簿日期 Book date YYYY-MM-DD (default: today, Beijing time)"),
]
PhysicsOption = Annotated[
    PhysicsName, typer.Option("--physics", help="物理模型 native, or climada (same physics)")
]
EventOption = Annotated[str, typer.Option("--event", help="事件编号 Event ID, e.g. 1822")]
TOTALS: tuple[tuple[Grouping, str], ...] = (
    ("province", "省份 Province"),
    ("city", "城市 City"),
    ("product", "产品 Product"),
    ("policy", "保单 Policy"),
)


# --------------------------------------------------------------------------- run


@radar_app.command("run")
def run(
    track_file: TrackArg,
    storm: StormOption = None,
    on: OnOption = None,
    png: Annotated[Path | None, typer.Option("--png", help="PNG 地图 Write a PNG map")] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="交互地图 Write an interactive HTML map")
    ] = None,
    physics: PhysicsOption = PhysicsName.NATIVE,
    top: Annotated[int, typer.Option(min=1, max=100, help="列出前 N 行 Rows per table")] = 10,
) -> None:
    """风险测算 Assess a typhoon against the book: sites by warning level, estimated insured
    loss by province, city, product and policy; optional PNG and HTML maps."""
    service = _service(physics)
    track = _call(lambda: read_track(track_file, storm))
    day = _date(on, service)
    assessment = _call(lambda: service.assess(track, day))
    _print_assessment(track, assessment, top)
    if png is not None or html is not None:
        from baoxian.radar.maps import map_data, render_html, render_png

        data = map_data(track, assessment, service.physics, service.thresholds)
        for path, render in ((png, render_png), (html, render_html)):
            if path is not None:
                console.print(f"[green]✓[/] 地图 Map: {render(data, path)}")


def _print_assessment(track: Track, assessment: BookAssessment, top: int) -> None:
    book = assessment.book
    first, last = (str(t)[:16] for t in (track.times[0], track.times[-1]))
    console.print(
        f"台风 Typhoon [bold]{track.name}[/]（{track.storm_id}）{first} – {last} UTC · "
        f"保单簿 Book on {assessment.on}: 场所 sites {book.size:,}"
        + (f" · 无坐标未计 without coordinates {book.unlocated:,}" if book.unlocated else "")
    )
    sites = assessment.site_frame()
    console.print(_level_table(sites))
    totals = assessment.event.totals
    for by, title in TOTALS:
        console.print(_totals_table(totals[by], title, top))
    console.print(
        f"预估赔款合计 Estimated insured loss: [bold]¥{assessment.losses.insured_total.amount:,}"
        f"[/]  （损失 ground-up ¥{assessment.losses.ground_up_total.amount:,}）"
    )


def _level_table(sites: pl.DataFrame) -> Table:
    table = Table(title="按预警等级 Sites by warning level")
    for column in ("等级 Level", "场所 Sites", "预估赔款 Insured ¥", "最大风速 Max wind m/s"):
        table.add_column(column, justify="left" if column.startswith("等级") else "right")
    grouped = sites.group_by("level").agg(
        pl.len().alias("sites"), pl.col("insured_fen").sum(), pl.col("wind_ms").max()
    )
    rows = {int(r[0]): r for r in grouped.iter_rows()}
    for level in WarningLevel:
        _, count, insured, wind = rows.get(int(level), (level, 0, 0, 0.0))
        table.add_row(
            f"{level.zh} {level.en}", f"{count:,}", _yuan(int(insured)), f"{float(wind):.1f}"
        )
    return table


def _totals_table(frame: pl.DataFrame, title: str, top: int) -> Table:
    table = Table(title=f"按{title}（前 {top}）Insured loss by {title.split()[-1].lower()}")
    for column in (title, "场所 Sites", "受损 Affected", "预估赔款 Insured ¥", "最大风速 m/s"):
        table.add_column(column, justify="left" if column == title else "right")
    for row in frame.filter(pl.col("max_wind_ms") > 0).head(top).iter_rows(named=True):
        table.add_row(
            str(row["key"]),
            f"{row['sites']:,}",
            f"{row['affected_sites']:,}",
            _yuan(int(row["insured_fen"])),
            f"{row['max_wind_ms']:.1f}",
        )
    return table


# --------------------------------------------------------------------------- warn


@radar_app.command("warn")
def warn(
    track_file: TrackArg,
    now: Annotated[str, typer.Option("--now", help="预报时刻 Forecast time, ISO 8601 with offset")],
    storm: StormOption = None,
    on: Annotated[
        str | None,
        typer.Option("--on", help="保单簿日期 Book date YYYY-MM-DD (default: the day of --now)"),
    ] = None,
    hours: Annotated[
        int | None, typer.Option("--hours", min=1, max=240, help="预警时效（小时）Horizon, hours")
    ] = None,
    physics: PhysicsOption = PhysicsName.NATIVE,
) -> None:
    """台风预警 Warn insured sites from a forecast: levels from now to the end of the forecast;
    one notice per policy and level into the outreach outbox (re-runs add nothing new)."""
    moment = _instant(now)
    service = _service(physics)
    track = _call(lambda: read_track(track_file, storm))
    horizon = None if hours is None else timedelta(hours=hours)
    day = None if on is None else _parse_date(on, "--on")
    result = _call(lambda: service.warn(track, moment, horizon, day))
    counts = "  ".join(
        f"{level.zh} {level.en} {result.sites_by_level[level]:,}"
        for level in WarningLevel
        if level > 0
    )
    console.print(f"台风 Typhoon [bold]{track.name}[/]（{track.storm_id}）· {counts}")
    table = Table(title="预警通知 Warning notices")
    for column in ("保单 Policy", "等级 Level", "渠道 Channel"):
        table.add_column(column, no_wrap=True)
    table.add_column("内容 Reason", no_wrap=True, overflow="ellipsis", max_width=80)
    for row in result.notices.head(10).iter_rows(named=True):
        table.add_row(row["policy_number"], row["reason_code"], row["channel"], row["reason_zh"])
    console.print(table)
    console.print(
        f"[green]✓[/] 新通知 new notices {result.written:,}，已有 already queued "
        f"{result.already_known:,}（发件箱 outreach outbox）"
    )


# --------------------------------------------------------------------------- areas


@radar_app.command("areas")
def areas(
    areas_file: Annotated[
        Path,
        typer.Argument(
            help="预警区域 GeoJSON FeatureCollection of rainstorm/flood warning polygons",
            exists=True,
            dir_okay=False,
        ),
    ],
    now: Annotated[
        str | None,
        typer.Option("--now", help="预警时刻 Warning time, ISO 8601 with offset (default: now)"),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--on", help="保单簿日期 Book date YYYY-MM-DD (default: the day of --now)"),
    ] = None,
) -> None:
    """暴雨洪水预警 Warn insured sites inside rainstorm and flood warning areas (GeoJSON
    polygons): one notice per area, policy and level into the outreach outbox (re-runs add
    nothing new)."""
    moment = None if now is None else _instant(now)
    found = _call(lambda: read_areas(areas_file))
    service = _service(PhysicsName.NATIVE)
    day = None if on is None else _parse_date(on, "--on")
    result = _call(lambda: service.warn_areas(found, moment or service.clock(), day))
    _print_areas(result)


def _print_areas(result: AreaWarningResult) -> None:
    counts = "  ".join(
        f"{level.zh} {level.en} {result.sites_by_level[level]:,}"
        for level in WarningLevel
        if level > 0
    )
    console.print(f"暴雨洪水预警 Rain and flood warnings · 场所 sites by level: {counts}")
    table = Table(title="预警区域 Warning areas")
    for column in ("区域 Area", "灾种 Hazard", "等级 Level", "有效期至 Valid until"):
        table.add_column(column, no_wrap=True)
    table.add_column("场所 Sites", justify="right")
    table.add_column("通知 Notices", justify="right")
    inside = result.sites_by_area()
    notices = result.notices.group_by(
        pl.col("dedup_key").str.split(":").list.get(1).alias("area_id")
    ).len()
    per_area = dict(notices.iter_rows())
    for area in result.areas:
        hazard_zh, hazard_en = HAZARDS[area.hazard]
        until = "—" if area.valid_until is None else area.valid_until.isoformat(timespec="minutes")
        table.add_row(
            f"{area.area_id} {area.label_zh}",
            f"{hazard_zh} {hazard_en}",
            f"{area.level.zh} {area.level.en}",
            until,
            f"{inside[area.area_id]:,}",
            f"{per_area.get(area.area_id, 0):,}",
        )
    for area in result.expired:
        table.add_row(f"{area.area_id} {area.label_zh}", "[dim]已过期 expired[/]", "", "", "—", "—")
    console.print(table)
    console.print(
        f"[green]✓[/] 新通知 new notices {result.written:,}，已有 already queued "
        f"{result.already_known:,}（发件箱 outreach outbox）"
    )


# --------------------------------------------------------------------------- prepay


@radar_app.command("prepay")
def prepay(
    track_file: TrackArg,
    event: EventOption,
    storm: StormOption = None,
    on: OnOption = None,
    loss_date: Annotated[
        str | None, typer.Option("--loss-date", help="出险日期 Date of loss (default: --on)")
    ] = None,
    share: Annotated[str, typer.Option("--share", help="预付比例 Advance share")] = "0.3",
    min_loss: Annotated[
        str, typer.Option("--min-loss", help="最低预估赔款 Smallest estimate listed, CNY")
    ] = "10000",
    physics: PhysicsOption = PhysicsName.NATIVE,
) -> None:
    """预赔付 Pre-pay after a typhoon: a claim per site with an estimated loss, and an advance
    of --share of the estimate (re-runs pay nothing twice)."""
    service = _service(physics)
    track = _call(lambda: read_track(track_file, storm))
    day = _date(on, service)
    loss = day if loss_date is None else _parse_date(loss_date, "--loss-date")
    ratio, floor = _decimal(share, "--share"), Money(_decimal(min_loss, "--min-loss"))
    assessment = _call(lambda: service.assess(track, day))
    lines = _call(lambda: service.prepayment_list(assessment, ratio, floor))
    result = _call(lambda: service.prepay(lines, event, loss))
    table = Table(title=f"预赔付清单 Pre-payment list · {event}")
    for column in ("保单 Policy", "场所 Site", "预估赔款 Estimate ¥", "预付 Advance ¥", "结果"):
        table.add_column(column, justify="right" if "¥" in column else "left")
    for outcome in result.outcomes[:20]:
        line = outcome.line
        table.add_row(
            line.policy_number,
            f"{line.unit_key} {line.site_name}",
            f"{line.estimate.amount:,}",
            f"{line.advance.amount:,}",
            outcome.status + (f" {outcome.code}" if outcome.code else ""),
        )
    console.print(table)
    console.print(
        f"[green]✓[/] 本次预付 prepaid now {result.count('prepaid'):,} 件 "
        f"¥{result.advanced.amount:,} · 已预付 already {result.count('already'):,} · "
        f"拒绝 refused {result.count('refused'):,}"
    )


# --------------------------------------------------------------------------- trigger


@radar_app.command("trigger")
def trigger(
    track_file: TrackArg,
    event: EventOption,
    storm: StormOption = None,
    on: OnOption = None,
    physics: PhysicsOption = PhysicsName.NATIVE,
) -> None:
    """指数赔付 Trigger the typhoon index covers: each site's wind within the cover's radius,
    its tier, and the claim paid through the claims context (re-runs pay nothing)."""
    service = _service(physics)
    track = _call(lambda: read_track(track_file, storm))
    day = _date(on, service)
    result = _call(lambda: service.trigger_parametric(track, event, day))
    table = Table(title=f"指数赔付 Index pay-outs · {event}")
    for column in ("保单 Policy", "场所 Site", "指数 Index m/s", "档位 Tier", "赔付 Payout ¥"):
        table.add_column(column, justify="right" if "¥" in column or "m/s" in column else "left")
    for line in result.lines[:20]:
        table.add_row(
            line.policy_number,
            line.unit_key,
            str(line.index_ms),
            f"{line.tier.zh} {line.tier.en}",
            f"{line.payout.amount:,}",
        )
    console.print(table)
    batch = result.batch
    decided = "" if batch is None else _statuses(batch.statuses.items(), batch.already_in_store)
    console.print(
        f"[green]✓[/] 指数场所 index sites {result.sites:,} · 达档 reached a tier "
        f"{len(result.lines):,} · 应赔 ¥{result.total.amount:,}{decided}"
    )


def _statuses(statuses: Iterable[tuple[str, int]], already: int) -> str:
    parts = ", ".join(f"{status} {count:,}" for status, count in sorted(statuses))
    return f" · 理赔 claims: {parts or '—'} · 已处理 already in store {already:,}"


# --------------------------------------------------------------------------- helpers


def _service(physics: PhysicsName) -> RadarService:
    application = build(Settings.from_env())
    model = Physics.climada() if physics is PhysicsName.CLIMADA else Physics.native()
    return RadarService(
        application.engine,
        application.catalog,
        application.claims,
        application.policies.clock,
        new_id,
        physics=model,
    )


def _call(action: Callable[[], T]) -> T:
    try:
        return action()
    except DomainError as error:
        Console(stderr=True).print(
            f"[red]✗ {error.zh}[/]\n  {error.en}\n  [dim]code: {error.code}[/]"
        )
        raise typer.Exit(1) from None


def _date(value: str | None, service: RadarService) -> date:
    return local_date(service.clock()) if value is None else _parse_date(value, "--on")


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"日期格式应为 YYYY-MM-DD / {option} must be YYYY-MM-DD") from None


def _instant(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise typer.BadParameter(
            "时刻须为带时区的 ISO 8601，如 2018-09-15T20:00+08:00 / "
            "--now must be ISO 8601 with an offset, e.g. 2018-09-15T20:00+08:00"
        )
    return moment


def _decimal(value: str, option: str) -> Decimal:
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0:
        raise typer.BadParameter(f"{option} 应为非负数 / {option} must be a number ≥ 0: {value!r}")
    return number


def _yuan(fen: int) -> str:
    return f"{Money.from_fen(fen).amount:,}"


__all__ = ["radar_app"]
