"""Story c, trucks parked along a road stretch: a line-shaped hotspot with no intervention.

Trucks parked along a road stretch (军工路 if present), about 20 a month all
along the line, no intervention: a hotspot.
"""

from __future__ import annotations

import numpy as np

from minqing.demo.stories.context import StoryContext

KEY = "c_truck_parking"


def plant(ctx: StoryContext) -> tuple[dict, list[dict]]:
    """Plant the story's tickets; return its ground truth and its interventions."""
    cal = ctx.cal
    c = ctx.sel["c"]
    ctx.add_rate(np.full(cal.n, 20.0), "02.01.03", story=KEY, place=c,
                 kinds={"report": 0.5, "complaint": 0.5})
    ctx.ambient(c, {"02.01.03"})
    story = {
        "places": [ctx.place_ref(c)], "categories": ["02.01.03"], "interventions": [],
        "dates": {"start": cal.start.strftime("%Y-%m-%d")},
        "planted_effect": {"per_month": 20.0, "spatial": "uniform along the whole buffered line"},
        "expected_verdict": None, "expected_finding": "hotspot",
        "description_zh": "路段货车违停：整条路段沿线每月约20件，没有治理措施，是一个待发现的路段型热点。",
        "description_en": "Trucks parked along a road stretch: ~20 a month all along the line, no intervention; "
                          "a line-shaped hotspot to be found.",
    }
    return story, []
