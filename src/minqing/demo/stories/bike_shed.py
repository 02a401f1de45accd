"""Story b, the bike shed: proactive visits and works, fewer complaints, more proactive records, praise.

内江小区 bike shed: proactive visits and works on 2025-09-01; 12345 problem
tickets fall 70 %, proactive-channel tickets rise, praise calls arrive.
Expected verdict ``improved``.
"""

from __future__ import annotations

import numpy as np

from minqing.demo.parts import KIND_MIX_PROACTIVE
from minqing.demo.stories.context import StoryContext, seconds

KEY = "b_bike_shed"


def plant(ctx: StoryContext) -> tuple[dict, list[dict]]:
    """Plant the story's tickets; return its ground truth and its interventions."""
    w, cal = ctx.world, ctx.cal
    ivs: list[dict] = []
    b = ctx.sel["b"]
    cats_b = {"04.02.01": 0.45, "04.02.02": 0.30, "06.01.02": 0.25}
    ctx.add_rate(cal.ramp([("2025-09-01", 10.0), ("2025-10-31", 3.0)]), cats_b, story=KEY, place=b,
                 kinds={"complaint": 0.5, "help": 0.3, "suggestion": 0.2},
                 sat=lambda t: np.where(t >= seconds("2025-10-31"), 2, 0).astype(np.int8))
    pro = np.where(np.arange(cal.n) < cal.day("2025-09-01"), 0.5,
                   np.where(np.arange(cal.n) <= cal.day("2025-10-31"), 8.0, 4.0))
    ctx.add_rate(pro, cats_b, story=KEY, place=b, channels={"community_log": 0.5, "proactive": 0.5},
                 kinds=KIND_MIX_PROACTIVE)
    praise = np.where(np.arange(cal.n) < cal.day("2025-11-01"), 0.0,
                      np.where(np.arange(cal.n) <= cal.day("2026-01-31"), 3.0, 0.5))
    ctx.add_rate(praise, "04.02.01", story=KEY, place=b, channels={"hotline_12345": 1.0},
                 kinds={"praise": 1.0}, sat=lambda t: np.full(len(t), 2, dtype=np.int8))
    ctx.ambient(b, cats_b)
    targets_b = [("place", str(w.p_id[b]))]
    ivs.append(dict(key="b1", story=KEY, name=f"{w.p_name[b]}车棚主动问需走访", type="proactive_visits",
                    start_date="2025-09-01", end_date="2025-09-30", implementation_end="2025-09-30",
                    units_involved="延吉新村街道办事处、居民区党总支、物业公司",
                    description="社区干部和楼组长逐户上门问需，收集车棚照明、堆物和充电问题，形成改造清单。",
                    target_categories=list(cats_b), targets=targets_b))
    ivs.append(dict(key="b2", story=KEY, name=f"{w.p_name[b]}非机动车棚改造", type="facility_works",
                    start_date="2025-09-01", end_date=None, implementation_end="2025-10-31",
                    units_involved="延吉新村街道办事处、杨浦区房管局、物业公司",
                    description="清理废旧车辆，更换照明，新增智能充电桩和消防设施，车棚焕然一新。",
                    target_categories=list(cats_b), targets=targets_b))
    story = {
        "places": [ctx.place_ref(b)], "categories": list(cats_b), "interventions": ["b1", "b2"],
        "dates": {"start": "2025-09-01", "implementation_end": "2025-10-31", "praise_from": "2025-11-01"},
        "planted_effect": {"citizen_channels_baseline_per_month": 10.0, "citizen_channels_after_per_month": 3.0,
                           "change": -0.7, "proactive_channels_before_per_month": 0.5,
                           "proactive_channels_during_per_month": 8.0, "proactive_channels_after_per_month": 4.0,
                           "praise_per_month": {"2025-11..2026-01": 3.0, "after": 0.5},
                           "note": "praise calls come via hotline_12345 with kind praise; exclude them when counting problems"},
        "expected_verdict": "improved",
        "description_zh": "内江小区车棚：主动走访并改造后，12345投诉下降约七成，民情日志和未诉先办渠道上升，并出现表扬来电。",
        "description_en": "Old compound's bike shed: after door-to-door visits and renovation, 12345 complaints fell ~70%, "
                          "proactive-channel records rose and residents called to praise it.",
    }
    return story, ivs
