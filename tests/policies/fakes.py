"""In-memory fakes of the policies ports: same contract as the SQL store, no I/O."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Self

from baoxian.policies.model import (
    Organisation,
    Party,
    Person,
    Policy,
    PolicyTerm,
    Quote,
    QuoteStatus,
)
from baoxian.policies.ports import Event
from baoxian.shared.errors import ConcurrencyConflict, NotFound


@dataclass
class Store:
    """What a fake database holds between units of work."""

    parties: dict[str, Party] = field(default_factory=dict)
    quotes: dict[str, Quote] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)
    commits: int = 0


class FakeParties:
    def __init__(self, data: dict[str, Party]) -> None:
        self.data = data

    def add(self, party: Party) -> None:
        self.data[party.party_id] = party

    def add_if_new(self, party: Party) -> bool:
        number = party.id_number if isinstance(party, Person) else party.credit_code
        if self.find_by_id_number(number) is not None:
            return False
        self.add(party)
        return True

    def get(self, party_id: str) -> Party:
        try:
            return self.data[party_id]
        except KeyError:
            raise NotFound("party.not_found", "没有该客户", "no such party") from None

    def find_by_mobile(self, mobile: str) -> list[Party]:
        return [party for party in self.data.values() if party.mobile == mobile]

    def find_by_id_number(self, id_number: str) -> Party | None:
        for party in self.data.values():
            number = party.id_number if isinstance(party, Person) else party.credit_code
            if number == id_number:
                return party
        return None


class FakeQuotes:
    def __init__(self, data: dict[str, Quote], parties: dict[str, Party]) -> None:
        self.data = data
        self.parties = parties

    def get_with_holder(self, quote_id: str) -> tuple[Quote, Party]:
        quote = self.get(quote_id)
        return quote, self.parties[quote.holder_id]

    def add(self, quote: Quote) -> None:
        self.data[quote.quote_id] = quote

    def get(self, quote_id: str) -> Quote:
        try:
            return self.data[quote_id]
        except KeyError:
            raise NotFound("quote.not_found", "没有该投保单", "no such quote") from None

    def update(self, quote: Quote) -> None:
        self.data[quote.quote_id] = quote

    def mark_issued(self, quote_id: str, policy_number: str) -> None:
        quote = self.get(quote_id)
        if quote.status is not QuoteStatus.ACCEPTED:
            raise ConcurrencyConflict("quote.issued_meanwhile", "已出单", "issued meanwhile")
        self.data[quote_id] = replace(quote, status=QuoteStatus.ISSUED, policy_number=policy_number)


class FakePolicies:
    def __init__(self, data: dict[str, Policy], committed: dict[str, Policy]) -> None:
        self.data = data
        self.committed = committed
        self.terms: dict[str, list[PolicyTerm]] = {}

    def add(self, policy: Policy) -> None:
        self.data[policy.policy_number] = policy

    def get(self, policy_number: str) -> Policy:
        try:
            return self.data[policy_number]
        except KeyError:
            raise NotFound("policy.not_found", "没有该保单", "no such policy") from None

    def update(self, policy: Policy, *, expected_version: int) -> Policy:
        stored = self.committed.get(policy.policy_number)
        if stored is None or stored.version != expected_version:
            raise ConcurrencyConflict("policy.concurrent_change", "保单已被他人修改", "changed")
        saved = replace(policy, version=expected_version + 1)
        self.data[policy.policy_number] = saved
        return saved

    def preview(self, policy_number: str, units: int) -> tuple[Policy, int]:
        policy = self.get(policy_number)
        shown = policy.units[:units]
        keys = {u.key for u in shown}
        cover = tuple(c for c in policy.cover if c.unit_key in keys)
        return replace(policy, units=shown, cover=cover), len(policy.units)

    def find(self, *, holder_id: str | None = None, limit: int = 50) -> list[Policy]:
        found = [p for p in self.data.values() if holder_id in (None, p.holder_id)]
        return found[:limit]

    def archive_term(self, policy_number: str, term: PolicyTerm) -> None:
        self.terms.setdefault(policy_number, []).append(term)

    def term_on(self, policy_number: str, on: date) -> PolicyTerm | None:
        return next((t for t in self.terms.get(policy_number, []) if t.covers(on)), None)


class FakeEvents:
    def __init__(self, data: list[Event]) -> None:
        self.data = data

    def append(self, event: Event) -> None:
        self.data.append(event)

    def for_aggregate(self, aggregate_id: str) -> list[Event]:
        return [e for e in self.data if e.aggregate_id == aggregate_id]

    def seen(self, request_id: str) -> bool:
        return any(e.request_id == request_id for e in self.data)


class FakeSequences:
    def __init__(self, data: dict[str, int]) -> None:
        self.data = data

    def next_value(self, name: str) -> int:
        self.data[name] = self.data.get(name, 0) + 1
        return self.data[name]


class FakeUnitOfWork:
    """Works on a copy of the store; ``commit`` writes the copy back, exit discards it."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> Self:
        self.work = copy.deepcopy(
            (self.store.parties, self.store.quotes, self.store.policies, self.store.events)
        )
        self.sequence_work = dict(self.store.sequences)
        parties, quotes, policies, events = self.work
        self.parties = FakeParties(parties)
        self.quotes = FakeQuotes(quotes, parties)
        self.policies = FakePolicies(policies, self.store.policies)
        self.events = FakeEvents(events)
        self.sequences = FakeSequences(self.sequence_work)
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def commit(self) -> None:
        parties, quotes, policies, events = self.work
        self.store.parties, self.store.quotes = parties, quotes
        self.store.policies, self.store.events = policies, events
        self.store.sequences = self.sequence_work
        self.store.commits += 1
        self.__enter__()

    def rollback(self) -> None:
        """Nothing to do: uncommitted work lives only in the copy."""


def ids() -> itertools.count[int]:
    return itertools.count(1)


__all__ = ["FakeUnitOfWork", "Organisation", "Store", "ids"]
