"""``minqing migrate``: bring the store to this program's schema version (and, on PostgreSQL, create its roles).

On a ``postgresql://`` store it runs :func:`minqing.store.postgres.migrate.migrate`
directly, without opening the store, so a new database can be prepared before
anything else touches it; on a ``sqlite:///`` store it opens the store, which
migrates itself. Either way it prints the URL (password as ``***``) and the
schema version before and after; a store newer than the program is refused
(exit code 2).
"""

from __future__ import annotations

import sqlite3

from minqing.cli.common import add_command, shown_url
from minqing.errors import ConfigError

__all__ = ["add_commands", "cmd_migrate"]


def add_commands(sub) -> None:
    """Add ``migrate`` to the ``minqing`` sub-parsers."""
    p = add_command(sub, "migrate", cmd_migrate, needs_store=False,
                    help="upgrade the store's schema to this program's version; on PostgreSQL also create "
                         "the owner, app and reporting roles")
    p.add_argument("--roles", nargs=3, metavar=("OWNER", "APP", "REPORTING"),
                   help="PostgreSQL role names (default: the database's name + _owner, _app, _reporting)")
    p.add_argument("--no-roles", action="store_true",
                   help="PostgreSQL: run as the connected user, create and grant no role")


def cmd_migrate(args, store) -> int:
    """Migrate the store named by ``--db`` (or the settings) and print what was done."""
    from minqing.config import database_url

    url = args.db or database_url()
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in ("sqlite", "postgresql"):
        raise ConfigError(f"can't migrate {shown_url(url)!r}: the store URL must start with sqlite:/// "
                          "or postgresql://", key="error.bad_url", url=shown_url(url))
    print(f"store: {shown_url(url)}")
    if scheme == "sqlite":
        return _migrate_sqlite(url)
    return _migrate_postgres(url, args)


def _migrate_sqlite(url: str) -> int:
    from minqing.config import sqlite_path
    from minqing.store import open_store

    before = _sqlite_version(sqlite_path(url))
    with open_store(url) as store:
        after = store.schema_version()
    print(_versions(before, after))
    return 0


def _sqlite_version(path) -> int:
    """The schema version of the SQLite file at ``path`` as it is (0 for a new or empty file), read only."""
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return con.execute("PRAGMA user_version").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0  # opening the store below says what is wrong with the file


def _migrate_postgres(url: str, args) -> int:
    from minqing.store.postgres.migrate import Roles, connect, migrate, schema_version

    roles = Roles(*args.roles) if args.roles else None
    with connect(url, autocommit=True) as con:
        before = schema_version(con)
        result = migrate(con, roles, manage_roles=not args.no_roles)
        roles = roles or Roles.for_database(con.info.dbname)
    print(_versions(before, result.version, result.applied, result.seconds))
    if args.no_roles:
        print("roles: not managed (--no-roles); the tables belong to the connected user")
        return 0
    made = set(result.roles_created)
    print("roles: " + ", ".join(f"{name} ({what}{', created' if name in made else ''})" for what, name in
                                (("owner", roles.owner), ("app", roles.app), ("reporting", roles.reporting))))
    print("  sign in as the app role, e.g. CREATE ROLE web LOGIN PASSWORD '...' IN ROLE "
          f"{roles.app}; the reporting role reads without personal data")
    return 0


def _versions(before: int, after: int, applied=None, seconds: float | None = None) -> str:
    """``schema version: 0 -> 5 (applied 1, 2, 3, 4, 5 in 0.1 s)``, or ``schema version: 5 (up to date)``."""
    if before == after:
        return f"schema version: {after} (up to date)"
    done = f"applied {', '.join(map(str, applied))}" if applied else "upgraded"
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    return f"schema version: {before} -> {after} ({done}{took})"
