import h3
import numpy as np
import pandas as pd
import pytest
from conftest import X0, Y0, make_tickets

from minqing.errors import GeodataError
from minqing.geo.h3cells import cells_to_parent, latlng_to_cells
from minqing.geo.link import apply_links, link_tickets, place_footprints

# metres per degree at this latitude (for placing points at known distances)
def codes(s):
    return [None if pd.isna(v) else v for v in s]


M_PER_DEG_LON = 111_320 * np.cos(np.radians(Y0 + 0.005))


def test_grid_and_hierarchy(tiny_units):
    t = make_tickets(
        [(X0 + 0.005, Y0 + 0.005), (X0 + 0.005, Y0 + 0.015), (X0 + 0.015, Y0 + 0.005), (X0 + 0.03, Y0 + 0.03), (np.nan, np.nan)],
        ["2025-01-01 10:00"] * 5,
    )
    links = link_tickets(t, tiny_units).links
    assert codes(links["grid_code"]) == ["G1", "G2", "G3", None, None]
    assert codes(links["community_code"]) == ["C1", "C1", "C2", None, None]
    assert codes(links["subdistrict_code"]) == ["S", "S", "S", None, None]
    assert codes(links["district_code"]) == ["D", "D", "D", None, None]
    assert links["grid_uid"].tolist()[:3] == [5, 6, 7]
    assert links["grid_uid"].isna().tolist() == [False, False, False, True, True]


def test_boundary_version_change(tiny_units):
    """A point in old grid G4 links to G4 before 2025-07-01 and to G4A / G4B from that day on."""
    west, east = (X0 + 0.012, Y0 + 0.015), (X0 + 0.018, Y0 + 0.015)
    times = ["2025-06-30 23:59", "2025-07-01 00:00", "2025-06-30 23:59", "2025-07-01 00:01"]
    links = link_tickets(make_tickets([west, west, east, east], times), tiny_units).links
    assert links["grid_code"].tolist() == ["G4", "G4A", "G4", "G4B"]


def test_local_time_decides_version(tiny_units):
    """Midnight in Shanghai is 16:00 UTC the day before: the version follows local time."""
    t = make_tickets([(X0 + 0.012, Y0 + 0.015)], ["2025-07-01 00:30"])
    t["received_at"] = t["received_at"].dt.tz_convert("UTC")
    assert link_tickets(t, tiny_units, tz="Asia/Shanghai").links["grid_code"].tolist() == ["G4A"]
    # without a zone the times' own zone decides (the store gives them in the city's zone)
    assert link_tickets(t, tiny_units).links["grid_code"].tolist() == ["G4"]


def test_places_metric_buffers(tiny_units, tiny_places):
    h = (X0 + 0.005, Y0 + 0.005)
    pts = [
        (h[0] + 70 / M_PER_DEG_LON, h[1]),  # 70 m east of the hospital point: inside 80 m
        (h[0] + 90 / M_PER_DEG_LON, h[1]),  # 90 m: outside
        (X0 + 0.015, Y0 + 0.005 + 20 / 110_900),  # 20 m off the road line: inside 25 m
        (X0 + 0.015, Y0 + 0.005 + 30 / 110_900),  # 30 m: outside
        (X0 + 0.003, Y0 + 0.013),  # inside the compound
        (X0 + 0.0045, Y0 + 0.013),  # outside the compound
    ]
    result = link_tickets(make_tickets(pts, ["2025-01-01"] * 6), tiny_units, tiny_places)
    got = result.place_links.groupby("row")["place_id"].apply(list).to_dict()
    assert got == {0: ["H1"], 2: ["R1"], 4: ["P1"]}


def test_footprint_area(tiny_places):
    fp = place_footprints(tiny_places).to_crs(32651)
    assert fp.iloc[0].area == pytest.approx(np.pi * 80**2, rel=0.01)
    assert fp.iloc[2].area == pytest.approx(tiny_places.to_crs(32651).iloc[2].geometry.area, rel=1e-9)


def test_h3_cells_and_parents(tiny_units):
    lat = np.array([31.281, 31.29, np.nan])
    lng = np.array([121.501, 121.51, 121.5])
    cells = latlng_to_cells(lat, lng, 10)
    assert cells[2] == -1
    assert h3.int_to_str(int(cells[0])) == h3.latlng_to_cell(31.281, 121.501, 10)
    rng = np.random.default_rng(1)
    many = latlng_to_cells(rng.uniform(31.2, 31.4, 500), rng.uniform(121.4, 121.6, 500), 10)
    for res in (7, 8, 9, 10):
        expect = [h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(c)), res)) for c in many]
        assert cells_to_parent(many, res).tolist() == expect
    assert cells_to_parent(cells, 8)[2] == -1


def test_apply_links_keys_by_source_id(tiny_units, tiny_places):
    t = make_tickets([(X0 + 0.005, Y0 + 0.005), (X0 + 0.015, Y0 + 0.015)], ["2025-01-01"] * 2)
    out, pl = apply_links(t, link_tickets(t, tiny_units, tiny_places))
    assert out["grid_code"].tolist() == ["G1", "G4"]
    assert pl.to_dict("records") == [{"source_id": "T0000", "place_id": "H1"}]


def test_no_units_at_all_is_a_clear_error(tiny_units):
    with pytest.raises(GeodataError, match="no units loaded"):
        link_tickets(make_tickets([(X0, Y0)], ["2025-01-01"]), tiny_units.iloc[0:0])


def test_a_city_without_grids_links_to_its_communities(tiny_units):
    """Communities are the finest level: tickets get community, sub-district and district codes."""
    t = make_tickets([(X0 + 0.005, Y0 + 0.005), (X0 + 0.015, Y0 + 0.015)], ["2025-01-01"] * 2)
    links = link_tickets(t, tiny_units[tiny_units["level"] != "grid"]).links
    assert links["community_code"].tolist() == ["C1", "C2"]
    assert links["subdistrict_code"].tolist() == ["S", "S"] and links["district_code"].tolist() == ["D", "D"]
    assert links["grid_code"].isna().all() and links["grid_uid"].isna().all()


def test_a_grids_only_city_links_every_located_row(tiny_units):
    """Only grids loaded (e.g. census tracts), with no parent codes: each ticket gets its grid, nothing above."""
    grids = tiny_units[(tiny_units["level"] == "grid")].assign(parent_code=None)
    t = make_tickets([(X0 + 0.005, Y0 + 0.005), (X0 + 0.015, Y0 + 0.005), (X0 + 0.005, Y0 + 0.015)],
                     ["2025-01-01"] * 3)
    links = link_tickets(t, grids).links
    assert links["grid_code"].tolist() == ["G1", "G3", "G2"]
    assert links["community_code"].isna().all() and links["district_code"].isna().all()


def test_missing_parents_are_inferred_by_containment(tiny_units):
    """Grids without parent codes, communities and a district loaded: parents come from containment."""
    units = tiny_units.copy()
    units.loc[units["level"] == "grid", "parent_code"] = None
    units = units[units["level"] != "subdistrict"]  # a level may be missing in between, too
    t = make_tickets([(X0 + 0.005, Y0 + 0.005), (X0 + 0.016, Y0 + 0.016)], ["2025-01-01", "2025-08-01"])
    links = link_tickets(t, units).links
    assert links["grid_code"].tolist() == ["G1", "G4B"]
    assert links["community_code"].tolist() == ["C1", "C2"]
    assert links["subdistrict_code"].isna().all() and links["district_code"].tolist() == ["D", "D"]


def test_place_reach_is_exact_at_round_ends(tiny_units, tiny_places):
    """Beyond a road stretch's end, the reach is a true circle, not the buffer polygon's chords."""
    import pyproj

    utm = pyproj.Transformer.from_crs(4326, 32651, always_xy=True)
    back = pyproj.Transformer.from_crs(32651, 4326, always_xy=True)
    ex, ey = utm.transform(X0 + 0.019, Y0 + 0.005)  # east end of R1
    pts = []
    for r in (24.97, 25.03):
        for ang in np.radians([22.5 / 2, 33.75, 56.25]):  # between buffer vertices
            pts.append(back.transform(ex + r * np.cos(ang), ey + r * np.sin(ang)))
    got = link_tickets(make_tickets(pts, ["2025-01-01"] * len(pts)), tiny_units, tiny_places).place_links
    assert sorted(got["row"].tolist()) == [0, 1, 2]


def test_layers_prepared_once_link_every_batch_as_link_tickets_does(tiny_units, tiny_places):
    from minqing.geo.link import link_prepared, prepare_layers

    h = (X0 + 0.005, Y0 + 0.005)
    batches = [[h, (X0 + 0.015, Y0 + 0.005), (X0 + 0.003, Y0 + 0.013)], [(X0 + 0.0045, Y0 + 0.013)], [(np.nan, np.nan)]]
    for places in (tiny_places, None):
        layers = prepare_layers(tiny_units, places)
        for pts in batches:  # the same layers for every batch
            t = make_tickets(pts, ["2025-01-01"] * len(pts))
            got, want = link_prepared(t, layers, tz="Asia/Shanghai"), link_tickets(t, tiny_units, places, tz="Asia/Shanghai")
            pd.testing.assert_frame_equal(got.links, want.links)
            pd.testing.assert_frame_equal(got.place_links, want.place_links)
    first = link_prepared(make_tickets(batches[0], ["2025-01-01"] * 3), prepare_layers(tiny_units, tiny_places))
    assert sorted(first.place_links["place_id"]) == ["H1", "P1", "R1"]
    with pytest.raises(GeodataError):
        link_prepared(make_tickets(batches[0], ["2025-01-01"] * 3).drop(columns="lat"), layers)
