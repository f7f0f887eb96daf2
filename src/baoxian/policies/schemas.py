"""Input schemas shared by the edges (CLI files today, the REST API later).

Parsing only: a :class:`QuoteRequestFile` becomes the parties to register and a
:class:`~baoxian.policies.services.QuoteInput`.  Unknown keys are errors; money is a string.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from baoxian.shared.money import Money


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('write amounts as strings, e.g. "80000000"')
    return value


Amount = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, decimal_places=2)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonIn(Strict):
    kind: Literal["person"] = "person"
    name: str
    id_number: str
    mobile: str
    address: str = ""
    has_basic_medical: bool = True
    medical_insurance_city: str = ""


class OrganisationIn(Strict):
    kind: Literal["organisation"]
    name: str
    credit_code: str
    mobile: str
    address: str = ""


class InsuredPersonIn(PersonIn):
    declared_conditions: list[str] = Field(default_factory=list)


class InsuredObjectIn(Strict):
    """A site (场所) or vehicle (车辆) with its rating facts and declared sum insured."""

    kind: Literal["site", "vehicle"]
    key: str = Field(min_length=1, max_length=64)
    sum_insured: Amount
    facts: dict[str, str | int | bool]
    details: dict[str, str | int | float | bool] = Field(default_factory=dict)

    def declared(self) -> Money:
        return Money(self.sum_insured)


class QuoteRequestFile(Strict):
    """A quote request as a YAML/JSON file (``baoxian quote --file``)."""

    product: str
    start: date
    holder: Annotated[PersonIn | OrganisationIn, Field(discriminator="kind")]
    insured: list[Annotated[InsuredPersonIn | InsuredObjectIn, Field(discriminator="kind")]] = (
        Field(min_length=1)
    )
    selections: dict[str, Amount] = Field(default_factory=dict)
    riders: list[str] = Field(default_factory=list)
    optional_coverages: list[str] = Field(default_factory=list)
    instalment: str = "annual"
    group: bool = False
