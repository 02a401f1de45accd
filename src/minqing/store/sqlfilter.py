"""A :class:`~minqing.store.base.TicketFilter` as SQL: the WHERE clause every SQL backend builds.

The rules of a filter (which tickets it selects) are written once here; a backend
supplies its :class:`Dialect` (how a parameter, an instant and a list look in its SQL)
and gets the same selection in every method (the contract suite checks it on each
backend). Every value goes in as a parameter; column names come from the filter's
fixed fields and :data:`minqing.model.UNIT_LEVELS` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from minqing.store.checks import check_level


@dataclass(frozen=True)
class Dialect:
    """How one SQL backend writes a filter's pieces.

    Attributes
    ----------
    param : str
        A parameter placeholder (``?`` or ``%s``).
    instant : str
        A received-time bound from epoch seconds (``?`` or ``to_timestamp(%s)``).
    false : str
        A condition that is never true.
    like : str
        The operator of the text search: a pattern match ignoring the case of ASCII letters.
    any_list : bool
        True: ``column = ANY(<one array parameter>)``; False: ``column IN (?, ?, ...)``.
    binary : str
        The collation that orders text by code point, as Python compares ``str`` (``COLLATE ...``).
    position : str
        The function giving the 1-based position of a substring (0 when absent).
    arrays : bool
        Whether the backend has array values (``array_agg``, ``unnest``, slices).
    """

    param: str
    instant: str
    false: str
    like: str
    any_list: bool
    binary: str
    position: str
    arrays: bool

    def in_(self, column: str, values, params: list) -> str:
        """Return ``column`` IN ``values`` and append them to ``params``."""
        values = [str(v) for v in values]
        if self.any_list:
            params.append(values)
            return f"{column} = ANY({self.param})"
        params += values
        return f"{column} IN ({', '.join([self.param] * len(values)) or 'NULL'})"


SQLITE = Dialect(param="?", instant="?", false="0", like="LIKE", any_list=False,  # LIKE ignores ASCII case
                 binary="COLLATE BINARY", position="instr", arrays=False)  # BINARY: UTF-8 bytes, code point order
POSTGRES = Dialect(param="%s", instant="to_timestamp(%s)", false="false", like="ILIKE", any_list=True,
                   binary='COLLATE "C"', position="strpos", arrays=True)


def search_pattern(search: str) -> str:
    """Return the LIKE pattern (``ESCAPE '\\'``) of a search: a substring, where ``*`` matches any run of characters."""
    pieces = [p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for p in re.split(r"\*+", search)]
    return "%" + "%".join(p for p in pieces if p) + "%"


def audit_where(dialect: Dialect, actor=None, action=None, since=None) -> tuple[str, list]:
    """Return ``(" WHERE ...", params)`` of the audit rows of ``actor``, of ``action``, ``since`` a time (epoch bound)."""
    clauses, params = [], []
    for column, value in (("actor", actor), ("action", action)):
        if value is not None:
            clauses.append(f"{column} = {dialect.param}")
            params.append(str(value))
    if since is not None:
        from minqing.store.convert import epoch_of

        clauses.append(f"at >= {dialect.instant}")
        params.append(epoch_of(since))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def where_sql(where, dialect: Dialect, epoch_of, alias: str = "") -> tuple[str, list]:
    """Return ``(" WHERE ...", params)`` selecting the tickets of ``where`` ("" and [] for all).

    Parameters
    ----------
    where : TicketFilter or None
    dialect : Dialect
    epoch_of : callable
        Epoch seconds of a time bound (naive: the store's local time).
    alias : str
        The tickets table's alias in the query, if any.
    """
    clauses, params = [], []
    p = f"{alias}." if alias else ""
    if where is None:
        return "", params
    for bound, op in ((where.start, ">="), (where.end, "<")):
        if bound is not None:
            clauses.append(f"{p}received_at {op} {dialect.instant}")
            params.append(epoch_of(bound))
    if where.unit_codes is not None:
        level = check_level(where.unit_level or "grid")
        clauses.append(dialect.in_(f"{p}{level}_code", where.unit_codes, params))
    if where.scope_grid_codes is not None or where.scope_community_codes is not None:
        scope = [dialect.in_(f"{p}{level}_code", codes, params)
                 for level, codes in (("grid", where.scope_grid_codes), ("community", where.scope_community_codes))
                 if codes]
        clauses.append("(" + " OR ".join(scope) + ")" if scope else dialect.false)
    if where.categories:
        ors = []
        for code in where.categories:
            ors.append(f"({p}category = {dialect.param} OR {p}category LIKE {dialect.param})")
            params += [code, f"{code}.%"]
        clauses.append("(" + " OR ".join(ors) + ")")
    for column, values in (("channel", where.channels), ("kind", where.kinds), ("status", where.statuses),
                           ("satisfaction", where.satisfactions)):
        if values:
            clauses.append(dialect.in_(f"{p}{column}", values, params))
    if where.place_ids:
        sub = dialect.in_("place_id", where.place_ids, params)
        clauses.append(f"{p}source_id IN (SELECT source_id FROM ticket_places WHERE {sub})")
    if where.search:
        like = search_pattern(where.search)
        clauses.append("(" + " OR ".join(f"{p}{c} {dialect.like} {dialect.param} ESCAPE '\\'"
                                          for c in ("source_id", "text", "address")) + ")")
        params += [like, like, like]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params
