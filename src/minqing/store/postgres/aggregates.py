"""The dashboard's aggregates in PostgreSQL: counts per unit, KPI numerators and denominators, problem counts.

Mixed into :class:`minqing.store.postgres.store.PostgresStore`. Each method states in SQL
the rule its pandas reference states in :mod:`minqing.store.reference`, as
:mod:`minqing.store.sqlite.aggregates` does for SQLite (the contract suite,
``tests/store/test_contract.py``, checks both backends against the reference); the
constants of the rules are imported from where the rules are defined. A ticket's month is
the city-local one: ``date_trunc('month', received_at AT TIME ZONE <the store's zone>)``.
"""

from __future__ import annotations

from functools import partial

import pandas as pd

from minqing.analysis.kpis import COUNT_COLUMNS, RESPONSE_HOURS
from minqing.store import problemsql
from minqing.store.checks import check_level
from minqing.store.convert import epoch_of
from minqing.store.postgres.rollups import (
    KPI_FLAGS,
    PROBLEM_CATEGORY,
    rollup_where,
    rollups_current,
    unit_rollup_serves,
)
from minqing.store.sqlfilter import POSTGRES, where_sql


def _typed(df: pd.DataFrame, keys, counts) -> pd.DataFrame:
    """Key columns in the contract's text dtype (``str``, missing NaN), counts int64, even when empty."""
    for c in keys:
        df[c] = df[c].astype("str")
    for c in counts:
        df[c] = df[c].astype("int64")
    return df


class AggregatesMixin:
    """Aggregate methods of the PostgreSQL store (``self._where`` turns a filter into SQL)."""

    def _rollup(self, where, tz: str | None = None):
        """Return the rollups' ``(" WHERE ...", params)`` for ``where``, or None to read the raw tickets; count which.

        ``tz``: the store's time zone when the caller has it (each look-up reads the store's meta).
        """
        tz = tz or self.timezone
        found = rollup_where(where, partial(epoch_of, tz=tz), tz)
        if found is not None:
            with self._read() as con:
                found = found if rollups_current(con) else None
        self.rollup_uses["raw" if found is None else "rollup"] += 1
        return found

    def count_tickets(self, level, where=None, by_channel=False):
        # The rule of minqing.store.reference.count_tickets: one row per (unit code, channel), NULL code included.
        check_level(level)
        keys = f"{level}_code, channel" if by_channel else f"{level}_code"
        rolled = self._rollup(where)
        table, measure = ("ticket_rollup", "SUM(tickets)::bigint") if rolled else ("tickets", "COUNT(*)")
        if rolled and not by_channel and unit_rollup_serves(where):
            table = "unit_rollup"
        clause, params = rolled or self._where(where)
        df = self._query(
            f"SELECT {level}_code AS code, {'channel, ' if by_channel else ''}{measure} AS tickets FROM {table}{clause} "
            f"GROUP BY {keys}",
            params,
        )
        return _typed(df, ("code", "channel") if by_channel else ("code",), ("tickets",))

    @staticmethod
    def _local_month(column: str) -> str:
        """SQL for the city-local month ("YYYY-MM") of the timestamptz ``column``; the zone is one parameter."""
        return f"to_char(date_trunc('month', {column} AT TIME ZONE %s), 'YYYY-MM')"

    def kpi_counts(self, where, as_of):
        # One flag per count column, the rules of minqing.analysis.kpis (the reference:
        # minqing.store.reference.kpi_counts); a ticket counts in the local month it was received.
        as_of_s = self._epoch_param(as_of)
        rolled = self._rollup(where)
        if rolled:
            return self._kpi_counts_rolled(where, rolled, as_of_s)
        clause, params = self._where(where)
        flags = {
            **KPI_FLAGS,
            "response_due": ("responded_at IS NOT NULL OR received_at <= to_timestamp(%s)",
                             [as_of_s - RESPONSE_HOURS * 3600]),
            "deadline_due": ("due_at IS NOT NULL AND (closed_at IS NOT NULL OR due_at < to_timestamp(%s))", [as_of_s]),
        }
        sums, select_params = [], [self.timezone]
        for c in COUNT_COLUMNS:
            if c == "tickets":
                sums.append("COUNT(*) AS tickets")
                continue
            cond, p = flags[c]
            sums.append(f"COUNT(*) FILTER (WHERE {cond}) AS {c}")
            select_params += p
        df = self._query(f"SELECT {self._local_month('received_at')} AS month, {', '.join(sums)} "
                         f"FROM tickets{clause} GROUP BY 1 ORDER BY 1", select_params + params)
        return _typed(df, ("month",), COUNT_COLUMNS)

    def _kpi_counts_rolled(self, where, rolled, as_of_s: int):
        """``kpi_counts`` from ``ticket_rollup``, the as_of-dependent denominators completed from the pending tickets.

        response_due = tickets - (not responded and received after as_of - 24 h);
        deadline_due = tickets with a due time - (open and due at or after as_of).
        """
        rclause, rparams = rolled
        clause, params = self._where(where)
        not_resp = "responded_at IS NULL AND received_at > to_timestamp(%s)"
        not_due = "closed_at IS NULL AND due_at IS NOT NULL AND due_at >= to_timestamp(%s)"
        since = as_of_s - RESPONSE_HOURS * 3600
        pending = f"{clause} AND" if clause else " WHERE"
        sums = ", ".join(f"SUM({c})::bigint AS {c}" for c in ("tickets", "with_due", *KPI_FLAGS))
        counts = ", ".join(
            "r.tickets - coalesce(c.not_resp, 0) AS response_due" if c == "response_due"
            else "r.with_due - coalesce(c.not_due, 0) AS deadline_due" if c == "deadline_due" else f"r.{c}"
            for c in COUNT_COLUMNS)
        df = self._query(
            f"WITH r AS (SELECT month, {sums} FROM ticket_rollup{rclause} GROUP BY month), "
            f"c AS (SELECT date_trunc('month', received_at AT TIME ZONE %s)::date AS month, "
            f"COUNT(*) FILTER (WHERE {not_resp}) AS not_resp, COUNT(*) FILTER (WHERE {not_due}) AS not_due "
            f"FROM tickets{pending} (({not_resp}) OR ({not_due})) GROUP BY 1) "
            f"SELECT to_char(r.month, 'YYYY-MM') AS month, {counts} FROM r LEFT JOIN c ON c.month = r.month ORDER BY 1",
            [*rparams, self.timezone, since, as_of_s, *params, since, as_of_s],
        )
        return _typed(df, ("month",), COUNT_COLUMNS)

    def problem_counts(self, where=None, by_channel=False):
        # The rule of minqing.analysis.top_problems.problem_counts at level 3 (the reference:
        # minqing.store.reference.problem_counts): a ticket counts at each of its places, else
        # at its grid, else nowhere; a repeat call (repeat_of set) is a ticket, not a problem.
        # From the rollups where they serve, else minqing.store.problemsql.ticket_problem_rows.
        keys = ("month", "place_id", "grid_code", "category") + (("channel",) if by_channel else ())
        tz = self.timezone
        sql, params = self._problem_rows(where, self._rollup(where, tz) is not None, tz, by_channel=by_channel)
        return _typed(self._query(sql, params), keys, ("tickets", "problems"))

    def top_problem_counts(self, where, month, level=2, n=10):
        # The statement of minqing.store.problemsql on this store's problem rows (the rollups' when they serve).
        month, level, n = problemsql.check_top(month, level, n)
        tz = self.timezone  # once: every look-up is a read
        rows = partial(self._problem_rows, rolled=self._rollup(where, tz) is not None, tz=tz, level=level)
        now_sql, now_params = rows(problemsql.month_where(where, month, tz, partial(epoch_of, tz=tz)), months=False)
        sql, params = rows(where, only_top=True)
        statement = problemsql.top_problem_sql(now_sql, sql, n, POSTGRES)
        return problemsql.top_frames(self._query(statement, [*now_params, *params]))

    def _problem_rows(self, where, rolled: bool, tz: str, by_channel: bool = True, level: int = 3,
                      only_top: bool = False, months: bool = True):
        """Return ``(sql, params)`` of the problem rows of ``where``: month, place_id, grid_code, category[, channel],
        tickets, problems.

        From ``problem_rollup`` when ``rolled`` (and it serves ``where``), else from the tickets; ``tz`` is
        the store's time zone. ``level`` is the category level of the rows (3: the full category);
        ``only_top`` keeps the places and grids of :data:`minqing.store.problemsql.TOP_PLACES` /
        ``TOP_GRIDS`` (from the rollup: the rows of their ids, which the statement's join with
        ``top_problems`` then narrows to the right kind); ``months`` False: all months in one row
        (``month`` NULL; from the rollup only), for a filter of one month.
        """
        chan = ", channel" if by_channel else ""
        epoch = partial(epoch_of, tz=tz)
        found = rollup_where(where, epoch, tz) if rolled else None
        if found is not None:
            clause, params = found
            if only_top:
                clause = _and(clause, "where_id IN (SELECT where_id FROM top_problems)")
            cat = PROBLEM_CATEGORY[level]
            month, by_month = ("to_char(month, 'YYYY-MM')", "month, ") if months else ("NULL::text", "")
            sql = (f"SELECT {month} AS month, CASE WHEN placed THEN where_id END AS place_id, "
                   f"CASE WHEN placed THEN NULL ELSE where_id END AS grid_code, {cat} AS category{chan}, "
                   f"SUM(tickets)::bigint AS tickets, SUM(problems)::bigint AS problems FROM problem_rollup{clause} "
                   f"GROUP BY {by_month}placed, where_id, {cat}{chan}")
            return sql, params
        clause, params = where_sql(where, POSTGRES, epoch, "t")
        month = self._local_month("t.received_at")
        category = None if level == 3 else partial(problemsql.category_at_level_sql, level=level, dialect=POSTGRES)
        return problemsql.ticket_problem_rows(clause, month, by_channel, category, only_top), [tz, *params]


def _and(clause: str, condition: str) -> str:
    """``clause`` (" WHERE ..." or "") with ``condition`` added."""
    return f"{clause} AND {condition}" if clause else f" WHERE {condition}"
