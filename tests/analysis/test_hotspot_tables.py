"""Counts, problem counts, place ranking, class of cases and forecast on tiny hand-made data."""

import h3
import numpy as np
import pandas as pd
import pytest

from minqing.analysis.aggregate import AggregateError, count_tickets, problem_flags
from minqing.analysis.class_of_cases import class_of_cases
from minqing.analysis.forecast import forecast_counts, to_matrix
from minqing.analysis.place_rank import rank_places

C10 = h3.str_to_int(h3.latlng_to_cell(31.285, 121.505, 10))
C10B = h3.str_to_int(h3.latlng_to_cell(31.295, 121.515, 10))


def _tickets():
    # T0..T2 at place P (T1 13 h after T0: repeat; T2 4 days later: new problem);
    # T3 same cell, no place, other category; T4 cell B, qr_code; T5 unlocated.
    rows = [
        ("T0", "2025-01-01 08:00", "03.01.01", C10, "hotline_12345", "unsatisfied", "G1"),
        ("T1", "2025-01-01 21:00", "03.01.01", C10, "app", "satisfied", "G1"),
        ("T2", "2025-01-05 09:00", "03.01.01", C10, "hotline_12345", "unrated", "G1"),
        ("T3", "2025-01-05 10:00", "04.01.01", C10, "hotline_12345", "satisfied", "G1"),
        ("T4", "2025-02-03 10:00", "04.01.01", C10B, "qr_code", "unrated", "G2"),
        ("T5", "2025-02-03 11:00", "04.01.01", None, "hotline_12345", "unrated", None),
    ]
    df = pd.DataFrame(rows, columns=["source_id", "received_at", "category", "h3_cell", "channel", "satisfaction",
                                     "grid_code"], dtype=object)
    df["received_at"] = pd.to_datetime(df["received_at"]).dt.tz_localize("Asia/Shanghai")
    df["h3_cell"] = pd.array([r[3] for r in rows], dtype="Int64")  # no float round trip
    return df


LINKS = pd.DataFrame({"source_id": ["T0", "T1", "T2"], "place_id": ["P", "P", "P"]})


def test_problem_flags_by_hand():
    assert problem_flags(_tickets(), LINKS).tolist() == [True, False, True, True, True, True]
    # a 100 h window joins T2 to the chain as well
    assert problem_flags(_tickets(), LINKS, window_hours=100).tolist() == [True, False, False, True, True, True]
    with pytest.raises(AggregateError):
        problem_flags(_tickets(), LINKS, window_hours=0)


def test_counts_by_cell_month_channel():
    c = count_tickets(_tickets(), ("cell",), res=9, freq="month", links=LINKS, split_by_channel=True).table
    parent = h3.str_to_int(h3.cell_to_parent(h3.int_to_str(C10), 9))
    jan = c[(c["cell"] == parent) & (c["period"] == "2025-01-01")]
    assert dict(zip(jan["channel"], jan["tickets"])) == {"app": 1, "hotline_12345": 3}
    assert dict(zip(jan["channel"], jan["problems"])) == {"app": 0, "hotline_12345": 3}
    assert c["tickets"].sum() == 5  # the unlocated ticket has no cell


def test_counts_by_place_level_category_and_rate():
    t = _tickets()
    assert count_tickets(t, "place", links=LINKS).table[["place", "tickets", "problems"]].values.tolist() == [
        ["P", 3, 2]]
    g = count_tickets(t, ("grid", "category"), category_level=1,
                      population=pd.DataFrame({"code": ["G1", "G2"], "population": [2000, 0]})).table
    row = g[(g["grid"] == "G1") & (g["category"] == "03")].iloc[0]
    assert row["tickets"] == 3 and row["rate"] == pytest.approx(1.5)
    assert np.isnan(g[g["grid"] == "G2"]["rate"]).all()
    with pytest.raises(AggregateError):
        count_tickets(t, ("nope",))
    with pytest.raises(AggregateError):
        count_tickets(t, "place")


def test_rank_places_shows_unranked():
    places = pd.DataFrame({"place_id": ["P", "Q"]})
    r = rank_places(_tickets(), LINKS, places, min_tickets=2)
    tab = r.table.set_index("place_id")
    assert tab.loc["P", "rank"] == 1 and tab.loc["P", "tickets"] == 3
    assert tab.loc["P", "repeat_share"] == pytest.approx(1 / 3)
    assert tab.loc["P", "unsatisfied_share"] == pytest.approx(0.5)  # 1 of 2 rated
    assert np.isnan(tab.loc["Q", "rank"]) and tab.loc["Q", "unranked_reason"] == "hotspots.unranked_few"
    r2 = rank_places(_tickets(), LINKS, places, min_tickets=4)
    assert r2.table["rank"].isna().all() and len(r2.table) == 2


def test_class_of_cases_lists_places_and_cells():
    cc = class_of_cases(_tickets(), LINKS, "03.01", min_tickets=2)
    assert cc.table[["where_type", "where_id", "tickets"]].values.tolist() == [["place", "P", 3]]
    assert str(cc.table.loc[0, "first"])[:10] == "2025-01-01" and str(cc.table.loc[0, "last"])[:10] == "2025-01-05"
    cc2 = class_of_cases(_tickets(), LINKS, "04", min_tickets=1, res=10)
    assert sorted(cc2.table["where_id"].tolist()) == sorted([C10, C10B])


def test_forecast_flat_and_rising_series():
    months = [str(p) for p in pd.period_range("2024-01", "2025-12", freq="M")]
    rng = np.random.default_rng(1)
    flat = rng.poisson(20, 24).astype(float)
    rising = np.r_[rng.poisson(5, 21), [30, 35, 40]].astype(float)
    zero = np.zeros(24)
    f = forecast_counts(np.vstack([flat, rising, zero]), ["flat", "rising", "zero"], months)
    tab = f.table.set_index("id")
    assert f.month == "2026-01"
    assert tab.loc["rising", "rising"] and not tab.loc["flat", "rising"] and not tab.loc["zero", "rising"]
    assert 14 < tab.loc["flat", "expected"] < 26
    assert (tab["lower"] <= tab["expected"]).all() and (tab["expected"] <= tab["upper"]).all()
    assert tab.loc["zero", "expected"] == 0
    assert list(f.backtest["month"]) == ["2025-10", "2025-11", "2025-12"]
    assert np.isfinite(f.skill) and 0 <= f.coverage <= 1


def test_to_matrix_fills_missing_months():
    t = pd.DataFrame({"place": ["A", "A", "B"], "period": ["2025-01-01", "2025-03-01", "2025-02-01"],
                      "tickets": [1, 2, 3]})
    ids, m = to_matrix(t, "place", ["2025-01", "2025-02", "2025-03"])
    assert ids.tolist() == ["A", "B"] and m.tolist() == [[1, 0, 2], [0, 3, 0]]


def test_forecast_uses_seasonality_only_when_it_pays_on_held_out_months():
    months = [str(p) for p in pd.period_range("2023-01", "2025-12", freq="M")]
    moy = np.array([int(m[5:7]) for m in months])
    rng = np.random.default_rng(3)
    season = 1 + 0.8 * np.cos(2 * np.pi * (moy - 1) / 12)  # winter peak, summer trough
    seasonal = rng.poisson(30 * season[None, :].repeat(40, axis=0)).astype(float)
    f = forecast_counts(seasonal, [f"s{i}" for i in range(40)], months)
    assert f.seasonal and f.skill > 0.2
    # level shifts (an intervention halving some series mid-way) are not seasons
    shifted = rng.poisson(np.where(np.arange(36) < 20, 30.0, 10.0)[None, :].repeat(40, axis=0)).astype(float)
    g = forecast_counts(shifted, [f"x{i}" for i in range(40)], months)
    assert not g.seasonal
