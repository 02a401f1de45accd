"""Parity: the same import files, imported with the ``minqing`` command into SQLite and into PostGIS, read the same.

Each worked example of docs/importing.md (tests/data/examples/) is imported twice into
each store, as a user does it (layers, then the file with its mapping, then the file
again: nothing changes); then tickets, place links, quarantine, units and every
aggregate of both stores must be equal, dtypes included.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from minqing.cli.main import main
from minqing.config import geodata_dir
from minqing.model import UNIT_LEVELS
from minqing.store import TicketFilter, open_store

EX = Path(__file__).resolve().parents[2] / "data" / "examples"
EXAMPLES = {  # name -> (layers as (file, level), file, mapping)
    "yangpu": ([(geodata_dir() / f"{lv}.geojson", lv) for lv in ("district", "subdistrict", "community", "grid")],
               "yangpu_12345.csv", "yangpu_12345.toml"),
    "bloomington": ([(EX / "bloomington_neighborhoods.geojson", "grid")], "bloomington_open311.json",
                    "bloomington_open311.toml"),
    "bath": ([(EX / "bath_wards.geojson", "community")], "bath_fixmystreet.csv", "bath_fixmystreet.toml"),
    "chicago": ([(EX / "chicago_community_areas.geojson", "grid")], "chicago_311.csv", "chicago_311.toml"),
}
AS_OF = "2026-01-01 12:00"


def _cli(capsys, *args) -> None:
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 0, err


def _load(capsys, url: str, example: str, workers: int | None = None) -> None:
    """Load the example's layers, then import its file twice (with ``workers``: forked workers, small blocks)."""
    from minqing.ingest.pipeline import ImportOptions, import_file

    layers, name, mapping = EXAMPLES[example]
    for path, level in layers:
        _cli(capsys, "--db", url, "units", "import", path, "--level", level)
    for _ in range(2):
        if workers is None:
            _cli(capsys, "--db", url, "import", EX / name, "--mapping", EX / mapping)
            continue
        with open_store(url) as store:
            import_file(store, EX / name, ImportOptions(mapping_file=EX / mapping, workers=workers, block_bytes=2048))


def _sorted(df: pd.DataFrame, keys) -> pd.DataFrame:
    return df.sort_values(list(keys), na_position="first", kind="stable").reset_index(drop=True)


def _same(a: pd.DataFrame, b: pd.DataFrame, keys=None) -> None:
    if a.empty and b.empty:
        assert list(a.columns) == list(b.columns)
        return
    keys = keys or [c for c in a.columns if c != "geometry"]
    pd.testing.assert_frame_equal(_sorted(a, keys), _sorted(b, keys))


def _filters(lite) -> dict:
    first, last = lite.received_range()
    middle = first + (last - first) / 2
    grid = lite.count_tickets("grid").dropna()["code"]
    return {
        "all": None,
        "second half": TicketFilter(start=middle.tz_localize(None)),
        "one grid": TicketFilter(unit_level="grid", unit_codes=tuple(grid.iloc[:1])),
        "search": TicketFilter(search="a"),
    }


def _schema(url: str) -> list:
    """The indexes, constraints and triggers (enabled or not) of the tables an import writes (name, definition)."""
    import psycopg

    with psycopg.connect(url) as con:
        return con.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('tickets', 'ticket_places', "
            "'ticket_sources') UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE "
            "conrelid IN ('tickets'::regclass, 'ticket_places'::regclass, 'ticket_sources'::regclass) "
            "UNION ALL SELECT tgname, tgenabled::text FROM pg_trigger WHERE NOT tgisinternal AND "
            "tgrelid IN ('tickets'::regclass, 'ticket_places'::regclass) ORDER BY 1, 2").fetchall()


@pytest.mark.parametrize("example, workers", [(name, None) for name in EXAMPLES] + [("yangpu", 2)])
def test_an_import_reads_the_same_from_both_stores(example, workers, tmp_path, capsys, pg_fresh_url):
    """``workers``: the chunks staged by forked worker processes (which never touch the server)."""
    _check_parity(example, workers, tmp_path, capsys, pg_fresh_url)


def test_a_bulk_load_reads_the_same_and_keeps_the_schema(tmp_path, capsys, pg_fresh_url, monkeypatch):
    """Both stores' bulk path (indexes dropped and built again; PostgreSQL: foreign keys too, no conflict checks)."""
    import minqing.store.postgres.imports as pg_imports
    import minqing.store.sqlite.imports as lite_imports

    open_store(pg_fresh_url).close()  # migrated: the schema as created
    before = _schema(pg_fresh_url)
    monkeypatch.setattr(pg_imports, "REBUILD_MIN", 1)
    monkeypatch.setattr(lite_imports, "REBUILD_MIN", 1)
    dropped = []
    drop = pg_imports.IngestMixin._drop_indexes

    def counted(con, empty=False):
        statements = drop(con, empty)
        dropped.extend(statements)
        return statements

    monkeypatch.setattr(pg_imports.IngestMixin, "_drop_indexes", staticmethod(counted))
    _check_parity("yangpu", None, tmp_path, capsys, pg_fresh_url)
    # into the empty store: the unique source_id index, 7 + 1 indexes, 3 foreign keys, 2 rollup triggers
    assert len(dropped) >= 13 and any("UNIQUE" in str(s) for s in dropped)
    assert _schema(pg_fresh_url) == before  # every trigger enabled again


def _check_parity(example, workers, tmp_path, capsys, pg_fresh_url) -> None:
    lite_url = f"sqlite:///{tmp_path / 'parity.sqlite'}"
    _load(capsys, lite_url, example, workers)
    _load(capsys, pg_fresh_url, example, workers)
    with open_store(lite_url) as lite, open_store(pg_fresh_url) as pg:
        assert lite.timezone == pg.timezone
        assert pg.ticket_count() == lite.ticket_count() > 0
        pd.testing.assert_frame_equal(pg.read_tickets(), lite.read_tickets())  # same order too
        pd.testing.assert_frame_equal(pg.read_ticket_places(), lite.read_ticket_places(), check_dtype=False)
        skip = ["quarantine_id", "import_id", "quarantined_at", "resolved_by"]  # import ids and times differ
        lq, pq = lite.read_quarantine(include_resolved=True), pg.read_quarantine(include_resolved=True)
        _same(pq.drop(columns=skip), lq.drop(columns=skip))
        assert pq["resolved_by"].isna().tolist() == lq["resolved_by"].isna().tolist()
        pd.testing.assert_series_equal(pg.read_source_hashes().sort_index(), lite.read_source_hashes().sort_index())
        lu, pu = lite.read_units(), pg.read_units()
        _same(pu.drop(columns="geometry"), lu.drop(columns="geometry"), keys=["level", "code", "valid_from"])
        assert all(a.equals(b) for a, b in zip(pu.geometry, lu.geometry))
        month = str(lite.received_range()[1].tz_localize(None).to_period("M"))  # the top 10 of the last month
        for name, where in _filters(lite).items():
            for level in UNIT_LEVELS:
                for by_channel in (False, True):
                    _same(pg.count_tickets(level, where, by_channel), lite.count_tickets(level, where, by_channel))
            _same(pg.kpi_counts(where, AS_OF), lite.kpi_counts(where, AS_OF))
            for by_channel in (False, True):
                _same(pg.problem_counts(where, by_channel), lite.problem_counts(where, by_channel))
            for level in (1, 2):
                (a, at), (b, bt) = (store.top_problem_counts(where, month, level) for store in (pg, lite))
                _same(a, b)
                pd.testing.assert_frame_equal(at, bt, check_exact=True)
            assert pg.count_where(where) == lite.count_where(where), name
            _same(pg.read_ticket_places_where(where), lite.read_ticket_places_where(where))
        reports = [r for r in pg.read_import_reports()], [r for r in lite.read_import_reports()]
        keep = ("rows_read", "inserted", "updated", "unchanged", "quarantined", "duplicates")
        assert [{k: r[k] for k in keep} for r in reports[0]] == [{k: r[k] for k in keep} for r in reports[1]]


def test_the_demo_reads_the_same_from_both_stores(tmp_path, pg_fresh_url):
    """The demo city (10,000 tickets, its places, interventions) written into both stores."""
    from minqing.demo.build import build_demo

    lite_url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    with open_store(lite_url) as lite, open_store(pg_fresh_url) as pg:
        for store in (lite, pg):
            build_demo(store, n_tickets=10_000, truth_path=tmp_path / "truth.json")
        pd.testing.assert_frame_equal(pg.read_tickets(), lite.read_tickets())
        pd.testing.assert_frame_equal(pg.read_ticket_places(), lite.read_ticket_places(), check_dtype=False)
        lp, pp = lite.read_places(), pg.read_places()
        pd.testing.assert_frame_equal(pd.DataFrame(pp.drop(columns="geometry")),
                                      pd.DataFrame(lp.drop(columns="geometry")))
        assert all(a.equals_exact(b, 1e-12) for a, b in zip(pp.geometry, lp.geometry))
        for a, b in zip(pg.read_interventions(), lite.read_interventions()):
            pd.testing.assert_frame_equal(a, b, check_dtype=False)
        for where in _filters(lite).values():
            _same(pg.kpi_counts(where, AS_OF), lite.kpi_counts(where, AS_OF))
            _same(pg.problem_counts(where, True), lite.problem_counts(where, True))
            for level in UNIT_LEVELS:
                _same(pg.count_tickets(level, where, True), lite.count_tickets(level, where, True))
        for categories in (None, ("02.01.01",)):
            pt, pl = pg.read_effect_tickets(categories, "2024-06-01")
            lt, ll = lite.read_effect_tickets(categories, "2024-06-01")
            _same(pt, lt, keys=["source_id"])
            _same(pl, ll)
