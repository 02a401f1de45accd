"""The vectorised keys give exactly what the object versions give, on hand-worked cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minqing.analysis.keys import codes, decode, group_codes, month_numbers, period_starts, positions


@pytest.mark.parametrize("dtype", [object, "str"])
def test_positions_first_match_and_missing(dtype):
    keys = pd.Series(["a", "b", "a", "c"], dtype=dtype)
    values = pd.Series(["c", "a", "zz", None, "b"], dtype=dtype)
    assert positions(values, keys).tolist() == [3, 0, -1, -1, 1]
    assert positions(pd.Series([], dtype=dtype), keys).tolist() == []


def test_codes_sorted_and_missing():
    c, u = codes(pd.Series(["b", None, "a", "b"], dtype=object))
    assert c.tolist() == [1, -1, 0, 1] and list(u) == ["a", "b"]


def test_group_codes_order_like_groupby():
    a = np.array(["x", "y", "x", "y", None, "x"], dtype=object)
    b = np.array([2, 1, 1, 2, 1, 2], dtype="int64")
    code, uniques = group_codes([a, b])
    assert code[4] == -1  # a missing key leaves the row out
    keep = code >= 0
    groups, sizes = np.unique(code[keep], return_counts=True)
    got = list(zip(*decode(groups, uniques), sizes))
    want = (pd.DataFrame({"a": a, "b": b}).dropna().groupby(["a", "b"], sort=True).size().reset_index())
    assert got == [tuple(r) for r in want.itertuples(index=False)]
    assert got == [("x", 1, 1), ("x", 2, 2), ("y", 1, 1), ("y", 2, 1)]


def test_period_starts_day_week_month():
    local = pd.Series(pd.to_datetime(["2024-01-01 00:00", "2024-01-07 23:59", "2024-01-08 08:00", "2024-02-29 12:00"]))
    assert period_starts(local, "day").tolist() == ["2024-01-01", "2024-01-07", "2024-01-08", "2024-02-29"]
    # 2024-01-01 was a Monday: the 7th is still in its week, the 8th starts the next
    assert period_starts(local, "week").tolist() == ["2024-01-01", "2024-01-01", "2024-01-08", "2024-02-26"]
    assert period_starts(local, "month").tolist() == ["2024-01-01", "2024-01-01", "2024-01-01", "2024-02-01"]
    # before 1970 too (negative day numbers): 1969-12-31 was a Wednesday
    assert period_starts(pd.Series(pd.to_datetime(["1969-12-31"])), "week").tolist() == ["1969-12-29"]


def test_month_numbers():
    m = month_numbers(pd.Series(pd.to_datetime(["1970-01-31", "1970-02-01", "1969-12-31"])))
    assert m.tolist() == [0, 1, -1]
