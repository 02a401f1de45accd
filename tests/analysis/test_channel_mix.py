"""Channel-aware counts: the citizen default, and the flag where one channel drives a unit's count."""

import pandas as pd
import pytest

from minqing.analysis.channel_mix import SURGE_RATIO, SURGE_SHARE, channel_surges, surge_label, surge_labels
from minqing.analysis.top_problems import label_problems, top_problems
from minqing.model import CHANNELS, CITIZEN_CHANNELS, PROACTIVE_CHANNELS, channels_for
from minqing.store import TicketFilter, open_store, reference


def c(rows):
    return pd.DataFrame(rows, columns=["code", "channel", "tickets"])


def test_citizen_default_and_choices():
    assert "hotline_12345" in CITIZEN_CHANNELS
    assert not set(CITIZEN_CHANNELS) & set(PROACTIVE_CHANNELS)  # the government's own findings are not complaints
    assert "qr_code" not in CITIZEN_CHANNELS and "other" not in CITIZEN_CHANNELS  # new / unknown: left out
    assert set(CITIZEN_CHANNELS) <= set(CHANNELS)
    assert channels_for("citizen") == CITIZEN_CHANNELS and channels_for("all") is None
    assert channels_for("qr_code") == ("qr_code",)
    with pytest.raises(ValueError, match="allowed"):
        channels_for("fax")


def test_surge_rule_by_hand():
    counts = c([
        ("A", "hotline_12345", 39), ("A", "qr_code", 61),   # QR shares .61 .02 0 0: median 1 %, 61 % >= 3 %
        ("B", "hotline_12345", 98), ("B", "qr_code", 2),
        ("C", "hotline_12345", 70), ("C", "app", 30),       # app shares 0 0 .30 .07: median 3.5 %, 30 % >= 10.5 %
        ("D", "hotline_12345", 93), ("D", "app", 7),        # 7 % is below the 20 % share
    ])
    s = channel_surges(counts).set_index("code")
    assert s.index.tolist() == ["A", "C"]
    assert s.loc["A", "channel"] == "qr_code" and s.loc["A", "share"] == pytest.approx(0.61)
    assert s.loc["A", "share_typical"] == pytest.approx(0.01)
    assert s.loc["C", "share_typical"] == pytest.approx(0.035)
    # the hotline's 98 % in B is not 3x the median unit's (.70 + .93) / 2 = 81.5 %
    assert "B" not in s.index
    assert surge_labels(counts)["A"] == "扫码上报 61 %"
    assert surge_labels(counts, lang="en")["A"] == "QR code 61 %"
    assert SURGE_SHARE == 0.20 and SURGE_RATIO == 3.0


def test_no_flag_below_the_share_or_without_others():
    # 19 % is below the 20 % share even if nobody else uses the channel
    assert channel_surges(c([("A", "qr_code", 19), ("A", "hotline_12345", 81), ("B", "hotline_12345", 100)])).empty
    # one unit is its own median; one channel chosen: every share is 100 %
    assert channel_surges(c([("A", "qr_code", 60), ("A", "hotline_12345", 40)])).empty
    assert channel_surges(c([("A", "qr_code", 60), ("B", "qr_code", 5)])).empty
    assert surge_label("fax", 0.5) == "fax 50 %"


def test_top_problems_flag_the_row_one_channel_drives():
    counts = pd.DataFrame([
        ("2025-03", "P1", None, "04.03", "qr_code", 30, 30), ("2025-03", "P1", None, "04.03", "hotline_12345", 20, 20),
        ("2025-03", "P2", None, "02.01", "hotline_12345", 40, 40), ("2025-03", "P3", None, "03.01", "hotline_12345", 10, 10),
    ], columns=["month", "place_id", "grid_code", "category", "channel", "tickets", "problems"])
    tab = top_problems(counts, "2025-03").table.set_index("where_id")
    assert tab.loc["P1", "tickets"] == 50  # channels summed for the rank
    assert tab.loc["P1", "channel_flag"] == "qr_code" and tab.loc["P1", "channel_share"] == pytest.approx(0.6)
    assert pd.isna(tab.loc["P2", "channel_flag"])
    labelled = label_problems(tab.reset_index(), pd.DataFrame(columns=["place_id", "name", "kind"]),
                              pd.DataFrame(columns=["code", "name"]), "zh")
    assert labelled.set_index("where_id").loc["P1", "channel_note"] == "扫码上报 60 %"


def _qr_subdistrict(url):
    import json
    from pathlib import Path

    from minqing.config import sqlite_path

    path = sqlite_path(url)
    return json.loads(Path(path).with_name(path.stem + "_truth.json").read_text(encoding="utf-8"))["stories"][
        "g_qr_code"]["subdistrict_code"]


def test_a_channel_that_floods_many_units_still_flags_each():
    # QR codes in 3 of 8 places, 50-60 % there: the pooled rest would hold 3 x 30 % = 90 % as the bar
    rows = [(p, "hotline_12345", 100) for p in "ABCDEFGH"] + [(p, "qr_code", n) for p, n in zip("ABC", (150, 120, 100))]
    s = channel_surges(c(rows))
    assert s["code"].tolist() == ["A", "B", "C"] and (s["share_typical"] == 0).all()


def test_demo_qr_subdistrict_flagged_with_all_channels_only(demo_store_url):
    sd = _qr_subdistrict(demo_store_url)
    month = TicketFilter(start="2026-10-01", end="2026-11-01")
    with open_store(demo_store_url) as store:
        every = store.count_tickets("subdistrict", month, by_channel=True)
        citizen = store.count_tickets("subdistrict", TicketFilter(start="2026-10-01", end="2026-11-01",
                                                                  channels=CITIZEN_CHANNELS), by_channel=True)
        # the channel filter is applied in SQL, and the split adds up to the plain counts
        plain = store.count_tickets("subdistrict", month).set_index("code")["tickets"]
    plain = plain[plain.index.notna()]
    assert every.groupby("code")["tickets"].sum().reindex(plain.index).tolist() == plain.tolist()
    assert set(citizen["channel"]) <= set(CITIZEN_CHANNELS)
    flags = channel_surges(every[every["code"].notna()]).set_index("code")
    assert flags.loc[sd, "channel"] == "qr_code" and flags.loc[sd, "share"] > 0.4
    assert channel_surges(citizen[citizen["code"].notna()]).empty


def test_sql_problem_counts_by_channel_equal_pandas(demo_store_url):
    where = TicketFilter(start="2026-08-01", end="2026-11-01", channels=("hotline_12345", "qr_code"))
    with open_store(demo_store_url) as store:
        sql = store.problem_counts(where, by_channel=True)
        pure = reference.problem_counts(*reference.ticket_frames(store, where), by_channel=True)
    keys = ["month", "place_id", "grid_code", "category", "channel"]
    a = sql.sort_values(keys).reset_index(drop=True)
    b = pure.sort_values(keys).reset_index(drop=True)
    assert len(a) > 100 and set(a["channel"]) == {"hotline_12345", "qr_code"}
    pd.testing.assert_frame_equal(a, b)


def test_demo_grid_hot_spots_of_citizen_channels_are_not_all_qr(demo_store_url):
    """All channels: the QR sub-district's grids are the hot spots; citizen channels: spread over the city."""

    from minqing.analysis.getis_ord import gi_star, queen_weights

    sd = _qr_subdistrict(demo_store_url)
    with open_store(demo_store_url) as store:
        grids = store.read_units("grid", at="2026-10-15").reset_index(drop=True)
        share = {}
        for name, ch in (("all", None), ("citizen", CITIZEN_CHANNELS)):
            n = store.count_tickets("grid", TicketFilter(start="2026-05-01", end="2026-11-01", channels=ch))
            y = grids["code"].map(n.set_index("code")["tickets"]).fillna(0).to_numpy(float)
            hot = gi_star(y, queen_weights(grids)).bins > 0
            in_sd = grids["code"].str.startswith(sd).to_numpy()
            share[name] = (hot & in_sd).sum() / max(hot.sum(), 1)
    assert share["all"] >= 0.75 and share["citizen"] < 0.4, share
