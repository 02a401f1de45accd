"""``minqing migrate`` on a PostgreSQL database (the throwaway server) and on a SQLite file."""

import sqlite3

import psycopg

from minqing.cli.main import main
from minqing.store.postgres.migrate import Roles, latest_version


def with_password(url: str, password: str) -> str:
    """``url`` (``postgresql://user@host...``) with ``password`` (the test server trusts local sign-ins)."""
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{password}@{host}"


def test_migrate_a_new_postgres_database_creates_the_schema_and_roles(pg_fresh_url, capsys):
    url = with_password(pg_fresh_url, "s3cret")
    roles = Roles.for_database(pg_fresh_url.rsplit("/", 1)[1])
    assert main(["--db", url, "migrate"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out and f"store: {with_password(pg_fresh_url, '***')}" in out
    assert f"schema version: 0 -> {latest_version()} (applied 1, 2, 3, 4, 5" in out
    for what, name in (("owner", roles.owner), ("app", roles.app), ("reporting", roles.reporting)):
        assert f"{name} ({what}, created)" in out
    with psycopg.connect(pg_fresh_url) as con:
        assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == latest_version()
    # again: nothing to do, the roles exist
    assert main(["--db", url, "migrate"]) == 0
    out = capsys.readouterr().out
    assert f"schema version: {latest_version()} (up to date)" in out and "created" not in out


def test_migrate_reads_the_url_from_the_environment(pg_fresh_url, capsys, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", pg_fresh_url.replace("postgresql://", "postgresql+psycopg://"))
    assert main(["migrate", "--no-roles"]) == 0
    out = capsys.readouterr().out
    assert f"-> {latest_version()}" in out and "not managed" in out


def test_a_postgres_database_newer_than_the_code_is_refused(pg_fresh_url, capsys):
    assert main(["--db", pg_fresh_url, "migrate"]) == 0
    with psycopg.connect(pg_fresh_url) as con:
        con.execute("INSERT INTO schema_version (version, name) VALUES (%s, 'future.sql')", (latest_version() + 1,))
    capsys.readouterr()
    assert main(["--db", pg_fresh_url, "migrate"]) == 2
    err = capsys.readouterr().err
    assert "newer than this program" in err and "Traceback" not in err


def test_a_server_that_is_down_is_one_line_without_the_password(capsys):
    assert main(["--db", "postgresql://minqing:s3cret@127.0.0.1:1/minqing", "migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: can't connect to the PostgreSQL store postgresql://minqing:***@127.0.0.1:1/minqing")
    assert "s3cret" not in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_migrate_a_sqlite_file(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    assert main(["--db", url, "migrate"]) == 0
    out = capsys.readouterr().out
    con = sqlite3.connect(tmp_path / "m.sqlite")
    version = con.execute("PRAGMA user_version").fetchone()[0]
    assert f"store: {url}" in out and f"schema version: 0 -> {version}" in out
    assert main(["--db", url, "migrate"]) == 0
    assert f"schema version: {version} (up to date)" in capsys.readouterr().out
    con.execute(f"PRAGMA user_version = {version + 1}")
    con.close()
    assert main(["--db", url, "migrate"]) == 2
    assert "newer than this program" in capsys.readouterr().err


def test_migrate_refuses_another_kind_of_url(capsys):
    assert main(["--db", "mysql://u:pw@h/db", "migrate"]) == 2
    err = capsys.readouterr().err
    assert "sqlite:///" in err and "pw" not in err
