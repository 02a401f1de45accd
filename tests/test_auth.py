import pytest
from conftest import X0, Y0, make_tickets

from minqing.auth import ScopedStore, ScopeError, User, scoped_filter
from minqing.geo.link import apply_links, link_tickets
from minqing.store import TicketFilter, open_store


@pytest.fixture
def store(tmp_path, tiny_units, tiny_places):
    s = open_store(f"sqlite:///{tmp_path}/a.sqlite")
    s.write_units(tiny_units.drop(columns="unit_uid"))
    units = s.read_units()
    pts = [(X0 + 0.005, Y0 + 0.005), (X0 + 0.005, Y0 + 0.015), (X0 + 0.015, Y0 + 0.005)]
    t = make_tickets(pts, ["2025-01-01 08:00"] * 3)
    t["caller_name"] = ["张三", "李四", "王五"]
    t["caller_phone"] = "13812345678"
    t["text"] = ["张三反映：电话13812345678", "李四反映", "王五反映"]
    s.write_tickets(*apply_links(t, link_tickets(t, units)))
    yield s
    s.close()


def test_grid_leader_sees_only_own_grid(store):
    leader = ScopedStore(store, User("grid_leader", ("G1",)))
    assert leader.read_tickets()["grid_code"].tolist() == ["G1"]
    # asking for other grids or the whole sub-district does not widen the scope
    assert leader.read_tickets(TicketFilter(unit_level="grid", unit_codes=("G2", "G3"))).empty
    assert leader.read_tickets(TicketFilter(unit_level="subdistrict", unit_codes=("S",)))["grid_code"].tolist() == ["G1"]
    assert leader.count_where() == 1
    counts = leader.count_tickets("community")
    assert dict(zip(counts["code"], counts["tickets"])) == {"C1": 1}


def test_leader_sees_callers_others_see_masks(store):
    leader = ScopedStore(store, User("grid_leader", ("G1",))).read_tickets()
    assert leader["caller_name"].tolist() == ["张三"]
    planner = ScopedStore(store, User("planner")).read_tickets()
    assert planner["caller_name"].tolist() == ["张*", "李*", "王*"]
    assert planner["caller_phone"].tolist() == ["138****5678"] * 3
    assert planner["text"].iloc[0] == "张*反映：电话138****5678"
    assert ScopedStore(store, User("meeting")).count_where() == 3


def test_scope_narrowing_composes():
    f = scoped_filter(User("grid_leader", ("G1", "G2")), TicketFilter(scope_grid_codes=("G2", "G3")))
    assert f.scope_grid_codes == ("G2",)
    assert scoped_filter(User("planner"), None) == TicketFilter()


def test_bad_roles():
    with pytest.raises(ScopeError, match="allowed: admin, planner, grid_leader, meeting"):
        User("root")
    with pytest.raises(ScopeError, match="needs at least one grid"):
        User("grid_leader")
    with pytest.raises(ScopeError, match="only a grid leader"):
        User("planner", ("G1",))


def test_permissions_are_decided_in_one_place():
    from minqing.auth import PermissionDenied, can, require

    admin, planner, leader, meeting = (User("admin"), User("planner"), User("grid_leader", ("G1",)),
                                       User("meeting"))
    assert can(admin, "users") and not can(planner, "users")
    assert can(planner, "interventions_edit") and not can(leader, "interventions_edit")
    assert can(leader, "personal_data") and not can(planner, "personal_data")
    assert not can(meeting, "tickets") and not can(meeting, "export") and can(meeting, "meeting")
    assert not can(None, "meeting")
    with pytest.raises(PermissionDenied, match="'meeting' may not do 'tickets'"):
        require(meeting, "tickets")


def test_community_scope(store):
    """A leader of community C1 sees its grids' tickets (G1, G2), and a ticket known only by its community."""
    leader = ScopedStore(store, User("grid_leader", community_codes=("C1",)))
    assert sorted(leader.read_tickets()["grid_code"]) == ["G1", "G2"]
    both = ScopedStore(store, User("grid_leader", ("G3",), community_codes=("C1",)))
    assert both.count_where() == 3


@pytest.mark.parametrize("query", ["1234", "3812345", "13812345678", "张三", "138*1234", "12345678"])
def test_search_is_no_oracle_for_masked_data(store, query):
    """A planner sees 138****5678 and 张*: searching the hidden digits or the name finds nothing."""
    planner = ScopedStore(store, User("planner"))
    where = TicketFilter(search=query)
    assert planner.count_where(where) == 0
    assert planner.read_tickets(where).empty
    # the people handling the ticket search the real text
    leader = ScopedStore(store, User("grid_leader", ("G1",)))
    assert leader.count_where(where) == 1


@pytest.mark.parametrize("query, expected", [
    ("138****5678", ["T0000"]), ("5678", ["T0000"]), ("张*", ["T0000"]), ("反映", ["T0000", "T0001", "T0002"]),
    ("t0001", ["T0001"]), ("李四", []),
])
def test_search_matches_what_the_viewer_sees(store, query, expected):
    planner = ScopedStore(store, User("planner"))
    where = TicketFilter(search=query)
    assert sorted(planner.read_tickets(where)["source_id"]) == expected
    assert planner.count_where(where) == len(expected)


def test_masked_search_pages_and_keeps_asked_columns(store):
    planner = ScopedStore(store, User("planner"))
    page = planner.read_tickets(TicketFilter(search="反映", limit=2, offset=1))
    assert len(page) == 2
    # asking for the text alone still masks the caller's name inside it
    text = planner.read_tickets(TicketFilter(columns=("source_id", "text")))
    assert list(text.columns) == ["source_id", "text"]
    assert not text["text"].str.contains("张三|13812345678").any()


def test_a_backend_without_server_side_scope_is_used_as_it_is(store, monkeypatch):
    """SQLite's ``scoped`` returns the store itself: ScopedStore does not read units to expand communities."""
    monkeypatch.setattr(type(store), "read_units", lambda *a, **k: pytest.fail("units read for nothing"))
    leader = ScopedStore(store, User("grid_leader", community_codes=("C1",)))
    assert leader._store is store
