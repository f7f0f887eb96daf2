"""The command line end to end, on a fresh SQLite database."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from baoxian.bootstrap import build
from baoxian.cli import app
from baoxian.policies.services import InsuredInput, QuoteInput
from baoxian.shared.identity import resident_id_check_digit
from tests.conftest import CATALOG_DIR

runner = CliRunner()
ID = "11010519810415031" + resident_id_check_digit("11010519810415031")


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAOXIAN_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BAOXIAN_CATALOG", str(CATALOG_DIR))
    monkeypatch.setenv("COLUMNS", "160")
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_init_and_catalog_commands() -> None:
    code, out = run("init")
    assert code == 0 and "BJ-HMB" in out
    code, out = run("catalog", "list")
    assert code == 0 and "MOTOR-NEV" in out
    code, out = run("catalog", "show", "BJ-HMB")
    assert code == 0 and "3,000,000" in out and "既往症 40%" in out
    code, out = run("catalog", "validate", str(CATALOG_DIR))
    assert code == 0 and "6" in out and "TY-INDEX" in out


def test_catalog_validate_reports_file_and_path(tmp_path: Path) -> None:
    folder = tmp_path / "cat"
    folder.mkdir()
    text = (CATALOG_DIR / "bj-huiminbao.yaml").read_text(encoding="utf-8")
    (folder / "bad.yaml").write_text(text.replace("term_months: 12", "term_mnths: 12"), "utf-8")
    code, out = run("catalog", "validate", str(folder))
    assert code == 1
    flat = re.sub(r"\s+", "", out)
    assert "bad.yaml" in flat and "versions[0].term_mnths" in flat


def test_quote_issue_endorse_show() -> None:
    code, out = run(
        "quote",
        "LTM-15",
        "--name",
        "王建国",
        "--id-number",
        ID,
        "--mobile",
        "13812345678",
        "--start",
        "2026-03-01",
    )
    assert code == 0, out
    assert "672.00" in out and "accept" in out
    quote_id = re.search(r"Quote (\w+)", out)
    assert quote_id is not None
    code, out = run("issue", quote_id.group(1))
    assert code == 0 and "LTM15202600000001" in out
    code, out = run(
        "endorse",
        "contact",
        "LTM15202600000001",
        "--effective",
        "2026-05-01",
        "--mobile",
        "13900002222",
    )
    assert code == 0 and "139****2222" in out
    code, out = run("policy", "show", "LTM15202600000001")
    assert code == 0 and "policy.endorsed" in out and "policy.issued" in out
    code, out = run("policy", "cancel", "LTM15202600000001", "--effective", "2026-09-01")
    assert code == 0 and "333.24" in out


def test_errors_are_bilingual_with_exit_codes() -> None:
    code, out = run("policy", "show", "NOPE123")
    assert code == 1 and "policy.not_found" in out
    code, out = run(
        "quote",
        "LTM-15",
        "--name",
        "王建国",
        "--id-number",
        "110105198104150311",
        "--mobile",
        "13812345678",
    )
    assert code == 1 and "身份证号码无效" in out and "invalid resident ID" in out
    code, out = run("policy", "cancel", "X", "--effective", "2026-13-01")
    assert code == 2 and "YYYY-MM-DD" in out
    code, out = run("quote", "NOPE", "--name", "王", "--id-number", ID, "--mobile", "13812345678")
    assert code == 1 and "catalog.unknown_product" in out


def test_demo_builds_a_small_book_once() -> None:
    code, out = run("demo", "--policies", "400")
    assert code == 0, out
    assert "合计 Total" in out and "BJ-HMB" in out and "PAR-ENT" in out
    issued = re.search(r"Issued ([\d,]+) policies, ([\d,]+) quotes", out)
    assert issued is not None
    assert int(issued.group(1).replace(",", "")) + int(issued.group(2)) == 400
    code, out = run("demo", "--policies", "400")
    assert code == 0 and "already there" in out


def test_enrol_csv_into_a_programme(tmp_path: Path) -> None:
    run("init")
    application = build()
    service = application.policies
    operator = service.register_organisation(
        "北京普惠健康保共保体", "91110000600037341L", "13900001111"
    )
    first = service.register_person("王建国", ID, "13812345678", medical_insurance_city="110000")
    quote = service.create_quote(
        QuoteInput(
            "BJ-HMB",
            operator.party_id,
            date(2026, 1, 1),
            (InsuredInput("person", first.party_id),),
            group=True,
        )
    )
    number = service.issue_policy(quote.quote_id, group=True).policy_number
    csv = tmp_path / "members.csv"
    second = "11010219900101002" + resident_id_check_digit("11010219900101002")
    csv.write_text(
        "name,id_number,mobile,medical_insurance_city,has_basic_medical\n"
        f"李娜,{second},13912345678,110000,是\n"
        "张伟,110102199001010021,13912345679,110000,是\n",
        encoding="utf-8",
    )
    code, out = run("enrol", number, str(csv))
    assert code == 0, out
    assert "enrolled 1" in out and "rejected 1" in out and "第3行" in out
    code, out = run("enrol", number, str(csv))
    assert code == 0 and "enrolled 0" in out


def test_quote_from_files_for_property_and_motor() -> None:
    examples = CATALOG_DIR.parent / "examples"
    code, out = run("quote", "--file", str(examples / "quote-property.yaml"))
    assert code == 0, out
    # sites 65,000 + 5,600; earthquake 8,000 + 2,000; quarterly: 80,600 × 1.02 / 4
    assert "80,600.00" in out and "20,553.00" in out and "SZ-01 · earthquake" in out
    code, out = run("quote", "--file", str(examples / "quote-motor-nev.yaml"))
    assert code == 0, out
    assert "4,010.00" in out and "accept" in out


def test_quote_file_with_unknown_key_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (CATALOG_DIR.parent / "examples" / "quote-motor-nev.yaml").read_text("utf-8")
    bad.write_text(text.replace("instalment", "instalments") + "colour: red\n", "utf-8")
    code, out = run("quote", "--file", str(bad))
    assert code == 2
    assert "colour" in out and "Extra inputs are not permitted" in out
    code, out = run("quote")
    assert code == 2 and "--file" in out


def test_claim_report_decide_pay_show(tmp_path: Path) -> None:
    run("init")
    service = build().policies
    person = service.register_person("王建国", ID, "13812345678", medical_insurance_city="110000")
    insured = (InsuredInput("person", person.party_id),)
    quote = service.create_quote(QuoteInput("BJ-HMB", person.party_id, date(2026, 1, 1), insured))
    number = service.issue_policy(quote.quote_id).policy_number
    example = (CATALOG_DIR.parent / "examples" / "claim-huiminbao.yaml").read_text("utf-8")
    claim = tmp_path / "claim.yaml"
    claim.write_text(
        example.replace("BJHMB202600000001", number).replace(
            "REPLACE-WITH-INSURED-KEY", person.party_id
        ),
        "utf-8",
    )
    code, out = run("claim", "report", str(claim))
    assert code == 0, out
    # in-list: 50,000 − 30,000 医保 − 18,000 deductible = 2,000 × 80% = 1,600
    # out-of-list: 8,000 × 70% = 5,600
    # straight through: decided and paid at once
    assert "状态 已支付 paid" in out and "已付 paid ¥7,200.00" in out and "共用年度免赔额" in out
    code, out = run("claim", "pay", "CLM-2026-000001")  # a re-run pays nothing more
    assert code == 0 and "¥7,200.00 → insured" in out
    code, out = run("claim", "show", "CLM-2026-000001")
    assert code == 0 and "claim.paid" in out
    code, out = run("claim", "show", "NOPE")
    assert code == 1 and "claim.not_found" in out
