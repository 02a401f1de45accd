"""The planted demo stories: hot spots in the top Gi* bin, the QR-code rise on its channel, streetlights."""

import json

import numpy as np
import pytest

from minqing.analysis.aggregate import count_tickets
from minqing.analysis.class_of_cases import class_of_cases
from minqing.analysis.getis_ord import gi_star, h3_weights
from minqing.geo.h3cells import cells_to_parent
from minqing.store import open_store


@pytest.fixture(scope="module")
def demo(demo_store_url):
    with open_store(demo_store_url) as store:
        tickets = store.read_tickets()
        links = store.read_ticket_places()
        truth = json.loads(open(store.get_meta("demo_truth"), encoding="utf-8").read())
    return tickets, links, truth["stories"]


def _gi_at_res9(tickets, category=None, start=None, end=None):
    cells_all = np.unique(cells_to_parent(tickets["h3_cell"].dropna().astype("int64").to_numpy(), 9))
    t = tickets
    if start:
        t = t[(t["received_at"] >= start) & (t["received_at"] < end)]
    if category:
        t = t[t["category"].str.startswith(category)]
    c = count_tickets(t, "cell", res=9).table.set_index("cell")["tickets"]
    y = c.reindex(cells_all, fill_value=0).to_numpy(dtype=float)
    return cells_all, gi_star(y, h3_weights(cells_all), cells_all)


@pytest.mark.parametrize("story, category, start, end", [
    ("a_hospital_entrance", None, "2024-11-01", "2025-04-20"),
    ("c_truck_parking", "02.01.03", "2024-11-01", "2026-11-01"),
])
def test_planted_hotspot_in_top_bin(demo, story, category, start, end):
    tickets, links, stories = demo
    place = stories[story]["places"][0]["place_id"]
    ids = links.loc[links["place_id"] == place, "source_id"]
    at = tickets[tickets["source_id"].isin(ids)]
    cells = cells_to_parent(at["h3_cell"].dropna().astype("int64").to_numpy(), 9)
    t0, t1 = (np.datetime64(x) for x in (start, end))
    import pandas as pd

    cells_all, g = _gi_at_res9(tickets, category, pd.Timestamp(start, tz="Asia/Shanghai"),
                               pd.Timestamp(end, tz="Asia/Shanghai"))
    assert g.reason is None
    story_bins = g.bins[np.isin(cells_all, np.unique(cells))]
    assert story_bins.max() == 3, (t0, t1)


def test_qr_rise_is_on_the_qr_channel(demo):
    tickets, _, stories = demo
    sd = stories["g_qr_code"]["subdistrict_code"]
    t = tickets[tickets["subdistrict_code"] == sd]
    c = count_tickets(t, ("subdistrict",), freq="month", split_by_channel=True).table
    c["after"] = c["period"] >= "2025-10-01"
    c = c[(c["period"] >= "2025-01-01") & (c["period"] < "2026-07-01")]  # the same number of months either side
    qr = c[c["channel"] == "qr_code"].groupby("after")["tickets"].sum()
    other = c[c["channel"] != "qr_code"].groupby("after")["tickets"].sum()
    months = c.groupby("after")["period"].nunique()
    assert qr.get(False, 0) == 0 and qr[True] > 0.5 * other[True]
    per_month = other / months
    assert abs(per_month[True] / per_month[False] - 1) < 0.25  # non-QR counts flat


def test_class_of_cases_lists_streetlight_stretches(demo):
    tickets, links, stories = demo
    planted = {p["place_id"] for p in stories["d_streetlights"]["places"]}
    cc = class_of_cases(tickets, links, "03.01.01", min_tickets=3)
    listed = set(cc.table.loc[cc.table["where_type"] == "place", "where_id"])
    assert planted <= listed
    top = cc.table.head(len(planted))
    assert set(top["where_id"]) <= planted | set(cc.table["where_id"])  # listed with counts
    assert (cc.table["first"] <= cc.table["last"]).all()
