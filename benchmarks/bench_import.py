"""Benchmark the importer: a GBK CSV with Chinese headers and GCJ-02 coordinates, an XLSX, a re-import.

Run: .venv/bin/python benchmarks/bench_import.py [--rows 1000000] [--xlsx-rows 100000] [--outline-rows 5000]
Prints one JSON line per run with the per-stage seconds (summed over worker processes; ``wall`` is the
elapsed time) and the peak memory of the importing process or any of its workers.
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


def timed(label: str, db: Path, path: Path) -> None:
    """Import ``path`` into ``db`` in a fresh process, so its peak memory is the import's alone."""
    out = subprocess.run([sys.executable, __file__, "--one", label, str(db), str(path)], check=True,
                         capture_output=True, text=True)
    print(out.stdout.strip(), flush=True)


def one(label: str, db: str, path: str) -> None:
    store = open_store(f"sqlite:///{db}")
    t = time.perf_counter()
    r = import_file(store, path, ImportOptions())
    out = {"run": label, "rows": r.rows_read, "seconds": round(time.perf_counter() - t, 2), "stages": r.seconds,
           "inserted": r.inserted, "unchanged": r.unchanged, "quarantined": r.quarantined, "linked": r.linked,
           "reconciles": r.reconciles(), "peak_gib": round(peak_gib(), 2)}
    print(json.dumps(out, ensure_ascii=False), flush=True)


def new_store(db: Path):
    store = open_store(f"sqlite:///{db}")
    store.write_units(read_units(geodata_dir()))
    store.write_places(read_places(geodata_dir()))
    return store


def detailed_store(db: Path, vertices: int = 40_000):
    """The demo city with its district outline densified to ``vertices`` points (a surveyed boundary)."""
    import shapely

    units = read_units(geodata_dir())
    d = units["level"] == "district"
    geom = units.loc[d, "geometry"].iloc[0]
    length = shapely.length(shapely.boundary(geom))
    units.loc[d, "geometry"] = [shapely.segmentize(geom, length / vertices)]
    store = open_store(f"sqlite:///{db}")
    store.write_units(units)
    store.write_places(read_places(geodata_dir()))
    n = int(shapely.get_num_coordinates(store.read_units("district").geometry.iloc[0]))
    return store, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--xlsx-rows", type=int, default=100_000)
    ap.add_argument("--outline-rows", type=int, default=5_000, help="rows imported into a city with a 40,000-vertex outline")
    ap.add_argument("--one", nargs=3, metavar=("LABEL", "DB", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(*args.one)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = new_store(tmp / "bench.sqlite")
        csv = tmp / "orders_gbk.csv"
        export_frame(store, args.rows).to_csv(csv, index=False, encoding="gb18030")
        store.close()
        print(json.dumps({"file": csv.name, "mib": round(csv.stat().st_size / 2**20, 1)}), flush=True)
        timed("csv_gbk_gcj02", tmp / "bench.sqlite", csv)
        timed("csv_reimport", tmp / "bench.sqlite", csv)
        store = new_store(tmp / "bench_xlsx.sqlite")
        xlsx = tmp / "orders.xlsx"
        export_frame(store, args.xlsx_rows).to_excel(xlsx, index=False, engine="openpyxl")
        store.close()
        timed("xlsx", tmp / "bench_xlsx.sqlite", xlsx)
        store, vertices = detailed_store(tmp / "bench_outline.sqlite")
        small = tmp / "orders_small.csv"
        export_frame(store, max(args.outline_rows, 10_000)).iloc[: args.outline_rows].to_csv(
            small, index=False, encoding="gb18030")
        store.close()
        print(json.dumps({"outline_vertices": vertices}), flush=True)
        timed("csv_small_detailed_outline", tmp / "bench_outline.sqlite", small)


if __name__ == "__main__":
    main()
