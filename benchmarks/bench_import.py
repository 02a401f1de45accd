"""Benchmark the importer: a GBK CSV with Chinese headers and GCJ-02 coordinates, an XLSX, a re-import.

Run: .venv/bin/python benchmarks/bench_import.py [--rows 1000000] [--xlsx-rows 100000]
Prints one JSON line per run with the per-stage seconds and the peak memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from minqing.config import geodata_dir
from minqing.demo import generate_demo
from minqing.geo.layers import read_places, read_units
from minqing.ingest.pipeline import ImportOptions, import_file
from minqing.ingest.samples import to_hotline_export
from minqing.store import open_store


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def export_frame(store, n: int) -> pd.DataFrame:
    units, places = store.read_units(), store.read_places()
    scenario = generate_demo(units, places, n_target=n)
    return to_hotline_export(scenario.tickets, "gcj02")


def timed(label, store, path, **kw):
    t = time.perf_counter()
    r = import_file(store, path, ImportOptions(**kw))
    out = {"run": label, "rows": r.rows_read, "seconds": round(time.perf_counter() - t, 2), "stages": r.seconds,
           "inserted": r.inserted, "unchanged": r.unchanged, "quarantined": r.quarantined, "linked": r.linked,
           "reconciles": r.reconciles(), "peak_gib": round(peak_gib(), 2)}
    print(json.dumps(out, ensure_ascii=False), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--xlsx-rows", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = open_store(f"sqlite:///{tmp / 'bench.sqlite'}")
        store.write_units(read_units(geodata_dir()))
        store.write_places(read_places(geodata_dir()))
        csv = tmp / "orders_gbk.csv"
        export_frame(store, args.rows).to_csv(csv, index=False, encoding="gb18030")
        print(json.dumps({"file": csv.name, "mib": round(csv.stat().st_size / 2**20, 1)}), flush=True)
        timed("csv_gbk_gcj02", store, csv)
        timed("csv_reimport", store, csv)
        store.close()
        store = open_store(f"sqlite:///{tmp / 'bench_xlsx.sqlite'}")
        store.write_units(read_units(geodata_dir()))
        store.write_places(read_places(geodata_dir()))
        xlsx = tmp / "orders.xlsx"
        export_frame(store, args.xlsx_rows).to_excel(xlsx, index=False, engine="openpyxl")
        timed("xlsx", store, xlsx)
        store.close()


if __name__ == "__main__":
    main()
