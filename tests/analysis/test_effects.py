"""Before/after evaluation on hand-made and simulated count series with known effects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from minqing.analysis.effect_bins import daily_counts
from minqing.analysis.effect_models import rate_ratio
from minqing.analysis.effect_results import EffectError
from minqing.analysis.effects import evaluate_counts
from minqing.i18n import t

DAYS = pd.date_range("2024-01-01", periods=3 * 365, freq="D")
START = pd.Timestamp("2025-07-01")


def series(values) -> pd.Series:
    return pd.Series(np.asarray(values), index=DAYS[: len(values)])


def test_rate_ratio_by_hand():
    # 20 before in 60 days, 10 after in 60 days: RR 0.5, log-SE sqrt(1/20 + 1/10).
    rr = rate_ratio(np.array([10, 10]), np.array([30, 30]), np.array([5, 5]), np.array([30, 30]))
    se = math.sqrt(1 / 20 + 1 / 10)
    assert rr.estimate == pytest.approx(0.5)
    assert rr.low == pytest.approx(0.5 * math.exp(-1.959964 * se), rel=1e-4)
    assert rr.high == pytest.approx(0.5 * math.exp(1.959964 * se), rel=1e-4)
    assert rr.method == "poisson"
    assert rr.verdict == "no_clear_change"  # 20 vs 10 is not enough to be sure


def test_daily_counts_fills_zeros():
    s = daily_counts(pd.to_datetime(["2025-01-02 10:00", "2025-01-02 11:00", "2025-01-04 00:00"]), "2025-01-01", "2025-01-05")
    assert s.tolist() == [0, 2, 0, 1, 0]


def test_windows_exclude_implementation_period():
    y = np.ones(len(DAYS))
    res = evaluate_counts(series(y), START, implementation_end="2025-07-31")
    assert res.before.start == START - pd.Timedelta(days=360)
    assert res.before.end == START
    assert res.after.start == pd.Timestamp("2025-08-01")
    assert res.implementation.days == 31
    assert res.before_rate == pytest.approx(30)
    assert [h.months for h in res.horizons] == [1, 2, 3, 6]


def test_short_history_and_bad_dates_raise():
    y = series(np.ones(len(DAYS)))
    with pytest.raises(EffectError, match="history"):  # two days: not even three day bins
        evaluate_counts(y, DAYS[2])
    short = evaluate_counts(y, DAYS[31])  # a month of history: judged in days, not refused
    assert short.scale == "day" and short.verdict == "no_clear_change"
    assert evaluate_counts(y, DAYS[70]).scale == "week"
    with pytest.raises(EffectError, match="before the start"):
        evaluate_counts(y, START, implementation_end="2025-06-01")
    with pytest.raises(EffectError, match="no data after"):
        evaluate_counts(y, START, implementation_end="2027-01-01")


def _sim(rng, rate_before, rate_after, season=0.0, n_runs=200):
    doy = DAYS.day_of_year.to_numpy()
    lam = np.where(DAYS < START, rate_before, rate_after) * (1 + season * np.cos(2 * np.pi * (doy - 200) / 365.25))
    return rng.poisson(lam / 30, size=(n_runs, len(DAYS)))


def test_true_half_drop_is_recovered_with_coverage():
    rng = np.random.default_rng(1)
    sims = _sim(rng, 20.0, 10.0)
    cover = improved = 0
    for y in sims:
        r = evaluate_counts(series(y), START)
        cover += r.primary.low <= 0.5 <= r.primary.high
        improved += r.verdict == "improved"
    assert cover >= 180, cover
    assert improved >= 180, improved


def test_true_null_is_no_clear_change():
    rng = np.random.default_rng(2)
    calls = [evaluate_counts(series(y), START).verdict for y in _sim(rng, 15.0, 15.0)]
    assert calls.count("no_clear_change") >= 180, calls.count("no_clear_change")


def test_seasonal_series_give_no_false_effect():
    rng = np.random.default_rng(3)
    calls = [evaluate_counts(series(y), START).verdict for y in _sim(rng, 15.0, 15.0, season=0.6)]
    assert calls.count("no_clear_change") >= 180, calls.count("no_clear_change")


def test_seasonal_series_naive_would_mislead():
    # Guard that the seasonal test can fail: with a short after window in the high
    # season the naive ratio is well above 1.
    doy = DAYS.day_of_year.to_numpy()
    y = (15.0 / 30 * (1 + 0.6 * np.cos(2 * np.pi * (doy - 200) / 365.25)))[: (START - DAYS[0]).days + 120]
    r = evaluate_counts(series(y), START)
    assert r.primary_kind == "seasonal"
    assert r.naive.estimate > 1.2
    assert r.seasonal.estimate == pytest.approx(1.0, abs=0.02)
    assert r.verdict == "no_clear_change"


def test_regression_to_the_mean_is_not_improvement():
    rng = np.random.default_rng(5)
    wrong = 0
    for _ in range(50):
        lam = np.full(len(DAYS), 5.0 / 30)
        lam[(DAYS >= START - pd.Timedelta(days=30)) & (DAYS < START)] = 15.0 / 30
        y = rng.poisson(lam)
        r = evaluate_counts(series(y), START)
        assert r.regression.peak or r.verdict != "improved"
        wrong += r.verdict == "improved"
    assert wrong <= 5


def test_controls_remove_a_common_shock():
    # Both places fall by half at the start (a city-wide change): DiD says no change.
    rng = np.random.default_rng(6)
    lam_t = np.where(DAYS < START, 20.0, 10.0) / 30
    lam_c = np.where(DAYS < START, 100.0, 50.0) / 30
    r = evaluate_counts(series(rng.poisson(lam_t)), START, controls=series(rng.poisson(lam_c)))
    assert r.primary_kind == "did"
    assert r.did.low < 1 < r.did.high
    assert r.naive.verdict == "improved"


def test_relapse_flagged_near_planted_date():
    rng = np.random.default_rng(7)
    relapse_start = pd.Timestamp("2026-03-01")
    rate = np.where(DAYS < START, 8.0, 2.4)
    ramp = np.clip((DAYS - relapse_start).days.to_numpy() / 92, 0, 1)
    rate = np.where(DAYS >= relapse_start, 2.4 + (8.0 - 2.4) * ramp, rate)
    r = evaluate_counts(series(rng.poisson(rate / 30)), START)
    assert {h.months: h.ratio.verdict for h in r.horizons}[3] == "improved"
    assert r.relapse.flagged
    assert relapse_start <= r.relapse.date <= pd.Timestamp("2026-07-31")  # ramp ends 2026-06-01


def _bursts(rng, burst_rate_per_day: np.ndarray) -> np.ndarray:
    """Daily counts arriving in bursts: each burst brings 3 + Poisson(3) calls over the following weeks."""
    y = np.zeros(len(burst_rate_per_day), int)
    for day in np.flatnonzero(rng.poisson(burst_rate_per_day)):
        k = 3 + rng.poisson(3)
        np.add.at(y, np.minimum(day + np.minimum(rng.exponential(6.0, k), 21).astype(int), len(y) - 1), 1)
    return y


def test_bursts_after_a_real_drop_are_not_a_relapse():
    """A 90 % drop that holds, in bursty counts: relapse flags stay rare (they were common with a plain Poisson CUSUM)."""
    flagged = improved = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        rate = np.where(DAYS < START, 4.0, 0.4) / 30  # bursts per day
        r = evaluate_counts(series(_bursts(rng, rate)), START)
        improved += r.verdict == "improved"
        flagged += bool(r.relapse is not None and r.relapse.flagged)
    assert improved >= 180
    assert flagged <= 20


def test_bursty_relapse_is_still_flagged():
    rng = np.random.default_rng(11)
    relapse_start = pd.Timestamp("2026-03-01")
    ramp = np.clip((DAYS - relapse_start).days.to_numpy() / 92, 0, 1)
    rate = np.where(DAYS < START, 4.0, np.where(DAYS >= relapse_start, 0.4 + 3.6 * ramp, 0.4)) / 30
    r = evaluate_counts(series(_bursts(rng, rate)), START)
    assert r.relapse is not None and r.relapse.flagged
    assert relapse_start <= r.relapse.date <= pd.Timestamp("2026-08-31")


def test_spillover_and_channels_and_satisfaction():
    rng = np.random.default_rng(8)
    n = len(DAYS)
    before = DAYS < START
    treated = rng.poisson(np.where(before, 20.0, 5.0) / 30)
    ring = rng.poisson(np.where(before, 5.0, 20.0) / 30)
    ch = pd.DataFrame({"hotline_12345": treated, "proactive": rng.poisson(np.where(before, 0.5, 8.0) / 30)}, index=DAYS)
    rated = np.full(n, 2)
    unsat = np.where(before, 1, 0)
    r = evaluate_counts(series(treated), START, ring=series(ring), channels=ch,
                        satisfaction=pd.DataFrame({"rated": rated, "unsatisfied": unsat}, index=DAYS))
    assert r.ring.verdict == "worse"
    assert any(c.key == "effects.caveat_spillover" for c in r.caveats)
    pro = {c.channel: c for c in r.channels}["proactive"]
    assert pro.ratio.verdict == "worse"  # proactive intake rose
    assert r.satisfaction.before == pytest.approx(0.5)
    assert r.satisfaction.after == pytest.approx(0.0)


def _channel_result(hotline_before, hotline_after, seed=3):
    rng = np.random.default_rng(seed)
    before = DAYS < START
    hot = rng.poisson(np.where(before, hotline_before, hotline_after) / 30)
    ch = pd.DataFrame({"hotline_12345": hot, "app": rng.poisson(np.full(len(DAYS), 3.0) / 30),
                       "grid_patrol": rng.poisson(np.where(before, 0.5, 4.0) / 30),
                       "proactive": rng.poisson(np.where(before, 0.5, 4.0) / 30)}, index=DAYS)
    return evaluate_counts(series(hot), START, channels=ch)


def test_channel_text_follows_the_numbers():
    # 12345 falls 30 -> 10 a month, proactive rises 1 -> 8: the reading may say "consistent with"
    down = _channel_result(30.0, 10.0)
    groups = {g.channel: g for g in down.channel_groups}
    assert set(groups) == {"hotline", "proactive", "other"}  # grid_patrol + proactive pooled, app is "other"
    assert groups["hotline"].ratio.verdict == "improved" and groups["proactive"].ratio.verdict == "worse"
    zh = down.channel_text("zh")
    assert zh.startswith("12345热线每30天") and "下降" in zh and "95% 区间" in zh
    assert zh.endswith(t("effects.reading_shift", "zh"))
    assert "fell while the proactive channels rose" in down.channel_text("en")
    # 12345 rises 10 -> 30 a month: never "governance works"
    up = _channel_result(10.0, 30.0)
    zh = up.channel_text("zh")
    assert "上升（+" in zh and zh.endswith(t("effects.reading_hotline_up", "zh"))
    assert "起作用一致" not in zh
    assert "rose" in up.channel_text("en") and "do not support" in up.channel_text("en")
    # the numbers in the sentence are the group's own
    h = {g.channel: g for g in up.channel_groups}["hotline"]
    assert f"{h.before_rate:.1f} → {h.after_rate:.1f}" in up.channel_text("zh")
