"""指数保险 (TY-INDEX) triggered by Typhoon Hato, on SQLite and PostgreSQL: each site's wind
within 30 km picks its tier, the claims context pays the tier's share of the sum insured
straight through, a cover bought days before the storm waits for a person, and a re-run pays
nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from baoxian.claims.case import ClaimStatus
from baoxian.claims.model import PropertyClaim
from baoxian.claims.reasons import step_texts
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.radar.services import claim_id_for
from baoxian.shared.money import Money
from tests.store.radar_world import ON, World, index_policy, make_world, site, track

M = Money.of
EDGES = (Decimal("24.5"), Decimal("32.7"), Decimal("41.5"))


@pytest.fixture
def world(engine: Engine, uow: SqlUnitOfWorkFactory) -> World:
    return make_world(engine, uow)


def test_hato_pays_each_index_site_its_tier_once(world: World) -> None:
    shops = index_policy(
        world,
        "珠海连锁便利店",
        date(2026, 3, 1),
        "30000",
        site("ZH-01", "zhuhai"),  # index ≈ 59 m/s: ≥ force 14 → 100 %
        site("GZ-01", "guangzhou"),  # ≈ 34 m/s: ≥ force 12 → 50 %
        site("HZ-01", "huizhou"),  # ≈ 28 m/s: ≥ force 10 → 20 %
        site("QY-01", "qingyuan"),  # ≈ 23 m/s: below every tier
    ).policy_number
    farm = index_policy(
        world, "佛山农场", date(2026, 2, 1), "50000", site("FS-01", "foshan")
    ).policy_number  # ≈ 39 m/s → 50 %
    late = index_policy(
        world, "临时投保商户", ON - timedelta(days=5), "10000", site("ZH-02", "zhuhai")
    ).policy_number  # bought five days before the storm
    index_policy(world, "北京商户", date(2026, 1, 1), "50000", site("BJ-01", "beijing"))

    result = world.radar.trigger_parametric(track("2017_hato"), "1713", ON)
    assert result.sites == 7
    lines = {(line.policy_number, line.unit_key): line for line in result.lines}
    assert {k: (v.tier.en, v.sum_insured, v.payout) for k, v in lines.items()} == {
        (shops, "ZH-01"): ("Force 14 or above", M("30000"), M("30000.00")),
        (shops, "GZ-01"): ("Force 12 or above", M("30000"), M("15000.00")),
        (shops, "HZ-01"): ("Force 10 or above", M("30000"), M("6000.00")),
        (farm, "FS-01"): ("Force 12 or above", M("50000"), M("25000.00")),
        (late, "ZH-02"): ("Force 14 or above", M("10000"), M("10000.00")),
    }
    assert result.total == M("86000.00")
    for line in result.lines:  # every index is well inside its band: the tiers are not luck
        assert min(abs(line.index_ms - edge) for edge in EDGES) >= Decimal("0.5")
    zhuhai = lines[(shops, "ZH-01")]
    assert zhuhai.reason_zh.startswith(
        f"台风“HATO”（1713）期间，保险场所周边 30 公里内最大 2 分钟平均风速 {zhuhai.index_ms} 米/秒"
    )
    assert (
        "达到“十四级风及以上”档（≥ 41.5 米/秒），按保额的 100% 赔付 30,000.00 元"
        in zhuhai.reason_zh
    )
    assert zhuhai.reason_en.endswith("tier 'Force 14 or above' (≥ 41.5 m/s): 100% of the sum "
                                     "insured, 30,000.00 CNY")  # fmt: skip

    batch = result.batch
    assert batch is not None
    assert (batch.received, batch.decided, batch.already_in_store) == (5, 5, 0)
    assert dict(batch.statuses) == {"paid": 4, "referred": 1}
    assert batch.paid == M("76000.00")
    for line in result.lines:
        case = world.claims.case(line.claim_id)
        assert line.claim_id == claim_id_for("index", "1713", line.policy_number, line.unit_key)
        assert isinstance(case.claim, PropertyClaim) and case.channel == "radar_index"
        assert (case.claim.peril, case.claim.assessed_loss) == ("typhoon", line.payout)
        if line.policy_number == late:  # 出险后投保 risk: a person looks first
            assert case.status is ClaimStatus.REFERRED and case.paid == M("0")
            assert case.review is not None
            assert [f["code"] for f in case.review["findings"]] == ["review.soon_after_inception"]
            continue
        assert (case.status, case.payable, case.paid) == (
            ClaimStatus.PAID,
            line.payout,
            line.payout,
        )
        assert case.eob is not None  # the measured basis, then nothing off (no deductible)
        assert case.eob["items"][0]["steps"] == [
            {
                "rule": "claim.index_basis",
                "coverage": "typhoon_index",
                "reduction_fen": 0,
                "text": "index_basis",
                "args": [line.reason_zh, line.reason_en],
            }
        ]
        assert step_texts(case.eob["items"][0]["steps"][0]) == (line.reason_zh, line.reason_en)
        assert case.eob["items"][0]["payable_fen"] == line.payout.fen
        assert [(p.kind, p.amount) for p in world.claims.payments(line.claim_id)] == [
            ("final", line.payout)
        ]

    again = world.radar.trigger_parametric(track("2017_hato"), "1713", ON)
    assert again.batch is not None
    assert (again.batch.decided, again.batch.already_in_store, again.batch.paid) == (0, 5, M("0"))
    for line in again.lines:
        assert len(world.claims.payments(line.claim_id)) == (0 if line.policy_number == late else 1)


def test_no_index_policies_no_claims(world: World) -> None:
    result = world.radar.trigger_parametric(track("2018_mangkhut"), "1822", ON)
    assert (result.sites, result.lines, result.batch) == (0, (), None)
