"""Cross-check of ``minqing.analysis.effects.evaluate_counts`` against libraries of the field.

Issue #16 item 5.  Simulated count series with a known effect, evaluated by ours, by CausalPy's
interrupted time series (scikit-learn OLS backend, so no MCMC) and, for the panel case, by a
synthetic control (pysyncon ``Synth`` with its placebo test; CausalPy's ``SyntheticControl`` too).

CausalPy and pysyncon are NOT project dependencies.  Run this in a throwaway venv::

    python3 -m venv /tmp/xcheck
    /tmp/xcheck/bin/pip install -q causalpy==0.9.0 pysyncon==1.7.0 pandas numpy scipy statsmodels
    /tmp/xcheck/bin/python benchmarks/crosscheck_effects.py            # about a minute on 2 cores
    /tmp/xcheck/bin/python benchmarks/crosscheck_effects.py --seeds 5  # quicker

``minqing`` itself is not installed there: ``src/`` is put on ``sys.path`` and only what
``minqing.analysis.effects`` imports (numpy, pandas, scipy, statsmodels) is needed.

Scenarios (seeds fixed; ratio = after count over the counterfactual, 1 = no effect):

a. A daily outbreak: a rise to a peak on day 14 (40 a day), then a 12 %/day decline that goes on;
   action on day 20, 30 days after.  Once with no effect (truth 1.0), once with an extra 50 %
   drop after the action (truth 0.5).
b. 16 years of daily counts (~300 a month) with winter peaks, exp(0.6 cos(2 pi (doy - 15) / 365.25)),
   and a -20 % level change on 2022-07-01 (truth 0.8), at month bins.  Ours is run on the whole
   history and on the 12 months before the start that the app passes (``interventions.evaluate._day0``).
c. One treated unit and 20 controls over 36 months: unit levels, a common trend (-1.5 %/month)
   and seasonality; the treated unit drops 40 % from month 24 (truth 0.6).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
warnings.filterwarnings("ignore")

from minqing.analysis.effects import evaluate_counts

# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------

OUTBREAK_DAY0 = pd.Timestamp("2024-03-01")
PEAK_DAY, ACTION_DAY, N_DAYS, PEAK = 14, 20, 50, 40.0


def outbreak(seed: int, effect: float):
    """Daily counts: 1.18x a day up to a peak of 40 on day 14, then 0.88x a day; x``effect`` from day 20."""
    rng = np.random.default_rng(1000 + seed + (0 if effect == 1 else 500))
    d = np.arange(N_DAYS)
    rate = np.where(d <= PEAK_DAY, PEAK * 1.18 ** (d - PEAK_DAY), PEAK * 0.88 ** (d - PEAK_DAY))
    rate = rate * np.where(d >= ACTION_DAY, effect, 1.0)
    y = rng.poisson(rate)
    return pd.Series(y, index=pd.date_range(OUTBREAK_DAY0, periods=N_DAYS, freq="D"))


SEASON_START, SEASON_END, SEASON_ACTION = pd.Timestamp("2008-01-01"), pd.Timestamp("2023-12-31"), pd.Timestamp("2022-07-01")


def seasonal(seed: int, effect: float = 0.8):
    """16 years of daily counts, ~300 a month, winter peaks, x``effect`` from 2022-07-01."""
    rng = np.random.default_rng(2000 + seed)
    idx = pd.date_range(SEASON_START, SEASON_END, freq="D")
    doy = idx.dayofyear.to_numpy()
    f = np.exp(0.6 * np.cos(2 * np.pi * (doy - 15) / 365.25)) / np.i0(0.6)  # mean factor 1
    rate = 300 / 30.44 * f * np.where(idx >= SEASON_ACTION, effect, 1.0)
    return pd.Series(rng.poisson(rate), index=idx)


PANEL_START, PANEL_MONTHS, PANEL_ACTION, N_CONTROLS = pd.Timestamp("2021-01-01"), 36, 24, 20


def panel(seed: int, effect: float = 0.6):
    """Daily counts of one treated unit and 20 controls (levels, common trend and season); x``effect`` from month 24."""
    rng = np.random.default_rng(3000 + seed)
    idx = pd.date_range(PANEL_START, PANEL_START + pd.DateOffset(months=PANEL_MONTHS) - pd.Timedelta(days=1), freq="D")
    m = (idx.year - PANEL_START.year) * 12 + idx.month - 1  # month number 0..35
    common = 0.985 ** m * np.exp(0.3 * np.cos(2 * np.pi * (idx.month.to_numpy() - 1) / 12)) / idx.days_in_month
    levels = np.r_[100.0, np.exp(rng.normal(math.log(100), 0.4, N_CONTROLS))]  # per month
    names = ["treated"] + [f"c{i:02d}" for i in range(N_CONTROLS)]
    rates = np.outer(common, levels)
    rates[:, 0] *= np.where(m >= PANEL_ACTION, effect, 1.0)
    return pd.DataFrame(rng.poisson(rates), index=idx, columns=names)


# --------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------


def ours(series, start, controls=None, **kw):
    r = evaluate_counts(series, start, controls=controls, **kw)
    p = r.primary
    return {"est": p.estimate, "lo": p.low, "hi": p.high, "verdict": r.verdict, "kind": r.primary_kind, "scale": r.scale}


def causalpy_its(df, treatment_time, formula, log=False):
    """CausalPy ITS with an OLS backend; the post-period effect as a ratio.

    Linear outcome: CausalPy's relative effect (mean of impact / counterfactual) and its t interval.
    Log outcome: exp of the mean log impact and of its t interval.
    """
    import causalpy as cp
    from sklearn.linear_model import LinearRegression

    res = cp.InterruptedTimeSeries(df, treatment_time, formula=formula, model=LinearRegression(fit_intercept=False))
    avg = res.effect_summary(direction="two-sided").table.loc["average"]
    if log:
        return {"est": math.exp(avg["mean"]), "lo": math.exp(avg["ci_lower"]), "hi": math.exp(avg["ci_upper"])}
    return {"est": 1 + avg["relative_mean"] / 100, "lo": 1 + avg["relative_ci_lower"] / 100,
                "hi": 1 + avg["relative_ci_upper"] / 100}


def causalpy_sc(wide, treatment_time):
    import causalpy as cp

    controls = [c for c in wide.columns if c != "treated"]
    res = cp.SyntheticControl(wide, treatment_time, control_units=controls, treated_units=["treated"],
                              model=cp.skl_models.WeightedProportion())
    avg = res.effect_summary(direction="two-sided").table.loc["average"]
    return {"est": 1 + avg["relative_mean"] / 100, "lo": 1 + avg["relative_ci_lower"] / 100,
                "hi": 1 + avg["relative_ci_upper"] / 100}


def _synth_fit(Z: pd.DataFrame, treated: str, donors: list, pre: np.ndarray):
    """pysyncon Synth with the pre-period outcomes as predictors, equally weighted (V = identity)."""
    from pysyncon import Synth

    Z0, Z1 = Z[donors], Z[treated]
    s = Synth()
    s.fit(X0=Z0[pre], X1=Z1[pre], Z0=Z0[pre], Z1=Z1[pre], custom_V=np.ones(int(pre.sum())))
    return Z1.to_numpy(), s._synthetic(Z0).to_numpy()


def pysyncon_sc(monthly: pd.DataFrame, n_pre: int):
    """Post-period ratio of treated to synthetic; Abadie's placebo p-value (post/pre RMSPE rank) over all units."""
    pre = np.arange(len(monthly)) < n_pre
    units = list(monthly.columns)

    def run(treated):
        y, synth = _synth_fit(monthly, treated, [u for u in units if u not in (treated, "treated")], pre)
        gap = y - synth
        rmspe = (gap[~pre] ** 2).mean() / (gap[pre] ** 2).mean()
        return y, synth, rmspe

    y, synth, r_treated = run("treated")
    r_placebo = [run(u)[2] for u in units[1:]]  # each control as treated, the other controls as donors
    p = (1 + sum(r >= r_treated for r in r_placebo)) / (1 + len(r_placebo))
    return {"est": float(y[~pre].sum() / synth[~pre].sum()), "p": p}


# --------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------


def run_outbreak(seed, effect):
    s = outbreak(seed, effect)
    start = OUTBREAK_DAY0 + pd.Timedelta(days=ACTION_DAY)
    df = pd.DataFrame({"t": np.arange(N_DAYS, dtype=float), "y": s.to_numpy(float)})
    return {
        "ours": ours(s, start),
        "CausalPy ITS, y ~ 1 + t, whole pre-period": causalpy_its(df, ACTION_DAY, "y ~ 1 + t"),
        "CausalPy ITS, log(y+0.5) ~ 1 + t, from day 15": causalpy_its(
            df.loc[PEAK_DAY + 1:], ACTION_DAY, "np.log(y + 0.5) ~ 1 + t", log=True),
    }


def _monthly_frame(s: pd.Series) -> pd.DataFrame:
    m = s.resample("MS").sum().astype(float)
    return pd.DataFrame({"y": m.to_numpy(), "t": np.arange(len(m), dtype=float), "month": m.index.month}, index=m.index)


def run_seasonal(seed):
    s = seasonal(seed)
    app = s[s.index >= SEASON_ACTION - pd.Timedelta(days=12 * 30)]
    return {
        "ours (16 years passed)": ours(s, SEASON_ACTION),
        "ours (12 months passed, as the app)": ours(app, SEASON_ACTION),
        "CausalPy ITS, y ~ 1 + t + C(month)": causalpy_its(_monthly_frame(s), SEASON_ACTION, "y ~ 1 + t + C(month)"),
    }


def run_panel(seed):
    d = panel(seed)
    start = PANEL_START + pd.DateOffset(months=PANEL_ACTION)
    monthly = d.resample("MS").sum().astype(float)
    its = _monthly_frame(d["treated"])
    wide = monthly.copy()
    wide.index = pd.RangeIndex(len(wide))  # month number 0..35
    return {
        "ours (DiD vs pooled controls)": ours(d["treated"], start, controls=d.drop(columns="treated").sum(axis=1)),
        "ours (treated alone)": ours(d["treated"], start),
        "CausalPy ITS, y ~ 1 + t + C(month)": causalpy_its(its, start, "y ~ 1 + t + C(month)"),
        "CausalPy SyntheticControl (WeightedProportion)": causalpy_sc(wide.copy(), PANEL_ACTION),
        "pysyncon Synth (+ placebo test)": pysyncon_sc(wide.copy(), PANEL_ACTION),
    }


def fmt(r: dict) -> str:
    out = f"{r['est']:.2f}"
    if "lo" in r:
        out += f" [{r['lo']:.2f}, {r['hi']:.2f}]"
    if "verdict" in r:
        out += f" {r['verdict']} ({r['kind']}, {r['scale']})"
    if "p" in r:
        out += f" p={r['p']:.3f}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    args = ap.parse_args()
    t0 = time.perf_counter()
    scenarios = [
        ("a. outbreak, no effect", 1.0, lambda k: run_outbreak(k, 1.0)),
        ("a. outbreak, -50 % after the action", 0.5, lambda k: run_outbreak(k, 0.5)),
        ("b. 16 years, winter peaks, -20 % level (months)", 0.8, run_seasonal),
        ("c. 1 treated + 20 controls, 36 months, -40 %", 0.6, run_panel),
    ]
    rows = []
    for name, truth, fn in scenarios:
        print(f"\n## {name} (truth {truth})")
        per_method: dict[str, list] = {}
        for k in range(args.seeds):
            res = fn(k)
            print(f"seed {k:2d}: " + " | ".join(f"{m}: {fmt(r)}" for m, r in res.items()))
            for m, r in res.items():
                per_method.setdefault(m, []).append(r)
        for m, rs in per_method.items():
            est = np.array([r["est"] for r in rs])
            cover = np.mean([r["lo"] <= truth <= r["hi"] for r in rs]) if "lo" in rs[0] else float("nan")
            if "verdict" in rs[0]:
                called = np.mean([r["verdict"] == "improved" for r in rs])
            elif "p" in rs[0]:
                called = np.mean([r["p"] <= 0.05 and r["est"] < 1 for r in rs])
            else:
                called = np.mean([r["hi"] < 1 for r in rs])
            kinds = sorted({r["kind"] for r in rs}) if "kind" in rs[0] else []
            rows.append((name, truth, m + (f" [{', '.join(kinds)}]" if kinds else ""), np.mean(est), np.median(est),
                         np.mean(np.abs(est - truth)), cover, called))
    print(f"\nseeds per scenario: {args.seeds}; run time {time.perf_counter() - t0:.0f} s\n")
    print("| scenario | truth | method [our primary] | mean est. | median est. | mean abs. error | 95 % interval covers truth | called a fall |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, truth, m, mean, med, mae, cover, called in rows:
        cov = "—" if not np.isfinite(cover) else f"{cover * 100:.0f} %"
        print(f"| {name} | {truth} | {m} | {mean:.2f} | {med:.2f} | {mae:.2f} | {cov} | {called * 100:.0f} % |")
    print("\n'called a fall': ours verdict 'improved'; CausalPy interval below 1; pysyncon placebo p <= 0.05 "
          "(21 units, smallest possible p = 1/21) with ratio < 1.")


if __name__ == "__main__":
    main()
