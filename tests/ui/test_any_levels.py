"""A city with only some levels: the map's drill-down runs over the levels it has."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PASSWORD, X0, Y0, make_tickets, sign_in
from streamlit.testing.v1 import AppTest

from minqing.i18n import t

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def grids_only(tmp_path, tiny_units):
    """Grids with no parents (census tracts, say) and four tickets."""
    from minqing.accounts import add_user
    from minqing.geo.link import apply_links, link_tickets
    from minqing.store import open_store

    url = f"sqlite:///{tmp_path / 'tracts.sqlite'}"
    grids = tiny_units[tiny_units["level"] == "grid"].drop(columns="unit_uid").assign(parent_code=None)
    with open_store(url) as store:
        store.write_units(grids)
        t = make_tickets([(X0 + 0.005, Y0 + 0.005)] * 3 + [(X0 + 0.015, Y0 + 0.005)], ["2025-01-01 08:00"] * 4)
        store.write_tickets(*apply_links(t, link_tickets(t, store.read_units())))
        add_user(store, "amy", "planner", PASSWORD, actor="tests")
    return url


def test_a_grids_only_city_drills_from_grids_to_tickets(grids_only, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", grids_only)
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60), "amy").run()
    at.switch_page(str(ROOT / "views" / "map.py"))
    at.run()
    assert not at.exception and not at.error, at.exception
    table = at.dataframe[0].value
    assert len(table) == 5  # the current grids: G1, G2, G3, G4A, G4B
    total = next(m.value for m in at.metric if m.label == t("overview.tickets", "zh"))
    assert total == "4"
    at.query_params["g"] = "G1"
    at.run()
    assert not at.exception
    rows = at.dataframe[0].value
    assert rows[t("tickets.col_grid", "zh")].tolist() == ["G1"] * 3


@pytest.mark.parametrize("view", ["meeting", "map", "mygrid", "hotspots", "effects", "tickets", "settings"])
def test_every_page_opens_in_a_grids_only_city(grids_only, monkeypatch, view):
    monkeypatch.setenv("MINQING_DATABASE_URL", grids_only)
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60), "amy").run()
    at.switch_page(str(ROOT / "views" / f"{view}.py"))
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title
