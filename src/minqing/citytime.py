"""The city's time zone: one store setting used for display, grouping by day and month, exports and evaluation.

Times are stored as UTC instants; in memory they are tz-aware in the city's zone,
so a day or a month is the city's day or month. Pure functions group times by
their own zone (the wall time of a tz-aware value); what reads the store or asks
"what day is it" takes the zone from :func:`store_timezone`.
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

import numpy as np
import pandas as pd

from minqing.errors import ConfigError
from minqing.model import TIMEZONE

META_KEY = "timezone"


class TimezoneError(ConfigError):
    """A time zone name that is not an IANA zone."""


def check_timezone(name: str) -> str:
    """Return ``name`` when it is an IANA time zone (``Asia/Shanghai``, ``America/Chicago``).

    Raises
    ------
    TimezoneError
        With a user-facing message when it is not.

    Examples
    --------
    >>> check_timezone(" America/Chicago ")
    'America/Chicago'
    """
    text = str(name or "").strip()
    if text.upper() == "UTC":
        return "UTC"
    if text not in _zones():
        raise TimezoneError(
            f"{text!r} is not a time zone name; use an IANA name such as Asia/Shanghai or America/Chicago",
            key="settings.error_timezone", value=text)
    return text


@lru_cache(maxsize=1)
def _zones() -> frozenset:
    return frozenset(zoneinfo.available_timezones())


def timezone_names() -> list[str]:
    """Return every IANA zone name, sorted (for a picker)."""
    return sorted(_zones())


def store_timezone(store) -> str:
    """Return the store's city time zone (default Asia/Shanghai)."""
    value = store.get_meta(META_KEY)
    return value or TIMEZONE


def now(tz: str = TIMEZONE) -> pd.Timestamp:
    """Return the present in ``tz``."""
    return pd.Timestamp.now(tz=tz)


def today(tz: str = TIMEZONE) -> str:
    """Return today's date in ``tz`` as ``YYYY-MM-DD``."""
    return str(now(tz).date())


def localize(value, tz: str = TIMEZONE) -> pd.Timestamp:
    """Return ``value`` as a Timestamp in ``tz`` (naive values are read as local time in ``tz``)."""
    ts = pd.Timestamp(value)
    return ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)


def wall(values: pd.Series) -> pd.Series:
    """Return the local wall times of tz-aware ``values`` in their own zone (naive values as they are)."""
    s = pd.to_datetime(values)
    return s.dt.tz_localize(None) if s.dt.tz is not None else s


def offset_segments(tz: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """Return the UTC offsets of ``tz`` between epoch seconds ``lo`` and ``hi``.

    A list of ``(start, offset_seconds)`` in time order: the offset holds from
    ``start`` (the first start is ``lo``) until the next start. Transitions are
    found to the minute (every zone changes on a whole minute).

    Examples
    --------
    >>> offset_segments("Asia/Shanghai", 1704067200, 1735689600)
    [(1704067200, 28800)]
    >>> [o // 3600 for _, o in offset_segments("America/Chicago", 1704067200, 1735689599)]
    [-6, -5, -6]
    """
    lo, hi = int(lo), int(max(hi, lo))
    step = 3600 * 6
    grid = np.arange(lo, hi + step, step, dtype="int64")
    grid[-1] = min(grid[-1], hi) if len(grid) > 1 else grid[-1]
    off = _offsets(tz, grid)
    out = [(lo, int(off[0]))]
    for i in np.flatnonzero(off[1:] != off[:-1]):
        a, b = int(grid[i]) // 60, -(-int(grid[i + 1]) // 60)  # in whole minutes: zones change on one
        while b - a > 1:
            m = (a + b) // 2
            if _offsets(tz, np.array([m * 60]))[0] == off[i]:
                a = m
            else:
                b = m
        b *= 60
        out.append((b, int(off[i + 1])))
    return out


def _offsets(tz: str, secs: np.ndarray) -> np.ndarray:
    utc = pd.DatetimeIndex(secs.astype("datetime64[s]")).tz_localize("UTC")
    local = utc.tz_convert(tz).tz_localize(None)
    return ((local - utc.tz_localize(None)) // pd.Timedelta(seconds=1)).to_numpy(dtype="int64")


def local_seconds_sql(column: str, segments: list[tuple[int, int]]) -> str:
    """Return a SQL expression for ``column`` (UTC epoch seconds) shifted to local wall-clock seconds.

    Examples
    --------
    >>> local_seconds_sql("t", [(0, 28800)])
    '(t + 28800)'
    >>> local_seconds_sql("t", [(0, -21600), (100, -18000)])
    '(t + CASE WHEN t < 100 THEN -21600 ELSE -18000 END)'
    """
    if len(segments) == 1:
        return f"({column} + {int(segments[0][1])})"
    cases = " ".join(f"WHEN {column} < {int(segments[i + 1][0])} THEN {int(segments[i][1])}"
                     for i in range(len(segments) - 1))
    return f"({column} + CASE {cases} ELSE {int(segments[-1][1])} END)"


def data_as_of(last_received, now) -> tuple[pd.Timestamp, int]:
    """The moment a page's "this month", "last 30 days" and "overdue" refer to, and the data's age in days.

    The present while the data is current; the end of the data's last day when the newest order
    is older than a day (a store loaded from an export), so a page never reads "0 this month"
    only because nothing newer was loaded.

    Examples
    --------
    >>> at, age = data_as_of(pd.Timestamp("2026-10-31 18:00", tz="Asia/Shanghai"),
    ...                      pd.Timestamp("2026-12-01 09:00", tz="Asia/Shanghai"))
    >>> str(at), age
    ('2026-10-31 23:59:59+08:00', 31)
    """
    now = pd.Timestamp(now)
    if last_received is None or pd.isna(last_received):
        return now, 0
    last = pd.Timestamp(last_received).tz_convert(now.tz) if now.tzinfo else pd.Timestamp(last_received)
    end = last.normalize() + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)  # the last day, still in its month
    age = int((now.normalize() - last.normalize()).days)
    return (now, age) if age <= 1 else (min(end, now), age)


def last_complete_month(last_received) -> pd.Period | None:
    """Return the data's last complete month: where a page's default period ends.

    The month of ``last_received`` (a local time, or tz-aware in the city's zone) when it falls on
    that month's last day, else the month before; None when there is no data. A default that ends
    inside a month would compare a part month with whole ones.

    Examples
    --------
    >>> str(last_complete_month("2026-10-31 18:00")), str(last_complete_month("2026-11-24 09:00"))
    ('2026-10', '2026-10')
    >>> last_complete_month(None) is None
    True
    """
    if last_received is None or pd.isna(last_received):
        return None
    ts = pd.Timestamp(last_received)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)  # the wall time: the city's day
    return (ts.normalize() + pd.Timedelta(days=1)).to_period("M") - 1


def default_period(first, last, months: int = 6) -> tuple | None:
    """Return the default (start, end) dates of a page's period: ``months`` complete months.

    The period ends on the last day of :func:`last_complete_month` and starts ``months`` months
    earlier, but not before ``first``. When the data holds no complete month, it is the whole
    span (``first``'s day to ``last``'s). None when there is no data.

    Examples
    --------
    >>> [str(d) for d in default_period("2025-01-05 08:00", "2026-11-24 09:00")]
    ['2026-05-01', '2026-10-31']
    >>> [str(d) for d in default_period("2026-08-10", "2026-10-31 18:00", months=6)]
    ['2026-08-10', '2026-10-31']
    >>> [str(d) for d in default_period("2026-11-03", "2026-11-24")]
    ['2026-11-03', '2026-11-24']
    """
    if first is None or last is None or pd.isna(first) or pd.isna(last):
        return None
    lo, hi = (_wall_day(v) for v in (first, last))
    month = last_complete_month(last)
    end = month.end_time.date()
    if end < lo:
        return lo, hi
    return max(lo, (month - (months - 1)).start_time.date()), end


def _wall_day(value):
    ts = pd.Timestamp(value)
    return (ts.tz_localize(None) if ts.tzinfo is not None else ts).date()
