"""`baoxian claim import-settlement` end to end on the demo book: the example file
(examples/settlement-2026-06.csv) names the first twelve 惠民保 policies of the default demo
book (seed 20261123; the same for any book size), all in force from 2026-01-01."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from baoxian.cli import app
from tests.conftest import CATALOG_DIR

runner = CliRunner()
EXAMPLE = CATALOG_DIR.parent / "examples" / "settlement-2026-06.csv"


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAOXIAN_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BAOXIAN_CATALOG", str(CATALOG_DIR))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def count(out: str, label: str) -> str:
    found = re.search(rf"{re.escape(label)}\s*│\s*([^│\s]+)", out)
    assert found is not None, out
    return found.group(1)


def test_the_example_settles_against_the_demo_book(tmp_path: Path) -> None:
    code, out = run("demo", "--policies", "400")
    assert code == 0, out
    reminders = tmp_path / "reminders.csv"
    code, out = run("claim", "import-settlement", str(EXAMPLE), "--reminders", str(reminders))
    assert code == 0, out
    # paid: 7,200 + 3,840 + 45,600 + 8,400 + 3,500 + 700 (see docs/settlement-import.md)
    assert count(out, "数据行 Rows") == "13"
    assert count(out, "新建赔案 Claims created") == "7"
    assert count(out, "已赔付 Paid") == "6"
    assert count(out, "拒赔或零赔付 Declined") == "1"
    assert count(out, "被拒行 Rejected rows") == "3"
    assert count(out, "待提醒 Reminders") == "2"
    assert count(out, "赔付合计 Total paid") == "¥69,240.00"
    for code_name in (
        "settlement.amounts_do_not_add_up",
        "settlement.basic_over_in_list",
        "policy.not_found",
    ):
        assert code_name in out
    with reminders.open(encoding="utf-8-sig", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert [(r["settlement_no"], r["estimated_payable"]) for r in written] == [
        ("JS2026060004", "19200.00"),
        ("JS2026060010", "14334.40"),
    ]
    assert written[0]["message_zh"].startswith("马文睿您好：您6月3日住院的费用")

    code, out = run("claim", "show", "STL-JS2026060006")
    assert code == 0 and "paid" in out and "¥45,600.00" in out

    code, out = run("claim", "import-settlement", str(EXAMPLE))
    assert code == 0, out
    assert count(out, "新建赔案 Claims created") == "0"
    assert count(out, "已导入 Already imported") == "7"
    assert count(out, "赔付合计 Total paid") == "¥0.00"


def test_bad_files_are_refused_with_a_code(tmp_path: Path) -> None:
    code, out = run("claim", "import-settlement", str(tmp_path / "missing.csv"))
    assert code == 2
    other = tmp_path / "data.xlsx"
    other.write_text("x", "utf-8")
    code, out = run("claim", "import-settlement", str(other))
    assert code == 1 and "settlement.unknown_format" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("settlement_no,remarks\nJS1,x\n", "utf-8")
    code, out = run("claim", "import-settlement", str(bad))
    assert code == 1 and "settlement.unknown_columns" in out and "remarks" in out
