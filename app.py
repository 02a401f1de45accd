"""Minqing Map (民情地图): the Streamlit entry point. It only routes.

Run with ``make run`` (builds the demo store on first start), or
``streamlit run app.py`` against any store named by ``MINQING_DATABASE_URL``.
"""

from __future__ import annotations

import streamlit as st

from minqing.i18n import t
from minqing.ui.components import language_switch, lang, show_error
from minqing.ui.pages import overview_page

st.set_page_config(page_title="民情地图 Minqing Map", page_icon="🗺️", layout="wide")

lg = lang()
st.sidebar.markdown(f"### {t('app.title', lg)}\n{t('app.subtitle', lg)}")
language_switch()
lg = lang()

pages = [
    st.Page(overview_page.render, title=t("nav.overview", lg), icon="🗺️", url_path="overview", default=True),
]
page = st.navigation(pages)
try:
    page.run()
except Exception as exc:  # the one error boundary: a readable message and a next step
    show_error(exc, lg)
