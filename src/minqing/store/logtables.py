"""The store's log tables, as rows: what :meth:`Store.read_rows` returns and :meth:`Store.append_rows` takes.

The import side (source hashes, ticket changes, quarantine, import reports), the
intervention history and the audit log have reads shaped for their pages, not for
moving every row elsewhere. A store copy (:mod:`minqing.store.copy`) moves them as
rows: every column of the table, in the order the rows were written (the tie-break
of the pages' reads), with times as UTC epoch seconds and flags as 0/1, so that a
copy keeps their ids, hashes and original times.
"""

from __future__ import annotations

import pandas as pd

from minqing.store.convert import AUDIT_COLUMNS, CHANGE_COLUMNS, QUARANTINE_COLUMNS

LOG_TABLES: dict[str, tuple[str, ...]] = {
    "ticket_sources": ("source_id", "row_hash", "import_id"),
    "ticket_changes": CHANGE_COLUMNS,
    "quarantine": ("quarantine_id", *QUARANTINE_COLUMNS, "resolved_by"),
    "import_reports": ("import_id", "file_name", "sha256", "format", "imported_by", "started_at", "finished_at",
                       "rows_read", "inserted", "updated", "unchanged", "quarantined", "duplicates", "report"),
    "intervention_history": ("intervention_id", "changed_at", "changed_by", "change"),
    "audit_log": AUDIT_COLUMNS,
}
"""Each log table and its columns, in order."""
LOG_TIME_COLUMNS = frozenset({"changed_at", "quarantined_at", "started_at", "finished_at", "at"})
"""Columns of the log tables holding times (epoch seconds in rows)."""
LOG_FLAG_COLUMNS = frozenset({"masked"})
"""Columns of the log tables holding flags (0/1 in rows)."""
LOG_INT_COLUMNS = LOG_TIME_COLUMNS | LOG_FLAG_COLUMNS | {
    "row_hash", "quarantine_id", "row_number", "rows_read", "inserted", "updated", "unchanged", "quarantined",
    "duplicates", "intervention_id", "id", "rows"}
"""Columns of the log tables holding integers (nullable ``Int64`` in rows, never float)."""
LOG_ID_COLUMNS = {"quarantine": "quarantine_id", "audit_log": "id"}
"""The generated id of a log table, written as it is by :meth:`Store.append_rows`."""


def log_columns(table: str) -> tuple[str, ...]:
    """Return the columns of the log table ``table``.

    Raises
    ------
    ValueError
        When ``table`` is not a log table.
    """
    try:
        return LOG_TABLES[table]
    except KeyError:
        raise ValueError(f"{table!r} is not a log table; one of {', '.join(LOG_TABLES)}") from None


def log_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Give rows read from a log table the types of :meth:`Store.read_rows`, in place; return ``df``.

    Integer columns become nullable ``Int64`` (exact, never through float: row hashes are 64-bit).
    """
    for c in df.columns:
        if c not in LOG_INT_COLUMNS:
            continue
        if pd.api.types.is_integer_dtype(df[c].dtype):
            df[c] = df[c].astype("Int64")
        else:
            df[c] = pd.array([None if pd.isna(v) else int(v) for v in df[c].tolist()], dtype="Int64")
    return df


def log_tuples(table: str, rows: pd.DataFrame) -> tuple[list[str], list[tuple]]:
    """Return the columns of ``table`` and ``rows`` (of :meth:`Store.read_rows`'s shape) as tuples to insert."""
    from minqing.store.convert import rows as row_tuples

    cols = list(log_columns(table))
    data = log_frame(pd.DataFrame(rows)[cols].copy())
    return cols, row_tuples(data, cols)
