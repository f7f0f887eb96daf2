"""主动服务 detectors on Polars — pure and set-based: the book's facts in, the notice frame out.

Each scenario is one function over the book's lazy frames; :func:`detect_all` runs them all
and returns the *notice frame* (schema :data:`NOTICE_SCHEMA`), which the outbox writer
inserts with ``ON CONFLICT (dedup_key) DO NOTHING``.  The wording, the dedup keys and the
reminder stages come from :mod:`baoxian.outreach.notice_specs`, which the Spark detectors
share, so both engines give the same notices on the same book (tested).

The rules:

* 续期交费 — unpaid instalments (status ``due`` / ``in_grace``, something outstanding) of
  policies in force: 15 and 3 days before the due date, the day after it, and 7 days before
  the grace period ends (:class:`~baoxian.outreach.notice_specs.DetectorSettings`).  A lapsed
  policy, a paid, lapsed or waived instalment is never reminded.
* 还款提醒 / 贷款逾期 — open loans with principal outstanding: before the due date; once per
  overdue spell, the day it begins (the key holds the due date, so a renewal starts a new
  spell).
* 续贷失败 — a renewal that failed on a day of the look-back (``since``..run date).
* 红利分配 / 投资报告 / 保单垫交 / 理赔提醒 — facts dated within the look-back.
* 给付领取 — a pay-out collectable from its due date, and again after 30 days uncollected.
* 断点介入 — a payment or change request started at least two hours before the run and not
  finished.

Every rule speaks on the days of the run's look-back (``since``..run date, by default the run
date alone): a stage whose day falls in it and that still applies on the run date, a fact
dated in it.  Of several stages of one fact in a long look-back only the latest is sent.
Every stage, overdue spell or dated fact has its own dedup key, so re-running a day, or
catching up missed days with ``since``, notifies nobody twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime

import polars as pl

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
    NOTICE_COLUMNS,
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
UTC_INSTANT = pl.Datetime("us", "UTC")

NOTICE_SCHEMA: dict[str, pl.DataType] = {
    "dedup_key": pl.String(),
    "scenario": pl.String(),
    "party_id": pl.String(),
    "policy_number": pl.String(),
    "channel": pl.String(),
    "locale": pl.String(),
    "care": pl.Boolean(),
    "reason_code": pl.String(),
    "reason_zh": pl.String(),
    "reason_en": pl.String(),
    "data": pl.String(),
    "due_on": pl.Date(),
    "run_date": pl.Date(),
}
assert tuple(NOTICE_SCHEMA) == NOTICE_COLUMNS

BOOK_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "policies": {"policy_number": pl.String(), "holder_id": pl.String(), "status": pl.String()},
    "instalments": {
        "policy_number": pl.String(),
        "seq": pl.Int64(),
        "due_on": pl.Date(),
        "amount_fen": pl.Int64(),
        "paid_fen": pl.Int64(),
        "grace_until": pl.Date(),
        "status": pl.String(),
    },
    "loans": {
        "loan_id": pl.String(),
        "policy_number": pl.String(),
        "kind": pl.String(),
        "principal_fen": pl.Int64(),
        "annual_rate_bp": pl.Int64(),
        "start_on": pl.Date(),
        "due_on": pl.Date(),
        "repaid_fen": pl.Int64(),
        "status": pl.String(),
        "renewal_failed_on": pl.Date(),
        "renewal_failure_code": pl.String(),
    },
    "payouts": {
        "payout_id": pl.String(),
        "policy_number": pl.String(),
        "kind": pl.String(),
        "due_on": pl.Date(),
        "amount_fen": pl.Int64(),
        "status": pl.String(),
    },
    "dividends": {
        "policy_number": pl.String(),
        "policy_year": pl.Int64(),
        "amount_fen": pl.Int64(),
        "option": pl.String(),
        "allocated_on": pl.Date(),
    },
    "statements": {
        "policy_number": pl.String(),
        "statement_year": pl.Int64(),
        "ready_on": pl.Date(),
        "opening_fen": pl.Int64(),
        "closing_fen": pl.Int64(),
    },
    "claim_reminders": {
        "settlement_no": pl.String(),
        "party_id": pl.String(),
        "policy_number": pl.String(),
        "kind": pl.String(),
        "loss_date": pl.Date(),
        "amount_fen": pl.Int64(),
        "created_on": pl.Date(),
    },
    "abandoned": {
        "kind": pl.String(),  # payment_order / change_request
        "ref_id": pl.String(),
        "party_id": pl.String(),
        "policy_number": pl.String(),
        "topic": pl.String(),  # payment, or the change request's kind
        "amount_fen": pl.Int64(),
        "started_at": UTC_INSTANT,
    },
    "preferences": {
        "party_id": pl.String(),
        "channel": pl.String(),
        "locale": pl.String(),
        "care": pl.Boolean(),
    },
}
"""The columns of each input frame of the book (extra columns are dropped)."""

OPEN_LOAN = ("open", "overdue")
UNPAID_INSTALMENT = ("due", "in_grace")


@dataclass(frozen=True, slots=True)
class BookFrames:
    """The book as lazy frames, one per fact table (schemas: :data:`BOOK_SCHEMAS`).

    ``policies`` gives each policy's holder (who is told) and status; ``claim_reminders``
    and ``abandoned`` name their party themselves; ``preferences`` holds the channel,
    locale and 关爱版 flag of the parties that chose them."""

    policies: pl.LazyFrame
    instalments: pl.LazyFrame
    loans: pl.LazyFrame
    payouts: pl.LazyFrame
    dividends: pl.LazyFrame
    statements: pl.LazyFrame
    claim_reminders: pl.LazyFrame
    abandoned: pl.LazyFrame
    preferences: pl.LazyFrame

    @classmethod
    def of(cls, **frames: pl.DataFrame | pl.LazyFrame) -> BookFrames:
        """A book from frames named as the fields; a missing one is empty.  Every frame is
        cast to its schema and its columns put in order."""
        unknown = set(frames) - set(BOOK_SCHEMAS)
        if unknown:
            raise ValueError(f"unknown book frames: {', '.join(sorted(unknown))}")
        return cls(**{name: conform(name, frames.get(name)) for name in BOOK_SCHEMAS})

    def collected(self) -> dict[str, pl.DataFrame]:
        """Every frame collected (for handing the book to another engine)."""
        return {f.name: getattr(self, f.name).collect() for f in fields(self)}


def conform(name: str, frame: pl.DataFrame | pl.LazyFrame | None) -> pl.LazyFrame:
    """``frame`` with exactly the columns and types of the book frame ``name``."""
    schema = BOOK_SCHEMAS[name]
    if frame is None:
        return pl.LazyFrame(schema=schema)
    lazy = frame.lazy()
    return lazy.select([pl.col(column).cast(dtype) for column, dtype in schema.items()])


# --------------------------------------------------------------------------- expressions


def money(column: str) -> pl.Expr:
    """Whole fen as ``1,234.50`` (amounts here are never negative)."""
    yuan = (
        (pl.col(column) // 100)
        .cast(pl.String)
        .str.reverse()
        .str.replace_all(r"(\d{3})", "${1},")
        .str.strip_suffix(",")
        .str.reverse()
    )
    cents = (pl.col(column) % 100).cast(pl.String).str.zfill(2)
    return pl.concat_str([yuan, pl.lit("."), cents])


def iso_date(column: str) -> pl.Expr:
    return pl.col(column).dt.to_string("%Y-%m-%d")


def china_minute(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone("Asia/Shanghai").dt.to_string("%Y-%m-%d %H:%M")


def utc_instant(column: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%SZ")


def rate(column: str) -> pl.Expr:
    whole = (pl.col(column) // 100).cast(pl.String)
    hundredths = (pl.col(column) % 100).cast(pl.String).str.zfill(2)
    return pl.concat_str([whole, pl.lit("."), hundredths, pl.lit("%")])


_FORMATS = {"money": money, "date": iso_date, "minute": china_minute, "rate": rate}


def template(text: str) -> pl.Expr:
    """A template of :mod:`~baoxian.outreach.notice_specs` as a string expression."""
    pieces: list[pl.Expr] = []
    for part in parse_template(text):
        if part.literal:
            pieces.append(pl.lit(part.literal))
        if part.field:
            show = _FORMATS.get(part.spec)
            pieces.append(show(part.field) if show else pl.col(part.field).cast(pl.String))
    return pl.concat_str(pieces)


_DATA_KINDS = {
    "int": lambda c: pl.col(c).cast(pl.Int64),
    "str": lambda c: pl.col(c).cast(pl.String),
    "date": iso_date,
    "instant": utc_instant,
}


def data_json(spec_fields: tuple[tuple[str, FieldKind], ...]) -> pl.Expr:
    """The facts as canonical JSON: keys sorted, money in fen, dates ISO."""
    facts = pl.struct([_DATA_KINDS[kind](name).alias(name) for name, kind in spec_fields])
    return facts.struct.json_encode()


def named(column: str, names: Mapping[str, tuple[str, str]], language: int) -> pl.Expr:
    """A code's Chinese (0) or English (1) name; unknown codes are 其他 / other."""
    return pl.col(column).replace_strict(
        {code: pair[language] for code, pair in names.items()},
        default=pl.lit(OTHER_NAME[language]),
        return_dtype=pl.String,
    )


def day_number(column: str) -> pl.Expr:
    """Days since 1970-01-01."""
    return pl.col(column).cast(pl.Int32).cast(pl.Int64)


def render(frame: pl.LazyFrame, spec: NoticeSpec) -> pl.LazyFrame:
    """The notices of ``frame``'s facts (which carry ``party_id`` and, when the spec has
    several wordings or none of its own code, ``reason_code``)."""
    wordings = spec.wordings
    if len(wordings) == 1:
        zh, en = template(wordings[0].zh), template(wordings[0].en)
    else:
        zh, en = _chosen(spec, "zh"), _chosen(spec, "en")
    code = (
        pl.lit(wordings[0].reason_code)
        if len(wordings) == 1 and wordings[0].reason_code
        else pl.col("reason_code")
    )
    policy = pl.col("policy_number") if "policy_number" in frame.collect_schema() else None
    return frame.select(
        template(spec.key).alias("dedup_key"),
        pl.lit(spec.scenario).alias("scenario"),
        pl.col("party_id"),
        (policy if policy is not None else pl.lit(None, pl.String)).alias("policy_number"),
        code.alias("reason_code"),
        zh.alias("reason_zh"),
        en.alias("reason_en"),
        data_json(spec.data_fields).alias("data"),
        (pl.col(spec.due_on) if spec.due_on else pl.lit(None, pl.Date)).alias("due_on"),
    )


def _chosen(spec: NoticeSpec, language: str) -> pl.Expr:
    chosen = pl.lit(None, pl.String)
    for wording in spec.wordings:
        text = template(getattr(wording, language))
        chosen = pl.when(pl.col("reason_code") == wording.reason_code).then(text).otherwise(chosen)
    return chosen


def staged(frame: pl.LazyFrame, stages: tuple[Stage, ...], window: RunWindow) -> pl.LazyFrame:
    """Each fact with the latest of ``stages`` reached on a day of the look-back and still
    valid on the run date (columns ``stage`` and ``reason_code``); facts with none are
    dropped."""
    today, first = (window.run_date - EPOCH).days, (window.since - EPOCH).days
    ranks = [_stage_rank(stage, first, today) for stage in stages]
    best = pl.max_horizontal(ranks) if ranks else pl.lit(None, pl.Int64)
    stage_code = pl.lit(None, pl.String)
    reason = pl.lit(None, pl.String)
    for stage, rank in zip(stages, ranks, strict=True):
        hit = rank == pl.col("_best")
        stage_code = pl.when(hit).then(pl.lit(stage.code)).otherwise(stage_code)
        reason = pl.when(hit).then(pl.lit(stage.reason_code)).otherwise(reason)
    return (
        frame.with_columns(best.alias("_best"))
        .filter(pl.col("_best").is_not_null())
        .with_columns(stage_code.alias("stage"), reason.alias("reason_code"))
        .drop("_best")
    )


def _stage_rank(stage: Stage, first: int, today: int) -> pl.Expr:
    trigger = day_number(stage.anchor) + stage.offset
    due = day_number("due_on")
    valid = {
        "until_due": due >= today,
        "in_grace": (due < today) & (day_number("grace_until") >= today),
        "from_due": due <= today,
    }[stage.validity]
    reached = trigger.is_between(first, today)
    return pl.when(reached & valid).then(trigger * 16 + stage.priority)


def within(column: str, window: RunWindow) -> pl.Expr:
    return within_expr(pl.col(column), window)


def within_expr(day: pl.Expr, window: RunWindow) -> pl.Expr:
    return day.is_between(pl.lit(window.since), pl.lit(window.run_date))


def holders(book: BookFrames) -> pl.LazyFrame:
    return book.policies.select("policy_number", pl.col("holder_id").alias("party_id"), "status")


# --------------------------------------------------------------------------- scenarios


def renewal_due(book: BookFrames, window: RunWindow, settings: DetectorSettings) -> pl.LazyFrame:
    """续期交费: unpaid instalments of policies in force."""
    unpaid = book.instalments.filter(
        pl.col("status").is_in(UNPAID_INSTALMENT), pl.col("amount_fen") > pl.col("paid_fen")
    ).with_columns((pl.col("amount_fen") - pl.col("paid_fen")).alias("outstanding_fen"))
    in_force = holders(book).filter(pl.col("status") == "in_force").drop("status")
    facts = unpaid.drop("status").join(in_force, on="policy_number", how="inner")
    return render(staged(facts, renewal_stages(settings), window), RENEWAL)


def _open_loans(book: BookFrames) -> pl.LazyFrame:
    owing = pl.col("principal_fen") - pl.col("repaid_fen")
    return (
        book.loans.filter(pl.col("status").is_in(OPEN_LOAN), owing > 0)
        .with_columns(owing.alias("outstanding_fen"))
        .join(holders(book).drop("status"), on="policy_number", how="inner")
    )


def loan_repayment_due(
    book: BookFrames, window: RunWindow, settings: DetectorSettings
) -> pl.LazyFrame:
    """还款提醒: open loans before their due date."""
    return render(staged(_open_loans(book), loan_stages(settings), window), LOAN_REPAYMENT)


def loan_overdue(book: BookFrames, window: RunWindow, settings: DetectorSettings) -> pl.LazyFrame:
    """贷款逾期: open loans that fell overdue (the day after the due date) within the
    look-back — once per loan and due date."""
    overdue_from = pl.col("due_on") + pl.duration(days=1)
    overdue = _open_loans(book).filter(
        pl.col("due_on") < pl.lit(window.run_date), within_expr(overdue_from, window)
    )
    return render(overdue, LOAN_OVERDUE)


def loan_renewal_failed(
    book: BookFrames, window: RunWindow, settings: DetectorSettings
) -> pl.LazyFrame:
    """续贷失败: a renewal refused within the look-back, the loan still open."""
    failed = (
        _open_loans(book)
        .filter(within("renewal_failed_on", window))
        .with_columns(
            pl.col("renewal_failure_code").fill_null(RENEWAL_FAILURE_CODE).alias("reason_code")
        )
        .with_columns(
            pl.col("reason_code").alias("failure_code"),
            named_failure(0).alias("why_zh"),
            named_failure(1).alias("why_en"),
        )
    )
    return render(failed, LOAN_RENEWAL_FAILED)


def named_failure(language: int) -> pl.Expr:
    return pl.col("reason_code").replace_strict(
        {code: pair[language] for code, pair in RENEWAL_FAILURES.items()},
        default=pl.lit(RENEWAL_FAILURE_OTHER[language]),
        return_dtype=pl.String,
    )


def premium_auto_loan(
    book: BookFrames, window: RunWindow, settings: DetectorSettings
) -> pl.LazyFrame:
    """保单垫交: an automatic premium loan drawn within the look-back (from the day before,
    ``RunWindow.loans_drawn_since``)."""
    drawn = book.loans.filter(
        pl.col("kind") == "auto_premium_loan",
        pl.col("start_on").is_between(pl.lit(window.loans_drawn_since), pl.lit(window.run_date)),
    ).join(holders(book).drop("status"), on="policy_number", how="inner")
    return render(drawn, PREMIUM_AUTO_LOAN)


def benefit_collectable(
    book: BookFrames, window: RunWindow, settings: DetectorSettings
) -> pl.LazyFrame:
    """给付领取: pay-outs that can be collected and are not yet."""
    ready = (
        book.payouts.filter(pl.col("status") == "collectable", pl.col("amount_fen") > 0)
        .join(holders(book).drop("status"), on="policy_number", how="inner")
        .with_columns(
            named("kind", PAYOUT_KIND_NAMES, 0).alias("kind_zh"),
            named("kind", PAYOUT_KIND_NAMES, 1).alias("kind_en"),
        )
    )
    return render(staged(ready, benefit_stages(settings), window), BENEFIT)


def dividend_allocated(
    book: BookFrames, window: RunWindow, settings: DetectorSettings
) -> pl.LazyFrame:
    """红利分配: dividends allocated within the look-back (a zero dividend says nothing)."""
    allocated = (
        book.dividends.filter(within("allocated_on", window), pl.col("amount_fen") > 0)
        .join(holders(book).drop("status"), on="policy_number", how="inner")
        .with_columns(
            named("option", DIVIDEND_OPTION_NAMES, 0).alias("option_zh"),
            named("option", DIVIDEND_OPTION_NAMES, 1).alias("option_en"),
        )
    )
    return render(allocated, DIVIDEND)


def report_ready(book: BookFrames, window: RunWindow, settings: DetectorSettings) -> pl.LazyFrame:
    """投资报告: account statements ready within the look-back."""
    ready = book.statements.filter(within("ready_on", window)).join(
        holders(book).drop("status"), on="policy_number", how="inner"
    )
    return render(ready, REPORT)


def claim_reminder(book: BookFrames, window: RunWindow, settings: DetectorSettings) -> pl.LazyFrame:
    """理赔提醒: members the 医保 settlement import listed within the look-back."""
    listed = book.claim_reminders.filter(
        within("created_on", window), pl.col("amount_fen") > 0
    ).with_columns(
        named("kind", SETTLEMENT_KIND_NAMES, 0).alias("kind_zh"),
        named("kind", SETTLEMENT_KIND_NAMES, 1).alias("kind_en"),
    )
    return render(listed, CLAIM_REMINDER)


def abandoned_transaction(
    book: BookFrames, window: RunWindow, settings: DetectorSettings
) -> pl.LazyFrame:
    """断点介入: transactions started in the window and not finished."""
    started = pl.col("started_at")
    stalled = book.abandoned.filter(
        started >= pl.lit(window.abandoned_from).cast(UTC_INSTANT),
        started <= pl.lit(window.abandoned_before).cast(UTC_INSTANT),
    ).with_columns(
        pl.when(pl.col("kind") == "payment_order")
        .then(pl.lit("abandoned_transaction.payment"))
        .otherwise(pl.lit("abandoned_transaction.change_request"))
        .alias("reason_code"),
        named("topic", CHANGE_KIND_NAMES, 0).alias("topic_zh"),
        named("topic", CHANGE_KIND_NAMES, 1).alias("topic_en"),
    )
    return render(stalled, ABANDONED)


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


# --------------------------------------------------------------------------- all together


def detect_all(
    book: BookFrames,
    run_date: date,
    settings: DetectorSettings | None = None,
    *,
    since: date | None = None,
    run_at: datetime | None = None,
) -> pl.DataFrame:
    """Every notice of the run on ``run_date``, sorted by dedup key (schema
    :data:`NOTICE_SCHEMA`).  ``since`` catches up missed days; ``run_at`` is the instant
    the abandoned-transaction rule counts back from (default: the end of the run date)."""
    settings = settings or DetectorSettings()
    window = run_window(run_date, settings, since, run_at)
    found = pl.concat([detect(book, window, settings) for detect in DETECTORS], how="vertical")
    return (
        with_preferences(found, book.preferences)
        .with_columns(pl.lit(run_date).alias("run_date"))
        .select([pl.col(name).cast(dtype) for name, dtype in NOTICE_SCHEMA.items()])
        .sort("dedup_key")
        .collect()
    )


def with_preferences(notices: pl.LazyFrame, preferences: pl.LazyFrame) -> pl.LazyFrame:
    """The party's channel, locale and 关爱版 flag; without a stored preference: SMS in
    Chinese, the plain variant."""
    return notices.join(preferences, on="party_id", how="left").with_columns(
        pl.col("channel").fill_null(DEFAULT_CHANNEL),
        pl.col("locale").fill_null(DEFAULT_LOCALE),
        pl.col("care").fill_null(DEFAULT_CARE),
    )


def empty_notices() -> pl.DataFrame:
    return pl.DataFrame(schema=NOTICE_SCHEMA)


__all__ = [
    "BOOK_SCHEMAS",
    "DETECTORS",
    "NOTICE_SCHEMA",
    "BookFrames",
    "abandoned_transaction",
    "benefit_collectable",
    "claim_reminder",
    "conform",
    "detect_all",
    "dividend_allocated",
    "empty_notices",
    "loan_overdue",
    "loan_renewal_failed",
    "loan_repayment_due",
    "premium_auto_loan",
    "renewal_due",
    "report_ready",
    "with_preferences",
]
