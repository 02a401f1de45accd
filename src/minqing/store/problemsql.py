"""Problem counts in SQL for both SQL backends: ``Store.problem_counts``' rows, and the month's top problems.

The rules are those of :mod:`minqing.analysis.top_problems` (the references:
:func:`minqing.store.reference.problem_counts` and :func:`~minqing.store.reference.top_problem_counts`;
the contract suite checks both SQL backends against them).

*Problem rows* are tickets and problems per month x place or grid x category (at a level:
:func:`category_at_level_sql`) x channel: :func:`ticket_problem_rows` counts them from the
tickets (a backend supplies its filter and its month expression; PostgreSQL reads its rollup
tables instead where they serve). For ``Store.top_problem_counts`` a backend supplies them
twice: those of the month alone, and those of every month of the filter restricted to the top
problems' places (:data:`TOP_PLACES`) and grids (:data:`TOP_GRIDS`; from the tickets:
:data:`TOP_LINKED`). :func:`top_problem_sql` ranks them in these parts:

``month_problems``  the month's problems (``where_type`` "place" or "grid", ``where_id``, category) with
                    tickets, their tickets and problems summed over channels (and, where the backend
                    has arrays, their channels' tickets; SQLite joins ``month_rows`` back instead)
``top_problems``    the ``n`` first by tickets and problems (descending), then where_id, category and
                    where_type (ascending, by code point): the order of
                    :func:`~minqing.analysis.top_problems.top_problems` (pandas' stable sort of the
                    problems, which come ordered by where_type, where_id, category)
``share_counts``, ``share_steps``, ``typical``
                    how many problems have each share of each channel (shares are ratios of small
                    counts: a few hundred distinct values for a district), then the median share
                    over all the month's problems, a problem without the channel counting as 0 %
                    (:func:`minqing.analysis.channel_mix.typical_shares`): the middle value, or the
                    two middle ones added and halved as numpy does, in IEEE doubles as pandas
                    divides them (the comparison of the channel flag is then made in Python)

The result has the top problems' rows over every month (``part`` "row") and one row per
channel with its typical share (``part`` "typical"); :func:`top_frames` splits them into the
method's two frames: a few hundred rows for a district, where ``problem_counts`` returns tens
of thousands (benchmarks/RESULTS.md, PostgreSQL).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from minqing.analysis.kpis import month_bounds, month_key
from minqing.analysis.top_problems import check_category_level, check_n
from minqing.store.base import TicketFilter
from minqing.store.sqlfilter import Dialect

TOP_PLACES = "(SELECT where_id FROM top_problems WHERE where_type = 'place')"
"""SQL: the places of the top problems (the backend's rows of every month keep the places' rows among these)."""
TOP_GRIDS = "(SELECT where_id FROM top_problems WHERE where_type = 'grid')"
"""SQL: the grids of the top problems (and the rows of their tickets with no place among these)."""
TOP_LINKED = f"(tp.place_id IN {TOP_PLACES} OR (tp.place_id IS NULL AND t.grid_code IN {TOP_GRIDS}))"
"""SQL: the rows of tickets ``t`` LEFT JOIN their links ``tp`` that count at a top problem's place or grid."""
ROW_KEYS = ("month", "place_id", "grid_code", "category", "channel")
"""The key columns of the problem rows (then ``tickets``, ``problems``)."""


def ticket_problem_rows(clause: str, month: str, by_channel: bool = True, category=None,
                        only_top: bool = False) -> str:
    """Return the SELECT of the problem rows of tickets ``t`` (``clause``: their `` WHERE ...``, or "").

    The rule of :func:`minqing.analysis.top_problems.problem_counts`: a ticket counts at each of
    its places (``ticket_places tp``), else at its grid, else nowhere; a repeat call (``repeat_of``
    set) is a ticket, not a problem. ``month`` is the backend's SQL for the local month of
    ``t.received_at``; ``category`` turns ``t.category`` into the grouped category (the full one by
    default); ``only_top`` keeps the rows of :data:`TOP_LINKED`. Columns: month, place_id,
    grid_code, category[, channel], tickets, problems.
    """
    cat = category or (lambda column: column)
    if only_top:
        clause = f"{clause} AND {TOP_LINKED}" if clause else f" WHERE {TOP_LINKED}"
    chan, group = (", t.channel AS channel", "1, 2, 3, 4, 5") if by_channel else ("", "1, 2, 3, 4")
    return (f"SELECT * FROM (SELECT {month} AS month, tp.place_id AS place_id, "
            "CASE WHEN tp.place_id IS NULL THEN t.grid_code END AS grid_code, "
            f"{cat('t.category')} AS category{chan}, COUNT(*) AS tickets, "
            "SUM(CASE WHEN t.repeat_of IS NULL THEN 1 ELSE 0 END) AS problems "
            f"FROM tickets t LEFT JOIN ticket_places tp ON tp.source_id = t.source_id{clause} "
            f"GROUP BY {group}) g WHERE place_id IS NOT NULL OR grid_code IS NOT NULL")


def category_at_level_sql(column: str, level: int, dialect: Dialect) -> str:
    """SQL for :func:`minqing.model.category_at_level` of the text ``column`` (its first ``level`` parts)."""
    if dialect.arrays:
        return f"array_to_string((string_to_array({column}, '.'))[1:{int(level)}], '.')"
    dot = f"{dialect.position}({column}, '.')"
    if level == 1:
        return f"CASE WHEN {dot} = 0 THEN {column} ELSE substr({column}, 1, {dot} - 1) END"
    rest = category_at_level_sql(f"substr({column}, {dot} + 1)", level - 1, dialect)
    return f"CASE WHEN {dot} = 0 THEN {column} ELSE substr({column}, 1, {dot}) || {rest} END"


def check_top(month, level: int, n: int) -> tuple[str, int, int]:
    """Return ``(month key, level, n)`` of a top-problems read, or raise KpiError as :func:`top_problems` does."""
    check_category_level(level)
    check_n(n)
    return month_key(month), int(level), int(n)


def month_where(where: TicketFilter | None, month: str, tz: str, epoch_of) -> TicketFilter:
    """Return ``where`` narrowed to the city-local ``month`` (its own bounds kept where they are narrower)."""
    where = where or TicketFilter()
    start, end = month_bounds(month, tz)
    if where.start is not None and epoch_of(where.start) > epoch_of(start):
        start = where.start
    if where.end is not None and epoch_of(where.end) < epoch_of(end):
        end = where.end
    return replace(where, start=start, end=end)


def top_problem_sql(month_rows: str, series_rows: str, n: int, dialect: Dialect) -> str:
    """Return the statement ranking the problem rows ``month_rows`` and selecting ``series_rows`` of the top ``n``.

    Parameters
    ----------
    month_rows, series_rows : str
        SELECTs of :data:`ROW_KEYS`, ``tickets`` and ``problems``: the month's rows, and every month's
        restricted to :data:`TOP_PLACES` and :data:`TOP_GRIDS`; their parameters in this order.
    n : int
        How many problems.
    dialect : Dialect
    """
    kind = "CASE WHEN {0}place_id IS NULL THEN 'grid' ELSE 'place' END"
    keyed = f"{kind.format('')} AS where_type, COALESCE(place_id, grid_code) AS where_id, category"
    c = dialect.binary

    def share(tickets: str, total: str) -> str:
        return f"CAST({tickets} AS DOUBLE PRECISION) / CAST({total} AS DOUBLE PRECISION) AS share"

    if dialect.arrays:  # each problem keeps its channels' counts: no second pass over the rows to find its total
        problems = (
            f"month_problems AS MATERIALIZED (SELECT {keyed}, SUM(CAST(tickets AS INTEGER)) AS tickets, "
            "SUM(CAST(problems AS INTEGER)) AS problems, array_agg(channel) AS channels, "
            f"array_agg(CAST(tickets AS INTEGER)) AS counts FROM ({month_rows}) r GROUP BY 1, 2, 3 "
            "HAVING SUM(CAST(tickets AS INTEGER)) > 0), "
            f"share_counts AS (SELECT channel, {share('t', 'total')}, COUNT(*) AS k FROM (SELECT unnest(channels) "
            "AS channel, unnest(counts) AS t, tickets AS total FROM month_problems) u WHERE t > 0 GROUP BY 1, 2), ")
    else:
        same = " AND ".join(f"r.{k} = p.{k}" for k in ("where_type", "where_id", "category"))
        problems = (
            f"month_rows AS MATERIALIZED (SELECT {keyed}, channel, tickets, problems FROM ({month_rows}) r), "
            "month_problems AS MATERIALIZED (SELECT where_type, where_id, category, SUM(tickets) AS tickets, "
            "SUM(problems) AS problems FROM month_rows GROUP BY 1, 2, 3 HAVING SUM(tickets) > 0), "
            f"share_counts AS (SELECT r.channel, {share('r.tickets', 'p.tickets')}, COUNT(*) AS k FROM month_rows r "
            f"JOIN month_problems p ON {same} WHERE r.tickets > 0 GROUP BY 1, 2), ")

    def middle(k: str) -> str:  # the share at 0-based place k: 0 among the zeros, else the first step reaching past k
        return f"CASE WHEN {k} < zeros THEN 0.0 ELSE MIN(CASE WHEN upto > {k} THEN share END) END"

    return (
        "WITH " + problems
        + f"top_problems AS MATERIALIZED (SELECT where_type, where_id, category FROM month_problems "
        f"ORDER BY tickets DESC, problems DESC, where_id {c}, category {c}, where_type {c} LIMIT {int(n)}), "
        "month_count AS MATERIALIZED (SELECT COUNT(*) AS n FROM month_problems), "
        # zeros: the problems without the channel (0 %, first in order); upto: how many have at most this share
        "share_steps AS (SELECT s.channel, s.share, m.n, m.n - SUM(s.k) OVER (PARTITION BY s.channel) AS zeros, "
        "m.n - SUM(s.k) OVER (PARTITION BY s.channel) + SUM(s.k) OVER (PARTITION BY s.channel ORDER BY s.share "
        "ROWS UNBOUNDED PRECEDING) AS upto FROM share_counts s CROSS JOIN month_count m), "
        f"typical AS (SELECT channel, ({middle('(n - 1) / 2')} + {middle('n / 2')}) / 2 AS share_typical "
        "FROM share_steps GROUP BY channel, n, zeros) "
        "SELECT 'row' AS part, s.month, s.place_id, s.grid_code, s.category, s.channel, s.tickets, s.problems, "
        f"NULL AS share_typical FROM ({series_rows}) s JOIN top_problems k ON k.where_type = {kind.format('s.')} "
        "AND k.where_id = COALESCE(s.place_id, s.grid_code) AND k.category = s.category "
        "UNION ALL SELECT 'typical', NULL, NULL, NULL, NULL, channel, NULL, NULL, share_typical FROM typical"
    )


def top_frames(result: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the result of :func:`top_problem_sql` into ``Store.top_problem_counts``' two typed frames."""
    columns = ["part", *ROW_KEYS, "tickets", "problems", "share_typical"]
    data = (result if list(result.columns) == columns else result[columns]).to_numpy(dtype=object)
    rows, typical = data[data[:, 0] == "row"], data[data[:, 0] == "typical"]
    counts = pd.DataFrame({**{k: pd.Series(rows[:, i], dtype="str") for i, k in enumerate(ROW_KEYS, 1)},
                           "tickets": rows[:, 6].astype("int64"), "problems": rows[:, 7].astype("int64")})
    typical = typical[sorted(range(len(typical)), key=lambda i: typical[i, 5])]
    return counts, pd.DataFrame({"channel": pd.Series(typical[:, 5], dtype="str"),
                                 "share_typical": typical[:, 8].astype("float64")})
