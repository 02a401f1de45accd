"""The PostgreSQL store's own behaviour: faults (server down, restart, lost connection), timeouts, the import lock.

What every backend shares is the contract suite (tests/store/test_contract.py) and the
staging tests (tests/store/test_staging.py), both run on PostgreSQL too.
"""

from __future__ import annotations

import socket
import threading

import numpy as np
import pandas as pd
import psycopg
import pytest
from conftest import X0, Y0, make_tickets

from minqing.errors import ImportBusyError, SchemaVersionError, StoreError
from minqing.store import open_store
from minqing.store.postgres.store import TIMEOUT_ENV, PostgresStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pg_store(pg_fresh_url):
    store = open_store(pg_fresh_url)
    yield store
    store.close()


def _tickets(n: int, first: int = 0) -> pd.DataFrame:
    t = make_tickets([(X0 + 0.001 * i, Y0 + 0.001) for i in range(n)], ["2025-03-01 09:00"] * n)
    t["source_id"] = [f"T{first + i:04d}" for i in range(n)]
    return t


def test_open_store_picks_the_postgres_store_by_url(pg_fresh_url):
    for url in (pg_fresh_url, pg_fresh_url.replace("postgresql://", "postgres://")):
        with open_store(url) as store:
            assert isinstance(store, PostgresStore) and store.schema_version() >= 4


def test_opening_migrates_and_seeds_the_vocabularies(pg_store, pg_fresh_url):
    with psycopg.connect(pg_fresh_url) as con:
        vocab = con.execute("SELECT count(*) FROM vocab").fetchone()[0]
        categories = con.execute("SELECT count(*) FROM categories").fetchone()[0]
    assert vocab > 10 and categories > 10
    assert pg_store.timezone == "Asia/Shanghai" and pg_store.ticket_count() == 0


def test_a_newer_schema_is_refused(pg_fresh_url):
    open_store(pg_fresh_url).close()
    with psycopg.connect(pg_fresh_url) as con:
        con.execute("INSERT INTO schema_version (version, name) VALUES (999, 'future.sql')")
    with pytest.raises(SchemaVersionError, match="999"):
        open_store(pg_fresh_url)


def test_server_down_at_open_is_a_store_error_without_the_password():
    url = f"postgresql://minqing:s3cret@127.0.0.1:{_free_port()}/minqing"
    with pytest.raises(StoreError) as info:
        open_store(url)
    err = info.value
    assert err.key == "error.store_unreachable"
    assert "s3cret" not in str(err) and "minqing:***@127.0.0.1" in str(err)
    assert all("s3cret" not in str(v) for v in err.params.values())


def test_the_pool_recovers_after_a_server_restart(pg_cluster, pg_store):
    pg_store.write_tickets(_tickets(3))
    assert pg_store.ticket_count() == 3  # a pooled connection is open now
    pg_cluster.restart()
    assert pg_store.ticket_count() == 3  # the dead connection is noticed and replaced
    pg_store.write_tickets(_tickets(2, first=3))
    assert pg_store.ticket_count() == 5


def test_a_slow_read_hits_the_statement_timeout(pg_fresh_url, monkeypatch):
    monkeypatch.setenv(TIMEOUT_ENV, "100")
    with open_store(pg_fresh_url) as store:
        assert store.timeout_ms == 100
        with pytest.raises(StoreError) as info:
            store._query("SELECT pg_sleep(2)")
        assert info.value.key == "error.store_timeout" and "100 ms" in str(info.value)
        with store._tx() as con:  # writes (imports) run without it
            con.execute("SELECT pg_sleep(0.3)")
        assert store.ticket_count() == 0  # the connection is still usable


def test_a_bad_timeout_setting_is_a_config_error(monkeypatch):
    from minqing.errors import ConfigError
    from minqing.store.postgres.store import statement_timeout_ms

    monkeypatch.setenv(TIMEOUT_ENV, "soon")
    with pytest.raises(ConfigError, match=TIMEOUT_ENV):
        statement_timeout_ms()
    monkeypatch.delenv(TIMEOUT_ENV)
    assert statement_timeout_ms() == 30_000


def test_a_lost_connection_mid_import_rolls_back_and_a_retry_completes(pg_store, monkeypatch):
    from minqing.store.postgres import imports

    original = imports.IngestMixin._copy_scratch

    def copy_then_die(con, *args):
        original(con, *args)
        with psycopg.connect(pg_store._conninfo, autocommit=True) as killer:  # kill the importing backend
            killer.execute("SELECT pg_terminate_backend(%s)", (con.info.backend_pid,))

    tickets = _tickets(4)
    tickets["_key"] = np.arange(1, 5, dtype="int64")
    tickets["_hash"] = np.arange(4, dtype="int64") + 7
    empty = pd.DataFrame({"_key": pd.Series([], dtype="int64"), "source_id": pd.Series([], dtype=object),
                          "place_id": pd.Series([], dtype=object)})
    sources = pd.DataFrame({"_key": pd.Series([], dtype="int64"), "source_id": pd.Series([], dtype=object),
                            "row_hash": pd.Series([], dtype="int64")})
    changes = pd.DataFrame({"_key": pd.Series([], dtype="int64"),
                            **{c: pd.Series([], dtype=object) for c in ("source_id", "field", "old_value", "new_value")}})
    report = {"import_id": "imp1", "file": "a.csv", "sha256": "0" * 64, "format": "csv", "user": "t",
              "started_epoch": 1_740_000_000, "finished_epoch": 1_740_000_060, "rows_read": 4, "inserted": 4,
              "updated": 0, "unchanged": 0, "quarantined": 0, "duplicates": 0}
    monkeypatch.setattr(imports.IngestMixin, "_copy_scratch", staticmethod(copy_then_die))
    with pytest.raises(StoreError, match="cannot reach"), pg_store.begin_import() as stage:
        stage.add(tickets, empty, sources, changes)
        stage.commit(report)
    assert pg_store.ticket_count() == 0 and pg_store.read_import_reports() == []
    monkeypatch.setattr(imports.IngestMixin, "_copy_scratch", staticmethod(original))
    with pg_store.begin_import() as stage:
        stage.add(tickets, empty, sources, changes)
        stage.commit(report)
    assert pg_store.ticket_count() == 4 and len(pg_store.read_import_reports()) == 1


def test_two_imports_serialise_on_the_advisory_lock(pg_fresh_url):
    with open_store(pg_fresh_url) as first, open_store(pg_fresh_url) as second:
        held, release = threading.Event(), threading.Event()

        def hold():
            with first.import_lock(holder="ann: orders.csv"):
                held.set()
                release.wait(10)

        worker = threading.Thread(target=hold)
        worker.start()
        try:
            assert held.wait(10)
            seen = []
            with pytest.raises(ImportBusyError) as info, second.import_lock(holder="bob", wait=0.5,
                                                                            on_wait=seen.append):
                pass
            assert len(seen) == 1 and "ann: orders.csv" in seen[0] and "ann: orders.csv" in str(info.value)
        finally:
            release.set()
            worker.join(10)
        with second.import_lock(holder="bob", wait=5):  # free again
            pass


def test_a_missing_database_is_unreachable_and_a_server_error_is_not(pg_cluster, pg_store):
    url = pg_cluster.url("no_such_db").replace("postgres@", "postgres:pw9@")
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert info.value.key == "error.store_unreachable" and "pw9" not in str(info.value)
    with pytest.raises(StoreError) as info, pg_store._read() as con:  # the server answers with an error (class 58)
        con.execute("SELECT pg_read_file('/nonexistent')")
    assert info.value.key == "error.store_io" and pg_store.ticket_count() == 0
