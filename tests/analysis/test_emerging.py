"""Emerging hot spots: Esri's classes on hand-built series, Mann-Kendall by hand, an end-to-end cube."""

import h3
import numpy as np
import pytest

from minqing.analysis.emerging import classify, emerging_hotspots, mann_kendall

H, C, _ = 1, -1, 0
T10 = 10


def _cls(series, trend_z=0.0, trend_p=1.0):
    s = np.array(series)
    return classify(s == H, s == C, [trend_z], [trend_p])[0]


@pytest.mark.parametrize(
    "series, tz, tp, expected",
    [
        ([_] * 9 + [H], 0, 1, "new"),
        ([_] * 6 + [H] * 4, 0, 1, "consecutive"),
        ([H] * 10, 3.0, 0.001, "intensifying"),
        ([H] * 10, 0.2, 0.8, "persistent"),
        ([H] * 10, -3.0, 0.001, "diminishing"),
        ([H, _, H, _, _, H, _, _, _, H], 0, 1, "sporadic"),
        ([H, C, _, H, _, C, _, _, _, H], 0, 1, "oscillating"),
        ([H] * 9 + [_], 0, 1, "historical"),
        ([_] * 10, 0, 1, "no_pattern"),
        ([_] * 9 + [C], 0, 1, "new_cold"),
        ([C] * 10, -3.0, 0.001, "intensifying_cold"),
        ([H, _, H, _, _, _, _, _, _, _], 0, 1, "no_pattern"),
    ],
)
def test_each_class_from_a_hand_built_series(series, tz, tp, expected):
    assert len(series) == T10
    assert _cls(series, tz, tp) == expected


def test_consecutive_needs_no_earlier_hot_step():
    # a run at the end but hot before it: sporadic, not consecutive
    assert _cls([H, _, _, _, _, _, _, H, H, H]) == "sporadic"


def test_mann_kendall_by_hand():
    # x = 1, 3, 2, 4: pairs (+,+,+,-,+,+) -> S = 4; Var = 4*3*13/18 = 26/3; z = (4-1)/sqrt(26/3)
    z, p = mann_kendall([[1.0, 3.0, 2.0, 4.0]])
    assert z[0] == pytest.approx(3 / np.sqrt(26 / 3), abs=1e-12)
    assert 0 < p[0] < 1


def test_cube_end_to_end_finds_a_new_hot_spot():
    centre = h3.latlng_to_cell(31.28, 121.50, 8)
    cells = np.array([h3.str_to_int(c) for c in h3.grid_disk(centre, 5)], dtype="uint64").view("int64")
    rng = np.random.default_rng(3)
    cube = rng.poisson(2.0, (len(cells), 12)).astype(float)
    cube[0, -1] += 40  # the centre cell blows up in the final step only
    e = emerging_hotspots(cube, cells)
    assert e.reason is None
    assert e.bins[0, -1] == 3
    assert e.classes[0] == "new"
    assert (e.to_frame()["class"] == "new").sum() >= 1


def test_too_few_cells():
    cells = np.array([h3.str_to_int(c) for c in h3.grid_disk(h3.latlng_to_cell(31.28, 121.5, 8), 1)],
                     dtype="uint64").view("int64")
    e = emerging_hotspots(np.ones((7, 5)), cells)
    assert e.reason == "hotspots.reason_too_few" and (e.classes == "no_pattern").all()
