"""Link located tickets to their grid (and so community, sub-district, district), H3 cell and places.

A city may have only some of the levels: tickets link to the finest one loaded (see
:func:`unit_hierarchy`). An import links its tickets chunk by chunk: :func:`prepare_layers`
makes what does not depend on the tickets (the hierarchy, the polygon indexes) once, and
:func:`link_prepared` links each chunk with it.

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

from minqing.citytime import wall
from minqing.errors import GeodataError
from minqing.geo.h3cells import latlng_to_cells
from minqing.model import H3_RESOLUTION, LINK_COLUMNS


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


LEVELS = ("district", "subdistrict", "community", "grid")
"""The administrative levels, coarsest first."""


def unit_hierarchy(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the versions of the finest loaded level with the codes of every level above them.

    A city may load any subset of district / sub-district / community / grid:
    tickets link to the finest level there is, and through it to every coarser
    level that is loaded. A unit whose ``parent_code`` is missing or unknown gets
    the parent that contains it (its representative point, in a version valid at
    the same time) when the parent level is loaded; codes of levels not loaded
    stay empty.

    Parameters
    ----------
    units : GeoDataFrame
        All unit levels with ``unit_uid``, ``code``, ``level``, ``parent_code``,
        ``valid_from`` and ``valid_to`` (as returned by ``Store.read_units``).

    Returns
    -------
    GeoDataFrame
        One row per version of the finest level: ``unit_uid``, ``geometry``,
        ``valid_from``, ``valid_to``, ``level`` and ``grid_code``,
        ``community_code``, ``subdistrict_code``, ``district_code``.
    """
    need = {"unit_uid", "code", "level", "parent_code", "valid_from", "valid_to"}
    missing = need - set(units.columns)
    if missing:
        raise GeodataError(f"units are missing column(s) {sorted(missing)}", key="error.geodata_columns",
                           columns=", ".join(sorted(missing)))
    loaded = [lv for lv in LEVELS if (units["level"] == lv).any()]
    if not loaded:
        raise GeodataError("no units loaded: load at least one layer (grids, communities, sub-districts or a "
                           "district) before linking tickets", key="error.no_grids")
    parents = {lv: resolve_parents(units, lv, loaded) for lv in loaded[1:]}  # per version, index as units
    finest = loaded[-1]
    out = units[units["level"] == finest].copy()
    out[f"{finest}_code"] = out["code"]
    child = finest
    for lv in reversed(loaded[:-1]):
        if child == finest:
            out[f"{lv}_code"] = parents[finest].reindex(out.index)
        else:
            out[f"{lv}_code"] = out[f"{child}_code"].map(_code_parents(units, parents[child]))
        child = lv
    for lv in LEVELS:
        if f"{lv}_code" not in out.columns:
            out[f"{lv}_code"] = None
    return out.drop(columns=["code"]).reset_index(drop=True)


def resolve_parents(units: gpd.GeoDataFrame, level: str, loaded: list[str] | None = None) -> pd.Series:
    """Return each unit version's parent code at the next loaded coarser level (index as ``units``).

    The file's ``parent_code`` when it names a unit of that level; else the unit of that
    level containing the unit's representative point (preferring a version valid at the
    unit's ``valid_from``); None when there is no coarser level or nothing contains it.
    """
    loaded = loaded or [lv for lv in LEVELS if (units["level"] == lv).any()]
    rows = units[units["level"] == level]
    above = [lv for lv in loaded if LEVELS.index(lv) < LEVELS.index(level)]
    if not above:
        return pd.Series(None, index=rows.index, dtype=object)
    parent_level = above[-1]
    pool = units[units["level"] == parent_level].reset_index(drop=True)
    given = rows["parent_code"].where(rows["parent_code"].isin(set(pool["code"])))
    out = given.astype(object).where(given.notna(), None)
    todo = out.isna().to_numpy()
    if todo.any() and len(pool):
        pts = rows.geometry.values[todo]
        pts = shapely.point_on_surface(pts)
        row_i, pool_i = shapely.STRtree(pool.geometry.values).query(pts, predicate="intersects")
        vf = pd.to_datetime(pool["valid_from"]).to_numpy(dtype="datetime64[D]")
        vt = pd.to_datetime(pool["valid_to"].fillna("2262-01-01")).to_numpy(dtype="datetime64[D]")
        day = pd.to_datetime(rows["valid_from"]).to_numpy(dtype="datetime64[D]")[todo]
        valid = (vf[pool_i] <= day[row_i]) & (day[row_i] < vt[pool_i])
        # a version valid at the unit's start first, then any other; the first match per unit
        order = np.lexsort((pool_i, ~valid, row_i))
        row_i, pool_i = row_i[order], pool_i[order]
        first = np.ones(len(row_i), dtype=bool)
        first[1:] = row_i[1:] != row_i[:-1]
        found = np.full(int(todo.sum()), None, dtype=object)
        found[row_i[first]] = pool["code"].to_numpy(dtype=object)[pool_i[first]]
        values = out.to_numpy(dtype=object).copy()
        values[todo] = found
        out = pd.Series(values, index=rows.index, dtype=object)
    return out


def _code_parents(units: gpd.GeoDataFrame, parents: pd.Series) -> dict:
    """code -> parent code of one level: the latest version's parent that is known."""
    rows = units.loc[parents.index, ["code", "valid_from"]].assign(parent=parents.to_numpy())
    rows = rows[rows["parent"].notna()].sort_values("valid_from", kind="stable")
    return dict(zip(rows["code"], rows["parent"]))


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
    tz: str | None = None,
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
    tz : str, optional
        The city's time zone: a boundary version is valid from a local day. Default:
        the zone of ``received_at`` itself (naive times are local already).

    Returns
    -------
    LinkResult
    """
    _check_columns(tickets)
    return _link(tickets, prepare_layers(units, places), res, tz)


@dataclass(frozen=True)
class LinkLayers:
    """Units and places made ready for linking (what does not depend on the tickets), see :func:`prepare_layers`.

    Attributes
    ----------
    grids : GeoDataFrame
        :func:`unit_hierarchy` of the units.
    grid_index : PolygonIndex
        Their polygons indexed (:mod:`minqing.geo.pip_kernel`).
    places : GeoDataFrame or None
    place_index : PolygonIndex or None
        The places' footprints padded by 1 m, indexed.
    place_metric : tuple or None
        The places in metres and their reach (:func:`_metric_places`).
    """

    grids: gpd.GeoDataFrame
    grid_index: object
    places: gpd.GeoDataFrame | None = None
    place_index: object = None
    place_metric: tuple | None = None


def prepare_layers(units: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None = None) -> LinkLayers:
    """Prepare units and places once for linking many batches of tickets (:func:`link_prepared`).

    Parameters
    ----------
    units, places : GeoDataFrame
        As :func:`link_tickets` takes them.
    """
    from minqing.geo.pip_kernel import build_index

    grids = unit_hierarchy(units)
    if places is None or places.empty:
        return LinkLayers(grids, build_index(grids.geometry.values))
    return LinkLayers(grids, build_index(grids.geometry.values), places,
                      build_index(place_footprints(places, pad_m=1.0).values), _metric_places(places))


def link_prepared(tickets: pd.DataFrame, layers: LinkLayers, res: int = H3_RESOLUTION,
                  tz: str | None = None) -> LinkResult:
    """:func:`link_tickets` with the units and places prepared once (:func:`prepare_layers`)."""
    _check_columns(tickets)
    return _link(tickets, layers, res, tz)


def _check_columns(tickets: pd.DataFrame) -> None:
    for col in ("lon", "lat", "received_at"):
        if col not in tickets.columns:
            raise GeodataError(f"tickets need a {col!r} column to be linked", key="error.link_column", column=col)


def _link(tickets, layers: LinkLayers, res, tz=None) -> LinkResult:
    grids, places = layers.grids, layers.places
    lon = tickets["lon"].to_numpy(dtype="float64", na_value=np.nan)
    lat = tickets["lat"].to_numpy(dtype="float64", na_value=np.nan)
    located = np.isfinite(lon) & np.isfinite(lat)

    received = pd.to_datetime(tickets["received_at"])
    if tz is not None and received.dt.tz is not None:
        received = received.dt.tz_convert(tz)
    day = _local_days(received)
    grid_of = _grid_of(grids, lon, lat, day, layers.grid_index)
    row_idx = np.flatnonzero(grid_of >= 0)
    grid_idx = grid_of[row_idx]

    n = len(tickets)
    links = pd.DataFrame(index=tickets.index)
    uid = np.full(n, -1, dtype="int64")
    if len(grids) and (grids["level"] == "grid").all():  # the grid version; other levels have only codes
        uid[row_idx] = grids["unit_uid"].to_numpy(dtype="int64")[grid_idx]
    links["grid_uid"] = pd.array(np.where(uid >= 0, uid, 0), dtype="Int64")
    links.loc[uid < 0, "grid_uid"] = pd.NA
    for col in ("grid_code", "community_code", "subdistrict_code", "district_code"):
        # a take from the few codes (Arrow strings): no per-ticket conversion of a million Python objects
        codes = pd.array(grids[col].to_numpy(dtype=object), dtype="str")
        links[col] = pd.Series(codes.take(grid_of if len(codes) else np.full(n, -1), allow_fill=True),
                               index=tickets.index)
    cells = latlng_to_cells(lat, lon, res)
    links["h3_cell"] = pd.array(np.where(cells >= 0, cells, 0), dtype="Int64")
    links.loc[cells < 0, "h3_cell"] = pd.NA
    links = links[list(LINK_COLUMNS)]

    if places is None or places.empty:
        place_links = pd.DataFrame({"row": pd.Series([], dtype="int64"), "place_id": pd.Series([], dtype=object)})
    else:
        prow, pidx = _place_pairs(lon, lat, places, layers.place_index, layers.place_metric)
        place_links = pd.DataFrame({"row": prow.astype("int64"), "place_id": places["place_id"].to_numpy(dtype=object)[pidx]})
        place_links = place_links.sort_values(["row", "place_id"], ignore_index=True)
    return LinkResult(links=links, place_links=place_links)


def _grid_of(grids: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray, day: np.ndarray, index=None) -> np.ndarray:
    """The row of ``grids`` holding each point on its day, else -1 (:mod:`minqing.geo.pip_kernel`).

    A point inside a version valid that day, or on its edge, is in it; on a shared edge the
    version listed first wins, as with ``shapely.intersects`` and the first match. ``index``:
    the grids' polygons indexed already.
    """
    from minqing.geo.pip_kernel import build_index, locate

    vf = pd.to_datetime(grids["valid_from"]).to_numpy(dtype="datetime64[D]").astype(np.int64)
    vt = pd.to_datetime(grids["valid_to"].fillna("2262-01-01")).to_numpy(dtype="datetime64[D]").astype(np.int64)
    days = np.where(np.isnat(day), np.iinfo(np.int64).min // 2, day.astype("datetime64[D]").astype(np.int64))
    return locate(index if index is not None else build_index(grids.geometry.values), lon, lat, days, vf, vt)


def _place_pairs(lon: np.ndarray, lat: np.ndarray, places: gpd.GeoDataFrame,
                 index=None, metric=None) -> tuple[np.ndarray, np.ndarray]:
    """Return (point index, place index) of every point within a place's reach, exactly.

    Candidates come from footprints padded by 1 m (polygonal buffers cut the corners of true
    circles by a few centimetres) through the compiled index; the final test is the metric
    distance to the point or line, or containment in the compound, for the candidates only.
    ``index`` and ``metric``: those footprints indexed and :func:`_metric_places`, made already.
    """
    from minqing.geo.pip_kernel import build_index, locate_all

    if index is None:
        index = build_index(place_footprints(places, pad_m=1.0).values)
    prow, pidx = locate_all(index, lon, lat)
    if len(prow) == 0:
        return prow, pidx
    from pyproj import Transformer

    metric, dist = metric if metric is not None else _metric_places(places)
    mx, my = Transformer.from_crs(4326, metric.crs, always_xy=True).transform(lon[prow], lat[prow])
    mx, my = np.asarray(mx), np.asarray(my)
    is_point = shapely.get_type_id(metric.values) == 0
    ok = np.zeros(len(prow), dtype=bool)
    pt = is_point[pidx]
    if pt.any():  # a point place: the distance to its centre, no geometry needed
        c = shapely.get_coordinates(metric.values[is_point])
        cx, cy = np.zeros(len(metric)), np.zeros(len(metric))
        cx[is_point], cy[is_point] = c[:, 0], c[:, 1]
        ok[pt] = np.hypot(mx[pt] - cx[pidx[pt]], my[pt] - cy[pidx[pt]]) <= dist[pidx[pt]]
    other = ~pt
    if other.any():
        ok[other] = shapely.dwithin(metric.values[pidx[other]], shapely.points(mx[other], my[other]),
                                    dist[pidx[other]])
    return prow[ok], pidx[ok]


def _local_days(received) -> np.ndarray:
    local = wall(received)  # the city's days: the times' own zone (naive times are local already)
    return local.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def apply_links(tickets: pd.DataFrame, result: LinkResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return tickets with link columns filled and place links keyed by ``source_id``."""
    out = tickets.drop(columns=[c for c in LINK_COLUMNS if c in tickets.columns]).join(result.links)
    pl = result.place_links
    place_links = pd.DataFrame(
        {"source_id": tickets["source_id"].to_numpy(dtype=object)[pl["row"].to_numpy()], "place_id": pl["place_id"].to_numpy()}
    )
    return out, place_links
