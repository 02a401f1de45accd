"""工单: a searchable, filterable ticket table and a detail view, within the user's scope."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import pandas as pd
import streamlit as st

from minqing.i18n import fmt_int, t
from minqing.store import TicketFilter
from minqing.ui.cache import data
from minqing.ui.page import open_page
from minqing.ui.tables import export_buttons, ticket_detail, ticket_table

PAGE_SIZE = 100


def render() -> None:
    """Draw the page."""
    page = open_page("tickets", "tickets.heading")
    lg, user, url, version = page.lang, page.user, page.url, page.version
    first, last = page.ticket_span()
    if first is None:
        return

    where = _filters(url, version, lg, first.date(), last.date(), user)
    page = st.session_state.get("tickets_page_no", 0)
    total, rows = data.tickets_page(url, version, user, _paged(where, page))
    st.caption(t("tickets.found", lg, n=fmt_int(total, lg)))
    if total == 0:
        st.info(t("tickets.no_match", lg))
        return
    pages = max((total - 1) // PAGE_SIZE + 1, 1)
    if pages > 1:
        page = st.number_input(t("tickets.page", lg, pages=pages), 1, pages, page + 1, key="tickets_page_input") - 1
        st.session_state["tickets_page_no"] = page
        rows = data.tickets_page(url, version, user, _paged(where, page))[1]
    ticket_table(rows, lg)

    ids = rows["source_id"].tolist()
    chosen = st.selectbox(t("tickets.detail_pick", lg), ids, index=None, key="tickets_detail",
                          placeholder=t("common.choose_one", lg))
    if chosen:
        name = "name_en" if lg == "en" else "name"
        places, grids = data.places(url, version), data.units(url, version, "grid", None)
        ticket_detail(rows[rows["source_id"] == chosen].iloc[0], data.ticket_places(url, version, (chosen,)), lg,
                      dict(zip(places["place_id"], places[name].fillna(places["name"]))),
                      dict(zip(grids["code"], grids[name].fillna(grids["name"]))))

    if total <= 50_000:
        export_buttons(partial(data.tickets_all, url, version, user, where), "tickets", lg)
    else:
        st.caption(t("tickets.export_too_many", lg, n=fmt_int(50_000, lg)))


def _paged(where: TicketFilter, page: int) -> TicketFilter:
    from dataclasses import replace

    return replace(where, limit=PAGE_SIZE, offset=page * PAGE_SIZE, newest_first=True)


def _filters(url, version, lg, first: date, last: date, user) -> TicketFilter:
    from minqing.model import CATEGORIES, CHANNELS, KINDS, SATISFACTION, STATUSES

    any_ = t("common.choose_many", lg)  # Streamlit's own placeholder is English
    with st.form("ticket_filters", border=True):
        c1, c2, c3 = st.columns(3)
        span = c1.date_input(
            t("tickets.period", lg), (max(first, last - timedelta(days=30)), last),
            min_value=first, max_value=last, key="tickets_period",
        )
        subdistricts = data.units(url, version, "subdistrict", None)
        sd_names = dict(zip(subdistricts["code"], subdistricts["name" if lg == "zh" else "name_en"]))
        sds = c2.multiselect(t("tickets.subdistricts", lg), list(sd_names), format_func=sd_names.get, key="tickets_sd", placeholder=any_)
        search = c3.text_input(t("tickets.search", lg), key="tickets_search", max_chars=100)
        c4, c5, c6, c7, c8 = st.columns(5)
        cats = [c for c in CATEGORIES.values() if c.level <= 2]
        categories = c4.multiselect(
            t("tickets.category", lg), [c.code for c in cats],
            format_func=partial(_category_label, lang=lg), key="tickets_cat", placeholder=any_,
        )
        channels = c5.multiselect(t("tickets.channel", lg), list(CHANNELS), format_func=partial(_term, vocab=CHANNELS, lang=lg), key="tickets_ch", placeholder=any_)
        kinds = c6.multiselect(t("tickets.kind", lg), list(KINDS), format_func=partial(_term, vocab=KINDS, lang=lg), key="tickets_kind", placeholder=any_)
        statuses = c7.multiselect(t("tickets.status", lg), list(STATUSES), format_func=partial(_term, vocab=STATUSES, lang=lg), key="tickets_status", placeholder=any_)
        sats = c8.multiselect(t("tickets.satisfaction", lg), list(SATISFACTION), format_func=partial(_term, vocab=SATISFACTION, lang=lg), key="tickets_sat", placeholder=any_)
        if st.form_submit_button(t("tickets.apply", lg)):
            st.session_state["tickets_page_no"] = 0
    start, end = (span if isinstance(span, tuple) and len(span) == 2 else (span[0], span[0]) if isinstance(span, tuple) else (span, span))
    return TicketFilter(
        start=pd.Timestamp(start),
        end=pd.Timestamp(end) + pd.Timedelta(days=1),
        unit_level="subdistrict" if sds else None,
        unit_codes=tuple(sds) if sds else None,
        categories=tuple(categories) or None,
        channels=tuple(channels) or None,
        kinds=tuple(kinds) or None,
        statuses=tuple(statuses) or None,
        satisfactions=tuple(sats) or None,
        search=search.strip() or None,
    )


def _term(code: str, vocab: dict, lang: str) -> str:
    return vocab[code].label(lang)


def _category_label(code: str, lang: str) -> str:
    from minqing.model import category_path

    return category_path(code, lang)
