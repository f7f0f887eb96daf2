"""What the proactive-service detectors say, shared by both engines — pure data.

The Polars detectors (``detectors.py``) and the Spark detectors (``spark_detectors.py``) build
every notice from the same specifications: the deduplication key, the reason in Chinese and
English, and the facts kept as canonical JSON are *templates* over a fact's columns, and the
reminder stages are data.  So the two engines cannot drift apart in wording or keys; the
parity test checks that they also agree on which facts make a notice.

A template is a ``str.format``-style string whose fields name a column and how to show it:

* ``{amount_fen:money}`` — whole fen as yuan with thousands separators: ``123450`` →
  ``1,234.50``;
* ``{due_on:date}`` — ISO date ``2026-12-15``;
* ``{started_at:minute}`` — an instant in China time, ``2026-12-14 10:23``;
* ``{annual_rate_bp:rate}`` — basis points as a percentage: ``525`` → ``5.25%``;
* ``{seq}`` — the value as text.

>>> [(p.literal, p.field, p.spec) for p in parse_template("第{seq}期 {amount_fen:money} 元")]
[('第', 'seq', ''), ('期 ', 'amount_fen', 'money'), (' 元', '', '')]
>>> money_text(123450), money_text(5), money_text(123456789)
('1,234.50', '0.05', '1,234,567.89')
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from baoxian.outreach.outbox import NOTICE_COLUMNS

CHINA = ZoneInfo("Asia/Shanghai")

Scenario = Literal[
    "renewal_due",
    "benefit_collectable",
    "loan_repayment_due",
    "loan_overdue",
    "loan_renewal_failed",
    "dividend_allocated",
    "report_ready",
    "premium_auto_loan",
    "claim_reminder",
    "abandoned_transaction",
]
SCENARIOS: tuple[Scenario, ...] = (
    "renewal_due",
    "benefit_collectable",
    "loan_repayment_due",
    "loan_overdue",
    "loan_renewal_failed",
    "dividend_allocated",
    "report_ready",
    "premium_auto_loan",
    "claim_reminder",
    "abandoned_transaction",
)

# NOTICE_COLUMNS (the notice frame's columns, in order) is the outbox writer's contract.

DEFAULT_CHANNEL = "sms"
DEFAULT_LOCALE = "zh"
DEFAULT_CARE = False


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    """When each scenario speaks.  Reminder stages count days from a fact's date; a run
    sends the stages reached on the days of its look-back (``since``..run date) that still
    apply on the run date — of several of one fact, the latest, so catching up missed days
    sends one notice, not several (and the stage is part of the dedup key, so each stage is
    told once).

    * renewal premium: 15 and 3 days before the due date; the day after it, if unpaid (the
      grace period has begun); 7 days before the grace period ends;
    * loan repayment: 15 and 3 days before the loan's due date;
    * benefits: on the day they can be collected, and again after 30 days uncollected;
    * 断点介入: a payment or change request started at least 2 hours before the run and not
      finished, within the 72 hours before the start of the look-back.
    """

    renewal_lead_days: tuple[int, ...] = (15, 3)
    grace_reminder_days: tuple[int, ...] = (1,)
    grace_end_lead_days: tuple[int, ...] = (7,)
    loan_lead_days: tuple[int, ...] = (15, 3)
    benefit_reminder_days: tuple[int, ...] = (0, 30)
    abandoned_after_hours: int = 2
    abandoned_window_hours: int = 72

    def __post_init__(self) -> None:
        for name in (
            "renewal_lead_days",
            "grace_reminder_days",
            "grace_end_lead_days",
            "loan_lead_days",
            "benefit_reminder_days",
        ):
            days: tuple[int, ...] = getattr(self, name)
            if any(d < 0 for d in days) or len(set(days)) != len(days):
                raise ValueError(f"{name} must be distinct days ≥ 0, not {days}")
        if 0 in self.grace_reminder_days:
            raise ValueError("grace reminders start the day after the due date (≥ 1)")
        if self.abandoned_after_hours < 0 or self.abandoned_window_hours <= 0:
            raise ValueError("abandoned_after_hours ≥ 0 and abandoned_window_hours > 0")

    @property
    def max_renewal_lead(self) -> int:
        return max(self.renewal_lead_days, default=0)

    @property
    def max_loan_lead(self) -> int:
        return max(self.loan_lead_days, default=0)


@dataclass(frozen=True, slots=True)
class RunWindow:
    """One run's dates: facts dated ``since``..``run_date`` (inclusive) are new; instants
    up to ``abandoned_before`` and from ``abandoned_from`` count as abandoned transactions."""

    run_date: date
    since: date
    run_at: datetime
    abandoned_from: datetime
    abandoned_before: datetime

    @property
    def loans_drawn_since(self) -> date:
        """The first day of automatic premium loans to tell of: the day before ``since``,
        because the billing day draws the loan dated the last day of grace (24:00) when it
        runs the next morning — before that day's scan (the deduplication key keeps the
        overlap from telling anyone twice)."""
        return self.since - timedelta(days=1)


def run_window(
    run_date: date,
    settings: DetectorSettings,
    since: date | None = None,
    run_at: datetime | None = None,
) -> RunWindow:
    """The window of a run on ``run_date``.  ``since`` (default: the run date) catches up
    missed days; ``run_at`` (default: the end of the run date in China) is the instant the
    abandoned-transaction rule counts hours back from.

    >>> w = run_window(date(2026, 12, 15), DetectorSettings())
    >>> w.abandoned_before.isoformat(), w.abandoned_from.isoformat()
    ('2026-12-15T14:00:00+00:00', '2026-12-11T16:00:00+00:00')
    """
    since = run_date if since is None else since
    if since > run_date:
        raise ValueError(f"since ({since}) is after the run date ({run_date})")
    if run_at is None:
        run_at = datetime.combine(run_date + timedelta(days=1), time(0), tzinfo=CHINA)
    if run_at.tzinfo is None:
        raise ValueError("run_at must be timezone-aware")
    utc = ZoneInfo("UTC")
    start_of_since = datetime.combine(since, time(0), tzinfo=CHINA)
    return RunWindow(
        run_date=run_date,
        since=since,
        run_at=run_at.astimezone(utc),
        abandoned_from=(
            start_of_since - timedelta(hours=settings.abandoned_window_hours)
        ).astimezone(utc),
        abandoned_before=(run_at - timedelta(hours=settings.abandoned_after_hours)).astimezone(utc),
    )


# --------------------------------------------------------------------------- stages

Validity = Literal["until_due", "in_grace", "from_due"]


@dataclass(frozen=True, slots=True)
class Stage:
    """A reminder stage: reached on ``anchor`` + ``offset`` days, while ``validity`` holds on
    the run date (``until_due``: not after the due date; ``in_grace``: after the due date and
    not after the end of grace; ``from_due``: on or after the due date).  Of the stages
    reached, the latest wins; on the same day the higher ``priority``."""

    code: str
    reason_code: str
    anchor: str
    offset: int
    validity: Validity
    priority: int


def renewal_stages(settings: DetectorSettings) -> tuple[Stage, ...]:
    """The stages of a premium, in the order they are reached.

    >>> [s.code for s in renewal_stages(DetectorSettings())]
    ['T-15', 'T-3', 'D+1', 'G-7']
    """
    before = tuple(
        Stage(f"T-{d}", "renewal_due.upcoming", "due_on", -d, "until_due", 1)
        for d in sorted(settings.renewal_lead_days, reverse=True)
    )
    after = tuple(
        Stage(f"D+{d}", "renewal_due.in_grace", "due_on", d, "in_grace", 2)
        for d in sorted(settings.grace_reminder_days)
    )
    ending = tuple(
        Stage(f"G-{d}", "renewal_due.grace_ending", "grace_until", -d, "in_grace", 3)
        for d in sorted(settings.grace_end_lead_days, reverse=True)
    )
    return before + after + ending


def loan_stages(settings: DetectorSettings) -> tuple[Stage, ...]:
    return tuple(
        Stage(f"T-{d}", "loan_repayment_due.upcoming", "due_on", -d, "until_due", 1)
        for d in sorted(settings.loan_lead_days, reverse=True)
    )


def benefit_stages(settings: DetectorSettings) -> tuple[Stage, ...]:
    return tuple(
        Stage(
            f"D+{d}",
            "benefit_collectable.ready" if d == 0 else "benefit_collectable.uncollected",
            "due_on",
            d,
            "from_due",
            1,
        )
        for d in sorted(settings.benefit_reminder_days)
    )


# --------------------------------------------------------------------------- templates

FieldKind = Literal["int", "str", "date", "instant"]


@dataclass(frozen=True, slots=True)
class Part:
    """A literal followed by an optional field (``field`` empty at the end)."""

    literal: str
    field: str
    spec: str


def parse_template(template: str) -> tuple[Part, ...]:
    return tuple(
        Part(literal, name or "", spec or "")
        for literal, name, spec, _conversion in string.Formatter().parse(template)
    )


def template_fields(template: str) -> frozenset[str]:
    return frozenset(p.field for p in parse_template(template) if p.field)


@dataclass(frozen=True, slots=True)
class Wording:
    """The reason of one ``reason_code`` in Chinese and English."""

    reason_code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class NoticeSpec:
    """How a scenario's facts become notices: the dedup key template, the wording per reason
    code (chosen by the fact's ``reason_code`` column when there are several), the facts kept
    (JSON name → column kind; the JSON name is the column's name) and the column that is the
    notice's ``due_on`` (or none)."""

    scenario: Scenario
    key: str
    wordings: tuple[Wording, ...]
    data: tuple[tuple[str, FieldKind], ...]
    due_on: str | None = None

    @property
    def data_fields(self) -> tuple[tuple[str, FieldKind], ...]:
        """The facts in canonical (sorted) order."""
        return tuple(sorted(self.data))


RENEWAL = NoticeSpec(
    "renewal_due",
    "renewal_due:{policy_number}:{seq}:{due_on:date}:{stage}",
    (
        Wording(
            "renewal_due.upcoming",
            "保单 {policy_number} 第{seq}期保费 {outstanding_fen:money} 元将于 {due_on:date} 到期",
            "Premium instalment {seq} of policy {policy_number} ({outstanding_fen:money} CNY) "
            "is due on {due_on:date}",
        ),
        Wording(
            "renewal_due.in_grace",
            "保单 {policy_number} 第{seq}期保费 {outstanding_fen:money} 元已于 {due_on:date} 到期"
            "未交，宽限期至 {grace_until:date}",
            "Premium instalment {seq} of policy {policy_number} ({outstanding_fen:money} CNY) "
            "was due on {due_on:date} and is unpaid; the grace period ends on "
            "{grace_until:date}",
        ),
        Wording(
            "renewal_due.grace_ending",
            "保单 {policy_number} 第{seq}期保费 {outstanding_fen:money} 元仍未交，宽限期将于 "
            "{grace_until:date} 结束，期满未交保单效力将中止",
            "Premium instalment {seq} of policy {policy_number} ({outstanding_fen:money} CNY) "
            "is still unpaid; the grace period ends on {grace_until:date}, after which the "
            "policy lapses",
        ),
    ),
    (
        ("policy_number", "str"),
        ("seq", "int"),
        ("due_on", "date"),
        ("grace_until", "date"),
        ("amount_fen", "int"),
        ("paid_fen", "int"),
        ("outstanding_fen", "int"),
        ("stage", "str"),
    ),
    due_on="due_on",
)

LOAN_FACTS: tuple[tuple[str, FieldKind], ...] = (
    ("loan_id", "str"),
    ("policy_number", "str"),
    ("kind", "str"),
    ("principal_fen", "int"),
    ("outstanding_fen", "int"),
    ("annual_rate_bp", "int"),
    ("start_on", "date"),
    ("due_on", "date"),
)
"""The facts a notice about an open loan carries (repayment due, overdue)."""

LOAN_REPAYMENT = NoticeSpec(
    "loan_repayment_due",
    "loan_repayment_due:{loan_id}:{due_on:date}:{stage}",
    (
        Wording(
            "loan_repayment_due.upcoming",
            "保单 {policy_number} 的借款 {loan_id} 本金余额 {outstanding_fen:money} 元将于 "
            "{due_on:date} 到期",
            "Loan {loan_id} on policy {policy_number} ({outstanding_fen:money} CNY principal "
            "outstanding) is due on {due_on:date}",
        ),
    ),
    (*LOAN_FACTS, ("stage", "str")),
    due_on="due_on",
)

LOAN_OVERDUE = NoticeSpec(
    "loan_overdue",
    "loan_overdue:{loan_id}:{due_on:date}",
    (
        Wording(
            "loan_overdue.unpaid",
            "保单 {policy_number} 的借款 {loan_id} 已于 {due_on:date} 到期未还，本金余额 "
            "{outstanding_fen:money} 元",
            "Loan {loan_id} on policy {policy_number} was due on {due_on:date} and is unpaid "
            "({outstanding_fen:money} CNY principal outstanding)",
        ),
    ),
    LOAN_FACTS,
    due_on="due_on",
)

LOAN_RENEWAL_FAILED = NoticeSpec(
    "loan_renewal_failed",
    "loan_renewal_failed:{loan_id}:{renewal_failed_on:date}",
    (
        Wording(
            "",  # the failure code is the reason code
            "保单 {policy_number} 的借款 {loan_id}（本金余额 {outstanding_fen:money} 元）于 "
            "{renewal_failed_on:date} 续贷未成功：{why_zh}",
            "Loan {loan_id} on policy {policy_number} ({outstanding_fen:money} CNY principal "
            "outstanding) could not be renewed on {renewal_failed_on:date}: {why_en}",
        ),
    ),
    (
        ("loan_id", "str"),
        ("policy_number", "str"),
        ("outstanding_fen", "int"),
        ("due_on", "date"),
        ("renewal_failed_on", "date"),
        ("failure_code", "str"),
    ),
    due_on="due_on",
)

PREMIUM_AUTO_LOAN = NoticeSpec(
    "premium_auto_loan",
    "premium_auto_loan:{loan_id}",
    (
        Wording(
            "premium_auto_loan.paid",
            "保单 {policy_number} 宽限期满未交的保费 {principal_fen:money} 元已于 "
            "{start_on:date} 由保单自动垫交，垫交借款年利率 {annual_rate_bp:rate}，"
            "到期日 {due_on:date}",
            "The unpaid premium of {principal_fen:money} CNY on policy {policy_number} was "
            "paid on {start_on:date} by an automatic premium loan at {annual_rate_bp:rate} a "
            "year, due on {due_on:date}",
        ),
    ),
    (
        ("loan_id", "str"),
        ("policy_number", "str"),
        ("principal_fen", "int"),
        ("annual_rate_bp", "int"),
        ("start_on", "date"),
        ("due_on", "date"),
    ),
    due_on="due_on",
)

BENEFIT = NoticeSpec(
    "benefit_collectable",
    "benefit_collectable:{payout_id}:{stage}",
    (
        Wording(
            "benefit_collectable.ready",
            "保单 {policy_number} 的{kind_zh} {amount_fen:money} 元已于 {due_on:date} 可以领取",
            "{kind_en} of {amount_fen:money} CNY on policy {policy_number} can be collected "
            "from {due_on:date}",
        ),
        Wording(
            "benefit_collectable.uncollected",
            "保单 {policy_number} 的{kind_zh} {amount_fen:money} 元自 {due_on:date} 起可领取，"
            "至今尚未领取",
            "{kind_en} of {amount_fen:money} CNY on policy {policy_number} has been ready to "
            "collect since {due_on:date} and is not yet collected",
        ),
    ),
    (
        ("payout_id", "str"),
        ("policy_number", "str"),
        ("kind", "str"),
        ("amount_fen", "int"),
        ("due_on", "date"),
        ("stage", "str"),
    ),
    due_on="due_on",
)

DIVIDEND = NoticeSpec(
    "dividend_allocated",
    "dividend_allocated:{policy_number}:{policy_year}",
    (
        Wording(
            "dividend_allocated.allocated",
            "保单 {policy_number} 第{policy_year}保单年度红利 {amount_fen:money} 元已于 "
            "{allocated_on:date} 分配（{option_zh}）",
            "A dividend of {amount_fen:money} CNY for policy year {policy_year} of policy "
            "{policy_number} was allocated on {allocated_on:date} ({option_en})",
        ),
    ),
    (
        ("policy_number", "str"),
        ("policy_year", "int"),
        ("amount_fen", "int"),
        ("option", "str"),
        ("allocated_on", "date"),
    ),
)

REPORT = NoticeSpec(
    "report_ready",
    "report_ready:{policy_number}:{statement_year}",
    (
        Wording(
            "report_ready.annual",
            "保单 {policy_number} 第{statement_year}保单年度报告已生成，期末账户价值 "
            "{closing_fen:money} 元",
            "The report for policy year {statement_year} of policy {policy_number} is ready: "
            "closing account value {closing_fen:money} CNY",
        ),
    ),
    (
        ("policy_number", "str"),
        ("statement_year", "int"),
        ("ready_on", "date"),
        ("opening_fen", "int"),
        ("closing_fen", "int"),
    ),
)

CLAIM_REMINDER = NoticeSpec(
    "claim_reminder",
    "claim_reminder:{settlement_no}",
    (
        Wording(
            "claim_reminder.settlement",
            "您 {loss_date:date} 的{kind_zh}费用，保单 {policy_number} 预计可赔约 "
            "{amount_fen:money} 元",
            "For your {kind_en} on {loss_date:date}, policy {policy_number} can pay about "
            "{amount_fen:money} CNY",
        ),
    ),
    (
        ("settlement_no", "str"),
        ("policy_number", "str"),
        ("kind", "str"),
        ("loss_date", "date"),
        ("amount_fen", "int"),
    ),
)

ABANDONED = NoticeSpec(
    "abandoned_transaction",
    "abandoned_transaction:{kind}:{ref_id}",
    (
        Wording(
            "abandoned_transaction.payment",
            "您于 {started_at:minute} 发起的保费支付（订单 {ref_id}，{amount_fen:money} 元）"
            "尚未完成",
            "The premium payment you started at {started_at:minute} (order {ref_id}, "
            "{amount_fen:money} CNY) is not finished",
        ),
        Wording(
            "abandoned_transaction.change_request",
            "您于 {started_at:minute} 提交的保单 {policy_number} {topic_zh}申请尚未办理完成",
            "Your {topic_en} request for policy {policy_number}, started at "
            "{started_at:minute}, is not finished",
        ),
    ),
    (
        ("kind", "str"),
        ("ref_id", "str"),
        ("policy_number", "str"),
        ("topic", "str"),
        ("amount_fen", "int"),
        ("started_at", "instant"),
    ),
)

SPECS: dict[Scenario, NoticeSpec] = {
    spec.scenario: spec
    for spec in (
        RENEWAL,
        BENEFIT,
        LOAN_REPAYMENT,
        LOAN_OVERDUE,
        LOAN_RENEWAL_FAILED,
        DIVIDEND,
        REPORT,
        PREMIUM_AUTO_LOAN,
        CLAIM_REMINDER,
        ABANDONED,
    )
}


# --------------------------------------------------------------------------- names

PAYOUT_KIND_NAMES: dict[str, tuple[str, str]] = {
    "annuity": ("养老年金", "Pension annuity"),
    "survival": ("生存保险金", "Survival benefit"),
}
DIVIDEND_OPTION_NAMES: dict[str, tuple[str, str]] = {
    "cash": ("现金领取", "paid in cash"),
    "accumulate": ("累积生息", "accumulated at interest"),
}
SETTLEMENT_KIND_NAMES: dict[str, tuple[str, str]] = {
    "inpatient": ("住院", "hospital stay"),
    "pharmacy": ("购药", "pharmacy purchase"),
    "outpatient": ("门诊", "outpatient visit"),
}
CHANGE_KIND_NAMES: dict[str, tuple[str, str]] = {
    "payment": ("保费支付", "premium payment"),
    "contact": ("联系方式变更", "contact details change"),
    "beneficiary": ("受益人变更", "beneficiary change"),
    "vehicle_details": ("车辆信息变更", "vehicle details change"),
    "site_details": ("标的信息变更", "insured site change"),
}
RENEWAL_FAILURES: dict[str, tuple[str, str]] = {
    "billing.renewal_exceeds_limit": (
        "借款本息超过可贷额度，请归还借款",
        "the balance is above the loan limit; please repay the loan",
    ),
    "billing.renewal_policy_not_in_force": (
        "保单不在有效状态",
        "the policy is not in force",
    ),
}
RENEWAL_FAILURE_OTHER = (
    "续贷条件不满足，请归还借款或联系我们",
    "the renewal conditions are not met",
)
RENEWAL_FAILURE_CODE = "billing.renewal_failed"
"""The reason code of a failed renewal whose stored code is missing."""
OTHER_NAME = ("其他", "other")


def money_text(fen: int) -> str:
    """Whole fen as yuan with thousands separators (what both engines print)."""
    return f"{fen // 100:,}.{fen % 100:02d}"


def china_minute(at: datetime) -> str:
    """An instant as China time to the minute (what the Spark and Polars texts show).

    >>> from datetime import UTC
    >>> china_minute(datetime(2026, 12, 14, 2, 23, tzinfo=UTC))
    '2026-12-14 10:23'
    """
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


__all__ = [
    "ABANDONED",
    "BENEFIT",
    "CHANGE_KIND_NAMES",
    "CHINA",
    "CLAIM_REMINDER",
    "DIVIDEND",
    "DIVIDEND_OPTION_NAMES",
    "LOAN_OVERDUE",
    "LOAN_RENEWAL_FAILED",
    "LOAN_REPAYMENT",
    "NOTICE_COLUMNS",
    "PAYOUT_KIND_NAMES",
    "PREMIUM_AUTO_LOAN",
    "RENEWAL",
    "RENEWAL_FAILURES",
    "REPORT",
    "SCENARIOS",
    "SETTLEMENT_KIND_NAMES",
    "SPECS",
    "DetectorSettings",
    "NoticeSpec",
    "Part",
    "RunWindow",
    "Stage",
    "Wording",
    "benefit_stages",
    "china_minute",
    "loan_stages",
    "money_text",
    "parse_template",
    "renewal_stages",
    "run_window",
    "template_fields",
]
