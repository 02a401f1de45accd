"""Getis-Ord Gi* hot spots: the local statistic with the unit itself included.

Binary weights, analytic z-scores with sparse matrices (agrees with
``esda.G_Local(y, w, transform="B", star=True)`` to 1e-9), a
Benjamini-Hochberg false-discovery-rate correction and Esri-style bins
−3..+3 (99 / 95 / 90 % confidence after the correction).

Weights come from :func:`h3_weights` (k-ring neighbours among the given H3
cells) or :func:`queen_weights` (polygons sharing a point, via libpysal).
Units without any neighbour get no statistic (``z`` NaN, bin 0,
``island`` True): a lone unit cannot be part of a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from minqing.errors import MinqingError

MIN_UNITS = 30
"""Fewer units than this: no statistic (a z-score needs a population to compare with)."""
CONFIDENCE = ((3, 0.01), (2, 0.05), (1, 0.10))
"""Bin magnitude and the (FDR-adjusted) p-value it needs."""


class HotspotError(MinqingError, ValueError):
    """Hot-spot inputs do not fit together (lengths, weights, values)."""

    key = "hotspots.error_inputs"


@dataclass(frozen=True)
class GiStar:
    """Result of :func:`gi_star`.

    Attributes
    ----------
    ids : ndarray
        Unit ids in the order of every other array.
    y : ndarray
        The values.
    z : ndarray
        Analytic z-score of Gi* (NaN for islands and when not computed).
    p : ndarray
        Two-sided normal p-value.
    p_fdr : ndarray
        Benjamini-Hochberg adjusted p-value (over the non-island units).
    bins : ndarray of int
        −3..+3: sign of z times 3 / 2 / 1 for 99 / 95 / 90 % confidence.
    island : ndarray of bool
        Units without neighbours.
    p_sim : ndarray or None
        Folded pseudo p-values from conditional randomisation, when asked for
        (see :mod:`minqing.analysis.gi_kernel`; NaN for islands).
    reason : str or None
        Catalog key saying why no statistic was computed (e.g. too few units).
    """

    ids: np.ndarray
    y: np.ndarray
    z: np.ndarray
    p: np.ndarray
    p_fdr: np.ndarray
    bins: np.ndarray
    island: np.ndarray
    p_sim: np.ndarray | None = None
    reason: str | None = None

    def to_frame(self) -> pd.DataFrame:
        """Return the result as a table (id, y, z, p, p_fdr, bin, island)."""
        return pd.DataFrame({"id": self.ids, "y": self.y, "z": self.z, "p": self.p, "p_fdr": self.p_fdr,
                             "bin": self.bins, "island": self.island})


def h3_weights(cells, k: int = 1) -> sp.csr_matrix:
    """Return binary k-ring contiguity among ``cells`` (no diagonal) as a CSR matrix.

    Parameters
    ----------
    cells : array-like of int64
        Distinct H3 cells of one resolution.
    k : int
        Ring distance (1 = the six touching cells).
    """
    import h3.api.numpy_int as h3n

    cells = np.asarray(cells, dtype="int64")
    if k < 1:
        raise HotspotError(f"k must be >= 1, got {k!r}", key="hotspots.error_inputs", value=str(k))
    if len(np.unique(cells)) != len(cells):
        raise HotspotError("cells must be distinct", key="hotspots.error_inputs", value="cells")
    index = pd.Index(cells)
    rows, cols = [], []
    for i, c in enumerate(cells.view("uint64").tolist()):
        disk = np.asarray(h3n.grid_disk(c, k)).view("int64")
        j = index.get_indexer(disk)
        j = j[(j >= 0) & (j != i)]
        rows.append(np.full(len(j), i))
        cols.append(j)
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=int)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=int)
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(cells), len(cells)))


def queen_weights(units) -> sp.csr_matrix:
    """Return binary queen contiguity of polygons (GeoDataFrame rows, in order) as a CSR matrix."""
    from libpysal.weights import Queen

    if len(units) == 0:
        return sp.csr_matrix((0, 0))
    w = Queen.from_dataframe(units.reset_index(drop=True), use_index=False, silence_warnings=True)
    m = w.sparse.tocsr().astype("float64")
    m.data[:] = 1.0
    return m


def gi_star(y, w, ids=None, *, min_units: int = MIN_UNITS, permutations: int = 0, seed: int | None = None) -> GiStar:
    """Compute Getis-Ord Gi* with binary weights, FDR-corrected bins.

    Parameters
    ----------
    y : array-like of float
        One value per unit (e.g. tickets per cell; zeros included).
    w : scipy sparse matrix
        n × n binary neighbour matrix without the diagonal (the unit itself is
        added here).
    ids : array-like, optional
        Unit ids (default 0..n-1).
    min_units : int
        Fewer units than this give no statistic, ``reason`` says so.
    permutations : int
        When > 0, also conditional-randomisation pseudo p-values ``p_sim``
        (folded: the smaller of the two directional p-values, ties counted on
        both sides; NaN for islands) from the compiled kernel in
        :mod:`minqing.analysis.gi_kernel`, which documents them. The kernel
        compiles once (cached on disk); call ``gi_kernel.warm_up()`` off the
        request path before the first use.
    seed : int, optional
        Seed of the permutations: the same seed gives the same ``p_sim`` on any
        number of threads. None draws a fresh seed.

    Returns
    -------
    GiStar
    """
    y = np.asarray(y, dtype="float64")
    n = len(y)
    ids = np.arange(n) if ids is None else np.asarray(ids)
    if not sp.issparse(w) or w.shape != (n, n):
        raise HotspotError(f"w must be a sparse {n}x{n} matrix, got {getattr(w, 'shape', type(w))}",
                           key="hotspots.error_inputs", value="w")
    if len(ids) != n:
        raise HotspotError(f"ids has {len(ids)} entries, y has {n}", key="hotspots.error_inputs", value="ids")
    if not np.all(np.isfinite(y)):
        raise HotspotError("y has NaN or infinite values; fill missing counts with 0", key="hotspots.error_inputs",
                           value="y")
    w = sp.csr_matrix(w, dtype="float64")
    w.setdiag(0)
    w.eliminate_zeros()
    w.data[:] = 1.0
    island = np.asarray(w.sum(axis=1)).ravel() == 0
    empty = np.full(n, np.nan)
    if n < min_units:
        return GiStar(ids, y, empty, empty.copy(), empty.copy(), np.zeros(n, dtype="int8"), island,
                      reason="hotspots.reason_too_few")
    if np.ptp(y) == 0:
        return GiStar(ids, y, empty, empty.copy(), empty.copy(), np.zeros(n, dtype="int8"), island,
                      reason="hotspots.reason_constant")
    z = _gi_star_z(y, w)
    z[island] = np.nan
    p, p_fdr, bins = _inference(z)
    p_sim = _permutations(y, w, permutations, seed) if permutations else None
    return GiStar(ids, y, z, p, p_fdr, bins, island, p_sim)


def _gi_star_z(y: np.ndarray, w: sp.csr_matrix) -> np.ndarray:
    """Analytic z of Gi*: (Σ_j w*_ij y_j − ȳ W_i) / (s √((n W_i − W_i²)/(n − 1))), w* = w + I."""
    n = len(y)
    ws = w + sp.identity(n, format="csr")
    lag = ws @ y
    wi = np.asarray(ws.sum(axis=1)).ravel()
    mean = y.mean()
    s = np.sqrt((y * y).mean() - mean * mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (lag - mean * wi) / (s * np.sqrt((n * wi - wi * wi) / (n - 1)))


def bh_adjust(p) -> np.ndarray:
    """Return Benjamini-Hochberg adjusted p-values; NaN stays NaN."""
    p = np.asarray(p, dtype="float64")
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = stats.false_discovery_control(p[ok], method="bh")
    return out


def _inference(z: np.ndarray):
    p = 2.0 * stats.norm.sf(np.abs(z))
    p_fdr = bh_adjust(p)
    bins = np.zeros(len(z), dtype="int8")
    sign = np.sign(np.nan_to_num(z)).astype("int8")
    for mag, alpha in reversed(CONFIDENCE):  # 1, 2, 3: the strictest that holds wins
        bins = np.where(p_fdr < alpha, sign * mag, bins).astype("int8")
    return p, p_fdr, bins


def _permutations(y, w, permutations, seed):
    from minqing.analysis.gi_kernel import gi_star_pseudo_p  # numba: imported only when asked for

    return gi_star_pseudo_p(y, w, permutations, seed).p_sim
