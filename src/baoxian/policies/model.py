"""The policy domain: parties, quotes, the policy state machine and endorsements (保全).

Pure: no I/O, no clock.  Dates and IDs are arguments.  An invalid transition raises
:class:`~baoxian.shared.errors.InvalidTransition` with a stable code and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from baoxian.catalog.model import CoverLine, Decision, Quotation, RiskUnit, age_on
from baoxian.shared.clock import add_months
from baoxian.shared.errors import InvalidTransition, ValidationFailed
from baoxian.shared.identity import (
    Gender,
    birth_date_from_id,
    gender_from_id,
    normalise_credit_code,
    normalise_mobile,
    normalise_resident_id,
)
from baoxian.shared.money import Money

# --------------------------------------------------------------------------- parties


@dataclass(frozen=True, slots=True)
class Person:
    """A natural person (自然人).  Birth date and sex come from the 身份证号."""

    party_id: str
    name: str
    id_number: str
    mobile: str
    address: str = ""
    region_code: str = ""
    has_basic_medical: bool = True
    medical_insurance_city: str = ""

    @property
    def birth_date(self) -> date:
        return birth_date_from_id(self.id_number)

    @property
    def gender(self) -> Gender:
        return gender_from_id(self.id_number)

    def age_on(self, on: date) -> int:
        return age_on(self.birth_date, on)


@dataclass(frozen=True, slots=True)
class Organisation:
    """A legal person (法人) identified by its 统一社会信用代码."""

    party_id: str
    name: str
    credit_code: str
    mobile: str
    address: str = ""
    region_code: str = ""


Party = Person | Organisation


def new_person(party_id: str, name: str, id_number: str, mobile: str, **more: Any) -> Person:
    """A validated person: checksum of the 身份证号, mobile format, non-empty name."""
    _require_name(name)
    return Person(
        party_id=party_id,
        name=name.strip(),
        id_number=normalise_resident_id(id_number),
        mobile=normalise_mobile(mobile),
        **more,
    )


def new_organisation(
    party_id: str, name: str, credit_code: str, mobile: str, **more: Any
) -> Organisation:
    _require_name(name)
    return Organisation(
        party_id=party_id,
        name=name.strip(),
        credit_code=normalise_credit_code(credit_code),
        mobile=normalise_mobile(mobile),
        **more,
    )


def _require_name(name: str) -> None:
    if not name.strip() or len(name) > 100:
        raise ValidationFailed(
            "party.invalid_name", "姓名/名称不能为空且不超过100字", "name must be 1–100 characters"
        )


# --------------------------------------------------------------------------- insured units


@dataclass(frozen=True, slots=True)
class InsuredUnit:
    """An insured person, site or vehicle on a policy, with the facts it was rated on."""

    key: str
    kind: Literal["person", "site", "vehicle"]
    facts: Mapping[str, Any]
    details: Mapping[str, Any] = field(default_factory=dict)
    party_id: str | None = None
    declared_sum_insured: Money | None = None
    # A member who joined after the policy was issued (a member batch or enrolment, 新增被保险人)
    # is covered from this day; None: from the policy's inception.
    covered_from: date | None = None

    def risk_unit(self) -> RiskUnit:
        return RiskUnit(self.key, self.facts, self.declared_sum_insured)


def person_facts(
    person: Person, on: date, declared_conditions: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Rating and eligibility facts of an insured person on the start date."""
    return {
        "age": person.age_on(on),
        "gender": person.gender,
        "has_basic_medical": person.has_basic_medical,
        "medical_insurance_city": person.medical_insurance_city,
        "region_code": person.region_code,
        "declared_conditions": list(declared_conditions),
    }


def refresh_person_facts(unit: InsuredUnit, birth_date: date, on: date) -> InsuredUnit:
    """The same insured person with the age attained on ``on`` (used at renewal)."""
    return replace(unit, facts={**unit.facts, "age": age_on(birth_date, on)})


# --------------------------------------------------------------------------- quotes


class QuoteStatus(StrEnum):
    ACCEPTED = "accepted"
    REFERRED = "referred"
    DECLINED = "declined"
    ISSUED = "issued"


@dataclass(frozen=True, slots=True)
class Quote:
    """A priced proposal with its underwriting decision (every reason kept)."""

    quote_id: str
    holder_id: str
    units: tuple[InsuredUnit, ...]
    quotation: Quotation
    riders: frozenset[str]
    optional_coverages: frozenset[str]
    selections: Mapping[str, Money]
    status: QuoteStatus
    underwriter_note: str = ""
    policy_number: str | None = None
    group: bool = False  # a group (团体) quote becomes a group policy

    @property
    def decision(self) -> Decision:
        return self.quotation.decision


def quote_status(decision: Decision) -> QuoteStatus:
    return {
        "accept": QuoteStatus.ACCEPTED,
        "refer": QuoteStatus.REFERRED,
        "decline": QuoteStatus.DECLINED,
    }[decision.outcome]


def underwrite_referral(quote: Quote, outcome: Literal["accept", "decline"], note: str) -> Quote:
    """An underwriter's decision on a referred quote; the note is kept beside the reasons."""
    if quote.status is not QuoteStatus.REFERRED:
        raise InvalidTransition(
            "quote.not_referred",
            f"投保单 {quote.quote_id} 不在人工核保状态",
            f"quote {quote.quote_id} is not waiting for an underwriter",
        )
    if not note.strip():
        raise ValidationFailed(
            "quote.note_required", "人工核保须填写意见", "an underwriter must give a reason"
        )
    status = QuoteStatus.ACCEPTED if outcome == "accept" else QuoteStatus.DECLINED
    return replace(quote, status=status, underwriter_note=note.strip())


def mark_issued(quote: Quote, policy_number: str) -> Quote:
    if quote.status is not QuoteStatus.ACCEPTED:
        raise InvalidTransition(
            "quote.not_accepted",
            f"投保单 {quote.quote_id} 未通过核保（{quote.status.value}），不能出单",
            f"quote {quote.quote_id} is {quote.status.value}, not accepted; it cannot be issued",
        )
    return replace(quote, status=QuoteStatus.ISSUED, policy_number=policy_number)


# --------------------------------------------------------------------------- policies


class PolicyStatus(StrEnum):
    IN_FORCE = "in_force"
    CANCELLED = "cancelled"
    LAPSED = "lapsed"
    EXPIRED = "expired"


class Action(StrEnum):
    ENDORSE = "endorse"
    RENEW = "renew"
    CANCEL = "cancel"
    LAPSE = "lapse"
    REINSTATE = "reinstate"
    EXPIRE = "expire"


TRANSITIONS: Mapping[tuple[PolicyStatus, Action], PolicyStatus] = {
    (PolicyStatus.IN_FORCE, Action.ENDORSE): PolicyStatus.IN_FORCE,
    (PolicyStatus.IN_FORCE, Action.RENEW): PolicyStatus.IN_FORCE,
    (PolicyStatus.EXPIRED, Action.RENEW): PolicyStatus.IN_FORCE,
    (PolicyStatus.IN_FORCE, Action.CANCEL): PolicyStatus.CANCELLED,
    (PolicyStatus.IN_FORCE, Action.LAPSE): PolicyStatus.LAPSED,
    (PolicyStatus.LAPSED, Action.REINSTATE): PolicyStatus.IN_FORCE,
    (PolicyStatus.IN_FORCE, Action.EXPIRE): PolicyStatus.EXPIRED,
}

STATUS_ZH = {
    PolicyStatus.IN_FORCE: "有效",
    PolicyStatus.CANCELLED: "已退保",
    PolicyStatus.LAPSED: "已失效",
    PolicyStatus.EXPIRED: "已满期",
}
ACTION_ZH = {
    Action.ENDORSE: "保全变更",
    Action.RENEW: "续保",
    Action.CANCEL: "退保",
    Action.LAPSE: "失效",
    Action.REINSTATE: "复效",
    Action.EXPIRE: "满期终止",
}


def next_status(current: PolicyStatus, action: Action, policy_number: str) -> PolicyStatus:
    """The state machine: the status after ``action``, or an error naming both."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidTransition(
            f"policy.cannot_{action.value}",
            f"保单 {policy_number} 当前状态为「{STATUS_ZH[current]}」，不能{ACTION_ZH[action]}",
            f"policy {policy_number} is {current.value}; it cannot {action.value}",
            status=current.value,
            action=action.value,
        ) from None


@dataclass(frozen=True, slots=True)
class Beneficiary:
    """受益人 with a share of the benefit in percent."""

    name: str
    id_number: str
    relationship: str
    share_percent: int


@dataclass(frozen=True, slots=True)
class Policy:
    """A policy aggregate.  ``version`` is the optimistic-locking counter of the store."""

    policy_number: str
    product_code: str
    plan_version: str
    holder_id: str
    status: PolicyStatus
    original_inception: date
    term_no: int
    term_start: date
    term_end: date  # exclusive: cover ends at 24:00 on the day before
    instalment: str
    units: tuple[InsuredUnit, ...]
    cover: tuple[CoverLine, ...]
    riders: frozenset[str]
    optional_coverages: frozenset[str]
    selections: Mapping[str, Money]
    annual_premium: Money
    premium_charged: Money  # for the current term, after every endorsement
    contact_mobile: str
    contact_address: str
    beneficiaries: tuple[Beneficiary, ...] = ()
    group: bool = False
    member_count: int = 0
    endorsement_count: int = 0
    version: int = 0
    ended_on: date | None = None

    def unit(self, key: str) -> InsuredUnit:
        for unit in self.units:
            if unit.key == key:
                return unit
        raise ValidationFailed(
            "policy.unknown_insured",
            f"保单 {self.policy_number} 没有被保险对象 {key}",
            f"policy {self.policy_number} has no insured {key}",
        )

    def insured_since(self, key: str) -> date:
        """The first day the insured has been covered without a break: the policy's original
        inception, or the member's own start when they joined later (waiting periods and
        "claim soon after inception" run from it)."""
        joined = self.unit(key).covered_from
        return self.original_inception if joined is None else max(joined, self.original_inception)

    def cover_starts(self, key: str) -> date:
        """The first day of the current term on which the insured is covered."""
        joined = self.unit(key).covered_from
        return self.term_start if joined is None else max(joined, self.term_start)

    def in_force_on(self, on: date) -> bool:
        return self.status is PolicyStatus.IN_FORCE and self.term_start <= on < self.term_end

    def term_days(self) -> int:
        return (self.term_end - self.term_start).days

    def term(self) -> PolicyTerm:
        """The current term as it will be archived when the policy is renewed."""
        return PolicyTerm(
            self.term_no,
            self.plan_version,
            self.term_start,
            self.term_end,
            self.ended_on,
            self.cover,
        )

    def as_of(self, term: PolicyTerm) -> Policy:
        """The policy as it stood in an earlier, archived term: that term's plan version,
        dates and cover (a renewed term ran in force to its end unless it ended early)."""
        return replace(
            self,
            status=PolicyStatus.IN_FORCE if term.ended_on is None else self.status,
            plan_version=term.plan_version,
            term_no=term.term_no,
            term_start=term.term_start,
            term_end=term.term_end,
            ended_on=term.ended_on,
            cover=term.cover,
        )


@dataclass(frozen=True, slots=True)
class PolicyTerm:
    """One policy year (保单年度) as it was: kept when the policy is renewed, so that a claim
    reported late for a loss in that year is decided on that year's cover."""

    term_no: int
    plan_version: str
    term_start: date
    term_end: date
    ended_on: date | None
    cover: tuple[CoverLine, ...]

    def covers(self, on: date) -> bool:
        return self.term_start <= on < self.term_end


def policy_number(product_code: str, start: date, sequence: int) -> str:
    """``BJHMB2026`` + 8-digit sequence per product and year, e.g. ``BJHMB202600000001``."""
    return f"{product_code.replace('-', '')}{start.year}{sequence:08d}"


def number_series(product_code: str, start: date) -> str:
    """The name of the sequence that numbers a product's policies for a year."""
    return policy_number(product_code, start, 0)[:-8]


def issue(
    quote: Quote, number: str, holder: Party, term_months: int, group: bool = False
) -> Policy:
    """A new policy in force from an accepted quote: its first term, schedule and premium."""
    q = quote.quotation
    return Policy(
        policy_number=number,
        product_code=q.product_code,
        plan_version=q.plan_version,
        holder_id=holder.party_id,
        status=PolicyStatus.IN_FORCE,
        original_inception=q.start_date,
        term_no=1,
        term_start=q.start_date,
        term_end=add_months(q.start_date, term_months),
        instalment=q.instalment,
        units=quote.units,
        cover=q.cover,
        riders=quote.riders,
        optional_coverages=quote.optional_coverages,
        selections=quote.selections,
        annual_premium=q.annual_premium,
        premium_charged=q.total_payable,
        contact_mobile=holder.mobile,
        contact_address=holder.address,
        group=group,
        member_count=len(quote.units),
    )


def require_within_term(policy: Policy, effective: date) -> None:
    require_within(policy.term_start, policy.term_end, effective)


def require_within(term_start: date, term_end: date, effective: date) -> None:
    """The effective date of a change lies in the term ``[term_start, term_end)``."""
    if not term_start <= effective < term_end:
        raise ValidationFailed(
            "endorsement.outside_term",
            f"生效日 {effective} 不在当前保险期间（{term_start} 至 {term_end}）内",
            f"effective date {effective} is outside the current term ({term_start} to {term_end})",
        )


def pro_rata(annual_delta: Money, policy: Policy, effective: date) -> Money:
    """按日比例: the share of an annual premium change for the days left in the term."""
    return pro_rata_for_term(annual_delta, policy.term_start, policy.term_end, effective)


def pro_rata_for_term(annual: Money, term_start: date, term_end: date, effective: date) -> Money:
    """The share of an annual amount for the days from ``effective`` to the end of the term
    ``[term_start, term_end)``, rounded half-up to the fen.

    >>> pro_rata_for_term(Money.of("195"), date(2026, 3, 1), date(2027, 3, 1), date(2026, 6, 15))
    Money('138.37')
    """
    require_within(term_start, term_end, effective)
    remaining = (term_end - effective).days
    return annual.times(Decimal(remaining) / Decimal((term_end - term_start).days))


@dataclass(frozen=True, slots=True)
class Refund:
    refund: Money
    retained: Money
    charged: Money


def cancellation_refund(policy: Policy, effective: date) -> Refund:
    """Pro-rata refund of the premium charged for the term; refund + retained = charged."""
    require_within_term(policy, effective)
    remaining = Decimal((policy.term_end - effective).days) / Decimal(policy.term_days())
    refund = policy.premium_charged.times(remaining)
    return Refund(refund, policy.premium_charged - refund, policy.premium_charged)


def validate_beneficiaries(beneficiaries: tuple[Beneficiary, ...]) -> tuple[Beneficiary, ...]:
    if not beneficiaries:
        return beneficiaries
    checked = tuple(
        replace(b, id_number=normalise_resident_id(b.id_number), name=b.name.strip())
        for b in beneficiaries
    )
    if any(b.share_percent <= 0 for b in checked) or sum(b.share_percent for b in checked) != 100:
        raise ValidationFailed(
            "endorsement.beneficiary_shares",
            "受益人份额须为正数且合计100%",
            "beneficiary shares must be positive and add up to 100%",
        )
    return checked
