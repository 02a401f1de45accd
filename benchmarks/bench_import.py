"""Benchmark the importer: a GBK CSV with Chinese headers and GCJ-02 coordinates, an XLSX, a re-import.

Run: .venv/bin/python benchmarks/bench_import.py [--rows 1000000] [--xlsx-rows 100000] [--outline-rows 5000]
         [--backend sqlite|postgres] [--url postgresql://...] [--durable] [--runs csv,reimport,xlsx,outline]
         [--csv FILE]
Prints one JSON line per run with the per-stage seconds (summed over worker processes; ``wall`` is the
elapsed time), the store's own commit (``commit``: the copy of the staged rows and their merge, timed
around the store's ``_write_staged``; ``store`` breaks it down by the store's helpers) and the peak
memory of the importing process or any of its workers.

``--backend postgres`` imports the same file with the same options into PostgreSQL + PostGIS: a
throwaway cluster started as the tests start theirs (tests/pg_server.py, with the modest tuning of
bench_pg_sql.py; ``--durable`` turns fsync, full-page writes and synchronous commit back on), or the
server named by ``--url`` (a superuser's URL; each run gets a new database with PostGIS, dropped after).
``--csv`` imports an existing file instead of generating one from the demo.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from minqing.config import geodata_dir
from minqing.demo.scenario import generate_demo
from minqing.geo.layers import read_places, read_units
from minqing.ingest.pipeline import ImportOptions, import_file
from minqing.demo.exports import to_hotline_export
from minqing.store import open_store


def peak_gib() -> float:
    """This process's own peak (VmHWM; ru_maxrss would include the parent's across exec) or its workers'."""
    own = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 2**20


def export_frame(store, n: int) -> pd.DataFrame:
    units, places = store.read_units(), store.read_places()
    scenario = generate_demo(units, places, n_target=n)
    return to_hotline_export(scenario.tickets, "gcj02")


def timed(label: str, url: str, path: Path) -> None:
    """Import ``path`` into the store at ``url`` in a fresh process, so its peak memory is the import's alone."""
    out = subprocess.run([sys.executable, __file__, "--one", label, url, str(path)], check=True,
                         capture_output=True, text=True)
    print(out.stdout.strip(), flush=True)


STORE_STEPS = ("_write_staged", "_copy_scratch", "_drop_staged", "_resolve_quarantine", "_merge_tickets",
               "_merge_places", "_merge_sources", "_merge_changes", "_merge_quarantine", "_rebuild_indexes",
               "_drop_indexes", "_analyze_tickets", "_refresh_rollups")
"""The store helpers timed inside the commit (those a backend has; ``_write_staged`` is the whole commit)."""


def time_store_steps(store) -> dict:
    """Wrap the store's commit helpers (:data:`STORE_STEPS`) to sum their seconds into the returned dict."""
    spent: dict = {}
    for name in STORE_STEPS:
        fn = getattr(store, name, None)
        if fn is None:
            continue

        def wrapped(*a, _fn=fn, _name=name, **kw):
            t = time.perf_counter()
            try:
                return _fn(*a, **kw)
            finally:
                spent[_name] = round(spent.get(_name, 0.0) + time.perf_counter() - t, 3)

        setattr(store, name, wrapped)
    return spent


def one(label: str, url: str, path: str) -> None:
    store = open_store(url)
    spent = time_store_steps(store)
    t = time.perf_counter()
    r = import_file(store, path, ImportOptions())
    out = {"run": label, "rows": r.rows_read, "seconds": round(time.perf_counter() - t, 2), "stages": r.seconds,
           "commit": spent.pop("_write_staged", None), "store": spent,
           "inserted": r.inserted, "unchanged": r.unchanged, "quarantined": r.quarantined, "linked": r.linked,
           "reconciles": r.reconciles(), "peak_gib": round(peak_gib(), 2)}
    print(json.dumps(out, ensure_ascii=False), flush=True)


class Stores:
    """Where the benchmark's stores live: SQLite files in ``tmp``, or databases of a PostgreSQL server."""

    def __init__(self, tmp: Path, backend: str, server_url: str | None = None):
        self.tmp, self.backend, self.server_url = tmp, backend, server_url
        self.databases: list[str] = []

    def url(self, name: str) -> str:
        """Return the URL of a new, empty store called ``name``."""
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp / name}.sqlite"
        import psycopg
        from psycopg import sql

        db = f"{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.server_url, autocommit=True) as con:
            con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
        self.databases.append(db)
        scheme, rest = self.server_url.split("://", 1)
        url = f"{scheme}://{_with_database(rest, db)}"
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        return url

    def drop(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.server_url, autocommit=True) as con:
            for db in self.databases:
                con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))


def _with_database(rest: str, db: str) -> str:
    """``user@host:port/olddb?opts`` with the database replaced by ``db``."""
    head, _, query = rest.partition("?")
    host = head.split("/", 1)[0]
    return f"{host}/{db}" + (f"?{query}" if query else "")


@contextmanager
def throwaway_server(durable: bool):
    """A throwaway PostgreSQL + PostGIS cluster (bench_pg_sql.py's start); yield its superuser's URL."""
    import psycopg
    from psycopg import sql

    from bench_pg_sql import start  # the tests' server with a modest tuning

    server = start()
    try:
        if durable:
            with psycopg.connect(server.url("postgres"), autocommit=True) as con:
                for key in ("fsync", "full_page_writes", "synchronous_commit"):
                    con.execute(sql.SQL("ALTER SYSTEM SET {} = on").format(sql.Identifier(key)))
            server.restart()
        print(json.dumps({"server": server.versions, "durable": durable}), flush=True)
        yield server.url("postgres")
    finally:
        server.stop()


def new_store(url: str):
    store = open_store(url)
    store.write_units(read_units(geodata_dir()))
    store.write_places(read_places(geodata_dir()))
    return store


def detailed_store(url: str, vertices: int = 40_000):
    """The demo city with its district outline densified to ``vertices`` points (a surveyed boundary)."""
    import shapely

    units = read_units(geodata_dir())
    d = units["level"] == "district"
    geom = units.loc[d, "geometry"].iloc[0]
    length = shapely.length(shapely.boundary(geom))
    units.loc[d, "geometry"] = [shapely.segmentize(geom, length / vertices)]
    store = open_store(url)
    store.write_units(units)
    store.write_places(read_places(geodata_dir()))
    n = int(shapely.get_num_coordinates(store.read_units("district").geometry.iloc[0]))
    return store, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--xlsx-rows", type=int, default=100_000)
    ap.add_argument("--outline-rows", type=int, default=5_000, help="rows imported into a city with a 40,000-vertex outline")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--url", help="a PostgreSQL server (superuser) to use instead of a throwaway one; implies postgres")
    ap.add_argument("--durable", action="store_true", help="the throwaway server with fsync and synchronous commit on")
    ap.add_argument("--runs", default="csv,reimport,xlsx,outline", help="which runs, comma-separated")
    ap.add_argument("--csv", type=Path, help="import this CSV instead of one generated from the demo")
    ap.add_argument("--one", nargs=3, metavar=("LABEL", "URL", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(*args.one)
        return
    backend = "postgres" if args.url else args.backend
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if backend == "postgres" and not args.url:
            with throwaway_server(args.durable) as server_url:
                runs(args, Stores(tmp, backend, server_url))
        else:
            runs(args, Stores(tmp, backend, args.url))


def runs(args, stores: Stores) -> None:
    """The selected runs of ``args.runs``, each into a new store of ``stores``."""
    selected = set(args.runs.split(","))
    tmp = stores.tmp
    try:
        if selected & {"csv", "reimport"}:
            url = stores.url("bench")
            store = new_store(url)
            csv = args.csv
            if csv is None:
                csv = tmp / "orders_gbk.csv"
                export_frame(store, args.rows).to_csv(csv, index=False, encoding="gb18030")
            store.close()
            print(json.dumps({"file": csv.name, "mib": round(csv.stat().st_size / 2**20, 1),
                              "backend": stores.backend}), flush=True)
            timed("csv_gbk_gcj02", url, csv)
            if "reimport" in selected:
                timed("csv_reimport", url, csv)
        if "xlsx" in selected:
            url = stores.url("bench_xlsx")
            store = new_store(url)
            xlsx = tmp / "orders.xlsx"
            export_frame(store, args.xlsx_rows).to_excel(xlsx, index=False, engine="openpyxl")
            store.close()
            timed("xlsx", url, xlsx)
        if "outline" in selected:
            url = stores.url("bench_outline")
            store, vertices = detailed_store(url)
            small = tmp / "orders_small.csv"
            export_frame(store, max(args.outline_rows, 10_000)).iloc[: args.outline_rows].to_csv(
                small, index=False, encoding="gb18030")
            store.close()
            print(json.dumps({"outline_vertices": vertices}), flush=True)
            timed("csv_small_detailed_outline", url, small)
    finally:
        if stores.backend == "postgres":
            stores.drop()


if __name__ == "__main__":
    main()
