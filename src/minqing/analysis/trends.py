"""Trend arrows from a count test: ↑ or ↓ only where the change is unlikely to be noise.

One rule for every arrow and every "rising" in the app (the meeting's top
problems, the grid leader's rising categories, the forecast's rising places).

Two counts ``n1`` (this period, length ``t1``) and ``n2`` (the reference
period, length ``t2``) are taken as Poisson with rates λ1 and λ2. Given
``n1 + n2``, ``n1`` is Binomial(n1 + n2, t1 / (t1 + t2)) when λ1 = λ2: the
exact *conditional binomial test* of two Poisson counts (Przyborowski and
Wilenski 1940), computed with :func:`scipy.stats.binomtest` (two-sided).
The arrow points up (down) when

- the test's p-value is below :data:`ALPHA` (0.05), and
- the rate changed by at least :data:`MIN_CHANGE` (10 %) relative to the reference,

and is → otherwise. "This month against last month" has ``exposure`` = days
of last month / days of this month; "against the mean of the three months
before" passes the three months' *sum* with ``exposure`` ≈ 3 (their days over
this month's). So 4 orders after 7 is → (p = 0.55), 45 after 20 is ↑
(p = 0.003), and 12 after 10 is → although it is 20 % more.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

TRENDS = {"up": "↑", "down": "↓", "flat": "→"}
"""Trend codes and their arrows."""
ALPHA = 0.05
"""Level of the two-sided conditional binomial test."""
MIN_CHANGE = 0.10
"""Smallest relative change of the rate that earns an arrow (with many orders, tiny changes are "significant")."""


def change_p_value(current: int, reference: int, exposure: float = 1.0) -> float:
    """Return the two-sided exact p-value that two Poisson counts have the same rate.

    Parameters
    ----------
    current : int
        Count of the period looked at (length 1).
    reference : int
        Count of the reference period, whose length is ``exposure`` times the current one.
    exposure : float
        Length of the reference period over the current period's (> 0).

    Examples
    --------
    >>> round(change_p_value(4, 7), 3)  # 2 * P(X <= 4), X ~ Binomial(11, 1/2)
    0.549
    """
    n1, n2 = int(current), int(reference)
    if n1 < 0 or n2 < 0 or not exposure > 0:
        raise ValueError(f"counts must be >= 0 and exposure > 0, got {current!r}, {reference!r}, {exposure!r}")
    if n1 + n2 == 0:
        return 1.0
    return float(stats.binomtest(n1, n1 + n2, 1.0 / (1.0 + float(exposure))).pvalue)


def trend(current, reference, exposure: float = 1.0, *, alpha: float = ALPHA,
          min_change: float = MIN_CHANGE) -> str:
    """Return "up", "down" or "flat" for a count against a reference count (see the module's rule).

    Parameters
    ----------
    current, reference : int
        The two counts (whole orders, not means: pass the sum of the reference months).
    exposure : float
        Length of the reference period over the current period's (3 for "three months").
    alpha : float
        Level of the test.
    min_change : float
        Smallest relative change of the rate that can earn an arrow.

    Examples
    --------
    >>> trend(7, 4), trend(45, 20), trend(20, 45), trend(30, 30, exposure=3)
    ('flat', 'up', 'down', 'up')
    """
    n1, n2 = _count(current), _count(reference)
    expected = n2 / float(exposure)  # the reference's rate over one current period
    if n1 >= expected * (1 + min_change) and n1 > expected:
        side = "up"
    elif n1 <= expected * (1 - min_change) and n1 < expected:
        side = "down"
    else:
        return "flat"
    return side if change_p_value(n1, n2, exposure) < alpha else "flat"


def _count(value) -> int:
    v = float(value)
    if not math.isfinite(v) or v < 0 or abs(v - round(v)) > 1e-9:
        raise ValueError(f"trend needs whole non-negative counts, got {value!r}; pass sums, not means")
    return int(round(v))


def rising(current, reference, exposure) -> np.ndarray:
    """Return, element-wise, whether :func:`trend` says "up" (arrays of counts and exposures)."""
    c, r = np.broadcast_arrays(np.asarray(current, dtype="float64"), np.asarray(reference, dtype="float64"))
    e = np.broadcast_to(np.asarray(exposure, dtype="float64"), c.shape)
    out = np.zeros(c.shape, dtype=bool)
    for i in np.flatnonzero(c.ravel() >= r.ravel() / e.ravel() * (1 + MIN_CHANGE)):  # only candidates are tested
        out.flat[i] = trend(round(c.flat[i]), round(r.flat[i]), e.flat[i]) == "up"
    return out
