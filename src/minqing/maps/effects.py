"""Folium maps of an evaluation: before and after windows, one colour scale and legend, target and spillover ring."""

from __future__ import annotations

import folium  # noqa: F401  (the maps returned are folium maps)
import h3
import numpy as np
import shapely

from minqing.i18n import fmt_float, t
from minqing.maps.layers import DataLayer, feature_collection, text_lines

_RES = 9


def before_after_maps(ev, lang: str = "zh") -> tuple[folium.Map, folium.Map]:
    """Return two maps (before, after) of problem orders per 30 days in H3 cells, one shared scale."""
    from minqing.maps.choropleth import base_map, class_breaks, color_for, legend

    r = ev.result
    pts = ev.points
    cells = np.array([h3.latlng_to_cell(la, lo, _RES) for lo, la in zip(pts["lon"], pts["lat"])], dtype=object)
    per = {"before": r.before.days / 30, "after": r.after.days / 30}
    rates = {}
    for w in ("before", "after"):
        u, n = np.unique(cells[(pts["window"] == w).to_numpy()], return_counts=True)
        rates[w] = dict(zip(u, n / max(per[w], 1e-9)))
    breaks = class_breaks([v for w in rates.values() for v in w.values()], k=5, decimals=1)  # one scale for both
    bounds = shapely.union_all([ev.target_geometry, ev.ring_geometry]).buffer(0.002).bounds
    maps = []
    for w in ("before", "after"):
        m = base_map(bounds, lang=lang)
        features = []
        for cell, v in rates[w].items():
            ring = [[round(lng, 6), round(lat, 6)] for lat, lng in h3.cell_to_boundary(cell)]
            features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
                             "properties": {"_style": {"fillColor": color_for(v, breaks, 1)},
                                            "_tip": text_lines(fmt_float(v, 1, lang))}})
        DataLayer(feature_collection(features), name="cells", control=False,
                  style={"weight": 0, "fill": True, "fillOpacity": 0.8}).add_to(m)
        for geom, name, style in ((ev.ring_geometry, "effects.series_ring", _ring_style(None)),
                                  (ev.target_geometry, "effects.series_treated", _target_style(None))):
            feature = {"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                       "properties": {"_tip": text_lines(t(name, lang))}}
            DataLayer(feature_collection([feature]), name=t(name, lang), style=style, control=False).add_to(m)
        legend(t("effects.map_legend", lang), breaks, lang, decimals=1).add_to(m)
        maps.append(m)
    return maps[0], maps[1]


def _ring_style(_feature):
    return {"color": "#3182bd", "weight": 1, "dashArray": "4 4", "fillOpacity": 0.05}


def _target_style(_feature):
    return {"color": "#08306b", "weight": 2, "fillOpacity": 0.0}
