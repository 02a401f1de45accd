import pandas as pd
import pytest

from minqing.analysis.grid_brief import grid_brief

NOW = pd.Timestamp("2025-06-30 12:00", tz="Asia/Shanghai")


def tickets(rows):
    df = pd.DataFrame(rows, columns=["received_at", "closed_at", "due_at", "category", "address"])
    for c in ("received_at", "closed_at", "due_at"):
        df[c] = pd.to_datetime(df[c]).dt.tz_localize("Asia/Shanghai")
    df["status"] = df["closed_at"].isna().map({True: "open", False: "closed"})
    return df


def test_open_overdue_repeats_rising_expected():
    rows = [
        # open and overdue by 2.5 days; open, not yet due; closed
        ("2025-06-20 09:00", None, "2025-06-28 00:00", "03.01.01", "长白路1号"),
        ("2025-06-29 09:00", None, "2025-07-05 00:00", "03.01.01", "长白路1号"),
        ("2025-06-10 09:00", "2025-06-11 09:00", "2025-06-15 00:00", "03.01.01", "长白路1号"),
        ("2025-06-12 09:00", "2025-06-13 09:00", "2025-06-15 00:00", "04.01.01", "国和路2号"),
        # a future ticket is ignored
        ("2025-07-02 09:00", None, "2025-07-09 00:00", "04.01.01", "国和路2号"),
    ]
    b = grid_brief(tickets(rows), NOW)
    assert b.open["overdue"].tolist() == [True, False]
    assert b.open["days_overdue"].iloc[0] == pytest.approx(2.5)
    assert b.repeat_addresses["address"].tolist() == ["长白路1号"]
    assert b.repeat_addresses["tickets"].tolist() == [3]
    # 4 tickets in the last 90 days -> 4 * 30 / 90 per 30 days
    assert b.expected_next_30d == pytest.approx(4 / 3)
    lo, hi = b.expected_interval
    assert lo <= 4 / 3 <= hi


def test_rising_needs_a_real_rise():
    base = [("2025-0%d-15 09:00" % m, "2025-0%d-16 09:00" % m, "2025-0%d-20 00:00" % m, "04.01.01", "x") for m in (3, 4, 5)]
    flat = tickets(base + [("2025-06-15 09:00", "2025-06-16 09:00", "2025-06-20 00:00", "04.01.01", "x")])
    assert grid_brief(flat, NOW).rising.empty
    burst = [("2025-06-%02d 09:00" % d, "2025-06-%02d 10:00" % d, "2025-06-28 00:00", "04.01.01", "x") for d in range(10, 18)]
    b = grid_brief(tickets(base + burst), NOW)
    assert b.rising["category"].tolist() == ["04.01"]
    assert b.rising["recent"].tolist() == [8]
    assert b.rising["baseline_per_30d"].iloc[0] == pytest.approx(1.0)


def test_rising_counts_the_baseline_as_a_count_too():
    # 4 in the last 30 days after 3 in the 90 before: the old test (Poisson, baseline taken as a known mean
    # of 1) said rising, p = 0.019; both are counts: X ~ Binomial(7, 1/4), P(X >= 4) = 0.071 -> not rising
    base = [("2025-0%d-15 09:00" % m, "2025-0%d-16 09:00" % m, "2025-0%d-20 00:00" % m, "04.01.01", "x") for m in (3, 4, 5)]
    four = [("2025-06-%02d 09:00" % d, "2025-06-%02d 10:00" % d, "2025-06-28 00:00", "04.01.01", "x") for d in range(10, 14)]
    assert grid_brief(tickets(base + four), NOW).rising.empty
    # 3 after none at all: P(X = 3) = (1/4)^3 = 0.016 -> rising, ratio infinite
    r = grid_brief(tickets(four[:3]), NOW).rising
    assert r["category"].tolist() == ["04.01"] and r["p_value"].iloc[0] == pytest.approx(1 / 64)


def test_needs_aware_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        grid_brief(tickets([]), pd.Timestamp("2025-06-30"))


def test_nothing_rising_keeps_the_columns():
    one = tickets([("2025-06-15 09:00", None, "2025-06-20 00:00", "04.01.01", "x")])
    r = grid_brief(one, NOW).rising
    assert r.empty and list(r.columns) == ["category", "recent", "baseline_per_30d", "ratio", "p_value"]
