"""总览: the demo city's map and work orders per sub-district."""

from __future__ import annotations

from datetime import date
from functools import partial

import streamlit as st
from streamlit_folium import st_folium

from minqing.i18n import fmt_date, fmt_float, fmt_int, t
from minqing.ui import data
from minqing.ui.components import caveat, empty_state, lang


def render() -> None:
    """Draw the page."""
    lg = lang()
    store = data.current_store()
    url, version = store.url, data.data_version(store)
    st.title(t("overview.heading", lg))
    caveat(lg)

    today = str(date.today())  # show the layer versions in force today
    subdistricts = data.unit_counts(url, version, "subdistrict", today)
    if subdistricts.empty:
        empty_state("empty.no_units", "empty.no_units_hint", lg)
        return
    first, last = data.ticket_span(url, version)
    if first is None:
        empty_state("empty.no_tickets", "empty.no_tickets_hint", lg)
    else:
        st.caption(t("overview.period", lg, start=fmt_date(first, lg), end=fmt_date(last, lg)))

    grids = data.units(url, version, "grid", today)
    places = data.places(url, version)
    cols = st.columns(4)
    cols[0].metric(t("overview.tickets", lg), fmt_int(data.ticket_total(url, version), lg))
    cols[1].metric(t("overview.grids", lg), fmt_int(len(grids), lg))
    cols[2].metric(t("overview.places", lg), fmt_int(len(places), lg))
    cols[3].metric(t("overview.located", lg), fmt_int(int(subdistricts["tickets"].sum()), lg))

    measure = st.radio(
        t("overview.measure", lg),
        ("rate", "tickets"),
        format_func=partial(_measure_label, lang=lg),
        horizontal=True,
        key="overview_measure",
    )
    m = data.overview_map(url, version, lg, measure, today)
    st_folium(m, height=620, use_container_width=True, returned_objects=[], key="overview_map")
    st.caption(t("overview.map_caption", lg))

    st.subheader(t("overview.per_subdistrict", lg))
    name_col = "name" if lg == "zh" else "name_en"
    table = subdistricts.sort_values("tickets", ascending=False)
    st.dataframe(
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


def _measure_label(measure: str, lang: str) -> str:
    return t("overview.measure_rate" if measure == "rate" else "overview.measure_count", lang)
