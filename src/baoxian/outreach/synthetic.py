"""A generated life book for the daily scan's tests and benchmark — seeded, vectorised.

:func:`generate_book` draws ``n`` policies around a run date with what the billing ledgers
hold for them: premium instalments of the current policy year (monthly or annual; the paid
history included), policy loans and automatic premium loans, pension and survival pay-outs,
dividends, account statements, claim reminders from 医保 settlement data, payment orders and
customers' change requests left unfinished, and channel preferences.  Dates are spread over
the weeks before and after the run date so every reminder stage, grace period, overdue loan,
renewal failure (yesterday and today) and lapsed policy occurs in a few thousand policies.

:func:`write_book` stores such a book set-based (``COPY`` on PostgreSQL, the driver's
``executemany`` on SQLite), parties and policies included, so the scan reads it back.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection, Table

from baoxian.billing.ledger_tables import (
    account_statements,
    benefit_payouts,
    billing_instalments,
    claim_reminders,
    dividend_allocations,
    policy_loans,
)
from baoxian.billing.tables import payment_orders
from baoxian.outreach.tables import outreach_preferences
from baoxian.policies.tables import change_requests, parties, policies

GRACE_DAYS = 60
CREATED = datetime(2020, 1, 1, tzinfo=UTC)

TABLES: dict[str, Table] = {
    "parties": parties,
    "policies": policies,
    "instalments": billing_instalments,
    "loans": policy_loans,
    "payouts": benefit_payouts,
    "dividends": dividend_allocations,
    "statements": account_statements,
    "claim_reminders": claim_reminders,
    "payment_orders": payment_orders,
    "change_requests": change_requests,
    "preferences": outreach_preferences,
}
"""Where each generated frame is stored, in the order foreign keys need."""


def generate_book(
    n: int, run_date: date, seed: int = 2026, start: int = 0
) -> dict[str, pl.DataFrame]:
    """Frames named as :data:`TABLES`, each with its table's columns.  ``start`` numbers
    the policies from there, so a big book can be drawn in blocks (of a multiple of ten
    policies: each block then holds its own holders)."""
    if start % 10:
        raise ValueError("blocks start at a multiple of ten policies")
    rng = np.random.default_rng(seed)
    book = _policies(n, start, run_date, rng)
    holders = book["policies"].select("policy_number", "holder_id", "status", "term_start")
    book["instalments"] = _instalments(holders, run_date, rng)
    book["loans"] = _loans(holders, run_date, rng)
    book["payouts"] = _payouts(holders, run_date, rng)
    book["dividends"] = _dividends(holders, rng)
    book["statements"] = _statements(holders, rng)
    book["claim_reminders"] = _claim_reminders(holders, run_date, rng)
    book["payment_orders"] = _payment_orders(book["parties"], run_date, rng)
    book["change_requests"] = _change_requests(holders, run_date, rng)
    book["preferences"] = _preferences(book["parties"], rng)
    return book


def _pick(rng: np.random.Generator, n: int, share: float) -> np.ndarray[Any, Any]:
    return rng.random(n) < share


def _days(column: str | pl.Expr, offsets: np.ndarray[Any, Any]) -> pl.Expr:
    base = pl.col(column) if isinstance(column, str) else column
    return base + pl.duration(days=pl.lit(pl.Series(offsets)))


def _policies(
    n: int, start: int, run_date: date, rng: np.random.Generator
) -> dict[str, pl.DataFrame]:
    index = np.arange(start, start + n)
    holder = index * 7 // 10
    status = np.where(
        _pick(rng, n, 0.92),
        "in_force",
        rng.choice(np.array(["lapsed", "cancelled", "expired"]), n),
    )
    # the current policy year began up to a year before the run date
    started = rng.integers(0, 365, n)
    party_frame = pl.DataFrame({"i": np.unique(holder)}).select(
        pl.format("PTY{}", pl.col("i").cast(pl.String).str.zfill(12)).alias("party_id"),
        pl.lit("person").alias("kind"),
        pl.lit("客户").alias("name"),
        pl.lit("-").alias("id_number_enc"),
        pl.format("H{}", pl.col("i").cast(pl.String).str.zfill(12)).alias("id_hash"),
        pl.lit("-").alias("mobile_enc"),
        pl.lit("").alias("address"),
        pl.lit("110000").alias("region_code"),
        pl.lit(None, pl.Boolean).alias("has_basic_medical"),
        pl.lit(None, pl.String).alias("medical_insurance_city"),
        pl.lit(CREATED).alias("created_at"),
        pl.lit(None, pl.String).alias("mobile_hash"),
    )
    premium = rng.integers(500, 20_000, n) * 100 + rng.integers(0, 100, n)
    policy_frame = pl.DataFrame(
        {
            "i": index,
            "holder": holder,
            "status": status,
            "monthly": _pick(rng, n, 0.2),
            "premium": premium,
            "started": started,
        }
    ).select(
        pl.format("LIF{}", pl.col("i").cast(pl.String).str.zfill(12)).alias("policy_number"),
        pl.lit("LIFE-DEMO").alias("product_code"),
        pl.lit("2026").alias("plan_version"),
        pl.format("PTY{}", pl.col("holder").cast(pl.String).str.zfill(12)).alias("holder_id"),
        pl.col("status"),
        (pl.lit(run_date) - pl.duration(days=pl.col("started"))).alias("original_inception"),
        pl.lit(1).alias("term_no"),
        (pl.lit(run_date) - pl.duration(days=pl.col("started"))).alias("term_start"),
        (pl.lit(run_date) - pl.duration(days=pl.col("started")))
        .dt.offset_by("1y")
        .alias("term_end"),
        pl.lit(None, pl.Date).alias("ended_on"),
        pl.when(pl.col("monthly"))
        .then(pl.lit("monthly"))
        .otherwise(pl.lit("annual"))
        .alias("instalment"),
        pl.lit("[]").alias("riders"),
        pl.lit("[]").alias("optional_coverages"),
        pl.lit("{}").alias("selections"),
        pl.col("premium").alias("annual_premium_fen"),
        pl.col("premium").alias("premium_charged_fen"),
        pl.lit("-").alias("contact_mobile_enc"),
        pl.lit("").alias("contact_address"),
        pl.lit("[]").alias("beneficiaries"),
        pl.lit(False).alias("is_group"),
        pl.lit(1).alias("member_count"),
        pl.lit(0).alias("endorsement_count"),
        pl.lit(0).alias("version"),
        pl.lit(CREATED).alias("created_at"),
        pl.lit(CREATED).alias("updated_at"),
    )
    return {"parties": party_frame, "policies": policy_frame}


def _instalments(holders: pl.DataFrame, run_date: date, rng: np.random.Generator) -> pl.DataFrame:
    """The current policy year's premiums (12 monthly or 1 annual) and next year's first."""
    plans = pl.DataFrame(
        {
            "policy_number": holders["policy_number"],
            "term_start": holders["term_start"],
            "count": np.where(_pick(rng, holders.height, 0.2), 12, 1),
            "annual": rng.integers(500, 20_000, holders.height) * 100,
        }
    )
    rows = (
        plans.with_columns(pl.int_ranges(0, pl.col("count") + 1).alias("k"))
        .explode("k")
        .with_columns(
            (pl.col("k") + 1).alias("seq"),
            pl.col("term_start")
            .dt.offset_by(pl.format("{}mo", pl.col("k") * (12 // pl.col("count"))))
            .alias("due_on"),
            pl.when(pl.col("k") == 0)
            .then(pl.col("annual") - (pl.col("annual") // pl.col("count")) * (pl.col("count") - 1))
            .otherwise(pl.col("annual") // pl.col("count"))
            .alias("amount_fen"),
        )
    )
    m = rows.height
    fate = rng.random(m)
    past = pl.col("due_on") < pl.lit(run_date)
    grace_until = pl.col("due_on") + pl.duration(days=GRACE_DAYS)
    paid_on = _days("due_on", -rng.integers(0, 10, m))
    rows = rows.with_columns(pl.Series("fate", fate), grace_until.alias("grace_until"))
    # past premiums: 90 % paid, 3 % part-paid, the rest unpaid (in grace or lapsed);
    # future ones: 3 % paid early, 2 % part-paid, 2 % waived
    settled = (past & (pl.col("fate") < 0.90)) | (~past & (pl.col("fate") < 0.03))
    part = (past & pl.col("fate").is_between(0.90, 0.93)) | (
        ~past & pl.col("fate").is_between(0.03, 0.05)
    )
    waived = ~past & pl.col("fate").is_between(0.05, 0.07)
    status = (
        pl.when(settled)
        .then(pl.lit("paid"))
        .when(waived)
        .then(pl.lit("waived"))
        .when(~past)
        .then(pl.lit("due"))
        .when(pl.col("grace_until") >= pl.lit(run_date))
        .then(pl.lit("in_grace"))
        .otherwise(pl.lit("lapsed"))
    )
    paid_fen = (
        pl.when(settled)
        .then(pl.col("amount_fen"))
        .when(part)
        .then(pl.col("amount_fen") // 2)
        .otherwise(0)
    )
    return rows.select(
        "policy_number",
        pl.col("seq").cast(pl.Int32),
        "due_on",
        "amount_fen",
        paid_fen.alias("paid_fen"),
        pl.when(settled | part).then(paid_on).otherwise(None).alias("paid_on"),
        pl.when(settled | part).then(pl.lit("customer")).otherwise(None).alias("paid_by"),
        "grace_until",
        status.alias("status"),
    )


def _loans(holders: pl.DataFrame, run_date: date, rng: np.random.Generator) -> pl.DataFrame:
    """Policy loans of 5 % of policies (6-month terms), automatic premium loans of 1 %."""
    n = holders.height
    takes = _pick(rng, n, 0.05)
    apl = _pick(rng, n, 0.01)
    borrowers = holders.filter(pl.Series(takes)).select("policy_number")
    apl_holders = holders.filter(pl.Series(apl)).select("policy_number")
    loans = pl.concat(
        [
            borrowers.with_columns(pl.lit("policy_loan").alias("kind")),
            apl_holders.with_columns(pl.lit("auto_premium_loan").alias("kind")),
        ]
    )
    m = loans.height
    drawn_back = np.where(
        loans["kind"].to_numpy() == "auto_premium_loan",
        rng.integers(0, 20, m),
        rng.integers(150, 230, m),
    )
    fate = rng.random(m)
    principal = rng.integers(100, 50_000, m) * 100 + rng.integers(0, 100, m)
    loans = loans.with_columns(
        pl.format(
            "{}-{}", "policy_number", pl.when(pl.col("kind") == "policy_loan").then(1).otherwise(2)
        ).alias("loan_id"),
        pl.Series("principal_fen", principal),
        pl.Series("annual_rate_bp", rng.choice(np.array([500, 525, 550]), m)),
        (pl.lit(run_date) - pl.duration(days=pl.lit(pl.Series(drawn_back)))).alias("start_on"),
        pl.Series("fate", fate),
    ).with_columns(pl.col("start_on").dt.offset_by("6mo").alias("due_on"))
    past_due = pl.col("due_on") < pl.lit(run_date)
    repaid = (
        pl.when(pl.col("fate") < 0.10)
        .then(pl.col("principal_fen"))
        .when(pl.col("fate") < 0.20)
        .then(pl.col("principal_fen") // 3)
        .otherwise(0)
    )
    status = (
        pl.when(pl.col("fate") < 0.10)
        .then(pl.lit("repaid"))
        .when(pl.col("fate") > 0.97)
        .then(pl.lit("renewed"))
        .when(past_due & (pl.col("fate") < 0.80))
        .then(pl.lit("overdue"))
        .otherwise(pl.lit("open"))  # some stay "open" after the due date: stale status
    )
    failed = past_due | (pl.col("due_on") == pl.lit(run_date))
    failed_renewal = failed & pl.col("fate").is_between(0.5, 0.8)
    code = (
        pl.when(pl.col("fate") < 0.6)
        .then(pl.lit("billing.renewal_exceeds_limit"))
        .when(pl.col("fate") < 0.7)
        .then(pl.lit("billing.renewal_policy_not_in_force"))
        .otherwise(None)
    )
    return loans.select(
        "loan_id",
        "policy_number",
        "kind",
        "principal_fen",
        pl.col("annual_rate_bp").cast(pl.Int32),
        "start_on",
        "due_on",
        repaid.alias("repaid_fen"),
        (pl.col("principal_fen") // 50).alias("interest_paid_fen"),
        status.alias("status"),
        pl.when(failed_renewal).then(pl.col("due_on")).otherwise(None).alias("renewal_failed_on"),
        pl.when(failed_renewal).then(code).otherwise(None).alias("renewal_failure_code"),
    )


def _payouts(holders: pl.DataFrame, run_date: date, rng: np.random.Generator) -> pl.DataFrame:
    """Monthly pensions (1 % of policies, the last 3 months and the next) and yearly
    survival benefits (2 %) around the run date; the older ones mostly collected."""
    n = holders.height
    pensions = holders.filter(pl.Series(_pick(rng, n, 0.01))).select("policy_number")
    pensions = pensions.with_columns(
        pl.lit("annuity").alias("kind"),
        pl.Series("day", rng.integers(0, 28, pensions.height)),
        pl.lit([0, 1, 2, 3]).alias("k"),
    ).explode("k")
    pensions = pensions.with_columns(
        (pl.lit(run_date) - pl.duration(days=pl.col("day")))
        .dt.offset_by(pl.format("-{}mo", pl.col("k")))
        .alias("due_on")
    )
    survival = holders.filter(pl.Series(_pick(rng, n, 0.02))).select("policy_number")
    survival = survival.with_columns(
        pl.lit("survival").alias("kind"),
        (
            pl.lit(run_date)
            + pl.duration(days=pl.lit(pl.Series(rng.integers(-60, 10, survival.height))))
        ).alias("due_on"),
    )
    rows = pl.concat([pensions.select("policy_number", "kind", "due_on"), survival])
    m = rows.height
    age = (pl.lit(run_date) - pl.col("due_on")).dt.total_days()
    collected = (pl.col("due_on") <= pl.lit(run_date)) & (
        pl.Series(rng.random(m)) < pl.when(age > 20).then(0.8).otherwise(0.3)
    )
    return rows.select(
        pl.format(
            "{}:{}:{}", "policy_number", "kind", pl.col("due_on").dt.to_string("%Y-%m-%d")
        ).alias("payout_id"),
        "policy_number",
        "kind",
        "due_on",
        pl.Series("amount_fen", rng.integers(100, 8_000, m) * 100),
        pl.when(collected)
        .then(pl.lit("collected"))
        .otherwise(pl.lit("collectable"))
        .alias("status"),
        pl.when(collected).then(pl.col("due_on")).otherwise(None).alias("collected_on"),
    )


def _dividends(holders: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Participating policies (20 %): a dividend on the policy anniversary (some zero)."""
    rows = holders.filter(pl.Series(_pick(rng, holders.height, 0.2)))
    m = rows.height
    return rows.select(
        "policy_number",
        pl.lit(3).cast(pl.Int32).alias("policy_year"),
        pl.Series("amount_fen", np.where(_pick(rng, m, 0.02), 0, rng.integers(1, 500_000, m))),
        pl.Series("option", rng.choice(np.array(["cash", "accumulate"]), m)),
        pl.col("term_start").alias("allocated_on"),
    )


def _statements(holders: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Account-type policies (10 %): the last policy year's report a week after the
    anniversary."""
    rows = holders.filter(pl.Series(_pick(rng, holders.height, 0.1)))
    m = rows.height
    opening = rng.integers(0, 50_000_000, m)
    return rows.select(
        "policy_number",
        pl.lit(2).cast(pl.Int32).alias("statement_year"),
        (pl.col("term_start") + pl.duration(days=7)).alias("ready_on"),
        pl.Series("opening_fen", opening),
        pl.Series("closing_fen", opening + rng.integers(0, 2_000_000, m)),
    )


def _claim_reminders(
    holders: pl.DataFrame, run_date: date, rng: np.random.Generator
) -> pl.DataFrame:
    rows = holders.filter(pl.Series(_pick(rng, holders.height, 0.005)))
    m = rows.height
    return rows.select(
        pl.format("RM-{}", "policy_number").alias("reminder_id"),
        pl.format("JS-{}", "policy_number").alias("settlement_no"),
        pl.col("holder_id").alias("party_id"),
        "policy_number",
        pl.lit("").alias("insured_key"),
        pl.Series("kind", rng.choice(np.array(["inpatient", "pharmacy", "outpatient"]), m)),
        (pl.lit(run_date) - pl.duration(days=pl.lit(pl.Series(rng.integers(10, 60, m))))).alias(
            "loss_date"
        ),
        pl.Series("amount_fen", rng.integers(0, 3_000_000, m)),
        pl.lit("settlement-202612.csv").alias("source_file"),
        (pl.lit(run_date) - pl.duration(days=pl.lit(pl.Series(rng.integers(0, 4, m))))).alias(
            "created_on"
        ),
    )


def _instants(run_date: date, rng: np.random.Generator, m: int) -> pl.Series:
    """Instants from four days before the run date to its end (China time)."""
    end = datetime(run_date.year, run_date.month, run_date.day, 16, 0, tzinfo=UTC)
    seconds = rng.integers(0, 5 * 86_400, m)
    return pl.Series([end - timedelta(seconds=int(s)) for s in seconds]).cast(
        pl.Datetime("us", "UTC")
    )


def _payment_orders(party: pl.DataFrame, run_date: date, rng: np.random.Generator) -> pl.DataFrame:
    rows = party.filter(pl.Series(_pick(rng, party.height, 0.005))).select("party_id")
    m = rows.height
    created = _instants(run_date, rng, m)
    return rows.select(
        pl.format("ORD-{}", "party_id").alias("order_id"),
        pl.format("Q-{}", "party_id").alias("quote_id"),
        pl.col("party_id").alias("payer_id"),
        pl.Series("amount_fen", rng.integers(100, 1_000_000, m)),
        pl.Series("status", rng.choice(np.array(["pending", "declined", "paid", "charging"]), m)),
        pl.lit(1).alias("attempts"),
        pl.lit(1).alias("version"),
        pl.lit(None, pl.String).alias("reference"),
        pl.lit(None, pl.String).alias("decline_code"),
        pl.lit("").alias("decline_zh"),
        pl.lit("").alias("decline_en"),
        pl.lit(None, pl.String).alias("policy_number"),
        created.alias("created_at"),
        created.alias("updated_at"),
    )


def _change_requests(
    holders: pl.DataFrame, run_date: date, rng: np.random.Generator
) -> pl.DataFrame:
    rows = holders.filter(pl.Series(_pick(rng, holders.height, 0.005))).select("policy_number")
    m = rows.height
    created = _instants(run_date, rng, m)
    kinds = np.array(["contact", "beneficiary", "vehicle_details", "site_details"])
    return rows.select(
        pl.format("CR-{}", "policy_number").alias("request_id"),
        "policy_number",
        pl.Series("kind", rng.choice(kinds, m)),
        pl.Series("status", rng.choice(np.array(["submitted", "applied", "pending_review"]), m)),
        pl.lit("-").alias("values_enc"),
        pl.Series("requested_by_kind", rng.choice(np.array(["customer", "staff"]), m)),
        pl.lit("-").alias("requested_by"),
        pl.lit(None, pl.Date).alias("effective"),
        pl.lit("").alias("comment"),
        pl.lit(None, pl.String).alias("decided_by"),
        created.alias("created_at"),
        created.alias("updated_at"),
        pl.lit(1).alias("version"),
    )


def _preferences(party: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    rows = party.filter(pl.Series(_pick(rng, party.height, 0.15))).select("party_id")
    m = rows.height
    channels = np.array(["sms", "email", "push", "webhook", "inbox"])
    return rows.select(
        "party_id",
        pl.Series("channel", rng.choice(channels, m)),
        pl.Series("locale", np.where(_pick(rng, m, 0.3), "en", "zh")),
        pl.Series("care", _pick(rng, m, 0.25)),
        pl.lit(None, pl.String).alias("address_enc"),
        pl.lit(CREATED).alias("updated_at"),
    )


# --------------------------------------------------------------------------- storing


def write_book(connection: Connection, book: Mapping[str, pl.DataFrame]) -> dict[str, int]:
    """Store the generated frames in the connection's transaction; rows written per table."""
    return {
        name: write_frame(connection, table, book[name])
        for name, table in TABLES.items()
        if name in book
    }


def write_frame(connection: Connection, table: Table, frame: pl.DataFrame) -> int:
    """One frame into ``table`` (its columns named as the table's): ``COPY`` as CSV on
    PostgreSQL, ``executemany`` of text values on SQLite (dates and instants as the
    SQLAlchemy types store them there)."""
    if frame.is_empty():
        return 0
    frame = frame.select([c.name for c in table.columns if c.name in frame.columns])
    if connection.dialect.name == "postgresql":
        return _copy_in(connection, table, frame)
    text_frame = frame.with_columns(
        [
            pl.col(name).dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%d %H:%M:%S.%6f")
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.Datetime)
        ]
        + [
            pl.col(name).dt.to_string("%Y-%m-%d")
            for name, dtype in frame.schema.items()
            if dtype == pl.Date()
        ]
        + [
            pl.col(name).cast(pl.Int8)
            for name, dtype in frame.schema.items()
            if dtype == pl.Boolean()
        ]
    )
    names = ", ".join(frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
    driver: Any = connection.connection.driver_connection
    cursor = driver.cursor()
    try:
        for chunk in text_frame.iter_slices(200_000):
            cursor.executemany(sql, chunk.iter_rows())
    finally:
        cursor.close()
    return frame.height


def _copy_in(connection: Connection, table: Table, frame: pl.DataFrame) -> int:
    names = ", ".join(frame.columns)
    driver: Any = connection.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {table.name} ({names}) FROM STDIN (FORMAT CSV)") as copy,
    ):
        for chunk in frame.iter_slices(500_000):
            buffer = io.BytesIO()
            chunk.write_csv(
                buffer,
                include_header=False,
                datetime_format="%Y-%m-%d %H:%M:%S%.f%z",
                null_value="",
            )
            copy.write(buffer.getvalue())
    return frame.height


__all__ = ["TABLES", "generate_book", "write_book", "write_frame"]
