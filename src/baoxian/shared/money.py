"""Money as ``Decimal`` yuan in code, whole fen (分) in storage.

>>> Money.of("12.345")
Money('12.35')
>>> Money.of("100").allocate(3)
[Money('33.34'), Money('33.33'), Money('33.33')]
>>> Money.from_fen(1999).fen
1999
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

FEN = Decimal("0.01")


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Convert to ``Decimal`` without passing through float."""
    if isinstance(value, float):  # pragma: no cover - guarded by typing
        raise TypeError("money is never a float")
    return value if isinstance(value, Decimal) else Decimal(value)


def round_fen(value: Decimal) -> Decimal:
    """Round half-up to the fen."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount of CNY, always rounded to the fen."""

    amount: Decimal
    currency: str = "CNY"
    ZERO: ClassVar[Money]

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", round_fen(to_decimal(self.amount)))

    @classmethod
    def of(cls, value: Decimal | int | str) -> Money:
        return cls(to_decimal(value))

    @classmethod
    def from_fen(cls, fen: int) -> Money:
        return cls(Decimal(fen) / 100)

    @property
    def fen(self) -> int:
        """Whole fen for storage."""
        return int(self.amount * 100)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(self, factor: Decimal | int | str) -> Money:
        """Multiply by a ratio or factor, rounding half-up to the fen."""
        return Money(self.amount * to_decimal(factor), self.currency)

    def is_zero(self) -> bool:
        return self.amount == 0

    def is_negative(self) -> bool:
        return self.amount < 0

    def allocate(self, parts: int) -> list[Money]:
        """Split into ``parts`` amounts that sum exactly; earlier parts take the odd fen."""
        if parts < 1:
            raise ValueError("parts must be >= 1")
        base, remainder = divmod(self.fen, parts)
        return [Money.from_fen(base + (1 if i < remainder else 0)) for i in range(parts)]

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __repr__(self) -> str:
        return f"Money('{self.amount}')"

    def __str__(self) -> str:
        return f"¥{self.amount:,.2f}"


Money.ZERO = Money(Decimal(0))


def total(amounts: list[Money]) -> Money:
    """Sum of a list of money (zero for an empty list)."""
    result = Money.ZERO
    for amount in amounts:
        result = result + amount
    return result
