"""Change requests and 慧保全 links over SQLAlchemy Core, in one unit of work with the event
log.  Requested values are encrypted as one JSON document; updates are guarded by the
request's version (optimistic locking), like policies."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Self

from sqlalchemy import Connection, Engine, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from baoxian.policies.repository import SqlEventLog, _locks_as_conflict
from baoxian.policies.requests import (
    ChangeKind,
    ChangeLink,
    ChangeRequest,
    Requester,
    RequestStatus,
)
from baoxian.policies.tables import change_links, change_requests
from baoxian.shared.errors import ConcurrencyConflict, NotFound
from baoxian.store.crypto import FieldCipher


def request_conflict(request_id: str) -> ConcurrencyConflict:
    return ConcurrencyConflict(
        "change_request.concurrent_change",
        "该申请已被他人处理，请刷新后查看",
        "someone else has dealt with this request; reload to see it",
        request_id=request_id,
    )


def request_not_found(request_id: str) -> NotFound:
    return NotFound(
        "change_request.not_found",
        f"保全申请 {request_id} 不存在",
        f"change request {request_id} not found",
        request_id=request_id,
    )


def _seal(values: Mapping[str, Any], cipher: FieldCipher) -> str:
    return cipher.encrypt(json.dumps(values, ensure_ascii=False, sort_keys=True))


def _open(token: str, cipher: FieldCipher) -> dict[str, Any]:
    opened: dict[str, Any] = json.loads(cipher.decrypt(token))
    return opened


def _request_values(request: ChangeRequest, cipher: FieldCipher) -> dict[str, Any]:
    return {
        "policy_number": request.policy_number,
        "kind": request.kind.value,
        "status": request.status.value,
        "values_enc": _seal(request.values, cipher),
        "requested_by_kind": request.requested_by.kind,
        "requested_by": request.requested_by.ref,
        "effective": request.effective,
        "comment": request.comment,
        "decided_by": request.decided_by,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
    }


def _request_from_row(row: Row[Any], cipher: FieldCipher) -> ChangeRequest:
    return ChangeRequest(
        request_id=row.request_id,
        policy_number=row.policy_number,
        kind=ChangeKind(row.kind),
        values=_open(row.values_enc, cipher),
        requested_by=Requester(row.requested_by_kind, row.requested_by),
        status=RequestStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        effective=row.effective,
        comment=row.comment,
        decided_by=row.decided_by,
        version=row.version,
    )


class SqlChangeRequests:
    def __init__(self, connection: Connection, cipher: FieldCipher) -> None:
        self._connection = connection
        self._cipher = cipher

    def add(self, request: ChangeRequest) -> None:
        """Insert a new request; the same ID twice is a lost race (``ConcurrencyConflict``)."""
        values = {
            "request_id": request.request_id,
            **_request_values(request, self._cipher),
            "version": request.version,
        }
        try:
            with _locks_as_conflict(request_conflict(request.request_id)):
                self._connection.execute(insert(change_requests), values)
        except IntegrityError as error:
            raise request_conflict(request.request_id) from error

    def find(self, request_id: str) -> ChangeRequest | None:
        row = self._connection.execute(
            select(change_requests).where(change_requests.c.request_id == request_id)
        ).one_or_none()
        return None if row is None else _request_from_row(row, self._cipher)

    def get(self, request_id: str) -> ChangeRequest:
        found = self.find(request_id)
        if found is None:
            raise request_not_found(request_id)
        return found

    def update(self, request: ChangeRequest, *, expected_version: int) -> ChangeRequest:
        """Write ``request`` if its stored version is still ``expected_version``."""
        values = {**_request_values(request, self._cipher), "version": expected_version + 1}
        with _locks_as_conflict(request_conflict(request.request_id)):
            result = self._connection.execute(
                update(change_requests)
                .where(
                    change_requests.c.request_id == request.request_id,
                    change_requests.c.version == expected_version,
                )
                .values(values)
            )
        if result.rowcount != 1:
            raise request_conflict(request.request_id)
        return replace(request, version=expected_version + 1)

    def on_policies(self, policy_numbers: Sequence[str], limit: int) -> list[ChangeRequest]:
        """Requests on these policies, newest first."""
        if not policy_numbers:
            return []
        rows = self._connection.execute(
            select(change_requests)
            .where(change_requests.c.policy_number.in_(list(policy_numbers)))
            .order_by(change_requests.c.created_at.desc(), change_requests.c.request_id.desc())
            .limit(limit)
        )
        return [_request_from_row(row, self._cipher) for row in rows]

    def with_status(self, status: RequestStatus, limit: int) -> list[ChangeRequest]:
        """Requests in a status, oldest first (the order a queue is worked)."""
        rows = self._connection.execute(
            select(change_requests)
            .where(change_requests.c.status == status.value)
            .order_by(change_requests.c.created_at, change_requests.c.request_id)
            .limit(limit)
        )
        return [_request_from_row(row, self._cipher) for row in rows]

    def count_by_requester(self) -> dict[str, int]:
        """How many requests each kind of requester made (``customer`` / ``staff``), over
        every status: one grouped query."""
        kind = change_requests.c.requested_by_kind
        rows = self._connection.execute(select(kind, func.count()).group_by(kind))
        return {str(row[0]): int(row[1]) for row in rows}

    def open_on(self, policy_number: str) -> list[ChangeRequest]:
        """The requests on a policy still waiting for review."""
        rows = self._connection.execute(
            select(change_requests).where(
                change_requests.c.policy_number == policy_number,
                change_requests.c.status == RequestStatus.PENDING_REVIEW.value,
            )
        )
        return [_request_from_row(row, self._cipher) for row in rows]


class SqlChangeLinks:
    def __init__(self, connection: Connection, cipher: FieldCipher) -> None:
        self._connection = connection
        self._cipher = cipher

    def add(self, link: ChangeLink) -> None:
        self._connection.execute(
            insert(change_links),
            {
                "link_id": link.link_id,
                "policy_number": link.policy_number,
                "kind": link.kind.value,
                "values_enc": _seal(link.values, self._cipher),
                "mobile_hash": link.mobile_hash,
                "created_by": link.created_by,
                "created_at": link.created_at,
                "expires_at": link.expires_at,
            },
        )

    def find(self, link_id: str) -> ChangeLink | None:
        row = self._connection.execute(
            select(change_links).where(change_links.c.link_id == link_id)
        ).one_or_none()
        if row is None:
            return None
        return ChangeLink(
            link_id=row.link_id,
            policy_number=row.policy_number,
            kind=ChangeKind(row.kind),
            values=_open(row.values_enc, self._cipher),
            mobile_hash=row.mobile_hash,
            created_by=row.created_by,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )


class SqlChangeUnitOfWork:
    """One transaction over change requests, links and the event log."""

    requests: SqlChangeRequests
    links: SqlChangeLinks
    events: SqlEventLog

    def __init__(self, engine: Engine, cipher: FieldCipher) -> None:
        self._engine = engine
        self._cipher = cipher
        self._connection: Connection | None = None

    def __enter__(self) -> Self:
        connection = self._engine.connect()
        connection.begin()
        self._connection = connection
        self.requests = SqlChangeRequests(connection, self._cipher)
        self.links = SqlChangeLinks(connection, self._cipher)
        self.events = SqlEventLog(connection)
        return self

    def __exit__(self, *exc: object) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            connection.rollback()
        finally:
            connection.close()
            self._connection = None

    def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("the unit of work has not been entered")
        with _locks_as_conflict(request_conflict("—")):
            self._connection.commit()


class SqlChangeUnitOfWorkFactory:
    """Each call is a fresh unit of work on the engine."""

    def __init__(self, engine: Engine, cipher: FieldCipher) -> None:
        self.engine = engine
        self.cipher = cipher

    def __call__(self) -> SqlChangeUnitOfWork:
        return SqlChangeUnitOfWork(self.engine, self.cipher)


__all__ = [
    "SqlChangeLinks",
    "SqlChangeRequests",
    "SqlChangeUnitOfWork",
    "SqlChangeUnitOfWorkFactory",
]
