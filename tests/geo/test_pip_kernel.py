"""The compiled point-in-polygon index: hand-made cases, then agreement with shapely's exact predicates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from minqing.config import geodata_dir
from minqing.geo.layers import read_units
from minqing.geo.pip_kernel import build_index, locate


def _ref(geoms, x, y, day=None, vf=None, vt=None):
    """shapely.intersects, then the lowest index valid that day (the rule of link_tickets before)."""
    rows, polys = shapely.STRtree(geoms).query(shapely.points(x, y), predicate="intersects")
    if day is not None:
        ok = (vf[polys] <= day[rows]) & (day[rows] < vt[polys])
        rows, polys = rows[ok], polys[ok]
    out = np.full(len(x), -1)
    for r, p in sorted(zip(rows.tolist(), polys.tolist()), reverse=True):
        out[r] = p
    return out


def test_hand_made_cases():
    ring = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])  # a square with a hole
    two = MultiPolygon([box(10, 0, 11, 1), box(12, 0, 13, 1)])
    left, right = box(20, 0, 21, 1), box(21, 0, 22, 1)  # sharing the edge x = 21
    geoms = [ring, two, left, right]
    idx = build_index(geoms)
    pts = {
        (0.5, 0.5): 0, (2, 2): -1, (1, 2): 0,  # in the ring; in the hole; on the hole's edge (held)
        (0, 0): 0, (4, 2): 0, (5, 5): -1,  # a vertex; the outer edge; outside
        (10.5, 0.5): 1, (11.5, 0.5): -1, (12.5, 0.5): 1,  # parts of a multipolygon and the gap
        (21, 0.5): 2, (21.5, 0.5): 3, (21, 1): 2,  # shared edge and shared corner: the lower index
        (float("nan"), 0.5): -1,
    }
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    assert locate(idx, x, y).tolist() == list(pts.values())
    assert locate(idx, x, y).tolist() == _ref(np.array(geoms, dtype=object), x, y).tolist()


def test_versions_by_day():
    old, new = box(0, 0, 2, 2), box(0, 0, 1, 2)  # grid 0 until day 100, grid 1 from then
    idx = build_index([old, new])
    x, y = np.array([0.5, 0.5, 1.5, 1.5]), np.array([1.0, 1.0, 1.0, 1.0])
    got = locate(idx, x, y, np.array([99, 100, 99, 100]), np.array([0, 100]), np.array([100, 10 ** 6]))
    assert got.tolist() == [0, 1, 0, -1]


@pytest.fixture(scope="module")
def demo_grids():
    u = read_units(geodata_dir())
    g = u[u["level"] == "grid"].reset_index(drop=True)
    vf = pd.to_datetime(g["valid_from"]).to_numpy(dtype="datetime64[D]").astype(np.int64)
    vt = pd.to_datetime(g["valid_to"].fillna("2262-01-01")).to_numpy(dtype="datetime64[D]").astype(np.int64)
    return g.geometry.values, vf, vt


def test_no_disagreement_with_shapely_on_the_demo_grids(demo_grids):
    geoms, vf, vt = demo_grids
    idx = build_index(geoms)
    rng = np.random.default_rng(0)
    b = shapely.total_bounds(geoms)
    n = 200_000
    x, y = rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)
    day = rng.integers(19_500, 20_700, n)  # both sides of the 2025-07-01 split
    assert (locate(idx, x, y, day, vf, vt) == _ref(geoms, x, y, day, vf, vt)).all()


def test_points_on_and_next_to_edges(demo_grids):
    """Vertices, midpoints and points a hair off the edges: every one placed as GEOS places it."""
    geoms, vf, vt = demo_grids
    idx = build_index(geoms)
    c = shapely.get_coordinates(shapely.boundary(geoms))
    mid = (c[:-1] + c[1:]) / 2
    rng = np.random.default_rng(1)
    d = c[1:] - c[:-1]
    normal = np.column_stack([-d[:, 1], d[:, 0]]) / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-300)[:, None]
    near = mid + normal * rng.choice([-1e-9, -1e-12, -1e-14, 1e-14, 1e-12, 1e-9], len(mid))[:, None]
    for pts in (c, mid, near):
        day = np.full(len(pts), 20_000)
        got = locate(idx, pts[:, 0], pts[:, 1], day, vf, vt)
        assert (got == _ref(geoms, pts[:, 0], pts[:, 1], day, vf, vt)).all()


def test_place_pairs_equal_the_shapely_path():
    """Places through the index: the same (ticket, place) pairs as an STRtree query and a metric dwithin."""
    import geopandas as gpd

    from minqing.geo.layers import read_places
    from minqing.geo.link import _metric_places, _place_pairs, place_footprints

    places = read_places(geodata_dir())
    rng = np.random.default_rng(3)
    b = places.total_bounds
    n = 100_000
    # half near places (within ~300 m), half anywhere
    centre = shapely.get_coordinates(places.geometry.representative_point().values)
    pick = rng.integers(0, len(centre), n // 2)
    x = np.r_[centre[pick, 0] + rng.normal(0, 0.002, n // 2), rng.uniform(b[0], b[2], n - n // 2)]
    y = np.r_[centre[pick, 1] + rng.normal(0, 0.002, n // 2), rng.uniform(b[1], b[3], n - n // 2)]
    got = _place_pairs(x, y, places)
    pts = shapely.points(x, y)
    prow, pidx = shapely.STRtree(place_footprints(places, pad_m=1.0).values).query(pts, predicate="intersects")
    metric, dist = _metric_places(places)
    cand = gpd.GeoSeries(pts[prow], crs=4326).to_crs(metric.crs).values
    ok = shapely.dwithin(metric.values[pidx], cand, dist[pidx])
    ref = sorted(zip(prow[ok].tolist(), pidx[ok].tolist()))
    assert sorted(zip(got[0].tolist(), got[1].tolist())) == ref
    assert len(ref) > 5_000


def _child_locate(_):
    idx = build_index([box(0, 0, 1, 1)])
    return int(locate(idx, np.array([0.5]), np.array([0.5]))[0])


def test_kernels_run_in_forked_workers_after_the_parent_ran_them():
    """The import forks workers: a parent that has run a parallel kernel must not kill its children."""
    import multiprocessing
    import threading

    import numba

    assert numba.threading_layer() == "workqueue" or _child_locate(0) == 0
    assert _child_locate(0) == 0  # the parent runs the parallel kernel first
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map_async(_child_locate, range(4)).get(timeout=120) == [0, 0, 0, 0]
    # and threads (Streamlit sessions) may call kernels at once: the shared lock serialises them
    out = []
    ths = [threading.Thread(target=lambda: out.append(_child_locate(0))) for _ in range(4)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(60)
    assert out == [0, 0, 0, 0]
