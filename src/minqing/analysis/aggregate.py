"""Counts of tickets by unit, with rates per 1,000 residents."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd


def counts_by_unit(units: gpd.GeoDataFrame, counts: pd.DataFrame) -> gpd.GeoDataFrame:
    """Attach ticket counts and rates per 1,000 residents to units.

    Parameters
    ----------
    units : GeoDataFrame
        Units of one level with ``code`` and ``population`` (may be missing).
    counts : DataFrame
        Columns ``code`` and ``tickets`` (as from ``Store.count_tickets``);
        codes not among ``units`` (and unlinked tickets) are ignored.

    Returns
    -------
    GeoDataFrame
        ``units`` plus ``tickets`` (0 where none), ``rate`` (per 1,000
        residents, NaN where population is unknown or 0) and ``share`` of the
        units' total.
    """
    if "code" not in units.columns:
        raise ValueError("units need a 'code' column")
    c = counts.dropna(subset=["code"]).groupby("code")["tickets"].sum()
    out = units.copy()
    out["tickets"] = out["code"].map(c).fillna(0).astype("int64")
    pop = pd.to_numeric(out.get("population"), errors="coerce").astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate"] = np.where(pop > 0, out["tickets"] / pop * 1000.0, np.nan)
    total = out["tickets"].sum()
    out["share"] = out["tickets"] / total if total else 0.0
    return out


# --------------------------------------------------------------------------
# Counts of tickets and problems by any keys (issue 4)
# --------------------------------------------------------------------------

from dataclasses import dataclass  # noqa: E402

from minqing.analysis.keys import decode, group_codes, period_starts, positions  # noqa: E402
from minqing.citytime import wall  # noqa: E402
from minqing.errors import MinqingError  # noqa: E402
from minqing.model import UNIT_LEVELS  # noqa: E402

BY_KEYS = ("cell", "place", "category", "channel", "kind", "status", "satisfaction") + UNIT_LEVELS
"""What :func:`count_tickets` can group by."""
FREQS = {"day": "D", "week": "W", "month": "M"}
"""Time steps :func:`count_tickets` can group by."""
DEFAULT_WINDOW_HOURS = 72.0


class AggregateError(MinqingError, ValueError):
    """A grouping key, time step or resolution is not one we know."""

    key = "hotspots.error_aggregate"


@dataclass(frozen=True)
class Counts:
    """Ticket and problem counts by keys (see :func:`count_tickets`).

    Attributes
    ----------
    table : DataFrame
        One row per combination of ``by`` (and ``period`` when a time step was
        asked for): columns ``by`` (+ ``period``), ``tickets``, ``problems``
        and, for unit levels with population, ``rate`` and ``problem_rate``
        per 1,000 residents.
    by : tuple of str
    freq : str or None
    res : int or None
        H3 resolution of ``cell`` keys.
    window_hours : float
        Repeat calls within this window of the previous call about the same
        problem counted once as a problem.
    """

    table: pd.DataFrame
    by: tuple
    freq: str | None
    res: int | None
    window_hours: float


def problem_flags(tickets: pd.DataFrame, links: pd.DataFrame | None = None,
                  window_hours: float = DEFAULT_WINDOW_HOURS) -> np.ndarray:
    """Return, per ticket, True when it opens a new problem.

    A repeat call is a ticket about the same place (or, without a place, the
    same stored H3 cell) and the same category as a ticket received at most
    ``window_hours`` before it; chains of repeats count as one problem.
    Tickets with neither place nor cell are always their own problem.

    Parameters
    ----------
    tickets : DataFrame
        With ``source_id``, ``received_at``, ``category``, ``h3_cell``.
    links : DataFrame, optional
        (source_id, place_id) links; the first place of a ticket is its key.
    window_hours : float
        The repeat window (default 72 h), > 0.
    """
    if not window_hours or window_hours <= 0:
        raise AggregateError(f"window_hours must be > 0, got {window_hours!r}; the default is 72",
                             key="hotspots.error_window", value=str(window_hours))
    _need(tickets, ("source_id", "received_at", "category", "h3_cell"))
    return _problem_flags(tickets, links, float(window_hours))


def _problem_flags(tickets, links, window_hours):
    n = len(tickets)
    if n == 0:
        return np.zeros(0, dtype=bool)
    cell = pd.to_numeric(tickets["h3_cell"], errors="coerce").fillna(-1).astype("int64").to_numpy()
    place = np.full(n, -1, dtype="int64")  # the ticket's first place, as a position in the links
    if links is not None and len(links):
        first = positions(tickets["source_id"], links["source_id"])
        has = first >= 0
        place_code = pd.factorize(links["place_id"].array)[0]
        place = np.where(has, place_code[np.maximum(first, 0)], -1)
        cell = np.where(has, -2, cell)
    unkeyed = (cell == -1)
    cat = tickets["category"].astype(object).fillna("\0").to_numpy() if tickets["category"].hasnans \
        else tickets["category"].array  # a missing category is a key of its own (as groupby(dropna=False))
    grp, _ = group_codes([place, cell, cat])
    sec = tickets["received_at"].to_numpy(dtype="datetime64[ns]").view("int64") / 1e9
    order = np.lexsort((sec, grp))
    g, s = grp[order], sec[order]
    new = np.ones(n, dtype=bool)
    same = g[1:] == g[:-1]
    new[1:] = ~(same & (s[1:] - s[:-1] <= window_hours * 3600.0))
    out = np.empty(n, dtype=bool)
    out[order] = new
    out[unkeyed] = True
    return out


def count_tickets(
    tickets: pd.DataFrame,
    by=("cell",),
    *,
    res: int = 9,
    freq: str | None = None,
    category_level: int | None = None,
    links: pd.DataFrame | None = None,
    window_hours: float = DEFAULT_WINDOW_HOURS,
    split_by_channel: bool = False,
    population: pd.DataFrame | None = None,
) -> Counts:
    """Count tickets and problems by keys, optionally per time step and channel.

    Parameters
    ----------
    tickets : DataFrame
        Tickets as from ``Store.read_tickets`` (already filtered by time,
        category, channel ... as wanted).
    by : sequence of str
        Keys from :data:`BY_KEYS`: "cell" (H3 at ``res``, derived from the
        stored res-10 ``h3_cell``), "place" (needs ``links``; a ticket at two
        places counts at both), a unit level, "category" (at
        ``category_level``, full code when None), "channel", "kind", "status",
        "satisfaction". Tickets missing a key are left out.
    res : int
        H3 resolution 7..10 for "cell".
    freq : {"day", "week", "month"}, optional
        Add a ``period`` column (period start as "YYYY-MM-DD").
    category_level : {1, 2, 3}, optional
    links : DataFrame, optional
        (source_id, place_id) links for "place" and for problem keys.
    window_hours : float
        Repeat window for problem counts (default 72 h).
    split_by_channel : bool
        Add "channel" to ``by`` (a new intake channel shows as its own rows).
    population : DataFrame, optional
        (code, population) of the units in ``by``; adds ``rate`` and
        ``problem_rate`` per 1,000 residents (NaN where unknown or 0).

    Returns
    -------
    Counts
    """
    by = tuple([by] if isinstance(by, str) else by)
    if split_by_channel and "channel" not in by:
        by = by + ("channel",)
    bad = [b for b in by if b not in BY_KEYS]
    if bad or not by:
        raise AggregateError(f"unknown grouping key(s) {bad or by}; allowed: {', '.join(BY_KEYS)}",
                             key="hotspots.error_by", value=", ".join(map(str, bad or by)))
    if freq is not None and freq not in FREQS:
        raise AggregateError(f"unknown time step {freq!r}; allowed: {', '.join(FREQS)}",
                             key="hotspots.error_freq", value=str(freq))
    if "cell" in by and res not in (7, 8, 9, 10):
        raise AggregateError(f"H3 resolution must be 7, 8, 9 or 10, got {res!r}", key="hotspots.error_res",
                             value=str(res))
    if category_level not in (None, 1, 2, 3):
        raise AggregateError(f"category level must be 1, 2 or 3, got {category_level!r}",
                             key="hotspots.error_level", value=str(category_level))
    if "place" in by and links is None:
        raise AggregateError("grouping by 'place' needs the ticket-place links; pass links=Store.read_ticket_places()",
                             key="hotspots.error_links", value="place")
    return _count_tickets(tickets, by, res, freq, category_level, links, float(window_hours), population)


_LEVEL_COLUMNS = {lvl: f"{lvl}_code" for lvl in UNIT_LEVELS}


def _key_values(tickets: pd.DataFrame, key: str, res: int, category_level: int | None):
    from minqing.geo.h3cells import cells_to_parent

    if key == "cell":
        cells = pd.to_numeric(tickets["h3_cell"], errors="coerce").fillna(-1).astype("int64").to_numpy()
        return cells if res == 10 else cells_to_parent(cells, res)
    if key in _LEVEL_COLUMNS:
        return tickets[_LEVEL_COLUMNS[key]].to_numpy(dtype=object)
    if key == "category" and category_level is not None:
        cats = tickets["category"].astype(object)
        return pd.Series(cats).str.split(".").str[:category_level].str.join(".").to_numpy(dtype=object)
    return tickets[key].to_numpy(dtype=object)


def _period(received: pd.Series, freq: str) -> np.ndarray:
    return period_starts(wall(received), freq)  # the city's days: the times' own zone


def _count_tickets(tickets, by, res, freq, category_level, links, window_hours, population):
    need = ["received_at"] + ["h3_cell" for b in by if b == "cell"]
    need += [_LEVEL_COLUMNS[b] for b in by if b in _LEVEL_COLUMNS]
    need += [b for b in by if b in ("category", "channel", "kind", "status", "satisfaction")]
    _need(tickets, tuple(dict.fromkeys(need)))
    t = tickets
    has_problem_cols = all(c in t.columns for c in ("source_id", "category", "h3_cell"))
    problems = (_problem_flags(t, links, window_hours) if has_problem_cols and len(t)
                else np.ones(len(t), dtype=bool))
    cols = {}
    for key in by:
        if key == "place":
            continue
        cols[key] = _key_values(t, key, res, category_level)
    if freq:
        cols["period"] = _period(t["received_at"], freq)
    cols["problems"] = problems.astype("int64")
    frame = pd.DataFrame(cols)
    if "place" in by:
        lk = links[["source_id", "place_id"]].drop_duplicates()
        idx = positions(lk["source_id"], t["source_id"])  # a ticket at two places counts at both
        ok = idx >= 0
        frame = frame.iloc[idx[ok]].reset_index(drop=True)
        frame["place"] = lk["place_id"].to_numpy(dtype=object)[ok]
    keys = list(by) + (["period"] if freq else [])
    if "cell" in by:
        frame = frame[frame["cell"] >= 0]
    # groupby(keys, sort=True) over integer group codes: the same rows, in the same order
    code, uniques = group_codes([frame[k].to_numpy() for k in keys])
    keep = code >= 0  # a ticket missing a key is left out
    groups, inverse, sizes = np.unique(code[keep], return_inverse=True, return_counts=True)
    problems = np.bincount(inverse, weights=frame["problems"].to_numpy()[keep], minlength=len(groups))
    out = pd.DataFrame(dict(zip(keys, decode(groups, uniques))))
    out["tickets"], out["problems"] = sizes, problems
    out[["tickets", "problems"]] = out[["tickets", "problems"]].astype("int64")
    if population is not None:
        unit_keys = [b for b in by if b in _LEVEL_COLUMNS]
        if unit_keys:
            pop = population.drop_duplicates("code").set_index("code")["population"]
            p = pd.to_numeric(out[unit_keys[0]].map(pop), errors="coerce").astype("float64").to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                out["rate"] = np.where(p > 0, out["tickets"] / p * 1000.0, np.nan)
                out["problem_rate"] = np.where(p > 0, out["problems"] / p * 1000.0, np.nan)
    return Counts(out, tuple(by), freq, res if "cell" in by else None, window_hours)


def _need(frame: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AggregateError(f"tickets lack column(s) {missing}; needed: {', '.join(columns)}",
                             key="hotspots.error_columns", value=", ".join(missing))
