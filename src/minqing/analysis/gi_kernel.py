"""Conditional-randomisation pseudo p-values of Gi* (binary weights, the unit itself included), compiled.

What is simulated
-----------------
For every unit *i* with ``k_i >= 1`` neighbours (the unit itself not counted), ``y_i``
stays where it is and ``k_i`` values are drawn **without replacement** from the other
``n - 1`` values; their sum ``S`` is compared with the observed neighbour sum ``s``
(Σ of ``y_j`` over the neighbours). Gi* with binary weights is
``(y_i + Σ_neighbours y_j) / Σ_all y``: ``y_i`` and the denominator are the same in every
draw, so comparing ``S`` with ``s`` is comparing the simulated Gi* with the observed one.

The p-values (``N`` = ``permutations``)
---------------------------------------
- ``p_hot  = (1 + #{S >= s}) / (N + 1)`` — directional, "at least as high as observed";
- ``p_cold = (1 + #{S <= s}) / (N + 1)`` — directional, "at least as low as observed";
- ``p_sim  = min(p_hot, p_cold)`` — folded: the one-sided p-value in the direction the
  unit lies (the convention esda documents for ``p_sim``; it is not doubled).

**Ties count on both sides**: a draw with ``S == s`` is in ``#{S >= s}`` *and* in
``#{S <= s}``. A unit whose neighbourhood sum is matched by every draw (all values equal,
or ``k_i = n - 1`` so every draw is the observed neighbourhood) gets ``p_hot = p_cold =
p_sim = 1``. esda (2.9) folds with ``#{S < s}`` on the low side, i.e. drops the ties there,
and its observed and simulated statistics are divided and summed in different orders
(``fastmath``), so ties between integer sums fall either way: its p-values are biased low
wherever ties are common (counts of tickets), see ``tests/analysis/test_gi_kernel.py``.

"Equal" is exact: when every ``y`` is an integer and ``Σ|y| < 2**52`` all sums are exact
in float64 and ``S == s`` is tested as ``|S - s| < 0.5``. Otherwise two sums closer than
``4 · n · 2**-53 · Σ|y|`` (a bound on the rounding error of either sum) count as equal.

Units without neighbours (islands) get NaN (there is nothing to draw; :func:`gi_star`
gives them no statistic either).

Reproducible
------------
The draws of unit *i* come from their own random stream (SplitMix64, started from a hash
of the 64-bit key derived from ``seed`` and of *i*), with exact bounded integers (Lemire's
method with rejection) and Floyd's sampling without replacement. The same seed gives the
same p-values whatever the number of threads or the order the units are processed in.

Compilation
-----------
``@njit(parallel=True, cache=True)``: the machine code is written to numba's on-disk cache
on first use, and later processes load it (about a second, numba's import included)
instead of compiling (several seconds). The cache goes where numba puts it — the
``NUMBA_CACHE_DIR`` environment variable when set, else ``__pycache__`` next to this file;
when that folder is not writable (an installed, read-only package) this module points
numba at ``$XDG_CACHE_HOME/minqing/numba`` (default ``~/.cache/minqing/numba``) or, when
that is not writable either, ``<tempdir>/minqing-numba-cache``. Call :func:`warm_up` once
per process off the request path (at app start, in a background thread) so no request
waits for compilation or for loading the cache; run it once at deployment to fill the
on-disk cache.

Threads and processes
---------------------
Calls are serialised by a lock: numba's ``workqueue`` threading layer must not be entered
from two threads at once, and one call already uses every core. With the ``omp`` layer
(numba's default choice here: GNU OpenMP), a process that has run a parallel kernel must not
``fork`` children that run one too — libgomp terminates them ("fork() called from a process
already using GNU OpenMP"). A process that both runs this kernel and forks workers (the
import pipeline uses a ``fork`` pool) should set ``NUMBA_THREADING_LAYER=workqueue``
(fork-safe, as fast for this kernel) or start its workers with ``spawn`` / ``forkserver``.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp


def _writable_dir(path: Path) -> bool:
    """True if ``path`` exists (or can be made) and a file can be created in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def _choose_cache_dir(package_cache: Path, environ) -> str | None:
    """Return a folder for numba's cache, or None to keep numba's own choice.

    ``NUMBA_CACHE_DIR`` wins; then the package's ``__pycache__`` (numba's default) when
    writable; then ``$XDG_CACHE_HOME/minqing/numba``; then a folder in the temp dir.
    """
    if environ.get("NUMBA_CACHE_DIR"):
        return None
    if _writable_dir(package_cache):
        return None
    xdg = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "minqing" / "numba"
    if _writable_dir(xdg):
        return str(xdg)
    return str(Path(tempfile.gettempdir()) / "minqing-numba-cache")


_CACHE_DIR = _choose_cache_dir(Path(__file__).resolve().parent / "__pycache__", os.environ)
if _CACHE_DIR is not None:  # before numba decorates anything below
    os.environ["NUMBA_CACHE_DIR"] = _CACHE_DIR

import numba
from numba import njit, prange

if _CACHE_DIR is not None:  # numba may have been imported (and read its config) before us
    numba.config.CACHE_DIR = _CACHE_DIR

from minqing.kernels import KERNEL_LOCK as _LOCK  # noqa: E402 - one lock for every parallel kernel
_CHUNK = 512  # units per parallel task (one scratch array each)

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1 << 32)
_S27, _S30, _S31, _S32 = np.uint64(27), np.uint64(30), np.uint64(31), np.uint64(32)


@njit(cache=True, inline="always")
def _mix64(z):
    """SplitMix64's finaliser (a bijection of uint64)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _below(state, bound):
    """Advance the SplitMix64 ``state``; return (state, uniform integer in [0, bound)), bound < 2**32.

    Lemire's multiply-shift with rejection: exactly uniform.
    """
    state = state + _GAMMA
    m = (_mix64(state) >> _S32) * bound
    low = m & _LOW32
    if low < bound:
        threshold = (_TWO32 - bound) % bound
        while low < threshold:
            state = state + _GAMMA
            m = (_mix64(state) >> _S32) * bound
            low = m & _LOW32
    return state, m >> _S32


@njit(cache=True, inline="always")
def _any_equal8(p):
    """True if two of p[0..7] are equal (28 branch-free comparisons)."""
    p0, p1, p2, p3, p4, p5, p6, p7 = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
    return ((p0 == p1) | (p0 == p2) | (p0 == p3) | (p0 == p4) | (p0 == p5) | (p0 == p6) | (p0 == p7)
            | (p1 == p2) | (p1 == p3) | (p1 == p4) | (p1 == p5) | (p1 == p6) | (p1 == p7)
            | (p2 == p3) | (p2 == p4) | (p2 == p5) | (p2 == p6) | (p2 == p7)
            | (p3 == p4) | (p3 == p5) | (p3 == p6) | (p3 == p7)
            | (p4 == p5) | (p4 == p6) | (p4 == p7)
            | (p5 == p6) | (p5 == p7)
            | (p6 == p7))


@njit(parallel=True, cache=True)
def _crand_counts(y, indptr, indices, permutations, key, tol, n_ge, n_le):
    """Fill ``n_ge[i]`` = #{S >= s - tol} and ``n_le[i]`` = #{S <= s + tol} (−1 for islands).

    A uniform s-subset of the m = n − 1 others (numbered 0..m−1; other t is unit t + (t >= i)),
    s = k_i, or s = m − k_i when that is smaller (then S = Σ others − the subset's sum):

    - s <= 8: s independent uniform draws, the whole tuple drawn again when two coincide
      (an accepted tuple is uniform over ordered distinct tuples, so its set is a uniform
      s-subset); checked with 28 branch-free comparisons, unused slots hold distinct negatives;
    - s > 8: Floyd's algorithm with a membership array.
    """
    n = y.shape[0]
    total = 0.0
    max_k = 0
    for i in range(n):
        total += y[i]
        max_k = max(max_k, indptr[i + 1] - indptr[i])
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for c in prange(n_chunks):
        picked = np.empty(max(max_k, 8), dtype=np.int64)
        mark = np.zeros(max(n - 1, 1) if max_k > 8 else 1, dtype=np.uint8)
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            k = indptr[i + 1] - indptr[i]
            if k == 0:
                n_ge[i] = -1
                n_le[i] = -1
                continue
            obs = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                obs += y[indices[p]]
            lo = obs - tol
            hi = obs + tol
            m = n - 1
            complement = 2 * k > m
            s = m - k if complement else k
            rest = total - y[i]
            bound = np.uint64(m)
            threshold = (_TWO32 - bound) % bound  # Lemire: reject low words below this
            state = _mix64(key ^ _mix64(np.uint64(i) + _GAMMA))
            for a in range(8):
                picked[a] = -1 - a
            ge = 0
            le = 0
            for _ in range(permutations):
                acc = 0.0
                if s <= 8:
                    while True:
                        acc = 0.0
                        q = 0
                        while q < s:
                            state = state + _GAMMA
                            prod = (_mix64(state) >> _S32) * bound
                            if (prod & _LOW32) < threshold:
                                continue
                            t = np.int64(prod >> _S32)
                            picked[q] = t
                            acc += y[t + (t >= i)]
                            q += 1
                        if not _any_equal8(picked):
                            break
                else:
                    for q in range(s):  # Floyd: j = m-s .. m-1, t uniform in 0..j, j itself if t taken
                        j = m - s + q
                        state, u = _below(state, np.uint64(j + 1))
                        t = np.int64(u)
                        if mark[t]:
                            t = j
                        mark[t] = 1
                        picked[q] = t
                        acc += y[t + (t >= i)]
                    for q in range(s):
                        mark[picked[q]] = 0
                sim = rest - acc if complement else acc
                ge += sim >= lo
                le += sim <= hi
            n_ge[i] = ge
            n_le[i] = le


@dataclass(frozen=True)
class PseudoP:
    """Conditional-randomisation p-values of Gi* (definitions in the module notes).

    Attributes
    ----------
    p_sim : ndarray
        Folded: ``min(p_hot, p_cold)``; NaN for islands.
    p_hot, p_cold : ndarray
        Directional: ``(1 + #{S >= s}) / (N + 1)`` and ``(1 + #{S <= s}) / (N + 1)``.
    n_ge, n_le : ndarray of int64
        The counts #{S >= s} and #{S <= s} (ties in both); −1 for islands.
    permutations : int
    seed : int
    """

    p_sim: np.ndarray
    p_hot: np.ndarray
    p_cold: np.ndarray
    n_ge: np.ndarray
    n_le: np.ndarray
    permutations: int
    seed: int


def _key(seed: int) -> np.uint64:
    return np.random.SeedSequence(int(seed)).generate_state(1, dtype=np.uint64)[0]


def _tolerance(y: np.ndarray) -> float:
    abs_sum = float(np.abs(y).sum())
    if abs_sum < 2.0**52 and np.array_equal(y, np.round(y)):
        return 0.5  # integer sums are exact: |S - s| < 0.5 means S == s
    return 4.0 * len(y) * 2.0**-53 * abs_sum


def neighbours_csr(w, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (indptr, indices) as int64 of binary neighbours without the unit itself."""
    if not sp.issparse(w) or w.shape != (n, n):
        raise ValueError(f"w must be a sparse {n}x{n} matrix, got {getattr(w, 'shape', type(w))}")
    w = sp.csr_matrix(w, dtype="float64", copy=True)
    w.sum_duplicates()
    w.setdiag(0)
    w.eliminate_zeros()
    return w.indptr.astype(np.int64), w.indices.astype(np.int64)


def gi_star_pseudo_p(y, w, permutations: int = 999, seed: int | None = 0) -> PseudoP:
    """Return conditional-randomisation p-values of Gi* (binary weights, unit itself included).

    Parameters
    ----------
    y : array-like of float
        One finite value per unit.
    w : scipy sparse matrix
        n × n neighbour matrix; any non-zero off the diagonal is a neighbour, the diagonal is
        ignored (the unit itself is always in its Gi*).
    permutations : int
        Draws per unit (``N``), >= 1.
    seed : int or None
        Same seed, same p-values (any thread count). None draws fresh entropy (recorded in
        the result's ``seed``).

    Returns
    -------
    PseudoP
    """
    y = np.ascontiguousarray(y, dtype="float64")
    n = len(y)
    if y.ndim != 1:
        raise ValueError("y must be one-dimensional")
    if not np.all(np.isfinite(y)):
        raise ValueError("y has NaN or infinite values")
    permutations = int(permutations)
    if permutations < 1:
        raise ValueError(f"permutations must be >= 1, got {permutations}")
    if n >= 2**31:
        raise ValueError("too many units")
    indptr, indices = neighbours_csr(w, n)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    n_ge = np.empty(n, dtype=np.int64)
    n_le = np.empty(n, dtype=np.int64)
    with _LOCK:
        _crand_counts(y, indptr, indices, np.int64(permutations), _key(seed), np.float64(_tolerance(y)), n_ge, n_le)
    island = n_ge < 0
    with np.errstate(invalid="ignore"):
        p_hot = np.where(island, np.nan, (1.0 + n_ge) / (permutations + 1.0))
        p_cold = np.where(island, np.nan, (1.0 + n_le) / (permutations + 1.0))
    return PseudoP(np.fmin(p_hot, p_cold), p_hot, p_cold, n_ge, n_le, permutations, int(seed))


def exact_p(y, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the exact (p_hot, p_cold, p_sim) of conditional randomisation for integer ``y``.

    ``p_hot = P(S >= s)``, ``p_cold = P(S <= s)``, ``p_sim = min`` — the limits of
    :func:`gi_star_pseudo_p` as ``permutations`` grows — by counting the k-subsets of the
    other values with each sum: the coefficients of ``Π_v (1 + x t^v)^{c_v}`` (``c_v`` the
    number of other units with value ``v``), one polynomial per distinct ``(y_i, k_i)``.
    No sampling, hence the reference the kernel and esda are measured against. Pure numpy;
    cost grows with (distinct values) × k² × k·(max − min of y): for counts, not for
    continuous values. Islands get NaN.
    """
    from math import comb

    y = np.asarray(y, dtype="float64")
    n = len(y)
    if not np.array_equal(y, np.round(y)):
        raise ValueError("exact_p needs integer values")
    yi = (y - y.min()).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
    indptr, indices = neighbours_csr(w, n)
    ks = np.diff(indptr)
    csum = np.concatenate([[0], np.cumsum(yi[indices])])
    obs = csum[indptr[1:]] - csum[indptr[:-1]]
    values, counts = np.unique(yi, return_counts=True)
    dists: dict[tuple[int, int], np.ndarray] = {}
    p_hot = np.full(n, np.nan)
    p_cold = np.full(n, np.nan)
    for i in range(n):
        k = int(ks[i])
        if k == 0:
            continue
        key = (int(yi[i]), k)
        if key not in dists:
            cnt = counts.copy()
            cnt[np.searchsorted(values, yi[i])] -= 1
            width = k * int(values[-1]) + 1
            f = np.zeros((k + 1, width))
            f[0, 0] = 1.0
            for v, c in zip(values.tolist(), cnt.tolist()):
                g = f.copy()
                for a in range(1, min(c, k) + 1):
                    shift = a * v
                    if shift < width:
                        g[a:, shift:] += comb(c, a) * f[: k + 1 - a, : width - shift]
                f = g
            dists[key] = f[k] / f[k].sum()  # f[k].sum() == comb(n - 1, k)
        d = dists[key]
        p_hot[i] = d[obs[i]:].sum()
        p_cold[i] = d[: obs[i] + 1].sum()
    return p_hot, p_cold, np.fmin(p_hot, p_cold)


def warm_up() -> float:
    """Compile the kernel (or load it from the on-disk cache) on a tiny input; return seconds taken.

    Call once per process, off the request path, e.g. in a daemon thread at app start.
    Safe to call again (then it costs microseconds).
    """
    t = time.perf_counter()
    w = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype="float64"))
    gi_star_pseudo_p(np.array([1.0, 2.0, 0.0]), w, permutations=3, seed=0)
    return time.perf_counter() - t
