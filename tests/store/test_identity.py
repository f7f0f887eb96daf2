"""Sign-in on SQLite and PostgreSQL: codes expire and allow five tries, requests are limited
per number and per client, staff passwords are argon2 hashes, and every check is audited."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from baoxian.identity.model import RateLimited, SignInFailed
from baoxian.identity.services import IdentityService
from baoxian.identity.tables import staff_users
from baoxian.outreach.services import OutreachService
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import PolicyService
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.money import Money
from baoxian.store.crypto import FieldCipher
from baoxian.store.tables import events
from tests.store.conftest import resident_id
from tests.store.test_claims import CATALOG

MOBILE = "13812345678"


@dataclass
class Clock:
    now: datetime = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(engine: Engine, cipher: FieldCipher) -> tuple[IdentityService, OutreachService, Clock]:
    clock = Clock()
    counter = itertools.count(1)

    def new_id() -> str:
        return f"{next(counter):032x}"

    policies = PolicyService(SqlUnitOfWorkFactory(engine, cipher, clock), CATALOG, clock, new_id)
    policies.register_person("王建国", resident_id("11010519810415031"), MOBILE)
    outreach = OutreachService(engine, cipher, clock, new_id)
    identity = IdentityService(
        engine,
        policies,
        outreach,
        cipher.derive_key("sign-in-codes"),
        clock,
        new_id,
        random_bytes=lambda n: (123456).to_bytes(n, "big"),
    )
    return identity, outreach, clock


def sent_code(outreach: OutreachService) -> str:
    found = re.search(r"(\d{6})", outreach.outbox(1)[0].body_zh)
    assert found
    return found.group(1)


def test_a_code_signs_in_once_and_names_the_parties(
    world: tuple[IdentityService, OutreachService, Clock],
) -> None:
    identity, outreach, _ = world
    identity.request_code(" 138 1234 5678 ", "10.0.0.1")
    code = sent_code(outreach)
    assert code == "123456"
    assert outreach.outbox(1)[0].mobile_masked == "138****5678"
    customer = identity.verify_code(MOBILE, code)
    assert [p.name for p in customer.parties] == ["王建国"]
    with pytest.raises(SignInFailed):
        identity.verify_code(MOBILE, code)  # used


def test_a_code_expires_after_five_minutes(
    world: tuple[IdentityService, OutreachService, Clock],
) -> None:
    identity, outreach, clock = world
    identity.request_code(MOBILE, "10.0.0.1")
    clock.now += timedelta(minutes=5)
    with pytest.raises(SignInFailed) as error:
        identity.verify_code(MOBILE, sent_code(outreach))
    assert error.value.code == "identity.sign_in_failed"


def test_requests_are_limited_per_client_address(
    world: tuple[IdentityService, OutreachService, Clock],
) -> None:
    identity, _, clock = world
    for n in range(20):
        identity.request_code(f"139{n:08d}", "10.0.0.9")
    with pytest.raises(RateLimited):
        identity.request_code("13700000000", "10.0.0.9")
    clock.now += timedelta(hours=1)
    identity.request_code("13700000000", "10.0.0.9")  # the window has passed


def test_staff_passwords_are_hashed_and_checked(
    engine: Engine, world: tuple[IdentityService, OutreachService, Clock]
) -> None:
    identity, _, _ = world
    identity.add_staff("li", "李经理", "a-long-password", ["claims_supervisor"], Money.of("500000"))
    with engine.connect() as connection:
        stored = connection.execute(select(staff_users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "a-long-password" not in stored
    user = identity.staff_sign_in("li", "a-long-password")
    assert user.has("claims_handler") and not user.has("service")
    assert user.authority == Money.of("500000")
    with pytest.raises(SignInFailed):
        identity.staff_sign_in("li", "wrong-password")
    with pytest.raises(ValidationFailed) as weak:
        identity.add_staff("wu", "吴", "short", ["service"])
    assert weak.value.code == "identity.weak_password"
    with pytest.raises(ValidationFailed) as role:
        identity.add_staff("wu", "吴", "a-long-password", ["pilot"])
    assert role.value.code == "identity.unknown_role"
    with engine.connect() as connection:
        audited = connection.execute(
            select(events.c.event_type, events.c.payload).where(events.c.aggregate_id == "li")
        ).all()
    assert [(e, p.get("ok")) for e, p in audited] == [
        ("identity.staff_saved", None),
        ("identity.staff_sign_in", True),
        ("identity.staff_sign_in", False),
    ]
