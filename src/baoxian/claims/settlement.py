"""出院即结算 and reminders from 医保 settlement data (医保结算数据).

A programme operator (e.g. a 惠民保 consortium) receives its members' basic-medical-insurance
settlement data — one row per hospital stay, outpatient visit or pharmacy purchase — as a CSV
or Parquet file (the format: ``docs/settlement-import.md``).  Importing it:

* validates every row; a bad row is reported with its row number, column and reason and never
  stops the good ones;
* for members who authorised data-driven settlement (授权), reports, decides and pays the claim
  with no documents from the customer (fast track ``discharge``);
* for members who did not, estimates what the claim would pay — writing nothing — and lists
  those with an estimate above zero to be reminded (主动提醒).

The claim ID is ``STL-`` + the settlement number (结算单号), which also becomes the invoice
number, so importing the same file again creates nothing new and pays nothing twice.

>>> header = [c.name for c in COLUMNS]
>>> cells = ["JS0001", "11010519490315001X", "王建国", "BJHMB202600000001", "", "住院",
...          "H110105001", "是", "2026-06-01", "2026-06-06", "K35.8", "58000", "50000",
...          "5000", "3000", "30000", "", "否", "否", "是"]
>>> parsed = parse_table(header, [cells])
>>> row = parsed.rows[0]
>>> (row.claim_id, row.kind, row.in_list, row.basic_paid)
('STL-JS0001', 'inpatient', Money('50000.00'), Money('30000.00'))
>>> [(i.code, i.category) for i in bill_items(row)]
[('IN_LIST', 'in_list'), ('OUT_OF_LIST', 'out_of_list'), ('SELF_PAY', 'out_of_list')]
>>> bad = parse_table(header, [[*cells[:11], "58000.5", *cells[12:]]])
>>> [(r.row, r.column, r.code) for r in bad.rejections]
[(2, 'total', 'settlement.amounts_do_not_add_up')]
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

import polars as pl
from sqlalchemy import Engine

from baoxian.claims.batch import Rejection as BatchRejection
from baoxian.claims.batch import decide_batch, estimate_batch
from baoxian.claims.case import ClaimStatus
from baoxian.claims.model import BillItem, HealthClaim
from baoxian.claims.services import ClaimService
from baoxian.claims.settlement_store import Candidate, Lookup, ReminderRow, SettlementStore
from baoxian.shared.clock import local_date
from baoxian.shared.errors import DomainError, NotFound, ValidationFailed
from baoxian.shared.identity import is_valid_resident_id, mask_id
from baoxian.shared.money import Money
from baoxian.store.crypto import FieldCipher

SettlementKind = Literal["inpatient", "pharmacy", "outpatient"]

CHANNEL = "settlement_import"
FAST_TRACK = "discharge"
CLAIM_ID_PREFIX = "STL-"


# --------------------------------------------------------------------------- the format


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the settlement file: its English name, its Chinese name (either may be the
    header) and whether the header must have it."""

    name: str
    zh: str
    required: bool


COLUMNS: tuple[Column, ...] = (
    Column("settlement_no", "结算单号", True),
    Column("id_number", "身份证号", True),
    Column("name", "姓名", False),
    Column("policy_number", "保单号", False),
    Column("insured_key", "被保险人编号", False),
    Column("kind", "就医类型", True),
    Column("provider_code", "机构编码", True),
    Column("designated", "定点机构", True),
    Column("admission_date", "入院或购药日期", True),
    Column("discharge_date", "出院日期", False),
    Column("diagnosis", "诊断编码", True),
    Column("total", "医疗费用总额", True),
    Column("in_list", "目录内金额", True),
    Column("out_of_list", "目录外金额", True),
    Column("self_pay", "自费金额", True),
    Column("basic_paid", "统筹支付", True),
    Column("drug_code", "特药编码", False),
    Column("pre_existing", "既往症", False),
    Column("accident", "意外", False),
    Column("authorised", "授权结算", True),
)
"""Every column, in the order the documentation and the example file use."""

_BY_HEADER = {c.name: c for c in COLUMNS} | {c.zh: c for c in COLUMNS}
_ZH = {c.name: c.zh for c in COLUMNS}
_KINDS: Mapping[str, SettlementKind] = {
    "inpatient": "inpatient",
    "住院": "inpatient",
    "pharmacy": "pharmacy",
    "药店购药": "pharmacy",
    "药店": "pharmacy",
    "outpatient": "outpatient",
    "门诊": "outpatient",
}
KIND_WORDS: Mapping[SettlementKind, tuple[str, str]] = {
    "inpatient": ("住院", "hospital stay"),
    "pharmacy": ("购药", "pharmacy purchase"),
    "outpatient": ("门诊", "outpatient visit"),
}
_TRUE = frozenset({"1", "true", "yes", "y", "是"})
_FALSE = frozenset({"0", "false", "no", "n", "否"})
_AMOUNT = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?$")
_SETTLEMENT_NO = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
_CODE = re.compile(r"^[0-9A-Za-z_.-]{1,32}$")
_KEY = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
_POLICY = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
_DIAGNOSIS = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,8})?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$|^[0-9]{8}$")


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """One valid row: a hospital stay, outpatient visit or pharmacy purchase settled by 医保."""

    row: int  # the file's line (the header is row 1)
    settlement_no: str
    id_number: str
    name: str
    policy_number: str  # "" — found by the 身份证号
    insured_key: str  # "" — the person the 身份证号 names
    kind: SettlementKind
    provider: str
    designated: bool
    admission_date: date  # admission, visit or purchase date
    discharge_date: date | None
    diagnosis: str
    total: Money
    in_list: Money
    out_of_list: Money
    self_pay: Money
    basic_paid: Money  # 统筹支付
    drug_code: str
    pre_existing: bool
    accident: bool
    authorised: bool

    @property
    def claim_id(self) -> str:
        return claim_id_for(self.settlement_no)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that was not imported: where (row and column), a stable code, and why."""

    row: int
    column: str  # "" when the problem is not one column's
    code: str
    zh: str
    en: str
    settlement_no: str = ""

    def message(self) -> str:
        """``第3行「total 医疗费用总额」：… / row 3, total: …``"""
        where_zh = f"「{self.column} {_ZH.get(self.column, '')}」" if self.column else ""
        where_en = f", {self.column}" if self.column else ""
        return f"第{self.row}行{where_zh}：{self.zh} / row {self.row}{where_en}: {self.en}"


@dataclass(frozen=True, slots=True)
class SettlementFile:
    """A file read and validated: the valid rows, the rejected ones, and how many rows it had."""

    rows: tuple[SettlementRow, ...]
    rejections: tuple[Rejection, ...]
    row_count: int


def claim_id_for(settlement_no: str) -> str:
    """The claim ID of a settlement: deterministic, so a re-import finds the claim it made.

    >>> claim_id_for("JS20260601000001")
    'STL-JS20260601000001'
    """
    return CLAIM_ID_PREFIX + settlement_no


# --------------------------------------------------------------------------- reading files


def read_settlement(path: Path) -> SettlementFile:
    """Read a settlement file, the format chosen by its extension (.csv or .parquet)."""
    readers: dict[str, Callable[[Path], SettlementFile]] = {
        ".csv": read_settlement_csv,
        ".parquet": read_settlement_parquet,
    }
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ValidationFailed(
            "settlement.unknown_format",
            f"无法识别文件格式 {path.name}：应为 .csv 或 .parquet",
            f"unknown file format {path.name}: use .csv or .parquet",
        )
    return reader(path)


def read_settlement_csv(path: Path) -> SettlementFile:
    """A UTF-8 CSV (with or without a byte-order mark) with a header row."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = csv.reader(handle)
        header = next(lines, None)
        if header is None:
            raise _empty_file(path)
        return parse_table(header, lines)


def read_settlement_parquet(path: Path) -> SettlementFile:
    """A Parquet file; money columns as decimal, integer or text (never floating point)."""
    frame = pl.read_parquet(path)
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    if floats:
        raise ValidationFailed(
            "settlement.float_column",
            f"列 {', '.join(floats)} 为浮点数；金额请用小数（decimal）或文本类型",
            f"columns {', '.join(floats)} are floating point; write money as decimal or text",
        )
    cells = ([_cell_text(value) for value in row] for row in frame.iter_rows())
    return parse_table(frame.columns, cells)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        fen = value.quantize(Decimal("0.01"))
        return f"{fen:f}" if fen == value else f"{value:f}"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _empty_file(path: Path) -> ValidationFailed:
    return ValidationFailed(
        "settlement.empty_file", f"文件 {path.name} 为空", f"the file {path.name} is empty"
    )


# --------------------------------------------------------------------------- validation


def parse_table(header: Sequence[str], lines: Iterable[Sequence[str]]) -> SettlementFile:
    """Validate every line against the format; the header is row 1, data starts at row 2.

    A header with missing, unknown or repeated columns refuses the whole file; a bad line is
    a rejection and the other lines go on.  Blank lines are skipped."""
    columns = _columns(header)
    rows: list[SettlementRow] = []
    rejections: list[Rejection] = []
    seen: set[str] = set()
    count = 0
    for number, cells in enumerate(lines, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        count += 1
        result = _read_line(number, columns, cells, seen)
        if isinstance(result, SettlementRow):
            seen.add(result.settlement_no)
            rows.append(result)
        else:
            rejections.extend(result)
    return SettlementFile(tuple(rows), tuple(rejections), count)


def _columns(header: Sequence[str]) -> list[str]:
    """The canonical column name of each header cell (English or Chinese names accepted)."""
    names = [_canonical(cell) for cell in header]
    unknown = [cell for cell, name in zip(header, names, strict=True) if name is None]
    known = [name for name in names if name is not None]
    repeated = sorted({name for name in known if known.count(name) > 1})
    missing = [c.name for c in COLUMNS if c.required and c.name not in known]
    for code, zh, en, listed in (
        ("settlement.unknown_columns", "文件含未知列", "the file has unknown columns", unknown),
        ("settlement.repeated_columns", "文件列重复", "the file repeats columns", repeated),
        ("settlement.missing_columns", "文件缺少列", "the file lacks columns", missing),
    ):
        if listed:
            raise ValidationFailed(code, f"{zh}：{', '.join(listed)}", f"{en}: {', '.join(listed)}")
    return [name or "" for name in names]


def _canonical(cell: str) -> str | None:
    text = cell.strip()
    column = _BY_HEADER.get(text) or _BY_HEADER.get(text.lower())
    return None if column is None else column.name


def _read_line(
    number: int, columns: Sequence[str], cells: Sequence[str], seen: set[str]
) -> SettlementRow | list[Rejection]:
    if len(cells) != len(columns):
        return [
            Rejection(
                number,
                "",
                "settlement.cell_count",
                f"本行有 {len(cells)} 个字段，表头有 {len(columns)} 列",
                f"the line has {len(cells)} cells; the header has {len(columns)} columns",
            )
        ]
    values = dict(zip(columns, (cell.strip() for cell in cells), strict=True))
    row = _read_row(_Cells(number, values))
    if isinstance(row, list):
        return row
    problems = consistency(row)
    if row.settlement_no in seen:
        problems.insert(0, _duplicate(row))
    return problems or row


class _Cells:
    """One line's cells by column name; reading a cell records its problem, if any."""

    def __init__(self, row: int, values: Mapping[str, str]) -> None:
        self.row = row
        self.values = values
        self.problems: list[Rejection] = []

    def problem(self, column: str, code: str, zh: str, en: str) -> None:
        settlement_no = self.values.get("settlement_no", "")
        self.problems.append(Rejection(self.row, column, code, zh, en, settlement_no))

    def text(
        self,
        column: str,
        pattern: re.Pattern[str] | None,
        required: bool = True,
        upper: bool = False,
    ) -> str:
        value = self.values.get(column, "")
        value = value.upper() if upper else value
        if not value:
            if required:
                self.problem(column, "settlement.required", "必须填写", "is required")
            return ""
        if pattern is not None and not pattern.match(value):
            self.problem(column, "settlement.bad_format", "格式不正确", f"is malformed: {value!r}")
        return value

    def money(self, column: str, required: bool = False) -> Money:
        value = self.values.get(column, "")
        if not value:
            if required:
                self.problem(column, "settlement.required", "必须填写", "is required")
            return Money.ZERO
        if not _AMOUNT.match(value):
            self.problem(
                column,
                "settlement.bad_amount",
                f"金额 {value!r} 无效：应为非负的元金额，最多两位小数",
                f"amount {value!r} is invalid: yuan, not negative, at most 2 decimals",
            )
            return Money.ZERO
        return Money.of(value)

    def day(self, column: str, required: bool = False) -> date | None:
        value = self.values.get(column, "")
        if not value:
            if required:
                self.problem(column, "settlement.required", "必须填写", "is required")
            return None
        digits = value.replace("-", "")
        try:
            if not _DATE.match(value):
                raise ValueError(value)
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            self.problem(
                column,
                "settlement.bad_date",
                f"日期 {value!r} 无效：应为 YYYY-MM-DD 或 YYYYMMDD",
                f"date {value!r} is invalid: use YYYY-MM-DD or YYYYMMDD",
            )
            return None

    def flag(self, column: str, default: bool | None = None) -> bool:
        value = self.values.get(column, "").lower()
        if not value and default is not None:
            return default
        if value not in _TRUE | _FALSE:
            self.problem(
                column,
                "settlement.bad_flag",
                f"应填 是/否 或 1/0，而不是 {value!r}",
                f"must be yes/no or 1/0, not {value!r}",
            )
        return value in _TRUE

    def kind(self) -> SettlementKind | None:
        value = self.values.get("kind", "")
        kind = _KINDS.get(value.lower())
        if kind is None:
            self.problem(
                "kind",
                "settlement.bad_kind",
                f"就医类型 {value!r} 无效：应为 住院 / 药店购药 / 门诊",
                f"kind {value!r} is invalid: use inpatient / pharmacy / outpatient",
            )
        return kind

    def id_number(self) -> str:
        value = self.text("id_number", None, upper=True)
        if value and not is_valid_resident_id(value):
            self.problem(
                "id_number",
                "settlement.bad_id_number",
                f"身份证号 {mask_id(value)} 无效（长度、出生日期或校验位）",
                f"resident ID {mask_id(value)} is invalid (length, birth date or check digit)",
            )
        return value


def _read_row(cells: _Cells) -> SettlementRow | list[Rejection]:
    settlement_no = cells.text("settlement_no", _SETTLEMENT_NO)
    id_number = cells.id_number()
    policy_number = cells.text("policy_number", _POLICY, required=False)
    insured_key = cells.text("insured_key", _KEY, required=False)
    kind = cells.kind()
    provider = cells.text("provider_code", _CODE)
    designated = cells.flag("designated")
    admission = cells.day("admission_date", required=True)
    discharge = cells.day("discharge_date")
    diagnosis = cells.text("diagnosis", _DIAGNOSIS, upper=True)
    amounts = [cells.money(c, required=c == "total") for c in _MONEY_COLUMNS]
    drug_code = cells.text("drug_code", _CODE, required=False)
    pre_existing = cells.flag("pre_existing", default=False)
    accident = cells.flag("accident", default=False)
    authorised = cells.flag("authorised")
    if cells.problems or kind is None or admission is None:
        return cells.problems
    total, in_list, out_of_list, self_pay, basic_paid = amounts
    return SettlementRow(
        cells.row,
        settlement_no,
        id_number,
        cells.values.get("name", "")[:50],
        policy_number,
        insured_key,
        kind,
        provider,
        designated,
        admission,
        discharge,
        diagnosis,
        total,
        in_list,
        out_of_list,
        self_pay,
        basic_paid,
        drug_code,
        pre_existing,
        accident,
        authorised,
    )


_MONEY_COLUMNS = ("total", "in_list", "out_of_list", "self_pay", "basic_paid")


def consistency(row: SettlementRow) -> list[Rejection]:
    """The checks across columns: the amounts add up, 统筹 within the list, dates in order,
    a discharge date exactly for stays, a special-drug code for pharmacy rows."""
    checks = (
        _amounts_add_up,
        _basic_within_list,
        _positive_total,
        _discharge,
        _drug_code,
    )
    return [problem for check in checks if (problem := check(row)) is not None]


def _reject(row: SettlementRow, column: str, code: str, zh: str, en: str) -> Rejection:
    return Rejection(row.row, column, code, zh, en, row.settlement_no)


def _amounts_add_up(row: SettlementRow) -> Rejection | None:
    parts = row.in_list + row.out_of_list + row.self_pay
    if parts == row.total:
        return None
    return _reject(
        row,
        "total",
        "settlement.amounts_do_not_add_up",
        f"目录内 + 目录外 + 自费 = {parts.amount} 元，与总额 {row.total.amount} 元不符",
        f"in-list + out-of-list + self-pay = {parts.amount}, not the total {row.total.amount}",
    )


def _basic_within_list(row: SettlementRow) -> Rejection | None:
    if row.basic_paid <= row.in_list:
        return None
    return _reject(
        row,
        "basic_paid",
        "settlement.basic_over_in_list",
        f"统筹支付 {row.basic_paid.amount} 元超过目录内金额 {row.in_list.amount} 元",
        f"paid by basic insurance {row.basic_paid.amount} is over the in-list amount "
        f"{row.in_list.amount}",
    )


def _positive_total(row: SettlementRow) -> Rejection | None:
    if not row.total.is_zero():
        return None
    return _reject(row, "total", "settlement.zero_total", "总额为零", "the total is zero")


def _discharge(row: SettlementRow) -> Rejection | None:
    stay = row.kind == "inpatient"
    if stay and row.discharge_date is None:
        return _reject(
            row,
            "discharge_date",
            "settlement.discharge_required",
            "住院须填写出院日期",
            "a hospital stay needs its discharge date",
        )
    if not stay and row.discharge_date is not None:
        return _reject(
            row,
            "discharge_date",
            "settlement.discharge_not_allowed",
            "只有住院填写出院日期",
            "only a hospital stay has a discharge date",
        )
    if row.discharge_date is not None and row.discharge_date < row.admission_date:
        return _reject(
            row,
            "discharge_date",
            "settlement.discharge_before_admission",
            f"出院日期 {row.discharge_date} 早于入院日期 {row.admission_date}",
            f"discharge {row.discharge_date} is before admission {row.admission_date}",
        )
    return None


def _drug_code(row: SettlementRow) -> Rejection | None:
    if row.kind == "pharmacy" and not row.drug_code:
        return _reject(
            row,
            "drug_code",
            "settlement.drug_code_required",
            "药店购药只结算特药，须填写特药编码",
            "a pharmacy row is settled only for a special drug: its drug code is required",
        )
    if row.kind == "inpatient" and row.drug_code:
        return _reject(
            row,
            "drug_code",
            "settlement.drug_code_not_allowed",
            "住院费用不填写特药编码（特药请按药店购药或门诊报送）",
            "a hospital stay has no drug code (send special drugs as pharmacy or outpatient)",
        )
    return None


def _duplicate(row: SettlementRow) -> Rejection:
    return _reject(
        row,
        "settlement_no",
        "settlement.duplicate_in_file",
        f"结算单号 {row.settlement_no} 在文件中重复",
        f"settlement number {row.settlement_no} is repeated in the file",
    )


# --------------------------------------------------------------------------- mapping


def bill_items(row: SettlementRow) -> tuple[BillItem, ...]:
    """The itemised bill the product's coverages read (``item_categories``).

    A special drug is one ``special_drug`` item for the whole purchase with what 医保 paid;
    otherwise the in-list amount is an ``in_list`` item carrying the 统筹 payment, and the
    out-of-list and self-pay (自费) amounts are ``out_of_list`` items — outside the basic list
    both.  Zero amounts make no item."""
    if row.drug_code:
        drug = BillItem(
            row.drug_code,
            "特药 special drug",
            "special_drug",
            row.total,
            row.basic_paid,
            row.designated,
        )
        return (drug,)
    items = (
        BillItem(
            "IN_LIST", "医保目录内费用", "in_list", row.in_list, row.basic_paid, row.designated
        ),
        BillItem("OUT_OF_LIST", "医保目录外费用", "out_of_list", row.out_of_list),
        BillItem("SELF_PAY", "自费费用", "out_of_list", row.self_pay),
    )
    return tuple(item for item in items if not item.amount.is_zero())


def to_claim(row: SettlementRow, unit_key: str, policy_number: str = "") -> HealthClaim:
    """The claim a settlement row makes for the insured ``unit_key`` (of ``policy_number``,
    by default the row's)."""
    return HealthClaim(
        claim_id=row.claim_id,
        policy_number=policy_number or row.policy_number,
        unit_key=unit_key,
        loss_date=row.admission_date,
        diagnosis=row.diagnosis,
        items=bill_items(row),
        accident=row.accident,
        pre_existing=row.pre_existing,
        provider=row.provider,
        invoice_no=row.settlement_no,
        discharge_date=row.discharge_date,
        channel=CHANNEL,
    )


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Reminder:
    """主动提醒: a member who has not authorised settlement from 医保 data, whose settled
    bill the policy would pay — with an SMS text in Chinese and English."""

    row: int
    settlement_no: str
    policy_number: str
    insured_key: str
    id_number_masked: str
    name: str
    kind: SettlementKind
    loss_date: date
    estimated_payable: Money
    zh: str
    en: str


REMINDER_COLUMNS = (
    "settlement_no",
    "policy_number",
    "insured_key",
    "id_number_masked",
    "name",
    "kind",
    "loss_date",
    "estimated_payable",
    "message_zh",
    "message_en",
)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did.  Every data row is counted once:
    ``rows = created + already_imported + unauthorised + rejected``."""

    rows: int
    created: int
    already_imported: int
    paid: int
    referred: int
    declined: int
    unauthorised: int
    total_paid: Money
    rejections: tuple[Rejection, ...]
    reminders: tuple[Reminder, ...]
    reminders_stored: int = 0  # reminders new to ``claim_reminders`` (the others were kept)

    @property
    def rejected(self) -> int:
        """Rows rejected (a row with several problems has several rejections)."""
        return len({r.row for r in self.rejections})

    @property
    def reminded(self) -> int:
        return len(self.reminders)


def write_reminders_csv(reminders: Iterable[Reminder], path: Path) -> int:
    """Write the reminder list as UTF-8 CSV with a byte-order mark (opens in Excel); the
    身份证号 is masked.  Returns the number of reminders written."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REMINDER_COLUMNS)
        for r in reminders:
            writer.writerow(
                (
                    r.settlement_no,
                    r.policy_number,
                    r.insured_key,
                    r.id_number_masked,
                    r.name,
                    r.kind,
                    r.loss_date.isoformat(),
                    f"{r.estimated_payable.amount:.2f}",
                    r.zh,
                    r.en,
                )
            )
            count += 1
    return count


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def reminder_text(
    name: str, kind: SettlementKind, on: date, plan: tuple[str, str], amount: Money
) -> tuple[str, str]:
    """A short, plain SMS in Chinese and English for an elderly customer.

    >>> zh, en = reminder_text("王建国", "inpatient", date(2026, 6, 3), ("北京普惠健康保",
    ...     "Beijing Inclusive Health Plan"), Money.of("19200"))
    >>> zh
    '王建国您好：您6月3日住院的费用，北京普惠健康保预计可赔约19,200.00元。回复“授权”，不用交材料就能赔到您的账户。'
    """
    what_zh, what_en = KIND_WORDS[kind]
    figure = f"{amount.amount:,.2f}"
    zh = (
        f"{name}您好：您{on.month}月{on.day}日{what_zh}的费用，{plan[0]}预计可赔约{figure}元。"
        "回复“授权”，不用交材料就能赔到您的账户。"
    )
    greeting = f"Hello {name}" if name else "Hello"
    en = (
        f"{greeting}: for your {what_en} on {on.day} {_MONTHS[on.month - 1]}, {plan[1]} "
        f"can pay about {figure} yuan. Reply 授权 (authorise) and we pay into your account, "
        "no documents needed."
    )
    return zh, en


# --------------------------------------------------------------------------- the use case


def import_settlement(
    service: ClaimService,
    settlement: SettlementFile,
    engine: Engine,
    cipher: FieldCipher,
    *,
    product: str | None = None,
    source: str = "",
    workers: int | None = None,
) -> ImportResult:
    """Settle the authorised rows and list (and keep) the members to remind — set-based.

    1. Each row's member is found through the blind index of the 身份证号, on the policy the
       row names or, when it names none, on the person's one policy (of ``product``, when
       given) that covered the day of the stay (:func:`choose_member`).
    2. The authorised rows become claims decided and paid in one :func:`decide_batch` (fast
       track ``discharge``, paid to the insured) — exactly what report → decide → pay would
       do one by one.  ``workers`` processes decide (default: in this process for small
       files, one per CPU from 5,000 claims).
    3. The other rows are estimated with the benefit engine, writing no claim; those that
       would pay are listed and kept in ``claim_reminders`` (one row per settlement number)
       for the daily proactive-service scan, ``source`` naming the file.

    Idempotent: a row whose claim exists is counted as already imported, and its claim is
    only taken further if an earlier run stopped half way (decide and pay do nothing twice).
    A row refused (unknown policy, not a member, a claim the service would refuse) is a
    rejection; the other rows go on."""
    with engine.connect() as connection:
        store = SettlementStore(connection, cipher)
        members, refused = _find_members(store, settlement.rows, product)
        rows = [row for row in settlement.rows if row.row in members]
        statuses = store.claim_statuses(row.claim_id for row in rows)
    run = _Run(service, members, {row.claim_id: row for row in rows}, refused)
    run.already_imported = sum(1 for row in rows if row.claim_id in statuses)
    for row in rows:
        if row.authorised and statuses.get(row.claim_id) in _UNFINISHED:
            run.finish(row)
    new = [row for row in rows if row.claim_id not in statuses]
    run.settle(engine, [row for row in new if row.authorised], workers)
    run.remind(engine, cipher, [row for row in new if not row.authorised], source)
    return run.result(settlement)


_UNFINISHED = frozenset({ClaimStatus.REPORTED.value, ClaimStatus.APPROVED.value})
_SMALL_BATCH = 5_000
_ERROR_COLUMNS = {
    "policy.not_found": "policy_number",
    "policy.unknown_insured": "insured_key",
    "settlement.several_policies": "policy_number",
    "settlement.not_a_member": "id_number",
    "settlement.member_mismatch": "id_number",
}


def _find_members(
    store: SettlementStore, rows: Sequence[SettlementRow], product: str | None
) -> tuple[dict[int, Candidate], list[Rejection]]:
    lookups = [Lookup(r.row, r.id_number, r.policy_number, r.insured_key) for r in rows]
    candidates = store.candidates(lookups, product)
    known = store.existing_policies(r.policy_number for r in rows)
    members: dict[int, Candidate] = {}
    refused: list[Rejection] = []
    for row in rows:
        try:
            members[row.row] = choose_member(row, candidates.get(row.row, []), known, product)
        except DomainError as error:
            refused.append(_rejection(row, error.code, error.zh, error.en))
    return members, refused


def choose_member(
    row: SettlementRow,
    candidates: Sequence[Candidate],
    known_policies: Set[str],
    product: str | None = None,
) -> Candidate:
    """The policy and insured a row is about, from the person's candidate policies (those
    the row's 保单号 and 被保险人编号 allow): the one that covered the day of the stay; when
    none did, the only one (its claim is then declined with the reason).  Several that
    covered it need the 保单号."""
    if not candidates:
        raise _no_member(row, known_policies, product)
    covering = [
        c for c in candidates if c.insured_since <= row.admission_date < c.term_end
    ] or list(candidates)
    if len(covering) > 1:
        numbers = "、".join(c.policy_number for c in covering)
        raise ValidationFailed(
            "settlement.several_policies",
            f"身份证号 {mask_id(row.id_number)} 在 {row.admission_date} 有多份保单（{numbers}），"
            "请填写保单号",
            f"resident ID {mask_id(row.id_number)} has several policies on "
            f"{row.admission_date} ({', '.join(c.policy_number for c in covering)}): "
            "give the policy number",
        )
    return covering[0]


def _no_member(row: SettlementRow, known_policies: Set[str], product: str | None) -> DomainError:
    who = mask_id(row.id_number)
    if row.policy_number and row.policy_number not in known_policies:
        return NotFound(
            "policy.not_found",
            f"保单 {row.policy_number} 不存在",
            f"policy {row.policy_number} not found",
        )
    if row.policy_number:
        key_zh = f"（被保险人编号 {row.insured_key}）" if row.insured_key else ""
        key_en = f" as insured {row.insured_key}" if row.insured_key else ""
        return ValidationFailed(
            "settlement.member_mismatch",
            f"身份证号 {who} 不是保单 {row.policy_number}{key_zh} 的被保险人",
            f"resident ID {who} is not insured by policy {row.policy_number}{key_en}",
        )
    scope_zh = f"产品 {product} 的" if product else ""
    scope_en = f" under product {product}" if product else ""
    return ValidationFailed(
        "settlement.not_a_member",
        f"身份证号 {who} 不是{scope_zh}被保险人",
        f"resident ID {who} is not insured{scope_en}",
    )


def _rejection(row: SettlementRow, code: str, zh: str, en: str) -> Rejection:
    return Rejection(row.row, _ERROR_COLUMNS.get(code, ""), code, zh, en, row.settlement_no)


@dataclass
class _Run:
    """One import run: what each row did."""

    service: ClaimService
    members: Mapping[int, Candidate]
    by_claim: Mapping[str, SettlementRow]
    rejections: list[Rejection]
    already_imported: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    paid_total: Money = Money.ZERO
    reminders: list[Reminder] = field(default_factory=list)
    reminders_stored: int = 0

    def claim(self, row: SettlementRow) -> HealthClaim:
        member = self.members[row.row]
        return to_claim(row, member.unit_key, member.policy_number)

    def finish(self, row: SettlementRow) -> None:
        """Take a claim an earlier run reported (or approved) to its decision and payment."""
        try:
            before = self.service.case(row.claim_id)
            case = self.service.decide(row.claim_id)
            if case.status is ClaimStatus.APPROVED:
                case, _instruction = self.service.pay(row.claim_id, payee_kind="insured")
        except DomainError as error:
            self.rejections.append(_rejection(row, error.code, error.zh, error.en))
            return
        if before.status is not case.status:
            self._count(_OUTCOMES.get(case.status, ""))
            if case.status is ClaimStatus.PAID:
                self.paid_total = self.paid_total + case.paid - before.paid

    def settle(self, engine: Engine, rows: Sequence[SettlementRow], workers: int | None) -> None:
        if not rows:
            return
        if workers is None and len(rows) < _SMALL_BATCH:
            workers = 0
        service = self.service
        result = decide_batch(
            engine,
            service.policies,
            service.catalog,
            [self.claim(row) for row in rows],
            channel=CHANNEL,
            fast_track=FAST_TRACK,
            clock=service.clock,
            new_id=service.new_id,
            review_policy=service.review_policy,
            anomaly_model=service.anomaly_model,
            workers=workers,
        )
        self._count("created", result.decided)
        for status, count in result.statuses.items():
            self._count(_OUTCOMES.get(ClaimStatus(status), ""), count)
        self.paid_total = self.paid_total + result.paid
        self._refused(result.rejected)

    def remind(
        self, engine: Engine, cipher: FieldCipher, rows: Sequence[SettlementRow], source: str
    ) -> None:
        if not rows:
            return
        service = self.service
        payable, refused = estimate_batch(
            engine, service.policies, service.catalog, [self.claim(r) for r in rows], FAST_TRACK
        )
        self._refused(refused)
        self._count("unauthorised", len(payable))
        today = local_date(service.clock())
        kept = []
        for row in rows:
            estimate = payable.get(row.claim_id)
            if estimate is None or estimate.amount <= 0:
                continue
            member = self.members[row.row]
            self.reminders.append(self._reminder(row, member, estimate))
            kept.append(_reminder_row(row, member, estimate, source, today, service.new_id()))
        with engine.begin() as connection:
            self.reminders_stored = SettlementStore(connection, cipher).add_reminders(kept)

    def _reminder(self, row: SettlementRow, member: Candidate, estimate: Money) -> Reminder:
        product = self.service.catalog.product(member.product_code)
        plan = (_short(product.name.zh, "（"), _short(product.name.en, " ("))
        zh, en = reminder_text(row.name, row.kind, row.admission_date, plan, estimate)
        return Reminder(
            row.row,
            row.settlement_no,
            member.policy_number,
            member.unit_key,
            mask_id(row.id_number),
            row.name,
            row.kind,
            row.admission_date,
            estimate,
            zh,
            en,
        )

    def _refused(self, refused: Iterable[BatchRejection]) -> None:
        for r in refused:
            self.rejections.append(_rejection(self.by_claim[r.claim_id], r.code, r.zh, r.en))

    def _count(self, what: str, count: int = 1) -> None:
        if what:
            self.counts[what] = self.counts.get(what, 0) + count

    def result(self, settlement: SettlementFile) -> ImportResult:
        get = self.counts.get
        return ImportResult(
            rows=settlement.row_count,
            created=get("created", 0),
            already_imported=self.already_imported,
            paid=get("paid", 0),
            referred=get("referred", 0),
            declined=get("declined", 0),
            unauthorised=get("unauthorised", 0),
            total_paid=self.paid_total,
            rejections=tuple(
                sorted((*settlement.rejections, *self.rejections), key=lambda r: r.row)
            ),
            reminders=tuple(self.reminders),
            reminders_stored=self.reminders_stored,
        )


_OUTCOMES = {
    ClaimStatus.PAID: "paid",
    ClaimStatus.REFERRED: "referred",
    ClaimStatus.PENDING_INFO: "referred",
    ClaimStatus.DECLINED: "declined",
}


def _reminder_row(
    row: SettlementRow,
    member: Candidate,
    estimate: Money,
    source: str,
    today: date,
    reminder_id: str,
) -> ReminderRow:
    return ReminderRow(
        reminder_id=reminder_id,
        settlement_no=row.settlement_no,
        party_id=member.party_id,
        policy_number=member.policy_number,
        insured_key=member.unit_key,
        kind=row.kind,
        loss_date=row.admission_date,
        amount_fen=estimate.fen,
        source_file=source,
        created_on=today,
    )


def _short(name: str, stop: str) -> str:
    """A product's name without its parenthesised description (for an SMS)."""
    return name.split(stop, 1)[0]


__all__ = [
    "CHANNEL",
    "COLUMNS",
    "FAST_TRACK",
    "KIND_WORDS",
    "REMINDER_COLUMNS",
    "Column",
    "ImportResult",
    "Rejection",
    "Reminder",
    "SettlementFile",
    "SettlementKind",
    "SettlementRow",
    "bill_items",
    "choose_member",
    "claim_id_for",
    "consistency",
    "import_settlement",
    "parse_table",
    "read_settlement",
    "read_settlement_csv",
    "read_settlement_parquet",
    "reminder_text",
    "to_claim",
    "write_reminders_csv",
]
