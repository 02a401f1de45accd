"""Daily count series and the bins an evaluation cuts them into.

:func:`daily_counts` turns event times into counts per local day; the
evaluation of :mod:`minqing.analysis.effects` then sums them over bins of a
month (30 days), a week or a day (:func:`choose_scale`): the before bins end the
day before the start, oldest first, the after bins begin the day after the
implementation period. Calendar-month seasonal factors come from two years of
history, and the chart shows calendar months, weeks from Monday or days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minqing.analysis.effect_results import EffectError

__all__ = ["PERIOD_DAYS", "BIN_DAYS", "MIN_BINS_BEFORE", "MIN_BINS_AFTER", "LEAST_BINS_BEFORE", "daily_counts",
           "choose_scale"]

PERIOD_DAYS = 30
"""Days of a month bin; rates are reported per 30 days at every scale."""
BIN_DAYS = {"month": 30, "week": 7, "day": 1}
"""The time scales, coarsest first; :func:`choose_scale` picks one from the data."""
MIN_BINS_BEFORE = 6
MIN_BINS_AFTER = 3
"""A scale is used when the before window holds this many bins and the after window this many."""
LEAST_BINS_BEFORE = 3
"""Below this many bins of history, even the finest scale cannot be evaluated."""


def daily_counts(times, start, end) -> pd.Series:
    """Return counts per local day from ``start`` to ``end`` (inclusive), zeros filled.

    Parameters
    ----------
    times : sequence of timestamps
        Event times (tz-aware or naive local); NaT is ignored.
    start, end : date-like
        First and last day of the series.
    """
    idx = pd.date_range(pd.Timestamp(start).normalize().tz_localize(None),
                        pd.Timestamp(end).normalize().tz_localize(None), freq="D")
    s = pd.to_datetime(pd.Series(times))
    if len(s) and s.dt.tz is not None:
        s = s.dt.tz_localize(None)
    days = s.dt.normalize().dropna()
    counts = days.value_counts()
    return counts.reindex(idx, fill_value=0).astype("int64")


@dataclass
class _Periods:
    """Counts per 30-day period of the before and after windows."""

    b_start: np.ndarray  # day index of each before period start (oldest first)
    b_exp: np.ndarray
    a_start: np.ndarray
    a_exp: np.ndarray

    def sums(self, cum: np.ndarray):
        """Return (before counts, after counts) of a cumulative daily series."""
        return (cum[self.b_start + self.b_exp] - cum[self.b_start],
                cum[self.a_start + self.a_exp] - cum[self.a_start])


def _periods(n_days: int, start: int, after_start: int, before_days: int, bin_days: int = PERIOD_DAYS) -> _Periods:
    b_end = start
    b_begin = max(0, start - before_days)
    edges = np.arange(b_end, b_begin, -bin_days)[::-1]
    b_start = np.maximum(edges - bin_days, b_begin)
    b_exp = edges - b_start
    a_edges = np.arange(after_start, n_days, bin_days)
    a_exp = np.minimum(a_edges + bin_days, n_days) - a_edges
    return _Periods(b_start, b_exp, a_edges, a_exp)


def choose_scale(before_days: int, after_days: int) -> str:
    """Return the coarsest time scale with enough bins before and after.

    Month bins when the history holds :data:`MIN_BINS_BEFORE` months and the after window
    :data:`MIN_BINS_AFTER`; else weeks; else days (an outbreak of a few weeks).

    Examples
    --------
    >>> choose_scale(365, 180), choose_scale(66, 300), choose_scale(20, 30)
    ('month', 'week', 'day')
    """
    for scale, days in BIN_DAYS.items():
        if before_days // days >= MIN_BINS_BEFORE and after_days // days >= MIN_BINS_AFTER:
            return scale
    return "day"


def _cum(series: np.ndarray) -> np.ndarray:
    return np.r_[0, np.cumsum(series, dtype=float)]


def _bin_factors(f_days: np.ndarray, starts: np.ndarray, exposures: np.ndarray) -> np.ndarray:
    """Mean seasonal factor of each bin's days."""
    c = _cum(f_days)
    return (c[starts + exposures] - c[starts]) / np.maximum(exposures, 1)


def _season_factors(y_before: np.ndarray, months_before: np.ndarray) -> np.ndarray | None:
    """Calendar-month factors (index 1..12, mean rate = 1) from at least two years of history, else None."""
    if len(y_before) < 730 or y_before.sum() < 50:
        return None
    days = np.bincount(months_before, minlength=13).astype(float)
    if (days[1:] < 28).any():
        return None
    rate = np.bincount(months_before, weights=y_before, minlength=13) / np.where(days > 0, days, 1)
    overall = y_before.sum() / len(y_before)
    f = np.ones(13)
    f[1:] = np.clip(rate[1:] / overall, 0.2, 5.0)
    return f


def _monthly(idx, treated, controls, ring, freq: str = "MS") -> pd.DataFrame:
    """Counts per bin of the chart (calendar months, weeks from Monday, or days), with the days each covers."""
    frame = {"treated": treated.to_numpy()}
    if controls is not None:
        frame["controls"] = controls.to_numpy()
    if ring is not None:
        frame["ring"] = ring.to_numpy()
    df = pd.DataFrame(frame, index=idx)
    out = df.resample(freq, label="left", closed="left").sum()
    out["days"] = pd.Series(1, index=idx).resample(freq, label="left", closed="left").sum()
    out.index.name = "month"
    return out.reset_index()


@dataclass(frozen=True)
class _Dates:
    """Where the windows fall in the treated series, in days from its first day, and the bins' scale."""

    idx: pd.DatetimeIndex
    start: pd.Timestamp  # the first day of the intervention
    s: int  # ... as a day index
    a0: int  # the first day after the implementation period
    before_days: int  # the longest before window, cut at the data's first day
    scale: str
    bd: int  # days per bin


def _local_day(value) -> pd.Timestamp:
    """The local calendar day of ``value`` (a tz-aware time keeps its wall time)."""
    return pd.Timestamp(value).tz_localize(None).normalize()


def _dates(treated, start, implementation_end, before_months, min_before_months, scale, controls=None,
           ring=None) -> _Dates:
    """Check the series and the dates; place the windows and choose the scale (see :func:`choose_scale`)."""
    idx = _check_series(treated, "treated")
    start_ts = _local_day(start)
    impl = None if implementation_end is None or pd.isna(implementation_end) else _local_day(implementation_end)
    if impl is not None and impl < start_ts:
        raise EffectError(
            f"implementation_end {impl.date()} is before the start {start_ts.date()}; "
            "give an implementation end on or after the start, or none",
            key="interventions.error_impl_before_start", start=str(start_ts.date()), end=str(impl.date()))
    first, last = idx[0], idx[-1]
    s = int((start_ts - first).days)
    a0 = s if impl is None else int((impl - first).days) + 1
    n = len(idx)
    before_days = min(max(s, 0), before_months * PERIOD_DAYS)
    if scale is not None and scale not in BIN_DAYS:
        raise EffectError(f"scale must be one of {', '.join(BIN_DAYS)}, got {scale!r}",
                          key="interventions.error_effect", reason=f"scale {scale!r}")
    scale = scale or choose_scale(before_days, max(n - a0, 0))
    bd = BIN_DAYS[scale]
    least = LEAST_BINS_BEFORE if min_before_months is None else int(min_before_months)
    if s < least * bd:
        raise EffectError(
            f"only {max(s, 0)} days of history before the start {start_ts.date()} (data begin {first.date()}); "
            f"at least {least * bd} days ({least} {scale}s) are needed. Pick a later intervention or load older tickets.",
            key="interventions.error_short_history", days=max(s, 0), need=least * bd)
    if a0 >= n:
        raise EffectError(
            f"no data after the implementation period (data end {last.date()}); "
            "evaluate once tickets after the intervention are loaded",
            key="interventions.error_no_after", end=str(last.date()))
    for name, other in (("controls", controls), ("ring", ring)):
        if other is not None:
            _check_series(other, name, idx)
    return _Dates(idx, start_ts, s, a0, before_days, scale, bd)


def _check_series(s, name, idx=None) -> pd.DatetimeIndex:
    if not isinstance(s, pd.Series) or not isinstance(s.index, pd.DatetimeIndex):
        raise EffectError(f"{name} must be a pandas Series indexed by dates (see daily_counts), got {type(s).__name__}",
                          key="interventions.error_series", name=name)
    if idx is not None and not s.index.equals(idx):
        raise EffectError(f"{name} must have the same dates as the treated series", key="interventions.error_series",
                          name=name)
    if idx is None and (len(s) < 2 or (s.index[1:] - s.index[:-1] != pd.Timedelta(days=1)).any()):
        raise EffectError(f"{name} must have one row per consecutive day", key="interventions.error_series", name=name)
    return s.index
