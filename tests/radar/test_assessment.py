"""End to end, and the same-physics agreement with CLIMADA kept checked without CLIMADA.

``data/climada_reference_mangkhut.npz`` holds CLIMADA 6.1.0's wind and insured loss at 200
points for Mangkhut (how it was made: ``data/README.md``).
"""

from __future__ import annotations

import numpy as np
import pytest

from baoxian.radar.assessment import Physics, assess_event
from baoxian.radar.exposure import Categories, Exposure, generate_exposure
from baoxian.radar.loss import site_losses
from baoxian.radar.tracks import Track, interpolate_hourly
from baoxian.radar.wind import max_wind
from tests.radar.conftest import DATA


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(DATA / "climada_reference_mangkhut.npz") as data:
        return {k: data[k] for k in data.files}


def reference_sites(reference: dict[str, np.ndarray]) -> Exposure:
    n = reference["lat"].shape[0]
    one = Categories(np.zeros(n, np.int32), ("-",))
    return Exposure(
        site_id=np.arange(n, dtype=np.int64),
        policy=one,
        product=one,
        lat=reference["lat"],
        lon=reference["lon"],
        value_fen=reference["value_fen"],
        construction=one,
        occupancy=one,
        deductible_fen=reference["deductible_fen"],
        limit_fen=reference["limit_fen"],
        city=one,
        province=one,
    )


def test_same_physics_wind_agrees_with_climada(
    mangkhut: Track, reference: dict[str, np.ndarray]
) -> None:
    physics = Physics.climada()
    hourly = interpolate_hourly(mangkhut, positions=physics.interpolation)
    wind = max_wind(hourly, reference["lat"], reference["lon"], physics.wind)
    assert str(reference["climada_version"]) == "6.1.0"
    assert int(np.count_nonzero(reference["wind_ms"])) > 100
    assert np.array_equal(wind > 0, reference["wind_ms"] > 0)
    assert float(np.abs(wind - reference["wind_ms"]).max()) <= 1e-6


def test_same_physics_insured_loss_agrees_with_climada(
    mangkhut: Track, reference: dict[str, np.ndarray]
) -> None:
    result = assess_event(mangkhut, reference_sites(reference), Physics.climada())
    ours_cny = result.losses.insured_fen / 100.0
    assert int(np.count_nonzero(reference["insured_cny"])) > 40
    assert float(np.abs(ours_cny - reference["insured_cny"]).max()) <= 0.01


def test_linear_positions_are_not_climada(
    mangkhut: Track, reference: dict[str, np.ndarray]
) -> None:
    """The comparison can fail: linear positions move the winds by far more than 1e-6."""
    physics = Physics.climada()
    hourly = interpolate_hourly(mangkhut, positions="linear")
    wind = max_wind(hourly, reference["lat"], reference["lon"], physics.wind)
    assert float(np.abs(wind - reference["wind_ms"]).max()) > 0.01


def test_end_to_end_on_a_clustered_book(mangkhut: Track) -> None:
    book = generate_exposure(30_000, seed=2, layout="clustered")
    result = assess_event(mangkhut, book)
    losses = result.losses
    assert result.track_hourly.size == 253
    hit = losses.insured_fen > 0
    assert 0 < int(hit.sum()) < book.size
    # Mangkhut made landfall in western Guangdong: Shenzhen and Zhuhai lose, Ningbo does not
    city = result.totals["city"]
    insured = dict(zip(city["key"].to_list(), city["insured_fen"].to_list(), strict=True))
    assert insured["珠海市"] > 0 and insured["深圳市"] > 0 and insured["宁波市"] == 0
    assert sum(insured.values()) == int(losses.insured_fen.sum())
    again = site_losses(book, losses.wind_ms, Physics().vulnerability)
    assert np.array_equal(again.insured_fen, losses.insured_fen)
