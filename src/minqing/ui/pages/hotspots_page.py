"""热点: Gi* maps on H3 cells and grids, emerging hot spots, place ranking, one class of cases, forecast."""

from __future__ import annotations

from functools import partial

import altair as alt
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
from minqing.i18n import fmt_float, t
from minqing.maps import class_of_cases_map, hex_bins_map, units_bins_map
from minqing.model import CATEGORIES, CHANNELS, category_path
from minqing.store import TicketFilter
from minqing.ui import data
from minqing.ui import data_hotspots as hd
from minqing.ui.components import data_as_of, empty_state, guard, lang, percent_columns, show_table
from minqing.ui.locations import cell_ids, cell_labels


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
    summary.index.name = t("hotspots.class", lg)  # the tooltip names the field
    st.bar_chart(summary, x_label=t("hotspots.class", lg), y_label=t("hotspots.cells", lg))
    f["where"] = cell_labels(f["cell"].to_numpy(), lg)  # a readable place first, the H3 id beside it
    f["cell"] = cell_ids(f["cell"].to_numpy())
    f["trend_z"] = f["trend_z"].round(2)
    show_table(f[["where", "cell", "label", "trend_z", "hot_steps", "cold_steps", "last_bin"]].rename(
        columns={"where": t("hotspots.where", lg), "cell": t("hotspots.col_cell_id", lg), "label": t("hotspots.class", lg),
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
                "reason"]].assign(rate_30d=tab["rate_30d"].round(1))
    shares = (t("hotspots.rank_repeat_share", lg), t("hotspots.rank_unsatisfied_share", lg))
    show_table(show.rename(columns={"rank": t("hotspots.rank", lg), "name": t("hotspots.place", lg),
                                      "place_id": t("hotspots.col_place_id", lg),
                                      "tickets": t("hotspots.tickets", lg), "problems": t("hotspots.problems", lg),
                                      "rate_30d": t("hotspots.rank_rate_30d", lg),
                                      "repeat_share": t("hotspots.rank_repeat_share", lg),
                                      "unsatisfied_share": t("hotspots.rank_unsatisfied_share", lg),
                                      "reason": t("hotspots.reason", lg)}),
                 hide_index=True, width="stretch", column_config=percent_columns(*shares))


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
    cells = tab["where_type"] == "cell"
    tab["where"] = [names.get(w, w) for w in tab["where_id"]]
    tab["id"] = tab["where_id"].astype(str)
    if cells.any():  # a readable place first, the H3 id beside it
        tab.loc[cells, "where"] = cell_labels(tab.loc[cells, "where_id"].to_numpy(), lg)
        tab.loc[cells, "id"] = cell_ids(tab.loc[cells, "where_id"].to_numpy())
    tab["where_type"] = [t(f"hotspots.where_{k}", lg) for k in tab["where_type"]]
    tab["first"] = tab["first"].dt.strftime("%Y-%m-%d")
    tab["last"] = tab["last"].dt.strftime("%Y-%m-%d")
    show_table(tab[["where_type", "where", "id", "tickets", "first", "last", "months"]].rename(columns={
        "where_type": t("hotspots.where", lg), "where": t("hotspots.place", lg), "id": t("hotspots.col_id", lg),
        "tickets": t("hotspots.tickets", lg),
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
    st.caption(t("hotspots.forecast_caption", lg, month=f.month, mae=fmt_float(f.backtest["mae"].mean(), 1, lg),
                 naive=fmt_float(f.backtest["mae_naive"].mean(), 1, lg),
                 coverage=fmt_float(f.coverage * 100, 0, lg) + "%") + " " + _skill_text(f.skill, lg))
    st.caption(t("hotspots.forecast_seasonal" if f.seasonal else "hotspots.forecast_flat", lg))
    tab = f.table.copy()
    if level == "place":
        where = tab["id"].map(dict(zip(places["place_id"], places["name"]))).fillna(tab["id"])
    else:  # a readable place first, the H3 id beside it
        where, tab["id"] = cell_labels(tab["id"].to_numpy(), lg), cell_ids(tab["id"].to_numpy())
    tab.insert(0, "where", where)
    tab[["expected", "lower", "upper"]] = tab[["expected", "lower", "upper"]].round(1)
    show_table(tab.rename(columns={"where": t("hotspots.where", lg), "id": t("hotspots.col_id", lg),
                                     "last": t("hotspots.last_month", lg),
                                     "expected": t("hotspots.expected", lg), "lower": t("hotspots.lower", lg),
                                     "upper": t("hotspots.upper", lg), "rising": t("hotspots.rising", lg)}),
                 hide_index=True, width="stretch")
    bt = f.backtest.assign(mae=f.backtest["mae"].round(2), mae_naive=f.backtest["mae_naive"].round(2))
    show_table(bt.rename(columns={c: t(f"hotspots.bt_{c}", lg) for c in bt.columns}), hide_index=True,
               column_config=percent_columns(t("hotspots.bt_coverage", lg)))


def _skill_text(skill: float, lg: str) -> str:
    """The backtest's skill in plain words: how much smaller the model's error was than "same as last month"."""
    if skill is None or not np.isfinite(skill):
        return t("hotspots.forecast_skill_none", lg)
    key = "hotspots.forecast_skill_better" if skill > 0.005 else (
        "hotspots.forecast_skill_worse" if skill < -0.005 else "hotspots.forecast_skill_same")
    return t(key, lg, pct=fmt_float(abs(skill) * 100, 0, lg) + "%")


def _channels(every, lg):
    st.caption(t("hotspots.channel_caption", lg))
    c = count_tickets(every, ("channel",), freq="month").table
    c["channel"] = [CHANNELS[k].label(lg) if k in CHANNELS else k for k in c["channel"]]
    wide = c.groupby(["period", "channel"], as_index=False)["tickets"].sum()
    # Altair, not st.bar_chart: Streamlit's own tooltips say "value" and "color"
    month, channel, tickets = t("hotspots.month", lg), t("hotspots.channel", lg), t("hotspots.tickets", lg)
    st.altair_chart(alt.Chart(wide).mark_bar().encode(
        x=alt.X("period:O", title=month), y=alt.Y("tickets:Q", title=tickets),
        color=alt.Color("channel:N", title=channel),
        tooltip=[alt.Tooltip("period:O", title=month), alt.Tooltip("channel:N", title=channel),
                 alt.Tooltip("tickets:Q", title=tickets)]), use_container_width=True)
