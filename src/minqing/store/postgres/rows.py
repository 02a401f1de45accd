"""The log tables of the PostgreSQL store as rows (:mod:`minqing.store.logtables`), for a store copy.

Mixed into :class:`minqing.store.postgres.store.PostgresStore`. Reads stream one
server-side cursor in the order the rows were written (``ctid``, or the table's id);
writes COPY into a temporary table and insert from it, times through
``to_timestamp``, and move an identity column's sequence past the ids written.
"""

from __future__ import annotations

import pandas as pd

from minqing.store.logtables import (
    LOG_FLAG_COLUMNS,
    LOG_ID_COLUMNS,
    LOG_INT_COLUMNS,
    LOG_TIME_COLUMNS,
    log_columns,
    log_frame,
    log_tuples,
)
from minqing.store.postgres.util import copy_rows, epoch


def _expr(column: str, reading: bool) -> str:
    """SQL for ``column`` read as a row's value (``reading``) or written from one (times epoch seconds, flags 0/1)."""
    if column in LOG_TIME_COLUMNS:
        return f"{epoch(column)} AS {column}" if reading else f"to_timestamp({column})"
    if column in LOG_FLAG_COLUMNS:
        return f"{column}::int AS {column}" if reading else f"{column}::int::boolean"
    return column


class RowsMixin:
    """Log-table rows of the PostgreSQL store."""

    def read_rows(self, table, chunk_rows=50_000):
        cols = list(log_columns(table))
        order = {"ticket_sources": 'source_id COLLATE "C"'}.get(table) or LOG_ID_COLUMNS.get(table) or "ctid"
        with self._tx() as con, con.cursor(name=f"minqing_rows_{table}") as cur:
            cur.execute(f"SELECT {', '.join(_expr(c, True) for c in cols)} FROM {table} ORDER BY {order}")
            while batch := cur.fetchmany(int(chunk_rows)):
                yield log_frame(pd.DataFrame(batch, columns=cols))

    def append_rows(self, table, rows):
        cols, values = log_tuples(table, rows)
        types = ", ".join(f"{c} {'bigint' if c in LOG_INT_COLUMNS else 'text'}" for c in cols)
        with self._tx() as con:
            con.execute(f"CREATE TEMP TABLE _a_rows ({types}) ON COMMIT DROP")
            copy_rows(con, "_a_rows", cols, values)
            con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(_expr(c, False) for c in cols)} FROM _a_rows")
            ident = LOG_ID_COLUMNS.get(table)
            if ident is not None and len(values):
                con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{ident}'), "
                            f"(SELECT max({ident}) FROM {table}))")
        return len(values)
