"""Round trips of parties, quotes, policies and events; lookups, errors, sequences, and
personal data at rest — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select

from baoxian.catalog.model import CoverLine, Decision, PremiumLine, Quotation, Reason
from baoxian.policies.model import (
    InsuredUnit,
    Organisation,
    Person,
    Policy,
    PolicyStatus,
    Quote,
    QuoteStatus,
)
from baoxian.policies.ports import Event
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.tables import parties, policies
from baoxian.shared.errors import NotFound, ValidationFailed
from baoxian.shared.money import Money
from baoxian.store.crypto import FieldCipher

PolicyMaker = Callable[[str, Person, list[Person]], Policy]

# --------------------------------------------------------------------------- parties


def test_person_round_trip(uow: SqlUnitOfWorkFactory, person: Person) -> None:
    with uow() as work:
        work.parties.add(person)
        work.commit()
    with uow() as work:
        assert work.parties.get(person.party_id) == person


def test_organisation_round_trip(uow: SqlUnitOfWorkFactory, organisation: Organisation) -> None:
    with uow() as work:
        work.parties.add(organisation)
        work.commit()
    with uow() as work:
        found = work.parties.get(organisation.party_id)
    assert found == organisation
    assert isinstance(found, Organisation)


def test_find_by_id_number_uses_the_blind_index(
    uow: SqlUnitOfWorkFactory, person: Person, organisation: Organisation
) -> None:
    with uow() as work:
        work.parties.add(person)
        work.parties.add(organisation)
        work.commit()
    with uow() as work:
        assert work.parties.find_by_id_number(person.id_number) == person
        assert work.parties.find_by_id_number(f" {person.id_number.lower()} ") == person
        assert work.parties.find_by_id_number(organisation.credit_code) == organisation
        assert work.parties.find_by_id_number("110101197501010039") is None


def test_a_second_party_with_the_same_id_number_is_refused(
    uow: SqlUnitOfWorkFactory, person: Person
) -> None:
    with uow() as work:
        work.parties.add(person)
        work.commit()
    with uow() as work, pytest.raises(ValidationFailed) as refused:
        work.parties.add(replace(person, party_id="another"))
    assert refused.value.code == "party.already_registered"


def test_personal_data_is_encrypted_at_rest(
    engine: Engine, uow: SqlUnitOfWorkFactory, cipher: FieldCipher, stored_policy: Policy
) -> None:
    with uow() as work:
        holder = work.parties.get(stored_policy.holder_id)
    assert isinstance(holder, Person)
    with engine.connect() as connection:
        party = connection.execute(
            select(parties).where(parties.c.party_id == holder.party_id)
        ).one()
        policy = connection.execute(select(policies)).one()
    raw = f"{party.id_number_enc} {party.mobile_enc} {policy.contact_mobile_enc}"
    raw += repr(policy.beneficiaries)
    for secret in (
        holder.id_number,
        holder.mobile,
        *(b.id_number for b in stored_policy.beneficiaries),
    ):
        assert secret not in raw
    assert cipher.decrypt(party.id_number_enc) == holder.id_number
    assert cipher.decrypt(party.mobile_enc) == holder.mobile
    assert cipher.decrypt(policy.contact_mobile_enc) == holder.mobile
    assert party.id_hash == cipher.blind_index(holder.id_number)


# --------------------------------------------------------------------------- quotes


def _quote(holder: Person) -> Quote:
    site = InsuredUnit(
        "SH-PD-0001",
        "site",
        {"coastal": True, "construction_class": 2, "sum_insured": Money.of("8000000")},
        {"address": "上海市浦东新区", "floors": 3},
        declared_sum_insured=Money.of("8000000"),
    )
    insured = InsuredUnit(
        holder.party_id,
        "person",
        {"age": 40, "gender": "M", "declared_conditions": ["高血压"]},
        party_id=holder.party_id,
    )
    quotation = Quotation(
        product_code="PROP-AR",
        plan_version="2026",
        start_date=date(2026, 3, 1),
        cover=(
            CoverLine(site.key, "material_damage", Money.of("8000000")),
            CoverLine(insured.key, "accident", Money.of("100000.5")),
        ),
        lines=(
            PremiumLine(site.key, "base", Money.of("1234.57")),
            PremiumLine(insured.key, "accident", Money.of("88")),
        ),
        minimum_premium_top_up=Money.ZERO,
        annual_premium=Money.of("1322.57"),
        instalment="quarterly",
        instalments=tuple(Money.of("1322.57").allocate(4)),
        decision=Decision(
            "refer",
            (
                Reason("site.coastal", "refer", "沿海场所需人工核保", "coastal site", site.key),
                Reason("rating.no_rate", "refer", "无费率", "no rate"),
            ),
        ),
    )
    return Quote(
        quote_id="Q-0001",
        holder_id=holder.party_id,
        units=(site, insured),
        quotation=quotation,
        riders=frozenset({"typhoon"}),
        optional_coverages=frozenset(),
        selections={"liability": Money.of("1000000")},
        status=QuoteStatus.REFERRED,
    )


def test_quote_round_trip_is_exact(uow: SqlUnitOfWorkFactory, person: Person) -> None:
    quote = _quote(person)
    with uow() as work:
        work.parties.add(person)
        work.quotes.add(quote)
        work.commit()
    with uow() as work:
        assert work.quotes.get(quote.quote_id) == quote


def test_quote_update(uow: SqlUnitOfWorkFactory, person: Person) -> None:
    quote = _quote(person)
    issued = replace(
        quote,
        status=QuoteStatus.ISSUED,
        underwriter_note="已查勘，同意承保",
        policy_number="PROPAR202600000001",
    )
    with uow() as work:
        work.parties.add(person)
        work.quotes.add(quote)
        work.quotes.update(issued)
        work.commit()
    with uow() as work:
        assert work.quotes.get(quote.quote_id) == issued


# --------------------------------------------------------------------------- policies


def test_policy_round_trip_is_exact(uow: SqlUnitOfWorkFactory, stored_policy: Policy) -> None:
    with uow() as work:
        loaded = work.policies.get(stored_policy.policy_number)
    assert loaded == stored_policy
    assert loaded.cover == stored_policy.cover
    assert loaded.unit(f"SITE-{stored_policy.policy_number}").declared_sum_insured == Money.of(
        "1200000.50"
    )


def test_find_policies_of_a_holder(
    uow: SqlUnitOfWorkFactory, stored_policy: Policy, spouse: Person
) -> None:
    with uow() as work:
        assert work.policies.find(holder_id=stored_policy.holder_id) == [stored_policy]
        assert work.policies.find(holder_id=spouse.party_id) == []
        assert work.policies.find(limit=1) == [stored_policy]


def test_update_writes_the_policy_and_bumps_the_version(
    uow: SqlUnitOfWorkFactory, stored_policy: Policy, person: Person
) -> None:
    changed = replace(
        stored_policy,
        status=PolicyStatus.CANCELLED,
        ended_on=date(2026, 9, 1),
        contact_mobile="13900001111",
        premium_charged=Money.of("600"),
        units=stored_policy.units[1:],
        cover=tuple(c for c in stored_policy.cover if c.unit_key != person.party_id),
        beneficiaries=(),
        riders=frozenset(),
    )
    with uow() as work:
        saved = work.policies.update(changed, expected_version=0)
        work.commit()
    assert saved == replace(changed, version=1)
    with uow() as work:
        assert work.policies.get(stored_policy.policy_number) == saved


@pytest.mark.parametrize(
    ("kind", "code"),
    [("party", "party.not_found"), ("quote", "quote.not_found"), ("policy", "policy.not_found")],
)
def test_missing_rows_raise_not_found_with_a_stable_code(
    uow: SqlUnitOfWorkFactory, kind: str, code: str
) -> None:
    with uow() as work, pytest.raises(NotFound) as missing:
        getters: dict[str, Callable[[str], object]] = {
            "party": work.parties.get,
            "quote": work.quotes.get,
            "policy": work.policies.get,
        }
        getters[kind]("nope")
    assert missing.value.code == code
    assert "nope" in missing.value.zh and "nope" in missing.value.en


def test_updating_a_missing_policy_or_quote_is_not_found(
    uow: SqlUnitOfWorkFactory, person: Person, policy_of: PolicyMaker
) -> None:
    with uow() as work:
        with pytest.raises(NotFound) as no_quote:
            work.quotes.update(_quote(person))
        with pytest.raises(NotFound) as no_policy:
            work.policies.update(policy_of("NOPE", person, [person]), expected_version=0)
    assert no_quote.value.code == "quote.not_found"
    assert no_policy.value.code == "policy.not_found"


# --------------------------------------------------------------------------- events


def _event(aggregate_id: str, n: int, request_id: str | None = None) -> Event:
    shanghai = timezone(timedelta(hours=8))
    return Event(
        "policy",
        aggregate_id,
        "policy.endorsed",
        {"n": n, "mobile": "138****5678", "amount": Money.of("12.30"), "on": date(2026, 3, 1)},
        datetime(2026, 3, 1, 9, 30, n, tzinfo=shanghai),
        request_id,
    )


def test_events_round_trip_in_order_with_aware_times(uow: SqlUnitOfWorkFactory) -> None:
    appended = [_event("P1", n) for n in range(3)]
    with uow() as work:
        for event in [*appended, _event("P2", 9)]:
            work.events.append(event)
        work.commit()
    with uow() as work:
        loaded = work.events.for_aggregate("P1")
    assert loaded == appended
    assert all(e.occurred_at.tzinfo is not None for e in loaded)
    assert loaded[0].occurred_at.utcoffset() == timedelta(0)


def test_seen_knows_applied_request_ids(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as work:
        work.events.append(_event("P1", 1, request_id="req-1"))
        work.commit()
    with uow() as work:
        assert work.events.seen("req-1")
        assert not work.events.seen("req-2")


def test_stored_timestamps_are_timezone_aware(engine: Engine, stored_policy: Policy) -> None:
    with engine.connect() as connection:
        created = connection.execute(select(policies.c.created_at)).scalar_one()
    assert created == datetime(2026, 2, 15, 2, 0, tzinfo=UTC)
    assert created.utcoffset() == timedelta(0)


# --------------------------------------------------------------------------- transactions


def test_an_uncommitted_unit_of_work_leaves_neither_event_nor_change(
    uow: SqlUnitOfWorkFactory, stored_policy: Policy
) -> None:
    changed = replace(stored_policy, contact_address="上海市")
    with uow() as work:
        work.policies.update(changed, expected_version=0)
        work.events.append(_event(stored_policy.policy_number, 1, request_id="req-9"))
    with pytest.raises(RuntimeError), uow() as work:
        work.policies.update(changed, expected_version=0)
        work.events.append(_event(stored_policy.policy_number, 2))
        raise RuntimeError("crash before commit")
    with uow() as work:
        assert work.policies.get(stored_policy.policy_number) == stored_policy
        assert work.events.for_aggregate(stored_policy.policy_number) == []
        assert not work.events.seen("req-9")


def test_explicit_rollback_discards_the_work_so_far(
    uow: SqlUnitOfWorkFactory, person: Person
) -> None:
    with uow() as work:
        work.parties.add(person)
        work.rollback()
        work.events.append(_event("P1", 1))
        work.commit()
    with uow() as work:
        assert work.parties.find_by_id_number(person.id_number) is None
        assert len(work.events.for_aggregate("P1")) == 1


# --------------------------------------------------------------------------- sequences


def test_sequences_increase_per_name_and_survive_commits(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as work:
        first = [work.sequences.next_value("BJHMB2026") for _ in range(3)]
        other = work.sequences.next_value("PROPAR2026")
        work.commit()
    with uow() as work:
        later = work.sequences.next_value("BJHMB2026")
    with uow() as work:
        after_rollback = work.sequences.next_value("BJHMB2026")
    assert first == [1, 2, 3]
    assert other == 1
    assert later == 4
    assert after_rollback == 4


def test_unit_order_survives_reordering_and_repeated_updates(
    uow: SqlUnitOfWorkFactory, stored_policy: Policy
) -> None:
    reordered = replace(
        stored_policy,
        units=stored_policy.units[::-1],
        cover=tuple(
            c for u in stored_policy.units[::-1] for c in stored_policy.cover if c.unit_key == u.key
        ),
    )
    with uow() as work:
        once = work.policies.update(reordered, expected_version=0)
        twice = work.policies.update(
            replace(once, units=once.units[1:], cover=once.cover[2:]), expected_version=1
        )
        work.commit()
    with uow() as work:
        assert work.policies.get(stored_policy.policy_number) == twice
    assert twice.version == 2


def test_sequences_advance_to_never_moves_back(uow: SqlUnitOfWorkFactory) -> None:
    with uow() as work:
        work.sequences.advance_to("BJHMB2026", 500)
        work.sequences.advance_to("BJHMB2026", 20)
        assert work.sequences.next_value("BJHMB2026") == 501
        work.commit()


def test_count_and_summary_of_the_book(
    uow: SqlUnitOfWorkFactory, stored_policy: Policy, person: Person
) -> None:
    lapsed = replace(stored_policy, policy_number="BJHMB202600000002", status=PolicyStatus.LAPSED)
    with uow() as work:
        work.policies.add(lapsed)
        work.commit()
    with uow() as work:
        assert work.policies.count() == 2
        assert work.policies.summary() == [
            {
                "product_code": "BJ-HMB",
                "status": status,
                "policies": 1,
                "insured": 3,
                "premium_fen": 123456,
            }
            for status in ("in_force", "lapsed")
        ]
