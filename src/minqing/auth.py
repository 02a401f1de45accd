"""Who is looking, and what they may see.

Scope is enforced here, in the data layer: a grid leader's store only ever
returns tickets of their own grid, whatever filter a page asks for. Personal
data is masked for everyone but the people handling the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from minqing.errors import MinqingError
from minqing.privacy import mask_tickets
from minqing.store.base import Store, TicketFilter

ROLES = ("admin", "planner", "grid_leader", "meeting")
_MASK_INPUTS = ("source_id", "text", "address", "caller_name", "caller_phone", "extra")

#: What each role may do. Every page, download, map layer and CLI command asks :func:`can` or
#: :func:`require`; nothing else decides. Scope (which tickets) is :func:`scoped_filter`'s job.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"tickets", "export", "hotspots", "effects", "interventions_edit", "import", "users",
                        "audit", "settings", "meeting", "map"}),
    "planner": frozenset({"tickets", "export", "hotspots", "effects", "interventions_edit", "import", "meeting",
                          "map"}),
    "grid_leader": frozenset({"tickets", "export", "effects", "mygrid", "map", "meeting", "personal_data"}),
    # aggregates only: counts per unit down to grids, the meeting view and its handout
    "meeting": frozenset({"meeting", "map"}),
}
"""Permissions: ``tickets`` (ticket rows and text, masked unless ``personal_data``), ``export``,
``hotspots`` (H3-cell statistics, finer than a grid), ``effects``, ``interventions_edit``,
``import``, ``users``, ``audit``, ``settings`` (the store in use), ``meeting``, ``map``, ``mygrid``,
``personal_data`` (callers' names and phones of the tickets in scope, which they handle)."""


class ScopeError(MinqingError, PermissionError):
    """A user asked for data outside their scope, or a role is misconfigured."""

    key = "auth.error_scope"


class PermissionDenied(ScopeError):
    """The user's role does not allow this action."""

    key = "auth.error_permission"


@dataclass(frozen=True)
class User:
    """A signed-in user.

    Attributes
    ----------
    role : {"admin", "planner", "grid_leader", "meeting"}
    grid_codes, community_codes : tuple of str
        A grid leader's scope: their grids, and whole communities; empty for other roles.
    name : str
        The account name (for the audit log).
    """

    role: str
    grid_codes: tuple[str, ...] = ()
    name: str = ""
    community_codes: tuple[str, ...] = ()

    def __post_init__(self):
        if self.role not in ROLES:
            raise ScopeError(f"unknown role {self.role!r}; allowed: {', '.join(ROLES)}", role=str(self.role))
        if self.role == "grid_leader" and not (self.grid_codes or self.community_codes):
            raise ScopeError("a grid leader needs at least one grid or community code", role=self.role)
        if self.role != "grid_leader" and (self.grid_codes or self.community_codes):
            raise ScopeError(f"only a grid leader has a scope of grids or communities, not {self.role!r}",
                             role=self.role)

    @property
    def sees_personal_data(self) -> bool:
        """True when this user handles the tickets in their scope (grid leaders)."""
        return can(self, "personal_data")

    @property
    def scoped(self) -> bool:
        """True when this user sees only some units (grid leaders)."""
        return self.role == "grid_leader"


def can(user: User | None, permission: str) -> bool:
    """Return True when ``user``'s role grants ``permission`` (nobody signed in: nothing)."""
    return user is not None and permission in PERMISSIONS.get(user.role, frozenset())


def require(user: User | None, permission: str) -> None:
    """Raise :class:`PermissionDenied` unless ``user`` may ``permission``."""
    if not can(user, permission):
        role = getattr(user, "role", "-")
        raise PermissionDenied(f"the role {role!r} may not do {permission!r}; ask an administrator",
                               role=str(role), permission=permission)


def scoped_filter(user: User, where: TicketFilter | None = None) -> TicketFilter:
    """Return ``where`` narrowed to what ``user`` may see.

    A grid leader's filter keeps whatever the page asked for and adds their
    grids and communities as a condition the store always applies: asking for
    another grid or a whole sub-district yields only their own tickets.
    """
    where = where or TicketFilter()
    if not user.scoped:
        return where
    grids, communities = set(user.grid_codes), set(user.community_codes)
    if where.scope_grid_codes is not None or where.scope_community_codes is not None:
        # a scope already applied (a page's own narrowing): only ever narrow it further
        grids &= set(where.scope_grid_codes or ())
        communities &= set(where.scope_community_codes or ())
    return replace(where, scope_grid_codes=tuple(sorted(grids)), scope_community_codes=tuple(sorted(communities)))


def scope_grids(user: User, units: pd.DataFrame) -> tuple[str, ...]:
    """Return the grid codes of ``user``'s scope: their grids and the grids of their communities."""
    grids = set(user.grid_codes)
    if user.community_codes and len(units):
        g = units[units["level"] == "grid"]
        grids |= set(g.loc[g["parent_code"].isin(user.community_codes), "code"])
    return tuple(sorted(grids))


def backend_store(store: Store, user: User) -> Store:
    """Return ``store`` as the backend should serve ``user``: limited to a grid leader's grids (:meth:`Store.scoped`).

    A grid leader's grids and the grids of their communities; everyone else, and every
    backend with no server-side scope (its ``scoped`` returns itself), get ``store`` as it
    is, and the units are then not read to expand communities.
    """
    if not user.scoped or store.scoped(()) is store:
        return store
    if not user.community_codes:
        return store.scoped(tuple(sorted(set(user.grid_codes))))
    return store.scoped(scope_grids(user, store.read_units(level="grid")), tuple(sorted(set(user.community_codes))))


class ScopedStore:
    """A read-only view of a store limited to one user's scope, with masking applied.

    The scope is applied twice: by :func:`scoped_filter` on every read, and by the backend
    on a view of :meth:`Store.scoped` (PostgreSQL's row-level security; a no-op on SQLite).

    Parameters
    ----------
    store : Store
    user : User
    """

    def __init__(self, store: Store, user: User):
        self._store = backend_store(store, user)
        self.user = user
        self.url = store.url

    def data_version(self) -> str:
        """Return the underlying store's data version."""
        return self._store.data_version()

    def read_tickets(self, where: TicketFilter | None = None) -> pd.DataFrame:
        """Return the tickets in scope, personal data masked unless the user handles them.

        For someone who sees masked data, a text search runs against the masked
        text, so it can't be used to recover a masked phone number or to confirm a
        name (see :meth:`_masked_search`).
        """
        where = scoped_filter(self.user, where)
        if self.user.sees_personal_data:
            return self._store.read_tickets(where)
        if where.search:
            hits = self._masked_search(where)
            stop = None if where.limit is None else where.offset + where.limit
            return hits.iloc[where.offset:stop].reset_index(drop=True)
        return self._masked(where)

    def count_where(self, where: TicketFilter | None = None) -> int:
        """Return the number of tickets in scope matching ``where``."""
        where = scoped_filter(self.user, where)
        if where.search and not self.user.sees_personal_data:
            return len(self._masked_search(where))
        return self._store.count_where(where)

    def _masked(self, where: TicketFilter) -> pd.DataFrame:
        # Names inside the text are masked by the caller's name: read it even when not asked for.
        wanted = where.columns
        if wanted is not None:
            need = tuple(dict.fromkeys((*wanted, *(c for c in _MASK_INPUTS if c not in wanted))))
            where = replace(where, columns=need)
        out = mask_tickets(self._store.read_tickets(where))
        return out[list(wanted)] if wanted is not None else out

    def _masked_search(self, where: TicketFilter) -> pd.DataFrame:
        """Return every ticket whose source id, masked text or masked address contains the search.

        The store's search (``*`` matches any run of characters) finds a superset:
        masking only replaces characters by ``*``; the rows are then masked and
        matched again, so a masked digit or name is never matched.
        """
        query = where.search.casefold()
        rows = self._masked(replace(where, limit=None, offset=0))
        if rows.empty:
            return rows
        hit = rows["source_id"].astype(str).str.casefold().str.contains(query, regex=False)
        for col in ("text", "address"):
            if col in rows.columns:
                hit |= rows[col].fillna("").astype(str).str.casefold().str.contains(query, regex=False)
        return rows[hit.to_numpy()].reset_index(drop=True)

    def count_tickets(self, level: str, where: TicketFilter | None = None, by_channel: bool = False) -> pd.DataFrame:
        """Return counts per unit of ``level`` (and channel, with ``by_channel``) within scope."""
        return self._store.count_tickets(level, scoped_filter(self.user, where), by_channel)
