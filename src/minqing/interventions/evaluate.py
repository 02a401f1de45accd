"""From the store to count series: treated area, spillover ring, controls, channels, satisfaction.

:func:`evaluate_intervention` reads the tickets an intervention is about,
builds the daily series :func:`minqing.analysis.effects.evaluate_counts`
needs and returns its result with everything the page shows (the controls and
why they were picked, the target and ring geometries, the ticket points).

What counts as a problem ticket: a ticket of the target categories (all
categories when none are given) that is not praise (表扬), not a repeat call
(``repeat_of`` set), not from a proactive channel (网格巡查, 民情日志, 未诉先办:
those are the government finding problems, shown separately) and not from a
new intake channel (one with under 5 % of the treated tickets before and at
least 20 % after, e.g. a QR code launched with the intervention: a reporting
change, not a problem change).

The areas (the targets, their spillover ring and the controls, with the
control rule) are drawn in :mod:`minqing.interventions.areas`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from minqing.analysis.effect_bins import PERIOD_DAYS
from minqing.analysis.effect_results import Caveat, EffectError, EffectResult
from minqing.analysis.effects import evaluate_counts
from minqing.interventions.areas import (
    METRIC_CRS,
    _controls,
    _in_ring,
    _metric_xy,
    _target_geometry,
    _treated_mask,
)
from minqing.interventions.registry import (
    Intervention,
    get_intervention,
    list_interventions,
)
from minqing.model import CATEGORIES, PROACTIVE_CHANNELS, RATED
from minqing.store.base import Store

__all__ = ["InterventionEvaluation", "EffectData", "PlaceTimeline", "evaluate_intervention", "evaluate_all",
           "load_effect_data", "place_timeline", "RING_METRES"]

RING_METRES = (50, 100, 150)
_RATED = RATED


@dataclass(frozen=True)
class InterventionEvaluation:
    """An intervention, its evaluation and what the page draws.

    Attributes
    ----------
    intervention : Intervention
    result : EffectResult
    controls : DataFrame
        unit_type, unit_id, name, baseline (problem tickets before), score; the pooled controls.
    control_type : str
        "place", "grid" or "cell".
    excluded_channels : list of str
        New intake channels left out of the problem counts.
    target_geometry, ring_geometry : shapely geometry (WGS-84)
    points : DataFrame
        lon, lat, window ("before"/"after"), area ("target"/"ring") of problem tickets.
    ring_m : int
    """

    intervention: Intervention
    result: EffectResult
    controls: pd.DataFrame
    control_type: str
    excluded_channels: list
    target_geometry: object
    ring_geometry: object
    points: pd.DataFrame
    ring_m: int


@dataclass
class EffectData:
    """What evaluations read from the store, loaded once and shared (see :func:`evaluate_all`).

    Attributes
    ----------
    tickets : DataFrame
        source_id, received_at, channel, kind, category, satisfaction, lon, lat, h3_cell
        (nullable Int64, ``<NA>`` when unlocated), grid_code, repeat_of, plus ``day`` (local
        calendar day) and ``mx``/``my`` (metres, UTM 51N).
    links : DataFrame
        place_id and ``row``, the position of the linked ticket in ``tickets``.
    first, last : Timestamp
        The store's first and last received times.
    places, grids : GeoDataFrame
        Places, and the grids valid on the last day.
    targets : DataFrame
        Every intervention's targets (intervention_id, target_type, target_id).
    """

    tickets: pd.DataFrame
    links: pd.DataFrame
    first: pd.Timestamp
    last: pd.Timestamp
    places: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    targets: pd.DataFrame

    def subset(self, leaves: tuple[str, ...] | None, day0: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Tickets of these exact categories (all when None) from ``day0`` on, and their links (rows renumbered)."""
        tk = self.tickets
        keep = (tk["day"] >= day0).to_numpy().copy()
        if leaves:
            keep &= tk["category"].isin(leaves).to_numpy()
        if keep.all():
            return tk, self.links
        new_pos = np.cumsum(keep) - 1
        lk = self.links[keep[self.links["row"].to_numpy()]]
        lk = pd.DataFrame({"place_id": lk["place_id"].to_numpy(), "row": new_pos[lk["row"].to_numpy()]})
        return tk[keep].reset_index(drop=True), lk


def load_effect_data(store: Store, categories: tuple[str, ...] | None = None, start=None) -> EffectData:
    """Read what evaluations need: tickets from ``start`` in ``categories`` (all when None), links, layers."""
    first, last = store.received_range()
    if first is None:
        raise EffectError("the store holds no tickets; import tickets first", key="interventions.error_no_tickets")
    tk, links = store.read_effect_tickets(categories, first if start is None else start)
    tk["day"] = tk["received_at"].dt.tz_localize(None).dt.normalize()
    xy = _metric_xy(tk)
    tk["mx"], tk["my"] = xy[:, 0], xy[:, 1]
    rows = pd.Index(tk["source_id"].to_numpy(dtype=object)).get_indexer(links["source_id"].to_numpy(dtype=object))
    links = pd.DataFrame({"place_id": links["place_id"].to_numpy(dtype=object)[rows >= 0], "row": rows[rows >= 0]})
    day_end = last.tz_localize(None).normalize()
    _, targets = store.read_interventions()
    return EffectData(tk, links, first, last, store.read_places(), store.read_units("grid", at=str(day_end.date())),
                      targets)


def evaluate_intervention(store: Store, intervention_id: int, *, ring_m: int = 150,
                          before_months: int = 12, data: EffectData | None = None) -> InterventionEvaluation:
    """Evaluate a stored intervention against its controls; see the module notes for the rules.

    Parameters
    ----------
    store : Store
    intervention_id : int
    ring_m : {50, 100, 150}
        Width of the spillover ring around the targets in metres.
    before_months : int
        Before window in 30-day periods (at least 3 are required).
    data : EffectData, optional
        Preloaded store data (all categories, all days) shared by many evaluations;
        read for this intervention alone when None.
    """
    if ring_m not in RING_METRES:
        raise EffectError(f"ring width {ring_m!r} m is not offered; allowed: {RING_METRES}",
                          key="interventions.error_ring", value=str(ring_m))
    iv = get_intervention(store, intervention_id)
    if data is None:
        first, _ = store.received_range()
        if first is None:
            raise EffectError("the store holds no tickets; import tickets first", key="interventions.error_no_tickets")
        data = load_effect_data(store, _leaves(iv), _day0(iv, first, before_months))
    others = _same_place(store, iv)
    start = pd.Timestamp(iv.start_date)
    after_from = pd.Timestamp(iv.implementation_end or iv.start_date)
    mine = set(_leaves(iv) or ())
    # The after window ends where the next intervention on the same problem at the same place begins (its
    # effect is its own), unless that leaves less than four weeks after.
    later = [d for _, d, cats in others if d > start and (not mine or not cats or mine & cats)
             and d - after_from >= pd.Timedelta(days=28)]
    until = min(later) - pd.Timedelta(days=1) if later else None
    ev = _evaluate(iv, data, ring_m, before_months, until=until)
    r = ev.result
    inside = [f"{name}（{d.date()}）" for name, d, _ in others
              if r.before.start <= d < r.after.end or d == min(later, default=None)]
    if inside:
        r.caveats.append(Caveat("effects.caveat_other_interventions", {"names": "、".join(inside)}))
    if until is not None:
        r.caveats.append(Caveat("effects.caveat_after_cut", {"date": str(min(later).date())}))
    return ev


@dataclass
class PlaceTimeline:
    """Every intervention at a place on one time line, with the place's problem orders and satisfaction.

    Attributes
    ----------
    monthly : DataFrame
        ``month`` (first day), ``tickets`` (problem orders at the targets), ``rated``, ``unsatisfied``
        and ``unsatisfied_share`` (NaN without rated follow-ups).
    interventions : DataFrame
        ``intervention_id``, ``name``, ``start_date``, ``end_date`` of this one and the others sharing a target.
    """

    monthly: pd.DataFrame
    interventions: pd.DataFrame


def place_timeline(store: Store, intervention_id: int) -> PlaceTimeline:
    """The history of the place(s) of an intervention: counts and satisfaction per month, every intervention there."""
    iv = get_intervention(store, intervention_id)
    data = load_effect_data(store, _leaves(iv))
    tk, links = data.tickets, data.links
    treated = _treated_mask(iv, tk, links)
    problem = treated & (tk["kind"] != "praise").to_numpy() & tk["repeat_of"].isna().to_numpy() \
        & ~tk["channel"].isin(PROACTIVE_CHANNELS).to_numpy()
    sat = tk["satisfaction"]
    frame = pd.DataFrame({"month": tk["day"].dt.to_period("M").dt.start_time, "tickets": problem,
                          "rated": problem & sat.isin(_RATED).to_numpy(),
                          "unsatisfied": problem & (sat == "unsatisfied").to_numpy()})
    monthly = frame.groupby("month", as_index=False)[["tickets", "rated", "unsatisfied"]].sum()
    full = pd.DataFrame({"month": pd.date_range(monthly["month"].min(), monthly["month"].max(), freq="MS")})
    monthly = full.merge(monthly, on="month", how="left").fillna(0)
    for c in ("tickets", "rated", "unsatisfied"):
        monthly[c] = monthly[c].astype("int64")
    monthly["unsatisfied_share"] = (monthly["unsatisfied"] / monthly["rated"].where(monthly["rated"] > 0)).astype(float)
    ids = {int(intervention_id)} | set(_same_place_ids(store, iv))
    rows = list_interventions(store)
    rows = rows[rows["intervention_id"].astype(int).isin(ids)].sort_values("start_date")
    return PlaceTimeline(monthly, rows[["intervention_id", "name", "start_date", "end_date"]].reset_index(drop=True))


def _same_place_ids(store: Store, iv: Intervention) -> list[int]:
    """The ids of the other interventions sharing one of ``iv``'s targets."""
    _, targets = store.read_interventions()
    mine = set(map(tuple, iv.targets))
    if not mine or targets.empty:
        return []
    shared = targets[[(a, b) in mine for a, b in zip(targets["target_type"], targets["target_id"])]]
    return sorted(set(shared["intervention_id"].astype(int)) - {int(iv.intervention_id)})


def _same_place(store: Store, iv: Intervention) -> list[tuple[str, pd.Timestamp, set]]:
    """(name, start, leaf categories) of the other interventions sharing one of ``iv``'s targets, by start date."""
    ids = _same_place_ids(store, iv)
    if not ids:
        return []
    rows = list_interventions(store)
    rows = rows[rows["intervention_id"].astype(int).isin(ids)].sort_values("start_date")
    return [(str(n), pd.Timestamp(d), set(_leaves(get_intervention(store, int(i))) or ()))
            for i, n, d in zip(rows["intervention_id"], rows["name"], rows["start_date"])]


def evaluate_all(store: Store, *, ring_m: int = 150, before_months: int = 12) -> dict:
    """Evaluate every registered intervention from one read of the store.

    Returns
    -------
    dict
        intervention_id -> InterventionEvaluation, or the EffectError that explains why there is none.
    """
    data = load_effect_data(store)
    out = {}
    for iid in list_interventions(store)["intervention_id"].astype(int):
        try:
            out[int(iid)] = evaluate_intervention(store, int(iid), ring_m=ring_m, before_months=before_months, data=data)
        except EffectError as exc:
            out[int(iid)] = exc
    return out


def _leaves(iv: Intervention) -> tuple[str, ...] | None:
    cats = tuple(iv.target_categories)
    return tuple(c for c in CATEGORIES if cats and any(c == k or c.startswith(k + ".") for k in cats)) or None


HISTORY_YEARS = 3
"""Years of history read before a start: the before window is ``before_months``, but seasonal
factors (the trend, the dispersion and the relapse check) need two years or more."""


def _day0(iv: Intervention, first: pd.Timestamp, before_months: int) -> pd.Timestamp:
    start = pd.Timestamp(iv.start_date)
    history = max(before_months * PERIOD_DAYS, int(HISTORY_YEARS * 365.25))
    return max(first.tz_localize(None).normalize(), start - pd.Timedelta(days=history))


def _evaluate(iv: Intervention, data: EffectData, ring_m, before_months, until=None) -> InterventionEvaluation:
    start = pd.Timestamp(iv.start_date)
    day0 = _day0(iv, data.first, before_months)
    day_end = data.last.tz_localize(None).normalize()
    if until is not None:
        day_end = min(day_end, pd.Timestamp(until).normalize())
    cats = tuple(iv.target_categories) or None
    tk, links = data.subset(_leaves(iv), day0)
    t_idx = ((tk["day"] - day0).dt.days).to_numpy()
    n_days = int((day_end - day0).days) + 1

    places, grids = data.places, data.grids
    target_geom = _target_geometry(iv, places, grids)
    ring_geom = target_geom.buffer(ring_m).difference(target_geom)

    treated = _treated_mask(iv, tk, links)
    after_day = int((pd.Timestamp(iv.implementation_end or iv.start_date) - day0).days) + (1 if iv.implementation_end else 0)
    s0 = int((start - day0).days)
    before = (t_idx < s0) & (t_idx >= s0 - before_months * PERIOD_DAYS)  # the before window (older days: history)
    after = (t_idx >= after_day) & (t_idx < n_days)
    base = (tk["kind"] != "praise").to_numpy() & tk["repeat_of"].isna().to_numpy()
    proactive = tk["channel"].isin(PROACTIVE_CHANNELS).to_numpy()
    new_ch = _new_channels(tk["channel"], treated & base & ~proactive, before, after)
    problem = base & ~proactive & ~tk["channel"].isin(new_ch).to_numpy()

    def series(mask) -> pd.Series:
        counts = np.bincount(t_idx[mask], minlength=n_days)[:n_days]
        return pd.Series(counts, index=pd.date_range(day0, periods=n_days, freq="D"))

    in_ring = _in_ring(ring_geom, tk, treated)

    ctype, controls, cmask = _controls(iv, data.targets, tk, links, problem & before, treated, target_geom, ring_m,
                                       places, grids, cats)
    ch_mask = treated & base
    channels = pd.DataFrame({c: series(ch_mask & (tk["channel"] == c).to_numpy())
                             for c in sorted(tk.loc[ch_mask, "channel"].unique())})
    sat = tk["satisfaction"]
    rated = problem & treated & sat.isin(_RATED).to_numpy()
    satisfaction = pd.DataFrame({"rated": series(rated), "unsatisfied": series(rated & (sat == "unsatisfied").to_numpy())})
    result = evaluate_counts(
        series(problem & treated), start, implementation_end=iv.implementation_end,
        controls=series(problem & cmask) if cmask.any() else None, ring=series(problem & in_ring),
        channels=channels if len(channels.columns) else None, satisfaction=satisfaction,
        before_months=before_months,
    )
    pts_mask = problem & (treated | in_ring) & (before | after) & tk["lon"].notna().to_numpy()
    points = pd.DataFrame({
        "lon": tk["lon"].to_numpy()[pts_mask], "lat": tk["lat"].to_numpy()[pts_mask],
        "window": np.where(before[pts_mask], "before", "after"),
        "area": np.where(treated[pts_mask], "target", "ring"),
    })
    to_wgs = gpd.GeoSeries([target_geom, ring_geom], crs=METRIC_CRS).to_crs(4326)
    return InterventionEvaluation(iv, result, controls, ctype, list(new_ch), to_wgs.iloc[0], to_wgs.iloc[1], points,
                                  ring_m)


def _new_channels(channel: pd.Series, mask, before, after) -> list[str]:
    b = channel[mask & before].value_counts()
    a = channel[mask & after].value_counts()
    nb, na = max(b.sum(), 1), max(a.sum(), 1)
    new = []
    for ch, n_a in a.items():
        share_b = b.get(ch, 0) / nb
        if share_b < 0.05 and n_a / na >= 0.20:
            new.append(str(ch))
    return new
