"""Import the demo scenario written as a real export (GBK, Chinese headers, GCJ-02) and check it against truth."""

from __future__ import annotations

import numpy as np

from minqing.config import geodata_dir
from minqing.demo.scenario import generate_demo
from minqing.geo.layers import read_places, read_units
from minqing.ingest.pipeline import ImportOptions, import_file
from minqing.demo.exports import to_hotline_export
from minqing.store import open_store


def test_demo_export_round_trip(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'd.sqlite'}")
    store.write_units(read_units(geodata_dir()))
    store.write_places(read_places(geodata_dir()))
    scenario = generate_demo(store.read_units(), store.read_places(), n_target=10_000)
    truth = scenario.tickets
    path = tmp_path / "orders.csv"
    to_hotline_export(truth, "gcj02").to_csv(path, index=False, encoding="gb18030")
    r = import_file(store, path, ImportOptions())
    assert r.reconciles() and r.rows_read == len(truth)
    assert r.quarantined == 0 and r.inserted == len(truth)
    got = store.read_tickets().set_index("source_id").loc[truth["source_id"]]
    located = truth["lon"].notna().to_numpy()
    # GCJ-02 -> WGS-84 inverse is sub-metre (1e-7 degrees is about 1 cm).
    assert np.nanmax(np.abs(got["lon"].to_numpy()[located] - truth["lon"].to_numpy()[located])) < 1e-6
    assert (got["category"].to_numpy() == truth["category"].to_numpy()).all()
    assert (got["channel"].to_numpy() == truth["channel"].to_numpy()).all()
    assert (got["satisfaction"].fillna("-").to_numpy() == truth["satisfaction"].fillna("-").to_numpy()).all()
    grids = scenario.truth.set_index("source_id").loc[truth["source_id"], "grid_code"].to_numpy()
    same = got["grid_code"].to_numpy()[located] == grids[located]
    assert same.mean() > 0.999
    # Unlocated tickets naming a known place are located by address.
    assert r.located_by_address > 0
    assert (got["location_source"] == "address_match").sum() == r.located_by_address
    r2 = import_file(store, path, ImportOptions())
    assert (r2.unchanged, r2.inserted, r2.updated) == (len(truth), 0, 0)
    store.close()
