"""``baoxian billing …`` end to end on a fresh SQLite database: a PENSION-ANN policy scheduled,
paid, carried through the billing day and lent on; errors are bilingual with a stable code
and a non-zero exit, never a traceback."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from baoxian.billing.gateway import FakeGateway
from baoxian.billing.ledger_service import LedgerService
from baoxian.bootstrap import build
from baoxian.cli import app
from baoxian.policies.services import InsuredInput, QuoteInput
from baoxian.shared.clock import system_clock
from baoxian.shared.ids import new_id
from baoxian.shared.money import Money
from tests.conftest import CATALOG_DIR
from tests.store.conftest import resident_id

runner = CliRunner()


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAOXIAN_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BAOXIAN_CATALOG", str(CATALOG_DIR))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


@pytest.fixture
def policy() -> str:
    """A monthly PENSION-ANN policy (1,000.00 a month) issued through the policies service."""
    service = build().policies
    person = service.register_person("王建国", resident_id("11010519800101001"), "13812345678")
    quote = service.create_quote(
        QuoteInput(
            "PENSION-ANN",
            person.party_id,
            date(2026, 3, 1),
            (InsuredInput("person", person.party_id),),
            selections={"pension": Money.of("12000")},
            instalment="monthly",
        )
    )
    return service.issue_policy(quote.quote_id).policy_number


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def paid_through(policy: str, last_seq: int) -> None:
    """Schedule the policy and pay instalments 1..``last_seq`` on their due dates, through
    the service (the set-up of the commands under test)."""
    application = build()
    ledger = LedgerService(
        application.engine, application.policies, application.catalog, system_clock, new_id
    )
    ledger.schedule_policy(policy)
    for row in ledger.instalments(policy)[:last_seq]:
        assert ledger.pay_instalment(policy, row.seq, FakeGateway(), row.due_on).paid


def test_schedule_and_pay(policy: str) -> None:
    code, out = run("billing", "schedule", policy)
    assert code == 0 and "written 12 new" in out and "2027-02-01" in out
    code, out = run("billing", "schedule", policy)
    assert code == 0 and "written 0 new" in out
    code, out = run("billing", "pay", policy, "1", "--on", "2026-03-01")
    assert code == 0 and "已交清" in out and f"instalment 1 of {policy} is paid" in out
    code, out = run("billing", "pay", policy, "1", "--on", "2026-03-01")
    assert code == 0 and "is paid (2026-03-01)" in out


def test_the_billing_day_and_show(policy: str) -> None:
    paid_through(policy, 3)
    code, out = run("billing", "run", "--date", "2026-08-01")
    assert code == 0 and f"APL-{policy}-4" in out and "Automatic premium loans" in out
    code, out = run("billing", "show", policy, "--on", "2026-08-01")
    assert code == 0 and "垫交 auto loan" in out and "1,000.00" in out
    assert "应交 due ¥6,000.00 = 已交 paid ¥4,000.00 + 未交 outstanding ¥2,000.00" in out


def test_loans_take_repay_renew(policy: str) -> None:
    paid_through(policy, 1)
    code, out = run("billing", "loan", "take", policy, "--amount", "1000", "--on", "2026-04-01")
    assert code == 1 and "billing.loan_exceeds_limit" in out and "可贷额度" in out
    code, out = run(
        "billing",
        "loan",
        "take",
        policy,
        "--amount",
        "500",
        "--on",
        "2026-04-01",
        "--loan-id",
        "L1",
    )
    assert code == 0 and "L1" in out and "balance ¥500.00" in out
    code, out = run("billing", "loan", "repay", "L1", "--amount", "100", "--on", "2026-07-01")
    # 500.00 × 5% × 91 / 365 = 6.23 interest first
    assert code == 0 and "interest ¥6.23" in out and "balance ¥406.23" in out
    code, out = run("billing", "loan", "renew", "L1", "--on", "2026-10-01")
    assert code == 0 and "已续贷 renewed L1" in out


def test_year_end(policy: str) -> None:
    paid_through(policy, 12)
    code, out = run("billing", "year-end", policy, "--year", "1", "--dividend", "12.34")
    assert code == 0 and "12.34" in out and "Closing value" in out and "已写入 written" in out


def test_errors_exit_non_zero_with_a_bilingual_message(policy: str) -> None:
    code, out = run("billing", "pay", policy, "1")
    assert code == 1 and "billing.instalment_not_found" in out and "schedule the policy" in out
    code, out = run("billing", "schedule", "NOPE")
    assert code == 1 and "policy.not_found" in out
    code, out = run("billing", "loan", "renew", "NO-LOAN", "--on", "2026-10-01")
    assert code == 1 and "billing.loan_not_found" in out and "借款 NO-LOAN 不存在" in out
    code, out = run("billing", "run", "--date", "2026-13-01")
    assert code == 2 and "YYYY-MM-DD" in out
    code, out = run("billing", "loan", "take", policy, "--amount", "-5")
    assert code == 2 and "--amount" in out


def test_reinstate_a_lapsed_policy(policy: str) -> None:
    paid_through(policy, 1)  # 1,000.00 a month: instalment 2 unpaid, lapsed on 1 June
    code, out = run("billing", "run", "--date", "2026-06-01")
    assert code == 0
    code, out = run("billing", "reinstate", policy, "--on", "2026-07-15", "--quote")
    # 4,000.00 of arrears; interest 14.38 + 10.27 + 6.03 + 1.92 = 32.60
    assert code == 0 and "4,032.60" in out and "2026-04-01" in out
    code, out = run("billing", "reinstate", policy, "--on", "2026-07-15")
    assert code == 0 and "已复效 reinstated on 2026-07-15" in out
    code, out = run("billing", "reinstate", policy, "--on", "2026-07-16")
    assert code == 1 and "billing.not_lapsed" in out and "Traceback" not in out


def test_declare_dividends(policy: str) -> None:
    paid_through(policy, 12)  # the whole first year, 1,000.00 a month
    declare = ("billing", "dividends", "PENSION-ANN", "--year", "1", "--declared", "300", "--on")
    code, out = run(*declare, "2027-02-28")
    assert code == 1 and "billing.dividend_no_policies" in out  # the year has not ended
    code, out = run(*declare, "2027-03-02")
    assert code == 0 and "allocated ¥300.00 至 to 1 张保单 policies" in out and policy in out
