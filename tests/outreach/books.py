"""A small hand-built book with one fact per rule and edge, and the notices it must give on
the run date 2026-12-15 (a Tuesday)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from baoxian.outreach.detectors import BookFrames
from baoxian.outreach.synthetic import generate_book

RUN = date(2026, 12, 15)


def d(text: str) -> date:
    return date.fromisoformat(text)


def hand_book() -> BookFrames:
    return BookFrames.of(
        policies=pl.DataFrame(
            {
                "policy_number": ["P1", "P2", "P3", "P4"],
                "holder_id": ["H1", "H2", "H3", "H4"],
                "status": ["in_force", "lapsed", "in_force", "in_force"],
            }
        ),
        instalments=pl.DataFrame(
            [
                # due in exactly 15 days: the first reminder
                ("P1", 3, d("2026-12-30"), 123450, 0, d("2027-02-28"), "due"),
                # due in 16 days: too early
                ("P1", 4, d("2026-12-31"), 123450, 0, d("2027-03-01"), "due"),
                # due in 3 days: the second reminder
                ("P1", 2, d("2026-12-18"), 10000, 0, d("2027-02-16"), "due"),
                # due today: its last reminder was 3 days ago
                ("P1", 5, d("2026-12-15"), 10000, 0, d("2027-02-13"), "due"),
                # paid: never
                ("P1", 1, d("2026-11-30"), 10000, 10000, d("2027-01-29"), "paid"),
                # the policy has lapsed: never
                ("P2", 1, d("2026-12-20"), 88800, 0, d("2027-02-18"), "due"),
                # due yesterday, part-paid: the grace period has begun
                ("P3", 5, d("2026-12-14"), 50000, 20000, d("2027-02-12"), "in_grace"),
                # grace ends in 7 days
                ("P3", 6, d("2026-10-23"), 50000, 0, d("2026-12-22"), "in_grace"),
                # waived: never
                ("P4", 1, d("2026-12-18"), 70000, 0, d("2027-02-16"), "waived"),
            ],
            schema=[
                "policy_number",
                "seq",
                "due_on",
                "amount_fen",
                "paid_fen",
                "grace_until",
                "status",
            ],
            orient="row",
        ),
        loans=pl.DataFrame(
            [
                (
                    "L1",
                    "P1",
                    "policy_loan",
                    1000000,
                    525,
                    d("2026-06-18"),
                    d("2026-12-18"),
                    250000,
                    "open",
                    None,
                    None,
                ),
                # overdue from today (a stale "open" status), renewal refused yesterday
                (
                    "L2",
                    "P3",
                    "policy_loan",
                    300000,
                    500,
                    d("2026-06-14"),
                    d("2026-12-14"),
                    0,
                    "open",
                    d("2026-12-14"),
                    "billing.renewal_exceeds_limit",
                ),
                # due today (reminded 3 days ago), renewal refused today without a code
                (
                    "L3",
                    "P4",
                    "policy_loan",
                    200001,
                    500,
                    d("2026-06-15"),
                    d("2026-12-15"),
                    0,
                    "open",
                    d("2026-12-15"),
                    None,
                ),
                (
                    "L4",
                    "P1",
                    "policy_loan",
                    500000,
                    500,
                    d("2026-06-16"),
                    d("2026-12-16"),
                    500000,
                    "repaid",
                    None,
                    None,
                ),
                (
                    "L5",
                    "P1",
                    "auto_premium_loan",
                    50000,
                    500,
                    d("2026-12-15"),
                    d("2027-06-15"),
                    0,
                    "open",
                    None,
                    None,
                ),
            ],
            schema=[
                "loan_id",
                "policy_number",
                "kind",
                "principal_fen",
                "annual_rate_bp",
                "start_on",
                "due_on",
                "repaid_fen",
                "status",
                "renewal_failed_on",
                "renewal_failure_code",
            ],
            orient="row",
        ),
        payouts=pl.DataFrame(
            [
                ("P4:annuity:2026-12-15", "P4", "annuity", d("2026-12-15"), 51500, "collectable"),
                (
                    "P4:survival:2026-11-15",
                    "P4",
                    "survival",
                    d("2026-11-15"),
                    600000,
                    "collectable",
                ),
                ("P4:annuity:2026-12-14", "P4", "annuity", d("2026-12-14"), 51500, "collected"),
            ],
            schema=["payout_id", "policy_number", "kind", "due_on", "amount_fen", "status"],
            orient="row",
        ),
        dividends=pl.DataFrame(
            [
                ("P3", 3, 300000, "accumulate", d("2026-12-15")),
                ("P1", 2, 0, "cash", d("2026-12-15")),  # nothing to tell
                ("P1", 1, 4200, "cash", d("2026-12-14")),  # yesterday
            ],
            schema=["policy_number", "policy_year", "amount_fen", "option", "allocated_on"],
            orient="row",
        ),
        statements=pl.DataFrame(
            [("P4", 2, d("2026-12-15"), 12000000, 12345678)],
            schema=["policy_number", "statement_year", "ready_on", "opening_fen", "closing_fen"],
            orient="row",
        ),
        claim_reminders=pl.DataFrame(
            [("JS0001", "M1", "BJHMB1", "inpatient", d("2026-06-03"), 1920000, d("2026-12-15"))],
            schema=[
                "settlement_no",
                "party_id",
                "policy_number",
                "kind",
                "loss_date",
                "amount_fen",
                "created_on",
            ],
            orient="row",
        ),
        abandoned=pl.DataFrame(
            [
                (
                    "payment_order",
                    "O1",
                    "H9",
                    None,
                    "payment",
                    9900,
                    datetime(2026, 12, 15, 1, 0, tzinfo=UTC),
                ),
                # 23:00 in Beijing: less than two hours before the end of the run date
                (
                    "payment_order",
                    "O2",
                    "H9",
                    None,
                    "payment",
                    9900,
                    datetime(2026, 12, 15, 15, 0, tzinfo=UTC),
                ),
                (
                    "change_request",
                    "CR1",
                    "H1",
                    "P1",
                    "contact",
                    None,
                    datetime(2026, 12, 13, 2, 0, tzinfo=UTC),
                ),
            ],
            schema={
                "kind": pl.String,
                "ref_id": pl.String,
                "party_id": pl.String,
                "policy_number": pl.String,
                "topic": pl.String,
                "amount_fen": pl.Int64,
                "started_at": pl.Datetime("us", "UTC"),
            },
            orient="row",
        ),
        preferences=pl.DataFrame(
            {
                "party_id": ["H3", "H4"],
                "channel": ["email", "sms"],
                "locale": ["en", "zh"],
                "care": [False, True],
            }
        ),
    )


EXPECTED: dict[str, tuple[str, str]] = {
    "renewal_due:P1:3:2026-12-30:T-15": (
        "保单 P1 第3期保费 1,234.50 元将于 2026-12-30 到期",
        "Premium instalment 3 of policy P1 (1,234.50 CNY) is due on 2026-12-30",
    ),
    "renewal_due:P1:2:2026-12-18:T-3": (
        "保单 P1 第2期保费 100.00 元将于 2026-12-18 到期",
        "Premium instalment 2 of policy P1 (100.00 CNY) is due on 2026-12-18",
    ),
    "renewal_due:P3:5:2026-12-14:D+1": (
        "保单 P3 第5期保费 300.00 元已于 2026-12-14 到期未交，宽限期至 2027-02-12",
        "Premium instalment 5 of policy P3 (300.00 CNY) was due on 2026-12-14 and is unpaid; "
        "the grace period ends on 2027-02-12",
    ),
    "renewal_due:P3:6:2026-10-23:G-7": (
        "保单 P3 第6期保费 500.00 元仍未交，宽限期将于 2026-12-22 结束，期满未交保单效力将中止",
        "Premium instalment 6 of policy P3 (500.00 CNY) is still unpaid; the grace period ends "
        "on 2026-12-22, after which the policy lapses",
    ),
    "loan_repayment_due:L1:2026-12-18:T-3": (
        "保单 P1 的借款 L1 本金余额 7,500.00 元将于 2026-12-18 到期",
        "Loan L1 on policy P1 (7,500.00 CNY principal outstanding) is due on 2026-12-18",
    ),
    "loan_overdue:L2:2026-12-14": (
        "保单 P3 的借款 L2 已于 2026-12-14 到期未还，本金余额 3,000.00 元",
        "Loan L2 on policy P3 was due on 2026-12-14 and is unpaid (3,000.00 CNY principal "
        "outstanding)",
    ),
    "loan_renewal_failed:L3:2026-12-15": (
        "保单 P4 的借款 L3（本金余额 2,000.01 元）于 2026-12-15 续贷未成功："
        "续贷条件不满足，请归还借款或联系我们",
        "Loan L3 on policy P4 (2,000.01 CNY principal outstanding) could not be renewed on "
        "2026-12-15: the renewal conditions are not met",
    ),
    "premium_auto_loan:L5": (
        "保单 P1 宽限期满未交的保费 500.00 元已于 2026-12-15 由保单自动垫交，"
        "垫交借款年利率 5.00%，到期日 2027-06-15",
        "The unpaid premium of 500.00 CNY on policy P1 was paid on 2026-12-15 by an automatic "
        "premium loan at 5.00% a year, due on 2027-06-15",
    ),
    "benefit_collectable:P4:annuity:2026-12-15:D+0": (
        "保单 P4 的养老年金 515.00 元已于 2026-12-15 可以领取",
        "Pension annuity of 515.00 CNY on policy P4 can be collected from 2026-12-15",
    ),
    "benefit_collectable:P4:survival:2026-11-15:D+30": (
        "保单 P4 的生存保险金 6,000.00 元自 2026-11-15 起可领取，至今尚未领取",
        "Survival benefit of 6,000.00 CNY on policy P4 has been ready to collect since "
        "2026-11-15 and is not yet collected",
    ),
    "dividend_allocated:P3:3": (
        "保单 P3 第3保单年度红利 3,000.00 元已于 2026-12-15 分配（累积生息）",
        "A dividend of 3,000.00 CNY for policy year 3 of policy P3 was allocated on 2026-12-15 "
        "(accumulated at interest)",
    ),
    "report_ready:P4:2": (
        "保单 P4 第2保单年度报告已生成，期末账户价值 123,456.78 元",
        "The report for policy year 2 of policy P4 is ready: closing account value 123,456.78 CNY",
    ),
    "claim_reminder:JS0001": (
        "您 2026-06-03 的住院费用，保单 BJHMB1 预计可赔约 19,200.00 元",
        "For your hospital stay on 2026-06-03, policy BJHMB1 can pay about 19,200.00 CNY",
    ),
    "abandoned_transaction:payment_order:O1": (
        "您于 2026-12-15 09:00 发起的保费支付（订单 O1，99.00 元）尚未完成",
        "The premium payment you started at 2026-12-15 09:00 (order O1, 99.00 CNY) is not finished",
    ),
    "abandoned_transaction:change_request:CR1": (
        "您于 2026-12-13 10:00 提交的保单 P1 联系方式变更申请尚未办理完成",
        "Your contact details change request for policy P1, started at 2026-12-13 10:00, is "
        "not finished",
    ),
}
"""Every notice of the hand-built book on :data:`RUN` (look-back: the run date only)."""

CAUGHT_UP_YESTERDAY = {"loan_renewal_failed:L2:2026-12-14", "dividend_allocated:P1:1"}
"""What a look-back from 2026-12-14 adds."""


GENERATED_RUN = date(2026, 12, 15)


def generated(n: int = 4000, seed: int = 11) -> BookFrames:
    """A generated book (``outreach/synthetic.py``) as the detectors' frames, read whole."""
    return book_frames(generate_book(n, GENERATED_RUN, seed=seed))


def book_frames(book: dict[str, pl.DataFrame]) -> BookFrames:
    abandoned = _abandoned(book)
    return BookFrames.of(
        policies=book["policies"],
        instalments=book["instalments"],
        loans=book["loans"],
        payouts=book["payouts"],
        dividends=book["dividends"],
        statements=book["statements"],
        claim_reminders=book["claim_reminders"],
        abandoned=abandoned,
        preferences=book["preferences"],
    )


def _abandoned(book: dict[str, pl.DataFrame]) -> pl.DataFrame:
    orders = book["payment_orders"].filter(pl.col("status").is_in(["pending", "declined"]))
    requests = (
        book["change_requests"]
        .filter(pl.col("status") == "submitted", pl.col("requested_by_kind") == "customer")
        .join(book["policies"].select("policy_number", "holder_id"), on="policy_number")
    )
    return pl.concat(
        [
            orders.select(
                pl.lit("payment_order").alias("kind"),
                pl.col("order_id").alias("ref_id"),
                pl.col("payer_id").alias("party_id"),
                pl.lit(None, pl.String).alias("policy_number"),
                pl.lit("payment").alias("topic"),
                "amount_fen",
                pl.col("created_at").alias("started_at"),
            ),
            requests.select(
                pl.lit("change_request").alias("kind"),
                pl.col("request_id").alias("ref_id"),
                pl.col("holder_id").alias("party_id"),
                "policy_number",
                pl.col("kind").alias("topic"),
                pl.lit(None, pl.Int64).alias("amount_fen"),
                pl.col("created_at").alias("started_at"),
            ),
        ]
    )
