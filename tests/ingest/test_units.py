"""Times, mapping, coordinates and address matching on tiny inputs with hand-worked answers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from minqing.geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from minqing.ingest.aliases import category_key, category_lookup
from minqing.ingest.coords import clean_coordinates, normalise_crs, region_from_units
from minqing.ingest.errors import MappingError
from minqing.ingest.geocode import build_gazetteer, match_addresses
from minqing.ingest.mapping import infer_mapping, load_mapping_file
from minqing.ingest.times import parse_times

NOW = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")


def test_times_every_supported_form():
    raw = ["2025-04-03T14:05:00", "2025/4/3 14:05", "2025年4月3日 14时05分", "2025-04-03", "45750.5",
           "2025-04-03T06:05:00Z", "20250403", dt.datetime(2025, 4, 3, 14, 5)]
    r = parse_times(pd.Series(raw, dtype=object), now=NOW)
    got = [v.strftime("%Y-%m-%d %H:%M") for v in r.values]
    assert got == ["2025-04-03 14:05", "2025-04-03 14:05", "2025-04-03 14:05", "2025-04-03 00:00",
                   "2025-04-03 12:00", "2025-04-03 14:05", "2025-04-03 00:00", "2025-04-03 14:05"]
    assert str(r.values.dt.tz) == "Asia/Shanghai"
    assert not r.bad.any()


def test_times_blank_bad_early_future():
    raw = pd.Series(["", "garbage", "1999-12-31 23:00", "2026-03-01", None], dtype=object)
    r = parse_times(raw, now=NOW, earliest="2000-01-01")
    assert r.blank.tolist() == [True, False, False, False, True]
    assert r.bad.tolist() == [False, True, False, False, False]
    assert r.too_early.tolist() == [False, False, True, False, False]
    assert r.future.tolist() == [False, False, False, True, False]
    assert not parse_times(raw, now=NOW).too_early.any()  # no floor by default


def test_times_other_timezone():
    r = parse_times(pd.Series(["2025-04-03 14:05"]), tz="Asia/Urumqi", now=NOW)
    assert r.values.iloc[0].tz_convert("UTC").hour == 8  # Urumqi is UTC+6


def test_mapping_aliases_and_unknown_columns_kept():
    m = infer_mapping(["工单编号", "来电时间", "诉求渠道", "经度(X)", "纬度（Y）", "楼栋号"])
    assert m.fields["source_id"] == "工单编号"
    assert m.fields["received_at"] == "来电时间"
    assert m.fields["lon"] == "经度(X)" and m.fields["lat"] == "纬度（Y）"
    assert m.unknown == ("楼栋号",)


def test_mapping_file_overrides_and_errors(tmp_path):
    path = tmp_path / "map.toml"
    path.write_text('[columns]\nsource_id = "流水号"\ntext = "反映内容"\n[options]\ncrs = "gcj02"\n', encoding="utf-8")
    user = load_mapping_file(path)
    m = infer_mapping(["流水号", "受理时间", "反映内容"], user)
    assert m.fields == {"source_id": "流水号", "text": "反映内容", "received_at": "受理时间"}
    assert m.options["crs"] == "gcj02"
    with pytest.raises(MappingError, match="流水号"):
        infer_mapping(["编号X"], user)
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\nnot_a_field = "x"\n', encoding="utf-8")
    with pytest.raises(MappingError, match="not_a_field"):
        load_mapping_file(bad)


def test_category_paths_levels_and_codes():
    table = category_lookup()
    assert table[category_key("物业管理->电梯->电梯故障")] == "04.01.01"
    assert table[category_key("物业管理/电梯/电梯故障")] == "04.01.01"
    assert table[category_key("电梯故障")] == "04.01.01"
    assert table[category_key("04.01.01")] == "04.01.01"
    assert table[category_key("物业管理")] == "04"


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


def test_address_matching_exact_fuzzy_and_threshold(tiny_places):
    gaz = build_gazetteer(tiny_places)
    m = match_addresses(["测试医院门口东侧", "测试小区3号楼", "测试医院们口", "完全无关的地址", ""], gaz, threshold=80)
    assert m.name[0] == "测试医院门口" and m.score[0] == 100
    assert m.name[1] == "测试小区3号楼" or m.name[1] == "测试小区" or m.ref[1] == "P1"
    assert m.ref[2] == "H1" and 80 <= m.score[2] < 100  # one wrong character: fuzzy match
    assert m.name[3] is None and np.isnan(m.lon[3])
    assert m.name[4] is None
    strict = match_addresses(["测试医院们口"], gaz, threshold=95)
    assert strict.name[0] is None
