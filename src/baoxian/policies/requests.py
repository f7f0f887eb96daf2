"""保全申请 — change requests on a policy, and 慧保全 links that lead a customer to one.  Pure.

A customer (or a member of staff on their behalf) asks for a change to a policy.  The rule
that decides what happens next is :data:`ROUTES`, one line per kind of change:

* **contact** (phone, address) — applies at once (立即生效).  It changes neither the risk
  nor who is paid, and the customer proved they hold the phone by signing in with it.
* **beneficiary** — staff review (人工审核).  It changes who is paid on a death claim: the
  classic target of fraud and family disputes, so a person checks the relationship.
* **vehicle_details / site_details** — staff review.  The plate, VIN, model, a site's name
  and address identify the insured object and are underwriting facts.

The request's life::

    submitted ──(applies at once)──► applied
              └─(needs review)────► pending_review ──approve──► approved (applied)
                                                   └─decline──► declined (comment kept)

Every move is a pure function here; the service writes each as an event.  The change itself
is always applied by the policy's endorsement use cases (``PolicyService.change_*``), with
the request ID as the endorsement's idempotency key, so it is applied at most once.

A 慧保全 link (:class:`ChangeLink`) is made by staff for one phone number and one
transaction with pre-filled values; it expires (:data:`LINK_TTL` by default).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from baoxian.policies.model import (
    Action,
    Beneficiary,
    Policy,
    next_status,
    require_within_term,
    validate_beneficiaries,
)
from baoxian.shared.errors import DomainError, InvalidTransition, ValidationFailed
from baoxian.shared.identity import mask_id, mask_phone, normalise_mobile

# --------------------------------------------------------------------------- kinds and routes


class ChangeKind(StrEnum):
    CONTACT = "contact"
    BENEFICIARY = "beneficiary"
    VEHICLE = "vehicle_details"
    SITE = "site_details"


class RequestStatus(StrEnum):
    SUBMITTED = "submitted"
    APPLIED = "applied"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    DECLINED = "declined"


KIND_NAMES: Mapping[ChangeKind, tuple[str, str]] = {
    ChangeKind.CONTACT: ("联系方式变更", "contact details change"),
    ChangeKind.BENEFICIARY: ("受益人变更", "beneficiary change"),
    ChangeKind.VEHICLE: ("车辆信息变更", "vehicle details change"),
    ChangeKind.SITE: ("保险标的场所信息变更", "insured site details change"),
}
STATUS_NAMES: Mapping[RequestStatus, tuple[str, str]] = {
    RequestStatus.SUBMITTED: ("已提交", "Submitted"),
    RequestStatus.APPLIED: ("已生效", "In effect"),
    RequestStatus.PENDING_REVIEW: ("审核中", "Under review"),
    RequestStatus.APPROVED: ("已批准", "Approved"),
    RequestStatus.DECLINED: ("未通过", "Declined"),
}


@dataclass(frozen=True, slots=True)
class Route:
    """What happens to a request once submitted, and why (shown before the customer sends)."""

    immediate: bool
    code: str
    zh: str
    en: str


ROUTES: Mapping[ChangeKind, Route] = {
    ChangeKind.CONTACT: Route(
        True,
        "contact_self_service",
        "联系方式不影响保障和保险金归属，提交后马上写入保单。",
        "Contact details change neither your cover nor who is paid, so the change is made "
        "as soon as you submit.",
    ),
    ChangeKind.BENEFICIARY: Route(
        False,
        "changes_payee",
        "受益人决定保险金给谁，工作人员核实后生效，结果会通知您。",
        "Beneficiaries decide who is paid, so our staff check the change first and tell you "
        "the outcome.",
    ),
    ChangeKind.VEHICLE: Route(
        False,
        "changes_risk",
        "车辆信息是承保依据，工作人员核实后生效，结果会通知您。",
        "The vehicle's details are part of your cover, so our staff check the change first "
        "and tell you the outcome.",
    ),
    ChangeKind.SITE: Route(
        False,
        "changes_risk",
        "场所信息是承保依据，工作人员核实后生效，结果会通知您。",
        "The site's details are part of your cover, so our staff check the change first and "
        "tell you the outcome.",
    ),
}

#: The details a customer may change on an insured vehicle or site, with their labels.
UNIT_FIELDS: Mapping[ChangeKind, Mapping[str, tuple[str, str]]] = {
    ChangeKind.VEHICLE: {
        "plate": ("号牌号码", "Number plate"),
        "vin": ("车架号（VIN）", "VIN"),
        "model": ("品牌型号", "Make and model"),
    },
    ChangeKind.SITE: {
        "name": ("场所名称", "Site name"),
        "address": ("场所地址", "Site address"),
    },
}
UNIT_KIND: Mapping[ChangeKind, str] = {ChangeKind.VEHICLE: "vehicle", ChangeKind.SITE: "site"}

#: Relationships a beneficiary may have to the insured (stored in Chinese, as on policies).
RELATIONSHIPS: Mapping[str, str] = {
    "配偶": "Spouse",
    "子女": "Child",
    "父母": "Parent",
    "兄弟姐妹": "Sibling",
    "其他": "Other",
}
MAX_BENEFICIARIES = 5
LINK_TTL = timedelta(hours=72)
MAX_LINK_TTL = timedelta(days=7)
_PLATE = re.compile(r"^[\u4e00-\u9fff][A-Z]·?[A-Z0-9]{5,6}$")
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def available_kinds(policy: Policy) -> tuple[ChangeKind, ...]:
    """The changes a customer may ask for on this policy: contact always; beneficiaries on an
    individual policy that insures a person; details of each kind of insured object on it."""
    unit_kinds = {unit.kind for unit in policy.units}
    kinds = [ChangeKind.CONTACT]
    if not policy.group and "person" in unit_kinds:
        kinds.append(ChangeKind.BENEFICIARY)
    kinds += [kind for kind, unit_kind in UNIT_KIND.items() if unit_kind in unit_kinds]
    return tuple(kinds)


def effective_on(policy: Policy, today: date) -> date:
    """The day a change takes effect: today, or the first day of cover if it has not begun."""
    return max(today, policy.term_start)


def require_changeable(policy: Policy, effective: date) -> None:
    """A policy can be changed only while in force and within its current term."""
    next_status(policy.status, Action.ENDORSE, policy.policy_number)
    require_within_term(policy, effective)


# --------------------------------------------------------------------------- the request


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked: a customer (the blind index of their phone — never the number itself) or a
    member of staff (their ID)."""

    kind: Literal["customer", "staff"]
    ref: str


@dataclass(frozen=True, slots=True)
class ChannelCounts:
    """How change requests came in: online (the customer themselves, through the portal or a
    慧保全 link — both are the customer's own session) or entered by staff at the counter.

    >>> counts = ChannelCounts.of({"customer": 2, "staff": 1})
    >>> counts.online, counts.counter, counts.total
    (2, 1, 3)
    """

    online: int
    counter: int

    @classmethod
    def of(cls, by_requester: Mapping[str, int]) -> ChannelCounts:
        """From counts by :attr:`Requester.kind`."""
        return cls(by_requester.get("customer", 0), by_requester.get("staff", 0))

    @property
    def total(self) -> int:
        return self.online + self.counter


@dataclass(frozen=True, slots=True)
class Line:
    """One row of what a request asks for, as shown to people."""

    zh: str
    en: str
    value: str
    value_en: str | None = None  # when the value itself reads differently in English

    @property
    def english(self) -> str:
        return self.value if self.value_en is None else self.value_en


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """A 保全申请.  ``values`` are the normalised requested values (see :func:`parse_values`);
    ``version`` is the optimistic-locking counter of the store."""

    request_id: str
    policy_number: str
    kind: ChangeKind
    values: Mapping[str, Any]
    requested_by: Requester
    status: RequestStatus
    created_at: datetime
    updated_at: datetime
    effective: date | None = None
    comment: str = ""
    decided_by: str | None = None
    version: int = 0

    @property
    def route(self) -> Route:
        return ROUTES[self.kind]

    @property
    def kind_zh(self) -> str:
        return KIND_NAMES[self.kind][0]

    @property
    def kind_en(self) -> str:
        return KIND_NAMES[self.kind][1]

    @property
    def status_zh(self) -> str:
        return STATUS_NAMES[self.status][0]

    @property
    def status_en(self) -> str:
        return STATUS_NAMES[self.status][1]

    @property
    def unit_key(self) -> str | None:
        key = self.values.get("unit_key")
        return str(key) if key is not None else None

    def lines(self) -> tuple[Line, ...]:
        return describe(self.kind, self.values)


def new_request(
    request_id: str,
    policy: Policy,
    kind: ChangeKind,
    raw: Mapping[str, Any],
    requested_by: Requester,
    now: datetime,
) -> ChangeRequest:
    """A submitted request with validated, normalised values."""
    if not _REQUEST_ID.fullmatch(request_id):
        raise ValidationFailed(
            "change_request.invalid_id",
            "申请编号无效，请刷新页面后重新提交",
            "the request ID is not valid; reload the page and submit again",
        )
    values = parse_values(kind, raw, policy)
    return ChangeRequest(
        request_id,
        policy.policy_number,
        kind,
        values,
        requested_by,
        RequestStatus.SUBMITTED,
        now,
        now,
    )


_MOVES: Mapping[tuple[RequestStatus, str], RequestStatus] = {
    (RequestStatus.SUBMITTED, "apply"): RequestStatus.APPLIED,
    (RequestStatus.SUBMITTED, "queue"): RequestStatus.PENDING_REVIEW,
    (RequestStatus.PENDING_REVIEW, "approve"): RequestStatus.APPROVED,
    (RequestStatus.PENDING_REVIEW, "decline"): RequestStatus.DECLINED,
}
_ACTION_ZH = {"apply": "生效", "queue": "转人工审核", "approve": "批准", "decline": "拒绝"}


def require_move(request: ChangeRequest, action: str) -> RequestStatus:
    """The status after ``action``, or :class:`InvalidTransition` naming both."""
    try:
        return _MOVES[(request.status, action)]
    except KeyError:
        raise InvalidTransition(
            f"change_request.cannot_{action}",
            f"该申请当前状态为「{request.status_zh}」，不能{_ACTION_ZH[action]}",
            f"the request is {request.status.value}; it cannot {action}",
            request_id=request.request_id,
        ) from None


def queued(request: ChangeRequest, now: datetime) -> ChangeRequest:
    return _moved(request, "queue", now)


def applied(request: ChangeRequest, now: datetime, effective: date) -> ChangeRequest:
    return _moved(request, "apply", now, effective=effective)


def approved(request: ChangeRequest, now: datetime, effective: date, by: str) -> ChangeRequest:
    return _moved(request, "approve", now, effective=effective, decided_by=by)


def declined(request: ChangeRequest, now: datetime, by: str, comment: str) -> ChangeRequest:
    """Decline with a comment the customer will read as written (1–500 characters)."""
    text = comment.strip()
    if not text or len(text) > 500:
        raise ValidationFailed(
            "change_request.comment_required",
            "请填写不予通过的原因（不超过500字），客户会看到这段说明",
            "write why it is declined (at most 500 characters); the customer will read it",
        )
    return _moved(request, "decline", now, comment=text, decided_by=by)


def _moved(request: ChangeRequest, action: str, now: datetime, **changes: Any) -> ChangeRequest:
    return replace(request, status=require_move(request, action), updated_at=now, **changes)


def require_none_pending(pending: Iterable[ChangeRequest], request: ChangeRequest) -> None:
    """One open request per policy, kind and insured object: a second one waits its turn."""
    for other in pending:
        same = other.kind is request.kind and other.unit_key == request.unit_key
        if same and other.request_id != request.request_id:
            raise ValidationFailed(
                "change_request.already_pending",
                "已有一笔同类申请正在审核，请等待审核结果后再提交",
                "a request of this kind is already under review; wait for its outcome",
                pending=other.request_id,
            )


def require_same_request(existing: ChangeRequest, policy_number: str, by: Requester) -> None:
    """A retried submission must be the same customer's request on the same policy."""
    if existing.policy_number != policy_number or existing.requested_by != by:
        raise ValidationFailed(
            "change_request.id_taken",
            "申请编号已被使用，请刷新页面后重新提交",
            "this request ID is already used; reload the page and submit again",
        )


# --------------------------------------------------------------------------- values


def parse_values(kind: ChangeKind, raw: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """The requested values of a kind, checked against the policy and normalised."""
    if kind not in available_kinds(policy):
        raise ValidationFailed(
            "change_request.kind_not_offered",
            f"保单 {policy.policy_number} 不能办理{KIND_NAMES[kind][0]}",
            f"a {KIND_NAMES[kind][1]} is not offered on policy {policy.policy_number}",
        )
    if kind is ChangeKind.CONTACT:
        return contact_values(raw.get("mobile"), raw.get("address"))
    if kind is ChangeKind.BENEFICIARY:
        return beneficiary_values(raw.get("beneficiaries") or ())
    return unit_values(kind, policy, raw.get("unit_key"), raw.get("details") or {})


def contact_values(mobile: str | None, address: str | None) -> dict[str, Any]:
    """A new phone and/or address; at least one."""
    values: dict[str, Any] = {}
    if mobile and mobile.strip():
        values["mobile"] = normalise_mobile(mobile)
    if address and address.strip():
        values["address"] = _text(address, "联系地址", "address", 200)
    if not values:
        raise ValidationFailed(
            "change_request.nothing_to_change",
            "请至少填写一项要变更的内容",
            "fill in at least one thing to change",
        )
    return values


def beneficiary_values(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Named beneficiaries whose shares add up to 100 %; none means the legal heirs (法定)."""
    if len(rows) > MAX_BENEFICIARIES:
        raise ValidationFailed(
            "change_request.too_many_beneficiaries",
            f"受益人最多 {MAX_BENEFICIARIES} 位",
            f"at most {MAX_BENEFICIARIES} beneficiaries",
        )
    people = tuple(_beneficiary(row) for row in rows)
    checked = validate_beneficiaries(people)
    return {
        "beneficiaries": [
            {
                "name": b.name,
                "id_number": b.id_number,
                "relationship": b.relationship,
                "share_percent": b.share_percent,
            }
            for b in checked
        ]
    }


def beneficiaries_of(values: Mapping[str, Any]) -> tuple[Beneficiary, ...]:
    """The :class:`Beneficiary` list a beneficiary request asks for."""
    return tuple(Beneficiary(**row) for row in values["beneficiaries"])


def _beneficiary(row: Mapping[str, Any]) -> Beneficiary:
    relationship = str(row.get("relationship", "")).strip()
    if relationship not in RELATIONSHIPS:
        raise ValidationFailed(
            "change_request.relationship",
            "请选择受益人与被保险人的关系",
            "choose the beneficiary's relationship to the insured",
        )
    share = row.get("share_percent")
    try:
        percent = int(str(share).strip())
    except ValueError:
        raise ValidationFailed(
            "endorsement.beneficiary_shares",
            "受益人份额须为正数且合计100%",
            "beneficiary shares must be positive and add up to 100%",
        ) from None
    return Beneficiary(
        name=_text(str(row.get("name", "")), "受益人姓名", "beneficiary's name", 50),
        id_number=str(row.get("id_number", "")),
        relationship=relationship,
        share_percent=percent,
    )


def unit_values(
    kind: ChangeKind, policy: Policy, unit_key: Any, details: Mapping[str, Any]
) -> dict[str, Any]:
    """New details of one insured vehicle or site on the policy; at least one field."""
    unit = policy.unit(str(unit_key or ""))
    if unit.kind != UNIT_KIND[kind]:
        raise ValidationFailed(
            "change_request.wrong_unit",
            f"被保险对象 {unit.key} 不是{'车辆' if kind is ChangeKind.VEHICLE else '场所'}",
            f"insured {unit.key} is not a {UNIT_KIND[kind]}",
        )
    fields = UNIT_FIELDS[kind]
    changed: dict[str, str] = {}
    for name, (zh, en) in fields.items():
        value = str(details.get(name) or "").strip()
        if value:
            changed[name] = _unit_field(name, value, zh, en)
    if not changed:
        raise ValidationFailed(
            "change_request.nothing_to_change",
            "请至少填写一项要变更的内容",
            "fill in at least one thing to change",
        )
    return {"unit_key": unit.key, "details": changed}


def _unit_field(name: str, value: str, zh: str, en: str) -> str:
    if name == "plate":
        plate = value.upper().replace(" ", "")
        if not _PLATE.fullmatch(plate):
            raise ValidationFailed(
                "change_request.invalid_plate",
                f"号牌号码无效：{value}",
                f"invalid number plate: {value}",
            )
        return plate
    if name == "vin":
        vin = value.upper().replace(" ", "")
        if not _VIN.fullmatch(vin):
            raise ValidationFailed(
                "change_request.invalid_vin",
                "车架号应为17位字母或数字（不含 I、O、Q）",
                "a VIN has 17 letters or digits (no I, O or Q)",
            )
        return vin
    return _text(value, zh, en, 200)


def _text(value: str, zh: str, en: str, limit: int) -> str:
    text = value.strip()
    if not text or len(text) > limit:
        raise ValidationFailed(
            "change_request.invalid_text",
            f"{zh}不能为空且不超过{limit}字",
            f"the {en} must be 1–{limit} characters",
        )
    return text


def describe(kind: ChangeKind, values: Mapping[str, Any]) -> tuple[Line, ...]:
    """What a request asks for, for people: phone and ID numbers masked."""
    if kind is ChangeKind.CONTACT:
        lines = []
        if "mobile" in values:
            lines.append(Line("新手机号码", "New mobile number", mask_phone(values["mobile"])))
        if "address" in values:
            lines.append(Line("新联系地址", "New address", values["address"]))
        return tuple(lines)
    if kind is ChangeKind.BENEFICIARY:
        rows = values.get("beneficiaries") or []
        if not rows:
            return (Line("受益人", "Beneficiaries", "法定受益人", "The legal heirs"),)
        return tuple(_beneficiary_line(n, row) for n, row in enumerate(rows, start=1))
    labels = UNIT_FIELDS[kind]
    unit = Line("被保险对象", "Insured object", str(values.get("unit_key", "")))
    details = values.get("details") or {}
    return (unit, *(Line(*labels[name], str(v)) for name, v in details.items() if name in labels))


def _beneficiary_line(n: int, row: Mapping[str, Any]) -> Line:
    relationship, name = row["relationship"], row["name"]
    tail = f"{mask_id(row['id_number'])} {row['share_percent']}%"
    return Line(
        f"受益人 {n}",
        f"Beneficiary {n}",
        f"{name}（{relationship}） {tail}",
        f"{name} ({RELATIONSHIPS.get(relationship, relationship)}) {tail}",
    )


def current_lines(kind: ChangeKind, values: Mapping[str, Any], policy: Policy) -> tuple[Line, ...]:
    """What the policy says now for the fields a request would change (for the reviewer)."""
    if kind is ChangeKind.CONTACT:
        return (
            Line("现手机号码", "Current mobile number", mask_phone(policy.contact_mobile)),
            Line("现联系地址", "Current address", policy.contact_address),
        )
    if kind is ChangeKind.BENEFICIARY:
        current = beneficiary_values_of(policy.beneficiaries)
        return tuple(
            replace(line, zh="现" + line.zh, en="Current " + line.en.lower())
            for line in describe(kind, current)
        )
    unit = policy.unit(str(values.get("unit_key", "")))
    shown = {"plate": unit.key, **{k: str(v) for k, v in unit.details.items()}}
    return tuple(
        Line("现" + zh, "Current " + en.lower(), shown.get(name, "—"))
        for name, (zh, en) in UNIT_FIELDS[kind].items()
    )


def beneficiary_values_of(beneficiaries: Iterable[Beneficiary]) -> dict[str, Any]:
    return {
        "beneficiaries": [
            {
                "name": b.name,
                "id_number": b.id_number,
                "relationship": b.relationship if b.relationship in RELATIONSHIPS else "其他",
                "share_percent": b.share_percent,
            }
            for b in beneficiaries
        ]
    }


# --------------------------------------------------------------------------- outcome notices


@dataclass(frozen=True, slots=True)
class OutcomeText:
    """The customer notice on a request's outcome, in both languages."""

    topic: str
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str


def outcome_text(request: ChangeRequest) -> OutcomeText:
    """What the customer is told when a request is applied, approved or declined."""
    number, zh, en = request.policy_number, request.kind_zh, request.kind_en
    if request.status is RequestStatus.DECLINED:
        return OutcomeText(
            "change_declined",
            "保全申请未通过",
            "Your policy change was declined",
            f"您的保单 {number} 的{zh}申请未通过审核。说明：{request.comment}",
            f"The {en} you asked for on policy {number} was declined. Note: {request.comment}",
        )
    day = request.effective.isoformat() if request.effective else ""
    if request.status is RequestStatus.APPROVED:
        return OutcomeText(
            "change_approved",
            "保全申请已批准",
            "Your policy change was approved",
            f"您的保单 {number} 的{zh}申请已审核通过，自 {day} 起生效。",
            f"The {en} you asked for on policy {number} was approved and took effect on {day}.",
        )
    return OutcomeText(
        "change_applied",
        "保全变更已生效",
        "Your policy change has taken effect",
        f"您的保单 {number} 的{zh}已于 {day} 生效。",
        f"The {en} on policy {number} took effect on {day}.",
    )


# --------------------------------------------------------------------------- 慧保全 links


@dataclass(frozen=True, slots=True)
class ChangeLink:
    """A link staff send to one phone for one transaction, with values filled in for the
    customer to check.  The phone is kept only as its blind index."""

    link_id: str
    policy_number: str
    kind: ChangeKind
    values: Mapping[str, Any]
    mobile_hash: str
    created_by: str
    created_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class LinkRefused(DomainError):
    """A 慧保全 link that cannot be used."""


class LinkInvalid(LinkRefused):
    """Not a link we made, or altered on the way."""


class LinkExpired(LinkRefused):
    """A genuine link past its expiry."""


class LinkNotYours(LinkRefused):
    """A genuine link sent to another phone number than the signed-in one."""


def link_invalid() -> LinkInvalid:
    return LinkInvalid(
        "link.invalid",
        "链接无效：它可能被改动或复制不完整。请使用短信中的完整链接，或联系客服重新发送。",
        "This link is not valid: it may have been altered or cut short. Use the whole link "
        "from the text message, or ask us to send a new one.",
    )


def link_expired() -> LinkExpired:
    return LinkExpired(
        "link.expired",
        "链接已过期。请联系客服重新发送，或在“我的保单”中自行办理。",
        "This link has expired. Ask us to send a new one, or make the change yourself under "
        "My policies.",
    )


def link_not_yours() -> LinkNotYours:
    return LinkNotYours(
        "link.other_phone",
        "此链接是发给另一个手机号码的。请退出后用收到短信的手机号登录。",
        "This link was sent to a different mobile number. Sign out and sign in with the "
        "number that received the text message.",
    )


def new_link(
    link_id: str,
    policy: Policy,
    kind: ChangeKind,
    raw: Mapping[str, Any],
    mobile_hash: str,
    created_by: str,
    now: datetime,
    ttl: timedelta = LINK_TTL,
) -> ChangeLink:
    """A link for a transaction offered on the policy, pre-filled with the fields of its
    kind that were given (none need be: the customer may fill them in)."""
    if kind not in available_kinds(policy):
        raise ValidationFailed(
            "change_request.kind_not_offered",
            f"保单 {policy.policy_number} 不能办理{KIND_NAMES[kind][0]}",
            f"a {KIND_NAMES[kind][1]} is not offered on policy {policy.policy_number}",
        )
    if not timedelta(minutes=10) <= ttl <= MAX_LINK_TTL:
        raise ValidationFailed(
            "link.invalid_ttl",
            "链接有效期须在10分钟到7天之间",
            "a link must be valid for between 10 minutes and 7 days",
        )
    values = prefill_values(kind, raw)
    if "unit_key" in values:
        policy.unit(values["unit_key"])
    return ChangeLink(
        link_id, policy.policy_number, kind, values, mobile_hash, created_by, now, now + ttl
    )


def prefill_values(kind: ChangeKind, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The non-empty fields of ``kind`` in ``raw`` (others are dropped), stripped."""
    if kind is ChangeKind.CONTACT:
        return {k: str(raw[k]).strip() for k in ("mobile", "address") if _given(raw.get(k))}
    if kind is ChangeKind.BENEFICIARY:
        return {}
    details = raw.get("details") or {}
    values: dict[str, Any] = {
        "details": {k: str(details[k]).strip() for k in UNIT_FIELDS[kind] if _given(details.get(k))}
    }
    if _given(raw.get("unit_key")):
        values["unit_key"] = str(raw["unit_key"]).strip()
    return values


def _given(value: Any) -> bool:
    return value is not None and bool(str(value).strip())


def kind_of(value: str) -> ChangeKind:
    try:
        return ChangeKind(value)
    except ValueError:
        raise ValidationFailed(
            "change_request.unknown_kind",
            f"未知的变更类型：{value}",
            f"unknown kind of change: {value}",
        ) from None


__all__ = [
    "KIND_NAMES",
    "LINK_TTL",
    "RELATIONSHIPS",
    "ROUTES",
    "STATUS_NAMES",
    "UNIT_FIELDS",
    "ChangeKind",
    "ChangeLink",
    "ChangeRequest",
    "ChannelCounts",
    "Line",
    "LinkExpired",
    "LinkInvalid",
    "LinkNotYours",
    "LinkRefused",
    "OutcomeText",
    "RequestStatus",
    "Requester",
    "Route",
    "applied",
    "approved",
    "available_kinds",
    "beneficiaries_of",
    "current_lines",
    "declined",
    "describe",
    "effective_on",
    "kind_of",
    "new_link",
    "new_request",
    "outcome_text",
    "parse_values",
    "queued",
    "require_changeable",
    "require_none_pending",
    "require_same_request",
]
