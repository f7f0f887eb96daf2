"""``baoxian radar …`` end to end on a demo store (SQLite): the summary of a storm against the
book with its maps, warnings into the outbox, pre-payments and index pay-outs — each re-run
adding nothing — and bad arguments refused in both languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from stdnum.cn import uscc
from typer.testing import CliRunner

from baoxian.bootstrap import App, build
from baoxian.cli import app
from baoxian.outreach.tables import outreach_outbox
from baoxian.policies.services import InsuredInput, QuoteInput
from baoxian.radar.services import RadarService
from baoxian.radar.tracks import read_track
from baoxian.shared.ids import new_id
from baoxian.shared.money import Money
from tests.conftest import CATALOG_DIR, ROOT

runner = CliRunner()
TYPHOONS = ROOT / "data" / "typhoons"
MANGKHUT = str(TYPHOONS / "2018_mangkhut.csv")
HATO = str(TYPHOONS / "2017_hato.csv")
AREAS = str(ROOT / "examples" / "flood-warning-2026-06.geojson")
ON = "2026-03-01"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("radar-cli")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BAOXIAN_DATABASE_URL", f"sqlite:///{folder / 'cli.db'}")
        patch.setenv("BAOXIAN_CATALOG", str(CATALOG_DIR))
        patch.setenv("COLUMNS", "200")
        code, out = run("demo", "--policies", "400")
        assert code == 0, out
        yield folder


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def service() -> tuple[App, RadarService]:
    application = build()
    radar = RadarService(
        application.engine,
        application.catalog,
        application.claims,
        application.policies.clock,
        new_id,
    )
    return application, radar


def test_run_prints_the_summary_and_writes_both_maps(store: Path) -> None:
    png, page = store / "mangkhut.png", store / "mangkhut.html"
    code, out = run("radar", "run", MANGKHUT, "--on", ON, "--png", str(png), "--html", str(page))
    assert code == 0, out
    for title in (
        "按预警等级 Sites by warning level",
        "省份 Province",
        "城市 City",
        "产品 Product",
    ):
        assert title in out
    assert "台风 Typhoon MANGKHUT（1822）" in out and "红色 red" in out
    _, radar = service()
    assessment = radar.assess(read_track(Path(MANGKHUT)), date(2026, 3, 1))
    total = f"¥{assessment.losses.insured_total.amount:,}"
    assert f"预估赔款合计 Estimated insured loss: {total}" in out
    assert assessment.sites_by_level()  # the same book the command read
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000
    assert "<svg" in page.read_text(encoding="utf-8")
    code, out = run("radar", "run", MANGKHUT, "--on", ON, "--physics", "climada", "--top", "3")
    assert code == 0 and "按城市 City（前 3）" in out


def test_warn_queues_notices_once(store: Path) -> None:
    args = ("radar", "warn", MANGKHUT, "--now", "2018-09-15T20:00+08:00", "--on", ON)
    code, out = run(*args)
    assert code == 0, out
    new = re.search(r"new notices ([\d,]+)，已有 already queued ([\d,]+)", out)
    assert new is not None and int(new.group(1).replace(",", "")) > 0
    application, _ = service()
    with application.engine.connect() as connection:
        queued = connection.execute(
            select(func.count())
            .select_from(outreach_outbox)
            .where(outreach_outbox.c.scenario == "typhoon_warning")
        ).scalar_one()
    assert queued == int(new.group(1).replace(",", ""))
    code, out = run(*args)
    assert code == 0 and f"new notices 0，已有 already queued {queued:,}" in out


def test_prepay_pays_advances_once(store: Path) -> None:
    code, out = run("radar", "prepay", HATO, "--event", "1713", "--on", ON, "--share", "0.3")
    assert code == 0, out
    done = re.search(r"prepaid now ([\d,]+) 件 ¥([\d,.]+)", out)
    assert done is not None and int(done.group(1).replace(",", "")) > 0
    assert "预赔付清单 Pre-payment list · 1713" in out
    code, again = run("radar", "prepay", HATO, "--event", "1713", "--on", ON)
    assert code == 0 and "prepaid now 0 件 ¥0.00" in again
    assert f"已预付 already {done.group(1)}" in again


def test_trigger_pays_index_covers_once(store: Path) -> None:
    application, _ = service()
    policies = application.policies
    owner = policies.register_organisation("珠海便利店", "91110000600037341L", "13900001111")
    shop = InsuredInput(
        "site",
        key="ZH-IX",
        facts={"construction_class": "C", "occupancy": "retail", "coastal": True},
        details={"latitude": 22.27, "longitude": 113.58, "city": "珠海市", "province": "广东省"},
    )
    command = QuoteInput(
        "TY-INDEX", owner.party_id, date(2026, 1, 10), (shop,), {"typhoon_index": Money.of("50000")}
    )
    policies.issue_policy(policies.create_quote(command).quote_id)
    code, out = run("radar", "trigger", HATO, "--event", "1713", "--on", ON)
    assert code == 0, out
    assert "ZH-IX" in out and "十四级风及以上" in out and "50,000.00" in out
    assert "达档 reached a tier 1" in out and "paid 1" in out
    code, again = run("radar", "trigger", HATO, "--event", "1713", "--on", ON)
    assert code == 0 and "已处理 already in store 1" in again


def test_areas_queues_flood_notices_once(store: Path) -> None:
    application, _ = service()
    policies = application.policies
    first17 = "91441800MA4UX0001"
    owner = policies.register_organisation(
        "清远北江仓储", first17 + uscc.calc_check_digit(first17), "13900002222"
    )
    depot = InsuredInput(
        "site",
        key="QY-FL",
        facts={"construction_class": "C", "occupancy": "warehouse", "coastal": False},
        details={"latitude": 23.68, "longitude": 113.05, "city": "清远市", "province": "广东省"},
        declared_sum_insured=Money.of("8000000"),
    )
    command = QuoteInput("PAR-ENT", owner.party_id, date(2026, 1, 10), (depot,))
    number = policies.issue_policy(policies.create_quote(command).quote_id).policy_number
    args = ("radar", "areas", AREAS, "--now", "2026-06-12T10:00+08:00", "--on", ON)
    code, out = run(*args)
    assert code == 0, out
    for words in ("预警区域 Warning areas", "GD-BJ-FL-0612", "洪水 flood", "红色 red", "橙色"):
        assert words in out
    new = re.search(r"new notices ([\d,]+)，已有 already queued ([\d,]+)", out)
    assert new is not None and int(new.group(1).replace(",", "")) >= 1
    with application.engine.connect() as connection:
        keys = (
            connection.execute(
                select(outreach_outbox.c.dedup_key).where(
                    outreach_outbox.c.scenario == "flood_warning"
                )
            )
            .scalars()
            .all()
        )
    assert f"flood_warning:GD-BJ-FL-0612:{number}:red" in keys
    assert len(keys) == int(new.group(1).replace(",", ""))
    code, out = run(*args)
    assert code == 0 and f"new notices 0，已有 already queued {len(keys):,}" in out
    code, out = run("radar", "areas", AREAS, "--now", "2026-06-14T10:00+08:00", "--on", ON)
    assert code == 0 and out.count("已过期 expired") == 3 and "new notices 0，" in out


def test_areas_refuses_a_bad_file(store: Path) -> None:
    bad = store / "bad.geojson"
    bad.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"id": "A", "hazard": "flood"}, "geometry": null}]}'
    )
    code, out = run("radar", "areas", str(bad), "--now", "2026-06-12T10:00+08:00")
    assert code == 1 and "radar.area_level" in out and "features[0]" in out


def test_bad_arguments_are_refused(store: Path) -> None:
    code, out = run("radar", "warn", MANGKHUT, "--now", "2018-09-15T20:00")
    assert code == 2 and "带时区" in out
    code, out = run("radar", "run", str(store / "nope.csv"))
    assert code == 2
    code, out = run("radar", "prepay", HATO, "--event", "台风 1713", "--on", ON)
    assert code == 1 and "radar.event_id" in out
    code, out = run("radar", "prepay", HATO, "--event", "1713", "--share", "0.9", "--on", ON)
    assert code == 1 and "radar.prepayment_share" in out
    code, out = run("radar", "run", MANGKHUT, "--on", "2026-13-01")
    assert code == 2 and "YYYY-MM-DD" in out
