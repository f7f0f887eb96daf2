"""Exposure columns and the seeded site generator."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from baoxian.radar.exposure import (
    COASTAL_CITIES,
    UNIFORM_BOX,
    Categories,
    Layout,
    generate_exposure,
)
from baoxian.radar.geo import equirect_km
from baoxian.shared.errors import DomainError


@pytest.mark.parametrize("layout", ["uniform", "clustered"])
def test_generator_is_deterministic(layout: Layout) -> None:
    first = generate_exposure(5_000, seed=11, layout=layout)
    again = generate_exposure(5_000, seed=11, layout=layout)
    other = generate_exposure(5_000, seed=12, layout=layout)
    assert first.to_polars().equals(again.to_polars())
    assert not first.to_polars().equals(other.to_polars())


def test_uniform_sites_lie_in_the_box() -> None:
    book = generate_exposure(20_000, seed=1, layout="uniform")
    lat_lo, lat_hi, lon_lo, lon_hi = UNIFORM_BOX
    assert bool(np.all((lat_lo <= book.lat) & (book.lat <= lat_hi)))
    assert bool(np.all((lon_lo <= book.lon) & (book.lon <= lon_hi)))


def test_clustered_sites_lie_near_their_city() -> None:
    book = generate_exposure(20_000, seed=1, layout="clustered")
    centres = np.array([(c[2], c[3]) for c in COASTAL_CITIES])[book.city.codes]
    distance = equirect_km(centres[:, 0], centres[:, 1], book.lat, book.lon)
    assert float(distance.max()) <= 80.0 + 1e-6
    assert float(np.median(distance)) < 15.0
    assert set(book.city.decode().to_list()) == {c[0] for c in COASTAL_CITIES}
    province = {c[0]: c[1] for c in COASTAL_CITIES}
    pairs = zip(book.city.decode().to_list(), book.province.decode().to_list(), strict=True)
    assert all(province[city] == prov for city, prov in pairs)


def test_policy_terms_of_generated_sites() -> None:
    book = generate_exposure(10_000, seed=3)
    assert bool(np.all(book.value_fen % 100_000 == 0)) and int(book.value_fen.min()) > 0
    assert bool(np.all(book.deductible_fen == 2_000_000))
    first_loss = book.limit_fen < book.value_fen
    assert 0.15 < first_loss.mean() < 0.25
    assert np.array_equal(book.limit_fen[first_loss], book.value_fen[first_loss] // 2)
    assert len(book.policy.labels) == 2_500 and book.policy.labels[0] == "PAR-ENT-003-00000000"
    assert set(book.construction.decode().to_list()) == {"A", "B", "C", "D"}


def test_categories_encode_and_decode() -> None:
    column = Categories.encode(["深圳市", "广州市", "深圳市"])
    assert column.labels == ("深圳市", "广州市")
    assert column.decode().to_list() == ["深圳市", "广州市", "深圳市"]


def test_exposure_refuses_inconsistent_columns() -> None:
    book = generate_exposure(10, seed=0)
    with pytest.raises(DomainError) as raised:
        replace(book, value_fen=book.value_fen[:5])
    assert raised.value.code == "radar.exposure_invalid"
    with pytest.raises(DomainError):
        replace(book, deductible_fen=-book.deductible_fen)
    with pytest.raises(DomainError):
        replace(book, lat=book.lat + 100.0)
    with pytest.raises(DomainError):
        replace(book, city=Categories(book.city.codes + 20, book.city.labels))
