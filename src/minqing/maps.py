"""Folium map builders. Pure functions: data in, ``folium.Map`` out.

Maps work offline: Leaflet and friends are served by the app itself
(see :mod:`minqing.offline`) and the default basemap is none at all, so our
own layers must read well on a plain background.
"""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minqing.basemaps import to_display
from minqing.i18n import fmt_float, fmt_int, t
from minqing.map_layers import DataLayer, DataLegend, MapControls, feature_collection, labelled_lines, text_lines
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


def class_breaks(values, k: int = len(PALETTE)) -> list[float]:
    """Return up to ``k + 1`` rising quantile breaks of the finite ``values``."""
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    if v.size == 0:
        return []
    breaks = np.unique(np.quantile(v, np.linspace(0, 1, k + 1)))
    return breaks.tolist()


def color_for(value, breaks: list[float]) -> str:
    """Return the palette colour of ``value`` for the given breaks."""
    if value is None or not np.isfinite(value) or not breaks:
        return NO_DATA
    if len(breaks) == 1:  # every unit has the same value: no contrast to show
        return PALETTE[0]
    i = int(np.searchsorted(breaks, value, side="right")) - 1
    i = min(max(i, 0), len(breaks) - 2)
    # spread the classes we have over the whole palette
    return PALETTE[round(i * (len(PALETTE) - 1) / max(len(breaks) - 2, 1))]


def _geojson(gdf: gpd.GeoDataFrame, properties: list[str], simplify: float = 0.0) -> dict:
    """Return ``gdf`` as a FeatureCollection with the given columns as (raw, unescaped) properties.

    The result is data for :class:`minqing.map_layers.DataLayer`, which never
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
        One of ``minqing.basemaps.BASEMAPS``; "none" (the default) works offline.
        Layers added to the map must go through ``basemaps.to_display`` first.
    key : str, optional
        The Tianditu key.
    lang : {"zh", "en"}
        The language of the zoom buttons' titles; the scale bar is metric only.
    """
    from minqing.basemaps import get_basemap, tile_url
    from minqing.offline import use_local_assets

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
    """
    if measure not in ("rate", "tickets"):
        raise ValueError(f"measure must be 'rate' or 'tickets', got {measure!r}")
    m = base_map(units.total_bounds, basemap, key, lang)
    sd = to_display(units, basemap).copy()
    breaks = class_breaks(sd[measure])
    sd["fill"] = [color_for(v, breaks) for v in sd[measure].astype("float64")]
    sd["tickets_fmt"] = sd["tickets"].map(lambda v: fmt_int(v, lang))
    sd["rate_fmt"] = sd["rate"].map(lambda v: fmt_float(v, 1, lang))
    sd["population_fmt"] = sd["population"].map(lambda v: fmt_int(v, lang))
    names_en = sd["name_en"] if "name_en" in sd.columns else sd["name"]
    sd["label"] = sd["name"] if lang == "zh" else names_en.fillna(sd["name"])
    sd["sel"] = sd["code"] == selected

    aliases = [t(f"map.tooltip_{k}", lang) for k in ("name", "tickets", "rate", "population")]
    fc = _geojson(sd, ["code"], simplify=0.00002)
    _with(fc, "_style", [{"fillColor": fill, "color": "#000000" if sel else "#444444", "weight": 4 if sel else 1.5}
                         for fill, sel in zip(sd["fill"], sd["sel"])])
    _with(fc, "_tip", [labelled_lines(zip(aliases, vals)) for vals in
                       zip(sd["label"], sd["tickets_fmt"], sd["rate_fmt"], sd["population_fmt"])])
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
    if tickets is not None and len(tickets):
        add_ticket_points(m, tickets, lang, basemap)
    # the layer control goes last: its script refers to every layer defined before it
    folium.LayerControl(collapsed=False).add_to(m)
    title = t("map.legend_title" if measure == "rate" else "map.legend_title_count", lang)
    legend(title, breaks, lang, places_title=t("map.legend_places", lang)).add_to(m)
    return m


def add_places(m: folium.Map, places: gpd.GeoDataFrame, lang: str = "zh") -> folium.FeatureGroup:
    """Draw places on ``m``: entrances as circles of their radius, stretches as lines, compounds as polygons.

    Names come from users' files: they reach the map only as data (see :mod:`minqing.map_layers`).
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
           extra: list[dict] | None = None) -> DataLegend:
    """Return the legend box: the colour classes and the place kinds, every line set as text.

    Parameters
    ----------
    title : str
    breaks : list of float
        The class breaks of :func:`class_breaks`; one line per class.
    places_title : str, optional
        When given, a section listing the place kinds and their colours.
    extra : list of dict, optional
        More lines (see :class:`minqing.map_layers.DataLegend`).
    """
    items = [{"text": title, "bold": True}]
    for i in range(max(len(breaks) - 1, 0)):
        items.append(_swatch(color_for(breaks[i], breaks),
                             f"{fmt_float(breaks[i], 1, lang)} – {fmt_float(breaks[i + 1], 1, lang)}"))
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
                 basemap: str = "none", key: str | None = None, value_label: str = "") -> folium.Map:
    """Return a map of H3 cells coloured by Gi* bin (−3..+3), with optional places on top.

    Parameters
    ----------
    cells : array-like of int64
    bins : array-like of int (−3..+3)
    values : array-like
        The count shown in each cell's tooltip.
    """
    import h3

    cells = np.asarray(cells, dtype="int64")
    polys = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(h3.int_to_str(int(c)))])
             for c in cells.view("uint64").tolist()]
    gdf = gpd.GeoDataFrame({"bin": np.asarray(bins, dtype=int), "value": np.asarray(values, dtype=float)},
                           geometry=polys, crs=4326)
    return units_bins_map(gdf, lang, places, basemap, key, value_label)


def units_bins_map(units: gpd.GeoDataFrame, lang: str = "zh", places: gpd.GeoDataFrame | None = None,
                   basemap: str = "none", key: str | None = None, value_label: str = "") -> folium.Map:
    """Return a map of polygons (grids or cells) with ``bin`` and ``value`` columns coloured by Gi* bin."""
    shown = to_display(units, basemap)
    m = base_map(units.total_bounds if len(units) else (121.5, 31.25, 121.55, 31.3), basemap, key, lang)
    gdf = shown[["bin", "value", "geometry"]].copy()
    fc = _geojson(gdf, ["bin"])
    _with(fc, "_tip", [text_lines(f"{value_label} {fmt_float(v, 0, lang)} · "
                                  f"{t(('hotspots.bin_' + str(b)).replace('-', 'm'), lang)}")
                       for b, v in zip(gdf["bin"], gdf["value"])])
    _with(fc, "_style", [{"fillColor": GI_COLORS.get(int(b), NO_DATA)} for b in gdf["bin"]])
    DataLayer(fc, name=t("hotspots.layer_bins", lang), style={"color": "#999", "weight": 0.4, "fillOpacity": 0.75},
              ).add_to(m)
    if places is not None and len(places):
        add_places(m, to_display(places, basemap), lang)
    folium.LayerControl(collapsed=True).add_to(m)
    _gi_legend(lang).add_to(m)
    return m


def class_of_cases_map(places: gpd.GeoDataFrame, table: pd.DataFrame, lang: str = "zh", basemap: str = "none",
                       key: str | None = None) -> folium.Map:
    """Return a map of the places (and H3 cells) of one class of cases, sized by their ticket count."""
    import h3

    pl = places[places["place_id"].isin(table.loc[table["where_type"] == "place", "where_id"])]
    cells = table.loc[table["where_type"] == "cell"]
    polys = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(h3.int_to_str(int(c)))])
             for c in cells["where_id"].astype("int64").to_numpy().view("uint64").tolist()]
    cg = gpd.GeoDataFrame({"tickets": cells["tickets"].to_numpy()}, geometry=polys, crs=4326)
    bounds = pd.concat([pl.geometry, cg.geometry]).total_bounds if len(pl) + len(cg) else (121.5, 31.25, 121.55, 31.3)
    m = base_map(bounds, basemap, key, lang)
    if len(cg):
        cg = to_display(cg, basemap)
        fc = _with(_geojson(cg, ["tickets"]), "_tip", [text_lines(fmt_int(v, lang)) for v in cg["tickets"]])
        DataLayer(fc, name=t("hotspots.layer_cells", lang),
                  style={"fillColor": "#fd8d3c", "color": "#bd0026", "weight": 0.6, "fillOpacity": 0.5}).add_to(m)
    if len(pl):
        add_places(m, to_display(pl, basemap), lang)
    folium.LayerControl(collapsed=True).add_to(m)
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
        import h3

        hexes = gpd.GeoDataFrame(
            {"code": [h3.int_to_str(int(c)) for c in ids], "tickets": counts},
            geometry=[shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(h3.int_to_str(int(c)))])
                      for c in ids],
            crs=4326,
        )
        breaks = class_breaks(hexes["tickets"])
        fc = _geojson(to_display(hexes, basemap), ["code", "tickets"])
        _with(fc, "_style", [{"fillColor": color_for(v, breaks)} for v in hexes["tickets"].astype("float64")])
        _with(fc, "_tip", [labelled_lines([(t("map.tooltip_tickets", lang), fmt_int(v, lang))])
                           for v in hexes["tickets"]])
        DataLayer(fc, style={"fillOpacity": 0.7, "weight": 0.5, "color": "#666666"}, control=False).add_to(group)
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
