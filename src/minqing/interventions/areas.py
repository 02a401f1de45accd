"""The areas of an intervention's evaluation: its targets, their spillover ring and the control units.

Targets are places (their polygon, or a buffer of their point), grids or H3
cells; geometry is worked in metres (UTM zone 51N, :data:`METRIC_CRS`). The
spillover ring is the band of ``ring_m`` metres around the targets.

Control rule (stated in the UI): untreated units of the same kind as the
targets (places, grids or H3 cells; never a unit any intervention targets),
wholly outside the spillover ring, with at least one problem ticket before;
ranked by |log((b_c + 1) / (b_t + 1))| + (1 - cosine similarity of the category
mix), where b is the before-window problem count per unit; the best
max(5, number of targets) are pooled.
"""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from minqing.interventions.registry import Intervention
from minqing.model import category_at_level

__all__ = ["METRIC_CRS"]

METRIC_CRS = "EPSG:32651"
"""The metric CRS of the areas (UTM zone 51N, metres)."""


def _metric_xy(tk: pd.DataFrame) -> np.ndarray:
    lon = tk["lon"].to_numpy(float)
    lat = tk["lat"].to_numpy(float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    out = np.full((len(tk), 2), np.nan)
    if ok.any():
        from pyproj import Transformer

        x, y = Transformer.from_crs(4326, METRIC_CRS, always_xy=True).transform(lon[ok], lat[ok])
        out[ok, 0], out[ok, 1] = x, y
    return out


def _cell_int(cell: str) -> int:
    s = str(cell)
    return int(s) if s.isdigit() else h3.str_to_int(s)


def _targets(iv: Intervention, kind: str) -> list[str]:
    return [b for a, b in iv.targets if a == kind]


def _treated_mask(iv: Intervention, tk: pd.DataFrame, links: pd.DataFrame) -> np.ndarray:
    mask = np.zeros(len(tk), bool)
    pl = _targets(iv, "place")
    if pl:
        mask[links.loc[links["place_id"].isin(pl), "row"].to_numpy()] = True
    gr = _targets(iv, "grid")
    if gr:
        mask |= tk["grid_code"].isin(gr).to_numpy()
    cells = [_cell_int(c) for c in _targets(iv, "cell")]
    if cells:
        mask |= _in_cells(tk["h3_cell"], cells)
    return mask


def _in_cells(ticket_cells: pd.Series, cells: list[int]) -> np.ndarray:
    arr = ticket_cells.to_numpy(dtype="int64", na_value=-1)  # the store's <NA>: no cell
    mask = np.zeros(len(arr), bool)
    uniq = np.unique(arr[arr > 0])
    for res in {h3.api.basic_int.get_resolution(c) for c in cells}:
        parents = np.array([h3.api.basic_int.cell_to_parent(int(u), res) for u in uniq], dtype="int64")
        hit = uniq[np.isin(parents, [c for c in cells if h3.api.basic_int.get_resolution(c) == res])]
        mask |= np.isin(arr, hit)
    return mask


def _place_geoms(places: gpd.GeoDataFrame) -> gpd.GeoSeries:
    m = places.to_crs(METRIC_CRS)
    width = m["radius_m"].fillna(m["buffer_m"]).fillna(0).astype(float).clip(lower=1)
    geom = m.geometry.copy()
    pts = ~m.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    geom[pts] = m.geometry[pts].buffer(width[pts])
    return gpd.GeoSeries(geom.values, index=places["place_id"].astype(str).values, crs=METRIC_CRS)


def _target_geometry(iv: Intervention, places, grids):
    parts = []
    pl = _targets(iv, "place")
    if pl:
        g = _place_geoms(places[places["place_id"].astype(str).isin(pl)])
        parts += list(g.values)
    gr = _targets(iv, "grid")
    if gr:
        parts += list(grids[grids["code"].isin(gr)].to_crs(METRIC_CRS).geometry.values)
    for c in _targets(iv, "cell"):
        ring = h3.cell_to_boundary(h3.int_to_str(_cell_int(c)))
        poly = shapely.Polygon([(lng, lat) for lat, lng in ring])
        parts.append(gpd.GeoSeries([poly], crs=4326).to_crs(METRIC_CRS).iloc[0])
    if not parts:
        return shapely.Polygon()
    return shapely.union_all(parts)


def _in_ring(ring_geom, tk: pd.DataFrame, treated: np.ndarray) -> np.ndarray:
    """Tickets inside the spillover ring (metric coordinates ``mx``, ``my``), the treated ones left out."""
    mx, my = tk["mx"].to_numpy(), tk["my"].to_numpy()
    in_ring = np.zeros(len(tk), bool)
    if not ring_geom.is_empty:
        x0, y0, x1, y1 = ring_geom.bounds
        near = np.flatnonzero((mx >= x0) & (mx <= x1) & (my >= y0) & (my <= y1))
        in_ring[near] = shapely.contains_xy(ring_geom, mx[near], my[near])
        in_ring &= ~treated
    return in_ring


def _mix(keys: pd.Series, cats: pd.Series, levels) -> pd.DataFrame:
    return pd.crosstab(keys, cats).reindex(columns=levels, fill_value=0)


def _controls(iv, all_targets, tk, links, base_before, treated, target_geom, ring_m, places, grids, cats):
    """Pick the controls; return (type, table, ticket mask)."""
    ctype = "place" if _targets(iv, "place") else "grid" if _targets(iv, "grid") else "cell"
    n_targets = max(1, len(_targets(iv, ctype)))
    k = max(5, n_targets)
    cat_key = tk["category"] if cats else tk["category"].map(lambda c: category_at_level(c, 1))
    levels = list(cats) if cats else sorted(cat_key.unique())
    zone = target_geom.buffer(ring_m)
    taken = set(all_targets.loc[all_targets["target_type"] == ctype, "target_id"].astype(str))

    if ctype == "place":
        geoms = _place_geoms(places)
        cand = [p for p in geoms.index if p not in taken and not geoms[p].intersects(zone)]
        names = dict(zip(places["place_id"].astype(str), places["name"]))
        lk = links[links["place_id"].isin(cand)]
        rows, unit = lk["row"].to_numpy(), lk["place_id"].to_numpy()
    elif ctype == "grid":
        gm = grids.to_crs(METRIC_CRS)
        cand = [c for c, g in zip(gm["code"], gm.geometry) if c not in taken and not g.intersects(zone)]
        names = dict(zip(grids["code"], grids["name"]))
        rows = np.flatnonzero(tk["grid_code"].isin(cand).to_numpy())
        unit = tk["grid_code"].to_numpy()[rows]
    else:
        res = h3.api.basic_int.get_resolution(_cell_int(_targets(iv, "cell")[0]))
        cells = tk["h3_cell"].to_numpy(dtype="int64", na_value=-1)  # the store's <NA>: no cell
        uniq = np.unique(cells[cells > 0])
        parent = dict(zip(uniq, (h3.api.basic_int.cell_to_parent(int(u), res) for u in uniq)))
        rows = np.flatnonzero(cells > 0)
        unit_int = np.array([parent[c] for c in cells[rows]], dtype="int64")
        treated_cells = {_cell_int(c) for c in _targets(iv, "cell")} | {_cell_int(t) for t in taken if t}
        centre = {u: shapely.Point(h3.cell_to_latlng(h3.int_to_str(int(u)))[::-1]) for u in np.unique(unit_int)}
        cg = gpd.GeoSeries(list(centre.values()), index=list(centre.keys()), crs=4326).to_crs(METRIC_CRS)
        cand = [u for u, g in cg.items() if u not in treated_cells and not g.within(zone)]
        unit = np.array([h3.int_to_str(int(u)) for u in unit_int], dtype=object)
        cand = [h3.int_to_str(int(u)) for u in cand]
        names = {c: c for c in cand}

    sel = base_before[rows] & ~treated[rows]
    before_units = pd.Series(unit[sel])
    b_t = float((base_before & treated).sum()) / n_targets
    mix_t = _mix(pd.Series(np.zeros((base_before & treated).sum(), int)), cat_key[base_before & treated].reset_index(drop=True), levels).sum()
    if before_units.empty:
        return ctype, _empty_controls(), np.zeros(len(tk), bool)
    mix_c = _mix(before_units, cat_key.to_numpy()[rows[sel]], levels) if len(levels) else None
    mix_c = mix_c.loc[mix_c.index.isin(cand)]
    baseline = mix_c.sum(axis=1)
    mc = mix_c.to_numpy(float)
    mt = mix_t.reindex(levels, fill_value=0).to_numpy(float)
    cos = (mc @ mt) / np.maximum(np.linalg.norm(mc, axis=1) * max(np.linalg.norm(mt), 1e-12), 1e-12)
    score = np.abs(np.log((baseline.to_numpy() + 1) / (b_t + 1))) + (1 - cos)
    table = pd.DataFrame({"unit_type": ctype, "unit_id": baseline.index.astype(str),
                          "name": [str(names.get(u, u)) for u in baseline.index],
                          "baseline": baseline.to_numpy().astype(int), "score": score})
    table = table[table["baseline"] >= 1].sort_values(["score", "unit_id"]).head(k).reset_index(drop=True)
    chosen = set(table["unit_id"])
    mask = np.zeros(len(tk), bool)
    mask[rows[np.isin(unit.astype(str), list(chosen)) & ~treated[rows]]] = True
    return ctype, table, mask


def _empty_controls() -> pd.DataFrame:
    return pd.DataFrame({"unit_type": pd.Series(dtype=str), "unit_id": pd.Series(dtype=str),
                         "name": pd.Series(dtype=str), "baseline": pd.Series(dtype="int64"),
                         "score": pd.Series(dtype=float)})
