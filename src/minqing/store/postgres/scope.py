"""A grid leader's scope as the PostgreSQL server enforces it: the per-transaction setting read by the row policies.

Migration ``005_scope.sql`` puts ``tickets`` (and the tables that expose ticket
rows: ``ticket_places``, ``ticket_changes``, ``quarantine``) under row-level
security keyed on the setting :data:`SCOPE_SETTING`: ``'*'``, a role other
than the tables' owner sees every row; a comma-separated list of grid codes,
only the tickets of those grids; unset or empty, no row at all (the rule fails
closed: a transaction that did not say whose it is sees nothing). :func:`set_scope` sets it for the
current transaction only, so a pooled connection never carries one user's
scope into the next user's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import pq

__all__ = ["ALL_GRIDS", "NO_GRID", "SCOPE_SETTING", "scope_value", "set_scope"]

SCOPE_SETTING = "minqing.scope_grids"
"""The setting the row policies read (``current_setting('minqing.scope_grids', true)``)."""

ALL_GRIDS = "*"
"""The setting's value for every grid (whole-district roles, imports)."""

NO_GRID = ","
"""The setting's value for a scope of no grid: no ticket at all (as an unset setting)."""


def scope_value(grid_codes: Sequence[str] | None) -> str:
    """Return the setting's value for ``grid_codes``: ``'*'`` for no limit, ``'G1,G2'``, :data:`NO_GRID` for none.

    Parameters
    ----------
    grid_codes : sequence of str or None
        The grids the transaction may see; ``None`` for every grid (whole-district roles).

    Raises
    ------
    ValueError
        A code is empty or holds a comma (it would split into other codes).
    TypeError
        ``grid_codes`` is one string (its characters would be taken as codes).
    """
    if grid_codes is None:
        return ALL_GRIDS
    if isinstance(grid_codes, str):
        raise TypeError(f"grid codes must be a list of codes, not the string {grid_codes!r}")
    codes = []
    for code in grid_codes:
        text = str(code).strip()
        if not text or "," in text or text == ALL_GRIDS:
            raise ValueError(f"grid code {code!r} is empty, holds a comma or is {ALL_GRIDS!r}; it can't be a scope")
        codes.append(text)
    return ",".join(sorted(set(codes))) or NO_GRID


def set_scope(conn: psycopg.Connection, grid_codes: Sequence[str] | None, community_codes: Sequence[str] = ()) -> None:
    """Limit the current transaction on ``conn`` to the tickets of ``grid_codes`` and ``community_codes``.

    The setting is transaction-local (``set_config(..., true)``): it ends with
    the transaction, committed or rolled back. Call it first in every
    transaction: without it, a role under the policies sees no ticket.

    Parameters
    ----------
    conn : psycopg.Connection
        A connection inside a transaction (the default, not autocommit; or an
        autocommit connection inside ``conn.transaction()``).
    grid_codes : sequence of str or None
        The grids this transaction may see; ``None``: every ticket; an empty sequence and
        no communities: no ticket.
    community_codes : sequence of str
        Communities whose tickets the transaction sees too (a community leader's tickets
        that have a community but no grid), through ``minqing.scope_communities``.

    Raises
    ------
    ValueError
        ``conn`` is in autocommit mode outside a transaction: the setting would
        end with this very statement and the next one would see every grid.
    """
    value = scope_value(grid_codes)
    communities = "" if grid_codes is None else scope_value(community_codes)
    if conn.autocommit and conn.info.transaction_status == pq.TransactionStatus.IDLE:
        raise ValueError("set_scope needs a transaction: on an autocommit connection use `with conn.transaction():`")
    conn.execute("SELECT set_config('minqing.scope_grids', %s, true), set_config('minqing.scope_communities', %s, true)",
                 (value, communities))
