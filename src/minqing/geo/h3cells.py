"""H3 cells as int64 arrays: vectorised indexing and parent derivation.

Only the finest resolution is stored with each ticket (10 by default); coarser
cells are derived by bit arithmetic, which gives exactly ``h3.cell_to_parent``.
"""

from __future__ import annotations

import os

import h3
import h3.api.numpy_int as h3n
import numpy as np

_RES_SHIFT = 52
_RES_MASK = np.uint64(0xF << _RES_SHIFT)


def latlng_to_cells(lat, lng, res: int) -> np.ndarray:
    """Return the H3 cell (int64) of every point; -1 where lat or lng is NaN.

    Parameters
    ----------
    lat, lng : array-like of float
        WGS-84 degrees.
    res : int
        H3 resolution, 0..15.
    """
    _check_res(res)
    lat = np.asarray(lat, dtype="float64")
    lng = np.asarray(lng, dtype="float64")
    out = np.full(lat.shape, -1, dtype="int64")
    ok = np.isfinite(lat) & np.isfinite(lng)
    if ok.any():
        out[ok] = _cells(lat[ok], lng[ok], res)
    return out


_PARALLEL_MIN = 200_000  # points per call before splitting across threads pays


def _cells(lat: np.ndarray, lng: np.ndarray, res: int) -> np.ndarray:
    """H3 cells (int64) of finite coordinates: h3ronpy's vectorised call on up to 4 threads (it releases
    the GIL), or h3-py point by point when h3ronpy is missing."""
    try:
        from h3ronpy import vector
    except ImportError:  # pragma: no cover - h3ronpy is a dependency; keep working without it
        f = h3n.latlng_to_cell
        return np.fromiter((f(a, b, res) for a, b in zip(lat.tolist(), lng.tolist())), dtype="uint64",
                           count=len(lat)).view("int64")

    def run(a, b):
        return np.asarray(vector.coordinates_to_cells(a, b, res).to_numpy()).view("int64")

    workers = min(4, os.cpu_count() or 1, max(1, len(lat) // _PARALLEL_MIN))
    if workers <= 1:
        return run(lat, lng)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as ex:
        return np.concatenate(list(ex.map(run, np.array_split(lat, workers), np.array_split(lng, workers))))


def cells_to_parent(cells, res: int) -> np.ndarray:
    """Return the parent at ``res`` of every cell (int64); -1 stays -1.

    Equivalent to ``h3.cell_to_parent`` applied element-wise, computed with
    bit operations: set the resolution field and fill the finer digits with 7.
    """
    _check_res(res)
    cells = np.asarray(cells, dtype="int64")
    u = cells.view("uint64")
    fill = np.uint64((1 << ((15 - res) * 3)) - 1)
    parent = (u & ~_RES_MASK) | np.uint64(res << _RES_SHIFT) | fill
    out = parent.view("int64").copy()
    out[cells < 0] = -1
    return out


def cell_to_str(cell: int) -> str:
    """Return the hex string of an int64 cell (the form kepler.gl reads as ``hex_id``)."""
    return h3.int_to_str(int(np.int64(cell).view("uint64")))


def cells_to_str(cells) -> list[str | None]:
    """Return hex strings for int64 cells; None for -1 or missing."""
    return [None if (c is None or c < 0) else h3.int_to_str(int(c)) for c in np.asarray(cells, dtype="int64").tolist()]


def _check_res(res: int) -> None:
    if not isinstance(res, (int, np.integer)) or not 0 <= res <= 15:
        raise ValueError(f"H3 resolution must be an integer 0..15, got {res!r}")


def cells_to_polygons(cells) -> list:
    """Return the hexagon of every int64 cell as a shapely Polygon (lon, lat)."""
    import shapely

    return [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(h3.int_to_str(c))])
            for c in np.asarray(cells, dtype="int64").view("uint64").tolist()]


def cells_to_units(cells, units, column: str = "code") -> np.ndarray:
    """Return the ``column`` of the unit whose polygon holds each cell's centre; None outside every unit.

    Parameters
    ----------
    cells : array-like of int64
    units : GeoDataFrame
        One level's units valid on one day (EPSG:4326), e.g. the grids; where two
        overlap, the first in ``units`` wins.
    column : str
        The column to return, e.g. ``code`` or ``name``.
    """
    import geopandas as gpd

    cells = np.asarray(cells, dtype="int64")
    out = np.full(len(cells), None, dtype=object)
    if not len(cells) or not len(units):
        return out
    lat, lng = np.array([h3.cell_to_latlng(h3.int_to_str(c)) for c in cells.view("uint64").tolist()]).T
    pts = gpd.GeoSeries(gpd.points_from_xy(lng, lat), crs=4326)
    geoms = gpd.GeoSeries(units.geometry.values, crs=units.crs).to_crs(4326)
    point, unit = geoms.sindex.query(pts, predicate="within")
    order = np.lexsort((unit, point))  # by point, then the unit's position: the first unit wins
    point, unit = point[order], unit[order]
    first = np.r_[True, point[1:] != point[:-1]]
    out[point[first]] = units[column].to_numpy(dtype=object)[unit[first]]
    return out
