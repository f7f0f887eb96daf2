"""Input schemas for claims shared by the edges (CLI files today, the REST API later)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from baoxian.claims.model import BillItem, Claim, HealthClaim, PropertyClaim
from baoxian.shared.money import Money


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('write amounts as strings, e.g. "1234.50"')
    return value


Amount = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, decimal_places=2)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BillItemIn(Strict):
    code: str = Field(min_length=1, max_length=32)
    description: str = ""
    category: str = Field(min_length=1, max_length=32)
    amount: Amount
    paid_by_basic: Amount = Decimal(0)
    designated_provider: bool = True


class HealthClaimIn(Strict):
    kind: Literal["health"]
    claim_id: str = Field(min_length=1, max_length=36)
    policy_number: str
    insured: str = Field(description="the insured's key on the policy (party ID)")
    loss_date: date
    discharge_date: date | None = None
    diagnosis: str = Field(pattern=r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
    items: list[BillItemIn] = Field(min_length=1)
    accident: bool = False
    pre_existing: bool = False
    provider: str = ""
    invoice_no: str = ""

    def to_claim(self, channel: str) -> Claim:
        items = tuple(
            BillItem(
                i.code,
                i.description,
                i.category,
                Money(i.amount),
                Money(i.paid_by_basic),
                i.designated_provider,
            )
            for i in self.items
        )
        return HealthClaim(
            self.claim_id,
            self.policy_number,
            self.insured,
            self.loss_date,
            self.diagnosis,
            items,
            self.accident,
            self.pre_existing,
            self.provider,
            self.invoice_no,
            self.discharge_date,
            channel,
        )


class PropertyClaimIn(Strict):
    kind: Literal["property"]
    claim_id: str = Field(min_length=1, max_length=36)
    policy_number: str
    site: str
    loss_date: date
    peril: str
    assessed_loss: Amount
    basement_loss: Amount = Decimal(0)
    invoice_no: str = ""

    def to_claim(self, channel: str) -> Claim:
        return PropertyClaim(
            self.claim_id,
            self.policy_number,
            self.site,
            self.loss_date,
            self.peril,
            Money(self.assessed_loss),
            Money(self.basement_loss),
            self.invoice_no,
        )


class ClaimFile(Strict):
    claim: Annotated[HealthClaimIn | PropertyClaimIn, Field(discriminator="kind")]
