"""Demo sign-ins: staff accounts with known passwords and a few customers of the demo book,
printed by ``baoxian serve --demo`` so a newcomer can click through.  Demo only — a real
deployment creates staff with ``baoxian staff add`` and never prints a password."""

from __future__ import annotations

from dataclasses import dataclass

from baoxian.bootstrap import App
from baoxian.claims.case import ClaimStatus
from baoxian.shared.identity import mask_id
from baoxian.shared.money import Money


@dataclass(frozen=True, slots=True)
class DemoStaff:
    user_id: str
    name: str
    password: str
    roles: tuple[str, ...]
    authority: Money


DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("admin", "系统管理员", "demo-admin-2026", ("admin",), Money.of("10000000")),
    DemoStaff("service01", "柜面 王丽", "demo-service-2026", ("service",), Money.ZERO),
    DemoStaff(
        "claims01", "理赔员 张强", "demo-claims-2026", ("claims_handler",), Money.of("50000")
    ),
    DemoStaff(
        "supervisor01",
        "理赔主管 李敏",
        "demo-supervisor-2026",
        ("claims_supervisor",),
        Money.of("1000000"),
    ),
)


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    mobile: str
    name: str
    id_masked: str
    policy_number: str


def ensure_demo_staff(app: App) -> tuple[DemoStaff, ...]:
    """Create (or reset) the demo staff accounts; they are also claims handlers."""
    for staff in DEMO_STAFF:
        app.identity.add_staff(
            staff.user_id, staff.name, staff.password, staff.roles, staff.authority, by="demo"
        )
        if staff.authority > Money.ZERO:
            app.claims.add_handler(staff.user_id, staff.name, staff.authority)
    return DEMO_STAFF


def demo_customers(app: App, count: int = 3) -> list[DemoCustomer]:
    """A few holders of individual policies in the book, to sign in as — those with a paid
    claim first, so that 我的理赔 has something to show."""
    individual = [p for p in app.policies.some_policies(count * 5) if not p.group]
    cases = app.claims.claims_on([p.policy_number for p in individual], limit=count * 20)
    paid = {c.claim.policy_number for c in cases if c.status is ClaimStatus.PAID}
    found: list[DemoCustomer] = []
    for policy in sorted(individual, key=lambda p: p.policy_number not in paid)[:count]:
        party = app.policies.party(policy.holder_id)
        id_number = getattr(party, "id_number", getattr(party, "credit_code", ""))
        found.append(
            DemoCustomer(party.mobile, party.name, mask_id(id_number), policy.policy_number)
        )
    return found


__all__ = ["DEMO_STAFF", "DemoCustomer", "DemoStaff", "demo_customers", "ensure_demo_staff"]
