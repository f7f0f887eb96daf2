"""Background work of proactive service on a real job queue (huey): delivering the outbox
every minute, and the book-wide daily scan.

The queue lives in a SQLite file locally (``sqlite:///var/queue.db``, the default) and in
Redis in production (``BAOXIAN_QUEUE_URL=redis://host:6379/0``).  Nothing connects at import:
:func:`make_queue` builds the queue, :func:`register` adds the tasks with the process's
composition root, and ``baoxian outreach worker`` runs huey's consumer over them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper

from baoxian.outreach.outbox import OutboxDispatcher

DEFAULT_QUEUE_URL = "sqlite:///var/queue.db"


def make_queue(url: str, name: str = "baoxian") -> Huey:
    """A huey queue on SQLite (``sqlite:///path``) or Redis (``redis://…``); times in UTC."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, utc=True)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), utc=True)
    raise ValueError(
        "队列地址应为 sqlite:/// 或 redis:// / "
        f"the queue URL must be sqlite:/// or redis://: {url!r}"
    )


def worker_name() -> str:
    """This process's name in leases and the attempt log: host and process ID."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@dataclass(frozen=True)
class OutreachJobs:
    """The tasks registered on a queue (each callable enqueues; ``.call_local`` runs here)."""

    deliver: TaskWrapper
    deliver_every_minute: TaskWrapper


def register(queue: Huey, dispatcher: Callable[[], OutboxDispatcher]) -> OutreachJobs:
    """Add the delivery tasks to ``queue``; ``dispatcher`` builds this process's dispatcher
    (once — the consumer's workers share it)."""
    built: list[OutboxDispatcher] = []

    def deliver_all() -> dict[str, Any]:
        if not built:
            built.append(dispatcher())
        return asdict(built[0].run_until_empty())

    deliver = queue.task(name="outreach.deliver")(deliver_all)
    every_minute = queue.periodic_task(crontab(minute="*"), name="outreach.deliver_due")(
        deliver_all
    )
    return OutreachJobs(deliver, every_minute)


__all__ = ["DEFAULT_QUEUE_URL", "OutreachJobs", "make_queue", "register", "worker_name"]
