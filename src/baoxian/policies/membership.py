"""Members of a group or programme policy in batches (批量增员 / 批量减员) — the partner API's
use cases, e.g. a delivery platform enrolling its riders by shift.

A batch holds up to :data:`MAX_ROWS` members and is read as a stream: rows are validated as
they arrive (the enrolment's :class:`~baoxian.policies.enrolment.MemberValidator`) and staged
a few thousand at a time, then written set-based in the same transaction — so a batch
changes the policy completely or not at all, and memory stays bounded whatever its size.

* **Enrolment** rates each member on the facts of the effective date and charges the annual
  premium pro rata for the days left in the term, member by member
  (:func:`~baoxian.policies.model.pro_rata_for_term`).  A person already a member is counted,
  not enrolled twice; a 身份证号 registered with another name or mobile is refused, as at quote.
* **Removal** takes members off by 身份证号 or member ID and refunds each one's annual
  premium pro rata from the effective date — the refund ``remove_members`` gives, per member.
  The removed members are kept (``policy_unit_removals``); unknown, repeated or already
  removed keys are rejections of their row.

The batch ID (the request's idempotency key) makes a batch happen once: sent again, the
stored report comes back.  Each batch writes one event in its transaction
(``policy.members_enrolled`` / ``policy.members_removed``) — what partners' webhooks carry.

>>> term = (date(2026, 3, 1), date(2027, 3, 1))
>>> premium_change([(19500, 3), (12000, 1)], *term, date(2026, 6, 15))
(Money('705.00'), Money('500.26'))
>>> removal_rejection(7, "already_removed").en
'row 7: the member was already removed from this policy'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, Self, TypeVar

from baoxian.catalog.model import CompiledPlan
from baoxian.catalog.services import Catalog
from baoxian.policies.enrolment import MemberRow, MemberValidator, Rejection, ValidMember
from baoxian.policies.member_files import MemberKey
from baoxian.policies.model import Action, next_status, pro_rata_for_term, require_within
from baoxian.policies.ports import Event, EventLog
from baoxian.shared.clock import Clock, local_date
from baoxian.shared.errors import (
    ConcurrencyConflict,
    LimitExceeded,
    NotFound,
    ValidationFailed,
)
from baoxian.shared.money import Money

if TYPE_CHECKING:
    from baoxian.policies.enrolment_store import PolicyHeader

MAX_ROWS = 100_000
"""Members in one batch; a larger file is split by the sender."""

STAGE_ROWS = 2_000
"""Rows validated and staged at a time: what bounds a batch's memory."""

REPORT_REJECTIONS = 1_000
"""Rejections a batch report carries; the rest are read page by page."""

BatchKind = Literal["enrolment", "removal"]
RemovalReason = Literal["not_found", "duplicate", "already_removed", "before_start"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MemberBatch:
    """What a batch did.  ``accepted`` members were enrolled (or removed); in an enrolment
    ``already_enrolled`` were members before; ``rejected`` rows changed nothing, and
    ``rejections`` are the first :data:`REPORT_REJECTIONS` of them by row."""

    batch_id: str
    policy_number: str
    kind: BatchKind
    effective: date
    received: int
    accepted: int
    already_enrolled: int
    rejected: int
    premium_charged: Money
    refund: Money
    annual_premium_change: Money
    created_at: datetime
    rejections: tuple[Rejection, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    """A person insured under a group policy, as the member list shows it."""

    member_id: str
    party_id: str | None
    name: str
    id_number: str
    mobile: str
    added_on: date | None
    annual_premium: Money | None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A page of a list read by keyset; ``next_cursor`` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None


# --------------------------------------------------------------------------- pure rules


def premium_change(
    premiums: Iterable[tuple[int, int]], term_start: date, term_end: date, effective: date
) -> tuple[Money, Money]:
    """The annual premium of members (``(annual premium in fen, how many)``) and its share
    for the days from ``effective`` to the end of the term, pro rata member by member."""
    annual = Money.ZERO
    share = Money.ZERO
    for fen, count in premiums:
        each = pro_rata_for_term(Money.from_fen(fen), term_start, term_end, effective)
        annual = annual + Money.from_fen(fen * count)
        share = share + Money.from_fen(each.fen * count)
    return annual, share


_REMOVAL_TEXT: Mapping[RemovalReason, tuple[str, str, str]] = {
    "not_found": ("members.not_found", "不是本保单的成员", "not a member of this policy"),
    "duplicate": (
        "members.duplicate_in_file",
        "与前面的行是同一成员",
        "the same member as an earlier row",
    ),
    "already_removed": (
        "members.already_removed",
        "该成员已从本保单减少",
        "the member was already removed from this policy",
    ),
    "before_start": (
        "members.removed_before_start",
        "减员生效日早于该成员的起保日",
        "the effective date is before the member's cover began",
    ),
}


def removal_rejection(row_no: int, reason: RemovalReason) -> Rejection:
    code, zh, en = _REMOVAL_TEXT[reason]
    return Rejection(row_no, code, f"第{row_no}行：{zh}", f"row {row_no}: {en}")


def registered_elsewhere(row_no: int) -> Rejection:
    return Rejection(
        row_no,
        "party.registered_details_mismatch",
        f"第{row_no}行：该身份证号已登记，姓名或手机号与登记的不一致",
        f"row {row_no}: the ID number is registered with another name or mobile",
    )


def too_many_rows(limit: int) -> LimitExceeded:
    return LimitExceeded(
        "members.too_many_rows",
        f"一个批次最多 {limit:,} 名成员，请分批提交",
        f"a batch holds at most {limit:,} members; send the rest in another batch",
        limit=limit,
    )


# --------------------------------------------------------------------------- ports


class MembershipStore(Protocol):
    def header(self, policy_number: str) -> PolicyHeader: ...
    def batch(self, policy_number: str, batch_id: str) -> MemberBatch | None: ...
    def add_batch(self, batch: MemberBatch) -> None: ...
    def add_rejections(self, batch_id: str, rejections: Sequence[Rejection]) -> None: ...
    def rejections(self, batch_id: str, after: int, limit: int) -> list[Rejection]: ...
    def members(self, policy_number: str, after: str | None, limit: int) -> list[Member]: ...
    def bump(
        self, header: PolicyHeader, members: int, annual_fen: int, charged_fen: int, now: datetime
    ) -> None:
        """Move the policy's member count and premiums under its version, or raise
        ``ConcurrencyConflict``."""
        ...

    # enrolment
    def open_enrolment(self) -> None: ...
    def stage_members(self, members: Sequence[ValidMember]) -> None: ...
    def registered_elsewhere(self) -> list[int]:
        """Rows whose 身份证号 is registered with another name or mobile; unstaged."""
        ...

    def new_member_premiums(self, policy_number: str) -> list[tuple[int, int]]:
        """``(annual premium in fen, how many)`` of the staged persons not yet members."""
        ...

    def enrol_staged(
        self,
        header: PolicyHeader,
        cover: dict[str, int],
        batch_id: str,
        added_on: date,
        now: datetime,
    ) -> int: ...

    # removal
    def open_removal(self) -> None: ...
    def stage_keys(self, keys: Sequence[MemberKey]) -> None: ...
    def resolve_staged_keys(self) -> None: ...
    def unpriced_removals(
        self, policy_number: str, effective: date
    ) -> list[tuple[str, Mapping[str, Any]]]: ...
    def price(self, policy_number: str, premiums: Mapping[str, int]) -> None: ...
    def removal_premiums(self, policy_number: str, effective: date) -> list[tuple[int, int]]: ...
    def remove_staged(
        self, policy_number: str, batch_id: str, effective: date, refunds: Mapping[int, int]
    ) -> int: ...
    def removal_outcomes(
        self, policy_number: str, batch_id: str, after: int, limit: int
    ) -> list[tuple[int, RemovalReason]]: ...
    def close_removal(self) -> None: ...
    def has_members(self, policy_number: str) -> bool: ...


class MembershipUnitOfWork(Protocol):
    @property
    def memberships(self) -> MembershipStore: ...
    @property
    def events(self) -> EventLog: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


# --------------------------------------------------------------------------- the use cases


@dataclass
class MembershipService:
    """Enrol and remove members of a group policy in batches; list them."""

    uow: Callable[[], MembershipUnitOfWork]
    catalog: Catalog
    clock: Clock
    max_rows: int = MAX_ROWS

    def enrol(
        self,
        policy_number: str,
        rows: Iterable[MemberRow | Rejection],
        batch_id: str,
        effective: date | None = None,
    ) -> MemberBatch:
        """增员: validate and enrol the members of ``rows`` from ``effective`` (default
        today), charging each one's premium pro rata.  A batch ID already used returns the
        stored report and reads nothing."""
        with self.uow() as uow:
            store = uow.memberships
            header = store.header(policy_number)
            done = store.batch(policy_number, batch_id)
            if done is not None:
                return _with_rejections(store, done)
            on = self._effective(header, effective)
            validator = MemberValidator(self._plan(header), on)
            received, valid = self._stage_members(store, validator, rows, batch_id)
            valid -= self._reject_registered_elsewhere(store, batch_id)
            batch = self._enrol_staged(store, header, validator, batch_id, on)
            batch = replace(
                batch,
                received=received,
                already_enrolled=valid - batch.accepted,
                rejected=received - valid,
            )
            report = self._record(uow, batch)
            uow.commit()
        return report

    def remove(
        self,
        policy_number: str,
        keys: Iterable[MemberKey | Rejection],
        batch_id: str,
        effective: date | None = None,
    ) -> MemberBatch:
        """减员: take the members ``keys`` name off the policy from ``effective`` (default
        today) and refund each one's premium pro rata.  A batch ID already used returns the
        stored report and reads nothing."""
        with self.uow() as uow:
            store = uow.memberships
            header = store.header(policy_number)
            done = store.batch(policy_number, batch_id)
            if done is not None:
                return _with_rejections(store, done)
            on = self._effective(header, effective)
            received = self._stage_keys(store, keys, batch_id)
            batch = self._remove_staged(store, header, batch_id, on)
            report = self._record(
                uow, replace(batch, received=received, rejected=received - batch.accepted)
            )
            uow.commit()
        return report

    # ---------------------------------------------------------------- queries

    def batch(self, policy_number: str, batch_id: str) -> MemberBatch:
        """A batch's report with its first rejections."""
        with self.uow() as uow:
            found = uow.memberships.batch(policy_number, batch_id)
            if found is None:
                raise _batch_not_found(batch_id)
            return _with_rejections(uow.memberships, found)

    def rejections(
        self, policy_number: str, batch_id: str, after: int, limit: int
    ) -> Page[Rejection]:
        """A batch's rejections after row ``after``, by row."""
        with self.uow() as uow:
            if uow.memberships.batch(policy_number, batch_id) is None:
                raise _batch_not_found(batch_id)
            found = uow.memberships.rejections(batch_id, after, limit + 1)
        more = len(found) > limit
        return Page(tuple(found[:limit]), str(found[limit - 1].row_no) if more else None)

    def members(self, policy_number: str, after: str | None, limit: int) -> Page[Member]:
        """The policy's members in the order of their member ID, after ``after``."""
        with self.uow() as uow:
            uow.memberships.header(policy_number)
            found = uow.memberships.members(policy_number, after, limit + 1)
        more = len(found) > limit
        return Page(tuple(found[:limit]), found[limit - 1].member_id if more else None)

    # ---------------------------------------------------------------- enrolment steps

    def _stage_members(
        self,
        store: MembershipStore,
        validator: MemberValidator,
        rows: Iterable[MemberRow | Rejection],
        batch_id: str,
    ) -> tuple[int, int]:
        """Validate and stage the rows a chunk at a time; rows read and members valid."""
        store.open_enrolment()
        received, valid = 0, 0
        for chunk in _chunks(self._limited(rows), STAGE_ROWS):
            accepted, rejected = validator.check_all(chunk)
            store.stage_members(accepted)
            store.add_rejections(batch_id, rejected)
            received, valid = received + len(chunk), valid + len(accepted)
        _require_rows(received)
        return received, valid

    @staticmethod
    def _reject_registered_elsewhere(store: MembershipStore, batch_id: str) -> int:
        """Unstage and reject the persons registered with another name or mobile."""
        mismatched = store.registered_elsewhere()
        for rows in _chunks(mismatched, STAGE_ROWS):
            store.add_rejections(batch_id, [registered_elsewhere(n) for n in rows])
        return len(mismatched)

    def _enrol_staged(
        self,
        store: MembershipStore,
        header: PolicyHeader,
        validator: MemberValidator,
        batch_id: str,
        on: date,
    ) -> MemberBatch:
        """Enrol the staged members that are new and charge them; the batch (its counts of
        rows still to fill in)."""
        premiums = store.new_member_premiums(header.policy_number)
        annual, charged = premium_change(premiums, header.term_start, header.term_end, on)
        now = self.clock()
        cover = {code: amount.fen for code, amount in validator.cover.items()}
        enrolled = store.enrol_staged(header, cover, batch_id, on, now)
        _require_count(enrolled, premiums)
        store.bump(header, enrolled, annual.fen, charged.fen, now)
        return _batch(header, batch_id, "enrolment", on, now, enrolled, annual, charged=charged)

    # ---------------------------------------------------------------- removal steps

    def _stage_keys(
        self, store: MembershipStore, keys: Iterable[MemberKey | Rejection], batch_id: str
    ) -> int:
        """Stage the keys a chunk at a time, rejecting the unreadable; rows read."""
        store.open_removal()
        received = 0
        for chunk in _chunks(self._limited(keys), STAGE_ROWS):
            store.stage_keys([k for k in chunk if isinstance(k, MemberKey)])
            store.add_rejections(batch_id, [r for r in chunk if isinstance(r, Rejection)])
            received += len(chunk)
        _require_rows(received)
        store.resolve_staged_keys()
        return received

    def _remove_staged(
        self, store: MembershipStore, header: PolicyHeader, batch_id: str, on: date
    ) -> MemberBatch:
        """Remove the members the staged keys name and refund them; reject the other keys."""
        self._price_unpriced(store, header, on)
        premiums = store.removal_premiums(header.policy_number, on)
        annual, refund = premium_change(premiums, header.term_start, header.term_end, on)
        refunds = {fen: _pro_rata(header, fen, on) for fen, _ in premiums}
        removed = store.remove_staged(header.policy_number, batch_id, on, refunds)
        _require_count(removed, premiums)
        self._reject_unremoved(store, header.policy_number, batch_id)
        store.close_removal()
        if removed and not store.has_members(header.policy_number):
            raise ValidationFailed(
                "endorsement.last_member",
                "不能减少全部被保险人，请办理退保",
                "cannot remove every member; cancel the policy instead",
            )
        now = self.clock()
        store.bump(header, -removed, -annual.fen, -refund.fen, now)
        return _batch(header, batch_id, "removal", on, now, removed, -annual, refund=refund)

    def _price_unpriced(self, store: MembershipStore, header: PolicyHeader, on: date) -> None:
        """Members written singly (from a quote) carry no premium of their own: rate them on
        their stored facts, as re-quoting the policy without them would."""
        unpriced = store.unpriced_removals(header.policy_number, on)
        if not unpriced:
            return
        validator = MemberValidator(self._plan(header), on)
        premiums: dict[str, int] = {}
        for key, facts in unpriced:
            premium = validator.premium_of(key, facts)
            premiums[key] = 0 if premium is None else premium.fen
        store.price(header.policy_number, premiums)

    @staticmethod
    def _reject_unremoved(store: MembershipStore, policy_number: str, batch_id: str) -> None:
        """Record why each staged key removed nothing, a page of rows at a time."""
        after = 0
        while page := store.removal_outcomes(policy_number, batch_id, after, STAGE_ROWS):
            store.add_rejections(batch_id, [removal_rejection(n, why) for n, why in page])
            after = page[-1][0]

    # ---------------------------------------------------------------- shared

    def _effective(self, header: PolicyHeader, effective: date | None) -> date:
        """The effective date (today by default) once the policy may change this way."""
        on = effective or local_date(self.clock())
        next_status(header.status, Action.ENDORSE, header.policy_number)
        if not header.is_group:
            raise ValidationFailed(
                "endorsement.not_group",
                "只有团体保单可以增减被保险人",
                "members can be added or removed on group policies only",
            )
        require_within(header.term_start, header.term_end, on)
        return on

    def _plan(self, header: PolicyHeader) -> CompiledPlan:
        return self.catalog.plan(header.product_code, header.plan_version)

    def _limited(self, rows: Iterable[T]) -> Iterator[T]:
        for count, row in enumerate(rows, start=1):
            if count > self.max_rows:
                raise too_many_rows(self.max_rows)
            yield row

    @staticmethod
    def _record(uow: MembershipUnitOfWork, batch: MemberBatch) -> MemberBatch:
        """Keep the batch and its event (same transaction); the report to answer."""
        uow.memberships.add_batch(batch)
        event_type = (
            "policy.members_enrolled" if batch.kind == "enrolment" else "policy.members_removed"
        )
        uow.events.append(
            Event(
                "policy",
                batch.policy_number,
                event_type,
                batch_payload(batch),
                batch.created_at,
                batch.batch_id,
            )
        )
        return _with_rejections(uow.memberships, batch)


def _batch(
    header: PolicyHeader,
    batch_id: str,
    kind: BatchKind,
    on: date,
    now: datetime,
    accepted: int,
    annual_change: Money,
    charged: Money = Money.ZERO,
    refund: Money = Money.ZERO,
) -> MemberBatch:
    """A batch whose counts of rows (received, rejected …) the caller fills in."""
    return MemberBatch(
        batch_id=batch_id,
        policy_number=header.policy_number,
        kind=kind,
        effective=on,
        received=0,
        accepted=accepted,
        already_enrolled=0,
        rejected=0,
        premium_charged=charged,
        refund=refund,
        annual_premium_change=annual_change,
        created_at=now,
    )


def _pro_rata(header: PolicyHeader, fen: int, on: date) -> int:
    return pro_rata_for_term(Money.from_fen(fen), header.term_start, header.term_end, on).fen


def batch_payload(batch: MemberBatch) -> dict[str, Any]:
    """The event's payload: counts and amounts, never a member's data."""
    counts: dict[str, Any] = (
        {
            "enrolled": batch.accepted,
            "already_enrolled": batch.already_enrolled,
            "premium_fen": batch.premium_charged.fen,
        }
        if batch.kind == "enrolment"
        else {"removed": batch.accepted, "refund_fen": batch.refund.fen}
    )
    return {
        "batch_id": batch.batch_id,
        "effective": batch.effective.isoformat(),
        "received": batch.received,
        **counts,
        "rejected": batch.rejected,
        "annual_premium_change_fen": batch.annual_premium_change.fen,
    }


def _with_rejections(store: MembershipStore, batch: MemberBatch) -> MemberBatch:
    return replace(batch, rejections=tuple(store.rejections(batch.batch_id, 0, REPORT_REJECTIONS)))


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _require_rows(received: int) -> None:
    if received == 0:
        raise ValidationFailed("members.empty", "没有任何成员", "the body holds no members")


def _require_count(written: int, premiums: Sequence[tuple[int, int]]) -> None:
    """The rows written are the rows priced, or someone changed the members meanwhile."""
    if written != sum(count for _, count in premiums):
        raise ConcurrencyConflict(
            "policy.concurrent_change",
            "保单已被他人修改，请刷新后重试",
            "the policy was changed by someone else; reload and try again",
        )


def _batch_not_found(batch_id: str) -> NotFound:
    return NotFound("members.batch_not_found", f"没有批次 {batch_id}", f"no batch {batch_id}")


__all__ = [
    "MAX_ROWS",
    "REPORT_REJECTIONS",
    "Member",
    "MemberBatch",
    "MembershipService",
    "MembershipStore",
    "MembershipUnitOfWork",
    "Page",
    "batch_payload",
    "premium_change",
    "removal_rejection",
]
