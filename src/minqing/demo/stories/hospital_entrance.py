"""Story a, the hospital entrance: enforcement that changed nothing, then a joint meeting that did.

安图医院门口: shared bikes, illegal taxis, order at the entrance.  Enforcement
(2025-01-06) is rated 不满意 and changes nothing; the joint meeting
(2025-04-20, in place 2025-06-20) cuts counts by 60 % and follow-ups turn
满意.  Expected verdict ``improved``.
"""

from __future__ import annotations

import numpy as np

from minqing.demo.stories.context import StoryContext, seconds

KEY = "a_hospital_entrance"


def plant(ctx: StoryContext) -> tuple[dict, list[dict]]:
    """Plant the story's tickets; return its ground truth and its interventions."""
    w, cal = ctx.world, ctx.cal
    ivs: list[dict] = []
    a = ctx.sel["a"]
    cats_a = {"02.01.01": 0.40, "02.01.02": 0.25, "07.01.01": 0.35}
    rate_a = cal.ramp([("2025-04-20", 25.0), ("2025-06-20", 10.0)])
    enf_start, jm_done = seconds("2025-01-06"), seconds("2025-06-20")

    def sat_a(t):
        return np.where(t >= jm_done, 2, np.where(t >= enf_start, 1, 0)).astype(np.int8)

    ctx.add_rate(rate_a, cats_a, story=KEY, place=a,
                 kinds={"complaint": 0.7, "report": 0.15, "help": 0.15}, sat=sat_a)
    ctx.ambient(a, cats_a)
    ivs.append(dict(key="a1", story=KEY, name=f"{w.p_name[a]}违停专项整治", type="enforcement",
                    start_date="2025-01-06", end_date="2025-02-28", implementation_end="2025-01-31",
                    units_involved="杨浦公安分局交警支队、杨浦区城管执法局、长白新村街道办事处",
                    description="交警和城管在医院门口开展违停和非法营运集中执法，以贴单、劝离为主；执法撤离后乱象反弹，回访多为不满意。",
                    target_categories=list(cats_a), targets=[("place", str(w.p_id[a]))]))
    ivs.append(dict(key="a2", story=KEY, name=f"{w.p_name[a]}秩序党建联席会议协调",
                    type="joint_meeting", start_date="2025-04-20", end_date=None, implementation_end="2025-06-20",
                    units_involved="长白新村街道党工委、杨浦公安分局交警支队、安图医院、哈啰/美团/青桔共享单车企业",
                    description="街道将问题提交党建联席会议：单车企业减量投放并划设停放区，交警加强巡逻，医院设置隔离桩和引导员。",
                    target_categories=list(cats_a), targets=[("place", str(w.p_id[a]))]))
    story = {
        "places": [ctx.place_ref(a)], "categories": list(cats_a), "interventions": ["a1", "a2"],
        "dates": {"enforcement_start": "2025-01-06", "joint_meeting_start": "2025-04-20",
                  "implementation_end": "2025-06-20"},
        "planted_effect": {"baseline_per_month": 25.0, "after_per_month": 10.0, "change": -0.6,
                           "enforcement_effect": 0.0,
                           "satisfaction": "2025-01-06..2025-06-19 mostly unsatisfied; from 2025-06-20 mostly satisfied"},
        "expected_verdict": "improved",
        "description_zh": "安图医院门口共享单车、黑车和就医秩序问题：执法整治后回访不满意且数量不变，党建联席会议协调后下降约六成、回访转为满意。",
        "description_en": "Hospital entrance: enforcement changed nothing and was rated unsatisfied; the joint meeting cut "
                          "tickets by ~60% and satisfaction turned positive.",
    }
    return story, ivs
