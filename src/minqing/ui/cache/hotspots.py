"""Cache wrappers of the 热点 page, keyed on store URL + data version (same rules as ui/cache/data.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from minqing.auth import User, scoped_filter
from minqing.store import TicketFilter
from minqing.ui.cache.data import get_store

COLUMNS = ("source_id", "received_at", "channel", "kind", "category", "h3_cell", "grid_code", "subdistrict_code",
           "satisfaction", "status")


def scoped(where: TicketFilter, user: User) -> TicketFilter:
    """Return ``where`` with the analysis columns and ``user``'s scope: the key of every cache below.

    Keyed on the scope rather than on the user, every viewer with the same scope (all planners,
    the meeting, administrators) shares one copy of the tickets and of each tab's results.
    """
    from dataclasses import replace

    return scoped_filter(user, replace(where, columns=COLUMNS))


@st.cache_resource(max_entries=4, ttl=1800)  # shared, not copied: callers must not modify it
def tickets(url: str, version: str, where: TicketFilter) -> pd.DataFrame:
    """Return the analysis columns of the tickets matching ``where`` (scoped: see :func:`scoped`; no personal data)."""
    if where.columns != COLUMNS:
        raise ValueError("pass the filter through data_hotspots.scoped()")
    return get_store(url).read_tickets(where)


@st.cache_data(max_entries=4, ttl=3600)
def links(url: str, version: str) -> pd.DataFrame:
    """Return every (source_id, place_id) link."""
    return get_store(url).read_ticket_places()


@st.cache_data(max_entries=8, ttl=3600)
def study_cells(url: str, version: str, res: int) -> np.ndarray:
    """Return every H3 cell at ``res`` that ever had a ticket: the study area, zeros included."""
    from minqing.geo.h3cells import cells_to_parent

    t = get_store(url).read_tickets(TicketFilter(columns=("source_id", "h3_cell")))
    cells = t["h3_cell"].dropna().astype("int64").to_numpy()
    return np.unique(cells_to_parent(cells, res))


@st.cache_resource(max_entries=8, ttl=3600)
def h3_weights(url: str, version: str, res: int):
    """Return the k=1 ring weights of the study cells at ``res``."""
    from minqing.analysis.getis_ord import h3_weights as build

    return build(study_cells(url, version, res))


# Each tab's analysis, cached on what it depends on: a tab opened again, by this viewer or
# another one with the same scope, is read back rather than computed from a million tickets.
# The results are small (tables of cells, places, months), so cache_data copies them cheaply.

def _in_period(url: str, version: str, where: TicketFilter, t0, t1) -> pd.DataFrame:
    every = tickets(url, version, where)
    return every[(every["received_at"] >= t0) & (every["received_at"] < t1)]


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def period_count(url: str, version: str, where: TicketFilter, t0, t1) -> int:
    """Return how many tickets match ``where`` (scoped) in [t0, t1)."""
    return len(_in_period(url, version, where, t0, t1))


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def hex_gi(url: str, version: str, where: TicketFilter, t0, t1, res: int):
    """Return (study cells, tickets per cell, Gi*) of the period at H3 ``res``."""
    from minqing.analysis.aggregate import count_tickets
    from minqing.analysis.getis_ord import gi_star

    cells = study_cells(url, version, res)
    counts = count_tickets(_in_period(url, version, where, t0, t1), "cell", res=res).table
    y = counts.set_index("cell")["tickets"].reindex(cells, fill_value=0).to_numpy(dtype=float)
    return cells, y, gi_star(y, h3_weights(url, version, res), cells)


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def grid_gi(url: str, version: str, where: TicketFilter, t0, t1, at: str):
    """Return (grid codes, tickets per grid, Gi*) of the period over the grids valid at ``at``."""
    from minqing.analysis.aggregate import count_tickets
    from minqing.analysis.getis_ord import gi_star
    from minqing.ui.cache.data import units

    grids = units(url, version, "grid", at).reset_index(drop=True)
    counts = count_tickets(_in_period(url, version, where, t0, t1), "grid").table.set_index("grid")["tickets"]
    y = grids["code"].map(counts).fillna(0).to_numpy(dtype=float)
    return grids["code"].to_numpy(), y, gi_star(y, grid_weights(url, version, at), grids["code"].to_numpy())


@st.cache_resource(max_entries=8, ttl=3600)
def grid_weights(url: str, version: str, at: str):
    """Return the queen contiguity weights of the grids valid at ``at``."""
    from minqing.analysis.getis_ord import queen_weights
    from minqing.ui.cache.data import units

    return queen_weights(units(url, version, "grid", at).reset_index(drop=True))


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def month_matrix(url: str, version: str, where: TicketFilter, key: str, res: int,
                 months: tuple[str, ...]):
    """Return (ids, matrix of tickets per id and month) for ``key`` "cell" (at ``res``) or "place"."""
    from minqing.analysis.aggregate import count_tickets
    from minqing.analysis.forecast import to_matrix

    every = tickets(url, version, where)
    c = count_tickets(every, key, res=res, freq="month", links=links(url, version) if key == "place" else None).table
    return to_matrix(c, key, list(months))


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def emerging(url: str, version: str, where: TicketFilter, res: int, months: tuple[str, ...]):
    """Return the emerging hot-spot classes of the study cells over ``months``."""
    from minqing.analysis.emerging import emerging_hotspots

    cells = study_cells(url, version, res)
    ids, cube = month_matrix(url, version, where, "cell", res, months)
    full = pd.DataFrame(cube, index=ids).reindex(cells, fill_value=0)
    return emerging_hotspots(full.to_numpy(), cells, list(months))


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def emerging_cells(url: str, version: str, where: TicketFilter, res: int, months: tuple[str, ...],
                   at: str) -> pd.DataFrame:
    """Return the cells of :func:`emerging` with a pattern: its frame, their tickets over ``months``, their grid.

    Columns: those of ``EmergingHotspots.to_frame`` plus ``tickets`` and ``grid`` (the code of the
    grid valid on ``at`` that holds the cell's centre, None outside every grid).
    """
    from minqing.geo.h3cells import cells_to_units
    from minqing.ui.cache.data import units

    f = emerging(url, version, where, res, months).to_frame()
    f = f[f["class"] != "no_pattern"].reset_index(drop=True)
    ids, cube = month_matrix(url, version, where, "cell", res, months)
    per_cell = pd.Series(np.asarray(cube).sum(axis=1), index=ids)
    f["tickets"] = per_cell.reindex(f["cell"]).fillna(0).astype("int64").to_numpy()
    f["grid"] = cells_to_units(f["cell"].to_numpy(), units(url, version, "grid", at))
    return f


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def ranking(url: str, version: str, where: TicketFilter, t0, t1, by: str, min_tickets: int):
    """Return the place ranking of the period."""
    from minqing.analysis.place_rank import rank_places
    from minqing.ui.cache.data import places

    return rank_places(_in_period(url, version, where, t0, t1), links(url, version), places(url, version),
                       by=by, min_tickets=min_tickets, start=t0, end=t1)


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def class_cases(url: str, version: str, where: TicketFilter, t0, t1, code: str, min_tickets: int):
    """Return where category ``code`` recurs in [t0, t1)."""
    from minqing.analysis.class_of_cases import class_of_cases

    return class_of_cases(_in_period(url, version, where, t0, t1), links(url, version), code,
                          min_tickets=min_tickets)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def surge_notes(url: str, version: str, where: TicketFilter, t0, t1, key: str, res: int, lang: str) -> dict:
    """Return {unit id: "扫码上报 61 %"} for the units of ``key`` whose count one channel drives, in [t0, t1)."""
    from minqing.analysis.aggregate import count_tickets
    from minqing.analysis.channel_mix import surge_labels

    c = count_tickets(_in_period(url, version, where, t0, t1), (key, "channel"), res=res,
                      links=links(url, version) if key == "place" else None).table
    return surge_labels(c, key, lang)


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def forecast(url: str, version: str, where: TicketFilter, level: str, months: tuple[str, ...]):
    """Return next month's forecast per place or res-9 cell (None when nothing to forecast)."""
    from minqing.analysis.forecast import forecast_counts

    ids, m = month_matrix(url, version, where, level, 9, months)
    return forecast_counts(m, ids, list(months)) if len(ids) else None


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def channel_months(url: str, version: str, where: TicketFilter) -> pd.DataFrame:
    """Return tickets per month (rows) and channel code (columns)."""
    from minqing.analysis.aggregate import count_tickets

    c = count_tickets(tickets(url, version, where), ("channel",), freq="month").table
    return c.pivot_table(index="period", columns="channel", values="tickets", aggfunc="sum", fill_value=0)
