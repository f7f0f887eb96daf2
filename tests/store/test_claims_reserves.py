"""paid + reserve = incurred, whatever happens to a claim (hypothesis).

Random sequences of queue actions, pre-payments and payments — many of them refused — are
run against a large property claim (referred: over the straight-through limit).  After
every step the stored claim must agree with its payment instructions to the fen, the
reserve must never be negative, the incurred figure must be the current estimate (the
provisional payable while waiting, the final payable once decided) and a refused step must
leave the claim exactly as it was."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from baoxian.claims.case import ClaimCase, ClaimStatus
from baoxian.claims.model import PropertyClaim
from baoxian.claims.repository import SqlClaimsUnitOfWorkFactory
from baoxian.claims.services import ClaimService
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import PolicyService
from baoxian.shared.clock import fixed_clock
from baoxian.shared.errors import DomainError
from baoxian.shared.money import Money
from tests.store.test_claims import CATALOG, factory

M = Money.of
COUNTER = itertools.count(1)

Action = tuple[str, int]
ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["prepay", "approve", "decline", "pay", "ask", "answer", "decide"]),
        st.integers(min_value=1, max_value=60_000_000),  # fen, for pre-payments
    ),
    min_size=1,
    max_size=8,
)


@pytest.fixture
def service(engine: Engine, uow: SqlUnitOfWorkFactory) -> tuple[ClaimService, str]:
    clock = fixed_clock(datetime(2026, 9, 20, 2, 0, tzinfo=UTC))

    def new_id() -> str:
        return f"{next(COUNTER):032x}"

    policies = PolicyService(uow=uow, catalog=CATALOG, clock=clock, new_id=new_id)
    claims = ClaimService(
        uow=SqlClaimsUnitOfWorkFactory(engine, clock),
        policies=policies,
        catalog=CATALOG,
        clock=clock,
        new_id=new_id,
    )
    claims.add_handler("li", "李经理", M("5000000"))
    return claims, factory(policies)


def apply(claims: ClaimService, claim_id: str, action: Action) -> None:
    kind, fen = action
    if kind == "prepay":
        claims.prepay(claim_id, Money.from_fen(fen), f"r{fen % 3}")  # some retries repeat
    elif kind == "approve":
        claims.approve(claim_id, "li")
    elif kind == "decline":
        claims.decline(claim_id, "li", "非保险责任", "not covered")
    elif kind == "pay":
        claims.pay(claim_id)
    elif kind == "ask":
        claims.request_info(claim_id, "li", "请补充定损报告", "send the loss assessment")
    elif kind == "answer":
        claims.provide_info(claim_id)
    else:
        claims.decide(claim_id)


def check(claims: ClaimService, case: ClaimCase, provisional: Money) -> None:
    payments = claims.payments(case.claim_id)
    moved = sum(
        (p.amount if p.kind != "recovery" else -p.amount for p in payments), start=Money.ZERO
    )
    assert case.paid == moved
    assert not case.reserve.is_negative()
    assert sum(p.kind == "final" for p in payments) <= 1
    if case.status in (ClaimStatus.REFERRED, ClaimStatus.PENDING_INFO):
        assert case.incurred == provisional
    else:
        assert case.payable is not None and case.incurred == case.payable
        assert case.reserve == Money.ZERO


@pytest.mark.parametrize("blank_engine", ["sqlite"], indirect=True)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(actions=ACTIONS)
def test_paid_plus_reserve_is_incurred_after_every_step(
    service: tuple[ClaimService, str], actions: list[Action]
) -> None:
    claims, number = service
    claim_id = f"R{next(COUNTER)}"
    claim = PropertyClaim(
        claim_id, number, "SZ-01", date(2026, 9, 16), "typhoon", M("1000000"), invoice_no=claim_id
    )
    claims.report(claim)
    provisional = claims.decide(claim_id).reserve
    assert provisional == M("900000.00")  # 1,000,000 less the 10 % deductible
    for action in actions:
        before = claims.case(claim_id)
        try:
            apply(claims, claim_id, action)
        except DomainError:
            assert claims.case(claim_id) == before  # a refused step changes nothing
        check(claims, claims.case(claim_id), provisional)
