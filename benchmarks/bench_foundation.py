"""Benchmarks of the foundation: linking and writing 1,000,000 tickets, and the demo build.

Targets (issue 2): linking 1,000,000 located tickets to grids, H3 and places at most 10 s
and 3 GiB peak memory on a 2-core machine; writing them to SQLite at most 15 s; the demo
build (200,000 tickets) under 60 s.

Run: ``.venv/bin/python benchmarks/bench_foundation.py [--tickets 1000000]``.
Each stage runs in its own process so peak memory (ru_maxrss) is the stage's own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _make_tickets(n: int, cache: Path):
    """Generate n demo tickets once and keep them as Parquet (not timed)."""
    import pandas as pd

    if cache.exists():
        return pd.read_parquet(cache)
    from minqing.config import geodata_dir
    from minqing.demo.scenario import generate_demo
    from minqing.geo.layers import read_places, read_units

    units = read_units(geodata_dir())
    units["unit_uid"] = range(1, len(units) + 1)
    scen = generate_demo(units, read_places(geodata_dir()), n_target=n)
    scen.tickets.to_parquet(cache)
    return scen.tickets


def stage_link(n: int, cache: str, q):
    import pandas as pd

    from minqing.config import geodata_dir
    from minqing.geo.layers import read_places, read_units
    from minqing.geo.link import apply_links, link_tickets

    tickets = pd.read_parquet(cache)
    units = read_units(geodata_dir())
    units["unit_uid"] = range(1, len(units) + 1)
    places = read_places(geodata_dir())
    base = _peak_mib()
    t = time.perf_counter()
    result = link_tickets(tickets, units, places)
    linked, place_links = apply_links(tickets, result)
    secs = time.perf_counter() - t
    linked.to_parquet(cache + ".linked")
    place_links.to_parquet(cache + ".places")
    q.put({"stage": "link", "tickets": len(tickets), "located": int(linked["grid_code"].notna().sum()),
           "place_links": len(place_links), "seconds": round(secs, 2),
           "peak_mib": round(_peak_mib()), "peak_mib_before": round(base)})


def stage_write(n: int, cache: str, q):
    import pandas as pd

    from minqing.config import geodata_dir
    from minqing.geo.layers import read_places, read_units
    from minqing.store import open_store

    linked = pd.read_parquet(cache + ".linked")
    place_links = pd.read_parquet(cache + ".places")
    with tempfile.TemporaryDirectory() as tmp:
        with open_store(f"sqlite:///{tmp}/bench.sqlite") as store:
            store.write_units(read_units(geodata_dir()))
            store.write_places(read_places(geodata_dir()))
            t = time.perf_counter()
            store.write_tickets(linked, place_links)
            secs = time.perf_counter() - t
            size = Path(store.path).stat().st_size / 2**20
    q.put({"stage": "write_sqlite", "tickets": len(linked), "seconds": round(secs, 2),
           "peak_mib": round(_peak_mib()), "db_mib": round(size)})


def stage_demo(n: int, cache: str, q):
    from minqing.demo.build import build_demo
    from minqing.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        with open_store(f"sqlite:///{tmp}/demo.sqlite") as store:
            report = build_demo(store)
        secs = time.perf_counter() - t
    q.put({"stage": "demo_build", "tickets": report.tickets, "seconds": round(secs, 2),
           "stages": {k: round(v, 2) for k, v in report.seconds.items()}, "peak_mib": round(_peak_mib())})


def run(stage, *args):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=stage, args=(*args, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    args = parser.parse_args()
    cache = Path(tempfile.gettempdir()) / f"minqing_bench_{args.tickets}.parquet"
    t = time.perf_counter()
    _make_tickets(args.tickets, cache)
    print(json.dumps({"stage": "generate (not a target)", "tickets": args.tickets,
                      "seconds": round(time.perf_counter() - t, 1)}))
    for stage in (stage_link, stage_write, stage_demo):
        print(json.dumps(run(stage, args.tickets, str(cache)), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
