"""Emerging hot spots: Gi* per cell per time step, a Mann-Kendall trend, Esri's classes.

Follows Esri's "How Emerging Hot Spot Analysis works" (ArcGIS Pro):

1. Gi* for every bin of the space-time cube (cell × time step) with
   space-time neighbours: the cell's k-ring, itself included, in the same
   time step and the ``time_lag`` previous ones; the global mean and variance
   are those of the whole cube; FDR correction over all bins.
2. A Mann-Kendall trend test on each cell's series of Gi* z-scores.
3. Classes (hot side; the cold side mirrors it), with "hot" meaning a bin
   significant at 90 % after the FDR correction and ``n`` time steps:

   new           hot in the final step only, never before;
   consecutive   a single run of ≥ 2 hot steps ending in the final step,
                 never hot before the run, and < 90 % of steps hot;
   intensifying  hot in ≥ 90 % of steps including the final one, the trend
                 of z significantly rising;
   persistent    hot in ≥ 90 % of steps including the final one, no
                 significant trend;
   diminishing   hot in ≥ 90 % of steps including the final one, the trend
                 significantly falling;
   sporadic      hot in the final step, an on-and-off history of hot steps,
                 < 90 % hot, never a cold step;
   oscillating   hot in the final step, < 90 % hot, with at least one cold
                 step before;
   historical    not hot in the final step, hot in ≥ 90 % of steps;
   no_pattern    none of the above.

   Esri's text does not say whether persistent needs the final step; we
   require it so that persistent and historical do not overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from minqing.analysis.getis_ord import HotspotError, _gi_star_z, _inference, h3_weights

HOT_CLASSES = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating",
               "historical")
CLASSES = HOT_CLASSES + tuple(f"{c}_cold" for c in HOT_CLASSES) + ("no_pattern",)
"""Every class code, hot first, then the cold mirror, then no pattern."""
SHARE = 0.9
TREND_ALPHA = 0.05


@dataclass(frozen=True)
class EmergingHotspots:
    """Result of :func:`emerging_hotspots`.

    Attributes
    ----------
    cells : ndarray of int64
    steps : list
        Labels of the time steps, oldest first.
    z, bins : ndarray (n_cells, n_steps)
        Gi* z-score and bin (−3..+3) of every space-time bin.
    trend_z, trend_p : ndarray
        Mann-Kendall z and two-sided p of each cell's z series.
    classes : ndarray of str
        One of :data:`CLASSES` per cell.
    reason : str or None
        Catalog key when no statistic could be computed.
    """

    cells: np.ndarray
    steps: list
    z: np.ndarray
    bins: np.ndarray
    trend_z: np.ndarray
    trend_p: np.ndarray
    classes: np.ndarray
    reason: str | None = None

    def to_frame(self) -> pd.DataFrame:
        """Return one row per cell: cell, class, trend_z, trend_p, hot_steps, cold_steps, last_bin."""
        return pd.DataFrame({
            "cell": self.cells, "class": self.classes, "trend_z": self.trend_z, "trend_p": self.trend_p,
            "hot_steps": (self.bins > 0).sum(axis=1), "cold_steps": (self.bins < 0).sum(axis=1),
            "last_bin": self.bins[:, -1] if self.bins.shape[1] else 0,
        })


def emerging_hotspots(cube, cells, steps=None, *, k: int = 1, time_lag: int = 1, min_cells: int = 30,
                      trend_alpha: float = TREND_ALPHA) -> EmergingHotspots:
    """Classify cells by the history of their space-time Gi* hot spots.

    Parameters
    ----------
    cube : array-like (n_cells, n_steps)
        Counts per cell per time step, zeros included, oldest step first.
    cells : array-like of int64
        The H3 cells of the rows (one resolution, distinct).
    steps : list, optional
        Labels of the columns.
    k : int
        Spatial neighbours: the k-ring.
    time_lag : int
        Previous time steps that count as neighbours (Esri's neighbourhood
        time step; 1 by default).
    min_cells : int
        Fewer cells than this: no statistic, ``reason`` says so.
    trend_alpha : float
        Significance of the Mann-Kendall trend.

    Returns
    -------
    EmergingHotspots
    """
    cube = np.asarray(cube, dtype="float64")
    cells = np.asarray(cells, dtype="int64")
    if cube.ndim != 2 or cube.shape[0] != len(cells):
        raise HotspotError(f"cube must be (n_cells, n_steps) with n_cells={len(cells)}, got {cube.shape}",
                           key="hotspots.error_inputs", value="cube")
    if time_lag < 0:
        raise HotspotError(f"time_lag must be >= 0, got {time_lag}", key="hotspots.error_inputs", value="time_lag")
    n, T = cube.shape
    steps = list(range(T)) if steps is None else list(steps)
    if n < min_cells or T < 3 or cube.size == 0 or np.ptp(cube) == 0:
        reason = "hotspots.reason_too_few" if n < min_cells else (
            "hotspots.reason_too_short" if T < 3 else "hotspots.reason_constant")
        nan = np.full(n, np.nan)
        return EmergingHotspots(cells, steps, np.full(cube.shape, np.nan), np.zeros(cube.shape, dtype="int8"),
                                nan, nan.copy(), np.full(n, "no_pattern", dtype=object), reason)
    ws = h3_weights(cells, k) + sp.identity(n, format="csr")
    w = space_time_weights(ws, T, time_lag)
    y = cube.T.ravel()  # index t * n + i
    z = _gi_star_z(y, w)
    _, _, bins = _inference(z)
    z = z.reshape(T, n).T
    bins = bins.reshape(T, n).T
    tz, tp = mann_kendall(z)
    classes = classify(bins > 0, bins < 0, tz, tp, trend_alpha)
    return EmergingHotspots(cells, steps, z, bins, tz, tp, classes)


def space_time_weights(ws: sp.spmatrix, n_steps: int, time_lag: int = 1) -> sp.csr_matrix:
    """Return space-time weights (without the diagonal) from spatial weights ``ws`` (with it).

    Bin ``t * n + i`` neighbours bins ``s * n + j`` with ``w_ij = 1`` and
    ``t - time_lag <= s <= t``.
    """
    blocks = sp.csr_matrix((ws.shape[0] * n_steps,) * 2)
    for lag in range(time_lag + 1):
        shift = sp.eye(n_steps, k=-lag, format="csr")
        blocks = blocks + sp.kron(shift, ws, format="csr")
    blocks.setdiag(0)
    blocks.eliminate_zeros()
    blocks.data[:] = 1.0
    return blocks


def mann_kendall(series) -> tuple[np.ndarray, np.ndarray]:
    """Return the Mann-Kendall trend z and two-sided p of each row of ``series`` (n, T).

    S = Σ_{i<j} sign(x_j − x_i); Var(S) = T(T−1)(2T+5)/18 minus the tie
    correction; z = (S − sign(S)) / √Var(S). Rows with NaN get NaN.
    """
    x = np.asarray(series, dtype="float64")
    if x.ndim == 1:
        x = x[None, :]
    T = x.shape[1]
    iu, ju = np.triu_indices(T, k=1)
    s = np.sign(x[:, ju] - x[:, iu]).sum(axis=1)
    var = np.full(len(x), T * (T - 1) * (2 * T + 5) / 18.0)
    xs = np.sort(x, axis=1)
    # tie correction: Σ t(t−1)(2t+5)/18 over groups of equal values
    for row in np.flatnonzero((np.diff(xs, axis=1) == 0).any(axis=1)):
        _, counts = np.unique(xs[row], return_counts=True)
        counts = counts[counts > 1]
        var[row] -= (counts * (counts - 1) * (2 * counts + 5)).sum() / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
    z[np.isnan(x).any(axis=1)] = np.nan
    p = 2.0 * stats.norm.sf(np.abs(z))
    return z, p


def classify(hot, cold, trend_z, trend_p, trend_alpha: float = TREND_ALPHA) -> np.ndarray:
    """Return Esri's emerging class of each row from hot/cold flags (n, T) and the trend.

    Parameters
    ----------
    hot, cold : array-like of bool (n, T)
        Significant hot / cold bins, oldest first.
    trend_z, trend_p : array-like (n,)
        Mann-Kendall z and p of the rows' z series.
    trend_alpha : float
    """
    hot = np.atleast_2d(np.asarray(hot, dtype=bool))
    cold = np.atleast_2d(np.asarray(cold, dtype=bool))
    tz = np.atleast_1d(np.asarray(trend_z, dtype="float64"))
    tp = np.atleast_1d(np.asarray(trend_p, dtype="float64"))
    out = np.full(len(hot), "no_pattern", dtype=object)
    for side, (a, b, sign) in {"": (hot, cold, 1.0), "_cold": (cold, hot, -1.0)}.items():
        cls = _classify_side(a, b, sign * tz, tp, trend_alpha)
        take = (out == "no_pattern") & (cls != "")
        out[take] = np.char.add(cls[take].astype(str), side).astype(object)
    return out


def _classify_side(hot, cold, tz, tp, alpha):
    n, T = hot.shape
    out = np.full(n, "", dtype=object)
    if T == 0:
        return out
    last = hot[:, -1]
    n_hot = hot.sum(axis=1)
    share = n_hot / T
    # length of the final run of hot steps
    rev = hot[:, ::-1]
    run = np.where(rev.all(axis=1), T, np.argmin(rev, axis=1))
    sig_trend = np.nan_to_num(tp, nan=1.0) < alpha
    up = sig_trend & (tz > 0)
    down = sig_trend & (tz < 0)
    ever_cold = cold.any(axis=1)
    rules = [
        ("new", last & (n_hot == 1)),
        ("consecutive", last & (run >= 2) & (n_hot == run) & (share < SHARE)),
        ("intensifying", last & (share >= SHARE) & up),
        ("persistent", last & (share >= SHARE) & ~sig_trend),
        ("diminishing", last & (share >= SHARE) & down),
        ("sporadic", last & (share < SHARE) & ~ever_cold),
        ("oscillating", last & (share < SHARE) & ever_cold),
        ("historical", ~last & (share >= SHARE)),
    ]
    for name, mask in reversed(rules):  # the first rule that holds wins
        out[mask] = name
    return out
