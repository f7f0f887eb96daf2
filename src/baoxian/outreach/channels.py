"""Channel adapters behind :class:`~baoxian.outreach.delivery.ChannelPort`.

* :class:`NoticeChannel` — our own channels, real: the customer's inbox (站内信), and in
  development the text-message outbox the demo sign-in page shows (no SMS gateway is wired).
  The notice's ID is derived from the deduplication key, so a second send finds the first.
* :class:`MemoryChannel` — a fake provider for tests: receipts by key, every call counted,
  failures on demand.
* :class:`FileProvider` — a fake provider that keeps its receipts in its own SQLite file, so
  that a worker process can be killed and restarted against it (the crash tests); it can
  pause after its n-th acceptance, which is the moment a crash hurts most.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from baoxian.outreach.delivery import ChannelError, OutgoingMessage, Receipt
from baoxian.outreach.model import Notice
from baoxian.outreach.repository import SqlNoticeRepository
from baoxian.outreach.tables import notices
from baoxian.shared.clock import Clock
from baoxian.shared.identity import mask_phone


def message_id(key: str) -> str:
    """A 32-hex message ID derived from a deduplication key (the same key, the same ID)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass
class NoticeChannel:
    """The inbox (``kind="inbox"``) or the development SMS outbox (``kind="sms"``)."""

    engine: Engine
    mobile_index: Callable[[str], str]
    clock: Clock
    kind: str = "inbox"

    def send(self, message: OutgoingMessage) -> Receipt:
        found = self.lookup(message.key)
        if found is not None:
            return found
        notice = Notice(
            message_id(message.key),
            "sms" if self.kind == "sms" else "inbox",
            mask_phone(message.address) if message.address else "",
            message.party_id,
            message.key.split(":", 1)[0][:40],
            message.subject,  # in the customer's chosen language, whatever the screen's
            message.subject,
            message.body,
            message.body,
            self.clock(),
        )
        mobile_hash = self.mobile_index(message.address) if message.address else None
        with self.engine.begin() as connection:
            SqlNoticeRepository(connection).add(notice, mobile_hash)
        return Receipt(message.key, notice.notice_id, notice.created_at)

    def lookup(self, key: str) -> Receipt | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(notices.c.notice_id, notices.c.created_at).where(
                    notices.c.notice_id == message_id(key)
                )
            ).one_or_none()
        return None if row is None else Receipt(key, row.notice_id, row.created_at)


@dataclass
class MemoryChannel:
    """A fake provider in memory.  ``fail`` maps a key to the errors its next sends raise."""

    clock: Clock
    receipts: dict[str, Receipt] = field(default_factory=dict)
    messages: dict[str, OutgoingMessage] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    fail: dict[str, list[ChannelError]] = field(default_factory=dict)

    def send(self, message: OutgoingMessage) -> Receipt:
        self.calls[message.key] = self.calls.get(message.key, 0) + 1
        pending = self.fail.get(message.key)
        if pending:
            raise pending.pop(0)
        if message.key not in self.receipts:
            self.receipts[message.key] = Receipt(
                message.key, f"mem-{len(self.receipts) + 1}", self.clock()
            )
            self.messages[message.key] = message
        return self.receipts[message.key]

    def lookup(self, key: str) -> Receipt | None:
        return self.receipts.get(key)


class FileProvider:
    """A fake provider with its own SQLite file: ``accepted`` (one row per key) and ``calls``
    (one row per send).  After its ``pause_after``-th acceptance it sleeps ``pause_seconds``
    before answering — a worker killed then has handed the message over without knowing."""

    def __init__(self, path: Path, pause_after: int = 0, pause_seconds: float = 0.0) -> None:
        self.path = path
        self.pause_after = pause_after
        self.pause_seconds = pause_seconds
        with self._open() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS accepted (key TEXT PRIMARY KEY, ref TEXT, "
                "body TEXT, at TEXT)"
            )
            db.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT, at TEXT)")

    @contextmanager
    def _open(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            yield db

    def send(self, message: OutgoingMessage) -> Receipt:
        now = datetime.now().astimezone()
        with self._open() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO calls VALUES (?, ?)", (message.key, now.isoformat()))
            row = db.execute(
                "SELECT ref, at FROM accepted WHERE key = ?", (message.key,)
            ).fetchone()
            if row is None:
                count = db.execute("SELECT count(*) FROM accepted").fetchone()[0]
                row = (f"file-{count + 1}", now.isoformat())
                db.execute(
                    "INSERT INTO accepted VALUES (?, ?, ?, ?)",
                    (message.key, row[0], message.body, row[1]),
                )
                accepted = count + 1
            else:
                accepted = 0
            db.execute("COMMIT")
        if self.pause_after and accepted == self.pause_after:
            time.sleep(self.pause_seconds)
        return Receipt(message.key, row[0], datetime.fromisoformat(row[1]))

    def lookup(self, key: str) -> Receipt | None:
        with self._open() as db:
            row = db.execute("SELECT ref, at FROM accepted WHERE key = ?", (key,)).fetchone()
        return None if row is None else Receipt(key, row[0], datetime.fromisoformat(row[1]))

    def accepted(self) -> dict[str, int]:
        """How many times each key was *sent* (calls), for the keys the provider accepted."""
        with self._open() as db:
            rows = db.execute(
                "SELECT a.key, (SELECT count(*) FROM calls c WHERE c.key = a.key) FROM accepted a"
            ).fetchall()
        return dict(rows)


__all__ = ["FileProvider", "MemoryChannel", "NoticeChannel", "message_id"]
