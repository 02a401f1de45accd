"""Story e, the elevator relapse: a repair that worked, then 回潮.

A compound's elevator fixed on 2025-05-01 (-70 %); from 2026-03-01 counts
climb back to baseline by 2026-06-01.
"""

from __future__ import annotations

from minqing.demo.stories.context import StoryContext

KEY = "e_elevator_relapse"


def plant(ctx: StoryContext) -> tuple[dict, list[dict]]:
    """Plant the story's tickets; return its ground truth and its interventions."""
    w, cal = ctx.world, ctx.cal
    ivs: list[dict] = []
    e = ctx.sel["e"]
    rate_e = cal.ramp([("2025-05-01", 8.0), ("2025-05-31", 2.4), ("2026-03-01", 2.4), ("2026-06-01", 8.0)])
    ctx.add_rate(rate_e, "04.01.01", story=KEY, place=e, kinds={"help": 0.5, "complaint": 0.5})
    ctx.ambient(e, {"04.01.01"})
    ivs.append(dict(key="e1", story=KEY, name=f"{w.p_name[e]}电梯维修更新", type="facility_works",
                    start_date="2025-05-01", end_date="2025-05-31", implementation_end="2025-05-31",
                    units_involved="杨浦区房管局、杨浦区市场监管局、物业公司、电梯维保单位",
                    description="对故障频发的电梯进行大修并更换控制柜，落实维保责任。",
                    target_categories=["04.01.01"], targets=[("place", str(w.p_id[e]))]))
    story = {
        "places": [ctx.place_ref(e)], "categories": ["04.01.01"], "interventions": ["e1"],
        "dates": {"fix_start": "2025-05-01", "implementation_end": "2025-05-31", "relapse_start": "2026-03-01",
                  "back_to_baseline": "2026-06-01"},
        "planted_effect": {"baseline_per_month": 8.0, "after_per_month": 2.4, "change": -0.7,
                           "relapse": "linear climb from 2.4 (2026-03-01) to 8.0 (2026-06-01), then 8.0"},
        "expected_verdict": "improved", "expected_verdict_at": "3 months after implementation_end",
        "expected_relapse": {"flag_month": "2026-03", "by": "2026-05"},
        "description_zh": "电梯故障：2025年5月维修后下降约七成，2026年3月起回潮并回到原有水平。",
        "description_en": "Elevator breakdowns fell ~70% after the May 2025 repair, then relapsed from March 2026 back "
                          "to baseline.",
    }
    return story, ivs
