"""Helpers shared by the SQLite store's modules."""

from __future__ import annotations

from contextlib import contextmanager

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


def is_store_condition(exc: BaseException) -> bool:
    """True for SQLite errors caused by the store's file or disk (read-only, full, locked, damaged).

    Constraint violations and programming errors are bugs, not conditions a user can fix: they stay as they are.
    """
    import sqlite3

    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(
        exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InternalError, sqlite3.NotSupportedError))


def store_error(exc: BaseException, path, action: str = "write"):
    """Return the :class:`~minqing.errors.StoreError` that explains an SQLite error on the store at ``path``.

    Parameters
    ----------
    exc : sqlite3.Error
    path : path
        The store file.
    action : str
        What was being done: "open", "read", "write" or "upgrade".
    """
    import tempfile

    from minqing.errors import (
        StoreCorruptError,
        StoreError,
        StoreFullError,
        StoreLockedError,
        StoreReadOnlyError,
    )

    reason = str(exc)
    low = reason.lower()
    p = str(path)
    if "readonly" in low or "read-only" in low:
        return StoreReadOnlyError(
            f"the store {p} cannot be written ({reason}); make the file and its folder writable for the user "
            "running Minqing Map (e.g. chmod u+w on both), or point MINQING_DATABASE_URL at a writable copy",
            key="error.store_readonly", path=p, reason=reason)
    if "disk is full" in low or "no space" in low:
        tmp = tempfile.gettempdir()
        return StoreFullError(
            f"the disk holding the store {p} (or the temporary folder {tmp}) is full ({reason}); nothing was "
            "written: free some space and retry",
            key="error.store_full", path=p, tmp=tmp, reason=reason)
    if "locked" in low or "busy" in low:
        return StoreLockedError(
            f"the store {p} is locked by another program ({reason}), e.g. another import; wait until it has "
            "finished or close it, then retry",
            key="error.store_locked", path=p, reason=reason)
    if "not a database" in low or "malformed" in low or "encrypted" in low:
        return StoreCorruptError(
            f"{p} is not a usable Minqing Map store ({reason}); check that MINQING_DATABASE_URL names the right "
            "file, or restore the store from a backup",
            key="error.store_corrupt", path=p, reason=reason)
    if action == "open" or "unable to open" in low:
        return StoreError(
            f"cannot open the SQLite store at {p}: {reason}. "
            "Check the path in MINQING_DATABASE_URL and that the folder is writable.",
            key="error.store_open", path=p, reason=reason)
    return StoreError(
        f"the store {p} failed during {action} ({reason}); check the disk and the file's permissions, then retry",
        key="error.store_io", path=p, action=action, reason=reason)


@contextmanager
def sql_errors(path, action: str = "write"):
    """Turn SQLite errors about the store's file or disk raised in the block into a :class:`StoreError`."""
    try:
        yield
    except Exception as exc:
        if is_store_condition(exc):
            raise store_error(exc, path, action) from exc
        raise
