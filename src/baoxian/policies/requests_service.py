"""保全申请 use cases: submit a change, the staff queue (approve / decline), and 慧保全 links.

The change itself is always applied by :class:`~baoxian.policies.services.PolicyService`'s
endorsement methods, with the request ID as their idempotency key.  Applying and recording
the outcome are two transactions; if a process dies between them, running the same command
again finds the endorsement already made (its key is in the event log), does not repeat it,
and records the outcome — so a change is applied at most once and never lost.

Every move of a request is an event on the ``change_request`` aggregate; staff moves and
link creation carry the staff ID (``by``): that is their audit trail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol, Self

from baoxian.outreach.services import Text
from baoxian.policies.model import Policy
from baoxian.policies.ports import Event, EventLog
from baoxian.policies.requests import (
    KIND_NAMES,
    LINK_TTL,
    ChangeKind,
    ChangeLink,
    ChangeRequest,
    ChannelCounts,
    Requester,
    RequestStatus,
    applied,
    approved,
    beneficiaries_of,
    declined,
    effective_on,
    link_expired,
    link_invalid,
    link_not_yours,
    new_link,
    new_request,
    outcome_text,
    queued,
    require_changeable,
    require_move,
    require_none_pending,
    require_same_request,
)
from baoxian.policies.services import PolicyService
from baoxian.shared.clock import Clock, local_date
from baoxian.shared.errors import ConcurrencyConflict, ValidationFailed
from baoxian.shared.identity import mask_phone, normalise_mobile

# --------------------------------------------------------------------------- ports


class ChangeRequestRepository(Protocol):
    def add(self, request: ChangeRequest) -> None: ...
    def find(self, request_id: str) -> ChangeRequest | None: ...
    def get(self, request_id: str) -> ChangeRequest: ...
    def update(self, request: ChangeRequest, *, expected_version: int) -> ChangeRequest: ...
    def on_policies(self, policy_numbers: Sequence[str], limit: int) -> list[ChangeRequest]: ...
    def with_status(self, status: RequestStatus, limit: int) -> list[ChangeRequest]: ...
    def open_on(self, policy_number: str) -> list[ChangeRequest]: ...
    def count_by_requester(self) -> dict[str, int]: ...


class ChangeLinkRepository(Protocol):
    def add(self, link: ChangeLink) -> None: ...
    def find(self, link_id: str) -> ChangeLink | None: ...


class ChangeUnitOfWork(Protocol):
    @property
    def requests(self) -> ChangeRequestRepository: ...
    @property
    def links(self) -> ChangeLinkRepository: ...
    @property
    def events(self) -> EventLog: ...

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class Notifier(Protocol):
    """Where outcome notices go (the outreach context's inbox)."""

    def notify(self, party_id: str, mobile: str, text: Text) -> object: ...


class SmsSender(Protocol):
    def send_sms(self, mobile: str, text: Text, party_id: str | None = None) -> object: ...


@dataclass(frozen=True, slots=True)
class PushedLink:
    """A link just made: the record, and the token that goes into its URL (``/l/{token}``)."""

    link: ChangeLink
    token: str


# --------------------------------------------------------------------------- the service


@dataclass
class ChangeRequestService:
    uow: Callable[[], ChangeUnitOfWork]
    policies: PolicyService
    notifier: Notifier
    sms: SmsSender
    link_key: bytes
    mobile_index: Callable[[str], str]
    clock: Clock
    new_id: Callable[[], str]

    # ---------------------------------------------------------------- who asks

    def customer(self, mobile: str) -> Requester:
        """A signed-in customer as a requester (their phone's blind index)."""
        return Requester("customer", self.mobile_index(normalise_mobile(mobile)))

    @staticmethod
    def staff(user_id: str) -> Requester:
        return Requester("staff", user_id)

    def new_request_id(self) -> str:
        """The idempotency key a form carries: the same submission twice is one request."""
        return self.new_id()

    # ---------------------------------------------------------------- submit

    def submit(
        self,
        policy_number: str,
        kind: ChangeKind,
        values: Mapping[str, Any],
        *,
        by: Requester,
        request_id: str,
    ) -> ChangeRequest:
        """Ask for a change.  Contact changes apply at once; the others wait for staff.

        Idempotent: submitting the same ``request_id`` again returns the request as it
        stands (finishing its routing if a previous attempt was cut short)."""
        existing = self._find(request_id)
        if existing is None:
            existing = self._create(policy_number, kind, values, by, request_id)
        require_same_request(existing, policy_number, by)
        if existing.status is not RequestStatus.SUBMITTED:
            return existing
        if existing.route.immediate:
            return self._apply_now(existing)
        return self._save(existing, queued(existing, self.clock()), "change_request.queued", {})

    def _create(
        self,
        policy_number: str,
        kind: ChangeKind,
        values: Mapping[str, Any],
        by: Requester,
        request_id: str,
    ) -> ChangeRequest:
        policy = self.policies.policy(policy_number)
        require_changeable(policy, self._effective(policy))
        request = new_request(request_id, policy, kind, values, by, self.clock())
        try:
            with self.uow() as uow:
                require_none_pending(uow.requests.open_on(policy_number), request)
                uow.requests.add(request)
                self._record(
                    uow.events,
                    request,
                    "change_request.submitted",
                    {
                        "policy_number": policy_number,
                        "kind": kind.value,
                        "by_kind": by.kind,
                        "route": request.route.code,
                    },
                )
                uow.commit()
        except ConcurrencyConflict:
            raced = self._find(request_id)  # the same form sent twice at once
            if raced is None:
                raise
            return raced
        return request

    def _apply_now(self, request: ChangeRequest) -> ChangeRequest:
        policy = self.policies.policy(request.policy_number)
        effective = self._effective(policy)
        self._endorse(request, effective)
        done = applied(request, self.clock(), effective)
        saved = self._save(
            request, done, "change_request.applied", {"effective": effective.isoformat()}
        )
        self._tell(saved)
        return saved

    # ---------------------------------------------------------------- staff decisions

    def approve(self, request_id: str, staff_id: str) -> ChangeRequest:
        """Approve a request under review: the endorsement is made, the customer told."""
        request = self.request(request_id)
        require_move(request, "approve")
        policy = self.policies.policy(request.policy_number)
        effective = self._effective(policy)
        self._endorse(request, effective)
        done = approved(request, self.clock(), effective, staff_id)
        saved = self._save(
            request,
            done,
            "change_request.approved",
            {"by": staff_id, "effective": effective.isoformat()},
        )
        self._tell(saved)
        return saved

    def decline(self, request_id: str, staff_id: str, comment: str) -> ChangeRequest:
        """Decline a request under review with a comment the customer reads as written."""
        request = self.request(request_id)
        done = declined(request, self.clock(), staff_id, comment)
        saved = self._save(
            request, done, "change_request.declined", {"by": staff_id, "comment": done.comment}
        )
        self._tell(saved)
        return saved

    # ---------------------------------------------------------------- queries

    def request(self, request_id: str) -> ChangeRequest:
        with self.uow() as uow:
            return uow.requests.get(request_id)

    def on_policies(self, policy_numbers: Sequence[str], limit: int = 50) -> list[ChangeRequest]:
        """Requests on these policies, newest first (a customer's 我的申请)."""
        with self.uow() as uow:
            return uow.requests.on_policies(policy_numbers, limit)

    def queue(self, limit: int = 50) -> list[ChangeRequest]:
        """Requests waiting for staff, oldest first."""
        with self.uow() as uow:
            return uow.requests.with_status(RequestStatus.PENDING_REVIEW, limit)

    def channel_counts(self) -> ChannelCounts:
        """Every request so far, online (the customer: portal or 慧保全 link) and entered by
        staff — what the online servicing rate (保全线上替代率) is made of."""
        with self.uow() as uow:
            return ChannelCounts.of(uow.requests.count_by_requester())

    def history(self, request_id: str) -> list[Event]:
        with self.uow() as uow:
            uow.requests.get(request_id)
            return uow.events.for_aggregate(request_id)

    # ---------------------------------------------------------------- 慧保全 links

    def push_link(
        self,
        staff_id: str,
        mobile: str,
        policy_number: str,
        kind: ChangeKind,
        values: Mapping[str, Any],
        ttl: timedelta = LINK_TTL,
    ) -> PushedLink:
        """Make a signed, expiring link for one phone and one transaction, pre-filled with
        ``values``.  The phone must be the policyholder's registered mobile."""
        number = normalise_mobile(mobile)
        policy = self.policies.policy(policy_number)
        holders = {p.party_id for p in self.policies.parties_with_mobile(number)}
        if policy.holder_id not in holders:
            raise ValidationFailed(
                "link.not_policyholder",
                f"手机号 {mask_phone(number)} 不是保单 {policy_number} 投保人的登记手机号",
                f"{mask_phone(number)} is not the registered mobile of the holder of "
                f"policy {policy_number}",
            )
        link = new_link(
            self.new_id(),
            policy,
            kind,
            values,
            self.mobile_index(number),
            staff_id,
            self.clock(),
            ttl,
        )
        with self.uow() as uow:
            uow.links.add(link)
            uow.events.append(
                Event(
                    "change_link",
                    link.link_id,
                    "change_link.created",
                    {
                        "by": staff_id,
                        "policy_number": policy_number,
                        "kind": kind.value,
                        "mobile": mask_phone(number),
                        "expires_at": link.expires_at.isoformat(),
                    },
                    self.clock(),
                )
            )
            uow.commit()
        return PushedLink(link, self._token(link.link_id))

    def send_link(self, pushed: PushedLink, mobile: str, url: str) -> None:
        """Text the link to the customer (the outbox in development)."""
        link = pushed.link
        zh, en = KIND_NAMES[link.kind]
        until = local_date(link.expires_at).isoformat()
        self.sms.send_sms(
            normalise_mobile(mobile),
            Text(
                "change_link",
                "保全办理链接",
                "A link to change your policy",
                f"【保险】您的保单 {link.policy_number} 可在线办理{zh}，请点击 {url} 登录后"
                f"核对并提交，链接 {until} 前有效。",
                f"[Baoxian] Make the {en} on policy {link.policy_number} online: open {url}, "
                f"sign in, check and submit. The link is valid until {until}.",
            ),
        )

    def check_link(self, token: str) -> ChangeLink:
        """The link behind a token, before anyone signs in: genuine (else
        :class:`LinkInvalid`) and unexpired (else :class:`LinkExpired`)."""
        link_id, _, mac = token.partition(".")
        if not link_id or not hmac.compare_digest(self._mac(link_id), mac):
            raise link_invalid()
        with self.uow() as uow:
            link = uow.links.find(link_id)
        if link is None:
            raise link_invalid()
        if link.expired(self.clock()):
            raise link_expired()
        return link

    def open_link(self, token: str, mobile: str) -> ChangeLink:
        """The link behind a token for the signed-in ``mobile``: as :meth:`check_link`, and
        sent to this phone (else :class:`LinkNotYours`)."""
        link = self.check_link(token)
        if not hmac.compare_digest(link.mobile_hash, self.mobile_index(normalise_mobile(mobile))):
            raise link_not_yours()
        return link

    def _token(self, link_id: str) -> str:
        return f"{link_id}.{self._mac(link_id)}"

    def _mac(self, link_id: str) -> str:
        digest = hmac.new(self.link_key, link_id.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    # ---------------------------------------------------------------- internals

    def _find(self, request_id: str) -> ChangeRequest | None:
        with self.uow() as uow:
            return uow.requests.find(request_id)

    def _effective(self, policy: Policy) -> date:
        return effective_on(policy, local_date(self.clock()))

    def _endorse(self, request: ChangeRequest, effective: date) -> Policy:
        """Make the change through the policy's own endorsement, at most once (the request
        ID is the endorsement's idempotency key)."""
        key, values, number = request.request_id, request.values, request.policy_number
        if request.kind is ChangeKind.CONTACT:
            return self.policies.change_contact(
                number,
                effective,
                mobile=values.get("mobile"),
                address=values.get("address"),
                request_id=key,
            )
        if request.kind is ChangeKind.BENEFICIARY:
            return self.policies.change_beneficiaries(
                number, effective, beneficiaries_of(values), request_id=key
            )
        return self.policies.change_unit_details(
            number, effective, values["unit_key"], details=values["details"], request_id=key
        )

    def _save(
        self,
        before: ChangeRequest,
        after: ChangeRequest,
        event_type: str,
        payload: dict[str, Any],
    ) -> ChangeRequest:
        with self.uow() as uow:
            saved = uow.requests.update(after, expected_version=before.version)
            self._record(uow.events, saved, event_type, {"status": saved.status.value, **payload})
            uow.commit()
        return saved

    def _record(
        self, log: EventLog, request: ChangeRequest, event_type: str, payload: dict[str, Any]
    ) -> None:
        log.append(Event("change_request", request.request_id, event_type, payload, self.clock()))

    def _tell(self, request: ChangeRequest) -> None:
        """The outcome notice to the policyholder's inbox (at the policy's contact phone,
        which a contact change has just updated)."""
        current = self.policies.policy(request.policy_number)
        words = outcome_text(request)
        self.notifier.notify(
            current.holder_id,
            current.contact_mobile,
            Text(words.topic, words.subject_zh, words.subject_en, words.body_zh, words.body_en),
        )


__all__ = ["ChangeRequestService", "PushedLink"]
