"""Tickets on a map: clustered points with a popup each, or counts per H3 cell when there are too many.

Popup text is data (see :mod:`minqing.maps.layers`); personal data must be masked before it gets here.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from minqing.geo.h3cells import cells_to_parent, cells_to_polygons, cells_to_str
from minqing.i18n import fmt_int, t
from minqing.maps.basemaps import to_display
from minqing.maps.classes import class_breaks, color_for, legend
from minqing.maps.features import as_text, frame_features, point_geometry, set_property
from minqing.maps.layers import DataLayer, feature_collection, labelled_lines, text_lines
from minqing.model import category_path

MAX_MARKERS = 5_000


def add_ticket_points(
    m: folium.Map,
    tickets: pd.DataFrame,
    lang: str = "zh",
    basemap: str = "none",
    max_markers: int = MAX_MARKERS,
) -> folium.FeatureGroup:
    """Draw located tickets: clustered points up to ``max_markers``, H3 hexagon counts beyond.

    Parameters
    ----------
    m : folium.Map
    tickets : DataFrame
        With ``lon``, ``lat``, ``source_id``, ``received_at``, ``category``,
        ``text`` and ``h3_cell``; personal data must already be masked.
        Popup text is data: set with textContent in the browser, never parsed (see minqing.maps.layers).
    max_markers : int
        Above this many located tickets, draw counts per H3 cell (resolution 9) instead.
    """
    located = tickets[tickets["lon"].notna() & tickets["lat"].notna()]
    group = folium.FeatureGroup(name=t("map.tickets", lang))
    if len(located) > max_markers:
        _add_cell_counts(m, group, located, lang, basemap)
    else:
        _add_markers(group, located, lang, basemap)
    group.add_to(m)
    return group


def _add_cell_counts(m: folium.Map, group: folium.FeatureGroup, located: pd.DataFrame, lang: str,
                     basemap: str) -> None:
    """Draw the tickets' counts per H3 cell (resolution 9) into ``group``, with their own legend box on ``m``."""
    cells = cells_to_parent(located["h3_cell"].dropna().astype("int64").to_numpy(), 9)
    ids, counts = np.unique(cells, return_counts=True)
    hexes = gpd.GeoDataFrame({"code": cells_to_str(ids), "tickets": counts}, geometry=cells_to_polygons(ids),
                             crs=4326)
    breaks = class_breaks(hexes["tickets"])
    fc = frame_features(to_display(hexes, basemap), ["code", "tickets"])
    set_property(fc, "_style", [{"fillColor": color_for(v, breaks)} for v in hexes["tickets"].astype("float64")])
    set_property(fc, "_tip", [labelled_lines([(t("map.tooltip_tickets", lang), fmt_int(v, lang))])
                              for v in hexes["tickets"]])
    DataLayer(fc, style={"fillOpacity": 0.7, "weight": 0.5, "color": "#666666"}, control=False).add_to(group)
    legend(t("map.legend_ticket_cells", lang), breaks, lang).add_to(m)  # a second box: these are cells


def _add_markers(group: folium.FeatureGroup, located: pd.DataFrame, lang: str, basemap: str) -> None:
    """Draw each ticket as a clustered point into ``group``, with its id, time, category and text as popup."""
    from folium.plugins import MarkerCluster

    pts = to_display(gpd.GeoSeries(gpd.points_from_xy(located["lon"], located["lat"]), crs=4326), basemap)
    cluster = MarkerCluster(name=t("map.tickets", lang), control=False).add_to(group)
    features = []
    for p, sid, when, cat, text in zip(pts, located["source_id"], located["received_at"], located["category"],
                                       located["text"]):
        popup = text_lines((as_text(sid), True), when.strftime("%Y-%m-%d %H:%M") if not pd.isna(when) else "",
                           category_path(cat, lang) if isinstance(cat, str) else "", as_text(text)[:200])
        features.append({"type": "Feature", "geometry": point_geometry(p), "properties": {"_popup": popup}})
    DataLayer(feature_collection(features), control=False,
              style={"color": "#08519c", "weight": 1, "fill": True, "fillOpacity": 0.8}).add_to(cluster)
