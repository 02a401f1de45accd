"""Folium maps of an evaluation: before and after windows, same colour scale, target and spillover ring."""

from __future__ import annotations

import folium
import h3
import numpy as np
import shapely

from minqing.i18n import t

_COLOURS = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")
_RES = 9


def before_after_maps(ev, lang: str = "zh") -> tuple[folium.Map, folium.Map]:
    """Return two maps (before, after) of problem orders per 30 days in H3 cells, one shared scale."""
    from minqing.maps import base_map

    r = ev.result
    pts = ev.points
    cells = np.array([h3.latlng_to_cell(la, lo, _RES) for lo, la in zip(pts["lon"], pts["lat"])], dtype=object)
    per = {"before": r.before.days / 30, "after": r.after.days / 30}
    rates = {}
    for w in ("before", "after"):
        u, n = np.unique(cells[(pts["window"] == w).to_numpy()], return_counts=True)
        rates[w] = dict(zip(u, n / max(per[w], 1e-9)))
    top = max([max(v.values(), default=0) for v in rates.values()] + [1e-9])
    bounds = shapely.union_all([ev.target_geometry, ev.ring_geometry]).buffer(0.002).bounds
    maps = []
    for w in ("before", "after"):
        m = base_map(bounds)
        for cell, v in rates[w].items():
            k = min(int(v / top * len(_COLOURS)), len(_COLOURS) - 1)
            folium.Polygon([list(p) for p in h3.cell_to_boundary(cell)], color=_COLOURS[k], weight=0,
                           fill=True, fill_opacity=0.8, tooltip=f"{v:.1f}").add_to(m)
        folium.GeoJson(shapely.geometry.mapping(ev.ring_geometry), name="ring",
                       style_function=_ring_style, tooltip=t("effects.series_ring", lang)).add_to(m)
        folium.GeoJson(shapely.geometry.mapping(ev.target_geometry), name="target",
                       style_function=_target_style, tooltip=t("effects.series_treated", lang)).add_to(m)
        maps.append(m)
    return maps[0], maps[1]


def _ring_style(_feature):
    return {"color": "#3182bd", "weight": 1, "dashArray": "4 4", "fillOpacity": 0.05}


def _target_style(_feature):
    return {"color": "#08306b", "weight": 2, "fillOpacity": 0.0}
