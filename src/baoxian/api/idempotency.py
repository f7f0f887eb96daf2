"""``Idempotency-Key`` on every POST (the token endpoints aside).

The key is the caller's: a retried request with the same key and the same body gets the
stored answer (status and body, with ``Idempotent-Replayed: true``) and has exactly one
effect.  The same key with another body is refused (422 ``idempotency.key_reused``).  Of
two copies arriving together, the one whose key row is inserted first — in its own
committed transaction — runs; the other waits for its answer, or gets 409
``idempotency.in_progress`` after ``wait_timeout`` seconds.  An answer that is worth
retrying (401, 403, 409, 429, 5xx) is not kept, so the key stays usable.

The services behind also deduplicate: the key (namespaced by the caller) becomes the
endorsement's ``request_id`` and a reported claim's ID, so a retry after a crash between
the effect and the stored answer still changes nothing twice.

The busiest routes (``atomic``: quotes and issues) claim the key themselves, in the one
transaction that also holds their effect and answer (:mod:`baoxian.api.atomic`); the
middleware only keeps a refusal raised there.

The body is hashed as it arrives and kept in a spooled temporary file (in memory up to
1 MiB, on disk beyond), from which the route then reads it as a stream: a body of 100,000
members is never held in memory, let alone twice.  A route may allow a larger body than
:data:`MAX_BODY_BYTES` (``body_limits``).
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import IO, Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from baoxian.api.atomic import CLAIM, Claim, answer
from baoxian.api.auth import ApiContext
from baoxian.api.model import IDEMPOTENCY_KEY, KEEPS_RESPONSE, Fingerprint, StoredResponse
from baoxian.api.problems import problem_response
from baoxian.api.services import Begun

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADER = "Idempotency-Key"
EXEMPT = frozenset({"/oauth/token", "/customer/code", "/customer/token", "/staff/token"})
MAX_BODY_BYTES = 21 * 1024 * 1024
"""A 20 MiB document and the multipart around it."""
SPOOL_IN_MEMORY_BYTES = 1024 * 1024
"""A body up to this size is kept in memory; a larger one goes to a temporary file."""
READ_BYTES = 64 * 1024
"""The route reads the kept body in pieces of this size."""

BodyLimits = Sequence[tuple[re.Pattern[str], int]]
"""Routes (a pattern of the path below the API's root) that allow a larger body."""


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        context: ApiContext,
        wait_timeout: float = 10.0,
        poll_seconds: float = 0.05,
        body_limits: BodyLimits = (),
        atomic: Sequence[re.Pattern[str]] = (),
    ) -> None:
        self.app = app
        self.context = context
        self.wait_timeout = wait_timeout
        self.poll_seconds = poll_seconds
        self.body_limits = tuple(body_limits)
        self.atomic = tuple(atomic)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or _route(scope) in EXEMPT:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        owner = self.context.tokens.owner(headers.get("authorization"))
        if owner is None:  # the route answers 401
            await self.app(scope, receive, send)
            return
        limit = self._limit(_route(scope))
        refused = _check(headers, limit)
        if refused is not None:
            await refused(scope, receive, send)
            return
        digest = Fingerprint(
            "POST",
            _route(scope),
            scope.get("query_string", b"").decode("latin-1"),
            headers.get("content-type", ""),
        )
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as body:
            if not await _spool(receive, body, digest, limit):
                await _too_large(limit)(scope, receive, send)
                return
            key = headers[HEADER.lower()]
            if any(pattern.fullmatch(_route(scope)) for pattern in self.atomic):
                claim = Claim(owner, key, digest.hexdigest(), self.wait_timeout, self.poll_seconds)
                await self._run_atomic(scope, receive, send, body, claim)
                return
            begun = await self._begin(owner, key, digest.hexdigest())
            if begun.outcome != "started":
                await answer(begun)(scope, receive, send)
                return
            await self._run(scope, receive, send, body, owner, key)

    def _limit(self, route: str) -> int:
        """The largest body the route takes."""
        found = (size for pattern, size in self.body_limits if pattern.fullmatch(route))
        return next(found, MAX_BODY_BYTES)

    async def _begin(self, owner: str, key: str, print_: str) -> Begun:
        store = self.context.idempotency
        deadline = time.monotonic() + self.wait_timeout
        while True:
            begun = await run_in_threadpool(store.begin, owner, key, print_)
            if begun.outcome != "busy" or time.monotonic() >= deadline:
                return begun
            await anyio.sleep(self.poll_seconds)

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, body: IO[bytes], owner: str, key: str
    ) -> None:
        store = self.context.idempotency
        try:
            start, content = await _captured(self.app, scope, receive, body)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(store.release, owner, key)
            raise
        status = int(start.get("status", 500))
        if status in KEEPS_RESPONSE:
            media_type = _media_type(start.get("headers", []))
            stored = StoredResponse(status, media_type, content)
            await run_in_threadpool(store.complete, owner, key, stored)
        else:
            await run_in_threadpool(store.release, owner, key)
        await send(start)
        await send({"type": "http.response.body", "body": content, "more_body": False})

    async def _run_atomic(
        self, scope: Scope, receive: Receive, send: Send, body: IO[bytes], claim: Claim
    ) -> None:
        """A route that claims the key in its own transaction (:mod:`baoxian.api.atomic`):
        no thread-pool hop here unless the route failed before committing its answer."""
        scope.setdefault("state", {})[CLAIM] = claim
        store = self.context.idempotency
        try:
            start, content = await _captured(self.app, scope, receive, body)
        except BaseException:
            if claim.held:
                with anyio.CancelScope(shield=True):
                    await run_in_threadpool(store.release, claim.owner, claim.key)
            raise
        status = int(start.get("status", 500))
        if not claim.answered and status in KEEPS_RESPONSE:
            stored = StoredResponse(status, _media_type(start.get("headers", [])), content)
            begun = await run_in_threadpool(
                store.record, claim.owner, claim.key, claim.fingerprint, stored, claim.held
            )
            if begun.outcome != "started":  # another copy's answer came first
                await answer(begun)(scope, receive, send)
                return
        elif not claim.answered and claim.held:
            await run_in_threadpool(store.release, claim.owner, claim.key)
        await send(start)
        await send({"type": "http.response.body", "body": content, "more_body": False})


async def _captured(
    app: ASGIApp, scope: Scope, receive: Receive, body: IO[bytes]
) -> tuple[Message, bytes]:
    """Run ``app`` on the kept body; its response start message and body."""
    sent = False

    async def replay_body() -> Message:
        nonlocal sent
        if not sent:
            chunk = body.read(READ_BYTES)
            sent = len(chunk) < READ_BYTES
            return {"type": "http.request", "body": chunk, "more_body": not sent}
        return await receive()

    start: Message = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await app(scope, replay_body, capture)
    return start, b"".join(chunks)


def _route(scope: Scope) -> str:
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _check(headers: dict[str, str], limit: int) -> Response | None:
    key = headers.get(HEADER.lower())
    if key is None:
        return problem_response(
            400,
            "idempotency.key_required",
            "每个 POST 请求都须带 Idempotency-Key 请求头（如一个 UUID）",
            "every POST needs an Idempotency-Key header (e.g. a UUID)",
        )
    if not IDEMPOTENCY_KEY.fullmatch(key):
        return problem_response(
            400,
            "idempotency.key_invalid",
            "Idempotency-Key 须为 8–128 个可见 ASCII 字符",
            "an Idempotency-Key is 8–128 visible ASCII characters",
        )
    length = headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        return _too_large(limit)
    return None


async def _spool(receive: Receive, body: IO[bytes], digest: Fingerprint, limit: int) -> bool:
    """Keep the request's body in ``body`` (rewound) and hash it as it arrives; False when
    it is larger than ``limit``."""
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            return False
        digest.update(chunk)
        body.write(chunk)
        if not message.get("more_body", False):
            break
    body.seek(0)
    return True


def _too_large(limit: int) -> Response:
    mib = limit // (1024 * 1024)
    return problem_response(
        413,
        "request_too_large",
        f"请求内容过大（上限 {mib} MiB）",
        f"the request is too large (at most {mib} MiB)",
    )


def _media_type(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.decode("latin-1")
    return ""


__all__ = ["EXEMPT", "HEADER", "MAX_BODY_BYTES", "BodyLimits", "IdempotencyMiddleware"]
