"""Cached wrappers for the effects and interventions pages (keyed on store URL and data version)."""

from __future__ import annotations

import streamlit as st

from minqing.ui.cache.data import get_store


RING_CHOICES = (50, 100, 150)
"""Spillover ring widths (m) the Effects page offers; it opens on the last."""


@st.cache_data(max_entries=8, ttl=3600)
def interventions(url: str, version: str):
    """Return the intervention list."""
    from minqing.interventions.registry import list_interventions

    return list_interventions(get_store(url))


@st.cache_data(max_entries=32, ttl=3600)
def visible_ids(url: str, version: str, user) -> frozenset[int]:
    """Return the ids of the interventions ``user`` may see (a grid leader: those touching their scope)."""
    from minqing.interventions.registry import interventions_in_scope

    return frozenset(interventions_in_scope(get_store(url), user))


@st.cache_data(max_entries=16, ttl=3600)
def history(url: str, version: str, intervention_id: int):
    """Return one intervention's edit history."""
    from minqing.interventions.registry import intervention_history

    return intervention_history(get_store(url), intervention_id)


@st.cache_resource(max_entries=16, ttl=3600)
def evaluation(url: str, version: str, intervention_id: int, ring_m: int):
    """Return the evaluation of one intervention (read-only; shared between sessions)."""
    from minqing.interventions.evaluate import evaluate_intervention

    return evaluate_intervention(get_store(url), intervention_id, ring_m=ring_m)


@st.cache_data(max_entries=16, ttl=3600)
def timeline(url: str, version: str, intervention_id: int):
    """Return the place's time line: orders and satisfaction per month, every intervention there."""
    from minqing.interventions.evaluate import place_timeline

    return place_timeline(get_store(url), intervention_id)


def window_maps(url: str, version: str, intervention_id: int, ring_m: int, lang: str):
    """Return new (before, after) folium maps of one evaluation, built for this run.

    Not cached as folium objects (see ``ui.data.unit_map``): a map rendered a second time, for
    another viewer, references layers it no longer defines and stays blank. The evaluation is cached.
    """
    from minqing.maps.effects import before_after_maps

    return before_after_maps(evaluation(url, version, intervention_id, ring_m), lang)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def chart_spec(url: str, version: str, iid: int, ring: int, lg: str) -> dict:
    """The Effects page's monthly chart as a Vega-Lite spec, built once per view (altair's validation is 0.2 s a run)."""
    from minqing.ui.charts import effect_chart

    return effect_chart(evaluation(url, version, iid, ring).result, lg).to_dict()
