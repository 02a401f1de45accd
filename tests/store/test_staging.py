"""The import staging session (minqing.store.staging) on every backend: SQLite and PostgreSQL.

Both stage into scratch files of a temporary folder (one per process); the commit copies
them into the store (SQLite: attached files; PostgreSQL: COPY into temporary tables).
"""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pandas as pd
import pytest
from conftest import X0, Y0, make_tickets

from minqing.store import open_store
from minqing.store import scratch

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def city_store(request, tmp_path, tiny_units, tiny_places):
    """An empty store of the tiny city (units and places, no tickets) on each backend."""
    url = (f"sqlite:///{tmp_path / 'city.sqlite'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_fresh_url"))
    s = open_store(url)
    s.write_units(tiny_units.drop(columns="unit_uid"))
    s.write_places(tiny_places)
    yield s
    s.close()


def _integrity_error(store) -> type[Exception]:
    """The driver's exception for a broken foreign key."""
    if store.url.startswith("sqlite:"):
        return sqlite3.IntegrityError
    import psycopg

    return psycopg.IntegrityError


def _chunk(number: int, n: int, first: int = 0):
    """One chunk's staged rows: ``n`` new tickets T<first>.. keyed by chunk ``number``, the first at place H1."""
    tickets = make_tickets([(X0 + 0.001 * i, Y0 + 0.001) for i in range(n)],
                           [f"2025-03-0{1 + i % 9} 09:00" for i in range(n)])
    tickets["source_id"] = [f"T{first + i:04d}" for i in range(n)]
    keys = (np.int64(number) << 32) + np.arange(1, n + 1, dtype="int64")
    tickets["_key"] = keys
    tickets["_hash"] = np.arange(n, dtype="int64") + 1000 * (number + 1)
    links = pd.DataFrame({"_key": keys[:1], "source_id": tickets["source_id"].iloc[:1], "place_id": ["H1"]})
    sources = pd.DataFrame({"_key": pd.Series([], dtype="int64"), "source_id": pd.Series([], dtype=object),
                            "row_hash": pd.Series([], dtype="int64")})
    changes = pd.DataFrame({"_key": pd.Series([], dtype="int64"), **{c: pd.Series([], dtype=object) for c in
                                                                    ("source_id", "field", "old_value", "new_value")}})
    return tickets, links, sources, changes


def _report(import_id: str = "imp1", inserted: int = 0) -> dict:
    return {"import_id": import_id, "file": "orders.csv", "sha256": "0" * 64, "format": "csv", "user": "test",
            "started_epoch": 1_740_000_000, "finished_epoch": 1_740_000_060, "rows_read": inserted,
            "inserted": inserted, "updated": 0, "unchanged": 0, "quarantined": 0, "duplicates": 0}


def _quarantine(rows, reason="missing_time", row_hash=None) -> pd.DataFrame:
    return pd.DataFrame({"row_number": np.asarray(rows, dtype="int64"), "source_id": [f"Q{r}" for r in rows],
                         "reason": reason, "detail": [f"d{r}" for r in rows], "original": "{}",
                         "row_hash": np.asarray(row_hash if row_hash is not None else rows, dtype="int64")})


def test_added_rows_are_there_after_commit(city_store):
    with city_store.begin_import() as stage:
        folder = stage.folder
        stage.add(*_chunk(0, 3))
        stage.add(*_chunk(1, 2, first=3))
        stage.add_quarantine(_quarantine([6, 7], row_hash=[5, 5]))  # row 7 repeats row 6 exactly
        assert stage.repeated_quarantine_rows() == {7}
        reasons = stage.quarantine_reasons({7})
        assert reasons == {"missing_time": (1, [{"row": 6, "source_id": "Q6", "value": "d6"}])}
        drop = [(1 << 32) + 2]  # the second row of chunk 1: not stored
        stage.commit(_report(inserted=4), drop_keys=drop, dup_rows=[7])
    assert not folder.exists()  # the scratch folder goes with the session
    ids = sorted(city_store.read_tickets()["source_id"])
    assert ids == ["T0000", "T0001", "T0002", "T0003"]
    assert city_store.read_source_hashes().loc["T0003"] == 2000  # chunk 1's first row
    assert city_store.read_ticket_places()[["source_id", "place_id"]].values.tolist() == [["T0000", "H1"], ["T0003", "H1"]]
    q = city_store.read_quarantine()
    assert q["row_number"].tolist() == [6] and q["import_id"].tolist() == ["imp1"]
    assert [r["import_id"] for r in city_store.read_import_reports()] == ["imp1"]


def test_an_exception_or_a_discard_leaves_the_store_unchanged(city_store):
    version = city_store.data_version()
    with pytest.raises(RuntimeError, match="boom"), city_store.begin_import() as stage:
        folder = stage.folder
        stage.add(*_chunk(0, 3))
        stage.add_quarantine(_quarantine([4]))
        raise RuntimeError("boom")
    assert not folder.exists()
    with city_store.begin_import() as stage:  # a dry run: staged, never committed
        stage.add(*_chunk(0, 3))
    stage.discard()  # twice is harmless
    assert city_store.ticket_count() == 0 and city_store.read_quarantine().empty
    assert city_store.read_import_reports() == [] and city_store.data_version() == version


def test_a_failed_commit_rolls_back(city_store):
    tickets, links, sources, changes = _chunk(0, 2)
    links["place_id"] = ["NOPE"]  # not a stored place: the foreign key fails inside the transaction
    with pytest.raises(_integrity_error(city_store)), city_store.begin_import() as stage:
        stage.add(tickets, links, sources, changes)
        stage.commit(_report(inserted=2))
    assert city_store.ticket_count() == 0 and city_store.read_import_reports() == []


def test_a_forked_worker_stages_and_the_parent_commits(city_store):
    with city_store.begin_import() as stage:
        stage.add(*_chunk(0, 2))  # the importing process stages too (small files)
        pid = os.fork()
        if pid == 0:  # the worker: its own scratch file, then gone without unwinding the parent's stack
            code = 1
            try:
                stage.add(*_chunk(1, 3, first=2))
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert len(list(stage.folder.glob("stage_*"))) == 2  # one file (SQLite) or folder (Arrow) per process
        stage.commit(_report(inserted=5))
    assert sorted(city_store.read_tickets()["source_id"]) == [f"T{i:04d}" for i in range(5)]


def test_only_the_importing_process_commits(city_store):
    with city_store.begin_import() as stage:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                try:
                    stage.commit(_report())
                except RuntimeError:
                    code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert stage.folder.exists()  # the worker neither committed nor removed the parent's scratch folder


# -- SQLite: staged in the store's own ticket layout ------------------------------------------


def _sqlite_store(tmp_path, tiny_units, tiny_places):
    s = open_store(f"sqlite:///{tmp_path / 'lite.sqlite'}")
    s.write_units(tiny_units.drop(columns="unit_uid"))
    s.write_places(tiny_places)
    return s


def test_sqlite_stages_each_chunk_in_the_tickets_layout_and_copies_it_as_a_transfer(tmp_path, tiny_units, tiny_places):
    """Into a table without indexes the copy reads no column: SQLite's transfer of stored records (no MakeRecord)."""
    s = _sqlite_store(tmp_path, tiny_units, tiny_places)
    (ddl,) = s._con.execute("SELECT sql FROM sqlite_master WHERE name = 'tickets'").fetchone()
    with s.begin_import() as stage:
        stage.add(*_chunk(0, 3))
        (path,) = stage.folder.glob("stage_*.sqlite")
        probe = sqlite3.connect(":memory:")
        probe.execute(ddl)
        probe.execute("ATTACH DATABASE ? AS st", (str(path),))
        staged = probe.execute("SELECT sql FROM st.sqlite_master WHERE name = 't_tickets_00000000'").fetchone()[0]
        ops = {r[1] for r in probe.execute("EXPLAIN INSERT INTO tickets SELECT * FROM st.t_tickets_00000000")}
        keys = [r[0] for r in probe.execute("SELECT ticket_id FROM st.t_tickets_00000000 ORDER BY 1")]
        probe.close()
    s.close()
    assert staged.replace("t_tickets_00000000", "tickets").replace("IF NOT EXISTS ", "") == ddl
    assert "RowData" in ops and "MakeRecord" not in ops and "Column" not in ops
    assert keys == [1, 2, 3]  # the row keys of chunk 0


@pytest.mark.parametrize("drop", [[], [2]], ids=["transfer", "rows-dropped"])
def test_sqlite_bulk_commit_keeps_file_order_hashes_and_drops(tmp_path, tiny_units, tiny_places, monkeypatch, drop):
    import minqing.store.sqlite.imports as lite

    monkeypatch.setattr(lite, "REBUILD_MIN", 1)  # bulk mode: an empty store, indexes built at the end
    s = _sqlite_store(tmp_path, tiny_units, tiny_places)
    with s.begin_import() as stage:
        stage.add(*_chunk(1, 2, first=3))  # staged before chunk 0, as a worker may
        stage.add(*_chunk(0, 3))
        (path,) = stage.folder.glob("stage_*.sqlite")
        with sqlite3.connect(path) as probe:  # a table per chunk of tickets, place links and source hashes
            staged = {r[0] for r in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            page_size = probe.execute("PRAGMA page_size").fetchone()[0]
        stage.commit(_report(inserted=5 - len(drop)), drop_keys=drop)
    order = [r[0] for r in s._con.execute("SELECT source_id FROM tickets ORDER BY rowid")]
    links = sorted(s._con.execute("SELECT source_id, place_id FROM ticket_places").fetchall())
    place_indexes = {n for n, _ in lite.secondary_indexes(s._con, "ticket_places")}
    hashes = s.read_source_hashes()
    indexes = {n for n, _ in lite.secondary_indexes(s._con, "tickets", unique=True)}
    assert s._con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # the index builds' settings (sorts in threads, temporary files, a small cache) are undone
    pragmas = {p: s._con.execute(f"PRAGMA {p}").fetchone()[0] for p in ("temp_store", "threads", "cache_size", "mmap_size")}
    assert pragmas == {"temp_store": 2, "threads": 0, "cache_size": lite.CACHE_KIB, "mmap_size": 0}
    assert len(s.read_tickets_by_ids(["T0000", "T0004", "nope"])) == 2  # temporary tables work again
    s.close()
    expected = [f"T{i:04d}" for i in range(5) if i + 1 not in drop]
    assert order == expected  # file order: chunk 0, then chunk 1
    assert sorted(hashes.index) == expected
    assert hashes.loc["T0000"] == 1000 and hashes.loc["T0004"] == 2001
    assert {"tickets_source_id", "tickets_received", "tickets_grid", "tickets_category_received"} <= indexes
    assert links == [("T0000", "H1"), ("T0003", "H1")]  # the first ticket of each chunk
    assert place_indexes == {"ticket_places_place"}  # dropped for the load, built again after it
    with sqlite3.connect(s.path) as store_file:  # the store keeps its own pages: the copy is across page sizes
        assert page_size == scratch.SCRATCH_PAGE_SIZE != store_file.execute("PRAGMA page_size").fetchone()[0]
    assert staged == {f"{t}_{k:08d}" for t in ("t_tickets", "t_places", "t_sources") for k in (0, 1)} | {"t_changes"}


def test_a_staged_ticket_breaking_a_check_rule_stops_the_import(city_store):
    """The store's CHECK rules hold for staged tickets too (SQLite checks them once per chunk, in the worker)."""
    tickets, links, sources, changes = _chunk(0, 3)
    tickets.loc[1, "location_source"] = "somewhere"
    expected = (ValueError,) if city_store.url.startswith("sqlite:") else (_integrity_error(city_store),)
    with pytest.raises(expected, match="T0001|location_source|check"), city_store.begin_import() as stage:
        stage.add(tickets, links, sources, changes)
        stage.commit(_report(inserted=3))
    assert city_store.ticket_count() == 0 and city_store.read_import_reports() == []


def test_check_rules_reads_every_check_and_skips_quoted_text():
    from minqing.store.scratch import check_rules

    sql = ("CREATE TABLE x (a TEXT CHECK (a IN ('x)', 'it''s')), \"check(\" INT, b INT CHECK(b > (0)),"
           " c_check INT, [d)] TEXT, CONSTRAINT e CHECK (c_check IS NULL OR c_check < 5))")
    assert check_rules(sql) == ["a IN ('x)', 'it''s')", "b > (0)", "c_check IS NULL OR c_check < 5"]
    assert check_rules("CREATE TABLE y (a INT)") == []
    with pytest.raises(ValueError):
        check_rules("CREATE TABLE z (a INT CHECK (a > (0)")
