"""Conversions between WGS-84, GCJ-02 and BD-09 longitude/latitude.

Chinese map data comes in three "coordinate systems" that are really one datum
(WGS-84) plus two deliberate, non-linear offsets:

* ``"wgs84"`` -- plain WGS-84 (EPSG:4326), GPS, OpenStreetMap.
* ``"gcj02"`` -- GCJ-02 ("Mars coordinates"), used by Amap/Gaode, Tencent and
  Google Maps inside China.  The forward formula is public; the inverse has no
  closed form and is computed here by fixed-point iteration to < 1e-9 degrees.
* ``"bd09"`` -- BD-09, Baidu's extra offset on top of GCJ-02.

Every function takes longitude first, then latitude (like GeoJSON and
shapely), accepts scalars or array-likes of the same shape, and returns a
``(lon, lat)`` tuple of the same kind: floats for scalar input, float64 numpy
arrays otherwise.  NaN stays NaN.  There are no Python loops over points.

Points outside China's bounding box (the ``out_of_china`` rule shared by
eviltransform, coordtransform and most other implementations) are passed
through unchanged by the GCJ-02 offset.  The BD-09 offset is a pure formula and
is applied everywhere, as in the published reference implementations.

Every GeoDataFrame that crosses a module boundary in Minqing Map is WGS-84;
:func:`to_wgs84` and :func:`geometry_to_wgs84` are the one place where data is
converted at import.
"""

from __future__ import annotations

import numpy as np
import shapely

from minqing.errors import CRSError

__all__ = [
    "CRS_NAMES",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geometry_to_wgs84",
    "is_out_of_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

#: Names accepted by :func:`to_wgs84` and :func:`geometry_to_wgs84`.
CRS_NAMES = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

# Convergence of the iterative inverses, in degrees (~0.01 mm).
_TOL = 1e-10
_MAX_ITER = 50


def is_out_of_china(lon, lat):
    """Return True where a point lies outside China's GCJ-02 bounding box.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees.

    Returns
    -------
    bool or numpy.ndarray of bool
        The standard rough rule: outside 72.004..137.8347 E, 0.8293..55.8271 N.
        NaN coordinates count as outside (and are therefore passed through).
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    out = _out_of_china(lon_a, lat_a)
    return bool(out) if scalar else out


def wgs84_to_gcj02(lon, lat):
    """Convert WGS-84 coordinates to GCJ-02.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 longitude and latitude in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02; points outside China are returned unchanged.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon_a, lat_a)
    keep = _out_of_china(lon_a, lat_a)
    out_lon = np.where(keep, lon_a, lon_a + dlon)
    out_lat = np.where(keep, lat_a, lat_a + dlat)
    return _finish(out_lon, out_lat, scalar)


def gcj02_to_wgs84(lon, lat):
    """Convert GCJ-02 coordinates to WGS-84 by iterating the forward formula.

    Starts from the usual one-step approximation and repeats
    ``wgs += gcj - wgs84_to_gcj02(wgs)`` until every point moves less than
    1e-10 degrees (in practice 3-4 rounds; the residual is far below 1 mm).

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS-84; points outside China are returned unchanged.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    keep = _out_of_china(lon_a, lat_a)
    dlon, dlat = _gcj_delta(lon_a, lat_a)
    w_lon, w_lat = _invert(_gcj_forward, lon_a, lat_a, lon_a - dlon, lat_a - dlat, skip=keep)
    out_lon = np.where(keep, lon_a, w_lon)
    out_lat = np.where(keep, lat_a, w_lat)
    return _finish(out_lon, out_lat, scalar)


def gcj02_to_bd09(lon, lat):
    """Convert GCJ-02 coordinates to BD-09 (Baidu).

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in BD-09.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    b_lon, b_lat = _bd_forward(lon_a, lat_a)
    return _finish(b_lon, b_lat, scalar)


def bd09_to_gcj02(lon, lat):
    """Convert BD-09 (Baidu) coordinates to GCJ-02.

    Uses the published closed-form inverse, then refines it by fixed-point
    iteration against :func:`gcj02_to_bd09` so that the round trip closes to
    better than 1e-10 degrees (the published formula alone leaves a residual of a
    few centimetres).

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02.
    """
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    x = lon_a - 0.0065
    y = lat_a - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    g_lon, g_lat = _invert(_bd_forward, lon_a, lat_a, z * np.cos(theta), z * np.sin(theta))
    return _finish(g_lon, g_lat, scalar)


def bd09_to_wgs84(lon, lat):
    """Convert BD-09 (Baidu) coordinates to WGS-84 (via GCJ-02).

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS-84.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon, lat):
    """Convert WGS-84 coordinates to BD-09 (Baidu) (via GCJ-02).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 longitude and latitude in degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in BD-09.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


_TO_WGS84 = {
    "wgs84": None,
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}


def to_wgs84(lon, lat, crs):
    """Convert coordinates given in ``crs`` to WGS-84.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees, in the system named by ``crs``.
    crs : {"wgs84", "gcj02", "bd09"}
        The system the input is in (case-insensitive; ``"wgs-84"``,
        ``"gcj-02"``, ``"bd-09"`` and ``"epsg:4326"`` are accepted too).

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS-84 (a copy of the input for ``"wgs84"``).

    Raises
    ------
    minqing.errors.CRSError
        If ``crs`` is not one of the allowed names.
    """
    func = _TO_WGS84[_check_crs(crs)]
    if func is None:
        lon_a, lat_a, scalar = _as_arrays(lon, lat)
        return _finish(lon_a.copy(), lat_a.copy(), scalar)
    return func(lon, lat)


def geometry_to_wgs84(geom, crs):
    """Convert shapely geometries (or a GeoSeries/GeoDataFrame) to WGS-84.

    Parameters
    ----------
    geom : shapely.Geometry, array_like of Geometry, GeoSeries or GeoDataFrame
        Geometries whose x/y are longitude/latitude in ``crs``.  A z
        coordinate, if present, is kept unchanged.
    crs : {"wgs84", "gcj02", "bd09"}
        The system the coordinates are in.

    Returns
    -------
    same kind as ``geom``
        Converted geometries.  A GeoSeries or GeoDataFrame comes back with
        its index and other columns intact and its CRS set to EPSG:4326.

    Raises
    ------
    minqing.errors.CRSError
        If ``crs`` is not one of the allowed names.
    """
    name = _check_crs(crs)

    def _convert(coords):
        out = np.array(coords, dtype="float64", copy=True)
        if len(out):
            out[:, 0], out[:, 1] = to_wgs84(out[:, 0], out[:, 1], name)
        return out

    try:  # geopandas is optional for this module
        import geopandas as gpd
    except ImportError:  # pragma: no cover
        gpd = None

    if gpd is not None and isinstance(geom, gpd.GeoDataFrame):
        out = geom.copy()
        out[geom.geometry.name] = geometry_to_wgs84(geom.geometry, name)
        return out.set_crs("EPSG:4326", allow_override=True)
    if gpd is not None and isinstance(geom, gpd.GeoSeries):
        values = shapely.transform(np.asarray(geom.values, dtype=object), _convert, include_z=None)
        return gpd.GeoSeries(values, index=geom.index, name=geom.name, crs="EPSG:4326")
    return shapely.transform(geom, _convert, include_z=None)


# --------------------------------------------------------------------------
# private helpers


def _check_crs(crs):
    key = str(crs).strip().lower().replace("-", "").replace("_", "") if crs is not None else ""
    key = {"epsg:4326": "wgs84", "wgs": "wgs84", "gcj": "gcj02", "bd": "bd09"}.get(key, key)
    if key not in CRS_NAMES:
        raise CRSError(
            f"Unknown coordinate system {crs!r}; allowed values are {', '.join(map(repr, CRS_NAMES))}. "
            "Name the system your coordinates are in (Amap/Gaode/Tencent: 'gcj02', Baidu: 'bd09', "
            "GPS/OpenStreetMap: 'wgs84').",
            key="error.crs",
            value=str(crs),
            allowed=", ".join(CRS_NAMES),
        )
    return key


def _as_arrays(lon, lat):
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon_a = np.asarray(lon, dtype="float64")
    lat_a = np.asarray(lat, dtype="float64")
    if lon_a.shape != lat_a.shape:
        lon_a, lat_a = np.broadcast_arrays(lon_a, lat_a)
    return lon_a, lat_a, scalar


def _finish(lon, lat, scalar):
    if scalar:
        return float(lon), float(lat)
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def _out_of_china(lon, lat):
    inside = (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)
    return np.asarray(~inside)


def _gcj_delta(lon, lat):
    """GCJ-02 offset (dlon, dlat) in degrees at WGS-84 point (lon, lat)."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
        + common
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
        + common
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _gcj_forward(lon, lat):
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _invert(forward, lon, lat, lon0, lat0, skip=None):
    """Solve ``forward(x) == (lon, lat)`` by fixed-point iteration from ``(lon0, lat0)``.

    Stops when every point (except those in ``skip``) moves less than ``_TOL`` degrees.
    """
    x_lon, x_lat = lon0, lat0
    for _ in range(_MAX_ITER):
        f_lon, f_lat = forward(x_lon, x_lat)
        err_lon, err_lat = f_lon - lon, f_lat - lat
        x_lon, x_lat = x_lon - err_lon, x_lat - err_lat
        err = np.asarray(np.fmax(np.abs(err_lon), np.abs(err_lat)))
        if not np.any(err[~skip] > _TOL if skip is not None else err > _TOL):
            break
    return x_lon, x_lat


def _bd_forward(lon, lat):
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006
