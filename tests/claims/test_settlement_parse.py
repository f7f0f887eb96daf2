"""医保 settlement files: reading, row validation (every rejection reason), mapping a row to
a claim, the member check and the reminder text — pure, no store."""

from __future__ import annotations

import csv
import doctest
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from baoxian.claims import settlement
from baoxian.claims.model import BillItem
from baoxian.claims.settlement import (
    COLUMNS,
    Reminder,
    bill_items,
    choose_member,
    parse_table,
    read_settlement,
    reminder_text,
    to_claim,
    write_reminders_csv,
)
from baoxian.claims.settlement_store import Candidate
from baoxian.shared.errors import DomainError, ValidationFailed
from baoxian.shared.money import Money
from tests.store.conftest import resident_id

M = Money.of
HEADER = [c.name for c in COLUMNS]
WANG = resident_id("11010519490315001")  # man, born 1949-03-15


def line(**changes: str) -> dict[str, str]:
    """A valid inpatient row; keyword arguments change cells."""
    cells = {
        "settlement_no": "JS2026060001",
        "id_number": WANG,
        "name": "王建国",
        "policy_number": "BJHMB202600000001",
        "insured_key": "",
        "kind": "住院",
        "provider_code": "H110105001",
        "designated": "是",
        "admission_date": "2026-06-01",
        "discharge_date": "2026-06-06",
        "diagnosis": "K35.8",
        "total": "58000.00",
        "in_list": "50000.00",
        "out_of_list": "5000.00",
        "self_pay": "3000.00",
        "basic_paid": "30000.00",
        "drug_code": "",
        "pre_existing": "否",
        "accident": "否",
        "authorised": "是",
    }
    return {**cells, **changes}


def special_drug(**changes: str) -> dict[str, str]:
    purchase = {
        "kind": "药店购药",
        "provider_code": "P110102003",
        "admission_date": "2026-06-08",
        "discharge_date": "",
        "diagnosis": "C50.9",
        "total": "12000",
        "in_list": "12000",
        "out_of_list": "0",
        "self_pay": "0",
        "basic_paid": "7200",
        "drug_code": "L01FD01",
    }
    return line(**{**purchase, **changes})


def parse(*rows: dict[str, str]) -> settlement.SettlementFile:
    return parse_table(HEADER, [[r[c] for c in HEADER] for r in rows])


def test_module_examples_run() -> None:
    result = doctest.testmod(settlement)
    assert result.failed == 0 and result.attempted > 0


def test_an_inpatient_row_becomes_a_claim_with_three_items() -> None:
    parsed = parse(line())
    assert parsed.rejections == () and parsed.row_count == 1
    row = parsed.rows[0]
    assert (row.row, row.kind, row.designated, row.authorised) == (2, "inpatient", True, True)
    assert (row.total, row.in_list, row.out_of_list, row.self_pay, row.basic_paid) == (
        M("58000"),
        M("50000"),
        M("5000"),
        M("3000"),
        M("30000"),
    )
    assert bill_items(row) == (
        BillItem("IN_LIST", "医保目录内费用", "in_list", M("50000"), M("30000"), True),
        BillItem("OUT_OF_LIST", "医保目录外费用", "out_of_list", M("5000")),
        BillItem("SELF_PAY", "自费费用", "out_of_list", M("3000")),
    )
    claim = to_claim(row, "u1")
    assert (claim.claim_id, claim.invoice_no, claim.unit_key) == (
        "STL-JS2026060001",
        "JS2026060001",
        "u1",
    )
    assert (claim.loss_date, claim.discharge_date, claim.channel) == (
        date(2026, 6, 1),
        date(2026, 6, 6),
        "settlement_import",
    )
    assert (claim.provider, claim.diagnosis, claim.accident, claim.pre_existing) == (
        "H110105001",
        "K35.8",
        False,
        False,
    )


def test_a_special_drug_is_one_item_for_the_whole_purchase() -> None:
    row = parse(special_drug(designated="否")).rows[0]
    assert row.kind == "pharmacy" and row.discharge_date is None
    assert bill_items(row) == (
        BillItem("L01FD01", "特药 special drug", "special_drug", M("12000"), M("7200"), False),
    )


def test_zero_amounts_make_no_item_and_cells_are_normalised() -> None:
    row = parse(
        line(
            kind="outpatient",
            discharge_date="",
            admission_date="20260605",
            diagnosis="n18.500x001",
            id_number=WANG[:-1] + WANG[-1].lower(),
            total="0.30",
            in_list="0.10",
            out_of_list="",
            self_pay="0.2",
            basic_paid="",
            authorised="Y",
            pre_existing="1",
            accident="",
        )
    ).rows[0]
    assert (row.admission_date, row.diagnosis, row.pre_existing, row.accident) == (
        date(2026, 6, 5),
        "N18.500X001",
        True,
        False,
    )
    assert [(i.code, i.amount, i.paid_by_basic) for i in bill_items(row)] == [
        ("IN_LIST", M("0.10"), M("0")),
        ("SELF_PAY", M("0.20"), M("0")),
    ]


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("settlement_no", "", "settlement.required"),
        ("settlement_no", "JS 01", "settlement.bad_format"),
        ("settlement_no", "J" * 33, "settlement.bad_format"),
        ("id_number", "110105194903150011", "settlement.bad_id_number"),
        ("policy_number", "BJ HMB", "settlement.bad_format"),
        ("insured_key", "a key", "settlement.bad_format"),
        ("kind", "体检", "settlement.bad_kind"),
        ("provider_code", "", "settlement.required"),
        ("designated", "maybe", "settlement.bad_flag"),
        ("admission_date", "", "settlement.required"),
        ("admission_date", "2026-02-30", "settlement.bad_date"),
        ("discharge_date", "06/06/2026", "settlement.bad_date"),
        ("discharge_date", "2026-W23-6", "settlement.bad_date"),
        ("discharge_date", "2026-0606", "settlement.bad_date"),
        ("diagnosis", "", "settlement.required"),
        ("diagnosis", "appendicitis", "settlement.bad_format"),
        ("total", "", "settlement.required"),
        ("total", "58000.001", "settlement.bad_amount"),
        ("in_list", "-50000", "settlement.bad_amount"),
        ("out_of_list", "5,000", "settlement.bad_amount"),
        ("self_pay", "3e3", "settlement.bad_amount"),
        ("basic_paid", "三万", "settlement.bad_amount"),
        ("authorised", "", "settlement.bad_flag"),
        ("accident", "sometimes", "settlement.bad_flag"),
    ],
)
def test_each_bad_cell_is_rejected_with_its_row_and_column(
    column: str, value: str, code: str
) -> None:
    parsed = parse(line(**{column: value}))
    assert parsed.rows == ()
    assert [(r.row, r.column, r.code) for r in parsed.rejections] == [(2, column, code)]
    rejection = parsed.rejections[0]
    assert rejection.zh and rejection.en
    assert rejection.message().startswith(f"第2行「{column} ")


@pytest.mark.parametrize(
    ("changes", "column", "code"),
    [
        ({"total": "58000.01"}, "total", "settlement.amounts_do_not_add_up"),
        ({"basic_paid": "50000.01"}, "basic_paid", "settlement.basic_over_in_list"),
        (
            {"total": "0", "in_list": "0", "out_of_list": "0", "self_pay": "0", "basic_paid": "0"},
            "total",
            "settlement.zero_total",
        ),
        ({"discharge_date": ""}, "discharge_date", "settlement.discharge_required"),
        (
            {"discharge_date": "2026-05-31"},
            "discharge_date",
            "settlement.discharge_before_admission",
        ),
        ({"kind": "门诊"}, "discharge_date", "settlement.discharge_not_allowed"),
        ({"drug_code": "L01FD01"}, "drug_code", "settlement.drug_code_not_allowed"),
    ],
)
def test_rows_whose_columns_disagree_are_rejected(
    changes: dict[str, str], column: str, code: str
) -> None:
    parsed = parse(line(**changes))
    assert parsed.rows == ()
    assert [(r.row, r.column, r.code) for r in parsed.rejections] == [(2, column, code)]
    assert parsed.rejections[0].settlement_no == "JS2026060001"


def test_a_pharmacy_row_needs_a_special_drug_code() -> None:
    parsed = parse(special_drug(drug_code=""))
    assert [(r.column, r.code) for r in parsed.rejections] == [
        ("drug_code", "settlement.drug_code_required")
    ]


def test_every_problem_of_a_row_is_reported() -> None:
    parsed = parse(line(kind="", total="x", admission_date="yesterday"))
    assert [(r.column, r.code) for r in parsed.rejections] == [
        ("kind", "settlement.bad_kind"),
        ("admission_date", "settlement.bad_date"),
        ("total", "settlement.bad_amount"),
    ]


def test_a_bad_row_never_stops_the_good_ones() -> None:
    parsed = parse(
        line(settlement_no="A1"),
        line(settlement_no="A2", basic_paid="60000"),
        line(settlement_no="A1"),
        special_drug(settlement_no="A3"),
    )
    assert [r.settlement_no for r in parsed.rows] == ["A1", "A3"]
    assert [(r.row, r.code) for r in parsed.rejections] == [
        (3, "settlement.basic_over_in_list"),
        (4, "settlement.duplicate_in_file"),
    ]
    assert parsed.row_count == 4


def test_a_line_with_the_wrong_number_of_cells_is_rejected() -> None:
    parsed = parse_table(HEADER, [["JS1", WANG]])
    assert [(r.row, r.column, r.code) for r in parsed.rejections] == [
        (2, "", "settlement.cell_count")
    ]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ([c for c in HEADER if c != "authorised"], "settlement.missing_columns"),
        ([*HEADER, "remarks"], "settlement.unknown_columns"),
        ([*HEADER, "结算单号"], "settlement.repeated_columns"),
    ],
)
def test_a_bad_header_refuses_the_file(header: list[str], code: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        parse_table(header, [])
    assert error.value.code == code


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([[r[c] for c in HEADER] for r in rows])
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_csv_with_or_without_bom_and_chinese_headers(tmp_path: Path, encoding: str) -> None:
    chinese = [c.zh for c in COLUMNS]
    path = write_csv(
        tmp_path / "s.csv", chinese, [line(), special_drug(settlement_no="B")], encoding
    )
    parsed = read_settlement(path)
    assert [r.settlement_no for r in parsed.rows] == ["JS2026060001", "B"]
    assert parsed.rejections == ()


def test_empty_and_unknown_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", "utf-8")
    with pytest.raises(ValidationFailed) as error:
        read_settlement(empty)
    assert error.value.code == "settlement.empty_file"
    with pytest.raises(ValidationFailed) as error:
        read_settlement(tmp_path / "data.xlsx")
    assert error.value.code == "settlement.unknown_format"


def test_parquet_with_decimal_and_date_columns_reads_like_csv(tmp_path: Path) -> None:
    rows = [line(), special_drug(settlement_no="B")]
    money = {c: pl.Decimal(14, 2) for c in ("total", "in_list", "out_of_list", "self_pay")}
    frame = pl.DataFrame(
        {
            **{c: [r[c] for r in rows] for c in HEADER},
            **{c: [Decimal(r[c] or "0") for r in rows] for c in money},
            "basic_paid": [30000, 7200],  # whole yuan as integers
            "admission_date": [date(2026, 6, 1), date(2026, 6, 8)],
            "discharge_date": [date(2026, 6, 6), None],
            "authorised": [True, False],
        },
        schema_overrides={**money, "basic_paid": pl.Int64},
    )
    path = tmp_path / "s.parquet"
    frame.write_parquet(path)
    parsed = read_settlement(path)
    assert parsed.rejections == ()
    first, second = parsed.rows
    assert (first.basic_paid, first.discharge_date, first.authorised) == (
        M("30000"),
        date(2026, 6, 6),
        True,
    )
    assert (second.total, second.basic_paid, second.authorised) == (M("12000"), M("7200"), False)
    assert first == parse(line()).rows[0]


def test_parquet_with_float_money_is_refused(tmp_path: Path) -> None:
    frame = pl.DataFrame({c: [line()[c]] for c in HEADER}).with_columns(
        pl.lit(58000.0).alias("total")
    )
    path = tmp_path / "f.parquet"
    frame.write_parquet(path)
    with pytest.raises(ValidationFailed) as error:
        read_settlement(path)
    assert error.value.code == "settlement.float_column" and "total" in error.value.en


# --------------------------------------------------------------------------- the member


def candidate(
    number: str, since: date = date(2026, 1, 1), end: date = date(2027, 1, 1)
) -> Candidate:
    return Candidate(number, "p-wang", "p-wang", "BJ-HMB", "in_force", since, end)


def test_the_member_is_the_policy_that_covered_the_stay() -> None:
    row = parse(line(policy_number="")).rows[0]  # admitted 2026-06-01
    lapsed = candidate("P0", date(2025, 1, 1), date(2026, 1, 1))
    current = candidate("P1")
    assert choose_member(row, [lapsed, current], set()) == current
    # none covered the day: the only candidate (its claim is declined with the reason)
    assert choose_member(row, [lapsed], set()) == lapsed
    # a member who joined on 10 June was not covered on 1 June
    joined_later = candidate("P2", since=date(2026, 6, 10))
    assert choose_member(row, [lapsed, joined_later, current], set()) == current


def test_several_policies_on_the_day_need_the_policy_number() -> None:
    row = parse(line(policy_number="")).rows[0]
    with pytest.raises(ValidationFailed) as error:
        choose_member(row, [candidate("P1"), candidate("P2")], set())
    assert error.value.code == "settlement.several_policies"
    assert "P1、P2" in error.value.zh and "give the policy number" in error.value.en


@pytest.mark.parametrize(
    ("policy_number", "known", "code"),
    [
        ("BJHMB202600000001", set(), "policy.not_found"),
        ("BJHMB202600000001", {"BJHMB202600000001"}, "settlement.member_mismatch"),
        ("", set(), "settlement.not_a_member"),
    ],
)
def test_no_candidate_says_why(policy_number: str, known: set[str], code: str) -> None:
    row = parse(line(policy_number=policy_number)).rows[0]
    with pytest.raises(DomainError) as error:
        choose_member(row, [], known, "BJ-HMB")
    assert error.value.code == code
    assert WANG not in error.value.zh and WANG not in error.value.en


# --------------------------------------------------------------------------- reminders


def test_reminder_text_is_short_and_plain() -> None:
    plan = ("北京普惠健康保", "Beijing Inclusive Health Plan")
    zh, en = reminder_text("", "pharmacy", date(2026, 6, 15), plan, M("14334.4"))
    assert zh == (
        "您好：您6月15日购药的费用，北京普惠健康保预计可赔约14,334.40元。"
        "回复“授权”，不用交材料就能赔到您的账户。"
    )
    assert len(zh) <= 70  # one SMS
    assert en.startswith("Hello: for your pharmacy purchase on 15 June, Beijing Inclusive")
    assert "14,334.40 yuan" in en


def test_reminders_are_written_as_csv(tmp_path: Path) -> None:
    reminder = Reminder(
        5,
        "JS4",
        "BJHMB202600000004",
        "p-ma",
        "110***********4790",
        "马文睿",
        "inpatient",
        date(2026, 6, 3),
        M("19200"),
        "马文睿您好",
        "Hello",
    )
    path = tmp_path / "r.csv"
    assert write_reminders_csv([reminder], path) == 1
    with path.open(encoding="utf-8-sig", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert written == [
        {
            "settlement_no": "JS4",
            "policy_number": "BJHMB202600000004",
            "insured_key": "p-ma",
            "id_number_masked": "110***********4790",
            "name": "马文睿",
            "kind": "inpatient",
            "loss_date": "2026-06-03",
            "estimated_payable": "19200.00",
            "message_zh": "马文睿您好",
            "message_en": "Hello",
        }
    ]
