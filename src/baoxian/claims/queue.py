"""The human review queue (人工审核队列): handlers with authority limits, and the order in
which waiting claims are worked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from baoxian.claims.case import ClaimCase
from baoxian.claims.tables import handlers
from baoxian.shared.errors import NotFound, ValidationFailed
from baoxian.shared.money import Money

_NO_CLOCK = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Handler:
    """A claims handler (理赔员) and the largest payable they may approve alone (审批权限);
    a claim above it goes to someone with a higher authority."""

    handler_id: str
    name: str
    authority: Money
    active: bool = True

    def require_authority(self, payable: Money, claim_id: str) -> None:
        if payable > self.authority:
            raise ValidationFailed(
                "claim.over_authority",
                f"赔案 {claim_id} 应付 {payable.amount:,} 元，超过 {self.name} 的审批权限 "
                f"{self.authority.amount:,} 元，请转交更高权限人员",
                f"claim {claim_id} pays {payable.amount:,} CNY, over {self.name}'s authority "
                f"of {self.authority.amount:,} CNY; pass it to someone with a higher one",
            )


def queue_order(case: ClaimCase) -> tuple[bool, datetime, str]:
    """Green channel (绿色通道) first, then the nearest SLA clock, then the oldest claim
    (claim IDs are time-ordered)."""
    return (not case.green_channel, case.sla_due_at or _NO_CLOCK, case.claim_id)


class HandlerRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def put(self, handler: Handler) -> Handler:
        """Add a handler, or change the name and authority of one already there."""
        values = {
            "name": handler.name,
            "authority_fen": handler.authority.fen,
            "active": handler.active,
        }
        found = self._connection.execute(
            update(handlers).where(handlers.c.handler_id == handler.handler_id).values(values)
        )
        if found.rowcount == 0:
            self._connection.execute(
                insert(handlers).values(handler_id=handler.handler_id, **values)
            )
        return handler

    def get(self, handler_id: str) -> Handler:
        row = self._connection.execute(
            select(handlers).where(handlers.c.handler_id == handler_id)
        ).one_or_none()
        if row is None or not row.active:
            raise NotFound(
                "claim.handler_not_found",
                f"没有在岗的理赔员 {handler_id}",
                f"no active claims handler {handler_id}",
            )
        return _handler(row)

    def all(self) -> list[Handler]:
        rows = self._connection.execute(select(handlers).order_by(handlers.c.handler_id))
        return [_handler(row) for row in rows]


def _handler(row: object) -> Handler:
    return Handler(
        row.handler_id,  # type: ignore[attr-defined]
        row.name,  # type: ignore[attr-defined]
        Money.from_fen(row.authority_fen),  # type: ignore[attr-defined]
        row.active,  # type: ignore[attr-defined]
    )


__all__ = ["Handler", "HandlerRepository", "queue_order"]
