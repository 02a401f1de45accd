"""设置: basemap, the store in use and what it holds."""

from __future__ import annotations

from functools import partial

import streamlit as st

from minqing.audit import audit
from minqing.auth import can
from minqing.citytime import timezone_names
from minqing.errors import MinqingError
from minqing.maps.basemaps import BASEMAPS
from minqing.config import setting
from minqing.i18n import fmt_int, t
from minqing.privacy import redact_url
from minqing.ui.cache import data
from minqing.ui.components import caveat, current_user_state, lang, show_error


def render() -> None:
    """Draw the page."""
    lg = lang()
    st.title(t("settings.heading", lg))

    st.subheader(t("settings.basemap", lg))
    has_key = bool(setting("TIANDITU_KEY"))
    choices = [b for b in BASEMAPS if b != "tianditu" or has_key]
    current = st.session_state.get("basemap", "none")
    choice = st.radio(
        t("settings.basemap", lg), choices, index=choices.index(current) if current in choices else 0,
        format_func=partial(_basemap_label, lang=lg), key="settings_basemap", label_visibility="collapsed",
    )
    st.session_state["basemap"] = choice
    st.caption(t(f"settings.basemap_help_{choice}", lg))
    if not has_key:
        st.caption(t("settings.tianditu_no_key", lg))

    if not can(current_user_state(), "settings"):  # the store in use is for administrators
        caveat(lg)
        return
    st.subheader(t("settings.store", lg))
    store = data.current_store()
    version = data.data_version(store)
    st.text(f"{t('settings.store_url', lg)}：{redact_url(store.url)}")
    st.text(f"{t('settings.schema', lg)}：{store.schema_version()}")
    c = st.columns(3)
    c[0].metric(t("overview.total", lg), fmt_int(data.ticket_total(store.url, version), lg))
    c[1].metric(t("overview.grids", lg), fmt_int(len(data.units(store.url, version, "grid", None)), lg))
    c[2].metric(t("overview.places", lg), fmt_int(len(data.places(store.url, version)), lg))
    st.caption(t("settings.store_help", lg))
    _timezone(store, lg)
    caveat(lg)


def _timezone(store, lg: str) -> None:
    """The city's time zone: one store setting, changed by an administrator, recorded in the audit log."""
    st.subheader(t("settings.timezone", lg))
    current = store.timezone
    names = timezone_names()
    if current not in names:
        names = [current, *names]
    choice = st.selectbox(t("settings.timezone", lg), names, index=names.index(current), key="settings_timezone",
                          label_visibility="collapsed")
    st.caption(t("settings.timezone_help", lg))
    if choice != current:
        try:
            store.set_timezone(choice)
        except MinqingError as exc:
            show_error(exc, lg)
            return
        audit(store, current_user_state().name, "settings_change", target="timezone",
              detail={"from": current, "to": choice})
        st.success(t("settings.timezone_saved", lg, tz=choice, before=current))


def _basemap_label(basemap: str, lang: str) -> str:
    return t(f"settings.basemap_{basemap}", lang)
