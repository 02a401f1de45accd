"""The dashboard's aggregates in SQL: counts per unit, KPI numerators and denominators, problem counts.

Mixed into :class:`minqing.store.sqlite.store.SQLiteStore`. Each method states in SQL
the rule its pandas reference states in :mod:`minqing.store.reference` (the contract
suite, ``tests/store/test_contract.py``, checks that both give the same frame); the
constants of the rules (response hours, which follow-up answers and satisfaction
values count) are imported from where the rules are defined, never written again here.
"""

from __future__ import annotations

from functools import partial

from minqing.analysis.kpis import COUNT_COLUMNS, RESPONSE_HOURS
from minqing.citytime import local_seconds_sql, offset_segments
from minqing.model import FOLLOWED_UP, PROACTIVE_CHANNELS, RATED, SATISFIED
from minqing.store import problemsql
from minqing.store.checks import check_level
from minqing.store.sqlfilter import SQLITE


def _sql_list(constants) -> str:
    """Quote our own vocabulary codes (never user input) as an SQL list."""
    assert all(str(c).isidentifier() for c in constants), constants
    return ", ".join(f"'{c}'" for c in constants)


class AggregatesMixin:
    """Aggregate methods of the SQLite store (``self._where`` turns a filter into SQL)."""

    def count_tickets(self, level, where=None, by_channel=False):
        # The rule of minqing.store.reference.count_tickets: one row per (unit code, channel), NULL code included.
        check_level(level)
        clause, params = self._where(where)
        keys = f"{level}_code, channel" if by_channel else f"{level}_code"
        df = self._query(
            f"SELECT {level}_code AS code, {'channel, ' if by_channel else ''}COUNT(*) AS tickets FROM tickets{clause} "
            f"GROUP BY {keys} ORDER BY {keys}",
            params,
        )
        for c in ("code", "channel") if by_channel else ("code",):
            df[c] = df[c].astype("str")
        df["tickets"] = df["tickets"].astype("int64")
        return df

    def _local_month(self, column: str) -> str:
        """SQL for the city-local month ("YYYY-MM") of epoch seconds in ``column`` (any zone, with DST)."""
        lo, hi = self._received_epochs()
        segments = offset_segments(self.timezone, lo or 0, hi or 0)
        return f"strftime('%Y-%m', {local_seconds_sql(column, segments)}, 'unixepoch')"

    def kpi_counts(self, where, as_of):
        # One flag per count column, the rules of minqing.analysis.kpis (the reference:
        # minqing.store.reference.kpi_counts); a ticket counts in the local month it was received.
        clause, params = self._where(where)
        as_of_s = int(self._epoch_param(as_of))
        std = RESPONSE_HOURS * 3600
        proactive = _sql_list(PROACTIVE_CHANNELS)
        flags = {
            "tickets": "1",
            "response_due": f"responded_at IS NOT NULL OR received_at <= {as_of_s - std}",
            "responded_in_time": f"responded_at IS NOT NULL AND responded_at - received_at <= {std}",
            "followed_up": f"resolved IN ({_sql_list(FOLLOWED_UP)})",
            "solved": "resolved = 'solved'",
            "partly": "resolved = 'partly'",
            "rated": f"satisfaction IN ({_sql_list(RATED)})",
            "satisfied": f"satisfaction IN ({_sql_list(SATISFIED)})",
            "deadline_due": f"due_at IS NOT NULL AND (closed_at IS NOT NULL OR due_at < {as_of_s})",
            "closed_on_time": "due_at IS NOT NULL AND closed_at IS NOT NULL AND closed_at <= due_at",
            "proactive": f"channel IN ({proactive})",
        }
        sums = ", ".join(f"SUM(CASE WHEN {flags[c]} THEN 1 ELSE 0 END) AS {c}" for c in COUNT_COLUMNS)
        month = self._local_month("received_at")
        df = self._query(f"SELECT {month} AS month, {sums} FROM tickets{clause} GROUP BY 1 ORDER BY 1", params)
        df["month"] = df["month"].astype("str")
        for c in COUNT_COLUMNS:
            df[c] = df[c].astype("int64")
        return df

    def problem_counts(self, where=None, by_channel=False):
        # The rule of minqing.analysis.top_problems.problem_counts at level 3 (the reference:
        # minqing.store.reference.problem_counts), in minqing.store.problemsql.
        sql, params = self._problem_rows(where, by_channel)
        df = self._query(f"{sql} ORDER BY {', '.join(str(i) for i in range(1, 6 if by_channel else 5))}", params)
        for c in ("month", "place_id", "grid_code", "category") + (("channel",) if by_channel else ()):
            df[c] = df[c].astype("str")
        for c in ("tickets", "problems"):
            df[c] = df[c].astype("int64")
        return df

    def top_problem_counts(self, where, month, level=2, n=10):
        # The statement of minqing.store.problemsql on this store's problem rows.
        month, level, n = problemsql.check_top(month, level, n)
        category = partial(problemsql.category_at_level_sql, level=level, dialect=SQLITE)
        now_sql, now_params = self._problem_rows(problemsql.month_where(where, month, self.timezone, self._epoch_param),
                                                 category=category)
        sql, params = self._problem_rows(where, category=category, only_top=True)
        statement = problemsql.top_problem_sql(now_sql, sql, n, SQLITE)
        return problemsql.top_frames(self._query(statement, [*now_params, *params]))

    def _problem_rows(self, where, by_channel: bool = True, category=None, only_top: bool = False):
        """Return ``(sql, params)`` of :func:`minqing.store.problemsql.ticket_problem_rows` of ``where``."""
        clause, params = self._where(where, alias="t")
        month = self._local_month("t.received_at")
        return problemsql.ticket_problem_rows(clause, month, by_channel, category, only_top), params
