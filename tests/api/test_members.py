"""Group members through the API (SQLite and PostgreSQL): bulk enrolment and removal with
streamed CSV and NDJSON bodies — premiums and refunds to the fen, computed here from the
product's table, every rejection with its row and code — idempotency, the row limit,
malformed bodies, the member list, the batch reports, and who may do what.

The premiums: BJ-HMB (``catalog/bj-huiminbao.yaml``) costs a flat 195.00; RIDER-PA
(``tests/api/products/rider-accident.yaml``) 96 / 120 / 180 by age band, for riders aged 18
to 60.  Both are charged (and refunded) pro rata by day, member by member, for the days from
the effective date to the end of the term 2026-03-01 – 2027-03-01 (365 days).
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from baoxian.api.webhooks import event_body
from baoxian.bootstrap import App, build
from baoxian.policies import membership
from baoxian.policies.tables import member_batch_rejections, member_batches, policy_units
from baoxian.settings import Settings
from baoxian.store.crypto import DATA_KEY_ENV, FieldCipher
from baoxian.store.tables import events
from tests.api.conftest import (
    LI_ID,
    LI_MOBILE,
    START,
    WANG_ID,
    WANG_MOBILE,
    Api,
    Clock,
)
from tests.conftest import CATALOG_DIR
from tests.store.conftest import resident_id

PRODUCTS = Path(__file__).parent / "products"
TERM = (date(2026, 3, 1), date(2027, 3, 1))
TODAY = date(2026, 6, 15)  # the API's clock: 2026-06-15 10:00 in Shanghai
CSV = "text/csv"
NDJSON = "application/x-ndjson"
HEADER = "name,id_number,mobile,medical_insurance_city,has_basic_medical,address\n"
OPERATOR = {
    "kind": "organisation",
    "name": "骑手平台（北京）科技有限公司",
    "credit_code": "91110000600037341L",
    "mobile": "13900001111",
}
RIDER_BANDS = ((18, 30, 96), (31, 45, 120), (46, 60, 180))
"""RIDER-PA's table by_age: (from, to, yuan)."""


@pytest.fixture
def app(engine: Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> App:
    """The application over a catalogue of BJ-HMB and the test product RIDER-PA."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    shutil.copy(CATALOG_DIR / "bj-huiminbao.yaml", catalog)
    shutil.copy(PRODUCTS / "rider-accident.yaml", catalog)
    monkeypatch.setenv(DATA_KEY_ENV, FieldCipher.generate_key())
    url = engine.url.render_as_string(hide_password=False)
    return build(Settings(url, catalog), clock=clock, migrate=False, engine=engine)


# --------------------------------------------------------------------------- helpers


def group_policy(partner: Api, product: str = "BJ-HMB") -> dict[str, Any]:
    """A group policy of the partner's: the operator holds it, 王建国 is its first member."""
    wang = {
        "kind": "person",
        "name": "王建国",
        "id_number": WANG_ID,
        "mobile": WANG_MOBILE,
        "medical_insurance_city": "110000",
    }
    quote = partner.post(
        "/quotes",
        {"product": product, "start": START, "holder": OPERATOR, "insured": [wang], "group": True},
    )
    assert quote.status_code == 201, quote.text
    policy = partner.post("/policies", {"quote_id": quote.json()["quote_id"]})
    assert policy.status_code == 201, policy.text
    found: dict[str, Any] = policy.json()
    assert found["group"] is True
    return found


def person_id(birth: str, sequence: int) -> str:
    """A valid 身份证号 of a person born on ``birth`` (YYYYMMDD) in Chaoyang, Beijing."""
    return resident_id(f"110105{birth}{sequence:03d}")


def wrong_check_digit(id_number: str) -> str:
    """The same 身份证号 with another check digit: invalid."""
    return id_number[:-1] + ("1" if id_number[-1] != "1" else "2")


def member(name: str, id_number: str, sequence: int, city: str = "110000", flag: str = "是") -> str:
    return f"{name},{id_number},1390000{sequence:04d},{city},{flag},北京市朝阳区{sequence}号\n"


def csv_body(*rows: str) -> bytes:
    return (HEADER + "".join(rows)).encode()


def ndjson_body(*rows: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def pro_rata_fen(yuan: int, effective: date) -> int:
    """The share of an annual premium for the days left, half up to the fen (exact)."""
    start, end = TERM
    exact = Fraction(yuan * 100 * (end - effective).days, (end - start).days)
    return int(exact + Fraction(1, 2))


def text(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def rider_premium(birth: date, on: date) -> int:
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return next(yuan for low, high, yuan in RIDER_BANDS if low <= age <= high)


def rejections(report: dict[str, Any]) -> list[tuple[int, str]]:
    return [(r["row"], r["code"]) for r in report["rejections"]]


def count(app: App, table: Any, *where: Any) -> int:
    with app.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def member_ids(partner: Api, number: str) -> list[str]:
    answer = partner.get(f"/policies/{number}/members", limit=500)
    assert answer.status_code == 200, answer.text
    return [m["member_id"] for m in answer.json()["items"]]


def enrol(partner: Api, number: str, body: bytes, media: str = CSV, **params: Any) -> Any:
    answer = partner.post_body(f"/policies/{number}/members", body, media, **params)
    assert answer.status_code == 201, answer.text
    return answer.json()


def remove(partner: Api, number: str, body: bytes, media: str = CSV, **params: Any) -> Any:
    answer = partner.post_body(f"/policies/{number}/members/removals", body, media, **params)
    assert answer.status_code == 201, answer.text
    return answer.json()


def batch_events(app: App, number: str) -> list[tuple[str, dict[str, Any]]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            select(events.c.id, events.c.event_type, events.c.payload, events.c.occurred_at)
            .where(events.c.aggregate_id == number, events.c.event_type.like("policy.members_%"))
            .order_by(events.c.id)
        ).all()
    return [(r.event_type, r.payload) for r in rows]


# --------------------------------------------------------------------------- enrolment


def test_enrol_a_csv_of_members(partner: Api, other_partner: Api) -> None:
    other_partner.quote(LI_ID, LI_MOBILE, "李四")  # 李四 is registered with her own mobile
    policy = group_policy(partner)
    number = policy["policy_number"]
    body = csv_body(
        member("张伟", person_id("19900101", 11), 1),
        member("刘洋", person_id("19850505", 12), 2),
        member("错号", wrong_check_digit(person_id("19850505", 13)), 3),
        member("张伟", person_id("19900101", 11), 1),  # line 2 again
        member("沪籍", person_id("19700101", 14), 4, city="310000"),  # not Beijing 医保
        member("未知", person_id("19700101", 15), 5, flag="maybe"),
        f"王建国,{WANG_ID},{WANG_MOBILE},110000,是,\n",  # a member already
        f"李四,{LI_ID},13700009999,110000,是,\n",  # registered with another mobile
        member("陈静", person_id("20000229", 16), 6),
    )

    report = enrol(partner, number, body)

    assert (report["kind"], report["effective"]) == ("enrolment", TODAY.isoformat())
    assert (report["received"], report["accepted"], report["already_enrolled"]) == (9, 3, 1)
    assert report["rejected"] == 5
    assert rejections(report) == [
        (4, "party.invalid_resident_id"),
        (5, "enrolment.duplicate_in_file"),
        (6, "eligibility.basic_medical_required"),
        (7, "enrolment.bad_flag"),
        (9, "party.registered_details_mismatch"),
    ]
    assert report["rejections"][0]["zh"] == "第4行：身份证号码无效"
    assert report["rejections"][0]["en"] == "row 4: invalid resident ID number"
    each = pro_rata_fen(195, TODAY)  # 195.00 × 259 / 365 = 138.37
    assert each == 13837
    assert report["premium_charged"] == text(3 * each) == "415.11"
    assert (report["refund"], report["annual_premium_change"]) == ("0.00", "585.00")
    assert report["rejections_cursor"] is None
    assert len(report["batch_id"]) == 64

    after = partner.get(f"/policies/{number}").json()
    assert after["member_count"] == 4
    assert after["annual_premium"] == "780.00"
    assert after["premium_charged"] == text(19500 + 3 * each) == "610.11"
    assert after["version"] == policy["version"] + 1
    assert len(member_ids(partner, number)) == 4

    [(kind, payload)] = batch_events(partner.app, number)
    assert kind == "policy.members_enrolled"
    assert payload == {
        "batch_id": report["batch_id"],
        "effective": "2026-06-15",
        "received": 9,
        "enrolled": 3,
        "already_enrolled": 1,
        "premium_fen": 41511,
        "rejected": 5,
        "annual_premium_change_fen": 58500,
    }
    webhook = json.loads(
        event_body(1, kind, partner.app.policies.clock(), "policy", number, payload)
    )
    assert webhook["data"]["premium"] == "415.11" and webhook["data"]["enrolled"] == 3
    assert "rejections" not in webhook["data"]


def test_enrol_ndjson_riders_priced_by_age_band(partner: Api) -> None:
    policy = group_policy(partner, "RIDER-PA")
    assert policy["annual_premium"] == "120.00"  # 王建国 is 44 on 2026-03-01
    number = policy["policy_number"]
    on = date(2026, 7, 1)
    births = {
        "少年": "20090101",  # 17: too young
        "青年": "20010701",  # 25 on the day: 96
        "满十八": "20080701",  # 18 that very day: 96
        "中年": "19860115",  # 40: 120
        "壮年": "19710303",  # 55: 180
        "六十": "19650702",  # 60 until tomorrow: 180
        "花甲": "19650630",  # 61: too old
    }
    rows = [
        {
            "name": name,
            "id_number": person_id(birth, 20 + i),
            "mobile": f"1390001{i:04d}",
            "medical_insurance_city": "110000",
            "has_basic_medical": i % 2 == 0,
        }
        for i, (name, birth) in enumerate(births.items())
    ]

    report = enrol(partner, number, ndjson_body(*rows), NDJSON, effective=on.isoformat())

    assert (report["received"], report["accepted"], report["rejected"]) == (7, 5, 2)
    assert rejections(report) == [(1, "eligibility.rider_age"), (7, "eligibility.rider_age")]
    assert report["rejections"][0]["zh"] == "骑手须年满18周岁且不超过60周岁"
    yuan = [
        rider_premium(date.fromisoformat(f"{b[:4]}-{b[4:6]}-{b[6:]}"), on)
        for n, b in births.items()
        if n not in {"少年", "花甲"}
    ]
    assert yuan == [96, 96, 120, 180, 180]
    charged = sum(pro_rata_fen(y, on) for y in yuan)  # 243 of 365 days, member by member
    assert report["premium_charged"] == text(charged)
    assert report["annual_premium_change"] == text(100 * sum(yuan)) == "672.00"
    listed = partner.get(f"/policies/{number}/members", limit=10).json()["items"]
    premiums = sorted(m["annual_premium"] or "—" for m in listed)
    assert premiums == ["120.00", "180.00", "180.00", "96.00", "96.00", "—"]  # 王建国: at issue
    assert {m["added_on"] for m in listed if m["name"] != "王建国"} == {"2026-07-01"}


def test_a_resend_enrols_nobody_twice_and_a_retry_gets_the_stored_report(partner: Api) -> None:
    number = group_policy(partner)["policy_number"]
    body = csv_body(
        member("张伟", person_id("19900101", 31), 1), member("刘洋", person_id("19850505", 32), 2)
    )
    first = partner.post_body(f"/policies/{number}/members", body, CSV, key="enrol-key-0001")
    retry = partner.post_body(f"/policies/{number}/members", body, CSV, key="enrol-key-0001")
    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content and retry.headers["idempotent-replayed"] == "true"
    charged = partner.get(f"/policies/{number}").json()["premium_charged"]
    assert charged == text(19500 + 2 * 13837)

    again = enrol(partner, number, body)  # another key, the same members

    assert (again["accepted"], again["already_enrolled"], again["rejected"]) == (0, 2, 0)
    assert (again["premium_charged"], again["annual_premium_change"]) == ("0.00", "0.00")
    after = partner.get(f"/policies/{number}").json()
    assert (after["member_count"], after["premium_charged"]) == (3, charged)
    reused = partner.post_body(
        f"/policies/{number}/members",
        csv_body(member("陈静", person_id("20000229", 33), 3)),
        CSV,
        key="enrol-key-0001",
    )
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency.key_reused"
    assert [kind for kind, _ in batch_events(partner.app, number)] == [
        "policy.members_enrolled",
        "policy.members_enrolled",
    ]


# --------------------------------------------------------------------------- removal


def test_remove_members_with_refunds_to_the_fen(partner: Api) -> None:
    number = group_policy(partner)["policy_number"]
    ids = [person_id("19900101", 40 + i) for i in range(4)]
    enrol(partner, number, csv_body(*(member(f"成员{i}", n, 40 + i) for i, n in enumerate(ids))))
    page = partner.get(f"/policies/{number}/members").json()["items"]
    listed = {m["id_number"][-4:]: m["member_id"] for m in page}
    second = listed[ids[1][-4:]]
    stranger = person_id("19770707", 49)  # valid, never registered
    body = (
        "id_number,member_id\n"
        f"{ids[0]},\n"  # 2: by 身份证号
        f",{second}\n"  # 3: by member ID
        f"{ids[2].lower()},\n"  # 4: by 身份证号 (a lower-case x is fine)
        f"{stranger},\n"  # 5: nobody of this policy
        f"{wrong_check_digit(ids[3])},\n"  # 6: an invalid 身份证号
        f"{ids[0]},\n"  # 7: line 2 again
        f"{ids[3]},{second}\n"  # 8: both
    ).encode()
    on = date(2026, 9, 1)

    report = remove(partner, number, body, effective=on.isoformat())

    assert (report["kind"], report["received"], report["accepted"]) == ("removal", 7, 3)
    assert rejections(report) == [
        (5, "members.not_found"),
        (6, "party.invalid_resident_id"),
        (7, "members.duplicate_in_file"),
        (8, "members.ambiguous_key"),
    ]
    refund = pro_rata_fen(195, on)  # 195.00 × 181 / 365 = 96.70
    assert refund == 9670
    assert report["refund"] == text(3 * refund) == "290.10"
    assert (report["premium_charged"], report["annual_premium_change"]) == ("0.00", "-585.00")
    after = partner.get(f"/policies/{number}").json()
    assert (after["member_count"], after["annual_premium"]) == (2, "390.00")
    assert after["premium_charged"] == text(19500 + 4 * 13837 - 3 * refund) == "458.38"
    remaining = partner.get(f"/policies/{number}/members").json()["items"]
    assert sorted(m["id_number"][-4:] for m in remaining) == sorted([WANG_ID[-4:], ids[3][-4:]])

    again = remove(partner, number, body, effective=on.isoformat())  # another key

    assert (again["accepted"], again["refund"]) == (0, "0.00")
    assert rejections(again) == [
        (2, "members.already_removed"),
        (3, "members.already_removed"),
        (4, "members.already_removed"),
        *rejections(report),
    ]
    assert partner.get(f"/policies/{number}").json()["premium_charged"] == "458.38"
    found = batch_events(partner.app, number)
    kinds = [(k, p.get("removed"), p.get("refund_fen")) for k, p in found]
    assert kinds == [
        ("policy.members_enrolled", None, None),
        ("policy.members_removed", 3, 29010),
        ("policy.members_removed", 0, 0),
    ]


def test_a_removal_before_a_members_cover_began_is_refused(partner: Api) -> None:
    number = group_policy(partner)["policy_number"]
    late = person_id("19900101", 51)
    enrol(partner, number, csv_body(member("晚到", late, 51)), effective="2026-10-01")
    body = f"id_number\n{late}\n".encode()

    report = remove(partner, number, body, effective="2026-09-15")

    assert (report["accepted"], rejections(report)) == (0, [(2, "members.removed_before_start")])
    assert remove(partner, number, body, effective="2026-10-01")["refund"] == text(
        pro_rata_fen(195, date(2026, 10, 1))
    )


def test_removing_every_member_is_refused_and_changes_nothing(partner: Api) -> None:
    number = group_policy(partner)["policy_number"]
    other = person_id("19900101", 61)
    enrol(partner, number, csv_body(member("成员", other, 61)))
    before = partner.get(f"/policies/{number}").json()

    answer = partner.post_body(
        f"/policies/{number}/members/removals",
        ndjson_body({"id_number": WANG_ID}, {"id_number": other}),
        NDJSON,
    )

    assert answer.status_code == 422 and answer.json()["code"] == "endorsement.last_member"
    assert partner.get(f"/policies/{number}").json() == before
    assert count(partner.app, member_batches, member_batches.c.kind == "removal") == 0


# --------------------------------------------------------------------------- limits and errors


def test_over_the_row_limit_nothing_is_written(
    partner: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = group_policy(partner)["policy_number"]
    monkeypatch.setattr(partner.app.members, "max_rows", 3)
    body = csv_body(*(member(f"成员{i}", person_id("19900101", 70 + i), 70 + i) for i in range(4)))

    answer = partner.post_body(f"/policies/{number}/members", body, CSV)

    assert answer.status_code == 413, answer.text
    problem = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert problem["code"] == "members.too_many_rows"
    assert "3" in problem["zh"] and "at most 3 members" in problem["en"]
    assert partner.get(f"/policies/{number}").json()["member_count"] == 1
    assert count(partner.app, policy_units, policy_units.c.policy_number == number) == 1
    assert count(partner.app, member_batches) == count(partner.app, member_batch_rejections) == 0
    assert batch_events(partner.app, number) == []
    keys = ndjson_body(*({"id_number": WANG_ID} for _ in range(4)))
    removal = partner.post_body(f"/policies/{number}/members/removals", keys, NDJSON)
    assert removal.status_code == 413 and removal.json()["code"] == "members.too_many_rows"


MALFORMED: list[tuple[str, bytes, str]] = [
    (CSV, b"name,id_number,medical_insurance_city,has_basic_medical\n", "rows[1].mobile"),
    (CSV, (HEADER.rstrip() + ",phone\n").encode(), "rows[1].phone"),
    (CSV, csv_body(member("甲", WANG_ID, 1), "乙,1,2\n"), "rows[3]"),
    (CSV, b"", "rows[1]"),
    (CSV, HEADER.encode() + b"\xff\xfe,\n", "rows[2]"),
    (NDJSON, b'{"name": "a"\n', "rows[1]"),
    (NDJSON, b"\n[1, 2]\n", "rows[2]"),
    (
        NDJSON,
        b'{"id_number": "x", "mobile": "1", "medical_insurance_city": "1", '
        b'"has_basic_medical": true}\n',
        "rows[1].name",
    ),
    (
        NDJSON,
        b'{"name": "a", "id_number": "x", "mobile": "1", "medical_insurance_city": "1", '
        b'"has_basic_medical": 1}\n',
        "rows[1].has_basic_medical",
    ),
    (NDJSON, b'{"name": "a", "age": 3}\n', "rows[1].age"),
]


@pytest.mark.parametrize(
    ("media", "body", "field"), MALFORMED, ids=[f"{m[-6:]}-{f}" for m, _, f in MALFORMED]
)
def test_a_malformed_body_names_the_row_and_field(
    partner: Api, media: str, body: bytes, field: str
) -> None:
    number = group_policy(partner)["policy_number"]

    answer = partner.post_body(f"/policies/{number}/members", body, media)

    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["code"] == "members.malformed_body"
    assert [e["field"] for e in problem["errors"]] == [field]
    assert problem["zh"].startswith("第") and problem["en"].startswith("row ")
    assert partner.get(f"/policies/{number}").json()["member_count"] == 1
    assert count(partner.app, member_batch_rejections) == 0


def test_bodies_refused_before_any_row(partner: Api) -> None:
    number = group_policy(partner)["policy_number"]
    path = f"/policies/{number}/members"
    send = partner.post_body
    cases = [
        (send(path, b'{"a": 1}', "application/json"), 415, "unsupported_media_type"),
        (send(path, b"\n\n", NDJSON), 422, "members.empty"),
        (send(path, b"x", CSV, effective="2027-03-01"), 422, "endorsement.outside_term"),
        (send(path, b"x", CSV, effective="2026-13-01"), 422, "request.invalid"),
        (send(path + "/removals", b"nobody\n", CSV), 422, "members.malformed_body"),
    ]
    for answer, status, code in cases:
        assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    individual = partner.policy()["policy_number"]
    answer = partner.post_body(f"/policies/{individual}/members", csv_body(), CSV)
    assert (answer.status_code, answer.json()["code"]) == (422, "endorsement.not_group")
    assert partner.get(f"/policies/{number}").json()["member_count"] == 1


# --------------------------------------------------------------------------- reading


def test_the_member_list_pages_by_cursor_with_personal_data_masked(partner: Api) -> None:
    number = group_policy(partner)["policy_number"]
    ids = [person_id("19900101", 80 + i) for i in range(4)]
    enrol(partner, number, csv_body(*(member(f"成员{i}", n, 80 + i) for i, n in enumerate(ids))))
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = partner.get(f"/policies/{number}/members", **params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and [m["member_id"] for m in seen] == sorted(m["member_id"] for m in seen)
    text_of_list = json.dumps(seen, ensure_ascii=False)
    for secret in (*ids, WANG_ID, WANG_MOBILE, "13900000080"):
        assert secret not in text_of_list
    wang = next(m for m in seen if m["name"] == "王建国")
    assert (wang["id_number"], wang["mobile"]) == (
        WANG_ID[:3] + "*" * 11 + WANG_ID[-4:],
        "138****5678",
    )


def test_the_batch_report_and_its_rejections_page_by_page(
    partner: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(membership, "REPORT_REJECTIONS", 2)
    number = group_policy(partner)["policy_number"]
    bad = [member(f"坏{i}", "1234", 90 + i) for i in range(5)]
    report = enrol(partner, number, csv_body(member("好", person_id("19900101", 99), 99), *bad))
    assert (report["rejected"], rejections(report)) == (
        5,
        [(3, "party.invalid_resident_id"), (4, "party.invalid_resident_id")],
    )
    assert report["rejections_cursor"] == "4"
    base = f"/policies/{number}/member-batches/{report['batch_id']}"

    assert partner.get(base).json() == report
    page = partner.get(f"{base}/rejections", cursor="4", limit=2).json()
    assert [r["row"] for r in page["items"]] == [5, 6] and page["next_cursor"] == "6"
    last = partner.get(f"{base}/rejections", cursor="6", limit=2).json()
    assert [r["row"] for r in last["items"]] == [7] and last["next_cursor"] is None
    missing = partner.get(f"/policies/{number}/member-batches/{'0' * 64}")
    assert missing.status_code == 404 and missing.json()["code"] == "members.batch_not_found"


# --------------------------------------------------------------------------- who may


def _member_calls(api: Api, number: str, batch: str) -> dict[str, Any]:
    body = csv_body(member("张伟", person_id("19900101", 11), 1))
    return {
        "POST members": api.post_body(f"/policies/{number}/members", body, CSV),
        "POST removals": api.post_body(
            f"/policies/{number}/members/removals", f"id_number\n{WANG_ID}\n".encode(), CSV
        ),
        "GET members": api.get(f"/policies/{number}/members"),
        "GET batch": api.get(f"/policies/{number}/member-batches/{batch}"),
        "GET rejections": api.get(f"/policies/{number}/member-batches/{batch}/rejections"),
    }


def test_another_partner_finds_nothing_and_scopes_are_needed(
    api: Api, partner: Api, other_partner: Api
) -> None:
    number = group_policy(partner)["policy_number"]
    batch = enrol(partner, number, csv_body(member("刘洋", person_id("19850505", 12), 2)))
    batch_id = batch["batch_id"]
    missing = "BJHMB202699999999"

    foreign = _member_calls(other_partner, number, batch_id)
    absent = _member_calls(other_partner, missing, batch_id)
    for name, answer in foreign.items():
        assert answer.status_code == absent[name].status_code == 404, (name, answer.text)
        assert answer.text.replace(number, missing) == absent[name].text, name

    narrow = api.as_(api.partner_token("只读伙伴", "policies:read policies:write members:read"))
    for name, answer in _member_calls(narrow, number, batch_id).items():
        if name.startswith("POST"):
            assert answer.status_code == 403, name
            assert answer.json()["code"] == "auth.insufficient_scope"
        else:
            assert answer.status_code == 404, name  # not its policy
    wang = api.as_(api.customer_token(WANG_MOBILE))
    for name, answer in _member_calls(wang, number, batch_id).items():
        assert (answer.status_code, answer.json()["code"]) == (403, "auth.insufficient_scope"), name
    assert partner.get(f"/policies/{number}").json()["member_count"] == 2

    service = api.as_(api.staff_token("S001", "service"))
    assert service.get(f"/policies/{number}/members").status_code == 200
    assert service.post_body(f"/policies/{number}/members", b"", CSV).status_code == 403


def test_openapi_documents_the_streamed_bodies(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    for path in ("/policies/{policy_number}/members", "/policies/{policy_number}/members/removals"):
        operation = spec["paths"][path]["post"]
        content = operation["requestBody"]["content"]
        assert set(content) == {"text/csv", "application/x-ndjson"}
        assert content["text/csv"]["example"].startswith(("name,", "id_number,"))
        assert content["application/x-ndjson"]["example"].startswith("{")
        assert "application/problem+json" in operation["responses"]["413"]["content"]
        names = {p["name"] for p in operation["parameters"]}
        assert {"Idempotency-Key", "effective", "policy_number"} <= names
    flows = spec["components"]["securitySchemes"]["partner"]["flows"]
    assert {"members:read", "members:write"} <= set(flows["clientCredentials"]["scopes"])
