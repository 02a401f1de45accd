"""The meeting view's top 10 reads ``Store.top_problem_counts``: the same table as every problem row ranked in pandas.

Before, ``ui/cache/meeting.top`` read ``problem_counts`` of four months by channel (every
month x place or grid x category x channel: tens of thousands of rows for a district) and
ranked them in pandas; now the store ranks them and returns the top rows and the month's
typical channel shares. The tables must be identical (ranks, ties, trends, channel flags and
labels) for every scope, category level and month, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pandas as pd
import pytest

from minqing.analysis.kpis import month_bounds, shift_month
from minqing.analysis.top_problems import label_problems, roll_up, top_problems
from minqing.auth import User
from minqing.model import CITIZEN_CHANNELS
from minqing.store import open_store
from minqing.ui.cache import meeting
from minqing.ui.cache.data import places, units


def old_top(url, version, user, scope, month, level, lang):
    """``meeting.top`` as it was: ``problem_counts`` of four months by channel, rolled up and ranked in pandas."""
    store = open_store(url)
    start, _ = month_bounds(shift_month(month, -3), store.timezone)
    _, end = month_bounds(month, store.timezone)
    counts = roll_up(store.problem_counts(scope.where(user, start, end), by_channel=True), level)
    result = top_problems(counts, month)
    grids = units(url, version, "grid", None)
    labelled = label_problems(result.table, places(url, version), grids.drop_duplicates("code", keep="last"), lang)
    store.close()
    return result.month, labelled, result.has_unplaced, top_problems(counts, month, n=11).table


def scopes(store) -> dict:
    """The meeting view's scopes: the district, a sub-district with a theme, a grid leader, every channel."""
    grids = store.count_tickets("grid").dropna().sort_values("tickets")["code"]
    sd = store.count_tickets("subdistrict").dropna().sort_values("tickets")["code"].iloc[-1]
    planner, leader = User("planner", name="p"), User("grid_leader", grid_codes=tuple(grids.iloc[-3:]), name="g")
    return {
        "district": (planner, meeting.Scope()),
        "sub-district": (planner, meeting.Scope("subdistrict", (sd,))),
        "theme 04": (planner, meeting.Scope(theme="04")),
        "every channel": (planner, meeting.Scope(channels=None)),
        "grid leader": (leader, meeting.Scope("grid", leader.grid_codes, None, CITIZEN_CHANNELS)),
    }


def compare(url, months, levels) -> dict:
    """Compare the new and the old top 10 for every scope, month and level; return what the cases exercised."""
    meeting.top.clear()
    store = open_store(url)
    version = store.data_version()
    seen = {"cases": 0, "ties at the cut": 0, "flagged rows": 0, "grid rows": 0, "empty": 0}
    for name, (user, scope) in scopes(store).items():
        for month in months:
            for level in levels:
                new = meeting.top(url, version, user, scope, month, level, "zh")
                month_, table, has_unplaced, eleven = old_top(url, version, user, scope, month, level, "zh")
                where = f"{name}, {month}, level {level}"
                assert (new.month, new.has_unplaced) == (month_, has_unplaced), where
                if new.table.empty and table.empty:  # no ticket that month: an empty column's dtype is no data
                    assert list(new.table.columns) == list(table.columns), where
                else:
                    pd.testing.assert_frame_equal(new.table, table, check_exact=True, obj=where)
                seen["empty"] += table.empty
                seen["cases"] += 1
                cut = eleven[["tickets", "problems"]].iloc[9:11].values.tolist()
                seen["ties at the cut"] += len(cut) == 2 and cut[0] == cut[1]
                seen["flagged rows"] += int(table["channel_flag"].notna().sum())
                seen["grid rows"] += int((table["where_type"] == "grid").sum())
    store.close()
    return seen


def _months(url) -> list[str]:
    with open_store(url) as store:
        last = store.received_range()[1].tz_localize(None).to_period("M")
    return [str(last - k) for k in range(0, 24, 3)] + [str(last + 1)]  # two years; the last one has no ticket


def test_top_equals_the_old_path_on_the_demo_store(demo_store_url):
    seen = compare(demo_store_url, _months(demo_store_url), (1, 2, 3))
    assert seen["cases"] == 5 * 9 * 3 and seen["empty"] == 5 * 3
    # the cases exercise what could differ: ties at the 10th row, channel flags, grids' rows
    assert seen["ties at the cut"] >= 10 and seen["flagged rows"] > 0 and seen["grid rows"] > 0


def test_top_equals_the_old_path_on_postgresql(demo_store_url, pg_fresh_url):
    from minqing.store.copy import copy_store

    with open_store(demo_store_url) as src, open_store(pg_fresh_url) as dst:
        copy_store(src, dst)
        dst.rollup_uses.clear()
    seen = compare(pg_fresh_url, _months(demo_store_url)[::2], (1, 2))
    assert seen["ties at the cut"] > 0 and seen["flagged rows"] > 0
    with open_store(pg_fresh_url) as pg:
        start, end = month_bounds("2025-06", pg.timezone)
        pg.top_problem_counts(meeting.Scope().where(User("planner"), start, end), "2025-06")
        assert pg.rollup_uses == {"rollup": 1}  # served by the rollups, as the old path was


@pytest.mark.parametrize("level", [1, 2, 3])
def test_the_store_returns_a_few_rows_instead_of_every_row(demo_store_url, level):
    with open_store(demo_store_url) as store:
        month = _months(demo_store_url)[1]
        start, _ = month_bounds(shift_month(month, -3), store.timezone)
        _, end = month_bounds(month, store.timezone)
        where = meeting.Scope().where(User("planner"), start, end)
        rows, typical = store.top_problem_counts(where, month, level)
        every = store.problem_counts(where, by_channel=True)
    keys = set(zip(rows["place_id"].fillna(rows["grid_code"]), rows["category"]))
    assert len(keys) == 10 and len(rows) < len(every) / 10
    assert set(typical["channel"]) <= set(CITIZEN_CHANNELS)
