"""Benchmark: evaluate interventions on a large demo store (control selection included).

Run: ``.venv/bin/python benchmarks/bench_interventions.py [--db sqlite:////tmp/bench_1m.sqlite] [--tickets 1000000]``.
Builds the demo store when it is empty, tops the registry up to 50 interventions
(synthetic ones at demo places, marked "[bench]"), and prints JSON lines: one intervention
read and evaluated alone, then all of them from one shared read (:func:`evaluate_all`).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    from minqing.interventions.evaluate import evaluate_all, evaluate_intervention
    from minqing.demo.build import build_demo
    from minqing.interventions.registry import Intervention, add_intervention, list_interventions
    from minqing.store import open_store

    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite:////tmp/bench_interventions_1m.sqlite")
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--total", type=int, default=50)
    args = ap.parse_args()
    with open_store(args.db) as store:
        if store.ticket_count() == 0:
            t = time.perf_counter()
            build_demo(store, n_tickets=args.tickets)
            print(json.dumps({"stage": "build", "tickets": store.ticket_count(), "seconds": round(time.perf_counter() - t, 1)}))
        ivs = list_interventions(store)
        places = store.read_places()
        rng = np.random.default_rng(0)
        cats = ["02.01.01", "02.01.04", "04.03.01", "01.01.01", "05.02.01", "03.02.01", "04.01.01", "01.02.01"]
        types = ["enforcement", "facility_works", "joint_meeting", "proactive_visits", "policy"]
        for i in range(len(ivs), args.total):
            p = places.iloc[int(rng.integers(len(places)))]
            start = f"2025-{int(rng.integers(3, 12)):02d}-{int(rng.integers(1, 28)):02d}"
            add_intervention(store, Intervention(
                name=f"[bench] {p['name']}", type=types[i % len(types)], start_date=start,
                target_categories=tuple(rng.choice(cats, size=2, replace=False)), targets=(("place", str(p["place_id"])),)),
                by="bench")
        ivs = list_interventions(store)
        n = store.ticket_count()
        one = int(ivs.loc[ivs["name"].str.contains("秩序党建联席会议"), "intervention_id"].iloc[0]) if \
            ivs["name"].str.contains("秩序党建联席会议").any() else int(ivs["intervention_id"].iloc[0])
        evaluate_intervention(store, one)  # warm imports and the page cache
        t = time.perf_counter()
        evaluate_intervention(store, one)
        print(json.dumps({"bench": "one_intervention", "tickets": n, "intervention_id": one,
                          "seconds": round(time.perf_counter() - t, 3)}))
        t = time.perf_counter()
        every = evaluate_all(store)
        total = time.perf_counter() - t
        errors = [type(v).__name__ for v in every.values() if isinstance(v, Exception)]
        print(json.dumps({"bench": "all_interventions", "tickets": n, "interventions": len(every),
                          "seconds": round(total, 2), "errors": len(errors),
                          "verdicts": {v: sum(1 for e in every.values() if not isinstance(e, Exception)
                                              and e.result.verdict == v) for v in ("improved", "no_clear_change", "worse")}}))


if __name__ == "__main__":
    main()
