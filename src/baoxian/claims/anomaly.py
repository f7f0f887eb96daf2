"""A learned anomaly score for health claims (异常评分) — pure, no I/O.

The named rules of :mod:`baoxian.claims.review` catch what can be stated; the anomaly score
catches claims that look unlike the book without breaking a stated rule.  An
:class:`AnomalyModel` is an isolation forest (scikit-learn ``IsolationForest``, fixed
random state, so the same rows give the same scores) fitted, unsupervised, on the
features of a book of claims.  Its score is in [0, 1], higher is more anomalous; review
refers a claim whose score reaches ``ReviewPolicy.anomaly_refer_score``.

Features (:data:`FEATURES`, in order; floats — money only ever enters as a ratio or a log):

* ``log_claimed`` — ln(1 + claimed CNY);
* ``log_peer_ratio`` / ``log_peer_p95_ratio`` — ln(claimed / the median, resp. the 95th
  percentile, of the diagnosis category); 0 when the category has no peers;
* ``share_in_list`` / ``share_out_of_list`` / ``share_special_drug`` — shares of the bill
  inside the 医保 list, outside it, and on special drugs;
* ``share_paid_by_basic`` — share of the bill 医保统筹 already paid;
* ``items`` — number of bill items;
* ``log_days_since_inception`` — ln(1 + days from the original inception to the loss), ≥ 0;
* ``stay_days`` — nights in hospital (0 for a pharmacy purchase or an outpatient visit);
* ``log_claimed_per_day`` — ln(1 + claimed CNY per day of stay, a purchase counting 1);
* ``age`` — the insured's age;
* ``prior_claims_365`` — the insured's earlier claims with a loss in the 365 days before;
* ``days_since_prior_discharge`` — days from the insured's latest earlier discharge to this
  admission, within ±90 (negative: admitted while still in another stay; 90 when none);
  short gaps are the 分解住院 (split stay) pattern;
* ``log_provider_ratio`` — ln(claimed / the provider's mean claim); 0 for an unknown provider;
* ``provider_over_p95_share`` / ``provider_duplicate_share`` — the provider's profile;
* ``payable_ratio`` — payable / claimed of the benefit assessment (0 when nothing claimed);
* ``accident`` — 1 for an accident, else 0.

The model uses the subset :data:`MODEL_FEATURES` by default.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import IsolationForest

from baoxian.claims.model import Accumulators, Assessment, HealthClaim, claimed_amount
from baoxian.claims.review import ReviewContext, icd_category
from baoxian.shared.money import Money, total

__all__ = [
    "FEATURES",
    "MODEL_FEATURES",
    "AnomalyModel",
    "Metrics",
    "as_claimed",
    "default_model",
    "evaluate",
    "features",
    "metrics",
    "model_row",
    "scorable",
]

FEATURES: tuple[str, ...] = (
    "log_claimed",
    "log_peer_ratio",
    "log_peer_p95_ratio",
    "share_in_list",
    "share_out_of_list",
    "share_special_drug",
    "share_paid_by_basic",
    "items",
    "log_days_since_inception",
    "stay_days",
    "log_claimed_per_day",
    "age",
    "prior_claims_365",
    "days_since_prior_discharge",
    "log_provider_ratio",
    "provider_over_p95_share",
    "provider_duplicate_share",
    "payable_ratio",
    "accident",
)
"""The names of the feature vector's entries, in order (see the module docstring)."""

Row = Sequence[float]


# --------------------------------------------------------------------------- features


def features(claim: HealthClaim, assessment: Assessment, context: ReviewContext) -> list[float]:
    """The feature vector of one adjudicated health claim (see :data:`FEATURES`)."""
    claimed = assessment.claimed
    return [
        math.log1p(float(claimed.amount)),
        *_peer_ratios(claim, claimed, context),
        *_bill_shares(claim, claimed),
        float(len(claim.items)),
        math.log1p(max(0, (claim.loss_date - context.original_inception).days)),
        float(_stay_days(claim)),
        math.log1p(float(claimed.amount) / max(1, _stay_days(claim))),
        float(context.insured_age),
        float(_recent_claims(claim, context)),
        float(_days_since_prior_discharge(claim, context)),
        *_provider_features(claim, claimed, context),
        _ratio(assessment.payable.amount, claimed.amount),
        1.0 if claim.accident else 0.0,
    ]


def _ratio(part: Decimal, whole: Decimal) -> float:
    return float(part / whole) if whole > 0 else 0.0


def _log_ratio(amount: Money, base: Money) -> float:
    if amount.amount <= 0 or base.amount <= 0:
        return 0.0
    return math.log(float(amount.amount / base.amount))


def _peer_ratios(claim: HealthClaim, claimed: Money, context: ReviewContext) -> list[float]:
    peers = context.peer_stats.get(icd_category(claim.diagnosis))
    if peers is None:
        return [0.0, 0.0]
    return [_log_ratio(claimed, peers.median), _log_ratio(claimed, peers.p95)]


def _bill_shares(claim: HealthClaim, claimed: Money) -> list[float]:
    def share(category: str) -> float:
        part = sum((i.amount.amount for i in claim.items if i.category == category), Decimal(0))
        return _ratio(part, claimed.amount)

    basic = sum((i.paid_by_basic.amount for i in claim.items), Decimal(0))
    return [
        share("in_list"),
        share("out_of_list"),
        share("special_drug"),
        _ratio(basic, claimed.amount),
    ]


def _stay_days(claim: HealthClaim) -> int:
    if claim.discharge_date is None:
        return 0
    return max(0, (claim.discharge_date - claim.loss_date).days)


def _recent_claims(claim: HealthClaim, context: ReviewContext) -> int:
    since = claim.loss_date - timedelta(days=365)
    return sum(
        1
        for p in context.prior_claims
        if p.unit_key == claim.unit_key
        and p.claim_id != claim.claim_id
        and since <= p.loss_date <= claim.loss_date
    )


_GAP_CAP = 90


def _days_since_prior_discharge(claim: HealthClaim, context: ReviewContext) -> int:
    gaps = [
        (claim.loss_date - p.discharge_date).days
        for p in context.prior_claims
        if p.unit_key == claim.unit_key
        and p.claim_id != claim.claim_id
        and p.discharge_date is not None
        and p.loss_date <= claim.loss_date
    ]
    return max(-_GAP_CAP, min([_GAP_CAP, *gaps]))


def _provider_features(claim: HealthClaim, claimed: Money, context: ReviewContext) -> list[float]:
    profile = context.provider_profiles.get(claim.provider)
    if profile is None:
        return [0.0, 0.0, 0.0]
    return [
        _log_ratio(claimed, profile.mean_claimed),
        float(profile.share_over_peer_p95),
        float(profile.duplicate_invoice_share),
    ]


# --------------------------------------------------------------------------- model


MODEL_FEATURES: tuple[str, ...] = (
    "log_peer_ratio",
    "log_peer_p95_ratio",
    "log_days_since_inception",
    "days_since_prior_discharge",
    "log_provider_ratio",
    "provider_over_p95_share",
)
"""The features the model uses by default.  Measured on synthetic books: with all of
:data:`FEATURES` the forest isolates what is merely *different* — special-drug pharmacy
purchases (one item, no stay), babies, accidents — and precision at the default threshold
fell from about 0.7 to about 0.1."""


@dataclass(slots=True)
class AnomalyModel:
    """An isolation forest over claim features, with scores mapped to [0, 1].

    Rows are full :func:`features` vectors; the model uses the ``columns`` named.  The raw
    score is the forest's ``score_samples`` negated (higher = easier to isolate).  It is
    mapped by min–max over the *training* rows: 0 is the most normal training claim, 1 the
    most anomalous; scores of new rows are clipped into [0, 1].  A fixed ``random_state``
    makes fitting and scoring deterministic.
    """

    columns: tuple[str, ...] = MODEL_FEATURES
    n_estimators: int = 300
    max_samples: int = 256
    random_state: int = 0
    _forest: IsolationForest | None = field(default=None, init=False, repr=False)
    _low: float = field(default=0.0, init=False)
    _high: float = field(default=1.0, init=False)
    _trees: list[_Tree] = field(default_factory=list, init=False, repr=False)
    _norm: float = field(default=1.0, init=False, repr=False)

    def fit(self, rows: Sequence[Row]) -> AnomalyModel:
        """Fit on a book of claims (labels are not used) and return the model."""
        matrix = self._select(rows)
        forest = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=min(self.max_samples, len(matrix)),
            random_state=self.random_state,
        )
        forest.fit(matrix)
        raw = -forest.score_samples(matrix)
        self._forest, self._low, self._high = forest, float(raw.min()), float(raw.max())
        self._trees = [_Tree.of(tree, features) for tree, features in _estimators(forest)]
        self._norm = len(self._trees) * _average_path_length(int(forest.max_samples_))
        return self

    def score(self, rows: Sequence[Row]) -> list[float]:
        """Anomaly scores in [0, 1] of many claims (higher = more anomalous)."""
        if self._forest is None:
            raise ValueError("the anomaly model is not fitted")
        if not rows:
            return []
        raw = -self._forest.score_samples(self._select(rows))
        spread = self._high - self._low or 1.0
        return [float(s) for s in np.clip((raw - self._low) / spread, 0.0, 1.0)]

    def score_one(self, row: Row) -> float:
        """The anomaly score of one claim — the same number as :meth:`score`, computed by
        walking the trees in plain Python: for one row that takes well under a millisecond,
        where the vectorised path costs about 12 ms in set-up (a claim is decided online
        in a single request)."""
        if self._forest is None:
            raise ValueError("the anomaly model is not fitted")
        x: list[float] = self._select([row])[0].astype(np.float32).tolist()  # float32, as trees
        depth = sum(tree.path_length(x) for tree in self._trees)
        raw = float(2.0 ** (-depth / self._norm))
        spread = self._high - self._low or 1.0
        return min(1.0, max(0.0, (raw - self._low) / spread))

    def _select(self, rows: Sequence[Row]) -> NDArray[np.float64]:
        matrix = np.asarray(rows, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(FEATURES) or not len(matrix):
            raise ValueError(f"feature rows must be a non-empty table of {len(FEATURES)} columns")
        return matrix[:, [FEATURES.index(name) for name in self.columns]]


def scorable(claim: HealthClaim, context: ReviewContext, min_peers: int, min_claims: int) -> bool:
    """Whether the book knows enough to score a claim: its diagnosis category has at least
    ``min_peers`` claims and its provider at least ``min_claims``.  Without that history the
    peer and provider features are placeholders (0) the model never saw in training, and it
    would call an ordinary claim in a new book anomalous."""
    peers = context.peer_stats.get(icd_category(claim.diagnosis))
    profile = context.provider_profiles.get(claim.provider)
    return (
        peers is not None
        and peers.count >= min_peers
        and profile is not None
        and profile.claims >= min_claims
    )


@dataclass(frozen=True, slots=True)
class _Tree:
    """One isolation tree as plain lists: children, split feature (already mapped to the
    model's columns) and threshold per node, and for each leaf its depth plus the expected
    path length of the samples left in it — what ``IsolationForest.score_samples`` adds."""

    left: list[int]
    right: list[int]
    feature: list[int]
    threshold: list[float]
    leaf_length: list[float]

    @classmethod
    def of(cls, estimator: object, features: Sequence[int]) -> _Tree:
        tree = estimator.tree_  # type: ignore[attr-defined]
        left, right = tree.children_left.tolist(), tree.children_right.tolist()
        depth = [0] * tree.node_count
        for node in range(tree.node_count):  # parents come before their children
            for child in (left[node], right[node]):
                if child != -1:
                    depth[child] = depth[node] + 1
        samples = tree.n_node_samples.tolist()
        return cls(
            left,
            right,
            [features[f] if f >= 0 else -1 for f in tree.feature.tolist()],
            tree.threshold.tolist(),
            [depth[n] + _average_path_length(samples[n]) for n in range(tree.node_count)],
        )

    def path_length(self, x: list[float]) -> float:
        node = 0
        left, right, feature, threshold = self.left, self.right, self.feature, self.threshold
        while left[node] != -1:
            node = left[node] if x[feature[node]] <= threshold[node] else right[node]
        return self.leaf_length[node]


def _estimators(forest: IsolationForest) -> list[tuple[object, Sequence[int]]]:
    return list(zip(forest.estimators_, forest.estimators_features_, strict=True))


def _average_path_length(n: int) -> float:
    """c(n): the average path length of an unsuccessful search in a binary search tree of
    n points (Liu, Ting and Zhou 2008), as scikit-learn computes it."""
    if n <= 1:
        return 0.0
    if n == 2:
        return 1.0
    return 2.0 * (math.log(n - 1.0) + float(np.euler_gamma)) - 2.0 * (n - 1.0) / n


_DEFAULT: list[AnomalyModel] = []


def default_model() -> AnomalyModel:
    """The model review uses unless given another: fitted once per process, on the first
    call, on 4,000 generated claims (seed 1, 5 % planted fraud) — the training book whose
    held-out precision and recall are recorded in benchmarks/README.md.  Deterministic.

    No benefit assessment is needed to train it: :data:`MODEL_FEATURES` read the claim and
    its review context only, so each claim is paired with :func:`as_claimed`."""
    if not _DEFAULT:
        from baoxian.claims.synthetic import generate  # generated data only when needed

        book = generate(seed=1, n=4000)
        rows = [features(c.claim, as_claimed(c.claim), c.context) for c in book]
        _DEFAULT.append(AnomalyModel().fit(rows))
    return _DEFAULT[0]


def model_row(
    claim: HealthClaim, context: ReviewContext, columns: Sequence[str] = MODEL_FEATURES
) -> list[float]:
    """A feature row for scoring before adjudication in which only ``columns`` are
    computed and every other entry is 0.0 — the model reads no other column, so the score
    is the one of ``features(claim, as_claimed(claim), context)`` at a fraction of the
    cost (a batch scores a million claims).  Columns without a cheap form fall back to the
    full vector.

    >>> from baoxian.claims.synthetic import generate
    >>> drawn = generate(seed=1, n=50)[7]
    >>> row = model_row(drawn.claim, drawn.context)
    >>> full = features(drawn.claim, as_claimed(drawn.claim), drawn.context)
    >>> all(row[FEATURES.index(c)] == full[FEATURES.index(c)] for c in MODEL_FEATURES)
    True
    """
    if not set(columns) <= _CHEAP.keys():
        return features(claim, as_claimed(claim), context)
    claimed = claimed_amount(claim)
    row = [0.0] * len(FEATURES)
    for name in columns:
        row[_INDEX[name]] = _CHEAP[name](claim, claimed, context)
    return row


_Cheap = Callable[[HealthClaim, Money, ReviewContext], float]
_INDEX = {name: position for position, name in enumerate(FEATURES)}
_CHEAP: dict[str, _Cheap] = {
    "log_peer_ratio": lambda c, m, x: _peer_ratios(c, m, x)[0],
    "log_peer_p95_ratio": lambda c, m, x: _peer_ratios(c, m, x)[1],
    "log_days_since_inception": lambda c, m, x: math.log1p(
        max(0, (c.loss_date - x.original_inception).days)
    ),
    "days_since_prior_discharge": lambda c, m, x: float(_days_since_prior_discharge(c, x)),
    "log_provider_ratio": lambda c, m, x: _provider_features(c, m, x)[0],
    "provider_over_p95_share": lambda c, m, x: _provider_features(c, m, x)[1],
}


def as_claimed(claim: HealthClaim) -> Assessment:
    """An assessment that pays what is claimed — for scoring before adjudication, which
    the default features allow (they do not read the payable)."""
    claimed = total([item.amount for item in claim.items])
    return Assessment(claim.claim_id, "pay", claimed, claimed, (), (), Accumulators())


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True, slots=True)
class Metrics:
    """How well scores at or above ``threshold`` find the labelled positives."""

    precision: float
    recall: float
    f1: float
    threshold: float
    n: int
    positives: int  # labelled positives
    flagged: int  # scores at or above the threshold


def evaluate(
    model: AnomalyModel, rows: Sequence[Row], labels: Sequence[bool], threshold: float
) -> Metrics:
    """Precision, recall and F1 of flagging rows whose score reaches ``threshold``."""
    return metrics([s >= threshold for s in model.score(rows)], labels, threshold)


def metrics(flags: Sequence[bool], labels: Sequence[bool], threshold: float) -> Metrics:
    """Precision, recall and F1 of any flags against labels (0 where undefined)."""
    if len(flags) != len(labels):
        raise ValueError("flags and labels differ in length")
    hits = sum(1 for f, y in zip(flags, labels, strict=True) if f and y)
    flagged, positives = sum(flags), sum(labels)
    precision = hits / flagged if flagged else 0.0
    recall = hits / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(precision, recall, f1, threshold, len(flags), positives, flagged)
