"""Charts of the pages (altair), built from analysis results; no Streamlit here."""

from __future__ import annotations

import altair as alt
import pandas as pd

from minqing.i18n import t


def effect_chart(r, lg: str) -> alt.Chart:
    """The monthly series of an evaluation ``r``: each series as an index (its mean before the start = 100),
    the start as a dashed rule and the implementation period as a band."""
    m = r.monthly.copy()
    m["month"] = pd.to_datetime(m["month"])
    labels = {"treated": t("effects.series_treated", lg), "controls": t("effects.series_controls", lg),
              "ring": t("effects.series_ring", lg)}
    long = m.melt(id_vars=["month"], value_vars=[c for c in labels if c in m.columns], var_name="series",
                  value_name="tickets")
    # One axis for series of very different sizes (the target ~20 a month, pooled controls ~100): an index,
    # each series over its own mean before the start = 100.
    end = pd.Timestamp(r.before.end)
    before = long[long["month"] < (end.tz_localize(None) if end.tzinfo else end)]
    base = before.groupby("series")["tickets"].mean()
    long["index"] = long["tickets"] / long["series"].map(base).where(lambda b: b > 0) * 100
    long["series"] = long["series"].map(labels)
    axis = alt.Axis(format=t("effects.month_format", lg))  # d3's default names the months in English
    line = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("month:T", title=None, axis=axis), y=alt.Y("index:Q", title=t("effects.index_axis", lg)),
        color=alt.Color("series:N", title=None),
        tooltip=[alt.Tooltip("month:T", format="%Y-%m-%d", title=" "), alt.Tooltip("series:N", title=" "),
                 alt.Tooltip("tickets:Q", title=t("effects.timeline_tickets", lg)),
                 alt.Tooltip("index:Q", format=".0f", title=t("effects.index_axis", lg))])
    start = pd.DataFrame({"x": [r.before.end], "label": [t("effects.start_marker", lg)]})
    rule = alt.Chart(start).mark_rule(color="black", strokeDash=[4, 4]).encode(x=alt.X("x:T", title=None, axis=axis))
    layers = [line, rule]
    if r.implementation is not None:
        band = pd.DataFrame({"x": [r.implementation.start], "x2": [r.implementation.end]})
        layers.insert(0, alt.Chart(band).mark_rect(opacity=0.15, color="orange").encode(
            x=alt.X("x:T", title=None, axis=axis), x2=alt.X2("x2:T", title=None)))
    return alt.layer(*layers).properties(height=300)
