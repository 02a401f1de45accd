"""Every ``st.cache_*`` wrapper of the app, keyed on the store URL and its data version.

Cached functions depend only on their arguments; each cache has ``ttl`` or
``max_entries``. After an import the data version changes, so every cache
refreshes without a restart.
"""

from __future__ import annotations

import streamlit as st

from minqing.analysis.aggregate import counts_by_unit
from minqing.config import database_url
from minqing.store import Store, open_store


@st.cache_resource(max_entries=4)
def get_store(url: str) -> Store:
    """Return the open store for ``url`` (one per process)."""
    return open_store(url)


def current_store() -> Store:
    """Return the store named by the settings."""
    return get_store(database_url())


def data_version(store: Store) -> str:
    """Return the store's data version (not cached: it is the cache key)."""
    return store.data_version()


@st.cache_data(max_entries=8, ttl=3600)
def units(url: str, version: str, level: str, at: str | None = None):
    """Return the units of ``level`` (valid on ``at`` when given)."""
    return get_store(url).read_units(level, at=at)


@st.cache_data(max_entries=8, ttl=3600)
def places(url: str, version: str):
    """Return all places."""
    return get_store(url).read_places()


@st.cache_data(max_entries=16, ttl=3600)
def ticket_span(url: str, version: str):
    """Return (first, last) received time, or (None, None) when empty."""
    return get_store(url).received_range()


@st.cache_data(max_entries=16, ttl=3600)
def ticket_total(url: str, version: str) -> int:
    """Return the number of stored tickets."""
    return get_store(url).ticket_count()


@st.cache_data(max_entries=16, ttl=3600)
def unit_counts(url: str, version: str, level: str, at: str | None = None):
    """Return units of ``level`` with ticket counts and rates per 1,000 residents."""
    store = get_store(url)
    return counts_by_unit(store.read_units(level, at=at), store.count_tickets(level))


@st.cache_resource(max_entries=8, ttl=3600)
def overview_map(url: str, version: str, lang: str, measure: str, at: str | None):
    """Return the overview folium map, built once per data version, language and measure."""
    from minqing.maps import overview_map as build

    return build(
        unit_counts(url, version, "subdistrict", at),
        units(url, version, "grid", at),
        places(url, version),
        lang=lang,
        measure=measure,
    )
