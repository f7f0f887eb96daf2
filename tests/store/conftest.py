"""Store fixtures: an ``engine`` on SQLite and on PostgreSQL, migrated to head.

PostgreSQL comes from ``BAOXIAN_TEST_POSTGRES_URL``; each test gets its own schema (created,
migrated, dropped).  Without the variable the PostgreSQL cases are skipped — except in CI
(``CI=true``), where a missing or unreachable PostgreSQL fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from baoxian.catalog.model import CoverLine
from baoxian.policies.model import (
    Beneficiary,
    InsuredUnit,
    Organisation,
    Person,
    Policy,
    PolicyStatus,
    new_organisation,
    new_person,
)
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.shared.clock import Clock, fixed_clock
from baoxian.shared.identity import resident_id_check_digit
from baoxian.shared.money import Money
from baoxian.store.crypto import FieldCipher
from baoxian.store.db import make_engine
from baoxian.store.migrate import upgrade

POSTGRES_URL_ENV = "BAOXIAN_TEST_POSTGRES_URL"
NOW = datetime(2026, 2, 15, 2, 0, tzinfo=UTC)
CREDIT_CODE = "91110000600037341L"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def resident_id(first17: str) -> str:
    """A valid 身份证号 from its first 17 digits (the check digit is computed)."""
    return first17 + resident_id_check_digit(first17)


# --------------------------------------------------------------------------- databases


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        if _in_ci():
            pytest.fail(f"CI=true but {POSTGRES_URL_ENV} is not set: PostgreSQL tests must run")
        pytest.skip(f"PostgreSQL tests need {POSTGRES_URL_ENV}")
    probe = make_engine(url)
    try:
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL_ENV} is unreachable: {exc}")
    finally:
        probe.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def blank_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database (no migrations run yet)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        yield engine
        engine.dispose()
        return
    yield from _postgres_schema(request.getfixturevalue("postgres_url"))


def _postgres_schema(url: str) -> Iterator[Engine]:
    schema = f"t_{uuid4().hex}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(blank_engine: Engine) -> Engine:
    upgrade(blank_engine)
    return blank_engine


@pytest.fixture(scope="session")
def cipher() -> FieldCipher:
    return FieldCipher.from_encoded(FieldCipher.generate_key())


@pytest.fixture
def clock() -> Clock:
    return fixed_clock(NOW)


@pytest.fixture
def uow(engine: Engine, cipher: FieldCipher, clock: Clock) -> SqlUnitOfWorkFactory:
    """Each call is a fresh unit of work on the migrated ``engine``."""
    return SqlUnitOfWorkFactory(engine, cipher, clock)


# --------------------------------------------------------------------------- domain objects


@pytest.fixture
def person() -> Person:
    return new_person(
        uuid4().hex,
        "张三",
        resident_id("11010519850312001"),
        "13812345678",
        address="北京市朝阳区建国路1号",
        region_code="110105",
        has_basic_medical=True,
        medical_insurance_city="110000",
    )


@pytest.fixture
def spouse() -> Person:
    return new_person(
        uuid4().hex,
        "李四",
        resident_id("11010819900715002"),
        "13987654321",
        region_code="110108",
        has_basic_medical=False,
    )


@pytest.fixture
def organisation() -> Organisation:
    return new_organisation(
        uuid4().hex, "北京示例科技有限公司", CREDIT_CODE, "13700001111", address="北京市海淀区"
    )


def make_policy(number: str, holder: Person, insured: list[Person]) -> Policy:
    """A group health policy on ``insured`` with a site, cover per unit and beneficiaries."""
    units = tuple(
        InsuredUnit(
            key=p.party_id,
            kind="person",
            facts={"age": p.age_on(date(2026, 3, 1)), "gender": p.gender, "tags": ["既往症"]},
            party_id=p.party_id,
        )
        for p in insured
    )
    site = InsuredUnit(
        key=f"SITE-{number}",
        kind="site",
        facts={"coastal": True, "sum_insured": Money.of("1200000.50"), "rate": "0.35"},
        details={"address": "上海市浦东新区世纪大道100号", "floors": 12},
        declared_sum_insured=Money.of("1200000.50"),
    )
    all_units = (*units, site)
    cover = tuple(
        CoverLine(u.key, code, Money.of(amount))
        for u in all_units
        for code, amount in (("in_list_inpatient", "3000000"), ("special_drugs", "1000000.01"))
    )
    return Policy(
        policy_number=number,
        product_code="BJ-HMB",
        plan_version="2026",
        holder_id=holder.party_id,
        status=PolicyStatus.IN_FORCE,
        original_inception=date(2025, 3, 1),
        term_no=2,
        term_start=date(2026, 3, 1),
        term_end=date(2027, 3, 1),
        instalment="annual",
        units=all_units,
        cover=cover,
        riders=frozenset({"outpatient", "dental"}),
        optional_coverages=frozenset({"special_drugs"}),
        selections={"liability": Money.of("500000"), "deductible": Money.ZERO},
        annual_premium=Money.of("1234.56"),
        premium_charged=Money.of("1200.01"),
        contact_mobile=holder.mobile,
        contact_address="北京市朝阳区建国路1号",
        beneficiaries=(
            Beneficiary("王五", resident_id("11010119750101003"), "配偶", 60),
            Beneficiary("赵六", resident_id("11010519491231002"), "父母", 40),
        ),
        group=True,
        member_count=len(all_units),
        endorsement_count=1,
        version=0,
        ended_on=None,
    )


@pytest.fixture
def stored_policy(uow: SqlUnitOfWorkFactory, person: Person, spouse: Person) -> Policy:
    """A policy (with its holder and insured) committed to the store."""
    policy = make_policy("BJHMB202600000001", person, [person, spouse])
    with uow() as work:
        work.parties.add(person)
        work.parties.add(spouse)
        work.policies.add(policy)
        work.commit()
    return policy


PolicyMaker = Callable[[str, Person, list[Person]], Policy]


@pytest.fixture
def policy_of() -> PolicyMaker:
    """``policy_of(number, holder, insured)`` builds a policy (not stored)."""
    return make_policy
