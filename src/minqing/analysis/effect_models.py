"""The estimators of an intervention's effect: rate ratios with their 95 % intervals.

Each takes counts per bin before and after (and the days each bin covers) and
returns a :class:`~minqing.analysis.effect_results.RateRatio`:

- :func:`rate_ratio`: after/before, Poisson, or negative binomial (statsmodels,
  dispersion by maximum likelihood) when the before bins are overdispersed;
- ``_seasonal``: the after count over the count expected from the same calendar
  months of the before window;
- ``_did``: difference in differences, the treated ratio over the controls' ratio;
- ``_trend``: an interrupted time series, the after count over the before trend
  (log-linear quasi-Poisson) carried forward.

Which of them the verdict rests on is decided in :mod:`minqing.analysis.effects`.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
from scipy import stats

from minqing.analysis.effect_bins import PERIOD_DAYS
from minqing.analysis.effect_results import EffectError, RateRatio

__all__ = ["rate_ratio"]

_Z = stats.norm.ppf(0.975)
_DISPERSION_LIMIT = 1.5
_TREND_P = 0.05
_TREND_CHANGE = 0.20  # a trend changing the expectation by more than this over the before window
_MIN_CONTROL_BEFORE = 20
_MIN_CONTROL_AFTER = 10


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


class _Fit(NamedTuple):
    """A log-linear trend fitted to the before bins (time in bins, centred on ``t0``)."""

    b0: float
    b1: float
    t0: float
    phi: float  # the quasi-likelihood scale, at least 1
    cov: np.ndarray
    p: float


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
    t = (b_start + eb / 2) / bin_days
    fit = _fit_trend(yb, eb, t, cb, season_b)
    if fit is None:
        return out, None
    span = float(t[-1] - t[0])
    change = math.exp(fit.b1 * span) - 1
    significant = bool(fit.p < _TREND_P and abs(change) > _TREND_CHANGE)
    if significant and len(yb) >= 5:  # a trend that only the last bin makes (a peak) is no trend
        check, _ = _trend(yb[:-1], eb[:-1], b_start[:-1], None if cb is None else cb[:-1], ya, ea, a_start, ca,
                          bin_days, alpha, None if season_b is None else season_b[:-1], season_a)
        significant = bool(check["fitted"] and check["p_value"] < _TREND_P and check["change"] * change > 0)
    out.update(fitted=True, significant=significant, falling=bool(significant and change < 0), change=change,
               slope_per_year=math.exp(fit.b1 * 365.25 / bin_days) - 1, p_value=fit.p)
    return out, _beyond_trend(fit, t, ya, ea, a_start, ca, bin_days, season_a)


def _fit_trend(yb, eb, t, cb, season_b) -> _Fit | None:
    """Fit the log-linear quasi-Poisson trend of :func:`_trend`; None when it cannot be fitted."""
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    t0 = t.mean()
    offset = np.log(eb)
    if season_b is not None:
        offset = offset + np.log(season_b)
    if cb is not None:
        if (cb <= 0).any():
            return None
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
        return None
    if not (np.isfinite(b1) and np.isfinite(p)):
        return None
    return _Fit(b0, b1, t0, phi, cov, p)


def _beyond_trend(fit: _Fit, t, ya, ea, a_start, ca, bin_days: int, season_a) -> RateRatio | None:
    """The after count over the trend carried forward, as far as the trend was fitted (None: no bin that near)."""
    span = float(t[-1] - t[0])
    ta = (a_start + ea / 2) / bin_days
    keep = (ta - t[-1]) <= span + 1
    if ca is not None:
        keep &= ca > 0
    if not keep.any():
        return None
    log_cf = fit.b0 + fit.b1 * (ta[keep] - fit.t0) + np.log(ea[keep])
    if season_a is not None:
        log_cf = log_cf + np.log(season_a[keep])
    if ca is not None:
        log_cf = log_cf + np.log(ca[keep] / ea[keep])
    cf = np.exp(log_cf)
    C, A = float(cf.sum()), float(ya[keep].sum())
    g = np.array([1.0, float((cf * (ta[keep] - fit.t0)).sum() / C)])
    var = float(g @ fit.cov @ g) + fit.phi / max(A, 0.5) + (1.0 / float(ca[keep].sum()) if ca is not None else 0.0)
    est = max(A, 0.5) / C
    se = math.sqrt(max(var, 0.0))
    return RateRatio(float(est), float(est * math.exp(-_Z * se)), float(est * math.exp(_Z * se)), "trend", C, A)
