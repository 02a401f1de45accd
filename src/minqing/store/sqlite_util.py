"""Helpers shared by the SQLite store's modules."""

from __future__ import annotations

CACHE_KIB = -262144
"""The page cache (negative: KiB), 256 MiB, for bulk writes."""
REBUILD_MIN = 50_000
"""Bulk loads of at least this many rows drop the ticket indexes and build them once at the end."""


def secondary_indexes(con, table: str, unique: bool = False) -> list[tuple[str, str]]:
    """Return (name, CREATE statement) of a table's explicitly created indexes (unique ones only if asked)."""
    found = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
    ).fetchall()
    return [(n, q) for n, q in found if unique or not q.upper().startswith("CREATE UNIQUE")]
