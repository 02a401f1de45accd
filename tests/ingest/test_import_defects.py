"""Defects seen importing real exports (issue #12), each test named after one."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest
from import_helpers import run_import

from minqing.errors import ImportBusyError
from minqing.ingest.pipeline import ImportOptions, import_file

NOW = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")
HEADER = "工单编号,受理时间,诉求内容,经度,纬度\n"


run = run_import


def counts(r):
    return (r.rows_read, r.inserted, r.updated, r.unchanged, r.quarantined, r.duplicates)


def test_identical_rows_without_id_are_one_quarantined_row_and_two_duplicates(store, tmp_path):
    p = tmp_path / "blank.csv"
    p.write_text(HEADER + ",2025-04-03,x,121.505,31.285\n" * 3 + ",2025-04-03,other,121.505,31.285\n",
                 encoding="utf-8")
    r = run(store, p)
    assert counts(r) == (4, 0, 0, 0, 2, 2) and r.reconciles()
    assert r.reasons == {"missing_id": 2}
    q = store.read_quarantine()
    assert len(q) == r.quarantined  # what the report counts is what the quarantine holds
    assert sorted(q["row_number"]) == [1, 4]


def test_id_stored_without_source_row_is_updated_with_a_change_record(store, tmp_path):
    """A ticket written by the demo (no source hash) and then imported again is an update, not 'inserted'."""
    first = tmp_path / "a.csv"
    first.write_text(HEADER + "A1,2025-04-03,before,121.505,31.285\n", encoding="utf-8")
    run(store, first)
    tickets = store.read_tickets()
    store._con.execute("DELETE FROM ticket_sources")  # what the demo's direct write leaves: no source row
    store.write_tickets(tickets)
    again = tmp_path / "b.csv"
    again.write_text(HEADER + "A1,2025-04-03,after,121.505,31.285\n", encoding="utf-8")
    dry = run(store, again, dry_run=True)
    assert (dry.inserted, dry.updated) == (0, 1)  # the dry run says what the import will do
    r = run(store, again)
    assert (r.inserted, r.updated) == (0, 1)
    ch = store.read_ticket_changes("A1")
    assert ch[["field", "old_value", "new_value"]].values.tolist() == [["text", "before", "after"]]
    same = run(store, again)
    assert same.unchanged == 1 and same.updated == 0


def test_dry_run_counts_existing_orders_as_updates_not_new(store, tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(HEADER + "".join(f"A{i},2025-04-03,x{i},121.505,31.285\n" for i in range(10)), encoding="utf-8")
    run(store, p)
    p2 = tmp_path / "b.csv"
    p2.write_text(HEADER + "".join(f"A{i},2025-04-03,y{i},121.505,31.285\n" for i in range(10)), encoding="utf-8")
    dry = run(store, p2, dry_run=True)
    assert (dry.inserted, dry.updated) == (0, 10)
    assert len(store.read_ticket_changes()) == 0  # nothing written


def test_import_waits_for_or_refuses_a_concurrent_import(store, tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(HEADER + "A1,2025-04-03,x,121.505,31.285\n", encoding="utf-8")
    held = threading.Event()
    release = threading.Event()

    def other():
        with store.import_lock("planner: other.csv"):
            held.set()
            release.wait(10)

    th = threading.Thread(target=other)
    th.start()
    held.wait(5)
    with pytest.raises(ImportBusyError) as err:
        run(store, p, lock_wait=0.3)
    assert "planner: other.csv" in str(err.value) and err.value.key == "ingest.error_busy"
    assert store.ticket_count() == 0  # nothing written
    waits = []
    timer = threading.Timer(0.5, release.set)
    timer.start()
    r = import_file(store, p, ImportOptions(now=NOW, lock_wait=10), progress=lambda s, f: waits.append(s))
    th.join()
    assert r.inserted == 1 and "waiting" in waits


_HOLD = """
import sys, time
from minqing.store import open_store

with open_store(sys.argv[1]) as s, s.import_lock("cli: held.csv"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_imports_from_two_processes_serialise(store, tmp_path):
    """The lock is across processes (the app and the command line), released when the holder ends."""
    p = tmp_path / "a.csv"
    p.write_text(HEADER + "A1,2025-04-03,x,121.505,31.285\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, store.url, "1.5"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    with pytest.raises(ImportBusyError, match="cli: held.csv"):
        run(store, p, lock_wait=0.2)
    t = time.perf_counter()
    r = run(store, p, lock_wait=30)  # waits for the other process, then imports
    assert r.inserted == 1 and time.perf_counter() - t > 0.5
    proc.wait(10)


def test_two_concurrent_imports_of_the_same_ids_keep_history(store, tmp_path):
    """Both run to the end; the second sees the first's rows, so it records changes instead of 'inserted'."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(HEADER + "".join(f"A{i},2025-04-03,first{i},121.505,31.285\n" for i in range(50)), encoding="utf-8")
    b.write_text(HEADER + "".join(f"A{i},2025-04-03,second{i},121.505,31.285\n" for i in range(50)), encoding="utf-8")
    out = {}
    ths = [threading.Thread(target=lambda k=k, f=f: out.__setitem__(k, run(store, f))) for k, f in (("a", a), ("b", b))]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    assert sorted((out["a"].inserted, out["b"].inserted)) == [0, 50]
    assert sorted((out["a"].updated, out["b"].updated)) == [0, 50]
    assert len(store.read_ticket_changes()) == 50


def test_open311_records_without_id_are_quarantined_not_merged(store, tmp_path):
    recs = [{"requested_datetime": "2025-04-03T10:00:00+08:00", "description": d, "lat": 31.285, "long": 121.505}
            for d in ("a", "b")]
    recs.append({"service_request_id": None, "requested_datetime": "2025-04-03T12:00:00+08:00", "description": "c",
                 "lat": 31.285, "long": 121.505})
    recs.append({"service_request_id": "R1", "requested_datetime": "2025-04-03T12:00:00+08:00", "description": "d",
                 "lat": 31.285, "long": 121.505})
    p = tmp_path / "o.json"
    p.write_text(json.dumps(recs), encoding="utf-8")
    r = run(store, p)
    assert counts(r) == (4, 1, 0, 0, 3, 0) and r.reasons == {"missing_id": 3}
    assert store.read_tickets()["source_id"].tolist() == ["R1"]  # no "nan" id


@pytest.mark.parametrize("lang,fmt", [("zh", "csv"), ("en", "csv"), ("zh", "xlsx")])
def test_the_apps_own_export_imports_back_with_every_column(demo_store_url, tmp_path, lang, fmt):
    from minqing.store import TicketFilter, open_store
    from minqing.ui.tables import export_bytes, labelled

    with open_store(demo_store_url) as demo:
        rows = demo.read_tickets(TicketFilter(limit=3000)) if "limit" in TicketFilter.__dataclass_fields__ \
            else demo.read_tickets().iloc[:3000]
        units, places = demo.read_units(), demo.read_places()
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(export_bytes(rows, lang, fmt))
    header = list(labelled(rows.iloc[:1], lang).columns)
    with open_store(f"sqlite:///{tmp_path}/back.sqlite") as back:
        back.write_units(units)
        back.write_places(places)
        r = import_file(back, path, ImportOptions(now=pd.Timestamp("2027-01-01", tz="Asia/Shanghai")))
        assert r.rows_read == len(rows) and r.inserted == len(rows) and r.quarantined == 0
        assert r.unknown_columns == [] and len(r.mapping) == len(header)  # every column is read as what it is
        assert not r.unknown_values
        got = back.read_tickets().set_index("source_id").loc[rows["source_id"]]
    want = rows.set_index("source_id")
    for col in ("received_at", "due_at", "closed_at"):
        pd.testing.assert_series_equal(got[col], want[col], check_names=False, check_dtype=False)
    for col in ("category", "channel", "kind", "status", "satisfaction", "address", "text"):
        a = got[col].astype(object).where(got[col].notna(), None).replace({"": None})
        b = want[col].astype(object).where(want[col].notna(), None).replace({"": None})
        if col == "satisfaction":  # an unrated order exports as its label and imports as "unrated"
            a, b = a.replace({"unrated": None}), b.replace({"unrated": None})
        assert (a.to_numpy() == b.to_numpy()).all(), col


def test_a_city_with_communities_only_links_every_located_order(tmp_path, tiny_units):
    from minqing.store import open_store

    communities = tiny_units[tiny_units["level"] == "community"].drop(columns="unit_uid").assign(parent_code=None)
    with open_store(f"sqlite:///{tmp_path}/c.sqlite") as s:
        s.write_units(communities)
        p = tmp_path / "a.csv"
        p.write_text(HEADER + "A1,2025-04-03,x,121.505,31.285\nA2,2025-04-03,y,121.515,31.285\n"
                     "A3,2025-04-03,z,,\n", encoding="utf-8")
        r = run(s, p)
        assert (r.inserted, r.linked, r.unlocated) == (3, 2, 1)
        t = s.read_tickets().set_index("source_id")
        assert t.loc[["A1", "A2"], "community_code"].tolist() == ["C1", "C2"]
        assert t["grid_code"].isna().all()


def test_units_import_reads_valid_to_and_versions_of_one_code(tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    from minqing.errors import IngestError
    from minqing.ingest.layers_import import import_units
    from minqing.store import open_store

    def layer(rows, name):
        gdf = gpd.GeoDataFrame(rows, columns=["code", "name", "valid_from", "valid_to", "geometry"], crs=4326)
        path = tmp_path / name
        gdf.to_file(path, driver="GeoJSON")
        return path

    a, b = box(121.50, 31.28, 121.51, 31.29), box(121.50, 31.28, 121.52, 31.29)
    ok = layer([("N1", "旧", "2020-01-01", "2024-01-01", a), ("N1", "新", "2024-01-01", None, b),
                ("N2", "撤", "2020-01-01", "2023-06-01", box(121.51, 31.28, 121.52, 31.29))], "ok.geojson")
    with open_store(f"sqlite:///{tmp_path}/u.sqlite") as s:
        r = import_units(s, ok, "grid")
        assert (r.new, r.retired, r.overlaps) == (1, 2, [])
        u = s.read_units("grid").sort_values(["code", "valid_from"])
        assert u[["code", "valid_from", "valid_to"]].astype(object).where(u.notna(), None).values.tolist() == [
            ["N1", "2020-01-01", "2024-01-01"], ["N1", "2024-01-01", None], ["N2", "2020-01-01", "2023-06-01"]]
        assert s.read_units("grid", at="2023-01-01")["code"].tolist() == ["N1", "N2"]
        assert s.read_units("grid", at="2025-01-01")["name"].tolist() == ["新"]
        bad = layer([("N1", "旧", "2020-01-01", "2025-01-01", a), ("N1", "新", "2024-01-01", None, b)], "bad.geojson")
        with pytest.raises(IngestError, match="appears twice"):
            import_units(s, bad, "grid")


def test_per_column_counts_describe_the_stored_rows(store, tmp_path):
    """Unmapped values and unreadable times leave out quarantined rows and exact repeats (helper's repro)."""
    p = tmp_path / "c.csv"
    head = "工单编号,受理时间,问题分类,办结时间,经度,纬度\n"
    p.write_text(head + "A1,2025-04-03,燃气报修,NA,121.505,31.285\n" * 2 + ",2025-04-03,燃气报修,NA,121.505,31.285\n"
                 + "A2,2025-04-03,燃气报修,bad,121.505,31.285\n", encoding="utf-8")
    r = run(store, p)
    assert counts(r) == (4, 2, 0, 0, 1, 1)
    assert r.unknown_values["category"] == {"燃气报修": 2}
    assert r.unreadable == {"closed_at": 2}


def test_full_width_digits_in_times_are_read_not_a_crash(store, tmp_path):
    """A hand-typed export's full-width dates (１３/04/2025): the date order and the times read as ASCII ones."""
    p = tmp_path / "wide.csv"
    p.write_text(HEADER + "W1,１３/04/2025 10:00,吵,121.505,31.285\nW2,０３／04／2025　10：00,吵,121.505,31.285\n"
                 "W3,2025-04-05 08:00,吵,121.505,31.285\n", encoding="utf-8")
    r = run(store, p)
    assert (r.inserted, r.quarantined, r.date_order) == (3, 0, "DMY")
    got = store.read_tickets().set_index("source_id")["received_at"].astype(str).to_dict()
    assert got == {"W1": "2025-04-13 10:00:00+08:00", "W2": "2025-04-03 10:00:00+08:00", "W3": "2025-04-05 08:00:00+08:00"}


def test_times_of_other_systems_are_read_not_quarantined_or_misread(store, tmp_path):
    """A Java back end's Date.toString() and Unix epochs: every row stored at its true time; an ambiguous zone
    abbreviation (PST) is quarantined as an unreadable time, never guessed."""
    p = tmp_path / "java.csv"
    p.write_text(HEADER + "J1,Thu Apr 03 10:05:00 CST 2025,吵,121.505,31.285\n"
                 "J2,1743645900000,吵,121.505,31.285\nJ3,1743645900,吵,121.505,31.285\n"
                 "J4,202504031005,吵,121.505,31.285\nJ5,2025-04-03 10:05:00 星期四,吵,121.505,31.285\n"
                 "J6,Thu Apr 03 10:05:00 PST 2025,吵,121.505,31.285\n", encoding="utf-8")
    r = run(store, p)
    assert (r.rows_read, r.inserted, r.quarantined) == (6, 5, 1)
    got = store.read_tickets().set_index("source_id")["received_at"].astype(str).to_dict()
    assert got == {f"J{i}": "2025-04-03 10:05:00+08:00" for i in range(1, 6)}
    q = store.read_quarantine()
    assert q["source_id"].tolist() == ["J6"] and q["reason"].tolist() == ["bad_time"]


def test_coordinates_in_degrees_minutes_seconds_locate_the_order(store, tmp_path):
    """Coordinates written 121°30'18"E / 东经121度30分18秒 / full width are read, so the order is located and linked."""
    p = tmp_path / "dms.csv"
    p.write_text(HEADER + 'D1,2025-04-03 10:00,吵,"121°30\'18""E","31°17\'06""N"\n'
                 "D2,2025-04-03 10:00,吵,东经121度30分18秒,北纬31度17分6秒\n"
                 "D3,2025-04-03 10:00,吵,１２１.５０５,３１.２８５\nD4,2025-04-03 10:00,吵,121.505,31.285\n", encoding="utf-8")
    r = run(store, p)
    assert (r.inserted, r.quarantined) == (4, 0)
    t = store.read_tickets().set_index("source_id")
    assert t["location_source"].tolist() == ["coordinates"] * 4
    assert t["grid_code"].nunique() == 1 and t["grid_code"].notna().all()
    assert np.allclose(t["lon"].astype(float), t.loc["D4", "lon"]) and np.allclose(t["lat"].astype(float), t.loc["D4", "lat"])


def test_day_and_clock_in_two_columns_make_the_received_time(store, tmp_path):
    p = tmp_path / "split.csv"
    p.write_text("工单编号,受理日期,受理时间,诉求内容,经度,纬度\nS1,2025-04-03,10:05:00,吵,121.505,31.285\n"
                 "S2,2025/4/4,下午3点05分,吵,121.505,31.285\nS3,2025-04-05,,吵,121.505,31.285\n"
                 "S4,2025-04-06,2025-04-06 08:00,吵,121.505,31.285\nS5,,10:00,吵,121.505,31.285\n", encoding="utf-8")
    r = run(store, p)
    assert (r.rows_read, r.inserted, r.quarantined) == (5, 4, 1) and r.reasons == {"bad_time": 1}  # S5: no day
    got = store.read_tickets().set_index("source_id")["received_at"].astype(str).to_dict()
    assert got == {"S1": "2025-04-03 10:05:00+08:00", "S2": "2025-04-04 15:05:00+08:00",
                   "S3": "2025-04-05 00:00:00+08:00", "S4": "2025-04-06 08:00:00+08:00"}
