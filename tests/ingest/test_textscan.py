"""Compiled scans of string columns: what they read is what pandas reads; what they cannot read, they leave."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa

from minqing.ingest.textscan import arrow_strings, plain_decimals, usual_times


def test_usual_times_read_only_valid_times_in_exactly_that_form():
    cells = ["2024-11-01 00:18:32", "2024-02-29 23:59:59", "2000-02-29 00:00:00", "1900-02-28 12:00:00",
             "2023-02-29 10:00:00", "1900-02-29 00:00:00", "2024-04-31 08:00:00", "2024-11-01 24:00:00",
             "2024-11-01 10:60:00", "2024-11-01 10:00:60", "1899-12-31 23:59:59", "2200-01-01 00:00:00",
             "2024-11-01T00:18:32", "2024-11-01 00:18:3２", "2024-11-01 0:18:32", "2024/11/01 00:18:32", "", "x"]
    got = usual_times(pd.Series(cells, dtype="str"))
    assert got.dtype == "datetime64[s]"
    read = [str(v) if not np.isnat(v) else None for v in got]
    assert read == ["2024-11-01T00:18:32", "2024-02-29T23:59:59", "2000-02-29T00:00:00", "1900-02-28T12:00:00"] + \
        [None] * 14
    sliced = pa.chunked_array([pa.array(cells[:3]), pa.array(cells[3:])]).slice(1, 5)  # offsets not from 0
    assert [str(v) for v in usual_times(sliced)] == ["2024-02-29T23:59:59", "2000-02-29T00:00:00",
                                                     "1900-02-28T12:00:00", "NaT", "NaT"]


def test_usual_times_are_pandas_iso_times():
    rng = random.Random(3)
    cells = []
    for _ in range(20000):
        y, mo, d = rng.randrange(1890, 2210), rng.randrange(0, 14), rng.randrange(0, 33)
        h, mi, se = rng.randrange(0, 26), rng.randrange(0, 62), rng.randrange(0, 62)
        cells.append(f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{se:02d}")
    got = usual_times(pd.Series(cells, dtype="str"))
    read = ~np.isnat(got)
    assert read.sum() > 5000
    want = pd.to_datetime(pd.Series(cells)[read], format="ISO8601").to_numpy(dtype="datetime64[s]")
    assert (got[read] == want).all()
    in_range = np.array([1900 <= int(c[:4]) < 2200 for c in cells])
    pandas_reads = pd.to_datetime(pd.Series(cells), format="ISO8601", errors="coerce").notna().to_numpy()
    assert (read == (pandas_reads & in_range)).all()  # every valid one of those years is read


def test_plain_decimals_are_pandas_numbers():
    rng = random.Random(2)

    def cell():
        k = rng.randrange(1, 16)
        s = "".join(rng.choice("0123456789") for _ in range(k))
        if k > 1 and rng.random() < 0.8:
            i = rng.randrange(1, k)
            s = s[:i] + "." + s[i:]
        return s

    cells = [cell() for _ in range(20000)] + [f"{rng.uniform(73, 135):.7f}" for _ in range(20000)] + ["", "0", "00.10"]
    s = pd.Series(cells, dtype="str")
    want = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    assert np.array_equal(plain_decimals(s), want, equal_nan=True)
    ints = pd.Series(["0", "31", "999999999999999", ""], dtype="str")  # a column of integers: pandas reads int64
    assert np.array_equal(plain_decimals(ints), [0.0, 31.0, 999999999999999.0, np.nan], equal_nan=True)


def test_a_column_with_any_other_cell_is_left_to_pandas():
    for other in ("-1.5", "+1", "1e5", ".5", "5.", "1.2.3", " 1", "1,5", "inf", "NaN", "١٢", "1234567890123456"):
        assert plain_decimals(pd.Series(["121.5", other], dtype="str")) is None, other
    assert plain_decimals(pd.Series(["121.5", None], dtype="str")) is None  # a missing value
    assert plain_decimals(pd.Series([121.5])) is None and arrow_strings(pd.Series(["a"], dtype=object)) is None
