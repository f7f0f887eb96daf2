"""Insurance identities that must hold for every input (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from baoxian.catalog.model import QuoteRequest, RiskUnit, quote
from baoxian.catalog.services import Catalog
from baoxian.policies.model import Policy, PolicyStatus, cancellation_refund, pro_rata
from baoxian.shared.clock import add_months
from baoxian.shared.money import Money, total

money = st.integers(min_value=0, max_value=10**12).map(Money.from_fen)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@given(money, st.sampled_from([1, 2, 4, 12]))
def test_instalments_sum_to_the_premium(amount: Money, count: int) -> None:
    parts = amount.allocate(count)
    assert total(parts) == amount
    assert max(parts).fen - min(parts).fen <= 1


def policy_for(start: date, charged: Money) -> Policy:
    return Policy(
        policy_number="T1",
        product_code="LTM-15",
        plan_version="2026",
        holder_id="h",
        status=PolicyStatus.IN_FORCE,
        original_inception=start,
        term_no=1,
        term_start=start,
        term_end=add_months(start, 12),
        instalment="annual",
        units=(),
        cover=(),
        riders=frozenset(),
        optional_coverages=frozenset(),
        selections={},
        annual_premium=charged,
        premium_charged=charged,
        contact_mobile="13800000000",
        contact_address="",
    )


@given(starts, money, st.integers(min_value=0, max_value=364))
def test_refund_plus_retained_equals_charged(start: date, charged: Money, day: int) -> None:
    policy = policy_for(start, charged)
    effective = min(start + timedelta(days=day), policy.term_end - timedelta(days=1))
    refund = cancellation_refund(policy, effective)
    assert refund.refund + refund.retained == refund.charged == charged
    assert not refund.refund.is_negative() and not refund.retained.is_negative()
    assert refund.refund <= charged


@given(starts, money, money, st.integers(min_value=0, max_value=364))
def test_pro_rata_never_exceeds_the_annual_change(
    start: date, old: Money, new: Money, day: int
) -> None:
    policy = policy_for(start, old)
    effective = min(start + timedelta(days=day), policy.term_end - timedelta(days=1))
    delta = pro_rata(new - old, policy, effective)
    assert abs(delta.amount) <= abs((new - old).amount)
    if effective == start:
        assert delta == new - old


@given(
    st.integers(min_value=0, max_value=60),
    st.sampled_from(["M", "F"]),
    st.booleans(),
    st.sampled_from(["annual", "monthly"]),
)
def test_quoted_instalments_sum_to_the_loaded_premium(
    catalog: Catalog, age: int, gender: str, basic: bool, instalment: str
) -> None:
    plan = catalog.plan_on("LTM-15", date(2026, 3, 1))
    facts = {"age": age, "gender": gender, "has_basic_medical": basic, "declared_conditions": []}
    result = quote(
        plan, QuoteRequest(date(2026, 3, 1), (RiskUnit("p", facts),), instalment=instalment)
    )
    loading = Decimal("0.04") if instalment == "monthly" else Decimal(0)
    assert total(list(result.instalments)) == result.annual_premium.times(1 + loading)
    assert result.annual_premium == total([line.amount for line in result.lines])
