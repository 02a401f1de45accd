"""This month's top problems: place × category, with trend arrows.

Arrows come from :func:`minqing.analysis.trends.trend`: an exact conditional
binomial test of the month's count against last month's (and against the sum
of the three months before, exposure by days), p < 0.05 and at least 10 %
change; → otherwise.

A *problem* is a place and a category (中类 by default).  Tickets linked to
no place are grouped by grid × category instead, so a problem spread over a
grid still shows; :attr:`TopProblems.table` says which is which in
``where_type``.  A ticket linked to two places counts at both.

Counts come in as a table (month, place_id, grid_code, category, tickets,
problems) from :func:`problem_counts` (pure pandas, the reference
implementation of ``Store.problem_counts``) or ``Store.problem_counts`` (SQL);
:func:`top_problems` ranks one month.
``problems`` deduplicates repeat calls: a ticket whose ``repeat_of`` is set
counts as a ticket, not as a new problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minqing.analysis.channel_mix import channel_surges, surge_label, typical_shares
from minqing.analysis.kpis import KpiError, month_key, shift_month
from minqing.analysis.trends import TRENDS, trend
from minqing.model import PLACE_KINDS, category_at_level, category_path


COUNT_COLUMNS = ("month", "place_id", "grid_code", "category", "tickets", "problems")
TABLE_COLUMNS = (
    "rank",
    "where_type",
    "where_id",
    "category",
    "tickets",
    "problems",
    "last_month",
    "avg_3m",
    "trend_month",
    "trend_3m",
)


@dataclass(frozen=True)
class TopProblems:
    """The top problems of one month (see :func:`top_problems`).

    Attributes
    ----------
    month : str
        "YYYY-MM".
    table : DataFrame
        :data:`TABLE_COLUMNS`: ``where_type`` is "place" or "grid",
        ``where_id`` the place id or grid code, ``last_month`` the tickets of
        the month before, ``avg_3m`` the mean tickets of the three months
        before, ``trend_month`` / ``trend_3m`` a key of :data:`TRENDS`.
    has_unplaced : bool
        Whether any row groups tickets without a place by grid.
    """

    month: str
    table: pd.DataFrame
    has_unplaced: bool


def problem_counts(tickets: pd.DataFrame, links: pd.DataFrame, level: int = 2, by_channel: bool = False) -> pd.DataFrame:
    """Return ticket and problem counts per month × (place or grid) × category.

    Parameters
    ----------
    tickets : DataFrame
        With ``source_id``, ``received_at`` (timestamps in the city's zone: a ticket
        counts in the month it was received there), ``grid_code``, ``category`` and
        ``repeat_of`` (missing when the ticket is not a repeat call).
    links : DataFrame
        (source_id, place_id) links, as from ``Store.read_ticket_places``.
    level : {1, 2, 3}
        Category level to group at (2 = 中类).
    by_channel : bool
        Also group by ``channel`` (tickets need the column): the channel flags of :func:`top_problems`.

    Returns
    -------
    DataFrame
        :data:`COUNT_COLUMNS` (and ``channel``); ``place_id`` is missing for rows grouped by grid
        and ``grid_code`` is missing for rows grouped by place.
    """
    need = ("source_id", "received_at", "grid_code", "category", "repeat_of") + (("channel",) if by_channel else ())
    missing = [c for c in need if c not in tickets.columns]
    if missing:
        raise KpiError(
            f"tickets lack column(s) {missing}; problem_counts needs {', '.join(need)}",
            key="meeting.error_columns",
            columns=", ".join(missing),
        )
    check_category_level(level)
    return _problem_counts(tickets, links, level, by_channel)


def _problem_counts(tickets, links, level, by_channel=False):
    t = pd.DataFrame(
        {
            "source_id": tickets["source_id"].astype("object"),
            "month": tickets["received_at"].dt.strftime("%Y-%m").astype("object"),  # the times' own (the city's) zone
            "grid_code": tickets["grid_code"].astype("object"),
            "category": tickets["category"].astype("object"),
            "problems": tickets["repeat_of"].isna().astype("int64"),
            **({"channel": tickets["channel"].astype("object")} if by_channel else {}),
        }
    )
    lk = links[["source_id", "place_id"]].astype("object").drop_duplicates()
    t = t.merge(lk, on="source_id", how="left")
    placed = t["place_id"].notna()
    t.loc[placed, "grid_code"] = None
    t["tickets"] = 1
    return _roll_up(t, level)


def _roll_up(t: pd.DataFrame, level: int) -> pd.DataFrame:
    """Group a (month, place_id, grid_code, category, tickets, problems) table at a category level."""
    t = t.copy()
    t["category"] = [category_at_level(c, level) if isinstance(c, str) else c for c in t["category"]]
    keys = ["month", "place_id", "grid_code", "category"] + (["channel"] if "channel" in t.columns else [])
    out = t.groupby(keys, dropna=False, sort=True)[["tickets", "problems"]].sum().reset_index()
    out = out[out[["place_id", "grid_code"]].notna().any(axis=1)]
    out[["tickets", "problems"]] = out[["tickets", "problems"]].astype("int64")
    return out[keys + ["tickets", "problems"]].reset_index(drop=True)


def roll_up(counts: pd.DataFrame, level: int = 2) -> pd.DataFrame:
    """Regroup a problem count table (e.g. by full category from a store) at category ``level``."""
    check_category_level(level)
    return _roll_up(counts, level)


def top_problems(counts: pd.DataFrame, month, n: int = 10, typical: pd.DataFrame | None = None) -> TopProblems:
    """Return the ``n`` problems with most tickets in ``month`` and their trends.

    Parameters
    ----------
    counts : DataFrame
        :data:`COUNT_COLUMNS` for ``month`` and the three months before it; with a
        ``channel`` column (``by_channel``) the table also says where one channel
        drives a row (``channel_flag`` / ``channel_share``, the rule of
        :func:`minqing.analysis.channel_mix.channel_surges` against all the month's other rows).
    month : str or Timestamp
    n : int
        How many rows (ties broken by problems, then by place/grid and category).
    typical : DataFrame, optional
        (channel, share_typical): the month's typical problem (:func:`problem_typical` of every
        row) when ``counts`` holds only the rows of the top problems (:func:`top_problem_rows`,
        ``Store.top_problem_counts``); by default computed from ``counts``.

    Returns
    -------
    TopProblems
    """
    _check(counts, n)
    return _top(counts, month_key(month), n, typical)


def top_problem_rows(counts: pd.DataFrame, month, n: int = 10) -> pd.DataFrame:
    """Return the rows of ``counts`` (every month and channel) of the ``n`` problems :func:`top_problems` lists.

    What a store returns instead of every row (``Store.top_problem_counts``): :func:`top_problems`
    of these rows, given :func:`problem_typical` of all of them, is :func:`top_problems` of all.
    """
    _check(counts, n)
    c = _keyed(counts)
    top = _ranked(c, month_key(month), n)
    keys = ["where_type", "where_id", "category"]
    keep = pd.MultiIndex.from_frame(c[keys]).isin(pd.MultiIndex.from_frame(top[keys]))
    return counts[keep].reset_index(drop=True)


def problem_typical(counts: pd.DataFrame, month) -> pd.DataFrame:
    """Return each channel's share in the typical problem of ``month`` (the median over its problems).

    The comparison of the channel flag of :func:`top_problems`
    (:func:`minqing.analysis.channel_mix.typical_shares` over the month's rows of ``counts``,
    which has a ``channel`` column).

    Returns
    -------
    DataFrame
        ``channel`` (sorted) and ``share_typical`` (float64); one row per channel with tickets in ``month``.
    """
    s = typical_shares(_month_rows(_keyed(counts), month_key(month)), key="row")
    return pd.DataFrame({"channel": pd.Series(s.index, dtype="str"), "share_typical": s.to_numpy(dtype="float64")})


def check_category_level(level) -> None:
    """Raise KpiError unless ``level`` is a category level (1, 2 or 3)."""
    if level not in (1, 2, 3):
        raise KpiError(f"category level must be 1, 2 or 3, got {level!r}", key="meeting.error_level",
                       level=str(level))


def check_n(n) -> None:
    """Raise KpiError unless ``n`` (how many problems to list) is a whole number of at least 1."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise KpiError(f"n must be at least 1, got {n!r}", key="meeting.error_n", n=str(n))


def _check(counts: pd.DataFrame, n: int) -> None:
    missing = [c for c in COUNT_COLUMNS if c not in counts.columns]
    if missing:
        raise KpiError(f"problem counts lack column(s) {missing}; build them with problem_counts()",
                       key="meeting.error_columns", columns=", ".join(missing))
    check_n(n)


def _keyed(counts: pd.DataFrame) -> pd.DataFrame:
    """``counts`` with ``where_type`` ("place" or "grid") and ``where_id`` (the place id or grid code)."""
    c = counts.copy()
    c["where_type"] = np.where(c["place_id"].notna(), "place", "grid")
    c["where_id"] = c["place_id"].where(c["place_id"].notna(), c["grid_code"]).astype("object")
    return c


def _month_rows(c: pd.DataFrame, month: str) -> pd.DataFrame:
    """The rows of ``month`` keyed by problem: ``row`` = (where_type, where_id, category)."""
    return c[c["month"] == month].assign(row=lambda d: list(zip(d["where_type"], d["where_id"], d["category"])))


def _ranked(c: pd.DataFrame, month: str, n: int) -> pd.DataFrame:
    """The ``n`` problems with most tickets in ``month``, ranked: keys, tickets, problems, last_month, sum_3m."""
    keys = ["where_type", "where_id", "category"]
    wide = c.pivot_table(index=keys, columns="month", values=["tickets", "problems"], aggfunc="sum", fill_value=0)
    before = [shift_month(month, -k) for k in (1, 2, 3)]

    def col(what, m):
        return wide[(what, m)] if (what, m) in wide.columns else pd.Series(0, index=wide.index)

    table = pd.DataFrame(
        {
            "tickets": col("tickets", month),
            "problems": col("problems", month),
            "last_month": col("tickets", before[0]),
            "sum_3m": sum(col("tickets", m) for m in before),
        }
    ).reset_index()
    table = table[table["tickets"] > 0]
    return table.sort_values(["tickets", "problems", "where_id", "category"],
                             ascending=[False, False, True, True]).head(n).reset_index(drop=True)


def _top(counts: pd.DataFrame, month: str, n: int, typical: pd.DataFrame | None = None) -> TopProblems:
    c = _keyed(counts)
    table = _ranked(c, month, n)
    before = [shift_month(month, -k) for k in (1, 2, 3)]
    days = {m: pd.Period(m, "M").days_in_month for m in [month, *before]}
    ex_month, ex_3m = days[before[0]] / days[month], sum(days[m] for m in before) / days[month]
    table["trend_month"] = [trend(a, b, ex_month) for a, b in zip(table["tickets"], table["last_month"])]
    table["trend_3m"] = [trend(a, b, ex_3m) for a, b in zip(table["tickets"], table["sum_3m"])]
    table["avg_3m"] = table["sum_3m"] / 3.0
    table["rank"] = np.arange(1, len(table) + 1)
    for k in ("tickets", "problems", "last_month"):
        table[k] = table[k].astype("int64")
    table = table[list(TABLE_COLUMNS)]
    table["channel_flag"], table["channel_share"] = None, np.nan
    if "channel" in c.columns and len(table):
        given = None if typical is None else pd.Series(typical["share_typical"].to_numpy(dtype="float64"),
                                                       index=typical["channel"].to_numpy(dtype=object))
        s = channel_surges(_month_rows(c, month), key="row", typical=given).set_index("row")
        rows = list(zip(table["where_type"], table["where_id"], table["category"]))
        table["channel_flag"] = [s["channel"].get(r) for r in rows]
        table["channel_share"] = [s["share"].get(r, np.nan) for r in rows]
    return TopProblems(month, table, bool((table["where_type"] == "grid").any()))


def label_problems(table: pd.DataFrame, places: pd.DataFrame, grids: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Add display labels to a top-problems table.

    Adds ``where_name`` (place or grid name in ``lang``), ``where_kind`` (the
    place kind, or the word for grid), ``category_name`` (the category path),
    ``arrow_month`` / ``arrow_3m`` and ``channel_note`` ("扫码上报 61 %" where
    one channel drives the row, else "").  Names are plain text: escape them
    before putting them into HTML.
    """
    from minqing.model import LEVELS

    out = table.copy()
    pname = _names(places, "place_id", lang)
    gname = _names(grids, "code", lang)
    pkind = dict(zip(places["place_id"], places["kind"])) if len(places) else {}
    is_place = out["where_type"] == "place"
    out["where_name"] = [
        (pname if p else gname).get(i, i) for p, i in zip(is_place, out["where_id"])
    ]
    out["where_kind"] = [
        PLACE_KINDS[pkind[i]].label(lang) if p and pkind.get(i) in PLACE_KINDS else LEVELS["grid"].label(lang)
        for p, i in zip(is_place, out["where_id"])
    ]
    out["category_name"] = [category_path(c, lang) for c in out["category"]]
    out["arrow_month"] = out["trend_month"].map(TRENDS)
    out["arrow_3m"] = out["trend_3m"].map(TRENDS)
    flags = out["channel_flag"] if "channel_flag" in out.columns else pd.Series(None, index=out.index, dtype=object)
    shares = out["channel_share"] if "channel_share" in out.columns else pd.Series(np.nan, index=out.index)
    out["channel_note"] = [surge_label(f, s, lang) if isinstance(f, str) else "" for f, s in zip(flags, shares)]
    return out


def _names(frame: pd.DataFrame, key: str, lang: str) -> dict:
    if frame is None or not len(frame):
        return {}
    names = frame["name"].astype("object")
    if lang != "zh" and "name_en" in frame.columns:
        en = frame["name_en"].astype("object")
        names = en.where(en.notna() & (en.astype(str) != ""), names)
    return dict(zip(frame[key], names))
