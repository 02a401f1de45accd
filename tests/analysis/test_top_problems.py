"""Top problems on hand-made counts and tickets, then SQL = pandas on the demo."""

import pandas as pd
import pytest

from minqing.analysis.kpis import KpiError
from minqing.analysis.top_problems import (
    label_problems,
    problem_counts,
    roll_up,
    top_problems,
)
from minqing.analysis.trends import change_p_value, rising, trend
from minqing.store import TicketFilter, open_store, reference

TZ = "Asia/Shanghai"


def counts(rows):
    return pd.DataFrame(rows, columns=["month", "place_id", "grid_code", "category", "tickets", "problems"])


COUNTS = counts(
    [
        ("2025-03", "H1", None, "02.01", 5, 4),
        ("2025-03", None, "G1", "04.01", 3, 3),
        ("2025-03", "R1", None, "03.01", 3, 3),
        ("2025-02", "H1", None, "02.01", 5, 5),
        ("2025-02", None, "G1", "04.01", 4, 4),
        ("2025-02", "P1", None, "04.02", 9, 9),  # nothing in March: not listed
        ("2025-01", "H1", None, "02.01", 2, 2),
        ("2024-12", "H1", None, "02.01", 2, 2),
        ("2024-11", "H1", None, "02.01", 50, 50),  # four months back: outside the 3-month mean
    ]
)


def test_trend_needs_a_count_test_not_only_ten_percent():
    # 4 after 7: 2 * P(X <= 4), X ~ Binomial(11, 1/2) = 2 * (1 + 11 + 55 + 165 + 330) / 2048 = 0.549
    assert change_p_value(4, 7) == pytest.approx(1124 / 2048)
    assert trend(4, 7) == "flat" and trend(7, 4) == "flat"  # the old 10 % rule said ↓ and ↑
    assert trend(12, 10) == "flat"  # +20 %, p = 0.83: noise
    # 45 after 20: p = 2 * P(X <= 20), X ~ Binomial(65, 1/2) = 0.0026
    assert change_p_value(45, 20) == pytest.approx(0.0026264, abs=1e-6)
    assert trend(45, 20) == "up" and trend(20, 45) == "down"
    # against three months (sum 30, exposure 3): 30 vs 10 a month, X ~ Binomial(60, 1/4)
    assert trend(30, 30, exposure=3) == "up"
    assert trend(12, 30, exposure=3) == "flat"  # 12 vs 10 a month
    assert trend(6, 0) == "up"  # 2 * (1/2)^6 = 0.031
    assert trend(5, 0) == "flat"  # 2 * (1/2)^5 = 0.0625
    assert trend(0, 0) == "flat"
    # significant but tiny: 2,100 after 2,000 is +5 %, below the 10 % minimum change
    assert change_p_value(2100, 2000) > 0.05 and trend(2300, 2000) == "up" and trend(10_500, 10_000) == "flat"
    assert rising([45, 7, 30], [20, 4, 30], [1, 1, 3]).tolist() == [True, False, True]
    with pytest.raises(ValueError):
        trend(3.3, 1)  # means are not counts: pass the sum of the reference months


def test_top_problems_by_hand():
    tp = top_problems(COUNTS, "2025-03")
    tab = tp.table
    assert tab["where_id"].tolist() == ["H1", "G1", "R1"]  # G1 and R1 tie on 3/3: by id
    assert tab["rank"].tolist() == [1, 2, 3]
    assert tab["where_type"].tolist() == ["place", "grid", "place"]
    assert tab["tickets"].tolist() == [5, 3, 3]
    assert tab["problems"].tolist() == [4, 3, 3]
    assert tab["last_month"].tolist() == [5, 4, 0]
    assert tab["avg_3m"].tolist() == pytest.approx([3.0, 4 / 3, 0.0])
    # 5 vs 5, 3 vs 4 and 3 vs 0 are noise for a count test (the old 10 % rule said →, ↓, ↑)
    assert tab["trend_month"].tolist() == ["flat", "flat", "flat"]
    # 5 vs 9 in 90 days and 3 vs 4 are noise (the old rule: ↑ ↑); 3 after none in 90 days is not:
    # X ~ Binomial(3, 31 / 121), P(X = 3) = 0.017
    assert tab["trend_3m"].tolist() == ["flat", "flat", "up"]
    assert tp.has_unplaced
    assert top_problems(COUNTS, "2025-03", n=1).table["where_id"].tolist() == ["H1"]
    assert not top_problems(COUNTS[COUNTS["grid_code"].isna()], "2025-03").has_unplaced
    assert top_problems(COUNTS, "2025-06").table.empty


def test_top_problems_arrows_by_the_count_test():
    c = counts([
        ("2025-03", "UP", None, "02.01", 45, 45), ("2025-02", "UP", None, "02.01", 20, 20),
        ("2025-01", "UP", None, "02.01", 20, 20), ("2024-12", "UP", None, "02.01", 20, 20),
        ("2025-03", "DN", None, "02.01", 20, 20), ("2025-02", "DN", None, "02.01", 45, 45),
        ("2025-03", "SM", None, "02.01", 7, 7), ("2025-02", "SM", None, "02.01", 4, 4),
    ])
    tab = top_problems(c, "2025-03").table.set_index("where_id")
    # March 31 days, February 28: 20 in February is 22.1 per 31 days; 45 vs that: p < 0.01
    assert tab.loc["UP", ["trend_month", "trend_3m"]].tolist() == ["up", "up"]
    assert tab.loc["DN", ["trend_month", "trend_3m"]].tolist() == ["down", "flat"]  # 20 vs 45 / 2.9 = 15.5 a month
    assert tab.loc["SM", ["trend_month", "trend_3m"]].tolist() == ["flat", "up"]  # 7 vs 0 and 0 before Feb
    assert tab.loc["UP", "avg_3m"] == pytest.approx(20.0)


def test_problem_counts_from_tickets():
    t = pd.DataFrame(
        {
            "source_id": ["A", "B", "C", "D", "E"],
            "received_at": pd.to_datetime(
                ["2025-03-01 09:00", "2025-03-01 10:00", "2025-03-02 09:00", "2025-03-03 09:00", "2025-04-01 01:00"]
            ).tz_localize(TZ),
            "grid_code": ["G1", "G1", "G1", "G3", "G1"],
            "category": ["02.01.01", "02.01.02", "04.01.01", "03.01.01", "02.01.01"],
            "repeat_of": pd.array([None, "A", None, None, None], dtype="str"),
        }
    )
    links = pd.DataFrame({"source_id": ["A", "B", "D", "D", "E"], "place_id": ["H1", "H1", "H1", "R1", "H1"]})
    c = problem_counts(t, links, level=2)
    got = {(r.month, r.place_id if isinstance(r.place_id, str) else None,
            r.grid_code if isinstance(r.grid_code, str) else None, r.category): (r.tickets, r.problems)
           for r in c.itertuples()}
    assert got == {
        ("2025-03", "H1", None, "02.01"): (2, 1),  # B repeats A: one problem
        ("2025-03", None, "G1", "04.01"): (1, 1),  # no place: grouped by grid
        ("2025-03", "H1", None, "03.01"): (1, 1),  # D is at two places: counted at both
        ("2025-03", "R1", None, "03.01"): (1, 1),
        ("2025-04", "H1", None, "02.01"): (1, 1),  # local time decides the month
    }
    assert roll_up(problem_counts(t, links, level=3), 1)["tickets"].sum() == 6
    with pytest.raises(KpiError):
        problem_counts(t.drop(columns="repeat_of"), links)
    with pytest.raises(KpiError):
        problem_counts(t, links, level=4)


def test_labels(tiny_places, tiny_units):
    tab = label_problems(top_problems(COUNTS, "2025-03").table, tiny_places, tiny_units[tiny_units.level == "grid"], "zh")
    assert tab["where_name"].tolist() == ["测试医院门口", "单元G1", "测试路段"]
    assert tab["where_kind"].tolist() == ["医院门口", "网格", "路段"]
    assert tab["category_name"].tolist()[0] == "交通管理 > 违法停车"
    assert tab["arrow_month"].tolist() == ["→", "→", "→"]
    en = label_problems(top_problems(COUNTS, "2025-03").table, tiny_places, tiny_units[tiny_units.level == "grid"], "en")
    assert en["where_kind"].tolist() == ["Hospital entrance", "Grid", "Road stretch"]


def test_sqlite_equals_pandas_on_the_demo(demo_store_url):
    where = TicketFilter(start="2025-06-01", end="2025-10-01")
    with open_store(demo_store_url) as store:
        sql = store.problem_counts(where)
        pure = reference.problem_counts(*reference.ticket_frames(store, where))
    keys = ["month", "place_id", "grid_code", "category"]
    a = sql.sort_values(keys).reset_index(drop=True)
    b = pure.sort_values(keys).reset_index(drop=True)
    assert len(a) > 100
    pd.testing.assert_frame_equal(a, b)
    # the demo's repeat calls make problems fewer than tickets
    assert a["problems"].sum() < a["tickets"].sum()
    top = top_problems(roll_up(sql, 2), "2025-09")
    assert len(top.table) == 10
    assert top.table["tickets"].is_monotonic_decreasing


def _truth(url):
    import json
    from pathlib import Path

    from minqing.config import sqlite_path

    path = sqlite_path(url)
    return json.loads(Path(path).with_name(path.stem + "_truth.json").read_text(encoding="utf-8"))["stories"]


def test_demo_stories_show_in_the_top_list(demo_store_url):
    stories = _truth(demo_store_url)
    trucks = stories["c_truck_parking"]["places"][0]["place_id"]
    spike = stories["f_regression_to_mean"]["places"][0]["place_id"]
    with open_store(demo_store_url) as store:
        def top(month, theme=None):
            start = str(pd.Period(month, "M") - 3) + "-01"
            end = str(pd.Period(month, "M") + 1) + "-01"
            w = TicketFilter(start=start, end=end, categories=(theme,) if theme else None)
            return top_problems(roll_up(store.problem_counts(w), 2), month).table

        # the road stretch with ~20 parked-truck orders a month is in the top 10 all year
        for month in ("2025-02", "2025-06", "2025-10"):
            t = top(month)
            assert ((t["where_id"] == trucks) & (t["category"] == "02.01")).any(), month
        # with the fumes theme, the compound with the one-off 3x month leads in that month, rising
        t = top(stories["f_regression_to_mean"]["dates"]["peak_month"], theme="01.03")
        assert t.iloc[0]["where_id"] == spike
        assert t.iloc[0]["trend_month"] == "up" and t.iloc[0]["trend_3m"] == "up"
        assert set(t["category"]) == {"01.03"}
        # and the month after it is no longer rising against the spike
        after = top("2025-04", theme="01.03")
        row = after[after["where_id"] == spike]
        assert row.empty or row.iloc[0]["trend_month"] == "down"
