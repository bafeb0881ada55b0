"""Bulk loading with PostgreSQL COPY on the caller's connection (inside its transaction)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection


def _cursor(conn: Connection) -> Any:
    """The psycopg cursor under a SQLAlchemy connection (same transaction)."""
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


@contextmanager
def copy_into(
    conn: Connection, table: str, columns: Sequence[str]
) -> Iterator[Callable[[Sequence[object]], None]]:
    """``with copy_into(conn, "t", cols) as write: write(row)`` streams rows into ``t``."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with _cursor(conn) as cur, cur.copy(sql) as copy:
        yield copy.write_row


def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> int:
    n = 0
    with copy_into(conn, table, columns) as write:
        for row in rows:
            write(row)
            n += 1
    return n
