"""The electronic policy certificate (电子保单): what it states, and its verification code.

:func:`certificate_of` is pure: it takes the policy, the plan it was issued under, its parties
and the date of issue, and states them as the certificate does — holder and insured with
masked ID numbers, the product and plan version, the period, each cover line with its
bilingual coverage name and sum insured, and the premium.  The verification code is an HMAC
of the policy number and the policy's version under a key only the insurer holds: it proves
the certificate came from us, and an endorsement (which bumps the version) retires older
certificates.  Rendering it (PDF) belongs to the edges.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from baoxian.catalog.model import CompiledPlan
from baoxian.catalog.services import Catalog
from baoxian.policies.model import Organisation, Party, Policy, PolicyStatus
from baoxian.policies.ports import UnitOfWorkFactory
from baoxian.shared.clock import local_date
from baoxian.shared.identity import mask_id
from baoxian.shared.money import Money


@dataclass(frozen=True, slots=True)
class NamedParty:
    """A party as a certificate names it: full name, masked ID number."""

    name: str
    id_masked: str


@dataclass(frozen=True, slots=True)
class CertificateLine:
    insured: str
    coverage_zh: str
    coverage_en: str
    sum_insured: Money


@dataclass(frozen=True, slots=True)
class Certificate:
    policy_number: str
    product_code: str
    product_zh: str
    product_en: str
    plan_version: str
    in_force: bool
    holder: NamedParty
    insured: tuple[NamedParty, ...]
    cover_from: date
    cover_to: date  # the last day of cover (cover ends at 24:00 on it)
    lines: tuple[CertificateLine, ...]
    annual_premium: Money
    premium_charged: Money
    issued_on: date | None
    verification_code: str


def verification_code(key: bytes, policy_number: str, version: int) -> str:
    """16 characters in groups of four, e.g. ``3F2A-9C01-B7E4-0D55``."""
    digest = hmac.new(key, f"{policy_number}|{version}".encode(), hashlib.sha256).hexdigest()
    code = digest[:16].upper()
    return "-".join(code[i : i + 4] for i in range(0, 16, 4))


def named(party: Party) -> NamedParty:
    number = party.credit_code if isinstance(party, Organisation) else party.id_number
    return NamedParty(party.name, mask_id(number))


def certificate_of(
    policy: Policy,
    plan: CompiledPlan,
    parties: Mapping[str, Party],
    issued_on: date | None,
    key: bytes,
) -> Certificate:
    """The certificate of a policy as it stands now (``parties`` by party ID)."""
    people = {
        unit.key: parties[unit.party_id]
        for unit in policy.units
        if unit.party_id is not None and unit.party_id in parties
    }
    coverages = plan.coverages
    return Certificate(
        policy_number=policy.policy_number,
        product_code=policy.product_code,
        product_zh=plan.product.name.zh,
        product_en=plan.product.name.en,
        plan_version=policy.plan_version,
        in_force=policy.status is PolicyStatus.IN_FORCE,
        holder=named(parties[policy.holder_id]),
        insured=tuple(named(person) for person in people.values()),
        cover_from=policy.term_start,
        cover_to=policy.term_end - timedelta(days=1),
        lines=tuple(
            CertificateLine(
                people[line.unit_key].name if line.unit_key in people else line.unit_key,
                coverages[line.coverage].name.zh if line.coverage in coverages else line.coverage,
                coverages[line.coverage].name.en if line.coverage in coverages else line.coverage,
                line.sum_insured,
            )
            for line in policy.cover
        ),
        annual_premium=policy.annual_premium,
        premium_charged=policy.premium_charged,
        issued_on=issued_on,
        verification_code=verification_code(key, policy.policy_number, policy.version),
    )


@dataclass
class CertificateService:
    """Certificates of policies, for the portal and the console."""

    uow: UnitOfWorkFactory
    catalog: Catalog
    key: bytes

    def certificate(self, policy_number: str) -> Certificate:
        with self.uow() as uow:
            policy = uow.policies.get(policy_number)
            ids = {policy.holder_id} | {u.party_id for u in policy.units if u.party_id}
            parties = {party_id: uow.parties.get(party_id) for party_id in sorted(ids)}
            issued = [
                e.occurred_at
                for e in uow.events.for_aggregate(policy_number)
                if e.event_type == "policy.issued"
            ]
        plan = self.catalog.plan(policy.product_code, policy.plan_version)
        issued_on = local_date(issued[0]) if issued else None
        return certificate_of(policy, plan, parties, issued_on, self.key)

    def verify(self, policy_number: str, code: str) -> bool:
        """Whether a code is that of the policy's current certificate."""
        policy = self.certificate(policy_number)
        return hmac.compare_digest(policy.verification_code, code.strip().upper())


__all__ = [
    "Certificate",
    "CertificateLine",
    "CertificateService",
    "NamedParty",
    "certificate_of",
    "verification_code",
]
