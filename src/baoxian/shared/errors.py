"""Domain errors with stable codes and bilingual messages.

Every broken invariant raises a :class:`DomainError` subclass.  The ``code`` is stable
(API clients and tests match on it); ``zh`` and ``en`` are shown to people.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain was broken; nothing was changed."""

    code: str = "domain_error"

    def __init__(self, code: str, zh: str, en: str, **details: Any) -> None:
        super().__init__(f"[{code}] {zh} / {en}")
        self.code = code
        self.zh = zh
        self.en = en
        self.details = details

    def message(self) -> str:
        """The message as shown to a person: Chinese first, then English."""
        return f"{self.zh}（{self.en}）"


class ValidationFailed(DomainError):
    """Input does not satisfy the rules (bad ID number, unknown product, …)."""


class NotFound(DomainError):
    """The thing asked for does not exist."""


class InvalidTransition(DomainError):
    """A state machine was asked to move along an edge it does not have."""


class ConcurrencyConflict(DomainError):
    """Someone else changed the same aggregate first (optimistic locking)."""


class LimitExceeded(DomainError):
    """A request is larger than a stated limit allows (e.g. members in one batch)."""
