"""Read the city's layers (units and places) from a folder of GeoJSON files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from minqing.errors import GeodataError
from minqing.model import PLACE_COLUMNS, UNIT_COLUMNS, UNIT_LEVELS


def read_units(folder: Path | str) -> gpd.GeoDataFrame:
    """Return all unit levels of a layer folder as one GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    folder : path
        Holds ``district.geojson``, ``subdistrict.geojson``, ``community.geojson``
        and ``grid.geojson`` with the columns of ``model.UNIT_COLUMNS``.
    """
    folder = Path(folder)
    frames = []
    for level in UNIT_LEVELS:
        path = folder / f"{level}.geojson"
        if not path.is_file():
            raise GeodataError(
                f"layer {path} is missing; rebuild it with scripts/build_geodata.py or point MINQING_GEODATA at your layers",
                key="error.layer_missing",
                path=str(path),
            )
        gdf = gpd.read_file(path)
        frames.append(_normalise(gdf, UNIT_COLUMNS, path))
    units = pd.concat(frames, ignore_index=True)
    units["population"] = pd.to_numeric(units["population"], errors="coerce").round().astype("Int64")
    for col in ("valid_from", "valid_to"):
        units[col] = units[col].map(lambda v: None if v is None or pd.isna(v) else str(v)[:10]).astype(object)
    for col in ("code", "parent_code"):
        units[col] = units[col].map(lambda v: None if v is None or pd.isna(v) else str(v)).astype(object)
    return gpd.GeoDataFrame(units, geometry="geometry", crs=4326)


def read_places(folder: Path | str) -> gpd.GeoDataFrame:
    """Return the places layer (``places.geojson``) in EPSG:4326."""
    path = Path(folder) / "places.geojson"
    if not path.is_file():
        raise GeodataError(f"layer {path} is missing", key="error.layer_missing", path=str(path))
    places = _normalise(gpd.read_file(path), PLACE_COLUMNS, path)
    places["synthetic"] = places["synthetic"].fillna(False).astype(bool)
    return places


def _normalise(gdf: gpd.GeoDataFrame, columns, path: Path) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise GeodataError(f"{path} has no CRS; declare EPSG:4326", key="error.layer_crs", path=str(path))
    gdf = gdf.to_crs(4326)
    for col in columns:
        if col not in gdf.columns:
            gdf[col] = None
    required = {"code", "name"} if "code" in columns else {"place_id", "kind", "name"}
    for col in required:
        if gdf[col].isna().any():
            raise GeodataError(
                f"{path}: column {col!r} is empty in {int(gdf[col].isna().sum())} row(s)",
                key="error.layer_empty_column",
                path=str(path),
                column=col,
            )
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        gdf.loc[invalid, "geometry"] = gdf.geometry[invalid].make_valid()
    return gdf[list(columns) + ["geometry"]]
