"""Cache wrappers of the 热点 page, keyed on store URL + data version (same rules as ui/data.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from minqing.auth import User, scoped_filter
from minqing.store import TicketFilter
from minqing.ui.data import get_store

COLUMNS = ("source_id", "received_at", "channel", "kind", "category", "h3_cell", "grid_code", "subdistrict_code",
           "satisfaction", "status")


@st.cache_resource(max_entries=4, ttl=1800)  # shared, not copied: callers must not modify it
def tickets(url: str, version: str, where: TicketFilter, user: User) -> pd.DataFrame:
    """Return the analysis columns of the tickets matching ``where`` within ``user``'s scope (no personal data)."""
    from dataclasses import replace

    return get_store(url).read_tickets(scoped_filter(user, replace(where, columns=COLUMNS)))


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
