"""Bulk enrolment validation: every member checked, every rejection with its row and reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from baoxian.catalog.services import Catalog
from baoxian.policies.enrolment import MemberRow, MemberValidator, Rejection, read_member_csv
from baoxian.shared.identity import resident_id_check_digit
from baoxian.shared.money import Money

START = date(2026, 1, 1)


def rid(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


def test_members_are_validated_and_rated(catalog: Catalog) -> None:
    validator = MemberValidator(catalog.plan("BJ-HMB", "2026"), START)
    good = rid("11010519810415031")
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    rows = [
        MemberRow(2, "王建国", good, "13812345678", "110000", True),
        MemberRow(3, "李娜", bad_check, "13812345679", "110000", True),
        MemberRow(4, "张伟", rid("11010219900101002"), "1381234", "110000", True),
        MemberRow(5, "王建国", good, "13812345678", "110000", True),
        MemberRow(6, "赵敏", rid("31010119900101004"), "13912345678", "310000", True),
        MemberRow(7, "", rid("11010819900101006"), "13912345678", "110000", True),
    ]
    accepted, rejected = validator.check_all(rows)
    assert [(m.row.row_no, m.premium, m.facts["age"]) for m in accepted] == [
        (2, Money.of("195.00"), 44)
    ]
    assert [(r.row_no, r.code) for r in rejected] == [
        (3, "party.invalid_resident_id"),
        (4, "party.invalid_mobile"),
        (5, "enrolment.duplicate_in_file"),
        (6, "eligibility.basic_medical_required"),
        (7, "party.invalid_name"),
    ]
    assert rejected[0].zh == "第3行：身份证号码无效"
    assert rejected[0].en == "row 3: invalid resident ID number"


def test_long_term_medical_members_rated_by_age_band(catalog: Catalog) -> None:
    validator = MemberValidator(catalog.plan("LTM-15", "2026"), date(2026, 3, 1))
    rows = [
        MemberRow(2, "甲", rid("11010519810415031"), "13812345678", "110000", True),  # 44 M
        MemberRow(3, "乙", rid("11010519760101002"), "13812345678", "110000", False),  # 50 F
        MemberRow(4, "丙", rid("11010519500101001"), "13812345678", "110000", True),  # 76
    ]
    accepted, rejected = validator.check_all(rows)
    assert [m.premium for m in accepted] == [Money.of("672.00"), Money.of("1545.60")]
    assert [(r.row_no, r.code) for r in rejected] == [(4, "eligibility.entry_age")]


def test_csv_reader_reports_bad_rows_and_missing_columns(tmp_path: Path) -> None:
    good = tmp_path / "members.csv"
    good.write_text(
        "name,id_number,mobile,medical_insurance_city,has_basic_medical\n"
        f"王建国,{rid('11010519810415031').lower()},13812345678,110000,是\n"
        "李娜,110105199001010021,13812345679,110000,maybe\n",
        encoding="utf-8-sig",
    )
    first, second = list(read_member_csv(good))
    assert isinstance(first, MemberRow)
    assert first.id_number.endswith(rid("11010519810415031")[-1].upper())
    assert first.has_basic_medical is True
    assert isinstance(second, Rejection)
    assert (second.row_no, second.code) == (3, "enrolment.bad_flag")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,mobile\n王建国,13812345678\n", encoding="utf-8")
    (only,) = list(read_member_csv(bad))
    assert isinstance(only, Rejection)
    assert only.code == "enrolment.missing_columns"
    assert "id_number" in only.en
