"""Every ``st.cache_*`` wrapper of the app, keyed on the store URL and its data version.

Cached functions depend only on their arguments; each cache has ``ttl`` or
``max_entries``. After an import the data version changes, so every cache
refreshes without a restart.
"""

from __future__ import annotations

import streamlit as st

from minqing.analysis.aggregate import counts_by_unit
from minqing.config import database_url
from minqing.auth import ScopedStore, User
from minqing.store import Store, TicketFilter, open_store


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


@st.cache_data(max_entries=32, ttl=3600)
def scoped_unit_counts(url: str, version: str, level: str, at: str | None, user: User, parent: str | None = None):
    """Return units of ``level`` (children of ``parent`` when given) with counts within ``user``'s scope."""
    store = get_store(url)
    units_ = store.read_units(level, at=at)
    if parent is not None:
        units_ = units_[units_["parent_code"] == parent]
    counts = ScopedStore(store, user).count_tickets(level)
    return counts_by_unit(units_, counts)


@st.cache_data(max_entries=32, ttl=600)
def tickets_page(url: str, version: str, user: User, where: TicketFilter):
    """Return (total matching, one page of tickets) within ``user``'s scope, masked as the role requires."""
    scoped = ScopedStore(get_store(url), user)
    return scoped.count_where(where), scoped.read_tickets(where)


@st.cache_data(max_entries=8, ttl=600)
def tickets_all(url: str, version: str, user: User, where: TicketFilter):
    """Return every ticket matching ``where`` within scope (for exports and a grid's own list)."""
    return ScopedStore(get_store(url), user).read_tickets(where)


@st.cache_data(max_entries=8, ttl=3600)
def ticket_places(url: str, version: str, source_ids: tuple[str, ...]):
    """Return the place links of the given tickets."""
    links = get_store(url).read_ticket_places()
    return links[links["source_id"].isin(source_ids)]


@st.cache_data(max_entries=32, ttl=3600)
def place_count(url: str, version: str, level: str, at: str | None, user: User, parent: str | None = None,
                code: str | None = None) -> int:
    """Return how many places lie in the units the drill-down map shows (only unit ``code`` when given)."""
    units_ = scoped_unit_counts(url, version, level, at, user, parent)
    if code is not None:
        units_ = units_[units_["code"] == code]
    return len(_places_within(places(url, version), units_)) if len(units_) else 0


def _places_within(pl, units_):
    """The places that touch ``units_`` (all of them when there are no units)."""
    return pl[pl.intersects(units_.union_all())] if len(units_) else pl


# Maps are NOT cached as folium objects: st_folium renders the object it is given, and a
# folium Map rendered a second time emits JavaScript that references layers it no longer
# defines (the frame stays blank). Building one from the cached layers takes ~0.1 s.
def unit_map(url: str, version: str, lang: str, measure: str, at: str | None, user: User,
             level: str, parent: str | None, basemap: str, key: str | None, selected: str | None = None,
             tickets=None, finer: str | None = "default"):
    """Return the drill-down map for one level (children of ``parent``), built once per arguments."""
    from minqing.maps.choropleth import unit_map as build

    units_ = scoped_unit_counts(url, version, level, at, user, parent)
    outlines = None
    if finer == "default":  # the next level down (a city may skip one: the page says which it has)
        finer = {"subdistrict": "community", "community": "grid"}.get(level)
    if finer:
        f = units(url, version, finer, at)
        outlines = f[f["parent_code"].isin(units_["code"])]
    pl = _places_within(places(url, version), units_)
    return build(units_, pl, level=level, outlines=outlines, lang=lang, measure=measure, basemap=basemap, key=key,
                 selected=selected, tickets=tickets)
