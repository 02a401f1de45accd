"""The demo's calendar: the days of the period, their weights and the seasons of categories.

Every ticket of the demo is received on a day of the period; :class:`Calendar`
holds the days' weights (a weekly rhythm, a seasonal rhythm, holiday dips and
a slight trend), turns day indices into local epoch seconds and draws days
from per-month rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS_PER_MONTH = 30.44

# Seasonal amplitude per category prefix: factor 1 + a*cos(2*pi*(doy - 196)/365.25)
# (peak mid-July for a > 0, mid-January for a < 0).
SEASON = {"05": 0.35, "04.03.02": 0.4, "01.03.01": 0.2, "04.01.01": 0.15, "01.01.01": 0.2, "03.01.01": -0.45}

WEEKDAY = np.array([1.04, 1.0, 1.0, 1.0, 0.98, 0.72, 0.66])
HOURS = np.array([0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 0.8, 2.5, 5, 7.5, 8, 7.5, 5, 6, 7.5, 7.5, 7, 6, 5, 5.5, 5.5,
                  4.5, 3, 1.5])
HOLIDAYS = (("2025-01-28", "2025-02-04", 0.65), ("2026-02-16", "2026-02-23", 0.65),
            ("2025-10-01", "2025-10-07", 0.8), ("2026-10-01", "2026-10-07", 0.8))


class Calendar:
    """Days of the period with their weights, months and local epoch seconds."""

    def __init__(self, start: str, end: str):
        days = pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D")
        self.start = days[0]
        self.n = len(days)
        self.sec0 = days.values.astype("datetime64[s]").astype(np.int64)
        self.snapshot = int(self.sec0[-1] + 86400)  # the export is taken at midnight after `end`
        self.dow = days.day_of_week.to_numpy()
        self.doy = days.day_of_year.to_numpy()
        self.month = ((days.year - days[0].year) * 12 + days.month - days[0].month).to_numpy()
        self.n_months = int(self.month.max()) + 1
        self.month_labels = [f"{(days[0].year * 12 + days[0].month - 1 + m) // 12}-"
                             f"{(days[0].month - 1 + m) % 12 + 1:02d}" for m in range(self.n_months)]
        season = 1 + 0.15 * np.cos(2 * np.pi * (self.doy - 196) / 365.25)
        hol = np.ones(self.n)
        for a, b, f in HOLIDAYS:
            hol[(days >= pd.Timestamp(a)) & (days <= pd.Timestamp(b))] = f
        self.weekday = WEEKDAY[self.dow] / WEEKDAY.mean()
        self.weight = self.weekday * season * hol * (1 + 0.04 * np.arange(self.n) / 365)
        self.p = self.weight / self.weight.sum()
        self.hour_p = HOURS / HOURS.sum()
        mid = np.array([self.doy[self.month == m].mean() for m in range(self.n_months)])
        self.month_doy = mid

    def day(self, date: str) -> float:
        """Day index of a date (may lie outside the period)."""
        return float((pd.Timestamp(date) - self.start).days)

    def times(self, day_idx: np.ndarray, rng) -> np.ndarray:
        """Local epoch seconds: the day plus an hour from the hourly profile."""
        n = len(day_idx)
        hour = rng.choice(24, size=n, p=self.hour_p)
        return self.sec0[day_idx] + hour * 3600 + rng.integers(0, 3600, size=n)

    def sample_days(self, n: int, rng, first_day: int = 0) -> np.ndarray:
        """Day indices of ``n`` tickets drawn with the days' weights, from ``first_day`` on."""
        p = self.p[first_day:] / self.p[first_day:].sum()
        return first_day + rng.choice(self.n - first_day, size=n, p=p)

    def poisson_days(self, rate_per_month: np.ndarray, rng) -> np.ndarray:
        """Day indices of events with the given expected count per month on each day."""
        lam = np.clip(rate_per_month, 0, None) / DAYS_PER_MONTH * self.weekday
        return np.repeat(np.arange(self.n), rng.poisson(lam))

    def ramp(self, points: list[tuple[str, float]]) -> np.ndarray:
        """Piecewise-linear per-day values through (date, value) points, flat outside."""
        xp = [self.day(d) for d, _ in points]
        return np.interp(np.arange(self.n), xp, [v for _, v in points])

    def season(self, code: str, doy) -> np.ndarray:
        """Seasonal factor of category ``code`` on days of year ``doy`` (longest matching prefix of SEASON)."""
        amp = 0.0
        for prefix, a in SEASON.items():
            if code.startswith(prefix):
                amp = a
        return 1 + amp * np.cos(2 * np.pi * (np.asarray(doy) - 196) / 365.25)
