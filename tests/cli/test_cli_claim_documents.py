"""`claim attach`, `claim documents` and `claim metrics` end to end, on a fresh SQLite
database."""

from __future__ import annotations

import hashlib
import json
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
CLAIM = "CLM-2026-000001"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256))
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


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


@pytest.fixture
def reported_claim(tmp_path: Path) -> str:
    """The example 惠民保 claim, reported and decided through the command line."""
    run("init")
    service = build().policies
    person = service.register_person("王建国", ID, "13812345678", medical_insurance_city="110000")
    insured = (InsuredInput("person", person.party_id),)
    quote = service.create_quote(QuoteInput("BJ-HMB", person.party_id, date(2026, 1, 1), insured))
    number = service.issue_policy(quote.quote_id).policy_number
    example = (CATALOG_DIR.parent / "examples" / "claim-huiminbao.yaml").read_text("utf-8")
    claim = tmp_path / "claim.yaml"
    text = example.replace("BJHMB202600000001", number)
    claim.write_text(text.replace("REPLACE-WITH-INSURED-KEY", person.party_id), "utf-8")
    code, out = run("claim", "report", str(claim))
    assert code == 0, out
    return CLAIM


def test_attach_then_list_documents(reported_claim: str, tmp_path: Path) -> None:
    photo = tmp_path / "wound.jpg"
    photo.write_bytes(JPEG)
    checksum = hashlib.sha256(JPEG).hexdigest()
    code, out = run("claim", "attach", reported_claim, str(photo), "--kind", "photo")
    assert code == 0, out
    assert f"SHA-256 {checksum}" in out
    document_id = re.search(r"Document (\w+)", out)
    assert document_id is not None
    code, again = run(
        "claim", "attach", reported_claim, str(photo), "--kind", "photo", "--sha256", checksum
    )
    assert code == 0 and document_id.group(1) in again  # the same document, nothing new
    code, out = run("claim", "documents", reported_claim)
    assert code == 0, out
    assert document_id.group(1) in out and "wound.jpg" in out and "照片 photo" in out
    assert out.count("image/jpeg") == 1


def test_attach_refusals_are_bilingual_with_codes(reported_claim: str, tmp_path: Path) -> None:
    photo = tmp_path / "wound.jpg"
    photo.write_bytes(JPEG)
    wrong = hashlib.sha256(b"other").hexdigest()
    code, out = run(
        "claim", "attach", reported_claim, str(photo), "--kind", "photo", "--sha256", wrong
    )
    assert code == 1 and "claim.document_checksum_mismatch" in out and "校验值不符" in out
    disguised = tmp_path / "scan.jpg"
    disguised.write_bytes(PDF)
    code, out = run("claim", "attach", reported_claim, str(disguised), "--kind", "invoice")
    assert code == 1 and "claim.document_content_mismatch" in out
    code, out = run("claim", "attach", "NOPE", str(photo), "--kind", "photo")
    assert code == 1 and "claim.not_found" in out
    code, out = run("claim", "documents", reported_claim)
    assert code == 0 and "wound.jpg" not in out


def test_metrics_as_json_and_table(reported_claim: str) -> None:
    code, out = run("claim", "metrics", "--json")
    assert code == 0, out
    rows = json.loads(out)
    assert [(r["product_code"], r["channel"]) for r in rows] == [("BJ-HMB", "cli"), ("*", "*")]
    overall = rows[-1]
    assert (overall["reported"], overall["decided"], overall["open"]) == (1, 1, 0)
    assert overall["claimed_amount"] == "58000.00"  # 50,000 in list + 8,000 out of list
    assert overall["report_to_decision_seconds"]["sample"] == 1
    code, out = run("claim", "metrics")
    assert code == 0 and "BJ-HMB" in out and "直通率 STP" in out
