"""The pieces of ``Store.top_problem_counts``' SQL (minqing.store.problemsql) that the contract suite does not reach.

A category code of any shape rolls up in SQL exactly as :func:`minqing.model.category_at_level`
does in Python (city codes are checked on import, but a store may hold anything), on both
dialects; a filter is narrowed to one month; an empty result keeps its types.
"""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from minqing.model import category_at_level
from minqing.store import TicketFilter
from minqing.store.convert import epoch_of
from minqing.store.problemsql import (
    ROW_KEYS,
    category_at_level_sql,
    month_where,
    top_frames,
)
from minqing.store.sqlfilter import POSTGRES, SQLITE

CODES = ["", ".", "..", "a", "a.", ".a", "a..b", "02", "02.01", "02.01.03", "98.01.01.07", "市政.道路.井盖.x", "a.b.c."]


def _expected() -> list:
    return [category_at_level(c, level) for c in CODES for level in (1, 2, 3)]


def test_category_levels_in_sqlite():
    con = sqlite3.connect(":memory:")
    got = [con.execute(f"SELECT {category_at_level_sql('c', level, SQLITE)} FROM (SELECT ? AS c)", (c,)).fetchone()[0]
           for c in CODES for level in (1, 2, 3)]
    assert got == _expected()


def test_category_levels_in_postgresql(pg_url):
    import psycopg

    with psycopg.connect(pg_url) as con:
        got = [con.execute(f"SELECT {category_at_level_sql('c', level, POSTGRES)} FROM (SELECT %s::text AS c) x",
                           (c,)).fetchone()[0] for c in CODES for level in (1, 2, 3)]
    assert got == _expected()


@pytest.mark.parametrize("start, end, want", [
    (None, None, ("2025-03-01", "2025-04-01")),
    ("2024-12-01", "2025-04-01", ("2025-03-01", "2025-04-01")),  # the meeting view's four months
    ("2025-03-10", "2025-03-20 12:00", ("2025-03-10", "2025-03-20 12:00")),  # narrower bounds are kept
    ("2025-05-01", None, ("2025-05-01", "2025-04-01")),  # no overlap: nothing (start after end)
])
def test_a_filter_is_narrowed_to_the_month(start, end, want):
    tz = "Asia/Shanghai"
    where = TicketFilter(start=start, end=end, channels=("web",))
    got = month_where(where, "2025-03", tz, lambda v: epoch_of(v, tz))
    assert got.channels == ("web",)
    assert (epoch_of(got.start, tz), epoch_of(got.end, tz)) == tuple(epoch_of(w, tz) for w in want)


def test_an_empty_result_keeps_the_types():
    rows, typical = top_frames(pd.DataFrame(columns=["part", *ROW_KEYS, "tickets", "problems", "share_typical"]))
    assert rows.empty and list(rows.columns) == [*ROW_KEYS, "tickets", "problems"]
    assert [str(t) for t in rows.dtypes] == ["str"] * 5 + ["int64"] * 2
    assert [str(t) for t in typical.dtypes] == ["str", "float64"]
