"""The rollup tables of the PostgreSQL store (``sql/006_rollups.sql``): kept current, and which filters they serve.

``ticket_rollup`` holds, per city-local month x grid (with the ticket's community,
sub-district and district codes) x full category x channel, the ticket count, the KPI
numerators and denominators that do not depend on ``as_of`` (:data:`KPI_FLAGS`), the
problems and the tickets and problems with no place; ``unit_rollup`` its ticket counts
summed over categories and channels (what a unit count over all time reads); ``place_rollup``
the place links per month x place x the same codes x category x channel; ``problem_rollup`` where each
ticket counts as a problem (its places, else its grid) per month x the same codes x category (also
at levels 1 and 2: :data:`PROBLEM_CATEGORY`) x channel, what the top problems and the problem counts
read. All take the tickets' row-level security policy, so a grid leader's scope applies to them too.

Kept current: triggers on ``tickets`` and ``ticket_places`` mark the months a statement
touched in ``rollup_dirty``; every write that changes tickets or links (``write_tickets``,
the import's commit, ``write_relinked``, a change of time zone) calls
:func:`refresh_rollups` in its own transaction, which recomputes those months from the
tickets (all months when every month is marked) and empties ``rollup_dirty``. A reader
that finds ``rollup_dirty`` non-empty (a write path that forgot the call) reads the raw
tickets instead, so a rollup is never read stale.

Which filters they serve (:func:`rollup_where`): received-time bounds on local month
boundaries (or none), unit codes of any level, the scope's grids and communities,
categories (with their descendants) and channels. A filter on kinds, statuses,
satisfactions, places or a text search, or a bound inside a month, is answered from the
raw tickets (the aggregates count such fallbacks in ``store.rollup_uses``). The pages'
filters (:mod:`minqing.ui.cache.meeting`, :mod:`minqing.ui.cache.data`) are all served.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from minqing.analysis.kpis import RESPONSE_HOURS
from minqing.model import FOLLOWED_UP, PROACTIVE_CHANNELS, RATED, SATISFIED
from minqing.store.problemsql import category_at_level_sql
from minqing.store.sqlfilter import POSTGRES, where_sql

KPI_FLAGS = {
    "responded_in_time": ("responded_at IS NOT NULL AND responded_at <= received_at + %s * interval '1 second'",
                          [RESPONSE_HOURS * 3600]),
    "followed_up": ("resolved = ANY(%s)", [list(FOLLOWED_UP)]),
    "solved": ("resolved = 'solved'", []),
    "partly": ("resolved = 'partly'", []),
    "rated": ("satisfaction = ANY(%s)", [list(RATED)]),
    "satisfied": ("satisfaction = ANY(%s)", [list(SATISFIED)]),
    "closed_on_time": ("due_at IS NOT NULL AND closed_at IS NOT NULL AND closed_at <= due_at", []),
    "proactive": ("channel = ANY(%s)", [list(PROACTIVE_CHANNELS)]),
}
"""The KPI counts that do not depend on ``as_of``: SQL condition and parameters (the rules of
:mod:`minqing.analysis.kpis`); the raw ``kpi_counts`` and the rollup share them."""

KEYS = ("grid_code", "community_code", "subdistrict_code", "district_code", "category", "channel")
"""The rollups' key columns besides ``month`` (place_rollup adds ``place_id``)."""

_SERVED_BY_RAW = ("kinds", "statuses", "satisfactions", "place_ids", "search")
"""Filter fields the rollups can't answer (their columns are not kept)."""

FULL = "-infinity"
"""The ``rollup_dirty`` month that marks every month."""


def _month_sql(column: str) -> str:
    return f"date_trunc('month', {column} AT TIME ZONE %(zone)s)::date"


TABLES = ("ticket_rollup", "unit_rollup", "place_rollup", "problem_rollup")
"""The rollup tables, in the order :func:`refresh_rollups` fills them."""

PROBLEM_CATEGORY = {1: "category1", 2: "category2", 3: "category"}
"""``problem_rollup``'s column of the category at each level (:func:`minqing.model.category_at_level`)."""


def _rollup_select(months: bool) -> tuple[str, str, str, str, dict]:
    """Return the INSERTs of :data:`TABLES` and their named parameters, recomputing all months or ``%(months)s``.

    Each goes in in month order (then grid or place), so the rows of a month lie together on disk:
    a month's read of ``ticket_rollup`` touched about 5,800 pages for 15,000 rows at 1,000,000
    tickets when they lay in the order of the grouping (benchmarks/RESULTS.md, PostgreSQL).
    """
    params: dict = {}
    measures = {"tickets": "true"}
    for i, (name, (cond, p)) in enumerate(KPI_FLAGS.items()):
        for j, value in enumerate(p):
            params[f"f{i}_{j}"] = value
            cond = cond.replace("%s", f"%(f{i}_{j})s", 1)
        measures[name] = cond
    measures.update(with_due="due_at IS NOT NULL", problems="repeat_of IS NULL", unplaced_tickets="p.source_id IS NULL",
                    unplaced_problems="repeat_of IS NULL AND p.source_id IS NULL")
    sums = ", ".join(f"COUNT(*) FILTER (WHERE {cond})" for cond in measures.values())
    if months:
        source = ("unnest(%(months)s::date[]) AS d(m) JOIN tickets t ON t.received_at >= (d.m::timestamp AT TIME ZONE "
                  "%(zone)s) AND t.received_at < ((d.m + interval '1 month') AT TIME ZONE %(zone)s)")
    else:
        source = "tickets t"
    keys = ", ".join(f"t.{k}" for k in KEYS)
    group = ", ".join(str(i) for i in range(1, len(KEYS) + 2))
    linked = "LEFT JOIN (SELECT source_id FROM ticket_places GROUP BY source_id) p ON p.source_id = t.source_id"
    tickets = (f"INSERT INTO ticket_rollup (month, {', '.join(KEYS)}, {', '.join(measures)}) " + _in_order(
               f"SELECT {_month_sql('t.received_at')}, {keys}, {sums} FROM {source} {linked} GROUP BY {group}"))
    places = (f"INSERT INTO place_rollup (month, place_id, {', '.join(KEYS)}, tickets, problems) " + _in_order(
              f"SELECT {_month_sql('t.received_at')}, l.place_id, {keys}, COUNT(*), "
              f"COUNT(*) FILTER (WHERE t.repeat_of IS NULL) FROM {source} JOIN ticket_places l "
              f"ON l.source_id = t.source_id GROUP BY 1, 2, {', '.join(str(i) for i in range(3, len(KEYS) + 3))}"))
    codes = ", ".join(KEYS[:4])
    units = (f"INSERT INTO unit_rollup (month, {codes}, tickets) SELECT month, {codes}, SUM(tickets) FROM ticket_rollup"
             f"{' WHERE month = ANY(%(months)s::date[])' if months else ''} GROUP BY month, {codes} ORDER BY 1, 2")
    return tickets, units, places, _problem_select(months), params


def _in_order(grouped: str) -> str:
    """The rows of the GROUP BY query ``grouped`` ordered by its first two columns, the groups hashed first.

    An ORDER BY on the query itself turns its hash aggregate into a sort of every input row
    (1,000,000 tickets: 8.2-8.9 s for ticket_rollup against 6.0-7.3 s); grouping first and sorting
    the groups costs about what the unordered insert did (benchmarks/RESULTS.md, PostgreSQL).
    """
    return f"WITH g AS MATERIALIZED ({grouped}) SELECT * FROM g ORDER BY 1, 2"


def _problem_select(months: bool) -> str:
    """The INSERT of ``problem_rollup`` from ``ticket_rollup`` and ``place_rollup`` (filled first), in month order.

    A ticket counts as a problem at each of its places (the place rows), else at its grid
    (the grid's unplaced tickets); the rows go in by month, so a month's rows share pages.
    """
    where = " AND month = ANY(%(months)s::date[])" if months else ""
    codes = ", ".join(KEYS[:4])
    levels = ", ".join(category_at_level_sql("category", level, POSTGRES) for level in (1, 2))
    return (f"INSERT INTO problem_rollup (month, placed, where_id, {codes}, category, category1, category2, channel, "
            f"tickets, problems) SELECT month, placed, where_id, {codes}, category, {levels}, channel, tickets, problems "
            f"FROM (SELECT month, true AS placed, place_id AS where_id, {codes}, category, channel, tickets, problems "
            f"FROM place_rollup WHERE true{where} UNION ALL SELECT month, false, grid_code, {codes}, category, channel, "
            f"unplaced_tickets, unplaced_problems FROM ticket_rollup WHERE grid_code IS NOT NULL AND unplaced_tickets > 0"
            f"{where}) u ORDER BY month, where_id")


def refresh_rollups(con, full: bool = False) -> int:
    """Recompute the rollups of the months the triggers marked (every month with ``full``); return how many.

    Call it inside the transaction of the write that changed tickets or links (``con``
    is in it), after the change: the rollups then change in the same commit. Returns
    -1 when every month was recomputed, 0 when nothing was marked.
    """
    n, every, months = con.execute(
        "WITH d AS (DELETE FROM rollup_dirty RETURNING month) SELECT count(*), coalesce(bool_or(month = %s), false), "
        "array_agg(to_char(month, 'YYYY-MM-DD')) FILTER (WHERE month <> %s) FROM d", (FULL, FULL)).fetchone()
    if not (n or full):
        return 0
    full = full or every
    *inserts, params = _rollup_select(months=not full)
    params.update(zone=con.execute("SELECT minqing_store_zone()").fetchone()[0], months=months or [])
    for table, insert in zip(TABLES, inserts):
        con.execute(f"DELETE FROM {table}" + ("" if full else " WHERE month = ANY(%(months)s::date[])"), params)
        con.execute(insert, params)
    return -1 if full else len(months or [])


def mark_all(con) -> None:
    """Mark every month for :func:`refresh_rollups` (e.g. after a change of the store's time zone)."""
    con.execute("INSERT INTO rollup_dirty VALUES (%s) ON CONFLICT DO NOTHING", (FULL,))


def rollups_current(con) -> bool:
    """True when no write left months to roll up (the rollups equal a recount of the tickets)."""
    return con.execute("SELECT NOT EXISTS (SELECT 1 FROM rollup_dirty)").fetchone()[0]


def _month_start(bound, epoch_of, tz: str) -> str | None:
    """The local date ("YYYY-MM-DD") of ``bound`` when it is the first instant of a local month, else None."""
    t = pd.Timestamp(epoch_of(bound), unit="s", tz="UTC").tz_convert(tz)
    return t.strftime("%Y-%m-%d") if t == t.normalize() and t.day == 1 else None


def unit_rollup_serves(where) -> bool:
    """True when ``unit_rollup`` (no category, no channel) answers a unit count of ``where`` (given the rollups do)."""
    return where is None or not (where.categories or where.channels)


def rollup_where(where, epoch_of, tz: str) -> tuple[str, list] | None:
    """Return ``(" WHERE ...", params)`` selecting the rollup rows of ``where``, or None when they can't answer it.

    Parameters
    ----------
    where : TicketFilter or None
    epoch_of : callable
        Epoch seconds of a time bound (naive: local time), as the raw query takes it.
    tz : str
        The store's time zone (the rollups' months are local in it).
    """
    if where is None:
        return "", []
    if any(getattr(where, f) for f in _SERVED_BY_RAW):
        return None
    bounds = []
    for bound, op in ((where.start, ">="), (where.end, "<")):
        if bound is None:
            continue
        day = _month_start(bound, epoch_of, tz)
        if day is None:
            return None
        bounds.append((op, day))
    clause, params = where_sql(replace(where, start=None, end=None), POSTGRES, epoch_of)
    extra = [f"month {op} %s::date" for op, _ in bounds]
    if extra:
        clause = (clause + " AND " if clause else " WHERE ") + " AND ".join(extra)
        params += [day for _, day in bounds]
    return clause, params
