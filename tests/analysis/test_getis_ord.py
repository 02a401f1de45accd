"""Gi*: a hand-computed 7-cell example, agreement with esda, too few units, islands, FDR bins."""

import h3
import numpy as np
import pytest
import scipy.sparse as sp

from minqing.analysis.getis_ord import GiStar, bh_adjust, gi_star, h3_weights

CENTRE = h3.latlng_to_cell(31.28, 121.50, 9)


def _ints(cells):
    return np.array([h3.str_to_int(c) for c in cells], dtype="uint64").view("int64")


def test_seven_cells_by_hand():
    # one hex and its ring: the centre touches all six, each ring cell touches
    # the centre and its two ring neighbours (3 neighbours + itself = W_i 4).
    cells = _ints([CENTRE] + [c for c in h3.grid_ring(CENTRE, 1)])
    w = h3_weights(cells)
    assert w.sum(axis=1).A.ravel().tolist() == [6, 3, 3, 3, 3, 3, 3]
    y = np.array([10.0, 4, 0, 2, 0, 1, 4])
    n, mean = 7, 3.0  # sum 21
    s = np.sqrt((100 + 16 + 0 + 4 + 0 + 1 + 16) / 7 - 9)  # sqrt(137/7 - 9)
    # centre: Σ w*_ij y_j = 21 (everyone), W = 7 -> z = (21 - 3*7) / (...) = 0 (n W - W² = 0: nan)
    g = gi_star(y, w, min_units=1)
    assert np.isnan(g.z[0])  # every unit is its neighbour: the statistic says nothing
    # ring cell 1 with y=4: neighbours are the centre and its two ring neighbours
    nb = [j for j in range(1, 7) if w[1, j]]
    lag = y[1] + y[0] + y[nb].sum()
    expected = (lag - mean * 4) / (s * np.sqrt((n * 4 - 16) / (n - 1)))
    assert g.z[1] == pytest.approx(expected, abs=1e-12)


def test_agrees_with_esda_on_random_data():
    from esda.getisord import G_Local
    from libpysal.weights import WSP

    cells = _ints(h3.grid_disk(CENTRE, 8))
    w = h3_weights(cells)
    rng = np.random.default_rng(7)
    y = rng.poisson(3.0, len(cells)).astype(float)
    y[:10] += 20
    g = gi_star(y, w)
    e = G_Local(y, WSP(w).to_W(silence_warnings=True), transform="B", star=True, permutations=0)
    assert np.max(np.abs(g.z - e.Zs)) < 1e-9
    assert g.bins[0] == 3 and (g.bins >= -3).all() and (g.bins <= 3).all()


def test_too_few_units_gives_a_reason():
    cells = _ints(h3.grid_disk(CENTRE, 2))  # 19 cells
    g = gi_star(np.arange(19.0), h3_weights(cells), cells)
    assert isinstance(g, GiStar) and g.reason == "hotspots.reason_too_few"
    assert np.isnan(g.z).all() and (g.bins == 0).all()


def test_islands_get_no_statistic():
    cells = _ints(h3.grid_disk(CENTRE, 3))
    far = _ints([h3.latlng_to_cell(31.40, 121.70, 9)])
    allc = np.concatenate([cells, far])
    y = np.r_[np.ones(len(cells)), 50.0]
    y[0] = 3
    g = gi_star(y, h3_weights(allc), allc)
    assert g.island[-1] and np.isnan(g.z[-1]) and g.bins[-1] == 0
    assert not g.island[:-1].any() and np.isfinite(g.z[:-1]).all()


def test_bh_adjust_by_hand():
    # p sorted 0.01, 0.02, 0.03, 0.5 with m=4: 0.04, 0.04, 0.04, 0.5
    np.testing.assert_allclose(bh_adjust([0.5, 0.01, 0.03, 0.02]), [0.5, 0.04, 0.04, 0.04])


def test_bad_weights_shape():
    with pytest.raises(ValueError):
        gi_star(np.ones(40), sp.identity(39, format="csr"))
