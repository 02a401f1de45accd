"""The log tables of the SQLite store as rows (:mod:`minqing.store.logtables`), for a store copy.

Mixed into :class:`minqing.store.sqlite.store.SQLiteStore`. On disk the rows are
already what the contract asks for (epoch seconds, 0/1 flags); reads page by key
(rowid, or the source id of the ``WITHOUT ROWID`` table ``ticket_sources``).
"""

from __future__ import annotations

from minqing.store.logtables import log_columns, log_frame, log_tuples


class RowsMixin:
    """Log-table rows of the SQLite store."""

    def read_rows(self, table, chunk_rows=50_000):
        cols = list(log_columns(table))
        key = "source_id" if table == "ticket_sources" else "rowid"
        last = None
        while True:
            cond, params = ("", []) if last is None else (f" WHERE {key} > ?", [last])
            df = self._query(f"SELECT {key} AS _key, {', '.join(cols)} FROM {table}{cond} ORDER BY {key} LIMIT ?",
                             [*params, int(chunk_rows)])
            if df.empty:
                return
            last = df["_key"].iloc[-1]
            last = last if isinstance(last, str) else int(last)
            yield log_frame(df.drop(columns="_key").reset_index(drop=True))

    def append_rows(self, table, rows):
        cols, values = log_tuples(table, rows)
        with self.transaction() as con:
            con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                            values)
        return len(values)
