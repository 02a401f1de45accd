"""The storage contract, run on every backend: types and missing values of every read, aggregates = the pandas reference.

A backend joins by adding its name to :data:`BACKENDS` and a URL to :func:`backend_url`;
the ``backend`` fixture opens an empty store from that URL, and every test here runs on it.
The tiny city is the one of ``tests/conftest.py`` (a district, a sub-district, two
communities, grids G1-G4 with G4 split into G4A / G4B on 2025-07-01, places H1, R1, P1)
with the 20 tickets of :data:`TICKETS`, whose counts are worked out by hand below.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import X0, Y0, make_tickets

from minqing.analysis.kpis import KpiError
from minqing.geo.link import apply_links, link_tickets
from minqing.model import UNIT_LEVELS
from minqing.store import TicketFilter, open_store, reference
from minqing.store.base import Store
from minqing.store.contract import CONTRACT, violations

BACKENDS = ["sqlite", "postgres"]
"""The backends the contract runs on."""


def backend_url(name: str, request, tmp_path) -> str:
    """The URL of an empty store of backend ``name`` (PostgreSQL: a fresh PostGIS database, or a loud skip)."""
    if name == "sqlite":
        return f"sqlite:///{tmp_path / 'contract.sqlite'}"
    if name == "postgres":
        return request.getfixturevalue("pg_fresh_url")
    raise ValueError(f"no test URL for backend {name!r}")


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    """An empty store of each backend, opened from its URL."""
    store = open_store(backend_url(request.param, request, tmp_path))
    yield store
    store.close()


# Where a ticket is: its point, and (worked out from the conftest geometry) its grid before /
# after the 2025-07-01 split and its place.
SPOTS = {
    "H1": (X0 + 0.005, Y0 + 0.005),  # G1, at the hospital entrance H1 (80 m radius)
    "R1": (X0 + 0.015, Y0 + 0.005),  # G3, on the road stretch R1 (25 m buffer)
    "P1": (X0 + 0.003, Y0 + 0.013),  # G2, inside the compound P1
    "g1": (X0 + 0.009, Y0 + 0.001),  # G1, no place (H1 is ~580 m away)
    "g4": (X0 + 0.012, Y0 + 0.015),  # G4, from 2025-07-01 G4A; no place
    "g4b": (X0 + 0.018, Y0 + 0.018),  # G4, from 2025-07-01 G4B; no place
    "none": (np.nan, np.nan),  # unlocated: no unit, no cell, no place
}
AS_OF = "2025-08-31 12:00"
# id, spot, received (local), responded after (hours), due, closed, resolved, satisfaction, channel, category, repeat_of
TICKETS = [
    # March 2025: nine tickets
    ("T01", "H1", "2025-03-01 10:00", 2, "2025-03-08", "2025-03-05", "solved", "satisfied", "hotline_12345", "02.01.01", None),
    ("T02", "H1", "2025-03-02 10:00", 30, "2025-03-09", "2025-03-12", "partly", "basically_satisfied", "hotline_12345", "02.01.01", "T01"),
    ("T03", "R1", "2025-03-03 10:00", None, "2025-03-10", None, None, "unrated", "grid_patrol", "02.01.02", None),
    ("T04", "g1", "2025-03-04 10:00", 1, None, "2025-03-06", "not", "unsatisfied", "community_log", "04.01.01", None),
    ("T05", "P1", "2025-03-05 10:00", 5, "2025-03-07", "2025-03-07", "solved", None, "web", "04.01.01", None),
    ("T06", "none", "2025-03-20 10:00", 24, "2025-03-27", "2025-03-26", "solved", "satisfied", "app", "03.01.01", None),
    ("T07", "g4", "2025-03-31 20:00", None, None, None, None, None, "hotline_12345", "02.01.01", None),
    ("T08", "H1", "2025-03-15 09:00", 3, "2025-03-20", "2025-03-25", "solved", "unsatisfied", "hotline_12345", "02.01.01", "T01"),
    ("T20", "H1", "2025-03-25 10:00", 2, "2025-03-28", "2025-03-27", "solved", "satisfied", "hotline_12345", "02.01.02", None),
    # April 2025 (T09: 2025-04-01 01:00 local is still March 31 in UTC)
    ("T09", "H1", "2025-04-01 01:00", 1, "2025-04-08", "2025-04-03", "solved", "satisfied", "hotline_12345", "02.01.01", None),
    ("T10", "R1", "2025-04-10 10:00", 2, "2025-04-15", "2025-04-14", "solved", "satisfied", "proactive", "02.01.02", None),
    ("T11", "g4b", "2025-04-11 10:00", None, "2025-04-20", None, None, None, "qr_code", "04.01.01", None),
    ("T12", "P1", "2025-04-20 10:00", 4, "2025-04-25", "2025-04-24", "partly", "basically_satisfied", "hotline_12345", "04.01.01", None),
    # February 2025 and March 2024
    ("T13", "g1", "2025-02-10 10:00", 1, "2025-02-15", "2025-02-12", "solved", "satisfied", "hotline_12345", "02.01.01", None),
    ("T14", "R1", "2025-02-11 10:00", 1, "2025-02-15", "2025-02-20", "solved", "unsatisfied", "grid_patrol", "02.01.02", None),
    ("T15", "H1", "2024-03-10 10:00", 48, None, None, None, "unrated", "hotline_12345", "02.01.01", None),
    # August 2025, after the split of G4
    ("T16", "g4", "2025-08-05 10:00", 2, "2025-08-10", "2025-08-09", "solved", "satisfied", "hotline_12345", "03.01.01", None),
    ("T17", "g4b", "2025-08-06 10:00", 2, "2025-08-10", "2025-08-12", "not", "unsatisfied", "app", "03.01.01", None),
    ("T18", "none", "2025-08-20 10:00", None, "2025-09-05", None, None, None, "hotline_12345", "02.01.02", None),
    ("T19", "H1", "2025-08-31 08:00", None, "2025-09-07", None, None, None, "hotline_12345", "02.01.01", "T09"),
]
EXTRA_LINKS = [("T20", "R1")]
"""T20 is at two places: H1 by its point and R1 by this link (it counts at both)."""


def city_tickets() -> pd.DataFrame:
    """The 20 tickets of :data:`TICKETS` as a ticket frame (not linked yet)."""
    t = make_tickets([SPOTS[r[1]] for r in TICKETS], [r[2] for r in TICKETS])
    t["source_id"] = [r[0] for r in TICKETS]
    hours = pd.to_timedelta([np.nan if r[3] is None else r[3] for r in TICKETS], unit="h")
    t["responded_at"] = t["received_at"] + hours
    for col, j in (("due_at", 4), ("closed_at", 5)):
        t[col] = pd.to_datetime([r[j] for r in TICKETS]).tz_localize("Asia/Shanghai")
    for col, j in (("resolved", 6), ("satisfaction", 7), ("channel", 8), ("category", 9), ("repeat_of", 10)):
        t[col] = [r[j] for r in TICKETS]
    t["status"] = ["open" if r[5] is None else "closed" for r in TICKETS]
    t["handling_unit"] = ["城管" if i % 3 else None for i in range(len(t))]
    t["caller_phone"] = "13812345678"
    return t


def load_city(store: Store, units, places) -> Store:
    """Write the tiny city and its tickets into ``store``; return it."""
    store.write_units(units.drop(columns="unit_uid"))
    store.write_places(places)
    t = city_tickets()
    tickets, links = apply_links(t, link_tickets(t, store.read_units(), places))
    links = pd.concat([links, pd.DataFrame(EXTRA_LINKS, columns=["source_id", "place_id"])], ignore_index=True)
    store.write_tickets(tickets, links)
    return store


@pytest.fixture
def city(backend, tiny_units, tiny_places):
    """The tiny hand-checked city in each backend."""
    return load_city(backend, tiny_units, tiny_places)


def _ok(frame, method, store, columns=None):
    assert violations(frame, method, store.timezone, columns) == []


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(list(df.columns), na_position="first", kind="stable").reset_index(drop=True)


def _same(got: pd.DataFrame, expected: pd.DataFrame, read: bool = False) -> None:
    """Equal frames, dtypes included (but an empty read's dtypes are not part of the contract)."""
    if read and got.empty and expected.empty:
        assert list(got.columns) == list(expected.columns)
        return
    pd.testing.assert_frame_equal(_sorted(got), _sorted(expected))


# -- the interface ---------------------------------------------------------------------------------------------
def test_an_unfinished_backend_cannot_be_instantiated():
    class Half(Store):
        def read_tickets(self, where=None):
            return pd.DataFrame()

    with pytest.raises(TypeError, match="abstract"):
        Half()
    once_optional = {"save_intervention", "read_intervention_history", "read_source_hashes", "read_tickets_by_ids",
                     "read_quarantine", "read_import_reports", "read_ticket_changes", "write_relinked", "kpi_counts",
                     "problem_counts", "read_effect_tickets", "read_ticket_places_where"}
    assert once_optional <= Store.__abstractmethods__
    every_read = {m for m in CONTRACT if m in Store.__abstractmethods__}
    assert {"read_tickets", "read_units", "read_places", "kpi_counts", "problem_counts", "read_audit"} <= every_read


# -- reads: columns, dtypes, missing values --------------------------------------------------------------------
def test_reads_keep_the_contract(city):
    _ok(city.read_units(), "read_units", city)
    _ok(city.read_units("grid", at="2025-06-30"), "read_units", city)
    _ok(city.read_places(), "read_places", city)
    _ok(city.read_tickets(), "read_tickets", city)
    cols = ("h3_cell", "received_at", "source_id", "grid_uid")
    _ok(city.read_tickets(TicketFilter(columns=cols, newest_first=True, limit=5)), "read_tickets", city, cols)
    _ok(city.read_tickets(TicketFilter(categories=("99",))), "read_tickets", city)  # empty
    _ok(city.read_tickets_by_ids(["T06", "T01", "nope"]), "read_tickets_by_ids", city)
    _ok(city.read_ticket_places(), "read_ticket_places", city)
    _ok(city.read_ticket_places(["R1"]), "read_ticket_places", city)
    _ok(city.read_ticket_places_where(TicketFilter(start="2025-03-01", end="2025-04-01")), "read_ticket_places_where",
        city)
    tickets, links = city.read_effect_tickets(("02.01.01", "03.01.01"), "2025-03-01")
    _ok(tickets, "read_effect_tickets", city)
    _ok(links, "read_effect_links", city)


def test_missing_values_look_as_documented(city):
    t = city.read_tickets().set_index("source_id")
    unlocated, placed = t.loc["T06"], t.loc["T01"]
    assert np.isnan(unlocated["lon"]) and unlocated["h3_cell"] is pd.NA and unlocated["grid_uid"] is pd.NA
    assert pd.isna(unlocated["grid_code"]) and pd.isna(unlocated["district_code"])
    assert isinstance(placed["h3_cell"], (int, np.integer)) and placed["h3_cell"] > 0
    assert pd.isna(t.loc["T03", "closed_at"]) and pd.isna(t.loc["T03", "resolved"]) and pd.isna(t.loc["T01", "repeat_of"])
    assert t.loc["T02", "repeat_of"] == "T01" and str(t["received_at"].dt.tz) == city.timezone
    # the same conventions in every read of tickets (read_effect_tickets once read -1 for a missing cell)
    effect, _ = city.read_effect_tickets(None, "2024-01-01")
    assert effect.set_index("source_id").loc["T06", "h3_cell"] is pd.NA
    assert city.read_tickets_by_ids(["T06"])["h3_cell"].iloc[0] is pd.NA
    assert city.read_tickets_by_ids(["T01"])["h3_cell"].iloc[0] == placed["h3_cell"]  # exact 64-bit cell
    units = city.read_units().set_index("code")
    assert pd.isna(units.loc["D", "parent_code"]) and pd.isna(units.loc["G1", "valid_to"])
    assert np.isnan(city.read_places().set_index("place_id").loc["H1", "buffer_m"])


def test_intervention_and_account_reads_keep_the_contract(city):
    iv, tg = city.read_interventions()
    _ok(iv, "read_interventions", city)  # empty
    targets = pd.DataFrame({"target_type": ["place", "grid"], "target_id": ["H1", "G1"]})
    iid = city.save_intervention({"intervention_id": None, "name": "整治", "type": "joint_meeting",
                                  "start_date": "2025-04-20", "target_categories": '["02.01.01"]'}, targets, None,
                                 json.dumps({"after": {"name": "整治"}}))
    iv, tg = city.read_interventions()
    _ok(iv, "read_interventions", city)
    _ok(tg, "read_intervention_targets", city)
    assert iv["intervention_id"].tolist() == [iid] and pd.isna(iv["end_date"].iloc[0])
    history = city.read_intervention_history(iid)
    _ok(history, "read_intervention_history", city)
    assert pd.isna(history["changed_by"].iloc[0])
    city.write_user({"name": "ann", "role": "planner", "password_hash": "$argon2id$x", "created_at": "2025-01-01"})
    users = city.read_users()
    _ok(users, "read_users", city)
    assert pd.isna(users["last_sign_in_at"].iloc[0]) and not users["disabled"].iloc[0]
    city.write_audit({"at": "2025-05-01 09:00", "actor": "ann", "action": "export", "target": "x.csv", "rows": 3})
    city.write_audit({"actor": None, "action": "sign_in_failed"})
    audit = city.read_audit()
    _ok(audit, "read_audit", city)
    assert audit["rows"].isna().tolist() == [True, False]  # newest first: the failed sign-in counted nothing


def test_import_reads_keep_the_contract(backend, tiny_units, tiny_places, tmp_path):
    from minqing.ingest.pipeline import ImportOptions, import_file

    backend.write_units(tiny_units.drop(columns="unit_uid"))
    backend.write_places(tiny_places)
    header = ["工单编号", "受理时间", "诉求渠道", "诉求类型", "问题分类", "诉求内容", "诉求地址", "经度", "纬度"]
    rows = [["A01", "2025-04-03 14:05", "12345热线", "投诉", "噪声扰民", "吵", "测试路1号", "121.505", "31.285"],
            ["A02", "2025-04-04 09:00", "网站", "求助", "电梯故障", "电梯坏了", "", "121.515", "31.285"],
            ["A03", "2025-04-04", "12345", "投诉", "噪声扰民", "吵", "", "0", "0"]]  # quarantined: zero coordinates
    now = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")
    first = tmp_path / "first.csv"
    pd.DataFrame(rows, columns=header).to_csv(first, index=False)
    import_file(backend, first, ImportOptions(now=now))
    rows[1][5] = "电梯又坏了"  # A02 changes
    second = tmp_path / "second.csv"
    pd.DataFrame(rows, columns=header).to_csv(second, index=False)
    import_file(backend, second, ImportOptions(now=now))
    quarantine = backend.read_quarantine()
    _ok(quarantine, "read_quarantine", backend)
    assert quarantine["reason"].tolist() == ["zero_coordinates"] and pd.isna(quarantine["resolved_by"].iloc[0])
    changes = backend.read_ticket_changes()
    _ok(changes, "read_ticket_changes", backend)
    assert changes[["source_id", "field", "old_value", "new_value"]].values.tolist() == [
        ["A02", "text", "电梯坏了", "电梯又坏了"]]
    hashes = backend.read_source_hashes()
    assert str(hashes.dtype) == "int64" and sorted(hashes.index) == ["A01", "A02"] and (hashes != 0).all()
    reports = backend.read_import_reports()
    assert len(reports) == 2 and all(isinstance(r, dict) for r in reports)
    _ok(backend.read_tickets_by_ids(["A01", "A02"]), "read_tickets_by_ids", backend)


# -- aggregates: the pandas reference ----------------------------------------------------------------------------
FILTERS = {
    "all": None,
    "march": TicketFilter(start="2025-03-01", end="2025-04-01"),
    "community C1": TicketFilter(unit_level="community", unit_codes=("C1",)),
    "theme 02 from April": TicketFilter(start="2025-04-01", categories=("02",)),
    "citizen channels": TicketFilter(channels=("hotline_12345", "web", "app")),
    "at R1": TicketFilter(place_ids=("R1",)),
    "grid leader of G3 and C1": TicketFilter(scope_grid_codes=("G3",), scope_community_codes=("C1",)),
    "a page (ignored)": TicketFilter(columns=("source_id",), limit=2, offset=1, newest_first=True),
    "nothing": TicketFilter(categories=("99",)),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_aggregates_equal_the_reference(city, name):
    where = FILTERS[name]
    tickets, links = reference.ticket_frames(city, where)
    for level in UNIT_LEVELS:
        _same(city.count_tickets(level, where), reference.count_tickets(tickets, level))
        _same(city.count_tickets(level, where, by_channel=True), reference.count_tickets(tickets, level, True))
    _same(city.kpi_counts(where, AS_OF), reference.kpi_counts(tickets, AS_OF))
    _same(city.problem_counts(where), reference.problem_counts(tickets, links))
    _same(city.problem_counts(where, by_channel=True), reference.problem_counts(tickets, links, by_channel=True))
    _same(city.read_ticket_places_where(where), reference.ticket_places_where(tickets, links), read=True)
    _ok(city.count_tickets("grid", where), "count_tickets", city)
    _ok(city.count_tickets("grid", where, by_channel=True), "count_tickets_by_channel", city)
    _ok(city.kpi_counts(where, AS_OF), "kpi_counts", city)
    _ok(city.problem_counts(where), "problem_counts", city)
    _ok(city.problem_counts(where, by_channel=True), "problem_counts_by_channel", city)


TOP_MONTHS = (("2025-03", 10), ("2025-03", 4), ("2025-03", 1), ("2025-04", 10), ("2025-08", 2), ("2025-06", 10))
"""(month, n) of the top problems: n = 4 in March cuts through a tie (P1 / G1 / G4, one ticket each, by id);
June has no ticket."""


@pytest.mark.parametrize("name", list(FILTERS))
def test_top_problem_counts_equal_the_reference(city, name):
    where = FILTERS[name]
    tickets, links = reference.ticket_frames(city, where)
    for level in (1, 2, 3):
        for month, n in TOP_MONTHS:
            rows, typical = city.top_problem_counts(where, month, level, n)
            want_rows, want_typical = reference.top_problem_counts(tickets, links, month, level, n)
            _same(rows, want_rows)
            pd.testing.assert_frame_equal(typical, want_typical, check_exact=True)  # the same doubles
            _ok(rows, "top_problem_counts", city)
            _ok(typical, "top_problem_typical", city)


def test_top_problem_counts_by_hand(city):
    rows, typical = city.top_problem_counts(None, "2025-03", level=2, n=2)
    got = {(r.month, r.place_id, r.category, r.channel): (r.tickets, r.problems) for r in rows.itertuples()}
    assert got == {  # H1 (4 tickets in March) and R1 (2) at 02.01, every month and channel
        ("2024-03", "H1", "02.01", "hotline_12345"): (1, 1),  # T15
        ("2025-03", "H1", "02.01", "hotline_12345"): (4, 2),  # T01, T02 and T08 repeating it, T20
        ("2025-04", "H1", "02.01", "hotline_12345"): (1, 1),  # T09
        ("2025-08", "H1", "02.01", "hotline_12345"): (1, 0),  # T19 repeats T09
        ("2025-02", "R1", "02.01", "grid_patrol"): (1, 1),  # T14
        ("2025-03", "R1", "02.01", "grid_patrol"): (1, 1),  # T03
        ("2025-03", "R1", "02.01", "hotline_12345"): (1, 1),  # T20 at its second place
        ("2025-04", "R1", "02.01", "proactive"): (1, 1),  # T10
    }
    # March's five problems: H1 all hotline, R1 half, P1 web, G1 community_log, G4 hotline;
    # the hotline's shares 0, 0, .5, 1, 1: median .5; the other channels' median problem has none
    assert dict(zip(typical["channel"], typical["share_typical"])) == {
        "community_log": 0.0, "grid_patrol": 0.0, "hotline_12345": 0.5, "web": 0.0}
    # April's four (an even count): hotline at H1 and P1 only, 0, 0, 1, 1: the middle two averaged
    _, april = city.top_problem_counts(None, "2025-04", level=2, n=1)
    assert dict(zip(april["channel"], april["share_typical"])) == {"hotline_12345": 0.5, "proactive": 0.0,
                                                                   "qr_code": 0.0}
    # at level 1, n = 4 cuts through the one-ticket tie of P1, G1 and G4: by id, G1 and G4 stay
    rows, _ = city.top_problem_counts(None, "2025-03", level=1, n=4)
    assert set(zip(rows["place_id"].fillna(rows["grid_code"]), rows["category"])) == {
        ("H1", "02"), ("R1", "02"), ("G1", "04"), ("G4", "02")}
    with pytest.raises(KpiError):
        city.top_problem_counts(None, "2025-03", level=4)
    with pytest.raises(KpiError):
        city.top_problem_counts(None, "2025-03", n=0)


@pytest.mark.parametrize("categories, start", [(None, "2024-01-01"), (("02.01.01", "04.01.01"), "2025-03-02"),
                                               (("02",), "2025-01-01"), (("03.01.01",), "2025-08-06 10:00")])
def test_effect_tickets_equal_the_reference(city, categories, start):
    got_tickets, got_links = city.read_effect_tickets(categories, start)
    tickets, links = reference.ticket_frames(city)
    want_tickets, want_links = reference.effect_tickets(tickets, links, categories, start)
    _same(got_tickets, want_tickets, read=True)
    _same(got_links, want_links, read=True)


def test_hand_worked_counts(city):
    kpi = city.kpi_counts(None, AS_OF).set_index("month")
    assert kpi["tickets"].to_dict() == {"2024-03": 1, "2025-02": 2, "2025-03": 9, "2025-04": 4, "2025-08": 4}
    assert kpi.loc["2025-03"].to_dict() == {
        "tickets": 9,  # T01-T08 and T20 (T09 at 01:00 on April 1 is April, local time)
        "response_due": 9,  # all received long before AS_OF
        "responded_in_time": 6,  # T01, T04, T05, T06 (24 h exactly counts), T08, T20; T02 took 30 h
        "followed_up": 7,  # all but T03 and T07
        "solved": 5,  # T01, T05, T06, T08, T20
        "partly": 1,  # T02
        "rated": 6,  # T03 unrated, T05 and T07 missing are left out
        "satisfied": 4,  # T01, T02 (basically), T06, T20
        "deadline_due": 7,  # due times of all but T04 and T07; T03 open past due counts
        "closed_on_time": 4,  # T01, T05 (closed exactly at the due time), T06, T20; T02 and T08 late
        "proactive": 2,  # T03 grid_patrol, T04 community_log
    }
    august = kpi.loc["2025-08"].to_dict()
    assert (august["response_due"], august["responded_in_time"]) == (3, 2)  # T19, 4 h before AS_OF, is not due yet
    assert (august["deadline_due"], august["closed_on_time"]) == (2, 1)  # T18, T19 not yet due; T17 late
    grids = city.count_tickets("grid")
    assert dict(zip(grids["code"].fillna("-"), grids["tickets"])) == {
        "G1": 9, "G2": 2, "G3": 3, "G4": 2, "G4A": 1, "G4B": 1, "-": 2}  # G4 until the split; T06, T18 unlocated
    communities = city.count_tickets("community")
    assert dict(zip(communities["code"].fillna("-"), communities["tickets"])) == {"C1": 11, "C2": 7, "-": 2}
    march = city.problem_counts(TicketFilter(start="2025-03-01", end="2025-04-01"))
    got = {(r.month, r.place_id if isinstance(r.place_id, str) else r.grid_code, r.category): (r.tickets, r.problems)
           for r in march.itertuples()}
    assert got == {
        ("2025-03", "H1", "02.01.01"): (3, 1),  # T01, and T02, T08 repeat it
        ("2025-03", "H1", "02.01.02"): (1, 1),  # T20 ...
        ("2025-03", "R1", "02.01.02"): (2, 2),  # ... counts at both its places, with T03
        ("2025-03", "P1", "04.01.01"): (1, 1),  # T05
        ("2025-03", "G1", "04.01.01"): (1, 1),  # T04: no place, so its grid
        ("2025-03", "G4", "02.01.01"): (1, 1),  # T07; T06 (unlocated) counts nowhere
    }


def test_months_are_the_city_zone_s(city):
    """In another zone the local months move, the same way in the store and in the reference."""
    city.set_timezone("America/New_York")
    tickets, links = reference.ticket_frames(city)
    kpi = city.kpi_counts(None, AS_OF)
    _same(kpi, reference.kpi_counts(tickets, AS_OF))
    _same(city.problem_counts(), reference.problem_counts(tickets, links))
    # 12 or 13 hours earlier: T01 (2025-03-01 10:00 in Shanghai) is February 28 in New York and
    # T09 (2025-04-01 01:00) is March 31
    assert kpi.set_index("month")["tickets"].to_dict() == {"2024-03": 1, "2025-02": 3, "2025-03": 9, "2025-04": 3,
                                                           "2025-08": 4}
    _ok(city.read_tickets(), "read_tickets", city)


# -- log tables as rows (a store copy) ----------------------------------------------------------------------------
def test_log_rows_round_trip_with_their_ids_and_times(backend):
    from minqing.store.logtables import LOG_TABLES

    at = 1_740_800_000
    given = {
        "ticket_sources": pd.DataFrame({"source_id": ["B", "A"], "row_hash": [-(2**63) + 5, 2**62 + 1],
                                        "import_id": ["i1", "i1"]}),
        "ticket_changes": pd.DataFrame({"source_id": ["A", "A"], "import_id": ["i2", "i2"], "changed_at": [at, at],
                                        "field": ["text", "address"], "old_value": ["x", None],
                                        "new_value": ["y", "z"]}),
        "quarantine": pd.DataFrame({"quarantine_id": [7], "import_id": ["i1"], "file_name": ["f.csv"],
                                    "row_number": [3], "source_id": [None], "reason": ["zero_coordinates"],
                                    "detail": [None], "original": ["{}"], "row_hash": [99], "quarantined_at": [at],
                                    "resolved_by": [None]}),
        "import_reports": pd.DataFrame({"import_id": ["i1"], "file_name": ["f.csv"], "sha256": ["ab"],
                                        "format": ["csv"], "imported_by": [None], "started_at": [at],
                                        "finished_at": [None], "rows_read": [3], "inserted": [2], "updated": [0],
                                        "unchanged": [0], "quarantined": [1], "duplicates": [0],
                                        "report": ['{"import_id": "i1"}']}),
        "intervention_history": pd.DataFrame({"intervention_id": [1, 1], "changed_at": [at + 5, at],
                                              "changed_by": ["ann", None], "change": ["{}", "{}"]}),
        "audit_log": pd.DataFrame({"id": [4, 9], "at": [at, at + 1], "actor": ["ann", None],
                                   "action": ["sign_in", "export"], "target": [None, "x.csv"], "rows": [None, 5],
                                   "masked": [None, 1], "detail": [None, "{}"]}),
    }
    assert set(given) == set(LOG_TABLES)
    for table, frame in given.items():
        assert list(backend.read_rows(table)) == []
        assert backend.append_rows(table, frame) == len(frame)
        got = pd.concat(list(backend.read_rows(table, chunk_rows=1)), ignore_index=True)
        expected = frame.sort_values("source_id", ignore_index=True) if table == "ticket_sources" else frame
        assert got.astype(object).where(got.notna(), None).values.tolist() == \
            expected.astype(object).where(expected.notna(), None).values.tolist(), table
    # the pages' reads see the rows; new rows take ids after the ones written
    assert backend.read_quarantine()["quarantine_id"].tolist() == [7]
    assert backend.read_intervention_history(1)["changed_by"].isna().tolist() == [True, False]
    backend.write_audit({"at": at + 2, "actor": "bob", "action": "sign_in"})
    assert backend.read_audit()["id"].tolist() == [10, 9, 4]
