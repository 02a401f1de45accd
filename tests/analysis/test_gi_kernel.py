"""The compiled Gi* conditional-randomisation kernel: hand-worked cases, exact references, esda, edge cases."""

from itertools import combinations
from pathlib import Path

import h3
import numpy as np
import pytest
import scipy.sparse as sp

from minqing.analysis import gi_kernel
from minqing.analysis.getis_ord import gi_star, h3_weights
from minqing.analysis.gi_kernel import exact_p, gi_star_pseudo_p

CENTRE = h3.latlng_to_cell(31.28, 121.52, 9)


def _w(n, edges):
    r = [a for a, b in edges] + [b for a, b in edges]
    c = [b for a, b in edges] + [a for a, b in edges]
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))


def _line(n):
    return _w(n, [(i, i + 1) for i in range(n - 1)])


def _enumerate(y, w):
    """Exact (p_hot, p_cold) by listing every k-subset of the other units."""
    w = sp.csr_matrix(w)
    n = len(y)
    hot, cold = np.full(n, np.nan), np.full(n, np.nan)
    for i in range(n):
        nb = [j for j in w[i].indices if j != i]
        if not nb:
            continue
        s = sum(y[j] for j in nb)
        others = [y[j] for j in range(n) if j != i]
        sums = [sum(c) for c in combinations(others, len(nb))]
        hot[i] = np.mean([x >= s for x in sums])
        cold[i] = np.mean([x <= s for x in sums])
    return hot, cold


def _mc_bound(p, n_draws):
    """|(1 + X)/(N + 1) − p| stays below this (4.5 standard errors plus the +1 offset)."""
    return 4.5 * np.sqrt(p * (1 - p) / n_draws) + 2.0 / n_draws


def _cells(radius):
    return np.array([h3.str_to_int(c) for c in h3.grid_disk(CENTRE, radius)], dtype="uint64").view("int64")


def test_five_units_on_a_line_by_hand():
    # y = 4 1 1 0 1 on a line 0-1-2-3-4. Unit 3: neighbours 2 and 4 sum to 2; the pairs of
    # the others (4, 1, 1, 1) sum to 5 5 5 2 2 2, so P(S >= 2) = 1 and P(S <= 2) = 1/2 (ties
    # on both sides). esda's fold (#{S < s} on the low side) would call it p = 1/(N+1).
    y = np.array([4.0, 1, 1, 0, 1])
    w = _line(5)
    hot = np.array([3 / 4, 2 / 6, 1, 1, 1])  # unit 0: neighbour 1, others 1 1 0 1 -> 3 of 4 >= 1
    cold = np.array([1, 1, 2 / 6, 3 / 6, 1 / 4])  # unit 4: neighbour 0, others 4 1 1 0 -> 1 of 4 <= 0
    np.testing.assert_allclose(_enumerate(y, w), [hot, cold])
    np.testing.assert_allclose(exact_p(y, w), [hot, cold, np.minimum(hot, cold)])
    n = 200_000
    r = gi_star_pseudo_p(y, w, permutations=n, seed=11)
    assert np.all(np.abs(r.p_hot - hot) <= _mc_bound(hot, n))
    assert np.all(np.abs(r.p_cold - cold) <= _mc_bound(cold, n))
    np.testing.assert_array_equal(r.p_sim, np.fmin(r.p_hot, r.p_cold))
    assert r.n_ge[2] == r.n_ge[3] == r.n_ge[4] == n  # every draw at least as high: all counted
    assert r.p_sim[3] == pytest.approx(0.5, abs=0.01)


def test_exact_reference_matches_enumeration():
    rng = np.random.default_rng(3)
    for trial in range(20):
        n = int(rng.integers(3, 10))
        y = rng.integers(-2, 4, n).astype(float)
        dense = rng.random((n, n)) < rng.uniform(0.1, 0.9)
        w = sp.csr_matrix(np.triu(dense, 1) | np.triu(dense, 1).T, dtype=float)
        hot, cold = _enumerate(y, w)
        e_hot, e_cold, _ = exact_p(y, w)
        np.testing.assert_allclose(e_hot, hot, err_msg=str(trial))
        np.testing.assert_allclose(e_cold, cold, err_msg=str(trial))


@pytest.mark.parametrize("k", [1, 3, 8, 9, 12, 15, 16, 17, 23, 24])
def test_kernel_matches_exact_for_every_sampling_path(k):
    # 25 units, unit 0 with k neighbours among the m = 24 others. Drawn: s = k, or the s = 24 - k
    # left out when k >= 13. s <= 8 (k 1, 3, 8, 16, 17, 23) takes the tuple draw, s 9..12 (k 9,
    # 12, 15) Floyd's, k = 24 leaves nothing to draw.
    rng = np.random.default_rng(k)
    y = rng.poisson(2.0, 25).astype(float)
    edges = [(0, j) for j in range(1, k + 1)] + [(i, i + 1) for i in range(1, 24)]
    w = _w(25, edges)
    n = 100_000
    r = gi_star_pseudo_p(y, w, permutations=n, seed=5)
    e_hot, e_cold, _ = exact_p(y, w)
    assert np.all(np.abs(r.p_hot - e_hot) <= _mc_bound(e_hot, n))
    assert np.all(np.abs(r.p_cold - e_cold) <= _mc_bound(e_cold, n))
    if k == 24:  # every draw is the observed neighbourhood
        assert r.p_hot[0] == r.p_cold[0] == 1.0


def test_exact_reference_agrees_with_plain_numpy_sampling():
    # an independent check of exact_p: 100,000 draws per unit with numpy's generator
    cells = _cells(6)
    w = h3_weights(cells)
    rng = np.random.default_rng(8)
    y = rng.poisson(3.0, len(cells)).astype(float)
    y[:5] += 8
    e_hot, e_cold, _ = exact_p(y, w)
    w = sp.csr_matrix(w)
    n = 100_000
    for i in range(0, len(cells), 3):
        nb = w[i].indices
        others = np.delete(y, i)
        obs = y[nb].sum()
        idx = np.empty((0, len(nb)), dtype=np.int64)
        while len(idx) < n:  # rows of distinct indices: a uniform k-subset each
            draw = rng.integers(0, len(others), (n, len(nb)))
            srt = np.sort(draw, axis=1)
            idx = np.vstack([idx, draw[(np.diff(srt, axis=1) != 0).all(axis=1)]])
        sims = others[idx[:n]].sum(axis=1)
        assert abs((sims >= obs).mean() - e_hot[i]) <= _mc_bound(e_hot[i], n)
        assert abs((sims <= obs).mean() - e_cold[i]) <= _mc_bound(e_cold[i], n)


def test_same_seed_same_p_values_on_any_thread_count():
    import numba

    cells = _cells(12)
    w = h3_weights(cells)
    y = np.random.default_rng(2).poisson(2.0, len(cells)).astype(float)
    a = gi_star_pseudo_p(y, w, permutations=199, seed=42)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        b = gi_star_pseudo_p(y, w, permutations=199, seed=42)
    finally:
        numba.set_num_threads(before)
    c = gi_star_pseudo_p(y, w, permutations=199, seed=43)
    np.testing.assert_array_equal(a.n_ge, b.n_ge)
    np.testing.assert_array_equal(a.n_le, b.n_le)
    assert (a.n_ge != c.n_ge).any()
    g1 = gi_star(y, w, permutations=99, seed=7)
    g2 = gi_star(y, w, permutations=99, seed=7)
    np.testing.assert_array_equal(g1.p_sim, g2.p_sim)


@pytest.mark.slow  # esda compiles for about 20 s
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_closer_to_the_exact_reference_than_esda():
    from esda.getisord import G_Local
    from libpysal.weights import WSP

    cells = _cells(10)  # 331 cells
    w = h3_weights(cells)
    rng = np.random.default_rng(1)
    y = rng.poisson(3.0, len(cells)).astype(float)
    y[:7] += rng.poisson(6.0, 7)  # a hot spot in the middle
    _, _, exact = exact_p(y, w)
    ours = gi_star_pseudo_p(y, w, permutations=999, seed=0).p_sim
    esda = G_Local(y, WSP(w).to_W(silence_warnings=True), transform="B", star=True, permutations=999, seed=1,
                   keep_simulations=False, n_jobs=1).p_sim
    ours_mad = np.mean(np.abs(ours - exact))
    esda_mad = np.mean(np.abs(esda - exact))
    print(f"mean |p - exact| over {len(y)} cells: ours {ours_mad:.4f}, esda {esda_mad:.4f}")
    assert ours_mad < 0.015  # Monte Carlo noise of 999 draws
    assert ours_mad < esda_mad / 2  # measured: 0.010 against 0.038-0.041
    assert np.mean(ours - exact) > -0.003  # no downward bias; esda's is below by about 0.03
    assert np.mean(esda - exact) < -0.02


def test_island_gets_nan():
    y = np.array([1.0, 2, 3, 4])
    w = _w(4, [(0, 1), (1, 2)])  # unit 3 alone
    r = gi_star_pseudo_p(y, w, permutations=99, seed=0)
    assert np.isnan(r.p_sim[3]) and np.isnan(r.p_hot[3]) and r.n_ge[3] == -1
    assert np.isfinite(r.p_sim[:3]).all()
    far = np.array([h3.str_to_int(h3.latlng_to_cell(31.4, 121.7, 9))], dtype="uint64").view("int64")
    cells = np.concatenate([_cells(3), far])
    yy = np.r_[np.arange(len(cells) - 1) % 4, 9.0]
    g = gi_star(yy, h3_weights(cells), permutations=99, seed=1)
    assert g.island[-1] and np.isnan(g.p_sim[-1]) and np.isfinite(g.p_sim[:-1]).all()


def test_all_equal_values_give_p_one():
    w = h3_weights(_cells(4))
    r = gi_star_pseudo_p(np.full(w.shape[0], 3.0), w, permutations=99, seed=0)
    assert (r.p_sim == 1).all() and (r.p_hot == 1).all() and (r.p_cold == 1).all()
    g = gi_star(np.full(w.shape[0], 3.0), w, permutations=99)  # gi_star says why it computes nothing
    assert g.reason == "hotspots.reason_constant" and g.p_sim is None


def test_everyone_neighbours_everyone_and_tiny_n():
    n = 6
    full = sp.csr_matrix(np.ones((n, n)))  # k = n - 1 (diagonal ignored): every draw is the observed one
    r = gi_star_pseudo_p(np.arange(n, dtype=float), full, permutations=50, seed=0)
    assert (r.p_sim == 1).all()
    r2 = gi_star_pseudo_p(np.array([0.0, 5.0]), _line(2), permutations=10, seed=0)  # one possible draw
    assert (r2.p_sim == 1).all()
    r1 = gi_star_pseudo_p(np.array([2.0]), sp.csr_matrix((1, 1)), permutations=10, seed=0)
    assert np.isnan(r1.p_sim).all()


def test_diagonal_and_duplicate_entries_do_not_change_k():
    y = np.array([4.0, 1, 1, 0, 1])
    clean = gi_star_pseudo_p(y, _line(5), permutations=500, seed=9)
    messy = _line(5).tocoo()
    r = np.r_[messy.row, np.arange(5), 0]
    c = np.r_[messy.col, np.arange(5), 1]
    dirty = sp.coo_matrix((np.r_[messy.data * 2.5, np.ones(5), 1.0], (r, c)), shape=(5, 5))  # weights, self, duplicate
    same = gi_star_pseudo_p(y, dirty, permutations=500, seed=9)
    np.testing.assert_array_equal(clean.n_ge, same.n_ge)


def test_ties_of_non_integer_sums_count_like_integer_ones():
    # 0.1 + 0.2 != 0.3 in floating point, but the sums are equal: tenths must tie like the integers
    rng = np.random.default_rng(4)
    cells = _cells(5)
    w = h3_weights(cells)
    y = rng.integers(0, 4, len(cells)).astype(float)
    a = gi_star_pseudo_p(y, w, permutations=300, seed=1)
    b = gi_star_pseudo_p(y / 10, w, permutations=300, seed=1)
    np.testing.assert_array_equal(a.n_ge, b.n_ge)
    np.testing.assert_array_equal(a.n_le, b.n_le)


def test_bad_inputs():
    w = _line(5)
    with pytest.raises(ValueError):
        gi_star_pseudo_p(np.ones(5), w, permutations=0)
    with pytest.raises(ValueError):
        gi_star_pseudo_p(np.array([1.0, np.nan, 1, 1, 1]), w)
    with pytest.raises(ValueError):
        gi_star_pseudo_p(np.ones(4), w)
    with pytest.raises(ValueError):
        exact_p(np.array([0.5, 1, 1, 1, 1]), w)


def test_seed_none_is_recorded():
    r = gi_star_pseudo_p(np.array([4.0, 1, 1, 0, 1]), _line(5), permutations=20, seed=None)
    again = gi_star_pseudo_p(np.array([4.0, 1, 1, 0, 1]), _line(5), permutations=20, seed=r.seed)
    np.testing.assert_array_equal(r.n_ge, again.n_ge)


def test_warm_up_is_cheap_once_done():
    gi_kernel.warm_up()
    assert gi_kernel.warm_up() < 0.5


def test_cache_dir_choice(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    unwritable = blocker / "__pycache__"  # below a regular file: cannot be made
    assert gi_kernel._choose_cache_dir(tmp_path / "pkg" / "__pycache__", {}) is None  # numba's own default
    assert gi_kernel._choose_cache_dir(unwritable, {"NUMBA_CACHE_DIR": "/somewhere"}) is None  # the user's choice
    xdg = gi_kernel._choose_cache_dir(unwritable, {"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert Path(xdg) == tmp_path / "xdg" / "minqing" / "numba"
    last = gi_kernel._choose_cache_dir(unwritable, {"XDG_CACHE_HOME": str(blocker)})
    assert last.endswith("minqing-numba-cache")
