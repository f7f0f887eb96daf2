"""Optimistic locking: of two writers that read the same policy version, exactly one wins —
within one process (two units of work) and across threads through the service layer."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date
from typing import Self
from uuid import uuid4

import pytest
from sqlalchemy import Engine

from baoxian.catalog.services import Catalog
from baoxian.policies.model import Policy, PolicyTerm
from baoxian.policies.ports import (
    EventLog,
    PartyRepository,
    QuoteRepository,
    Sequences,
    UnitOfWorkFactory,
)
from baoxian.policies.repository import (
    SqlPolicyRepository,
    SqlUnitOfWork,
    SqlUnitOfWorkFactory,
)
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.clock import Clock
from baoxian.shared.errors import ConcurrencyConflict
from baoxian.store.crypto import FieldCipher


def test_the_second_writer_with_a_stale_version_loses(
    uow: SqlUnitOfWorkFactory, stored_policy: Policy
) -> None:
    number = stored_policy.policy_number
    with uow() as first, uow() as second:
        mine = first.policies.get(number)
        theirs = second.policies.get(number)
        first.policies.update(replace(mine, contact_address="先到"), expected_version=mine.version)
        first.commit()
        with pytest.raises(ConcurrencyConflict) as lost:
            second.policies.update(
                replace(theirs, contact_address="后到"), expected_version=theirs.version
            )
    assert lost.value.code == "policy.concurrent_change"
    assert lost.value.zh == "保单已被他人修改，请刷新后重试"
    with uow() as work:
        stored = work.policies.get(number)
    assert stored == replace(stored_policy, contact_address="先到", version=1)


class _ReadThenWait:
    """A policy repository that, once it has read a policy, waits for the other clerk to
    have read it too — so both writers certainly hold the same version."""

    def __init__(self, inner: SqlPolicyRepository, barrier: threading.Barrier) -> None:
        self._inner = inner
        self._barrier = barrier

    def add(self, policy: Policy) -> None:
        self._inner.add(policy)

    def get(self, policy_number: str) -> Policy:
        policy = self._inner.get(policy_number)
        self._barrier.wait()
        return policy

    def update(self, policy: Policy, *, expected_version: int) -> Policy:
        return self._inner.update(policy, expected_version=expected_version)

    def preview(self, policy_number: str, units: int) -> tuple[Policy, int]:
        return self._inner.preview(policy_number, units)

    def find(self, *, holder_id: str | None = None, limit: int = 50) -> list[Policy]:
        return self._inner.find(holder_id=holder_id, limit=limit)

    def archive_term(self, policy_number: str, term: PolicyTerm) -> None:
        self._inner.archive_term(policy_number, term)

    def term_on(self, policy_number: str, on: date) -> PolicyTerm | None:
        return self._inner.term_on(policy_number, on)


class _RacingUnitOfWork:
    """The real unit of work, with the policy repository wrapped in :class:`_ReadThenWait`."""

    def __init__(self, inner: SqlUnitOfWork, barrier: threading.Barrier) -> None:
        self._inner = inner
        self._barrier = barrier

    @property
    def parties(self) -> PartyRepository:
        return self._inner.parties

    @property
    def quotes(self) -> QuoteRepository:
        return self._inner.quotes

    @property
    def policies(self) -> _ReadThenWait:
        return _ReadThenWait(self._inner.policies, self._barrier)

    @property
    def events(self) -> EventLog:
        return self._inner.events

    @property
    def sequences(self) -> Sequences:
        return self._inner.sequences

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)

    def commit(self) -> None:
        self._inner.commit()

    def rollback(self) -> None:
        self._inner.rollback()


def _service(uow: UnitOfWorkFactory, catalog: Catalog, clock: Clock) -> PolicyService:
    return PolicyService(uow=uow, catalog=catalog, clock=clock, new_id=lambda: uuid4().hex)


def _issued_policy(service: PolicyService) -> Policy:
    holder = service.register_person(
        "王小明",
        "110105198503120012",
        "13812345678",
        has_basic_medical=True,
        medical_insurance_city="110000",
    )
    quote = service.create_quote(
        QuoteInput(
            product_code="BJ-HMB",
            holder_id=holder.party_id,
            start_date=date(2026, 3, 1),
            insured=(InsuredInput(kind="person", party_id=holder.party_id),),
        )
    )
    return service.issue_policy(quote.quote_id)


def test_two_clerks_changing_contact_at_once_one_wins(
    engine: Engine, cipher: FieldCipher, catalog: Catalog, clock: Clock
) -> None:
    factory = SqlUnitOfWorkFactory(engine, cipher, clock)
    policy = _issued_policy(_service(factory, catalog, clock))
    barrier = threading.Barrier(2, timeout=20)
    racing = _service(lambda: _RacingUnitOfWork(factory(), barrier), catalog, clock)
    outcomes: dict[str, Policy | ConcurrencyConflict] = {}

    def clerk(mobile: str) -> None:
        try:
            outcomes[mobile] = racing.change_contact(
                policy.policy_number, date(2026, 4, 1), mobile=mobile
            )
        except ConcurrencyConflict as conflict:
            outcomes[mobile] = conflict

    threads = [threading.Thread(target=clerk, args=(m,)) for m in ("13900000001", "13900000002")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    winners = {m: o for m, o in outcomes.items() if isinstance(o, Policy)}
    losers = [o for o in outcomes.values() if isinstance(o, ConcurrencyConflict)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert losers[0].code == "policy.concurrent_change"
    ((mobile, won),) = winners.items()
    stored = _service(factory, catalog, clock).policy(policy.policy_number)
    assert stored == won
    assert stored.contact_mobile == mobile and stored.version == policy.version + 1
    history = _service(factory, catalog, clock).history(policy.policy_number)
    assert [e.event_type for e in history] == ["policy.issued", "policy.endorsed"]
