"""Rainstorm and flood warning areas through the outreach outbox, on SQLite and PostgreSQL: the
insured sites inside each GeoJSON area get one notice per area, policy and level — sites
outside and expired areas none, a re-run nothing new — delivered once by the outbox worker."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select

from baoxian.outreach.channels import MemoryChannel
from baoxian.outreach.messages import render
from baoxian.outreach.model import Preference
from baoxian.outreach.outbox import OutboxDispatcher
from baoxian.outreach.services import OutreachService
from baoxian.outreach.tables import outreach_outbox
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.radar.areas import read_areas
from baoxian.radar.loss import WarningLevel
from baoxian.shared.errors import DomainError
from baoxian.store.crypto import FieldCipher
from tests.store.radar_world import ROOT, World, make_world, property_policy, site

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 6, 12, 10, 0, tzinfo=BEIJING)
ON = date(2026, 6, 12)
EXAMPLE = ROOT / "examples" / "flood-warning-2026-06.geojson"
PRD, BEI = "GD-PRD-RS-0612", "GD-BJ-FL-0612"
EXPIRED = json.dumps(
    {
        "type": "Feature",
        "properties": {
            "id": "GD-ZH-RS-0611",
            "hazard": "rainstorm",
            "level": "red",
            "valid_until": "2026-06-12T08:00+08:00",
        },
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[113.3, 22.0], [113.8, 22.0], [113.8, 22.5], [113.3, 22.0]]],
        },
    }
)


@pytest.fixture
def world(engine: Engine, uow: SqlUnitOfWorkFactory) -> World:
    return make_world(engine, uow)


def outbox(engine: Engine) -> list[tuple[str, str, str, str]]:
    c = outreach_outbox.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(c.dedup_key, c.channel, c.locale, c.status)
            .where(c.scenario == "flood_warning")
            .order_by(c.dedup_key)
        ).all()
    return [tuple(r) for r in rows]


def test_sites_inside_the_areas_are_warned_once_and_delivered(
    world: World, engine: Engine, cipher: FieldCipher
) -> None:
    delta = property_policy(
        world,
        "佛山顺德仓储有限公司",
        date(2026, 3, 1),
        site("FS-01", "foshan", "20000000", "C", "warehouse"),
        site("GZ-01", "guangzhou", "30000000", "B", "office"),
        site("ZH-01", "zhuhai", "10000000"),  # south of the delta area (and in the expired one)
    ).policy_number
    river = property_policy(
        world,
        "清远北江制造有限公司",
        date(2026, 2, 1),
        site("QY-01", "qingyuan", "40000000", "C", "light_manufacturing"),
        site("GZ-02", "guangzhou", "5000000", "B", "retail"),
    )
    far = property_policy(
        world,
        "深圳北京远方有限公司",
        date(2026, 1, 1),
        site("SZ-01", "shenzhen", "40000000"),
        site("BJ-01", "beijing", "40000000"),
    ).policy_number
    OutreachService(engine, cipher, world.clock, lambda: "unused").set_preference(
        Preference(river.holder_id, "email", "en", False, "ops@beijiang.example.cn")
    )
    areas = read_areas(EXAMPLE) + read_areas(EXPIRED)

    first = world.radar.warn_areas(areas, NOW, on=ON)
    assert [a.area_id for a in first.expired] == ["GD-ZH-RS-0611"]
    assert {k: first.sites_by_level[k] for k in WarningLevel} == {
        WarningLevel.NONE: 3,
        WarningLevel.BLUE: 0,
        WarningLevel.YELLOW: 0,
        WarningLevel.ORANGE: 3,
        WarningLevel.RED: 1,
    }
    assert first.sites_by_area() == {PRD: 3, BEI: 1, "ZJ-LJ-FL-0612": 0}
    low, high = sorted([delta, river.policy_number])
    assert first.notices.select("dedup_key", "reason_code", "policy_number").rows() == [
        (f"flood_warning:{PRD}:{low}:orange", "rainstorm_orange", low),
        (f"flood_warning:{PRD}:{high}:orange", "rainstorm_orange", high),
        (f"flood_warning:{BEI}:{river.policy_number}:red", "flood_red", river.policy_number),
    ]
    assert first.written == 3 and far not in first.notices["policy_number"].to_list()
    assert set(first.notices["due_on"].to_list()) == {ON}
    assert set(first.notices["scenario"].to_list()) == {"flood_warning"}
    data = json.loads(first.notices.filter(first.notices["policy_number"] == delta)["data"][0])
    assert (data["site_count"], sorted(data["sites"]), data["level"]) == (
        2,
        ["FS-01", "GZ-01"],
        "orange",
    )

    again = world.radar.warn_areas(areas, NOW + timedelta(hours=1), on=ON)
    assert (again.written, again.already_known) == (0, 3)
    assert outbox(engine) == [
        (f"flood_warning:{BEI}:{river.policy_number}:red", "email", "en", "pending"),
        (f"flood_warning:{PRD}:{delta}:orange", "sms", "zh", "pending"),
        (f"flood_warning:{PRD}:{river.policy_number}:orange", "email", "en", "pending"),
    ]

    port = MemoryChannel(world.clock)
    channels = dict.fromkeys(("sms", "email", "push", "webhook", "inbox"), port)
    worker = OutboxDispatcher(engine, channels, cipher, world.clock, "w1")
    assert worker.run_until_empty().sent == 3
    assert worker.run_until_empty().handled == 0
    assert set(port.calls.values()) == {1}
    text = port.messages[f"flood_warning:{PRD}:{delta}:orange"]
    reason_zh = first.notices.filter(first.notices["policy_number"] == delta)["reason_zh"][0]
    assert text.address == "13900001111" and text.subject == "暴雨洪水预警提醒"
    assert text.body == render("flood_warning", "zh", False, reason_zh, delta).body
    assert text.body.startswith("暴雨橙色预警：珠江三角洲广州、佛山（GD-PRD-RS-0612），有效期至")
    assert "2 处场所" in text.body and "仓库请将货物垫高" in text.body and "办公楼" in text.body
    mail = port.messages[f"flood_warning:{BEI}:{river.policy_number}:red"]
    assert mail.address == "ops@beijiang.example.cn"
    assert mail.subject == "Rainstorm and flood warning"
    assert mail.body.startswith("Red flood warning for Bei River at Qingyuan (GD-BJ-FL-0612)")
    assert "1 site of your policy" in mail.body and "factories:" in mail.body
    assert {status for *_, status in outbox(engine)} == {"sent"}


def test_no_site_inside_warns_nobody(world: World, engine: Engine) -> None:
    property_policy(world, "北京仓储", date(2026, 3, 1), site("BJ-01", "beijing", "20000000"))
    result = world.radar.warn_areas(read_areas(EXAMPLE), NOW, on=ON)
    assert result.notices.is_empty() and result.written == 0
    assert result.sites_by_level[WarningLevel.NONE] == 1
    assert outbox(engine) == []


def test_the_warning_time_must_be_aware(world: World) -> None:
    with pytest.raises(DomainError) as raised:
        world.radar.warn_areas(read_areas(EXAMPLE), datetime(2026, 6, 12, 10), on=ON)
    assert raised.value.code == "radar.naive_time"
