"""SQL persistence of payment orders.  Writes are guarded by the version read, so of two
requests racing for one order exactly one succeeds; each settled charge is also an event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from baoxian.billing.model import Order, OrderStatus
from baoxian.billing.tables import payment_orders
from baoxian.shared.money import Money
from baoxian.store.tables import events


class SqlOrderRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def for_quote(self, quote_id: str) -> Order | None:
        row = self._connection.execute(
            select(payment_orders).where(payment_orders.c.quote_id == quote_id)
        ).one_or_none()
        return None if row is None else _order(row)

    def add(self, order: Order) -> None:
        """Insert the order.  A second order for the same quote raises ``IntegrityError``
        (unique ``quote_id``), which spoils the transaction: give it one of its own."""
        self._connection.execute(insert(payment_orders).values(**_row(order)))

    def update(self, order: Order, *, read_version: int) -> bool:
        """Write the order over the version this request read; False if someone else wrote
        it first."""
        result = self._connection.execute(
            update(payment_orders)
            .where(
                payment_orders.c.order_id == order.order_id,
                payment_orders.c.version == read_version,
            )
            .values(**{k: v for k, v in _row(order).items() if k != "policy_number"})
        )
        return result.rowcount == 1

    def mark_issued(self, order_id: str, policy_number: str) -> bool:
        """Record the policy issued for a paid order — True only for the first caller, so the
        customer is told once."""
        result = self._connection.execute(
            update(payment_orders)
            .where(
                payment_orders.c.order_id == order_id,
                payment_orders.c.status == OrderStatus.PAID.value,
                payment_orders.c.policy_number.is_(None),
            )
            .values(policy_number=policy_number)
        )
        return result.rowcount == 1

    def record(self, order: Order, event_type: str, payload: dict[str, Any]) -> None:
        self._connection.execute(
            insert(events).values(
                aggregate_type="order",
                aggregate_id=order.order_id,
                event_type=event_type,
                payload=payload,
                occurred_at=order.updated_at,
                request_id=None,
            )
        )


def _row(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "quote_id": order.quote_id,
        "payer_id": order.payer_id,
        "amount_fen": order.amount.fen,
        "status": order.status.value,
        "attempts": order.attempts,
        "version": order.version,
        "reference": order.reference,
        "decline_code": order.decline_code,
        "decline_zh": order.decline_zh,
        "decline_en": order.decline_en,
        "policy_number": order.policy_number,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def _order(row: Any) -> Order:
    return Order(
        order_id=row.order_id,
        quote_id=row.quote_id,
        payer_id=row.payer_id,
        amount=Money.from_fen(row.amount_fen),
        status=OrderStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        attempts=row.attempts,
        version=row.version,
        reference=row.reference,
        decline_code=row.decline_code,
        decline_zh=row.decline_zh,
        decline_en=row.decline_en,
        policy_number=row.policy_number,
    )


__all__ = ["SqlOrderRepository"]
