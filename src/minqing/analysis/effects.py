"""Did the place get better? Before/after evaluation of an intervention over count series.

Everything here is a pure function of daily count series, so it can be checked
on any series (from tickets or simulated).  :func:`evaluate_counts` takes the
treated series and, optionally, a pooled control series, a spillover-ring
series, channel counts and satisfaction counts, and returns an
:class:`EffectResult` that the app and the meeting report render.

The rules, stated once:

- Time scale.  Bins of a month (30 days), a week or a day, the coarsest that gives
  at least 6 bins before and 3 after (:func:`choose_scale`); rates are reported per
  30 days at every scale.  At least 3 bins of history are needed (3 days at the
  finest); every method that the history does not allow is listed with the reason
  (``EffectResult.methods``) instead of refusing.
- Windows.  Before: up to ``before_months`` (default 12) months of bins that end the
  day before the start, cut at the data's first day.  The implementation period
  (start to ``implementation_end``) belongs to neither window.  After: from the day
  after the implementation period to the data's end.  Horizons: the first 1, 2, 3
  and 6 bins of the after window.
- Rate ratio after/before with a 95 % interval on the log scale: Poisson, or
  negative binomial (statsmodels, dispersion by maximum likelihood) when the
  before bins are overdispersed (Pearson dispersion > 1.5, each bin against its
  season's expectation when two years of history give seasonal factors).
- Seasonality: when the before window covers all twelve months, the expected
  after count is built month by month from the same months of the before window.
- Regression to the mean: when the last month before the start (its bins at this
  scale) is a significant peak (p < 0.01 and at least 1.5x the rest), the baseline
  excludes it.  At day and week scales a peak in the last half of the before window
  (three-bin moving sum, p < 0.01, 1.5x the earlier rate, lower after) is flagged
  too, and the trend is fitted from the bin after it.
- Pre-trend (an interrupted time series): a log-linear quasi-Poisson trend over the
  before bins, of the treated rate or of its ratio to the controls, season-free when
  two years of history give seasonal factors; significant when p < 0.05, it changes
  the expectation by more than 20 % over the window, and it holds without the last
  bin.  When orders were already falling (or after a recent peak), the primary
  estimate is the after count over the trend carried forward (at most as many bins
  as it was fitted on), never the raw fall.  A rising trend is reported only.
- Controls: a difference-in-differences rate ratio (treated ratio over control
  ratio) on the log scale; it is the primary estimate when controls are given and no
  falling trend is.
- Verdict: ``improved`` when the primary interval lies below 1, ``worse`` when
  above 1, else ``no_clear_change``.
- Relapse (回潮): after a success, a one-sided Poisson CUSUM from the level of the
  first 6 bins after (its upper 90 % bound) towards half-way back to the baseline
  runs from bin 3 of the after window; the day it passes 5 is the relapse date.
  With seasonal factors, the level, the baseline and each day's expectation follow
  the season, so a recurring winter peak is not a relapse.  Bursty before-window
  counts (significantly overdispersed 14-day blocks) scale each step down.
- Controls with fewer than 20 tickets before or 10 after are too sparse for a
  difference-in-differences; the seasonal or naive estimate is used instead.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from minqing.errors import MinqingError

__all__ = [
    "EffectError",
    "Window",
    "RateRatio",
    "Caveat",
    "Horizon",
    "ChannelRow",
    "Satisfaction",
    "Relapse",
    "Regression",
    "EffectResult",
    "evaluate_counts",
    "rate_ratio",
    "daily_counts",
    "VERDICTS",
    "PERIOD_DAYS",
]

PERIOD_DAYS = 30
"""Days of a month bin; rates are reported per 30 days at every scale."""
BIN_DAYS = {"month": 30, "week": 7, "day": 1}
"""The time scales, coarsest first; :func:`choose_scale` picks one from the data."""
MIN_BINS_BEFORE = 6
MIN_BINS_AFTER = 3
"""A scale is used when the before window holds this many bins and the after window this many."""
LEAST_BINS_BEFORE = 3
"""Below this many bins of history, even the finest scale cannot be evaluated."""
VERDICTS = ("improved", "no_clear_change", "worse")
HORIZONS = (1, 2, 3, 6)
_Z = stats.norm.ppf(0.975)
_DISPERSION_LIMIT = 1.5
_PEAK_P = 0.01
_PEAK_FACTOR = 1.5
_PRETREND_DROP = 0.20
_RELAPSE_WINDOW_BINS = 1
_RELAPSE_LEVEL_BINS = 6
_RELAPSE_MIN_BINS = 3
_TREND_P = 0.05
_TREND_CHANGE = 0.20  # a trend changing the expectation by more than this over the before window
_RELAPSE_H = 5.0
_BLOCK = 14  # days per block of the dispersion check: most of a burst falls in one
_MIN_CONTROL_BEFORE = 20
_MIN_CONTROL_AFTER = 10


class EffectError(MinqingError, ValueError):
    """An intervention cannot be evaluated as asked (bad dates, too little history)."""

    key = "interventions.error_effect"


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A date range, start inclusive, end exclusive (local dates)."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def days(self) -> int:
        """Length in days."""
        return int((self.end - self.start).days)


@dataclass(frozen=True)
class RateRatio:
    """A rate ratio with its 95 % interval.

    Attributes
    ----------
    estimate, low, high : float
        Ratio and interval bounds (NaN when it cannot be computed).
    method : str
        "poisson", "negative_binomial", "seasonal", "did" or "none".
    before, after : float
        Counts (observed after; before, or the expected after count for the
        seasonal method).
    """

    estimate: float
    low: float
    high: float
    method: str
    before: float = float("nan")
    after: float = float("nan")

    @property
    def verdict(self) -> str:
        """"improved", "worse" or "no_clear_change"."""
        if not np.isfinite(self.high) or not np.isfinite(self.low):
            return "no_clear_change"
        if self.high < 1:
            return "improved"
        if self.low > 1:
            return "worse"
        return "no_clear_change"

    @property
    def change(self) -> float:
        """Relative change (``estimate - 1``)."""
        return self.estimate - 1


@dataclass(frozen=True)
class Caveat:
    """One thing the reader must know, as a catalog key with parameters."""

    key: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Horizon:
    """The primary estimate using only the first ``months`` bins after (months, weeks or days: the result's scale)."""

    months: int
    ratio: RateRatio


@dataclass(frozen=True)
class ChannelRow:
    """Counts per 30 days of one channel (or channel group) before and after."""

    channel: str
    before_rate: float
    after_rate: float
    ratio: RateRatio


@dataclass(frozen=True)
class Satisfaction:
    """Unsatisfied share of rated follow-ups before, after, early after and later after."""

    before: float
    after: float
    early: float
    later: float
    rated_before: int
    rated_after: int


@dataclass(frozen=True)
class Relapse:
    """Relapse (回潮) check after a success."""

    flagged: bool
    date: pd.Timestamp | None
    level_after: float
    baseline: float
    rolling: pd.Series
    seasonal: bool = False
    """True when the check compared each day with its season's expected level."""


@dataclass(frozen=True)
class Regression:
    """Regression to the mean: was the start right after a peak?"""

    peak: bool
    peak_count: float
    expected_count: float
    p_value: float
    naive: RateRatio
    predicted_share: float
    """Share of the naive drop the long-run baseline predicts anyway (0..1+)."""


@dataclass(frozen=True)
class EffectResult:
    """The whole before/after evaluation of one intervention.

    Attributes
    ----------
    verdict : str
        "improved", "no_clear_change" or "worse" (of ``primary``).
    primary : RateRatio
        The estimate the verdict rests on (see ``primary_kind``).
    primary_kind : str
        "did" (against controls), "seasonal", or "naive".
    naive, seasonal, did : RateRatio or None
        Each estimate that could be made.
    before, after, implementation : Window
    before_rate, after_rate : float
        Treated counts per 30 days.
    horizons : list of Horizon
    regression : Regression
    pretrend : dict
        ``slope_per_year`` (relative change per year), ``p_value``, ``falling``.
    ring : RateRatio or None
        Spillover ring after/before.
    channels : list of ChannelRow
        Per channel of the treated area (all kinds but praise, repeats left out).
    satisfaction : Satisfaction or None
    relapse : Relapse or None
    caveats : list of Caveat
    monthly : DataFrame
        Treated (and control, ring) counts per bin of the chart (column ``month``: the bin's first
        day): calendar months, weeks or days, following ``scale``.
    scale : str
        The time scale of the bins: "month" (30 days), "week" or "day", chosen from the data.
    trend : RateRatio or None
        The change beyond the pre-trend (an interrupted time series: the after counts over
        the before trend carried forward), when a trend could be fitted.
    methods : list of (str, bool, str)
        Each method, whether it could be used, and the message key saying why not.
    channel_groups : list of ChannelRow
        The same per channel group (:data:`CHANNEL_GROUPS`); :meth:`channel_text` says what they did.
    """

    verdict: str
    primary: RateRatio
    primary_kind: str
    naive: RateRatio
    seasonal: RateRatio | None
    did: RateRatio | None
    before: Window
    after: Window
    implementation: Window | None
    before_rate: float
    after_rate: float
    horizons: list
    regression: Regression
    pretrend: dict
    ring: RateRatio | None
    channels: list
    satisfaction: Satisfaction | None
    relapse: Relapse | None
    caveats: list
    monthly: pd.DataFrame
    scale: str = "month"
    trend: RateRatio | None = None
    methods: list = field(default_factory=list)
    channel_groups: list = field(default_factory=list)

    def summary(self, lang: str = "zh") -> str:
        """Return the verdict in one plain sentence with estimate and interval."""
        from minqing.i18n import t

        p = self.primary
        return t(
            f"effects.summary_{self.verdict}",
            lang,
            change=_pct(p.estimate),
            low=_pct(p.low),
            high=_pct(p.high),
            basis=t(f"effects.basis_{self.primary_kind}", lang),
        )

    def channel_text(self, lang: str = "zh") -> str:
        """Return what the channel groups did, generated from their numbers, and what that can mean.

        One clause per group in :attr:`channel_groups` (orders per 30 days before
        and after, the change with its 95 % interval, and "fell" / "rose" only
        when the interval excludes no change), then a reading: "consistent with
        governance working" only when 12345 fell *and* the proactive channels rose.
        """
        from minqing.i18n import t

        sep = "；" if lang == "zh" else "; "
        parts, moves = [], {}
        for row in self.channel_groups:
            rr = row.ratio
            move = {"improved": "down", "worse": "up"}.get(rr.verdict, "flat")
            moves[row.channel] = move
            parts.append(t("effects.group_change", lang, group=t(f"effects.group_{row.channel}", lang),
                           before=f"{row.before_rate:.1f}", after=f"{row.after_rate:.1f}",
                           direction=t(f"effects.dir_{move}", lang), change=_pct(rr.estimate), low=_pct(rr.low),
                           high=_pct(rr.high)))
        if not parts:
            return ""
        hot, pro = moves.get("hotline"), moves.get("proactive")
        reading = ("shift" if hot == "down" and pro == "up" else "hotline_down" if hot == "down" else
                   "hotline_up" if hot == "up" else "none")
        return sep.join(parts) + ("。" if lang == "zh" else ". ") + t(f"effects.reading_{reading}", lang)

    def caveat_texts(self, lang: str = "zh") -> list[str]:
        """Return the caveats as sentences in ``lang``."""
        from minqing.i18n import t

        return [t(c.key, lang, **c.params) for c in self.caveats]


def _pct(ratio: float) -> str:
    if ratio is None or not np.isfinite(ratio):
        return "—"
    return f"{(ratio - 1) * 100:+.0f}%"


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------


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


def rate_ratio(before: np.ndarray, before_exposure: np.ndarray, after: np.ndarray,
               after_exposure: np.ndarray, *, alpha: float | None = None) -> RateRatio:
    """Return the after/before rate ratio of period counts with a 95 % interval.

    Parameters
    ----------
    before, after : array of counts per period
    before_exposure, after_exposure : array of days per period
    alpha : float, optional
        Negative-binomial dispersion; estimated from the periods when omitted
        (0, i.e. Poisson, unless the before periods are overdispersed).

    Examples
    --------
    >>> rr = rate_ratio(np.array([10, 10]), np.array([30, 30]), np.array([5, 5]), np.array([30, 30]))
    >>> round(rr.estimate, 2)
    0.5
    """
    before, after = np.asarray(before, float), np.asarray(after, float)
    eb, ea = np.asarray(before_exposure, float), np.asarray(after_exposure, float)
    if len(before) != len(eb) or len(after) != len(ea):
        raise EffectError("counts and exposures must have the same length", key="interventions.error_effect",
                          reason="length")
    if alpha is None:
        alpha = _dispersion_alpha(before, eb, after, ea)
    return _ratio(before, eb, after, ea, alpha)


def _ratio(yb, eb, ya, ea, alpha: float, method: str | None = None) -> RateRatio:
    B, A = yb.sum(), ya.sum()
    Eb, Ea = eb.sum(), ea.sum()
    if Eb <= 0 or Ea <= 0:
        return RateRatio(float("nan"), float("nan"), float("nan"), "none", B, A)
    # Half a count added to empty totals keeps the log finite (a conservative interval).
    Bc, Ac = max(B, 0.5), max(A, 0.5)
    est = (Ac / Ea) / (Bc / Eb)
    var = _var_log_total(Bc, eb, alpha) + _var_log_total(Ac, ea, alpha)
    se = math.sqrt(var)
    lo, hi = est * math.exp(-_Z * se), est * math.exp(_Z * se)
    if A == 0 and B == 0:
        est = float("nan")
    name = method or ("negative_binomial" if alpha > 0 else "poisson")
    return RateRatio(float(est), float(lo), float(hi), name, float(B), float(A))


def _var_log_total(total: float, exposure: np.ndarray, alpha: float) -> float:
    """Variance of log(total count) for periods with NB dispersion ``alpha``."""
    e = np.asarray(exposure, float)
    s = e.sum()
    return 1.0 / total + (alpha * float((e ** 2).sum()) / (s * s) if alpha > 0 and s > 0 else 0.0)


def _dispersion_alpha(yb, eb, ya, ea, bin_days: int = PERIOD_DAYS, season=None) -> float:
    """Return the NB dispersion (0 when the before periods are not overdispersed).

    With seasonal factors per bin (``season``), a bin is compared with its season's
    expectation: a winter peak is seasonality, not overdispersion.
    """
    full = eb >= bin_days * 0.5
    y, e = yb[full], eb[full] * (1.0 if season is None else season[full])
    if len(y) < 4 or y.sum() == 0:
        return 0.0
    mu = e * y.sum() / e.sum()
    pearson = float(((y - mu) ** 2 / mu).sum() / (len(y) - 1))
    if pearson <= _DISPERSION_LIMIT:
        return 0.0
    return _nb_alpha(np.concatenate([y, ya]), np.concatenate([e, ea]), len(y))


def _nb_alpha(y, e, n_before) -> float:
    """Return the NB2 dispersion of a before/after model fitted by statsmodels."""
    from statsmodels.discrete.discrete_model import NegativeBinomial

    post = np.r_[np.zeros(n_before), np.ones(len(y) - n_before)]
    X = np.column_stack([np.ones(len(y)), post]) if post.any() else np.ones((len(y), 1))
    keep = e > 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = NegativeBinomial(y[keep], X[keep], offset=np.log(e[keep])).fit(disp=0, maxiter=100)
        a = float(fit.params[-1])
        if np.isfinite(a) and a > 0:
            return min(a, 10.0)
    except Exception:  # statsmodels may fail to converge on degenerate series
        pass
    mu = e * y.sum() / max(e.sum(), 1)
    mu = np.where(mu > 0, mu, 1)
    return float(max(0.0, (((y - mu) ** 2 - mu) / mu ** 2).mean()))


# --------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# The evaluation
# --------------------------------------------------------------------------


def evaluate_counts(
    treated: pd.Series,
    start,
    *,
    implementation_end=None,
    controls: pd.Series | None = None,
    ring: pd.Series | None = None,
    channels: pd.DataFrame | None = None,
    satisfaction: pd.DataFrame | None = None,
    before_months: int = 12,
    min_before_months: int | None = None,
    scale: str | None = None,
) -> EffectResult:
    """Evaluate an intervention starting on ``start`` from daily counts.

    Parameters
    ----------
    treated : Series
        Problem counts per day at the treated place(s), indexed by consecutive
        dates covering all the data (see :func:`daily_counts`).
    start : date-like
        First day of the intervention.
    implementation_end : date-like, optional
        Last day of the implementation period, left out of both windows.
    controls : Series, optional
        Pooled counts per day of the control units (same index).
    ring : Series, optional
        Counts per day in the spillover ring (same index).
    channels : DataFrame, optional
        Counts per day and channel (or channel group) at the treated place(s).
    satisfaction : DataFrame, optional
        Columns ``rated`` and ``unsatisfied``: rated follow-ups per day of receipt.
    before_months : int
        The longest before window, in 30-day months.
    min_before_months : int, optional
        The least history in bins of the chosen scale (default :data:`LEAST_BINS_BEFORE`).
    scale : {"month", "week", "day"}, optional
        The bins; default :func:`choose_scale` from the history and the after window.

    Returns
    -------
    EffectResult

    Raises
    ------
    EffectError
        When the dates fall outside the series or the history is too short even in days.
    """
    idx = _check_series(treated, "treated")
    start_ts = pd.Timestamp(start).normalize().tz_localize(None) if pd.Timestamp(start).tzinfo is None \
        else pd.Timestamp(start).tz_localize(None).normalize()
    impl = None if implementation_end is None or pd.isna(implementation_end) else \
        pd.Timestamp(implementation_end).tz_localize(None).normalize() if pd.Timestamp(implementation_end).tzinfo \
        else pd.Timestamp(implementation_end).normalize()
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
    per = _periods(n, s, a0, before_days, bd)
    y = treated.to_numpy(float)
    cum = _cum(y)
    yb, ya = per.sums(cum)
    caveats: list[Caveat] = [Caveat(f"effects.caveat_scale_{scale}", {"bins": len(yb)})]
    methods: list = []

    # Regression to the mean: is the last before bin a peak, or was there a peak shortly before?
    reg, keep_b = _regression(yb, per, ya, bd)
    if reg.peak:
        caveats.append(Caveat("effects.caveat_peak", {"share": f"{min(reg.predicted_share, 1.0) * 100:.0f}%"}))
    recent_peak = _recent_peak(yb, per, bd)
    t_from = 0
    if recent_peak is not None:
        keep_b[:] = True  # the decline after the peak is judged by its trend, not by leaving bins out
        caveats.append(Caveat("effects.caveat_recent_peak",
                              {"date": str((first + pd.Timedelta(days=int(per.b_start[recent_peak]))).date())}))
        rp = recent_peak + 1  # the peak itself is a chosen maximum: fitted from it, a trend falls too steeply
        if _trend(yb[rp:], per.b_exp[rp:], per.b_start[rp:], None, ya, per.a_exp, per.a_start, None, bd, 0.0)[0]["fitted"]:
            t_from = rp  # the decline after the peak is the trend the after window is judged against
        else:  # too few bins or events after the peak for a trend: the peak leaves the baseline
            keep_b[recent_peak:] = False
    methods.append(("regression", len(yb) >= 3, "" if len(yb) >= 3 else "effects.method_few_bins"))
    yb_k, eb_k, bs_k = yb[keep_b], per.b_exp[keep_b], per.b_start[keep_b]
    months = (idx[0] + pd.to_timedelta(np.arange(n), unit="D")).month.to_numpy()
    factors = _season_factors(y[:s], months[:s])  # two years of history: trend and dispersion are season-free
    if factors is not None:
        sb, sa = _bin_factors(factors[months], bs_k, eb_k), _bin_factors(factors[months], per.a_start, per.a_exp)
    else:
        sb = sa = None
    alpha = _dispersion_alpha(yb_k, eb_k, ya, per.a_exp, bd, sb)
    if alpha > 0:
        caveats.append(Caveat("effects.caveat_overdispersed", {"alpha": f"{alpha:.2f}"}))
    naive = _ratio(yb_k, eb_k, ya, per.a_exp, alpha)

    # Seasonality: month-matched expectation when the before window covers every month.
    seasonal = _seasonal(y, months, bs_k, eb_k, per.a_start, per.a_exp, alpha)
    if seasonal is None:
        caveats.append(Caveat("effects.caveat_no_season", {}))
    methods.append(("seasonal", seasonal is not None, "" if seasonal is not None else "effects.method_no_year"))

    did = None
    cum_c = None
    if controls is not None:
        cum_c = _cum(controls.to_numpy(float))
        cb, ca = per.sums(cum_c)
        did = _did(yb_k, eb_k, ya, per.a_exp, cb[keep_b], ca, alpha)
        if did is None:
            caveats.append(Caveat("effects.caveat_controls_sparse", {"n": int(cb.sum())}))
        methods.append(("did", did is not None, "" if did is not None else "effects.method_controls_sparse"))
    else:
        caveats.append(Caveat("effects.caveat_no_controls", {}))
        methods.append(("did", False, "effects.method_no_controls"))

    # Pre-trend at every scale: a log-linear trend over the before bins (from a recent peak on, when
    # there was one), of the treated rate or of its ratio to the controls; the change beyond it.
    cb_k = None if cum_c is None else per.sums(cum_c)[0][keep_b]
    c_after = None if cum_c is None else per.sums(cum_c)[1]

    def trend_fit(ya_h, ea_h, as_h, ca_h, sa_h):
        return _trend(yb_k[t_from:], eb_k[t_from:], bs_k[t_from:], None if cb_k is None else cb_k[t_from:],
                      ya_h, ea_h, as_h, ca_h, bd, alpha, None if sb is None else sb[t_from:], sa_h)

    pretrend, trend = trend_fit(ya, per.a_exp, per.a_start, c_after, sa)
    methods.append(("trend", pretrend["fitted"], "" if pretrend["fitted"] else "effects.method_trend_short"))
    if pretrend["significant"]:
        caveats.append(Caveat("effects.caveat_pretrend_falling" if pretrend["change"] < 0 else "effects.caveat_pretrend_rising",
                              {"slope": f"{pretrend['change'] * 100:+.0f}%", "bins": pretrend["bins"]}))

    # Already falling: the estimate is the change beyond the trend, never the raw fall. A rising trend
    # is only reported: carried forward it would credit an action with every rise it did not stop.
    # After a recent peak the baseline is the decline that followed it, significant or not.
    if trend is not None and (pretrend["falling"] or (t_from > 0 and pretrend["change"] < 0)):
        primary, kind = trend, "trend"
    elif did is not None:
        primary, kind = did, "did"
    elif seasonal is not None:
        primary, kind = seasonal, "seasonal"
    else:
        primary, kind = naive, "naive"

    def primary_at(bins_after: int) -> RateRatio:
        k = min(bins_after, len(per.a_start))
        ya_h, ea_h = ya[:k], per.a_exp[:k]
        if kind == "trend":
            _, tr = trend_fit(ya_h, ea_h, per.a_start[:k], None if c_after is None else c_after[:k],
                              None if sa is None else sa[:k])
            return tr or naive
        if kind == "did":
            cb, ca = per.sums(cum_c)
            return _did(yb_k, eb_k, ya_h, ea_h, cb[keep_b], ca[:k], alpha) or naive
        if kind == "seasonal":
            return _seasonal(y, months, bs_k, eb_k, per.a_start[:k], ea_h, alpha) or naive
        return _ratio(yb_k, eb_k, ya_h, ea_h, alpha)

    horizons = [Horizon(m, primary_at(m)) for m in HORIZONS if len(per.a_start) >= m and per.a_exp[m - 1] == bd]

    ring_rr = None
    if ring is not None:
        rb, ra = per.sums(_cum(ring.to_numpy(float)))
        ring_rr = _ratio(rb[keep_b], eb_k, ra, per.a_exp, 0.0)
        if ring_rr.verdict == "worse":
            caveats.append(Caveat("effects.caveat_spillover", {"change": _pct(ring_rr.estimate)}))

    channel_rows = _channels(channels, per, keep_b) if channels is not None else []
    group_rows = _channels(_grouped(channels), per, keep_b) if channels is not None else []
    sat = _satisfaction(satisfaction, per, keep_b) if satisfaction is not None else None

    relapse = None
    verdict = primary.verdict
    success = verdict == "improved" or any(h.ratio.verdict == "improved" for h in horizons if h.months in (3, 6))
    relapse_ok = success and len(per.a_start) > _RELAPSE_MIN_BINS
    methods.append(("relapse", relapse_ok, "" if relapse_ok else
                    ("effects.method_no_success" if not success else "effects.method_after_short")))
    if relapse_ok:
        relapse = _relapse(y, idx, per, yb_k.sum() / max(eb_k.sum(), 1),
                           _weekly_dispersion(y, per, keep_b, bd, None if factors is None else factors[months]),
                           bd, months, factors)
        if relapse.flagged:
            caveats.append(Caveat("effects.caveat_relapse", {"date": str(relapse.date.date())}))
    if yb_k.sum() < 10:
        caveats.append(Caveat("effects.caveat_few", {"n": int(yb_k.sum())}))

    b_win = Window(idx[0] + pd.Timedelta(days=int(per.b_start[0])), start_ts)
    a_win = Window(idx[0] + pd.Timedelta(days=a0), last + pd.Timedelta(days=1))
    impl_win = Window(start_ts, idx[0] + pd.Timedelta(days=a0)) if a0 > s else None
    monthly = _monthly(idx, treated, controls, ring, {"month": "MS", "week": "W-MON", "day": "D"}[scale])
    return EffectResult(
        verdict=verdict, primary=primary, primary_kind=kind, naive=naive, seasonal=seasonal, did=did,
        before=b_win, after=a_win, implementation=impl_win,
        before_rate=float(yb_k.sum() / max(eb_k.sum(), 1) * PERIOD_DAYS),
        after_rate=float(ya.sum() / max(per.a_exp.sum(), 1) * PERIOD_DAYS),
        horizons=horizons, regression=reg, pretrend=pretrend, ring=ring_rr, channels=channel_rows,
        channel_groups=group_rows,
        satisfaction=sat, relapse=relapse, caveats=caveats, monthly=monthly, scale=scale, trend=trend,
        methods=methods,
    )


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


def _regression(yb, per: _Periods, ya, bin_days: int = PERIOD_DAYS) -> tuple[Regression, np.ndarray]:
    """Was the last month before the start (its bins at this scale) a significant peak?

    Tested against the long-run rate and against the month just before it, so a smooth seasonal
    rise is not taken for a peak. A peak leaves the baseline.
    """
    keep = np.ones(len(yb), bool)
    k = max(1, min(int(round(PERIOD_DAYS / bin_days)), len(yb) // 3))
    full = per.b_exp >= bin_days * 0.5
    if len(yb) >= 3 * k and full[-1]:
        last, e_last = yb[-k:].sum(), per.b_exp[-k:].sum()
        rest, e_rest = yb[:-k].sum(), per.b_exp[:-k].sum()
        near, e_near = yb[-3 * k : -k].sum(), per.b_exp[-3 * k : -k].sum()
        expected = e_last * rest / e_rest if e_rest else 0.0
        expected_near = e_last * near / e_near if e_near else 0.0
        p = float(stats.poisson.sf(last - 1, expected)) if expected > 0 else (0.0 if last > 0 else 1.0)
        peak = p < _PEAK_P and last >= _PEAK_FACTOR * max(expected, expected_near, 1e-9)
    else:
        last, expected, p, peak = (float(yb[-k:].sum()) if len(yb) else 0.0), float("nan"), 1.0, False
    naive_full = _ratio(yb, per.b_exp, ya, per.a_exp, 0.0)
    share = 0.0
    if peak:
        keep[-k:] = False
        r_full = yb.sum() / per.b_exp.sum()
        r_rest = yb[keep].sum() / per.b_exp[keep].sum()
        predicted_drop = 1 - r_rest / r_full
        observed_drop = 1 - naive_full.estimate
        share = float(predicted_drop / observed_drop) if observed_drop > 0 else 1.0
    return Regression(bool(peak), float(last), float(expected), p, naive_full, share), keep


def _seasonal(y, months, b_start, b_exp, a_start, a_exp, alpha) -> RateRatio | None:
    """Observed after count over the count expected from the same months before."""
    day_b = np.concatenate([np.arange(b, b + e) for b, e in zip(b_start, b_exp)]) if len(b_start) else np.array([], int)
    if len(np.unique(months[day_b])) < 12:
        return None
    yb_m = np.bincount(months[day_b], weights=y[day_b], minlength=13)
    eb_m = np.bincount(months[day_b], minlength=13).astype(float)
    day_a = np.concatenate([np.arange(a, a + e) for a, e in zip(a_start, a_exp)])
    ea_m = np.bincount(months[day_a], minlength=13).astype(float)
    A = float(y[day_a].sum())
    w = np.divide(ea_m, eb_m, out=np.zeros(13), where=eb_m > 0)
    expected = float((w * yb_m).sum())
    if expected <= 0:
        return None
    var_exp = float((w ** 2 * np.maximum(yb_m, 0.5)).sum()) / expected ** 2
    var = var_exp + _var_log_total(max(A, 0.5), a_exp, alpha) + (alpha / max(len(b_start), 1) if alpha > 0 else 0)
    est = max(A, 0.5) / expected
    se = math.sqrt(var)
    return RateRatio(float(est if A > 0 or expected > 0 else float("nan")), float(est * math.exp(-_Z * se)),
                     float(est * math.exp(_Z * se)), "seasonal", expected, A)


def _did(yb, eb, ya, ea, cb, ca, alpha) -> RateRatio | None:
    if cb.sum() < _MIN_CONTROL_BEFORE or ca.sum() < _MIN_CONTROL_AFTER:
        return None
    t = _ratio(yb, eb, ya, ea, alpha)
    c = _ratio(cb, eb, ca, ea, 0.0)
    est = t.estimate / c.estimate
    var = (math.log(t.high / t.estimate) / _Z) ** 2 + (math.log(c.high / c.estimate) / _Z) ** 2
    se = math.sqrt(var)
    return RateRatio(float(est), float(est * math.exp(-_Z * se)), float(est * math.exp(_Z * se)), "did",
                     t.before, t.after)


def _recent_peak(yb, per: _Periods, bin_days: int) -> int | None:
    """The bin of a clear peak in the last half of the before window (days or weeks), followed by two bins or more.

    A peak shortly before the start (an outbreak that is already passing) is a regression-to-the-mean
    risk: the fall that follows would come anyway. The trend is then fitted from the peak on.
    """
    n = len(yb)
    if n < 6 or bin_days >= PERIOD_DAYS:  # in months, the last-month test of _regression covers it
        return None
    lo = max(1, n - max(3, n // 2))
    # the peak of the three-bin moving sum: one noisy bin does not move the peak
    smooth = np.convolve(yb, np.ones(3), mode="same")
    cand = lo + int(np.argmax(smooth[lo : n - 2])) if n - 2 > lo else None
    if cand is None:
        return None
    rest, e_rest = yb[:lo].sum(), per.b_exp[:lo].sum()
    e3 = per.b_exp[cand - 1 : cand + 2].sum()
    expected = e3 * rest / e_rest if e_rest else 0.0  # the three bins around the peak against the earlier rate
    p = float(stats.poisson.sf(smooth[cand] - 1, expected)) if expected > 0 else (0.0 if smooth[cand] > 0 else 1.0)
    later = yb[cand + 2 :].mean()
    if p < _PEAK_P and smooth[cand] >= _PEAK_FACTOR * max(expected, 1e-9) and later < smooth[cand] / 3:
        return cand
    return None


def _trend(yb, eb, b_start, cb, ya, ea, a_start, ca, bin_days: int, alpha: float,
           season_b=None, season_a=None) -> tuple[dict, RateRatio | None]:
    """Pre-trend and the change beyond it: an interrupted time series on the bins.

    A log-linear Poisson trend (quasi-likelihood scale) is fitted to the before bins, of the
    treated rate or of its ratio to the controls (their counts as an offset) and, when given,
    seasonal factors. The estimate is the after count over the trend carried forward, for at
    most as many bins after as the trend was fitted on (a trend is not extrapolated further);
    its interval combines the trend's covariance and the after count's own noise.
    """
    out = {"fitted": False, "significant": False, "falling": False, "change": float("nan"),
           "slope_per_year": float("nan"), "p_value": float("nan"), "bins": int(len(yb))}
    full = eb > 0
    if full.sum() < 4 or yb.sum() < 10:
        return out, None
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    t = (b_start + eb / 2) / bin_days
    t0 = t.mean()
    offset = np.log(eb)
    if season_b is not None:
        offset = offset + np.log(season_b)
    if cb is not None:
        if (cb <= 0).any():
            return out, None
        offset = offset + np.log(cb / eb)
    X = np.column_stack([np.ones(len(t)), t - t0])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = GLM(yb, X, family=families.Poisson(), offset=offset).fit(scale="X2")
        b0, b1 = float(fit.params[0]), float(fit.params[1])
        phi = max(1.0, float(fit.scale))  # never narrower than Poisson: a few bins can fit "too well"
        cov = np.asarray(fit.cov_params()) / max(float(fit.scale), 1e-12) * phi
        p = float(2 * stats.norm.sf(abs(b1) / math.sqrt(cov[1, 1]))) if cov[1, 1] > 0 else float("nan")
    except Exception:
        return out, None
    if not (np.isfinite(b1) and np.isfinite(p)):
        return out, None
    span = float(t[-1] - t[0])
    change = math.exp(b1 * span) - 1
    significant = bool(p < _TREND_P and abs(change) > _TREND_CHANGE)
    if significant and len(yb) >= 5:  # a trend that only the last bin makes (a peak) is no trend
        check, _ = _trend(yb[:-1], eb[:-1], b_start[:-1], None if cb is None else cb[:-1], ya, ea, a_start, ca,
                          bin_days, alpha, None if season_b is None else season_b[:-1], season_a)
        significant = bool(check["fitted"] and check["p_value"] < _TREND_P and check["change"] * change > 0)
    out.update(fitted=True, significant=significant, falling=bool(significant and change < 0), change=change,
               slope_per_year=math.exp(b1 * 365.25 / bin_days) - 1, p_value=p)
    ta = (a_start + ea / 2) / bin_days
    keep = (ta - t[-1]) <= span + 1
    if ca is not None:
        keep &= ca > 0
    if not keep.any():
        return out, None
    log_cf = b0 + b1 * (ta[keep] - t0) + np.log(ea[keep])
    if season_a is not None:
        log_cf = log_cf + np.log(season_a[keep])
    if ca is not None:
        log_cf = log_cf + np.log(ca[keep] / ea[keep])
    cf = np.exp(log_cf)
    C, A = float(cf.sum()), float(ya[keep].sum())
    g = np.array([1.0, float((cf * (ta[keep] - t0)).sum() / C)])
    var = float(g @ cov @ g) + phi / max(A, 0.5) + (1.0 / float(ca[keep].sum()) if ca is not None else 0.0)
    est = max(A, 0.5) / C
    se = math.sqrt(max(var, 0.0))
    return out, RateRatio(float(est), float(est * math.exp(-_Z * se)), float(est * math.exp(_Z * se)), "trend", C, A)


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


CHANNEL_GROUPS = ("hotline", "proactive", "other")
"""Channel groups of :attr:`EffectResult.channel_groups`: the 12345 hotline, the proactive channels, the rest."""


def channel_group(channel: str) -> str:
    """Return the group (:data:`CHANNEL_GROUPS`) of a channel code."""
    from minqing.model import PROACTIVE_CHANNELS

    return "hotline" if channel == "hotline_12345" else "proactive" if channel in PROACTIVE_CHANNELS else "other"


def _grouped(channels: pd.DataFrame) -> pd.DataFrame:
    groups = pd.Series([channel_group(str(c)) for c in channels.columns], index=channels.columns)
    return pd.DataFrame({g: channels.loc[:, groups == g].sum(axis=1) for g in CHANNEL_GROUPS if (groups == g).any()})


def _channels(channels: pd.DataFrame, per: _Periods, keep_b) -> list[ChannelRow]:
    rows = []
    for col in channels.columns:
        cb, ca = per.sums(_cum(channels[col].to_numpy(float)))
        rr = _ratio(cb[keep_b], per.b_exp[keep_b], ca, per.a_exp, 0.0)
        rows.append(ChannelRow(str(col), float(cb[keep_b].sum() / per.b_exp[keep_b].sum() * PERIOD_DAYS),
                               float(ca.sum() / per.a_exp.sum() * PERIOD_DAYS), rr))
    return rows


def _satisfaction(sat: pd.DataFrame, per: _Periods, keep_b) -> Satisfaction:
    cr, cu = _cum(sat["rated"].to_numpy(float)), _cum(sat["unsatisfied"].to_numpy(float))
    rb, ra = per.sums(cr)
    ub, ua = per.sums(cu)
    rb, ub = rb[keep_b], ub[keep_b]
    split = min(2, len(ra))

    def share(u, r):
        return float(u / r) if r > 0 else float("nan")

    return Satisfaction(share(ub.sum(), rb.sum()), share(ua.sum(), ra.sum()), share(ua[:split].sum(), ra[:split].sum()),
                        share(ua[split:].sum(), ra[split:].sum()), int(rb.sum()), int(ra.sum()))


def _weekly_dispersion(y, per: _Periods, keep_b, bin_days: int = PERIOD_DAYS, f_days=None) -> float:
    """Quasi-Poisson dispersion of the before window's 14-day counts: 1 unless significantly overdispersed.

    Tickets that come in bursts (one broken streetlight, a week of calls) make single
    weeks jump; a CUSUM that treats each call as independent would read one burst as a
    relapse. Counts per 14 days are compared with their own mean (Pearson statistic,
    chi-square test at p < 0.01); only a clear excess scales the CUSUM down.
    """
    block = min(_BLOCK, 2 * bin_days)  # day bins: blocks of two days
    f = np.ones(len(y)) if f_days is None else f_days  # seasonal factors: each block against its season
    weeks, weights = [], []
    for b, e in zip(per.b_start[keep_b], per.b_exp[keep_b]):
        for w0 in range(int(b), int(b + e) - block + 1, block):
            weeks.append(float(y[w0 : w0 + block].sum()))
            weights.append(float(f[w0 : w0 + block].sum()))
    w, fw = np.asarray(weeks), np.asarray(weights)
    if len(w) < 6 or w.mean() <= 0:
        return 1.0
    mu = fw * w.sum() / fw.sum()
    pearson = float(((w - mu) ** 2 / mu).sum())
    if stats.chi2.sf(pearson, len(w) - 1) >= 0.01:
        return 1.0
    return max(1.0, pearson / (len(w) - 1))


def _relapse(y, idx, per: _Periods, baseline_per_day: float, dispersion: float = 1.0, bin_days: int = PERIOD_DAYS,
             months=None, factors=None) -> Relapse:
    """One-sided (quasi-)Poisson CUSUM from the after level towards half-way back to the baseline.

    ``dispersion`` (see :func:`_weekly_dispersion`) divides each day's log-likelihood-ratio step.
    With seasonal ``factors`` (from :func:`_season_factors`), the level, the baseline and each
    day's expectation follow the season, so a recurring winter peak is not a relapse.
    """
    a0 = int(per.a_start[0])
    n = len(y)
    cum = _cum(y)
    window = _RELAPSE_WINDOW_BINS * bin_days
    days = np.arange(a0 + window, n + 1)
    roll = cum[days] - cum[days - window]
    rolling = pd.Series(roll / window * PERIOD_DAYS, index=idx[days - 1])
    f = np.ones(n) if factors is None or months is None else factors[months]
    lvl_end = min(n, a0 + _RELAPSE_LEVEL_BINS * bin_days)
    # The after level's upper 90 % bound, so a level that came out low by chance raises no flag.
    k = cum[lvl_end] - cum[a0]
    exposure = float(f[a0:lvl_end].sum())
    # Bursty counts carry fewer independent events than calls: the bound uses k / dispersion of them.
    level = max(dispersion * 0.5 * stats.chi2.ppf(0.9, 2 * (k / dispersion + 1)) / max(exposure, 1e-9),
                0.5 / PERIOD_DAYS)
    if factors is not None and months is not None:  # the baseline in season-free units too
        before_days = np.concatenate([np.arange(b, b + e) for b, e in zip(per.b_start, per.b_exp)])
        baseline_per_day = float(y[before_days].sum() / max(f[before_days].sum(), 1e-9))
    target = level + 0.5 * (baseline_per_day - level)
    date = None
    if target > level:
        step = math.log(target / level)
        drift = (target - level) * f
        score = 0.0
        for d in range(a0 + _RELAPSE_MIN_BINS * bin_days, n):
            score = max(0.0, score + (float(y[d]) * step - drift[d]) / dispersion)
            if score > _RELAPSE_H:
                date = idx[d]
                break
    return Relapse(date is not None, date, float(level * PERIOD_DAYS), float(baseline_per_day * PERIOD_DAYS), rolling,
                   factors is not None)


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
