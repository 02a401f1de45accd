"""Story f, regression to the mean: enforcement after a random peak month that did nothing.

A compound with stationary fumes complaints, a random 3x month, and
enforcement the month after; the enforcement does nothing.  Expected verdict
``no_clear_change`` (a naive before/after says improved).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minqing.demo.stories.context import StoryContext

KEY = "f_regression_to_mean"


def plant(ctx: StoryContext) -> tuple[dict, list[dict]]:
    """Plant the story's tickets; return its ground truth and its interventions."""
    w, cal = ctx.world, ctx.cal
    ivs: list[dict] = []
    f = ctx.sel["f"]
    first_m = cal.month[int(min(max(cal.day("2025-03-01"), 0), cal.n - 1))]
    last_m = cal.month[int(min(max(cal.day("2025-09-01"), 0), cal.n - 1))]
    peak_m = int(ctx.rng_sel.integers(first_m, last_m + 1))
    rate_f = np.where(cal.month == peak_m, 15.0, 5.0)
    ctx.add_rate(rate_f, "01.03.01", story=KEY, place=f, kinds={"complaint": 0.8, "report": 0.2})
    ctx.ambient(f, {"01.03.01"})
    peak_label = cal.month_labels[peak_m]
    iv_start = (pd.Timestamp(peak_label + "-01") + pd.offsets.MonthBegin(1))
    iv_end = iv_start + pd.offsets.MonthEnd(0)
    ivs.append(dict(key="f1", story=KEY, name=f"{w.p_name[f]}餐饮油烟专项执法", type="enforcement",
                    start_date=iv_start.strftime("%Y-%m-%d"), end_date=iv_end.strftime("%Y-%m-%d"),
                    implementation_end=iv_end.strftime("%Y-%m-%d"),
                    units_involved="杨浦区城管执法局、杨浦区生态环境局",
                    description="投诉高峰后对周边餐饮店油烟净化设施开展检查执法。",
                    target_categories=["01.03.01"], targets=[("place", str(w.p_id[f]))]))
    story = {
        "places": [ctx.place_ref(f)], "categories": ["01.03.01"], "interventions": ["f1"],
        "dates": {"peak_month": peak_label, "intervention_start": iv_start.strftime("%Y-%m-%d")},
        "planted_effect": {"per_month": 5.0, "peak_month_per_month": 15.0, "intervention_effect": 0.0},
        "expected_verdict": "no_clear_change", "naive_before_after": "improved",
        "description_zh": "均值回归：油烟投诉长期平稳，仅执法前一个月偶然冲高三倍；执法后回到原水平，实际无效果。",
        "description_en": "Regression to the mean: stationary fumes complaints with one random 3x month just before "
                          "enforcement; afterwards counts return to the long-run level - the enforcement did nothing.",
    }
    return story, ivs
