"""The committed Alembic migrations build exactly the schema declared in ``metadata``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from baoxian.store.migrate import alembic_config, current_revision, upgrade
from baoxian.store.tables import full_metadata


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_upgrade_builds_the_declared_schema(blank_engine: Engine) -> None:
    metadata = full_metadata()
    assert current_revision(blank_engine) is None
    upgrade(blank_engine)
    assert current_revision(blank_engine) == _head()
    inspector = inspect(blank_engine)
    assert set(inspector.get_table_names()) == {*metadata.tables, "alembic_version"}
    for name, table in metadata.tables.items():
        assert [c["name"] for c in inspector.get_columns(name)] == [c.name for c in table.columns]
    with blank_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_constraints_follow_the_naming_convention(engine: Engine) -> None:
    inspector = inspect(engine)
    assert inspector.get_pk_constraint("policy_units")["name"] == "pk_policy_units"
    assert {fk["name"] for fk in inspector.get_foreign_keys("policy_units")} == {
        "fk_policy_units_party_id_parties",
        "fk_policy_units_policy_number_policies",
    }
    assert [u["name"] for u in inspector.get_unique_constraints("parties")] == [
        "uq_parties_id_hash"
    ]
    assert [u["name"] for u in inspector.get_unique_constraints("events")] == [
        "uq_events_request_id"
    ]
    assert "ix_events_aggregate_id" in {i["name"] for i in inspector.get_indexes("events")}


def test_upgrade_again_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == _head()


def test_downgrade_to_base_removes_every_table(engine: Engine) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]


def test_upgrade_from_a_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'baoxian.db'}"
    upgrade(url)
    assert (tmp_path / "nested" / "baoxian.db").exists()
