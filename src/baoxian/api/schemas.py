"""The API's request and response schemas: ``XCreate`` / ``XUpdate`` for what a caller
sends, ``XPublic`` for what it gets back.

Requests are checked here for form (types, lengths, patterns, money as text) and then
handed on as the very input schemas the CLI reads (:class:`QuoteRequestFile`,
:class:`ClaimFile`), so both edges reach the services the same way.  Money is always a
string with two decimals (:data:`ApiMoney`, pattern ``^-?\\d+\\.\\d{2}$``), never a float.
Responses mask personal data: 身份证号 ``110***********002X``, phone ``138****5678``.

>>> BillItemCreate.model_validate({"code": "HOSP", "category": "in_list", "amount": "50000.00"}
...                              ).amount
Decimal('50000.00')
>>> CoverLinePublic(unit_key="u1", coverage="in_list_inpatient",
...                 sum_insured=money_text(Money.of("3000000"))).model_dump_json()
'{"unit_key":"u1","coverage":"in_list_inpatient","sum_insured":"3000000.00"}'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from baoxian.api.webhooks import Attempt, Webhook
from baoxian.catalog.model import CoverLine, Quotation
from baoxian.catalog.schema import PlanVersion, Product
from baoxian.claims.case import ClaimCase
from baoxian.claims.documents import Document
from baoxian.claims.model import Claim, HealthClaim, claimed_amount
from baoxian.claims.reasons import step_texts
from baoxian.claims.repository import PaymentInstruction
from baoxian.claims.schemas import ClaimFile
from baoxian.outreach.model import Notice
from baoxian.policies.enrolment import Rejection
from baoxian.policies.membership import Member, MemberBatch
from baoxian.policies.model import InsuredUnit, Organisation, Party, Policy, Quote
from baoxian.policies.schemas import QuoteRequestFile
from baoxian.shared.identity import mask_id, mask_phone
from baoxian.shared.money import Money

# --------------------------------------------------------------------------- value types

MONEY_PATTERN = r"^-?\d+\.\d{2}$"
_MONEY = re.compile(MONEY_PATTERN)
POLICY_UNITS_SHOWN = 100
_MAX_MONEY_DIGITS = 13  # a trillion yuan; whole fen stay far inside BIGINT


def _money_in(value: Any) -> Decimal:
    if isinstance(value, Decimal) and value.is_finite():  # built in code, not sent
        return value
    if isinstance(value, str) and _MONEY.match(value):
        whole = value.lstrip("-").split(".")[0].lstrip("0")
        if len(whole) <= _MAX_MONEY_DIGITS:
            return Decimal(value)
    raise PydanticCustomError(
        "money_format",
        'an amount is a string with two decimals, e.g. "195.00" (at most 13 digits before '
        "the point)",
    )


def _money_out(value: Decimal) -> str:
    return f"{value:.2f}"


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise PydanticCustomError("money_negative", "an amount cannot be negative")
    return value


ApiMoney = Annotated[
    Decimal,
    PlainValidator(_money_in),
    PlainSerializer(_money_out, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": MONEY_PATTERN, "maxLength": 17, "examples": ["195.00"]}
    ),
]
"""Money in the API: yuan as a decimal string with exactly two decimals ("195.00")."""

ApiAmount = Annotated[ApiMoney, AfterValidator(_not_negative)]
"""Money a caller sends: an :data:`ApiMoney` that is not negative."""


def money_text(amount: Money) -> Decimal:
    """A domain ``Money`` as the API's money value (serialised as "195.00")."""
    return amount.amount


def _clean_text(value: str) -> str:
    if any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise PydanticCustomError("text_control", "text cannot contain control characters")
    return value


def _reasonable_day(value: date) -> date:
    if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
        raise PydanticCustomError("date_out_of_range", "a date must be between 2000 and 2100")
    return value


Text = Annotated[str, AfterValidator(_clean_text)]
Day = Annotated[date, AfterValidator(_reasonable_day)]
Code = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$")]
PolicyNumber = Annotated[str, Field(pattern=r"^[A-Z0-9]{4,32}$", examples=["BJHMB202600000001"])]
ObjectId = Annotated[
    str, Field(pattern=r"^[0-9a-f]{32}$", examples=["0197a3c4e5f60718293a4b5c6d7e8f90"])
]
UnitKey = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_clean_text)]
Mobile = Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{9,18}$", examples=["13812345678"])]
FactKey = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,39}$")]
FactValue = (
    Annotated[str, Field(max_length=100), AfterValidator(_clean_text)]
    | Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]
    | bool
)
DetailValue = FactValue | Annotated[float, Field(allow_inf_nan=False, ge=-1e9, le=1e9)]


class Create(BaseModel):
    """Base of what callers send: unknown fields are errors; nothing is coerced loosely."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Public(BaseModel):
    """Base of what the API answers."""


class Bilingual(Public):
    zh: str
    en: str


# --------------------------------------------------------------------------- parties


class PersonCreate(Create):
    """A person (投保人 / 被保险人), registered from the request — or found by 身份证号,
    when the name and mobile must match the registered ones."""

    kind: Literal["person"] = "person"
    name: Annotated[Text, Field(min_length=1, max_length=100, examples=["王建国"])]
    id_number: Annotated[str, Field(pattern=r"^[0-9]{17}[0-9Xx]$", examples=["11010519810415031X"])]
    mobile: Mobile
    address: Annotated[Text, Field(max_length=200)] = ""
    has_basic_medical: bool = True
    medical_insurance_city: Annotated[str, Field(pattern=r"^[0-9]{0,12}$")] = ""


class OrganisationCreate(Create):
    kind: Literal["organisation"]
    name: Annotated[Text, Field(min_length=1, max_length=100)]
    credit_code: Annotated[str, Field(pattern=r"^[0-9A-Za-z]{18}$")]
    mobile: Mobile
    address: Annotated[Text, Field(max_length=200)] = ""


class InsuredPersonCreate(PersonCreate):
    declared_conditions: Annotated[list[Code], Field(max_length=20)] = []


class InsuredObjectCreate(Create):
    """A site (场所) or vehicle (车辆) with its rating facts and declared sum insured."""

    kind: Literal["site", "vehicle"]
    key: UnitKey
    sum_insured: ApiAmount
    facts: Annotated[dict[FactKey, FactValue], Field(max_length=50)]
    details: Annotated[dict[FactKey, DetailValue], Field(max_length=50)] = {}


class PartyPublic(Public):
    """A party with its personal data masked."""

    party_id: str
    kind: Literal["person", "organisation"]
    name: str
    id_number: str = Field(description="masked", examples=["110***********031X"])
    mobile: str = Field(description="masked", examples=["138****5678"])


class PersonalDataPublic(Public):
    """A party's full personal data (staff with the service role only; every read is
    audited)."""

    party_id: str
    name: str
    id_number: str
    mobile: str


def party_public(party: Party) -> PartyPublic:
    if isinstance(party, Organisation):
        return PartyPublic(
            party_id=party.party_id,
            kind="organisation",
            name=party.name,
            id_number=mask_id(party.credit_code),
            mobile=mask_phone(party.mobile),
        )
    return PartyPublic(
        party_id=party.party_id,
        kind="person",
        name=party.name,
        id_number=mask_id(party.id_number),
        mobile=mask_phone(party.mobile),
    )


def personal_data(party: Party) -> PersonalDataPublic:
    number = party.credit_code if isinstance(party, Organisation) else party.id_number
    return PersonalDataPublic(
        party_id=party.party_id, name=party.name, id_number=number, mobile=party.mobile
    )


# --------------------------------------------------------------------------- products


class PlanVersionSummary(Public):
    version: str
    effective_from: date
    effective_to: date | None
    term_months: int


class ProductPublic(Public):
    code: str
    name: Bilingual
    description: Bilingual
    line: str
    risk_unit: str
    issuance: list[str]
    versions: list[PlanVersionSummary]


class CoveragePublic(Public):
    code: str
    name: Bilingual
    kind: str
    rider: str | None
    optional: bool
    sum_insured_fixed: ApiMoney | None
    sum_insured_choices: list[ApiMoney]
    sum_insured_declared: bool
    waiting_period_days: int | None


class NamedCode(Public):
    code: str
    name: Bilingual


class PlanVersionPublic(PlanVersionSummary):
    coverages: list[CoveragePublic]
    riders: list[NamedCode]
    instalments: list[NamedCode]
    renewal_guaranteed: bool
    renewal_guaranteed_years: int


def product_public(product: Product) -> ProductPublic:
    return ProductPublic(
        code=product.code,
        name=Bilingual(zh=product.name.zh, en=product.name.en),
        description=Bilingual(zh=product.description.zh, en=product.description.en),
        line=product.line,
        risk_unit=product.risk_unit,
        issuance=list(product.issuance),
        versions=[_version_summary(v) for v in product.versions],
    )


def _version_summary(version: PlanVersion) -> PlanVersionSummary:
    return PlanVersionSummary(
        version=version.version,
        effective_from=version.effective_from,
        effective_to=version.effective_to,
        term_months=version.term_months,
    )


def plan_version_public(version: PlanVersion) -> PlanVersionPublic:
    return PlanVersionPublic(
        **_version_summary(version).model_dump(),
        coverages=[
            CoveragePublic(
                code=c.code,
                name=Bilingual(zh=c.name.zh, en=c.name.en),
                kind=c.kind,
                rider=c.rider,
                optional=c.optional,
                sum_insured_fixed=c.sum_insured.fixed,
                sum_insured_choices=list(c.sum_insured.choices or []),
                sum_insured_declared=c.sum_insured.declared,
                waiting_period_days=c.waiting_period.days if c.waiting_period else None,
            )
            for c in version.coverages
        ],
        riders=[
            NamedCode(code=r.code, name=Bilingual(zh=r.name.zh, en=r.name.en))
            for r in version.riders
        ],
        instalments=[
            NamedCode(code=i.code, name=Bilingual(zh=i.name.zh, en=i.name.en))
            for i in version.instalments
        ],
        renewal_guaranteed=version.renewal.guaranteed,
        renewal_guaranteed_years=version.renewal.guaranteed_years,
    )


# --------------------------------------------------------------------------- quotes

_QUOTE_EXAMPLE: dict[str, Any] = {
    "product": "BJ-HMB",
    "start": "2026-03-01",
    "holder": {
        "kind": "person",
        "name": "王建国",
        "id_number": "11010519810415031X",
        "mobile": "13812345678",
        "medical_insurance_city": "110000",
    },
    "insured": [
        {
            "kind": "person",
            "name": "王建国",
            "id_number": "11010519810415031X",
            "mobile": "13812345678",
            "medical_insurance_city": "110000",
        }
    ],
}


class QuoteCreate(Create):
    """A quote request: the holder and insured are registered from it (or found by their
    身份证号 / 统一社会信用代码), then the plan in force on ``start`` prices and underwrites it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_QUOTE_EXAMPLE]})

    product: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9-]{1,31}$", examples=["BJ-HMB"])]
    start: Day
    holder: Annotated[PersonCreate | OrganisationCreate, Field(discriminator="kind")]
    insured: Annotated[
        list[Annotated[InsuredPersonCreate | InsuredObjectCreate, Field(discriminator="kind")]],
        Field(min_length=1, max_length=100),
    ]
    selections: Annotated[dict[Code, ApiAmount], Field(max_length=20)] = {}
    riders: Annotated[list[Code], Field(max_length=20)] = []
    optional_coverages: Annotated[list[Code], Field(max_length=20)] = []
    instalment: Code = "annual"
    group: bool = False

    def to_request(self) -> QuoteRequestFile:
        """The same request as the CLI's quote file (``baoxian quote --file``)."""
        return QuoteRequestFile.model_validate(self.model_dump())


class InsuredPublic(Public):
    key: str
    kind: str
    party_id: str | None


class CoverLinePublic(Public):
    unit_key: str
    coverage: str
    sum_insured: ApiMoney


class ReasonPublic(Public):
    code: str
    outcome: str
    zh: str
    en: str
    unit_key: str | None


class DecisionPublic(Public):
    outcome: Literal["accept", "refer", "decline"]
    reasons: list[ReasonPublic]


class QuotePublic(Public):
    quote_id: str
    status: Literal["accepted", "referred", "declined", "issued"]
    product: str
    plan_version: str
    start: date
    holder_id: str
    insured: list[InsuredPublic]
    annual_premium: ApiMoney
    total_payable: ApiMoney
    instalment: str
    instalments: list[ApiMoney]
    cover: list[CoverLinePublic]
    decision: DecisionPublic
    policy_number: str | None


def quote_public(quote: Quote) -> QuotePublic:
    q: Quotation = quote.quotation
    return QuotePublic(
        quote_id=quote.quote_id,
        status=quote.status.value,
        product=q.product_code,
        plan_version=q.plan_version,
        start=q.start_date,
        holder_id=quote.holder_id,
        insured=_insured(quote.units),
        annual_premium=money_text(q.annual_premium),
        total_payable=money_text(q.total_payable),
        instalment=q.instalment,
        instalments=[money_text(m) for m in q.instalments],
        cover=_cover(q.cover),
        decision=DecisionPublic(
            outcome=q.decision.outcome,
            reasons=[
                ReasonPublic(code=r.code, outcome=r.outcome, zh=r.zh, en=r.en, unit_key=r.unit_key)
                for r in q.decision.reasons
            ],
        ),
        policy_number=quote.policy_number,
    )


def _insured(units: Sequence[InsuredUnit]) -> list[InsuredPublic]:
    return [InsuredPublic(key=u.key, kind=u.kind, party_id=u.party_id) for u in units]


def _cover(lines: Sequence[CoverLine]) -> list[CoverLinePublic]:
    return [
        CoverLinePublic(
            unit_key=c.unit_key, coverage=c.coverage, sum_insured=money_text(c.sum_insured)
        )
        for c in lines
    ]


# --------------------------------------------------------------------------- policies


class PolicyCreate(Create):
    """Issue a policy from an accepted quote (issuing the same quote again returns it)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"quote_id": "0197a3c4e5f60718293a4b5c6d7e8f90"}]}
    )

    quote_id: ObjectId


class ContactUpdate(Create):
    """保全: change the policy's contact mobile and/or address from a date in the term."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"effective": "2026-06-01", "mobile": "13987654321"}]}
    )

    effective: Day
    mobile: Mobile | None = None
    address: Annotated[Text, Field(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _something(self) -> ContactUpdate:
        if self.mobile is None and self.address is None:
            raise PydanticCustomError("nothing_to_change", "give a new mobile or address (or both)")
        return self


class CancellationCreate(Create):
    """退保 from a date in the term, with a pro-rata refund."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"effective": "2026-09-01", "reason": "客户申请退保"}]}
    )

    effective: Day
    reason: Annotated[Text, Field(min_length=1, max_length=200)]


class BeneficiaryPublic(Public):
    name: str
    id_number: str = Field(description="masked")
    relationship: str
    share_percent: int


class PolicyPublic(Public):
    policy_number: str
    product: str
    plan_version: str
    status: Literal["in_force", "cancelled", "lapsed", "expired"]
    holder_id: str
    original_inception: date
    term_no: int
    term_start: date
    term_end: date = Field(description="exclusive: cover ends at 24:00 the day before")
    ended_on: date | None
    instalment: str
    annual_premium: ApiMoney
    premium_charged: ApiMoney
    contact_mobile: str = Field(description="masked")
    group: bool
    member_count: int
    insured: list[InsuredPublic] = Field(description="the first 100 insured")
    cover: list[CoverLinePublic]
    riders: list[str]
    optional_coverages: list[str]
    beneficiaries: list[BeneficiaryPublic]
    endorsement_count: int
    version: int


def policy_public(policy: Policy) -> PolicyPublic:
    units = policy.units[:POLICY_UNITS_SHOWN]
    shown = {u.key for u in units}
    return PolicyPublic(
        policy_number=policy.policy_number,
        product=policy.product_code,
        plan_version=policy.plan_version,
        status=policy.status.value,
        holder_id=policy.holder_id,
        original_inception=policy.original_inception,
        term_no=policy.term_no,
        term_start=policy.term_start,
        term_end=policy.term_end,
        ended_on=policy.ended_on,
        instalment=policy.instalment,
        annual_premium=money_text(policy.annual_premium),
        premium_charged=money_text(policy.premium_charged),
        contact_mobile=mask_phone(policy.contact_mobile),
        group=policy.group,
        member_count=policy.member_count,
        insured=_insured(units),
        cover=_cover([c for c in policy.cover if c.unit_key in shown]),
        riders=sorted(policy.riders),
        optional_coverages=sorted(policy.optional_coverages),
        beneficiaries=[
            BeneficiaryPublic(
                name=b.name,
                id_number=mask_id(b.id_number),
                relationship=b.relationship,
                share_percent=b.share_percent,
            )
            for b in policy.beneficiaries
        ],
        endorsement_count=policy.endorsement_count,
        version=policy.version,
    )


class CancellationPublic(Public):
    policy: PolicyPublic
    refund: ApiMoney
    retained: ApiMoney
    charged: ApiMoney


# --------------------------------------------------------------------------- group members


class RejectionPublic(Public):
    """A row of a batch that changed nothing, and why."""

    row: int = Field(description="the line of the body (CSV: the header is line 1)")
    code: str = Field(examples=["party.invalid_resident_id"])
    zh: str = Field(examples=["第3行：身份证号码无效"])
    en: str = Field(examples=["row 3: invalid resident ID number"])


class MemberBatchPublic(Public):
    """What a batch of members did: counts, money, and the first 1,000 rejections by row
    (the rest: ``GET …/member-batches/{batch_id}/rejections?cursor=…``)."""

    batch_id: str = Field(description="also the batch report's address")
    policy_number: str
    kind: Literal["enrolment", "removal"]
    effective: date
    received: int = Field(description="rows read")
    accepted: int = Field(description="members this batch enrolled (or removed)")
    already_enrolled: int = Field(description="enrolment: rows already members, unchanged")
    rejected: int
    premium_charged: ApiMoney = Field(description="enrolment: pro rata for the days left")
    refund: ApiMoney = Field(description="removal: pro rata for the days left")
    annual_premium_change: ApiMoney
    created_at: datetime
    rejections: list[RejectionPublic]
    rejections_cursor: str | None = Field(
        description="more rejections than shown: pass as cursor to …/rejections"
    )


class RejectionPage(Public):
    items: list[RejectionPublic]
    next_cursor: str | None = Field(description="the next page's cursor; null on the last")


class MemberPublic(Public):
    """A member of a group policy, personal data masked."""

    member_id: str = Field(description="the insured's key on the policy (a removal key)")
    party_id: str | None
    name: str
    id_number: str = Field(description="masked", examples=["110***********0310"])
    mobile: str = Field(description="masked", examples=["138****5678"])
    added_on: date | None = Field(description="cover from (enrolment's effective date)")
    annual_premium: ApiMoney | None


class MemberPage(Public):
    items: list[MemberPublic]
    next_cursor: str | None = Field(description="the next page's cursor; null on the last")


def rejection_public(rejection: Rejection) -> RejectionPublic:
    return RejectionPublic(
        row=rejection.row_no, code=rejection.code, zh=rejection.zh, en=rejection.en
    )


def member_batch_public(batch: MemberBatch) -> MemberBatchPublic:
    shown = batch.rejections
    more = batch.rejected > len(shown) and bool(shown)
    return MemberBatchPublic(
        batch_id=batch.batch_id,
        policy_number=batch.policy_number,
        kind=batch.kind,
        effective=batch.effective,
        received=batch.received,
        accepted=batch.accepted,
        already_enrolled=batch.already_enrolled,
        rejected=batch.rejected,
        premium_charged=money_text(batch.premium_charged),
        refund=money_text(batch.refund),
        annual_premium_change=money_text(batch.annual_premium_change),
        created_at=batch.created_at,
        rejections=[rejection_public(r) for r in shown],
        rejections_cursor=str(shown[-1].row_no) if more else None,
    )


def member_public(member: Member) -> MemberPublic:
    return MemberPublic(
        member_id=member.member_id,
        party_id=member.party_id,
        name=member.name,
        id_number=mask_id(member.id_number),
        mobile=mask_phone(member.mobile),
        added_on=member.added_on,
        annual_premium=None if member.annual_premium is None else money_text(member.annual_premium),
    )


# --------------------------------------------------------------------------- claims

_HEALTH_EXAMPLE: dict[str, Any] = {
    "kind": "health",
    "policy_number": "BJHMB202600000001",
    "insured": "0197a3c4e5f60718293a4b5c6d7e8f90",
    "loss_date": "2026-06-01",
    "discharge_date": "2026-06-06",
    "diagnosis": "K35.8",
    "provider": "H110105001",
    "invoice_no": "110105-2026-0601-0001",
    "items": [
        {"code": "HOSP", "category": "in_list", "amount": "50000.00", "paid_by_basic": "30000.00"},
        {"code": "OUTL", "category": "out_of_list", "amount": "8000.00"},
    ],
}


class BillItemCreate(Create):
    code: Annotated[Text, Field(min_length=1, max_length=32)]
    description: Annotated[Text, Field(max_length=200)] = ""
    category: Code
    amount: ApiAmount
    paid_by_basic: ApiAmount = Decimal("0.00")
    designated_provider: bool = True


class HealthClaimCreate(Create):
    """报案 of a medical claim: the bill by item, what 医保 already paid."""

    model_config = ConfigDict(json_schema_extra={"examples": [_HEALTH_EXAMPLE]})

    kind: Literal["health"]
    policy_number: PolicyNumber
    insured: UnitKey = Field(description="the insured's key on the policy (party ID)")
    loss_date: Day
    discharge_date: Day | None = None
    diagnosis: Annotated[str, Field(pattern=r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")]
    items: Annotated[list[BillItemCreate], Field(min_length=1, max_length=50)]
    accident: bool = False
    pre_existing: bool = False
    provider: Annotated[Text, Field(max_length=64)] = ""
    invoice_no: Annotated[Text, Field(max_length=64)] = ""
    fast_track: Literal["", "special_drug", "discharge"] = Field(
        "", description="special_drug: 特药直付 (the pharmacy is paid); discharge: 出院即结算"
    )


class PropertyClaimCreate(Create):
    """报案 of a property loss at an insured site, with the assessed loss."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "property",
                    "policy_number": "PARENT202600000001",
                    "site": "SZ-01",
                    "loss_date": "2026-08-02",
                    "peril": "typhoon",
                    "assessed_loss": "120000.00",
                }
            ]
        }
    )

    kind: Literal["property"]
    policy_number: PolicyNumber
    site: UnitKey
    loss_date: Day
    peril: Code
    assessed_loss: ApiAmount
    basement_loss: ApiAmount = Decimal("0.00")
    invoice_no: Annotated[Text, Field(max_length=64)] = ""
    fast_track: Literal[""] = ""


ClaimCreate = Annotated[HealthClaimCreate | PropertyClaimCreate, Field(discriminator="kind")]


def claim_of(request: HealthClaimCreate | PropertyClaimCreate, claim_id: str) -> Claim:
    """The claim through the CLI's claim-file schema (``baoxian claim report FILE``)."""
    data = {**request.model_dump(exclude={"fast_track"}), "claim_id": claim_id}
    return ClaimFile.model_validate({"claim": data}).claim.to_claim("api")


class StepPublic(Public):
    rule: str
    coverage: str | None
    zh: str
    en: str
    reduction: ApiMoney


class EobItemPublic(Public):
    item: str
    coverage: str | None
    coverage_name: Bilingual | None
    claimed: ApiMoney
    payable: ApiMoney
    steps: list[StepPublic]


class EobPublic(Public):
    """The explanation of benefits (理赔计算书): every reduction with its reason."""

    outcome: str
    claimed: ApiMoney
    payable: ApiMoney
    reasons: list[StepPublic]
    items: list[EobItemPublic]


class ClaimPublic(Public):
    claim_id: str
    kind: Literal["health", "property"]
    policy_number: str
    insured: str
    loss_date: date
    diagnosis: str | None
    status: Literal["reported", "referred", "pending_info", "approved", "declined", "paid"]
    status_zh: str
    channel: str
    fast_track: str
    stage: str
    claimed: ApiMoney
    payable: ApiMoney | None
    paid: ApiMoney
    reserve: ApiMoney
    straight_through: bool | None
    decision: EobPublic | None


def claim_public(case: ClaimCase, coverage_names: Mapping[str, Bilingual]) -> ClaimPublic:
    claim = case.claim
    return ClaimPublic(
        claim_id=case.claim_id,
        kind="health" if isinstance(claim, HealthClaim) else "property",
        policy_number=claim.policy_number,
        insured=claim.unit_key,
        loss_date=claim.loss_date,
        diagnosis=claim.diagnosis if isinstance(claim, HealthClaim) else None,
        status=case.status.value,
        status_zh=case.status.zh,
        channel=case.channel,
        fast_track=case.fast_track,
        stage=case.stage,
        claimed=money_text(claimed_amount(claim)),
        payable=None if case.payable is None else money_text(case.payable),
        paid=money_text(case.paid),
        reserve=money_text(case.reserve),
        straight_through=case.straight_through,
        decision=None if case.eob is None else _eob(case.eob, coverage_names),
    )


def coverage_names(product: Product) -> dict[str, Bilingual]:
    return {
        c.code: Bilingual(zh=c.name.zh, en=c.name.en) for v in product.versions for c in v.coverages
    }


def _eob(eob: Mapping[str, Any], names: Mapping[str, Bilingual]) -> EobPublic:
    return EobPublic(
        outcome=str(eob.get("outcome", "")),
        claimed=money_text(Money.from_fen(int(eob["claimed_fen"]))),
        payable=money_text(Money.from_fen(int(eob["payable_fen"]))),
        reasons=[_step(s) for s in eob.get("reasons", [])],
        items=[
            EobItemPublic(
                item=str(i["item"]),
                coverage=i.get("coverage"),
                coverage_name=names.get(str(i.get("coverage") or "")),
                claimed=money_text(Money.from_fen(int(i["claimed_fen"]))),
                payable=money_text(Money.from_fen(int(i["payable_fen"]))),
                steps=[_step(s) for s in i.get("steps", [])],
            )
            for i in eob.get("items", [])
        ],
    )


def _step(step: Mapping[str, Any]) -> StepPublic:
    zh, en = step_texts(step)
    return StepPublic(
        rule=str(step["rule"]),
        coverage=step.get("coverage"),
        zh=zh,
        en=en,
        reduction=money_text(Money.from_fen(int(step["reduction_fen"]))),
    )


class DocumentPublic(Public):
    document_id: str
    kind: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


def document_public(document: Document) -> DocumentPublic:
    return DocumentPublic(
        document_id=document.document_id,
        kind=document.kind,
        filename=document.filename,
        media_type=document.media_type,
        size_bytes=document.size_bytes,
        sha256=document.sha256,
        uploaded_at=document.uploaded_at,
    )


class PaymentPublic(Public):
    """A payment instruction (支付指令): final, pre-payment or an amount to recover."""

    payment_id: str
    kind: str
    payee_kind: str
    payee: str
    amount: ApiMoney
    status: str


def payment_public(payment: PaymentInstruction) -> PaymentPublic:
    return PaymentPublic(
        payment_id=payment.payment_id,
        kind=payment.kind,
        payee_kind=payment.payee_kind,
        payee=payment.payee,
        amount=money_text(payment.amount),
        status=payment.status,
    )


# --------------------------------------------------------------------------- notices, tokens


class NoticePublic(Public):
    notice_id: str
    topic: str
    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    created_at: datetime
    read: bool


def notice_public(notice: Notice) -> NoticePublic:
    return NoticePublic(
        notice_id=notice.notice_id,
        topic=notice.topic,
        subject_zh=notice.subject_zh,
        subject_en=notice.subject_en,
        body_zh=notice.body_zh,
        body_en=notice.body_en,
        created_at=notice.created_at,
        read=not notice.unread,
    )


class TokenPublic(Public):
    """An access token (OAuth2 bearer, a JWT signed with HS256)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="seconds")
    scope: str


class CodeSentPublic(Public):
    sent: bool = True
    expires_in: int = 300


# --------------------------------------------------------------------------- webhooks

EventPattern = Annotated[str, Field(pattern=r"^[a-z_]{1,20}\.([a-z_]{1,40}|\*)$")]


class WebhookCreate(Create):
    """An endpoint for policy and claim events: HTTPS to a public host, and the event types
    wanted — exact (``claim.paid``) or a family (``claim.*``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://partner.example.com/baoxian/webhooks",
                    "event_types": ["policy.*", "claim.decided", "claim.paid"],
                }
            ]
        }
    )

    url: Annotated[str, Field(min_length=10, max_length=2000)]
    event_types: Annotated[list[EventPattern], Field(min_length=1, max_length=40)]


class WebhookPublic(Public):
    webhook_id: str
    url: str
    event_types: list[str]
    created_at: datetime


class WebhookCreated(WebhookPublic):
    """The webhook with its signing secret — shown in this answer only."""

    secret: str = Field(
        description="HMAC-SHA256 key for Baoxian-Signature; keep it secret, it is shown once"
    )


class WebhookAttemptPublic(Public):
    """One delivery attempt: what the endpoint answered and what happens next."""

    event_id: int
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    outcome: Literal["delivered", "retry", "dead"]
    next_attempt_at: datetime | None


class ReplayPublic(Public):
    queued: int = Field(description="deliveries queued again, from a first attempt")
    through_event_id: int = Field(description="the last event looked at")
    complete: bool = Field(description="false: more events remain; replay since the ID above")


def webhook_public(webhook: Webhook) -> WebhookPublic:
    return WebhookPublic(
        webhook_id=webhook.webhook_id,
        url=webhook.url,
        event_types=list(webhook.event_types),
        created_at=webhook.created_at,
    )


def attempt_public(attempt: Attempt) -> WebhookAttemptPublic:
    return WebhookAttemptPublic(
        event_id=attempt.event_id,
        attempt=attempt.attempt,
        attempted_at=attempt.attempted_at,
        status_code=attempt.status_code,
        error=attempt.error,
        duration_ms=attempt.duration_ms,
        outcome=attempt.outcome,
        next_attempt_at=attempt.next_attempt_at,
    )


__all__ = [
    "MONEY_PATTERN",
    "ApiAmount",
    "ApiMoney",
    "BillItemCreate",
    "CancellationCreate",
    "CancellationPublic",
    "ClaimCreate",
    "ClaimPublic",
    "ContactUpdate",
    "DocumentPublic",
    "HealthClaimCreate",
    "MemberBatchPublic",
    "MemberPage",
    "MemberPublic",
    "NoticePublic",
    "PartyPublic",
    "PaymentPublic",
    "PersonCreate",
    "PersonalDataPublic",
    "PlanVersionPublic",
    "PolicyCreate",
    "PolicyPublic",
    "ProductPublic",
    "PropertyClaimCreate",
    "QuoteCreate",
    "QuotePublic",
    "RejectionPage",
    "RejectionPublic",
    "ReplayPublic",
    "TokenPublic",
    "WebhookAttemptPublic",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookPublic",
    "attempt_public",
    "claim_of",
    "claim_public",
    "coverage_names",
    "document_public",
    "member_batch_public",
    "member_public",
    "money_text",
    "notice_public",
    "party_public",
    "payment_public",
    "personal_data",
    "plan_version_public",
    "policy_public",
    "product_public",
    "quote_public",
    "rejection_public",
    "webhook_public",
]
