"""Checks on an intervention's effect: regression to the mean before the start, relapse (回潮) after it.

- Regression to the mean: when the last month before the start (its bins at the
  evaluation's scale) is a significant peak (p < 0.01 and at least 1.5x the rest),
  the baseline excludes it (:func:`_regression`). At day and week scales a peak in
  the last half of the before window (three-bin moving sum, p < 0.01, 1.5x the
  earlier rate, lower after) is flagged too, and the trend is fitted from the bin
  after it (:func:`_after_recent_peak`).
- Relapse: after a success, a one-sided Poisson CUSUM from the level of the first
  6 bins after (its upper 90 % bound) towards half-way back to the baseline runs
  from bin 3 of the after window; the day it passes 5 is the relapse date
  (:func:`_relapse`). Bursty before-window counts scale each step down
  (:func:`_weekly_dispersion`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from minqing.analysis.effect_bins import PERIOD_DAYS, _cum, _Periods
from minqing.analysis.effect_models import _ratio, _trend
from minqing.analysis.effect_results import Regression, Relapse

_PEAK_P = 0.01
_PEAK_FACTOR = 1.5
_RELAPSE_WINDOW_BINS = 1
_RELAPSE_LEVEL_BINS = 6
_RELAPSE_MIN_BINS = 3
_RELAPSE_H = 5.0
_BLOCK = 14  # days per block of the dispersion check: most of a burst falls in one


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


def _after_recent_peak(yb, ya, per: _Periods, keep, bin_days: int) -> tuple[int | None, int]:
    """Adjust the baseline for a recent peak (:func:`_recent_peak`); return its bin and the trend's first bin.

    The decline after the peak is judged by its trend, not by leaving bins out: every before bin
    is kept and the trend is fitted from the bin after the peak (the peak itself is a chosen
    maximum: fitted from it, a trend falls too steeply). With too few bins or events after the
    peak for a trend, the peak and what follows leave the baseline instead (``keep`` is changed
    in place). Without a recent peak: ``(None, 0)``.
    """
    peak = _recent_peak(yb, per, bin_days)
    if peak is None:
        return None, 0
    keep[:] = True
    rp = peak + 1
    after_peak, _ = _trend(yb[rp:], per.b_exp[rp:], per.b_start[rp:], None, ya, per.a_exp, per.a_start, None,
                           bin_days, 0.0)
    if after_peak["fitted"]:
        return peak, rp
    keep[peak:] = False
    return peak, 0


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
