"""热点: Gi* maps on H3 cells and grids, emerging hot spots, place ranking, one class of cases, forecast."""

from __future__ import annotations

from functools import partial

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from minqing.analysis.place_rank import MEASURES
from minqing.citytime import default_period
from minqing.citytime import today as today_in
from minqing.i18n import fmt_float, t
from minqing.maps.hotspots import class_of_cases_map, emerging_map, hex_bins_map, units_bins_map
from minqing.model import CATEGORIES, CHANNEL_CHOICES, CHANNELS, category_path, channels_for
from minqing.store import TicketFilter
from minqing.ui.cache import data
from minqing.ui.cache import hotspots as hd
from minqing.ui.components import (
    channel_caption,
    channel_choice_label,
    percent_columns,
    show_table,
)
from minqing.ui.locations import cell_ids, cell_labels
from minqing.ui.mapview import show_map
from minqing.ui.page import open_page


def _cat_label(code: str, lang: str) -> str:
    return t("hotspots.category_all", lang) if code == "" else f"{code} {category_path(code, lang)}"


def _key_label(prefix: str, code: str, lang: str) -> str:
    return t(f"hotspots.{prefix}{code}", lang)


def render() -> None:
    """Draw the page."""
    page = open_page("hotspots", "hotspots.heading")
    lg, user, store, url, version = page.lang, page.user, page.store, page.url, page.version
    st.caption(t("hotspots.caption", lg))
    first, last = page.ticket_span()
    if first is None:
        return
    c = st.columns([2, 2, 1.5, 1])
    lo, hi = first.date(), last.date()
    default = default_period(first, last)  # six complete months: the last one ends on its last day
    period = c[0].date_input(t("hotspots.period", lg), default, min_value=lo, max_value=hi, key="hs_period")
    start, end = (period if isinstance(period, (tuple, list)) and len(period) == 2 else default)
    cat = c[1].selectbox(t("hotspots.category", lg), [""] + list(CATEGORIES), key="hs_cat",
                         format_func=partial(_cat_label, lang=lg))
    chan = c[2].selectbox(t("hotspots.channel", lg), CHANNEL_CHOICES, key="hs_chan",
                          format_func=partial(channel_choice_label, lang=lg), help=t("channels.help", lg))
    res = c[3].selectbox(t("hotspots.res", lg), [7, 8, 9, 10], index=2, key="hs_res")
    t0 = pd.Timestamp(start, tz=store.timezone)
    t1 = pd.Timestamp(end, tz=store.timezone) + pd.Timedelta(days=1)
    st.caption(channel_caption(chan, lg))
    where_all = TicketFilter(categories=(cat,) if cat else None, channels=channels_for(chan))
    where_all = hd.scoped(where_all, user)  # the viewer's scope: part of every cache key below
    if not hd.period_count(url, version, where_all, t0, t1):
        st.info(t("hotspots.no_tickets", lg))
        return
    view = (url, version, where_all)  # what every tab's figures depend on, with its own choices
    places = data.places(url, version)
    names = ("hex", "grid", "emerging", "rank", "class", "forecast", "channel")
    draw = {
        "hex": partial(_hex, view, t0, t1, res, places, lg),
        "grid": partial(_grid, view, t0, t1, lg),
        "emerging": partial(_emerging, view, res, t1, lg),
        "rank": partial(_rank, view, places, t0, t1, lg),
        "class": partial(_class, view, t0, t1, places, cat, lg),  # the chosen time range, like every other tab
        "forecast": partial(_forecast, view, places, t1, lg),
        "channel": partial(_channels, url, version, hd.scoped(TicketFilter(categories=(cat,) if cat else None), user),
                           lg),  # the mix: all channels
    }
    # Stateful tabs: only the open one is computed on a rerun.
    tabs = st.tabs([t(f"hotspots.tab_{k}", lg) for k in names], key="hs_tab", on_change="rerun")
    for name, tab in zip(names, tabs):
        if tab.open is not False:
            with tab:
                draw[name]()


def _gi_summary(g, lg, notes=None):
    if g.reason:
        st.warning(t(g.reason, lg))
        return
    st.caption(t("hotspots.units_count", lg, n=len(g.y), hot=int((g.bins > 0).sum()), cold=int((g.bins < 0).sum())))
    flagged = [n for n, b in zip(notes if notes is not None else [], g.bins) if n and b > 0]
    if flagged:  # hot spots a single channel makes: say so beside the map
        by = pd.Series([n.rsplit(" ", 2)[0] for n in flagged]).value_counts()
        st.warning(t("hotspots.flags", lg, n=len(flagged), hot=int((g.bins > 0).sum()),
                     channels="、".join(f"{k} ({v})" for k, v in by.items())))


def _notes(view, t0, t1, key, ids, lg, res=9) -> list[str]:
    """The channel that drives each unit's count ("扫码上报 61 %", or ""), in the order of ``ids``."""
    labels = hd.surge_notes(*view, t0, t1, key, res, lg)
    return [labels.get(i, "") for i in ids]


def _hex(view, t0, t1, res, places, lg):
    cells, y, g = hd.hex_gi(*view, t0, t1, res)
    notes = _notes(view, t0, t1, "cell", cells, lg, res=res)
    _gi_summary(g, lg, notes)
    show_map(lambda: hex_bins_map(cells, g.bins, y, lg, places, value_label=t("hotspots.tickets", lg), notes=notes),
             ("hex", *view, t0, t1, res, lg), height=520, key="hs_hex_map")


def _grid(view, t0, t1, lg):
    url, version = view[:2]
    today = str(today_in(data.get_store(url).timezone))
    codes, y, g = hd.grid_gi(*view, t0, t1, today)
    notes = _notes(view, t0, t1, "grid", codes, lg)
    _gi_summary(g, lg, notes)
    st.caption(t("hotspots.grid_note", lg))

    def build():
        grids = data.units(url, version, "grid", today).reset_index(drop=True)
        gdf = grids[["code", "geometry"]].assign(bin=g.bins, value=y, note=notes)
        return units_bins_map(gdf, lg, value_label=t("hotspots.tickets", lg))

    show_map(build, ("grid", *view, t0, t1, today, lg), height=520, key="hs_grid_map")


def _months_before(t1, n=24):
    last = (pd.Timestamp(t1).tz_localize(None) - pd.Timedelta(days=1)).to_period("M")
    if (pd.Timestamp(t1).tz_localize(None)).to_period("M") == last:  # range ends inside a month
        last = last - 1
    return tuple(str(p) for p in pd.period_range(last - (n - 1), last, freq="M"))


def _emerging(view, res, t1, lg):
    st.caption(t("hotspots.emerging_caption", lg))
    months = _months_before(t1, 24)
    e = hd.emerging(*view, res, months)
    if e.reason:
        st.warning(t(e.reason, lg))
        return
    url, version = view[:2]
    today = str(today_in(data.get_store(url).timezone))
    f = hd.emerging_cells(*view, res, months, today).copy()
    names = _unit_names(url, version, "grid", today, lg)
    f["where"] = [names.get(g, "—") for g in f["grid"]]  # where the cell lies first, its id after
    f["label"] = [t(f"hotspots.class_{k}", lg) for k in f["class"]]
    summary = f.groupby("label").size().rename(t("hotspots.cells", lg))
    summary.index.name = t("hotspots.class", lg)  # the tooltip names the field
    st.bar_chart(summary, x_label=t("hotspots.class", lg), y_label=t("hotspots.cells", lg))
    show_map(lambda: emerging_map(f, lg), ("emerging", *view, res, months, today, lg), height=520,
             key="hs_emerging_map")
    f["cell"] = cell_ids(f["cell"].to_numpy())
    f["trend_z"] = f["trend_z"].round(2)
    show_table(f[["where", "label", "tickets", "trend_z", "hot_steps", "cold_steps", "last_bin", "cell"]].rename(
        columns={"where": t("emerging_map.where_grid", lg), "label": t("hotspots.class", lg),
                 "tickets": t("hotspots.tickets", lg), "trend_z": t("hotspots.trend_z", lg),
                 "hot_steps": t("hotspots.hot_steps", lg), "cold_steps": t("hotspots.cold_steps", lg),
                 "last_bin": t("hotspots.last_bin", lg), "cell": t("hotspots.col_cell_id", lg)}),
        hide_index=True, width="stretch")


def _unit_names(url, version, level, at, lg) -> dict:
    u = data.units(url, version, level, at)
    col = "name_en" if lg == "en" and "name_en" in u.columns else "name"
    return dict(zip(u["code"], u[col].fillna(u["name"])))


def _rank(view, places, t0, t1, lg):
    c = st.columns(2)
    by = c[0].selectbox(t("hotspots.rank_by", lg), MEASURES, key="hs_rank_by",
                        format_func=partial(_key_label, "rank_", lang=lg))
    mn = c[1].number_input(t("hotspots.min_tickets", lg), 1, 1000, 5, key="hs_rank_min")
    r = hd.ranking(*view, t0, t1, by, int(mn))
    tab = r.table.merge(places[["place_id", "name"]], on="place_id", how="left")
    tab["reason"] = [t(k, lg) if isinstance(k, str) else "" for k in tab["unranked_reason"]]
    tab["channel"] = _notes(view, t0, t1, "place", tab["place_id"], lg)
    show = tab[["rank", "name", "place_id", "tickets", "channel", "problems", "rate_30d", "repeat_share",
                "unsatisfied_share", "reason"]].assign(rate_30d=tab["rate_30d"].round(1))
    shares = (t("hotspots.rank_repeat_share", lg), t("hotspots.rank_unsatisfied_share", lg))
    show_table(show.rename(columns={"rank": t("hotspots.rank", lg), "name": t("hotspots.place", lg),
                                      "place_id": t("hotspots.col_place_id", lg),
                                      "tickets": t("hotspots.tickets", lg), "problems": t("hotspots.problems", lg),
                                      "channel": t("map.tooltip_channel", lg),
                                      "rate_30d": t("hotspots.rank_rate_30d", lg),
                                      "repeat_share": t("hotspots.rank_repeat_share", lg),
                                      "unsatisfied_share": t("hotspots.rank_unsatisfied_share", lg),
                                      "reason": t("hotspots.reason", lg)}),
                 hide_index=True, width="stretch", column_config=percent_columns(*shares))


def _class(view, t0, t1, places, cat, lg):
    c = st.columns(2)
    leaf = [k for k, v in CATEGORIES.items() if v.level >= 2]
    code = c[0].selectbox(t("hotspots.class_category", lg), leaf,
                          index=leaf.index(cat) if cat in leaf else leaf.index("03.01.01"), key="hs_class_cat",
                          format_func=partial(_cat_label, lang=lg))
    mn = c[1].number_input(t("hotspots.class_min", lg), 1, 1000, 3, key="hs_class_min")
    cc = hd.class_cases(*view, t0, t1, code, int(mn))
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
        show_map(lambda: class_of_cases_map(places, cc.table, lg), ("class", *view, t0, t1, code, int(mn), lg), height=480,
                 key="hs_class_map")


def _forecast(view, places, t1, lg):
    level = st.radio(t("hotspots.forecast_level", lg), ["place", "cell"], horizontal=True, key="hs_fc_level",
                     format_func=partial(_key_label, "level_", lang=lg))
    f = hd.forecast(*view, level, _months_before(t1, 24))
    if f is None:
        st.info(t("hotspots.no_tickets", lg))
        return
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


def _channels(url, version, where, lg):
    st.caption(t("hotspots.channel_caption", lg))
    wide = hd.channel_months(url, version, where)
    wide = wide.rename(columns={k: CHANNELS[k].label(lg) for k in wide.columns if k in CHANNELS})
    wide = wide.rename_axis(index="period", columns="channel").stack().rename("tickets").reset_index()
    # Altair, not st.bar_chart: Streamlit's own tooltips say "value" and "color"
    month, channel, tickets = t("hotspots.month", lg), t("hotspots.channel", lg), t("hotspots.tickets", lg)
    st.altair_chart(alt.Chart(wide).mark_bar().encode(
        x=alt.X("period:O", title=month), y=alt.Y("tickets:Q", title=tickets),
        color=alt.Color("channel:N", title=channel),
        tooltip=[alt.Tooltip("period:O", title=month), alt.Tooltip("channel:N", title=channel),
                 alt.Tooltip("tickets:Q", title=tickets)]), use_container_width=True)
