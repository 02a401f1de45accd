"""Folium maps of an evaluation: before and after windows, one colour scale and legend, target and spillover ring."""

from __future__ import annotations

import folium
import numpy as np
import shapely

from minqing.geo.h3cells import cells_to_polygons, latlng_to_cells
from minqing.i18n import fmt_float, t
from minqing.maps.choropleth import base_map
from minqing.maps.classes import class_breaks, color_for, legend
from minqing.maps.features import COORD_DECIMALS
from minqing.maps.layers import DataLayer, feature_collection, text_lines

_RES = 9


def before_after_maps(ev, lang: str = "zh") -> tuple[folium.Map, folium.Map]:
    """Return two maps (before, after) of problem orders per 30 days in H3 cells, one shared scale."""
    r = ev.result
    pts = ev.points
    cells = latlng_to_cells(pts["lat"].to_numpy(), pts["lon"].to_numpy(), _RES)
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
        _cells_layer(rates[w], breaks, lang).add_to(m)
        for geom, name, style in ((ev.ring_geometry, "effects.series_ring", _ring_style(None)),
                                  (ev.target_geometry, "effects.series_treated", _target_style(None))):
            feature = {"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                       "properties": {"_tip": text_lines(t(name, lang))}}
            DataLayer(feature_collection([feature]), name=t(name, lang), style=style, control=False).add_to(m)
        legend(t("effects.map_legend", lang), breaks, lang, decimals=1).add_to(m)
        maps.append(m)
    return maps[0], maps[1]


def _cells_layer(rates: dict, breaks: list[float], lang: str) -> DataLayer:
    """The H3 cells of one window, shaded by their orders per 30 days (``rates``: cell to rate)."""
    features = []
    for polygon, v in zip(cells_to_polygons(list(rates)), rates.values()):
        ring = [[round(lng, COORD_DECIMALS), round(lat, COORD_DECIMALS)] for lng, lat in polygon.exterior.coords]
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                         "properties": {"_style": {"fillColor": color_for(v, breaks, 1)},
                                        "_tip": text_lines(fmt_float(v, 1, lang))}})
    return DataLayer(feature_collection(features), name="cells", control=False,
                     style={"weight": 0, "fill": True, "fillOpacity": 0.8})


def _ring_style(_feature):
    return {"color": "#3182bd", "weight": 1, "dashArray": "4 4", "fillOpacity": 0.05}


def _target_style(_feature):
    return {"color": "#08306b", "weight": 2, "fillOpacity": 0.0}
