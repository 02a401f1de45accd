"""Story d, streetlights: bursts of failures along road stretches and a category-wide campaign.

Bursts of streetlight failures along 6-8 road stretches, more in winter; a
category-wide works campaign in 2025-11, before the dark season, so the
after window holds a winter to compare.  Expected verdict ``improved``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
import shapely.ops

from minqing.demo.calendar import DAYS_PER_MONTH
from minqing.demo.parts import CITIZEN_CHANNELS, pick
from minqing.demo.stories.context import StoryContext

KEY = "d_streetlights"


def plant(ctx: StoryContext) -> tuple[dict, list[dict]]:
    """Plant the story's tickets; return its ground truth and its interventions."""
    acc, w, cal, rng = ctx.acc, ctx.world, ctx.cal, ctx.rng
    ivs: list[dict] = []
    d_places = ctx.sel["d"]
    bursts = []
    winter = 1 + 0.8 * np.cos(2 * np.pi * (cal.doy - 15) / 365.25)
    after = np.where(np.arange(cal.n) < cal.day("2025-11-01"), 1.0,
                     np.where(np.arange(cal.n) <= cal.day("2025-11-30"), 0.5, 0.1))
    burst_rate = 0.5 * winter * after / DAYS_PER_MONTH
    for i in d_places:
        line = w.p_metric[i]
        if line.geom_type.startswith("Multi"):
            line = shapely.line_merge(line)
            if line.geom_type.startswith("Multi"):
                line = max(line.geoms, key=lambda g: g.length)
        days = np.flatnonzero(rng.poisson(burst_rate))
        for day0 in days:
            centre = rng.random() * line.length
            seg = shapely.ops.substring(line, max(0.0, centre - 100), min(line.length, centre + 100))
            fp = seg.buffer(w.p_buffer[i]).intersection(w.footprints[i])
            if fp.is_empty or fp.area <= 0:
                fp = w.footprints[i]
            w.footprints.append(fp)
            k = 3 + rng.poisson(3)
            tdays = np.minimum(day0 + np.minimum(rng.exponential(6.0, k), 21).astype(int), cal.n - 1)
            acc.add(t=cal.times(tdays, rng), cat="03.01.01", channel=pick(rng, CITIZEN_CHANNELS, k),
                    kind=pick(rng, {"help": 0.6, "report": 0.2, "complaint": 0.2}, k),
                    fp=len(w.footprints) - 1, place=i, story=KEY)
            bursts.append({"place_id": str(w.p_id[i]), "start": str(cal.start + pd.Timedelta(days=int(day0)))[:10],
                           "tickets": int(k)})
    ivs.append(dict(key="d1", story=KEY, name="路灯集中整治", type="facility_works",
                    start_date="2025-11-01", end_date="2025-11-30", implementation_end="2025-11-30",
                    units_involved="杨浦区建管委、杨浦区市政和水务管理事务中心、各街道办事处",
                    description="依据12345工单定位路灯故障路段，集中更换老化灯具和线缆，一类问题一并解决。",
                    target_categories=["03.01.01"], targets=[("place", str(w.p_id[i])) for i in d_places]))
    story = {
        "places": [ctx.place_ref(i) for i in d_places], "categories": ["03.01.01"], "interventions": ["d1"],
        "dates": {"start": "2025-11-01", "implementation_end": "2025-11-30"},
        "planted_effect": {"burst_rate_per_stretch_per_month": "0.5 x (1 + 0.8 cos(season, peak mid-January))",
                           "tickets_per_burst": "3 + Poisson(3) over up to 3 weeks",
                           "after_factor": 0.1, "during_factor": 0.5,
                           "compare": "2025-12..2026-10 against the same months a year earlier (seasonality)"},
        "bursts": bursts,
        "expected_verdict": "improved",
        "description_zh": "路灯不亮：多条路段冬季集中爆发故障，2025年11月入冬前路灯集中整治后明显减少。",
        "description_en": "Streetlights out along several road stretches, in bursts and more in winter; the November "
                          "2025 campaign, before the dark season, cut them sharply.",
    }
    return story, ivs
