"""The claims desk (理赔服务台): what the portal and the console do with claims, as use
cases over the claims, documents, policies, outreach and identity services.

* A customer files a health claim (惠民保, 长期医疗) from a form: it is checked, reported
  through the portal channel, its documents attached and decided at once.  The form's
  request ID is the claim ID, so a double submit finds the claim it already filed.
* A customer only ever reaches a claim on a policy one of their parties holds; any other
  claim is "not found", exactly like one that does not exist.
* Staff with the claims-handler role act on referred claims within their authority; the
  staff member is (re-)registered as a handler with their current authority when they act,
  every action is audited, and the policyholder is sent a notice.

>>> form = HealthClaimForm("0" * 31 + "1", "P1", "u1", "2026-06-01", "2026-06-06", "协和医院",
...                        "k35.8", "INV-1", in_list="50,000", paid_by_basic="30000")
>>> claim = health_claim(form, date(2026, 12, 1))
>>> claim.diagnosis, claim.items[0].amount, claim.items[0].paid_by_basic
('K35.8', Money('50000.00'), Money('30000.00'))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from baoxian.catalog.services import Catalog
from baoxian.claims.case import ClaimCase, ClaimStatus
from baoxian.claims.documents import Document, DocumentService, check_upload
from baoxian.claims.model import BillItem, HealthClaim
from baoxian.claims.queue import Handler
from baoxian.claims.services import ClaimService
from baoxian.identity.model import StaffUser
from baoxian.identity.services import IdentityService
from baoxian.outreach.services import OutreachService, Text
from baoxian.policies.model import Policy
from baoxian.policies.services import PolicyService
from baoxian.shared.clock import local_date
from baoxian.shared.errors import DomainError, InvalidTransition, NotFound, ValidationFailed
from baoxian.shared.money import Money

_REQUEST_ID = re.compile(r"[0-9a-f]{32}")
_ICD10 = re.compile(r"[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?")
_MAX_TEXT = 100


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """An ICD-10 code offered in the claim form's short list."""

    code: str
    zh: str
    en: str


COMMON_DIAGNOSES: tuple[Diagnosis, ...] = (
    Diagnosis("J18.9", "肺炎", "Pneumonia"),
    Diagnosis("K35.8", "急性阑尾炎", "Acute appendicitis"),
    Diagnosis("K80.2", "胆囊结石", "Gallstones"),
    Diagnosis("N20.0", "肾结石", "Kidney stone"),
    Diagnosis("I63.9", "脑梗死", "Cerebral infarction (stroke)"),
    Diagnosis("I21.9", "急性心肌梗死", "Acute myocardial infarction"),
    Diagnosis("I10", "原发性高血压", "Essential hypertension"),
    Diagnosis("E11.9", "2型糖尿病", "Type 2 diabetes"),
    Diagnosis("C34.9", "肺恶性肿瘤", "Lung cancer"),
    Diagnosis("C50.9", "乳腺恶性肿瘤", "Breast cancer"),
    Diagnosis("S72.0", "股骨颈骨折", "Fracture of the neck of the femur"),
    Diagnosis("M17.9", "膝关节骨关节炎", "Osteoarthritis of the knee"),
)
"""Common inpatient diagnoses, for the picker; any valid ICD-10 code is accepted."""


class NotPermitted(DomainError):
    """The member of staff does not hold the role an action needs."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A file a person sent with a form, not yet checked."""

    kind: str
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class HealthClaimForm:
    """A health claim as typed into the portal's form (text, parsed by :func:`health_claim`).

    Amounts are yuan; ``paid_by_basic`` is what 医保 already paid of the in-list amount."""

    request_id: str
    policy_number: str
    insured: str
    admitted: str
    discharged: str
    hospital: str
    diagnosis: str
    invoice_no: str
    in_list: str = ""
    paid_by_basic: str = ""
    out_of_list: str = ""
    special_drug: str = ""
    drug_code: str = ""
    designated_pharmacy: bool = True


# --------------------------------------------------------------------------- the form (pure)


def health_claim(form: HealthClaimForm, today: date) -> HealthClaim:
    """The claim a form describes, or a ``ValidationFailed`` naming the first problem."""
    claim_id = _request_id(form.request_id)
    admitted = _day(form.admitted, "入院日期", "date of admission")
    discharged = _day(form.discharged, "出院日期", "date of discharge")
    if discharged < admitted or discharged > today:
        raise ValidationFailed(
            "claim.stay_dates_invalid",
            "出院日期须不早于入院日期，且不晚于今天",
            "the discharge date must be on or after admission, and not after today",
        )
    return HealthClaim(
        claim_id,
        form.policy_number,
        form.insured,
        admitted,
        _diagnosis(form.diagnosis),
        bill_items(form),
        provider=_text(form.hospital, "医院名称", "hospital"),
        invoice_no=_text(form.invoice_no, "发票号码", "invoice number"),
        discharge_date=discharged,
        channel="portal",
    )


def bill_items(form: HealthClaimForm) -> tuple[BillItem, ...]:
    """The bill by category: in-list (less what 医保 paid), out-of-list, a special drug."""
    in_list = parse_amount(form.in_list, "目录内费用", "in-list amount")
    basic = parse_amount(form.paid_by_basic, "医保已支付金额", "amount paid by 医保")
    out_of_list = parse_amount(form.out_of_list, "目录外费用", "out-of-list amount")
    drug = parse_amount(form.special_drug, "特药费用", "special-drug amount")
    if basic > in_list:
        raise ValidationFailed(
            "claim.basic_over_in_list",
            "医保已支付金额不能超过医保目录内费用",
            "the amount 医保 paid cannot be more than the in-list amount",
        )
    items: list[BillItem] = []
    if in_list > Money.ZERO:
        items.append(BillItem("IN_LIST", "医保目录内费用", "in_list", in_list, basic))
    if out_of_list > Money.ZERO:
        items.append(BillItem("OUT_OF_LIST", "医保目录外费用", "out_of_list", out_of_list))
    if drug > Money.ZERO:
        code = _text(form.drug_code, "特药名称", "special drug").upper()
        items.append(
            BillItem(code, "特药费用", "special_drug", drug, Money.ZERO, form.designated_pharmacy)
        )
    if not items:
        raise ValidationFailed(
            "claim.no_items", "请至少填写一项费用金额", "enter at least one bill amount"
        )
    return tuple(items)


def parse_amount(text: str, name_zh: str, name_en: str) -> Money:
    """An amount in yuan as typed (``50,000``, ``¥1 234.5``); empty is zero.

    >>> parse_amount("¥1,234.5", "金额", "amount"), parse_amount("", "金额", "amount")
    (Money('1234.50'), Money('0.00'))
    """
    clean = re.sub(r"[\s,，¥￥元]", "", text)
    if not clean:
        return Money.ZERO
    try:
        value = Decimal(clean)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValidationFailed(
            "claim.amount_invalid",
            f"{name_zh}“{text.strip()}”无效，请填写不小于 0 的金额（最多两位小数）",
            f"the {name_en} {text.strip()!r} is not valid: enter an amount of 0 or more "
            "(at most two decimals)",
        )
    return Money.of(value)


def _request_id(text: str) -> str:
    if not _REQUEST_ID.fullmatch(text):
        raise ValidationFailed(
            "claim.request_invalid",
            "表单已失效，请返回重新填写",
            "this form is no longer valid; go back and fill it in again",
        )
    return text


def _day(text: str, name_zh: str, name_en: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            "claim.date_invalid",
            f"请填写{name_zh}（年-月-日）",
            f"enter the {name_en} (year-month-day)",
        ) from None


def _diagnosis(text: str) -> str:
    code = text.strip().upper().split(" ", 1)[0]
    if not _ICD10.fullmatch(code):
        raise ValidationFailed(
            "claim.diagnosis_invalid",
            f"诊断编码“{text.strip()}”无效，请从列表中选择或填写 ICD-10 编码（如 K35.8）",
            f"the diagnosis {text.strip()!r} is not an ICD-10 code; pick one from the list "
            "or type a code such as K35.8",
        )
    return code


def _text(text: str, name_zh: str, name_en: str) -> str:
    clean = text.strip()
    if not clean or len(clean) > _MAX_TEXT:
        raise ValidationFailed(
            "claim.field_required",
            f"请填写{name_zh}（不超过 {_MAX_TEXT} 字）",
            f"enter the {name_en} (at most {_MAX_TEXT} characters)",
        )
    return clean


def check_uploads(uploads: Sequence[Upload]) -> None:
    """Check every file before anything is written (kind, type, size, content)."""
    for upload in uploads:
        check_upload(upload.kind, upload.filename, upload.media_type, upload.content, None)


# --------------------------------------------------------------------------- use cases


@dataclass
class ClaimDesk:
    """Claims work of the portal and the console; the entry both edges call."""

    claims: ClaimService
    documents: DocumentService
    policies: PolicyService
    catalog: Catalog
    outreach: OutreachService
    identity: IdentityService

    # ------------------------------------------------------------------ customers

    def held_policy(self, party_ids: Sequence[str], policy_number: str) -> Policy:
        """A policy one of the parties holds (with its first insured), or
        ``policy.not_found`` — the same for someone else's policy and a missing one."""
        try:
            policy: Policy | None = self.policies.preview(policy_number, units=20)[0]
        except NotFound:
            policy = None
        if policy is None or policy.holder_id not in party_ids:
            raise _no_policy(policy_number)
        return policy

    def own_claim(self, party_ids: Sequence[str], claim_id: str) -> ClaimCase:
        """A claim on a policy one of the parties holds; any other claim is ``not found``
        with the same message as one that does not exist."""
        case = self.claims.case(claim_id)
        policy, _ = self.policies.preview(case.claim.policy_number, units=0)
        if policy.holder_id not in party_ids:
            raise NotFound("claim.not_found", f"没有赔案 {claim_id}", f"no claim {claim_id}")
        return case

    def own_claims(self, party_ids: Sequence[str], limit: int = 50) -> list[ClaimCase]:
        """Claims on the parties' policies, newest first (我的理赔)."""
        held = self.policies.policies_held_by(party_ids)
        return self.claims.claims_on([p.policy_number for p in held], limit)

    def file_claim(
        self, party_ids: Sequence[str], form: HealthClaimForm, uploads: Sequence[Upload]
    ) -> ClaimCase:
        """报案 from the portal: check the form and every file, report, attach the
        documents and decide at once.  Submitting the same form again (the same request
        ID) returns the claim it filed and writes nothing new."""
        policy = self.held_policy(party_ids, form.policy_number)
        if self.catalog.product(policy.product_code).line != "health":
            raise ValidationFailed(
                "claim.portal_health_only",
                "此类保单请拨打 95500 报案",
                "for this kind of policy, report a claim by calling 95500",
            )
        claim = health_claim(form, local_date(self.claims.clock()))
        check_uploads(uploads)
        self._require_fresh_or_same(claim)
        self.claims.report(claim, channel="portal")
        self._attach(claim.claim_id, uploads)
        return self.claims.decide(claim.claim_id)

    def provide_info(
        self, party_ids: Sequence[str], claim_id: str, note: str, uploads: Sequence[Upload]
    ) -> ClaimCase:
        """补充资料 from the customer: the files are attached and the claim goes back to
        its handler."""
        case = self.own_claim(party_ids, claim_id)
        if case.status is not ClaimStatus.PENDING_INFO:
            raise InvalidTransition(
                "claim.no_info_requested",
                "此赔案目前不需要补充资料",
                "no information is being asked for on this claim",
            )
        check_uploads(uploads)
        self._attach(claim_id, uploads)
        return self.claims.provide_info(claim_id, note.strip()[:500])

    def _require_fresh_or_same(self, claim: HealthClaim) -> None:
        """A request ID already used for a claim on another policy is refused (it can only
        be forged: the form's ID is new each time)."""
        try:
            existing = self.claims.case(claim.claim_id)
        except NotFound:
            return
        if existing.claim.policy_number != claim.policy_number:
            raise _request_reused()

    def _attach(self, claim_id: str, uploads: Sequence[Upload]) -> list[Document]:
        return [
            self.documents.attach(claim_id, u.kind, u.filename, u.media_type, u.content)
            for u in uploads
        ]

    # ------------------------------------------------------------------ staff

    def assign_to_me(self, staff: StaffUser, claim_id: str, comment: str) -> ClaimCase:
        """Take a waiting claim."""
        handler = self._handler(staff)
        case = self.claims.assign(claim_id, handler.handler_id)
        self._audit(staff, "console.claim_assigned", claim_id, comment)
        return case

    def approve(self, staff: StaffUser, claim_id: str, comment: str) -> ClaimCase:
        """核赔通过 within the staff member's authority (``claim.over_authority`` above it);
        the holder is told what was paid."""
        handler = self._handler(staff)
        case = self.claims.approve(claim_id, handler.handler_id, comment.strip())
        self._audit(staff, "console.claim_approved", claim_id, comment)
        self._tell_holder(case, _outcome_text(case))
        return case

    def decline(
        self, staff: StaffUser, claim_id: str, reason_zh: str, reason_en: str, comment: str
    ) -> ClaimCase:
        """拒赔 with the reason in both languages; the holder is told why."""
        handler = self._handler(staff)
        case = self.claims.decline(
            claim_id, handler.handler_id, reason_zh.strip(), reason_en.strip()
        )
        self._audit(staff, "console.claim_declined", claim_id, comment)
        self._tell_holder(case, _declined_text(case, reason_zh.strip(), reason_en.strip()))
        return case

    def request_info(
        self, staff: StaffUser, claim_id: str, what_zh: str, what_en: str, comment: str
    ) -> ClaimCase:
        """补充资料: ask the holder for more, in both languages."""
        handler = self._handler(staff)
        case = self.claims.request_info(
            claim_id, handler.handler_id, what_zh.strip(), what_en.strip()
        )
        self._audit(staff, "console.claim_info_requested", claim_id, comment)
        self._tell_holder(case, _info_text(case, what_zh.strip(), what_en.strip()))
        return case

    def document(self, staff: StaffUser, claim_id: str, document_id: str) -> tuple[Document, bytes]:
        """A claim's document with its content (checksum re-checked); reading is audited."""
        document, content = self.documents.read(document_id)
        if document.claim_id != claim_id:
            raise NotFound(
                "claim.document_not_found",
                f"没有理赔资料 {document_id}",
                f"no claim document {document_id}",
            )
        self.identity.audit(
            staff.user_id,
            "console.claim_document_read",
            {"claim_id": claim_id, "document_id": document_id},
        )
        return document, content

    def _handler(self, staff: StaffUser) -> Handler:
        """The staff member as a claims handler with their current authority."""
        if not staff.has("claims_handler"):
            raise NotPermitted(
                "claim.not_a_handler",
                "只有理赔员可以处理赔案",
                "only claims handlers can work on claims",
            )
        return self.claims.add_handler(staff.user_id, staff.name, staff.authority)

    def _audit(self, staff: StaffUser, event_type: str, claim_id: str, comment: str) -> None:
        self.identity.audit(
            staff.user_id, event_type, {"claim_id": claim_id, "comment": comment.strip()[:500]}
        )

    def _tell_holder(self, case: ClaimCase, text: Text) -> None:
        """站内信 to the policyholder, at the policy's contact mobile."""
        policy, _ = self.policies.preview(case.claim.policy_number, units=0)
        self.outreach.notify(policy.holder_id, policy.contact_mobile, text)


# --------------------------------------------------------------------------- notices


def _outcome_text(case: ClaimCase) -> Text:
    if case.status is not ClaimStatus.PAID:
        return _declined_text(case, "经审核无可赔付金额", "nothing is payable under the policy")
    paid = f"¥{case.paid.amount:,.2f}"
    return Text(
        "claim_paid",
        "理赔款已支付",
        "Your claim has been paid",
        f"您的赔案 {case.claim_id} 已审核通过，赔款 {paid} 已支付。",
        f"Your claim {case.claim_id} was approved and {paid} has been paid.",
    )


def _declined_text(case: ClaimCase, reason_zh: str, reason_en: str) -> Text:
    return Text(
        "claim_declined",
        "理赔结案通知",
        "Your claim has been closed",
        f"您的赔案 {case.claim_id} 已结案，未予赔付。原因：{reason_zh}",
        f"Your claim {case.claim_id} was closed without payment. Reason: {reason_en}",
    )


def _info_text(case: ClaimCase, what_zh: str, what_en: str) -> Text:
    return Text(
        "claim_info_requested",
        "请补充理赔资料",
        "We need more information for your claim",
        f"您的赔案 {case.claim_id} 需要补充：{what_zh}。请登录后在赔案页面上传。",
        f"For your claim {case.claim_id} we need: {what_en}. Sign in and upload it on the "
        "claim's page.",
    )


def _no_policy(policy_number: str) -> NotFound:
    return NotFound("policy.not_found", f"没有保单 {policy_number}", f"no policy {policy_number}")


def _request_reused() -> ValidationFailed:
    return ValidationFailed(
        "claim.request_invalid",
        "表单已失效，请返回重新填写",
        "this form is no longer valid; go back and fill it in again",
    )


__all__ = [
    "COMMON_DIAGNOSES",
    "ClaimDesk",
    "Diagnosis",
    "HealthClaimForm",
    "NotPermitted",
    "Upload",
    "bill_items",
    "check_uploads",
    "health_claim",
    "parse_amount",
]
