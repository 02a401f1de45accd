"""我的网格: one grid's open and overdue orders, repeat addresses, what is rising, and its list."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from minqing.analysis.grid_brief import grid_brief
from minqing.auth import User, scope_grids
from minqing.citytime import today as today_in
from minqing.htmlsafe import escape_markdown
from minqing.i18n import fmt_float, fmt_int, t
from minqing.model import RATED, SATISFIED, category_path
from minqing.store import TicketFilter
from minqing.ui.cache import data
from minqing.ui.components import data_as_of, empty_state, show_table
from minqing.ui.page import Page, open_page
from minqing.ui.tables import export_buttons, labelled, ticket_table


def render() -> None:
    """Draw the page."""
    page = open_page("tickets", "mygrid.heading", as_of=False)
    lg, store, url, version = page.lang, page.store, page.url, page.version
    picked = _pick_grid(page)
    if picked is None:
        return
    code, name, user = picked
    st.subheader(escape_markdown(f"{name} · {code}"))

    tickets = data.tickets_all(url, version, user, TicketFilter(unit_level="grid", unit_codes=(code,)))
    if tickets.empty:
        empty_state("mygrid.no_tickets", "empty.no_tickets_hint", lg)
        return
    now = data_as_of(store, lg)  # the data's end when the store was loaded from an old export
    brief = grid_brief(tickets, now)
    _figures(tickets, brief, now, lg)
    _open_orders(brief, lg)

    left, right = st.columns(2)
    with left:
        _brief_table(brief.repeat_addresses, "mygrid.repeat_heading", "mygrid.none", _repeat_columns, lg)
    with right:
        _brief_table(brief.rising, "mygrid.rising_heading", "mygrid.none_rising", _rising_columns, lg)

    st.subheader(t("mygrid.list_heading", lg))
    recent = tickets.sort_values("received_at", ascending=False).head(500)
    ticket_table(recent, lg, key="mygrid_list")
    export_buttons(partial(_rows, tickets), f"grid_{code}", lg)


def _pick_grid(page: Page) -> tuple[str, str, User] | None:
    """Return the grid to show (code, name) and whom to show it as; None when there is none to show.

    A grid leader picks among their own grids; anyone else previews any grid, masked as a planner sees it.
    """
    lg, user, url, version = page.lang, page.user, page.url, page.version
    today = today_in(page.store.timezone)
    grids = data.units(url, version, "grid", today)
    if grids.empty:
        empty_state("empty.no_units", "empty.no_units_hint", lg)
        return None
    names = dict(zip(grids["code"], grids["name"]))
    if user.scoped:
        own = [c for c in scope_grids(user, data.units(url, version, None, today)) if c in names]
        if not own:
            empty_state("mygrid.no_tickets", "empty.no_tickets_hint", lg)
            return None
        code = own[0] if len(own) == 1 else st.selectbox(
            t("mygrid.pick", lg), own, format_func=partial(_label, names=names), key="mygrid_pick")
    else:
        st.info(t("mygrid.preview_hint", lg))
        codes = grids["code"].tolist()
        code = st.selectbox(t("mygrid.pick", lg), codes, format_func=partial(_label, names=names), key="mygrid_pick")
        user = User("planner")  # previewing: masked, and the grid filter below keeps it to one grid
    return code, names.get(code, code), user


def _figures(tickets: pd.DataFrame, brief, now: pd.Timestamp, lg: str) -> None:
    """The grid's cards (this month, last 30 days, open, overdue, satisfaction) and the next 30 days expected."""
    month_start = now.normalize().replace(day=1)
    this_month = tickets[tickets["received_at"] >= month_start]
    last_30 = tickets[tickets["received_at"] > now - pd.Timedelta(days=30)]
    rated = last_30["satisfaction"].isin(RATED)
    satisfied = last_30["satisfaction"].isin(SATISFIED)

    c = st.columns(5)
    c[0].metric(t("mygrid.this_month", lg), fmt_int(len(this_month), lg))
    c[1].metric(t("mygrid.last_30", lg), fmt_int(len(last_30), lg))
    c[2].metric(t("mygrid.open", lg), fmt_int(len(brief.open), lg))
    c[3].metric(t("mygrid.overdue", lg), fmt_int(int(brief.open["overdue"].sum()), lg))
    c[4].metric(
        t("mygrid.satisfaction", lg),
        f"{satisfied.sum() / rated.sum():.0%}" if rated.sum() else "—",
        help=t("mygrid.satisfaction_help", lg),
    )
    lo, hi = brief.expected_interval
    st.caption(
        t("mygrid.expected", lg, mean=fmt_float(brief.expected_next_30d, 1, lg), lo=fmt_int(lo, lg), hi=fmt_int(hi, lg))
    )


def _open_orders(brief, lg: str) -> None:
    """The grid's open orders, with the days each overdue one is late."""
    st.subheader(t("mygrid.open_heading", lg))
    if brief.open.empty:
        st.success(t("mygrid.none_open", lg))
    else:
        table = labelled(brief.open, lg)
        table.insert(2, t("mygrid.col_days_overdue", lg),
                     [int(d) if o else None for d, o in zip(brief.open["days_overdue"], brief.open["overdue"])])
        show_table(table, hide_index=True, width="stretch", key="mygrid_open")


def _brief_table(frame: pd.DataFrame, heading_key: str, none_key: str, columns, lg: str) -> None:
    """A heading and the table ``columns(frame, lg)`` makes of ``frame``, or a line saying there is none."""
    st.subheader(t(heading_key, lg))
    if frame.empty:
        st.caption(t(none_key, lg))
    else:
        show_table(columns(frame, lg), hide_index=True, width="stretch")


def _repeat_columns(r: pd.DataFrame, lg: str) -> dict:
    """The addresses that call again and again: how often, when last, about what."""
    return {
        t("tickets.col_address", lg): r["address"].tolist(),
        t("mygrid.col_tickets", lg): r["tickets"].tolist(),
        t("mygrid.col_last", lg): r["last"].dt.strftime("%Y-%m-%d").tolist(),
        t("tickets.col_category", lg): [
            "、".join(category_path(c, lg).split(" > ")[-1] for c in s.split("、")) for s in r["categories"]
        ],
    }


def _rising_columns(r: pd.DataFrame, lg: str) -> dict:
    """The categories rising: the recent count against the usual per 30 days."""
    return {
        t("tickets.col_category", lg): [category_path(c, lg) for c in r["category"]],
        t("mygrid.col_recent", lg): r["recent"].tolist(),
        t("mygrid.col_baseline", lg): [fmt_float(v, 1, lg) for v in r["baseline_per_30d"]],
    }


def _rows(tickets):
    return tickets


def _label(code: str, names: dict) -> str:
    return f"{names.get(code, code)} ({code})"
