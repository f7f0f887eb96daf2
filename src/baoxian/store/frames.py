"""Query results as Polars frames, set-based: ``COPY … TO STDOUT`` on PostgreSQL, the
driver's cursor in chunks on SQLite (dates as ISO text, booleans as integers, converted
column-wise).  Used by the book-wide reads (the outreach scan, the risk radar's sites)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import polars as pl
from sqlalchemy import Connection, Select


def read_frame(
    connection: Connection, query: Select[Any], schema: Mapping[str, pl.DataType]
) -> pl.DataFrame:
    """The rows of ``query`` as a frame of ``schema`` (columns in the query's order)."""
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "postgresql":
        return _copy_out(connection, sql, schema)
    return _fetch(connection, sql, schema)


def _copy_out(connection: Connection, sql: str, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """``COPY (query) TO STDOUT`` as CSV into Polars (booleans come as ``t``/``f``)."""
    buffer = io.BytesIO()
    driver: Any = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT CSV)") as copy:
        for block in copy:
            buffer.write(block)
    if buffer.tell() == 0:
        return pl.DataFrame(schema=dict(schema))
    raw = {name: pl.String() if dtype == pl.Boolean() else dtype for name, dtype in schema.items()}
    frame = pl.read_csv(buffer.getvalue(), has_header=False, schema=raw)
    booleans = [name for name, dtype in schema.items() if dtype == pl.Boolean()]
    return frame.with_columns([(pl.col(name) == "t").alias(name) for name in booleans])


def _fetch(connection: Connection, sql: str, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """The driver's rows (dates as ISO text on SQLite), converted column-wise by Polars."""
    raw = {name: _wire_type(dtype) for name, dtype in schema.items()}
    result = connection.exec_driver_sql(sql)
    chunks: list[pl.DataFrame] = []
    while rows := result.fetchmany(200_000):
        chunks.append(pl.DataFrame(rows, schema=raw, orient="row"))
    frame = pl.concat(chunks) if chunks else pl.DataFrame(schema=raw)
    return frame.with_columns(
        [
            pl.col(name).str.to_date("%Y-%m-%d") if dtype == pl.Date() else pl.col(name).cast(dtype)
            for name, dtype in schema.items()
        ]
    )


def _wire_type(dtype: pl.DataType) -> pl.DataType:
    if dtype == pl.Date():
        return pl.String()
    if dtype == pl.Boolean():
        return pl.Int64()
    return dtype


__all__ = ["read_frame"]
