"""Speed of the hot-spot analysis on synthetic data; prints one JSON line per measure."""

import json
import time

import h3
import numpy as np
import pandas as pd

from minqing.analysis.aggregate import count_tickets
from minqing.analysis.emerging import emerging_hotspots
from minqing.analysis.forecast import forecast_counts
from minqing.analysis.getis_ord import gi_star, h3_weights


def timed(name, fn, **extra):
    t = time.perf_counter()
    out = fn()
    print(json.dumps({"bench": name, "seconds": round(time.perf_counter() - t, 3), **extra}), flush=True)
    return out


rng = np.random.default_rng(0)
centre = h3.latlng_to_cell(31.28, 121.52, 10)
pool = np.array([h3.str_to_int(c) for c in h3.grid_disk(centre, 120)], dtype="uint64").view("int64")
n = 1_000_000
tickets = pd.DataFrame({
    "source_id": np.arange(n).astype(str),
    "received_at": pd.Timestamp("2024-11-01", tz="Asia/Shanghai") + pd.to_timedelta(rng.integers(0, 730 * 86400, n), "s"),
    "category": rng.choice(["03.01.01", "04.01.01", "02.01.03", "99.99.99"], n),
    "h3_cell": pd.array(rng.choice(pool, n), dtype="Int64"),
})
month = tickets[(tickets["received_at"] >= pd.Timestamp("2026-01-01", tz="Asia/Shanghai"))
                & (tickets["received_at"] < pd.Timestamp("2026-02-01", tz="Asia/Shanghai"))]
timed("counts_res9_one_month_one_category", lambda: count_tickets(month[month["category"] == "03.01.01"], "cell", res=9),
      tickets=n)
cells = np.array([h3.str_to_int(c) for c in h3.grid_disk(h3.latlng_to_cell(31.28, 121.52, 9), 129)],
                 dtype="uint64").view("int64")[:50_000]
w = timed("h3_weights_50k", lambda: h3_weights(cells), cells=len(cells))
y = rng.poisson(3, len(cells)).astype(float)
timed("gi_star_analytic_fdr_50k", lambda: gi_star(y, w, cells), cells=len(cells))
gi_star(y[:2000], w[:2000, :2000], permutations=9)  # numba compile, not timed
timed("gi_star_999_permutations_50k", lambda: gi_star(y, w, cells, permutations=999), cells=len(cells))
c5 = cells[:5000]
cube = rng.poisson(2, (5000, 24)).astype(float)
timed("emerging_5000_cells_24_months", lambda: emerging_hotspots(cube, c5), cells=5000, months=24)
months = [str(p) for p in pd.period_range("2024-11", "2026-10", freq="M")]
m = rng.poisson(10, (20_000, 24)).astype(float)
timed("forecast_20000_series_24_months", lambda: forecast_counts(m, np.arange(20_000), months), series=20_000)
