"""红利分配 over the book: the surplus an insurer declares for a participating product's policy
year, shared among its policies.

:meth:`DividendDeclarations.declare` takes the product, the policy year and the declared
amount; every policy of the product in force whose policy year has ended shares it in
proportion to its closing account value for that year (``account.allocate_dividends``: each
share rounded down to the fen, the fen left over to the largest remainders, so the shares add
up to the declared amount exactly).  Each policy's statement (投资报告) and dividend are then
written by ``LedgerService.post_year_end`` — allocated on the policy's anniversary, in cash or
accumulated as the product's default option says — and the daily outreach scan tells each
holder (红利分配).

Declaring again writes nothing new: the bases come from the ledger, so the shares are the same
and a policy that already has its dividend is skipped; a run that stopped half way is finished
by the next.  One transaction per policy (a book of millions wants the set-based path the
daily scan has; this is the per-policy one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, select

from baoxian.billing.account import DividendShare, allocate_dividends, policy_year_period
from baoxian.billing.ledger_service import LedgerService
from baoxian.billing.ledgers import SqlLedgers
from baoxian.policies.model import PolicyStatus
from baoxian.policies.tables import policies
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money, total


@dataclass(frozen=True, slots=True)
class Declaration:
    """A declared dividend and how it was shared: every policy's share (``written``: how many
    dividends this call wrote; the others were written before)."""

    product_code: str
    policy_year: int
    declared: Money
    shares: tuple[DividendShare, ...]
    written: int

    @property
    def allocated(self) -> Money:
        return total([share.amount for share in self.shares])


@dataclass
class DividendDeclarations:
    engine: Engine
    ledger: LedgerService

    def declare(
        self, product_code: str, policy_year: int, declared: Money, on: date
    ) -> Declaration:
        """Share ``declared`` among the product's in-force policies whose ``policy_year``
        ended before ``on``, and write each one's statement and dividend."""
        closed = [
            number
            for number in self._in_force(product_code)
            if self._ended(number, policy_year, on)
        ]
        if not closed:
            raise ValidationFailed(
                "billing.dividend_no_policies",
                f"产品 {product_code} 没有第 {policy_year} 保单年度已结束的有效保单",
                f"no policy of {product_code} in force has finished policy year {policy_year}",
            )
        bases = [(n, self._closing_value(n, policy_year)) for n in closed]
        shares = allocate_dividends(declared, bases)
        written = 0
        for share in shares:
            if self._has_dividend(share.policy_number, policy_year):
                continue
            result = self.ledger.post_year_end(share.policy_number, policy_year, share.amount)
            written += int(result.written)
        return Declaration(product_code, policy_year, declared, shares, written)

    def _in_force(self, product_code: str) -> list[str]:
        query = (
            select(policies.c.policy_number)
            .where(
                policies.c.product_code == product_code,
                policies.c.status == PolicyStatus.IN_FORCE.value,
            )
            .order_by(policies.c.policy_number)
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query).scalars())

    def _ended(self, policy_number: str, policy_year: int, on: date) -> bool:
        """Whether the policy's year ended before ``on`` — on a participating plan."""
        policy = self.ledger.policies.policy(policy_number)
        plan = self.ledger.catalog.plan(policy.product_code, policy.plan_version).plan
        if plan.account is None or plan.account.dividends is None:
            raise ValidationFailed(
                "billing.not_participating",
                f"产品 {policy.product_code} 不是分红产品",
                f"product {policy.product_code} does not pay dividends",
            )
        _start, end = policy_year_period(policy.original_inception, policy_year)
        return end < on

    def _closing_value(self, policy_number: str, policy_year: int) -> Money:
        """The account value at the end of the year (its statement, written if new)."""
        year_end = self.ledger.post_year_end(policy_number, policy_year)
        return year_end.statement.closing.amount

    def _has_dividend(self, policy_number: str, policy_year: int) -> bool:
        with self.engine.connect() as connection:
            return SqlLedgers(connection).dividend(policy_number, policy_year) is not None


__all__ = ["Declaration", "DividendDeclarations"]
