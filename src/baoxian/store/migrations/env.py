"""Alembic environment: the shared connection from ``config.attributes["connection"]``
(see :mod:`baoxian.store.migrate`), or a URL from ``-x url=…`` / ``BAOXIAN_DATABASE_URL``."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from baoxian.store.db import database_url, make_engine, normalise_url
from baoxian.store.tables import JsonData, UtcDateTime, full_metadata

config = context.config
target_metadata = full_metadata()


def _url() -> str:
    given = context.get_x_argument(as_dictionary=True).get("url")
    return normalise_url(given) if given else database_url()


def render_item(kind: str, item: Any, autogen: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes the database types behind the store's own column types, so
    migrations never import application code."""
    if kind == "type" and isinstance(item, JsonData):
        return "sa.JSON()"
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    shared = config.attributes.get("connection")
    if shared is not None:
        run_on(shared)
        return
    engine = make_engine(_url())
    try:
        with engine.begin() as connection:
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
