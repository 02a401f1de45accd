"""The dashboard's aggregates in PostgreSQL: counts per unit, KPI numerators and denominators, problem counts.

Mixed into :class:`minqing.store.postgres.store.PostgresStore`. Each method states in SQL
the rule its pandas reference states in :mod:`minqing.store.reference`, as
:mod:`minqing.store.sqlite.aggregates` does for SQLite (the contract suite,
``tests/store/test_contract.py``, checks both backends against the reference); the
constants of the rules are imported from where the rules are defined. A ticket's month is
the city-local one: ``date_trunc('month', received_at AT TIME ZONE <the store's zone>)``.
"""

from __future__ import annotations

import pandas as pd

from minqing.analysis.kpis import COUNT_COLUMNS, RESPONSE_HOURS
from minqing.model import FOLLOWED_UP, PROACTIVE_CHANNELS, RATED, SATISFIED
from minqing.store.checks import check_level


def _typed(df: pd.DataFrame, keys, counts) -> pd.DataFrame:
    """Key columns in the contract's text dtype (``str``, missing NaN), counts int64, even when empty."""
    for c in keys:
        df[c] = df[c].astype("str")
    for c in counts:
        df[c] = df[c].astype("int64")
    return df


class AggregatesMixin:
    """Aggregate methods of the PostgreSQL store (``self._where`` turns a filter into SQL)."""

    def count_tickets(self, level, where=None, by_channel=False):
        # The rule of minqing.store.reference.count_tickets: one row per (unit code, channel), NULL code included.
        check_level(level)
        clause, params = self._where(where)
        keys = f"{level}_code, channel" if by_channel else f"{level}_code"
        df = self._query(
            f"SELECT {level}_code AS code, {'channel, ' if by_channel else ''}COUNT(*) AS tickets FROM tickets{clause} "
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
        clause, params = self._where(where)
        as_of_s = self._epoch_param(as_of)
        std = RESPONSE_HOURS * 3600
        flags = {
            "response_due": ("responded_at IS NOT NULL OR received_at <= to_timestamp(%s)", [as_of_s - std]),
            "responded_in_time": ("responded_at IS NOT NULL AND responded_at <= received_at + %s * interval '1 second'",
                                  [std]),
            "followed_up": ("resolved = ANY(%s)", [list(FOLLOWED_UP)]),
            "solved": ("resolved = 'solved'", []),
            "partly": ("resolved = 'partly'", []),
            "rated": ("satisfaction = ANY(%s)", [list(RATED)]),
            "satisfied": ("satisfaction = ANY(%s)", [list(SATISFIED)]),
            "deadline_due": ("due_at IS NOT NULL AND (closed_at IS NOT NULL OR due_at < to_timestamp(%s))", [as_of_s]),
            "closed_on_time": ("due_at IS NOT NULL AND closed_at IS NOT NULL AND closed_at <= due_at", []),
            "proactive": ("channel = ANY(%s)", [list(PROACTIVE_CHANNELS)]),
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

    def problem_counts(self, where=None, by_channel=False):
        # The rule of minqing.analysis.top_problems.problem_counts at level 3 (the reference:
        # minqing.store.reference.problem_counts): a ticket counts at each of its places, else
        # at its grid, else nowhere; a repeat call (repeat_of set) is a ticket, not a problem.
        clause, params = self._where(where, alias="t")
        chan, keys = (", t.channel AS channel", "1, 2, 3, 4, 5") if by_channel else ("", "1, 2, 3, 4")
        df = self._query(
            f"SELECT * FROM (SELECT {self._local_month('t.received_at')} AS month, tp.place_id AS place_id, "
            f"CASE WHEN tp.place_id IS NULL THEN t.grid_code END AS grid_code, t.category AS category{chan}, "
            "COUNT(*) AS tickets, COUNT(*) FILTER (WHERE t.repeat_of IS NULL) AS problems "
            f"FROM tickets t LEFT JOIN ticket_places tp ON tp.source_id = t.source_id{clause} "
            f"GROUP BY {keys}) g WHERE place_id IS NOT NULL OR grid_code IS NOT NULL",
            [self.timezone, *params],
        )
        keys = ("month", "place_id", "grid_code", "category") + (("channel",) if by_channel else ())
        return _typed(df, keys, ("tickets", "problems"))
