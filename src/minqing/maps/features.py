"""GeoJSON features for :class:`minqing.maps.layers.DataLayer`, built from frames and rows (units, places).

Coordinates are rounded to :data:`COORD_DECIMALS`; properties are raw values (never
escaped, because the layer never parses one as markup).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minqing.maps.layers import DataLayer, feature_collection
from minqing.model import PLACE_KINDS

COORD_DECIMALS = 6  # about 0.1 m: enough for display, keeps the HTML small


def frame_features(gdf: gpd.GeoDataFrame, properties: list[str], simplify: float = 0.0) -> dict:
    """Return ``gdf`` as a FeatureCollection with the given columns as (raw, unescaped) properties.

    The result is data for :class:`minqing.maps.layers.DataLayer`, which never
    parses a property as markup; nothing here is escaped, because nothing needs to be.
    """
    geom = gdf.geometry.simplify(simplify, preserve_topology=True) if simplify else gdf.geometry
    geom = geom.set_precision(10 ** -COORD_DECIMALS)
    out = gpd.GeoDataFrame(gdf[properties].copy(), geometry=geom.values, crs=gdf.crs)
    fc = json.loads(out.to_json(drop_id=True, na="null"))
    return fc


def set_property(fc: dict, key: str, values) -> dict:
    """Set property ``key`` of every feature of ``fc`` from ``values`` (same order); return ``fc``."""
    for f, v in zip(fc["features"], values):
        f["properties"][key] = v
    return fc


def rounded(geometry):
    """Return a shapely ``geometry`` with its coordinates on the :data:`COORD_DECIMALS` grid."""
    return shapely.set_precision(geometry, 10 ** -COORD_DECIMALS)


def point_geometry(point) -> dict:
    """Return the GeoJSON geometry of a shapely point, its coordinates rounded to :data:`COORD_DECIMALS`."""
    return {"type": "Point", "coordinates": [round(point.x, COORD_DECIMALS), round(point.y, COORD_DECIMALS)]}


def point_layer(points, labels, name: str, style: dict, label_px: int) -> DataLayer:
    """Return a non-interactive layer of ``points`` (shapely), each with its permanent label (``_label``)."""
    features = [{"type": "Feature", "properties": {"_label": lab}, "geometry": point_geometry(p)}
                for p, lab in zip(points, labels)]
    return DataLayer(feature_collection(features), name=name, style=style, interactive=False, label_px=label_px)


def as_text(value) -> str:
    """Return ``value`` as a string for a tooltip or popup: "" when missing."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def place_title(row, lang: str) -> str:
    """Return "name · kind" of a place (a row with ``name``, ``kind``, maybe ``name_en``) for its tooltip."""
    name = row.name if lang == "zh" else (getattr(row, "name_en", None) or row.name)
    kind = PLACE_KINDS[row.kind].label(lang) if row.kind in PLACE_KINDS else row.kind
    return f"{as_text(name)} · {as_text(kind)}"


def place_radius(row) -> float:
    """Return the radius in metres a point place is drawn with: its ``radius_m``, else 50."""
    radius = getattr(row, "radius_m", None)
    return float(radius) if radius is not None and np.isfinite(radius) and radius > 0 else 50.0
