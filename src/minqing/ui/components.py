"""Small Streamlit building blocks shared by the pages."""

from __future__ import annotations

import logging

import streamlit as st

from minqing.errors import MinqingError
from minqing.i18n import DEFAULT_LANG, LANGS, t

log = logging.getLogger("minqing")
_LANG_NAMES = {"zh": "中文", "en": "English"}


def lang() -> str:
    """Return the language in force: session state, else the ``lang`` query parameter, else Chinese."""
    if "lang" not in st.session_state:
        q = st.query_params.get("lang", DEFAULT_LANG)
        st.session_state["lang"] = q if q in LANGS else DEFAULT_LANG
    return st.session_state["lang"]


def language_switch() -> str:
    """Draw the language switch in the sidebar; keep the choice in the URL so a view can be shared."""
    current = lang()
    choice = st.sidebar.radio(
        t("app.language", current),
        LANGS,
        index=LANGS.index(current),
        format_func=_LANG_NAMES.get,
        horizontal=True,
        key="lang_switch",
    )
    if choice != current:
        st.session_state["lang"] = choice
        st.query_params["lang"] = choice
        st.rerun()
    return choice


def show_error(exc: Exception, lang_: str) -> None:
    """Turn an exception into a readable message and a next step (nothing personal is logged)."""
    if isinstance(exc, MinqingError):
        text = t(exc.key, lang_, message=str(exc), **exc.params)
        if text == exc.key:
            text = t("error.generic", lang_, message=str(exc))
    else:
        log.exception("unexpected error")
        text = t("error.generic", lang_, message=type(exc).__name__)
    st.error(text)
    st.info(t("error.next_step", lang_))


def empty_state(message_key: str, hint_key: str, lang_: str) -> None:
    """Say that there is nothing to show and what to do about it."""
    st.info(t(message_key, lang_))
    st.markdown(t(hint_key, lang_))


def caveat(lang_: str) -> None:
    """Say plainly which parts of the demo city are approximate or synthetic."""
    with st.expander(t("caveat.title", lang_), expanded=False):
        st.markdown(t("caveat.body", lang_))
