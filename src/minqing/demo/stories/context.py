"""What every story plants through: the story places, the calendar, the random streams and helpers.

A story module has a ``KEY`` (its key in ``DemoScenario.stories`` and in
``truth.story``) and a function ``plant(ctx) -> (story, interventions)``: it
adds its tickets to ``ctx.acc`` and returns its ground truth (a
JSON-serialisable dict) and its intervention records (dicts with a ``key``
such as ``"a1"``; :func:`minqing.demo.stories.plant_stories` numbers them).
Stories are planted in a fixed order and draw from the shared generators in
that order, so the same seed gives the same demo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minqing.demo.calendar import Calendar
from minqing.demo.parts import (
    CITIZEN_CHANNELS,
    GENERAL_MIX,
    PLACE_MIX,
    Accumulator,
    pick,
)
from minqing.demo.world import World


@dataclass
class StoryContext:
    """The shared state the stories plant into.

    Attributes
    ----------
    acc : Accumulator
        Where the stories' tickets go.
    sel : dict
        The story places, from :func:`minqing.demo.stories.selection.select_places`.
    cal : Calendar
    rng : numpy.random.Generator
        The stories' stream: every ticket a story plants is drawn from it.
    rng_sel : numpy.random.Generator
        The selection stream, which also draws story f's peak month and story h's shop row.
    """

    acc: Accumulator
    sel: dict
    cal: Calendar
    rng: np.random.Generator
    rng_sel: np.random.Generator

    @property
    def world(self) -> World:
        """The demo city."""
        return self.acc.world

    def place_ref(self, i: int) -> dict:
        """The ground truth's reference to place ``i``: id, name, kind and sub-district."""
        w = self.world
        return {"place_id": str(w.p_id[i]), "name": str(w.p_name[i]), "kind": str(w.p_kind[i]),
                "subdistrict_code": None if w.p_sd[i] in (None, "") else str(w.p_sd[i])}

    def add_rate(self, rate, cats, *, story, place=-1, fp=None, channels=None, kinds=None, sat=None) -> int:
        """Add Poisson tickets with ``rate`` per month on each day; return how many were added.

        Parameters
        ----------
        rate : ndarray
            Expected tickets per month, one value per day of the calendar.
        cats : dict or str
            A category mix, or one category.
        story : str or None
            The story key the tickets are planted for (None: ambient tickets).
        place, fp : int
            The place the tickets are at and the footprint they are sampled in
            (defaults to the place's own).
        channels, kinds : dict, optional
            Channel and kind mixes (default: citizen channels; kinds drawn later).
        sat : callable, optional
            Satisfaction mode from the tickets' times (0 normal, 1 unsatisfied, 2 satisfied).
        """
        cal, rng = self.cal, self.rng
        days = cal.poisson_days(rate, rng)
        n = len(days)
        t = cal.times(days, rng)
        cat = pick(rng, cats, n) if isinstance(cats, dict) else np.full(n, cats, dtype=object)
        chan = pick(rng, channels or CITIZEN_CHANNELS, n)
        kind = pick(rng, kinds, n) if kinds else np.full(n, None, dtype=object)
        s = np.zeros(n, dtype=np.int8) if sat is None else sat(t)
        self.acc.add(t=t, cat=cat, channel=chan, kind=kind, fp=place if fp is None else fp, place=place,
                     story=story, sat=s)
        return n

    def ambient(self, i: int, exclude) -> None:
        """Add the everyday tickets of a story place (3 a month) in categories other than the story's."""
        w = self.world
        mix = {c: v for c, v in PLACE_MIX.get(w.p_kind[i], GENERAL_MIX).items()
               if c not in exclude and c != "03.01.01"}
        self.add_rate(np.full(self.cal.n, 3.0), mix, story=None, place=i)


def seconds(date: str) -> int:
    """Local epoch seconds of midnight at the start of ``date``."""
    return int(pd.Timestamp(date).to_datetime64().astype("datetime64[s]").astype(np.int64))
