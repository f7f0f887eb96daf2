"""The outbox of proactive notices on SQLite and PostgreSQL: queued once per deduplication key,
delivered once per key through the channel ports, quiet hours, back-off, recovery."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import Engine, select, update

from baoxian.outreach.channels import MemoryChannel, NoticeChannel, message_id
from baoxian.outreach.delivery import RETRY_DELAYS, ChannelError, OutgoingMessage
from baoxian.outreach.model import Preference
from baoxian.outreach.outbox import (
    NOTICE_COLUMNS,
    DispatchReport,
    OutboxDispatcher,
    outbox_counts,
    write_notices,
)
from baoxian.outreach.services import OutreachService
from baoxian.outreach.tables import outreach_attempts, outreach_outbox, outreach_preferences
from baoxian.policies.model import Person
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.shared.errors import NotFound, ValidationFailed
from baoxian.store.crypto import FieldCipher

RUN = date(2026, 12, 2)
MORNING = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
NIGHT = datetime(2026, 12, 2, 14, 30, tzinfo=UTC)  # 22:30 in Beijing


class Clock:
    """A clock the test moves."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def notice(key: str, party_id: str, channel: str = "sms", **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "dedup_key": key,
        "scenario": "renewal_due",
        "party_id": party_id,
        "policy_number": "BJHMB202600000001",
        "channel": channel,
        "locale": "zh",
        "care": False,
        "reason_code": "premium_due",
        "reason_zh": "保单 BJHMB202600000001 第2期保费 1,234.50 元将于 2026-12-15 到期",
        "reason_en": "Instalment 2 of policy BJHMB202600000001 (1,234.50 CNY) is due on 2026-12-15",
        "data": '{"amount_fen":123450,"due_on":"2026-12-15","seq":2}',
        "due_on": date(2026, 12, 15),
        "run_date": RUN,
    }
    row.update(changes)
    return row


def frame(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema_overrides={"due_on": pl.Date, "run_date": pl.Date})


@pytest.fixture
def holder(uow: SqlUnitOfWorkFactory, person: Person) -> Person:
    with uow() as work:
        work.parties.add(person)
        work.commit()
    return person


def queue(engine: Engine, *rows: dict[str, object]) -> int:
    with engine.begin() as connection:
        return write_notices(connection, frame(*rows), MORNING)


def dispatcher(
    engine: Engine, cipher: FieldCipher, clock: Clock, port: object, worker: str = "w1"
) -> OutboxDispatcher:
    channels = dict.fromkeys(("sms", "email", "push", "webhook", "inbox"), port)
    return OutboxDispatcher(engine, channels, cipher, clock, worker)  # type: ignore[arg-type]


def status_of(engine: Engine, key: str) -> tuple[str, int]:
    with engine.connect() as connection:
        row = connection.execute(
            select(outreach_outbox.c.status, outreach_outbox.c.attempts).where(
                outreach_outbox.c.dedup_key == key
            )
        ).one()
    return row.status, row.attempts


# --------------------------------------------------------------------------- queueing


def test_a_fact_is_queued_once_whatever_the_runs(engine: Engine, holder: Person) -> None:
    first = notice("renewal_due:P1:2:2026-12-15", holder.party_id)
    other = notice("loan_overdue:L1:2026-12-01", holder.party_id, scenario="loan_overdue")
    assert queue(engine, first, other, first) == 2  # a repeat inside one frame counts once
    assert queue(engine, first, other) == 0  # the next run finds them queued
    assert outbox_counts(engine) == {"pending": 2}


def test_a_frame_without_the_contract_columns_is_refused(engine: Engine) -> None:
    broken = frame(notice("k", "p")).drop("data")
    with engine.begin() as connection, pytest.raises(ValueError, match="data"):
        write_notices(connection, broken, MORNING)
    assert set(NOTICE_COLUMNS) - set(broken.columns) == {"data"}


# --------------------------------------------------------------------------- delivering


def test_due_notices_reach_the_channel_once_with_the_words_of_the_scenario(
    engine: Engine, cipher: FieldCipher, holder: Person
) -> None:
    queue(
        engine,
        notice("a", holder.party_id),
        notice("b", holder.party_id, locale="en", care=True),
    )
    clock = Clock(MORNING)
    port = MemoryChannel(clock)
    report = dispatcher(engine, cipher, clock, port).run_until_empty()
    assert (report.sent, report.failed) == (2, 0)
    assert port.calls == {"a": 1, "b": 1}
    assert port.messages["a"].address == holder.mobile
    assert port.messages["a"].subject == "续期交费提醒"
    assert port.messages["a"].body == (
        "保单 BJHMB202600000001 第2期保费 1,234.50 元将于 2026-12-15 到期。"
        "请在到期日前交费，以免影响保障。可在“我的保单”中一键交费。"
    )
    assert port.messages["b"].body == (
        "Instalment 2 of policy BJHMB202600000001 (1,234.50 CNY) is due on 2026-12-15. "
        "Please pay on time so your cover continues. If you need help, ask a family member "
        "or call 95500."
    )
    assert dispatcher(engine, cipher, clock, port).run_until_empty().handled == 0
    assert port.calls == {"a": 1, "b": 1}
    assert status_of(engine, "a") == ("sent", 1)


def test_text_messages_wait_for_the_end_of_quiet_hours_but_email_does_not(
    engine: Engine, cipher: FieldCipher, holder: Person
) -> None:
    OutreachService(engine, cipher, Clock(MORNING), lambda: "unused").set_preference(
        Preference(holder.party_id, "email", "zh", False, "wang@example.cn")
    )
    queue(engine, notice("sms", holder.party_id), notice("mail", holder.party_id, "email"))
    clock = Clock(NIGHT)
    port = MemoryChannel(clock)
    report = dispatcher(engine, cipher, clock, port).run_until_empty()
    assert (report.sent, report.deferred) == (1, 1)
    assert port.messages["mail"].address == "wang@example.cn"
    with engine.connect() as connection:
        waits = connection.execute(
            select(outreach_outbox.c.not_before).where(outreach_outbox.c.dedup_key == "sms")
        ).scalar_one()
    assert waits == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)  # 08:00 in Beijing
    clock.at = datetime(2026, 12, 2, 23, 59, tzinfo=UTC)
    assert dispatcher(engine, cipher, clock, port).run_until_empty().handled == 0
    clock.at = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    assert dispatcher(engine, cipher, clock, port).run_until_empty().sent == 1
    assert port.calls == {"mail": 1, "sms": 1}


def test_a_passing_failure_is_tried_again_after_the_back_off_and_fails_after_the_last(
    engine: Engine, cipher: FieldCipher, holder: Person
) -> None:
    # the inbox, which keeps no quiet hours: the back-off runs past 21:00
    queue(
        engine, notice("flaky", holder.party_id, "inbox"), notice("down", holder.party_id, "inbox")
    )
    clock = Clock(MORNING)
    port = MemoryChannel(clock)
    port.fail["flaky"] = [ChannelError("gateway timeout", transient=True)]
    port.fail["down"] = [ChannelError("503", transient=True) for _ in range(10)]
    work = dispatcher(engine, cipher, clock, port)
    assert work.run_until_empty().retried == 2
    clock.at += RETRY_DELAYS[0] - timedelta(seconds=1)
    assert work.run_until_empty().handled == 0  # not yet
    clock.at += timedelta(seconds=1)
    first = work.run_until_empty()
    assert (first.sent, first.retried) == (1, 1)
    for delay in RETRY_DELAYS[1:]:
        clock.at += delay
        work.run_until_empty()
    assert status_of(engine, "flaky") == ("sent", 2)
    assert status_of(engine, "down") == ("failed", len(RETRY_DELAYS) + 1)
    assert port.calls == {"flaky": 2, "down": len(RETRY_DELAYS) + 1}
    with engine.connect() as connection:
        outcomes = connection.execute(
            select(outreach_attempts.c.outcome)
            .where(outreach_attempts.c.dedup_key == "down")
            .order_by(outreach_attempts.c.attempt)
        ).scalars()
        assert list(outcomes) == ["retry"] * len(RETRY_DELAYS) + ["failed"]


def test_a_refusal_fails_at_once_and_a_missing_address_is_not_sent(
    engine: Engine, cipher: FieldCipher, holder: Person
) -> None:
    queue(
        engine,
        notice("refused", holder.party_id),
        notice("nowhere", holder.party_id, "webhook"),  # no address kept for webhooks
    )
    clock = Clock(MORNING)
    port = MemoryChannel(clock)
    port.fail["refused"] = [ChannelError("invalid number", transient=False)]
    assert dispatcher(engine, cipher, clock, port).run_until_empty().failed == 2
    assert port.calls == {"refused": 1}


def test_a_notice_left_half_sent_by_a_dead_worker_is_found_not_sent_again(
    engine: Engine, cipher: FieldCipher, holder: Person
) -> None:
    queue(engine, notice("k1", holder.party_id), notice("k2", holder.party_id))
    clock = Clock(MORNING)
    port = MemoryChannel(clock)
    dead = dispatcher(engine, cipher, clock, port, worker="dead")
    with engine.begin() as connection:  # the dead worker claimed both …
        claimed = dead._claim(connection, clock(), DispatchReport())
    assert [c.key for c in claimed] == ["k1", "k2"]
    port.send(  # … and handed k1 over before it died
        OutgoingMessage("k1", "sms", holder.mobile, "zh", "s", "b", holder.party_id)
    )
    alive = dispatcher(engine, cipher, clock, port, worker="alive")
    assert alive.run_until_empty().handled == 0  # the lease still holds
    clock.at += dead.lease + timedelta(seconds=1)
    report = alive.run_until_empty()
    assert (report.found, report.sent) == (1, 1)
    assert port.calls == {"k1": 1, "k2": 1}
    assert status_of(engine, "k1") == ("sent", 1)


def test_the_inbox_channel_puts_the_notice_in_the_customers_inbox_once(
    engine: Engine, cipher: FieldCipher, holder: Person
) -> None:
    queue(engine, notice("inbox-1", holder.party_id, "inbox"))
    clock = Clock(MORNING)
    inbox = NoticeChannel(engine, cipher.mobile_index, clock, "inbox")
    assert dispatcher(engine, cipher, clock, inbox).run_until_empty().sent == 1
    with engine.begin() as connection:  # as if the worker had died before recording it
        connection.execute(
            update(outreach_outbox)
            .where(outreach_outbox.c.dedup_key == "inbox-1")
            .values(status="sending", lease_until=MORNING - timedelta(minutes=1))
        )
    assert dispatcher(engine, cipher, clock, inbox).run_until_empty().found == 1
    service = OutreachService(engine, cipher, clock, lambda: "unused")
    messages = service.inbox([holder.party_id])
    assert [(m.notice_id, m.subject_zh) for m in messages] == [
        (message_id("inbox-1"), "续期交费提醒")
    ]
    assert messages[0].body_zh.startswith("保单 BJHMB202600000001 第2期保费 1,234.50 元")


# --------------------------------------------------------------------------- preferences


def test_a_customer_keeps_one_channel_preference_with_its_address_encrypted(
    engine: Engine, cipher: FieldCipher, holder: Person
) -> None:
    service = OutreachService(engine, cipher, Clock(MORNING), lambda: "unused")
    assert service.preference(holder.party_id) == Preference(holder.party_id)  # SMS, Chinese
    service.set_preference(Preference(holder.party_id, "email", "en", True, "li@example.cn"))
    service.set_preference(Preference(holder.party_id, "email", "zh", True, "wang@example.cn"))
    assert service.preference(holder.party_id) == Preference(
        holder.party_id, "email", "zh", True, "wang@example.cn"
    )
    with engine.connect() as connection:
        stored = connection.execute(select(outreach_preferences.c.address_enc)).scalars().all()
    assert len(stored) == 1 and "wang@example.cn" not in stored[0]


@pytest.mark.parametrize(
    ("preference", "code"),
    [
        (Preference("P", "fax"), "outreach.unknown_channel"),
        (Preference("P", "sms", "fr"), "outreach.unknown_locale"),
        (Preference("P", "email"), "outreach.address_required"),
    ],
)
def test_a_preference_that_cannot_be_used_is_refused_with_its_reason(
    engine: Engine, cipher: FieldCipher, preference: Preference, code: str
) -> None:
    service = OutreachService(engine, cipher, Clock(MORNING), lambda: "unused")
    with pytest.raises(ValidationFailed) as caught:
        service.set_preference(preference)
    assert caught.value.code == code
    assert caught.value.zh and caught.value.en


def test_a_preference_for_someone_unknown_is_not_kept(engine: Engine, cipher: FieldCipher) -> None:
    service = OutreachService(engine, cipher, Clock(MORNING), lambda: "unused")
    with pytest.raises(NotFound):
        service.set_preference(Preference("no-such-party", "inbox"))
