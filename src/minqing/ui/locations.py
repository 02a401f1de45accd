"""Readable places for H3 cells: the grid a cell's centre lies in and its coordinates, never the id alone."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np

from minqing.geo.h3cells import cells_to_str
from minqing.i18n import fmt_lonlat


def cell_ids(cells) -> list[str | None]:
    """Return the hex ids of ``cells`` (int64 or hex strings), the secondary label of a cell."""
    values = list(cells)
    if values and all(isinstance(c, str) for c in values):
        return values
    return cells_to_str(np.asarray(values, dtype="int64"))


def cell_labels(cells, lang: str, grids: gpd.GeoDataFrame | None = None) -> list[str]:
    """Return a readable location of each H3 cell: ``<grid name> · <centre>``, or the centre alone.

    Parameters
    ----------
    cells : array-like of int64 or hex str
    grids : GeoDataFrame, optional
        Grids with ``name`` (and ``name_en``); the current store's grids when not given.
    """
    ids = cell_ids(cells)
    centres = [h3.cell_to_latlng(c) if c else (np.nan, np.nan) for c in ids]
    if grids is None:
        grids = _current_grids()
    names = [None] * len(ids)
    if len(ids) and grids is not None and len(grids):
        col = "name_en" if lang == "en" and "name_en" in grids.columns else "name"
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([c[1] for c in centres], [c[0] for c in centres]),
                               crs=4326)
        g = grids[[col, "geometry"]].rename(columns={col: "_name"}).to_crs(4326)
        hit = gpd.sjoin(pts, g, predicate="within", how="left")
        hit = hit[~hit.index.duplicated(keep="first")]
        names = [n if isinstance(n, str) and n else None for n in hit["_name"].reindex(range(len(ids)))]
    out = []
    for name, (lat, lng) in zip(names, centres):
        where = fmt_lonlat(lng, lat, lang, digits=3)
        out.append(f"{name} · {where}" if name else where)
    return out


def _current_grids():
    from minqing.citytime import today
    from minqing.ui.cache import data

    store = data.current_store()
    return data.units(store.url, data.data_version(store), "grid", today(store.timezone))
