"""The city's time zone: one store setting for display, days, months, exports and evaluation."""

from __future__ import annotations

import pandas as pd
import pytest

from minqing.analysis.kpis import kpi_counts, month_bounds
from minqing.citytime import TimezoneError, check_timezone, local_seconds_sql, offset_segments
from minqing.cli.main import main
from minqing.ingest.pipeline import ImportOptions, import_file
from minqing.store import open_store

# Chicago: CST (UTC-6) until 2024-03-10 08:00 UTC, CDT (UTC-5) until 2024-11-03 07:00 UTC.
SPRING = int(pd.Timestamp("2024-03-10 08:00", tz="UTC").timestamp())
FALL = int(pd.Timestamp("2024-11-03 07:00", tz="UTC").timestamp())


def test_offset_segments_find_each_transition_to_the_second():
    lo = int(pd.Timestamp("2024-01-01", tz="UTC").timestamp())
    hi = int(pd.Timestamp("2024-12-31", tz="UTC").timestamp())
    assert offset_segments("America/Chicago", lo, hi) == [(lo, -6 * 3600), (SPRING, -5 * 3600), (FALL, -6 * 3600)]
    assert offset_segments("Asia/Shanghai", lo, hi) == [(lo, 8 * 3600)]
    # Shanghai kept summer time 1986-1991: a historical series needs it too
    old = offset_segments("Asia/Shanghai", int(pd.Timestamp("1988-01-01", tz="UTC").timestamp()),
                          int(pd.Timestamp("1988-12-31", tz="UTC").timestamp()))
    assert [o // 3600 for _, o in old] == [8, 9, 8]
    assert offset_segments("Asia/Kolkata", lo, lo) == [(lo, 19800)]  # half-hour zones


def test_local_seconds_sql_is_valid_sqlite(tmp_path):
    import sqlite3

    segs = offset_segments("America/Chicago", SPRING - 10, FALL + 10)
    con = sqlite3.connect(":memory:")
    expr = local_seconds_sql("?", segs).replace("?", "x")
    for utc, local in ((SPRING - 1, "2024-03-10 01:59:59"), (SPRING, "2024-03-10 03:00:00"),
                       (FALL - 1, "2024-11-03 01:59:59"), (FALL, "2024-11-03 01:00:00")):
        got = con.execute(f"SELECT datetime({expr}, 'unixepoch') FROM (SELECT ? AS x)", (utc,)).fetchone()[0]
        assert got == local


def test_check_timezone_refuses_a_wrong_name_in_both_languages():
    assert check_timezone("Europe/London") == "Europe/London"
    with pytest.raises(TimezoneError) as err:
        check_timezone("Mars/Base")
    assert err.value.key == "settings.error_timezone"
    from minqing.i18n import t

    assert "Mars/Base" in t(err.value.key, "zh", **err.value.params)
    assert "Mars/Base" in t(err.value.key, "en", **err.value.params)


def _chicago_store(tmp_path, tiny_units):
    store = open_store(f"sqlite:///{tmp_path}/tz.sqlite")
    store.write_units(tiny_units)
    return store


def test_store_setting_changes_days_months_and_exports_not_instants(tmp_path, tiny_units):
    store = _chicago_store(tmp_path, tiny_units)
    assert store.timezone == "Asia/Shanghai"
    store.set_timezone("America/Chicago")
    csv = tmp_path / "t.csv"
    # 2024-03-31 23:30 in Chicago is 2024-04-01 04:30 UTC and 12:30 in Shanghai: a March order for Chicago
    csv.write_text("工单编号,受理时间,诉求内容,经度,纬度\nT1,2024-03-31 23:30,x,121.505,31.285\n"
                   "T2,2024-04-01 00:30,y,121.505,31.285\n", encoding="utf-8")
    r = import_file(store, csv, ImportOptions(now=pd.Timestamp("2025-01-01", tz="UTC")))
    assert r.inserted == 2
    t = store.read_tickets().set_index("source_id")
    assert str(t["received_at"].dt.tz) == "America/Chicago"  # naive file times are the city's
    assert t.loc["T1", "received_at"] == pd.Timestamp("2024-04-01 04:30", tz="UTC")
    counts = store.kpi_counts(None, pd.Timestamp("2025-01-01", tz="UTC"))
    assert dict(zip(counts["month"], counts["tickets"])) == {"2024-03": 1, "2024-04": 1}
    assert kpi_counts(store.read_tickets(), "2025-01-01")["month"].tolist() == ["2024-03", "2024-04"]  # same rule
    start, end = month_bounds("2024-03", store.timezone)
    assert str(start) == "2024-03-01 00:00:00-06:00" and str(end) == "2024-04-01 00:00:00-05:00"
    out = tmp_path / "out.csv"
    assert main(["--db", store.url, "export", "tickets", "-o", str(out), "--unmasked"]) == 0
    text = out.read_text(encoding="utf-8-sig")
    assert "2024-03-31T23:30:00-0500" in text  # ISO with the city's offset (CDT that night)
    # the same instants, seen from Shanghai
    store.set_timezone("Asia/Shanghai")
    counts = store.kpi_counts(None, pd.Timestamp("2025-01-01", tz="UTC"))
    assert dict(zip(counts["month"], counts["tickets"])) == {"2024-04": 2}
    assert store.read_tickets().set_index("source_id").loc["T1", "received_at"] == pd.Timestamp(
        "2024-04-01 04:30", tz="UTC")


def test_a_file_time_zone_overrides_the_city_for_naive_times(tmp_path, tiny_units):
    store = _chicago_store(tmp_path, tiny_units)
    csv = tmp_path / "t.csv"
    csv.write_text("工单编号,受理时间,诉求内容,经度,纬度\nT1,2024-03-31 23:30,x,121.505,31.285\n", encoding="utf-8")
    import_file(store, csv, ImportOptions(timezone="UTC", now=pd.Timestamp("2025-01-01", tz="UTC")))
    got = store.read_tickets()["received_at"].iloc[0]
    assert got == pd.Timestamp("2024-03-31 23:30", tz="UTC") and str(got.tz) == "Asia/Shanghai"


def test_cli_settings_show_and_set(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/s.sqlite"
    assert main(["--db", url, "settings", "show"]) == 0
    assert "timezone = Asia/Shanghai" in capsys.readouterr().out
    assert main(["--db", url, "settings", "set", "timezone", "Nowhere/City"]) == 2
    assert "is not a time zone name" in capsys.readouterr().err
    assert main(["--db", url, "settings", "set", "timezone", "America/Chicago"]) == 0
    with open_store(url) as store:
        assert store.timezone == "America/Chicago"
        from minqing.audit import read_audit

        log = read_audit(store)
        assert (log["action"] == "settings_change").sum() == 1


def test_last_complete_month_by_hand():
    from minqing.citytime import last_complete_month

    tz = "Asia/Shanghai"
    # ends on the month's last day (any hour): that month is complete
    assert str(last_complete_month(pd.Timestamp("2026-10-31 00:05", tz=tz))) == "2026-10"
    assert str(last_complete_month(pd.Timestamp("2026-10-31 23:59", tz=tz))) == "2026-10"
    # ends inside the month, even on its first day: the month before
    assert str(last_complete_month(pd.Timestamp("2026-11-01 00:00", tz=tz))) == "2026-10"
    assert str(last_complete_month(pd.Timestamp("2026-11-30 12:00", tz=tz))) == "2026-11"
    assert str(last_complete_month("2024-02-28 10:00")) == "2024-01"  # a leap year: 29 days
    assert str(last_complete_month("2024-02-29 10:00")) == "2024-02"
    assert str(last_complete_month("2026-01-15")) == "2025-12"  # across the year
    # the city's day, not UTC's: 2026-10-31 20:00 UTC is 11-01 04:00 in Shanghai
    assert str(last_complete_month(pd.Timestamp("2026-10-31 20:00", tz="UTC").tz_convert(tz))) == "2026-10"
    assert last_complete_month(None) is None and last_complete_month(pd.NaT) is None


def test_default_period_is_six_complete_months():
    from datetime import date

    from minqing.citytime import default_period

    tz = "Asia/Shanghai"
    first = pd.Timestamp("2025-01-05 08:00", tz=tz)
    # data to 24 Nov: November is incomplete, so May..October
    assert default_period(first, pd.Timestamp("2026-11-24 09:00", tz=tz)) == (date(2026, 5, 1), date(2026, 10, 31))
    # data to 30 Nov: November is complete, so June..November
    assert default_period(first, pd.Timestamp("2026-11-30 18:00", tz=tz)) == (date(2026, 6, 1), date(2026, 11, 30))
    # less than six months of data: from the first day
    assert default_period(pd.Timestamp("2026-08-10", tz=tz), pd.Timestamp("2026-10-31 18:00", tz=tz)) == (
        date(2026, 8, 10), date(2026, 10, 31))
    # no complete month at all: the whole span
    assert default_period("2026-11-03", "2026-11-24") == (date(2026, 11, 3), date(2026, 11, 24))
    assert default_period(first, pd.Timestamp("2026-11-24", tz=tz), months=1) == (date(2026, 10, 1),
                                                                                   date(2026, 10, 31))
    assert default_period(None, None) is None
