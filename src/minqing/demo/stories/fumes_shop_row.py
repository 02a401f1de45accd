"""Story h, fumes at a shop row in one grid: a grid station's joint meeting, -75 %.

Fumes at a shop row in one grid of 殷行街道, fixed by a joint meeting
(2025-09-15, in place 2025-10-31; ten months of history before it): -75 %.
Expected verdict ``improved``.
"""

from __future__ import annotations

import h3
import numpy as np
import shapely

from minqing import model
from minqing.demo.stories.context import StoryContext
from minqing.demo.world import office

KEY = "h_fumes_shop_row"


def plant(ctx: StoryContext) -> tuple[dict, list[dict]]:
    """Plant the story's tickets; return its ground truth and its interventions."""
    w, cal = ctx.world, ctx.cal
    ivs: list[dict] = []
    gi = ctx.sel["h"]
    poly = shapely.transform(w.g_geom[gi], lambda xy: np.column_stack(w.to_metric.transform(xy[:, 0], xy[:, 1])))
    inner = poly.buffer(-70)
    if inner.is_empty:
        inner = poly.buffer(-10)
    if inner.is_empty:
        inner = poly
    bx = shapely.bounds(inner)
    for _ in range(1000):
        px, py = bx[0] + ctx.rng_sel.random() * (bx[2] - bx[0]), bx[1] + ctx.rng_sel.random() * (bx[3] - bx[1])
        if shapely.contains_xy(inner, px, py):
            break
    else:
        px, py = shapely.get_coordinates(inner.point_on_surface())[0]
    row = shapely.LineString([(px - 50, py), (px + 50, py)]).buffer(12).intersection(poly)
    w.footprints.append(row)
    h_fp = len(w.footprints) - 1
    lon_c, lat_c = w.to_wgs.transform(px, py)
    cell = h3.latlng_to_cell(lat_c, lon_c, model.H3_RESOLUTION)
    ctx.add_rate(cal.ramp([("2025-09-15", 8.0), ("2025-10-31", 2.0)]), "01.03.01", story=KEY,
                 fp=h_fp, kinds={"complaint": 0.8, "report": 0.2})
    h_sd_name = w.sd_name.get(str(w.g_sd[gi]), str(w.g_sd[gi]))
    ivs.append(dict(key="h1", story=KEY, name=f"{h_sd_name}沿街商铺油烟治理联席会议", type="joint_meeting",
                    start_date="2025-09-15", end_date=None, implementation_end="2025-10-31",
                    units_involved=f"{office(h_sd_name)}、网格工作站、杨浦区城管执法局、杨浦区生态环境局、沿街商户",
                    description="网格工作站召集联席会议，商户统一加装油烟净化器并定期清洗，城管和网格员每周巡查。",
                    target_categories=["01.03.01"],
                    targets=[("grid", str(w.g_code[gi])), ("cell", str(cell))]))
    story = {
        "places": [], "grid_code": str(w.g_code[gi]), "grid_valid_from": w.g_vf_str[gi],
        "cell": str(cell), "centre": [round(float(lon_c), 6), round(float(lat_c), 6)],
        "footprint": "100 m x 24 m shop row around centre, clipped to the grid",
        "categories": ["01.03.01"], "interventions": ["h1"],
        "dates": {"start": "2025-09-15", "implementation_end": "2025-10-31"},
        "planted_effect": {"baseline_per_month": 8.0, "after_per_month": 2.0, "change": -0.75},
        "expected_verdict": "improved",
        "description_zh": "殷行街道沿街商铺油烟：网格工作站召开联席会议治理后，油烟投诉下降约七成五。",
        "description_en": "Fumes from a shop row in one grid: the grid station's joint meeting cut complaints by ~75%.",
    }
    return story, ivs
