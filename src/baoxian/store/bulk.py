"""Set-based bulk writes: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` on SQLite.

Rows are tuples in the order of ``columns``.  Values go through the columns' own Python-side
types (:class:`~baoxian.store.tables.UtcDateTime`, :class:`~baoxian.store.tables.JsonData`)
exactly as a Core insert would, so a row written in bulk reads back like one written singly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import Any

from psycopg import sql
from sqlalchemy import JSON, Connection, Dialect, Table, TypeDecorator
from sqlalchemy.types import TypeEngine

Converter = Callable[[Any], Any]

SQLITE_BATCH_ROWS = 10_000
SMALL_ROWS = 32
"""Fewer rows than this go in as an ``INSERT`` through :func:`write_rows`."""


def copy_rows(
    connection: Connection, table: Table, rows: Iterable[tuple[Any, ...]], columns: Sequence[str]
) -> int:
    """Write ``rows`` into ``table`` inside the connection's current transaction; returns the
    number of rows written."""
    unknown = [name for name in columns if name not in table.c]
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {', '.join(unknown)}")
    if connection.dialect.name == "postgresql":
        return _copy_postgres(connection, table, rows, columns)
    return _insert_batches(connection, table, rows, columns)


def write_rows(
    connection: Connection, table: Table, rows: Iterable[tuple[Any, ...]], columns: Sequence[str]
) -> int:
    """:func:`copy_rows`, except that a few rows go in as one ``INSERT`` (executemany): on
    PostgreSQL a COPY round trip costs about 0.8 ms even for one row — a policy issued
    through the API.  For tables whose values are the columns' own Python types (not text
    already serialised for COPY)."""
    if connection.dialect.name != "postgresql":
        return copy_rows(connection, table, rows, columns)
    iterator = iter(rows)
    head = list(islice(iterator, SMALL_ROWS))
    if len(head) < SMALL_ROWS:
        return _insert_batches(connection, table, head, columns)
    return copy_rows(connection, table, chain(head, iterator), columns)


def _copy_postgres(
    connection: Connection, table: Table, rows: Iterable[tuple[Any, ...]], columns: Sequence[str]
) -> int:
    conversions = [
        (index, convert)
        for index, name in enumerate(columns)
        if (convert := _copy_converter(table.c[name].type, connection.dialect)) is not None
    ]
    statement = _copy_statement(table, columns)
    driver_connection: Any = connection.connection.driver_connection
    count = 0
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(_converted(row, conversions) if conversions else row)
            count += 1
    return count


def _copy_statement(table: Table, columns: Sequence[str]) -> sql.Composed:
    target = (
        sql.Identifier(table.schema, table.name) if table.schema else sql.Identifier(table.name)
    )
    names = sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    return sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)


def _converted(row: tuple[Any, ...], conversions: list[tuple[int, Converter]]) -> list[Any]:
    values = list(row)
    for index, convert in conversions:
        value = values[index]
        if value is not None:
            values[index] = convert(value)
    return values


def _copy_converter(column_type: TypeEngine[Any], dialect: Dialect) -> Converter | None:
    """How a Python value becomes COPY text input: the column's own bind conversion, then
    JSON text for JSON columns; ``None`` where psycopg's default adaptation is right."""
    impl = column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type
    is_json = isinstance(impl, JSON)
    if not isinstance(column_type, TypeDecorator):
        return _json_text if is_json else None
    bind = column_type.process_bind_param
    if is_json:
        return lambda value: _json_text(bind(value, dialect))
    return lambda value: bind(value, dialect)


_json_text: Converter = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _insert_batches(
    connection: Connection, table: Table, rows: Iterable[tuple[Any, ...]], columns: Sequence[str]
) -> int:
    insert = table.insert()
    count = 0
    for batch in _batches(rows, SQLITE_BATCH_ROWS):
        connection.execute(insert, [dict(zip(columns, row, strict=True)) for row in batch])
        count += len(batch)
    return count


def _batches(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch
