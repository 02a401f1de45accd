"""KPIs on tiny hand-made tickets (answers worked out by hand), then SQL = pandas on the demo."""

import pandas as pd
import pytest
from conftest import X0, Y0, make_tickets

from minqing.analysis.kpis import (
    COUNT_COLUMNS,
    KpiError,
    default_month,
    kpi_board,
    kpi_counts,
    month_key,
    shift_month,
)
from minqing.geo.link import apply_links, link_tickets
from minqing.store import TicketFilter, open_store, reference

TZ = "Asia/Shanghai"
AS_OF = "2025-04-01 12:00"
H = pd.Timedelta(hours=1)

# received, responded after (hours), due, closed, resolved, satisfaction, channel
ROWS = [
    # March 2025
    ("2025-03-01 10:00", 2, "2025-03-08", "2025-03-05", "solved", "satisfied", "hotline_12345"),  # T1
    ("2025-03-02 10:00", 30, "2025-03-09", "2025-03-12", "partly", "basically_satisfied", "hotline_12345"),  # T2 late
    ("2025-03-03 10:00", None, "2025-03-10", None, None, "unrated", "grid_patrol"),  # T3 open, overdue
    ("2025-03-04 10:00", 1, None, "2025-03-06", "not", "unsatisfied", "community_log"),  # T4 no due time
    ("2025-03-05 10:00", 5, "2025-03-07", "2025-03-07", "solved", None, "web"),  # T5 closed exactly at due
    ("2025-03-31 20:00", None, "2025-04-30", None, None, None, "hotline_12345"),  # T6 response not yet due
    # 2025-04-01 01:00 local is still 03-31 in UTC: it belongs to April
    ("2025-04-01 01:00", None, "2025-04-08", None, None, None, "hotline_12345"),  # T7
    # February 2025
    ("2025-02-10 10:00", 1, "2025-02-15", "2025-02-12", "solved", "satisfied", "hotline_12345"),
    ("2025-02-11 10:00", 1, "2025-02-15", "2025-02-20", "solved", "unsatisfied", "proactive"),
    # March 2024
    ("2024-03-10 10:00", 48, None, None, None, "unrated", "hotline_12345"),
]


def hand_tickets(points=None):
    n = len(ROWS)
    t = make_tickets(points or [(X0 + 0.005, Y0 + 0.005)] * n, [r[0] for r in ROWS])
    t["responded_at"] = [t["received_at"][i] + r[1] * H if r[1] is not None else pd.NaT for i, r in enumerate(ROWS)]
    t["responded_at"] = pd.to_datetime(t["responded_at"])
    for col, j in (("due_at", 2), ("closed_at", 3)):
        t[col] = pd.to_datetime([r[j] for r in ROWS]).tz_localize(TZ)
    t["resolved"] = [r[4] for r in ROWS]
    t["satisfaction"] = [r[5] for r in ROWS]
    t["channel"] = [r[6] for r in ROWS]
    t["status"] = ["open" if r[3] is None else "closed" for r in ROWS]
    return t


EXPECTED_MARCH = {
    "tickets": 6,
    "response_due": 5,  # T6 was received less than 24 h before AS_OF and not yet responded
    "responded_in_time": 3,  # T1, T4, T5 (T2 took 30 h)
    "followed_up": 4,
    "solved": 2,
    "partly": 1,
    "rated": 3,  # T3 unrated and T5/T6 missing are left out
    "satisfied": 2,
    "deadline_due": 4,  # T1, T2, T5 closed with a due time + T3 open past due; T4 has none, T6 not yet due
    "closed_on_time": 2,  # T1, T5 (closed exactly at the due time counts)
    "proactive": 2,  # grid_patrol, community_log
}


def test_kpi_counts_by_hand():
    c = kpi_counts(hand_tickets(), AS_OF).set_index("month")
    assert c.index.tolist() == ["2024-03", "2025-02", "2025-03", "2025-04"]
    assert c.loc["2025-03"].to_dict() == EXPECTED_MARCH
    assert c.loc["2025-04", "tickets"] == 1
    assert c.loc["2025-04", "response_due"] == 0  # received 11 h before AS_OF
    assert c.loc["2025-04", "deadline_due"] == 0  # open, due after AS_OF


def test_kpi_board_values_and_changes():
    b = kpi_board(kpi_counts(hand_tickets(), AS_OF), "2025-03")
    assert b.month == "2025-03" and b.tickets == 6
    assert [k.code for k in b.kpis] == ["response", "resolution", "satisfaction", "on_time", "proactive"]
    v = {k.code: k for k in b.kpis}
    assert v["response"].value == pytest.approx(3 / 5)
    assert (v["response"].numerator, v["response"].denominator) == (3, 5)
    assert v["resolution"].value == pytest.approx(2 / 4)
    assert v["resolution"].partly == pytest.approx(1 / 4)
    assert v["satisfaction"].value == pytest.approx(2 / 3)
    assert v["on_time"].value == pytest.approx(2 / 4)
    assert v["proactive"].value == pytest.approx(2 / 6)
    # February: response 2/2, resolution 2/2, satisfaction 1/2, on time 1/2, proactive 1/2
    assert v["response"].change_month == pytest.approx(0.6 - 1.0)
    assert v["resolution"].change_month == pytest.approx(0.5 - 1.0)
    assert v["satisfaction"].change_month == pytest.approx(2 / 3 - 0.5)
    assert v["on_time"].change_month == pytest.approx(0.0)
    assert v["proactive"].change_month == pytest.approx(1 / 3 - 0.5)
    # March 2024: one late response, nothing followed up, rated or due, not proactive
    assert v["response"].change_year == pytest.approx(0.6)
    assert v["resolution"].change_year is None
    assert v["satisfaction"].change_year is None
    assert v["on_time"].change_year is None
    assert v["proactive"].change_year == pytest.approx(1 / 3)
    assert v["response"].partly is None


def test_month_without_data_and_months_without_comparison():
    b = kpi_board(kpi_counts(hand_tickets(), AS_OF), "2025-06")
    assert b.tickets == 0
    assert all(k.value is None and k.change_month is None and k.change_year is None for k in b.kpis)
    feb = kpi_board(kpi_counts(hand_tickets(), AS_OF), "2025-02")
    assert all(k.change_month is None for k in feb.kpis)  # no January data


def test_inputs_are_checked():
    with pytest.raises(KpiError, match="responded_at"):
        kpi_counts(hand_tickets().drop(columns="responded_at"), AS_OF)
    with pytest.raises(KpiError, match="month"):
        month_key("not a month")
    empty = kpi_counts(hand_tickets().iloc[:0], AS_OF)
    assert list(empty.columns) == ["month", *COUNT_COLUMNS] and empty.empty


def test_month_helpers():
    # a time counts in its own zone: the store gives times in the city's zone
    assert month_key(pd.Timestamp("2025-03-31 17:00", tz="UTC").tz_convert(TZ)) == "2025-04"
    assert month_key(pd.Timestamp("2025-03-31 17:00", tz="UTC").tz_convert("America/Chicago")) == "2025-03"
    assert shift_month("2025-01", -1) == "2024-12"
    assert shift_month("2025-03", -12) == "2024-03"
    assert default_month(pd.Timestamp("2026-10-31 23:00", tz=TZ)) == "2026-10"
    assert default_month(pd.Timestamp("2026-11-24 09:00", tz=TZ)) == "2026-10"
    assert default_month(None) is None


def test_sqlite_kpi_counts_match_the_hand_counts(tmp_path, tiny_units, tiny_places):
    store = open_store(f"sqlite:///{tmp_path}/k.sqlite")
    store.write_units(tiny_units.drop(columns="unit_uid"))
    store.write_places(tiny_places)
    t = hand_tickets()
    store.write_tickets(*apply_links(t, link_tickets(t, store.read_units(), tiny_places)))
    c = store.kpi_counts(None, AS_OF).set_index("month")
    assert c.loc["2025-03"].to_dict() == EXPECTED_MARCH
    assert c["tickets"].to_dict() == {"2024-03": 1, "2025-02": 2, "2025-03": 6, "2025-04": 1}
    # scope by unit: all tickets are in G1
    assert store.kpi_counts(TicketFilter(unit_level="grid", unit_codes=("G2",)), AS_OF).empty
    store.close()


def test_sqlite_equals_pandas_on_the_demo(demo_store_url):
    with open_store(demo_store_url) as store:
        for where in (
            TicketFilter(start="2025-09-01", end="2026-01-01"),
            TicketFilter(start="2025-09-01", end="2025-11-01", unit_level="subdistrict", unit_codes=("310110016",),
                         categories=("04",)),
        ):
            sql = store.kpi_counts(where, "2025-10-20 08:00")
            pure = reference.kpi_counts(reference.ticket_frames(store, where)[0], "2025-10-20 08:00")
            assert len(sql) > 0 and sql["tickets"].sum() > 0
            pd.testing.assert_frame_equal(sql.reset_index(drop=True), pure.reset_index(drop=True))
