"""What a grid leader needs each morning: open and overdue orders, repeat addresses, what is rising."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from minqing.analysis.trends import change_p_value, trend
from minqing.model import category_at_level


@dataclass(frozen=True)
class GridBrief:
    """The day's picture of one grid.

    Attributes
    ----------
    open : DataFrame
        Tickets not closed, oldest due first, with ``overdue`` (bool) and ``days_overdue``.
    repeat_addresses : DataFrame
        (address, tickets, first, last, categories) for addresses with at least
        ``min_repeats`` tickets in the recent window.
    rising : DataFrame
        (category, recent, baseline_per_30d, ratio, p_value) for 中类 categories whose last
        30 days rose against the 90 days before, by the app's one trend rule
        (:func:`minqing.analysis.trends.trend`: exact conditional binomial test of
        the two counts, exposure 3, p < 0.05 and at least 10 % more).
    expected_next_30d : float
        Mean tickets per 30 days over the last 90 days.
    expected_interval : tuple of float
        90 % Poisson interval for the next 30 days.
    """

    open: pd.DataFrame
    repeat_addresses: pd.DataFrame
    rising: pd.DataFrame
    expected_next_30d: float
    expected_interval: tuple[float, float]


def grid_brief(tickets: pd.DataFrame, now, *, recent_days: int = 90, min_repeats: int = 2) -> GridBrief:
    """Summarise one grid's tickets as of ``now``.

    Parameters
    ----------
    tickets : DataFrame
        The grid's tickets (``received_at``, ``closed_at``, ``due_at``, ``status``,
        ``category``, ``address``), times tz-aware.
    now : Timestamp
        The moment "overdue" and "recent" refer to (tz-aware).
    recent_days : int
        Window for repeat addresses and the expected count.
    min_repeats : int
        Tickets at one address before it counts as a repeat address.
    """
    now = pd.Timestamp(now)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware, e.g. pd.Timestamp.now(tz='Asia/Shanghai')")
    t = tickets[tickets["received_at"] <= now]
    return GridBrief(
        open=_open(t, now),
        repeat_addresses=_repeats(t, now, recent_days, min_repeats),
        rising=_rising(t, now),
        **_expected(t, now, recent_days),
    )


def _open(t, now):
    o = t[t["closed_at"].isna()].copy()
    o["overdue"] = o["due_at"].notna() & (o["due_at"] < now)
    o["days_overdue"] = np.where(o["overdue"], (now - o["due_at"]).dt.total_seconds() / 86400, 0.0)
    return o.sort_values(["overdue", "due_at"], ascending=[False, True])


def _repeats(t, now, days, min_repeats):
    r = t[(t["received_at"] > now - pd.Timedelta(days=days)) & t["address"].notna()]
    if r.empty:
        return pd.DataFrame(columns=["address", "tickets", "first", "last", "categories"])
    g = r.groupby("address").agg(
        tickets=("received_at", "size"),
        first=("received_at", "min"),
        last=("received_at", "max"),
        categories=("category", lambda s: "、".join(sorted(set(s)))),
    )
    g = g[g["tickets"] >= min_repeats].sort_values(["tickets", "last"], ascending=False)
    return g.reset_index()


def _rising(t, now):
    cols = ["category", "recent", "baseline_per_30d", "ratio", "p_value"]
    if t.empty:
        return pd.DataFrame(columns=cols)
    mid = t["category"].map(lambda c: category_at_level(c, 2))
    recent_mask = t["received_at"] > now - pd.Timedelta(days=30)
    base_mask = (t["received_at"] <= now - pd.Timedelta(days=30)) & (t["received_at"] > now - pd.Timedelta(days=120))
    recent = mid[recent_mask].value_counts()
    base = mid[base_mask].value_counts()
    cats = recent.index
    out = pd.DataFrame({"category": cats, "recent": recent.values})
    before = base.reindex(cats).fillna(0).astype("int64").to_numpy()
    out["baseline_per_30d"] = before / 3.0
    out["p_value"] = [change_p_value(a, b, 3.0) for a, b in zip(out["recent"], before)]
    with np.errstate(divide="ignore"):
        out["ratio"] = out["recent"] / out["baseline_per_30d"]
    out = out[np.array([trend(a, b, 3.0) == "up" for a, b in zip(out["recent"], before)], dtype=bool)]
    return out.sort_values("p_value")[cols].reset_index(drop=True)


def _expected(t, now, days):
    n = int((t["received_at"] > now - pd.Timedelta(days=days)).sum())
    mean = n * 30.0 / days
    lo, hi = stats.poisson.interval(0.9, mean) if mean > 0 else (0.0, 0.0)
    return {"expected_next_30d": mean, "expected_interval": (float(lo), float(hi))}
