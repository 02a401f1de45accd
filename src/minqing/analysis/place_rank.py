"""Place ranking: places by count, rate per 30 days, repeat share and unsatisfied share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minqing.analysis.aggregate import DEFAULT_WINDOW_HOURS, AggregateError, _need, _problem_flags
from minqing.analysis.keys import positions
from minqing.model import RATED

MEASURES = ("tickets", "rate_30d", "repeat_share", "unsatisfied_share")
"""What :func:`rank_places` can rank by."""
MIN_TICKETS = 5


@dataclass(frozen=True)
class PlaceRanking:
    """Result of :func:`rank_places`.

    Attributes
    ----------
    table : DataFrame
        One row per place: place_id, tickets, problems, rate_30d,
        repeat_share, rated, unsatisfied_share, rank (NaN when unranked) and
        ``unranked_reason`` (a catalog key, missing when ranked); ranked
        rows first.
    by : str
    min_tickets : int
    days : float
        Length of the period the rate is computed over.
    """

    table: pd.DataFrame
    by: str
    min_tickets: int
    days: float


def rank_places(tickets: pd.DataFrame, links: pd.DataFrame, places: pd.DataFrame | None = None, *,
                by: str = "tickets", min_tickets: int = MIN_TICKETS, start=None, end=None,
                window_hours: float = DEFAULT_WINDOW_HOURS) -> PlaceRanking:
    """Rank places by a measure, leaving places with too few tickets unranked (but listed).

    Parameters
    ----------
    tickets : DataFrame
        With source_id, received_at, category, h3_cell, satisfaction.
    links : DataFrame
        (source_id, place_id).
    places : DataFrame, optional
        Every place (``place_id``); places without tickets are listed as
        unranked with 0.
    by : str
        One of :data:`MEASURES`.
    min_tickets : int
        Places with fewer tickets are not ranked (reason
        ``hotspots.unranked_few``).
    start, end : Timestamp, optional
        The period (for the 30-day rate); default the tickets' span.
    window_hours : float
        Repeat window.
    """
    if by not in MEASURES:
        raise AggregateError(f"unknown ranking measure {by!r}; allowed: {', '.join(MEASURES)}",
                             key="hotspots.error_by", value=str(by))
    _need(tickets, ("source_id", "received_at", "category", "h3_cell", "satisfaction"))
    return _rank(tickets, links, places, by, int(min_tickets), start, end, window_hours)


def _rank(tickets, links, places, by, min_tickets, start, end, window_hours):
    t = tickets
    new = _problem_flags(t, links, window_hours) if len(t) else np.zeros(0, dtype=bool)
    rated = positions(t["satisfaction"], list(RATED)) >= 0
    unsat = positions(t["satisfaction"], ["unsatisfied"]) >= 0
    lk = links[["source_id", "place_id"]].drop_duplicates()
    pos = positions(lk["source_id"], t["source_id"])  # inner join: a ticket at two places counts at both
    hit, at = pos >= 0, pos[pos >= 0]
    f = pd.DataFrame({"place_id": lk["place_id"].to_numpy(dtype=object)[hit], "source_id": at,
                      "problem": new[at].astype("int64"), "rated": rated[at].astype(int),
                      "unsat": unsat[at].astype(int)})
    g = f.groupby("place_id").agg(tickets=("source_id", "size"), problems=("problem", "sum"),
                                  rated=("rated", "sum"), unsat=("unsat", "sum"))
    if places is not None and len(places):
        g = g.reindex(pd.Index(places["place_id"].astype(object).unique(), name="place_id").union(g.index),
                      fill_value=0)
    g = g.reset_index()
    if start is None and len(t):
        start = t["received_at"].min()
    if end is None and len(t):
        end = t["received_at"].max()
    days = max((pd.Timestamp(end) - pd.Timestamp(start)).total_seconds() / 86400.0, 1.0) if len(t) else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        g["rate_30d"] = g["tickets"] / days * 30.0
        g["repeat_share"] = np.where(g["tickets"] > 0, 1.0 - g["problems"] / g["tickets"], np.nan)
        g["unsatisfied_share"] = np.where(g["rated"] > 0, g["unsat"] / g["rated"], np.nan)
    ok = g["tickets"] >= min_tickets
    if by == "unsatisfied_share":
        ok &= g["rated"] > 0
    g["unranked_reason"] = pd.Series(np.where(ok, None, "hotspots.unranked_few"), dtype=object)
    if by == "unsatisfied_share":
        g.loc[(g["tickets"] >= min_tickets) & (g["rated"] == 0), "unranked_reason"] = "hotspots.unranked_unrated"
    g["rank"] = np.nan
    order = g[ok].sort_values([by, "tickets", "place_id"], ascending=[False, False, True]).index
    g.loc[order, "rank"] = np.arange(1, len(order) + 1, dtype=float)
    g = g.rename(columns={"unsat": "unsatisfied"})
    g = pd.concat([g.loc[order], g[~ok].sort_values(["tickets", "place_id"], ascending=[False, True])])
    cols = ["rank", "place_id", "tickets", "problems", "rate_30d", "repeat_share", "rated", "unsatisfied",
            "unsatisfied_share", "unranked_reason"]
    return PlaceRanking(g[cols].reset_index(drop=True), by, min_tickets, days)
