"""暴雨、洪水预警通知 (rainstorm and flood warning notices) for the outreach outbox — pure.

From the insured sites inside each warning area (:mod:`baoxian.radar.areas`), one notice per
area, policy and level: the area, hazard, level and validity, how many of the policy's sites
are inside, what to do at the level and for each kind of site
(:func:`~baoxian.radar.advice.rain_occupancy_advice`).  Scenario ``flood_warning`` for both
hazards (the reason and ``reason_code`` say which); deduplication key
``flood_warning:<area>:<policy>:<level>``.  The rows go through the same preference join as the
typhoon notices (:func:`~baoxian.radar.notices.outbox_rows`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime

import polars as pl

from baoxian.radar.advice import rain_level_action, rain_occupancy_advice
from baoxian.radar.areas import HAZARDS, WarningArea
from baoxian.radar.loss import WarningLevel
from baoxian.radar.notices import SITES_IN_DATA, outbox_rows
from baoxian.shared.clock import SHANGHAI

SCENARIO = "flood_warning"

HIT_COLUMNS = ("area_id", "policy_number", "holder_id", "unit_key", "occupancy")
"""What :func:`area_notice_frame` reads of each (area, site) pair."""


def dedup_key(area_id: str, policy_number: str, level: WarningLevel) -> str:
    """The outbox key of a policy's notice for an area.

    >>> dedup_key("GD-PRD-01", "PARENT202600000001", WarningLevel.ORANGE)
    'flood_warning:GD-PRD-01:PARENT202600000001:orange'
    """
    return f"{SCENARIO}:{area_id}:{policy_number}:{level.en}"


def area_notice_frame(
    hits: pl.DataFrame,
    areas: Mapping[str, WarningArea],
    preferences: pl.DataFrame,
    now: datetime,
    run_date: date,
) -> pl.DataFrame:
    """The outbox rows for the sites inside the areas (``hits``: :data:`HIT_COLUMNS`, one row
    per area and site), one per area and policy, in area order then policy number."""
    grouped = (
        hits.select(HIT_COLUMNS)
        .group_by("area_id", "policy_number", maintain_order=True)
        .agg(
            pl.col("holder_id").first(),
            pl.col("unit_key"),
            pl.col("occupancy").unique(maintain_order=True),
        )
        .sort("policy_number", maintain_order=True)
    )
    order = {area_id: i for i, area_id in enumerate(areas)}
    rows = sorted(grouped.iter_rows(named=True), key=lambda r: order[r["area_id"]])
    texts = [
        _texts(areas[r["area_id"]], r["policy_number"], r["unit_key"], r["occupancy"]) for r in rows
    ]
    frame = pl.DataFrame(
        {
            "dedup_key": [t[0] for t in texts],
            "holder_id": [r["holder_id"] for r in rows],
            "policy_number": [r["policy_number"] for r in rows],
            "reason_code": [t[1] for t in texts],
            "reason_zh": [t[2] for t in texts],
            "reason_en": [t[3] for t in texts],
            "data": [t[4] for t in texts],
            "due_on": [_local_day(areas[r["area_id"]].issued_at, now) for r in rows],
        },
        schema={
            "dedup_key": pl.String,
            "holder_id": pl.String,
            "policy_number": pl.String,
            "reason_code": pl.String,
            "reason_zh": pl.String,
            "reason_en": pl.String,
            "data": pl.String,
            "due_on": pl.Date,
        },
    )
    return outbox_rows(frame, preferences, SCENARIO, run_date)


def _local_day(issued_at: datetime | None, now: datetime) -> date:
    """The Beijing day the warning applies from: its issue time, or now if later."""
    moment = now if issued_at is None else max(issued_at, now)
    return moment.astimezone(SHANGHAI).date()


def _texts(
    area: WarningArea, policy: str, units: list[str], occupancies: list[str]
) -> tuple[str, str, str, str, str]:
    zh, en = area_reason(area, policy, len(units), occupancies)
    data = {
        "area_id": area.area_id,
        "area": area.label_zh,
        "hazard": area.hazard,
        "level": area.level.en,
        "issued_at": None if area.issued_at is None else area.issued_at.isoformat(),
        "valid_until": None if area.valid_until is None else area.valid_until.isoformat(),
        "site_count": len(units),
        "sites": units[:SITES_IN_DATA],
    }
    return (
        dedup_key(area.area_id, policy, area.level),
        f"{area.hazard}_{area.level.en}",
        zh,
        en,
        json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
    )


def area_reason(
    area: WarningArea, policy_number: str, site_count: int, occupancies: Sequence[str]
) -> tuple[str, str]:
    """The notice's sentence in Chinese and English: hazard, level, area and validity, the
    policy's sites inside, what to do at the level and for each kind of site.

    >>> from datetime import UTC
    >>> area = WarningArea("GD-1", "rainstorm", WarningLevel.RED, (), "广州市区",
    ...                    valid_until=datetime(2026, 6, 12, 12, tzinfo=UTC))
    >>> zh, en = area_reason(area, "P1", 2, ["warehouse"])
    >>> zh.split("。")[0]
    '暴雨红色预警：广州市区（GD-1），有效期至 6月12日20时'
    >>> en.split(". ")[0]
    'Red rainstorm warning for 广州市区 (GD-1), valid until 20:00 on 12 Jun (Beijing time)'
    """
    hazard_zh, hazard_en = HAZARDS[area.hazard]
    level = area.level
    action_zh, action_en = rain_level_action(level)
    advice = [rain_occupancy_advice(o) for o in occupancies] or [rain_occupancy_advice("")]
    if area.valid_until is None:
        until_zh, until_en = "，解除前持续有效", ", until further notice"
    else:
        local = area.valid_until.astimezone(SHANGHAI)
        until_zh = f"，有效期至 {local.month}月{local.day}日{local.hour:02d}时"
        until_en = f", valid until {local:%H:%M on %d %b} (Beijing time)"
    label = "" if area.label_zh == area.area_id else f"{area.label_zh}（{area.area_id}）"
    zh = (
        f"{hazard_zh}{level.zh}预警：{label or area.area_id}{until_zh}。"
        f"您保单 {policy_number} 的 {site_count} 处场所位于预警区域内。{action_zh}；"
        + "；".join(a[0] for a in dict.fromkeys(advice))
    )
    name = area.label_en
    where = name if name == area.area_id else f"{name} ({area.area_id})"
    sites = "1 site" if site_count == 1 else f"{site_count} sites"
    en = (
        f"{level.en.capitalize()} {hazard_en} warning for {where}{until_en}. "
        f"{sites.capitalize()} of your policy {policy_number} "
        f"{'is' if site_count == 1 else 'are'} in the warning area. "
        f"Please {action_en}; " + "; ".join(a[1] for a in dict.fromkeys(advice))
    )
    return zh, en


__all__ = ["HIT_COLUMNS", "SCENARIO", "area_notice_frame", "area_reason", "dedup_key"]
