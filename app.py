"""Minqing Map (民情地图): the Streamlit entry point. It only routes.

Run with ``make run`` (builds the demo store on first start), or
``streamlit run app.py`` against any store named by ``MINQING_DATABASE_URL``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from minqing.i18n import t
from minqing.profiling import profiled
from minqing.ui.components import lang, language_switch, show_error, widget_texts
from minqing.ui.nav import allowed_pages, home_page

st.set_page_config(page_title="民情地图 Minqing Map", page_icon="🗺️", layout="wide")

lg = lang()
st.sidebar.markdown(f"### {t('app.title', lg)}\n{t('app.subtitle', lg)}")
language_switch()
lg = lang()
widget_texts(lg)  # Chinese in place of the English Streamlit's own widgets show


VIEWS = Path(__file__).resolve().parent / "views"


@st.cache_resource
def _warm_up() -> bool:
    """Compile (or load from the disk cache) the numba kernels once per process, off the request path."""
    import threading

    from minqing.warmup import warm_up

    threading.Thread(target=warm_up, name="minqing-warm-up", daemon=True).start()
    from minqing.ui.cache.warm import start

    start()  # the heaviest caches, at start and after every import
    return True


_warm_up()


def page(view: str, title_key: str, icon: str, **kw) -> st.Page:
    """A page: ``views/<view>.py`` calls the render() of ``minqing.ui.pages.<view>_page``."""
    return st.Page(str(VIEWS / f"{view}.py"), title=t(title_key, lg), icon=icon, url_path=view, **kw)


try:  # the one error boundary: our errors become a readable message and a next step
    # Nothing but the sign-in form runs before someone has signed in: no page is even registered.
    from minqing.ui.signin import sign_out_box, signed_in_user

    user = signed_in_user(lg)
    st.session_state["user"] = user
    sign_out_box(user, lg)
    home = home_page(user)  # a grid leader starts at their own grid
    nav = st.navigation([page(v, k, i, default=(v == home)) for v, k, i in allowed_pages(user)])
    with profiled(nav.url_path or home):
        nav.run()
except Exception as exc:
    if type(exc).__name__ in ("StopException", "RerunException"):  # st.stop() / st.rerun(): not errors
        raise
    show_error(exc, lg)
