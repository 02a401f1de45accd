"""Key performance indicators of hotline work for a scope and a month (the meeting view's cards).

Two steps, both pure:

1. :func:`kpi_counts` turns tickets into per-month counts (numerators and
   denominators).  It is the reference implementation of
   ``Store.kpi_counts``: stores compute the same table in SQL so the
   dashboard never loads a million tickets.
2. :func:`kpi_board` turns those counts into the five rates of one month with
   their change against last month and the same month last year.

Definitions (a ticket belongs to the month it was *received* in, local time):

response rate 响应率
    tickets responded to within :data:`RESPONSE_HOURS` hours of receipt /
    tickets whose response is due (responded, or received at least
    :data:`RESPONSE_HOURS` hours before ``as_of``).
resolution rate 解决率
    tickets followed up as ``solved`` / tickets followed up with an answer
    (:data:`minqing.model.FOLLOWED_UP`: solved, partly or not).  ``partly``
    is reported separately (:attr:`Kpi.partly`), not counted as solved.
satisfaction rate 满意率
    (满意 + 基本满意, :data:`minqing.model.SATISFIED`) / rated tickets
    (:data:`minqing.model.RATED`); unrated tickets are left out.
on-time rate 按时办结率
    tickets closed by their due time / (closed tickets with a due time +
    open tickets already past their due time at ``as_of``).  Tickets with no
    due time and open tickets not yet due are left out.
proactive share 未诉先办占比
    tickets from :data:`minqing.model.PROACTIVE_CHANNELS` / all tickets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minqing.citytime import localize
from minqing.errors import MinqingError
from minqing.model import FOLLOWED_UP, PROACTIVE_CHANNELS, RATED, SATISFIED, TIMEZONE

RESPONSE_HOURS = 24
"""The response standard: a response within this many hours counts as in time."""

KPI_CODES = ("response", "resolution", "satisfaction", "on_time", "proactive")
"""The five indicators, in the order the meeting view shows them."""

COUNT_COLUMNS = (
    "tickets",
    "response_due",
    "responded_in_time",
    "followed_up",
    "solved",
    "partly",
    "rated",
    "satisfied",
    "deadline_due",
    "closed_on_time",
    "proactive",
)
"""Columns of a KPI count table (besides ``month``)."""

_RATIOS = {
    "response": ("responded_in_time", "response_due"),
    "resolution": ("solved", "followed_up"),
    "satisfaction": ("satisfied", "rated"),
    "on_time": ("closed_on_time", "deadline_due"),
    "proactive": ("proactive", "tickets"),
}
_NEEDED = ("received_at", "responded_at", "due_at", "closed_at", "resolved", "satisfaction", "channel")


class KpiError(MinqingError, ValueError):
    """A KPI input is invalid (bad month, missing columns)."""

    key = "meeting.error_kpi"


@dataclass(frozen=True)
class Kpi:
    """One indicator of one month.

    Attributes
    ----------
    code : str
        One of :data:`KPI_CODES`.
    value : float or None
        The rate (0..1); None when the denominator is 0.
    numerator, denominator : int
    change_month, change_year : float or None
        ``value`` minus the value of last month / of the same month last year
        (a difference of rates, i.e. percentage points / 100); None when either
        side has no data.
    partly : float or None
        Only for ``resolution``: the share answered ``partly``.
    """

    code: str
    value: float | None
    numerator: int
    denominator: int
    change_month: float | None
    change_year: float | None
    partly: float | None = None


@dataclass(frozen=True)
class KpiBoard:
    """The five indicators of one month (see :func:`kpi_board`).

    Attributes
    ----------
    month : str
        "YYYY-MM".
    tickets : int
        Tickets received in the month (in scope).
    kpis : tuple of Kpi
        In the order of :data:`KPI_CODES`.
    """

    month: str
    tickets: int
    kpis: tuple[Kpi, ...]

    def get(self, code: str) -> Kpi:
        """Return the indicator ``code``."""
        for k in self.kpis:
            if k.code == code:
                return k
        raise KeyError(code)


def month_key(value) -> str:
    """Return the "YYYY-MM" key of a month given as a string, Timestamp or Period.

    Examples
    --------
    >>> month_key("2025-04-17")
    '2025-04'
    """
    if isinstance(value, pd.Period):
        return str(value.asfreq("M"))
    try:
        ts = pd.Timestamp(value)  # a tz-aware time counts in its own (the city's) zone
        return f"{ts.year:04d}-{ts.month:02d}"
    except (ValueError, TypeError) as exc:
        raise KpiError(
            f"cannot read month {value!r}; give a month like '2025-04' or a date", key="meeting.error_month",
            month=str(value),
        ) from exc


def shift_month(month: str, months: int) -> str:
    """Return the month ``months`` after ``month`` (negative goes back).

    Examples
    --------
    >>> shift_month("2025-01", -1)
    '2024-12'
    """
    return str(pd.Period(month_key(month), "M") + months)


def default_month(last_received) -> str | None:
    """Return the month a meeting reviews: the last complete month of data.

    That is the month of ``last_received`` when it is the month's last day,
    else the month before.  None when there is no data.

    Examples
    --------
    >>> default_month("2026-10-31 18:00"), default_month("2026-11-24 09:00")
    ('2026-10', '2026-10')
    """
    from minqing.citytime import last_complete_month

    month = last_complete_month(last_received)  # one rule for every page's default period
    return None if month is None else str(month)


def month_bounds(month: str, tz: str = TIMEZONE) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the start (inclusive) and end (exclusive) of ``month`` in the city's zone ``tz``."""
    p = pd.Period(month_key(month), "M")
    start = p.start_time.tz_localize(tz)
    end = (p + 1).start_time.tz_localize(tz)
    return start, end


def comparison_months(month: str) -> tuple[str, str, str]:
    """Return (month, last month, same month last year)."""
    m = month_key(month)
    return m, shift_month(m, -1), shift_month(m, -12)


def kpi_counts(tickets: pd.DataFrame, as_of) -> pd.DataFrame:
    """Return the KPI numerators and denominators per month of receipt.

    Parameters
    ----------
    tickets : DataFrame
        With ``received_at``, ``responded_at``, ``due_at``, ``closed_at``
        (timezone-aware timestamps, NaT when missing), ``resolved``,
        ``satisfaction`` and ``channel``.
    as_of : str or Timestamp
        The moment the counts describe: what is overdue or due for a
        response is judged at this time (local time when naive).

    Returns
    -------
    DataFrame
        ``month`` ("YYYY-MM") and :data:`COUNT_COLUMNS` (int64), one row per
        month that has tickets, ordered by month.
    """
    missing = [c for c in _NEEDED if c not in tickets.columns]
    if missing:
        raise KpiError(
            f"tickets lack column(s) {missing}; kpi_counts needs {', '.join(_NEEDED)}",
            key="meeting.error_columns",
            columns=", ".join(missing),
        )
    tz = getattr(tickets["received_at"].dt, "tz", None) or TIMEZONE
    return _kpi_counts(tickets, localize(as_of, tz))


def _kpi_counts(t: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    if t.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in COUNT_COLUMNS}).assign(
            month=pd.Series(dtype="str"))[["month", *COUNT_COLUMNS]]
    received = t["received_at"]  # months of the city's zone: the times' own
    standard = pd.Timedelta(hours=RESPONSE_HOURS)
    responded = t["responded_at"].notna()
    closed = t["closed_at"].notna()
    has_due = t["due_at"].notna()
    resolved = t["resolved"].astype("object")
    satisfaction = t["satisfaction"].astype("object")
    flags = pd.DataFrame(
        {
            "tickets": np.ones(len(t), dtype="int64"),
            "response_due": responded | (received <= as_of - standard),
            "responded_in_time": responded & ((t["responded_at"] - t["received_at"]) <= standard),
            "followed_up": resolved.isin(FOLLOWED_UP),
            "solved": resolved.eq("solved"),
            "partly": resolved.eq("partly"),
            "rated": satisfaction.isin(RATED),
            "satisfied": satisfaction.isin(SATISFIED),
            "deadline_due": has_due & (closed | (t["due_at"] < as_of)),
            "closed_on_time": has_due & closed & (t["closed_at"] <= t["due_at"]),
            "proactive": t["channel"].astype("object").isin(PROACTIVE_CHANNELS),
        },
        index=t.index,
    ).fillna(False).astype("int64")
    flags["month"] = received.dt.strftime("%Y-%m").astype("object")
    out = flags.groupby("month", sort=True)[list(COUNT_COLUMNS)].sum().reset_index()
    return out[["month", *COUNT_COLUMNS]]


def kpi_board(counts: pd.DataFrame, month) -> KpiBoard:
    """Return the five indicators of ``month`` with their changes.

    Parameters
    ----------
    counts : DataFrame
        A KPI count table (:func:`kpi_counts` or ``Store.kpi_counts``) that
        holds at least the month, the month before and the same month last
        year where they have data; months may repeat (rows are summed).
    month : str or Timestamp
        The month to report.

    Returns
    -------
    KpiBoard
    """
    missing = [c for c in ("month", *COUNT_COLUMNS) if c not in counts.columns]
    if missing:
        raise KpiError(
            f"KPI counts lack column(s) {missing}; build them with kpi_counts() or Store.kpi_counts()",
            key="meeting.error_columns",
            columns=", ".join(missing),
        )
    return _board(counts.groupby("month")[list(COUNT_COLUMNS)].sum(), *comparison_months(month))


def _rate(row, num: str, den: str) -> float | None:
    if row is None or row[den] <= 0:
        return None
    return float(row[num]) / float(row[den])


def _board(by_month: pd.DataFrame, month: str, prev: str, last_year: str) -> KpiBoard:
    def row(m):
        return by_month.loc[m] if m in by_month.index else None

    this, before, year = row(month), row(prev), row(last_year)
    kpis = []
    for code in KPI_CODES:
        num, den = _RATIOS[code]
        value = _rate(this, num, den)
        vm, vy = _rate(before, num, den), _rate(year, num, den)
        kpis.append(
            Kpi(
                code=code,
                value=value,
                numerator=int(this[num]) if this is not None else 0,
                denominator=int(this[den]) if this is not None else 0,
                change_month=None if value is None or vm is None else value - vm,
                change_year=None if value is None or vy is None else value - vy,
                partly=_rate(this, "partly", "followed_up") if code == "resolution" else None,
            )
        )
    return KpiBoard(month, int(this["tickets"]) if this is not None else 0, tuple(kpis))
