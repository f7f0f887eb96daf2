"""Customer 360 (客户全景视图) for staff: the parties registered with a phone number or an ID
number, their policies, claims, notices and events — read through each context's service.

Personal data is masked on the page; seeing a party's full ID number and phone is a separate
action that is audited.  Every search is audited too (with the query masked).

>>> masked_query("13812345678"), masked_query("11010519810415031X")
('138****5678', '110***********031X')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import chain

from baoxian.claims.case import ClaimCase
from baoxian.claims.services import ClaimService
from baoxian.identity.services import IdentityService
from baoxian.outreach.model import Notice
from baoxian.outreach.services import OutreachService
from baoxian.policies.model import Party, Policy
from baoxian.policies.ports import Event
from baoxian.policies.services import PolicyService
from baoxian.shared.errors import NotFound
from baoxian.shared.identity import mask_id, mask_phone, normalise_mobile

MAX_EVENTS = 100


@dataclass(frozen=True, slots=True)
class CustomerView:
    """Everything about the parties found, newest first; ``revealed`` names the one party
    whose personal data is shown in full (after an audited request)."""

    query_masked: str
    parties: tuple[Party, ...]
    policies: tuple[Policy, ...]
    claims: tuple[ClaimCase, ...]
    notices: tuple[Notice, ...]
    events: tuple[Event, ...]
    revealed: str | None = None


def masked_query(query: str) -> str:
    """A search term as it may be logged: a phone or an ID number, masked."""
    clean = query.strip()
    return mask_phone(clean) if len(clean) == 11 else mask_id(clean)


@dataclass
class CustomerDesk:
    policies: PolicyService
    claims: ClaimService
    outreach: OutreachService
    identity: IdentityService

    def by_mobile(self, staff_id: str, mobile: str) -> CustomerView:
        """The parties registered with a phone number (a family may share one)."""
        number = normalise_mobile(mobile)
        parties = self.policies.parties_with_mobile(number)
        return self._view(staff_id, "mobile", number, parties)

    def by_id_number(self, staff_id: str, id_number: str) -> CustomerView:
        """The party registered with a 身份证号 or 统一社会信用代码."""
        party = self.policies.party_with_id_number(id_number)
        return self._view(staff_id, "id_number", id_number, [] if party is None else [party])

    def reveal(self, staff_id: str, view: CustomerView, party_id: str) -> CustomerView:
        """Show one party's full ID number and phone; the request is an audit event."""
        if party_id not in {p.party_id for p in view.parties}:
            raise NotFound("party.not_found", f"当事人 {party_id} 不存在", "no such party")
        self.identity.audit(
            staff_id,
            "console.personal_data_viewed",
            {"party_id": party_id, "fields": ["id_number", "mobile"]},
        )
        return replace(view, revealed=party_id)

    def _view(self, staff_id: str, by: str, query: str, parties: list[Party]) -> CustomerView:
        shown = masked_query(query)
        self.identity.audit(
            staff_id, "console.customer_searched", {"by": by, "query": shown, "found": len(parties)}
        )
        party_ids = [p.party_id for p in parties]
        policies = self.policies.policies_held_by(party_ids) if party_ids else []
        claims = self.claims.claims_on([p.policy_number for p in policies])
        return CustomerView(
            shown,
            tuple(parties),
            tuple(policies),
            tuple(claims),
            tuple(self.outreach.inbox(party_ids)) if party_ids else (),
            self._events(policies, claims),
        )

    def _events(self, policies: list[Policy], claims: list[ClaimCase]) -> tuple[Event, ...]:
        """Policy and claim history together, newest first (at most ``MAX_EVENTS``)."""
        found = chain(
            (e for p in policies for e in self.policies.history(p.policy_number)),
            (e for c in claims for e in self.claims.history(c.claim_id)),
        )
        ordered = sorted(found, key=lambda e: e.occurred_at, reverse=True)
        return tuple(ordered[:MAX_EVENTS])


__all__ = ["MAX_EVENTS", "CustomerDesk", "CustomerView", "masked_query"]
