"""Show a folium map, building and rendering it once per view rather than on every rerun.

``st_folium`` turns a folium Map into strings (the Leaflet script, the header, the HTML) on each
call: with jinja templates compiled anew per element, that is 0.1-0.8 s of every rerun. Here the
strings are cached, keyed on everything the map shows (store, data version, view, language,
scope), and handed straight to streamlit-folium's component. Strings are immutable, so sharing
them between sessions is safe; folium Map objects are not (a Map rendered twice references
layers it no longer defines, and its frame stays blank), so none is ever cached.

The same strings on a rerun also mean the same component key and arguments: the browser keeps
the drawn map instead of loading a new frame and drawing it again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import streamlit as st
import streamlit_folium

_COMPONENT = streamlit_folium._component_func  # the real component, taken before any capture below
_capture_lock = threading.Lock()


def _capture(build: Callable, key: str, height: int, returned_objects: tuple[str, ...]) -> dict:
    """Return the arguments ``st_folium`` would send to its component for ``build()``'s map."""
    sent: dict = {}

    def record(**kwargs):
        sent.update(kwargs)
        return kwargs.get("default")

    m = build()
    with _capture_lock:  # only this module calls st_folium, and only here, under the lock
        streamlit_folium._component_func = record
        try:
            streamlit_folium.st_folium(m, key=key, height=height, use_container_width=True,
                                       returned_objects=list(returned_objects))
        finally:
            streamlit_folium._component_func = _COMPONENT
    sent.pop("on_change", None)
    return sent


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _payload(cache_key: tuple, key: str, height: int, returned_objects: tuple[str, ...], _build: Callable) -> dict:
    return _capture(_build, key, height, returned_objects)


def show_map(build: Callable, cache_key: tuple, *, key: str, height: int = 520,
             returned_objects: tuple[str, ...] = (), on_change: Callable | None = None):
    """Draw the folium map returned by ``build()``; return what the component reports.

    Parameters
    ----------
    build : callable
        Returns a new folium Map; called only when ``cache_key`` is not cached yet.
    cache_key : tuple
        Everything the map depends on (store URL, data version, view, language, user...).
    key : str
        The widget key (as for ``st_folium``); its state holds the last reported value.
    returned_objects : tuple of str
        The events the page uses (e.g. ``("last_active_drawing",)``); none by default, so the
        map never reruns the page by itself.
    on_change : callable, optional
        Called before the rerun its event causes, with the reported value in
        ``st.session_state[key]``.
    """
    args = _payload(cache_key, key, height, tuple(returned_objects), build)
    hash_key = args["key"]

    def changed():
        st.session_state[key] = st.session_state.get(hash_key, {})
        if on_change is not None:
            on_change()

    return _COMPONENT(**args, on_change=changed)
