"""The API's own use cases: partner clients and their secrets, grants (which objects a
partner may see), and idempotency keys.  The insurance work itself is done by the other
contexts' services; the routers call those."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine

from baoxian.api.model import (
    ApiClient,
    GrantKind,
    KeyRecord,
    PartnerRead,
    StoredResponse,
    Unauthenticated,
)
from baoxian.api.repository import SqlApiRepository, purge_keys
from baoxian.api.webhooks_service import WebhookService
from baoxian.bootstrap import App
from baoxian.policies.ports import Event
from baoxian.policies.repository import SqlEventLog
from baoxian.shared.clock import Clock
from baoxian.shared.errors import NotFound, ValidationFailed
from baoxian.shared.ids import new_id
from baoxian.store.crypto import FieldCipher

DEFAULT_RATE_PER_MINUTE = 600
KEY_TTL = timedelta(hours=24)
"""An idempotency key is kept a day; after that the same key starts a new request."""

_CLIENT_ID = re.compile(r"[0-9a-f]{32}")


def secret_hasher() -> PasswordHasher:
    """argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane): a client secret is 256 random
    bits, so the hash guards against a leaked table, not against guessing a weak word."""
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass
class ApiAccess:
    """Partner clients (secrets hashed with argon2, checked only at the token endpoint) and
    the grants recorded when a partner creates a party, quote, policy or claim."""

    engine: Engine
    clock: Clock
    new_id: Callable[[], str] = new_id
    hasher: PasswordHasher = field(default_factory=lambda: secret_hasher())
    _dummy_hash: str = field(default="", init=False, repr=False)

    def add_client(
        self, name: str, scopes: frozenset[str], rate_per_minute: int = DEFAULT_RATE_PER_MINUTE
    ) -> tuple[ApiClient, str]:
        """A new partner client and its secret — returned once, stored only as a hash."""
        clean = name.strip()
        if not clean or len(clean) > 100 or rate_per_minute < 1:
            raise ValidationFailed(
                "api.invalid_client",
                "客户端名称须为1–100字，速率上限须为正数",
                "a client needs a name of 1–100 characters and a positive rate limit",
            )
        client = ApiClient(self.new_id(), clean, scopes, rate_per_minute)
        secret = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as connection:
            SqlApiRepository(connection).add_client(client, self.hasher.hash(secret), now)
            payload = {"name": clean, "scopes": sorted(scopes), "rate_per_minute": rate_per_minute}
            SqlEventLog(connection).append(
                Event("api_client", client.client_id, "api.client_added", payload, now)
            )
        return client, secret

    def clients(self) -> list[ApiClient]:
        with self.engine.connect() as connection:
            return SqlApiRepository(connection).clients()

    def set_active(self, client_id: str, active: bool) -> None:
        """Revoke (or restore) a client; its tokens stop working at their next request."""
        with self.engine.begin() as connection:
            if not SqlApiRepository(connection).set_active(client_id, active):
                raise NotFound("api.client_not_found", "没有该客户端", "no such client")
            SqlEventLog(connection).append(
                Event(
                    "api_client",
                    client_id,
                    "api.client_enabled" if active else "api.client_revoked",
                    {},
                    self.clock(),
                )
            )

    def authenticate(self, client_id: str, secret: str) -> ApiClient:
        """Check a client's secret.  An unknown client costs the same as a wrong secret."""
        found = None
        if _CLIENT_ID.fullmatch(client_id):
            with self.engine.connect() as connection:
                found = SqlApiRepository(connection).client(client_id)
        stored = found[1] if found else self._dummy()
        ok = self._verify(stored, secret)
        if not ok or found is None or not found[0].active:
            raise Unauthenticated(
                "auth.invalid_client",
                "客户端标识或密钥错误",
                "unknown client or wrong secret",
            )
        return found[0]

    def client(self, client_id: str, within: Connection | None = None) -> ApiClient | None:
        """An active client (tokens of a revoked client are refused), read now — in the
        transaction ``within`` if given."""
        if within is not None:
            found = SqlApiRepository(within).client(client_id)
        else:
            with self.engine.connect() as connection:
                found = SqlApiRepository(connection).client(client_id)
        return found[0] if found and found[0].active else None

    def grant(
        self,
        client_id: str,
        objects: Iterable[tuple[GrantKind, str]],
        within: Connection | None = None,
    ) -> None:
        """Record that the client created these objects (one transaction for all: its own,
        or ``within``)."""
        if within is not None:
            SqlApiRepository(within).grant(client_id, objects, self.clock())
            return
        with self.engine.begin() as connection:
            SqlApiRepository(connection).grant(client_id, objects, self.clock())

    def granted(
        self,
        client_id: str,
        objects: Iterable[tuple[GrantKind, str]],
        within: Connection | None = None,
    ) -> bool:
        if within is not None:
            return SqlApiRepository(within).granted(client_id, objects)
        with self.engine.connect() as connection:
            return SqlApiRepository(connection).granted(client_id, objects)

    def granted_ids(self, client_id: str, kind: GrantKind, limit: int = 50) -> list[str]:
        with self.engine.connect() as connection:
            return SqlApiRepository(connection).granted_ids(client_id, kind, limit)

    def _verify(self, stored: str, secret: str) -> bool:
        try:
            return self.hasher.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if not self._dummy_hash:
            self._dummy_hash = self.hasher.hash("not-a-real-secret")
        return self._dummy_hash


# --------------------------------------------------------------------------- idempotency


@dataclass(frozen=True, slots=True)
class Begun:
    """What starting a request with a key found: ``started`` (go ahead), ``replay`` (the
    stored response), ``reused`` (the key was used for another request) or ``busy`` (the
    first request with the key is still running)."""

    outcome: Literal["started", "replay", "reused", "busy"]
    response: StoredResponse | None = None


@dataclass
class IdempotencyStore:
    """Keys per caller: the row is inserted first, in its own committed transaction, so of
    two copies of a request arriving together exactly one starts.  With a ``cipher`` the
    stored answers are sealed (AES-GCM): an answer may carry a secret shown once, such as a
    webhook's signing secret."""

    engine: Engine
    clock: Clock
    ttl: timedelta = KEY_TTL
    cipher: FieldCipher | None = None

    def begin(self, owner: str, key: str, fingerprint: str) -> Begun:
        for _ in range(3):
            now = self.clock()
            with self.engine.begin() as connection:
                repository = SqlApiRepository(connection)
                if repository.claim_key(owner, key, fingerprint, now):
                    return Begun("started")
                found = repository.key(owner, key)
                if found is not None and found.created_at < now - self.ttl:
                    repository.release_key(owner, key, created_before=now - self.ttl)
                    continue
            if found is not None:
                return _begun(self._opened(found), fingerprint)
        return Begun("busy")

    def find(self, owner: str, key: str) -> KeyRecord | None:
        with self.engine.connect() as connection:
            found = SqlApiRepository(connection).key(owner, key)
        return None if found is None else self._opened(found)

    def complete(self, owner: str, key: str, response: StoredResponse) -> None:
        with self.engine.begin() as connection:
            self.complete_in(connection, owner, key, response)

    # ---- the key in the request's own transaction (PostgreSQL)

    @property
    def joins_transactions(self) -> bool:
        """Whether a key can be claimed inside the request's transaction (PostgreSQL).  On
        SQLite the claim needs its own transaction: a waiting copy would hold the single
        writer lock."""
        return self.engine.dialect.name == "postgresql"

    def claim_in(self, connection: Connection, owner: str, key: str, fingerprint: str) -> Begun:
        """:meth:`begin` inside the caller's transaction: the key becomes visible to other
        copies only when that transaction commits, with the effect and the answer — or
        never, if it rolls back.  A copy arriving meanwhile is told ``busy`` (it finds the
        key's advisory lock taken) without waiting."""
        repository = SqlApiRepository(connection)
        now = self.clock()
        if repository.claim_key_unless_running(owner, key, fingerprint, now):
            return Begun("started")
        return self._not_claimed(repository, owner, key, fingerprint, now)

    def _not_claimed(
        self, repository: SqlApiRepository, owner: str, key: str, fingerprint: str, now: datetime
    ) -> Begun:
        """The key was not claimed: its stored answer, a refusal, ``busy`` — or, when it
        expired, claimed now after all."""
        found = repository.key(owner, key)
        if found is not None and found.created_at < now - self.ttl:
            repository.release_key(owner, key, created_before=now - self.ttl)
            if repository.claim_key_unless_running(owner, key, fingerprint, now):
                return Begun("started")
            found = repository.key(owner, key)
        return Begun("busy") if found is None else _begun(self._opened(found), fingerprint)

    def claim_reading_client_in(
        self,
        connection: Connection,
        owner: str,
        key: str,
        fingerprint: str,
        client_id: str,
        holds: tuple[GrantKind, str] | None = None,
    ) -> tuple[Begun, PartnerRead | None]:
        """:meth:`claim_in` for a partner's request, reading the partner client (and whether
        it holds a grant on ``holds``) in the same statement when the key is new
        (PostgreSQL): what started, and what was read."""
        repository = SqlApiRepository(connection)
        now = self.clock()
        claimed, found, held = repository.claim_key_reading_client(
            owner, key, fingerprint, now, client_id, holds
        )
        if not claimed:
            return self._not_claimed(repository, owner, key, fingerprint, now), None
        return Begun("started"), PartnerRead(found[0] if found and found[0].active else None, held)

    def complete_in(
        self,
        connection: Connection,
        owner: str,
        key: str,
        response: StoredResponse,
        grants: tuple[str, Sequence[tuple[GrantKind, str]]] | None = None,
    ) -> None:
        """Store the answer to a claimed key in the caller's transaction — with ``grants``
        (a partner client and the objects its request created) in the same statement."""
        repository = SqlApiRepository(connection)
        sealed, now = self._sealed(response), self.clock()
        if grants is None:
            repository.complete_key(owner, key, sealed, now)
            return
        client_id, objects = grants
        repository.complete_key_granting(owner, key, sealed, now, client_id, objects)

    def record(
        self, owner: str, key: str, fingerprint: str, response: StoredResponse, held: bool
    ) -> Begun:
        """Keep the answer of a request that failed before or inside its transaction (a
        refusal such as 422): complete the key if it was ``held`` (claimed in a transaction
        of its own), else insert it done.  When another copy got there first, its answer
        (``replay``) or what it found (``reused``)."""
        if held:
            self.complete(owner, key, response)
            return Begun("started")
        with self.engine.begin() as connection:
            repository = SqlApiRepository(connection)
            sealed = self._sealed(response)
            if repository.record_key(owner, key, fingerprint, sealed, self.clock()):
                return Begun("started")
            found = repository.key(owner, key)
        return Begun("busy") if found is None else _begun(self._opened(found), fingerprint)

    def _sealed(self, response: StoredResponse) -> StoredResponse:
        if self.cipher is None:
            return response
        sealed = self.cipher.encrypt(base64.b64encode(response.body).decode("ascii"))
        return replace(response, body=_SEALED + sealed.encode("ascii"))

    def _opened(self, found: KeyRecord) -> KeyRecord:
        stored = found.response
        if stored is None or self.cipher is None or not stored.body.startswith(_SEALED):
            return found
        body = self.cipher.decrypt(stored.body[len(_SEALED) :].decode("ascii"))
        return replace(found, response=replace(stored, body=base64.b64decode(body)))

    def release(self, owner: str, key: str) -> None:
        with self.engine.begin() as connection:
            SqlApiRepository(connection).release_key(owner, key)

    def purge(self, batch: int = 10_000) -> int:
        """Forget the keys older than the time-to-live (a retry after that is a new request
        anyway), ``batch`` rows per transaction so the table is never locked for long;
        returns how many went.  Run it daily (``baoxian api idempotency purge``)."""
        before = self.clock() - self.ttl
        purged = 0
        while True:
            with self.engine.begin() as connection:
                gone = purge_keys(connection, before, batch)
            purged += gone
            if gone < batch:
                return purged


_SEALED = b"sealed:"


def _begun(found: KeyRecord, fingerprint: str) -> Begun:
    if found.fingerprint != fingerprint:
        return Begun("reused")
    if found.response is not None:
        return Begun("replay", found.response)
    return Begun("busy")


def api_access(app: App) -> ApiAccess:
    """The API's services over a built application (its engine and clock)."""
    return ApiAccess(app.engine, app.policies.clock)


def webhook_service(app: App) -> WebhookService:
    """Partners' webhooks over a built application."""
    return WebhookService(
        app.engine,
        app.cipher,
        app.policies.clock,
        app.claims.policy_numbers,
        allow_loopback=app.settings.webhooks_allow_loopback,
    )


__all__ = ["KEY_TTL", "ApiAccess", "Begun", "IdempotencyStore", "api_access", "webhook_service"]
