"""One class of cases (一类事): every place or cell where one category keeps coming back."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from minqing.analysis.aggregate import AggregateError, _need
from minqing.analysis.keys import month_numbers, positions
from minqing.citytime import wall
from minqing.geo.h3cells import cells_to_parent

MIN_TICKETS = 3


@dataclass(frozen=True)
class ClassOfCases:
    """Result of :func:`class_of_cases`.

    Attributes
    ----------
    category : str
    table : DataFrame
        One row per place (``where_type`` "place") and per H3 cell of
        tickets at no place (``where_type`` "cell"): where_id, tickets, first,
        last (local timestamps), months (distinct months with tickets);
        most tickets first.
    min_tickets : int
    res : int
    """

    category: str
    table: pd.DataFrame
    min_tickets: int
    res: int


def class_of_cases(tickets: pd.DataFrame, links: pd.DataFrame, category: str, *,
                   min_tickets: int = MIN_TICKETS, res: int = 9) -> ClassOfCases:
    """List every place and cell where ``category`` recurs (at least ``min_tickets`` tickets).

    Parameters
    ----------
    tickets : DataFrame
        With source_id, received_at, category, h3_cell.
    links : DataFrame
        (source_id, place_id).
    category : str
        A category code at any level (matches itself and its descendants).
    min_tickets : int
        Recurrence threshold, >= 1.
    res : int
        H3 resolution (7..10) for tickets at no place.
    """
    if not isinstance(category, str) or not category:
        raise AggregateError(f"category must be a category code such as '03.01', got {category!r}",
                             key="hotspots.error_category", value=str(category))
    if min_tickets < 1:
        raise AggregateError(f"min_tickets must be >= 1, got {min_tickets}", key="hotspots.error_min",
                             value=str(min_tickets))
    if res not in (7, 8, 9, 10):
        raise AggregateError(f"H3 resolution must be 7..10, got {res!r}", key="hotspots.error_res", value=str(res))
    _need(tickets, ("source_id", "received_at", "category", "h3_cell"))
    return _class_of_cases(tickets, links, category, int(min_tickets), res)


def _class_of_cases(tickets, links, category, min_tickets, res):
    cat = tickets["category"]
    sel = ((cat == category) | cat.str.startswith(category + ".")).fillna(False).to_numpy(dtype=bool)
    t = tickets.loc[sel, ["source_id", "received_at", "h3_cell"]]
    lk = links[["source_id", "place_id"]].drop_duplicates()
    pos = positions(lk["source_id"], t["source_id"])  # a ticket at two places counts at both
    hit = pos >= 0
    at_place = pd.DataFrame({"place_id": lk["place_id"].to_numpy(dtype=object)[hit],
                             "received_at": t["received_at"].iloc[pos[hit]].reset_index(drop=True)})
    placed = positions(t["source_id"], lk["source_id"]) >= 0
    free = t[~placed]
    cells = cells_to_parent(pd.to_numeric(free["h3_cell"], errors="coerce").fillna(-1).astype("int64").to_numpy(), res)
    free = pd.DataFrame({"where_id": cells, "received_at": free["received_at"].to_numpy()})
    free = free[free["where_id"] >= 0]
    parts = []
    for kind, frame, key in (("place", at_place, "place_id"), ("cell", free, "where_id")):
        if frame.empty:
            continue
        f = frame.rename(columns={key: "where_id"})
        f["month"] = month_numbers(wall(f["received_at"]))
        g = f.groupby("where_id").agg(tickets=("received_at", "size"), first=("received_at", "min"),
                                      last=("received_at", "max"), months=("month", "nunique")).reset_index()
        g.insert(0, "where_type", kind)
        g["where_id"] = g["where_id"].astype(object)
        parts.append(g)
    cols = ["where_type", "where_id", "tickets", "first", "last", "months"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    out = out[out["tickets"] >= min_tickets].sort_values(["tickets", "where_type"], ascending=[False, False])
    out["tickets"] = out["tickets"].astype("int64")
    return ClassOfCases(category, out[cols].reset_index(drop=True), min_tickets, res)
