"""Cached data of the meeting view, keyed on the store URL and its data version.

Same rules as :mod:`minqing.ui.cache.data`: every cache has ``ttl`` or
``max_entries``, cached functions depend only on their arguments, and the
user's scope is applied in the data layer (:func:`minqing.auth.scoped_filter`)
before any store call.  Heavy work runs as SQL aggregates
(``Store.kpi_counts`` / ``Store.top_problem_counts`` / ``Store.count_tickets``), never on raw
tickets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import pandas as pd
import streamlit as st

from minqing.analysis.aggregate import counts_by_unit
from minqing.analysis.kpis import KpiBoard, comparison_months, kpi_board, month_bounds, shift_month
from minqing.analysis.top_problems import TopProblems, label_problems, top_problems
from minqing.analysis.channel_mix import surge_labels
from minqing.auth import User, scoped_filter
from minqing.model import CITIZEN_CHANNELS
from minqing.store import TicketFilter
from minqing.ui.cache.data import get_store, places, units

TOP_N = 10
"""How many problems the meeting view lists."""


@dataclass(frozen=True)
class Scope:
    """What the meeting looks at: a unit level and codes (None = everything), a theme category and channels.

    ``channels`` (None = all) applies to the map and the top 10; the KPI cards
    always count every channel (their proactive share needs the proactive ones).
    """

    level: str | None = None
    codes: tuple[str, ...] | None = None
    theme: str | None = None
    channels: tuple[str, ...] | None = CITIZEN_CHANNELS

    def where(self, user: User, start=None, end=None) -> TicketFilter:
        """Return the scoped ticket filter for a time range."""
        f = TicketFilter(
            start=start,
            end=end,
            unit_level=self.level if self.codes else None,
            unit_codes=self.codes if self.codes else None,
            categories=(self.theme,) if self.theme else None,
            channels=self.channels,
        )
        return scoped_filter(user, f)


@st.cache_data(max_entries=64, ttl=3600)
def board(url: str, version: str, user: User, scope: Scope, month: str, as_of: str) -> KpiBoard:
    """Return the KPI board of ``month`` (three month-sized SQL aggregates: this, last month, last year)."""
    store = get_store(url)
    frames = []
    every = replace(scope, channels=None)  # KPIs count every channel
    for m in comparison_months(month):
        start, end = month_bounds(m, store.timezone)
        frames.append(store.kpi_counts(every.where(user, start, end), as_of))
    return kpi_board(pd.concat(frames, ignore_index=True), month)


@st.cache_data(max_entries=64, ttl=3600)
def top(url: str, version: str, user: User, scope: Scope, month: str, level: int, lang: str) -> TopProblems:
    """Return the month's top 10 problems (labelled in ``lang``) at category ``level``."""
    store = get_store(url)
    start, _ = month_bounds(shift_month(month, -3), store.timezone)
    _, end = month_bounds(month, store.timezone)
    counts, typical = store.top_problem_counts(scope.where(user, start, end), month, level, TOP_N)
    result = top_problems(counts, month, TOP_N, typical=typical)
    grids = units(url, version, "grid", None)
    labelled = label_problems(result.table, places(url, version), grids.drop_duplicates("code", keep="last"), lang)
    return TopProblems(result.month, labelled, result.has_unplaced)


@st.cache_data(max_entries=64, ttl=3600)
def month_units(url: str, version: str, user: User, scope: Scope, month: str, map_level: str,
                parent: str | None):
    """Return the units of ``map_level`` (children of ``parent`` when given) with the month's counts.

    ``channel_note`` says where one channel drives a unit's count ("扫码上报 61 %", see
    :mod:`minqing.analysis.channel_mix`; in both languages: ``channel_note_en``).
    """
    store = get_store(url)
    start, end = month_bounds(month, store.timezone)
    at = str((start + pd.Timedelta(days=14)).date())
    u = store.read_units(map_level, at=at)
    if parent is not None:
        u = _under(store, u, parent, at)
    if scope.level == map_level and scope.codes:
        u = u[u["code"].isin(scope.codes)]
    counts = store.count_tickets(map_level, scope.where(user, start, end), by_channel=True)
    counts = counts[counts["code"].isin(u["code"])]  # the map's units are the comparison
    out = counts_by_unit(u, counts)
    for lang, col in (("zh", "channel_note"), ("en", "channel_note_en")):
        labels = surge_labels(counts, "code", lang)
        out[col] = [labels.get(c, "") for c in out["code"]]
    return out


def _under(store, units, ancestor: str, at: str):
    """Return the rows of ``units`` that lie under ``ancestor`` (at any level above them)."""
    everything = store.read_units(None, at=at)
    up = dict(zip(everything["code"], everything["parent_code"]))

    def inside(code) -> bool:
        seen = 0
        while isinstance(code, str) and seen < 8:
            if code == ancestor:
                return True
            code, seen = up.get(code), seen + 1
        return False

    return units[[inside(p) for p in units["parent_code"]]]


# Not cached as a folium object (see ui/cache/data.py: a Map rendered twice breaks); built from cached layers.
def meeting_map(url: str, version: str, user: User, scope: Scope, month: str, map_level: str,
                parent: str | None, lang: str, level: int = 2):
    """Return the month's choropleth (folium) for a projector, built from the cached month counts.

    Every unit (or the busiest, see ``minqing.maps.choropleth.MAX_LABELS``) carries a permanent label
    with its name, count and channel flag; the top-10 table's places and grids are
    marked with their rank.
    """
    from minqing.maps.choropleth import unit_map

    u = month_units(url, version, user, scope, month, map_level, parent)
    pl = places(url, version)
    if len(u):
        pl = pl[pl.intersects(u.union_all())]
    marks = top_marks(top(url, version, user, scope, month, level, lang).table, pl,
                      units(url, version, "grid", None).drop_duplicates("code", keep="last"))
    if len(u) and len(marks):
        marks = marks[marks.intersects(u.union_all())]
    return unit_map(u, pl, level=map_level, lang=lang, measure="tickets", labels=True, marks=marks)


def top_marks(table: pd.DataFrame, places_, grids) -> gpd.GeoDataFrame:
    """Return (rank, geometry) of the top-10 rows: the place, or the grid of a row without a place."""
    geoms = {("place", k): g for k, g in zip(places_["place_id"], places_.geometry)}
    geoms.update({("grid", k): g for k, g in zip(grids["code"], grids.geometry)})
    rows = [(r, geoms.get((w, i))) for r, w, i in zip(table["rank"], table["where_type"], table["where_id"])]
    rows = [(r, g) for r, g in rows if g is not None]
    return gpd.GeoDataFrame({"rank": [r for r, _ in rows]}, geometry=[g for _, g in rows], crs=4326)


@st.cache_data(max_entries=16, ttl=3600)
def report_html(url: str, version: str, user: User, scope: Scope, month: str, map_level: str,
                parent: str | None, level: int, lang: str, as_of: str, scope_label: str,
                theme_label: str | None) -> str:
    """Return the one-page meeting report (HTML)."""
    from minqing.report import meeting_report

    tp = top(url, version, user, scope, month, level, lang)
    return meeting_report(
        board(url, version, user, scope, month, as_of),
        tp.table,
        month_units(url, version, user, scope, month, map_level, parent),
        scope_label=scope_label,
        theme_label=theme_label,
        has_unplaced=tp.has_unplaced,
        lang=lang,
        generated_at=pd.Timestamp(as_of),
    )


@st.cache_data(max_entries=16, ttl=3600)
def months(url: str, version: str) -> list[str]:
    """Return the months with tickets, newest first ("YYYY-MM")."""
    first, last = get_store(url).received_range()
    if first is None:
        return []
    rng = pd.period_range(first.tz_localize(None).to_period("M"), last.tz_localize(None).to_period("M"), freq="M")
    return [str(p) for p in rng[::-1]]
