"""热点: Gi* maps on H3 cells and grids, emerging hot spots, place ranking, one class of cases, forecast."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from minqing.analysis.aggregate import count_tickets
from minqing.analysis.class_of_cases import class_of_cases
from minqing.analysis.emerging import emerging_hotspots
from minqing.analysis.forecast import forecast_counts, to_matrix
from minqing.analysis.getis_ord import gi_star, queen_weights
from minqing.analysis.place_rank import MEASURES, rank_places
from minqing.citytime import today as today_in
from minqing.geo.h3cells import cells_to_str
from minqing.i18n import fmt_float, t
from minqing.maps import class_of_cases_map, hex_bins_map, units_bins_map
from minqing.model import CATEGORIES, CHANNELS, category_path
from minqing.store import TicketFilter
from minqing.ui import data
from minqing.ui import data_hotspots as hd
from minqing.ui.components import data_as_of, empty_state, guard, lang, show_table


def _cat_label(code: str, lang: str) -> str:
    return t("hotspots.category_all", lang) if code == "" else f"{code} {category_path(code, lang)}"


def _chan_label(code: str, lang: str) -> str:
    return t("hotspots.channel_all", lang) if code == "" else CHANNELS[code].label(lang)


def _key_label(prefix: str, code: str, lang: str) -> str:
    return t(f"hotspots.{prefix}{code}", lang)


def render() -> None:
    """Draw the page."""
    lg = lang()
    user = guard("hotspots")
    store = data.current_store()
    url, version = store.url, data.data_version(store)
    st.title(t("hotspots.heading", lg))
    data_as_of(store, lg, sidebar=True)  # "data up to" (a warning when old), beside the map, not above it
    st.caption(t("hotspots.caption", lg))
    first, last = data.ticket_span(url, version)
    if first is None:
        empty_state("empty.no_tickets", "empty.no_tickets_hint", lg)
        return
    c = st.columns([2, 2, 1.5, 1])
    lo, hi = first.date(), last.date()
    default_start = max(lo, (pd.Timestamp(hi) - pd.DateOffset(months=6)).date())
    period = c[0].date_input(t("hotspots.period", lg), (default_start, hi), min_value=lo, max_value=hi,
                             key="hs_period")
    start, end = (period if isinstance(period, (tuple, list)) and len(period) == 2 else (default_start, hi))
    cat = c[1].selectbox(t("hotspots.category", lg), [""] + list(CATEGORIES), key="hs_cat",
                         format_func=partial(_cat_label, lang=lg))
    chan = c[2].selectbox(t("hotspots.channel", lg), [""] + list(CHANNELS), key="hs_chan",
                          format_func=partial(_chan_label, lang=lg))
    res = c[3].selectbox(t("hotspots.res", lg), [7, 8, 9, 10], index=2, key="hs_res")
    t0 = pd.Timestamp(start, tz=store.timezone)
    t1 = pd.Timestamp(end, tz=store.timezone) + pd.Timedelta(days=1)
    where_all = TicketFilter(categories=(cat,) if cat else None, channels=(chan,) if chan else None)
    every = hd.tickets(url, version, where_all, user)
    sel = every[(every["received_at"] >= t0) & (every["received_at"] < t1)]
    if sel.empty:
        st.info(t("hotspots.no_tickets", lg))
        return
    links = hd.links(url, version)
    places = data.places(url, version)
    names = ("hex", "grid", "emerging", "rank", "class", "forecast", "channel")
    draw = {
        "hex": partial(_hex, url, version, sel, res, places, lg),
        "grid": partial(_grid, url, version, sel, lg),
        "emerging": partial(_emerging, url, version, every, res, t1, lg),
        "rank": partial(_rank, sel, links, places, t0, t1, lg),
        "class": partial(_class, every, links, places, cat, lg),
        "forecast": partial(_forecast, every, links, places, t1, lg),
        "channel": partial(_channels, every, lg),
    }
    # Stateful tabs: only the open one is computed on a rerun.
    tabs = st.tabs([t(f"hotspots.tab_{k}", lg) for k in names], key="hs_tab", on_change="rerun")
    for name, tab in zip(names, tabs):
        if tab.open is not False:
            with tab:
                draw[name]()


def _gi_summary(g, lg):
    if g.reason:
        st.warning(t(g.reason, lg))
    else:
        st.caption(t("hotspots.units_count", lg, n=len(g.y), hot=int((g.bins > 0).sum()), cold=int((g.bins < 0).sum())))


def _hex(url, version, sel, res, places, lg):
    cells = hd.study_cells(url, version, res)
    counts = count_tickets(sel, "cell", res=res).table.set_index("cell")["tickets"]
    y = counts.reindex(cells, fill_value=0).to_numpy(dtype=float)
    g = gi_star(y, hd.h3_weights(url, version, res), cells)
    _gi_summary(g, lg)
    m = hex_bins_map(cells, g.bins, y, lg, places, value_label=t("hotspots.tickets", lg))
    st_folium(m, height=520, use_container_width=True, returned_objects=[], key="hs_hex_map")


def _grid(url, version, sel, lg):
    today = today_in(data.get_store(url).timezone)
    grids = data.units(url, version, "grid", today).reset_index(drop=True)
    counts = count_tickets(sel, "grid").table.set_index("grid")["tickets"]
    y = grids["code"].map(counts).fillna(0).to_numpy(dtype=float)
    g = gi_star(y, queen_weights(grids), grids["code"].to_numpy())
    _gi_summary(g, lg)
    st.caption(t("hotspots.grid_note", lg))
    gdf = grids[["code", "geometry"]].assign(bin=g.bins, value=y)
    st_folium(units_bins_map(gdf, lg, value_label=t("hotspots.tickets", lg)), height=520,
              use_container_width=True, returned_objects=[], key="hs_grid_map")


def _months_before(t1, n=24):
    last = (pd.Timestamp(t1).tz_localize(None) - pd.Timedelta(days=1)).to_period("M")
    if (pd.Timestamp(t1).tz_localize(None)).to_period("M") == last:  # range ends inside a month
        last = last - 1
    return [str(p) for p in pd.period_range(last - (n - 1), last, freq="M")]


def _emerging(url, version, every, res, t1, lg):
    st.caption(t("hotspots.emerging_caption", lg))
    months = _months_before(t1, 24)
    cells = hd.study_cells(url, version, res)
    c = count_tickets(every, "cell", res=res, freq="month").table
    ids, cube = to_matrix(c, "cell", months)
    full = pd.DataFrame(cube, index=ids).reindex(cells, fill_value=0)
    e = emerging_hotspots(full.to_numpy(), cells, months)
    if e.reason:
        st.warning(t(e.reason, lg))
        return
    f = e.to_frame()
    f = f[f["class"] != "no_pattern"].copy()
    f["label"] = [t(f"hotspots.class_{k}", lg) for k in f["class"]]
    summary = f.groupby("label").size().rename(t("hotspots.cells", lg))
    st.bar_chart(summary)
    f["cell"] = cells_to_str(f["cell"].to_numpy())
    show_table(f[["cell", "label", "trend_z", "hot_steps", "cold_steps", "last_bin"]].rename(
        columns={"cell": t("hotspots.where_cell", lg), "label": t("hotspots.class", lg),
                 "trend_z": t("hotspots.trend_z", lg), "hot_steps": t("hotspots.hot_steps", lg),
                 "cold_steps": t("hotspots.cold_steps", lg), "last_bin": t("hotspots.last_bin", lg)}),
        hide_index=True, width="stretch")


def _rank(sel, links, places, t0, t1, lg):
    c = st.columns(2)
    by = c[0].selectbox(t("hotspots.rank_by", lg), MEASURES, key="hs_rank_by",
                        format_func=partial(_key_label, "rank_", lang=lg))
    mn = c[1].number_input(t("hotspots.min_tickets", lg), 1, 1000, 5, key="hs_rank_min")
    r = rank_places(sel, links, places, by=by, min_tickets=int(mn), start=t0, end=t1)
    tab = r.table.merge(places[["place_id", "name"]], on="place_id", how="left")
    tab["reason"] = [t(k, lg) if isinstance(k, str) else "" for k in tab["unranked_reason"]]
    show = tab[["rank", "name", "place_id", "tickets", "problems", "rate_30d", "repeat_share", "unsatisfied_share",
                "reason"]]
    show_table(show.rename(columns={"rank": t("hotspots.rank", lg), "name": t("hotspots.place", lg),
                                      "tickets": t("hotspots.tickets", lg), "problems": t("hotspots.problems", lg),
                                      "rate_30d": t("hotspots.rank_rate_30d", lg),
                                      "repeat_share": t("hotspots.rank_repeat_share", lg),
                                      "unsatisfied_share": t("hotspots.rank_unsatisfied_share", lg),
                                      "reason": t("hotspots.reason", lg)}),
                 hide_index=True, width="stretch")


def _class(every, links, places, cat, lg):
    c = st.columns(2)
    leaf = [k for k, v in CATEGORIES.items() if v.level >= 2]
    code = c[0].selectbox(t("hotspots.class_category", lg), leaf,
                          index=leaf.index(cat) if cat in leaf else leaf.index("03.01.01"), key="hs_class_cat",
                          format_func=partial(_cat_label, lang=lg))
    mn = c[1].number_input(t("hotspots.class_min", lg), 1, 1000, 3, key="hs_class_min")
    cc = class_of_cases(every if not cat or code.startswith(cat) else every, links, code, min_tickets=int(mn))
    tab = cc.table.copy()
    names = dict(zip(places["place_id"], places["name"]))
    tab["where"] = [names.get(w, w) if k == "place" else cells_to_str([w])[0] for k, w in
                    zip(tab["where_type"], tab["where_id"])]
    tab["where_type"] = [t(f"hotspots.where_{k}", lg) for k in tab["where_type"]]
    tab["first"] = tab["first"].dt.strftime("%Y-%m-%d")
    tab["last"] = tab["last"].dt.strftime("%Y-%m-%d")
    show_table(tab[["where_type", "where", "tickets", "first", "last", "months"]].rename(columns={
        "where_type": t("hotspots.where", lg), "where": t("hotspots.place", lg), "tickets": t("hotspots.tickets", lg),
        "first": t("hotspots.first", lg), "last": t("hotspots.last", lg), "months": t("hotspots.months", lg)}),
        hide_index=True, width="stretch")
    if len(cc.table):
        st_folium(class_of_cases_map(places, cc.table, lg), height=480, use_container_width=True,
                  returned_objects=[], key="hs_class_map")


def _forecast(every, links, places, t1, lg):
    level = st.radio(t("hotspots.forecast_level", lg), ["place", "cell"], horizontal=True, key="hs_fc_level",
                     format_func=partial(_key_label, "level_", lang=lg))
    months = _months_before(t1, 24)
    c = count_tickets(every, "place" if level == "place" else "cell", res=9, freq="month", links=links).table
    ids, m = to_matrix(c, level, months)
    if len(ids) == 0:
        st.info(t("hotspots.no_tickets", lg))
        return
    f = forecast_counts(m, ids, months)
    st.caption(t("hotspots.forecast_caption", lg, month=f.month, mae=fmt_float(f.backtest["mae"].mean(), 2, lg),
                 naive=fmt_float(f.backtest["mae_naive"].mean(), 2, lg), skill=fmt_float(f.skill, 2, lg),
                 coverage=fmt_float(f.coverage * 100, 0, lg) + "%"))
    st.caption(t("hotspots.forecast_seasonal" if f.seasonal else "hotspots.forecast_flat", lg))
    tab = f.table.copy()
    if level == "place":
        tab["id"] = tab["id"].map(dict(zip(places["place_id"], places["name"]))).fillna(tab["id"])
    else:
        tab["id"] = cells_to_str(tab["id"].to_numpy())
    show_table(tab.rename(columns={"id": t("hotspots.where", lg), "last": t("hotspots.last_month", lg),
                                     "expected": t("hotspots.expected", lg), "lower": t("hotspots.lower", lg),
                                     "upper": t("hotspots.upper", lg), "rising": t("hotspots.rising", lg)}),
                 hide_index=True, width="stretch")
    show_table(f.backtest.rename(columns={c: t(f"hotspots.bt_{c}", lg) for c in f.backtest.columns}),
                 hide_index=True)


def _channels(every, lg):
    st.caption(t("hotspots.channel_caption", lg))
    c = count_tickets(every, ("channel",), freq="month").table
    c["channel"] = [CHANNELS[k].label(lg) if k in CHANNELS else k for k in c["channel"]]
    wide = c.pivot_table(index="period", columns="channel", values="tickets", aggfunc="sum", fill_value=0)
    st.bar_chart(wide)
