"""成效: before/after of one intervention — two maps, the monthly series, the verdict, the controls."""

from __future__ import annotations

from functools import partial

import altair as alt
import pandas as pd
import streamlit as st

from minqing.analysis.effect_results import EffectError
from minqing.htmlsafe import escape_markdown, markdown_params
from minqing.i18n import fmt_date, fmt_float, t
from minqing.model import CHANNELS
from minqing.ui.cache import effects as di
from minqing.ui.components import empty_state, show_table
from minqing.ui.locations import cell_labels
from minqing.ui.mapview import show_map
from minqing.ui.page import open_page

_ICON = {"improved": "▼", "no_clear_change": "＝", "worse": "▲"}


def _iv_label(iid: int, names: dict) -> str:
    return f"{iid} · {names.get(iid, '')}"


def render() -> None:
    """Draw the page."""
    page = open_page("effects", "effects.heading")
    lg, user, url, version = page.lang, page.user, page.url, page.version
    ivs = di.interventions(url, version)
    # a grid leader sees the interventions touching their own units only (controls appear as counts)
    ivs = ivs[ivs["intervention_id"].astype(int).isin(di.visible_ids(url, version, user))]
    if ivs.empty:
        empty_state("effects.none", "effects.none_hint", lg)
        return
    names = dict(zip(ivs["intervention_id"].astype(int), ivs["name"]))
    c1, c2 = st.columns([3, 1])
    iid = c1.selectbox(t("effects.choose", lg), list(names), format_func=partial(_iv_label, names=names),
                       index=len(names) - 1, key="effects_iv")
    ring = c2.selectbox(t("effects.ring", lg), di.RING_CHOICES, index=len(di.RING_CHOICES) - 1,
                        key="effects_ring")
    try:
        ev = di.evaluation(url, version, int(iid), int(ring))
    except EffectError as exc:
        st.warning(t("effects.error", lg, message=t(exc.key, lg, **markdown_params(exc.params))))
        return
    r = ev.result
    _verdict(r, lg, int(ring))
    left, right = st.columns(2)
    with left:
        st.markdown("**" + t("effects.map_before", lg, start=fmt_date(r.before.start, lg),
                             end=fmt_date(r.before.end - pd.Timedelta(days=1), lg)) + "**")
        show_map(lambda: di.window_maps(url, version, int(iid), int(ring), lg)[0],
                 ("before", url, version, int(iid), int(ring), lg), height=380, key=f"eb_{iid}_{ring}_{lg}")
    with right:
        st.markdown("**" + t("effects.map_after", lg, start=fmt_date(r.after.start, lg),
                             end=fmt_date(r.after.end - pd.Timedelta(days=1), lg)) + "**")
        show_map(lambda: di.window_maps(url, version, int(iid), int(ring), lg)[1],
                 ("after", url, version, int(iid), int(ring), lg), height=380, key=f"ea_{iid}_{ring}_{lg}")
    st.subheader(t("effects.series", lg))
    st.vega_lite_chart(di.chart_spec(url, version, int(iid), int(ring), lg), use_container_width=True)
    st.caption(t("effects.index_help", lg))
    _timeline(url, version, int(iid), names, lg)
    _details(ev, lg)


def _verdict(r, lg: str, ring: int) -> None:
    label = t(f"effects.verdict_{r.verdict}", lg)
    st.subheader(f"{_ICON[r.verdict]} {t('effects.verdict', lg)}: {label}")
    st.markdown(escape_markdown(r.summary(lg)))
    cols = st.columns(3)
    cols[0].metric(t("effects.rate_before", lg), f"{r.before_rate:.1f}")
    cols[1].metric(t("effects.rate_after", lg), f"{r.after_rate:.1f}")
    if r.ring is not None:
        interval = t("effects.interval_text", lg, low=fmt_float(r.ring.low, 2, lg), high=fmt_float(r.ring.high, 2, lg))
        cols[2].metric(t("effects.spillover", lg, ring=ring), fmt_float(r.ring.estimate, 2, lg), help=interval)
        cols[2].caption(interval)
    if r.caveats:
        st.markdown("**" + t("effects.caveats", lg) + "**")
        for text in r.caveat_texts(lg):
            st.markdown("- " + escape_markdown(text))


def _timeline(url: str, version: str, iid: int, names: dict, lg: str) -> None:
    """Every intervention at this place on one time line, with its orders and the unsatisfied share."""
    tl = di.timeline(url, version, iid)
    if len(tl.interventions) < 2:
        return
    st.subheader(t("effects.timeline", lg))
    m = tl.monthly
    base = alt.Chart(m).encode(x=alt.X("month:T", title=None, axis=alt.Axis(format="%Y-%m")))
    bars = base.mark_bar(opacity=0.6).encode(
        y=alt.Y("tickets:Q", title=t("effects.timeline_tickets", lg)),
        tooltip=[alt.Tooltip("month:T", format="%Y-%m", title=" "), alt.Tooltip("tickets:Q", title=t("effects.timeline_tickets", lg))])
    share = base.mark_line(point=True, color="#c0392b").encode(
        y=alt.Y("unsatisfied_share:Q", title=t("effects.timeline_unsatisfied", lg), axis=alt.Axis(format="%")))
    ivs = tl.interventions.assign(
        start=pd.to_datetime(tl.interventions["start_date"]),
        label=[f"{i} · {n}" for i, n in zip(tl.interventions["intervention_id"], tl.interventions["name"])])
    at = alt.X("start:T", title=None, axis=alt.Axis(format="%Y-%m"))
    rules = alt.Chart(ivs).mark_rule(strokeDash=[4, 3], color="black").encode(x=at)
    text = alt.Chart(ivs).mark_text(align="left", dx=4, dy=-6, angle=0, baseline="bottom").encode(
        x=at, y=alt.value(12), text="label:N")
    chart = alt.layer(alt.layer(bars, rules, text), share).resolve_scale(y="independent").properties(height=280)
    st.altair_chart(chart, use_container_width=True)
    st.caption(t("effects.timeline_help", lg))


def _details(ev, lg: str) -> None:
    r = ev.result
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**" + t("effects.horizons", lg) + "**")
        show_table(pd.DataFrame({
            " ": [t(f"effects.horizon_{r.scale}", lg, months=h.months) for h in r.horizons],
            t("effects.estimate", lg): [f"{(h.ratio.estimate - 1) * 100:+.0f}%" for h in r.horizons],
            t("effects.interval", lg): [f"{(h.ratio.low - 1) * 100:+.0f}% … {(h.ratio.high - 1) * 100:+.0f}%"
                                        for h in r.horizons],
            t("effects.verdict", lg): [t(f"effects.verdict_{h.ratio.verdict}", lg) for h in r.horizons],
        }), hide_index=True, use_container_width=True)
        if r.satisfaction is not None:
            s = r.satisfaction
            st.markdown("**" + t("effects.satisfaction", lg) + "**")
            show_table(pd.DataFrame({
                t("effects.sat_before", lg): [_share(s.before)], t("effects.sat_after", lg): [_share(s.after)],
                t("effects.sat_early", lg): [_share(s.early)], t("effects.sat_later", lg): [_share(s.later)],
            }), hide_index=True, use_container_width=True)
    with c2:
        st.markdown("**" + t("effects.channels", lg) + "**")
        if ev.excluded_channels:
            st.caption(t("effects.excluded_channels", lg,
                         channels="、".join(CHANNELS[c].label(lg) if c in CHANNELS else c for c in ev.excluded_channels)))
        show_table(pd.DataFrame({
            t("effects.channel", lg): [CHANNELS[c.channel].label(lg) if c.channel in CHANNELS else c.channel
                                       for c in r.channels],
            t("effects.rate_before", lg): [round(c.before_rate, 1) for c in r.channels],
            t("effects.rate_after", lg): [round(c.after_rate, 1) for c in r.channels],
        }), hide_index=True, use_container_width=True)
        text = r.channel_text(lg)  # generated from the numbers: which way each channel group went, how sure
        if text:
            st.markdown(escape_markdown(text))
        st.caption(t("effects.proactive_note", lg))
    st.markdown("**" + t("effects.methods_title", lg) + "**")
    show_table(pd.DataFrame({  # which methods the history allowed, and why not the others
        " ": [t(f"effects.method_{name}", lg) for name, _, _ in r.methods],
        t("effects.verdict", lg): [t("effects.method_used", lg) if ok else t("effects.method_not_used", lg, reason=t(why, lg))
                                   for _, ok, why in r.methods],
    }), hide_index=True, use_container_width=True)
    st.markdown("**" + t("effects.controls", lg) + "**")
    st.caption(t("effects.control_rule", lg))
    if ev.controls.empty:
        st.info(t("effects.no_controls", lg))
    else:
        controls = ev.controls.copy()
        cells = controls["unit_type"] == "cell"
        if cells.any():  # a cell has no name: where it is, the H3 id beside it
            controls.loc[cells, "name"] = cell_labels(controls.loc[cells, "unit_id"].to_numpy(), lg)
        show_table(controls[["name", "unit_id", "baseline", "score"]].rename(columns={
            "unit_id": t("effects.control_unit", lg), "name": t("effects.control_name", lg),
            "baseline": t("effects.control_baseline", lg), "score": t("effects.control_score", lg),
        }).round(2), hide_index=True, use_container_width=True)


def _share(x: float) -> str:
    return "—" if pd.isna(x) else f"{x * 100:.0f}%"
