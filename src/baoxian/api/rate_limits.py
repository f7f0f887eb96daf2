"""Rate limits shared by every API process (限流): a fixed one-minute window per caller in Redis.

``RateLimiter`` (``api/model.py``) counts in one process, so behind ``uvicorn --workers 2`` a
partner gets twice its limit.  :class:`RedisRateLimiter` keeps the count in Redis instead —
one ``INCR`` and one ``EXPIRE`` in a pipeline per request, on a key named by the caller and
the window — so that all processes, on any number of machines, share it.  It has the same
``hit`` contract: ``None`` within the limit, else the seconds until the window ends.

If Redis cannot be reached the limiter does not take the API down with it: it falls back to
counting in the process (the documented per-process limit) and logs the failure once a
minute, then tries Redis again on the next request.

``BAOXIAN_RATE_LIMIT_URL`` (e.g. ``redis://127.0.0.1:6379/2``) selects it
(:func:`limiter_from_env`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import redis

from baoxian.api.model import RateLimiter

log = logging.getLogger(__name__)

ENV = "BAOXIAN_RATE_LIMIT_URL"


class Limiter(Protocol):
    def hit(self, key: str, limit: int, now: datetime) -> int | None: ...


@dataclass
class RedisRateLimiter:
    """A fixed window of ``window_seconds`` per caller, counted in Redis."""

    client: redis.Redis
    window_seconds: int = 60
    prefix: str = "baoxian:rate"
    fallback: RateLimiter = field(default_factory=RateLimiter)
    _warned_window: int = -1

    @classmethod
    def from_url(cls, url: str, window_seconds: int = 60) -> RedisRateLimiter:
        client = redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)
        return cls(client, window_seconds)

    def hit(self, key: str, limit: int, now: datetime) -> int | None:
        """Count one request; None when within the limit, else the seconds to wait."""
        epoch = int(now.timestamp())
        window = epoch // self.window_seconds
        name = f"{self.prefix}:{key}:{window}"
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.incr(name)
            pipe.expire(name, self.window_seconds + 1)
            count, _expiry = pipe.execute()
        except redis.RedisError as error:
            self._warn(window, error)
            return self.fallback.hit(key, limit, now)
        if int(count) <= limit:
            return None
        return (window + 1) * self.window_seconds - epoch

    def _warn(self, window: int, error: Exception) -> None:
        if window != self._warned_window:
            self._warned_window = window
            log.warning("rate limits counted in this process: Redis unreachable (%s)", error)


def limiter_from_env() -> Limiter:
    """Redis-backed when ``BAOXIAN_RATE_LIMIT_URL`` is set, else per process."""
    url = os.environ.get(ENV, "").strip()
    if not url:
        return RateLimiter()
    return RedisRateLimiter.from_url(url)


__all__ = ["ENV", "Limiter", "RedisRateLimiter", "limiter_from_env"]
