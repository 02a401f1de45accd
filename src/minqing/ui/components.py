"""Small Streamlit building blocks shared by the pages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from minqing.errors import MinqingError
from minqing.htmlsafe import markdown_params
from minqing.i18n import DEFAULT_LANG, LANGS, t

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


# Streamlit's frontend writes a few texts of its own in English and has no language setting (1.67):
# the file uploader's button and size limit, and the "Press Enter to apply" hint under text inputs.
# In Chinese a style sheet hides them and puts ours in their place (the drag-and-drop overlay, shown
# only while a file is dragged over, keeps its English). The marker comment lets the tests see it.
_WIDGET_CSS = """<style>/* mq-uploader-zh */
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] > p { display: none; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]::after { content: "{button}"; }
[data-testid="stFileUploaderDropzoneInstructions"] span { display: none; }
[data-testid="stFileUploaderDropzoneInstructions"] > div::after { content: "{limit}"; font-size: 0.875rem; opacity: 0.6; }
[data-testid="InputInstructions"] { display: none; }
</style>"""


def widget_texts(lang_: str) -> None:
    """Put Chinese in place of the English that Streamlit's own widgets show (a style sheet; nothing in English)."""
    if lang_ == "en":
        return
    limit = t("common.upload_limit", lang_, mb=int(st.get_option("server.maxUploadSize")))
    css = _WIDGET_CSS.replace("{button}", _css_text(t("common.upload_button", lang_))).replace("{limit}", _css_text(limit))
    st.html(css)


def _css_text(text: str) -> str:
    return "".join(c for c in text if c not in '"\\<>\n')


def show_table(data, **kwargs):
    """``st.dataframe`` without index, a missing value shown as "—" (Streamlit writes "None")."""
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("placeholder", "—")
    return st.dataframe(data, **kwargs)


def percent_columns(*labels: str) -> dict:
    """Column settings that show shares (0–1) as percentages, still sorting as numbers."""
    return {label: st.column_config.NumberColumn(label, format="percent") for label in labels}


def show_error(exc: Exception, lang_: str) -> None:
    """Turn an exception into a readable message and a next step.

    Our own errors (and the store's file or disk conditions) say what to do; any
    other error is logged without personal data and shown as a short reference
    the administrator can look up (:func:`minqing.errlog.log_unexpected`).
    """
    from minqing.store.sqlite.util import is_store_condition, store_error

    if is_store_condition(exc):  # raised outside the store's own translation
        exc = store_error(exc, _store_path(), "read")
    if isinstance(exc, MinqingError):
        # the message and its values may quote the data (a file's column, a unit code): shown as text
        params = markdown_params({**exc.params, "message": str(exc)})
        text = t(exc.key, lang_, **params)
        if text == exc.key:
            text = t("error.generic", lang_, message=params["message"])
        st.error(text)
        st.info(t("error.next_step", lang_))
        return
    from minqing.errlog import log_unexpected

    ref, where = log_unexpected(exc, where="app")
    st.error(t("error.unexpected", lang_, ref=ref, path=where))


def _store_path() -> str:
    from minqing.config import database_url, sqlite_path
    from minqing.privacy import redact_url

    try:
        url = database_url()
        return str(sqlite_path(url)) if url.startswith("sqlite:") else redact_url(url)
    except Exception:  # noqa: BLE001 - only for the message
        return "?"


def empty_state(message_key: str, hint_key: str, lang_: str) -> None:
    """Say that there is nothing to show and what to do about it."""
    st.info(t(message_key, lang_))
    st.markdown(t(hint_key, lang_))


def data_as_of(store, lang_: str, sidebar: bool = False) -> pd.Timestamp:
    """Say how fresh the data is and return the moment the page's windows refer to (see citytime.data_as_of).

    ``sidebar``: say it in the sidebar (map pages keep their layout; a click lands where it is aimed).
    """
    from minqing.citytime import data_as_of as as_of
    from minqing.i18n import fmt_date
    from minqing.ui.cache import data

    _, last = data.ticket_span(store.url, data.data_version(store))
    at, age = as_of(last, pd.Timestamp.now(tz=store.timezone))
    where = st.sidebar if sidebar else st
    if last is not None:
        if age > 1:
            where.warning(t("common.data_stale", lang_, date=fmt_date(last, lang_), days=age))
        else:
            where.caption(t("common.data_up_to", lang_, date=fmt_date(last, lang_)))
    return at


def caveat(lang_: str) -> None:
    """Say plainly which parts of the demo city are approximate or synthetic."""
    with st.expander(t("caveat.title", lang_), expanded=False):
        st.markdown(t("caveat.body", lang_))


def current_user_state() -> "User":
    """Return the signed-in user of this run (set by ``app.py`` from :mod:`minqing.ui.signin` only).

    Raises
    ------
    minqing.auth.PermissionDenied
        If nobody has signed in (a page run outside the app's sign-in).
    """
    from minqing.auth import PermissionDenied

    user = st.session_state.get("user")
    if user is None:
        raise PermissionDenied("nobody has signed in; sign in first", role="-", permission="sign_in")
    return user


def guard(permission: str) -> "User":
    """Return the signed-in user if their role grants ``permission``; else raise (the page shows why)."""
    from minqing.auth import require

    user = current_user_state()
    require(user, permission)
    return user


def channel_choice_label(choice: str, lang: str) -> str:
    """Label of a channel choice (:data:`minqing.model.CHANNEL_CHOICES`) in a selector."""
    from minqing.model import CHANNELS

    if choice in ("citizen", "all"):
        return t(f"channels.{choice}", lang)
    return CHANNELS[choice].label(lang) if choice in CHANNELS else choice


def channel_caption(choice: str, lang: str) -> str:
    """Say which channels a count includes, e.g. "计入渠道：12345热线、网站…（市民渠道，默认）"."""
    from minqing.model import CHANNELS, channels_for

    codes = channels_for(choice)
    if codes is None:
        return t("channels.caption_all", lang)
    names = ("、" if lang == "zh" else ", ").join(CHANNELS[c].label(lang) for c in codes)
    return t("channels.caption_citizen" if choice == "citizen" else "channels.caption_one", lang, channels=names)
