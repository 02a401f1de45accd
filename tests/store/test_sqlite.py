import sqlite3

import numpy as np
import pandas as pd
import pytest
from conftest import X0, Y0, make_tickets

from minqing.config import database_url
from minqing.errors import ConfigError, SchemaVersionError, StoreError
from minqing.geo.link import apply_links, link_tickets
from minqing.store import TicketFilter, open_store


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path}/t.sqlite")
    yield s
    s.close()


def test_new_store_is_migrated_and_wal(store, tmp_path):
    from minqing.store.sqlite.store import _migrations

    assert store.schema_version() == _migrations()[-1][0] >= 1
    con = sqlite3.connect(tmp_path / "t.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    labels = dict(con.execute("SELECT code, zh FROM vocab WHERE vocab = 'channel'").fetchall())
    assert labels["hotline_12345"] == "12345热线"
    assert con.execute("SELECT zh FROM categories WHERE code = '04.01'").fetchone()[0] == "电梯"


def test_units_round_trip_and_versions(store, tiny_units):
    store.write_units(tiny_units.drop(columns="unit_uid"))
    back = store.read_units()
    assert len(back) == len(tiny_units)
    g4 = back[back["code"] == "G4"].iloc[0]
    assert g4["valid_to"] == "2025-07-01"
    assert g4.geometry.equals_exact(tiny_units[tiny_units["code"] == "G4"].geometry.iloc[0], 1e-12)
    assert back["population"].dtype == "Int64"
    grids_before = store.read_units("grid", at="2025-06-30")["code"].tolist()
    grids_after = store.read_units("grid", at="2025-07-01")["code"].tolist()
    assert grids_before == ["G1", "G2", "G3", "G4"]
    assert grids_after == ["G1", "G2", "G3", "G4A", "G4B"]
    # writing the same version again replaces, not duplicates
    store.write_units(tiny_units.drop(columns="unit_uid"))
    assert len(store.read_units()) == len(tiny_units)


def test_places_round_trip(store, tiny_places):
    store.write_places(tiny_places)
    back = store.read_places()
    assert back["place_id"].tolist() == ["H1", "P1", "R1"]
    assert back.set_index("place_id").loc["R1", "buffer_m"] == 25.0
    assert back.geometry.geom_type.tolist() == ["Point", "Polygon", "LineString"]


def _linked(store, tiny_units, tiny_places, n=5):
    store.write_units(tiny_units.drop(columns="unit_uid"))
    store.write_places(tiny_places)
    units = store.read_units()
    pts = [(X0 + 0.005, Y0 + 0.005), (X0 + 0.015, Y0 + 0.005), (X0 + 0.012, Y0 + 0.015), (np.nan, np.nan), (X0 + 0.003, Y0 + 0.013)][:n]
    t = make_tickets(pts, ["2025-01-01 08:00", "2025-03-05 12:30", "2025-08-01 09:00", "2025-08-02 00:00", "2025-09-01 00:00"][:n])
    t["closed_at"] = t["received_at"] + pd.Timedelta(days=2)
    t.loc[1, "closed_at"] = pd.NaT
    t["satisfaction"] = ["satisfied", "unsatisfied", None, "unrated", "satisfied"][:n]
    t["caller_phone"] = "13812345678"
    return apply_links(t, link_tickets(t, units, tiny_places))


def test_tickets_round_trip(store, tiny_units, tiny_places):
    tickets, place_links = _linked(store, tiny_units, tiny_places)
    store.write_tickets(tickets, place_links)
    back = store.read_tickets()
    assert back["source_id"].tolist() == tickets["source_id"].tolist()
    assert (back["received_at"] == tickets["received_at"]).all()
    assert str(back["received_at"].dt.tz) == "Asia/Shanghai"
    assert back["closed_at"].isna().tolist() == [False, True, False, False, False]
    assert [None if pd.isna(v) else v for v in back["grid_code"]] == ["G1", "G3", "G4A", None, "G2"]
    assert back["h3_cell"].iloc[0] == tickets["h3_cell"].iloc[0]
    assert np.isnan(back["lon"].iloc[3])
    assert store.read_ticket_places().to_dict("records") == [
        {"source_id": "T0000", "place_id": "H1"},
        {"source_id": "T0001", "place_id": "R1"},
        {"source_id": "T0004", "place_id": "P1"},
    ]


def test_rewrite_updates_by_id(store, tiny_units, tiny_places):
    tickets, pl = _linked(store, tiny_units, tiny_places)
    store.write_tickets(tickets, pl)
    v1 = store.data_version()
    tickets.loc[1, "satisfaction"] = "satisfied"
    store.write_tickets(tickets, pl)
    assert store.ticket_count() == 5
    assert store.read_tickets()["satisfaction"].iloc[1] == "satisfied"
    assert store.data_version() != v1


def test_filters_and_counts(store, tiny_units, tiny_places):
    tickets, pl = _linked(store, tiny_units, tiny_places)
    store.write_tickets(tickets, pl)
    got = store.read_tickets(TicketFilter(start="2025-03-01", end="2025-08-02", columns=("source_id",)))
    assert got["source_id"].tolist() == ["T0001", "T0002"]
    scoped = store.read_tickets(TicketFilter(unit_level="grid", unit_codes=("G1",)))
    assert scoped["source_id"].tolist() == ["T0000"]
    counts = store.count_tickets("community")
    assert dict(zip(counts["code"].fillna("-"), counts["tickets"])) == {"-": 1, "C1": 2, "C2": 2}


def test_failed_write_leaves_store_unchanged(store, tiny_units, tiny_places):
    tickets, pl = _linked(store, tiny_units, tiny_places)
    store.write_tickets(tickets.iloc[:2], pl[pl["source_id"].isin(["T0000", "T0001"])])
    bad = tickets.copy()
    bad.loc[4, "location_source"] = "guessed"  # violates the CHECK constraint
    with pytest.raises(sqlite3.IntegrityError):
        store.write_tickets(bad, pl)
    assert store.ticket_count() == 2


def test_interventions_round_trip(store):
    iv = pd.DataFrame(
        {
            "intervention_id": [1],
            "name": ["联席会议整治"],
            "type": ["joint_meeting"],
            "start_date": ["2025-04-20"],
            "end_date": [None],
            "implementation_end": ["2025-06-20"],
            "units_involved": ["交警、医院、共享单车企业"],
            "description": ["划线停车、增设隔离桩"],
            "target_categories": ['["02.01.01"]'],
        }
    )
    tg = pd.DataFrame({"intervention_id": [1, 1], "target_type": ["place", "grid"], "target_id": ["H1", "G1"]})
    store.write_interventions(iv, tg)
    back_iv, back_tg = store.read_interventions()
    assert back_iv.iloc[0]["implementation_end"] == "2025-06-20"
    assert back_tg["target_id"].tolist() == ["G1", "H1"]


def test_newer_schema_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(SchemaVersionError, match="newer than this program"):
        open_store(f"sqlite:///{path}")


def test_unopenable_store_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot open the SQLite store"):
        open_store(f"sqlite:///{tmp_path}/file/sub/db.sqlite")


def test_database_url_from_env_and_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv("MINQING_DATABASE_URL", raising=False)
    secrets = tmp_path / "secrets.toml"
    assert database_url(secrets) == "sqlite:///data/minqing.sqlite"
    secrets.write_text('MINQING_DATABASE_URL = "sqlite:///x/y.sqlite"\n', encoding="utf-8")
    assert database_url(secrets) == "sqlite:///x/y.sqlite"
    monkeypatch.setenv("MINQING_DATABASE_URL", "sqlite:////abs/z.sqlite")
    assert database_url(secrets) == "sqlite:////abs/z.sqlite"
    monkeypatch.setenv("MINQING_DATABASE_URL", "mysql://nope")
    with pytest.raises(ConfigError, match="allowed: sqlite, postgresql"):
        database_url(secrets)


def test_received_range(store, tiny_units, tiny_places):
    assert store.received_range() == (None, None)
    tickets, pl = _linked(store, tiny_units, tiny_places)
    store.write_tickets(tickets, pl)
    first, last = store.received_range()
    assert first == pd.Timestamp("2025-01-01 08:00", tz="Asia/Shanghai")
    assert last == pd.Timestamp("2025-09-01 00:00", tz="Asia/Shanghai")
    # the first and the last come from the received-time index, not from reading every ticket (which the
    # aggregates' month expression, asking for them on every call, once did)
    from minqing.store.sqlite.store import RECEIVED_EPOCHS

    plan = " ".join(str(r) for r in store._con.execute("EXPLAIN QUERY PLAN " + RECEIVED_EPOCHS))
    assert "tickets_received" in plan and "SCAN tickets" not in plan, plan


def test_rich_filters_and_paging(store, tiny_units, tiny_places):
    tickets, pl = _linked(store, tiny_units, tiny_places)
    tickets["category"] = ["02.01.01", "02.01.02", "03.01.01", "02.02.01", "04.01.01"]
    tickets["channel"] = ["hotline_12345", "app", "hotline_12345", "qr_code", "hotline_12345"]
    tickets.loc[2, "text"] = "路灯不亮 100%_坏了"
    store.write_tickets(tickets, pl)

    def ids(**kw):
        return store.read_tickets(TicketFilter(columns=("source_id",), **kw))["source_id"].tolist()

    assert ids(categories=("02",)) == ["T0000", "T0001", "T0003"]
    assert ids(categories=("02.01", "04.01.01")) == ["T0000", "T0001", "T0004"]
    assert ids(categories=("02.0",)) == []  # a prefix of a code is not a parent
    assert ids(channels=("app", "qr_code")) == ["T0001", "T0003"]
    assert ids(satisfactions=("satisfied",)) == ["T0000", "T0004"]
    assert ids(place_ids=("R1", "P1")) == ["T0001", "T0004"]
    assert ids(search="100%_") == ["T0002"]
    assert ids(search="%") == ["T0002"]  # wildcards are literal
    assert ids(search="T0003") == ["T0003"]
    assert ids(newest_first=True, limit=2) == ["T0004", "T0003"]
    assert ids(newest_first=True, limit=2, offset=2) == ["T0002", "T0001"]
    assert store.count_where(TicketFilter(categories=("02",), limit=1)) == 3
    assert store.count_where() == 5


def test_bulk_load_rebuilds_indexes(store, tiny_units, tiny_places, monkeypatch):
    import minqing.store.sqlite.store as mod

    monkeypatch.setattr(mod, "REBUILD_MIN", 1)
    before = {n for n, _ in mod.secondary_indexes(store._con, "tickets")}
    tickets, pl = _linked(store, tiny_units, tiny_places)
    store.write_tickets(tickets, pl)
    assert {n for n, _ in mod.secondary_indexes(store._con, "tickets")} == before
    assert {"tickets_received", "tickets_subdistrict", "tickets_grid"} <= before and "tickets_cell" not in before
    assert store.count_where(TicketFilter(unit_level="grid", unit_codes=("G1",))) == 1
    assert len(store.read_ticket_places()) == 3


def test_bulk_load_with_duplicate_ids_rolls_back(store, tiny_units, tiny_places, monkeypatch):
    import minqing.store.sqlite.store as mod

    monkeypatch.setattr(mod, "REBUILD_MIN", 1)
    tickets, pl = _linked(store, tiny_units, tiny_places)
    tickets.loc[1, "source_id"] = "T0000"
    with pytest.raises(sqlite3.IntegrityError):
        store.write_tickets(tickets, pl)
    assert store.ticket_count() == 0
    assert "tickets_source_id" in {n for n, _ in mod.secondary_indexes(store._con, "tickets", unique=True)}


def test_version_9_drops_the_cell_index_of_an_older_store(tmp_path):
    """A store made before version 9 (with the index of tickets by H3 cell) loses that index when opened, its
    tickets untouched; no query plan of the store wanted it (COUNT(*) takes another covering index)."""
    from minqing.store import open_store

    path = tmp_path / "old.sqlite"
    s = open_store(f"sqlite:///{path}")
    s._con.execute("INSERT INTO tickets (source_id, received_at, channel, kind, category, location_source, h3_cell) "
                   "VALUES ('T1', 0, 'hotline_12345', 'complaint', '01', 'none', 5)")
    s.close()
    con = sqlite3.connect(path)
    con.execute("CREATE INDEX tickets_cell ON tickets (h3_cell)")
    con.execute("PRAGMA user_version = 4")
    con.commit()
    con.close()
    s = open_store(f"sqlite:///{path}")
    names = {r[0] for r in s._con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert s.schema_version() >= 9 and "tickets_cell" not in names and s.ticket_count() == 1
    plan = " ".join(r[-1] for r in s._con.execute("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM tickets"))
    assert "COVERING INDEX" in plan, plan
    s.close()
