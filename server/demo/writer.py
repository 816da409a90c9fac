"""Bulk writing of the demo bank's rows: plain dicts or tuples in, SQLAlchemy Core's compiled INSERT
run with the driver's executemany (SQLite) or COPY ... FROM STDIN (PostgreSQL) out."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Table, insert
from sqlalchemy.engine import Connection


class Writer:
    """Bulk inserts of plain rows: the statement SQLAlchemy Core compiles for the table, run with the
    driver's executemany over tuples (SQLite), or COPY ... FROM STDIN (PostgreSQL). Values are
    converted here, once per column, instead of through per-row type processing."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}
        if not self.postgres:
            # A big page cache keeps index updates in memory while millions of rows go in.
            conn.exec_driver_sql("PRAGMA cache_size=-262144")

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.insert_values(table, *as_values(table, rows, postgres=self.postgres))

    def insert_values(self, table: Table, columns: list[str], values: list[tuple]) -> None:
        if not values:
            return
        self.counts[table.name] = self.counts.get(table.name, 0) + len(values)
        if self.postgres:
            self._copy(table, columns, values)
        else:
            statement = insert(table).compile(dialect=self.conn.dialect, column_keys=columns)
            order = [columns.index(name) for name in statement.positiontup]  # type: ignore[union-attr]
            if order != list(range(len(columns))):
                values = [tuple(v[i] for i in order) for v in values]
            self.conn.exec_driver_sql(str(statement), values)

    def _copy(self, table: Table, columns: list[str], values: list[tuple]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(values)
        buffer.seek(0)
        cols = ", ".join(f'"{c}"' for c in columns)
        copy = f'COPY "{table.name}" ({cols}) FROM STDIN WITH (FORMAT csv)'
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if hasattr(cursor, "copy_expert"):
            cursor.copy_expert(copy, buffer)  # psycopg2
        else:
            cursor.execute(copy, stream=buffer)  # pg8000, when a URL names it
        cursor.close()


def as_values(table: Table, rows: list[dict[str, Any]], *, postgres: bool) -> tuple[list[str], list[tuple]]:
    """Row dicts -> (columns, driver-ready tuples), converting only the columns that need it."""
    columns = list(rows[0].keys())
    getter = itemgetter(*columns)
    values: list[Any] = (
        [getter(row) for row in rows] if len(columns) > 1 else [(r[columns[0]],) for r in rows]
    )
    conversions = [
        (i, f) for i, c in enumerate(columns) if (f := _converter(table.c[c].type, postgres)) is not _identity
    ]
    if conversions:
        values = [list(v) for v in values]
        for i, f in conversions:
            for v in values:
                if v[i] is not None:
                    v[i] = f(v[i])
        values = [tuple(v) for v in values]
    return columns, values


def _identity(value: Any) -> Any:
    return value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _sqlite_datetime(value: datetime) -> str:
    # SQLAlchemy's SQLite storage format for DATETIME (UTC, naive text).
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _converter(type_: Any, postgres: bool):
    """Driver-ready value of a column: None stays None (NULL; unquoted empty field in COPY csv)."""
    impl = getattr(type_, "impl_instance", type_)  # TypeDecorator (e.g. UTCDateTime) -> its impl
    if isinstance(impl, JSON):
        return _json
    if isinstance(impl, DateTime):
        return datetime.isoformat if postgres else _sqlite_datetime
    if isinstance(impl, Date):
        return date.isoformat
    if isinstance(impl, Boolean):
        return (lambda v: "t" if v else "f") if postgres else int
    return _identity
