"""Seeded demo scenario: two years of synthetic 12345 work orders with planted stories.

:func:`generate_demo` turns the demo city's layers (units and places) into a
ticket table that looks like a real 12345 export, plus the exact ground truth
of what was planted in it: which grid version and place every ticket was
sampled in, the stories of DESIGN.md section 1 and the interventions behind
them.  It is a pure function of its arguments: the same seed gives identical
DataFrames, and it does no I/O (:func:`write_truth` writes the truth out).

Background
    Every current grid gets a rate proportional to its population times a
    gamma-distributed grid effect.  Days follow a weekly rhythm (fewer on
    weekends), a seasonal rhythm (more in summer, holiday dips) and a slight
    trend; categories have their own season (noise, leaks, fumes, elevators in
    summer; streetlights in winter).  About 30 % of the background is "at" a
    place (compounds draw property management, road stretches traffic and
    municipal issues, hospital entrances order and parking).  Tickets of a grid
    that changed boundary are sampled in the version valid when received.

Stories
    Planted by the modules of :mod:`minqing.demo.stories` (one per story, keys
    in ``STORY_KEYS``) in places chosen by
    :mod:`minqing.demo.stories.selection`; no place ids are assumed.

Repeat calls
    All story rates are base rates before genuine repeat calls, which are added
    to ~8 % of all tickets (same place, category and point within 72 hours).

Every step draws from its own generator spawned from ``seed`` (selection,
stories, background, repeats, handling, people, text, locate, kinds), and
always in the same order, so the same seed gives the same demo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from minqing import model
from minqing.demo.calendar import Calendar
from minqing.demo.finish import finish
from minqing.demo.parts import (
    CHANNEL_MIX,
    GENERAL_MIX,
    KIND_MIX,
    KIND_MIX_POLICY,
    KIND_MIX_PROACTIVE,
    PLACE_KIND_WEIGHT,
    PLACE_MIX,
    Accumulator,
    categories,
    pick,
)
from minqing.demo.stories import plant_stories, qr_code
from minqing.demo.stories.context import StoryContext
from minqing.demo.stories.selection import select_places
from minqing.demo.world import World
from minqing.errors import ConfigError, GeodataError

__all__ = ["DemoScenario", "generate_demo", "write_truth"]

TARGET_COLUMNS = ("intervention_id", "target_type", "target_id")
"""Columns of ``DemoScenario.intervention_targets``."""

_REPEAT_SHARE = 0.08  # share of all tickets that are repeat calls
_PLACE_SHARE = 0.30


@dataclass(frozen=True, eq=False)
class DemoScenario:
    """A generated demo: tickets, their ground truth, interventions and stories.

    Attributes
    ----------
    tickets : DataFrame
        Columns ``model.TICKET_COLUMNS`` without ``model.LINK_COLUMNS``.
    truth : DataFrame
        One row per ticket: source_id, grid_code, grid_valid_from, place_id, story.
    interventions : DataFrame
        Columns ``model.INTERVENTION_COLUMNS``.
    intervention_targets : DataFrame
        intervention_id, target_type ("place", "grid" or "cell"), target_id.
    stories : dict
        JSON-serialisable ground truth of every planted story, keyed by story.
    params : dict
        The arguments the scenario was generated with.
    """

    tickets: pd.DataFrame
    truth: pd.DataFrame
    interventions: pd.DataFrame
    intervention_targets: pd.DataFrame
    stories: dict
    params: dict = field(default_factory=dict)


def generate_demo(
    units: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    *,
    seed: int = 20250401,
    start: str = "2024-11-01",
    end: str = "2026-10-31",
    n_target: int = 200_000,
) -> DemoScenario:
    """Generate the seeded demo scenario for the demo city.

    Parameters
    ----------
    units : GeoDataFrame
        All unit levels in one frame (EPSG:4326) with ``code``, ``level``,
        ``parent_code``, ``population``, ``valid_from``, ``valid_to``.
    places : GeoDataFrame
        The places layer (EPSG:4326) with ``place_id``, ``kind``, ``name`` and
        optionally ``aliases``, ``radius_m``, ``buffer_m``, ``subdistrict_code``.
    seed : int
        Seed of every random draw; the same seed gives identical frames.
    start, end : str
        First and last day ("YYYY-MM-DD") of received tickets, local time.
    n_target : int
        Approximate number of tickets (at least 10,000).

    Returns
    -------
    DemoScenario
    """
    _check_inputs(units, places, start, end, n_target)
    world = World(units, places)
    cal = Calendar(start, end)
    names = ("select", "stories", "background", "repeats", "handling", "people", "text", "locate", "kinds")
    rngs = dict(zip(names, (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(names)))))
    acc = Accumulator(world, cal)
    selection = select_places(world, rngs["select"])
    stories, interventions = plant_stories(StoryContext(acc, selection, cal, rngs["stories"], rngs["select"]))
    _background(acc, selection, cal, rngs["background"], n_target)
    frame = acc.realise(rngs["locate"])
    _fill_kinds(frame, rngs["kinds"])
    frame = _add_repeats(frame, world, cal, rngs["repeats"])
    tickets, truth = finish(frame, world, cal, rngs)
    interventions_df, targets_df = _intervention_frames(interventions)
    for key, story in stories.items():
        sel = truth["story"] == key
        story["n_tickets"] = int(sel.sum())
    params = {"seed": int(seed), "start": start, "end": end, "n_target": int(n_target)}
    return DemoScenario(tickets, truth, interventions_df, targets_df, stories, params)


def write_truth(scenario: DemoScenario, path: Path | str) -> tuple[Path, Path]:
    """Write the stories and interventions as JSON and the per-ticket truth as parquet.

    Parameters
    ----------
    scenario : DemoScenario
    path : path
        The JSON file; the parquet file goes beside it (``path.with_suffix(".parquet")``).

    Returns
    -------
    (Path, Path)
        The JSON and parquet paths.
    """
    path = Path(path)
    doc = {
        "params": scenario.params,
        "stories": scenario.stories,
        "interventions": scenario.interventions.astype(object).where(scenario.interventions.notna(), None)
        .to_dict(orient="records"),
        "intervention_targets": scenario.intervention_targets.to_dict(orient="records"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
    pq = path.with_suffix(".parquet")
    scenario.truth.to_parquet(pq, index=False)
    return path, pq


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"not JSON-serialisable: {value!r}")


def _check_inputs(units, places, start, end, n_target) -> None:
    """Raise a GeodataError or ConfigError naming the bad layer, column, period or size."""
    for name, frame, need in (
        ("units", units, ("code", "level", "parent_code", "population", "valid_from", "valid_to")),
        ("places", places, ("place_id", "kind", "name")),
    ):
        if not isinstance(frame, gpd.GeoDataFrame):
            raise GeodataError(f"{name} must be a GeoDataFrame, got {type(frame).__name__}",
                               key="error.geodata", what=name)
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise GeodataError(f"{name} is missing column(s) {missing}; the demo needs {list(need)}",
                               key="error.geodata_columns", columns=", ".join(missing))
        if frame.crs is None or not frame.crs.equals("EPSG:4326", ignore_axis_order=True):
            raise GeodataError(f"{name} must be in EPSG:4326, got {frame.crs}; call .to_crs(4326) first",
                               key="error.layer_crs", path=name)
    if not (units["level"] == "grid").any():
        raise GeodataError("units have no grid level; the demo samples tickets in grids", key="error.no_grids")
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    if t1 <= t0 + pd.Timedelta(days=60):
        raise ConfigError(f"end ({end}) must be at least 60 days after start ({start})", key="error.demo_span",
                          start=str(start), end=str(end))
    if int(n_target) < 10_000:
        raise ConfigError(f"the demo needs at least 10000 tickets (its stories alone need a few thousand), "
                          f"got {n_target}; use --tickets 10000 or more", key="error.demo_tickets", n=str(n_target))



def _background(acc: Accumulator, sel: dict, cal: Calendar, rng, n_target: int) -> None:
    """Add the background tickets (in grids and at places) and story g's QR-code extra tickets."""
    w = acc.world
    cur = np.flatnonzero(w.g_current)
    gw, eligible, pw = _background_weights(w, sel, cur, rng)
    place_share = _PLACE_SHARE if len(eligible) else 0.0
    g_sd = sel["g"]
    share = (1 - place_share) * gw[w.g_sd[cur] == g_sd].sum()
    if len(eligible):
        share += place_share * pw[w.p_sd[eligible] == g_sd].sum()
    qr_factor = qr_code.extra_factor(cal, share)
    base_target = n_target * (1 - _REPEAT_SHARE)
    story_n = acc.count()
    n_bg = int(round((base_target - story_n) / (1 + qr_factor)))
    if n_bg < 0.5 * base_target:
        raise ValueError(f"n_target={n_target} is too small for the planted stories ({story_n} tickets); "
                         "use at least 10000")
    n_place = int(round(place_share * n_bg))
    _grid_tickets(acc, cal, cur, gw, n_bg - n_place, rng)
    if n_place:
        _place_tickets(acc, cal, eligible, pw, n_place, rng)
    qr_code.plant_extra(acc, g_sd, cal, rng, int(round(qr_factor * n_bg)), eligible, cur)


def _background_weights(w: World, sel: dict, cur: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights of the current grids (population x gamma effect) and of the places not used by a story.

    Returns the grid weights, the eligible places' indices and their weights.
    """
    gw = w.g_pop[cur] * rng.gamma(4.0, 0.25, size=len(cur))
    gw = gw / gw.sum()
    excluded = {sel["a"], sel["b"], sel["c"], sel["e"], sel["f"]}
    eligible = np.array([i for i in range(len(w.p_id)) if i not in excluded], dtype=int)
    pw = np.array([PLACE_KIND_WEIGHT.get(w.p_kind[i], 1.0) for i in eligible]) * rng.gamma(2.0, 0.5,
                                                                                            size=len(eligible))
    pw = pw / pw.sum() if len(pw) else pw
    return gw, eligible, pw


def _grid_tickets(acc: Accumulator, cal: Calendar, cur: np.ndarray, gw: np.ndarray, n_grid: int, rng) -> None:
    """Add ``n_grid`` background tickets in grids, each in the grid version valid when received."""
    days = cal.sample_days(n_grid, rng)
    t = cal.times(days, rng)
    grid = cur[rng.choice(len(cur), size=n_grid, p=gw)]
    ver, t = acc.world.version_at(grid, t, rng)
    acc.add(t=t, cat=categories(cal, GENERAL_MIX, days, rng), channel=pick(rng, CHANNEL_MIX, n_grid),
            ver=ver)


def _place_tickets(acc: Accumulator, cal: Calendar, eligible: np.ndarray, pw: np.ndarray, n_place: int,
                   rng) -> None:
    """Add ``n_place`` background tickets at places, in the categories of each place's kind."""
    days = cal.sample_days(n_place, rng)
    t = cal.times(days, rng)
    pl = eligible[rng.choice(len(eligible), size=n_place, p=pw)]
    cat = np.empty(n_place, dtype=object)
    kinds = acc.world.p_kind[pl]
    for kind in sorted(set(kinds)):
        m = kinds == kind
        cat[m] = categories(cal, PLACE_MIX.get(kind, GENERAL_MIX), days[m], rng)
    acc.add(t=t, cat=cat, channel=pick(rng, CHANNEL_MIX, n_place), fp=pl, place=pl)


def _fill_kinds(f: dict, rng) -> None:
    """Draw the kind of every ticket whose kind a story did not set."""
    kind = f["kind"]
    missing = pd.isna(kind)
    policy = np.char.startswith(f["cat"].astype(str), "08")
    proactive_ch = np.isin(f["channel"], model.PROACTIVE_CHANNELS)
    for mask, mix in ((missing & proactive_ch, KIND_MIX_PROACTIVE),
                      (missing & ~proactive_ch & policy, KIND_MIX_POLICY),
                      (missing & ~proactive_ch & ~policy, KIND_MIX)):
        kind[mask] = pick(rng, mix, int(mask.sum()))


def _add_repeats(f: dict, world: World, cal: Calendar, rng) -> dict:
    """Add genuine repeat calls: ~8 % of all tickets repeat an earlier one within 72 hours, same point."""
    n = len(f["t"])
    kind = f["kind"]
    eligible = np.flatnonzero(~np.isin(f["channel"], ("grid_patrol", "proactive")) & (kind != "praise"))
    n_child = int(round(_REPEAT_SHARE / (1 - _REPEAT_SHARE) * n))
    parents = np.sort(rng.choice(eligible, size=min(n_child, len(eligible)), replace=False))
    dt = rng.integers(1800, 72 * 3600, size=len(parents))
    t = f["t"][parents] + dt
    ver = world.lookup(f["lon"][parents], f["lat"][parents], t)
    keep = (t < cal.snapshot) & (ver >= 0)
    parents, t, ver = parents[keep], t[keep], ver[keep]
    child = {k: v[parents].copy() for k, v in f.items()}
    child["t"], child["ver"], child["parent"] = t, ver, parents
    return {k: np.concatenate([f[k], child[k]]) for k in f}


def _intervention_frames(ivs: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The interventions and their targets as frames (``model.INTERVENTION_COLUMNS``, ``TARGET_COLUMNS``)."""
    rows, targets = [], []
    for iv in ivs:
        rows.append({
            "intervention_id": iv["intervention_id"], "name": iv["name"], "type": iv["type"],
            "start_date": iv["start_date"], "end_date": iv["end_date"],
            "implementation_end": iv["implementation_end"], "units_involved": iv["units_involved"],
            "description": iv["description"],
            "target_categories": json.dumps(iv["target_categories"], ensure_ascii=False),
        })
        targets.extend({"intervention_id": iv["intervention_id"], "target_type": tt, "target_id": tid}
                       for tt, tid in iv["targets"])
    interventions = pd.DataFrame(rows, columns=list(model.INTERVENTION_COLUMNS))
    interventions["intervention_id"] = interventions["intervention_id"].astype("int64")
    targets_df = pd.DataFrame(targets, columns=list(TARGET_COLUMNS))
    targets_df["intervention_id"] = targets_df["intervention_id"].astype("int64")
    return interventions, targets_df
