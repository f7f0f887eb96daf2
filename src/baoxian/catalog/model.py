"""Pure rating and underwriting rules over a product's data.

Nothing here reads files, settings or clocks: a :class:`QuoteRequest` carries the facts of
each risk unit (an insured person, a site, a vehicle) and the chosen options; :func:`quote`
returns the premium line by line and the underwriting decision with every reason.

Facts are plain values: ``age`` (whole years at the start date), ``gender`` ("M"/"F"),
``has_basic_medical``; for a site ``construction_class``, ``occupancy``, ``coastal``,
``sum_insured``; for a vehicle ``energy``, ``age_years``, ``seats``, ``claims_free_years``.
In CEL conditions money facts are whole yuan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

import cel

from baoxian.catalog.schema import (
    Coverage,
    PlanVersion,
    Product,
    RateTable,
    Rule,
    TableRow,
)
from baoxian.shared.errors import NotFound, ValidationFailed
from baoxian.shared.money import Money, round_fen, total

Stage = Literal["new_business", "renewal"]
Outcome = Literal["accept", "refer", "decline"]

UNIT_VARIABLE = {"person": "insured", "site": "site", "vehicle": "vehicle"}
THOUSAND = Decimal(1000)


@dataclass(frozen=True, slots=True)
class RiskUnit:
    """One rated thing: its key (party ID, site ID, plate) and its facts."""

    key: str
    facts: Mapping[str, Any]
    declared_sum_insured: Money | None = None


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    start_date: date
    units: tuple[RiskUnit, ...]
    selections: Mapping[str, Money] = field(default_factory=dict)
    riders: frozenset[str] = frozenset()
    optional_coverages: frozenset[str] = frozenset()
    instalment: str = "annual"
    stage: Stage = "new_business"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why underwriting referred or declined: a stable code and a bilingual message."""

    code: str
    outcome: Outcome
    zh: str
    en: str
    unit_key: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class CoverLine:
    """A coverage granted to one risk unit with its sum insured (the schedule of cover)."""

    unit_key: str
    coverage: str
    sum_insured: Money


@dataclass(frozen=True, slots=True)
class PremiumLine:
    unit_key: str
    component: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Quotation:
    product_code: str
    plan_version: str
    start_date: date
    cover: tuple[CoverLine, ...]
    lines: tuple[PremiumLine, ...]
    minimum_premium_top_up: Money
    annual_premium: Money
    instalment: str
    instalments: tuple[Money, ...]
    decision: Decision

    @property
    def total_payable(self) -> Money:
        return total(list(self.instalments))


def age_on(birth_date: date, on: date) -> int:
    """Age in whole years (周岁) on a date."""
    years = on.year - birth_date.year
    return years - 1 if (on.month, on.day) < (birth_date.month, birth_date.day) else years


def plan_on(product: Product, on: date) -> PlanVersion:
    """The plan version on sale on a date."""
    for plan in product.versions:
        if plan.effective_from <= on and (plan.effective_to is None or on <= plan.effective_to):
            return plan
    raise NotFound(
        "catalog.no_plan_on_date",
        f"产品 {product.code} 在 {on.isoformat()} 没有在售的计划版本",
        f"product {product.code} has no plan version on sale on {on.isoformat()}",
    )


def plan_named(product: Product, version: str) -> PlanVersion:
    for plan in product.versions:
        if plan.version == version:
            return plan
    raise NotFound(
        "catalog.unknown_plan_version",
        f"产品 {product.code} 没有计划版本 {version}",
        f"product {product.code} has no plan version {version}",
    )


class CompiledPlan:
    """A plan version with its CEL programs compiled once and its lookups indexed."""

    def __init__(self, product: Product, plan: PlanVersion) -> None:
        self.product = product
        self.plan = plan
        self.variable = UNIT_VARIABLE[product.risk_unit]
        self.tables = {t.code: t for t in plan.rating.tables}
        self.rules = [(rule, cel.compile(rule.require)) for rule in plan.eligibility]
        self.rider_rules = {
            r.code: cel.compile(r.require) for r in plan.riders if r.require is not None
        }
        self.rule_fields = _referenced_fields(self.variable, [r.require for r in plan.eligibility])
        self._rule_memo: dict[tuple[Any, ...], list[Reason]] = {}

    @cached_property
    def coverages(self) -> dict[str, Coverage]:
        return {c.code: c for c in self.plan.coverages}

    def included_coverages(self, request: QuoteRequest) -> list[Coverage]:
        self._check_choices(request)
        return [
            c
            for c in self.plan.coverages
            if (c.rider is None or c.rider in request.riders)
            and (not c.optional or c.code in request.optional_coverages)
        ]

    def _check_choices(self, request: QuoteRequest) -> None:
        riders = {r.code for r in self.plan.riders}
        for rider in request.riders - riders:
            raise ValidationFailed(
                "quote.unknown_rider",
                f"该计划没有附加险 {rider}",
                f"the plan has no rider {rider}",
            )
        for code in request.optional_coverages:
            if code not in self.coverages or not self.coverages[code].optional:
                raise ValidationFailed(
                    "quote.unknown_optional_coverage",
                    f"该计划没有可选责任 {code}",
                    f"the plan has no optional coverage {code}",
                )
        if request.instalment not in {i.code for i in self.plan.instalments}:
            raise ValidationFailed(
                "quote.unknown_instalment",
                f"该计划不支持交费方式 {request.instalment}",
                f"the plan does not offer instalment option {request.instalment}",
            )

    def sum_insured(self, coverage: Coverage, unit: RiskUnit, request: QuoteRequest) -> Money:
        rule = coverage.sum_insured
        if rule.fixed is not None:
            return Money(rule.fixed)
        if rule.choices is not None:
            chosen = request.selections.get(coverage.code, Money(rule.choices[0]))
            if chosen.amount not in rule.choices:
                allowed = "、".join(str(c) for c in rule.choices)
                raise ValidationFailed(
                    "quote.sum_insured_not_offered",
                    f"{coverage.name.zh}保额 {chosen.amount} 不在可选范围（{allowed}）",
                    f"sum insured {chosen.amount} for {coverage.name.en} is not one of {allowed}",
                )
            return chosen
        if unit.declared_sum_insured is None or unit.declared_sum_insured.amount <= 0:
            raise ValidationFailed(
                "quote.sum_insured_required",
                f"请申报 {unit.key} 的保险金额",
                f"declare a sum insured for {unit.key}",
            )
        return unit.declared_sum_insured

    def activation(self, unit: RiskUnit, cover: Mapping[str, Money]) -> dict[str, Any]:
        facts = {k: _cel_value(v) for k, v in unit.facts.items()}
        for code, amount in cover.items():
            facts[f"si_{code}"] = int(amount.amount)
        if unit.declared_sum_insured is not None:
            facts.setdefault("sum_insured", int(unit.declared_sum_insured.amount))
        return {self.variable: facts}

    def evaluate_rules(
        self, unit: RiskUnit, cover: Mapping[str, Money], stage: Stage
    ) -> list[Reason]:
        """Reasons from every rule of ``stage`` that does not hold.  CEL is pure, so results
        are memoised on the values of the facts the rules read (bulk paths rely on this)."""
        if self.rule_fields is None:
            return self._evaluate_rules(unit, cover, stage)
        facts = unit.facts
        key = (
            stage,
            *[
                _hashable(facts[name] if name in facts else _fact(unit, cover, name))
                for name in self.rule_fields
            ],
        )
        found = self._rule_memo.get(key)
        if found is None:
            found = self._evaluate_rules(unit, cover, stage)
            if len(self._rule_memo) > 100_000:
                self._rule_memo.clear()
            self._rule_memo[key] = found
        return [replace(reason, unit_key=unit.key) for reason in found]

    def _evaluate_rules(
        self, unit: RiskUnit, cover: Mapping[str, Money], stage: Stage
    ) -> list[Reason]:
        context = self.activation(unit, cover)
        reasons = []
        for rule, program in self.rules:
            if stage in rule.stages and not _holds(program, context, rule):
                reasons.append(
                    Reason(rule.code, rule.outcome, rule.message.zh, rule.message.en, unit.key)
                )
        return reasons

    def check_riders(self, unit: RiskUnit, riders: Iterable[str]) -> None:
        context = self.activation(unit, {})
        for code in riders:
            program = self.rider_rules.get(code)
            if program is not None and program.execute(context) is not True:
                raise ValidationFailed(
                    "quote.rider_not_available",
                    f"附加险 {code} 不适用于 {unit.key}",
                    f"rider {code} is not available for {unit.key}",
                )

    def lookup(self, table: RateTable, facts: Mapping[str, Any]) -> TableRow | None:
        for row in table.rows:
            if _row_matches(row, facts):
                return row
        return None


def _referenced_fields(variable: str, expressions: list[str]) -> tuple[str, ...] | None:
    """The fields of ``variable`` the expressions read, or None when one uses the variable
    other than as ``variable.field`` (then results are not memoised)."""
    fields: set[str] = set()
    for expression in expressions:
        if re.search(rf"\b{variable}\b(?!\s*\.\s*[A-Za-z_])", expression):
            return None
        fields.update(re.findall(rf"\b{variable}\s*\.\s*([A-Za-z_]\w*)", expression))
    return tuple(sorted(fields))


def _fact(unit: RiskUnit, cover: Mapping[str, Money], name: str) -> Any:
    if name in unit.facts:
        return unit.facts[name]
    if name.startswith("si_") and name[3:] in cover:
        return cover[name[3:]]
    if name == "sum_insured":
        return unit.declared_sum_insured
    return _MISSING


_SIMPLE = frozenset({str, int, bool, type(None)})


def _hashable(value: Any) -> Any:
    if type(value) in _SIMPLE:
        return value
    if isinstance(value, list | set | frozenset):
        return tuple(value)
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return value


_MISSING = object()


def _holds(program: Any, context: Mapping[str, Any], rule: Rule) -> bool:
    try:
        return program.execute(context) is True
    except (RuntimeError, ValueError, TypeError, KeyError) as exc:
        raise ValidationFailed(
            "quote.missing_fact",
            f"无法判断规则 {rule.code}：缺少投保信息（{exc}）",
            f"cannot evaluate rule {rule.code}: missing information ({exc})",
        ) from exc


def _cel_value(value: Any) -> Any:
    if isinstance(value, Money):
        return int(value.amount)
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    return value


def _row_matches(row: TableRow, facts: Mapping[str, Any]) -> bool:
    for name, expected in row.when.items():
        actual = facts.get(name)
        if isinstance(expected, list):
            if actual not in expected:
                return False
        elif actual != expected or type(actual) is not type(expected):
            return False
    for name, (low, high) in row.between.items():
        actual = facts.get(name)
        if not isinstance(actual, int) or isinstance(actual, bool) or not low <= actual <= high:
            return False
    return True


def _rate_component(
    compiled: CompiledPlan,
    unit: RiskUnit,
    component_code: str,
    cover: Mapping[str, Money],
    facts: Mapping[str, Any],
) -> Decimal | None:
    component = next(c for c in compiled.plan.rating.components if c.code == component_code)
    row = compiled.lookup(compiled.tables[component.table], facts)
    if row is None:
        return None
    amount = row.amount if row.amount is not None else Decimal(0)
    if component.basis == "sum_insured" and component.coverage is not None:
        rate = row.rate_per_mille if row.rate_per_mille is not None else Decimal(0)
        amount += cover[component.coverage].amount * rate / THOUSAND
    for factor_code in component.factors:
        factor_row = compiled.lookup(compiled.tables[factor_code], facts)
        if factor_row is None or factor_row.factor is None:
            return None
        amount *= factor_row.factor
    if component.per is not None:
        amount *= Decimal(int(facts.get(component.per, 0)))
    return round_fen(amount)


def quote(compiled: CompiledPlan, request: QuoteRequest) -> Quotation:
    """Rate every unit, apply the minimum premium, split into instalments, and decide."""
    if not request.units:
        raise ValidationFailed(
            "quote.no_insured", "至少需要一个被保险对象", "at least one insured risk is required"
        )
    coverages = compiled.included_coverages(request)
    cover_lines: list[CoverLine] = []
    lines: list[PremiumLine] = []
    reasons: list[Reason] = []
    for unit in request.units:
        compiled.check_riders(unit, request.riders)
        cover = {c.code: compiled.sum_insured(c, unit, request) for c in coverages}
        cover_lines.extend(CoverLine(unit.key, code, amount) for code, amount in cover.items())
        reasons.extend(compiled.evaluate_rules(unit, cover, request.stage))
        unit_lines, unrated = rate_unit(compiled, unit, cover)
        lines.extend(unit_lines)
        reasons.extend(unrated)
    premium = total([line.amount for line in lines])
    top_up = _minimum_top_up(compiled.plan, premium)
    annual = premium + top_up
    option = next(i for i in compiled.plan.instalments if i.code == request.instalment)
    payable = annual.times(Decimal(1) + option.loading)
    return Quotation(
        product_code=compiled.product.code,
        plan_version=compiled.plan.version,
        start_date=request.start_date,
        cover=tuple(cover_lines),
        lines=tuple(lines),
        minimum_premium_top_up=top_up,
        annual_premium=annual,
        instalment=option.code,
        instalments=tuple(payable.allocate(option.count)),
        decision=decide(reasons),
    )


def rate_unit(
    compiled: CompiledPlan, unit: RiskUnit, cover: Mapping[str, Money]
) -> tuple[list[PremiumLine], list[Reason]]:
    """Premium lines of one unit; a component with no matching rate is a referral reason."""
    facts = dict(compiled.activation(unit, cover)[compiled.variable])
    lines: list[PremiumLine] = []
    reasons: list[Reason] = []
    for component in compiled.plan.rating.components:
        if component.coverage is not None and component.coverage not in cover:
            continue
        amount = _rate_component(compiled, unit, component.code, cover, facts)
        if amount is None:
            reasons.append(
                Reason(
                    "rating.no_rate",
                    "refer",
                    f"费率表中没有适用于该风险的费率（{component.name.zh}）",
                    f"no rate in the tables fits this risk ({component.name.en})",
                    unit.key,
                )
            )
            continue
        lines.append(PremiumLine(unit.key, component.code, Money(amount)))
    return lines, reasons


def _minimum_top_up(plan: PlanVersion, premium: Money) -> Money:
    minimum = plan.rating.minimum_premium
    if minimum is None or premium.amount >= minimum:
        return Money.ZERO
    return Money(minimum) - premium


def decide(reasons: Iterable[Reason]) -> Decision:
    """Decline beats refer beats accept; every reason is kept."""
    kept = tuple(reasons)
    outcomes = {r.outcome for r in kept}
    outcome: Outcome = (
        "decline" if "decline" in outcomes else "refer" if "refer" in outcomes else "accept"
    )
    return Decision(outcome, kept)
