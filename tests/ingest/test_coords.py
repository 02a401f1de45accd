"""Coordinates on tiny inputs with hand-worked answers: CRS column values, blanks, swaps, out of region, GCJ-02 and BD-09."""

from __future__ import annotations

import numpy as np
import pytest

from minqing.geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from minqing.ingest.coords import clean_coordinates, normalise_crs, region_from_units


def test_crs_column_values():
    codes, unknown = normalise_crs(["GCJ-02", "百度", "", "WGS84", "火星", "高德"], "wgs84")
    assert codes.tolist() == ["gcj02", "bd09", "wgs84", "wgs84", "wgs84", "gcj02"]
    assert unknown.tolist() == [False, False, False, False, True, False]


def test_coordinates_blank_nan_inf_zero_swapped_outside(tiny_units):
    region = region_from_units(tiny_units, 500)
    lon = ["121.505", "", "NaN", "inf", "0", "31.285", "120.0"]
    lat = ["31.285", "", "NaN", "31.2", "0", "121.505", "30.0"]
    c = clean_coordinates(lon, lat, "wgs84", region)
    assert c.reason.tolist() == [None, None, None, None, "zero_coordinates", None, "outside_region"]
    assert c.swapped.tolist() == [False, False, False, False, False, True, False]
    assert c.invalid.tolist() == [False, False, True, True, False, False, False]
    assert np.isfinite(c.lon).tolist() == [True, False, False, False, False, True, False]
    assert c.lon[5] == pytest.approx(121.505) and c.lat[5] == pytest.approx(31.285)


def test_coordinates_gcj_and_bd_converted_sub_metre(tiny_units):
    region = region_from_units(tiny_units, 500)
    x, y = 121.507, 31.287
    gx, gy = wgs84_to_gcj02(x, y)
    bx, by = wgs84_to_bd09(x, y)
    c = clean_coordinates([gx, bx], [gy, by], np.array(["gcj02", "bd09"], dtype=object), region)
    assert np.abs(c.lon - x).max() < 1e-7 and np.abs(c.lat - y).max() < 1e-7


def test_a_str_column_reads_as_its_values_do(tiny_units):
    import pandas as pd

    raw = ["GCJ-02", "百度", "", "WGS84", "火星", "高德", "百度", "  ", "GCJ-02"]
    codes, unknown = normalise_crs(pd.Series(raw, dtype="str", index=range(10, 19)), "wgs84")  # per distinct value
    assert codes.tolist() == ["gcj02", "bd09", "wgs84", "wgs84", "wgs84", "gcj02", "bd09", "wgs84", "gcj02"]
    assert unknown.tolist() == [False, False, False, False, True, False, False, False, False]
    assert [c.tolist() for c in normalise_crs(raw, "wgs84")] == [codes.tolist(), unknown.tolist()]
    region = region_from_units(tiny_units, 500)
    lon = ["121.505", "", "NaN", "inf", "0", "31.285", "120.0", " "]
    lat = ["31.285", "", "NaN", "31.2", "0", "121.505", "30.0", "31.285"]
    a = clean_coordinates(lon, lat, "wgs84", region)
    b = clean_coordinates(pd.Series(lon, dtype="str", index=range(5, 13)), pd.Series(lat, dtype="str"), "wgs84", region)
    for field in ("reason", "swapped", "invalid"):
        assert getattr(a, field).tolist() == getattr(b, field).tolist()
    assert np.array_equal(a.lon, b.lon, equal_nan=True) and np.array_equal(a.lat, b.lat, equal_nan=True)
    assert b.invalid.tolist() == [False, False, True, True, False, False, False, True]  # a latitude alone


def test_plain_decimal_columns_read_from_their_bytes_as_pandas_reads_them(tiny_units, monkeypatch):
    import pandas as pd

    from minqing.ingest import textscan

    region = region_from_units(tiny_units, 500)
    lon = pd.Series(["121.505", "", "31.285", "120.0", "0", "121.5071234"], dtype="str")
    lat = pd.Series(["31.285", "", "121.505", "30.0", "0", "31.2871234"], dtype="str")
    crs = np.array(["wgs84", "wgs84", "wgs84", "wgs84", "wgs84", "gcj02"], dtype=object)
    seen = []
    real = textscan.plain_decimals
    monkeypatch.setattr(textscan, "plain_decimals", lambda v: seen.append(r := real(v)) or r)
    fast = clean_coordinates(lon, lat, crs, region)
    assert len(seen) == 2 and all(r is not None for r in seen)  # both columns read from their bytes
    slow = clean_coordinates(lon.tolist(), lat.tolist(), crs, region)
    for field in ("reason", "swapped", "invalid"):
        assert getattr(fast, field).tolist() == getattr(slow, field).tolist()
    assert np.array_equal(fast.lon, slow.lon, equal_nan=True) and np.array_equal(fast.lat, slow.lat, equal_nan=True)
    assert fast.reason.tolist() == [None, None, None, "outside_region", "zero_coordinates", None]


@pytest.mark.parametrize("dtype", ["str", object])
def test_coordinates_in_other_notations_are_read(dtype):
    """Worked by hand: 121°30'18" = 121 + 30/60 + 18/3600 = 121.505; 31°17'06" = 31.285; 30.3' = 0.505°."""
    import pandas as pd

    lon = ["１２１.５０５", "121,505", "E121.505", "121.505°", "121°30'18\"E", "121.505E", "东经121度30分18秒",
           "W121.5", "121°30.3'", "121°61'", "121.5°30'", "abc", "121.505.1"]
    lat = ["３１.２８５", "31,285", "N31.285", "31.285°", "31°17'06\"N", "31.285N", "北纬31度17分6秒",
           "S31.2", "31°17.1'", "31", "31", "31", "31"]
    r = clean_coordinates(pd.Series(lon, dtype=dtype), pd.Series(lat, dtype=dtype), "wgs84")
    got = list(zip(np.round(r.lon, 9).tolist(), np.round(r.lat, 9).tolist()))
    assert got[:7] == [(121.505, 31.285)] * 7
    assert got[7] == (-121.5, -31.2) and got[8] == (121.505, 31.285)
    assert np.isnan(r.lon[9:]).all() and r.invalid.tolist() == [False] * 9 + [True] * 4  # 61', 121.5°30' and text
