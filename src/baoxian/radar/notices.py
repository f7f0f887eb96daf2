"""台风预警通知 (typhoon warning notices) for the outreach outbox — pure.

From the warned sites of one forecast, one notice per policy and warning level: the policy's
highest level over its sites, the strongest wind, when the wind first reaches force 6 at any
of them, and prevention advice for each kind of site it has (:mod:`baoxian.radar.advice`).
The frame has the outbox's columns (``baoxian.outreach.outbox.NOTICE_COLUMNS``); its
deduplication key ``typhoon_warning:<storm>:<policy>:<level>`` makes a higher level a new
notice and the same level again nothing.  Channel, language and 关爱版 come from the stored
preferences; a holder without one gets a text message in Chinese.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

import numpy as np
import polars as pl

from baoxian.radar.advice import beaufort_force, level_action, occupancy_advice
from baoxian.radar.loss import WarningLevel
from baoxian.shared.clock import SHANGHAI

SCENARIO = "typhoon_warning"
DEFAULT_CHANNEL = ("sms", "zh", False)
SITES_IN_DATA = 20

SITE_COLUMNS = ("policy_number", "holder_id", "unit_key", "occupancy", "level", "wind_ms", "onset")
"""What :func:`policy_warnings` reads of each warned site (``onset``: an aware datetime)."""


def dedup_key(storm_id: str, policy_number: str, level: WarningLevel) -> str:
    """The outbox key of a policy's notice at a level.

    >>> dedup_key("1822", "PARENT202600000001", WarningLevel.RED)
    'typhoon_warning:1822:PARENT202600000001:red'
    """
    return f"{SCENARIO}:{storm_id}:{policy_number}:{level.en}"


def policy_warnings(sites: pl.DataFrame) -> pl.DataFrame:
    """Per policy: holder, highest level, strongest wind, earliest onset, warned sites (unit
    keys) and kinds of site (first seen first), highest level first."""
    return (
        sites.select(SITE_COLUMNS)
        .sort("wind_ms", descending=True, maintain_order=True)
        .group_by("policy_number", maintain_order=True)
        .agg(
            pl.col("holder_id").first(),
            pl.col("level").max(),
            pl.col("wind_ms").max(),
            pl.col("onset").min(),
            pl.col("unit_key"),
            pl.col("occupancy").unique(maintain_order=True),
        )
        .sort(["level", "wind_ms", "policy_number"], descending=[True, True, False])
    )


def notice_frame(
    warnings: pl.DataFrame,
    preferences: pl.DataFrame,
    storm_id: str,
    storm_name: str,
    run_date: date,
) -> pl.DataFrame:
    """The outbox rows for :func:`policy_warnings`' output (preferences: party_id, channel,
    locale, care)."""
    columns = ("policy_number", "level", "wind_ms", "onset", "unit_key", "occupancy")
    texts = [_texts(storm_id, storm_name, *row) for row in warnings.select(columns).iter_rows()]
    frame = warnings.with_columns(
        dedup_key=pl.Series([t[0] for t in texts], dtype=pl.String),
        reason_code=pl.format("typhoon_{}", _level_name(pl.col("level"))),
        reason_zh=pl.Series([t[1] for t in texts], dtype=pl.String),
        reason_en=pl.Series([t[2] for t in texts], dtype=pl.String),
        data=pl.Series([t[3] for t in texts], dtype=pl.String),
        due_on=pl.col("onset").dt.convert_time_zone("Asia/Shanghai").dt.date(),
    )
    return outbox_rows(frame, preferences, SCENARIO, run_date)


def outbox_rows(
    frame: pl.DataFrame, preferences: pl.DataFrame, scenario: str, run_date: date
) -> pl.DataFrame:
    """The outbox rows of per-policy notices (``dedup_key``, ``holder_id``, ``policy_number``,
    ``reason_code``, ``reason_zh``, ``reason_en``, ``data``, ``due_on``) in each holder's
    stored channel, language and 关爱版 (text message in Chinese without one)."""
    channel, locale, care = DEFAULT_CHANNEL
    joined = frame.join(
        preferences.rename({"party_id": "holder_id"}), on="holder_id", how="left"
    ).with_columns(
        pl.col("channel").fill_null(channel),
        pl.col("locale").fill_null(locale),
        pl.col("care").fill_null(care),
    )
    return joined.select(
        "dedup_key",
        scenario=pl.lit(scenario),
        party_id="holder_id",
        policy_number="policy_number",
        channel="channel",
        locale="locale",
        care="care",
        reason_code="reason_code",
        reason_zh="reason_zh",
        reason_en="reason_en",
        data="data",
        due_on="due_on",
        run_date=pl.lit(run_date, dtype=pl.Date),
    )


def _level_name(level: pl.Expr) -> pl.Expr:
    names = [WarningLevel(code).en for code in WarningLevel]
    return level.cast(pl.Int64).replace_strict(
        list(range(len(names))), names, return_dtype=pl.String
    )


def _texts(
    storm_id: str,
    storm_name: str,
    policy: str,
    level_code: int,
    wind: float,
    onset: datetime,
    units: list[str],
    occupancies: list[str],
) -> tuple[str, str, str, str]:
    """Deduplication key, Chinese and English sentences and the data of one policy."""
    level = WarningLevel(level_code)
    zh, en = reason(storm_id, storm_name, policy, level, wind, onset, len(units), occupancies)
    data = {
        "storm_id": storm_id,
        "storm": storm_name,
        "level": level.en,
        "max_wind_ms": round(wind, 1),
        "force": _force(wind),
        "onset": onset.isoformat(),
        "site_count": len(units),
        "sites": units[:SITES_IN_DATA],
    }
    key = dedup_key(storm_id, policy, level)
    return key, zh, en, json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _force(wind_ms: float) -> int:
    return int(beaufort_force(np.array([wind_ms]))[0])


def reason(
    storm_id: str,
    storm_name: str,
    policy_number: str,
    level: WarningLevel,
    wind_ms: float,
    onset: datetime,
    site_count: int,
    occupancies: Sequence[str],
) -> tuple[str, str]:
    """The notice's sentence in Chinese and English: storm, policy, sites, wind and force,
    level, when it starts, what to do at this level and for each kind of site.

    >>> from datetime import UTC
    >>> zh, en = reason("1822", "MANGKHUT", "P1", WarningLevel.ORANGE, 27.04,
    ...                 datetime(2018, 9, 16, 0, 0, tzinfo=UTC), 2, ["warehouse"])
    >>> zh[:49]
    '台风“MANGKHUT”（1822）预计于 9月16日08时 起影响您保单 P1 的 2 处场所，'
    >>> en[:74]
    'Typhoon MANGKHUT (1822) is expected to reach 2 sites of your policy P1 fro'
    """
    local = onset.astimezone(SHANGHAI)
    force = _force(wind_ms)
    action_zh, action_en = level_action(level)
    advice = [occupancy_advice(o) for o in occupancies] or [occupancy_advice("")]
    zh = (
        f"台风“{storm_name}”（{storm_id}）预计于 {local.month}月{local.day}日{local.hour:02d}时 起"
        f"影响您保单 {policy_number} 的 {site_count} 处场所，最大风速约 {wind_ms:.1f} 米/秒"
        f"（{force} 级），达到{level.zh}预警。{action_zh}；"
        + "；".join(a[0] for a in dict.fromkeys(advice))
    )
    sites = "1 site" if site_count == 1 else f"{site_count} sites"
    en = (
        f"Typhoon {storm_name} ({storm_id}) is expected to reach {sites} of your policy "
        f"{policy_number} from about {local:%H:%M on %d %b} (Beijing time), with winds up to "
        f"about {wind_ms:.1f} m/s (force {force}): {_article(level.en)} {level.en} warning. "
        f"Please {action_en}; " + "; ".join(a[1] for a in dict.fromkeys(advice))
    )
    return zh, en


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


__all__ = [
    "SCENARIO",
    "SITE_COLUMNS",
    "dedup_key",
    "notice_frame",
    "outbox_rows",
    "policy_warnings",
    "reason",
]
