"""SQL persistence of the API's own state: clients, grants and idempotency keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, tuple_, update

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
        row = self._connection.execute(
            select(api_clients).where(api_clients.c.client_id == client_id)
        ).one_or_none()
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
        """Record grants in one statement; one the client already holds stays as it is."""
        rows = [
            {"client_id": client_id, "kind": kind, "object_id": object_id, "created_at": now}
            for kind, object_id in sorted(set(objects))
        ]
        if rows:
            statement = upsert_into(self._connection, api_grants).values(rows)
            self._connection.execute(statement.on_conflict_do_nothing())

    def granted(self, client_id: str, objects: Iterable[tuple[GrantKind, str]]) -> bool:
        """Whether the client holds a grant on any of these objects."""
        wanted = list(objects)
        if not wanted:
            return False
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

    def key(self, owner: str, key: str) -> KeyRecord | None:
        row = self._connection.execute(
            select(api_idempotency_keys).where(
                api_idempotency_keys.c.owner == owner, api_idempotency_keys.c.key == key
            )
        ).one_or_none()
        if row is None:
            return None
        response = (
            None
            if row.state != "done"
            else StoredResponse(row.response_status, row.response_type, bytes(row.response_body))
        )
        return KeyRecord(row.owner, row.key, row.fingerprint, row.state, row.created_at, response)

    def complete_key(self, owner: str, key: str, response: StoredResponse, now: datetime) -> None:
        self._connection.execute(
            update(api_idempotency_keys)
            .where(
                api_idempotency_keys.c.owner == owner,
                api_idempotency_keys.c.key == key,
                api_idempotency_keys.c.state == "in_progress",
            )
            .values(
                state="done",
                response_status=response.status,
                response_type=response.media_type,
                response_body=response.body,
                completed_at=now,
            )
        )

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


def _client(row: Any) -> ApiClient:
    return ApiClient(
        row.client_id, row.name, frozenset(row.scopes), row.rate_per_minute, bool(row.active)
    )


__all__ = ["SqlApiRepository", "purge_keys"]
