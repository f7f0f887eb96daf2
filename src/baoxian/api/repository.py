"""SQL persistence of the API's own state: clients, grants and idempotency keys."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)

from baoxian.api.model import ApiClient, GrantKind, KeyRecord, StoredResponse
from baoxian.api.tables import api_clients, api_grants, api_idempotency_keys
from baoxian.store.db import upsert_into


class SqlApiRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    # clients ----------------------------------------------------------------------------

    def add_client(self, client: ApiClient, secret_hash: str, now: datetime) -> None:
        self._connection.execute(
            insert(api_clients).values(
                client_id=client.client_id,
                name=client.name,
                secret_hash=secret_hash,
                scopes=sorted(client.scopes),
                rate_per_minute=client.rate_per_minute,
                active=client.active,
                created_at=now,
            )
        )

    def client(self, client_id: str) -> tuple[ApiClient, str] | None:
        row = self._connection.execute(_CLIENT, {"w_client": client_id}).one_or_none()
        return None if row is None else (_client(row), row.secret_hash)

    def clients(self) -> list[ApiClient]:
        rows = self._connection.execute(select(api_clients).order_by(api_clients.c.created_at))
        return [_client(row) for row in rows]

    def set_active(self, client_id: str, active: bool) -> int:
        result = self._connection.execute(
            update(api_clients).where(api_clients.c.client_id == client_id).values(active=active)
        )
        return int(result.rowcount)

    # grants -----------------------------------------------------------------------------

    def grant(
        self, client_id: str, objects: Iterable[tuple[GrantKind, str]], now: datetime
    ) -> None:
        """Record grants in one statement (a prepared insert, its rows sent together); one
        the client already holds stays as it is."""
        rows = [
            {"client_id": client_id, "kind": kind, "object_id": object_id, "created_at": now}
            for kind, object_id in sorted(set(objects))
        ]
        if rows:
            self._connection.execute(_statements(self._connection).grant, rows)

    def granted(self, client_id: str, objects: Iterable[tuple[GrantKind, str]]) -> bool:
        """Whether the client holds a grant on any of these objects."""
        wanted = list(objects)
        if not wanted:
            return False
        if len(wanted) == 1:
            kind, object_id = wanted[0]
            params = {"w_client": client_id, "w_kind": kind, "w_id": object_id}
            return self._connection.execute(_GRANTED, params).first() is not None
        found = self._connection.execute(
            select(api_grants.c.object_id)
            .where(
                api_grants.c.client_id == client_id,
                or_(
                    *(and_(api_grants.c.kind == k, api_grants.c.object_id == o) for k, o in wanted)
                ),
            )
            .limit(1)
        ).first()
        return found is not None

    def granted_ids(self, client_id: str, kind: GrantKind, limit: int) -> list[str]:
        """The client's most recent grants of a kind."""
        return list(
            self._connection.scalars(
                select(api_grants.c.object_id)
                .where(api_grants.c.client_id == client_id, api_grants.c.kind == kind)
                .order_by(api_grants.c.created_at.desc(), api_grants.c.object_id.desc())
                .limit(limit)
            )
        )

    # idempotency keys -------------------------------------------------------------------

    def claim_key(self, owner: str, key: str, fingerprint: str, now: datetime) -> bool:
        """Insert the key as in progress; False when it is already there.  One statement
        (``ON CONFLICT DO NOTHING``): the surrounding transaction stays usable."""
        statement = (
            upsert_into(self._connection, api_idempotency_keys)
            .values(
                owner=owner, key=key, fingerprint=fingerprint, state="in_progress", created_at=now
            )
            .on_conflict_do_nothing()
            .returning(api_idempotency_keys.c.key)
        )
        return self._connection.execute(statement).first() is not None

    def claim_key_unless_running(
        self, owner: str, key: str, fingerprint: str, now: datetime
    ) -> bool:
        """PostgreSQL: insert the key as in progress in the caller's transaction, unless it
        is already there or another transaction is running a request with it (which holds
        the key's advisory lock until it ends); one statement that never waits."""
        params = {
            "lock_id": idempotency_lock_id(owner, key),
            "p_owner": owner,
            "p_key": key,
            "p_fingerprint": fingerprint,
            "p_now": now,
        }
        claimed = self._connection.execute(_statements(self._connection).claim, params)
        return claimed.first() is not None

    def claim_key_reading_client(
        self,
        owner: str,
        key: str,
        fingerprint: str,
        now: datetime,
        client_id: str,
        holds: tuple[GrantKind, str] | None = None,
    ) -> tuple[bool, tuple[ApiClient, str] | None, bool]:
        """:meth:`claim_key_unless_running`, :meth:`client` and :meth:`granted` in one
        statement (PostgreSQL): whether the key was claimed, the partner client as it is now
        (None when there is no such client), and whether it holds a grant on ``holds``."""
        kind, object_id = holds if holds is not None else (None, None)
        params = {
            "lock_id": idempotency_lock_id(owner, key),
            "p_owner": owner,
            "p_key": key,
            "p_fingerprint": fingerprint,
            "p_now": now,
            "w_client": client_id,
            "w_kind": kind,
            "w_id": object_id,
        }
        row = self._connection.execute(_statements(self._connection).claim_and_client, params).one()
        client = None if row.client_id is None else (_client(row), row.secret_hash)
        return row.claimed is not None, client, bool(row.holds)

    def record_key(
        self, owner: str, key: str, fingerprint: str, response: StoredResponse, now: datetime
    ) -> bool:
        """Insert the key with its answer at once; False when the key is already there."""
        statement = (
            upsert_into(self._connection, api_idempotency_keys)
            .values(
                owner=owner,
                key=key,
                fingerprint=fingerprint,
                state="done",
                response_status=response.status,
                response_type=response.media_type,
                response_body=response.body,
                created_at=now,
                completed_at=now,
            )
            .on_conflict_do_nothing()
            .returning(api_idempotency_keys.c.key)
        )
        return self._connection.execute(statement).first() is not None

    def key(self, owner: str, key: str) -> KeyRecord | None:
        row = self._connection.execute(_KEY, {"w_owner": owner, "w_key": key}).one_or_none()
        if row is None:
            return None
        response = (
            None
            if row.state != "done"
            else StoredResponse(row.response_status, row.response_type, bytes(row.response_body))
        )
        return KeyRecord(row.owner, row.key, row.fingerprint, row.state, row.created_at, response)

    def complete_key(self, owner: str, key: str, response: StoredResponse, now: datetime) -> None:
        self._connection.execute(_COMPLETE, _answer(owner, key, response, now))

    def complete_key_granting(
        self,
        owner: str,
        key: str,
        response: StoredResponse,
        now: datetime,
        client_id: str,
        objects: Sequence[tuple[GrantKind, str]],
    ) -> None:
        """:meth:`grant` and :meth:`complete_key` — in one statement on PostgreSQL (the
        grants as arrays into a data-modifying CTE), in two elsewhere."""
        if not objects or self._connection.dialect.name != "postgresql":
            self.grant(client_id, objects, now)
            self.complete_key(owner, key, response, now)
            return
        wanted = sorted(set(objects))
        params = {
            **_answer(owner, key, response, now),
            "g_client": client_id,
            "g_kinds": [kind for kind, _ in wanted],
            "g_ids": [object_id for _, object_id in wanted],
        }
        self._connection.execute(_complete_granting(), params)

    def release_key(self, owner: str, key: str, created_before: datetime | None = None) -> None:
        """Forget a key (its request failed in a way worth retrying, or it expired)."""
        condition = [api_idempotency_keys.c.owner == owner, api_idempotency_keys.c.key == key]
        if created_before is not None:
            condition.append(api_idempotency_keys.c.created_at < created_before)
        self._connection.execute(delete(api_idempotency_keys).where(*condition))


def purge_keys(connection: Connection, created_before: datetime, limit: int) -> int:
    """Delete up to ``limit`` idempotency keys created before ``created_before``."""
    k = api_idempotency_keys.c
    oldest = select(k.owner, k.key).where(k.created_at < created_before).limit(limit).subquery()
    statement = delete(api_idempotency_keys).where(
        tuple_(k.owner, k.key).in_(select(oldest.c.owner, oldest.c.key))
    )
    return int(connection.execute(statement).rowcount)


# The statements of every request, built once (their compiled form is cached by SQLAlchemy
# and, after a few runs, prepared by psycopg): building one costs more than running it.
_k = api_idempotency_keys.c
_CLIENT = select(api_clients).where(api_clients.c.client_id == bindparam("w_client"))
_GRANTED = (
    select(api_grants.c.object_id)
    .where(
        api_grants.c.client_id == bindparam("w_client"),
        api_grants.c.kind == bindparam("w_kind"),
        api_grants.c.object_id == bindparam("w_id"),
    )
    .limit(1)
)
_KEY = select(api_idempotency_keys).where(
    _k.owner == bindparam("w_owner"), _k.key == bindparam("w_key")
)
_COMPLETE = (
    update(api_idempotency_keys)
    .where(_k.owner == bindparam("w_owner"), _k.key == bindparam("w_key"))
    .where(_k.state == "in_progress")
    .values(
        state="done",
        response_status=bindparam("p_status"),
        response_type=bindparam("p_type"),
        response_body=bindparam("p_body", type_=_k.response_body.type),
        completed_at=bindparam("p_now", type_=_k.completed_at.type),
    )
)


@cache
def _complete_granting() -> Any:
    """PostgreSQL: the grants (``unnest`` of two arrays, one already held stays) and the
    key's answer in one statement."""
    from sqlalchemy.dialects.postgresql import ARRAY

    grants = text(
        "INSERT INTO api_grants (client_id, kind, object_id, created_at) "
        "SELECT :g_client, g.kind, g.object_id, :p_now "
        "FROM unnest(CAST(:g_kinds AS varchar[]), CAST(:g_ids AS varchar[])) "
        "AS g(kind, object_id) ON CONFLICT DO NOTHING"
    ).bindparams(
        bindparam("g_kinds", type_=ARRAY(String)),
        bindparam("g_ids", type_=ARRAY(String)),
        bindparam("p_now", type_=_k.completed_at.type),
    )
    return _COMPLETE.add_cte(grants.columns().cte("granted"))


@dataclass(frozen=True, slots=True)
class _DialectStatements:
    grant: Any
    claim: Any
    claim_and_client: Any


@cache
def _dialect_statements(dialect: str, build: Callable[[], Any]) -> _DialectStatements:
    insert_into: Any = build
    grant = insert_into(api_grants).on_conflict_do_nothing()
    lock = select(func.pg_try_advisory_xact_lock(bindparam("lock_id")).label("got")).cte("key_lock")
    row = select(
        bindparam("p_owner", type_=_k.owner.type),
        bindparam("p_key", type_=_k.key.type),
        bindparam("p_fingerprint", type_=_k.fingerprint.type),
        literal("in_progress", _k.state.type),
        bindparam("p_now", type_=_k.created_at.type),
    ).where(lock.c.got)
    claim = (
        insert_into(api_idempotency_keys)
        .from_select(["owner", "key", "fingerprint", "state", "created_at"], row)
        .on_conflict_do_nothing()
        .returning(_k.key)
    )
    return _DialectStatements(
        grant, claim, _with_client(claim) if dialect == "postgresql" else None
    )


def _with_client(claim: Any) -> Any:
    """One row: the key ``claimed`` (NULL when not) beside the partner client's columns
    (NULL when there is no such client) and whether it ``holds`` the grant named by
    ``w_kind`` / ``w_id`` — the claim runs as a data-modifying CTE."""
    claimed = claim.cte("claimed")
    one = select(literal(1).label("one")).subquery("one")
    holds = exists(_GRANTED.with_only_columns(literal(1))).label("holds")
    return select(
        select(claimed.c.key).scalar_subquery().label("claimed"), holds, *api_clients.c
    ).select_from(one.outerjoin(api_clients, api_clients.c.client_id == bindparam("w_client")))


def _statements(connection: Connection) -> _DialectStatements:
    name = connection.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return _dialect_statements(name, pg_insert)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return _dialect_statements(name, sqlite_insert)


def _answer(owner: str, key: str, response: StoredResponse, now: datetime) -> dict[str, Any]:
    """The parameters of :data:`_COMPLETE`: the key and its stored answer."""
    return {
        "w_owner": owner,
        "w_key": key,
        "p_status": response.status,
        "p_type": response.media_type,
        "p_body": response.body,
        "p_now": now,
    }


def idempotency_lock_id(owner: str, key: str) -> int:
    """A signed 64-bit advisory-lock ID for a caller's key (a collision only makes a copy
    wait as if it were a retry of the other)."""
    digest = hashlib.blake2b(f"idempotency\x00{owner}\x00{key}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def _client(row: Any) -> ApiClient:
    return ApiClient(
        row.client_id, row.name, frozenset(row.scopes), row.rate_per_minute, bool(row.active)
    )


__all__ = ["SqlApiRepository", "idempotency_lock_id", "purge_keys"]
