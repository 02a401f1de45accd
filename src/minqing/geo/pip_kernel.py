"""Point in polygon for many points and a few thousand polygon versions, compiled (numba).

A uniform grid over the polygons' extent indexes, for each cell, the polygons that may
contain a point of it: *inside* (the whole cell lies in the polygon, no edge of it
crosses the cell: no test needed) or *edge* (an edge's bounding box touches the cell: an
exact crossing-number test). Why our own: ``geopandas.sjoin`` / a shapely STRtree query
builds GEOS geometries for every point and runs a robust predicate per candidate; here a
point costs a cell lookup and, near edges only, a loop over one polygon's edges, on all
cores (``prange``), and the index builds in milliseconds.

The rule, stated once (the same as ``shapely.intersects`` followed by "the lowest
polygon index wins"):

- a point inside a polygon, or exactly on one of its edges or vertices, is in it;
- a polygon counts only when the point's day lies in ``[valid_from, valid_to)``;
- when several polygons hold the point (a shared edge, overlapping versions), the one
  with the lowest index wins;
- holes and multi-part polygons follow the even-odd rule over all their rings.

Compiled functions are cached on disk (``cache=True``); the threading layer and the lock
every parallel call holds are set in :mod:`minqing.kernels`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numba import njit, prange

from minqing.kernels import KERNEL_LOCK

INSIDE, EDGE = 1, 2
_MAX_CELLS = 1 << 21  # index cells in all (about 2 million: 16 MiB of offsets at most)


@dataclass(frozen=True)
class PolygonIndex:
    """A uniform-grid index of polygon edges (see the module notes)."""

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    cell_start: np.ndarray  # int64, nx*ny + 1: CSR offsets into cell_poly / cell_flag
    cell_poly: np.ndarray  # int32 polygon index, ascending within a cell
    cell_flag: np.ndarray  # int8 INSIDE or EDGE
    edge_start: np.ndarray  # int64, n_polygons + 1: CSR offsets into the edge arrays
    ex0: np.ndarray
    ey0: np.ndarray
    ex1: np.ndarray
    ey1: np.ndarray
    geoms: np.ndarray  # the polygons, for the exact decision of points a float cannot place


def build_index(geoms, cells_per_edge: float = 2.0) -> PolygonIndex:
    """Index polygons (shapely Polygon / MultiPolygon, EPSG:4326 or any planar CRS).

    The cell size is chosen so the grid has about ``cells_per_edge`` cells per polygon edge
    (at most :data:`_MAX_CELLS`): most points then fall in cells no edge crosses.
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    xs0, ys0, xs1, ys1, starts = [], [], [], [], [0]
    for g in geoms:
        rings = _rings(g)
        for r in rings:
            c = shapely.get_coordinates(r)
            xs0.append(c[:-1, 0])
            ys0.append(c[:-1, 1])
            xs1.append(c[1:, 0])
            ys1.append(c[1:, 1])
        starts.append(starts[-1] + sum(len(shapely.get_coordinates(r)) - 1 for r in rings))
    cat = (lambda parts: np.concatenate(parts) if parts else np.zeros(0))
    ex0, ey0, ex1, ey1 = (np.ascontiguousarray(cat(p), dtype=np.float64) for p in (xs0, ys0, xs1, ys1))
    edge_start = np.asarray(starts, dtype=np.int64)
    if n == 0 or len(ex0) == 0:
        return PolygonIndex(0.0, 0.0, 1.0, 1, 1, np.zeros(2, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int8),
                            edge_start, ex0, ey0, ex1, ey1, geoms)
    x0, y0 = float(min(ex0.min(), ex1.min())), float(min(ey0.min(), ey1.min()))
    x1, y1 = float(max(ex0.max(), ex1.max())), float(max(ey0.max(), ey1.max()))
    w, h = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
    target = min(_MAX_CELLS, max(64, int(cells_per_edge * len(ex0))))
    cell = max(np.sqrt(w * h / target), max(w, h) / 4096)
    nx, ny = int(w / cell) + 1, int(h / cell) + 1
    bx0 = np.array([b[0] for b in shapely.bounds(geoms)])
    by0 = np.array([b[1] for b in shapely.bounds(geoms)])
    bx1 = np.array([b[2] for b in shapely.bounds(geoms)])
    by1 = np.array([b[3] for b in shapely.bounds(geoms)])
    counts = _count_pairs(x0, y0, cell, nx, ny, bx0, by0, bx1, by1)
    cell_start, cell_poly, cell_flag = _fill_pairs(x0, y0, cell, nx, ny, bx0, by0, bx1, by1, counts,
                                                   edge_start, ex0, ey0, ex1, ey1)
    return PolygonIndex(x0, y0, float(cell), nx, ny, cell_start, cell_poly, cell_flag, edge_start,
                        ex0, ey0, ex1, ey1, geoms)


def _rings(g) -> list:
    if g is None or shapely.is_empty(g):
        return []
    parts = getattr(g, "geoms", [g])
    out = []
    for p in parts:
        if p.geom_type != "Polygon":
            continue
        out.append(p.exterior)
        out.extend(p.interiors)
    return out


def locate(index: PolygonIndex, x, y, day=None, valid_from=None, valid_to=None) -> np.ndarray:
    """Return, for every point, the lowest index of a polygon holding it (valid that day), else -1.

    Parameters
    ----------
    index : PolygonIndex
    x, y : array of float
        Coordinates (NaN: no location, -1).
    day, valid_from, valid_to : array of int, optional
        The points' days and the polygons' validity ``[valid_from, valid_to)`` as integers (e.g.
        days since 1970); all valid when omitted.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    n_poly = len(index.edge_start) - 1
    if day is None:
        day = np.zeros(len(x), np.int64)
        valid_from = np.full(n_poly, -(2 ** 62), np.int64)
        valid_to = np.full(n_poly, 2 ** 62, np.int64)
    day = np.ascontiguousarray(day, dtype=np.int64)
    valid_from = np.ascontiguousarray(valid_from, dtype=np.int64)
    valid_to = np.ascontiguousarray(valid_to, dtype=np.int64)
    with KERNEL_LOCK:
        out = _locate(x, y, day, valid_from, valid_to, index.x0, index.y0, index.cell, index.nx, index.ny,
                      index.cell_start, index.cell_poly, index.cell_flag, index.edge_start, index.ex0, index.ey0,
                      index.ex1, index.ey1)
    close = np.flatnonzero(out == -2)
    if len(close):  # GEOS's exact predicates for the few points a float cannot place
        rows, polys = shapely.STRtree(index.geoms).query(shapely.points(x[close], y[close]), predicate="intersects")
        ok = (valid_from[polys] <= day[close][rows]) & (day[close][rows] < valid_to[polys])
        best = np.full(len(close), -1, np.int64)
        np.minimum.at(best.view(np.uint64), rows[ok], polys[ok].astype(np.uint64))  # -1 is the largest uint64
        out[close] = best
    return out


# -- compiled parts ------------------------------------------------------------------------------------


@njit(cache=True)
def _cell_range(a, b, origin, cell, n):
    i0 = int(np.floor((a - origin) / cell))
    i1 = int(np.floor((b - origin) / cell))
    return max(i0, 0), min(i1, n - 1)


@njit(cache=True)
def _count_pairs(x0, y0, cell, nx, ny, bx0, by0, bx1, by1):
    counts = np.zeros(nx * ny, np.int64)
    for p in range(len(bx0)):
        i0, i1 = _cell_range(bx0[p], bx1[p], x0, cell, nx)
        j0, j1 = _cell_range(by0[p], by1[p], y0, cell, ny)
        for j in range(j0, j1 + 1):
            for i in range(i0, i1 + 1):
                counts[j * nx + i] += 1
    return counts


_EPS_BOUND = 3.3306690738754716e-16  # Shewchuk's ccwerrboundA: (3 + 16 eps) eps


@njit(cache=True)
def _orient(ax, ay, bx, by, px, py):
    """Sign of the turn a -> b -> p: 1 left, -1 right, 0 on the line, 2 too close to tell in floats."""
    left = (bx - ax) * (py - ay)
    right = (by - ay) * (px - ax)
    det = left - right
    bound = _EPS_BOUND * (abs(left) + abs(right))
    if det > bound:
        return 1
    if -det > bound:
        return -1
    if det == 0.0 and bound == 0.0:  # a factor is exactly zero: exactly on the line
        return 0
    return 2


@njit(cache=True)
def _holds(px, py, e0, e1, ex0, ey0, ex1, ey1):
    """1 when the rings of edges e0..e1 hold the point (even-odd; on an edge counts), 0 when not, 2 when a
    float cannot tell (the caller decides those few points exactly)."""
    inside = False
    for e in range(e0, e1):
        ax, ay, bx, by = ex0[e], ey0[e], ex1[e], ey1[e]
        if (ay > py) != (by > py):  # the edge straddles the point's horizontal line (half-open)
            if px < min(ax, bx):
                inside = not inside
                continue
            if px > max(ax, bx):
                continue
            o = _orient(ax, ay, bx, by, px, py)
            if o == 2:
                return 2
            if o == 0:
                return 1
            if (o > 0) == (by > ay):
                inside = not inside
        elif min(ax, bx) <= px <= max(ax, bx) and min(ay, by) <= py <= max(ay, by):
            o = _orient(ax, ay, bx, by, px, py)  # a horizontal edge or an end point at the point's height
            if o == 2:
                return 2
            if o == 0:
                return 1
    return 1 if inside else 0


@njit(cache=True)
def _fill_pairs(x0, y0, cell, nx, ny, bx0, by0, bx1, by1, counts, edge_start, ex0, ey0, ex1, ey1):
    n_cells = nx * ny
    edge_mark = np.zeros(n_cells, np.int32) - 1  # the last polygon whose edge touched the cell
    start = np.zeros(n_cells + 1, np.int64)
    for c in range(n_cells):
        start[c + 1] = start[c] + counts[c]
    poly = np.zeros(start[n_cells], np.int32)
    flag = np.zeros(start[n_cells], np.int8)
    fill = start[:-1].copy()
    for p in range(len(bx0)):  # ascending: cells list polygons in index order
        for e in range(edge_start[p], edge_start[p + 1]):
            i0, i1 = _cell_range(min(ex0[e], ex1[e]), max(ex0[e], ex1[e]), x0, cell, nx)
            j0, j1 = _cell_range(min(ey0[e], ey1[e]), max(ey0[e], ey1[e]), y0, cell, ny)
            for j in range(j0, j1 + 1):
                for i in range(i0, i1 + 1):
                    edge_mark[j * nx + i] = p
        i0, i1 = _cell_range(bx0[p], bx1[p], x0, cell, nx)
        j0, j1 = _cell_range(by0[p], by1[p], y0, cell, ny)
        for j in range(j0, j1 + 1):
            for i in range(i0, i1 + 1):
                c = j * nx + i
                if edge_mark[c] == p:
                    f = EDGE
                elif _holds(x0 + (i + 0.5) * cell, y0 + (j + 0.5) * cell, edge_start[p], edge_start[p + 1],
                            ex0, ey0, ex1, ey1) == 1:  # no edge near the centre: never 2
                    f = INSIDE
                else:
                    continue
                poly[fill[c]] = p
                flag[fill[c]] = f
                fill[c] += 1
    # compact: drop the unused slots (cells outside the polygon within its bounding box)
    out_start = np.zeros(n_cells + 1, np.int64)
    for c in range(n_cells):
        out_start[c + 1] = out_start[c] + (fill[c] - start[c])
    out_poly = np.zeros(out_start[n_cells], np.int32)
    out_flag = np.zeros(out_start[n_cells], np.int8)
    for c in range(n_cells):
        k = out_start[c]
        for s in range(start[c], fill[c]):
            out_poly[k] = poly[s]
            out_flag[k] = flag[s]
            k += 1
    return out_start, out_poly, out_flag


@njit(parallel=True, cache=True)
def _locate(x, y, day, vfrom, vto, x0, y0, cell, nx, ny, cell_start, cell_poly, cell_flag, edge_start,
            ex0, ey0, ex1, ey1):
    n = len(x)
    out = np.full(n, -1, np.int64)
    for k in prange(n):
        px, py = x[k], y[k]
        if not (np.isfinite(px) and np.isfinite(py)):
            continue
        fi = (px - x0) / cell
        fj = (py - y0) / cell
        if fi < 0 or fj < 0 or fi >= nx or fj >= ny:
            continue
        # every edge whose bounding box holds the point is listed in the point's own cell (the same
        # floor as the index build), and every polygon holding it has the cell in its range
        c = int(fj) * nx + int(fi)
        best = -1
        for s in range(cell_start[c], cell_start[c + 1]):  # polygons in index order: the first that holds wins
            p = cell_poly[s]
            if day[k] < vfrom[p] or day[k] >= vto[p]:
                continue
            if cell_flag[s] == INSIDE:
                best = p
                break
            h = _holds(px, py, edge_start[p], edge_start[p + 1], ex0, ey0, ex1, ey1)
            if h == 1:
                best = p
                break
            if h == 2:  # too close to an edge for floats: decided exactly by the caller
                best = -2
                break
        out[k] = best
    return out


def locate_all(index: PolygonIndex, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Return (point, polygon) for every polygon holding each point (inside or on its edge), by point.

    For overlapping polygons (place footprints): a point may be in several or none.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    args = (index.x0, index.y0, index.cell, index.nx, index.ny, index.cell_start, index.cell_poly, index.cell_flag,
            index.edge_start, index.ex0, index.ey0, index.ex1, index.ey1)
    with KERNEL_LOCK:
        counts = _count_all(x, y, *args)
        offsets = np.zeros(len(x) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        rows, polys, unsure = _fill_all(x, y, offsets, *args)
    if unsure.any():  # GEOS decides the pairs a float cannot
        keep = ~unsure
        rows2, polys2 = rows[unsure], polys[unsure]
        ok = shapely.intersects(index.geoms[polys2], shapely.points(x[rows2], y[rows2]))
        rows = np.concatenate([rows[keep], rows2[ok]])
        polys = np.concatenate([polys[keep], polys2[ok]])
        order = np.lexsort((polys, rows))
        rows, polys = rows[order], polys[order]
    return rows, polys


@njit(cache=True)
def _cell_of(px, py, x0, y0, cell, nx, ny):
    if not (np.isfinite(px) and np.isfinite(py)):
        return -1
    fi = (px - x0) / cell
    fj = (py - y0) / cell
    if fi < 0 or fj < 0 or fi >= nx or fj >= ny:
        return -1
    return int(fj) * nx + int(fi)


@njit(parallel=True, cache=True)
def _count_all(x, y, x0, y0, cell, nx, ny, cell_start, cell_poly, cell_flag, edge_start, ex0, ey0, ex1, ey1):
    counts = np.zeros(len(x), np.int64)
    for k in prange(len(x)):
        c = _cell_of(x[k], y[k], x0, y0, cell, nx, ny)
        if c < 0:
            continue
        m = 0
        for s in range(cell_start[c], cell_start[c + 1]):
            p = cell_poly[s]
            if cell_flag[s] == INSIDE or _holds(x[k], y[k], edge_start[p], edge_start[p + 1], ex0, ey0, ex1, ey1) != 0:
                m += 1
        counts[k] = m
    return counts


@njit(parallel=True, cache=True)
def _fill_all(x, y, offsets, x0, y0, cell, nx, ny, cell_start, cell_poly, cell_flag, edge_start, ex0, ey0, ex1, ey1):
    total = offsets[len(x)]
    rows = np.zeros(total, np.int64)
    polys = np.zeros(total, np.int64)
    unsure = np.zeros(total, np.bool_)
    for k in prange(len(x)):
        c = _cell_of(x[k], y[k], x0, y0, cell, nx, ny)
        if c < 0:
            continue
        o = offsets[k]
        for s in range(cell_start[c], cell_start[c + 1]):
            p = cell_poly[s]
            h = 1 if cell_flag[s] == INSIDE else _holds(x[k], y[k], edge_start[p], edge_start[p + 1], ex0, ey0, ex1, ey1)
            if h != 0:
                rows[o] = k
                polys[o] = p
                unsure[o] = h == 2
                o += 1
    return rows, polys, unsure


def warm_up() -> None:
    """Compile (or load from the disk cache) on a tiny input, off any request path."""
    sq = shapely.box(0, 0, 1, 1)
    idx = build_index([sq])
    locate(idx, np.array([0.5]), np.array([0.5]))
    locate_all(idx, np.array([0.5]), np.array([0.5]))
