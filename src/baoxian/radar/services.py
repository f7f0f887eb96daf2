"""The risk radar's use cases (风险雷达): assess a storm against the book, warn the insured
before it lands, pre-pay after it, and trigger the index covers — the entry every edge calls.

* :meth:`RadarService.assess` — every in-force site's wind, damage, ground-up and insured loss
  (the product's typhoon deductible: the higher of an amount and a ratio of the loss) and the
  totals by policy, product, city and province;
* :meth:`RadarService.warn` — per site the warning level of the forecast wind from now to the
  end of the forecast; one notice per policy and level (:mod:`baoxian.radar.notices`) into the
  outreach outbox, in the caller's words and channel;
* :meth:`RadarService.warn_areas` — the sites inside rainstorm and flood warning areas
  (GeoJSON polygons, :mod:`baoxian.radar.areas`); one notice per area, policy and level
  (:mod:`baoxian.radar.area_notices`) into the same outbox;
* :meth:`RadarService.prepayment_list` and :meth:`RadarService.prepay` — 预赔付: a claim per
  site reported through the claims context with the estimated loss, and an advance paid on
  it; claim IDs and payment keys come from event, policy and site, so a re-run pays nothing
  twice and the final assessment pays only the rest;
* :meth:`RadarService.trigger_parametric` — 指数保险: each index site's highest wind within
  the cover's radius, its tier, and a claim of the tier's amount reported, decided and paid
  straight through by the claims context's batch path.

The clock and IDs are passed in; nothing here reads settings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
import polars as pl
from sqlalchemy import Engine

from baoxian.catalog.services import Catalog
from baoxian.claims.batch import BatchResult, decide_batch
from baoxian.claims.model import PropertyClaim
from baoxian.claims.services import ClaimService, snapshot
from baoxian.outreach.outbox import NOTICE_COLUMNS, write_notices
from baoxian.radar.area_notices import area_notice_frame
from baoxian.radar.areas import WarningArea, sites_in_areas
from baoxian.radar.assessment import EventAssessment, Physics
from baoxian.radar.exposure import Exposure
from baoxian.radar.loss import (
    CMA_WARNING_THRESHOLDS,
    SiteLosses,
    WarningLevel,
    WarningThresholds,
    all_totals,
    site_losses,
    warning_levels,
)
from baoxian.radar.notices import notice_frame, policy_warnings
from baoxian.radar.parametric import (
    Tier,
    disc_max_wind,
    index_tenths,
    payout,
    tier_index,
    tiers_of,
)
from baoxian.radar.repository import SITE_PRODUCTS, SiteBook, read_exposure, read_preferences
from baoxian.radar.tracks import Track, interpolate_hourly
from baoxian.radar.wind import max_wind, max_wind_by_time
from baoxian.shared.clock import Clock, local_date
from baoxian.shared.errors import DomainError, NotFound, ValidationFailed
from baoxian.shared.money import Money

INDEX_PRODUCTS: tuple[str, ...] = ("TY-INDEX",)
PERIL = "typhoon"
CLAIM_CHANNEL = "radar"
INDEX_CHANNEL = "radar_index"
MAX_EVENT_ID = 24
MIN_PREPAY_LOSS = Money.of("10000")
NATIVE = Physics()
_ONSET_CHUNK = 20_000  # sites per hourly snapshot sweep (bounds memory: hours × chunk floats)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True, eq=False)
class BookAssessment:
    """A storm against the book on a date: the sites read and the event's losses."""

    on: date
    book: SiteBook
    event: EventAssessment

    @property
    def losses(self) -> SiteLosses:
        return self.event.losses

    def site_frame(self) -> pl.DataFrame:
        """Every site with its wind, damage ratio, ground-up and insured loss (fen) and level."""
        losses = self.losses
        return self.book.sites.with_columns(
            lat=self.book.exposure.lat,
            lon=self.book.exposure.lon,
            wind_ms=losses.wind_ms,
            damage_ratio=losses.damage_ratio,
            ground_up_fen=losses.ground_up_fen,
            insured_fen=losses.insured_fen,
            level=losses.warning,
        )

    def sites_by_level(self) -> dict[WarningLevel, int]:
        return _count_levels(self.losses.warning)


@dataclass(frozen=True, slots=True, eq=False)
class WarningResult:
    """One warning run: sites by level, the warned sites (policy, unit, level, wind, onset),
    the notices offered to the outbox and how many of them were new there."""

    storm_id: str
    storm_name: str
    now: datetime
    sites_by_level: Mapping[WarningLevel, int]
    sites: pl.DataFrame
    notices: pl.DataFrame
    written: int

    @property
    def already_known(self) -> int:
        return self.notices.height - self.written


@dataclass(frozen=True, slots=True, eq=False)
class AreaWarningResult:
    """One run of rainstorm and flood warning areas: the areas used and those already expired
    at ``now``, sites by their highest level, the (area, site) pairs inside, the notices
    offered to the outbox and how many of them were new there."""

    now: datetime
    areas: tuple[WarningArea, ...]
    expired: tuple[WarningArea, ...]
    sites_by_level: Mapping[WarningLevel, int]
    sites: pl.DataFrame
    notices: pl.DataFrame
    written: int

    @property
    def already_known(self) -> int:
        return self.notices.height - self.written

    def sites_by_area(self) -> dict[str, int]:
        """How many insured sites lie in each area used (0 for none)."""
        counts = dict(self.sites.group_by("area_id").len().iter_rows())
        return {area.area_id: int(counts.get(area.area_id, 0)) for area in self.areas}


@dataclass(frozen=True, slots=True)
class PrepaymentLine:
    """One site on the pre-payment list (预赔付清单)."""

    policy_number: str
    unit_key: str
    site_name: str
    holder_id: str
    wind_ms: float
    ground_up: Money
    estimate: Money  # estimated insured loss: ground-up less the deductible, within the limit
    advance: Money  # share × estimate, rounded down to the fen


@dataclass(frozen=True, slots=True)
class PrepayOutcome:
    """What happened to one line: ``prepaid`` now, ``already`` prepaid by an earlier run, or
    ``refused`` by the claims context (its code and reason kept)."""

    line: PrepaymentLine
    claim_id: str
    status: str
    code: str = ""
    zh: str = ""
    en: str = ""


@dataclass(frozen=True, slots=True)
class PrepayResult:
    event_id: str
    outcomes: tuple[PrepayOutcome, ...]

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def advanced(self) -> Money:
        """What this run paid (not what earlier runs did)."""
        paid = [o.line.advance for o in self.outcomes if o.status == "prepaid"]
        return sum(paid, start=Money.ZERO)


@dataclass(frozen=True, slots=True)
class ParametricLine:
    """An index site whose wind reached a tier, with the claim it is paid by."""

    policy_number: str
    unit_key: str
    holder_id: str
    index_ms: Decimal  # the index (0.1 m/s, in the cover's averaging period)
    tier: Tier
    sum_insured: Money
    payout: Money
    claim_id: str
    reason_zh: str
    reason_en: str


@dataclass(frozen=True, slots=True)
class ParametricResult:
    """One trigger run: sites measured, the lines that reached a tier, and what the claims
    batch did with them (already decided claims are skipped there)."""

    event_id: str
    sites: int
    lines: tuple[ParametricLine, ...]
    batch: BatchResult | None

    @property
    def total(self) -> Money:
        return sum((line.payout for line in self.lines), start=Money.ZERO)


# --------------------------------------------------------------------------- the service


@dataclass
class RadarService:
    engine: Engine
    catalog: Catalog
    claims: ClaimService
    clock: Clock
    new_id: Callable[[], str]
    physics: Physics = field(default_factory=Physics)
    thresholds: WarningThresholds = CMA_WARNING_THRESHOLDS
    products: tuple[str, ...] = SITE_PRODUCTS
    index_products: tuple[str, ...] = INDEX_PRODUCTS
    claim_workers: int | None = 0  # worker processes of the index claims batch (0: this one)

    # ---------------------------------------------------------------- assess

    def exposure(self, on: date, products: Sequence[str] | None = None) -> SiteBook:
        """The in-force sites of ``products`` (default: the indemnity products) on ``on``."""
        return read_exposure(self.engine, self.catalog, on, products or self.products, PERIL)

    def assess(self, track: Track, on: date) -> BookAssessment:
        """The storm against the book in force on ``on``."""
        book = self.exposure(on)
        return BookAssessment(on, book, assess_book(track, book, self.physics, self.thresholds))

    # ---------------------------------------------------------------- warn

    def warn(
        self,
        forecast: Track,
        now: datetime,
        horizon: timedelta | None = None,
        on: date | None = None,
    ) -> WarningResult:
        """Warning levels of every insured site (indemnity and index covers) in force on ``on``
        (default: today in Beijing) from the forecast wind between ``now`` and the end of the
        forecast (or ``now + horizon``); one notice per policy and level at blue or above,
        handed to the outreach outbox."""
        _require_aware(now)
        book = self.exposure(on or local_date(now), (*self.products, *self.index_products))
        hourly = interpolate_hourly(forecast, positions=self.physics.interpolation)
        ahead = forecast_window(hourly, now, horizon)
        levels, wind = self._forecast_levels(ahead, book.exposure)
        sites = self._warned_sites(book, ahead, levels, wind)
        frame = notice_frame(
            policy_warnings(sites),
            read_preferences(self.engine),
            forecast.storm_id,
            forecast.name,
            local_date(now),
        ).select(NOTICE_COLUMNS)
        with self.engine.begin() as connection:
            written = write_notices(connection, frame, now)
        return WarningResult(
            forecast.storm_id, forecast.name, now, _count_levels(levels), sites, frame, written
        )

    def _warned_sites(
        self, book: SiteBook, ahead: Track | None, levels: np.ndarray, wind: np.ndarray
    ) -> pl.DataFrame:
        """The sites at blue or above with their level, wind and onset (first force 6)."""
        warned = np.flatnonzero(levels >= WarningLevel.BLUE)
        onsets = _onsets(ahead, book.exposure, warned, self.thresholds.blue, self.physics)
        return book.sites[warned].with_columns(
            level=pl.Series(levels[warned], dtype=pl.Int8),
            wind_ms=pl.Series(wind[warned], dtype=pl.Float64),
            onset=pl.Series(onsets, dtype=pl.Datetime("us", "UTC")),
        )

    def _forecast_levels(
        self, ahead: Track | None, exposure: Exposure
    ) -> tuple[np.ndarray, np.ndarray]:
        if ahead is None or exposure.size == 0:
            return np.zeros(exposure.size, np.int8), np.zeros(exposure.size)
        wind = max_wind(ahead, exposure.lat, exposure.lon, self.physics.wind)
        return warning_levels(wind, self.thresholds), wind

    # ---------------------------------------------------------------- rain and flood areas

    def warn_areas(
        self, areas: Sequence[WarningArea], now: datetime, on: date | None = None
    ) -> AreaWarningResult:
        """Warn the insured sites (indemnity covers responding to the area's hazard) in force
        on ``on`` (default: today in Beijing) that lie inside each rainstorm or flood warning
        area still valid at ``now``: one notice per area, policy and level into the outreach
        outbox.  Areas whose ``valid_until`` is not after ``now`` are left out (``expired``)."""
        _require_aware(now)
        day = on or local_date(now)
        live = tuple(a for a in areas if a.valid_until is None or a.valid_until > now)
        expired = tuple(a for a in areas if a not in live)
        hits: list[pl.DataFrame] = []
        levels: list[pl.DataFrame] = []
        for hazard in dict.fromkeys(a.hazard for a in live):
            book = read_exposure(self.engine, self.catalog, day, self.products, hazard)
            lat, lon = book.exposure.lat, book.exposure.lon
            chosen = [a for a in live if a.hazard == hazard]
            keys = book.sites.select("policy_number", "unit_key")
            levels.append(keys.with_columns(level=pl.Series(sites_in_areas(lat, lon, chosen))))
            for area in chosen:
                inside = np.flatnonzero(area.contains(lat, lon))
                hits.append(
                    book.sites[inside]
                    .select("policy_number", "holder_id", "unit_key", "occupancy")
                    .with_columns(
                        area_id=pl.lit(area.area_id),
                        hazard=pl.lit(area.hazard),
                        level=pl.lit(int(area.level), dtype=pl.Int8),
                    )
                )
        sites = _area_hits(hits)
        frame = area_notice_frame(
            sites, {a.area_id: a for a in live}, read_preferences(self.engine), now, local_date(now)
        ).select(NOTICE_COLUMNS)
        with self.engine.begin() as connection:
            written = write_notices(connection, frame, now)
        return AreaWarningResult(now, live, expired, _highest_levels(levels), sites, frame, written)

    # ---------------------------------------------------------------- pre-payment

    def prepayment_list(
        self,
        assessment: BookAssessment,
        share: Decimal = Decimal("0.3"),
        min_loss: Money = MIN_PREPAY_LOSS,
    ) -> list[PrepaymentLine]:
        """Sites whose estimated insured loss is at least ``min_loss``, largest first, each
        with an advance of ``share`` of the estimate rounded down to the fen."""
        _require_share(share, self.claims.prepayment_share)
        frame = assessment.site_frame().filter(
            (pl.col("insured_fen") > 0) & (pl.col("insured_fen") >= min_loss.fen)
        )
        advance = _floor_share(frame["insured_fen"].to_numpy(), share)
        frame = frame.with_columns(advance_fen=advance).sort(
            ["insured_fen", "policy_number", "unit_key"], descending=[True, False, False]
        )
        return [
            PrepaymentLine(
                policy_number=row["policy_number"],
                unit_key=row["unit_key"],
                site_name=row["name"],
                holder_id=row["holder_id"],
                wind_ms=row["wind_ms"],
                ground_up=Money.from_fen(row["ground_up_fen"]),
                estimate=Money.from_fen(row["insured_fen"]),
                advance=Money.from_fen(row["advance_fen"]),
            )
            for row in frame.iter_rows(named=True)
        ]

    def prepay(
        self, lines: Sequence[PrepaymentLine], event_id: str, loss_date: date
    ) -> PrepayResult:
        """Report a typhoon claim per line (the ground-up estimate as the assessed loss, on the
        green channel) and pay its advance.  A line already prepaid for this event is left
        alone; a line the claims context refuses is kept with its reason."""
        _require_event_id(event_id)
        return PrepayResult(
            event_id, tuple(self._prepay_one(line, event_id, loss_date) for line in lines)
        )

    def _prepay_one(self, line: PrepaymentLine, event_id: str, loss_date: date) -> PrepayOutcome:
        claim_id = claim_id_for("advance", event_id, line.policy_number, line.unit_key)
        request = advance_request_id(event_id, line.policy_number, line.unit_key)
        if self._already_prepaid(claim_id, request):
            return PrepayOutcome(line, claim_id, "already")
        claim = PropertyClaim(
            claim_id, line.policy_number, line.unit_key, loss_date, PERIL, line.ground_up
        )
        try:
            self._require_cover(line, loss_date)
            self.claims.report(claim, channel=CLAIM_CHANNEL, green_channel=True)
            self.claims.prepay(claim_id, line.advance, request_id=request)
        except DomainError as refused:
            return PrepayOutcome(line, claim_id, "refused", refused.code, refused.zh, refused.en)
        return PrepayOutcome(line, claim_id, "prepaid")

    def _require_cover(self, line: PrepaymentLine, loss_date: date) -> None:
        """No advance on a site the policy did not cover on the date of loss (the claims
        context would decline the claim later and the advance would have to be recovered)."""
        policy = self.claims.policies.policy_on(line.policy_number, loss_date)
        cover = snapshot(policy, line.unit_key, self.catalog)
        if not (cover.in_force and cover.term_start <= loss_date < cover.term_end):
            raise ValidationFailed(
                "radar.not_in_force",
                f"保单 {line.policy_number} 在出险日 {loss_date} 不在保险期间内，不预付",
                f"policy {line.policy_number} was not in force on {loss_date}: no advance",
            )

    def _already_prepaid(self, claim_id: str, request_id: str) -> bool:
        try:
            payments = self.claims.payments(claim_id)
        except NotFound:
            return False
        key = f"{claim_id}:prepay:{request_id}"
        return any(p.idempotency_key == key for p in payments)

    # ---------------------------------------------------------------- index covers

    def trigger_parametric(self, track: Track, event_id: str, on: date) -> ParametricResult:
        """Measure every in-force index site's wind within its cover's radius, pick the tier,
        and have the claims context report, decide and pay a claim of the tier's amount (one
        set-based batch; claims already in the store are skipped, so a re-run pays nothing)."""
        _require_event_id(event_id)
        book = self.exposure(on, self.index_products)
        hourly = interpolate_hourly(track, positions=self.physics.interpolation)
        lines = [
            line
            for plan, terms in book.terms.items()
            if terms.parametric is not None
            for line in self._index_lines(hourly, book, plan, event_id)
        ]
        claims = [
            PropertyClaim(
                line.claim_id,
                line.policy_number,
                line.unit_key,
                on,
                PERIL,
                line.payout,
                basis_zh=line.reason_zh,
                basis_en=line.reason_en,
            )
            for line in lines
        ]
        batch = None
        if claims:
            batch = decide_batch(
                self.engine,
                self.claims.policies,
                self.catalog,
                claims,
                channel=INDEX_CHANNEL,
                green_channel=True,
                clock=self.clock,
                new_id=self.new_id,
                review_policy=self.claims.review_policy,
                anomaly_model=self.claims.anomaly_model,
                workers=self.claim_workers,
            )
        return ParametricResult(event_id, book.size, tuple(lines), batch)

    def _index_lines(
        self, hourly: Track, book: SiteBook, plan: tuple[str, str], event_id: str
    ) -> list[ParametricLine]:
        """The sites of one plan version whose index reaches a tier of its trigger."""
        trigger = book.terms[plan].parametric
        assert trigger is not None
        sites = book.sites
        rows = np.flatnonzero(
            ((sites["product_code"] == plan[0]) & (sites["plan_version"] == plan[1])).to_numpy()
        )
        radius = float(trigger.radius_km)
        exposure = book.exposure
        wind = disc_max_wind(
            hourly, exposure.lat[rows], exposure.lon[rows], radius, self.physics.wind
        )
        tenths = index_tenths(wind, trigger.wind_averaging_min)
        tiers = tiers_of(trigger)
        reached = tier_index(tenths, [t.min_tenths for t in tiers])
        lines = []
        for k in np.flatnonzero(reached >= 0):
            site = sites.row(int(rows[k]), named=True)
            sum_insured = Money.from_fen(int(exposure.limit_fen[rows[k]]))
            index = Decimal(int(tenths[k])).scaleb(-1)
            tier = tiers[int(reached[k])]
            amount = payout(sum_insured, tier)
            why = index_reason(hourly, radius, trigger.wind_averaging_min, index, tier, amount)
            number, unit = site["policy_number"], site["unit_key"]
            claim_id = claim_id_for("index", event_id, number, unit)
            line = ParametricLine(
                number, unit, site["holder_id"], index, tier, sum_insured, amount, claim_id, *why
            )
            lines.append(line)
        return lines


# --------------------------------------------------------------------------- pure helpers


def assess_book(
    track: Track,
    book: SiteBook,
    physics: Physics = NATIVE,
    thresholds: WarningThresholds = CMA_WARNING_THRESHOLDS,
) -> EventAssessment:
    """:func:`~baoxian.radar.assessment.assess_event` with the book's ratio deductibles."""
    hourly = interpolate_hourly(track, positions=physics.interpolation)
    exposure = book.exposure
    wind = (
        max_wind(hourly, exposure.lat, exposure.lon, physics.wind) if exposure.size else np.zeros(0)
    )
    losses = site_losses(exposure, wind, physics.vulnerability, thresholds, book.deductible_ratio)
    return EventAssessment(hourly, losses, all_totals(exposure, losses))


def forecast_window(hourly: Track, now: datetime, horizon: timedelta | None = None) -> Track | None:
    """The hourly forecast from the hour of ``now`` on (to ``now + horizon``); None when the
    storm is already past."""
    seconds = hourly.seconds()
    start = int(now.timestamp()) // 3600 * 3600
    end = None if horizon is None else int((now + horizon).timestamp())
    keep = (seconds >= start) & (seconds <= end if end is not None else True)
    chosen = np.flatnonzero(keep)
    if chosen.size == 0:
        return None
    return Track(
        storm_id=hourly.storm_id,
        name=hourly.name,
        times=hourly.times[chosen],
        lat=hourly.lat[chosen],
        lon=hourly.lon[chosen],
        pressure_hpa=hourly.pressure_hpa[chosen],
        vmax_ms=hourly.vmax_ms[chosen],
        wind_avg_period_min=hourly.wind_avg_period_min,
        rmw_km=hourly.rmw_km[chosen],
        env_pressure_hpa=hourly.env_pressure_hpa[chosen],
        source=hourly.source,
    )


def _onsets(
    ahead: Track | None,
    exposure: Exposure,
    warned: np.ndarray,
    threshold_ms: float,
    physics: Physics,
) -> list[datetime]:
    """When each warned site's wind first reaches ``threshold_ms`` (an hourly node time)."""
    if ahead is None or warned.size == 0:
        return []
    times = ahead.times.astype("datetime64[s]")
    found: list[datetime] = []
    for start in range(0, warned.size, _ONSET_CHUNK):
        part = warned[start : start + _ONSET_CHUNK]
        running = max_wind_by_time(
            ahead, exposure.lat[part], exposure.lon[part], times, physics.wind
        )
        first = np.argmax(running >= threshold_ms, axis=0)
        found.extend(_aware(times[i]) for i in first)
    return found


def _aware(moment: np.datetime64) -> datetime:
    return datetime.fromisoformat(f"{moment.astype('datetime64[s]')}+00:00")


_HIT_SCHEMA: dict[str, pl.DataType] = {
    "area_id": pl.String(),
    "hazard": pl.String(),
    "level": pl.Int8(),
    "policy_number": pl.String(),
    "holder_id": pl.String(),
    "unit_key": pl.String(),
    "occupancy": pl.String(),
}


def _area_hits(hits: list[pl.DataFrame]) -> pl.DataFrame:
    if not hits:
        return pl.DataFrame(schema=_HIT_SCHEMA)
    return pl.concat([h.select(list(_HIT_SCHEMA)).cast(pl.Schema(_HIT_SCHEMA)) for h in hits])


def _highest_levels(levels: list[pl.DataFrame]) -> dict[WarningLevel, int]:
    """Each site's (policy, unit) highest level over the hazards' books, counted by level."""
    if not levels:
        return _count_levels(np.zeros(0, np.int8))
    highest = pl.concat(levels).group_by("policy_number", "unit_key").agg(pl.col("level").max())
    return _count_levels(highest["level"].to_numpy())


def _count_levels(levels: np.ndarray) -> dict[WarningLevel, int]:
    counts = np.bincount(levels.astype(np.int64), minlength=len(WarningLevel))
    return {level: int(counts[level]) for level in WarningLevel}


def _floor_share(fen: np.ndarray, share: Decimal) -> np.ndarray:
    """⌊fen × share⌋ exactly (share as a fraction n/d; q·n + ⌊r·n / d⌋ with fen = q·d + r)."""
    n, d = share.as_integer_ratio()
    q, r = np.divmod(fen.astype(np.int64), d)
    result: np.ndarray = q * n + (r * n) // d
    return result


def claim_id_for(purpose: str, event_id: str, policy_number: str, unit_key: str) -> str:
    """A claim ID fixed by what it is for, the event, the policy and the site (32 characters:
    ``RD`` + 30 hex of a SHA-256), so that a re-run reports the same claim.

    >>> claim_id_for("advance", "1822", "PARENT202600000001", "SZ-01")[:2]
    'RD'
    """
    digest = hashlib.sha256(f"{purpose}|{event_id}|{policy_number}|{unit_key}".encode())
    return "RD" + digest.hexdigest()[:30]


def advance_request_id(event_id: str, policy_number: str, unit_key: str) -> str:
    """``{event}:{policy}:{site}:advance`` — hashed in the middle when it would not fit the
    claims context's payment key (100 characters with the claim ID and ``:prepay:``)."""
    plain = f"{event_id}:{policy_number}:{unit_key}:advance"
    if len(plain) <= 60:
        return plain
    digest = hashlib.sha256(f"{policy_number}|{unit_key}".encode()).hexdigest()[:24]
    return f"{event_id}:{digest}:advance"


def index_reason(
    hourly: Track,
    radius_km: float,
    averaging_min: int,
    index: Decimal,
    tier: Tier,
    amount: Money,
) -> tuple[str, str]:
    """Why an index claim pays, in Chinese and English (the storm, the wind and the tier)."""
    return (
        f"台风“{hourly.name}”（{hourly.storm_id}）期间，保险场所周边 {radius_km:g} 公里内最大"
        f" {averaging_min} 分钟平均风速 {index} 米/秒，达到“{tier.zh}”档"
        f"（≥ {tier.min_wind_ms} 米/秒），按保额的 {tier.ratio:.0%} 赔付 {amount.amount:,} 元",
        f"During typhoon {hourly.name} ({hourly.storm_id}) the highest {averaging_min}-minute "
        f"sustained wind within {radius_km:g} km of the insured site was {index} m/s, tier "
        f"'{tier.en}' (≥ {tier.min_wind_ms} m/s): {tier.ratio:.0%} of the sum insured, "
        f"{amount.amount:,} CNY",
    )


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValidationFailed(
            "radar.naive_time", "预警时间须带时区", "The warning time must be timezone-aware"
        )


def _require_share(share: Decimal, ceiling: Decimal) -> None:
    if not (Decimal(0) < share <= ceiling):
        raise ValidationFailed(
            "radar.prepayment_share",
            f"预赔付比例须大于 0 且不超过 {ceiling:.0%}",
            f"The pre-payment share must be above 0 and at most {ceiling:.0%}",
        )


def _require_event_id(event_id: str) -> None:
    if not (0 < len(event_id) <= MAX_EVENT_ID) or not all(
        c.isascii() and (c.isalnum() or c in "-_") for c in event_id
    ):
        raise ValidationFailed(
            "radar.event_id",
            f"事件编号须为 1–{MAX_EVENT_ID} 位字母、数字、- 或 _：{event_id!r}",
            f"The event ID must be 1–{MAX_EVENT_ID} letters, digits, - or _: {event_id!r}",
        )


__all__ = [
    "INDEX_PRODUCTS",
    "AreaWarningResult",
    "BookAssessment",
    "ParametricLine",
    "ParametricResult",
    "PrepayOutcome",
    "PrepayResult",
    "PrepaymentLine",
    "RadarService",
    "WarningResult",
    "advance_request_id",
    "assess_book",
    "claim_id_for",
    "forecast_window",
    "index_reason",
]
