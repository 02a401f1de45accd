"""Checks on the committed demo layers in geodata/ (built by scripts/build_geodata.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[2]
GEODATA = ROOT / "geodata"
SHARED = ROOT.parent / "shared" / "geodata"
UTM = "EPSG:32651"
FILES = [
    "district.geojson",
    "subdistrict.geojson",
    "community.geojson",
    "grid.geojson",
    "places.geojson",
    "facilities.geojson",
    "README.md",
]


def _read(name):
    # dates stay ISO strings ("2020-01-01"), as written
    return gpd.read_file(GEODATA / name, datetime_as_string=True)


@pytest.fixture(scope="module")
def layers():
    return {n: _read(f"{n}.geojson") for n in ("district", "subdistrict", "community", "grid", "places", "facilities")}


@pytest.fixture(scope="module")
def utm(layers):
    return {k: v.to_crs(UTM) for k, v in layers.items()}


def _current(df):
    return df[df["valid_to"].isna()]


def test_all_files_present_and_small():
    for name in FILES:
        assert (GEODATA / name).exists(), name
    total = sum((GEODATA / n).stat().st_size for n in FILES)
    assert total < 3_000_000


def test_all_wgs84(layers):
    for name, df in layers.items():
        assert df.crs is not None and df.crs.to_epsg() == 4326, name
        minx, miny, maxx, maxy = df.total_bounds
        assert 121.4 < minx < maxx < 121.6 and 31.2 < miny < maxy < 31.4, name


def test_counts(layers):
    assert len(layers["district"]) == 1
    assert len(layers["subdistrict"]) == 12
    n_comm = len(layers["community"])
    assert 150 <= n_comm <= 200
    assert layers["community"].groupby("parent_code").size().min() >= 4
    assert 300 <= len(_current(layers["grid"])) <= 400


def test_valid_geometries(layers):
    for name, df in layers.items():
        assert df.geometry.notna().all(), name
        assert df.geometry.is_valid.all(), name
        assert not df.geometry.is_empty.any(), name
    for name in ("district", "subdistrict", "community", "grid"):
        assert set(layers[name].geom_type) <= {"Polygon", "MultiPolygon"}, name


def test_unit_columns(layers):
    cols = ["code", "level", "name", "name_en", "parent_code", "population", "valid_from", "valid_to", "caveat"]
    for name in ("district", "subdistrict", "community", "grid"):
        df = layers[name]
        assert list(df.columns[:-1]) == cols, name
        assert (df["level"] == name).all()
        assert df["caveat"].str.len().gt(10).all()
    d = layers["district"].iloc[0]
    assert (d["code"], d["name"], d["population"]) == ("310110", "杨浦区", 1242600)
    assert d["parent_code"] is None or d["parent_code"] != d["parent_code"]
    s = layers["subdistrict"]
    assert (s["parent_code"] == "310110").all()
    assert s["caveat"].str.contains("近似").all() and s["caveat"].str.contains("APPROXIMATE").all()
    for name in ("community", "grid"):
        assert layers[name]["caveat"].str.contains("SYNTHETIC").all()
    assert layers["community"]["name"].is_unique
    assert _current(layers["grid"])["name"].is_unique
    assert {"Dinghai Road Subdistrict", "Yinhang Subdistrict"} <= set(s["name_en"])


def test_codes_unique_and_nested(layers):
    for name in ("subdistrict", "community", "grid"):
        df = layers[name]
        assert not df.duplicated(["code", "valid_from"]).any(), name
        assert df.apply(lambda r: r["code"].startswith(r["parent_code"]), axis=1).all(), name
        assert set(df["parent_code"]) <= set(layers[{"subdistrict": "district", "community": "subdistrict", "grid": "community"}[name]]["code"])
    assert (layers["community"]["code"].str.len() == 12).all()
    assert (layers["grid"]["code"].str.len() == 15).all()


def _inside_parent(child, parent, tol_m2=1.0):
    parents = parent.set_index("code").geometry
    worst = 0.0
    for _, r in child.iterrows():
        worst = max(worst, shapely.difference(r.geometry, parents[r["parent_code"]]).area)
    assert worst < tol_m2, worst


def test_children_inside_parents(utm):
    _inside_parent(utm["grid"], utm["community"])
    _inside_parent(utm["community"], utm["subdistrict"])
    _inside_parent(utm["subdistrict"], utm["district"])


def _assert_tiles(children, parent_geom, tol_m2):
    union = shapely.union_all(children.geometry.values)
    assert shapely.symmetric_difference(union, parent_geom).area < tol_m2
    overlap = children.geometry.area.sum() - union.area
    assert overlap < tol_m2


def test_tiling(utm):
    district = utm["district"].geometry.iloc[0]
    grids = _current(utm["grid"])
    _assert_tiles(grids, district, tol_m2=5.0)
    _assert_tiles(utm["community"], district, tol_m2=5.0)
    _assert_tiles(utm["subdistrict"], district, tol_m2=5.0)
    comm = utm["community"].set_index("code").geometry
    for code, group in grids.groupby("parent_code"):
        _assert_tiles(group, comm[code], tol_m2=1.0)


def test_version_split(utm):
    g = utm["grid"]
    old = g[g["valid_to"].notna()]
    assert len(old) == 1
    old = old.iloc[0]
    assert old["valid_to"] == "2025-07-01" and old["code"].startswith("310110016")
    new = g[g["valid_from"] == "2025-07-01"]
    assert len(new) == 2
    assert (new["parent_code"] == old["parent_code"]).all()
    assert shapely.symmetric_difference(shapely.union_all(new.geometry.values), old.geometry).area < 1.0
    assert new["population"].sum() == old["population"]
    siblings = g[(g["parent_code"] == old["parent_code"]) & (g["valid_from"] == "2020-01-01")]
    assert set(new["code"]) == {f"{old['parent_code']}{n:03d}" for n in (len(siblings) + 1, len(siblings) + 2)}
    assert (g.loc[g["valid_from"] == "2020-01-01", "code"] != "").all()


def test_populations_sum_to_parents(layers):
    d = layers["district"]
    s = layers["subdistrict"]
    c = layers["community"]
    g = _current(layers["grid"])
    assert s["population"].sum() == d["population"].iloc[0] == 1242600
    assert (c.groupby("parent_code")["population"].sum() == s.set_index("code")["population"]).all()
    by_comm = g.groupby("parent_code")["population"].sum()
    assert (by_comm == c.set_index("code")["population"].loc[by_comm.index]).all()
    assert len(by_comm) == len(c)


def test_places(layers, utm):
    p = layers["places"]
    pu = utm["places"]
    district = utm["district"].geometry.iloc[0]
    assert p["place_id"].is_unique and p["name"].is_unique
    assert set(p["kind"]) <= {"hospital_entrance", "road_stretch", "compound", "other"}
    assert pu.geometry.within(district).all()
    kinds = p["kind"].value_counts()
    assert 8 <= kinds["road_stretch"] <= 12
    assert 40 <= kinds["compound"] <= 60
    hosp = p[p["kind"] == "hospital_entrance"]
    assert (hosp.geom_type == "Point").all() and (hosp["radius_m"] == 80).all()
    assert hosp["name"].str.contains("社区卫生服务中心").sum() == 12
    antu = p[p["name"] == "安图医院门口"].iloc[0]
    assert antu["subdistrict_code"] == "310110013"
    roads = pu[pu["kind"] == "road_stretch"]
    assert (roads.geom_type == "LineString").all() and (roads["buffer_m"] == 25).all()
    assert roads.length.between(300, 1200).all()
    assert roads["name"].str.startswith("军工路").any()
    comp = pu[pu["kind"] == "compound"]
    assert (comp.geom_type == "Polygon").all()
    span = np.sqrt(comp.area)
    assert span.between(60, 220).all()
    union = shapely.union_all(comp.geometry.values)
    assert comp.area.sum() - union.area < 1.0  # no overlaps
    nj = p[p["name"] == "内江小区"]
    assert len(nj) == 1 and nj.iloc[0]["subdistrict_code"] == "310110015"
    assert p["aliases"].str.len().gt(0).all()
    assert p["synthetic"].dtype == bool


def test_health_centres_match_facilities(layers, utm):
    f = utm["facilities"].set_index("facility_id")
    hc = f[f["facility_type"] == "healthcare"]
    assert len(hc) == 12
    hosp = utm["places"][utm["places"]["name"].str.contains("社区卫生服务中心")]
    d = [min(pt.distance(q) for q in hc.geometry) for pt in hosp.geometry]
    assert max(d) < 0.5


def test_facilities(layers):
    f = layers["facilities"]
    assert f["facility_id"].is_unique
    assert len(f) == 129 + 43
    assert set(f["source_crs"]) == {"bd09", "wgs84", "gcj02"}
    assert f["subdistrict_code"].notna().all()
    diffs = f.loc[(f["source_crs"] == "bd09") & (f["facility_id"] != "P06G015"), "author_wgs84_diff_m"]
    assert diffs.max() < 3.0


@pytest.mark.skipif(not SHARED.exists(), reason="shared geodata not available")
def test_build_is_deterministic(tmp_path):
    spec = importlib.util.spec_from_file_location("build_geodata", ROOT / "scripts" / "build_geodata.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.build(SHARED, tmp_path, quiet=True)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (GEODATA / name).read_bytes(), name
