"""Choropleths: the empty map every builder starts from, and units shaded by a count or a rate.

Maps work offline: Leaflet and friends are served by the app itself
(see :mod:`minqing.maps.offline`) and the default basemap is none at all, so our
own layers must read well on a plain background.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import shapely

from minqing.i18n import fmt_float, fmt_int, t
from minqing.maps.basemaps import to_display
from minqing.maps.classes import PLACE_COLORS, class_breaks, color_for, legend
from minqing.maps.features import (
    frame_features,
    place_radius,
    place_title,
    point_layer,
    rounded,
    set_property,
)
from minqing.maps.layers import (
    DataLayer,
    MapControls,
    SteadyFocus,
    feature_collection,
    labelled_lines,
    text_lines,
)
from minqing.maps.tickets import add_ticket_points

EMPTY_BOUNDS = (121.5, 31.25, 121.55, 31.3)
"""Where a map with nothing to show is centred (minx, miny, maxx, maxy)."""


def base_map(bounds, basemap: str = "none", key: str | None = None, lang: str = "zh") -> folium.Map:
    """Return an empty map fitted to ``bounds`` (minx, miny, maxx, maxy, WGS-84).

    Parameters
    ----------
    bounds : sequence of 4 floats
    basemap : str
        One of ``minqing.maps.basemaps.BASEMAPS``; "none" (the default) works offline.
        Layers added to the map must go through ``basemaps.to_display`` first.
    key : str, optional
        The Tianditu key.
    lang : {"zh", "en"}
        The language of the zoom buttons' titles; the scale bar is metric only.
    """
    from minqing.maps.basemaps import get_basemap, tile_url
    from minqing.maps.offline import use_local_assets

    use_local_assets()
    bm = get_basemap(basemap)
    url = tile_url(basemap, key)
    minx, miny, maxx, maxy = to_display(shapely.box(*bounds), basemap).bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=13,
        tiles=None,
        control_scale=False,  # folium's own has miles too: MapControls adds a metric one
        prefer_canvas=True,
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    m.options["max_zoom"] = bm.max_zoom if url else 18  # clusters need a maxZoom even with no tiles
    if url:
        folium.TileLayer(
            url, attr=bm.attribution, name=bm.id, subdomains=bm.subdomains, max_zoom=bm.max_zoom, control=False
        ).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    SteadyFocus().add_to(m)  # pressing a map never scrolls the page under the pointer
    MapControls(t("map.zoom_in", lang), t("map.zoom_out", lang)).add_to(m)
    return m



def overview_map(
    subdistricts: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    lang: str = "zh",
    measure: str = "rate",
    basemap: str = "none",
    key: str | None = None,
) -> folium.Map:
    """Return the overview map: sub-districts shaded by orders, grid outlines, places.

    Parameters
    ----------
    subdistricts : GeoDataFrame
        With ``code``, ``name``, ``population``, ``tickets`` and ``rate`` (per 1,000).
    grids : GeoDataFrame
        Current grids with ``code`` and ``name``.
    places : GeoDataFrame
        Places with ``place_id``, ``kind``, ``name``, ``radius_m``.
    lang : {"zh", "en"}
    measure : {"rate", "tickets"}
        What the sub-district shading shows.
    basemap, key : str
        See :func:`base_map`.
    """
    return unit_map(subdistricts, places, level="subdistrict", outlines=grids, lang=lang, measure=measure,
                    basemap=basemap, key=key)



def unit_map(
    units: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame | None = None,
    *,
    level: str = "subdistrict",
    outlines: gpd.GeoDataFrame | None = None,
    lang: str = "zh",
    measure: str = "rate",
    basemap: str = "none",
    key: str | None = None,
    selected: str | None = None,
    tickets: pd.DataFrame | None = None,
    labels: bool = False,
    marks: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Return a choropleth of units of one level, with finer outlines, places and tickets on top.

    Parameters
    ----------
    units : GeoDataFrame
        With ``code``, ``name``, ``name_en``, ``population``, ``tickets`` and ``rate``.
        Clicking a unit reports its ``code`` (``st_folium``'s ``last_active_drawing``).
    places : GeoDataFrame, optional
    level : str
        The units' level, for the layer name.
    outlines : GeoDataFrame, optional
        Finer units drawn as thin outlines (e.g. the grids).
    measure : {"rate", "tickets"}
    basemap, key : str
        See :func:`base_map`.
    selected : str, optional
        Code of a unit to outline in bold.
    tickets : DataFrame, optional
        Tickets to draw as points (see :func:`add_ticket_points`; already masked).
    labels : bool
        Permanent labels (name, count, channel flag) at each unit's representative
        point, for a projector; with more than :data:`MAX_LABELS` units only the
        highest counts and the flagged units are labelled.
    marks : GeoDataFrame, optional
        Numbered markers (``rank`` and a point geometry), e.g. the top-10 table's places.

    A ``channel_note`` column (``channel_note_en`` in English) adds the channel that
    drives a unit's count to its tooltip and label (:mod:`minqing.analysis.channel_mix`).
    """
    if measure not in ("rate", "tickets"):
        raise ValueError(f"measure must be 'rate' or 'tickets', got {measure!r}")
    m = base_map(units.total_bounds, basemap, key, lang)
    decimals = 1 if measure == "rate" else 0
    sd = to_display(units, basemap).copy()
    breaks = class_breaks(sd[measure], decimals=decimals)
    _add_shown_columns(sd, measure, breaks, decimals, selected, lang)
    _units_layer(sd, level, lang).add_to(m)
    if outlines is not None and len(outlines):
        _outlines_layer(to_display(outlines, basemap), level, lang).add_to(m)
    _add_overlays(m, sd if labels else None, measure, places, marks, tickets, basemap, lang)
    # the layer control goes last: its script refers to every layer defined before it
    folium.LayerControl(collapsed=False).add_to(m)
    title = t("map.legend_title" if measure == "rate" else "map.legend_title_count", lang)
    legend(title, breaks, lang, places_title=t("map.legend_places", lang), decimals=decimals).add_to(m)
    return m


def _add_shown_columns(sd: gpd.GeoDataFrame, measure: str, breaks: list[float], decimals: int,
                       selected: str | None, lang: str) -> None:
    """Add to ``sd`` what the map shows of each unit: its fill, formatted figures, label, selection, channel note."""
    sd["fill"] = [color_for(v, breaks, decimals) for v in sd[measure].astype("float64")]
    sd["tickets_fmt"] = sd["tickets"].map(lambda v: fmt_int(v, lang))
    sd["rate_fmt"] = sd["rate"].map(lambda v: fmt_float(v, 1, lang))
    sd["population_fmt"] = sd["population"].map(lambda v: fmt_int(v, lang))
    names_en = sd["name_en"] if "name_en" in sd.columns else sd["name"]
    sd["label"] = sd["name"] if lang == "zh" else names_en.fillna(sd["name"])
    sd["sel"] = sd["code"] == selected

    note_col = "channel_note" if lang == "zh" else "channel_note_en"
    sd["note"] = sd[note_col].fillna("") if note_col in sd.columns else ""


def _units_layer(sd: gpd.GeoDataFrame, level: str, lang: str) -> DataLayer:
    """The shaded units, the selected one outlined in bold, each with its figures as tooltip."""
    aliases = [t(f"map.tooltip_{k}", lang) for k in ("name", "tickets", "rate", "population")]
    fc = frame_features(sd, ["code"], simplify=0.00002)
    set_property(fc, "_style", [{"fillColor": fill, "color": "#000000" if sel else "#444444",
                                 "weight": 4 if sel else 1.5} for fill, sel in zip(sd["fill"], sd["sel"])])
    rows = zip(sd["label"], sd["tickets_fmt"], sd["rate_fmt"], sd["population_fmt"], sd["note"])
    set_property(fc, "_tip", [labelled_lines([*zip(aliases, (name, n, r, p)),
                                              *([(t("map.tooltip_channel", lang), note)] if note else [])])
                              for name, n, r, p, note in rows])
    return DataLayer(
        fc,
        name=t(f"map.{level}s", lang) if level in ("subdistrict", "grid") else t("map.units", lang),
        style={"fillOpacity": 0.75},
        highlight={"weight": 4, "color": "#000000"},
    )


def _outlines_layer(outlines: gpd.GeoDataFrame, level: str, lang: str) -> DataLayer:
    """The finer units as thin outlines that let clicks through to the unit below (drill-down)."""
    return DataLayer(
        frame_features(outlines, ["code"], simplify=0.00002),
        name=t({"subdistrict": "map.communities", "community": "map.grids"}.get(level, "map.units"), lang),
        style={"fill": False, "color": "#555555", "weight": 0.6, "opacity": 0.7},
        interactive=False,  # clicks go through to the unit below (drill-down)
    )


def _add_overlays(m: folium.Map, labelled: gpd.GeoDataFrame | None, measure: str, places, marks, tickets,
                  basemap: str, lang: str) -> None:
    """Draw what lies on top of the units, in this order: places, unit labels, rank marks, tickets."""
    if places is not None and len(places):
        add_places(m, to_display(places, basemap), lang)
    if labelled is not None and len(labelled):
        _unit_labels(labelled, measure, lang).add_to(m)
    if marks is not None and len(marks):
        _rank_marks(to_display(marks, basemap), lang).add_to(m)
    if tickets is not None and len(tickets):
        add_ticket_points(m, tickets, lang, basemap)


MAX_LABELS = 12
"""Most permanent unit labels on one map (the highest counts, and every flagged unit)."""


def _unit_labels(sd: gpd.GeoDataFrame, measure: str, lang: str) -> DataLayer:
    """Permanent labels "name / count (/ channel flag)" at representative points: readable on a projector."""
    keep = sd
    if len(sd) > MAX_LABELS:
        top = sd[measure].astype("float64").fillna(-1).nlargest(MAX_LABELS).index
        keep = sd[sd.index.isin(top) | (sd["note"] != "")]
    value = keep["tickets_fmt"] if measure == "tickets" else keep["rate_fmt"]
    labels = [text_lines((name, True), v, note) for name, v, note in zip(keep["label"], value, keep["note"])]
    return point_layer(keep.geometry.representative_point(), labels, t("map.labels", lang),
                        {"radius": 0, "opacity": 0, "fillOpacity": 0}, 15)


def _rank_marks(marks: gpd.GeoDataFrame, lang: str) -> DataLayer:
    """Numbered markers whose numbers match the top-10 table."""
    return point_layer(marks.geometry.representative_point(), [[(str(int(r)), True)] for r in marks["rank"]],
                        t("map.top_marks", lang),
                        {"radius": 13, "color": "#b71c1c", "weight": 2, "fillColor": "#ffffff", "fillOpacity": 1}, 16)



def add_places(m: folium.Map, places: gpd.GeoDataFrame, lang: str = "zh") -> folium.FeatureGroup:
    """Draw places on ``m``: entrances as circles of their radius, stretches as lines, compounds as polygons.

    Names come from users' files: they reach the map only as data (see :mod:`minqing.maps.layers`).
    """
    group = folium.FeatureGroup(name=t("map.places", lang))
    features = []
    for row in places.itertuples(index=False):
        color = PLACE_COLORS.get(row.kind, PLACE_COLORS["other"])
        geom = rounded(row.geometry)
        props = {"_tip": text_lines(place_title(row, lang))}
        if geom.geom_type == "Point":
            props["_r"] = place_radius(row)
            props["_style"] = {"color": color, "weight": 2, "fill": True, "fillColor": color, "fillOpacity": 0.5}
        elif geom.geom_type in ("LineString", "MultiLineString"):
            props["_style"] = {"color": color, "weight": 5, "opacity": 0.9}
        else:
            props["_style"] = {"color": color, "weight": 1.5, "fillColor": color, "fillOpacity": 0.45}
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": props})
    DataLayer(feature_collection(features), name=t("map.places", lang), point="circle", control=False).add_to(group)
    group.add_to(m)
    return group

