"""Batch decision (批量理算): report, decide and pay a backlog of claims in one pass.

:func:`decide_batch` gives every claim what ``ClaimService.report`` then ``decide`` would
give it one after another in the order given (the report order), but set-based:

* one read of what the new claims need (:mod:`baoxian.claims.batch_store`): the policies'
  current terms and only the insured units the batch names, the insureds' ledgers, the
  earlier claims of the same insureds or invoices, and the book history for the peer
  statistics and provider profiles — computed once per batch, over the store's history
  plus the batch itself;
* adjudication, the anomaly score (one vectorised call per chunk), review and settlement in
  worker processes, partitioned by insured so that each insured's accumulators move in
  report order.  An invoice claimed again by *another* insured is still caught: the
  duplicate-invoice rule reads what the earlier claim was, not how it was decided, and
  every worker sees the whole batch;
* bulk writes of the claim rows, payment instructions and events as chunks come back, and
  the ledgers once per insured and policy year at the end — one transaction.

Claims already in the store (and repeats within the batch) are skipped and counted, so a
re-run writes nothing new.  A claim the service would refuse (unknown policy or insured, no
items, negative amounts, a fast track it cannot take) is not written: it comes back as a
:class:`Rejection` with the service's code and reason.

Where it differs from the service one claim at a time, by design:

* one clock reading for the whole batch (reported, decided, paid and event times);
* a ledger's version moves by one per batch, not by one per claim that consumed it;
* the peer statistics include the whole batch, as if it had all been reported before they
  were computed (the service keeps statistics up to ten minutes old).

A claim whose date of loss is before its policy's current term (reported after a renewal)
reads that policy year through ``PolicyService.policy_on``, one call per policy and date.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import Engine

from baoxian.catalog.services import Catalog
from baoxian.claims.anomaly import AnomalyModel, default_model, model_row, scorable
from baoxian.claims.batch_store import (
    BatchStore,
    ChunkRows,
    LedgerKey,
    RowFormat,
    StoredUnit,
    TermHeader,
)
from baoxian.claims.case import ClaimCase, ClaimStatus, decided, require_move
from baoxian.claims.model import (
    Accumulators,
    Claim,
    CoverSnapshot,
    HealthClaim,
    adjudicate,
    claimed_amount,
)
from baoxian.claims.repository import prior_claim
from baoxian.claims.review import (
    PeerStats,
    PriorClaim,
    ProviderProfile,
    ReviewContext,
    ReviewPolicy,
    review,
)
from baoxian.claims.services import (
    SPECIAL_DRUG_SLA,
    decision_payload,
    default_payee,
    require_fast_track,
    require_items,
    snapshot,
    staged,
)
from baoxian.claims.statistics import HealthHistory, book_statistics
from baoxian.policies.model import Policy, PolicyStatus
from baoxian.policies.services import PolicyService
from baoxian.shared.clock import Clock, system_clock
from baoxian.shared.errors import DomainError, ValidationFailed
from baoxian.shared.ids import new_id as time_ordered_id
from baoxian.shared.money import Money

__all__ = [
    "CHUNK_CLAIMS",
    "BatchResult",
    "FastTrack",
    "Rejection",
    "decide_batch",
    "estimate_batch",
]

CHUNK_CLAIMS = 20_000
"""Most claims per unit of work handed to a worker (whole insureds, so a few more); a
smaller batch is cut into at least four chunks per worker."""

FastTrack = str | Callable[[Claim], str]
"""One fast track for every claim of the batch, or the fast track of each claim."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Rejection:
    """A claim the service would have refused, with the reason it would have given."""

    claim_id: str
    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a batch did: the claims decided by final status, how many went straight through
    (decided — paid, or a decided zero payment — with no person involved), the money paid,
    and where the time went (seconds per stage; compute seconds of each chunk)."""

    received: int
    decided: int
    already_in_store: int
    rejected: tuple[Rejection, ...]
    statuses: Mapping[str, int]
    straight_through: int
    paid: Money
    seconds: Mapping[str, float] = field(default_factory=dict)
    chunk_seconds: tuple[float, ...] = ()

    @property
    def straight_through_rate(self) -> float:
        """Share of the decided claims that went straight through (0 when none)."""
        return self.straight_through / self.decided if self.decided else 0.0


# --------------------------------------------------------------------------- the use case


def decide_batch(
    engine: Engine,
    policies: PolicyService,
    catalog: Catalog,
    batch: Sequence[Claim],
    *,
    channel: str = "settlement_import",
    fast_track: FastTrack = "",
    green_channel: bool = False,
    clock: Clock = system_clock,
    new_id: Callable[[], str] = time_ordered_id,
    review_policy: ReviewPolicy | None = None,
    anomaly_model: Callable[[], AnomalyModel | None] = default_model,
    workers: int | None = None,
    chunk_claims: int = CHUNK_CLAIMS,
) -> BatchResult:
    """Report, decide and (straight through) pay ``batch`` in report order, as
    ``ClaimService.report`` + ``decide`` would one by one, in one transaction.

    ``fast_track`` is one track for every claim or a function of the claim; ``new_id``
    makes the payment IDs (in this process); ``workers`` processes decide (default one per
    CPU; 0 or 1 decides in this process); ``review_policy`` and ``anomaly_model`` are the
    service's."""
    watch = _Stopwatch()
    now = clock()
    collecting = gc.isenabled()
    gc.disable()  # a million live claims make every collection a walk over all of them
    try:
        with engine.connect() as connection:
            store = BatchStore(connection)
            try:
                with connection.begin():
                    store.tune(len(batch))
                    book = _read(store, policies, catalog, batch, fast_track, watch)
                    if not book.todo:
                        return book.result(watch, _Outcome())
                    work = _Work(
                        book=book,
                        now=now,
                        rows=store.row_format(now),
                        channel=channel,
                        green_channel=green_channel,
                        policy=review_policy or ReviewPolicy(),
                        model=anomaly_model() if _any_scorable(book, review_policy) else None,
                    )
                    watch.lap("prepare")
                    outcome = _run(work, store, new_id, _worker_count(workers), chunk_claims, watch)
                    _save_ledgers(store, book, outcome.ledgers)
                    watch.lap("write_ledgers")
                watch.lap("commit")
            finally:
                store.untune()
    finally:
        if collecting:
            gc.enable()
    return book.result(watch, outcome)


def estimate_batch(
    engine: Engine,
    policies: PolicyService,
    catalog: Catalog,
    batch: Sequence[Claim],
    fast_track: FastTrack = "",
) -> tuple[dict[str, Money], tuple[Rejection, ...]]:
    """What each new claim of ``batch`` would pay if it were reported and decided now, in the
    order given (an insured's accumulators move from claim to claim) — writing nothing.

    The benefit engine only (no review): for the 主动提醒 of members who have not authorised
    settlement.  Claims already in the store are left out; a claim the service would refuse
    comes back as a rejection."""
    with engine.connect() as connection, connection.begin() as transaction:
        store = BatchStore(connection)
        book = _read(store, policies, catalog, batch, fast_track, _Stopwatch(), review=False)
        transaction.rollback()  # only the staging tables were written
    payable: dict[str, Money] = {}
    running: dict[LedgerKey, Accumulators] = {}
    for index in book.todo:
        claim = batch[index]
        insured = book.archived.get(index)
        if insured is None and book.terms is not None:
            insured = book.terms.insured(claim)
        if insured is None:  # pragma: no cover - every admitted claim has a term
            continue
        key = (claim.policy_number, claim.unit_key, insured.term_no)
        assessment = adjudicate(claim, insured.cover, running.get(key, insured.used))
        running[key] = assessment.accumulators
        payable[claim.claim_id] = assessment.payable
    return payable, tuple(book.rejected)


def _worker_count(workers: int | None) -> int:
    return (os.cpu_count() or 1) if workers is None else max(0, workers)


class _Stopwatch:
    """Seconds per stage, for operators and the benchmark (never asserted)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(self.laps.get(name, 0.0) + now - self._last, 3)
        self._last = now


# --------------------------------------------------------------------------- the book


@dataclass(slots=True)
class _Insured:
    """One insured in one policy year: what the engine and review read, and the ledger."""

    cover: CoverSnapshot
    term_no: int
    product_code: str
    gender: str
    age: int
    inception: date
    used: Accumulators
    ledger_version: int  # -1: no ledger row yet


@dataclass(slots=True)
class _Book:
    """The batch with everything read for it; inherited by forked workers, never pickled."""

    batch: Sequence[Claim]
    todo: list[int] = field(default_factory=list)  # the claims to decide, in report order
    skipped: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    terms: _Terms | None = None
    archived: dict[int, _Insured] = field(default_factory=dict)  # claims of an earlier term
    tracks: dict[int, str] = field(default_factory=dict)  # fast track, where not ""
    priors: dict[int, PriorClaim] = field(default_factory=dict)  # claims seen as earlier ones
    store_priors: dict[int, tuple[PriorClaim, ...]] = field(default_factory=dict)
    invoice_peers: dict[int, tuple[int, ...]] = field(default_factory=dict)
    insured_claims: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    peers: Mapping[str, PeerStats] = field(default_factory=dict)
    providers: Mapping[str, ProviderProfile] = field(default_factory=dict)

    def prior(self, index: int) -> PriorClaim:
        """The batch's claim ``index`` as a later claim's review sees it (made where it is
        first needed: in the worker deciding the later claim)."""
        prior = self.priors.get(index)
        if prior is None:
            prior = self.priors[index] = prior_claim(self.batch[index])
        return prior

    def result(self, watch: _Stopwatch, outcome: _Outcome) -> BatchResult:
        return BatchResult(
            received=len(self.batch),
            decided=sum(outcome.statuses.values()),
            already_in_store=self.skipped,
            rejected=tuple(self.rejected),
            statuses=dict(sorted(outcome.statuses.items())),
            straight_through=outcome.straight,
            paid=Money.from_fen(outcome.paid_fen),
            seconds=dict(watch.laps),
            chunk_seconds=tuple(round(s, 3) for s in outcome.chunk_seconds),
        )


def _read(
    store: BatchStore,
    policies: PolicyService,
    catalog: Catalog,
    batch: Sequence[Claim],
    fast_track: FastTrack,
    watch: _Stopwatch,
    review: bool = True,
) -> _Book:
    """Which claims are new, and everything the store holds that they need (without
    ``review``, only what the benefit engine reads)."""
    book = _Book(batch)
    first: dict[str, int] = {}
    for index, claim in enumerate(batch):
        first.setdefault(claim.claim_id, index)
    store.stage(
        (c.claim_id, c.policy_number, c.unit_key, c.invoice_no)
        for c in (batch[i] for i in first.values())
    )
    try:
        stored = store.stored_ids()
        new = [i for i in first.values() if batch[i].claim_id not in stored]
        book.skipped = len(batch) - len(new)
        watch.lap("read_existing")
        if not new:
            return book
        if stored:
            store.forget_stored()
        found = store.read(watch.lap, review)
    finally:
        store.unstage()
    book.terms = _Terms(found.headers, found.units, found.ledgers, policies, catalog)
    for index in new:
        _admit(book, index, book.terms, fast_track)
    watch.lap("check")
    if not review:
        return book
    _index_history(book, found.earlier)
    _book_stats(book, found.history)
    watch.lap("book_stats")
    return book


def _admit(book: _Book, index: int, terms: _Terms, fast_track: FastTrack) -> None:
    """What ``ClaimService.report`` checks, in its order; a refusal becomes a rejection.
    A claim of an earlier policy year is resolved here (through the service); the others'
    cover is built by the worker that decides them."""
    claim = book.batch[index]
    try:
        if terms.current(claim):
            terms.require_unit(claim)
        else:
            book.archived[index] = terms.archived(claim)
        require_items(claim)
        track = fast_track(claim) if callable(fast_track) else fast_track
        require_fast_track(claim, track)
    except DomainError as error:
        book.archived.pop(index, None)
        book.rejected.append(Rejection(claim.claim_id, error.code, error.zh, error.en))
        return
    book.todo.append(index)
    if track:
        book.tracks[index] = track


@dataclass(slots=True)
class _Terms:
    """The insured of each claim in the policy year of its date of loss."""

    headers: Mapping[str, TermHeader]
    units: Mapping[tuple[str, str], StoredUnit]
    ledgers: Mapping[LedgerKey, tuple[Accumulators, int]]
    policies: PolicyService
    catalog: Catalog
    covers: dict[tuple[str, int, date | None], CoverSnapshot] = field(default_factory=dict)
    earlier_terms: dict[tuple[str, date], Policy] = field(default_factory=dict)

    def current(self, claim: Claim) -> bool:
        """Whether the claim's date of loss is in its policy's current term (what
        ``PolicyService.policy_on`` returns without an archived term)."""
        header = self.headers.get(claim.policy_number)
        return header is not None and claim.loss_date >= header.term_start

    def require_unit(self, claim: Claim) -> None:
        if (claim.policy_number, claim.unit_key) not in self.units:
            raise _unknown_insured(claim)

    def insured(self, claim: Claim) -> _Insured:
        """``services.snapshot`` and ``review_context``'s facts for a claim of the current
        term, from what the store read."""
        header = self.headers[claim.policy_number]
        facts, sums, joined = self.units[(claim.policy_number, claim.unit_key)]
        cover = self._cover(header, claim.unit_key, sums, joined)
        return self._insured(
            claim, cover, header.term_no, header.product_code, facts, cover.original_inception
        )

    def _cover(
        self, header: TermHeader, unit_key: str, sums: Mapping[str, Money], joined: date | None
    ) -> CoverSnapshot:
        """``services.snapshot`` of the current term (shared by units with the same cover
        text and start: the engine reads the cover, not the unit's key, which is set all the
        same).  A member who joined later is covered from ``joined`` (``Policy.cover_starts``,
        ``Policy.insured_since``)."""
        key = (header.policy_number, id(sums), joined)
        cover = self.covers.get(key)
        if cover is None:
            end = header.term_end
            if header.ended_on is not None:
                end = min(header.term_end, header.ended_on)
            since, starts = header.original_inception, header.term_start
            if joined is not None:
                since, starts = max(joined, since), max(joined, starts)
            cover = self.covers[key] = CoverSnapshot(
                policy_number=header.policy_number,
                unit_key=unit_key,
                in_force=header.status is PolicyStatus.IN_FORCE or header.ended_on is not None,
                term_start=starts,
                term_end=end,
                original_inception=since,
                term_no=header.term_no,
                sums_insured=sums,
                plan=self.catalog.plan(header.product_code, header.plan_version).plan,
            )
        return cover if cover.unit_key == unit_key else replace(cover, unit_key=unit_key)

    def archived(self, claim: Claim) -> _Insured:
        """A claim of an earlier policy year (or of an unknown policy): through
        ``PolicyService.policy_on``, once per policy and date of loss."""
        key = (claim.policy_number, claim.loss_date)
        policy = self.earlier_terms.get(key)
        if policy is None:
            policy = self.earlier_terms[key] = self.policies.policy_on(*key)
        cover = snapshot(policy, claim.unit_key, self.catalog)
        facts = policy.unit(claim.unit_key).facts
        return self._insured(
            claim, cover, policy.term_no, policy.product_code, facts, cover.original_inception
        )

    def _insured(
        self,
        claim: Claim,
        cover: CoverSnapshot,
        term_no: int,
        product_code: str,
        facts: Mapping[str, Any],
        inception: date,
    ) -> _Insured:
        used, version = self.ledgers.get(
            (claim.policy_number, claim.unit_key, term_no), (Accumulators(), -1)
        )
        return _Insured(
            cover=cover,
            term_no=term_no,
            product_code=product_code,
            gender=str(facts.get("gender", "")),
            age=int(facts.get("age", 0)),
            inception=inception,
            used=used,
            ledger_version=version,
        )


def _unknown_insured(claim: Claim) -> ValidationFailed:
    """What ``Policy.unit`` raises for an insured the policy does not have."""
    return ValidationFailed(
        "policy.unknown_insured",
        f"保单 {claim.policy_number} 没有被保险对象 {claim.unit_key}",
        f"policy {claim.policy_number} has no insured {claim.unit_key}",
    )


def _index_history(book: _Book, earlier: Sequence[PriorClaim]) -> None:
    """Who came before whom: each insured's batch claims, the earlier batch claims with the
    same invoice, and the claims in the store each batch claim's review sees."""
    batch = book.batch
    by_invoice: dict[str, list[int]] = {}
    for index in book.todo:
        claim = batch[index]
        book.insured_claims.setdefault((claim.policy_number, claim.unit_key), []).append(index)
        if claim.invoice_no.strip():
            by_invoice.setdefault(claim.invoice_no, []).append(index)
    for indexes in by_invoice.values():
        for position in range(1, len(indexes)):
            book.invoice_peers[indexes[position]] = tuple(indexes[:position])
    if not earlier:
        return
    of_insured: dict[tuple[str, str], list[int]] = {}
    of_invoice: dict[str, list[int]] = {}
    for position, prior in enumerate(earlier):
        of_insured.setdefault((prior.policy_number, prior.unit_key), []).append(position)
        of_invoice.setdefault(prior.invoice_no, []).append(position)
    for index in book.todo:
        claim = batch[index]
        found = set(of_insured.get((claim.policy_number, claim.unit_key), ()))
        if claim.invoice_no.strip():
            found.update(of_invoice.get(claim.invoice_no, ()))
        if found:
            book.store_priors[index] = tuple(earlier[p] for p in sorted(found))


def _book_stats(book: _Book, history: HealthHistory) -> None:
    """Peer statistics and provider profiles over the store's health claims and the batch's
    (what ``ClaimService.book_stats`` computes from the store), over columns."""
    batch = book.batch
    for index in book.todo:
        claim = batch[index]
        if isinstance(claim, HealthClaim):
            fen = claimed_amount(claim).fen
            history.add(claim.diagnosis, fen, claim.provider, claim.invoice_no)
    book.peers, book.providers = book_statistics(history)


def _any_scorable(book: _Book, policy: ReviewPolicy | None) -> bool:
    """Whether any claim can be scored at all (else the model is not even loaded)."""
    policy = policy or ReviewPolicy()
    return any(s.count >= policy.peer_min_count for s in book.peers.values()) and any(
        p.claims >= policy.provider_min_claims for p in book.providers.values()
    )


# --------------------------------------------------------------------------- deciding


@dataclass(slots=True)
class _Work:
    """What every worker needs: the book and the batch's settings."""

    book: _Book
    now: datetime
    rows: RowFormat
    channel: str
    green_channel: bool
    policy: ReviewPolicy
    model: AnomalyModel | None


@dataclass(slots=True)
class _Outcome:
    ledgers: list[tuple[LedgerKey, str]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    straight: int = 0
    paid_fen: int = 0
    chunk_seconds: list[float] = field(default_factory=list)

    def add(self, rows: ChunkRows) -> None:
        self.ledgers.extend(rows.ledgers)
        for status, count in rows.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        self.straight += rows.straight
        self.paid_fen += rows.paid_fen
        self.chunk_seconds.append(rows.seconds)


_WORK: list[_Work] = []  # the batch being decided, as forked workers inherit it


def _run(
    work: _Work,
    store: BatchStore,
    new_id: Callable[[], str],
    workers: int,
    chunk_claims: int,
    watch: _Stopwatch,
) -> _Outcome:
    """Decide chunk after chunk — in forked worker processes when there are several (where
    the platform forks) — and write each chunk's rows as it comes back."""
    # at least four chunks per worker, so that writing starts early and no worker idles
    size = min(chunk_claims, max(1_000, -(-len(work.book.todo) // (4 * max(1, workers)))))
    chunks = _chunks(work.book, size)
    tasks = ((chunk, [new_id() for _ in chunk]) for chunk in chunks)
    outcome = _Outcome()
    _WORK.append(work)
    try:
        forking = "fork" in multiprocessing.get_all_start_methods()
        if workers <= 1 or len(chunks) == 1 or not forking:
            _collect(map(_decide_chunk, tasks), store, outcome, watch)
        else:
            gc.freeze()  # forked workers then share the book's pages instead of copying them
            with multiprocessing.get_context("fork").Pool(min(workers, len(chunks))) as pool:
                _collect(pool.imap_unordered(_decide_chunk, tasks), store, outcome, watch)
    finally:
        _WORK.clear()
        gc.unfreeze()
    return outcome


def _collect(
    results: Iterable[ChunkRows], store: BatchStore, outcome: _Outcome, watch: _Stopwatch
) -> None:
    for rows in results:
        watch.lap("decide")
        store.write(rows)
        watch.lap("write")
        outcome.add(rows)


def _chunks(book: _Book, size: int) -> list[list[int]]:
    """Whole insureds per chunk, about ``size`` claims each, each chunk in report order."""
    chunks: list[list[int]] = []
    current: list[int] = []
    for indexes in book.insured_claims.values():
        current.extend(indexes)
        if len(current) >= size:
            chunks.append(sorted(current))
            current = []
    if current:
        chunks.append(sorted(current))
    return chunks


def _decide_chunk(task: tuple[list[int], list[str]]) -> ChunkRows:
    """Decide a chunk's claims in report order (a worker's side)."""
    began = time.process_time()
    indexes, payment_ids = task
    work = _WORK[0]
    book = work.book
    insureds = _insureds(book, indexes)
    contexts = {i: _context(book, i, insureds[i][1]) for i in indexes}
    scores = _scores(work, indexes, contexts)
    rows = ChunkRows()
    ids = iter(payment_ids)
    moved: dict[LedgerKey, _Insured] = {}
    for index in indexes:
        key, insured = insureds[index]
        claim = book.batch[index]
        track = book.tracks.get(index, "")
        used = _decide_one(
            work, claim, insured, track, contexts[index], scores.get(index), ids, rows
        )
        if used is not None:
            insured.used = used
            moved[key] = insured
    rows.ledgers = [(key, _json_text(_fen_map(insured.used))) for key, insured in moved.items()]
    rows.seconds = time.process_time() - began
    return rows


def _insureds(book: _Book, indexes: Sequence[int]) -> dict[int, tuple[LedgerKey, _Insured]]:
    """The insured (one running state per insured and policy year) of each claim."""
    terms = book.terms
    assert terms is not None
    year: dict[LedgerKey, _Insured] = {}
    found = {}
    for index in indexes:
        claim = book.batch[index]
        insured = book.archived.get(index)
        term_no = terms.headers[claim.policy_number].term_no if insured is None else insured.term_no
        key = (claim.policy_number, claim.unit_key, term_no)
        running = year.get(key)
        if running is None:
            running = year[key] = terms.insured(claim) if insured is None else insured
        found[index] = (key, running)
    return found


def _fen_map(used: Accumulators) -> dict[str, int]:
    return {key: amount.fen for key, amount in used.used.items()}


def _context(book: _Book, index: int, insured: _Insured) -> ReviewContext:
    """``services.review_context``: the insured's sex and age from the rating facts, the
    earlier claims of the insured or of the invoice (the store's first, then the batch's in
    report order), and the book statistics."""
    claim = book.batch[index]
    own = (claim.policy_number, claim.unit_key)
    earlier = [i for i in book.insured_claims[own] if i < index]
    for other in book.invoice_peers.get(index, ()):
        if (book.batch[other].policy_number, book.batch[other].unit_key) != own:
            earlier.append(other)
    earlier.sort()
    return ReviewContext(
        insured_gender=insured.gender,
        insured_age=insured.age,
        original_inception=insured.inception,
        prior_claims=(*book.store_priors.get(index, ()), *(book.prior(i) for i in earlier)),
        peer_stats=book.peers,
        provider_profiles=book.providers,
    )


def _scores(
    work: _Work, indexes: Sequence[int], contexts: Mapping[int, ReviewContext]
) -> dict[int, float]:
    """Anomaly scores of the chunk's scorable health claims (``ClaimService._score``), in
    one call of the model."""
    model = work.model
    if model is None:
        return {}
    policy = work.policy
    scored: list[int] = []
    rows = []
    for index in indexes:
        claim = work.book.batch[index]
        if isinstance(claim, HealthClaim):
            context = contexts[index]
            if scorable(claim, context, policy.peer_min_count, policy.provider_min_claims):
                scored.append(index)
                rows.append(model_row(claim, context, model.columns))
    return dict(zip(scored, model.score(rows), strict=True))


def _decide_one(
    work: _Work,
    claim: Claim,
    insured: _Insured,
    track: str,
    context: ReviewContext,
    score: float | None,
    payment_ids: Iterator[str],
    rows: ChunkRows,
) -> Accumulators | None:
    """``ClaimService.report``, ``decide`` and (straight through) ``_settle`` of one claim;
    the accumulators it consumed, or ``None`` when it consumed nothing."""
    now = work.now
    claimed = claimed_amount(claim)
    special = track == "special_drug"
    case = ClaimCase(
        claim=claim,
        term_no=insured.term_no,
        status=ClaimStatus.REPORTED,
        channel=work.channel,
        reserve=claimed,
        paid=Money.ZERO,
        green_channel=work.green_channel,
        product_code=insured.product_code,
        fast_track=track,
        stage="prescription_received" if special else "",
        sla_due_at=now + SPECIAL_DRUG_SLA if special else None,
    )
    reported = {
        "claimed_fen": claimed.fen,
        "channel": work.channel,
        "green_channel": work.green_channel,
        "fast_track": track,
    }
    assessment = adjudicate(claim, insured.cover, insured.used)
    result = review(claim, assessment, context, work.policy, score)
    case, consume = decided(case, assessment, result)
    case = staged(case)
    events = [("claim.reported", reported), ("claim.decided", decision_payload(case, assessment))]
    version = 1
    if case.status is ClaimStatus.APPROVED:
        payee_kind, payee = default_payee(case)
        to_pay = case.outstanding
        payment_id = next(payment_ids)
        rows.payments.append(
            (
                payment_id,
                claim.claim_id,
                "final",
                payee_kind,
                payee,
                to_pay.fen,
                f"{claim.claim_id}:final",
                "instructed",
                work.rows.now,
            )
        )
        require_move(case, ClaimStatus.PAID)
        case = staged(
            replace(case, status=ClaimStatus.PAID, paid=case.paid + to_pay, reserve=Money.ZERO)
        )
        version = 2
        paid = {
            "amount_fen": to_pay.fen,
            "payee_kind": payee_kind,
            "payee": payee,
            "payment_id": payment_id,
        }
        events.append(("claim.paid", paid))
        rows.paid_fen += to_pay.fen
    rows.claims.append(_claim_row(work.rows, case, claimed, version))
    stamp = work.rows.now
    rows.events.extend(
        ("claim", claim.claim_id, kind, _json_text(payload), stamp) for kind, payload in events
    )
    rows.statuses[case.status.value] = rows.statuses.get(case.status.value, 0) + 1
    rows.straight += bool(case.straight_through)
    return assessment.accumulators if consume else None


# --------------------------------------------------------------------------- rows


_encode = msgspec.json.Encoder().encode


def _json_text(value: Any) -> str:
    """Compact JSON text, non-ASCII kept (what ``json.dumps(ensure_ascii=False,
    separators=(",", ":"))`` writes, several times faster)."""
    return _encode(value).decode()


def _claim_row(form: RowFormat, case: ClaimCase, claimed: Money, version: int) -> tuple[Any, ...]:
    """The claims row ``SqlClaimRepository`` writes for the case (``_row_values``, plus the
    times and version), in ``CLAIM_COLUMNS`` order, JSON as text."""
    claim = case.claim
    health = isinstance(claim, HealthClaim)
    now = form.now
    return (
        claim.claim_id,
        claim.policy_number,
        claim.unit_key,
        case.term_no,
        "health" if health else "property",
        case.channel,
        case.status.value,
        form.day(claim.loss_date),
        claim.invoice_no,
        claim.provider if isinstance(claim, HealthClaim) else "",
        claim.diagnosis if isinstance(claim, HealthClaim) else claim.peril[:16],
        claimed.fen,
        None if case.payable is None else case.payable.fen,
        case.reserve.fen,
        case.paid.fen,
        form.flag(case.green_channel),
        _json_text(_claim_data(claim)),
        None if case.eob is None else _json_text(case.eob),
        None if case.review is None else _json_text(case.review),
        case.product_code,
        form.flag(case.straight_through),
        form.flag(case.quality_sample),
        case.fast_track,
        case.stage,
        form.time_of(case.sla_due_at),
        case.assignee,
        case.incurred.fen,
        now,
        now,
        now if case.status is ClaimStatus.PAID else None,
        version,
    )


def _claim_data(claim: Claim) -> dict[str, Any]:
    """``to_json(claim_json(claim))``: the claim as reported, money and dates tagged."""
    if isinstance(claim, HealthClaim):
        return {
            "claim_id": claim.claim_id,
            "policy_number": claim.policy_number,
            "unit_key": claim.unit_key,
            "loss_date": {"$date": claim.loss_date.isoformat()},
            "diagnosis": claim.diagnosis,
            "items": [
                {
                    "code": item.code,
                    "description": item.description,
                    "category": item.category,
                    "amount": {"$money": item.amount.fen},
                    "paid_by_basic": {"$money": item.paid_by_basic.fen},
                    "designated_provider": item.designated_provider,
                }
                for item in claim.items
            ],
            "accident": claim.accident,
            "pre_existing": claim.pre_existing,
            "provider": claim.provider,
            "invoice_no": claim.invoice_no,
            "discharge_date": (
                None
                if claim.discharge_date is None
                else {"$date": claim.discharge_date.isoformat()}
            ),
            "channel": claim.channel,
            "kind": "health",
        }
    return {
        "claim_id": claim.claim_id,
        "policy_number": claim.policy_number,
        "unit_key": claim.unit_key,
        "loss_date": {"$date": claim.loss_date.isoformat()},
        "peril": claim.peril,
        "assessed_loss": {"$money": claim.assessed_loss.fen},
        "basement_loss": {"$money": claim.basement_loss.fen},
        "invoice_no": claim.invoice_no,
        "basis_zh": claim.basis_zh,
        "basis_en": claim.basis_en,
        "kind": "property",
    }


# --------------------------------------------------------------------------- ledgers


def _save_ledgers(store: BatchStore, book: _Book, moved: Sequence[tuple[LedgerKey, str]]) -> None:
    """Each moved ledger once: inserted when the batch began without one, else updated
    under the version it was read at."""
    terms = book.terms
    assert terms is not None
    versions = {key: terms.ledgers.get(key, (None, -1))[1] for key, _used in moved}
    store.save_ledgers(
        [(key, used) for key, used in moved if versions[key] < 0],
        [(key, used, versions[key]) for key, used in moved if versions[key] >= 0],
    )
