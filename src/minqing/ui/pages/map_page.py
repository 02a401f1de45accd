"""地图: work orders by unit, drilling down sub-district -> community -> grid -> its tickets.

The view lives in the URL (``?sd=...&cm=...&g=...&lang=...``) so it can be shared.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import streamlit as st

from minqing.auth import can
from minqing.citytime import today as today_in
from minqing.htmlsafe import escape_markdown
from minqing.i18n import fmt_date, fmt_float, fmt_int, t
from minqing.store import TicketFilter
from minqing.ui.cache import data
from minqing.ui.components import caveat, empty_state, show_table
from minqing.ui.mapview import show_map
from minqing.ui.page import open_page
from minqing.ui.tables import ticket_table

LEVELS = ("subdistrict", "community", "grid")
PARAM_OF = {"subdistrict": "sd", "community": "cm", "grid": "g"}
PARAMS = tuple(PARAM_OF.values())


def render() -> None:
    """Draw the page."""
    page = open_page("map", "overview.heading")
    lg, user, store, url, version = page.lang, page.user, page.store, page.url, page.version
    caveat(lg)
    today = today_in(store.timezone)

    # a city may have any of the levels: the drill-down runs over those it has
    levels = [lv for lv in LEVELS if not data.units(url, version, lv, today).empty]
    if not levels:
        empty_state("empty.no_units", "empty.no_units_hint", lg)
        return
    first, last = page.ticket_span()
    if first is not None:
        st.caption(t("overview.period", lg, start=fmt_date(first, lg), end=fmt_date(last, lg)))

    drill = _drill(levels)
    names = _names(url, version, today, lg)
    _breadcrumb(drill.path, names, lg, drill.params)
    counts = data.scoped_unit_counts(url, version, drill.level, today, user, drill.parent)
    _cards(url, version, drill.level, today, user, drill.parent, counts, drill.selected, lg)

    measure = st.radio(
        t("overview.measure", lg), ("rate", "tickets"),
        format_func=partial(_measure_label, lang=lg), horizontal=True, key="overview_measure",
    )
    _drill_map(page, drill, today, counts, measure)
    finer = _finer(levels, drill.level)
    st.caption(_map_caption(drill.level, measure, finer, names.get(drill.selected, drill.selected), lg))

    if drill.leaf and can(user, "tickets"):
        _grid_tickets(url, version, user, drill.path[-1], names, lg, drill.level)
    elif drill.leaf:
        st.info(t("drill.counts_only", lg))
    else:
        _table(counts, drill.level, lg)


class _Drill(NamedTuple):
    """Where the drill-down stands: the city's levels, the codes chosen so far, the level the map shows."""

    levels: list[str]
    params: list[str]  # the URL parameter of each level
    path: list[str]  # the chosen code of each level, from the coarsest
    depth: int  # the index of the level shown
    level: str
    parent: str | None  # the unit whose children are shown
    leaf: bool  # one unit of the finest level chosen: its own tickets
    selected: str | None  # that unit


def _drill(levels: list[str]) -> _Drill:
    """Read where the drill-down stands from the URL (``?sd=...&cm=...&g=...``)."""
    params = [PARAM_OF[lv] for lv in levels]
    path = [st.query_params.get(p) for p in params]
    path = path[: next((i for i, v in enumerate(path) if not v), len(path))]
    depth = min(len(path), len(levels) - 1)
    leaf = len(path) == len(levels)  # one unit of the finest level chosen: its own tickets
    return _Drill(levels, params, path, depth, levels[depth], path[depth - 1] if depth else None, leaf,
                  path[-1] if leaf else None)


def _drill_map(page, drill: _Drill, today, counts, measure: str) -> None:
    """The map of the level shown; a click on a unit drills down into it in the same run."""
    url, version, lg, user = page.url, page.version, page.lang, page.user
    level, parent, path, depth, selected = drill.level, drill.parent, drill.path, drill.depth, drill.selected
    basemap = st.session_state.get("basemap", "none")

    def build():
        points = None
        # the chosen grid's own tickets as clustered points (masked as the role requires); a meeting viewer
        # sees counts only, nothing finer than a grid
        if drill.leaf and can(user, "tickets"):
            points = data.tickets_all(url, version, user, TicketFilter(unit_level=level, unit_codes=(path[-1],)))
        return data.unit_map(url, version, lg, measure, today, user, level, parent, basemap, _tianditu_key(basemap),
                             selected=selected, tickets=points, finer=_finer(drill.levels, level))

    key = f"map_{level}_{parent}_{measure}_{basemap}_{lg}"
    codes = set(counts["code"])

    def clicked():  # runs before the rerun the click causes: the new level is drawn in that one run
        code = ((st.session_state.get(key) or {}).get("last_active_drawing") or {}).get("properties", {}).get("code")
        if code and code in codes and (len(path) <= depth or path[depth] != code):
            _set_path(path[:depth] + [code], drill.params)

    show_map(build, (url, version, lg, measure, str(today), user, level, parent, basemap, selected,
                     tuple(drill.levels)), key=key, height=620, returned_objects=("last_active_drawing",),
             on_change=clicked)


def _cards(url, version, level, today, user, parent, counts, selected, lg):
    """The chosen unit's own figures: the units shown (children of ``parent``), or the one ``selected``."""
    own = counts[counts["code"] == selected] if selected is not None else counts
    cols = st.columns(4)
    cols[0].metric(t("overview.tickets", lg), fmt_int(int(own["tickets"].sum()), lg))
    if selected is None:
        cols[1].metric(t(f"drill.units_{level}", lg), fmt_int(len(counts), lg))
    else:  # one unit: its rate, not the number of its siblings
        cols[1].metric(t("overview.col_rate", lg), fmt_float(own["rate"].iloc[0] if len(own) else None, 1, lg))
    cols[2].metric(t("overview.places", lg),
                   fmt_int(data.place_count(url, version, level, today, user, parent, selected), lg))
    cols[3].metric(t("overview.total", lg), fmt_int(data.ticket_total(url, version), lg))


def _map_caption(level: str, measure: str, finer: str | None, selected: str | None, lg: str) -> str:
    """Say which level the map shows, what the shading is, what the thin lines are."""
    parts = [t(f"overview_level.level_{level}", lg)]
    if selected:
        parts.append(t("overview_level.selected", lg, name=escape_markdown(selected)))
    parts.append(t(f"overview_level.shading_{measure}", lg))
    if finer and not selected:
        parts.append(t(f"overview_level.outlines_{finer}", lg))
    parts += [t("overview_level.places", lg), t("drill.click_hint", lg)]
    return ("" if lg == "zh" else " ").join(parts)


def _finer(levels: list[str], level: str) -> str | None:
    i = levels.index(level)
    return levels[i + 1] if i + 1 < len(levels) else None


def _grid_tickets(url, version, user, grid, names, lg, level: str = "grid"):
    st.subheader(t("drill.grid_tickets", lg, name=escape_markdown(names.get(grid, grid))))
    where = TicketFilter(unit_level=level, unit_codes=(grid,), limit=200, newest_first=True)
    total, rows = data.tickets_page(url, version, user, where)
    st.caption(t("tickets.found", lg, n=fmt_int(total, lg)))
    if total:
        ticket_table(rows, lg, key="drill_tickets")


def _table(counts, level, lg):
    st.subheader(t(f"drill.table_{level}", lg))
    table = counts.sort_values("tickets", ascending=False)
    name_col = "name" if lg == "zh" or "name_en" not in table.columns else "name_en"
    show_table(
        {
            t("overview.col_name", lg): table[name_col].fillna(table["name"]).tolist(),
            t("overview.col_code", lg): table["code"].tolist(),
            t("overview.col_population", lg): [fmt_int(v, lg) for v in table["population"]],
            t("overview.col_tickets", lg): [fmt_int(v, lg) for v in table["tickets"]],
            t("overview.col_rate", lg): [fmt_float(v, 1, lg) for v in table["rate"]],
            t("overview.col_share", lg): [f"{v:.1%}" for v in table["share"]],
        },
        hide_index=True,
        width="stretch",
    )


def _names(url, version, today, lg) -> dict:
    out = {}
    for level in ("subdistrict", "community", "grid"):
        u = data.units(url, version, level, today)
        col = "name_en" if lg == "en" and "name_en" in u.columns else "name"
        out.update(dict(zip(u["code"], u[col].fillna(u["name"]))))
    return out


def _breadcrumb(path, names, lg, params):
    crumbs = [t("drill.district", lg)] + [names.get(c, c) for c in path]
    cols = st.columns(len(crumbs) + 1)
    for i, label in enumerate(crumbs):
        if i < len(crumbs) - 1:
            # names come from files; the callback moves up before the rerun: one run, not two
            cols[i].button(escape_markdown(label), key=f"crumb_{i}", type="tertiary", on_click=_set_path,
                           args=(path[:i], params))
        else:
            cols[i].markdown(f"**{escape_markdown(label)}**")


def _set_path(path, params=None):
    for p in set(PARAMS) - set(params or PARAMS):  # parameters of levels this city does not have
        if p in st.query_params:
            del st.query_params[p]
    for i, p in enumerate(params or PARAMS):
        if i < len(path):
            st.query_params[p] = path[i]
        elif p in st.query_params:
            del st.query_params[p]


def _tianditu_key(basemap: str) -> str | None:
    if basemap != "tianditu":
        return None
    from minqing.config import setting

    return setting("TIANDITU_KEY")


def _measure_label(measure: str, lang: str) -> str:
    return t("overview.measure_rate" if measure == "rate" else "overview.measure_count", lang)
