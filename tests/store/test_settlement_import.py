"""出院即结算 through the service layer on SQLite and PostgreSQL: importing 医保 settlement
data reports, decides and pays the authorised claims to the fen, re-importing changes
nothing, unauthorised members are estimated (nothing written) and listed for a reminder.

Worked figures use 北京普惠健康保 2026 (catalog/bj-huiminbao.yaml): in-list and out-of-list
inpatient expenses share an annual deductible of 18,000 CNY (used in item order: in-list,
out-of-list, self-pay), then pay 80 % (in-list) and 70 % (out-of-list, self-pay); special
drugs on the list, at a designated pharmacy, have no deductible and pay 80 % of what 医保
did not pay.  Policies start 2026-01-01, losses are in June (no waiting period, well past
the first 30 days), every payable is under the 50,000 CNY straight-through limit.
"""

from __future__ import annotations

import csv
import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, select

from baoxian.billing.ledger_tables import claim_reminders
from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.claims.case import ClaimStatus
from baoxian.claims.repository import SqlClaimsUnitOfWorkFactory
from baoxian.claims.services import ClaimService
from baoxian.claims.settlement import (
    COLUMNS,
    ImportResult,
    SettlementFile,
    import_settlement,
    read_settlement,
    to_claim,
)
from baoxian.outreach.scan import run_daily
from baoxian.policies.enrolment import EnrolmentService, MemberRow
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.clock import Clock, local_date
from baoxian.shared.errors import NotFound
from baoxian.shared.identity import mask_id
from baoxian.shared.money import Money
from tests.store.conftest import resident_id

CATALOG = Catalog(CatalogRepository(Path(__file__).resolve().parents[2] / "catalog"))
HEADER = [c.name for c in COLUMNS]
M = Money.of

WANG = resident_id("11010519490315001")  # 王建国, man, 1949
LI = resident_id("11010819520715002")  # 李秀英, woman, 1952
ZHAO = resident_id("11010519600101003")  # 赵强, man, 1960
SUN = resident_id("11010219551111004")  # 孙桂兰, woman, 1955


@pytest.fixture
def services(
    engine: Engine, uow: SqlUnitOfWorkFactory, clock: Clock
) -> tuple[PolicyService, ClaimService, SqlClaimsUnitOfWorkFactory]:
    counter = itertools.count(1)

    def new_id() -> str:
        return f"{next(counter):032x}"

    policies = PolicyService(uow=uow, catalog=CATALOG, clock=clock, new_id=new_id)
    claims_uow = SqlClaimsUnitOfWorkFactory(engine, clock)
    claims = ClaimService(
        uow=claims_uow, policies=policies, catalog=CATALOG, clock=clock, new_id=new_id
    )
    return policies, claims, claims_uow


def run_import(
    policies: PolicyService, claims: ClaimService, settlement: SettlementFile, **options: Any
) -> ImportResult:
    """Import through the service, on the store the policies service writes to."""
    uow = policies.uow
    assert isinstance(uow, SqlUnitOfWorkFactory)
    return import_settlement(claims, settlement, uow.engine, uow.cipher, **options)


def huiminbao(policies: PolicyService, name: str, id_number: str) -> str:
    """An individual 惠民保 policy from 2026-01-01 on one person; its number."""
    person = policies.register_person(
        name, id_number, "13812345678", medical_insurance_city="110000"
    )
    insured = (InsuredInput("person", person.party_id),)
    quote = policies.create_quote(QuoteInput("BJ-HMB", person.party_id, date(2026, 1, 1), insured))
    return policies.issue_policy(quote.quote_id).policy_number


def stay(number: str, policy: str, id_number: str, **changes: str) -> dict[str, str]:
    cells = {
        "settlement_no": number,
        "id_number": id_number,
        "name": "",
        "policy_number": policy,
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


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def book(policies: PolicyService) -> dict[str, str]:
    return {
        "wang": huiminbao(policies, "王建国", WANG),
        "li": huiminbao(policies, "李秀英", LI),
        "zhao": huiminbao(policies, "赵强", ZHAO),
        "sun": huiminbao(policies, "孙桂兰", SUN),
    }


def june_file(p: dict[str, str]) -> list[dict[str, str]]:
    return [
        # 王建国, stay 1: in-list 50,000 − 医保 30,000 = 20,000 − deductible 18,000 = 2,000 × 80 %
        # = 1,600.00; out-of-list 5,000 × 70 % = 3,500.00; self-pay 3,000 × 70 % = 2,100.00
        # → 7,200.00
        stay("JS01", p["wang"], WANG),
        # 王建国, stay 2 (same policy year, the deductible is used up): out-of-list 10,000 × 70 %
        # = 7,000.00
        stay(
            "JS02",
            p["wang"],
            WANG,
            admission_date="2026-06-20",
            discharge_date="2026-06-25",
            diagnosis="K80.2",
            total="10000",
            in_list="0",
            out_of_list="10000",
            self_pay="0",
            basic_paid="0",
        ),
        # 李秀英, 特药 trastuzumab at a designated pharmacy: 12,000 − 医保 7,200 = 4,800 × 80 %
        # = 3,840.00
        stay(
            "JS03",
            p["li"],
            LI,
            kind="药店购药",
            provider_code="P110102003",
            admission_date="2026-06-08",
            discharge_date="",
            diagnosis="C50.9",
            total="12000",
            in_list="12000",
            out_of_list="0",
            self_pay="0",
            basic_paid="7200",
            drug_code="L01FD01",
        ),
        # 赵强: 20,000 − 14,000 = 6,000 in-list + 4,000 + 2,000, all within the 18,000
        # deductible → nothing payable, declined as a decided zero payment
        stay(
            "JS04",
            p["zhao"],
            ZHAO,
            diagnosis="S82.2",
            accident="是",
            total="26000",
            in_list="20000",
            out_of_list="4000",
            self_pay="2000",
            basic_paid="14000",
        ),
        # 孙桂兰 has not authorised: stay 1 estimated at 80,000 − 52,000 = 28,000 − 18,000
        # = 10,000 × 80 % = 8,000 + 10,000 × 70 % + 6,000 × 70 % = 19,200.00
        stay(
            "JS05",
            p["sun"],
            SUN,
            name="孙桂兰",
            admission_date="2026-06-03",
            discharge_date="2026-06-20",
            diagnosis="I63.9",
            total="96000",
            in_list="80000",
            out_of_list="10000",
            self_pay="6000",
            basic_paid="52000",
            authorised="否",
        ),
        # … and a pharmacy purchase: pembrolizumab, self-paid 17,918 × 80 % = 14,334.40
        stay(
            "JS06",
            p["sun"],
            SUN,
            name="孙桂兰",
            kind="药店购药",
            provider_code="P110108010",
            admission_date="2026-06-22",
            discharge_date="",
            diagnosis="C34.9",
            total="17918.00",
            in_list="0",
            out_of_list="0",
            self_pay="17918.00",
            basic_paid="0",
            drug_code="L01FF02",
            authorised="否",
        ),
        # … and a third stay: the estimate counts the deductible stay 1 would use, so
        # out-of-list 2,000 × 70 % = 1,400.00 (not 0: 2,000 is under the 18,000 deductible)
        stay(
            "JS07",
            p["sun"],
            SUN,
            admission_date="2026-06-26",
            discharge_date="2026-06-28",
            diagnosis="I63.9",
            total="2000",
            in_list="0",
            out_of_list="2000",
            self_pay="0",
            basic_paid="0",
            authorised="否",
        ),
        # rejected by the services: unknown policy; an ID that is not this policy's insured
        stay("JS08", "BJHMB202699999999", WANG),
        stay("JS09", p["li"], WANG),
        # rejected by validation: the amounts do not add up
        stay("JS10", p["wang"], WANG, total="58000.10"),
    ]


PAID = {"JS01": "7200.00", "JS02": "7000.00", "JS03": "3840.00"}


def assert_paid_once(claims: ClaimService, uow: SqlClaimsUnitOfWorkFactory) -> None:
    for number, amount in PAID.items():
        case = claims.case(f"STL-{number}")
        assert (case.status, case.paid, case.reserve) == (ClaimStatus.PAID, M(amount), M("0"))
        assert case.channel == "settlement_import" and case.fast_track == "discharge"
        with uow() as work:
            payments = work.payments.for_claim(f"STL-{number}")
        assert [(p.amount, p.payee_kind, p.kind) for p in payments] == [
            (M(amount), "insured", "final")
        ]
    zero = claims.case("STL-JS04")
    assert (zero.status, zero.paid, zero.incurred) == (ClaimStatus.DECLINED, M("0"), M("0"))


def counts(result: ImportResult) -> dict[str, int]:
    return {
        "rows": result.rows,
        "created": result.created,
        "already_imported": result.already_imported,
        "paid": result.paid,
        "referred": result.referred,
        "declined": result.declined,
        "unauthorised": result.unauthorised,
        "rejected": result.rejected,
        "reminded": result.reminded,
    }


def test_import_settles_authorised_claims_and_reminds_the_others(
    services: tuple[PolicyService, ClaimService, SqlClaimsUnitOfWorkFactory], tmp_path: Path
) -> None:
    policies, claims, uow = services
    p = book(policies)
    result = run_import(policies, claims, read_settlement(write(tmp_path / "s.csv", june_file(p))))
    assert counts(result) == {
        "rows": 10,
        "created": 4,
        "already_imported": 0,
        "paid": 3,
        "referred": 0,
        "declined": 1,
        "unauthorised": 3,
        "rejected": 3,
        "reminded": 3,
    }
    assert result.rows == (
        result.created + result.already_imported + result.unauthorised + result.rejected
    )
    assert result.total_paid == M("18040.00")  # 7,200 + 7,000 + 3,840
    assert_paid_once(claims, uow)
    assert [(r.row, r.column, r.code) for r in result.rejections] == [
        (9, "policy_number", "policy.not_found"),
        (10, "id_number", "settlement.member_mismatch"),
        (11, "total", "settlement.amounts_do_not_add_up"),
    ]

    sun = policies.policy(p["sun"])
    assert [(r.settlement_no, r.estimated_payable) for r in result.reminders] == [
        ("JS05", M("19200.00")),
        ("JS06", M("14334.40")),
        ("JS07", M("1400.00")),
    ]
    first = result.reminders[0]
    assert (first.policy_number, first.insured_key, first.id_number_masked) == (
        p["sun"],
        sun.units[0].key,
        mask_id(SUN),
    )
    assert (first.name, first.kind, first.loss_date) == ("孙桂兰", "inpatient", date(2026, 6, 3))
    assert first.zh == (
        "孙桂兰您好：您6月3日住院的费用，北京普惠健康保预计可赔约19,200.00元。"
        "回复“授权”，不用交材料就能赔到您的账户。"
    )
    assert "19,200.00 yuan" in first.en and "hospital stay on 3 June" in first.en
    # nothing was written for the unauthorised member: no claim, no accumulators
    for number in ("JS05", "JS06", "JS07"):
        with pytest.raises(NotFound):
            claims.case(f"STL-{number}")
    with uow() as work:
        used, version = work.ledgers.get(p["sun"], sun.units[0].key, sun.term_no)
    assert (dict(used.used), version) == ({}, -1)


def test_reimporting_creates_nothing_and_pays_nothing_twice(
    services: tuple[PolicyService, ClaimService, SqlClaimsUnitOfWorkFactory], tmp_path: Path
) -> None:
    policies, claims, uow = services
    p = book(policies)
    path = write(tmp_path / "s.csv", june_file(p))
    run_import(policies, claims, read_settlement(path))
    history = {n: claims.history(f"STL-{n}") for n in PAID}
    again = run_import(policies, claims, read_settlement(path))
    assert counts(again) == {
        "rows": 10,
        "created": 0,
        "already_imported": 4,
        "paid": 0,
        "referred": 0,
        "declined": 0,
        "unauthorised": 3,
        "rejected": 3,
        "reminded": 3,
    }
    assert again.total_paid == M("0")
    assert_paid_once(claims, uow)
    assert {n: claims.history(f"STL-{n}") for n in PAID} == history


def test_a_run_that_stopped_after_reporting_is_finished_by_the_next(
    services: tuple[PolicyService, ClaimService, SqlClaimsUnitOfWorkFactory], tmp_path: Path
) -> None:
    policies, claims, uow = services
    p = book(policies)
    parsed = read_settlement(write(tmp_path / "s.csv", june_file(p)[:1]))
    row = parsed.rows[0]
    unit = policies.policy(p["wang"]).units[0].key
    claims.report(to_claim(row, unit), channel="settlement_import", fast_track="discharge")
    result = run_import(policies, claims, parsed)
    assert (result.created, result.already_imported, result.paid) == (0, 1, 1)
    assert result.total_paid == M("7200.00")
    case = claims.case("STL-JS01")
    assert (case.status, case.paid) == (ClaimStatus.PAID, M("7200.00"))
    with uow() as work:
        assert [p.amount for p in work.payments.for_claim("STL-JS01")] == [M("7200.00")]


def test_parquet_round_trip_pays_the_same(
    services: tuple[PolicyService, ClaimService, SqlClaimsUnitOfWorkFactory], tmp_path: Path
) -> None:
    policies, claims, uow = services
    p = book(policies)
    rows = june_file(p)
    money = ("total", "in_list", "out_of_list", "self_pay", "basic_paid")
    frame = pl.DataFrame(
        {
            **{c: [r[c] for r in rows] for c in HEADER},
            **{c: [Decimal(r[c]) for r in rows] for c in money},
            "admission_date": [date.fromisoformat(r["admission_date"]) for r in rows],
        },
        schema_overrides={c: pl.Decimal(14, 2) for c in money},
    )
    path = tmp_path / "s.parquet"
    frame.write_parquet(path)
    result = run_import(policies, claims, read_settlement(path))
    assert (result.created, result.paid, result.declined, result.rejected) == (4, 3, 1, 3)
    assert result.total_paid == M("18040.00")
    assert [r.estimated_payable for r in result.reminders] == [
        M("19200.00"),
        M("14334.40"),
        M("1400.00"),
    ]
    assert_paid_once(claims, uow)


# --------------------------------------------------------------------------- by 身份证号

ZHOU = resident_id("11010519580808006")  # 周淑珍, woman, 1958
QIAN = resident_id("11010519700101007")  # 钱进, man, 1970, insured by nobody


def party_id(policies: PolicyService, id_number: str) -> str:
    party = policies.party_with_id_number(id_number)
    assert party is not None
    return party.party_id


def programme_with_member(policies: PolicyService, id_number: str, joined: date) -> str:
    """A 惠民保 programme (group policy) from 2026-01-01 with a first member, and the person
    ``id_number`` enrolled into it from ``joined``; the programme's number."""
    operator = policies.register_organisation(
        "北京普惠健康保共保体", "91110000600037341L", "13900001111"
    )
    first = policies.register_person(
        "张伟", resident_id("11010519650909008"), "13812345670", medical_insurance_city="110000"
    )
    quote = policies.create_quote(
        QuoteInput(
            "BJ-HMB",
            operator.party_id,
            date(2026, 1, 1),
            (InsuredInput("person", first.party_id),),
            group=True,
        )
    )
    number = policies.issue_policy(quote.quote_id, group=True).policy_number
    uow = policies.uow
    assert isinstance(uow, SqlUnitOfWorkFactory)
    member = MemberRow(2, "周淑珍", id_number, "13812345671", "110000", True)
    EnrolmentService(uow=uow, catalog=CATALOG, clock=policies.clock).enrol(
        number, [member], batch_id="join-0525", effective=joined
    )
    return number


def test_members_are_found_by_resident_id_when_the_file_has_no_policy_number(
    services: tuple[PolicyService, ClaimService, SqlClaimsUnitOfWorkFactory], tmp_path: Path
) -> None:
    policies, claims, _uow = services
    p = book(policies)
    individual = huiminbao(policies, "周淑珍", ZHOU)
    programme = programme_with_member(policies, ZHOU, date(2026, 5, 25))
    rows = [
        stay("JS21", "", WANG),  # 王建国's one policy: 7,200.00 as in the June file
        stay("JS22", "", QIAN),  # insured by nobody
        # 周淑珍 before she joined the programme: only her own policy covered the day
        stay("JS23", "", ZHOU, admission_date="2026-05-10", discharge_date="2026-05-15"),
        stay("JS24", "", ZHOU),  # on 1 June both policies covered her: which one?
        # … so the file names the programme: a week after *she* joined, not an accident
        stay("JS25", programme, ZHOU, admission_date="2026-06-02", discharge_date="2026-06-04"),
        stay("JS26", programme, WANG),  # 王建国 is not a member of the programme
    ]
    result = run_import(
        policies, claims, read_settlement(write(tmp_path / "s.csv", rows)), product="BJ-HMB"
    )

    assert [(r.row, r.column, r.code) for r in result.rejections] == [
        (3, "id_number", "settlement.not_a_member"),
        (5, "policy_number", "settlement.several_policies"),
        (7, "id_number", "settlement.member_mismatch"),
    ]
    assert (result.created, result.paid, result.referred, result.rejected) == (3, 2, 1, 3)
    wang = claims.case("STL-JS21")
    assert (wang.claim.policy_number, wang.status, wang.paid) == (
        p["wang"],
        ClaimStatus.PAID,
        M("7200"),
    )
    may = claims.case("STL-JS23")
    assert (may.claim.policy_number, may.status, may.paid) == (
        individual,
        ClaimStatus.PAID,
        M("7200.00"),
    )
    june = claims.case("STL-JS25")
    assert (june.claim.policy_number, june.claim.unit_key, june.status) == (
        programme,
        party_id(policies, ZHOU),
        ClaimStatus.REFERRED,
    )
    assert june.review is not None
    assert [f["code"] for f in june.review["findings"]] == ["review.soon_after_inception"]
    # another product's members are not looked at
    other = run_import(
        policies,
        claims,
        read_settlement(write(tmp_path / "t.csv", [stay("JS27", "", WANG)])),
        product="LTM-15",
    )
    assert [(r.row, r.code) for r in other.rejections] == [(2, "settlement.not_a_member")]


def test_reminders_are_kept_once_and_become_notices(
    services: tuple[PolicyService, ClaimService, SqlClaimsUnitOfWorkFactory],
    tmp_path: Path,
    engine: Engine,
) -> None:
    policies, claims, _uow = services
    p = book(policies)
    path = write(tmp_path / "june.csv", june_file(p))
    first = run_import(policies, claims, read_settlement(path), source="june.csv")
    again = run_import(policies, claims, read_settlement(path), source="june.csv")
    assert (first.reminded, first.reminders_stored) == (3, 3)
    assert (again.reminded, again.reminders_stored) == (3, 0)

    sun = party_id(policies, SUN)
    with engine.connect() as connection:
        kept = connection.execute(
            select(
                claim_reminders.c.settlement_no,
                claim_reminders.c.party_id,
                claim_reminders.c.policy_number,
                claim_reminders.c.amount_fen,
                claim_reminders.c.source_file,
                claim_reminders.c.created_on,
            ).order_by(claim_reminders.c.settlement_no)
        ).all()
    today = local_date(claims.clock())
    assert [tuple(row) for row in kept] == [
        ("JS05", sun, p["sun"], 1920000, "june.csv", today),
        ("JS06", sun, p["sun"], 1433440, "june.csv", today),
        ("JS07", sun, p["sun"], 140000, "june.csv", today),
    ]
    scan = run_daily(engine, today, now=claims.clock())
    assert scan.by_scenario.get("claim_reminder") == 3
    assert run_daily(engine, today, now=claims.clock()).written == 0
