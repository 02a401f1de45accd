"""Link located tickets to their grid (and so community, sub-district, district), H3 cell and places.

All steps are vectorised: an STRtree query for point-in-polygon, a validity
filter on time so a ticket links to the unit version valid when it was
received, bit arithmetic for H3 parents, and metric buffers computed in a
projected CRS for place footprints.
"""

from __future__ import annotations

import hashlib

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minqing.errors import GeodataError
from minqing.geo.h3cells import latlng_to_cells
from minqing.model import H3_RESOLUTION, LINK_COLUMNS, TIMEZONE


@dataclass(frozen=True)
class LinkResult:
    """What :func:`link_tickets` found.

    Attributes
    ----------
    links : DataFrame
        One row per input ticket, same index, columns ``model.LINK_COLUMNS``.
    place_links : DataFrame
        (row, place_id): ``row`` is the input's positional index; one row per
        ticket-place pair, a ticket may be in several places or none.
    """

    links: pd.DataFrame
    place_links: pd.DataFrame


def unit_hierarchy(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the grid versions with their community, sub-district and district codes.

    Parameters
    ----------
    units : GeoDataFrame
        All unit levels with ``unit_uid``, ``code``, ``level``, ``parent_code``,
        ``valid_from`` and ``valid_to`` (as returned by ``Store.read_units``).
    """
    need = {"unit_uid", "code", "level", "parent_code", "valid_from", "valid_to"}
    missing = need - set(units.columns)
    if missing:
        raise GeodataError(f"units are missing column(s) {sorted(missing)}", key="error.geodata_columns",
                           columns=", ".join(sorted(missing)))
    parent_of = {}
    for level in ("community", "subdistrict"):
        lv = units[units["level"] == level]
        parent_of[level] = dict(zip(lv["code"], lv["parent_code"]))
    grids = units[units["level"] == "grid"].copy()
    if grids.empty:
        raise GeodataError("no grid layer loaded: load grids before linking tickets", key="error.no_grids")
    grids["community_code"] = grids["parent_code"]
    grids["subdistrict_code"] = grids["community_code"].map(parent_of["community"])
    grids["district_code"] = grids["subdistrict_code"].map(parent_of["subdistrict"])
    orphans = grids[grids["subdistrict_code"].isna() | grids["district_code"].isna()]
    if len(orphans):
        raise GeodataError(
            f"{len(orphans)} grid(s) have no community/sub-district/district parent, e.g. {orphans['code'].iloc[0]}",
            key="error.orphan_units",
            count=len(orphans),
            example=str(orphans["code"].iloc[0]),
        )
    return grids.rename(columns={"code": "grid_code"}).reset_index(drop=True)


def place_footprints(places: gpd.GeoDataFrame, pad_m: float = 0.0) -> gpd.GeoSeries:
    """Return each place's footprint in EPSG:4326.

    A hospital entrance is its point buffered by ``radius_m``, a road stretch its
    line buffered by ``buffer_m``, a compound its polygon. Buffers are made in
    the local UTM zone so metres are metres.

    Parameters
    ----------
    places : GeoDataFrame
    pad_m : float
        Extra metres around every footprint (the linker uses a padded footprint
        to find candidates, then tests the exact distance).
    """
    if places.empty:
        return gpd.GeoSeries([], crs=4326)
    metric, dist = _metric_places(places)
    buffered = metric.buffer(dist + pad_m, quad_segs=8)
    if not pad_m:
        keep = dist == 0
        buffered[keep] = metric[keep]
    return gpd.GeoSeries(buffered.values, index=places.index, crs=metric.crs).to_crs(4326)


_METRIC_MEMO: dict = {}


def _metric_places(places: gpd.GeoDataFrame) -> tuple[gpd.GeoSeries, np.ndarray]:
    """Return the places' geometries in their UTM zone and each one's reach in metres (memoised by content)."""
    digest = hashlib.sha1(str(places.crs).encode())
    for wkb in shapely.to_wkb(places.geometry.values):
        digest.update(wkb)
    for col in ("radius_m", "buffer_m"):
        digest.update(pd.to_numeric(places.get(col, pd.Series(np.nan, index=places.index)), errors="coerce")
                      .to_numpy(dtype="float64").tobytes())
    key = digest.hexdigest()
    if key not in _METRIC_MEMO:
        if len(_METRIC_MEMO) > 8:
            _METRIC_MEMO.clear()
        _METRIC_MEMO[key] = _metric_places_uncached(places)
    metric, dist = _METRIC_MEMO[key]
    return metric.set_axis(places.index), dist


def _metric_places_uncached(places: gpd.GeoDataFrame) -> tuple[gpd.GeoSeries, np.ndarray]:
    metric = places.geometry.to_crs(places.estimate_utm_crs())
    kind = metric.geom_type
    dist = np.where(
        kind.isin(["Point", "MultiPoint"]),
        pd.to_numeric(places.get("radius_m"), errors="coerce").fillna(50.0),
        np.where(
            kind.isin(["LineString", "MultiLineString"]),
            pd.to_numeric(places.get("buffer_m"), errors="coerce").fillna(20.0),
            0.0,
        ),
    ).astype("float64")
    return metric, dist


def link_tickets(
    tickets: pd.DataFrame,
    units: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame | None = None,
    res: int = H3_RESOLUTION,
) -> LinkResult:
    """Link every located ticket to its grid version, H3 cell and places.

    Parameters
    ----------
    tickets : DataFrame
        With ``lon``, ``lat`` (WGS-84, NaN when unlocated) and ``received_at``.
    units : GeoDataFrame
        All unit levels (see :func:`unit_hierarchy`).
    places : GeoDataFrame, optional
        Places with ``place_id``, ``kind``, ``radius_m``, ``buffer_m``.
    res : int
        H3 resolution stored with the ticket.

    Returns
    -------
    LinkResult
    """
    for col in ("lon", "lat", "received_at"):
        if col not in tickets.columns:
            raise GeodataError(f"tickets need a {col!r} column to be linked", key="error.link_column", column=col)
    grids = unit_hierarchy(units)
    return _link(tickets, grids, places, res)


def _link(tickets, grids, places, res) -> LinkResult:
    lon = tickets["lon"].to_numpy(dtype="float64", na_value=np.nan)
    lat = tickets["lat"].to_numpy(dtype="float64", na_value=np.nan)
    located = np.isfinite(lon) & np.isfinite(lat)
    pts = shapely.points(np.where(located, lon, 0.0), np.where(located, lat, 0.0))
    pts[~located] = None

    day = _local_days(tickets["received_at"])
    row_idx, grid_idx = shapely.STRtree(grids.geometry.values).query(pts, predicate="intersects")
    vf = pd.to_datetime(grids["valid_from"]).to_numpy(dtype="datetime64[D]")
    vt = pd.to_datetime(grids["valid_to"].fillna("2262-01-01")).to_numpy(dtype="datetime64[D]")
    ok = (vf[grid_idx] <= day[row_idx]) & (day[row_idx] < vt[grid_idx])
    row_idx, grid_idx = row_idx[ok], grid_idx[ok]
    # A point on a shared edge matches two grids: keep the first, deterministically.
    order = np.lexsort((grid_idx, row_idx))
    row_idx, grid_idx = row_idx[order], grid_idx[order]
    first = np.ones(len(row_idx), dtype=bool)
    first[1:] = row_idx[1:] != row_idx[:-1]
    row_idx, grid_idx = row_idx[first], grid_idx[first]

    n = len(tickets)
    links = pd.DataFrame(index=tickets.index)
    uid = np.full(n, -1, dtype="int64")
    uid[row_idx] = grids["unit_uid"].to_numpy(dtype="int64")[grid_idx]
    links["grid_uid"] = pd.array(np.where(uid >= 0, uid, 0), dtype="Int64")
    links.loc[uid < 0, "grid_uid"] = pd.NA
    for col in ("grid_code", "community_code", "subdistrict_code", "district_code"):
        values = np.full(n, None, dtype=object)
        values[row_idx] = grids[col].to_numpy(dtype=object)[grid_idx]
        links[col] = values
    cells = latlng_to_cells(lat, lon, res)
    links["h3_cell"] = pd.array(np.where(cells >= 0, cells, 0), dtype="Int64")
    links.loc[cells < 0, "h3_cell"] = pd.NA
    links = links[list(LINK_COLUMNS)]

    if places is None or places.empty:
        place_links = pd.DataFrame({"row": pd.Series([], dtype="int64"), "place_id": pd.Series([], dtype=object)})
    else:
        prow, pidx = _place_pairs(pts, places)
        place_links = pd.DataFrame({"row": prow.astype("int64"), "place_id": places["place_id"].to_numpy(dtype=object)[pidx]})
        place_links = place_links.sort_values(["row", "place_id"], ignore_index=True)
    return LinkResult(links=links, place_links=place_links)


def _place_pairs(pts: np.ndarray, places: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return (point index, place index) of every point within a place's reach, exactly.

    Candidates come from footprints padded by 1 m (polygonal buffers cut the
    corners of true circles by a few centimetres); the final test is the
    metric distance to the point or line, or containment in the compound.
    """
    prow, pidx = shapely.STRtree(place_footprints(places, pad_m=1.0).values).query(pts, predicate="intersects")
    if len(prow) == 0:
        return prow, pidx
    metric, dist = _metric_places(places)
    cand = gpd.GeoSeries(pts[prow], crs=4326).to_crs(metric.crs).values
    geoms = metric.values[pidx]
    ok = shapely.dwithin(geoms, cand, dist[pidx])
    return prow[ok], pidx[ok]


def _local_days(received) -> np.ndarray:
    s = pd.to_datetime(received)
    if s.dt.tz is None:
        s = s.dt.tz_localize(TIMEZONE)
    local = s.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    return local.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def apply_links(tickets: pd.DataFrame, result: LinkResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return tickets with link columns filled and place links keyed by ``source_id``."""
    out = tickets.drop(columns=[c for c in LINK_COLUMNS if c in tickets.columns]).join(result.links)
    pl = result.place_links
    place_links = pd.DataFrame(
        {"source_id": tickets["source_id"].to_numpy(dtype=object)[pl["row"].to_numpy()], "place_id": pl["place_id"].to_numpy()}
    )
    return out, place_links
