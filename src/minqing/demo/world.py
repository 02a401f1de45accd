"""The demo city's geometry: grid versions, places and their footprints, for vectorised sampling.

:class:`World` holds the grid layer (every version of every grid, with its
sub-district and predecessor) and the places layer (in metres, with the
footprints tickets are sampled in), and draws points inside them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from minqing.errors import GeodataError

METRIC_CRS = "EPSG:32651"
"""UTM zone 51N: metres for Shanghai."""


def _to_seconds(values, default: int) -> np.ndarray:
    """Epoch seconds of the dates in ``values`` (first ten characters); ``default`` where missing."""
    ts = pd.to_datetime(pd.Series(values, dtype=object).map(lambda v: None if v is None or pd.isna(v) else str(v)[:10]),
                        errors="coerce")
    out = ts.values.astype("datetime64[s]").astype(np.int64)
    out[ts.isna().to_numpy()] = default
    return out


class World:
    """Grid versions, places and footprints, prepared for vectorised sampling."""

    LOW = np.iinfo(np.int64).min // 2
    HIGH = np.iinfo(np.int64).max // 2

    def __init__(self, units: gpd.GeoDataFrame, places: gpd.GeoDataFrame):
        units = units.reset_index(drop=True)
        self.to_metric = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
        self.to_wgs = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
        grids = units[units["level"] == "grid"]
        order = np.lexsort((_to_seconds(grids["valid_from"], self.LOW), grids["code"].astype(str).to_numpy()))
        grids = grids.iloc[order].reset_index(drop=True)  # independent of the input's row order
        self.g_code = grids["code"].astype(str).to_numpy(dtype=object)
        self.g_vf = _to_seconds(grids["valid_from"], self.LOW)
        self.g_vt = _to_seconds(grids["valid_to"], self.HIGH)
        self.g_vf_str = np.array([None if v is None or pd.isna(v) else str(v)[:10] for v in grids["valid_from"]],
                                 dtype=object)
        self.g_geom = np.asarray(grids.geometry.values, dtype=object)
        shapely.prepare(self.g_geom)
        self.g_bounds = shapely.bounds(self.g_geom)
        pop = pd.to_numeric(grids["population"], errors="coerce").to_numpy(dtype=float)
        pop[~np.isfinite(pop) | (pop <= 0)] = np.nan
        fill = np.nanmedian(pop) if np.isfinite(pop).any() else 1000.0
        self.g_pop = np.where(np.isnan(pop), fill, pop)
        self.g_current = self.g_vt >= self.HIGH
        self.g_sd = self._grid_subdistricts(units, grids)
        self.tree = shapely.STRtree(self.g_geom)
        self.g_pred = self._predecessors()
        sds = units[units["level"] == "subdistrict"]
        self.sd_name = dict(zip(sds["code"].astype(str), sds["name"].astype(str))) if "name" in sds else {}
        # Places and their footprints (metres).
        order = np.argsort(places["place_id"].astype(str).to_numpy(), kind="stable")  # story rules use this order
        places = places.iloc[order].reset_index(drop=True)
        self.p_id = places["place_id"].astype(str).to_numpy(dtype=object)
        self.p_kind = places["kind"].astype(str).to_numpy(dtype=object)
        self.p_name = places["name"].astype(str).to_numpy(dtype=object)
        aliases = places["aliases"] if "aliases" in places else pd.Series([None] * len(places))
        self.p_alias = [[a for a in str(v).split("|") if a.strip()] if isinstance(v, str) else [] for v in aliases]
        metric = places.to_crs(METRIC_CRS)
        self.p_metric = np.asarray(metric.geometry.values, dtype=object)
        nan = pd.Series(np.nan, index=places.index)
        radius = pd.to_numeric(places.get("radius_m", nan), errors="coerce").fillna(80.0).to_numpy(dtype=float)
        buffer = pd.to_numeric(places.get("buffer_m", nan), errors="coerce").fillna(25.0).to_numpy(dtype=float)
        types = shapely.get_type_id(self.p_metric)  # 0 point, 1 line, 3 polygon, 4.. multi
        dist = np.where(np.isin(types, (0, 4)), radius, np.where(np.isin(types, (1, 5)), buffer, 0.0))
        fps = [g.buffer(d, quad_segs=16) if d > 0 else g for g, d in zip(self.p_metric, dist)]
        self.footprints = list(fps)  # grows with story footprints
        self.p_radius, self.p_buffer = radius, buffer
        sd_col = places["subdistrict_code"] if "subdistrict_code" in places else pd.Series([None] * len(places))
        sd = np.array([None if v is None or pd.isna(v) else str(v) for v in sd_col], dtype=object)
        rep = shapely.get_coordinates(places.geometry.representative_point().values)
        if len(rep):
            v = self.lookup(rep[:, 0], rep[:, 1], np.zeros(len(rep), dtype=np.int64) + self.HIGH - 1)
            guess = np.where(v >= 0, self.g_sd[np.clip(v, 0, None)], "")
            sd = np.where(pd.isna(sd), guess, sd)
        self.p_sd = sd.astype(object)

    def _grid_subdistricts(self, units, grids) -> np.ndarray:
        info = {}
        for lvl, code, parent in zip(units["level"], units["code"].astype(str), units["parent_code"]):
            if lvl != "grid":
                info[code] = (lvl, None if parent is None or pd.isna(parent) else str(parent))
        out = []
        for parent in grids["parent_code"]:
            code = None if parent is None or pd.isna(parent) else str(parent)
            found = ""
            for _ in range(4):
                if code is None or code not in info:
                    break
                lvl, up = info[code]
                if lvl == "subdistrict":
                    found = code
                    break
                code = up
            out.append(found)
        out = np.array(out, dtype=object)
        if (out == "").any():  # fall back on space
            sds = units[units["level"] == "subdistrict"]
            if len(sds):
                pts = shapely.point_on_surface(np.asarray(grids.geometry.values, dtype=object))
                tree = shapely.STRtree(np.asarray(sds.geometry.values, dtype=object))
                inp, idx = tree.query(pts, predicate="within")
                codes = sds["code"].astype(str).to_numpy(dtype=object)
                for i, j in zip(inp, idx):
                    if out[i] == "":
                        out[i] = codes[j]
        return out

    def _predecessors(self) -> np.ndarray:
        pred = np.full(len(self.g_code), -1)
        for i in np.flatnonzero(self.g_vf > self.LOW):
            cand = np.flatnonzero(self.g_vt == self.g_vf[i])
            if not len(cand):
                continue
            area = shapely.area(shapely.intersection(self.g_geom[cand], self.g_geom[i]))
            if area.max() > 0:
                pred[i] = cand[int(np.argmax(area))]
        return pred

    def lookup(self, lon, lat, t) -> np.ndarray:
        """Index of the grid version containing each point and valid at ``t`` (-1 if none)."""
        out = np.full(len(lon), -1)
        if not len(lon):
            return out
        inp, idx = self.tree.query(shapely.points(lon, lat), predicate="within")
        ok = (self.g_vf[idx] <= t[inp]) & (t[inp] < self.g_vt[idx])
        inp, idx = inp[ok], idx[ok]
        order = np.lexsort((idx, inp))
        inp, idx = inp[order], idx[order]
        u, first = np.unique(inp, return_index=True)
        out[u] = idx[first]
        return out

    def version_at(self, grid: np.ndarray, t: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """Map current grids to the version valid at ``t``; times before a grid existed are moved."""
        ver, t = grid.copy(), t.copy()
        for _ in range(8):
            early = t < self.g_vf[ver]
            if not early.any():
                break
            p = self.g_pred[ver[early]]
            idx = np.flatnonzero(early)
            has = p >= 0
            ver[idx[has]] = p[has]
            move = idx[~has]
            if len(move):
                span = np.maximum(self.HIGH - self.g_vf[ver[move]], 1)
                t[move] = self.g_vf[ver[move]] + rng.integers(0, np.minimum(span, 30 * 86400))
        return ver, t

    def sample_in_grids(self, ver: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """Uniform points (lon, lat) inside each ticket's grid version (rejection sampling)."""
        n = len(ver)
        lon, lat = np.empty(n), np.empty(n)
        todo = np.arange(n)
        for _ in range(500):
            if not len(todo):
                break
            b = self.g_bounds[ver[todo]]
            x = b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0])
            y = b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1])
            ok = shapely.contains_xy(self.g_geom[ver[todo]], x, y)
            lon[todo[ok]], lat[todo[ok]] = x[ok], y[ok]
            todo = todo[~ok]
        if len(todo):
            raise GeodataError(f"could not sample a point inside grid {self.g_code[ver[todo[0]]]}; is it empty?",
                               key="error.geodata")
        return lon, lat

    def sample_in_footprints(self, fp: np.ndarray, t: np.ndarray, rng):
        """Uniform points in each ticket's footprint (metres) that also lie in a grid valid at ``t``."""
        n = len(fp)
        lon, lat, ver = np.empty(n), np.empty(n), np.full(n, -1)
        geoms = np.asarray(self.footprints, dtype=object)
        shapely.prepare(geoms)
        bounds = shapely.bounds(geoms)
        todo = np.arange(n)
        for _ in range(2000):
            if not len(todo):
                break
            b = bounds[fp[todo]]
            x = b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0])
            y = b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1])
            inside = shapely.contains_xy(geoms[fp[todo]], x, y)
            cand = todo[inside]
            lo, la = self.to_wgs.transform(x[inside], y[inside])
            v = self.lookup(lo, la, t[cand])
            good = v >= 0
            lon[cand[good]], lat[cand[good]], ver[cand[good]] = lo[good], la[good], v[good]
            todo = todo[ver[todo] < 0]
        if len(todo):
            i = fp[todo[0]]
            what = f"place {self.p_id[i]}" if i < len(self.p_id) else f"story footprint {i}"
            raise GeodataError(f"{what} does not overlap any grid valid at the ticket's time; "
                               "check that the places lie inside the grid layer", key="error.geodata")
        return lon, lat, ver


def office(sd_name: str) -> str:
    """The office of a sub-district (街道办事处, or 人民政府 of a 镇) from its name."""
    if sd_name.endswith("镇"):
        return sd_name + "人民政府"
    return sd_name + "办事处" if sd_name.endswith("街道") else sd_name + "街道办事处"
