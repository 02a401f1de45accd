"""Times on tiny inputs with hand-worked answers: every supported form, blanks, early and future times, other zones."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from minqing.ingest.times import parse_times

NOW = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")


def test_times_every_supported_form():
    raw = ["2025-04-03T14:05:00", "2025/4/3 14:05", "2025年4月3日 14时05分", "2025-04-03", "45750.5",
           "2025-04-03T06:05:00Z", "20250403", dt.datetime(2025, 4, 3, 14, 5)]
    r = parse_times(pd.Series(raw, dtype=object), now=NOW)
    got = [v.strftime("%Y-%m-%d %H:%M") for v in r.values]
    assert got == ["2025-04-03 14:05", "2025-04-03 14:05", "2025-04-03 14:05", "2025-04-03 00:00",
                   "2025-04-03 12:00", "2025-04-03 14:05", "2025-04-03 00:00", "2025-04-03 14:05"]
    assert str(r.values.dt.tz) == "Asia/Shanghai"
    assert not r.bad.any()


def test_times_blank_bad_early_future():
    raw = pd.Series(["", "garbage", "1999-12-31 23:00", "2026-03-01", None], dtype=object)
    r = parse_times(raw, now=NOW, earliest="2000-01-01")
    assert r.blank.tolist() == [True, False, False, False, True]
    assert r.bad.tolist() == [False, True, False, False, False]
    assert r.too_early.tolist() == [False, False, True, False, False]
    assert r.future.tolist() == [False, False, False, True, False]
    assert not parse_times(raw, now=NOW).too_early.any()  # no floor by default


def test_times_other_timezone():
    r = parse_times(pd.Series(["2025-04-03 14:05"]), tz="Asia/Urumqi", now=NOW)
    assert r.values.iloc[0].tz_convert("UTC").hour == 8  # Urumqi is UTC+6
