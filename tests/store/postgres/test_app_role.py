"""The store as the application runs it: signed in as the app role, its scope enforced by the server.

The demo of the ``pg_demo`` fixture is built through the app role into a database
migrated as a deployment is (``minqing migrate``: the owner's schema, the roles).
Reads go through the raw backend, bypassing :class:`~minqing.auth.ScopedStore`'s own
filter: what a grid leader's view gets there is what the row-level policies let through.
"""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest
from conftest import PG_APP_PASSWORD, pg_login_url
from psycopg import sql

from minqing.auth import ScopedStore, User
from minqing.errors import StoreError
from minqing.store import TicketFilter, open_store
from minqing.store.postgres import store as pg_store_module
from minqing.store.postgres.migrate import Roles, migrate


@pytest.fixture(scope="module")
def demo(pg_demo):
    """``(superuser store, app store, the busiest grid, its ticket count)``; the superuser sees past every policy."""
    url, app_url, _ = pg_demo
    admin, app = open_store(url), open_store(app_url)
    counts = admin.count_tickets("grid")
    counts = counts.dropna(subset=["code"]).sort_values("tickets", ascending=False)
    grid, n = counts.iloc[0]["code"], int(counts.iloc[0]["tickets"])
    yield admin, app, grid, n
    app.close()
    admin.close()


def test_the_app_role_signs_in_and_opens_a_current_schema_without_migrating(pg_demo, monkeypatch):
    _, app_url, roles = pg_demo

    def no_migration(*args, **kwargs):
        raise AssertionError("a current schema is not migrated on open")

    monkeypatch.setattr(pg_store_module, "migrate", no_migration)
    with open_store(app_url) as store:
        assert store.ticket_count() > 0
        with store._read() as con:
            assert con.execute("SELECT current_user").fetchone()[0] == roles.app


def test_a_grid_leaders_view_reads_only_its_grid_on_the_server(demo):
    admin, app, grid, n = demo
    assert app.ticket_count() == admin.ticket_count() > n  # the store as opened: every grid ('*')
    view = app.scoped((grid,))
    tickets = view.read_tickets(TicketFilter())  # no filter at all: the policy alone limits it
    assert len(tickets) == n and set(tickets["grid_code"]) == {grid}
    assert view.ticket_count() == view.count_where() == n
    assert view.count_where(TicketFilter(scope_grid_codes=("nope",))) == 0  # the filter still narrows


def test_a_grid_leaders_aggregates_count_only_its_grid(demo):
    admin, app, grid, n = demo
    view = app.scoped((grid,))
    counts = view.count_tickets("grid")
    assert counts["code"].tolist() == [grid] and counts["tickets"].tolist() == [n]
    assert int(view.count_tickets("subdistrict")["tickets"].sum()) == n
    kpis = view.kpi_counts(None, admin.received_range()[1])
    assert int(kpis["tickets"].sum()) == n
    problems = view.problem_counts()
    assert int(problems["tickets"].sum()) <= n
    month = problems["month"].max()
    rows, typical = view.top_problem_counts(None, month)  # the top 10 of the grid's problems only
    top = problems[problems["month"] == month].assign(where=lambda d: d["place_id"].fillna(d["grid_code"]))
    assert set(rows["place_id"].fillna(rows["grid_code"])) <= set(top["where"]) and len(typical) > 0
    assert set(rows["grid_code"].dropna()) <= {grid}
    links = view.read_ticket_places()
    ids = set(view.read_tickets(TicketFilter(columns=("source_id",)))["source_id"])
    assert set(links["source_id"]) <= ids
    assert set(view.read_ticket_places_where()["source_id"]) <= ids
    first, _ = admin.received_range()
    effect, effect_links = view.read_effect_tickets((), first)
    assert set(effect["grid_code"]) == {grid} and set(effect_links["source_id"]) <= ids


def test_a_scope_of_no_grid_sees_no_ticket_and_other_tables_stay_readable(demo):
    _, app, _, _ = demo
    none = app.scoped(())
    assert none.ticket_count() == 0 and none.read_tickets().empty
    assert len(none.read_units(level="grid")) > 0 and none.timezone  # not ticket rows: not under the policy


def test_scoped_store_hands_the_users_grids_to_the_backend(demo):
    admin, app, grid, n = demo
    leader = ScopedStore(app, User("grid_leader", (grid,), name="leader"))
    assert leader._store._scope == (grid,)
    assert len(leader.read_tickets(TicketFilter(columns=("source_id", "grid_code")))) == n
    planner = ScopedStore(app, User("planner", name="planner"))
    assert planner._store is app  # whole district: the store as opened
    assert planner.count_where() == admin.ticket_count()
    grids = admin.read_units(level="grid")
    community = grids.loc[grids["code"] == grid, "parent_code"].iloc[0]
    by_community = ScopedStore(app, User("grid_leader", community_codes=(community,), name="c"))
    assert grid in by_community._store._scope
    assert set(by_community._store._scope) == set(grids.loc[grids["parent_code"] == community, "code"])


def test_a_view_shares_the_pool_and_closing_it_leaves_the_store_open(demo):
    _, app, grid, _ = demo
    view = app.scoped((grid,))
    view.close()
    assert app.ticket_count() > 0 and view.ticket_count() > 0
    with pytest.raises(ValueError):
        app.scoped(("G1,G2",))  # a code can't smuggle in another


@pytest.mark.parametrize("statement", [
    "DROP TABLE tickets",
    "ALTER TABLE tickets ADD COLUMN x int",
    "TRUNCATE tickets",
    "ALTER TABLE tickets DISABLE ROW LEVEL SECURITY",
    "DROP POLICY tickets_scope ON tickets",
    "CREATE TABLE evil (x int)",
    "DELETE FROM audit_log",
])
def test_the_app_role_may_not_change_the_schema(pg_demo, statement):
    _, app_url, _ = pg_demo
    with psycopg.connect(app_url) as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
        con.execute(statement)


def test_an_older_schema_is_refused_with_the_next_step_when_the_role_may_not_migrate(pg_fresh_url):
    migrate(pg_fresh_url)
    roles = Roles.for_database(pg_fresh_url.rsplit("/", 1)[1])
    with psycopg.connect(pg_fresh_url, autocommit=True) as con:
        con.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(roles.app), sql.Literal(PG_APP_PASSWORD)))
        con.execute("DELETE FROM schema_version WHERE version = (SELECT max(version) FROM schema_version)")
    with pytest.raises(StoreError, match="run `minqing migrate` as the database's owner") as err:
        open_store(pg_login_url(pg_fresh_url, roles.app))
    assert err.value.key == "error.store_needs_migrate" and PG_APP_PASSWORD not in str(err.value)


def test_a_role_without_rights_on_the_tables_is_told_what_to_do(pg_demo, pg_fresh_url):
    open_store(pg_fresh_url).close()  # made by the superuser's open: tables it owns, nothing granted
    _, _, roles = pg_demo
    with pytest.raises(StoreError, match="minqing migrate") as err:
        open_store(pg_login_url(pg_fresh_url, roles.app))
    assert err.value.key == "error.store_denied" and PG_APP_PASSWORD not in str(err.value)


def test_a_community_leader_sees_its_tickets_that_have_no_grid_as_on_sqlite(demo, tmp_path):
    """A ticket linked to a community but to no grid is in that community leader's scope on both backends."""
    admin, app, grid, _ = demo
    units = admin.read_units(level="grid")
    community = units.loc[units["code"] == grid, "parent_code"].iloc[0]
    ticket = admin.read_tickets(TicketFilter(unit_level="grid", unit_codes=(grid,), limit=1)).copy()
    ticket["source_id"] = "NO-GRID-1"
    ticket["grid_code"] = None
    ticket["grid_uid"] = pd.array([pd.NA], dtype="Int64")
    assert ticket["community_code"].iloc[0] == community
    admin.write_tickets(ticket)
    leader = User(role="grid_leader", community_codes=(community,))
    seen = ScopedStore(app, leader).read_tickets(TicketFilter(columns=("source_id",)))
    assert "NO-GRID-1" in set(seen["source_id"])
    assert "NO-GRID-1" not in set(app.scoped((grid,)).read_tickets(TicketFilter())["source_id"])
    lite = open_store(f"sqlite:///{tmp_path / 'lite.sqlite'}")  # the same rule on SQLite (the filter alone)
    lite.write_units(units.drop(columns="unit_uid"))
    lite.write_units(admin.read_units(level="community").drop(columns="unit_uid"))
    lite.write_tickets(ticket.drop(columns=[c for c in ("grid_uid",) if c in ticket]))
    assert set(ScopedStore(lite, leader).read_tickets(TicketFilter(columns=("source_id",)))["source_id"]) == {"NO-GRID-1"}
    lite.close()
