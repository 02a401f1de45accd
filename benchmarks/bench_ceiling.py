"""Linking at the machine's ceiling: the project's path next to the reference path, in one process.

Run: .venv/bin/python benchmarks/bench_ceiling.py [--points 1000000] [--repeat 5]

1,000,000 points of the demo city (the demo store's tickets, repeated; received times
across the grid split of 2025-07-01), the demo's 357 grid versions and its places. Prints
the median of ``--repeat`` runs (after one warm-up) of:

- ``link_tickets(places=None)``: grid versions, every area level, H3 res 10;
- ``link_tickets(places)``: the same and the places (radius, road buffers, compounds);
- the grid part alone (:func:`minqing.geo.link._grid_of`) against ``geopandas.sjoin``
  (intersects, then the lowest index valid that day: the rule the kernel follows), with the
  number of points where the two disagree;
- H3 res 10 (h3ronpy on threads) against h3-py point by point;
and the peak memory of the process (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

import geopandas as gpd
import h3.api.numpy_int as h3n
import numpy as np
import pandas as pd

from minqing.config import geodata_dir
from minqing.geo.h3cells import latlng_to_cells
from minqing.geo.layers import read_places, read_units
from minqing.geo.link import _grid_of, link_tickets, unit_hierarchy


def points(n: int, seed: int = 0) -> pd.DataFrame:
    """Demo-city points: grid centroids jittered by ~600 m, times over 2024-2026."""
    units = read_units(geodata_dir())
    g = units[units["level"] == "grid"]
    c = g.geometry.representative_point()
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(g), n)
    lon = c.x.to_numpy()[pick] + rng.normal(0, 0.006, n)
    lat = c.y.to_numpy()[pick] + rng.normal(0, 0.005, n)
    t0 = pd.Timestamp("2024-11-01", tz="Asia/Shanghai").value
    t1 = pd.Timestamp("2026-10-31", tz="Asia/Shanghai").value
    received = pd.to_datetime(rng.integers(t0, t1, n)).tz_localize("UTC").tz_convert("Asia/Shanghai")
    return pd.DataFrame({"lon": lon, "lat": lat, "received_at": received})


def timed(f, repeat: int) -> float:
    f()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return round(statistics.median(out), 3)


def peak_gib() -> float:
    return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    units, places = read_units(geodata_dir()), read_places(geodata_dir())
    units = units.assign(unit_uid=np.arange(1, len(units) + 1))
    tk = points(args.points)
    grids = unit_hierarchy(units)
    lon, lat = tk["lon"].to_numpy(), tk["lat"].to_numpy()
    day = tk["received_at"].dt.tz_localize(None).to_numpy().astype("datetime64[D]")
    out = {"points": args.points, "grid_versions": int(len(grids)), "places": int(len(places))}
    out["link_no_places_s"] = timed(lambda: link_tickets(tk, units, None), args.repeat)
    out["link_with_places_s"] = timed(lambda: link_tickets(tk, units, places), args.repeat)
    out["grid_kernel_s"] = timed(lambda: _grid_of(grids, lon, lat, day), args.repeat)

    vf = pd.to_datetime(grids["valid_from"]).to_numpy(dtype="datetime64[D]")
    vt = pd.to_datetime(grids["valid_to"].fillna("2262-01-01")).to_numpy(dtype="datetime64[D]")
    pts = gpd.GeoDataFrame({"i": np.arange(len(tk))}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    poly = gpd.GeoDataFrame({"g": np.arange(len(grids))}, geometry=grids.geometry.values, crs=4326)

    def sjoin():
        j = gpd.sjoin(pts, poly, predicate="intersects", how="inner")
        r, g = j["i"].to_numpy(), j["g"].to_numpy()
        ok = (vf[g] <= day[r]) & (day[r] < vt[g])
        r, g = r[ok], g[ok]
        o = np.lexsort((g, r))
        r, g = r[o], g[o]
        first = np.ones(len(r), bool)
        first[1:] = r[1:] != r[:-1]
        res = np.full(len(tk), -1)
        res[r[first]] = g[first]
        return res

    out["sjoin_s"] = timed(sjoin, max(1, args.repeat // 2))
    out["grid_disagreements_with_sjoin"] = int((sjoin() != _grid_of(grids, lon, lat, day)).sum())
    out["grid_ratio_sjoin_over_kernel"] = round(out["sjoin_s"] / out["grid_kernel_s"], 1)
    out["h3_s"] = timed(lambda: latlng_to_cells(lat, lon, 10), args.repeat)

    def h3py():
        f = h3n.latlng_to_cell
        return np.fromiter((f(a, b, 10) for a, b in zip(lat.tolist(), lon.tolist())), dtype="uint64", count=len(lat))

    out["h3py_s"] = timed(h3py, 1)
    out["peak_gib"] = round(peak_gib(), 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
