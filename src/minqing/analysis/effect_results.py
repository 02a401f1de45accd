"""What the evaluation of an intervention returns: rate ratios, windows, caveats and the whole result.

Frozen dataclasses with named attributes, built by
:func:`minqing.analysis.effects.evaluate_counts` and rendered by the app and the
meeting report; :class:`EffectResult` also says its verdict, its channel reading
and its caveats in plain sentences. :class:`EffectError` is raised when an
intervention cannot be evaluated as asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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
    "VERDICTS",
]

VERDICTS = ("improved", "no_clear_change", "worse")
"""The verdicts of :attr:`RateRatio.verdict` and :attr:`EffectResult.verdict`."""


class EffectError(MinqingError, ValueError):
    """An intervention cannot be evaluated as asked (bad dates, too little history)."""

    key = "interventions.error_effect"


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
        The same per channel group (:data:`minqing.analysis.effects.CHANNEL_GROUPS`);
        :meth:`channel_text` says what they did.
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
