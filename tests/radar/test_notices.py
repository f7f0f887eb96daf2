"""Typhoon warning notices (pure): one per policy and level, the outbox's columns, the holder's
channel preference or the default, and the words — level, wind, force, when, what to do."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import polars as pl
import pytest

from baoxian.outreach.messages import render
from baoxian.outreach.outbox import NOTICE_COLUMNS
from baoxian.radar.advice import (
    GENERAL_ADVICE,
    OCCUPANCY_ADVICE,
    beaufort_force,
    level_action,
    occupancy_advice,
)
from baoxian.radar.loss import WarningLevel
from baoxian.radar.notices import dedup_key, notice_frame, policy_warnings, reason

ONSET = datetime(2018, 9, 15, 17, 0, tzinfo=UTC)  # 01:00 on 16 Sep in Beijing


def sites() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "policy_number": ["P1", "P1", "P2", "P1"],
            "holder_id": ["H1", "H1", "H2", "H1"],
            "unit_key": ["A", "B", "C", "D"],
            "occupancy": ["warehouse", "office", "retail", "warehouse"],
            "level": pl.Series([3, 4, 1, 2], dtype=pl.Int8),
            "wind_ms": [30.0, 33.04, 12.5, 20.0],
            "onset": pl.Series(
                [ONSET, datetime(2018, 9, 15, 20, tzinfo=UTC), ONSET, ONSET],
                dtype=pl.Datetime("us", "UTC"),
            ),
        }
    )


def test_one_line_per_policy_at_its_highest_level() -> None:
    warnings = policy_warnings(sites())
    assert warnings.select("policy_number", "holder_id", "level", "wind_ms").rows() == [
        ("P1", "H1", 4, 33.04),
        ("P2", "H2", 1, 12.5),
    ]
    first = warnings.row(0, named=True)
    assert first["unit_key"] == ["B", "A", "D"]  # strongest wind first
    assert first["occupancy"] == ["office", "warehouse"]
    assert first["onset"] == ONSET


def test_the_notice_frame_has_the_outbox_columns_and_the_preferences() -> None:
    preferences = pl.DataFrame(
        {"party_id": ["H2"], "channel": ["email"], "locale": ["en"], "care": [True]}
    )
    frame = notice_frame(
        policy_warnings(sites()), preferences, "1822", "MANGKHUT", date(2018, 9, 15)
    )
    assert tuple(frame.columns) == NOTICE_COLUMNS
    assert frame.select(
        "dedup_key", "scenario", "party_id", "channel", "locale", "care", "reason_code", "due_on"
    ).rows() == [
        (
            "typhoon_warning:1822:P1:red",
            "typhoon_warning",
            "H1",
            "sms",
            "zh",
            False,
            "typhoon_red",
            date(2018, 9, 16),
        ),
        (
            "typhoon_warning:1822:P2:blue",
            "typhoon_warning",
            "H2",
            "email",
            "en",
            True,
            "typhoon_blue",
            date(2018, 9, 16),
        ),
    ]
    assert frame["run_date"].to_list() == [date(2018, 9, 15)] * 2
    data = json.loads(frame["data"][0])
    assert data == {
        "force": 12,
        "level": "red",
        "max_wind_ms": 33.0,
        "onset": "2018-09-15T17:00:00+00:00",
        "site_count": 3,
        "sites": ["B", "A", "D"],
        "storm": "MANGKHUT",
        "storm_id": "1822",
    }
    assert frame["data"][0] == json.dumps(
        data, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def test_the_words_in_both_languages() -> None:
    zh, en = reason(
        "1822", "MANGKHUT", "P1", WarningLevel.RED, 33.04, ONSET, 3, ["office", "warehouse"]
    )
    assert zh == (
        "台风“MANGKHUT”（1822）预计于 9月16日01时 起影响您保单 P1 的 3 处场所，"
        "最大风速约 33.0 米/秒（12 级），达到红色预警。请停工停业，人员转移到安全场所，不要外出；"
        "办公楼请关好门窗、清理阳台和屋顶杂物，重要资料和电脑设备移至高处并备份数据；"
        "仓库请加固门窗和屋面，货物垫高离地并远离低洼处，检查排水沟和沙袋"
    )
    assert en.startswith(
        "Typhoon MANGKHUT (1822) is expected to reach 3 sites of your policy P1 from about 01:00 "
        "on 16 Sep (Beijing time), with winds up to about 33.0 m/s (force 12): a red warning. "
        "Please close, move everyone to a safe place and stay indoors; offices: "
    )
    _, orange = reason("1822", "M", "P2", WarningLevel.ORANGE, 25.0, ONSET, 1, ["foundry"])
    assert "an orange warning" in orange and "1 site of your policy" in orange
    assert orange.endswith(GENERAL_ADVICE[1])  # a kind of site without its own words
    message = render("typhoon_warning", "zh", False, zh, "P1")
    assert message.subject == "台风预警提醒" and message.body.startswith(zh + "。如有财产损失")
    care = render("typhoon_warning", "en", True, en, "P1")
    assert care.subject == "Typhoon warning" and "call 95500" in care.body


def test_advice_covers_every_occupancy_of_the_property_product() -> None:
    assert set(OCCUPANCY_ADVICE) == {
        "office",
        "retail",
        "warehouse",
        "light_manufacturing",
        "heavy_manufacturing",
    }
    for occupancy in OCCUPANCY_ADVICE:
        zh, en = occupancy_advice(occupancy)
        assert zh and en and "；" not in zh and ";" not in en
    assert occupancy_advice("anything") == GENERAL_ADVICE
    assert [level_action(level)[1][:5] for level in list(WarningLevel)[1:]] == [
        "follo",
        "put y",
        "stop ",
        "close",
    ]
    with pytest.raises(KeyError):
        level_action(WarningLevel.NONE)


def test_beaufort_forces_at_their_lower_bounds() -> None:
    winds = np.array([0.2, 0.3, 10.79, 10.8, 17.2, 24.5, 32.69, 32.7, 41.5, 61.2, 61.3])
    assert beaufort_force(winds).tolist() == [0, 1, 5, 6, 8, 10, 11, 12, 14, 17, 18]


def test_dedup_keys_differ_by_level_only() -> None:
    keys = {dedup_key("1822", "P1", level) for level in WarningLevel}
    assert len(keys) == 5
