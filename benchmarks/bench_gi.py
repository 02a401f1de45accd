"""Gi* permutation inference: our compiled kernel against esda, 50,000 H3 res-9 cells, 999 permutations.

Prints one JSON line per measure:

- ``kernel_999``: median (and all) of 5 calls of ``gi_kernel.gi_star_pseudo_p`` after ``warm_up()``,
  wall and process CPU seconds, the load average (other work on the machine shows up here);
- ``gi_star_999``: the whole ``gi_star(..., permutations=999)`` (analytic part included), median of 3;
- ``fresh_process_cache_cold`` / ``fresh_process_cache_warm``: a new Python process with
  ``NUMBA_CACHE_DIR`` pointing at an empty folder, then the same folder again: import of the
  module (numba included), ``warm_up()``, and separately the first 50,000-cell call without a
  warm-up (its excess over the steady call is what a request would wait);
- ``esda_999``: ``esda.G_Local(..., star=True, permutations=999)`` as Minqing called it before
  (default ``n_jobs=-1``): the first call (numba compiles inside esda) and a second one;
- ``agreement``: mean |p_sim − exact| over all cells, ours and esda's, the exact conditional
  p-values from ``gi_kernel.exact_p`` (counting subsets, no sampling), also the mean signed
  difference (bias) and the disagreement between two esda seeds.

Run: ``.venv/bin/python benchmarks/bench_gi.py`` (about a minute and a half, most of it esda);
``--no-esda`` skips esda (about 15 s).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

PERMUTATIONS = 999
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from minqing.analysis import gi_kernel
t_import = time.perf_counter() - t0
import numpy as np, scipy.sparse as sp
y = np.load(sys.argv[1] + "/y.npy"); w = sp.load_npz(sys.argv[1] + "/w.npz")
if sys.argv[2] == "warm_up":
    t = time.perf_counter(); gi_kernel.warm_up(); t_first = time.perf_counter() - t
else:
    t = time.perf_counter(); gi_kernel.gi_star_pseudo_p(y, w, PERMUTATIONS, seed=0); t_first = time.perf_counter() - t
t = time.perf_counter(); gi_kernel.gi_star_pseudo_p(y, w, PERMUTATIONS, seed=0); t_steady = time.perf_counter() - t
print(json.dumps({"import_s": round(t_import, 3), "first_s": round(t_first, 3), "steady_s": round(t_steady, 3)}))
""".replace("PERMUTATIONS", str(PERMUTATIONS))


def emit(name, **fields):
    print(json.dumps({"bench": name, **fields}), flush=True)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def study_area():
    """50,000 res-9 cells around Yangpu, Poisson(2) counts plus 12 planted hot spots."""
    import h3

    from minqing.analysis.getis_ord import h3_weights

    cells = np.array([h3.str_to_int(c) for c in h3.grid_disk(h3.latlng_to_cell(31.28, 121.52, 9), 129)],
                     dtype="uint64").view("int64")[:50_000]
    rng = np.random.default_rng(0)
    y = rng.poisson(2.0, len(cells)).astype(float)
    index = {c: i for i, c in enumerate(cells.tolist())}
    for centre in rng.choice(cells, 12, replace=False):
        disk = np.array([h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(int(np.uint64(centre))), 2)],
                        dtype="uint64").view("int64")
        at = [index[c] for c in disk.tolist() if c in index]
        y[at] += rng.poisson(6.0, len(at))
    t = time.perf_counter()
    w = h3_weights(cells)
    emit("h3_weights_50k", seconds=round(time.perf_counter() - t, 3), cells=len(cells), links=int(w.nnz))
    return cells, y, w


def fresh_process(folder: str, what: str, cache_dir: str) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, folder, what], env=env, capture_output=True, text=True,
                         check=True)
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "process_s": round(time.perf_counter() - t, 3)}


def main(argv):
    from minqing.analysis import gi_kernel
    from minqing.analysis.getis_ord import gi_star

    cells, y, w = study_area()
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/y.npy", y)
        sp.save_npz(f"{tmp}/w.npz", sp.csr_matrix(w))
        for what in ("warm_up", "first_call"):
            cache = Path(tmp) / f"cache_{what}"
            emit(f"fresh_process_{what}_cache_cold", **fresh_process(tmp, what, str(cache)))
            emit(f"fresh_process_{what}_cache_warm", **fresh_process(tmp, what, str(cache)))

    emit("warm_up_in_this_process", seconds=round(gi_kernel.warm_up(), 3))
    walls, cpus = [], []
    for _ in range(5):
        t, c = time.perf_counter(), cpu()
        ours = gi_kernel.gi_star_pseudo_p(y, w, PERMUTATIONS, seed=0)
        walls.append(time.perf_counter() - t)
        cpus.append(cpu() - c)
    import numba

    emit("kernel_999", cells=len(y), permutations=PERMUTATIONS, threads=numba.get_num_threads(),
         threading_layer=numba.threading_layer(), median_s=round(statistics.median(walls), 3),
         runs_s=[round(x, 3) for x in walls], median_cpu_s=round(statistics.median(cpus), 3),
         loadavg_1min=round(os.getloadavg()[0], 2))
    walls = []
    for _ in range(3):
        t = time.perf_counter()
        gi_star(y, w, cells, permutations=PERMUTATIONS, seed=0)
        walls.append(time.perf_counter() - t)
    emit("gi_star_999", median_s=round(statistics.median(walls), 3), runs_s=[round(x, 3) for x in walls])

    t = time.perf_counter()
    _, _, exact = gi_kernel.exact_p(y, w)
    emit("exact_p_50k", seconds=round(time.perf_counter() - t, 3))
    agreement = {"cells": len(y), "ours_mad": round(float(np.mean(np.abs(ours.p_sim - exact))), 4),
                 "ours_bias": round(float(np.mean(ours.p_sim - exact)), 4)}

    if "--no-esda" not in argv:
        import warnings

        from esda.getisord import G_Local
        from libpysal.weights import WSP

        warnings.simplefilter("ignore", DeprecationWarning)
        W = WSP(sp.csr_matrix(w)).to_W(silence_warnings=True)
        t = time.perf_counter()
        e1 = G_Local(y, W, transform="B", star=True, permutations=PERMUTATIONS, seed=1, keep_simulations=False)
        first = time.perf_counter() - t
        t = time.perf_counter()
        e2 = G_Local(y, W, transform="B", star=True, permutations=PERMUTATIONS, seed=2, keep_simulations=False)
        emit("esda_999", n_jobs=-1, first_call_s=round(first, 3), second_call_s=round(time.perf_counter() - t, 3))
        agreement.update(esda_mad=round(float(np.mean(np.abs(e1.p_sim - exact))), 4),
                         esda_bias=round(float(np.mean(e1.p_sim - exact)), 4),
                         esda_seed1_vs_seed2=round(float(np.mean(np.abs(e1.p_sim - e2.p_sim))), 4),
                         esda_below_0_05_but_exact_not=int(((e1.p_sim < 0.05) & (exact >= 0.05)).sum()),
                         ours_below_0_05_but_exact_not=int(((ours.p_sim < 0.05) & (exact >= 0.05)).sum()))
    emit("agreement", **agreement)


if __name__ == "__main__":
    main(sys.argv[1:])
