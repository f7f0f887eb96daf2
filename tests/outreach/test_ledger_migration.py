"""Migration 0012 (billing ledgers) upgrades and downgrades on SQLite and PostgreSQL and
builds exactly the tables of ``billing/ledger_tables.py``."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect

from baoxian.billing.ledger_tables import billing_instalments
from baoxian.store.migrate import alembic_config, current_revision, upgrade

metadata = billing_instalments.metadata  # the shared metadata, ledgers declared

LEDGERS = {
    "billing_instalments",
    "policy_loans",
    "benefit_payouts",
    "dividend_allocations",
    "account_statements",
    "claim_reminders",
}


def _only_ledgers(name: str | None, type_: str, parents: object) -> bool:
    return type_ != "table" or name in LEDGERS


def test_0012_up_and_down(blank_engine: Engine) -> None:
    upgrade(blank_engine, "0012")
    assert current_revision(blank_engine) == "0012"
    inspector = inspect(blank_engine)
    assert set(inspector.get_table_names()) >= LEDGERS
    assert {i["name"] for i in inspector.get_indexes("billing_instalments")} == {
        "ix_billing_instalments_due_on_unpaid"
    }
    assert {i["name"] for i in inspector.get_indexes("benefit_payouts")} == {
        "ix_benefit_payouts_due_on_collectable"
    }
    assert [u["name"] for u in inspector.get_unique_constraints("claim_reminders")] == [
        "uq_claim_reminders_settlement_no"
    ]
    for name in LEDGERS:
        table = metadata.tables[name]
        assert [c["name"] for c in inspector.get_columns(name)] == [c.name for c in table.columns]

    mine = MetaData(naming_convention=metadata.naming_convention)
    for name in LEDGERS:
        metadata.tables[name].to_metadata(mine)
    with blank_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _only_ledgers}
        )
        differences = compare_metadata(context, mine)
    assert differences == []

    with blank_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0011")
    assert current_revision(blank_engine) == "0011"
    assert not LEDGERS & set(inspect(blank_engine).get_table_names())
