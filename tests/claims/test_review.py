"""Intelligent review: each rule fires on a hand-built claim and not on its near miss."""

from __future__ import annotations

import doctest
from datetime import date, timedelta
from decimal import Decimal
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baoxian.claims import anomaly, synthetic
from baoxian.claims import review as review_module
from baoxian.claims.model import (
    Accumulators,
    Assessment,
    BillItem,
    HealthClaim,
    ItemResult,
    Outcome,
    PropertyClaim,
    Step,
)
from baoxian.claims.review import (
    PeerStats,
    PriorClaim,
    ProviderProfile,
    Review,
    ReviewContext,
    ReviewPolicy,
    in_quality_sample,
    peer_stats,
    provider_profiles,
    review,
    stays_overlap,
)
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money, total

M = Money.of
ADMITTED = date(2026, 6, 1)


def stay(
    amount: str = "8000",
    *,
    claim_id: str = "C1",
    diagnosis: str = "K35.8",
    provider: str = "H1",
    invoice: str = "INV-1",
    admitted: date = ADMITTED,
    nights: int | None = 4,
    accident: bool = False,
    unit: str = "u1",
) -> HealthClaim:
    """A hospital stay with one in-list bill item (``nights=None``: a pharmacy purchase)."""
    discharged = None if nights is None else admitted + timedelta(days=nights)
    item = BillItem("HOSP", "住院费用", "in_list", M(amount))
    return HealthClaim(
        claim_id,
        "P1",
        unit,
        admitted,
        diagnosis,
        (item,),
        accident=accident,
        provider=provider,
        invoice_no=invoice,
        discharge_date=discharged,
    )


def assessed(
    claim: HealthClaim | PropertyClaim, payable: str | None = None, *rules: str
) -> Assessment:
    """An assessment that pays ``payable`` (default: everything) after the named item rules."""
    if isinstance(claim, HealthClaim):
        claimed = total([i.amount for i in claim.items])
    else:
        claimed = claim.assessed_loss
    paid = claimed if payable is None else M(payable)
    steps = tuple(
        Step("HOSP", "c", rule, Money.ZERO, "drug_not_on_list", ("HOSP",)) for rule in rules
    )
    item = ItemResult("HOSP", "c", claimed, paid, steps)
    outcome: Outcome = "decline" if paid.is_zero() else "pay" if paid == claimed else "partial"
    return Assessment(claim.claim_id, outcome, claimed, paid, (item,), (), Accumulators())


def context(
    *priors: PriorClaim,
    gender: str = "F",
    age: int = 40,
    inception: date = date(2024, 1, 1),
    peers: dict[str, PeerStats] | None = None,
    profiles: dict[str, ProviderProfile] | None = None,
) -> ReviewContext:
    return ReviewContext(gender, age, inception, priors, peers or {}, profiles or {})


def prior(
    *,
    claim_id: str = "C0",
    invoice: str = "INV-0",
    provider: str = "H2",
    admitted: date = date(2026, 3, 1),
    discharged: date | None = date(2026, 3, 5),
    unit: str = "u1",
) -> PriorClaim:
    return PriorClaim(
        claim_id, "P1", unit, invoice, provider, admitted, discharged, "K35.8", M("8000")
    )


def codes(result: Review) -> list[str]:
    return [f.code for f in result.findings]


def run(
    claim: HealthClaim | PropertyClaim,
    ctx: ReviewContext | None = None,
    *,
    payable: str | None = None,
    rules: tuple[str, ...] = (),
    score: float | None = None,
    policy: ReviewPolicy | None = None,
) -> Review:
    return review(
        claim,
        assessed(claim, payable, *rules),
        ctx or context(),
        policy or ReviewPolicy(),
        anomaly_score=score,
    )


# --------------------------------------------------------------------------- each rule


def test_a_clean_claim_goes_straight_through() -> None:
    result = run(stay())
    assert (result.outcome, result.findings) == ("pay", ())


def test_duplicate_invoice_is_declined() -> None:
    result = run(stay(invoice="INV-7"), context(prior(claim_id="C0", invoice="INV-7")))
    assert codes(result) == ["review.duplicate_invoice"]
    assert result.outcome == "decline"
    assert result.findings[0].zh == "发票 INV-7 已在理赔案件 C0 中报销"


def test_duplicate_invoice_near_misses() -> None:
    same_claim_again = context(prior(claim_id="C1", invoice="INV-7"))
    assert run(stay(invoice="INV-7"), same_claim_again).findings == ()
    no_invoice = context(prior(claim_id="C0", invoice=""))
    assert run(stay(invoice=""), no_invoice).findings == ()
    other_invoice = context(prior(claim_id="C0", invoice="INV-8"))
    assert run(stay(invoice="INV-7"), other_invoice).findings == ()


def test_soon_after_inception_is_referred() -> None:
    ctx = context(inception=ADMITTED - timedelta(days=29))
    result = run(stay(), ctx)
    assert codes(result) == ["review.soon_after_inception"]
    assert result.outcome == "refer"


def test_soon_after_inception_near_misses() -> None:
    assert run(stay(), context(inception=ADMITTED - timedelta(days=30))).findings == ()
    accident = stay(diagnosis="S82.2", accident=True)
    assert run(accident, context(inception=ADMITTED - timedelta(days=3))).findings == ()


@pytest.mark.parametrize(
    ("diagnosis", "gender", "age"),
    [("O80", "M", 30), ("O99.8", "M", 30), ("N40", "F", 70), ("C61", "F", 70), ("C53.9", "M", 50)],
)
def test_diagnosis_only_the_other_sex_has_is_declined(
    diagnosis: str, gender: str, age: int
) -> None:
    result = run(stay(diagnosis=diagnosis), context(gender=gender, age=age))
    assert codes(result) == ["review.diagnosis_sex_mismatch"]
    assert result.outcome == "decline"


@pytest.mark.parametrize(
    ("diagnosis", "gender"), [("O80", "F"), ("N40", "M"), ("C50.9", "M"), ("K35.8", "M")]
)
def test_diagnosis_of_either_or_the_same_sex_passes(diagnosis: str, gender: str) -> None:
    assert run(stay(diagnosis=diagnosis), context(gender=gender, age=30)).findings == ()


@pytest.mark.parametrize(
    ("diagnosis", "age"), [("P07.3", 30), ("G30.9", 35), ("F03", 20), ("O80", 60), ("R54", 45)]
)
def test_diagnosis_implausible_at_the_age_is_referred(diagnosis: str, age: int) -> None:
    result = run(stay(diagnosis=diagnosis), context(gender="F", age=age))
    assert codes(result) == ["review.diagnosis_age_mismatch"]
    assert result.outcome == "refer"


@pytest.mark.parametrize(
    ("diagnosis", "age"), [("P07.3", 0), ("P07.3", 1), ("G30.9", 70), ("O80", 30), ("R54", 80)]
)
def test_diagnosis_plausible_at_the_age_passes(diagnosis: str, age: int) -> None:
    assert run(stay(diagnosis=diagnosis), context(gender="F", age=age)).findings == ()


SHORTLY_BEFORE, DURING = date(2026, 5, 30), date(2026, 6, 3)  # vs the stay 06-01..06-05


def test_overlapping_stay_at_another_provider_is_referred() -> None:
    result = run(stay(), context(prior(provider="H2", admitted=SHORTLY_BEFORE, discharged=DURING)))
    assert codes(result) == ["review.overlapping_stay"]
    assert result.outcome == "refer"
    assert result.findings[0].zh == (
        "住院期间 2026-06-01–2026-06-05 与案件 C0 在 H2 的住院期间 2026-05-30–2026-06-03 重叠"
    )
    same_provider_other_bill = context(
        prior(provider="H1", invoice="INV-0", admitted=SHORTLY_BEFORE, discharged=DURING)
    )
    assert codes(run(stay(), same_provider_other_bill)) == ["review.overlapping_stay"]
    day_case_inside = prior(admitted=date(2026, 6, 3), discharged=date(2026, 6, 3))
    assert codes(run(stay(), context(day_case_inside))) == ["review.overlapping_stay"]


def test_overlapping_stay_near_misses() -> None:
    transfer = prior(admitted=date(2026, 5, 25), discharged=ADMITTED)
    assert run(stay(), context(transfer)).findings == ()
    someone_else = prior(unit="u2", admitted=SHORTLY_BEFORE, discharged=DURING)
    assert run(stay(), context(someone_else)).findings == ()
    in_hospital = prior(admitted=SHORTLY_BEFORE, discharged=DURING)
    pharmacy_purchase = stay(nights=None)
    assert run(pharmacy_purchase, context(in_hospital)).findings == ()
    outpatient_before = prior(discharged=None, admitted=ADMITTED)
    assert run(stay(), context(outpatient_before)).findings == ()
    same_bill = prior(
        claim_id="C0", provider="H1", invoice="INV-1", admitted=SHORTLY_BEFORE, discharged=DURING
    )
    assert codes(run(stay(), context(same_bill))) == ["review.duplicate_invoice"]


@given(
    st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    st.integers(0, 30),
    st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    st.integers(0, 30),
)
def test_stays_overlap_is_symmetric_and_a_stay_overlaps_itself_when_it_has_a_night(
    a_in: date, a_nights: int, b_in: date, b_nights: int
) -> None:
    a = (a_in, a_in + timedelta(days=a_nights))
    b = (b_in, b_in + timedelta(days=b_nights))
    assert stays_overlap(a, b) == stays_overlap(b, a)
    assert stays_overlap(a, a) == (a_nights > 0)


def test_drug_off_list_or_not_designated_is_referred() -> None:
    for rule in ("claim.drug_not_on_list", "claim.not_designated_provider"):
        result = run(stay(nights=None), payable="0", rules=(rule,))
        assert codes(result) == ["review.drug_off_list"]
        assert result.outcome == "refer"
    assert run(stay(), payable="6400", rules=("claim.co_payment",)).findings == ()


PEERS = {"K35": PeerStats(M("10000"), M("25000"), 50)}


def test_amount_above_peers_is_referred() -> None:
    result = run(stay("30000.01"), context(peers=PEERS))
    assert codes(result) == ["review.amount_above_peers"]
    assert result.outcome == "refer"


def test_amount_above_peers_near_misses() -> None:
    over_p95_not_3x = run(stay("30000"), context(peers=PEERS))
    assert over_p95_not_3x.findings == ()
    over_3x_not_p95 = {"K35": PeerStats(M("10000"), M("40000"), 50)}
    assert run(stay("35000"), context(peers=over_3x_not_p95)).findings == ()
    too_few_peers = {"K35": PeerStats(M("10000"), M("25000"), 9)}
    assert run(stay("45000"), context(peers=too_few_peers)).findings == ()
    other_category = {"J18": PeerStats(M("10000"), M("25000"), 50)}
    assert run(stay("45000"), context(peers=other_category)).findings == ()


def profile(claims: int, over: str, dup: str) -> dict[str, ProviderProfile]:
    return {"H1": ProviderProfile(claims, M("9000"), Decimal(over), Decimal(dup))}


@pytest.mark.parametrize(("over", "dup"), [("0.31", "0"), ("0", "0.06")])
def test_anomalous_provider_is_referred(over: str, dup: str) -> None:
    result = run(stay(), context(profiles=profile(40, over, dup)))
    assert codes(result) == ["review.provider_anomalous"]
    assert result.outcome == "refer"


def test_anomalous_provider_near_misses() -> None:
    at_the_thresholds = profile(40, "0.30", "0.05")
    assert run(stay(), context(profiles=at_the_thresholds)).findings == ()
    too_few_claims = profile(19, "0.9", "0.5")
    assert run(stay(), context(profiles=too_few_claims)).findings == ()
    assert run(stay(provider="H9"), context(profiles=profile(40, "0.9", "0"))).findings == ()


def test_anomaly_score_at_the_threshold_is_referred() -> None:
    result = run(stay(), score=0.65)
    assert codes(result) == ["review.anomaly_score"]
    assert (result.outcome, result.anomaly_score) == ("refer", 0.65)
    assert run(stay(), score=0.6499).findings == ()
    assert run(stay(), score=None).findings == ()


def test_over_auto_pay_limit_is_referred() -> None:
    result = run(stay("60000"), payable="50000.01")
    assert codes(result) == ["review.over_auto_pay_limit"]
    assert result.findings[0].zh == "应付金额 50,000.01 元超过自动赔付上限 50,000.00 元"
    assert run(stay("60000"), payable="50000").findings == ()


# --------------------------------------------------------------------------- property claims


def typhoon(loss: str = "80000", invoice: str = "") -> PropertyClaim:
    return PropertyClaim("C9", "P1", "SZ-01", ADMITTED, "typhoon", M(loss), invoice_no=invoice)


def test_property_claims_get_only_the_rules_that_make_sense() -> None:
    everything = context(
        prior(claim_id="C0", invoice="SURVEY-1", unit="SZ-01"),
        gender="M",
        inception=ADMITTED - timedelta(days=5),
        peers={"TYP": PeerStats(M("1"), M("1"), 100)},
    )
    result = run(typhoon(invoice="SURVEY-1"), everything, payable="60000", score=0.9)
    assert codes(result) == [
        "review.duplicate_invoice",
        "review.soon_after_inception",
        "review.anomaly_score",
        "review.over_auto_pay_limit",
    ]
    assert run(typhoon(), payable="40000").outcome == "pay"


# --------------------------------------------------------------------------- routing


def test_decline_wins_over_refer_and_every_finding_is_kept() -> None:
    earlier = prior(invoice="INV-1", admitted=date(2026, 1, 5), discharged=date(2026, 1, 9))
    ctx = context(earlier, gender="M", inception=ADMITTED - timedelta(days=3))
    result = run(stay(diagnosis="O80"), ctx, score=0.9)
    assert result.outcome == "decline"
    assert codes(result) == [
        "review.duplicate_invoice",
        "review.soon_after_inception",
        "review.diagnosis_sex_mismatch",
        "review.anomaly_score",
    ]
    assert result.explain()[0].startswith("[review.duplicate_invoice] 发票 INV-1")


def test_a_claim_the_engine_declined_goes_straight_through_as_a_zero_payment() -> None:
    result = run(stay(), payable="0")
    assert result.outcome == "pay"
    assert result.findings == ()


def test_the_assessment_must_be_of_the_claim() -> None:
    with pytest.raises(ValidationFailed) as error:
        review(stay(claim_id="C1"), assessed(stay(claim_id="C2")), context())
    assert error.value.code == "review.assessment_mismatch"


# --------------------------------------------------------------------------- quality sample


def test_quality_sample_is_deterministic_and_about_the_configured_share() -> None:
    share = Decimal("0.02")
    drawn = [in_quality_sample(f"CL{i:08d}", share) for i in range(10_000)]
    assert drawn == [in_quality_sample(f"CL{i:08d}", share) for i in range(10_000)]
    assert 0.015 <= sum(drawn) / len(drawn) <= 0.025


def test_only_straight_through_claims_are_sampled() -> None:
    everyone = ReviewPolicy(quality_sample_share=Decimal("1"))
    assert run(stay(), policy=everyone).quality_sample is True
    assert run(stay(), score=0.9, policy=everyone).quality_sample is False
    nobody = ReviewPolicy(quality_sample_share=Decimal("0"))
    assert run(stay(), policy=nobody).quality_sample is False
    sampled = next(f"C{i}" for i in range(1000) if in_quality_sample(f"C{i}", Decimal("0.02")))
    claim = stay(claim_id=sampled)
    assert run(claim).quality_sample is True
    assert run(claim).quality_sample is True


# --------------------------------------------------------------------------- book statistics


def test_peer_stats_nearest_rank_exact_values() -> None:
    stats = peer_stats(
        [
            ("K35.8", M("400")),
            ("k35.1", M("100")),
            ("K35", M("300")),
            ("K35.9", M("200.01")),
            ("J18.9", M("50")),
            ("C50.9", M("1")),
        ]
        + [("I63.9", M(str(v))) for v in range(1, 21)]
    )
    # K35: 100, 200.01, 300, 400 → median rank ⌈0.5×4⌉ = 2, p95 rank ⌈0.95×4⌉ = 4
    assert stats["K35"] == PeerStats(M("200.01"), M("400"), 4)
    assert stats["J18"] == PeerStats(M("50"), M("50"), 1)
    # I63: 1..20 → median rank 10, p95 rank 19
    assert stats["I63"] == PeerStats(M("10"), M("19"), 20)
    assert set(stats) == {"K35", "J18", "C50", "I63"}


def test_provider_profiles_from_history() -> None:
    peers = {"K35": PeerStats(M("100"), M("300"), 50)}

    def claimed(claim_id: str, provider: str, amount: str, invoice: str) -> PriorClaim:
        return PriorClaim(
            claim_id, "P1", "u1", invoice, provider, ADMITTED, None, "K35.8", M(amount)
        )

    history = [
        claimed("A1", "H1", "100", "I1"),
        claimed("A2", "H1", "400", "I2"),
        claimed("A3", "H1", "200", "I2"),  # the invoice again
        claimed("A4", "H1", "301", ""),
        claimed("B1", "H2", "100", "I9"),
        claimed("X1", "", "999", "I1"),  # no provider: skipped
    ]
    profiles = provider_profiles(history, peers)
    assert profiles["H1"] == ProviderProfile(4, M("250.25"), Decimal("0.5"), Decimal("0.25"))
    assert profiles["H2"] == ProviderProfile(1, M("100"), Decimal("0"), Decimal("0"))
    assert set(profiles) == {"H1", "H2"}


@pytest.mark.parametrize("module", [review_module, synthetic, anomaly])
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.failed == 0
