"""Did the place get better? Before/after evaluation of an intervention over count series.

Everything here is a pure function of daily count series, so it can be checked
on any series (from tickets or simulated).  :func:`evaluate_counts` takes the
treated series and, optionally, a pooled control series, a spillover-ring
series, channel counts and satisfaction counts, and returns an
:class:`~minqing.analysis.effect_results.EffectResult` that the app and the
meeting report render. It runs the steps below in order; the pieces live beside
it: the result classes in :mod:`~minqing.analysis.effect_results`, the count
series and their bins in :mod:`~minqing.analysis.effect_bins`, the estimators in
:mod:`~minqing.analysis.effect_models`, regression to the mean and relapse in
:mod:`~minqing.analysis.effect_checks`.

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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minqing.analysis.effect_bins import (
    PERIOD_DAYS,
    _bin_factors,
    _cum,
    _Dates,
    _dates,
    _monthly,
    _Periods,
    _periods,
    _season_factors,
)
from minqing.analysis.effect_checks import (
    _RELAPSE_MIN_BINS,
    _after_recent_peak,
    _regression,
    _relapse,
    _weekly_dispersion,
)
from minqing.analysis.effect_models import (
    _did,
    _dispersion_alpha,
    _ratio,
    _seasonal,
    _trend,
)
from minqing.analysis.effect_results import (
    Caveat,
    ChannelRow,
    EffectResult,
    Horizon,
    RateRatio,
    Regression,
    Relapse,
    Satisfaction,
    Window,
    _pct,
)

__all__ = ["CHANNEL_GROUPS", "HORIZONS", "channel_group", "evaluate_counts"]

HORIZONS = (1, 2, 3, 6)
"""The horizons: the primary estimate over the first 1, 2, 3 and 6 bins of the after window."""
CHANNEL_GROUPS = ("hotline", "proactive", "other")
"""Channel groups of :attr:`EffectResult.channel_groups`: the 12345 hotline, the proactive channels, the rest."""
_CHART_FREQ = {"month": "MS", "week": "W-MON", "day": "D"}  # the chart's bins: calendar months, weeks, days


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
        dates covering all the data (see :func:`~minqing.analysis.effect_bins.daily_counts`).
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
        The least history in bins of the chosen scale (default
        :data:`~minqing.analysis.effect_bins.LEAST_BINS_BEFORE`).
    scale : {"month", "week", "day"}, optional
        The bins; default :func:`~minqing.analysis.effect_bins.choose_scale` from the history and the after window.

    Returns
    -------
    EffectResult

    Raises
    ------
    EffectError
        When the dates fall outside the series or the history is too short even in days.
    """
    d = _dates(treated, start, implementation_end, before_months, min_before_months, scale, controls, ring)
    per = _periods(len(d.idx), d.s, d.a0, d.before_days, d.bd)
    caveats: list[Caveat] = [Caveat(f"effects.caveat_scale_{d.scale}", {"bins": len(per.b_start)})]
    methods: list = []
    b, reg = _baseline(treated.to_numpy(float), d, per, caveats, methods)
    est = _estimates(b, controls, caveats, methods)
    horizons = _horizons(est, b)
    ring_rr = _ring(ring, b, caveats)
    relapse = _relapse_check(est.primary.verdict, horizons, b, d.idx, caveats, methods)
    if b.yb_k.sum() < 10:
        caveats.append(Caveat("effects.caveat_few", {"n": int(b.yb_k.sum())}))
    return _result(d, b, est, reg, horizons, ring_rr, relapse, caveats, methods,
                   _monthly(d.idx, treated, controls, ring, _CHART_FREQ[d.scale]), channels, satisfaction)


# --------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Bins:
    """The treated series in the evaluation's bins, and the baseline made of its before bins."""

    y: np.ndarray  # treated counts per day
    months: np.ndarray  # calendar month of each day
    per: _Periods
    bd: int  # days per bin
    yb: np.ndarray  # counts per before bin
    ya: np.ndarray  # counts per after bin
    keep: np.ndarray  # the before bins the baseline keeps (not a peak before the start)
    t_from: int  # the first kept bin the pre-trend is fitted from (after a recent peak; else 0)
    factors: np.ndarray | None  # seasonal factors per calendar month (two years of history)
    sb: np.ndarray | None  # mean seasonal factor of each kept before bin
    sa: np.ndarray | None  # mean seasonal factor of each after bin
    alpha: float  # negative-binomial dispersion of the before bins (0: Poisson)

    @property
    def yb_k(self) -> np.ndarray:
        """Counts of the kept before bins."""
        return self.yb[self.keep]

    @property
    def eb_k(self) -> np.ndarray:
        """Days of the kept before bins."""
        return self.per.b_exp[self.keep]

    @property
    def bs_k(self) -> np.ndarray:
        """First day of the kept before bins."""
        return self.per.b_start[self.keep]


@dataclass(frozen=True)
class _Estimates:
    """Every estimate that could be made, and the primary one the verdict rests on."""

    naive: RateRatio
    seasonal: RateRatio | None
    did: RateRatio | None
    pretrend: dict
    trend: RateRatio | None
    primary: RateRatio
    kind: str  # "trend", "did", "seasonal" or "naive"
    controls: tuple | None  # control counts per before bin (every bin) and per after bin


def _baseline(y, d: _Dates, per: _Periods, caveats: list, methods: list) -> tuple[_Bins, Regression]:
    """Cut the series into bins; choose the before bins of the baseline, its seasonal factors and dispersion.

    Regression to the mean: a peak in the last month before the start leaves the baseline, and a
    recent peak (days, weeks) moves the start of the pre-trend (see :mod:`minqing.analysis.effect_checks`).
    """
    yb, ya = per.sums(_cum(y))
    reg, keep = _regression(yb, per, ya, d.bd)
    if reg.peak:
        caveats.append(Caveat("effects.caveat_peak", {"share": f"{min(reg.predicted_share, 1.0) * 100:.0f}%"}))
    recent_peak, t_from = _after_recent_peak(yb, ya, per, keep, d.bd)
    if recent_peak is not None:
        caveats.append(Caveat("effects.caveat_recent_peak",
                              {"date": str((d.idx[0] + pd.Timedelta(days=int(per.b_start[recent_peak]))).date())}))
    methods.append(("regression", len(yb) >= 3, "" if len(yb) >= 3 else "effects.method_few_bins"))
    eb_k, bs_k = per.b_exp[keep], per.b_start[keep]
    months = (d.idx[0] + pd.to_timedelta(np.arange(len(d.idx)), unit="D")).month.to_numpy()
    factors = _season_factors(y[:d.s], months[:d.s])  # two years of history: trend and dispersion are season-free
    if factors is not None:
        sb, sa = _bin_factors(factors[months], bs_k, eb_k), _bin_factors(factors[months], per.a_start, per.a_exp)
    else:
        sb = sa = None
    alpha = _dispersion_alpha(yb[keep], eb_k, ya, per.a_exp, d.bd, sb)
    if alpha > 0:
        caveats.append(Caveat("effects.caveat_overdispersed", {"alpha": f"{alpha:.2f}"}))
    return _Bins(y, months, per, d.bd, yb, ya, keep, t_from, factors, sb, sa, alpha), reg


def _estimates(b: _Bins, controls, caveats: list, methods: list) -> _Estimates:
    """Make every estimate the data allow, and choose the primary one."""
    per = b.per
    naive = _ratio(b.yb_k, b.eb_k, b.ya, per.a_exp, b.alpha)
    # Seasonality: month-matched expectation when the before window covers every month.
    seasonal = _seasonal(b.y, b.months, b.bs_k, b.eb_k, per.a_start, per.a_exp, b.alpha)
    if seasonal is None:
        caveats.append(Caveat("effects.caveat_no_season", {}))
    methods.append(("seasonal", seasonal is not None, "" if seasonal is not None else "effects.method_no_year"))
    did = c = None
    if controls is not None:
        c = per.sums(_cum(controls.to_numpy(float)))
        did = _did(b.yb_k, b.eb_k, b.ya, per.a_exp, c[0][b.keep], c[1], b.alpha)
        if did is None:
            caveats.append(Caveat("effects.caveat_controls_sparse", {"n": int(c[0].sum())}))
        methods.append(("did", did is not None, "" if did is not None else "effects.method_controls_sparse"))
    else:
        caveats.append(Caveat("effects.caveat_no_controls", {}))
        methods.append(("did", False, "effects.method_no_controls"))
    # Pre-trend at every scale: a log-linear trend over the before bins (from a recent peak on, when
    # there was one), of the treated rate or of its ratio to the controls; the change beyond it.
    pretrend, trend = _trend_of(b, c, len(per.a_start))
    methods.append(("trend", pretrend["fitted"], "" if pretrend["fitted"] else "effects.method_trend_short"))
    if pretrend["significant"]:
        caveats.append(Caveat("effects.caveat_pretrend_falling" if pretrend["change"] < 0 else "effects.caveat_pretrend_rising",
                              {"slope": f"{pretrend['change'] * 100:+.0f}%", "bins": pretrend["bins"]}))
    # Already falling: the estimate is the change beyond the trend, never the raw fall. A rising trend
    # is only reported: carried forward it would credit an action with every rise it did not stop.
    # After a recent peak the baseline is the decline that followed it, significant or not.
    if trend is not None and (pretrend["falling"] or (b.t_from > 0 and pretrend["change"] < 0)):
        primary, kind = trend, "trend"
    elif did is not None:
        primary, kind = did, "did"
    elif seasonal is not None:
        primary, kind = seasonal, "seasonal"
    else:
        primary, kind = naive, "naive"
    return _Estimates(naive, seasonal, did, pretrend, trend, primary, kind, c)


def _trend_of(b: _Bins, c, k: int) -> tuple[dict, RateRatio | None]:
    """The pre-trend from bin ``b.t_from`` of the kept before bins, and the first ``k`` after bins over it."""
    f, per = b.t_from, b.per
    return _trend(b.yb_k[f:], b.eb_k[f:], b.bs_k[f:], None if c is None else c[0][b.keep][f:],
                  b.ya[:k], per.a_exp[:k], per.a_start[:k], None if c is None else c[1][:k], b.bd, b.alpha,
                  None if b.sb is None else b.sb[f:], None if b.sa is None else b.sa[:k])


def _horizons(est: _Estimates, b: _Bins) -> list[Horizon]:
    """The primary estimate over each horizon the after window holds in full bins."""
    per = b.per
    return [Horizon(m, _primary_at(est, b, m)) for m in HORIZONS if len(per.a_start) >= m and per.a_exp[m - 1] == b.bd]


def _primary_at(est: _Estimates, b: _Bins, bins_after: int) -> RateRatio:
    """The primary estimate using only the first ``bins_after`` bins after (a horizon)."""
    per = b.per
    k = min(bins_after, len(per.a_start))
    ya_h, ea_h = b.ya[:k], per.a_exp[:k]
    if est.kind == "trend":
        return _trend_of(b, est.controls, k)[1] or est.naive
    if est.kind == "did":
        cb, ca = est.controls
        return _did(b.yb_k, b.eb_k, ya_h, ea_h, cb[b.keep], ca[:k], b.alpha) or est.naive
    if est.kind == "seasonal":
        return _seasonal(b.y, b.months, b.bs_k, b.eb_k, per.a_start[:k], ea_h, b.alpha) or est.naive
    return _ratio(b.yb_k, b.eb_k, ya_h, ea_h, b.alpha)


def _ring(ring, b: _Bins, caveats: list) -> RateRatio | None:
    """The spillover ring after/before (a caveat when it got worse)."""
    if ring is None:
        return None
    rb, ra = b.per.sums(_cum(ring.to_numpy(float)))
    ring_rr = _ratio(rb[b.keep], b.eb_k, ra, b.per.a_exp, 0.0)
    if ring_rr.verdict == "worse":
        caveats.append(Caveat("effects.caveat_spillover", {"change": _pct(ring_rr.estimate)}))
    return ring_rr


def _relapse_check(verdict: str, horizons: list, b: _Bins, idx, caveats: list, methods: list) -> Relapse | None:
    """The relapse check after a success (at once, or over 3 or 6 bins), when the after window allows it."""
    success = verdict == "improved" or any(h.ratio.verdict == "improved" for h in horizons if h.months in (3, 6))
    relapse_ok = success and len(b.per.a_start) > _RELAPSE_MIN_BINS
    methods.append(("relapse", relapse_ok, "" if relapse_ok else
                    ("effects.method_no_success" if not success else "effects.method_after_short")))
    if not relapse_ok:
        return None
    f_days = None if b.factors is None else b.factors[b.months]
    relapse = _relapse(b.y, idx, b.per, b.yb_k.sum() / max(b.eb_k.sum(), 1),
                       _weekly_dispersion(b.y, b.per, b.keep, b.bd, f_days), b.bd, b.months, b.factors)
    if relapse.flagged:
        caveats.append(Caveat("effects.caveat_relapse", {"date": str(relapse.date.date())}))
    return relapse


def _result(d: _Dates, b: _Bins, est: _Estimates, reg, horizons, ring_rr, relapse, caveats, methods, monthly,
            channels, satisfaction) -> EffectResult:
    """Assemble the result: windows, rates and the breakdowns by channel and satisfaction."""
    per, first = b.per, d.idx[0]
    return EffectResult(
        verdict=est.primary.verdict, primary=est.primary, primary_kind=est.kind, naive=est.naive,
        seasonal=est.seasonal, did=est.did,
        before=Window(first + pd.Timedelta(days=int(per.b_start[0])), d.start),
        after=Window(first + pd.Timedelta(days=d.a0), d.idx[-1] + pd.Timedelta(days=1)),
        implementation=Window(d.start, first + pd.Timedelta(days=d.a0)) if d.a0 > d.s else None,
        before_rate=float(b.yb_k.sum() / max(b.eb_k.sum(), 1) * PERIOD_DAYS),
        after_rate=float(b.ya.sum() / max(per.a_exp.sum(), 1) * PERIOD_DAYS),
        horizons=horizons, regression=reg, pretrend=est.pretrend, ring=ring_rr,
        channels=_channels(channels, per, b.keep) if channels is not None else [],
        channel_groups=_channels(_grouped(channels), per, b.keep) if channels is not None else [],
        satisfaction=_satisfaction(satisfaction, per, b.keep) if satisfaction is not None else None,
        relapse=relapse, caveats=caveats, monthly=monthly, scale=d.scale, trend=est.trend, methods=methods,
    )


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
