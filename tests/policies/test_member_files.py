"""Reading members and member keys from a streamed body: the same rows whatever the chunks,
CSV quoting, a BOM, line ends, and every malformed body named by row and field."""

from __future__ import annotations

import doctest
import importlib
from collections.abc import Iterator

import pytest

from baoxian.policies.enrolment import MemberRow, Rejection
from baoxian.policies.member_files import (
    MAX_LINE_CHARS,
    BodyFormat,
    MalformedBody,
    MemberKey,
    member_keys,
    member_rows,
)
from tests.store.conftest import resident_id

WANG = resident_id("11010519810415031")
LI = resident_id("11010819900715002")
CSV = (
    "\ufeffname,id_number,mobile,medical_insurance_city,has_basic_medical,address\r\n"
    f'王建国,{WANG},13812345678,110000,是,"北京市朝阳区, 建国路1号"\r\n'
    "\r\n"
    f'李四,{LI.lower()},13987654321,110000,否,"两行\n地址"\r\n'
    f"错,{WANG},13812345678,110000,也许,\r\n"
).encode()


def pieces(body: bytes, size: int) -> Iterator[bytes]:
    return (body[i : i + size] for i in range(0, len(body), size))


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
def test_csv_rows_are_the_same_whatever_the_chunks(size: int) -> None:
    rows = list(member_rows(pieces(CSV, size), "csv"))

    assert rows == [
        MemberRow(2, "王建国", WANG, "13812345678", "110000", True, "北京市朝阳区, 建国路1号"),
        MemberRow(5, "李四", LI.upper(), "13987654321", "110000", False, "两行\n地址"),
        Rejection(
            6,
            "enrolment.bad_flag",
            "第6行：是否参加医保应填 是/否 或 1/0",
            "row 6: has_basic_medical must be yes/no or 1/0",
        ),
    ]


def test_ndjson_rows_and_keys() -> None:
    body = (
        f'{{"name": "王建国", "id_number": "{WANG}", "mobile": "13812345678", '
        '"medical_insurance_city": "110000", "has_basic_medical": false}\n\n'
        f'{{"name": "李四", "id_number": "{LI}", "mobile": "13987654321", '
        '"medical_insurance_city": "110000", "has_basic_medical": "1", "address": "x"}'
    ).encode()
    rows = list(member_rows(pieces(body, 5), "ndjson"))
    assert [(r.row_no, r.name, r.has_basic_medical) for r in rows if isinstance(r, MemberRow)] == [
        (1, "王建国", False),
        (3, "李四", True),
    ]
    keys = (
        f'{{"id_number": "{WANG}"}}\n{{"member_id": "{"a" * 32}"}}\n'
        f'{{"id_number": "{WANG}", "member_id": "{"a" * 32}"}}\n{{"member_id": "zz"}}\n{{}}\n'
    ).encode()
    assert [
        k if isinstance(k, MemberKey) else (k.row_no, k.code)
        for k in member_keys(pieces(keys, 4), "ndjson")
    ] == [
        MemberKey(1, id_number=WANG),
        MemberKey(2, member_id="a" * 32),
        (3, "members.ambiguous_key"),
        (4, "members.invalid_member_id"),
        (5, "members.key_missing"),
    ]


MALFORMED = [
    ("rows", "csv", b"name,id_number\n", "rows[1].mobile"),
    ("keys", "csv", b"id_number,id_number\n", "rows[1]"),
    ("keys", "csv", b"id_number,phone\n", "rows[1].phone"),
    ("keys", "csv", b"", "rows[1]"),
    ("keys", "csv", b"id_number\n1\n2,3\n", "rows[3]"),
    ("rows", "ndjson", "a\u00e9".encode("latin-1"), "rows[1]"),
    ("rows", "ndjson", b"\n\n" + "é".encode()[:1] + b"\n", "rows[3]"),
    ("rows", "ndjson", b"x" * (MAX_LINE_CHARS + 1), "rows[1]"),
    ("rows", "ndjson", b'{"name": "a"}\n', "rows[1].id_number"),
    ("keys", "ndjson", b'{"id_number": 11010519810415031}\n', "rows[1].id_number"),
    ("keys", "ndjson", b'{"member": "x"}\n', "rows[1].member"),
    ("keys", "ndjson", b"\n" + b"[" * 5000 + b"\n", "rows[2]"),
]


@pytest.mark.parametrize(("reader", "fmt", "body", "field"), MALFORMED)
def test_malformed_bodies_name_the_row_and_field(
    reader: str, fmt: BodyFormat, body: bytes, field: str
) -> None:
    read = member_rows if reader == "rows" else member_keys
    with pytest.raises(MalformedBody) as error:
        list(read(pieces(body, 3), fmt))
    assert error.value.code == "members.malformed_body"
    assert error.value.details["field"] == field


@pytest.mark.parametrize(
    "module",
    ["baoxian.policies.member_files", "baoxian.policies.membership", "baoxian.api.model"],
)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
