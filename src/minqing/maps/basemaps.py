"""Basemaps and the coordinate system each one is drawn in.

The default is no basemap at all (offline). AMap/Gaode tiles are in GCJ-02,
so our WGS-84 layers are shifted to GCJ-02 on the way out when AMap is
chosen; OpenStreetMap and Tianditu tiles line up with WGS-84 as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from minqing.errors import MinqingError
from minqing.geo.crs import wgs84_to_gcj02


@dataclass(frozen=True)
class Basemap:
    """One basemap choice."""

    id: str
    tiles: str | None
    attribution: str
    crs: str  # the system its tiles are drawn in: "wgs84" or "gcj02"
    needs_key: bool = False
    subdomains: str = "abc"
    max_zoom: int = 19


BASEMAPS: dict[str, Basemap] = {
    "none": Basemap("none", None, "", "wgs84"),
    "osm": Basemap(
        "osm",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors",
        "wgs84",
    ),
    "amap": Basemap(
        "amap",
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "&copy; 高德地图 AutoNavi",
        "gcj02",
        subdomains="1234",
        max_zoom=18,
    ),
    "tianditu": Basemap(
        "tianditu",
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "&copy; 天地图 Tianditu",
        "wgs84",
        needs_key=True,
        subdomains="01234567",
        max_zoom=18,
    ),
}


class BasemapError(MinqingError, ValueError):
    """An unknown basemap, or one that needs a key that was not given."""

    key = "settings.error_basemap"


def get_basemap(basemap_id: str) -> Basemap:
    """Return the basemap named ``basemap_id`` (one of ``BASEMAPS``)."""
    if basemap_id not in BASEMAPS:
        raise BasemapError(
            f"unknown basemap {basemap_id!r}; allowed: {', '.join(BASEMAPS)}",
            basemap=str(basemap_id),
        )
    return BASEMAPS[basemap_id]


def tile_url(basemap_id: str, key: str | None = None) -> str | None:
    """Return the tile URL template of a basemap, with the key filled in where one is needed."""
    bm = get_basemap(basemap_id)
    if bm.needs_key:
        if not key:
            raise BasemapError(
                f"basemap {basemap_id!r} needs a key; set TIANDITU_KEY in .streamlit/secrets.toml or the environment",
                basemap=basemap_id,
            )
        return bm.tiles.replace("{key}", key)
    return bm.tiles


def to_display(obj, basemap_id: str = "none"):
    """Return geometries ready to draw on ``basemap_id``: shifted to GCJ-02 for AMap, unchanged otherwise.

    Parameters
    ----------
    obj : GeoDataFrame, GeoSeries or shapely geometry
        In EPSG:4326 (WGS-84), as every layer crossing a module boundary is.
    basemap_id : str
        One of ``BASEMAPS``.
    """
    if get_basemap(basemap_id).crs == "wgs84":
        return obj

    def _shift(coords):
        out = np.array(coords, dtype="float64", copy=True)
        if len(out):
            out[:, 0], out[:, 1] = wgs84_to_gcj02(out[:, 0], out[:, 1])
        return out

    if isinstance(obj, gpd.GeoDataFrame):
        out = obj.copy()
        out[obj.geometry.name] = to_display(obj.geometry, basemap_id)
        return out
    if isinstance(obj, gpd.GeoSeries):
        return gpd.GeoSeries(shapely.transform(obj.values, _shift), index=obj.index, crs=obj.crs)
    return shapely.transform(obj, _shift)
