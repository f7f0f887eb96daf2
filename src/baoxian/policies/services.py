"""Policy use cases: the only entry the CLI, API, portal and batch jobs call.

Each command is one unit of work: it loads aggregates, applies pure domain rules, writes the
aggregates and an append-only event, and commits — or changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any, Literal

from baoxian.catalog.model import CompiledPlan, Quotation, QuoteRequest, Reason, quote
from baoxian.catalog.services import Catalog
from baoxian.policies.application import require_own_party
from baoxian.policies.model import (
    Action,
    Beneficiary,
    InsuredUnit,
    Organisation,
    Party,
    Person,
    Policy,
    Quote,
    QuoteStatus,
    Refund,
    cancellation_refund,
    issue,
    mark_issued,
    new_organisation,
    new_person,
    next_status,
    number_series,
    person_facts,
    policy_number,
    pro_rata,
    quote_status,
    refresh_person_facts,
    require_within_term,
    underwrite_referral,
    validate_beneficiaries,
)
from baoxian.policies.ports import Event, UnitOfWork, UnitOfWorkFactory
from baoxian.policies.schemas import (
    InsuredObjectIn,
    InsuredPersonIn,
    OrganisationIn,
    PersonIn,
    QuoteRequestFile,
)
from baoxian.shared.clock import Clock, add_months, local_date
from baoxian.shared.errors import DomainError, ValidationFailed
from baoxian.shared.identity import mask_phone, normalise_mobile
from baoxian.shared.money import Money

# --------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class InsuredInput:
    """Who or what is insured: a person (by party ID) or a site or vehicle (by its details)."""

    kind: Literal["person", "site", "vehicle"]
    party_id: str | None = None
    key: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    declared_sum_insured: Money | None = None
    declared_conditions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuoteInput:
    product_code: str
    holder_id: str
    start_date: date
    insured: tuple[InsuredInput, ...]
    selections: Mapping[str, Money] = field(default_factory=dict)
    riders: frozenset[str] = frozenset()
    optional_coverages: frozenset[str] = frozenset()
    instalment: str = "annual"
    group: bool = False


@dataclass
class PolicyService:
    """The policies context's use cases, wired to a unit of work, the catalogue and a clock."""

    uow: UnitOfWorkFactory
    catalog: Catalog
    clock: Clock
    new_id: Callable[[], str]

    # ---------------------------------------------------------------- parties

    def register_person(self, name: str, id_number: str, mobile: str, **more: Any) -> Person:
        """Register a person, or return the one already registered with this 身份证号."""
        person = new_person(self.new_id(), name, id_number, mobile, **more)
        with self.uow() as uow:
            existing = uow.parties.find_by_id_number(person.id_number)
            if isinstance(existing, Person):
                return existing
            uow.parties.add(person)
            self._record(uow, "party", person.party_id, "party.registered", {"kind": "person"})
            uow.commit()
        return person

    def register_applicant(self, name: str, id_number: str, mobile: str) -> Person:
        """Register the person applying online with the signed-in phone as their mobile, or
        find them; refused if the 身份证号 belongs to a party of another phone or name."""
        person = self.register_person(name, id_number, mobile)
        return require_own_party(person, name, normalise_mobile(mobile))

    def register_organisation(
        self, name: str, credit_code: str, mobile: str, **more: Any
    ) -> Organisation:
        organisation = new_organisation(self.new_id(), name, credit_code, mobile, **more)
        with self.uow() as uow:
            existing = uow.parties.find_by_id_number(organisation.credit_code)
            if isinstance(existing, Organisation):
                return existing
            uow.parties.add(organisation)
            self._record(
                uow, "party", organisation.party_id, "party.registered", {"kind": "organisation"}
            )
            uow.commit()
        return organisation

    # ---------------------------------------------------------------- quote and issue

    def create_quote(self, command: QuoteInput) -> Quote:
        """Price the proposal and take the underwriting decision; keep every reason."""
        with self.uow() as uow:
            created = self._quote(uow, command, {})
            uow.commit()
        return created

    def quote_request(
        self,
        request: QuoteRequestFile,
        *,
        within: UnitOfWorkFactory | None = None,
        as_sent: bool = False,
    ) -> Quote:
        """Register the holder and insured persons (idempotent), then quote the request —
        all in one unit of work (``within``: e.g. one joined to the caller's transaction), each
        person looked up once (the holder is often the insured).  With ``as_sent`` a person
        already registered must come with the registered name and mobile: a request is never
        attached to someone else's party."""
        with (within or self.uow)() as work:
            known: dict[str, Party] = {}
            holder = self._register_in(work, request.holder, known, as_sent)
            insured = tuple(
                self._insured_input(work, item, known, as_sent) for item in request.insured
            )
            command = QuoteInput(
                product_code=request.product,
                holder_id=holder.party_id,
                start_date=request.start,
                insured=insured,
                selections={k: Money(v) for k, v in request.selections.items()},
                riders=frozenset(request.riders),
                optional_coverages=frozenset(request.optional_coverages),
                instalment=request.instalment,
                group=request.group,
            )
            created = self._quote(work, command, {p.party_id: p for p in known.values()})
            work.commit()
        return created

    def _quote(self, uow: UnitOfWork, command: QuoteInput, parties: Mapping[str, Party]) -> Quote:
        """Quote in ``uow``; ``parties`` are those already read in it, by party ID."""
        compiled = self.catalog.plan_on(command.product_code, command.start_date)
        _check_issuance(compiled, command.group, len(command.insured))
        if command.holder_id not in parties:
            uow.parties.get(command.holder_id)
        units = tuple(
            self._unit(uow, item, command.start_date, parties) for item in command.insured
        )
        _require_unique_units(units)
        quotation = quote(compiled, _request(command, units))
        created = Quote(
            quote_id=self.new_id(),
            holder_id=command.holder_id,
            units=units,
            quotation=quotation,
            riders=command.riders,
            optional_coverages=command.optional_coverages,
            selections=dict(command.selections),
            status=quote_status(quotation.decision),
            group=command.group,
        )
        uow.quotes.add(created)
        self._record(uow, "quote", created.quote_id, "quote.created", _quote_payload(created))
        return created

    def _insured_input(
        self, uow: UnitOfWork, item: InsuredItem, known: dict[str, Party], as_sent: bool
    ) -> InsuredInput:
        if isinstance(item, InsuredPersonIn):
            person = self._register_in(uow, item, known, as_sent)
            conditions = tuple(item.declared_conditions)
            return InsuredInput("person", person.party_id, declared_conditions=conditions)
        return InsuredInput(
            item.kind,
            key=item.key,
            facts=dict(item.facts),
            details=dict(item.details),
            declared_sum_insured=item.declared(),
        )

    def _register_in(
        self,
        uow: UnitOfWork,
        sent: PersonIn | OrganisationIn,
        known: dict[str, Party],
        as_sent: bool,
    ) -> Party:
        """The party registered for ``sent`` — registered now if new — read once per unit
        of work (``known``: those found so far, by ID number as sent and as normalised)."""
        sent_number = _sent_number(sent)
        if as_sent and sent_number in known:  # the holder is often the insured
            _require_as_sent(known[sent_number], sent)  # same name and mobile: valid
            return known[sent_number]
        party = _new_party(self.new_id(), sent)
        number = _id_number(party)
        found = known.get(number)
        if found is None and uow.parties.add_if_new(party):  # new: one statement
            found = party
            self._registered(uow, party)
        else:
            found = found or uow.parties.find_by_id_number(number)
            if found is None or type(found) is not type(party):
                uow.parties.add(party)  # refused if the number is another kind of party's
                found = party
                self._registered(uow, party)
            elif as_sent:
                _require_as_sent(found, sent)
        known[number] = known[sent_number] = found
        return found

    def _registered(self, uow: UnitOfWork, party: Party) -> None:
        kind = "person" if isinstance(party, Person) else "organisation"
        self._record(uow, "party", party.party_id, "party.registered", {"kind": kind})

    def decide_referral(
        self, quote_id: str, outcome: Literal["accept", "decline"], note: str
    ) -> Quote:
        with self.uow() as uow:
            decided = underwrite_referral(uow.quotes.get(quote_id), outcome, note)
            uow.quotes.update(decided)
            self._record(
                uow,
                "quote",
                quote_id,
                f"quote.underwriter_{outcome}ed",
                {"note": note, "status": decided.status.value},
            )
            uow.commit()
        return decided

    def issue_policy(
        self, quote_id: str, group: bool = False, *, within: UnitOfWorkFactory | None = None
    ) -> Policy:
        """Issue from an accepted quote — a group policy from a group quote.  Issuing the
        same quote twice returns the same policy.  ``within``: units of work of the caller's
        (e.g. joined to its transaction)."""
        with (within or self.uow)() as uow:
            found, holder = uow.quotes.get_with_holder(quote_id)
            if found.status is QuoteStatus.ISSUED and found.policy_number is not None:
                return uow.policies.get(found.policy_number)
            q = found.quotation
            series = number_series(q.product_code, q.start_date)
            number = policy_number(q.product_code, q.start_date, uow.sequences.next_value(series))
            term_months = self.catalog.plan(q.product_code, q.plan_version).plan.term_months
            policy = issue(found, number, holder, term_months, group or found.group)
            issued = mark_issued(found, number)  # refused unless accepted
            uow.quotes.mark_issued(issued.quote_id, number)
            uow.policies.add(policy)
            self._record(
                uow,
                "policy",
                number,
                "policy.issued",
                {
                    "quote_id": quote_id,
                    "premium_fen": policy.premium_charged.fen,
                    "term_start": policy.term_start.isoformat(),
                    "term_end": policy.term_end.isoformat(),
                },
            )
            uow.commit()
        return policy

    # ---------------------------------------------------------------- endorsements (保全)

    def change_contact(
        self,
        policy_number: str,
        effective: date,
        *,
        mobile: str | None = None,
        address: str | None = None,
        request_id: str | None = None,
    ) -> Policy:
        def apply(policy: Policy) -> tuple[Policy, dict[str, Any]]:
            require_within_term(policy, effective)
            new_mobile = normalise_mobile(mobile) if mobile else policy.contact_mobile
            changed = replace(
                policy,
                contact_mobile=new_mobile,
                contact_address=address.strip() if address else policy.contact_address,
            )
            return changed, {"mobile": mask_phone(new_mobile), "address_changed": bool(address)}

        return self._endorse(policy_number, "contact_change", effective, apply, request_id)

    def change_beneficiaries(
        self,
        policy_number: str,
        effective: date,
        beneficiaries: Sequence[Beneficiary],
        request_id: str | None = None,
    ) -> Policy:
        def apply(policy: Policy) -> tuple[Policy, dict[str, Any]]:
            require_within_term(policy, effective)
            checked = validate_beneficiaries(tuple(beneficiaries))
            return replace(policy, beneficiaries=checked), {
                "beneficiaries": [{"name": b.name, "share": b.share_percent} for b in checked]
            }

        return self._endorse(policy_number, "beneficiary_change", effective, apply, request_id)

    def change_unit_details(
        self,
        policy_number: str,
        effective: date,
        unit_key: str,
        *,
        details: Mapping[str, Any] | None = None,
        facts: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> Policy:
        """Change an insured site's or vehicle's details; rating facts re-rate pro rata."""

        def units_of(policy: Policy) -> tuple[InsuredUnit, ...]:
            old = policy.unit(unit_key)
            new = replace(
                old,
                details={**old.details, **(details or {})},
                facts={**old.facts, **(facts or {})},
            )
            return tuple(new if u.key == unit_key else u for u in policy.units)

        return self._rerate(
            policy_number, "insured_detail_change", effective, request_id, units=units_of
        )

    def change_sum_insured(
        self,
        policy_number: str,
        effective: date,
        coverage: str,
        amount: Money,
        unit_key: str | None = None,
        request_id: str | None = None,
    ) -> Policy:
        """Change a declared sum insured (a site's value) or a chosen one (a liability limit)."""

        def units_of(policy: Policy) -> tuple[InsuredUnit, ...]:
            if unit_key is None:
                return policy.units
            policy.unit(unit_key)
            return tuple(
                replace(u, declared_sum_insured=amount) if u.key == unit_key else u
                for u in policy.units
            )

        def selections_of(policy: Policy) -> Mapping[str, Money]:
            return policy.selections if unit_key else {**policy.selections, coverage: amount}

        return self._rerate(
            policy_number,
            "sum_insured_change",
            effective,
            request_id,
            units=units_of,
            selections=selections_of,
            extra={"coverage": coverage, "amount_fen": amount.fen, "unit": unit_key},
        )

    def add_members(
        self,
        policy_number: str,
        effective: date,
        members: Sequence[InsuredInput],
        request_id: str | None = None,
    ) -> Policy:
        """增加被保险人 on a group policy; the added premium is charged pro rata."""
        with self.uow() as uow:
            added = tuple(self._unit(uow, m, effective) for m in members)

        def units_of(policy: Policy) -> tuple[InsuredUnit, ...]:
            _require_group(policy)
            return _require_unique_units((*policy.units, *added))

        return self._rerate(
            policy_number,
            "members_added",
            effective,
            request_id,
            units=units_of,
            extra={"added": [u.key for u in added]},
        )

    def remove_members(
        self,
        policy_number: str,
        effective: date,
        keys: Sequence[str],
        request_id: str | None = None,
    ) -> Policy:
        def units_of(policy: Policy) -> tuple[InsuredUnit, ...]:
            _require_group(policy)
            for key in keys:
                policy.unit(key)
            remaining = tuple(u for u in policy.units if u.key not in set(keys))
            if not remaining:
                raise ValidationFailed(
                    "endorsement.last_member",
                    "不能减少全部被保险人，请办理退保",
                    "cannot remove every member; cancel the policy instead",
                )
            return remaining

        return self._rerate(
            policy_number,
            "members_removed",
            effective,
            request_id,
            units=units_of,
            extra={"removed": list(keys)},
        )

    def add_rider(
        self, policy_number: str, effective: date, rider: str, request_id: str | None = None
    ) -> Policy:
        """Mid-term extension of cover (扩展责任): add a rider from the effective date."""
        return self._rerate(
            policy_number,
            "cover_extension",
            effective,
            request_id,
            riders=lambda p: p.riders | {rider},
            extra={"rider": rider},
        )

    # ---------------------------------------------------------------- term events

    def renew(self, policy_number: str, request_id: str | None = None) -> Policy:
        """续保 for the next term.  Under guaranteed renewal the original plan version's table
        is used at the attained age and only renewal-stage rules apply."""
        with self.uow() as uow:
            policy = uow.policies.get(policy_number)
            if request_id and uow.events.seen(request_id):
                return policy
            status = next_status(policy.status, Action.RENEW, policy_number)
            start = policy.term_end
            compiled = self._renewal_plan(policy, start)
            units = tuple(self._aged(uow, unit, start) for unit in policy.units)
            quotation = quote(
                compiled,
                QuoteRequest(
                    start_date=start,
                    units=tuple(u.risk_unit() for u in units),
                    selections=policy.selections,
                    riders=policy.riders,
                    optional_coverages=policy.optional_coverages,
                    instalment=policy.instalment,
                    stage="renewal",
                ),
            )
            _require_accepted(quotation, "renewal.refused", "续保", "renewal")
            renewed = replace(
                policy,
                status=status,
                plan_version=compiled.plan.version,
                term_no=policy.term_no + 1,
                term_start=start,
                term_end=add_months(start, compiled.plan.term_months),
                units=units,
                cover=quotation.cover,
                annual_premium=quotation.annual_premium,
                premium_charged=quotation.total_payable,
                ended_on=None,
            )
            uow.policies.archive_term(policy_number, policy.term())
            saved = uow.policies.update(renewed, expected_version=policy.version)
            self._record(
                uow,
                "policy",
                policy_number,
                "policy.renewed",
                {
                    "term_no": renewed.term_no,
                    "plan_version": renewed.plan_version,
                    "premium_fen": renewed.premium_charged.fen,
                },
                request_id,
            )
            uow.commit()
        return saved

    def cancel(
        self, policy_number: str, effective: date, reason: str, request_id: str | None = None
    ) -> tuple[Policy, Refund]:
        """退保 with a pro-rata refund of the premium charged for the term."""
        with self.uow() as uow:
            policy = uow.policies.get(policy_number)
            if request_id and uow.events.seen(request_id):
                return policy, _refund_recorded(uow.events.for_aggregate(policy_number), request_id)
            status = next_status(policy.status, Action.CANCEL, policy_number)
            refund = cancellation_refund(policy, effective)
            cancelled = replace(
                policy, status=status, ended_on=effective, premium_charged=refund.retained
            )
            saved = uow.policies.update(cancelled, expected_version=policy.version)
            self._record(
                uow,
                "policy",
                policy_number,
                "policy.cancelled",
                {
                    "effective": effective.isoformat(),
                    "reason": reason,
                    "refund_fen": refund.refund.fen,
                    "retained_fen": refund.retained.fen,
                    "charged_fen": refund.charged.fen,
                },
                request_id,
            )
            uow.commit()
        return saved, refund

    def lapse(self, policy_number: str, effective: date) -> Policy:
        """失效: premium unpaid after the grace period."""
        return self._move(policy_number, Action.LAPSE, effective, "policy.lapsed")

    def reinstate(self, policy_number: str, effective: date) -> Policy:
        return self._move(policy_number, Action.REINSTATE, effective, "policy.reinstated")

    def expire(self, policy_number: str, effective: date) -> Policy:
        return self._move(policy_number, Action.EXPIRE, effective, "policy.expired")

    # ---------------------------------------------------------------- queries

    def quote(self, quote_id: str) -> Quote:
        with self.uow() as uow:
            return uow.quotes.get(quote_id)

    def policy(self, policy_number: str) -> Policy:
        with self.uow() as uow:
            return uow.policies.get(policy_number)

    def policies_held_by(self, party_ids: Sequence[str], limit: int = 50) -> list[Policy]:
        """The policies these parties hold, newest first (a customer's 我的保单)."""
        with self.uow() as uow:
            found = [p for pid in party_ids for p in uow.policies.find(holder_id=pid, limit=limit)]
        return sorted(found, key=lambda p: p.policy_number, reverse=True)[:limit]

    def party(self, party_id: str) -> Party:
        with self.uow() as uow:
            return uow.parties.get(party_id)

    def some_policies(self, limit: int) -> list[Policy]:
        """The first policies of the book (demo sign-ins, smoke checks)."""
        with self.uow() as uow:
            return uow.policies.find(limit=limit)

    def parties_with_mobile(self, mobile: str) -> list[Party]:
        """Who a signed-in phone number is: every party registered with that mobile."""
        with self.uow() as uow:
            return uow.parties.find_by_mobile(mobile)

    def party_with_id_number(self, id_number: str) -> Party | None:
        """The party registered with this 身份证号 or 统一社会信用代码 (the console's customer
        search), found through the blind index."""
        with self.uow() as uow:
            return uow.parties.find_by_id_number(id_number)

    def policy_on(self, policy_number: str, on: date) -> Policy:
        """The policy as it stood on a date: the current term, or — for a date before it —
        the archived term that covered the date (a claim reported after the renewal)."""
        with self.uow() as uow:
            policy = uow.policies.get(policy_number)
            if on >= policy.term_start:
                return policy
            term = uow.policies.term_on(policy_number, on)
        return policy if term is None else policy.as_of(term)

    def preview(self, policy_number: str, units: int = 20) -> tuple[Policy, int]:
        """For display: the policy with its first ``units`` insured and the total count."""
        with self.uow() as uow:
            return uow.policies.preview(policy_number, units)

    def history(self, policy_number: str) -> list[Event]:
        with self.uow() as uow:
            uow.policies.preview(policy_number, units=0)  # exists?
            return uow.events.for_aggregate(policy_number)

    # ---------------------------------------------------------------- internals

    def _move(self, policy_number: str, action: Action, effective: date, event: str) -> Policy:
        with self.uow() as uow:
            policy = uow.policies.get(policy_number)
            status = next_status(policy.status, action, policy_number)
            ended = effective if action in (Action.LAPSE, Action.EXPIRE) else None
            saved = uow.policies.update(
                replace(policy, status=status, ended_on=ended), expected_version=policy.version
            )
            self._record(uow, "policy", policy_number, event, {"effective": effective.isoformat()})
            uow.commit()
        return saved

    def _endorse(
        self,
        policy_number: str,
        kind: str,
        effective: date,
        apply: Callable[[Policy], tuple[Policy, dict[str, Any]]],
        request_id: str | None,
    ) -> Policy:
        with self.uow() as uow:
            policy = uow.policies.get(policy_number)
            if request_id and uow.events.seen(request_id):
                return policy
            next_status(policy.status, Action.ENDORSE, policy_number)
            changed, details = apply(policy)
            number = policy.endorsement_count + 1
            changed = replace(changed, endorsement_count=number)
            saved = uow.policies.update(changed, expected_version=policy.version)
            payload = {
                "endorsement_no": f"{policy_number}-E{number:03d}",
                "kind": kind,
                "effective": effective.isoformat(),
                **details,
            }
            self._record(uow, "policy", policy_number, "policy.endorsed", payload, request_id)
            uow.commit()
        return saved

    def _rerate(
        self,
        policy_number: str,
        kind: str,
        effective: date,
        request_id: str | None,
        *,
        units: Callable[[Policy], tuple[InsuredUnit, ...]] = lambda p: p.units,
        selections: Callable[[Policy], Mapping[str, Money]] = lambda p: p.selections,
        riders: Callable[[Policy], frozenset[str]] = lambda p: p.riders,
        extra: Mapping[str, Any] | None = None,
    ) -> Policy:
        """An endorsement that changes what is rated: re-quote on the policy's own plan
        version and charge or refund the difference pro rata for the days left."""

        def apply(policy: Policy) -> tuple[Policy, dict[str, Any]]:
            require_within_term(policy, effective)
            new_units = units(policy)
            compiled = self.catalog.plan(policy.product_code, policy.plan_version)
            quotation = quote(
                compiled,
                QuoteRequest(
                    start_date=policy.term_start,
                    units=tuple(u.risk_unit() for u in new_units),
                    selections=selections(policy),
                    riders=riders(policy),
                    optional_coverages=policy.optional_coverages,
                    instalment=policy.instalment,
                ),
            )
            _require_accepted(quotation, "endorsement.refused", "保全", "endorsement")
            delta = pro_rata(quotation.annual_premium - policy.annual_premium, policy, effective)
            changed = replace(
                policy,
                units=new_units,
                selections=selections(policy),
                riders=riders(policy),
                cover=quotation.cover,
                annual_premium=quotation.annual_premium,
                premium_charged=policy.premium_charged + delta,
                member_count=len(new_units),
            )
            return changed, {
                **(extra or {}),
                "annual_premium_fen": quotation.annual_premium.fen,
                "premium_delta_fen": delta.fen,
            }

        return self._endorse(policy_number, kind, effective, apply, request_id)

    def _renewal_plan(self, policy: Policy, start: date) -> CompiledPlan:
        product = self.catalog.product(policy.product_code)
        own = self.catalog.plan(policy.product_code, policy.plan_version)
        renewal = own.plan.renewal
        years = start.year - policy.original_inception.year
        if renewal.guaranteed and years < renewal.guaranteed_years:
            return own
        return self.catalog.plan_on(product.code, start)

    def _unit(
        self,
        uow: UnitOfWork,
        item: InsuredInput,
        on: date,
        parties: Mapping[str, Party] | None = None,
    ) -> InsuredUnit:
        """The insured unit; a person is read from ``parties`` (already read) or the store."""
        if item.kind == "person":
            if item.party_id is None:
                raise ValidationFailed(
                    "quote.insured_party_required",
                    "请指定被保险人",
                    "an insured person must be a registered party",
                )
            read = (parties or {}).get(item.party_id)
            person = read if read is not None else uow.parties.get(item.party_id)
            if not isinstance(person, Person):
                raise ValidationFailed(
                    "quote.insured_not_person",
                    "被保险人须为自然人",
                    "the insured must be a natural person",
                )
            facts = {**person_facts(person, on, item.declared_conditions), **item.facts}
            return InsuredUnit(person.party_id, "person", facts, item.details, person.party_id)
        if not item.key:
            raise ValidationFailed(
                "quote.insured_key_required",
                "请填写场所编号或车牌号",
                "a site or vehicle needs a key (site code or plate)",
            )
        return InsuredUnit(
            item.key,
            item.kind,
            dict(item.facts),
            dict(item.details),
            None,
            item.declared_sum_insured,
        )

    def _aged(self, uow: UnitOfWork, unit: InsuredUnit, on: date) -> InsuredUnit:
        if unit.kind != "person" or unit.party_id is None:
            return unit
        person = uow.parties.get(unit.party_id)
        assert isinstance(person, Person)
        return refresh_person_facts(unit, person.birth_date, on)

    def _record(
        self,
        uow: UnitOfWork,
        aggregate_type: str,
        aggregate_id: str,
        event_type: str,
        payload: Mapping[str, Any],
        request_id: str | None = None,
    ) -> None:
        uow.events.append(
            Event(aggregate_type, aggregate_id, event_type, dict(payload), self.clock(), request_id)
        )


InsuredItem = InsuredPersonIn | InsuredObjectIn


def _new_party(party_id: str, sent: PersonIn | OrganisationIn) -> Person | Organisation:
    """The party a request describes, validated (not yet registered)."""
    if isinstance(sent, OrganisationIn):
        return new_organisation(
            party_id, sent.name, sent.credit_code, sent.mobile, address=sent.address
        )
    return new_person(
        party_id,
        sent.name,
        sent.id_number,
        sent.mobile,
        address=sent.address,
        has_basic_medical=sent.has_basic_medical,
        medical_insurance_city=sent.medical_insurance_city,
    )


def _sent_number(sent: PersonIn | OrganisationIn) -> str:
    number = sent.credit_code if isinstance(sent, OrganisationIn) else sent.id_number
    return number.strip().upper()


def _id_number(party: Party) -> str:
    return party.credit_code if isinstance(party, Organisation) else party.id_number


def _require_as_sent(found: Party, sent: PersonIn | OrganisationIn) -> None:
    """A registered party is used only with the name and mobile it is registered with."""
    mobile = normalise_mobile(sent.mobile)
    if isinstance(found, Person):
        require_own_party(found, sent.name, mobile)
    elif found.name != sent.name.strip() or found.mobile != mobile:
        raise ValidationFailed(
            "application.organisation_mismatch",
            "名称或手机号与该统一社会信用代码登记的不一致，请核对。",
            "The name or mobile does not match those registered with this credit code.",
        )


def _require_group(policy: Policy) -> None:
    if not policy.group:
        raise ValidationFailed(
            "endorsement.not_group",
            "只有团体保单可以增减被保险人",
            "members can be added or removed on group policies only",
        )


def _refund_recorded(events: list[Event], request_id: str) -> Refund:
    """The refund a cancellation with this idempotency key recorded (a retry returns it)."""
    payload = next(e.payload for e in events if e.request_id == request_id)
    return Refund(
        Money.from_fen(payload["refund_fen"]),
        Money.from_fen(payload["retained_fen"]),
        Money.from_fen(payload["charged_fen"]),
    )


def _request(command: QuoteInput, units: tuple[InsuredUnit, ...]) -> QuoteRequest:
    return QuoteRequest(
        start_date=command.start_date,
        units=tuple(u.risk_unit() for u in units),
        selections=command.selections,
        riders=command.riders,
        optional_coverages=command.optional_coverages,
        instalment=command.instalment,
    )


def _check_issuance(compiled: CompiledPlan, group: bool, count: int) -> None:
    wanted = "group" if group else "individual"
    if wanted not in compiled.product.issuance:
        raise ValidationFailed(
            "quote.issuance_not_offered",
            f"产品 {compiled.product.code} 不提供{'团体' if group else '个人'}投保",
            f"product {compiled.product.code} is not sold as {wanted} cover",
        )
    if not group and compiled.product.risk_unit == "person" and count != 1:
        raise ValidationFailed(
            "quote.individual_one_insured",
            "个人保单只能有一位被保险人",
            "an individual policy insures exactly one person",
        )


def _require_unique_units(units: tuple[InsuredUnit, ...]) -> tuple[InsuredUnit, ...]:
    seen: set[str] = set()
    for unit in units:
        if unit.key in seen:
            raise ValidationFailed(
                "quote.duplicate_insured",
                f"被保险对象 {unit.key} 重复",
                f"insured {unit.key} appears twice",
            )
        seen.add(unit.key)
    return units


def _require_accepted(quotation: Quotation, code: str, zh: str, en: str) -> None:
    if quotation.decision.outcome == "accept":
        return
    reasons: tuple[Reason, ...] = quotation.decision.reasons
    raise DomainError(
        code,
        f"{zh}未通过核保：" + "；".join(r.zh for r in reasons),
        f"{en} not accepted by underwriting: " + "; ".join(r.en for r in reasons),
        reasons=[r.code for r in reasons],
    )


def _quote_payload(created: Quote) -> dict[str, Any]:
    q = created.quotation
    return {
        "product": q.product_code,
        "plan_version": q.plan_version,
        "annual_premium_fen": q.annual_premium.fen,
        "outcome": q.decision.outcome,
        "reasons": [asdict(r) for r in q.decision.reasons],
    }


def today(clock: Clock) -> date:
    """The business date in Shanghai."""
    return local_date(clock())
