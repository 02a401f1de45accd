"""Loading a city's own layers: any CRS and format, repairs, overlaps and gaps, versions, relink."""

import geopandas as gpd
import pandas as pd
import pytest
from conftest import X0, Y0, make_tickets
from shapely.geometry import Point, Polygon, box

from minqing.cli.main import main
from minqing.errors import IngestError
from minqing.geo.crs import wgs84_to_gcj02
from minqing.geo.link import apply_links, link_tickets
from minqing.ingest.errors import MappingError
from minqing.ingest.layers_import import import_places, import_units
from minqing.store import TicketFilter, open_store


@pytest.fixture
def store(city_store):
    return city_store


def _grids(cells, crs=4326):
    return gpd.GeoDataFrame(
        {"网格编码": [c[0] for c in cells], "网格名称": [f"单元{c[0]}" for c in cells], "上级代码": [c[1] for c in cells]},
        geometry=[c[2] for c in cells], crs=crs,
    )


def test_new_grid_version_closes_the_old_and_relink_follows_time(store, tmp_path):
    # G1 is redrawn from 2026-01-01 (its east edge moves 0.002 deg east, taking a strip of G3)
    g1 = box(X0, Y0, X0 + 0.012, Y0 + 0.01)
    g3 = box(X0 + 0.012, Y0, X0 + 0.02, Y0 + 0.01)
    current = store.read_units("grid", at="2025-12-31")
    others = current[~current["code"].isin(["G1", "G3"])]
    cells = [("G1", "C1", g1), ("G3", "C2", g3)] + [(r.code, r.parent_code, r.geometry) for r in others.itertuples()]
    path = _grids(cells).to_crs(32651).to_file(tmp_path / "grids.gpkg") or tmp_path / "grids.gpkg"
    r = import_units(store, path, "grid", valid_from="2026-01-01")
    assert (r.new, r.new_versions, r.closed) == (0, 2, 2)
    assert r.orphans == [] and r.overlaps == []
    versions = store.read_units("grid")
    g1_versions = versions[versions["code"] == "G1"].sort_values("valid_from")
    assert g1_versions["valid_to"].tolist()[0] == "2026-01-01" and pd.isna(g1_versions["valid_to"].tolist()[1])
    # a point in the moved strip belongs to G3 before 2026 and to G1 after
    strip = (X0 + 0.011, Y0 + 0.005)
    t = make_tickets([strip, strip], ["2025-12-31 12:00", "2026-01-02 12:00"])
    store.write_tickets(*apply_links(t, link_tickets(t, store.read_units())))
    assert main(["--db", store.url, "relink"]) == 0
    got = store.read_tickets(TicketFilter(columns=("source_id", "grid_code")))
    assert got["grid_code"].tolist() == ["G3", "G1"]


def test_reports_overlaps_gaps_orphans_and_repairs(store, tmp_path):
    bowtie = Polygon([(X0, Y0), (X0 + 0.01, Y0 + 0.01), (X0 + 0.01, Y0), (X0, Y0 + 0.01), (X0, Y0)])  # invalid
    cells = [
        ("N1", "C1", box(X0, Y0, X0 + 0.006, Y0 + 0.01)),
        ("N2", "C1", box(X0 + 0.005, Y0, X0 + 0.01, Y0 + 0.01)),  # overlaps N1 by 0.001 deg wide
        ("N3", "NOPE", box(X0 + 0.012, Y0, X0 + 0.02, Y0 + 0.01)),  # a gap of 0.002 deg to N2 ... and no parent
        ("N4", "C2", bowtie),
    ]
    path = tmp_path / "n.geojson"
    _grids(cells).to_file(path)
    r = import_units(store, path, "grid", valid_from="2026-01-01", partial=True)
    assert r.repaired == 1
    assert r.orphans == ["N3"]
    pairs = {(a, b) for a, b, _ in r.overlaps}
    assert ("N1", "N2") in pairs
    one_mdeg_strip = 0.001 * 0.01 * 111_320**2 * 0.855  # ~ m² of a 0.001 x 0.01 degree strip at 31.28 N
    n1n2 = next(m for a, b, m in r.overlaps if (a, b) == ("N1", "N2"))
    assert n1n2 == pytest.approx(one_mdeg_strip, rel=0.05)
    assert r.absent and all(c.startswith("G") for c in r.absent)
    assert len(store.read_units("grid", at="2026-06-01")) == 4 + 5  # partial: the old grids stay open


def test_gcj02_declared_and_column_options(store, tmp_path):
    lon, lat = X0 + 0.005, Y0 + 0.005
    glon, glat = wgs84_to_gcj02(lon, lat)
    gdf = gpd.GeoDataFrame({"ID": ["H9"], "PNAME": ["新医院门口"]}, geometry=[Point(glon, glat)], crs=4326)
    path = tmp_path / "p.shp"
    gdf.to_file(path, encoding="gbk")  # as desktop GIS in China writes them
    r = import_places(store, path, crs="gcj02", kind="hospital_entrance", columns={"place_id": "ID", "name": "PNAME"})
    assert r.new == 1
    p = store.read_places().set_index("place_id").loc["H9"]
    assert p["kind"] == "hospital_entrance" and p["name"] == "新医院门口"
    assert p.geometry.x == pytest.approx(lon, abs=1e-6) and p.geometry.y == pytest.approx(lat, abs=1e-6)


def test_bad_inputs_are_clear(store, tmp_path):
    (tmp_path / "x.geojson").write_text("not json", encoding="utf-8")
    with pytest.raises(IngestError, match="cannot be read"):
        import_units(store, tmp_path / "x.geojson", "grid")
    with pytest.raises(IngestError, match="allowed: district"):
        import_units(store, tmp_path / "x.geojson", "street")
    path = tmp_path / "ok.geojson"
    _grids([("Z1", "C1", box(X0, Y0, X0 + 0.01, Y0 + 0.01))]).to_file(path)
    with pytest.raises(MappingError, match="does not have"):
        import_units(store, path, "grid", columns={"code": "编号"})
    with pytest.raises(IngestError, match="must start after"):
        import_units(store, _regrid(tmp_path), "grid", valid_from="2019-06-01", partial=True)


def _regrid(tmp_path):
    path = tmp_path / "g1.geojson"
    _grids([("G1", "C1", box(X0, Y0, X0 + 0.011, Y0 + 0.01))]).to_file(path)
    return path


def test_a_hole_between_units_is_reported(store, tmp_path):
    d = 0.003
    ring = [
        ("R1", "C1", box(X0, Y0, X0 + 3 * d, Y0 + d)),
        ("R2", "C1", box(X0, Y0 + 2 * d, X0 + 3 * d, Y0 + 3 * d)),
        ("R3", "C1", box(X0, Y0 + d, X0 + d, Y0 + 2 * d)),
        ("R4", "C1", box(X0 + 2 * d, Y0 + d, X0 + 3 * d, Y0 + 2 * d)),
    ]
    path = tmp_path / "ring.geojson"
    _grids(ring).to_file(path)
    r = import_units(store, path, "grid", valid_from="2026-01-01", partial=True)
    hole = gpd.GeoSeries([box(X0 + d, Y0 + d, X0 + 2 * d, Y0 + 2 * d)], crs=4326).to_crs(32651).area.iloc[0]
    assert r.gap_m2 == pytest.approx(hole, rel=1e-3)
    assert r.overlaps == []


def test_grids_without_parents_get_them_by_containment_and_a_first_layer_is_valid_for_all_time(tmp_path):
    """A city loading communities, then grids that name no parent: each grid gets the community it lies
    in (reported), and with no --valid-from both layers are valid for every order, however old."""
    from conftest import make_tickets

    s = open_store(f"sqlite:///{tmp_path / 'city.sqlite'}")
    comm = gpd.GeoDataFrame({"code": ["K1", "K2"], "name": ["甲社区", "乙社区"]},
                            geometry=[box(X0, Y0, X0 + 0.01, Y0 + 0.01), box(X0 + 0.01, Y0, X0 + 0.02, Y0 + 0.01)],
                            crs=4326)
    comm.to_file(tmp_path / "c.geojson")
    assert import_units(s, tmp_path / "c.geojson", "community").valid_from == "1900-01-01"
    grids = gpd.GeoDataFrame({"code": ["T1", "T2"], "name": ["一", "二"]},
                             geometry=[box(X0, Y0, X0 + 0.01, Y0 + 0.01), box(X0 + 0.01, Y0, X0 + 0.02, Y0 + 0.01)],
                             crs=4326)
    grids.to_file(tmp_path / "g.geojson")
    r = import_units(s, tmp_path / "g.geojson", "grid")
    assert r.parents_inferred == 2 and r.orphans == []
    assert dict(zip(s.read_units("grid")["code"], s.read_units("grid")["parent_code"])) == {"T1": "K1", "T2": "K2"}
    t = make_tickets([(X0 + 0.005, Y0 + 0.005)], ["1975-06-01 08:00"])
    links = link_tickets(t, s.read_units()).links
    assert links["grid_code"].tolist() == ["T1"] and links["community_code"].tolist() == ["K1"]
    s.close()


def test_a_code_of_another_level_is_refused(store, tmp_path):
    clash = gpd.GeoDataFrame({"code": ["D"], "name": ["同名"]}, geometry=[box(X0, Y0, X0 + 0.01, Y0 + 0.01)], crs=4326)
    clash.to_file(tmp_path / "x.geojson")
    with pytest.raises(IngestError, match="already codes of another level"):
        import_units(store, tmp_path / "x.geojson", "grid", partial=True)


def test_an_import_that_stores_nothing_exits_non_zero(store, tmp_path, capsys):
    """Every row quarantined (here: coordinates 0,0): the command says so and exits 3, not 0."""
    path = tmp_path / "bad.csv"
    path.write_text("工单编号,受理时间,经度,纬度\nZ1,2025-04-03 10:00,0,0\nZ2,2025-04-03 11:00,0,0\n", encoding="utf-8")
    assert main(["--db", store.url, "import", str(path)]) == 3
    assert "nothing was stored" in capsys.readouterr().err


def test_region_of_a_detailed_outline_holds_points_near_the_edge():
    """The outline is simplified before it is widened, but still holds every point within the buffer."""
    import numpy as np
    import shapely

    from minqing.ingest.coords import region_from_units

    ang = np.linspace(0, 2 * np.pi, 40_000, endpoint=False)
    r = 0.05 * (1 + 0.05 * np.sin(ang * 300))
    poly = shapely.Polygon(np.c_[X0 + r * np.cos(ang), Y0 + r * np.sin(ang)])
    region = region_from_units(gpd.GeoDataFrame({"level": ["district"]}, geometry=[poly], crs=4326), buffer_m=500)
    edge = poly.exterior.interpolate(np.linspace(0, poly.exterior.length, 500, endpoint=False))
    normal_out = [shapely.Point(X0 + (p.x - X0) * 1.0, Y0 + (p.y - Y0) * 1.0) for p in edge]
    assert all(region.contains(p) for p in normal_out)
    assert all(region.contains(shapely.buffer(p, 480 / 111_000).exterior.interpolate(0.3, normalized=True))
               for p in edge[::25])
    assert not region.contains(shapely.Point(X0 + 0.2, Y0))
