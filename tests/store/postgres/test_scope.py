"""Grid-leader scope enforced by the server: row-level security on tickets, keyed on a per-transaction setting."""

import psycopg
import pytest
from conftest import PG_APP_PASSWORD, pg_login_url
from psycopg import sql

from minqing.store.postgres.migrate import Roles, migrate
from minqing.store.postgres.scope import NO_GRID, scope_value, set_scope

TICKETS = [("T1", "G1"), ("T2", "G1"), ("T3", "G2"), ("T4", None)]  # T4: not located, in no grid


@pytest.fixture
def scoped_db(pg_fresh_url):
    """A migrated database with four tickets (two in G1, one in G2, one in none); returns (url, roles)."""
    migrate(pg_fresh_url)
    roles = Roles.for_database(pg_fresh_url.rsplit("/", 1)[1])
    with psycopg.connect(pg_fresh_url) as con:
        for role in (roles.app, roles.reporting):
            con.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(PG_APP_PASSWORD)))
        con.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.owner)))  # the owner writes, as imports will
        for source_id, grid in TICKETS:
            con.execute("INSERT INTO tickets (source_id, received_at, channel, kind, category, text, location_source,"
                        " grid_code, caller_phone) VALUES (%s, now(), 'hotline_12345', 'complaint', '02', %s,"
                        " 'coordinates', %s, '13800000000')", (source_id, f"text of {source_id}", grid))
            con.execute("INSERT INTO ticket_changes (source_id, import_id, changed_at, field, old_value, new_value)"
                        " VALUES (%s, 'i1', now(), 'text', 'old', 'new')", (source_id,))
        con.execute("INSERT INTO places (place_id, kind, name, geometry) VALUES ('H1', 'other', 'h', "
                    "ST_SetSRID(ST_MakePoint(121.5, 31.28), 4326))")
        con.execute("INSERT INTO ticket_places (source_id, place_id) VALUES ('T1', 'H1'), ('T3', 'H1')")
        con.execute("INSERT INTO quarantine (import_id, reason, original, row_hash, quarantined_at)"
                    " VALUES ('i1', 'bad_time', '{\"caller\": \"x\"}', 1, now())")
    return pg_fresh_url, roles


def ids(con, query="SELECT source_id FROM tickets ORDER BY source_id", params=()):
    return [r[0] for r in con.execute(query, params)]


def test_the_owner_and_an_unscoped_app_see_every_ticket(scoped_db):
    url, roles = scoped_db
    with psycopg.connect(url) as con:
        con.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.owner)))
        set_scope(con, ["G1"])  # the owner owns the tables: row-level security does not apply to it
        assert ids(con) == ["T1", "T2", "T3", "T4"]
    with psycopg.connect(pg_login_url(url, roles.app)) as app:
        assert app.execute("SELECT current_user").fetchone()[0] == roles.app
        assert ids(app) == []  # no setting at all: fails closed
        assert app.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
        app.rollback()
        set_scope(app, None)  # every grid: '*'
        assert ids(app) == ["T1", "T2", "T3", "T4"]
        assert app.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 1


def test_a_scoped_app_sees_only_its_grids_whatever_it_asks(scoped_db):
    url, roles = scoped_db
    with psycopg.connect(pg_login_url(url, roles.app)) as app:
        set_scope(app, ["G1"])
        assert ids(app) == ["T1", "T2"]
        assert ids(app, "SELECT source_id FROM tickets WHERE grid_code = 'G2'") == []
        assert ids(app, "SELECT source_id FROM tickets WHERE grid_code IS NULL") == []
        assert app.execute("SELECT count(*) FROM tickets WHERE source_id = 'T3'").fetchone()[0] == 0
        # the tables that expose ticket rows follow the tickets
        assert ids(app, "SELECT source_id FROM ticket_places ORDER BY 1") == ["T1"]
        assert ids(app, "SELECT source_id FROM ticket_changes ORDER BY 1") == ["T1", "T2"]
        assert app.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
        # an update or delete of another grid's ticket touches nothing
        assert app.execute("UPDATE tickets SET status = 'x' WHERE source_id = 'T3'").rowcount == 0
        assert app.execute("DELETE FROM tickets WHERE source_id = 'T3'").rowcount == 0
        # and a ticket can't be written into, or moved to, another grid
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            app.execute("UPDATE tickets SET grid_code = 'G2' WHERE source_id = 'T1'")
    with psycopg.connect(pg_login_url(url, roles.app)) as app:
        set_scope(app, ["G1", "G2"])
        assert ids(app) == ["T1", "T2", "T3"]
        set_scope(app, [])  # a scope of no grid is not "no limit"
        assert ids(app) == []
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            app.execute("INSERT INTO tickets (source_id, received_at, channel, kind, category, location_source,"
                        " grid_code) VALUES ('T9', now(), 'c', 'k', '02', 'none', 'G2')")


def test_the_scope_ends_with_its_transaction(scoped_db):
    url, roles = scoped_db
    with psycopg.connect(pg_login_url(url, roles.app)) as app:
        with app.transaction():
            set_scope(app, ["G2"])
            assert ids(app) == ["T3"]
        assert ids(app) == []  # committed: the next transaction has no scope, so sees nothing
        app.rollback()
        set_scope(app, None)
        app.commit()
        assert ids(app) == []  # '*' ended with its transaction too
        app.rollback()
        set_scope(app, ["G2"])
        app.rollback()
        assert ids(app) == []  # rolled back: neither


def test_set_scope_refuses_an_autocommit_connection_outside_a_transaction(scoped_db):
    url, roles = scoped_db
    with psycopg.connect(pg_login_url(url, roles.app), autocommit=True) as app:
        with pytest.raises(ValueError, match="needs a transaction"):
            set_scope(app, ["G1"])
        with app.transaction():
            set_scope(app, ["G1"])
            assert ids(app) == ["T1", "T2"]
        assert ids(app) == []  # the scope ended with the transaction; unscoped sees nothing


def test_the_reporting_role_follows_the_scope_and_reads_no_personal_data(scoped_db):
    url, roles = scoped_db
    with psycopg.connect(pg_login_url(url, roles.reporting)) as rep:
        assert ids(rep) == []  # no scope set: nothing
        rep.rollback()
        set_scope(rep, None)
        assert ids(rep) == ["T1", "T2", "T3", "T4"]
        rep.rollback()
        set_scope(rep, ["G2"])
        assert ids(rep) == ["T3"]
        assert ids(rep, "SELECT source_id FROM ticket_changes") == ["T3"]
        for forbidden in ("SELECT * FROM users", "SELECT caller_phone FROM tickets", "SELECT * FROM tickets"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), rep.transaction():
                rep.execute(forbidden)


def test_the_setting_value():
    assert scope_value(None) == "*"
    assert scope_value([" G2", "G1", "G1"]) == "G1,G2"
    assert scope_value(()) == NO_GRID
    for bad in (["G1,G2"], [""], ["*"]):
        with pytest.raises(ValueError):
            scope_value(bad)
    with pytest.raises(TypeError):
        scope_value("G1")


def test_the_policy_reads_the_setting_once_per_statement(scoped_db):
    url, roles = scoped_db
    with psycopg.connect(pg_login_url(url, roles.app)) as app:
        set_scope(app, ["G1"])
        plan = "\n".join(r[0] for r in app.execute("EXPLAIN SELECT count(*) FROM tickets WHERE grid_code = 'G1'"))
    assert "InitPlan" in plan  # not current_setting() per row
