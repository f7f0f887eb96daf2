"""Members and member keys read from a streamed body (批量投保 / 批量减员 through the API).

Two formats: CSV with the columns of the CLI's members file (``name, id_number, mobile,
medical_insurance_city, has_basic_medical`` and an optional ``address``), or NDJSON — one
JSON object a line with the same fields.  Both are decoded and parsed incrementally from byte
chunks, so a body of 100,000 members is never held whole.

What is wrong with one member (a bad 身份证号, a flag that is neither yes nor no) is a
:class:`~baoxian.policies.enrolment.Rejection` of that row; a body that cannot be read as its
format at all (not UTF-8, not JSON, a missing or unknown column, a wrong type) is a
:class:`MalformedBody` naming the row and the field, and the batch writes nothing.  Row
numbers are line numbers: in CSV the header is line 1.

>>> csv_body = [b"name,id_number,mobile,medical_insurance_city,has_basic_medical\\n",
...             "王建国,11010519810415031X,13812345678,110000,是\\n".encode()]
>>> [(r.row_no, r.name, r.has_basic_medical) for r in member_rows(csv_body, "csv")]
[(2, '王建国', True)]
>>> list(member_keys([b'{"member_id": "0197a3c4e5f60718293a4b5c6d7e8f90"}\\n'], "ndjson"))
[MemberKey(row_no=1, id_number=None, member_id='0197a3c4e5f60718293a4b5c6d7e8f90')]
>>> list(member_rows([b'{"name": 7}\\n'], "ndjson"))
Traceback (most recent call last):
baoxian.policies.member_files.MalformedBody: [members.malformed_body] 第1行「name」：应为文本 / \
row 1, name: must be text
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any, Literal, TypeVar

from baoxian.policies.enrolment import MEMBER_COLUMNS, MemberRow, Rejection, parse_member
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.identity import is_valid_resident_id

BodyFormat = Literal["csv", "ndjson"]
MEDIA_TYPES: Mapping[str, BodyFormat] = {"text/csv": "csv", "application/x-ndjson": "ndjson"}
"""The media types a member body may have, and the format each names."""

MAX_LINE_CHARS = 64 * 1024
"""A longer line is refused (a member is a few hundred characters)."""

OPTIONAL_COLUMNS = ("address",)
KEY_COLUMNS = ("id_number", "member_id")
_MEMBER_ID = re.compile(r"[0-9a-f]{32}")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MemberKey:
    """One row of a removal: a member named by 身份证号, or by member ID (the key of the
    insured unit, as ``GET …/members`` lists it)."""

    row_no: int
    id_number: str | None = None
    member_id: str | None = None


class MalformedBody(ValidationFailed):
    """The body cannot be read as its format; ``field`` names the row and the column."""

    def __init__(self, row_no: int, column: str | None, zh: str, en: str) -> None:
        field = f"rows[{row_no}]" + (f".{column}" if column else "")
        super().__init__(
            "members.malformed_body",
            f"第{row_no}行" + (f"「{column}」" if column else "") + f"：{zh}",
            f"row {row_no}" + (f", {column}" if column else "") + f": {en}",
            field=field,
        )


def body_format(media_type: str | None) -> BodyFormat | None:
    """The format a ``Content-Type`` names (parameters such as ``charset`` aside).

    >>> body_format("text/csv; charset=utf-8"), body_format("application/json")
    ('csv', None)
    """
    return MEDIA_TYPES.get((media_type or "").split(";")[0].strip().lower())


def member_rows(chunks: Iterable[bytes], fmt: BodyFormat) -> Iterator[MemberRow | Rejection]:
    """The members of a body, row by row, as the CLI's CSV reader gives them."""
    if fmt == "csv":
        return _csv_records(chunks, MEMBER_COLUMNS, OPTIONAL_COLUMNS, parse_member)
    return _ndjson_records(chunks, _member_fields, parse_member)


def member_keys(chunks: Iterable[bytes], fmt: BodyFormat) -> Iterator[MemberKey | Rejection]:
    """The members a removal names: a column (or field) ``id_number`` or ``member_id``."""
    if fmt == "csv":
        return _csv_records(chunks, (), KEY_COLUMNS, parse_key)
    return _ndjson_records(chunks, _key_fields, parse_key)


def parse_key(row_no: int, raw: Mapping[str, str | None]) -> MemberKey | Rejection:
    """One member key: exactly one of a valid 身份证号 or a member ID."""
    id_number = (raw.get("id_number") or "").strip().upper()
    member_id = (raw.get("member_id") or "").strip().lower()
    if id_number and member_id:
        return _rejection(
            row_no,
            "members.ambiguous_key",
            "请只填写身份证号或成员编号之一",
            "give either the ID number or the member ID, not both",
        )
    if id_number:
        if not is_valid_resident_id(id_number):
            return _rejection(
                row_no, "party.invalid_resident_id", "身份证号码无效", "invalid resident ID number"
            )
        return MemberKey(row_no, id_number=id_number)
    if member_id:
        if not _MEMBER_ID.fullmatch(member_id):
            return _rejection(
                row_no,
                "members.invalid_member_id",
                "成员编号格式不正确（应为32位十六进制字符）",
                "a member ID is 32 hexadecimal characters",
            )
        return MemberKey(row_no, member_id=member_id)
    return _rejection(
        row_no,
        "members.key_missing",
        "请填写身份证号或成员编号",
        "give an ID number or a member ID",
    )


def _rejection(row_no: int, code: str, zh: str, en: str) -> Rejection:
    return Rejection(row_no, code, f"第{row_no}行：{zh}", f"row {row_no}: {en}")


# --------------------------------------------------------------------------- lines


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 text (a BOM dropped) in lines that keep their ``\\n``, decoded chunk by chunk;
    only ``\\n`` ends a line (``\\r\\n`` keeps its ``\\r``)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    carry = ""
    line_no = 0
    for chunk in chain(chunks, [None]):
        try:
            text = decoder.decode(b"", final=True) if chunk is None else decoder.decode(chunk)
        except UnicodeDecodeError as error:
            where = line_no + 1 + bytes(error.object[: error.start]).count(b"\n")
            raise MalformedBody(where, None, "不是有效的 UTF-8 文本", "not UTF-8 text") from None
        parts = (carry + text).split("\n")
        carry = parts.pop()
        if len(carry) > MAX_LINE_CHARS:
            raise MalformedBody(line_no + 1, None, "该行过长", "the line is too long")
        for part in parts:
            line_no += 1
            if len(part) > MAX_LINE_CHARS:
                raise MalformedBody(line_no, None, "该行过长", "the line is too long")
            yield part + "\n"
    if carry:
        yield carry


# --------------------------------------------------------------------------- CSV


def _csv_records(
    chunks: Iterable[bytes],
    required: tuple[str, ...],
    optional: tuple[str, ...],
    parse: Callable[[int, Mapping[str, str | None]], T | Rejection],
) -> Iterator[T | Rejection]:
    reader = csv.reader(_lines(chunks))
    try:
        header = _csv_header(next(reader, None), required, optional)
        for record in reader:
            if all(not value.strip() for value in record):
                continue
            if len(record) != len(header):
                raise MalformedBody(
                    reader.line_num,
                    None,
                    f"应有{len(header)}列，实有{len(record)}列",
                    f"expected {len(header)} fields, found {len(record)}",
                )
            yield parse(reader.line_num, dict(zip(header, record, strict=True)))
    except csv.Error as error:
        raise MalformedBody(
            reader.line_num, None, "CSV 格式错误", f"not valid CSV ({error})"
        ) from None


def _csv_header(
    found: list[str] | None, required: tuple[str, ...], optional: tuple[str, ...]
) -> list[str]:
    if found is None:
        raise MalformedBody(1, None, "内容为空，缺少表头", "the body is empty; a header is needed")
    header = [name.strip() for name in found]
    for name in header:
        if name not in (*required, *optional):
            raise MalformedBody(1, name, "不认识的列", "unknown column")
    if len(set(header)) != len(header):
        raise MalformedBody(1, None, "表头有重复的列", "a column appears twice in the header")
    missing = [name for name in required if name not in header]
    if missing:
        raise MalformedBody(1, missing[0], "缺少该列", "the column is missing")
    if not required and not header:
        raise MalformedBody(1, optional[0], "缺少该列", "the column is missing")
    return header


# --------------------------------------------------------------------------- NDJSON


def _ndjson_records(
    chunks: Iterable[bytes],
    fields: Callable[[int, dict[str, Any]], dict[str, str | None]],
    parse: Callable[[int, Mapping[str, str | None]], T | Rejection],
) -> Iterator[T | Rejection]:
    for row_no, line in enumerate(_lines(chunks), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            raise MalformedBody(row_no, None, "JSON 格式错误", "not valid JSON") from None
        if not isinstance(value, dict):
            raise MalformedBody(
                row_no, None, "每行应为一个 JSON 对象", "each line is a JSON object"
            )
        yield parse(row_no, fields(row_no, value))


def _member_fields(row_no: int, value: dict[str, Any]) -> dict[str, str | None]:
    _known(row_no, value, (*MEMBER_COLUMNS, *OPTIONAL_COLUMNS))
    raw: dict[str, str | None] = {}
    for name in (*MEMBER_COLUMNS, *OPTIONAL_COLUMNS):
        if name not in value:
            if name in MEMBER_COLUMNS:
                raise MalformedBody(row_no, name, "必填", "required")
            continue
        item = value[name]
        if name == "has_basic_medical" and isinstance(item, bool):
            item = "1" if item else "0"
        if not isinstance(item, str):
            raise MalformedBody(row_no, name, "应为文本", "must be text")
        raw[name] = item
    return raw


def _key_fields(row_no: int, value: dict[str, Any]) -> dict[str, str | None]:
    _known(row_no, value, KEY_COLUMNS)
    raw: dict[str, str | None] = {}
    for name in KEY_COLUMNS:
        item = value.get(name)
        if item is not None and not isinstance(item, str):
            raise MalformedBody(row_no, name, "应为文本", "must be text")
        raw[name] = item
    return raw


def _known(row_no: int, value: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = next((name for name in value if name not in allowed), None)
    if unknown is not None:
        raise MalformedBody(row_no, unknown[:40], "不允许的字段", "unknown field")


__all__ = [
    "KEY_COLUMNS",
    "MAX_LINE_CHARS",
    "MEDIA_TYPES",
    "BodyFormat",
    "MalformedBody",
    "MemberKey",
    "body_format",
    "member_keys",
    "member_rows",
    "parse_key",
]
