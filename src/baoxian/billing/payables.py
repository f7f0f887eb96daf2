"""Money the insurer owes on a date (应付): pensions, survival benefits, cash dividends.

A :class:`Payable` is pure data.  Its ``key`` — ``policy:kind:date`` — is the deduplication key
of the payment instruction that a later step writes: computing the pay-outs of a policy again
(after a crash, or by a book-wide scan that overlaps the last one) yields the same keys, so
nothing is paid twice.

>>> from datetime import date
>>> from baoxian.shared.money import Money
>>> Payable("PENSIONANN202600000001", PayoutKind.ANNUITY, date(2046, 3, 1), Money.of("515")).key
'PENSIONANN202600000001:annuity:2046-03-01'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from baoxian.shared.money import Money

Payee = Literal["insured", "holder", "beneficiary"]


class PayoutKind(StrEnum):
    ANNUITY = "annuity"  # 养老年金
    SURVIVAL_BENEFIT = "survival_benefit"  # 生存保险金
    DIVIDEND = "dividend"  # 现金红利


KIND_NAMES: dict[PayoutKind, tuple[str, str]] = {
    PayoutKind.ANNUITY: ("养老年金", "Pension annuity"),
    PayoutKind.SURVIVAL_BENEFIT: ("生存保险金", "Survival benefit"),
    PayoutKind.DIVIDEND: ("现金红利", "Cash dividend"),
}


@dataclass(frozen=True, slots=True)
class Payable:
    """One amount due to be paid on ``due_on`` to ``payee``."""

    policy_number: str
    kind: PayoutKind
    due_on: date
    amount: Money
    payee: Payee = "insured"

    @property
    def key(self) -> str:
        """The deduplication key ``policy:kind:date``."""
        return f"{self.policy_number}:{self.kind.value}:{self.due_on.isoformat()}"

    @property
    def zh(self) -> str:
        return KIND_NAMES[self.kind][0]

    @property
    def en(self) -> str:
        return KIND_NAMES[self.kind][1]


__all__ = ["KIND_NAMES", "Payable", "Payee", "PayoutKind"]
