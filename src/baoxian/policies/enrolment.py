"""Bulk enrolment (批量投保) of members into a group or programme policy, e.g. a city's 惠民保.

A city plan enrols millions in days, so this path is set-based: every member is validated in
Python (身份证 checksum, mobile, duplicates, the plan's eligibility rules, rating), then the
accepted members are written in one transaction with bulk inserts (COPY on PostgreSQL).
Re-running the same file enrols nobody twice.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from baoxian.catalog.model import CompiledPlan, RiskUnit, age_on, rate_unit
from baoxian.catalog.services import Catalog
from baoxian.policies.model import Action, next_status, require_within
from baoxian.policies.ports import Event, EventLog
from baoxian.shared.clock import Clock, local_date
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.identity import birth_date_from_id, gender_from_id, is_valid_resident_id
from baoxian.shared.money import Money, total

if TYPE_CHECKING:
    from baoxian.policies.enrolment_store import PolicyHeader, Written

MEMBER_COLUMNS = ("name", "id_number", "mobile", "medical_insurance_city", "has_basic_medical")
_TRUE = {"1", "true", "yes", "y", "是", "有"}
_FALSE = {"0", "false", "no", "n", "否", "无"}


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One line of an enrolment file, as given."""

    row_no: int
    name: str
    id_number: str
    mobile: str
    medical_insurance_city: str
    has_basic_medical: bool
    address: str = ""


@dataclass(frozen=True, slots=True)
class ValidMember:
    row: MemberRow
    facts: Mapping[str, Any]
    premium: Money


@dataclass(frozen=True, slots=True)
class Rejection:
    row_no: int
    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class EnrolmentReport:
    batch_id: str
    received: int
    enrolled: int
    already_enrolled: int
    rejected: tuple[Rejection, ...]
    premium: Money
    seconds: Mapping[str, float] = field(default_factory=dict)


def read_member_csv(path: Path) -> Iterator[MemberRow | Rejection]:
    """Rows of a UTF-8 CSV with a header; malformed rows become rejections, not errors."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in MEMBER_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            yield Rejection(
                1,
                "enrolment.missing_columns",
                f"文件缺少列：{', '.join(missing)}",
                f"the file lacks columns: {', '.join(missing)}",
            )
            return
        for row_no, raw in enumerate(reader, start=2):
            yield parse_member(row_no, raw)


def parse_member(row_no: int, raw: Mapping[str, str | None]) -> MemberRow | Rejection:
    flag = (raw.get("has_basic_medical") or "").strip().lower()
    if flag not in _TRUE | _FALSE:
        return Rejection(
            row_no,
            "enrolment.bad_flag",
            f"第{row_no}行：是否参加医保应填 是/否 或 1/0",
            f"row {row_no}: has_basic_medical must be yes/no or 1/0",
        )
    return MemberRow(
        row_no=row_no,
        name=(raw.get("name") or "").strip(),
        id_number=(raw.get("id_number") or "").strip().upper(),
        mobile=(raw.get("mobile") or "").strip(),
        medical_insurance_city=(raw.get("medical_insurance_city") or "").strip(),
        has_basic_medical=flag in _TRUE,
        address=(raw.get("address") or "").strip(),
    )


class MemberValidator:
    """Checks members against identity rules and the plan, rating each one (with a cache
    keyed on the facts the rating tables read, so a flat premium is computed once)."""

    def __init__(self, compiled: CompiledPlan, effective: date) -> None:
        self.compiled = compiled
        self.effective = effective
        self.cover = {
            c.code: Money(c.sum_insured.fixed)
            for c in compiled.plan.coverages
            if c.sum_insured.fixed is not None and c.rider is None and not c.optional
        }
        self.inputs = sorted(rating_inputs(compiled))
        self._premiums: dict[tuple[Any, ...], Money | None] = {}
        self._seen: set[int] = set()  # the first 17 digits (they fix the check digit)

    def check(self, row: MemberRow) -> ValidMember | Rejection:
        problem = self._identity_problem(row)
        if problem is not None:
            return problem
        self._seen.add(int(row.id_number[:17]))
        facts: dict[str, Any] = {
            "age": age_on(birth_date_from_id(row.id_number), self.effective),
            "gender": gender_from_id(row.id_number),
            "has_basic_medical": row.has_basic_medical,
            "medical_insurance_city": row.medical_insurance_city,
            "declared_conditions": (),
        }
        unit = RiskUnit(row.id_number, facts)
        reasons = self.compiled.evaluate_rules(unit, self.cover, "new_business")
        if reasons:
            first = reasons[0]
            return Rejection(row.row_no, f"eligibility.{first.code}", first.zh, first.en)
        premium = self._premium(unit)
        if premium is None:
            return Rejection(
                row.row_no, "rating.no_rate", "费率表中没有适用的费率", "no rate fits this member"
            )
        return ValidMember(row, facts, premium)

    def check_all(
        self, rows: Iterable[MemberRow | Rejection]
    ) -> tuple[list[ValidMember], list[Rejection]]:
        """Accepted members and rejections (with row numbers), in file order."""
        accepted: list[ValidMember] = []
        rejected: list[Rejection] = []
        for row in rows:
            result = row if isinstance(row, Rejection) else self.check(row)
            if isinstance(result, Rejection):
                rejected.append(result)
            else:
                accepted.append(result)
        return accepted, rejected

    def premium_of(self, key: str, facts: Mapping[str, Any]) -> Money | None:
        """The annual premium of a unit already on the policy, rated on its stored facts
        (``None`` when no rate fits)."""
        return self._premium(RiskUnit(key, facts))

    def _identity_problem(self, row: MemberRow) -> Rejection | None:
        if not row.name or len(row.name) > 100:
            return _reject(row, "party.invalid_name", "姓名为空或过长", "name empty or too long")
        if not is_valid_resident_id(row.id_number):
            return _reject(
                row, "party.invalid_resident_id", "身份证号码无效", "invalid resident ID number"
            )
        mobile = row.mobile
        if len(mobile) != 11 or not mobile.isdigit() or mobile[0] != "1" or mobile[1] < "3":
            return _reject(row, "party.invalid_mobile", "手机号码无效", "invalid mobile number")
        if int(row.id_number[:17]) in self._seen:
            return _reject(
                row, "enrolment.duplicate_in_file", "文件内身份证号重复", "ID number repeated"
            )
        return None

    def _premium(self, unit: RiskUnit) -> Money | None:
        key = tuple(unit.facts.get(name) for name in self.inputs)
        if key not in self._premiums:
            lines, unrated = rate_unit(self.compiled, unit, self.cover)
            self._premiums[key] = None if unrated else total([line.amount for line in lines])
        return self._premiums[key]


def rating_inputs(compiled: CompiledPlan) -> set[str]:
    """The facts any rating table of the plan reads."""
    names: set[str] = set()
    for table in compiled.plan.rating.tables:
        for row in table.rows:
            names.update(row.when)
            names.update(row.between)
    for component in compiled.plan.rating.components:
        if component.per is not None:
            names.add(component.per)
    return names


def _reject(row: MemberRow, code: str, zh: str, en: str) -> Rejection:
    return Rejection(row.row_no, code, f"第{row.row_no}行：{zh}", f"row {row.row_no}: {en}")


# --------------------------------------------------------------------------- the use case


class EnrolmentStore(Protocol):
    def header(self, policy_number: str) -> PolicyHeader: ...
    def write(
        self,
        header: PolicyHeader,
        members: Sequence[ValidMember],
        cover: dict[str, int],
        batch_id: str,
        added_on: date,
        now: datetime,
    ) -> Written: ...


class EnrolmentUnitOfWork(Protocol):
    @property
    def enrolments(self) -> EnrolmentStore: ...
    @property
    def events(self) -> EventLog: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


@dataclass
class EnrolmentService:
    """Enrol a file of members into a group or programme policy."""

    uow: Callable[[], EnrolmentUnitOfWork]
    catalog: Catalog
    clock: Clock

    def enrol(
        self,
        policy_number: str,
        rows: Iterable[MemberRow | Rejection],
        batch_id: str,
        effective: date | None = None,
    ) -> EnrolmentReport:
        """Validate every member, then write the accepted ones in one transaction.  The
        ``batch_id`` is the idempotency key: a batch already applied changes nothing.

        The members are covered from ``effective``, a day of the current term (so that an
        operator can load members who joined earlier), by default from today or the term's
        start if later: waiting periods and the review's "claim soon after inception" run
        from it."""
        with self.uow() as uow:
            header = uow.enrolments.header(policy_number)
            if uow.events.seen(batch_id):
                return _report_of(uow.events.for_aggregate(policy_number), batch_id)
        next_status(header.status, Action.ENDORSE, policy_number)
        if not header.is_group:
            raise ValidationFailed(
                "endorsement.not_group",
                "只有团体或统保保单可以批量投保",
                "bulk enrolment needs a group or programme policy",
            )
        compiled = self.catalog.plan(header.product_code, header.plan_version)
        began = time.perf_counter()
        received = list(rows)
        validator = MemberValidator(compiled, header.term_start)
        accepted, rejected = validator.check_all(received)
        validated = round(time.perf_counter() - began, 3)
        cover = {code: amount.fen for code, amount in validator.cover.items()}
        now = self.clock()
        on = max(local_date(now), header.term_start)  # enrolled before the start: from it
        if effective is not None:
            require_within(header.term_start, header.term_end, effective)
            on = effective
        with self.uow() as uow:
            written = uow.enrolments.write(header, accepted, cover, batch_id, on, now)
            report = EnrolmentReport(
                batch_id=batch_id,
                received=len(received),
                enrolled=written.enrolled,
                already_enrolled=len(accepted) - written.enrolled,
                rejected=tuple(rejected),
                premium=written.premium,
                seconds={"validate": validated, **written.seconds},
            )
            uow.events.append(
                Event(
                    "policy",
                    policy_number,
                    "policy.members_enrolled",
                    _report_payload(report),
                    now,
                    batch_id,
                )
            )
            uow.commit()
        return report


def _report_payload(report: EnrolmentReport) -> dict[str, Any]:
    return {
        "batch_id": report.batch_id,
        "received": report.received,
        "enrolled": report.enrolled,
        "already_enrolled": report.already_enrolled,
        "rejected": len(report.rejected),
        "rejections": [asdict(r) for r in report.rejected[:200]],
        "premium_fen": report.premium.fen,
    }


def _report_of(events: list[Event], batch_id: str) -> EnrolmentReport:
    payload = next(e.payload for e in events if e.request_id == batch_id)
    return EnrolmentReport(
        batch_id=batch_id,
        received=payload["received"],
        enrolled=0,
        already_enrolled=payload["enrolled"] + payload["already_enrolled"],
        rejected=tuple(Rejection(**r) for r in payload["rejections"]),
        premium=Money.ZERO,
    )
