"""Ports of the policies context: what its services need from the outside world.

The store implements them with SQLAlchemy (``baoxian.policies.repository``); unit tests use
the in-memory fakes in ``tests/policies/fakes.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, Self

from baoxian.policies.model import Party, Policy, PolicyTerm, Quote


@dataclass(frozen=True, slots=True)
class Event:
    """An append-only record of a state change (audit trail and outbox)."""

    aggregate_type: str
    aggregate_id: str
    event_type: str
    payload: Mapping[str, Any]
    occurred_at: datetime
    request_id: str | None = None  # idempotency key of the command that caused it


class PartyRepository(Protocol):
    def add(self, party: Party) -> None: ...
    def add_if_new(self, party: Party) -> bool:
        """Register ``party`` unless a party with its ID number is registered already;
        whether it was registered now."""
        ...

    def get(self, party_id: str) -> Party: ...
    def find_by_id_number(self, id_number: str) -> Party | None: ...
    def find_by_mobile(self, mobile: str) -> list[Party]: ...


class QuoteRepository(Protocol):
    def add(self, quote: Quote) -> None: ...
    def get(self, quote_id: str) -> Quote: ...
    def update(self, quote: Quote) -> None: ...
    def get_with_holder(self, quote_id: str) -> tuple[Quote, Party]:
        """The quote and its holder as registered now."""
        ...

    def mark_issued(self, quote_id: str, policy_number: str) -> None:
        """Mark an accepted quote issued as ``policy_number``; ``ConcurrencyConflict`` when
        it is no longer accepted (issued meanwhile by another request)."""
        ...


class PolicyRepository(Protocol):
    def add(self, policy: Policy) -> None: ...
    def get(self, policy_number: str) -> Policy: ...
    def update(self, policy: Policy, *, expected_version: int) -> Policy:
        """Write ``policy`` if the stored version is still ``expected_version``; return it with
        the version incremented, or raise ``ConcurrencyConflict``."""
        ...

    def preview(self, policy_number: str, units: int) -> tuple[Policy, int]:
        """Read-only: the policy with at most ``units`` insured units, and how many it has."""
        ...

    def find(self, *, holder_id: str | None = None, limit: int = 50) -> list[Policy]: ...

    def archive_term(self, policy_number: str, term: PolicyTerm) -> None:
        """Keep a term that is ending (at renewal) for claims reported late."""
        ...

    def term_on(self, policy_number: str, on: date) -> PolicyTerm | None:
        """The archived term covering a date, if any."""
        ...


class EventLog(Protocol):
    def append(self, event: Event) -> None: ...
    def for_aggregate(self, aggregate_id: str) -> list[Event]: ...
    def seen(self, request_id: str) -> bool:
        """Whether a command with this idempotency key has already been applied."""
        ...


class Sequences(Protocol):
    def next_value(self, name: str) -> int:
        """A gap-tolerant increasing counter, e.g. for policy numbers."""
        ...


class UnitOfWork(Protocol):
    # Read-only members, so an implementation may hold richer repositories (e.g. with bulk
    # methods) and a fake may hold plain attributes.
    @property
    def parties(self) -> PartyRepository: ...
    @property
    def quotes(self) -> QuoteRepository: ...
    @property
    def policies(self) -> PolicyRepository: ...
    @property
    def events(self) -> EventLog: ...
    @property
    def sequences(self) -> Sequences: ...

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
