"""Book statistics over columns equal the one-claim-at-a-time definitions in review."""

from __future__ import annotations

import doctest
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from baoxian.claims import statistics
from baoxian.claims.review import PeerStats, PriorClaim, peer_stats, provider_profiles
from baoxian.claims.statistics import HealthHistory, book_statistics
from baoxian.shared.money import Money

DIAGNOSES = st.sampled_from(["K35.8", "k35.1", " K35 ", "J18.9", "j18", "C50.912", "O80", "", "I6"])
PROVIDERS = st.sampled_from(["", "H1", "H2", "P-9", "药房"])
INVOICES = st.sampled_from(["", "  ", "I1", "I2", "I1 ", "\tI3", "INV-4"])
CLAIMS = st.lists(
    st.tuples(DIAGNOSES, st.integers(0, 10_000_000), PROVIDERS, INVOICES), max_size=60
)


def priors(rows: list[tuple[str, int, str, str]]) -> list[PriorClaim]:
    return [
        PriorClaim(
            f"C{n}",
            "P1",
            "u1",
            invoice,
            provider,
            date(2026, 6, 1),
            None,
            diagnosis,
            Money.from_fen(fen),
        )
        for n, (diagnosis, fen, provider, invoice) in enumerate(rows)
    ]


@settings(max_examples=300, deadline=None)
@given(CLAIMS)
def test_equal_to_the_definitions_in_review(rows: list[tuple[str, int, str, str]]) -> None:
    history = priors(rows)
    expected_peers = peer_stats((p.diagnosis, p.claimed) for p in history)
    peers, providers = book_statistics(HealthHistory.of(rows))
    assert peers == expected_peers
    assert providers == provider_profiles(history, expected_peers)


@settings(max_examples=100, deadline=None)
@given(
    CLAIMS,
    st.dictionaries(
        st.sampled_from(["K35", "J18", "C50", "X00"]), st.integers(0, 10_000_000), max_size=4
    ),
)
def test_profiles_against_given_peers(
    rows: list[tuple[str, int, str, str]], p95: dict[str, int]
) -> None:
    """Profiles read the peers they are given (a category without peers never counts)."""
    given_peers = {
        category: PeerStats(Money.ZERO, Money.from_fen(fen), 1) for category, fen in p95.items()
    }
    _own, providers = book_statistics(HealthHistory.of(rows), given_peers)
    assert providers == provider_profiles(priors(rows), given_peers)


def test_mean_rounds_half_up_to_the_fen() -> None:
    """Three claims of 0.01, 0.01 and 0.02 yuan average 0.01333… → 0.01; two of 0.01 and
    0.02 average 0.015 → 0.02."""
    _peers, providers = book_statistics(
        HealthHistory.of(
            [
                ("K35", 1, "A", ""),
                ("K35", 1, "A", ""),
                ("K35", 2, "A", ""),
                ("K35", 1, "B", ""),
                ("K35", 2, "B", ""),
            ]
        )
    )
    assert providers["A"].mean_claimed == Money.of("0.01")
    assert providers["B"].mean_claimed == Money.of("0.02")


def test_an_empty_history_has_no_statistics() -> None:
    assert book_statistics(HealthHistory()) == ({}, {})


def test_docstring_examples() -> None:
    assert doctest.testmod(statistics).failed == 0
