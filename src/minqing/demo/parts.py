"""Ticket parts: what the stories and the background add tickets to, and the mixes they draw from.

Stories and the background add arrays of ticket parts (time, category,
channel, kind, where to sample the point) to an :class:`Accumulator`; once
every part is in, :meth:`Accumulator.realise` gives every ticket a point and
its grid version.  The category, channel and kind mixes of the generator
live here too.
"""

from __future__ import annotations

import numpy as np

from minqing import model
from minqing.demo.calendar import Calendar
from minqing.demo.world import World

LEAF_CATEGORIES = tuple(c for c, node in model.CATEGORIES.items() if node.level == 3)

# Background category weights (leaf codes; any leaf not named gets weight 1).
GENERAL_MIX = {
    "01.01.01": 6, "01.01.02": 3, "01.02.01": 4, "01.03.01": 4,
    "02.01.01": 4, "02.01.02": 1, "02.01.03": 1.5, "02.01.04": 7, "02.02.01": 3,
    "03.01.01": 3, "03.02.01": 4, "03.02.02": 1,
    "04.01.01": 4, "04.02.01": 2, "04.02.02": 2, "04.03.01": 8, "04.03.02": 5,
    "05.01.01": 5, "05.02.01": 4, "06.01.01": 2, "06.01.02": 2,
    "07.01.01": 1, "08.01.01": 8, "08.02.01": 2, "99.99.99": 8,
}
PLACE_MIX = {
    "compound": {
        "04.01.01": 10, "04.02.01": 7, "04.02.02": 6, "04.03.01": 20, "04.03.02": 12,
        "06.01.01": 8, "06.01.02": 7, "01.01.01": 8, "01.01.02": 6, "05.02.01": 6,
        "05.01.01": 2, "01.03.01": 3, "99.99.99": 5,
    },
    # No 03.01.01 here: streetlights along road stretches are story d's alone.
    "road_stretch": {
        "02.01.04": 25, "02.02.01": 15, "03.02.01": 15, "03.02.02": 8, "02.01.03": 7,
        "01.02.01": 12, "05.01.01": 8, "02.01.01": 10,
    },
    "hospital_entrance": {"07.01.01": 35, "02.01.04": 25, "02.01.01": 20, "02.01.02": 15, "02.02.01": 5},
}
PLACE_KIND_WEIGHT = {"hospital_entrance": 2.0, "road_stretch": 3.0, "compound": 1.0, "other": 1.0}

CHANNEL_MIX = {
    "hotline_12345": 0.70, "app": 0.06, "web": 0.04, "miniprogram": 0.05,
    "grid_patrol": 0.04, "community_log": 0.03, "proactive": 0.03,
    "petition": 0.01, "other": 0.04,
}
CITIZEN_CHANNELS = {"hotline_12345": 0.82, "app": 0.07, "miniprogram": 0.05, "web": 0.03, "other": 0.03}
KIND_MIX = {"complaint": 0.45, "help": 0.20, "consult": 0.20, "report": 0.07, "suggestion": 0.05,
            "praise": 0.02, "other": 0.01}
KIND_MIX_POLICY = {"consult": 0.75, "help": 0.15, "suggestion": 0.05, "complaint": 0.03, "praise": 0.02}
KIND_MIX_PROACTIVE = {"report": 0.4, "help": 0.4, "suggestion": 0.1, "complaint": 0.1}


class Accumulator:
    """Collects ticket parts (arrays) from the stories and the background."""

    def __init__(self, world: World, cal: Calendar):
        self.world, self.cal = world, cal
        self.parts: list[dict] = []

    def add(self, *, t, cat, channel, kind=None, fp=-1, ver=-1, place=-1, story=None, sat=0, extra=None):
        """Add one part: arrays of equal length, or scalars that hold for every ticket of the part.

        A ticket is sampled in footprint ``fp`` when it is given (a place's index, or a
        story footprint's), else in grid version ``ver``.
        """
        n = len(t)
        if n == 0:
            return

        def arr(v, dtype):
            return np.asarray(v, dtype=dtype) if np.ndim(v) else np.full(n, v, dtype=dtype)

        self.parts.append({
            "t": np.asarray(t, dtype=np.int64), "cat": arr(cat, object), "channel": arr(channel, object),
            "kind": arr(kind, object), "fp": arr(fp, np.int64), "ver": arr(ver, np.int64),
            "place": arr(place, np.int64), "story": arr(story, object), "sat": arr(sat, np.int8),
            "extra": arr(extra, object),
        })

    def count(self) -> int:
        """Number of tickets added so far."""
        return sum(len(p["t"]) for p in self.parts)

    def realise(self, rng) -> dict:
        """Concatenate the parts and give every ticket a point and its grid version."""
        f = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        n = len(f["t"])
        lon, lat = np.empty(n), np.empty(n)
        by_fp = f["fp"] >= 0
        idx = np.flatnonzero(by_fp)
        lo, la, v = self.world.sample_in_footprints(f["fp"][idx], f["t"][idx], rng)
        lon[idx], lat[idx], f["ver"][idx] = lo, la, v
        idx = np.flatnonzero(~by_fp)
        lo, la = self.world.sample_in_grids(f["ver"][idx], rng)
        lon[idx], lat[idx] = lo, la
        f["lon"], f["lat"] = lon, lat
        f["parent"] = np.full(n, -1)
        return f


def pick(rng, mix: dict, n: int) -> np.ndarray:
    """``n`` keys of ``mix`` drawn with its values as weights."""
    keys = np.array(list(mix), dtype=object)
    p = np.array(list(mix.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def categories(cal: Calendar, mix: dict, day_idx: np.ndarray, rng) -> np.ndarray:
    """Categories drawn from ``mix`` with each category's season in the ticket's month."""
    codes = [c for c in LEAF_CATEGORIES if mix.get(c, 0) > 0] if mix is not GENERAL_MIX else list(LEAF_CATEGORIES)
    w = np.array([mix.get(c, 1.0) for c in codes], dtype=float)
    table = np.stack([wi * cal.season(c, cal.month_doy) for wi, c in zip(w, codes)], axis=1)  # months x cats
    cum = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(day_idx))
    k = (u[:, None] > cum[cal.month[day_idx]]).sum(axis=1)
    return np.array(codes, dtype=object)[np.minimum(k, len(codes) - 1)]
