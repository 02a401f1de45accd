"""Hot-spot maps (issue 4): Gi* bins on H3 cells or grids, one class of cases at its places, emerging classes.

The statistics come from :mod:`minqing.analysis` (``gi_star``, ``class_of_cases``,
``emerging``); these builders only draw them, each with its own legend.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minqing.geo.h3cells import cells_to_polygons
from minqing.i18n import fmt_float, fmt_int, t
from minqing.maps.basemaps import to_display
from minqing.maps.choropleth import EMPTY_BOUNDS, add_places, base_map
from minqing.maps.classes import NO_DATA, class_breaks, color_for, legend, swatch
from minqing.maps.features import (
    as_text,
    frame_features,
    place_radius,
    place_title,
    rounded,
    set_property,
)
from minqing.maps.layers import DataLayer, DataLegend, feature_collection, labelled_lines, text_lines


GI_COLORS = {3: "#d7301f", 2: "#fc8d59", 1: "#fdcc8a", 0: "#f7f7f7", -1: "#c6dbef", -2: "#6baed6", -3: "#2171b5"}
"""Gi* bin colours: reds hot, blues cold, 99 / 95 / 90 % darkest to lightest."""


def _gi_legend(lang: str) -> DataLegend:
    extra = [swatch(GI_COLORS[b], t(f"hotspots.bin_{b}".replace("-", "m"), lang)) for b in (3, 2, 1, 0, -1, -2, -3)]
    return legend(t("hotspots.legend_title", lang), [], lang, extra=extra)


def hex_bins_map(cells, bins, values, lang: str = "zh", places: gpd.GeoDataFrame | None = None,
                 basemap: str = "none", key: str | None = None, value_label: str = "", notes=None) -> folium.Map:
    """Return a map of H3 cells coloured by Gi* bin (−3..+3), with optional places on top.

    Parameters
    ----------
    cells : array-like of int64
    bins : array-like of int (−3..+3)
    values : array-like
        The count shown in each cell's tooltip.
    notes : array-like of str, optional
        A line per cell for its tooltip ("" for none), e.g. the channel that drives its count.
    """
    gdf = gpd.GeoDataFrame({"bin": np.asarray(bins, dtype=int), "value": np.asarray(values, dtype=float)},
                           geometry=cells_to_polygons(cells), crs=4326)
    if notes is not None:
        gdf["note"] = list(notes)
    return units_bins_map(gdf, lang, places, basemap, key, value_label)


def units_bins_map(units: gpd.GeoDataFrame, lang: str = "zh", places: gpd.GeoDataFrame | None = None,
                   basemap: str = "none", key: str | None = None, value_label: str = "") -> folium.Map:
    """Return a map of polygons (grids or cells) with ``bin`` and ``value`` columns coloured by Gi* bin.

    An optional ``note`` column adds a tooltip line (the channel that drives a unit's count).
    """
    shown = to_display(units, basemap)
    m = base_map(units.total_bounds if len(units) else EMPTY_BOUNDS, basemap, key, lang)
    gdf = shown[["bin", "value", "geometry"]].copy()
    notes = shown["note"].fillna("").astype(str) if "note" in shown.columns else pd.Series("", index=shown.index)
    fc = frame_features(gdf, ["bin"])
    set_property(fc, "_tip", [text_lines(f"{value_label} {fmt_float(v, 0, lang)} · "
                                  f"{t(('hotspots.bin_' + str(b)).replace('-', 'm'), lang)}",
                                  note and f"{t('map.tooltip_channel', lang)}：{note}")
                       for b, v, note in zip(gdf["bin"], gdf["value"], notes)])
    set_property(fc, "_style", [{"fillColor": GI_COLORS.get(int(b), NO_DATA)} for b in gdf["bin"]])
    DataLayer(fc, name=t("hotspots.layer_bins", lang), style={"color": "#999", "weight": 0.4, "fillOpacity": 0.75},
              ).add_to(m)
    if places is not None and len(places):
        add_places(m, to_display(places, basemap), lang)
    folium.LayerControl(collapsed=True).add_to(m)
    _gi_legend(lang).add_to(m)
    return m


PLACE_EDGE = "#333333"
"""The dark edge that keeps a place coloured by its count visible, whatever its class colour."""


def class_of_cases_map(places: gpd.GeoDataFrame, table: pd.DataFrame, lang: str = "zh", basemap: str = "none",
                       key: str | None = None) -> folium.Map:
    """Return the map of one class of cases: its places themselves, coloured by count, over lighter cells.

    Entrances are circles of their radius, road stretches thick lines, compounds polygons, each
    filled with the colour of its ticket count and edged in :data:`PLACE_EDGE`; the H3 cells of
    the tickets at no place share the colour scale but are drawn faint underneath, so the
    places where the category recurs stand out. The legend gives the count classes.

    Parameters
    ----------
    places : GeoDataFrame
        With ``place_id``, ``kind``, ``name`` (``name_en``, ``radius_m``).
    table : DataFrame
        :class:`minqing.analysis.class_of_cases.ClassOfCases` ``table``: ``where_type``,
        ``where_id``, ``tickets`` (``months``).
    """
    at_place = table[table["where_type"] == "place"]
    cells = table[table["where_type"] == "cell"]
    pl = places.merge(at_place[["where_id", "tickets", *(["months"] if "months" in table else [])]],
                      left_on="place_id", right_on="where_id").sort_values("tickets", kind="stable")
    cg = gpd.GeoDataFrame({"tickets": cells["tickets"].to_numpy()},
                          geometry=cells_to_polygons(cells["where_id"].astype("int64").to_numpy()), crs=4326)
    if "months" in table:
        cg["months"] = cells["months"].to_numpy()
    bounds = pd.concat([pl.geometry, cg.geometry]).total_bounds if len(pl) + len(cg) else EMPTY_BOUNDS
    m = base_map(bounds, basemap, key, lang)
    breaks = class_breaks(table["tickets"])
    if len(cg):
        cg = to_display(cg, basemap)
        fc = set_property(frame_features(cg, ["tickets"]), "_tip", [_count_tip(t("hotspots.where_cell", lang), r, lang)
                                                      for r in cg.itertuples(index=False)])
        set_property(fc, "_style", [{"fillColor": color_for(v, breaks)} for v in cg["tickets"].astype("float64")])
        DataLayer(fc, name=t("hotspots.layer_cells", lang),
                  style={"color": "#bbbbbb", "weight": 0.5, "fillOpacity": 0.3}).add_to(m)
    if len(pl):
        _count_places(to_display(pl, basemap), breaks, lang).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    extra = [swatch(PLACE_EDGE, t("class_map.legend_places", lang))]
    extra += [{"text": t("class_map.legend_cells", lang)}] if len(cg) else []
    legend(t("class_map.legend_title", lang), breaks, lang, extra=extra).add_to(m)
    return m


def _count_places(pl: gpd.GeoDataFrame, breaks: list[float], lang: str) -> DataLayer:
    """The places as themselves, filled with their count's colour: circles, thick lines, polygons."""
    features = []
    for row in pl.itertuples(index=False):
        color = color_for(float(row.tickets), breaks)
        geom = rounded(row.geometry)
        props = {"_tip": _count_tip(place_title(row, lang), row, lang)}
        if geom.geom_type in ("LineString", "MultiLineString"):  # a dark casing under the coloured line
            features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                             "properties": {**props, "_style": {"color": PLACE_EDGE, "weight": 11, "opacity": 0.9}}})
            props["_style"] = {"color": color, "weight": 8, "opacity": 1}
        else:
            props["_style"] = {"color": PLACE_EDGE, "weight": 2, "fill": True, "fillColor": color, "fillOpacity": 0.9}
            if geom.geom_type == "Point":
                props["_r"] = place_radius(row)
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": props})
    return DataLayer(feature_collection(features), name=t("map.places", lang), point="circle")


def _count_tip(title: str, row, lang: str) -> list:
    """Tooltip lines: what it is, its tickets, the months they came in (when known)."""
    months = getattr(row, "months", None)
    return text_lines((title, True), *labelled_lines(
        [(t("hotspots.tickets", lang), fmt_int(row.tickets, lang))]
        + ([(t("hotspots.months", lang), fmt_int(months, lang))] if months is not None else [])))


EMERGING_COLORS = {
    "intensifying": "#67000d", "persistent": "#cb181d", "diminishing": "#fb6a4a", "new": "#ff7f00",
    "consecutive": "#fdae61", "sporadic": "#fee090", "oscillating": "#c51b7d", "historical": "#a6761d",
    "intensifying_cold": "#08306b", "persistent_cold": "#2171b5", "diminishing_cold": "#6baed6",
    "new_cold": "#01665e", "consecutive_cold": "#35978f", "sporadic_cold": "#c7eae5",
    "oscillating_cold": "#762a83", "historical_cold": "#8c96a6",
}
"""A colour per emerging class: reds and oranges hot, blues and teals cold; purple oscillating."""


def emerging_map(frame: pd.DataFrame, lang: str = "zh", basemap: str = "none", key: str | None = None,
                 places: gpd.GeoDataFrame | None = None) -> folium.Map:
    """Return a map of H3 cells coloured by their emerging hot-spot class; cells with no pattern are not drawn.

    Parameters
    ----------
    frame : DataFrame
        One row per cell: ``cell`` (int64), ``class`` (:data:`minqing.analysis.emerging.CLASSES`),
        ``hot_steps``, ``cold_steps``, ``tickets`` (over the study's months) and optionally
        ``where`` (the grid or place the cell lies in, for the tooltip).
    places : GeoDataFrame, optional
        Drawn on top for orientation.
    """
    from minqing.analysis.emerging import CLASSES

    f = frame[frame["class"].isin(list(EMERGING_COLORS))]
    cg = gpd.GeoDataFrame({"class": f["class"].to_numpy()}, geometry=cells_to_polygons(f["cell"].to_numpy()),
                          crs=4326)
    m = base_map(cg.total_bounds if len(cg) else EMPTY_BOUNDS, basemap, key, lang)
    if len(cg):
        cg = to_display(cg, basemap)
        fc = set_property(frame_features(cg, []), "_style", [{"fillColor": EMERGING_COLORS[k]} for k in f["class"]])
        where = f["where"] if "where" in f else pd.Series("", index=f.index)
        set_property(fc, "_tip", [text_lines((t(f"hotspots.class_{k}", lang), True), as_text(w), *labelled_lines([
            (t("hotspots.tickets", lang), fmt_int(n, lang)), (t("hotspots.hot_steps", lang), fmt_int(h, lang)),
            (t("hotspots.cold_steps", lang), fmt_int(c, lang))]))
            for k, w, n, h, c in zip(f["class"], where, f["tickets"], f["hot_steps"], f["cold_steps"])])
        DataLayer(fc, name=t("hotspots.tab_emerging", lang),
                  style={"color": "#777777", "weight": 0.4, "fillOpacity": 0.8}).add_to(m)
    if places is not None and len(places):
        add_places(m, to_display(places, basemap), lang)
    folium.LayerControl(collapsed=True).add_to(m)
    shown = set(f["class"])
    items = [{"text": t("emerging_map.legend_title", lang), "bold": True}]
    items += [swatch(EMERGING_COLORS[k], t(f"hotspots.class_{k}", lang)) for k in CLASSES if k in shown]
    if not shown:
        items.append({"text": t("emerging_map.none", lang)})
    DataLegend(items).add_to(m)
    return m
