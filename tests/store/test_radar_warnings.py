"""Typhoon warnings through the outreach outbox, on SQLite and PostgreSQL: one notice per policy
and level from successive forecasts of Mangkhut — the same level again is nothing new, a higher
level is — in each holder's channel and language, delivered once by the outbox worker."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from sqlalchemy import Engine, func, select

from baoxian.outreach.channels import MemoryChannel
from baoxian.outreach.messages import render
from baoxian.outreach.model import Preference
from baoxian.outreach.outbox import OutboxDispatcher
from baoxian.outreach.services import OutreachService
from baoxian.outreach.tables import outreach_outbox
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.radar.loss import WarningLevel
from baoxian.radar.tracks import Track
from baoxian.shared.errors import DomainError
from baoxian.store.crypto import FieldCipher
from tests.store.radar_world import ON, World, make_world, property_policy, site, track

FIRST_FORECAST = datetime(2018, 9, 15, 12, 0, tzinfo=UTC)  # 20:00 in Beijing, the day before
LATER_FORECAST = datetime(2018, 9, 16, 0, 0, tzinfo=UTC)


@pytest.fixture
def world(engine: Engine, uow: SqlUnitOfWorkFactory) -> World:
    return make_world(engine, uow)


def until(storm: Track, last_fix: str) -> Track:
    """The forecast as it stood: the fixes up to ``last_fix``."""
    keep = storm.times <= np.datetime64(last_fix)
    return Track(
        storm.storm_id,
        storm.name,
        storm.times[keep],
        storm.lat[keep],
        storm.lon[keep],
        storm.pressure_hpa[keep],
        storm.vmax_ms[keep],
        storm.wind_avg_period_min,
        storm.rmw_km[keep],
        storm.env_pressure_hpa[keep],
        storm.source,
    )


def outbox(engine: Engine) -> list[tuple[str, str, str, str]]:
    c = outreach_outbox.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(c.dedup_key, c.channel, c.locale, c.status)
            .where(c.scenario == "typhoon_warning")
            .order_by(c.dedup_key)
        ).all()
    return [tuple(r) for r in rows]


def test_warnings_rise_with_the_forecast_and_are_delivered_once(
    world: World, engine: Engine, cipher: FieldCipher
) -> None:
    delta = property_policy(
        world,
        "珠海华发仓储有限公司",
        date(2026, 3, 1),
        site("ZH-01", "zhuhai", "20000000", "C", "warehouse"),
        site("SZ-01", "shenzhen", "80000000", "B", "office"),
    ).policy_number
    canton = property_policy(
        world, "广州天河商务有限公司", date(2026, 2, 1), site("GZ-01", "guangzhou", "50000000")
    )
    far = property_policy(
        world, "北京远方有限公司", date(2026, 1, 1), site("BJ-01", "beijing", "40000000")
    ).policy_number
    OutreachService(engine, cipher, world.clock, lambda: "unused").set_preference(
        Preference(canton.holder_id, "email", "en", False, "ops@tianhe.example.cn")
    )
    mangkhut = track("2018_mangkhut")

    first = world.radar.warn(until(mangkhut, "2018-09-16T03"), FIRST_FORECAST, on=ON)
    assert {k: first.sites_by_level[k] for k in WarningLevel} == {
        WarningLevel.NONE: 1,
        WarningLevel.BLUE: 1,
        WarningLevel.YELLOW: 2,
        WarningLevel.ORANGE: 0,
        WarningLevel.RED: 0,
    }
    assert first.notices["dedup_key"].to_list() == [
        f"typhoon_warning:1822:{delta}:yellow",
        f"typhoon_warning:1822:{canton.policy_number}:blue",
    ]
    assert first.written == 2 and far not in first.notices["policy_number"].to_list()
    onset = first.sites.filter(first.sites["unit_key"] == "ZH-01")["onset"][0]
    assert FIRST_FORECAST <= onset <= datetime(2018, 9, 16, 3, tzinfo=UTC)

    again = world.radar.warn(until(mangkhut, "2018-09-16T03"), FIRST_FORECAST, on=ON)
    assert (again.written, again.already_known) == (0, 2)

    later = world.radar.warn(mangkhut, LATER_FORECAST, on=ON)
    assert later.notices.select("policy_number", "reason_code").rows() == [
        (delta, "typhoon_red"),
        (canton.policy_number, "typhoon_yellow"),
    ]
    assert later.written == 2
    assert outbox(engine) == [
        (f"typhoon_warning:1822:{delta}:red", "sms", "zh", "pending"),
        (f"typhoon_warning:1822:{delta}:yellow", "sms", "zh", "pending"),
        (f"typhoon_warning:1822:{canton.policy_number}:blue", "email", "en", "pending"),
        (f"typhoon_warning:1822:{canton.policy_number}:yellow", "email", "en", "pending"),
    ]

    port = MemoryChannel(world.clock)
    channels = dict.fromkeys(("sms", "email", "push", "webhook", "inbox"), port)
    worker = OutboxDispatcher(engine, channels, cipher, world.clock, "w1")
    assert worker.run_until_empty().sent == 4
    assert worker.run_until_empty().handled == 0
    assert set(port.calls.values()) == {1}
    red = port.messages[f"typhoon_warning:1822:{delta}:red"]
    reason_zh = later.notices["reason_zh"][0]
    assert red.address == "13900001111" and red.subject == "台风预警提醒"
    assert red.body == render("typhoon_warning", "zh", False, reason_zh, delta).body
    assert "达到红色预警" in red.body and "仓库请加固门窗" in red.body and "办公楼" in red.body
    mail = port.messages[f"typhoon_warning:1822:{canton.policy_number}:yellow"]
    assert mail.address == "ops@tianhe.example.cn" and mail.subject == "Typhoon warning"
    assert mail.body.startswith("Typhoon MANGKHUT (1822) is expected to reach 1 site of your")
    assert "a yellow warning" in mail.body
    assert {status for *_, status in outbox(engine)} == {"sent"}


def test_a_storm_that_has_passed_warns_nobody(world: World, engine: Engine) -> None:
    property_policy(world, "珠海仓储", date(2026, 3, 1), site("ZH-01", "zhuhai", "20000000"))
    result = world.radar.warn(track("2018_mangkhut"), datetime(2018, 9, 20, tzinfo=UTC), on=ON)
    assert result.notices.is_empty() and result.written == 0
    assert result.sites_by_level[WarningLevel.NONE] == 1
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(outreach_outbox)).scalar() == 0


def test_the_forecast_time_must_be_aware(world: World) -> None:
    with pytest.raises(DomainError) as raised:
        world.radar.warn(track("2018_mangkhut"), datetime(2018, 9, 15, 12), on=ON)
    assert raised.value.code == "radar.naive_time"
