"""Minqing Map (民情地图): the Streamlit entry point. It only routes.

Run with ``make run`` (builds the demo store on first start), or
``streamlit run app.py`` against any store named by ``MINQING_DATABASE_URL``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from minqing.i18n import t
from minqing.ui.components import current_user, lang, language_switch, show_error

st.set_page_config(page_title="民情地图 Minqing Map", page_icon="🗺️", layout="wide")

lg = lang()
st.sidebar.markdown(f"### {t('app.title', lg)}\n{t('app.subtitle', lg)}")
language_switch()
lg = lang()


VIEWS = Path(__file__).resolve().parent / "views"


def page(view: str, title_key: str, icon: str, **kw) -> st.Page:
    """A page: ``views/<view>.py`` calls the render() of ``minqing.ui.pages.<view>_page``."""
    return st.Page(str(VIEWS / f"{view}.py"), title=t(title_key, lg), icon=icon, url_path=view, **kw)


pages = [
    page("meeting", "nav.overview", ":material/groups:", default=True),
    page("map", "nav.map", ":material/map:"),
    page("mygrid", "mygrid.nav", ":material/holiday_village:"),
    page("hotspots", "hotspots.nav", ":material/local_fire_department:"),
    page("effects", "effects.nav", ":material/trending_down:"),
    page("interventions", "interventions.nav", ":material/construction:"),
    page("tickets", "tickets.nav", ":material/list_alt:"),
    page("import", "ingest.nav", ":material/upload_file:"),
    page("settings", "settings.nav", ":material/settings:"),
]
page = st.navigation(pages)
try:  # the one error boundary: our errors become a readable message and a next step
    st.session_state["user"] = current_user(lg)
    page.run()
except Exception as exc:
    show_error(exc, lg)
