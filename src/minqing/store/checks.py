"""What every store refuses before it writes or reads: unknown unit levels, place kinds and columns.

Shared by the backends so that a bad value fails the same way, with the same message
and message key, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from minqing.errors import StoreError
from minqing.model import PLACE_KINDS, TICKET_COLUMNS, UNIT_LEVELS


def check_level(level) -> str:
    """Return ``level`` if it is a unit level; raise StoreError otherwise."""
    if level not in UNIT_LEVELS:
        raise StoreError(f"unknown unit level {level!r}; allowed: {', '.join(UNIT_LEVELS)}",
                         key="error.unit_level", levels=str(level))
    return level


def check_unit_levels(levels) -> None:
    """Raise StoreError when a unit to write has a level that is not one of :data:`minqing.model.UNIT_LEVELS`."""
    bad = set(levels) - set(UNIT_LEVELS)
    if bad:
        raise StoreError(f"unknown unit level(s) {sorted(bad)}; allowed: {', '.join(UNIT_LEVELS)}",
                         key="error.unit_level", levels=", ".join(sorted(map(str, bad))))


def check_place_kinds(kinds) -> None:
    """Raise StoreError when a place to write has a kind that is not one of :data:`minqing.model.PLACE_KINDS`."""
    bad = set(kinds) - set(PLACE_KINDS)
    if bad:
        raise StoreError(f"unknown place kind(s) {sorted(bad)}; allowed: {', '.join(PLACE_KINDS)}",
                         key="error.place_kind", kinds=", ".join(sorted(map(str, bad))))


def ticket_columns(where) -> list[str]:
    """Return the ticket columns a read asks for (``where.columns``, or all); raise StoreError for an unknown one."""
    cols = list(where.columns) if where is not None and where.columns else list(TICKET_COLUMNS)
    unknown = set(cols) - set(TICKET_COLUMNS)
    if unknown:
        raise StoreError(f"unknown ticket column(s) {sorted(unknown)}", key="error.column")
    return cols


def check_columns(given, allowed, what: str) -> None:
    """Raise StoreError when ``given`` names a column of an account or audit row (``what``) not in ``allowed``."""
    unknown = set(given) - set(allowed)
    if unknown:
        raise StoreError(f"unknown {what} column(s) {sorted(unknown)}; allowed: {', '.join(allowed)}",
                         key="accounts.error_column", columns=", ".join(sorted(unknown)))
