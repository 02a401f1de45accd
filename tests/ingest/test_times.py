"""Times as people write them: each form read to the right instant (worked out by hand), date order inferred."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minqing.ingest.times import DateOrderError, infer_date_order, parse_times

NOW = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")


def utc(values, **kw):
    r = parse_times(pd.Series(values, dtype=object), now=NOW, **kw)
    return [None if pd.isna(v) else v.tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S") for v in r.values], r


@pytest.mark.parametrize("raw, order, expected", [
    # Shanghai is UTC+8 all year (no daylight saving): local 23:59:58 -> 15:59:58 UTC
    ("12/31/2017 11:59:58 PM", "MDY", "2017-12-31 15:59:58"),
    ("31/12/2017 23:59:58", "DMY", "2017-12-31 15:59:58"),
    ("31.12.2017", "DMY", "2017-12-30 16:00:00"),
    ("12-31-2017 12:00 AM", "MDY", "2017-12-30 16:00:00"),  # 12 AM is midnight
    ("12/31/2017 12:30 PM", "MDY", "2017-12-31 04:30:00"),  # 12 PM is noon
    ("1/1/20 0:05", "MDY", "2019-12-31 16:05:00"),  # 2-digit year 20 -> 2020
    ("1/1/75 0:05", "MDY", "1974-12-31 16:05:00"),  # 70-99 -> 19xx
    ("1/1/69", "DMY", "2068-12-31 16:00:00"),  # 00-69 -> 20xx
    ("2017/12/31", None, "2017-12-30 16:00:00"),  # year first is YMD
    ("2024/1/5 下午2:30", None, "2024-01-05 06:30:00"),
    ("2024/1/5 上午11:00", None, "2024-01-05 03:00:00"),
    ("2024年1月5日 14时", None, "2024-01-05 06:00:00"),
    ("2024年1月5日14时30分", None, "2024-01-05 06:30:00"),
    ("2024年1月5日 14时30分15秒", None, "2024-01-05 06:30:15"),
    ("2024-01-05T14:00:00+08:00", None, "2024-01-05 06:00:00"),
    ("2024-01-05T14:00:00Z", None, "2024-01-05 14:00:00"),
    ("2024-01-05T14:00:00-05:00", None, "2024-01-05 19:00:00"),
    ("45296.5", None, "2024-01-05 04:00:00"),  # Excel serial: 2024-01-05 12:00 local
])
def test_each_form_reads_to_the_right_instant(raw, order, expected):
    got, r = utc([raw], date_order=order)
    assert got == [expected] and not r.bad.any()


def test_other_time_zone_for_us_dates():
    got, _ = utc(["12/31/2017 11:59:58 PM"], date_order="MDY", tz="America/Los_Angeles")
    assert got == ["2018-01-01 07:59:58"]  # PST is UTC-8


@pytest.mark.parametrize("token", ["NA", "na", "N/A", "NULL", "None", "-", "--", "无", "暂无", "空", " NA "])
def test_blank_tokens_are_blank_not_bad(token):
    for dtype in (object, "str"):
        r = parse_times(pd.Series([token], dtype=dtype), now=NOW)
        assert r.blank.tolist() == [True] and r.bad.tolist() == [False]


def test_garbage_and_impossible_dates_are_bad():
    _, r = utc(["garbage", "13/31/2017", "31/12/2017", "12/31/2017 13:00 PM"], date_order="MDY")
    assert r.bad.tolist() == [True, True, True, True]


def test_no_floor_by_default_old_warns_earliest_floors():
    _, r = utc(["1969-07-20 20:17", "1984-12-31", "1990-01-02"])
    assert not r.bad.any() and not r.too_early.any()
    assert r.old.tolist() == [True, True, False]
    _, r = utc(["1969-07-20 20:17", "1990-01-02"], earliest="1980-01-01")
    assert r.too_early.tolist() == [True, False]


def test_future_still_flagged():
    _, r = utc(["2099-01-01"])
    assert r.future.tolist() == [True]


def test_infer_order_from_all_columns_together():
    a = pd.Series(["1/2/2017", "3/4/2017"])
    assert infer_date_order([a, pd.Series(["31/12/2017"])]) == "DMY"
    assert infer_date_order([a, pd.Series(["", "12/31/2017 11:59:58 PM"])]) == "MDY"
    assert infer_date_order([pd.Series(["2017/12/31", "2017-01-02T00:00:00Z"])]) == "YMD"
    with pytest.raises(DateOrderError) as exc:
        infer_date_order([a, pd.Series(["5/6/17"])])
    assert exc.value.example == "1/2/2017"


def test_order_inferred_per_column_when_not_given():
    got, _ = utc(["1/2/2017", "31/12/2017"])
    assert got == ["2017-01-31 16:00:00", "2017-12-30 16:00:00"]  # 1 February, DMY


USUAL = ["2024-11-01 00:18:32", "2024-02-29 23:59:59", "2023-02-29 10:00:00", "2024-04-31 08:00:00",
         "2024-11-01 24:00:00", "2024-11-01 10:00:60", "1899-12-31 23:59:59", "2200-01-01 00:00:00",
         "2024-11-01T00:18:32", "1988-04-17 01:30:00", "1988-09-11 01:30:00", "2024-11-01 00:18:3２", "NA", ""]


@pytest.mark.parametrize("dtype", ["str", object])
def test_the_usual_form_read_from_the_bytes_to_the_right_instant(dtype):
    r = parse_times(pd.Series(USUAL, dtype=dtype), now=NOW)
    got = [None if pd.isna(v) else v.tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S") for v in r.values]
    assert got == [
        "2024-10-31 16:18:32", "2024-02-29 15:59:59",  # UTC+8; a leap day
        None, None, None,  # no 29 Feb 2023, no 31 April, no 24:00: unreadable (not rolled over)
        "2024-11-01 02:01:00",  # second 60: not the usual form; the full reading rolls it over (as before)
        "1899-12-31 15:54:16",  # before 1900: the full reading (Shanghai's local mean time, +8:05:43)
        "2199-12-31 16:00:00", "2024-10-31 16:18:32",
        "1988-04-16 17:30:00", None,  # China's 1988 summer time: 01:30 on 11 Sep happened twice
        "2024-10-31 16:18:32",  # a full-width digit: not the usual form's bytes, but pandas reads it
        None, None]
    assert r.bad.tolist() == [False, False, True, True, True, False, False, False, False, False, True, False, False,
                              False]
    assert r.blank.tolist()[-2:] == [True, True]


def test_the_usual_form_read_fast_equals_the_full_reading(monkeypatch):
    from minqing.ingest import times

    values = pd.Series(USUAL * 3 + ["2024-01-05 14:00:00", "45296.5", "2024/1/5 下午2:30"], dtype="str")
    fast = parse_times(values, now=NOW)
    monkeypatch.setattr(times, "usual_times", lambda text: np.full(len(text), np.datetime64("NaT"), "datetime64[s]"))
    full = parse_times(values, now=NOW)
    pd.testing.assert_series_equal(fast.values, full.values)
    for attr in ("blank", "bad", "too_early", "future", "old"):
        assert getattr(fast, attr).tolist() == getattr(full, attr).tolist()


# Hand-typed exports mix in full-width forms and other decimal digits; \d matches them, to_numeric did not.
WIDE = ["１３/04/2025 10:00", "０３／04／2025　10：00", "٠٣/04/2025 10:00", "２０２５-04-03 10:00", "2025年４月３日"]


def test_full_width_and_other_digits_settle_the_date_order_like_ascii_ones():
    assert infer_date_order([pd.Series(WIDE)]) == "DMY"  # １３/04: day first (it crashed with ValueError before)
    assert infer_date_order([pd.Series(["０４/１３/2025"])]) == "MDY"
    with pytest.raises(DateOrderError):
        infer_date_order([pd.Series(["０３/04/2025"])])  # still ambiguous, whatever the digits


def test_full_width_and_other_digits_read_as_their_ascii_form():
    for dtype in (object, pd.StringDtype("pyarrow", na_value=np.nan)):
        got = parse_times(pd.Series(WIDE + [None], dtype=dtype), date_order="DMY").values
        assert [str(v) for v in got[:5]] == ["2025-04-13 10:00:00+08:00", "2025-04-03 10:00:00+08:00",
                                             "2025-04-03 10:00:00+08:00", "2025-04-03 10:00:00+08:00",
                                             "2025-04-03 00:00:00+08:00"]
        assert pd.isna(got.iloc[5])
