"""Change requests and 慧保全 links on the real store (SQLite and PostgreSQL): personal data
encrypted at rest, version-guarded updates, idempotent and resumable submission, and two
staff approving the same request at once."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.outreach.services import Text
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.requests import (
    ChangeKind,
    ChangeRequest,
    ChannelCounts,
    Requester,
    RequestStatus,
    new_link,
    new_request,
)
from baoxian.policies.requests_service import ChangeRequestService
from baoxian.policies.requests_store import SqlChangeUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.policies.tables import change_links, change_requests
from baoxian.shared.clock import Clock
from baoxian.shared.errors import ConcurrencyConflict, DomainError
from baoxian.store.crypto import FieldCipher
from tests.store.conftest import NOW, resident_id

CATALOG = Catalog(CatalogRepository(Path(__file__).resolve().parents[2] / "catalog"))
MOBILE = "13812345678"
BENEFICIARY_ID = resident_id("11010519820506002")


@dataclass
class Inbox:
    """A fake notifier and text-message sender: what would have been sent."""

    sent: list[tuple[str | None, str, Text]] = field(default_factory=list)

    def notify(self, party_id: str, mobile: str, text: Text) -> object:
        self.sent.append((party_id, mobile, text))
        return None

    def send_sms(self, mobile: str, text: Text, party_id: str | None = None) -> object:
        self.sent.append((party_id, mobile, text))
        return None


@pytest.fixture
def policies(uow: SqlUnitOfWorkFactory, clock: Clock) -> PolicyService:
    counter = itertools.count(1)
    return PolicyService(
        uow=uow, catalog=CATALOG, clock=clock, new_id=lambda: f"{next(counter):032x}"
    )


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def changes(
    engine: Engine, cipher: FieldCipher, policies: PolicyService, clock: Clock, inbox: Inbox
) -> ChangeRequestService:
    counter = itertools.count(1)
    return ChangeRequestService(
        uow=SqlChangeUnitOfWorkFactory(engine, cipher),
        policies=policies,
        notifier=inbox,
        sms=inbox,
        link_key=cipher.derive_key("link-push"),
        mobile_index=cipher.mobile_index,
        clock=clock,
        new_id=lambda: f"{next(counter) + 1000:032x}",
    )


@pytest.fixture
def number(policies: PolicyService) -> str:
    """A 惠民保 policy in force on NOW (2026-02-15), held by a person with :data:`MOBILE`."""
    person = policies.register_person(
        "王建国", resident_id("11010519810415031"), MOBILE, medical_insurance_city="110000"
    )
    quote = policies.create_quote(
        QuoteInput(
            "BJ-HMB", person.party_id, date(2026, 1, 1), (InsuredInput("person", person.party_id),)
        )
    )
    return policies.issue_policy(quote.quote_id).policy_number


def rid(n: int) -> str:
    return f"{n:032x}"


def test_values_are_encrypted_at_rest_and_read_back(
    engine: Engine,
    cipher: FieldCipher,
    changes: ChangeRequestService,
    policies: PolicyService,
    number: str,
) -> None:
    by = changes.customer(MOBILE)
    beneficiary = {
        "name": "李娜",
        "id_number": BENEFICIARY_ID,
        "relationship": "配偶",
        "share_percent": "100",
    }
    request = changes.submit(
        number, ChangeKind.BENEFICIARY, {"beneficiaries": [beneficiary]}, by=by, request_id=rid(1)
    )
    assert request.status is RequestStatus.PENDING_REVIEW and request.version == 1
    assert changes.request(rid(1)) == request
    assert request.values == {
        "beneficiaries": [
            {
                "name": "李娜",
                "id_number": BENEFICIARY_ID,
                "relationship": "配偶",
                "share_percent": 100,
            }
        ]
    }
    with engine.connect() as connection:
        row = connection.execute(select(change_requests)).one()
    assert BENEFICIARY_ID not in row.values_enc and "李娜" not in row.values_enc
    assert (row.requested_by_kind, row.requested_by) == ("customer", cipher.mobile_index(MOBILE))
    assert MOBILE not in str(tuple(row))
    assert changes.queue() == [request]
    assert changes.on_policies([number]) == [request]
    assert changes.on_policies([]) == []


def test_a_stale_version_loses(
    engine: Engine, cipher: FieldCipher, changes: ChangeRequestService, number: str
) -> None:
    request = changes.submit(
        number,
        ChangeKind.BENEFICIARY,
        {"beneficiaries": []},
        by=changes.staff("li"),
        request_id=rid(2),
    )
    uow = SqlChangeUnitOfWorkFactory(engine, cipher)
    with uow() as first:
        first.requests.update(replace(request, comment="先到"), expected_version=request.version)
        first.commit()
    with uow() as second, pytest.raises(ConcurrencyConflict) as lost:
        second.requests.update(replace(request, comment="后到"), expected_version=request.version)
    assert lost.value.code == "change_request.concurrent_change"
    assert changes.request(rid(2)).comment == "先到"


def test_requests_are_counted_by_channel_over_every_status(
    changes: ChangeRequestService, number: str
) -> None:
    """Online = the customer's own requests; the rest were entered by staff."""
    assert changes.channel_counts() == ChannelCounts(online=0, counter=0)
    customer, staff = changes.customer(MOBILE), changes.staff("li")
    address = {"address": "北京市西城区金融街7号"}
    changes.submit(number, ChangeKind.CONTACT, address, by=customer, request_id=rid(11))
    changes.submit(number, ChangeKind.CONTACT, address, by=customer, request_id=rid(12))
    waiting = changes.submit(
        number, ChangeKind.BENEFICIARY, {"beneficiaries": []}, by=staff, request_id=rid(13)
    )
    changes.decline(waiting.request_id, "li", "不需要")
    counts = changes.channel_counts()
    assert counts == ChannelCounts(online=2, counter=1) and counts.total == 3


def test_submitting_twice_is_one_request_and_one_endorsement(
    changes: ChangeRequestService, policies: PolicyService, number: str, inbox: Inbox
) -> None:
    by = changes.customer(MOBILE)
    values = {"address": "北京市西城区金融街7号"}
    first = changes.submit(number, ChangeKind.CONTACT, values, by=by, request_id=rid(3))
    second = changes.submit(number, ChangeKind.CONTACT, values, by=by, request_id=rid(3))
    assert first == second and first.status is RequestStatus.APPLIED
    assert first.effective == date(2026, 2, 15)
    policy = policies.policy(number)
    assert (policy.contact_address, policy.endorsement_count) == ("北京市西城区金融街7号", 1)
    assert len(inbox.sent) == 1
    with pytest.raises(DomainError) as taken:
        changes.submit(
            number, ChangeKind.CONTACT, values, by=changes.staff("li"), request_id=rid(3)
        )
    assert taken.value.code == "change_request.id_taken"


def test_a_submission_cut_short_after_the_endorsement_finishes_without_repeating_it(
    engine: Engine,
    cipher: FieldCipher,
    changes: ChangeRequestService,
    policies: PolicyService,
    number: str,
) -> None:
    """The process died after the endorsement was made but before the request was marked
    applied: the retry records the outcome and does not endorse again."""
    by = changes.customer(MOBILE)
    policy = policies.policy(number)
    stuck = new_request(rid(4), policy, ChangeKind.CONTACT, {"address": "新地址"}, by, NOW)
    with SqlChangeUnitOfWorkFactory(engine, cipher)() as uow:
        uow.requests.add(stuck)
        uow.commit()
    policies.change_contact(number, date(2026, 2, 15), address="新地址", request_id=rid(4))
    done = changes.submit(
        number, ChangeKind.CONTACT, {"address": "新地址"}, by=by, request_id=rid(4)
    )
    assert done.status is RequestStatus.APPLIED
    assert policies.policy(number).endorsement_count == 1


def test_two_staff_approving_at_once_apply_the_change_once(
    changes: ChangeRequestService, policies: PolicyService, number: str
) -> None:
    rows = [
        {"name": "李娜", "id_number": BENEFICIARY_ID, "relationship": "配偶", "share_percent": 100}
    ]
    changes.submit(
        number,
        ChangeKind.BENEFICIARY,
        {"beneficiaries": rows},
        by=changes.customer(MOBILE),
        request_id=rid(5),
    )
    barrier = threading.Barrier(2)
    outcomes: list[ChangeRequest | DomainError] = []

    def approve(staff: str) -> None:
        barrier.wait()
        try:
            outcomes.append(changes.approve(rid(5), staff))
        except DomainError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=approve, args=(s,)) for s in ("li", "zhao")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [o for o in outcomes if isinstance(o, ChangeRequest)]
    assert len(won) == 1 and won[0].status is RequestStatus.APPROVED
    assert changes.request(rid(5)).decided_by == won[0].decided_by
    policy = policies.policy(number)
    assert policy.endorsement_count == 1
    assert [b.name for b in policy.beneficiaries] == ["李娜"]


def test_links_are_stored_with_the_phone_as_a_blind_index(
    engine: Engine,
    cipher: FieldCipher,
    changes: ChangeRequestService,
    policies: PolicyService,
    number: str,
    clock: Clock,
) -> None:
    pushed = changes.push_link("li", MOBILE, number, ChangeKind.CONTACT, {"address": "金融街7号"})
    link = pushed.link
    assert link.expires_at == NOW + timedelta(hours=72)
    assert changes.open_link(pushed.token, MOBILE) == link
    with engine.connect() as connection:
        row = connection.execute(select(change_links)).one()
    assert row.mobile_hash == cipher.mobile_index(MOBILE) and "金融街" not in row.values_enc
    policy = policies.policy(number)
    unit_link = new_link(
        rid(9), policy, ChangeKind.CONTACT, {"mobile": " 13900001111 "}, "h", "li", NOW
    )
    assert unit_link.values == {"mobile": "13900001111"}
    with pytest.raises(DomainError) as short:
        changes.push_link("li", MOBILE, number, ChangeKind.CONTACT, {}, ttl=timedelta(minutes=1))
    assert short.value.code == "link.invalid_ttl"
    later = datetime(2026, 2, 18, 2, 0, tzinfo=UTC)
    assert link.expired(later) and not link.expired(clock())


def test_requester_kinds_are_kept(changes: ChangeRequestService) -> None:
    assert changes.staff("li") == Requester("staff", "li")
    assert changes.customer("+86 138-1234-5678") == changes.customer(MOBILE)
