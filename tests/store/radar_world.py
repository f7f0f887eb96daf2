"""A small book for the radar's store tests: property (PAR-ENT) and typhoon index (TY-INDEX)
policies on sites with coordinates in the Pearl River Delta and further away, issued through
the policies service, with the claims and radar services wired as the composition root does."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine
from stdnum.cn import uscc

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.claims.repository import SqlClaimsUnitOfWorkFactory
from baoxian.claims.services import ClaimService
from baoxian.policies.model import Organisation, Policy
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.radar.services import RadarService
from baoxian.radar.tracks import Track, read_track
from baoxian.shared.money import Money

ROOT = Path(__file__).resolve().parents[2]
CATALOG = Catalog(CatalogRepository(ROOT / "catalog"))
TYPHOONS = ROOT / "data" / "typhoons"
ON = date(2026, 9, 1)  # the book date: the storms of 2017–2019 replayed on today's book
M = Money.of

# (city, province, lat, lon) of the places the tests put sites
PLACES = {
    "zhuhai": ("珠海市", "广东省", 22.27, 113.58),
    "shenzhen": ("深圳市", "广东省", 22.54, 114.06),
    "guangzhou": ("广州市", "广东省", 23.13, 113.26),
    "foshan": ("佛山市", "广东省", 23.02, 113.12),
    "huizhou": ("惠州市", "广东省", 23.11, 114.41),
    "qingyuan": ("清远市", "广东省", 23.68, 113.05),
    "beijing": ("北京市", "北京市", 39.90, 116.41),
}


def track(name: str) -> Track:
    return read_track(TYPHOONS / f"{name}.csv")


@dataclass
class Clock:
    """A clock the test moves."""

    now: datetime = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    engine: Engine
    clock: Clock
    policies: PolicyService
    claims: ClaimService
    radar: RadarService
    codes: itertools.count[int]

    def holder(self, name: str) -> Organisation:
        first17 = f"9144030{next(self.codes):010d}"
        code = first17 + uscc.calc_check_digit(first17)
        return self.policies.register_organisation(name, code, "13900001111")


def make_world(engine: Engine, uow: SqlUnitOfWorkFactory) -> World:
    counter = itertools.count(1)
    clock = Clock()

    def new_id() -> str:
        return f"{next(counter):032x}"

    policies = PolicyService(uow=uow, catalog=CATALOG, clock=clock, new_id=new_id)
    claims = ClaimService(
        uow=SqlClaimsUnitOfWorkFactory(engine, clock),
        policies=policies,
        catalog=CATALOG,
        clock=clock,
        new_id=new_id,
    )
    radar = RadarService(engine, CATALOG, claims, clock, new_id)
    return World(engine, clock, policies, claims, radar, itertools.count(1))


def site(
    key: str,
    place: str,
    sum_insured: str | None = None,
    construction: str = "B",
    occupancy: str = "warehouse",
    located: bool = True,
) -> InsuredInput:
    city, province, lat, lon = PLACES[place]
    details: dict[str, object] = {"name": f"{city}{key}", "address": f"{province}{city}示范路1号"}
    if located:
        details.update(latitude=lat, longitude=lon, city=city, province=province)
    return InsuredInput(
        "site",
        key=key,
        facts={"construction_class": construction, "occupancy": occupancy, "coastal": True},
        details=details,
        declared_sum_insured=None if sum_insured is None else M(sum_insured),
    )


def property_policy(world: World, name: str, start: date, *sites: InsuredInput) -> Policy:
    owner = world.holder(name)
    quote = world.policies.create_quote(QuoteInput("PAR-ENT", owner.party_id, start, sites))
    return world.policies.issue_policy(quote.quote_id)


def index_policy(
    world: World, name: str, start: date, sum_insured: str, *sites: InsuredInput
) -> Policy:
    owner = world.holder(name)
    command = QuoteInput(
        "TY-INDEX", owner.party_id, start, sites, selections={"typhoon_index": M(sum_insured)}
    )
    quote = world.policies.create_quote(command)
    return world.policies.issue_policy(quote.quote_id)
