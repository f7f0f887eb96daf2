"""Demo claims: a small demo book's claims by status, inside cover, and written once."""

from __future__ import annotations

import doctest
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from baoxian.bootstrap import App, build
from baoxian.claims.tables import claims
from baoxian.demo import claims as demo_claims_module
from baoxian.demo.book import load_demo_book
from baoxian.demo.signins import demo_customers
from baoxian.settings import Settings
from tests.conftest import CATALOG_DIR

SEED = 20261123
AS_OF = date(2026, 3, 1)


def _app(tmp_path: Path) -> App:
    return build(
        Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", catalog_dir=CATALOG_DIR)
    )


def _stored(app: App) -> dict[str, int]:
    query = select(claims.c.status, func.count()).group_by(claims.c.status)
    with app.engine.connect() as connection:
        return {str(status): int(count) for status, count in connection.execute(query)}


def test_the_demo_book_has_claims_of_every_outcome_once(tmp_path: Path) -> None:
    app = _app(tmp_path)
    report = load_demo_book(app, seed=SEED, policies=400, as_of=AS_OF)
    assert report.issued == 376
    assert report.claims == {"declined": 4, "paid": 9, "referred": 2}
    assert _stored(app) == report.claims

    again = load_demo_book(app, seed=SEED, policies=400, as_of=AS_OF)
    assert again.skipped and again.claims == {}
    assert _stored(app) == report.claims


def test_demo_claims_are_inside_cover_and_the_first_customer_was_paid(tmp_path: Path) -> None:
    app = _app(tmp_path)
    load_demo_book(app, seed=SEED, policies=400, as_of=AS_OF)
    with app.engine.connect() as connection:
        rows = connection.execute(
            select(claims.c.policy_number, claims.c.loss_date, claims.c.channel)
        ).all()
    assert {channel for _, _, channel in rows} == {"api", "portal", "settlement_import"}
    for number, loss, _ in rows:
        assert app.policies.policy(number).term_start < loss <= AS_OF
    first = demo_customers(app)[0]
    cases = app.claims.claims_on([first.policy_number])
    assert [c.status.value for c in cases] == ["paid"]


def test_the_generator_docstring_runs() -> None:
    assert doctest.testmod(demo_claims_module).failed == 0
