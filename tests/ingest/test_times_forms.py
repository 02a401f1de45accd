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


def _read(raw, tz="Asia/Shanghai", **kw):
    r = parse_times(pd.Series(raw, dtype="str"), tz=tz, now=NOW, **kw)
    return [None if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M:%S") for v in r.values], r


def test_compact_digits_are_read_by_their_length_with_fixed_fields():
    """A lenient reading took 202504031005 for 10:00:05 and 1743645900 for a day in 1743 (worked by hand below)."""
    got, r = _read(["20250403", "2025040310", "202504031005", "20250403100500",
                    "1743645900",      # Unix seconds: 2025-04-03 02:05 UTC, 10:05 in Shanghai
                    "1743645900123",   # Unix milliseconds, the same second
                    "2025043", "2025040310050", "20251303", "20250230", "202504032460"])
    assert got == ["2025-04-03 00:00:00", "2025-04-03 10:00:00", "2025-04-03 10:05:00", "2025-04-03 10:05:00",
                   "2025-04-03 10:05:00", "2025-04-03 10:05:00"] + [None] * 5
    assert r.bad.tolist() == [False] * 6 + [True] * 5 and not r.old.any()


def test_java_english_weekday_and_zone_forms():
    got, r = _read(["Thu Apr 03 10:05:00 CST 2025", "Thu Apr 03 02:05:00 GMT 2025", "Thu Apr 03 10:05:00 GMT+08:00 2025",
                    "03-Apr-2025 10:05", "Apr 3, 2025 10:05 AM", "Thursday, April 3, 2025 3:05 PM", "3 Sept 2025",
                    "2025-04-03 10:05:00 星期四", "2025-04-03(周四) 10:05", "2025年4月3日 礼拜四 10:05",
                    "2025-04-03 02:05:00 UTC", "2025-04-03 09:05 GMT+7", "北京时间 2025-04-03 10:05",
                    "Thu, 03 Apr 2025 02:05:00 GMT", "2025-04-03 10:05:00 PST", "Thu Apr 03 10:05:00 EST 2025"])
    assert got == ["2025-04-03 10:05:00", "2025-04-03 10:05:00", "2025-04-03 10:05:00",
                   "2025-04-03 10:05:00", "2025-04-03 10:05:00", "2025-04-03 15:05:00", "2025-09-03 00:00:00",
                   "2025-04-03 10:05:00", "2025-04-03 10:05:00", "2025-04-03 10:05:00",
                   "2025-04-03 10:05:00", "2025-04-03 10:05:00", "2025-04-03 10:05:00",
                   "2025-04-03 10:05:00", None, None]  # PST and EST are not guessed: unread, quarantined
    assert r.bad.sum() == 2


def test_cst_is_china_standard_time_only_in_a_city_at_plus_eight():
    got, _ = _read(["Thu Apr 03 10:05:00 CST 2025"], tz="Asia/Shanghai")
    assert got == ["2025-04-03 10:05:00"]
    got, r = _read(["Thu Apr 03 10:05:00 CST 2025", "Thu Apr 03 15:05:00 UTC 2025"], tz="America/Chicago")
    assert got == [None, "2025-04-03 10:05:00"] and r.bad.tolist() == [True, False]  # 15:05 UTC is 10:05 CDT


def test_oracle_timestamps_and_dotted_clocks():
    got, r = _read(["03-APR-25 10.05.00.000000 AM", "03-APR-25 10.05.00.000000000 PM", "03-4月 -25 10.05.00.000000 上午",
                    "03-4月 -25 03.05.00.000000 下午", "2025-04-03 10.05.00", "2025.04.03 10.05", "03.04.2025 10.05"],
                   date_order="DMY")
    assert got == ["2025-04-03 10:05:00", "2025-04-03 22:05:00", "2025-04-03 10:05:00", "2025-04-03 15:05:00",
                   "2025-04-03 10:05:00", "2025-04-03 10:05:00", "2025-04-03 10:05:00"]
    assert not r.bad.any()


def test_java_times_rewritten_in_arrow_read_as_each_value_alone():
    """A column of Date.toString() values takes the Arrow path; each gives what the value-by-value rewrite gives."""
    import numpy as np

    from minqing.ingest.timeforms import _java_in_arrow, _rewrite

    rng = np.random.default_rng(7)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700 * 86400, 500), unit="s")
    zones = np.array(["CST", "GMT", "UTC", "GMT+08:00", "GMT-05:00", "PST"])[rng.integers(0, 6, 500)]
    text = pd.Series([f"{d.strftime('%a %b %d %H:%M:%S')} {z} {d.year}" for d, z in zip(days, zones)], dtype="str")
    for china in (True, False):
        fast = _java_in_arrow(text, china)
        done = fast.notna()
        assert done.sum() == (zones != "PST").sum() - (0 if china else (zones == "CST").sum())
        assert fast[done].tolist() == [_rewrite(t, china) for t in text[done]]
    got, r = _read(text.tolist())
    expected = [(d.tz_localize({"CST": "Asia/Shanghai", "GMT+08:00": "Asia/Shanghai"}.get(z, "UTC"))
                 if z not in ("GMT-05:00", "PST") else d.tz_localize("Etc/GMT+5")).tz_convert("Asia/Shanghai")
                .strftime("%Y-%m-%d %H:%M:%S") if z != "PST" else None for d, z in zip(days, zones)]
    assert got == expected and r.bad.sum() == (zones == "PST").sum()
