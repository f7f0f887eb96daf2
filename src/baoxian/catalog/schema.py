"""The product schema (version 1).

A product file under ``catalog/`` (YAML or JSON) is parsed into :class:`Product`.  Unknown
keys are errors (``extra="forbid"``).  Money is written as decimal strings or integers of
yuan (``"195"``, ``"0.45"``), never as floats; ratios likewise.  The JSON Schema published in
``docs/product.schema.json`` is generated from these models (``baoxian catalog schema``).
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('write money and ratios as strings, e.g. "0.80", never as floats')
    return value


Amount = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, decimal_places=2)]
Ratio = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, le=1)]
Factor = Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0, le=100)]
RatePerMille = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, le=1000)]
InterestRate = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(ge=0, le=Decimal("0.36"), description='a yearly rate as a fraction, e.g. "0.05"'),
]
Stage = Literal["new_business", "renewal"]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A bilingual text: Chinese first, English beside it."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class SumInsured(Strict):
    """How the sum insured (保额) of a coverage is set: fixed, chosen (the first choice is the
    default), or declared per risk unit (a site's value, a vehicle's actual value)."""

    fixed: Amount | None = None
    choices: list[Amount] | None = None
    declared: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> SumInsured:
        given = [self.fixed is not None, self.choices is not None, self.declared]
        if sum(given) != 1:
            raise ValueError("set exactly one of fixed, choices, declared")
        return self


class Deductible(Strict):
    """免赔额: per claim (optionally the higher of an amount and a share of the loss),
    annual, or drawn from a shared annual deductible."""

    per_claim: Amount | None = None
    per_claim_ratio_of_loss: Ratio | None = None
    annual: Amount | None = None
    shared: Code | None = None


class PayoutRatio(Strict):
    """赔付比例: the share of the covered amount the insurer pays; lower for 既往症."""

    standard: Ratio
    pre_existing: Ratio | None = None


class SubLimit(Strict):
    code: Code
    name: Text
    amount: Amount
    applies_to: list[str] = Field(default_factory=list, description="item categories or codes")


class WaitingPeriod(Strict):
    """等待期: days from inception during which illness claims are not paid."""

    days: int = Field(ge=0, le=730)
    accident_exempt: bool = True


class Drug(Strict):
    code: str
    name: Text


WindSpeed = Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0, le=150, decimal_places=1)]
Distance = Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0, le=500, decimal_places=1)]


class ParametricTier(Strict):
    """One step of a parametric pay-out: an index at or above ``min_wind_ms`` pays
    ``payout_ratio`` of the sum insured (the highest step reached pays, once)."""

    name: Text
    min_wind_ms: WindSpeed
    payout_ratio: Annotated[Ratio, Field(gt=0)]


class ParametricTrigger(Strict):
    """指数触发 (parametric cover): the coverage pays by the tiers of an index the risk radar
    measures, not by an assessed loss.  ``max_wind_within_radius``: the highest sustained wind
    (m/s, averaged over ``wind_averaging_min`` minutes) anywhere within ``radius_km`` of the
    insured site during the storm."""

    index: Literal["max_wind_within_radius"]
    radius_km: Distance
    wind_averaging_min: Literal[1, 2, 10] = Field(
        1, description="averaging period of the tiers' winds: 1 (model), 2 (CMA) or 10 minutes"
    )
    tiers: list[ParametricTier] = Field(min_length=1)

    @model_validator(mode="after")
    def _tiers_climb(self) -> ParametricTrigger:
        for lower, higher in itertools.pairwise(self.tiers):
            if higher.min_wind_ms <= lower.min_wind_ms:
                raise ValueError("parametric tiers must be in increasing order of min_wind_ms")
            if higher.payout_ratio <= lower.payout_ratio:
                raise ValueError("a higher parametric tier must pay a higher payout_ratio")
        return self


class Coverage(Strict):
    """责任: one benefit of the plan."""

    code: Code
    name: Text
    kind: Literal["medical_expense", "fixed_benefit", "property_damage", "liability", "income"]
    rider: Code | None = Field(None, description="included only when this rider is chosen")
    optional: bool = Field(False, description="included only when chosen at quote")
    sum_insured: SumInsured
    deductible: Deductible = Field(default_factory=Deductible)
    payout_ratio: PayoutRatio = Field(default_factory=lambda: PayoutRatio(standard=Decimal(1)))
    sub_limits: list[SubLimit] = Field(default_factory=list)
    waiting_period: WaitingPeriod | None = None
    perils: list[Code] = Field(default_factory=list)
    item_categories: list[Code] = Field(
        default_factory=list,
        description="bill item categories this coverage pays (in_list, out_of_list, special_drug…)",
    )
    diagnosis_prefixes: list[str] = Field(
        default_factory=list,
        description="ICD-10 prefixes the claim's diagnosis must start with (e.g. critical illness)",
    )
    drug_list: list[Drug] = Field(default_factory=list)
    designated_providers_only: bool = False
    parametric: ParametricTrigger | None = Field(
        None, description="指数触发: pays by index tiers (a fixed benefit, no deductible)"
    )

    @model_validator(mode="after")
    def _parametric_is_a_plain_fixed_benefit(self) -> Coverage:
        if self.parametric is None:
            return self
        if self.kind != "fixed_benefit":
            raise ValueError("a parametric coverage is a fixed_benefit")
        if self.deductible != Deductible() or self.sub_limits:
            raise ValueError("a parametric coverage has no deductible and no sub-limits")
        if self.payout_ratio != PayoutRatio(standard=Decimal(1)):
            raise ValueError("a parametric coverage pays its tiers in full (payout_ratio 1)")
        return self


class SharedLimit(Strict):
    """A limit several coverages draw from together (e.g. a combined 3,000,000 limit)."""

    code: Code
    name: Text
    amount: Amount
    coverages: list[Code] = Field(min_length=1)


class SharedDeductible(Strict):
    """An annual deductible consumed by several coverages together."""

    code: Code
    name: Text
    annual: Amount


class Rule(Strict):
    """An eligibility or underwriting rule: ``require`` is a CEL expression that must be true;
    when it is false the outcome applies with the message."""

    code: Code
    require: str = Field(min_length=1)
    outcome: Literal["decline", "refer"]
    message: Text
    stages: list[Stage] = Field(default_factory=lambda: list[Stage](["new_business"]))


Match = str | int | bool | list[str] | list[int] | list[bool] | None


class TableRow(Strict):
    """One row of a rating table.  ``when`` maps a fact to a value, a list of values, or an
    inclusive ``[min, max]`` range written as ``{"from": a, "to": b}`` via ``between``."""

    when: dict[str, Match] = Field(default_factory=dict)
    between: dict[str, tuple[int, int]] = Field(default_factory=dict)
    amount: Amount | None = None
    rate_per_mille: RatePerMille | None = None
    factor: Factor | None = None


class RateTable(Strict):
    """A lookup table: the first row whose conditions all hold gives the value."""

    code: Code
    name: Text
    rows: list[TableRow] = Field(min_length=1)


class PremiumComponent(Strict):
    """A part of the premium of one risk unit:
    (amount + basis × rate_per_mille / 1000) × product of factors, rounded to the fen."""

    code: Code
    name: Text
    table: Code
    coverage: Code | None = Field(None, description="applies only when the coverage is taken")
    basis: Literal["none", "sum_insured"] = "none"
    per: str | None = Field(
        None, description="a numeric fact that multiplies the component, e.g. seats"
    )
    factors: list[Code] = Field(default_factory=list)


class Rating(Strict):
    tables: list[RateTable] = Field(min_length=1)
    components: list[PremiumComponent] = Field(min_length=1)
    minimum_premium: Amount | None = None


class InstalmentOption(Strict):
    code: Code
    name: Text
    count: Literal[1, 2, 4, 12]
    loading: Ratio = Decimal(0)


class Renewal(Strict):
    """续保: guaranteed renewal (保证续保) for a number of years at the tabulated premium."""

    guaranteed: bool
    guaranteed_years: int = Field(0, ge=0, le=50)
    max_age: int | None = Field(None, ge=0, le=120)


class Rider(Strict):
    code: Code
    name: Text
    require: str | None = Field(None, description="CEL condition for the rider to be offered")


class PolicyLoanTerms(Strict):
    """保单贷款: the holder may borrow up to ``max_ratio`` of the cash value net of debt, for
    ``term_months`` at a yearly ``annual_rate`` (simple interest, ACT/365)."""

    max_ratio: Ratio
    annual_rate: InterestRate
    term_months: int = Field(6, ge=1, le=12)


class Reinstatement(Strict):
    """复效: within ``years`` of the lapse, paying the arrears plus interest at
    ``arrears_rate``."""

    years: int = Field(2, ge=1, le=5)
    arrears_rate: InterestRate


class BillingTerms(Strict):
    """收费规则: grace period, premium-paying terms, reinstatement, policy loans and the
    automatic premium loan (保单垫交).  Payment frequencies are the plan's ``instalments``."""

    grace_days: int = Field(60, ge=0, le=90, description="宽限期: days after the due date")
    payment_years: list[Annotated[int, Field(ge=1, le=100)]] = Field(
        default_factory=lambda: [1], min_length=1, description="交费期间 offered, in years"
    )
    reinstatement: Reinstatement | None = None
    policy_loan: PolicyLoanTerms | None = None
    automatic_premium_loan: bool = Field(
        False, description="保单垫交: an unpaid premium is lent from the cash value at grace end"
    )

    @model_validator(mode="after")
    def _apl_needs_a_loan_rate(self) -> BillingTerms:
        if self.automatic_premium_loan and self.policy_loan is None:
            raise ValueError("automatic_premium_loan needs policy_loan (its interest rate)")
        return self


DividendOption = Literal["cash", "accumulate"]


class DividendTerms(Strict):
    """红利: declared yearly by the insurer; each policy's share is paid in cash (现金领取) or
    accumulated at interest in the account (累积生息), as the holder chose."""

    options: list[DividendOption] = Field(min_length=1)
    default: DividendOption

    @model_validator(mode="after")
    def _default_is_offered(self) -> DividendTerms:
        if self.default not in self.options:
            raise ValueError(f"default dividend option {self.default!r} is not offered")
        return self


class AccountTerms(Strict):
    """个人账户 (account value): premiums less the initial charge are credited; interest accrues
    daily on the balance and is credited monthly: the guaranteed part (保证利率) and the excess
    up to the declared settlement rate (结算利率).  Cash value = account value less the
    surrender charge of the policy year (``surrender_charges[0]`` for year 1; 0 afterwards)."""

    guaranteed_rate: InterestRate
    initial_charge: Ratio = Field(Decimal(0), description="初始费用: share of each premium")
    surrender_charges: list[Ratio] = Field(
        default_factory=list, description="退保费用 by policy year, from year 1"
    )
    dividends: DividendTerms | None = None


class AgeRange(Strict):
    earliest: int = Field(ge=0, le=120)
    latest: int = Field(ge=0, le=120)

    @model_validator(mode="after")
    def _ordered(self) -> AgeRange:
        if self.earliest > self.latest:
            raise ValueError("earliest age is after the latest")
        return self


class AnnuityOption(Strict):
    """领取方式: lifelong (终身领取) with ``years`` guaranteed (保证领取), or a fixed term of
    ``years`` (定期领取)."""

    code: Code
    name: Text
    lifelong: bool
    years: int = Field(ge=0, le=50)


class ConversionRate(Strict):
    """年金转换标准: the pension per payment for each 10,000 of account value at conversion.
    ``gender`` and ``age`` left out match everyone; the first matching row wins."""

    option: Code
    gender: Literal["M", "F"] | None = None
    age: int | None = Field(None, ge=0, le=120)
    annual: Amount
    monthly: Amount


class SurvivalBenefit(Strict):
    """生存保险金: paid on the policy anniversaries ``first_anniversary`` to
    ``last_anniversary`` (open: every year) while the insured is alive, as a share of the
    annual premium."""

    code: Code
    name: Text
    first_anniversary: int = Field(ge=1, le=120)
    last_anniversary: int | None = Field(None, ge=1, le=120)
    ratio_of_annual_premium: Ratio


class AnnuityTerms(Strict):
    """给付领取: the pension (年金) bought with the account value from an age in ``start_age``,
    paid at one of ``frequencies`` under one of ``options``; and survival benefits."""

    start_age: AgeRange
    frequencies: list[Literal["annual", "monthly"]] = Field(min_length=1)
    options: list[AnnuityOption] = Field(min_length=1)
    conversion_rates: list[ConversionRate] = Field(min_length=1)
    survival_benefits: list[SurvivalBenefit] = Field(default_factory=list)

    @model_validator(mode="after")
    def _every_start_has_a_rate(self) -> AnnuityTerms:
        _unique("annuity option", [o.code for o in self.options])
        codes = {o.code for o in self.options}
        for row in self.conversion_rates:
            if row.option not in codes:
                raise ValueError(f"conversion rate for unknown annuity option {row.option!r}")
        for option in self.options:
            for age in range(self.start_age.earliest, self.start_age.latest + 1):
                for gender in ("M", "F"):
                    if conversion_rate(self, option.code, age, gender) is None:
                        raise ValueError(
                            f"no conversion rate for option {option.code}, age {age}, {gender}"
                        )
        return self


def conversion_rate(
    terms: AnnuityTerms, option: str, age: int, gender: str
) -> ConversionRate | None:
    """The first conversion-rate row for an option, age and gender."""
    for row in terms.conversion_rates:
        if (
            row.option == option
            and (row.gender is None or row.gender == gender)
            and (row.age is None or row.age == age)
        ):
            return row
    return None


class PlanVersion(Strict):
    """A plan version, on sale from ``effective_from`` to ``effective_to`` inclusive."""

    version: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    effective_from: date
    effective_to: date | None = None
    term_months: int = Field(ge=1, le=1200)
    coverages: list[Coverage] = Field(min_length=1)
    shared_limits: list[SharedLimit] = Field(default_factory=list)
    shared_deductibles: list[SharedDeductible] = Field(default_factory=list)
    riders: list[Rider] = Field(default_factory=list)
    eligibility: list[Rule] = Field(default_factory=list)
    rating: Rating
    instalments: list[InstalmentOption] = Field(min_length=1)
    renewal: Renewal
    billing: BillingTerms | None = None
    account: AccountTerms | None = None
    annuity: AnnuityTerms | None = None

    @model_validator(mode="after")
    def _references_resolve(self) -> PlanVersion:
        _check_references(self)
        if self.annuity is not None and self.account is None:
            raise ValueError("an annuity is bought with an account value: add an account")
        return self


class Product(Strict):
    """A product: its identity and its plan versions."""

    schema_version: Literal[1]
    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9-]{1,31}$")]
    name: Text
    description: Text
    line: Literal["health", "life", "accident", "property", "motor", "liability", "agriculture"]
    risk_unit: Literal["person", "site", "vehicle"]
    issuance: list[Literal["individual", "group"]] = Field(min_length=1)
    currency: Literal["CNY"] = "CNY"
    versions: list[PlanVersion] = Field(min_length=1)

    @model_validator(mode="after")
    def _versions_do_not_overlap(self) -> Product:
        ordered = sorted(self.versions, key=lambda v: v.effective_from)
        for earlier, later in itertools.pairwise(ordered):
            if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
                raise ValueError(
                    f"plan versions {earlier.version} and {later.version} overlap in time"
                )
        if len({v.version for v in self.versions}) != len(self.versions):
            raise ValueError("plan version names must be unique")
        return self


def _check_references(plan: PlanVersion) -> None:
    coverage_codes = [c.code for c in plan.coverages]
    _unique("coverage", coverage_codes)
    rider_codes = {r.code for r in plan.riders}
    table_codes = {t.code for t in plan.rating.tables}
    shared_deductibles = {d.code for d in plan.shared_deductibles}
    _unique("rate table", [t.code for t in plan.rating.tables])
    _unique("premium component", [c.code for c in plan.rating.components])
    for coverage in plan.coverages:
        if coverage.rider is not None and coverage.rider not in rider_codes:
            raise ValueError(f"coverage {coverage.code}: unknown rider {coverage.rider!r}")
        shared = coverage.deductible.shared
        if shared is not None and shared not in shared_deductibles:
            raise ValueError(f"coverage {coverage.code}: unknown shared deductible {shared!r}")
    for limit in plan.shared_limits:
        for code in limit.coverages:
            if code not in coverage_codes:
                raise ValueError(f"shared limit {limit.code}: unknown coverage {code!r}")
    for component in plan.rating.components:
        for table in [component.table, *component.factors]:
            if table not in table_codes:
                raise ValueError(f"premium component {component.code}: unknown table {table!r}")
        if component.coverage is not None and component.coverage not in coverage_codes:
            raise ValueError(
                f"premium component {component.code}: unknown coverage {component.coverage!r}"
            )


def _unique(what: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"duplicate {what} code {code!r}")
        seen.add(code)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a product file."""
    schema = Product.model_json_schema()
    schema["$id"] = "https://baoxian.dev/schema/product-v1.json"
    schema["title"] = "Baoxian product (产品定义) v1"
    return schema
