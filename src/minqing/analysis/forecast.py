"""What is likely next (未诉先办): next month's expected count per cell or place, with a backtest.

A pooled seasonal count model, vectorised over every series at once:

- a month-of-year index ``s_m`` pooled over all series (the total's mean in
  calendar month m over its overall mean), used only when it forecasts better
  than no seasonality on the three months *before* the reported backtest (with
  two years of history a seasonal index is noisy, and level shifts such as an
  intervention's effect can masquerade as seasons); flat with under 12 months;
- each series' level from its de-seasonalised history: half the mean of
  the last 3 months, half the mean of the last 12;
- expected count ``mu = level * s_next``; an 80 % interval from a negative
  binomial whose dispersion is pooled over all series (Poisson when there is
  no over-dispersion);
- "rising": the app's one trend rule (:func:`minqing.analysis.trends.trend`)
  on the last 3 months' count against the 9 months before, exposure the
  seasonal index summed over each span: an exact conditional binomial test
  of the two counts, p < 0.05 and at least 10 % up.

:func:`backtest` refits the model as of each of the last months and compares
it with the naive forecast "same as last month" (mean absolute error) and
checks how often the interval held the actual count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from minqing.analysis.aggregate import AggregateError
from minqing.analysis.trends import rising as trends_rising

LEVEL = 0.8
"""Interval level."""


@dataclass(frozen=True)
class Forecast:
    """Result of :func:`forecast_counts`.

    Attributes
    ----------
    month : str
        The forecast month "YYYY-MM".
    table : DataFrame
        id, last (count of the last month), expected, lower, upper, rising;
        highest expected first.
    backtest : DataFrame
        One row per backtest month: month, mae, mae_naive, coverage, n.
    skill : float
        1 − MAE / MAE of the naive forecast over the backtest (> 0 beats naive).
    coverage : float
        Share of backtest counts inside the interval (nominal :data:`LEVEL`).
    seasonal : bool
        Whether the month-of-year index was used (chosen on held-out months).
    """

    month: str
    table: pd.DataFrame
    backtest: pd.DataFrame
    skill: float
    coverage: float
    seasonal: bool = False


def to_matrix(table: pd.DataFrame, key: str, months, value: str = "tickets") -> tuple[np.ndarray, np.ndarray]:
    """Pivot a (key, period, value) table into (ids, matrix ids × months); missing months are 0.

    ``months`` are "YYYY-MM" labels; ``period`` may be "YYYY-MM" or "YYYY-MM-DD".
    """
    months = list(months)
    t = table.assign(_m=table["period"].astype(str).str[:7])
    t = t[t["_m"].isin(months)]
    wide = t.pivot_table(index=key, columns="_m", values=value, aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=months, fill_value=0)
    return wide.index.to_numpy(), wide.to_numpy(dtype="float64")


def forecast_counts(counts, ids, months, *, backtest_months: int = 3) -> Forecast:
    """Forecast next month's count of every series, with a backtest over the last months.

    Parameters
    ----------
    counts : array-like (n_series, n_months)
        Complete months only, oldest first.
    ids : array-like
        Series ids (cells or place ids).
    months : list of str
        "YYYY-MM" of the columns, consecutive.
    backtest_months : int
        How many of the last months to backtest (0 for none).
    """
    y = np.asarray(counts, dtype="float64")
    months = list(months)
    if y.ndim != 2 or y.shape[1] != len(months) or y.shape[0] != len(ids):
        raise AggregateError(f"counts must be (len(ids), len(months)) = ({len(ids)}, {len(months)}), got {y.shape}",
                             key="hotspots.error_inputs", value="counts")
    if len(months) < 2:
        raise AggregateError(f"need at least 2 complete months of history, got {len(months)}",
                             key="hotspots.error_history", value=str(len(months)))
    moy = np.array([int(m[5:7]) for m in months])
    nxt = str(pd.Period(months[-1], "M") + 1)
    seasonal = _choose_seasonal(y, months, backtest_months)
    mu, lo, hi, rising = _predict(y, moy, int(nxt[5:7]), seasonal)
    table = pd.DataFrame({"id": np.asarray(ids), "last": y[:, -1], "expected": mu, "lower": lo, "upper": hi,
                          "rising": rising})
    table = table.sort_values(["expected", "id"], ascending=[False, True]).reset_index(drop=True)
    bt = backtest(y, months, backtest_months, seasonal=seasonal)
    mae, naive = bt["mae"].mean() if len(bt) else np.nan, bt["mae_naive"].mean() if len(bt) else np.nan
    skill = float(1.0 - mae / naive) if naive and np.isfinite(naive) and naive > 0 else float("nan")
    cov = float((bt["coverage"] * bt["n"]).sum() / bt["n"].sum()) if len(bt) and bt["n"].sum() else float("nan")
    return Forecast(nxt, table, bt, skill, cov, seasonal)


def _choose_seasonal(y: np.ndarray, months: list, backtest_months: int) -> bool:
    """Use the seasonal index only if it beat a flat one on the months before the reported backtest."""
    T = y.shape[1]
    held = T - backtest_months
    if held < 12 + 3:  # a seasonal index needs a year, and we hold out three months before the backtest
        return False
    maes = {}
    for seasonal in (True, False):
        bt = backtest(y[:, :held], months[:held], 3, seasonal=seasonal)
        maes[seasonal] = bt["mae"].mean()
    return bool(maes[True] < maes[False])


def backtest(y: np.ndarray, months: list, n_months: int = 3, *, seasonal: bool = True) -> pd.DataFrame:
    """Refit as of each of the last ``n_months`` and score the one-month-ahead forecast."""
    rows = []
    T = y.shape[1]
    moy = np.array([int(m[5:7]) for m in months])
    for h in range(min(n_months, T - 2), 0, -1):
        cut = T - h
        mu, lo, hi, _ = _predict(y[:, :cut], moy[:cut], int(moy[cut]), seasonal)
        actual = y[:, cut]
        rows.append({"month": months[cut], "mae": float(np.abs(mu - actual).mean()),
                     "mae_naive": float(np.abs(y[:, cut - 1] - actual).mean()),
                     "coverage": float(((actual >= lo) & (actual <= hi)).mean()), "n": int(len(actual))})
    return pd.DataFrame(rows, columns=["month", "mae", "mae_naive", "coverage", "n"])


def _season(y: np.ndarray, moy: np.ndarray) -> np.ndarray:
    s = np.ones(13)
    if len(moy) < 12:
        return s
    tot = y.sum(axis=0)
    mean = tot.mean()
    if mean <= 0:
        return s
    for m in range(1, 13):
        sel = moy == m
        if sel.any():
            s[m] = tot[sel].mean() / mean
    s[1:] = s[1:] / s[1:].mean()
    return np.clip(s, 0.2, 5.0)


def _predict(y: np.ndarray, moy: np.ndarray, next_moy: int, seasonal: bool = True):
    s = _season(y, moy) if seasonal else np.ones(13)
    d = y / s[moy]
    l3 = d[:, -3:].mean(axis=1)
    l12 = d[:, -12:].mean(axis=1)
    level = 0.5 * l3 + 0.5 * l12
    mu = level * s[next_moy]
    fitted = l12[:, None] * s[moy][None, -12:]
    obs = y[:, -12:]
    den = (fitted ** 2).sum()
    alpha = max(0.0, float(((obs - fitted) ** 2 - fitted).sum() / den)) if den > 0 else 0.0
    q = (1.0 - LEVEL) / 2.0
    mu_safe = np.maximum(mu, 1e-9)
    if alpha > 1e-6:
        r = 1.0 / alpha
        p = r / (r + mu_safe)
        lo, hi = stats.nbinom.ppf(q, r, p), stats.nbinom.ppf(1 - q, r, p)
    else:
        lo, hi = stats.poisson.ppf(q, mu_safe), stats.poisson.ppf(1 - q, mu_safe)
    span = min(y.shape[1], 12)
    recent, prior = y[:, -3:].sum(axis=1), y[:, -span:-3].sum(axis=1)
    exposure = s[moy[-span:-3]].sum() / s[moy[-3:]].sum() if span > 3 else 1.0
    rising = trends_rising(recent, prior, exposure) if span > 3 else np.zeros(len(y), dtype=bool)
    return mu, lo, hi, rising
