"""Page x role x attempt: what each role may see and do, asserted on the demo store.

| attempt | admin | planner | grid leader | meeting | how |
|---|---|---|---|---|---|
| menu (pages listed) | all 10 | all but 管理 | 总览 地图 我的网格 成效 工单 设置 | 总览 地图 设置 | ``allowed_pages`` == ``EXPECTED`` |
| open a page's script directly | allowed ones render, others refuse | same | same | same | run ``views/<page>.py`` as the role |
| URL ``?sd=&cm=&g=`` of a grid | tickets (masked) | tickets (masked) | only own grid's tickets (another grid: none) | counts only, no tickets | AppTest with query params |
| URL ``?grid=`` (old identity picker) | no effect | no effect | no effect | no effect | identity still the account's |
| search another grid's ticket id / address / phone | found (masked) | found (masked) | nothing | page refused | ``ScopedStore`` and the tickets page |
| export | masked | masked | own grid only, unmasked | refused | ``tables._export_bytes`` as the role |
| direct call of a page's data function | all | all | own grid only | no rows outside counts | ``ui.data`` readers with the role's user |
| effects | all interventions | all | those touching their grid | refused | ``interventions_in_scope`` |
| import, intervention edit | allowed | allowed | refused | refused | page refused; ``require`` |
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import sign_in
from streamlit.testing.v1 import AppTest

from minqing.auth import PermissionDenied, ScopedStore, User, can
from minqing.i18n import t
from minqing.store import TicketFilter, open_store
from minqing.ui.nav import allowed_pages

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
ALL = {"admin", "planner", "grid_leader", "meeting"}
EXPECTED = {  # view -> the roles that may open it
    "meeting": ALL,
    "map": ALL,
    "mygrid": {"admin", "planner", "grid_leader"},
    "hotspots": {"admin", "planner"},
    "effects": {"admin", "planner", "grid_leader"},
    "interventions": {"admin", "planner"},
    "tickets": {"admin", "planner", "grid_leader"},
    "import": {"admin", "planner"},
    "admin": {"admin"},
    "settings": ALL,
}


def _user(role: str, grid: str) -> User:
    return User(role, (grid,), name=f"t_{role}") if role == "grid_leader" else User(role, name=f"t_{role}")


@pytest.fixture(scope="module")
def grids(demo_store_url, ui_accounts):
    """The leader's grid and another grid with tickets."""
    own = ui_accounts["grid_leader"][1]
    with open_store(demo_store_url) as store:
        counts = store.read_tickets(TicketFilter(columns=("grid_code",)))["grid_code"].value_counts()
    other = next(g for g in counts.index if g != own)
    return own, other


@pytest.mark.parametrize("role", sorted(ALL))
def test_menu_lists_exactly_the_allowed_pages(role):
    views = {v for v, _, _ in allowed_pages(_user(role, "G"))}
    assert views == {v for v, roles in EXPECTED.items() if role in roles}
    assert set(EXPECTED) == {p.stem for p in (ROOT / "views").glob("*.py")}, "every page is in the table"


@pytest.mark.parametrize("view", sorted(EXPECTED))
@pytest.mark.parametrize("role", sorted(ALL))
def test_page_script_refuses_a_role_it_does_not_allow(demo_store_url, grids, monkeypatch, view, role):
    from streamlit import config

    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)
    shown = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")  # the server hides details from browsers
    try:
        at = AppTest.from_file(str(ROOT / "views" / f"{view}.py"), default_timeout=90)
        at.session_state["user"] = _user(role, grids[0])
        at.run()
    finally:
        config.set_option("client.showErrorDetails", shown)
    if role in EXPECTED[view]:
        assert not at.exception, at.exception
        assert at.title
    else:
        assert at.exception and "may not do" in at.exception[0].message, (view, role)  # PermissionDenied
        assert not at.dataframe and not at.get("download_button"), "nothing of the page is drawn"


def _drill(app, demo_store_url, grid):
    with open_store(demo_store_url) as store:
        units = store.read_units()
    row = units[units["code"] == grid].iloc[0]
    community = units[units["code"] == row["parent_code"]].iloc[0]
    app.query_params.update({"sd": community["parent_code"], "cm": community["code"], "g": grid})
    app.switch_page(str(ROOT / "views" / "map.py"))
    return app.run()


def test_url_to_a_grid_by_role(demo_store_url, ui_accounts, grids, monkeypatch):
    own, other = grids
    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)

    def drill(role, grid):
        at = sign_in(AppTest.from_file(APP, default_timeout=90), ui_accounts[role][0]).run()
        return _drill(at, demo_store_url, grid)

    planner = drill("planner", other)
    assert not planner.exception and planner.dataframe, "a planner sees the grid's tickets"
    table = planner.dataframe[0].value
    assert set(table[t("tickets.col_grid", "zh")].dropna()) == {other}
    meeting = drill("meeting", other)
    assert not meeting.exception
    assert any(t("drill.counts_only", "zh") in i.value for i in meeting.info), "counts only"
    assert not any(t("tickets.col_text", "zh") in d.value.columns for d in meeting.dataframe)
    leader = drill("grid_leader", other)
    assert not leader.exception
    found = [c.value for c in leader.caption if c.value.startswith("共")]
    assert found == [t("tickets.found", "zh", n="0")], "another grid's URL shows none of its tickets"
    leader_own = drill("grid_leader", own)
    rows = leader_own.dataframe[0].value
    assert len(rows) and set(rows[t("tickets.col_grid", "zh")].dropna()) == {own}


def test_url_cannot_pick_an_identity(demo_store_url, ui_accounts, grids, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({"grid": grids[1], "role": "admin", "user": "t_admin"})
    at.run()
    assert at.title[0].value == t("signin.title", "zh"), "no identity without signing in"
    sign_in(at, ui_accounts["meeting"][0]).run()
    assert at.session_state["user"].role == "meeting"


@pytest.mark.parametrize("how", ["source_id", "address", "phone"])
def test_search_other_grid_by_id_address_phone(demo_store_url, grids, how):
    own, other = grids
    with open_store(demo_store_url) as store:
        theirs = store.read_tickets(TicketFilter(unit_level="grid", unit_codes=(other,)))
        row = theirs[theirs["caller_phone"].notna() & theirs["address"].notna()].iloc[0]
        query = {"source_id": row["source_id"], "address": row["address"], "phone": row["caller_phone"]}[how]
        leader = ScopedStore(store, _user("grid_leader", own))
        assert leader.count_where(TicketFilter(search=query)) == 0 or \
            set(leader.read_tickets(TicketFilter(search=query))["grid_code"]) <= {own}
        assert row["source_id"] not in set(leader.read_tickets(TicketFilter(search=query))["source_id"])
        planner = ScopedStore(store, _user("planner", own))
        hits = planner.read_tickets(TicketFilter(search=query))
        if how == "phone":  # a planner sees masked phones: the full number is no search key
            assert row["source_id"] not in set(hits["source_id"])
        else:
            assert row["source_id"] in set(hits["source_id"])


@pytest.mark.parametrize("role", sorted(ALL))
def test_export_by_role(demo_store_url, ui_accounts, grids, monkeypatch, role):
    """The download callback itself checks the role and writes an audit row."""
    from functools import partial

    import streamlit as st

    from minqing.accounts import read_audit
    from minqing.ui import tables
    from minqing.ui.cache import data

    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)
    data.get_store.clear()
    user = _user(role, grids[0])
    monkeypatch.setattr(st, "session_state", {"user": user})
    fetch = partial(data.tickets_all.__wrapped__, demo_store_url, "v", user, TicketFilter(limit=50))
    if not can(user, "export"):
        with pytest.raises(PermissionDenied):
            tables._export_bytes(fetch, "zh", "csv", "tickets")
        return
    out = tables._export_bytes(fetch, "zh", "csv", "tickets").decode("utf-8-sig")
    assert out.count("\n") >= 2
    if role == "grid_leader":
        assert all(grids[0] in line for line in out.splitlines()[1:] if line.strip())
    with open_store(demo_store_url) as store:
        last = read_audit(store, limit=1).iloc[0]
    assert last["action"] == "export" and last["actor"] == user.name and int(last["rows"]) == 50


def test_data_functions_hold_the_scope(demo_store_url, grids):
    from minqing.ui.cache import data

    own, other = grids
    leader = _user("grid_leader", own)
    rows = data.tickets_all.__wrapped__(demo_store_url, "v", leader,
                                        TicketFilter(unit_level="grid", unit_codes=(other,)))
    assert rows.empty
    counts = data.scoped_unit_counts.__wrapped__(demo_store_url, "v", "grid", None, leader)
    assert set(counts.loc[counts["tickets"] > 0, "code"]) == {own}
    rows = data.tickets_all.__wrapped__(demo_store_url, "v", leader, TicketFilter(limit=20))
    assert set(rows["grid_code"]) == {own} and rows["caller_name"].notna().any(), "unmasked: they handle them"


def test_effects_shows_a_leader_only_interventions_touching_their_grid(demo_store_url, grids):
    from minqing.interventions.registry import interventions_in_scope

    with open_store(demo_store_url) as store:
        every = interventions_in_scope(store, _user("planner", grids[0]))
        mine = interventions_in_scope(store, _user("grid_leader", grids[0]))
        ivs, targets = store.read_interventions()
    assert every == set(ivs["intervention_id"].astype(int))
    assert mine <= every
    for iid in every - mine:  # the ones left out target nothing of the leader's grid
        tg = targets[targets["intervention_id"] == iid]
        assert grids[0] not in set(tg.loc[tg["target_type"] == "grid", "target_id"])


@pytest.mark.parametrize("role", sorted(ALL))
def test_writes_need_the_permission(role):
    from minqing.auth import require

    user = _user(role, "G")
    for permission in ("import", "interventions_edit", "users"):
        if can(user, permission):
            require(user, permission)
        else:
            with pytest.raises(PermissionDenied):
                require(user, permission)
    assert can(user, "import") == (role in ("admin", "planner"))
    assert can(user, "interventions_edit") == (role in ("admin", "planner"))


def test_leader_tables_have_no_other_grid(demo_store_url, ui_accounts, grids, monkeypatch):
    """Every table a grid leader gets on every page they can open holds only their own grid's rows."""
    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)
    own, other = grids
    for view in sorted(v for v, roles in EXPECTED.items() if "grid_leader" in roles):
        at = sign_in(AppTest.from_file(APP, default_timeout=90), ui_accounts["grid_leader"][0]).run()
        at.switch_page(str(ROOT / "views" / f"{view}.py"))
        at.run()
        assert not at.exception, (view, at.exception)
        for frame in at.dataframe:
            value = frame.value
            if isinstance(value, pd.DataFrame):
                for col in value.columns:
                    if col in (t("tickets.col_grid", "zh"), "grid_code"):
                        assert set(value[col].dropna()) <= {own}, (view, col)
