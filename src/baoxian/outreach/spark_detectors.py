"""The same 主动服务 detectors on Apache Spark (PySpark DataFrame API), for books beyond one
machine.

Every rule, stage, template and key comes from :mod:`baoxian.outreach.notice_specs`, exactly
as in :mod:`baoxian.outreach.detectors`; the parity test runs both on one generated book and
requires identical notice sets, column by column.  The session must keep time in UTC
(``spark.sql.session.timeZone=UTC``, what :func:`local_session` sets): instants are shown in
China time by converting explicitly.

A book goes to Spark as Parquet files (:func:`spark_book`), which is also how a book beyond
one machine would be handed over (a lake of ledger extracts); the notices come back the same
way (:func:`collect_notices`).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from pathlib import Path

import polars as pl
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from baoxian.outreach.detectors import NOTICE_SCHEMA, BookFrames, empty_notices
from baoxian.outreach.notice_specs import (
    ABANDONED,
    BENEFIT,
    CHANGE_KIND_NAMES,
    CLAIM_REMINDER,
    DEFAULT_CARE,
    DEFAULT_CHANNEL,
    DEFAULT_LOCALE,
    DIVIDEND,
    DIVIDEND_OPTION_NAMES,
    LOAN_OVERDUE,
    LOAN_RENEWAL_FAILED,
    LOAN_REPAYMENT,
    OTHER_NAME,
    PAYOUT_KIND_NAMES,
    PREMIUM_AUTO_LOAN,
    RENEWAL,
    RENEWAL_FAILURE_CODE,
    RENEWAL_FAILURE_OTHER,
    RENEWAL_FAILURES,
    REPORT,
    SETTLEMENT_KIND_NAMES,
    DetectorSettings,
    FieldKind,
    NoticeSpec,
    RunWindow,
    Stage,
    benefit_stages,
    loan_stages,
    parse_template,
    renewal_stages,
    run_window,
)

EPOCH = date(1970, 1, 1)
OPEN_LOAN = ("open", "overdue")
UNPAID_INSTALMENT = ("due", "in_grace")
SPARK_TYPES: dict[str, str] = {
    name: {"Boolean": "boolean", "Date": "date"}.get(str(dtype), "string")
    for name, dtype in NOTICE_SCHEMA.items()
}


def local_session(
    partitions: int = 4, driver_memory: str = "2g", app_name: str = "baoxian-outreach"
) -> SparkSession:
    """A local-mode session on this machine's cores, in UTC, without the web UI."""
    builder: SparkSession.Builder = SparkSession.builder
    return (
        builder.master("local[*]")
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.default.parallelism", str(partitions))
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.adaptive.enabled", "true")
        .getOrCreate()
    )


@dataclass(frozen=True, slots=True)
class SparkBook:
    """The book's frames as Spark DataFrames (same names and columns as
    :class:`~baoxian.outreach.detectors.BookFrames`)."""

    policies: DataFrame
    instalments: DataFrame
    loans: DataFrame
    payouts: DataFrame
    dividends: DataFrame
    statements: DataFrame
    claim_reminders: DataFrame
    abandoned: DataFrame
    preferences: DataFrame


def spark_book(spark: SparkSession, book: BookFrames, folder: Path) -> SparkBook:
    """Hand a book to Spark through Parquet files written under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    frames: dict[str, DataFrame] = {}
    for name, frame in book.collected().items():
        path = folder / f"{name}.parquet"
        frame.write_parquet(path)
        frames[name] = spark.read.parquet(str(path))
    return SparkBook(**frames)


def collect_notices(notices: DataFrame, folder: Path) -> pl.DataFrame:
    """The Spark notice frame as a Polars notice frame (through Parquet), sorted by key."""
    target = folder / "notices"
    if target.exists():
        shutil.rmtree(target)
    notices.write.parquet(str(target))
    parts = sorted(target.glob("*.parquet"))
    if not parts:
        return empty_notices()
    frame = pl.read_parquet(parts)
    return frame.select([pl.col(name).cast(dtype) for name, dtype in NOTICE_SCHEMA.items()]).sort(
        "dedup_key"
    )


# --------------------------------------------------------------------------- expressions


def money(column: str) -> Column:
    """Whole fen as ``1,234.50`` (amounts here are never negative)."""
    yuan = F.expr(f"CAST(`{column}` div 100 AS STRING)")
    grouped = F.reverse(
        F.regexp_replace(F.regexp_replace(F.reverse(yuan), r"(\d{3})", "$1,"), ",$", "")
    )
    cents = F.lpad((F.col(column) % 100).cast("string"), 2, "0")
    return F.concat(grouped, F.lit("."), cents)


def iso_date(column: str) -> Column:
    return F.date_format(F.col(column), "yyyy-MM-dd")


def china_minute(column: str) -> Column:
    return F.date_format(F.from_utc_timestamp(F.col(column), "Asia/Shanghai"), "yyyy-MM-dd HH:mm")


def utc_instant(column: str) -> Column:
    return F.date_format(F.col(column), "yyyy-MM-dd'T'HH:mm:ss'Z'")


def rate(column: str) -> Column:
    whole = F.expr(f"CAST(`{column}` div 100 AS STRING)")
    hundredths = F.lpad((F.col(column) % 100).cast("string"), 2, "0")
    return F.concat(whole, F.lit("."), hundredths, F.lit("%"))


_FORMATS = {"money": money, "date": iso_date, "minute": china_minute, "rate": rate}


def template(text: str) -> Column:
    pieces: list[Column] = []
    for part in parse_template(text):
        if part.literal:
            pieces.append(F.lit(part.literal))
        if part.field:
            show = _FORMATS.get(part.spec)
            pieces.append(show(part.field) if show else F.col(part.field).cast("string"))
    return F.concat(*pieces)


_DATA_KINDS = {
    "int": lambda c: F.col(c).cast("long"),
    "str": lambda c: F.col(c).cast("string"),
    "date": iso_date,
    "instant": utc_instant,
}


def data_json(spec_fields: tuple[tuple[str, FieldKind], ...]) -> Column:
    """The facts as canonical JSON: keys sorted, nulls kept, money in fen, dates ISO."""
    facts = F.struct(*[_DATA_KINDS[kind](name).alias(name) for name, kind in spec_fields])
    return F.to_json(facts, {"ignoreNullFields": "false"})


def named(column: str, names: Mapping[str, tuple[str, str]], language: int, other: str) -> Column:
    chain: Column | None = None
    for code, pair in names.items():
        test = F.col(column) == F.lit(code)
        chain = (
            F.when(test, F.lit(pair[language]))
            if chain is None
            else chain.when(test, F.lit(pair[language]))
        )
    return F.lit(other) if chain is None else chain.otherwise(F.lit(other))


def day_number(column: str) -> Column:
    return F.datediff(F.col(column), F.lit(EPOCH))


def render(frame: DataFrame, spec: NoticeSpec) -> DataFrame:
    wordings = spec.wordings
    if len(wordings) == 1:
        zh, en = template(wordings[0].zh), template(wordings[0].en)
    else:
        zh, en = _chosen(spec, "zh"), _chosen(spec, "en")
    code = (
        F.lit(wordings[0].reason_code)
        if len(wordings) == 1 and wordings[0].reason_code
        else F.col("reason_code")
    )
    policy = (
        F.col("policy_number") if "policy_number" in frame.columns else F.lit(None).cast("string")
    )
    due = F.col(spec.due_on) if spec.due_on else F.lit(None).cast("date")
    return frame.select(
        template(spec.key).alias("dedup_key"),
        F.lit(spec.scenario).alias("scenario"),
        F.col("party_id"),
        policy.alias("policy_number"),
        code.alias("reason_code"),
        zh.alias("reason_zh"),
        en.alias("reason_en"),
        data_json(spec.data_fields).alias("data"),
        due.alias("due_on"),
    )


def _chosen(spec: NoticeSpec, language: str) -> Column:
    chain: Column | None = None
    for wording in spec.wordings:
        test = F.col("reason_code") == F.lit(wording.reason_code)
        text = template(getattr(wording, language))
        chain = F.when(test, text) if chain is None else chain.when(test, text)
    assert chain is not None
    return chain.otherwise(F.lit(None).cast("string"))


def staged(frame: DataFrame, stages: tuple[Stage, ...], window: RunWindow) -> DataFrame:
    today, first = (window.run_date - EPOCH).days, (window.since - EPOCH).days
    ranks = [_stage_rank(stage, first, today) for stage in stages]
    if not ranks:
        return frame.limit(0).withColumns(
            {"stage": F.lit(None).cast("string"), "reason_code": F.lit(None).cast("string")}
        )
    best = ranks[0] if len(ranks) == 1 else F.greatest(*ranks)
    stage_code: Column = F.lit(None).cast("string")
    reason: Column = F.lit(None).cast("string")
    for stage, rank in zip(stages, ranks, strict=True):
        hit = rank == F.col("_best")
        stage_code = F.when(hit, F.lit(stage.code)).otherwise(stage_code)
        reason = F.when(hit, F.lit(stage.reason_code)).otherwise(reason)
    return (
        frame.withColumn("_best", best)
        .filter(F.col("_best").isNotNull())
        .withColumns({"stage": stage_code, "reason_code": reason})
        .drop("_best")
    )


def _stage_rank(stage: Stage, first: int, today: int) -> Column:
    trigger = day_number(stage.anchor) + F.lit(stage.offset)
    due = day_number("due_on")
    if stage.validity == "until_due":
        valid = due >= F.lit(today)
    elif stage.validity == "in_grace":
        valid = (due < F.lit(today)) & (day_number("grace_until") >= F.lit(today))
    else:
        valid = due <= F.lit(today)
    reached = trigger.between(F.lit(first), F.lit(today))
    return F.when(reached & valid, trigger * 16 + F.lit(stage.priority))


def within(column: str, window: RunWindow) -> Column:
    return F.col(column).between(F.lit(window.since), F.lit(window.run_date))


def holders(book: SparkBook) -> DataFrame:
    return book.policies.select(
        "policy_number", F.col("holder_id").alias("party_id"), F.col("status").alias("_status")
    )


def _holder_of(frame: DataFrame, book: SparkBook) -> DataFrame:
    return frame.join(holders(book).drop("_status"), on="policy_number", how="inner")


# --------------------------------------------------------------------------- scenarios


def renewal_due(book: SparkBook, window: RunWindow, settings: DetectorSettings) -> DataFrame:
    unpaid = book.instalments.filter(
        F.col("status").isin(*UNPAID_INSTALMENT) & (F.col("amount_fen") > F.col("paid_fen"))
    ).withColumn("outstanding_fen", F.col("amount_fen") - F.col("paid_fen"))
    in_force = holders(book).filter(F.col("_status") == "in_force").drop("_status")
    facts = unpaid.drop("status").join(in_force, on="policy_number", how="inner")
    return render(staged(facts, renewal_stages(settings), window), RENEWAL)


def _open_loans(book: SparkBook) -> DataFrame:
    owing = F.col("principal_fen") - F.col("repaid_fen")
    loans = book.loans.filter(F.col("status").isin(*OPEN_LOAN) & (owing > 0)).withColumn(
        "outstanding_fen", owing
    )
    return _holder_of(loans, book)


def loan_repayment_due(book: SparkBook, window: RunWindow, settings: DetectorSettings) -> DataFrame:
    return render(staged(_open_loans(book), loan_stages(settings), window), LOAN_REPAYMENT)


def loan_overdue(book: SparkBook, window: RunWindow, settings: DetectorSettings) -> DataFrame:
    overdue_from = F.date_add(F.col("due_on"), 1)
    overdue = _open_loans(book).filter(
        (F.col("due_on") < F.lit(window.run_date))
        & overdue_from.between(F.lit(window.since), F.lit(window.run_date))
    )
    return render(overdue, LOAN_OVERDUE)


def loan_renewal_failed(
    book: SparkBook, window: RunWindow, settings: DetectorSettings
) -> DataFrame:
    code = F.coalesce(F.col("renewal_failure_code"), F.lit(RENEWAL_FAILURE_CODE))
    failed = (
        _open_loans(book)
        .filter(within("renewal_failed_on", window))
        .withColumn("reason_code", code)
        .withColumns(
            {
                "failure_code": F.col("reason_code"),
                "why_zh": named("reason_code", RENEWAL_FAILURES, 0, RENEWAL_FAILURE_OTHER[0]),
                "why_en": named("reason_code", RENEWAL_FAILURES, 1, RENEWAL_FAILURE_OTHER[1]),
            }
        )
    )
    return render(failed, LOAN_RENEWAL_FAILED)


def premium_auto_loan(book: SparkBook, window: RunWindow, settings: DetectorSettings) -> DataFrame:
    drawn = book.loans.filter(
        (F.col("kind") == "auto_premium_loan")
        & F.col("start_on").between(F.lit(window.loans_drawn_since), F.lit(window.run_date))
    )
    return render(_holder_of(drawn, book), PREMIUM_AUTO_LOAN)


def _names(column: str, names: Mapping[str, tuple[str, str]], prefix: str) -> dict[str, Column]:
    return {
        f"{prefix}_zh": named(column, names, 0, OTHER_NAME[0]),
        f"{prefix}_en": named(column, names, 1, OTHER_NAME[1]),
    }


def benefit_collectable(
    book: SparkBook, window: RunWindow, settings: DetectorSettings
) -> DataFrame:
    ready = _holder_of(
        book.payouts.filter((F.col("status") == "collectable") & (F.col("amount_fen") > 0)), book
    ).withColumns(_names("kind", PAYOUT_KIND_NAMES, "kind"))
    return render(staged(ready, benefit_stages(settings), window), BENEFIT)


def dividend_allocated(book: SparkBook, window: RunWindow, settings: DetectorSettings) -> DataFrame:
    allocated = _holder_of(
        book.dividends.filter(within("allocated_on", window) & (F.col("amount_fen") > 0)), book
    ).withColumns(_names("option", DIVIDEND_OPTION_NAMES, "option"))
    return render(allocated, DIVIDEND)


def report_ready(book: SparkBook, window: RunWindow, settings: DetectorSettings) -> DataFrame:
    return render(_holder_of(book.statements.filter(within("ready_on", window)), book), REPORT)


def claim_reminder(book: SparkBook, window: RunWindow, settings: DetectorSettings) -> DataFrame:
    listed = book.claim_reminders.filter(
        within("created_on", window) & (F.col("amount_fen") > 0)
    ).withColumns(_names("kind", SETTLEMENT_KIND_NAMES, "kind"))
    return render(listed, CLAIM_REMINDER)


def abandoned_transaction(
    book: SparkBook, window: RunWindow, settings: DetectorSettings
) -> DataFrame:
    started = F.col("started_at")
    reason = F.when(
        F.col("kind") == "payment_order", F.lit("abandoned_transaction.payment")
    ).otherwise(F.lit("abandoned_transaction.change_request"))
    stalled = (
        book.abandoned.filter(
            (started >= _instant(window.abandoned_from))
            & (started <= _instant(window.abandoned_before))
        )
        .withColumn("reason_code", reason)
        .withColumns(_names("topic", CHANGE_KIND_NAMES, "topic"))
    )
    return render(stalled, ABANDONED)


def _instant(at: datetime) -> Column:
    """An instant as a timestamp literal (microseconds since the epoch, zone-free)."""
    micros = round(at.timestamp() * 1_000_000)
    return F.timestamp_micros(F.lit(micros))


DETECTORS = (
    renewal_due,
    benefit_collectable,
    loan_repayment_due,
    loan_overdue,
    loan_renewal_failed,
    dividend_allocated,
    report_ready,
    premium_auto_loan,
    claim_reminder,
    abandoned_transaction,
)


def detect_all_spark(
    book: SparkBook,
    run_date: date,
    settings: DetectorSettings | None = None,
    *,
    since: date | None = None,
    run_at: datetime | None = None,
) -> DataFrame:
    """Every notice of the run on ``run_date`` as a Spark DataFrame with the notice frame's
    columns (unsorted; :func:`collect_notices` sorts)."""
    session = book.policies.sparkSession
    zone = session.conf.get("spark.sql.session.timeZone")
    if zone not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
        raise ValueError(f"the Spark session must run in UTC (spark.sql.session.timeZone={zone})")
    settings = settings or DetectorSettings()
    window = run_window(run_date, settings, since, run_at)
    found = reduce(DataFrame.unionByName, [detect(book, window, settings) for detect in DETECTORS])
    preferences = book.preferences.select("party_id", "channel", "locale", "care")
    notices = found.join(preferences, on="party_id", how="left").withColumns(
        {
            "channel": F.coalesce(F.col("channel"), F.lit(DEFAULT_CHANNEL)),
            "locale": F.coalesce(F.col("locale"), F.lit(DEFAULT_LOCALE)),
            "care": F.coalesce(F.col("care"), F.lit(DEFAULT_CARE)),
            "run_date": F.lit(run_date),
        }
    )
    return notices.select([F.col(name).cast(kind) for name, kind in SPARK_TYPES.items()])


__all__ = [
    "SparkBook",
    "collect_notices",
    "detect_all_spark",
    "local_session",
    "spark_book",
]
