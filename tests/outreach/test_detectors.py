"""The Polars detectors on a hand-built book: exact notices, amounts to the fen, every rule."""

from __future__ import annotations

import doctest
import json
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from baoxian.outreach import notice_specs
from baoxian.outreach.detectors import NOTICE_SCHEMA, BookFrames, detect_all
from baoxian.outreach.notice_specs import (
    SCENARIOS,
    DetectorSettings,
    money_text,
    run_window,
)
from tests.outreach.books import CAUGHT_UP_YESTERDAY, EXPECTED, RUN, d, hand_book


@pytest.fixture(scope="module")
def notices() -> pl.DataFrame:
    return detect_all(hand_book(), RUN)


def test_the_notice_frame_has_the_contracted_schema(notices: pl.DataFrame) -> None:
    assert notices.schema == pl.Schema(NOTICE_SCHEMA)
    assert notices["dedup_key"].is_unique().all()
    assert notices["dedup_key"].to_list() == sorted(notices["dedup_key"].to_list())
    assert set(notices["run_date"].to_list()) == {RUN}


def test_every_expected_notice_and_nothing_else(notices: pl.DataFrame) -> None:
    got = {row["dedup_key"]: (row["reason_zh"], row["reason_en"]) for row in notices.to_dicts()}
    assert got == EXPECTED


def test_every_scenario_is_covered(notices: pl.DataFrame) -> None:
    assert set(notices["scenario"].to_list()) == set(SCENARIOS)


def test_reason_codes_follow_the_stage(notices: pl.DataFrame) -> None:
    codes = dict(zip(notices["dedup_key"], notices["reason_code"], strict=True))
    assert codes["renewal_due:P1:3:2026-12-30:T-15"] == "renewal_due.upcoming"
    assert codes["renewal_due:P3:5:2026-12-14:D+1"] == "renewal_due.in_grace"
    assert codes["renewal_due:P3:6:2026-10-23:G-7"] == "renewal_due.grace_ending"
    assert codes["loan_renewal_failed:L3:2026-12-15"] == "billing.renewal_failed"
    assert codes["benefit_collectable:P4:survival:2026-11-15:D+30"] == (
        "benefit_collectable.uncollected"
    )
    assert codes["abandoned_transaction:change_request:CR1"] == (
        "abandoned_transaction.change_request"
    )


def test_preferences_and_their_defaults(notices: pl.DataFrame) -> None:
    by_party = {
        row["party_id"]: (row["channel"], row["locale"], row["care"]) for row in notices.to_dicts()
    }
    assert by_party["H1"] == ("sms", "zh", False)  # no stored preference
    assert by_party["H3"] == ("email", "en", False)
    assert by_party["H4"] == ("sms", "zh", True)  # 关爱版
    assert by_party["M1"] == ("sms", "zh", False)  # the insured member of a claim reminder


def test_data_is_canonical_json_with_fen_and_iso_dates(notices: pl.DataFrame) -> None:
    for text in notices["data"]:
        facts = json.loads(text)
        assert text == json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    row = notices.filter(pl.col("dedup_key") == "renewal_due:P3:5:2026-12-14:D+1").row(
        0, named=True
    )
    assert json.loads(row["data"]) == {
        "amount_fen": 50000,
        "due_on": "2026-12-14",
        "grace_until": "2027-02-12",
        "outstanding_fen": 30000,
        "paid_fen": 20000,
        "policy_number": "P3",
        "seq": 5,
        "stage": "D+1",
    }
    assert row["due_on"] == d("2026-12-14")
    assert row["policy_number"] == "P3"


def test_a_look_back_catches_up_missed_days_once(notices: pl.DataFrame) -> None:
    caught_up = detect_all(hand_book(), RUN, since=d("2026-12-14"))
    assert set(caught_up["dedup_key"]) == set(EXPECTED) | CAUGHT_UP_YESTERDAY
    assert set(caught_up["dedup_key"]) - set(notices["dedup_key"]) == CAUGHT_UP_YESTERDAY


def test_an_instalment_is_reminded_once_per_stage_over_its_life() -> None:
    book = BookFrames.of(
        policies=pl.DataFrame({"policy_number": ["P"], "holder_id": ["H"], "status": ["in_force"]}),
        instalments=pl.DataFrame(
            [("P", 7, d("2027-01-31"), 99999, 0, d("2027-04-01"), "due")],
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
    )
    told: dict[str, date] = {}
    day = d("2027-01-01")
    while day <= d("2027-04-10"):
        for key in detect_all(book, day)["dedup_key"]:
            told.setdefault(key, day)
        day += timedelta(days=1)
    assert told == {
        "renewal_due:P:7:2027-01-31:T-15": d("2027-01-16"),
        "renewal_due:P:7:2027-01-31:T-3": d("2027-01-28"),
        "renewal_due:P:7:2027-01-31:D+1": d("2027-02-01"),
        "renewal_due:P:7:2027-01-31:G-7": d("2027-03-25"),
    }


def test_catching_up_missed_days_sends_the_latest_stage_only() -> None:
    book = hand_book()
    later = detect_all(book, d("2026-12-29"), since=d("2026-12-10"))
    keys = [k for k in later["dedup_key"] if k.startswith("renewal_due:P1:3:")]
    assert keys == ["renewal_due:P1:3:2026-12-30:T-3"]  # T-15 was reached too, on 12-15
    assert not [k for k in detect_all(book, d("2026-12-29"))["dedup_key"] if ":P1:3:" in k]


def test_the_abandoned_window_counts_from_run_at() -> None:
    early = detect_all(hand_book(), RUN, run_at=datetime(2026, 12, 15, 2, 30, tzinfo=UTC))
    keys = {k for k in early["dedup_key"] if k.startswith("abandoned")}
    assert keys == {"abandoned_transaction:change_request:CR1"}  # O1 began 90 minutes before


def test_an_empty_book_gives_an_empty_frame_of_the_schema() -> None:
    empty = detect_all(BookFrames.of(), RUN)
    assert empty.is_empty() and empty.schema == pl.Schema(NOTICE_SCHEMA)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="renewal_lead_days"):
        DetectorSettings(renewal_lead_days=(3, 3))
    with pytest.raises(ValueError, match="day after"):
        DetectorSettings(grace_reminder_days=(0,))
    with pytest.raises(ValueError, match="since"):
        run_window(RUN, DetectorSettings(), since=RUN + timedelta(days=1))


def test_fewer_stages_by_settings() -> None:
    quiet = DetectorSettings(renewal_lead_days=(3,), grace_end_lead_days=())
    keys = set(detect_all(hand_book(), RUN, quiet)["dedup_key"])
    assert "renewal_due:P1:3:2026-12-30:T-15" not in keys
    assert "renewal_due:P3:6:2026-10-23:G-7" not in keys
    assert "renewal_due:P1:2:2026-12-18:T-3" in keys


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0.00"), (5, "0.05"), (100, "1.00"), (123450, "1,234.50"), (100000000, "1,000,000.00")],
)
def test_money_text_matches_the_frames(fen: int, text: str) -> None:
    assert money_text(fen) == text
    book = BookFrames.of(
        policies=pl.DataFrame({"policy_number": ["P"], "holder_id": ["H"], "status": ["in_force"]}),
        statements=pl.DataFrame(
            [("P", 1, RUN, 0, fen)],
            schema=["policy_number", "statement_year", "ready_on", "opening_fen", "closing_fen"],
            orient="row",
        ),
    )
    assert detect_all(book, RUN)["reason_zh"][0].endswith(f"期末账户价值 {text} 元")


def test_the_specs_docstring_examples_run() -> None:
    result = doctest.testmod(notice_specs)
    assert result.failed == 0 and result.attempted > 0
