"""The throwaway PostgreSQL + PostGIS server of the tests, and the PostGIS store's migrations and roles."""

import sqlite3
import threading
from importlib import resources

import psycopg
import pytest
from psycopg import sql

from minqing.errors import ConfigError, SchemaVersionError, StoreError
from minqing.store import open_store
from minqing.store.postgres import migrate as pgm
from minqing.store.postgres.migrate import Roles, latest_version, migrate

PG_ONLY_TABLES = {"schema_version", "spatial_ref_sys",  # the version table (SQLite: PRAGMA user_version); PostGIS's
                  "ticket_rollup", "unit_rollup", "place_rollup", "problem_rollup",  # the dashboard's rollups
                  "rollup_dirty"}  # (006_rollups.sql, 008_problem_rollup.sql)
PG_ONLY_COLUMNS = {"tickets": ["geom"]}  # the ticket's point, generated from lon/lat


def pg_columns(url) -> dict[str, list[str]]:
    with psycopg.connect(url) as con:
        rows = con.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' "
            "ORDER BY c.table_name, c.ordinal_position").fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def sqlite_schema(tmp_path):
    """Tables -> columns, and index names, of a new SQLite store."""
    open_store(f"sqlite:///{tmp_path / 's.sqlite'}").close()
    con = sqlite3.connect(tmp_path / "s.sqlite")
    tables = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    columns = {t: [r[1] for r in con.execute(f"PRAGMA table_info({t})")] for t in tables}
    indexes = {r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    con.close()
    return columns, indexes


def test_the_server_runs_postgis_on_loopback(pg_url):
    with psycopg.connect(pg_url) as con:
        assert con.execute("SELECT postgis_version()").fetchone()[0].startswith("3")
        assert con.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
        assert con.execute("SELECT ST_AsText(ST_Point(121.5, 31.28, 4326))").fetchone()[0] == "POINT(121.5 31.28)"


def test_migrate_creates_every_table_and_column_of_the_sqlite_schema(pg_fresh_url, tmp_path):
    result = migrate(pg_fresh_url)
    assert result.applied == list(range(1, latest_version() + 1))
    lite_columns, lite_indexes = sqlite_schema(tmp_path)
    pg = pg_columns(pg_fresh_url)
    assert set(pg) - PG_ONLY_TABLES == set(lite_columns)
    for table, columns in lite_columns.items():
        assert pg[table] == columns + PG_ONLY_COLUMNS.get(table, []), table
    with psycopg.connect(pg_fresh_url) as con:
        indexes = {r[0]: r[1] for r in con.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")}
        geometry = set(con.execute(
            "SELECT f_table_name, f_geometry_column, type, srid FROM geometry_columns").fetchall())
        h3 = con.execute("SELECT data_type FROM information_schema.columns "
                         "WHERE table_name = 'tickets' AND column_name = 'h3_cell'").fetchone()[0]
    assert lite_indexes <= set(indexes)  # the same index names on both stores
    assert geometry == {("units", "geometry", "MULTIPOLYGON", 4326), ("places", "geometry", "GEOMETRY", 4326),
                        ("tickets", "geom", "POINT", 4326)}
    for name in ("units_geometry", "places_geometry", "tickets_geom"):
        assert "USING gist" in indexes[name]
    assert h3 == "bigint" and "tickets_cell" not in indexes  # version 9: no query reads tickets by cell
    # the same versions as the SQLite store, one file name each, but for PostgreSQL's own (row-level security)
    assert result.version == latest_version()
    lite_files = sorted(e.name for e in (resources.files("minqing.store.sqlite") / "sql").iterdir()
                        if e.name.endswith(".sql"))
    pg_files = [name for version, name, _ in pgm.migrations() if version not in pgm.POSTGRES_ONLY]
    assert lite_files == pg_files
    with open_store(f"sqlite:///{tmp_path / 's.sqlite'}") as lite:
        assert lite.schema_version() == max(int(name[:3]) for name in lite_files)


def test_ticket_point_is_generated_from_lon_lat(pg_fresh_url):
    migrate(pg_fresh_url)
    with psycopg.connect(pg_fresh_url) as con:
        con.execute("INSERT INTO tickets (source_id, received_at, channel, kind, category, lon, lat, location_source)"
                    " VALUES (%s, to_timestamp(%s), 'hotline_12345', 'complaint', '02', %s, %s, 'coordinates'),"
                    " ('T2', to_timestamp(0), 'hotline_12345', 'complaint', '02', NULL, NULL, 'none')",
                    ("T1", 1_735_689_600, 121.5, 31.28))
        got = con.execute("SELECT source_id, ST_AsText(geom), extract(epoch FROM received_at)::bigint "
                          "FROM tickets ORDER BY source_id").fetchall()
    assert got == [("T1", "POINT(121.5 31.28)", 1_735_689_600), ("T2", None, 0)]


def test_migrate_twice_is_a_no_op(pg_fresh_url):
    first = migrate(pg_fresh_url)
    before = pg_columns(pg_fresh_url)
    again = migrate(pg_fresh_url)
    assert (again.applied, again.roles_created, again.version) == ([], [], first.version)
    assert pg_columns(pg_fresh_url) == before
    with psycopg.connect(pg_fresh_url) as con:
        versions = [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == list(range(1, latest_version() + 1))


def test_a_database_newer_than_the_code_is_refused(pg_fresh_url):
    migrate(pg_fresh_url)
    newer = latest_version() + 1
    with psycopg.connect(pg_fresh_url) as con:
        con.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)", (newer, f"{newer:03d}_future.sql"))
    with pytest.raises(SchemaVersionError, match="newer than this program") as err:
        migrate(pg_fresh_url)
    assert err.value.params == {"found": newer, "supported": latest_version()}


def test_a_failing_migration_leaves_the_database_as_it_was(pg_fresh_url, monkeypatch):
    migrate(pg_fresh_url)
    real = pgm.migrations()
    broken = (latest_version() + 1, "999_broken.sql", "CREATE TABLE half_done (x int); SELECT 1 / 0;")
    monkeypatch.setattr(pgm, "migrations", lambda: [*real, broken])
    with pytest.raises(StoreError, match="division by zero"):
        migrate(pg_fresh_url)
    with psycopg.connect(pg_fresh_url) as con:
        assert pgm.schema_version(con) == real[-1][0]
        assert con.execute("SELECT to_regclass('half_done')").fetchone()[0] is None


def test_two_migrations_at_once_wait_for_each_other(pg_fresh_url):
    results, errors = [], []

    def run():
        try:
            results.append(migrate(pg_fresh_url))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(len(r.applied) for r in results) == [0, latest_version()]


def _as(con, role):
    con.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


def test_roles_exist_and_the_app_role_has_the_least_privilege(pg_fresh_url):
    result = migrate(pg_fresh_url)
    dbname = pg_fresh_url.rsplit("/", 1)[1]
    roles = Roles.for_database(dbname)
    assert sorted(result.roles_created) == sorted([roles.owner, roles.app, roles.reporting])
    with psycopg.connect(pg_fresh_url, autocommit=True) as con:
        found = dict(con.execute("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s)",
                                 ([roles.owner, roles.app, roles.reporting],)).fetchall())
        assert found == {roles.owner: False, roles.app: False, roles.reporting: False}
        owners = {r[0] for r in con.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public' "
                                            "AND tablename <> 'spatial_ref_sys'")}
        assert owners == {roles.owner}
        _as(con, roles.app)
        con.execute("INSERT INTO meta (key, value) VALUES ('data_version', 'x')")
        con.execute("INSERT INTO audit_log (at, action) VALUES (now(), 'test')")
        assert con.execute("SELECT count(*) FROM users").fetchone()[0] == 0
        for forbidden in ("DROP TABLE tickets", "ALTER TABLE tickets ADD COLUMN x int", "TRUNCATE meta",
                          "DELETE FROM audit_log", "UPDATE audit_log SET actor = 'x'",
                          "DELETE FROM schema_version", "CREATE TABLE sneaky (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(forbidden)
        con.execute("RESET ROLE")
        _as(con, roles.reporting)
        assert con.execute("SELECT count(*) FROM meta").fetchone()[0] == 1
        assert con.execute("SELECT count(category) FROM tickets").fetchone()[0] == 0
        for forbidden in ("SELECT * FROM users", "SELECT caller_phone FROM tickets", "SELECT original FROM quarantine",
                          "INSERT INTO meta (key, value) VALUES ('k', 'v')", "DROP TABLE meta"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(forbidden)


def test_role_names_can_be_given(pg_fresh_url):
    dbname = pg_fresh_url.rsplit("/", 1)[1]
    roles = Roles(f"{dbname}-Owner", f"{dbname} web", f"{dbname}_bi")  # quoted identifiers, not SQL
    assert sorted(migrate(pg_fresh_url, roles).roles_created) == sorted([roles.owner, roles.app, roles.reporting])
    with pytest.raises(ConfigError):
        Roles.for_database("x" * 60)
    with pytest.raises(ConfigError):
        Roles("same", "same", "other").check()


def test_an_unreachable_server_is_a_store_error_without_the_password():
    with pytest.raises(StoreError) as err:
        migrate("postgresql://minqing:s3cret@127.0.0.1:1/minqing")
    assert "s3cret" not in str(err.value) and "***" in str(err.value)
