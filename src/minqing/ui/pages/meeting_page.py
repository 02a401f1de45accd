"""联席会议 (meeting view): one big screen for the party-building joint meeting.

Few controls (month, sub-district, monthly theme), large type: the five KPI
cards with their definitions on hover, this month's top 10 problems with
trend arrows, the month's map, and the one-page handout (HTML / PDF).
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from minqing.analysis.kpis import default_month
from minqing.auth import scope_grids
from minqing.i18n import fmt_int, fmt_month, t
from minqing.model import CATEGORIES, CHANNEL_CHOICES, category_path, channels_for
from minqing.report import (
    FONT_FAMILY,
    find_chromium,
    fmt_change,
    fmt_pct,
    meeting_pdf,
    top_table_html,
)
from minqing.ui.cache import data
from minqing.ui.cache import meeting as dm
from minqing.ui.components import channel_caption, channel_choice_label, empty_state
from minqing.ui.mapview import show_map
from minqing.ui.page import open_page

THEMES = ("",) + tuple(c.code for c in CATEGORIES.values() if c.level <= 2 and not c.code.startswith("99"))

_CSS = f"""<style>
.st-key-meeting h1 {{ font-size: 2.6rem; color: #b71c1c; }}
.st-key-meeting [data-testid="stMetricLabel"] p {{ font-size: 1.2rem; }}
.st-key-meeting [data-testid="stMetricValue"] {{ font-size: 2.6rem; font-weight: 700; }}
.st-key-meeting [data-testid="stMetricDelta"] {{ font-size: 1.1rem; }}
.st-key-meeting .mq-vs {{ font-size: 1.05rem; color: #555; margin-top: -0.6rem; }}
.st-key-meeting .mq-focus {{ font-size: 1.5rem; color: #b71c1c; font-weight: 700; }}
.mq-top table {{ border-collapse: collapse; width: 100%; font-size: 1.2rem; font-family: {FONT_FAMILY}; }}
.mq-top th {{ background: #b71c1c; color: #fff; font-weight: normal; padding: 0.45rem 0.6rem; text-align: left; }}
.mq-top td {{ border-bottom: 1px solid #ddd; padding: 0.4rem 0.6rem; }}
.mq-top td.where {{ min-width: 13rem; }}
.mq-top td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.mq-top td.arrow {{ font-size: 1.6rem; text-align: center; font-weight: 700; }}
.mq-top .flag {{ margin-left: 0.5rem; padding: 0 0.3rem; border: 1px solid #e65100; border-radius: 0.25rem;
  color: #e65100; font-size: 0.95rem; white-space: nowrap; }}
.mq-top td.arrow.up {{ color: #c62828; }} .mq-top td.arrow.down {{ color: #1b7f3b; }} .mq-top td.arrow.flat {{ color: #777; }}
</style>"""


def render() -> None:
    """Draw the page."""
    page = open_page("meeting")
    lg, user, store, url, version = page.lang, page.user, page.store, page.url, page.version
    months = dm.months(url, version)
    with st.container(key="meeting"):
        st.html(_CSS)
        page.heading("meeting.heading")
        if not months:
            empty_state("meeting.no_data", "meeting.no_data_hint", lg)
            return
        _, last = data.ticket_span(url, version)
        month, sd, theme, chan = _controls(lg, url, version, months, default_month(last), user)
        scope, map_level, parent, scope_label = _scope(lg, url, version, user, sd, theme)
        scope = dm.Scope(scope.level, scope.codes, scope.theme, channels_for(chan))
        level = 3 if theme and CATEGORIES[theme].level >= 2 else 2
        as_of = pd.Timestamp.now(tz=store.timezone).floor("h").isoformat()
        view = (url, version, user, scope, month)  # what every figure below depends on
        board = dm.board(*view, as_of)
        theme_label = category_path(theme, lg) if theme else None
        if theme_label:
            st.html(f'<div class="mq-focus">{_esc(t("meeting.theme_focus", lg, theme=theme_label))}</div>')
        st.caption(t("meeting.as_of", lg, as_of=as_of[:16].replace("T", " "), n=fmt_int(board.tickets, lg)))
        if user.scoped:
            st.info(t("meeting.grid_leader_scope", lg))
        _kpi_cards(board, lg)
        # The top-10 list is the meeting's agenda: full width first, then the month's map.
        _top_list(view, level, theme, chan, lg)
        _month_map(view, map_level, parent, level, chan, f"meeting_map_{month}_{sd}_{theme}_{chan}_{lg}", lg)
        name = f"minqing_meeting_{month}{'_' + sd if sd else ''}{'_' + theme if theme else ''}"
        _handout(view, map_level, parent, level, as_of, scope_label, theme_label, name, lg)


def _top_list(view: tuple, level: int, theme: str, chan: str, lg: str) -> None:
    """This month's top 10 problems with their trend arrows (categories ``level`` deep)."""
    st.subheader(t("meeting.top_heading", lg))
    tp = dm.top(*view, level, lg)
    st.html(f'<div class="mq-top">{top_table_html(tp.table, lg, short_category=bool(theme))}</div>')
    st.caption(t("meeting.top_hint", lg) + " " + channel_caption(chan, lg))
    if tp.has_unplaced:
        st.caption(t("meeting.unplaced_note", lg))


def _month_map(view: tuple, map_level: str, parent: str | None, level: int, chan: str, key: str, lg: str) -> None:
    """The month's map of ``map_level`` units (children of ``parent``), with the units one channel drives."""
    st.subheader(t("meeting.map_heading", lg))
    if dm.month_units(*view, map_level, parent).empty:
        st.info(t("meeting.map_empty", lg))
        return
    show_map(partial(dm.meeting_map, *view, map_level, parent, lg, level),
             (*view, map_level, parent, lg, level), height=620, key=key)
    u = dm.month_units(*view, map_level, parent)
    notes = u[u["channel_note"] != ""]
    st.caption(t("meeting.map_caption", lg, channels=channel_caption(chan, lg)))
    if len(notes):
        names = _names(notes, lg)
        col = "channel_note" if lg == "zh" else "channel_note_en"
        st.warning(t("meeting.map_flags", lg, units="；".join(
            f"{names[c]} {n}" for c, n in zip(notes["code"], notes[col]))))


def _handout(view: tuple, map_level: str, parent: str | None, level: int, as_of: str, scope_label, theme_label,
             name: str, lg: str) -> None:
    """The one-page handout to download, as HTML and (when a headless Chromium is installed) PDF."""
    st.subheader(t("meeting.export_heading", lg))
    st.caption(t("meeting.export_hint", lg))
    html = dm.report_html(*view, map_level, parent, level, lg, as_of, scope_label, theme_label)
    c1, c2, _ = st.columns([1, 1, 2])
    c1.download_button(t("meeting.download_html", lg), html.encode("utf-8"), file_name=f"{name}.html",
                       mime="text/html", icon=":material/description:", key="meeting_dl_html",
                       on_click="ignore")
    no_printer = find_chromium() is None
    c2.download_button(t("meeting.download_pdf", lg), partial(meeting_pdf, html), file_name=f"{name}.pdf",
                       mime="application/pdf", icon=":material/picture_as_pdf:", key="meeting_dl_pdf",
                       on_click="ignore", disabled=no_printer)
    if no_printer:
        st.caption(t("meeting.error_no_chromium", lg))


def _controls(lg, url, version, months, default, user):
    """Month, sub-district and theme selectors (kept in the URL so a view can be shared)."""
    q = st.query_params
    subdistricts = data.units(url, version, "subdistrict", None).drop_duplicates("code", keep="last")
    names = _names(subdistricts, lg)
    sd_options = ("",) if user.scoped else ("",) + tuple(subdistricts["code"])
    c1, c2, c3, c4 = st.columns([1, 1, 2, 1.2])
    want = q.get("month", default if default in months else months[0])
    month = c1.selectbox(t("meeting.month", lg), months, index=months.index(want) if want in months else 0,
                         format_func=partial(_month_label, lang=lg), key="meeting_month")
    want_sd = q.get("sd", "")
    sd = c2.selectbox(t("meeting.scope", lg), sd_options,
                      index=sd_options.index(want_sd) if want_sd in sd_options else 0,
                      format_func=partial(_scope_label, names=names, lang=lg), key="meeting_sd")
    want_theme = q.get("theme", "")
    theme = c3.selectbox(t("meeting.theme", lg), THEMES, index=THEMES.index(want_theme) if want_theme in THEMES else 0,
                         format_func=partial(_theme_label, lang=lg), key="meeting_theme")
    want_ch = q.get("ch", "citizen")
    chan = c4.selectbox(t("meeting.channels", lg), CHANNEL_CHOICES,
                        index=CHANNEL_CHOICES.index(want_ch) if want_ch in CHANNEL_CHOICES else 0,
                        format_func=partial(channel_choice_label, lang=lg), key="meeting_channels",
                        help=t("channels.help", lg))
    for k, v in (("month", month), ("sd", sd), ("theme", theme), ("ch", "" if chan == "citizen" else chan)):
        if v:
            q[k] = v
        elif k in q:
            del q[k]
    return month, sd, theme, chan


def _scope(lg, url, version, user, sd, theme):
    """Return (Scope, map level, map parent, scope label) for the chosen sub-district."""
    if user.scoped:
        grids = data.units(url, version, "grid", None).drop_duplicates("code", keep="last")
        own = scope_grids(user, data.units(url, version, None, None))
        label = "、".join(_names(grids, lg).get(c, c) for c in own)
        return dm.Scope("grid", own, theme or None), "grid", None, label
    if sd:
        subdistricts = data.units(url, version, "subdistrict", None).drop_duplicates("code", keep="last")
        return dm.Scope("subdistrict", (sd,), theme or None), "grid", sd, _names(subdistricts, lg).get(sd, sd)
    return dm.Scope(None, None, theme or None), "subdistrict", None, t("meeting.scope_all", lg)


def _kpi_cards(board, lg) -> None:
    cols = st.columns(len(board.kpis))
    for col, k in zip(cols, board.kpis):
        # the delta stays short (a long one is cut off: "较上…"); the line below says what it compares with
        delta = None if k.change_month is None else fmt_change(k.change_month, lg)
        still = k.change_month is not None and abs(k.change_month) < 0.0005  # "+0.0": no arrow colour
        col.metric(t(f"meeting.kpi_{k.code}", lg), fmt_pct(k.value), delta=delta,
                   delta_color="off" if still else "normal",
                   help=t(f"meeting.kpi_{k.code}_help", lg), border=True)
        vs_year = (f"{t('meeting.vs_month', lg)} {fmt_change(k.change_month, lg)} · "
                   f"{t('meeting.vs_year', lg)} {fmt_change(k.change_year, lg)}")
        if k.code == "resolution" and k.partly is not None:
            vs_year += f" · {t('meeting.partly', lg, value=fmt_pct(k.partly))}"
        col.html(f'<div class="mq-vs">{_esc(vs_year)}</div>')


def _esc(text: str) -> str:
    from minqing.htmlsafe import escape_html

    return escape_html(text)


def _names(frame, lg) -> dict:
    names = frame["name"].astype("object")
    if lg != "zh" and "name_en" in frame.columns:
        en = frame["name_en"].astype("object")
        names = en.where(en.notna(), names)
    return dict(zip(frame["code"], names))


def _month_label(month: str, lang: str) -> str:
    return fmt_month(pd.Period(month, "M").start_time, lang)


def _scope_label(code: str, names: dict, lang: str) -> str:
    return t("meeting.scope_all", lang) if not code else f"{names.get(code, code)}"


def _theme_label(code: str, lang: str) -> str:
    if not code:
        return t("meeting.theme_none", lang)
    return category_path(code, lang)
