"""Folium map builders. Pure functions: data in, ``folium.Map`` out.

Maps work offline: Leaflet and friends are served by the app itself
(see :mod:`minqing.maps.offline`) and the default basemap is none at all, so our
own layers must read well on a plain background.
"""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minqing.maps.basemaps import to_display
from minqing.geo.h3cells import cells_to_polygons, cells_to_str
from minqing.i18n import fmt_float, fmt_int, t
from minqing.maps.layers import (
    DataLayer,
    DataLegend,
    MapControls,
    SteadyFocus,
    feature_collection,
    labelled_lines,
    text_lines,
)
from minqing.model import PLACE_KINDS

# ColorBrewer YlOrRd, 6 classes: calm on a projector, readable in grey print.
PALETTE = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"]
NO_DATA = "#eeeeee"
PLACE_COLORS = {
    "hospital_entrance": "#d7301f",
    "road_stretch": "#6a51a3",
    "compound": "#238b45",
    "other": "#525252",
}
COORD_DECIMALS = 6  # about 0.1 m: enough for display, keeps the HTML small


def class_breaks(values, k: int = len(PALETTE), decimals: int = 0) -> list[float]:
    """Return Fisher-Jenks class edges of the finite ``values``, strictly rising.

    Fisher-Jenks (``mapclassify.FisherJenks``, the classifier geopandas'
    ``plot(scheme=...)`` uses) puts breaks where they keep each class's values
    closest together. With a dozen sub-districts or a few dozen grids,
    quantiles put very different counts in one class (738 and 3,064) and split
    equal ones; head/tail breaks suits thousands of units with a heavy tail but
    gives two or three classes for a dozen.

    Class ``i`` holds the values above edge ``i`` up to and including edge
    ``i + 1``; edge 0 is one step (1, or 0.1 with one decimal) below the lowest
    value. Every class holds at least one value.

    Parameters
    ----------
    values : array-like
    k : int
        At most this many classes (fewer when there are fewer distinct values).
    decimals : int
        Values are classed rounded to this many decimals and edges are such
        values: 0 for counts (integer edges), 1 for rates.

    Examples
    --------
    >>> class_breaks([1, 2, 2, 3, 10, 11, 50], k=3)
    [0.0, 3.0, 11.0, 50.0]
    """
    import mapclassify

    v = np.asarray(values, dtype="float64")
    v = np.round(v[np.isfinite(v)], decimals)
    if v.size == 0:
        return []
    distinct = np.unique(v)
    tops = distinct if len(distinct) <= k else np.round(mapclassify.FisherJenks(v, k=k).bins, decimals)
    tops = np.unique(np.append(tops, distinct[-1]))
    tops = tops[np.unique(np.searchsorted(tops, v, side="left"))]  # drop a class that rounding emptied
    low = round(float(distinct[0]) - 10.0 ** -decimals, decimals)
    return [low] + [float(b) for b in tops]


def class_index(value, breaks: list[float], decimals: int = 0) -> int | None:
    """Return the class (0, 1, ...) of ``value`` for edges from :func:`class_breaks`; None when missing."""
    if value is None or not np.isfinite(value) or len(breaks) < 2:
        return None
    i = int(np.searchsorted(breaks[1:], round(float(value), decimals), side="left"))
    return min(i, len(breaks) - 2)


def color_for(value, breaks: list[float], decimals: int = 0) -> str:
    """Return the palette colour of ``value`` for edges from :func:`class_breaks` (spread over the palette)."""
    i = class_index(value, breaks, decimals)
    if i is None:
        return NO_DATA
    return PALETTE[round(i * (len(PALETTE) - 1) / max(len(breaks) - 2, 1))]


def class_labels(breaks: list[float], lang: str = "zh", decimals: int = 0) -> list[str]:
    """Return one legend label per class: ``323–385`` for counts, ``1.2–3.4`` for rates, ``5`` for one value."""
    step = 10.0 ** -decimals

    def fmt(x):
        return fmt_int(x, lang) if decimals == 0 else fmt_float(x, decimals, lang)

    out = []
    for lo, hi in zip(breaks[:-1], breaks[1:]):
        lo = round(lo + step, decimals)
        out.append(fmt(hi) if lo >= hi else f"{fmt(lo)}–{fmt(hi)}")
    return out


def _geojson(gdf: gpd.GeoDataFrame, properties: list[str], simplify: float = 0.0) -> dict:
    """Return ``gdf`` as a FeatureCollection with the given columns as (raw, unescaped) properties.

    The result is data for :class:`minqing.maps.layers.DataLayer`, which never
    parses a property as markup; nothing here is escaped, because nothing needs to be.
    """
    geom = gdf.geometry.simplify(simplify, preserve_topology=True) if simplify else gdf.geometry
    geom = geom.set_precision(10 ** -COORD_DECIMALS)
    out = gpd.GeoDataFrame(gdf[properties].copy(), geometry=geom.values, crs=gdf.crs)
    fc = json.loads(out.to_json(drop_id=True, na="null"))
    return fc


def _with(fc: dict, key: str, values) -> dict:
    """Set property ``key`` of every feature of ``fc`` from ``values`` (same order)."""
    for f, v in zip(fc["features"], values):
        f["properties"][key] = v
    return fc


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
    sd = to_display(units, basemap).copy()
    decimals = 1 if measure == "rate" else 0
    breaks = class_breaks(sd[measure], decimals=decimals)
    sd["fill"] = [color_for(v, breaks, decimals) for v in sd[measure].astype("float64")]
    sd["tickets_fmt"] = sd["tickets"].map(lambda v: fmt_int(v, lang))
    sd["rate_fmt"] = sd["rate"].map(lambda v: fmt_float(v, 1, lang))
    sd["population_fmt"] = sd["population"].map(lambda v: fmt_int(v, lang))
    names_en = sd["name_en"] if "name_en" in sd.columns else sd["name"]
    sd["label"] = sd["name"] if lang == "zh" else names_en.fillna(sd["name"])
    sd["sel"] = sd["code"] == selected

    note_col = "channel_note" if lang == "zh" else "channel_note_en"
    sd["note"] = sd[note_col].fillna("") if note_col in sd.columns else ""
    aliases = [t(f"map.tooltip_{k}", lang) for k in ("name", "tickets", "rate", "population")]
    fc = _geojson(sd, ["code"], simplify=0.00002)
    _with(fc, "_style", [{"fillColor": fill, "color": "#000000" if sel else "#444444", "weight": 4 if sel else 1.5}
                         for fill, sel in zip(sd["fill"], sd["sel"])])
    rows = zip(sd["label"], sd["tickets_fmt"], sd["rate_fmt"], sd["population_fmt"], sd["note"])
    _with(fc, "_tip", [labelled_lines([*zip(aliases, (name, n, r, p)), *([(t("map.tooltip_channel", lang), note)]
                                                                          if note else [])])
                       for name, n, r, p, note in rows])
    DataLayer(
        fc,
        name=t(f"map.{level}s", lang) if level in ("subdistrict", "grid") else t("map.units", lang),
        style={"fillOpacity": 0.75},
        highlight={"weight": 4, "color": "#000000"},
    ).add_to(m)

    if outlines is not None and len(outlines):
        DataLayer(
            _geojson(to_display(outlines, basemap), ["code"], simplify=0.00002),
            name=t({"subdistrict": "map.communities", "community": "map.grids"}.get(level, "map.units"), lang),
            style={"fill": False, "color": "#555555", "weight": 0.6, "opacity": 0.7},
            interactive=False,  # clicks go through to the unit below (drill-down)
        ).add_to(m)

    if places is not None and len(places):
        add_places(m, to_display(places, basemap), lang)
    if labels and len(sd):
        _unit_labels(sd, measure, lang).add_to(m)
    if marks is not None and len(marks):
        _rank_marks(to_display(marks, basemap), lang).add_to(m)
    if tickets is not None and len(tickets):
        add_ticket_points(m, tickets, lang, basemap)
    # the layer control goes last: its script refers to every layer defined before it
    folium.LayerControl(collapsed=False).add_to(m)
    title = t("map.legend_title" if measure == "rate" else "map.legend_title_count", lang)
    legend(title, breaks, lang, places_title=t("map.legend_places", lang), decimals=decimals).add_to(m)
    return m


MAX_LABELS = 12
"""Most permanent unit labels on one map (the highest counts, and every flagged unit)."""


def _point_layer(points, labels, name: str, style: dict, label_px: int) -> DataLayer:
    features = [{"type": "Feature", "properties": {"_label": lab},
                 "geometry": {"type": "Point", "coordinates": [round(p.x, COORD_DECIMALS), round(p.y, COORD_DECIMALS)]}}
                for p, lab in zip(points, labels)]
    return DataLayer(feature_collection(features), name=name, style=style, interactive=False, label_px=label_px)


def _unit_labels(sd: gpd.GeoDataFrame, measure: str, lang: str) -> DataLayer:
    """Permanent labels "name / count (/ channel flag)" at representative points: readable on a projector."""
    keep = sd
    if len(sd) > MAX_LABELS:
        top = sd[measure].astype("float64").fillna(-1).nlargest(MAX_LABELS).index
        keep = sd[sd.index.isin(top) | (sd["note"] != "")]
    value = keep["tickets_fmt"] if measure == "tickets" else keep["rate_fmt"]
    labels = [text_lines((name, True), v, note) for name, v, note in zip(keep["label"], value, keep["note"])]
    return _point_layer(keep.geometry.representative_point(), labels, t("map.labels", lang),
                        {"radius": 0, "opacity": 0, "fillOpacity": 0}, 15)


def _rank_marks(marks: gpd.GeoDataFrame, lang: str) -> DataLayer:
    """Numbered markers whose numbers match the top-10 table."""
    return _point_layer(marks.geometry.representative_point(), [[(str(int(r)), True)] for r in marks["rank"]],
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
        name = row.name if lang == "zh" else (getattr(row, "name_en", None) or row.name)
        kind = PLACE_KINDS[row.kind].label(lang) if row.kind in PLACE_KINDS else row.kind
        geom = shapely.set_precision(row.geometry, 10 ** -COORD_DECIMALS)
        props = {"_tip": text_lines(f"{_text(name)} · {_text(kind)}")}
        if geom.geom_type == "Point":
            radius = getattr(row, "radius_m", None)
            props["_r"] = float(radius) if radius is not None and np.isfinite(radius) and radius > 0 else 50.0
            props["_style"] = {"color": color, "weight": 2, "fill": True, "fillColor": color, "fillOpacity": 0.5}
        elif geom.geom_type in ("LineString", "MultiLineString"):
            props["_style"] = {"color": color, "weight": 5, "opacity": 0.9}
        else:
            props["_style"] = {"color": color, "weight": 1.5, "fillColor": color, "fillOpacity": 0.45}
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": props})
    DataLayer(feature_collection(features), name=t("map.places", lang), point="circle", control=False).add_to(group)
    group.add_to(m)
    return group


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _swatch(color: str, text: str, round_: bool = False) -> dict:
    return {"text": text, "swatch": color, "round": round_}


def legend(title: str, breaks: list[float], lang: str = "zh", places_title: str | None = None,
           extra: list[dict] | None = None, decimals: int = 0) -> DataLegend:
    """Return the legend box: the colour classes and the place kinds, every line set as text.

    Parameters
    ----------
    title : str
    breaks : list of float
        The class edges of :func:`class_breaks`; one line per class (:func:`class_labels`).
    places_title : str, optional
        When given, a section listing the place kinds and their colours.
    extra : list of dict, optional
        More lines (see :class:`minqing.maps.layers.DataLegend`).
    decimals : int
        0 for counts (integer ranges), 1 for rates.
    """
    items = [{"text": title, "bold": True}]
    for i, text in enumerate(class_labels(breaks, lang, decimals)):
        items.append(_swatch(color_for(breaks[i + 1], breaks, decimals), text))
    items += extra or []
    if places_title:
        items.append({"text": places_title, "bold": True})
        items += [_swatch(color, PLACE_KINDS[kind].label(lang), round_=True)
                  for kind, color in PLACE_COLORS.items() if kind != "other"]
    return DataLegend(items)


# --------------------------------------------------------------------------
# Hot-spot layers (issue 4): Gi* bins on H3 cells or grids, class of cases
# --------------------------------------------------------------------------

GI_COLORS = {3: "#d7301f", 2: "#fc8d59", 1: "#fdcc8a", 0: "#f7f7f7", -1: "#c6dbef", -2: "#6baed6", -3: "#2171b5"}
"""Gi* bin colours: reds hot, blues cold, 99 / 95 / 90 % darkest to lightest."""


def _gi_legend(lang: str) -> DataLegend:
    extra = [_swatch(GI_COLORS[b], t(f"hotspots.bin_{b}".replace("-", "m"), lang)) for b in (3, 2, 1, 0, -1, -2, -3)]
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
    m = base_map(units.total_bounds if len(units) else (121.5, 31.25, 121.55, 31.3), basemap, key, lang)
    gdf = shown[["bin", "value", "geometry"]].copy()
    notes = shown["note"].fillna("").astype(str) if "note" in shown.columns else pd.Series("", index=shown.index)
    fc = _geojson(gdf, ["bin"])
    _with(fc, "_tip", [text_lines(f"{value_label} {fmt_float(v, 0, lang)} · "
                                  f"{t(('hotspots.bin_' + str(b)).replace('-', 'm'), lang)}",
                                  note and f"{t('map.tooltip_channel', lang)}：{note}")
                       for b, v, note in zip(gdf["bin"], gdf["value"], notes)])
    _with(fc, "_style", [{"fillColor": GI_COLORS.get(int(b), NO_DATA)} for b in gdf["bin"]])
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
    bounds = pd.concat([pl.geometry, cg.geometry]).total_bounds if len(pl) + len(cg) else (121.5, 31.25, 121.55, 31.3)
    m = base_map(bounds, basemap, key, lang)
    breaks = class_breaks(table["tickets"])
    if len(cg):
        cg = to_display(cg, basemap)
        fc = _with(_geojson(cg, ["tickets"]), "_tip", [_count_tip(t("hotspots.where_cell", lang), r, lang)
                                                      for r in cg.itertuples(index=False)])
        _with(fc, "_style", [{"fillColor": color_for(v, breaks)} for v in cg["tickets"].astype("float64")])
        DataLayer(fc, name=t("hotspots.layer_cells", lang),
                  style={"color": "#bbbbbb", "weight": 0.5, "fillOpacity": 0.3}).add_to(m)
    if len(pl):
        _count_places(to_display(pl, basemap), breaks, lang).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    extra = [_swatch(PLACE_EDGE, t("class_map.legend_places", lang))]
    extra += [{"text": t("class_map.legend_cells", lang)}] if len(cg) else []
    legend(t("class_map.legend_title", lang), breaks, lang, extra=extra).add_to(m)
    return m


def _count_places(pl: gpd.GeoDataFrame, breaks: list[float], lang: str) -> DataLayer:
    """The places as themselves, filled with their count's colour: circles, thick lines, polygons."""
    features = []
    for row in pl.itertuples(index=False):
        color = color_for(float(row.tickets), breaks)
        name = row.name if lang == "zh" else (getattr(row, "name_en", None) or row.name)
        kind = PLACE_KINDS[row.kind].label(lang) if row.kind in PLACE_KINDS else row.kind
        geom = shapely.set_precision(row.geometry, 10 ** -COORD_DECIMALS)
        props = {"_tip": _count_tip(f"{_text(name)} · {_text(kind)}", row, lang)}
        if geom.geom_type in ("LineString", "MultiLineString"):  # a dark casing under the coloured line
            features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                             "properties": {**props, "_style": {"color": PLACE_EDGE, "weight": 11, "opacity": 0.9}}})
            props["_style"] = {"color": color, "weight": 8, "opacity": 1}
        else:
            props["_style"] = {"color": PLACE_EDGE, "weight": 2, "fill": True, "fillColor": color, "fillOpacity": 0.9}
            if geom.geom_type == "Point":
                radius = getattr(row, "radius_m", None)
                props["_r"] = float(radius) if radius is not None and np.isfinite(radius) and radius > 0 else 50.0
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
    m = base_map(cg.total_bounds if len(cg) else (121.5, 31.25, 121.55, 31.3), basemap, key, lang)
    if len(cg):
        cg = to_display(cg, basemap)
        fc = _with(_geojson(cg, []), "_style", [{"fillColor": EMERGING_COLORS[k]} for k in f["class"]])
        where = f["where"] if "where" in f else pd.Series("", index=f.index)
        _with(fc, "_tip", [text_lines((t(f"hotspots.class_{k}", lang), True), _text(w), *labelled_lines([
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
    items += [_swatch(EMERGING_COLORS[k], t(f"hotspots.class_{k}", lang)) for k in CLASSES if k in shown]
    if not shown:
        items.append({"text": t("emerging_map.none", lang)})
    DataLegend(items).add_to(m)
    return m


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
        Popup text is data: set with textContent in the browser, never parsed (see map_layers).
    max_markers : int
        Above this many located tickets, draw counts per H3 cell (resolution 9) instead.
    """
    from folium.plugins import MarkerCluster

    from minqing.geo.h3cells import cells_to_parent
    from minqing.model import category_path

    located = tickets[tickets["lon"].notna() & tickets["lat"].notna()]
    group = folium.FeatureGroup(name=t("map.tickets", lang))
    if len(located) > max_markers:
        cells = cells_to_parent(located["h3_cell"].dropna().astype("int64").to_numpy(), 9)
        ids, counts = np.unique(cells, return_counts=True)
        hexes = gpd.GeoDataFrame({"code": cells_to_str(ids), "tickets": counts}, geometry=cells_to_polygons(ids),
                                 crs=4326)
        breaks = class_breaks(hexes["tickets"])
        fc = _geojson(to_display(hexes, basemap), ["code", "tickets"])
        _with(fc, "_style", [{"fillColor": color_for(v, breaks)} for v in hexes["tickets"].astype("float64")])
        _with(fc, "_tip", [labelled_lines([(t("map.tooltip_tickets", lang), fmt_int(v, lang))])
                           for v in hexes["tickets"]])
        DataLayer(fc, style={"fillOpacity": 0.7, "weight": 0.5, "color": "#666666"}, control=False).add_to(group)
        legend(t("map.legend_ticket_cells", lang), breaks, lang).add_to(m)  # a second box: these are cells
    else:
        pts = to_display(gpd.GeoSeries(gpd.points_from_xy(located["lon"], located["lat"]), crs=4326), basemap)
        cluster = MarkerCluster(name=t("map.tickets", lang), control=False).add_to(group)
        features = []
        for p, sid, when, cat, text in zip(pts, located["source_id"], located["received_at"], located["category"],
                                           located["text"]):
            popup = text_lines((_text(sid), True), when.strftime("%Y-%m-%d %H:%M") if not pd.isna(when) else "",
                               category_path(cat, lang) if isinstance(cat, str) else "", _text(text)[:200])
            features.append({"type": "Feature",
                             "geometry": {"type": "Point", "coordinates": [round(p.x, COORD_DECIMALS),
                                                                           round(p.y, COORD_DECIMALS)]},
                             "properties": {"_popup": popup}})
        DataLayer(feature_collection(features), control=False,
                  style={"color": "#08519c", "weight": 1, "fill": True, "fillOpacity": 0.8}).add_to(cluster)
    group.add_to(m)
    return group
