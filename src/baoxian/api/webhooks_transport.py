"""The one seam through which webhook deliveries leave the process: a
:class:`WebhookTransport` posts a body and says what came back.  Production uses
:class:`HttpxTransport` (a pooled ``httpx.Client`` with a short timeout, no redirects, no
proxies from the environment); tests use a fake receiver, or this one against a local
server."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

TIMEOUT = httpx.Timeout(5.0, connect=3.0)
"""A receiver has 5 seconds to answer (3 to accept the connection)."""


@dataclass(frozen=True, slots=True)
class Sent:
    """What a post came to: the status code, or an error when nothing usable came back."""

    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookTransport(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Sent:
        """POST ``body``; never raises for the receiver's failures (they are a ``Sent``)."""
        ...


class HttpxTransport:
    """Posts with one pooled, thread-safe client.  The answer's body is not read."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(
            timeout=TIMEOUT, follow_redirects=False, trust_env=False
        )

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Sent:
        began = time.perf_counter()
        try:
            with self._client.stream("POST", url, content=body, headers=dict(headers)) as answer:
                status: int | None = answer.status_code
            error = None
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"[:200]
        return Sent(status, error, round((time.perf_counter() - began) * 1000))

    def close(self) -> None:
        self._client.close()


__all__ = ["TIMEOUT", "HttpxTransport", "Sent", "WebhookTransport"]
