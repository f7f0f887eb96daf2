"""Counters handed out in blocks (hi/lo): a process takes ``block`` values of a counter in
the ``sequences`` table at once, in a short transaction of its own, and hands them out from
memory.  A unit of work that needs a number therefore never holds the counter's row lock
until it commits, so concurrent issues of one series do not queue on that row.

The values stay unique: every block is one atomic ``UPDATE … SET value = value + block``,
and :class:`~baoxian.policies.repository.SqlSequences` (the one-at-a-time counter) takes its
values from the same row.  They are no longer dense or in time order across processes: the
values a process has not used when it stops are never handed out (gaps), and two processes
hand out from their own blocks side by side.  Policy numbers allow both.

PostgreSQL only: on SQLite a second writer waits for the first anyway, so the counter is
taken in the unit of work's own transaction as before.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from baoxian.store.tables import sequences

BLOCK = 100
"""Values taken per allocation: one short transaction per 100 policy numbers."""


@dataclass
class BlockSequences:
    """Counters in blocks of ``block``, taken through ``engine`` — a pool of its own, so
    taking a block never waits for a connection held by a request that waits for the
    number (:func:`block_sequences` makes one)."""

    engine: Engine
    block: int = BLOCK
    _next: dict[str, tuple[int, int]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def next_value(self, name: str) -> int:
        """The next value of counter ``name`` (unique across processes; gaps possible)."""
        with self._lock:
            value, last = self._next.get(name, (1, 0))
            if value > last:
                last = self._allocate(name)
                value = last - self.block + 1
            self._next[name] = (value + 1, last)
        return value

    def _allocate(self, name: str) -> int:
        """Take the next block in its own committed transaction; its last value."""
        with self.engine.begin() as connection:
            last = _increment(connection, name, self.block)
            if last is None:
                connection.execute(
                    pg_insert(sequences).values(name=name, value=0).on_conflict_do_nothing()
                )
                last = _increment(connection, name, self.block)
        assert last is not None
        return last


def _increment(connection: Connection, name: str, by: int) -> int | None:
    statement = (
        update(sequences)
        .where(sequences.c.name == name)
        .values(value=sequences.c.value + by)
        .returning(sequences.c.value)
    )
    found = connection.execute(statement).scalar_one_or_none()
    return None if found is None else int(found)


def block_sequences(engine: Engine, block: int = BLOCK) -> BlockSequences | None:
    """Block counters over a copy of ``engine``'s pool (same connection settings, its own
    connections); None on SQLite, where they would not help."""
    if engine.dialect.name != "postgresql":
        return None
    own = Engine(engine.pool.recreate(), engine.dialect, engine.url)
    return BlockSequences(own, block)


__all__ = ["BLOCK", "BlockSequences", "block_sequences"]
