"""How story places are chosen (no place ids are assumed).

a: the ``hospital_entrance`` named 安图医院门口, else one whose name contains
   安图, else the first in 长白新村街道 (310110013), else the first; ordered
   by place_id.
b: the ``compound`` named 内江小区, else containing 内江, else the first in
   延吉新村街道 (310110015), else the first.
c: the first ``road_stretch`` whose name contains 军工路, else the first.
d: up to 8 road stretches other than c, by place_id (c is added when fewer
   than 6 others exist).
e, f: seeded picks (a Generator spawned from ``seed``) among the compounds
   not used by other stories, preferring a sub-district other than b's
   (e) and other than b's and e's (f).
g: 殷行街道 (310110016), chosen because DESIGN.md's 殷行 story is about
   proactive intake; else 长白新村街道 (310110013); else the most populous.
h: a seeded pick among the grids of 殷行街道 (else g's sub-district) that
   have not changed boundary; the shop row is a 100 m stretch at a seeded
   interior point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minqing.demo.world import World
from minqing.errors import GeodataError


def select_places(world: World, rng) -> dict:
    """Choose the places, sub-district and grid of every story by the rules above.

    Parameters
    ----------
    world : World
    rng : numpy.random.Generator
        The selection stream; it draws e, f and h in that order.

    Returns
    -------
    dict
        "a", "b", "c", "e", "f": place indices; "d": a list of place indices;
        "g": a sub-district code; "h": a grid (version) index.
    """
    kind, name, sd = world.p_kind, world.p_name, world.p_sd

    def first(*masks):
        for m in masks:
            hit = np.flatnonzero(m)
            if len(hit):
                return int(hit[0])
        return -1

    def named(s):
        return np.array([s in str(x) for x in name])

    hosp = kind == "hospital_entrance"
    comp = kind == "compound"
    road = kind == "road_stretch"
    sel = {}
    sel["a"] = first(hosp & (name == "安图医院门口"), hosp & named("安图"), hosp & (sd == "310110013"), hosp)
    sel["b"] = first(comp & (name == "内江小区"), comp & named("内江"), comp & (sd == "310110015"), comp)
    sel["c"] = first(road & named("军工路"), road)
    for key, what in (("a", "hospital_entrance"), ("b", "compound"), ("c", "road_stretch")):
        if sel[key] < 0:
            raise GeodataError(f"places has no {what!r}; the demo's stories need hospital entrances, "
                               "compounds and road stretches", key="error.geodata")
    others = [i for i in np.flatnonzero(road) if i != sel["c"]]
    d = others[:8]
    if len(d) < 6:
        d = [sel["c"]] + d
    sel["d"] = d
    used = {sel["b"]}

    def seeded_compound(avoid_sd):
        cand = [i for i in np.flatnonzero(comp) if i not in used]
        pref = [i for i in cand if sd[i] not in avoid_sd]
        pool = pref or cand
        if not pool:
            return sel["b"]
        return int(pool[rng.integers(len(pool))])

    sel["e"] = seeded_compound({sd[sel["b"]]})
    used.add(sel["e"])
    sel["f"] = seeded_compound({sd[sel["b"]], sd[sel["e"]]})
    used.add(sel["f"])
    sds = set(world.g_sd)
    if "310110016" in sds:
        sel["g"] = "310110016"
    elif "310110013" in sds:
        sel["g"] = "310110013"
    else:
        pop = pd.Series(world.g_pop[world.g_current]).groupby(world.g_sd[world.g_current]).sum()
        sel["g"] = str(pop.idxmax())
    h_sd = "310110016" if "310110016" in sds else sel["g"]
    stable = world.g_current & (world.g_pred < 0) & ~np.isin(world.g_vf, world.g_vt)
    cand = [i for i in np.flatnonzero(stable & (world.g_sd == h_sd))]
    if not cand:
        cand = list(np.flatnonzero(world.g_current & (world.g_sd == h_sd)))
    cand.sort(key=lambda i: world.g_code[i])
    sel["h"] = int(cand[rng.integers(len(cand))])
    return sel
