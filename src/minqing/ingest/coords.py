"""Coordinates from an export: numbers, swapped axes, coordinate systems, the region check.

Conversion to WGS-84 goes through :func:`minqing.geo.crs.to_wgs84` (the
sub-metre iterative inverse); nothing is re-implemented here.
"""

from __future__ import annotations

import re

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minqing.geo.crs import CRS_NAMES, to_wgs84
from minqing.ingest.aliases import CRS_ALIASES, norm_header

DEFAULT_REGION_BUFFER_M = 500.0


@dataclass(frozen=True)
class Coordinates:
    """Cleaned WGS-84 coordinates of a batch of rows.

    Attributes
    ----------
    lon, lat : ndarray of float
        WGS-84 degrees; NaN where the row has no usable point.
    reason : ndarray of object
        Quarantine reason code per row (``zero_coordinates``, ``outside_region``,
        ``bad_crs``) or None.
    swapped : ndarray of bool
        Rows whose longitude and latitude were swapped (and fixed).
    invalid : ndarray of bool
        Rows whose coordinates were given but are not finite numbers.
    """

    lon: np.ndarray
    lat: np.ndarray
    reason: np.ndarray
    swapped: np.ndarray
    invalid: np.ndarray


def region_from_units(units: gpd.GeoDataFrame | None, buffer_m: float = DEFAULT_REGION_BUFFER_M):
    """Return the (prepared) area a point must fall in: the loaded units, buffered; None when none are loaded."""
    if units is None or len(units) == 0:
        return None
    top = units
    if "level" in units.columns:  # the coarsest level loaded (a city may have no district layer)
        for level in ("district", "subdistrict", "community", "grid"):
            if (units["level"] == level).any():
                top = units[units["level"] == level]
                break
    geom = shapely.union_all(shapely.make_valid(top.geometry.values))
    # A detailed outline (tens of thousands of vertices) makes buffering slow; simplified by a tenth
    # of the buffer first and buffered by that much more, the area still holds every point it held.
    dist = float(buffer_m) / 111_000.0
    geom = shapely.simplify(geom, dist / 10, preserve_topology=False)
    geom = shapely.buffer(shapely.make_valid(geom), dist * 1.1, quad_segs=4)
    shapely.prepare(geom)
    return geom


def normalise_crs(values, default: str = "wgs84") -> tuple[np.ndarray, np.ndarray]:
    """Return (crs code per row, unknown mask) from a raw 坐标系 column; blanks take ``default``.

    A ``str`` Series is read per distinct value (a handful per file), given back to every row.
    """
    if _is_str(values):
        rows, uniq = pd.factorize(values, use_na_sentinel=False)
        codes, unknown = _crs_codes(pd.Series(list(uniq), dtype=object), default)
        return codes[rows], unknown[rows]
    return _crs_codes(pd.Series(values, dtype=object), default)


def _is_str(values) -> bool:
    return isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype)


def _crs_codes(s: pd.Series, default: str) -> tuple[np.ndarray, np.ndarray]:
    blank = s.isna() | (s.astype(str).str.strip() == "")
    text = s.astype(str)
    lookup = {}
    for raw in pd.unique(text.to_numpy(dtype=object)):  # a handful of distinct values per file
        k = norm_header(raw)
        lookup[raw] = CRS_ALIASES.get(k, CRS_ALIASES.get(k.replace("坐标", "").replace("系", "")))
    codes = text.map(lookup).astype(object)
    codes = codes.where(~blank, default)
    unknown = codes.isna().to_numpy(dtype=bool)
    return codes.fillna(default).to_numpy(dtype=object), unknown


def clean_coordinates(lon, lat, crs, region=None) -> Coordinates:
    """Read, unswap, convert to WGS-84 and region-check a batch of coordinates.

    Parameters
    ----------
    lon, lat : array-like
        Raw values (strings or numbers); blanks, ``NaN`` and ``inf`` mean "no point". Read by
        position (a Series' index is not used).
    crs : str or array-like of str
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` for the file, or one per row.
    region : shapely geometry, optional
        Prepared WGS-84 area from :func:`region_from_units`; points outside are quarantined.
    """
    x, y = _numbers(lon), _numbers(lat)
    crs_arr = np.full(len(x), crs, dtype=object) if isinstance(crs, str) else np.asarray(crs, dtype=object)
    bad = set(pd.unique(crs_arr)) - set(CRS_NAMES)
    if bad:
        raise ValueError(f"unknown coordinate system(s) {sorted(map(str, bad))}; allowed: {', '.join(CRS_NAMES)}")
    return _clean(x, y, crs_arr, region, _given(lon), _given(lat))


def _numbers(values) -> np.ndarray:
    """float64 of raw values as ``pandas.to_numeric`` (errors coerced) reads them; a str column of plain decimals
    is read from its bytes (:func:`minqing.ingest.textscan.plain_decimals`)."""
    if _is_str(values):
        from minqing.ingest.textscan import plain_decimals

        fast = plain_decimals(values)
        if fast is not None:
            return fast
    out = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64", na_value=np.nan).copy()
    unread = np.isnan(out) & _given(values)
    if unread.any():  # other notations (few rows, or a column written so): each value on its own
        out[unread] = [read_notation(v) for v in pd.Series(values).to_numpy(dtype=object)[unread]]
    return out


_HEMISPHERE = {"E": 1, "N": 1, "W": -1, "S": -1, "东经": 1, "北纬": 1, "西经": -1, "南纬": -1}
_NUM = r"(\d+(?:[.,]\d+)?)"
_DMS = re.compile(rf"^{_NUM}\s*(?:[°º˚度:]\s*(?:{_NUM}\s*(?:['′’分:]\s*(?:{_NUM}\s*(?:[\"″”秒]|'')?)?)?)?)?$")
_HEMI = re.compile(r"^(东经|北纬|西经|南纬|[NSEW])\s*(.*?)$|^(.*?)\s*(东经|北纬|西经|南纬|[NSEW])$")


def read_notation(value) -> float:
    """Degrees of a coordinate written in another notation; NaN when it is none.

    Full-width digits (``１２１.５``), a degree sign (``121.505°``), degrees, minutes and seconds
    (``121°30'18"E``, ``121度30分18秒``), a hemisphere letter or word before or after
    (``E121.505``, ``31.285N``, ``东经121.505``; W and S are negative) and a decimal comma
    (``121,505``, as a European spreadsheet writes it). Minutes and seconds must be below 60.
    """
    from minqing.ingest.times import ascii_forms

    text = str(ascii_forms(pd.Series([str(value)], dtype=object)).iloc[0]).strip().upper()
    sign = 1
    m = _HEMI.match(text)
    if m and (m.group(1) or m.group(4)):
        sign = _HEMISPHERE[m.group(1) or m.group(4)]
        text = (m.group(2) if m.group(1) else m.group(3)).strip()
    if text.startswith("-") and sign == 1:
        sign, text = -1, text[1:].strip()
    m = _DMS.match(text)
    if not m:
        return np.nan
    deg, minutes, seconds = (float(g.replace(",", ".")) if g else 0.0 for g in m.groups())
    if minutes >= 60 or seconds >= 60 or ((minutes or seconds) and deg != int(deg)):
        return np.nan
    return sign * (deg + minutes / 60 + seconds / 3600)


def _given(values) -> np.ndarray:
    s = values if _is_str(values) else pd.Series(values, dtype=object)  # a str Series: no Python strings
    return (s.notna() & (s.astype(str).str.strip() != "")).to_numpy(dtype=bool)


def _clean(x, y, crs_arr, region, given_x, given_y) -> Coordinates:
    n = len(x)
    reason = np.full(n, None, dtype=object)
    finite = np.isfinite(x) & np.isfinite(y)
    invalid = ~finite & (given_x | given_y)
    x = np.where(finite, x, np.nan)
    y = np.where(finite, y, np.nan)
    zero = finite & (np.abs(x) < 1e-9) & (np.abs(y) < 1e-9)
    reason[zero] = "zero_coordinates"
    ok = finite & ~zero
    swapped = np.zeros(n, dtype=bool)
    if region is not None:
        minx, miny, maxx, maxy = shapely.bounds(region)
        pad = 0.05  # raw coordinates may be offset by GCJ-02/BD-09 (< 1 km)
        inside = (x >= minx - pad) & (x <= maxx + pad) & (y >= miny - pad) & (y <= maxy + pad)
        flipped = (y >= minx - pad) & (y <= maxx + pad) & (x >= miny - pad) & (x <= maxy + pad)
        swapped = ok & ~inside & flipped
    else:
        swapped = ok & ((np.abs(y) > 90) & (np.abs(x) <= 90))
    x, y = np.where(swapped, y, x), np.where(swapped, x, y)
    out_x, out_y = x.copy(), y.copy()
    for name in CRS_NAMES:
        sel = ok & (crs_arr == name)
        if name != "wgs84" and sel.any():
            out_x[sel], out_y[sel] = to_wgs84(x[sel], y[sel], name)
    if region is not None:
        outside = ok & ~shapely.contains_xy(region, np.where(ok, out_x, 0.0), np.where(ok, out_y, 0.0))
        reason[outside & (reason == None)] = "outside_region"  # noqa: E711
    located = ok & (reason == None)  # noqa: E711
    out_x[~located] = np.nan
    out_y[~located] = np.nan
    return Coordinates(lon=out_x, lat=out_y, reason=reason, swapped=swapped & located, invalid=invalid)
