"""Versioned schema migrations and database roles of the PostgreSQL + PostGIS store.

The schema is the numbered files in ``sql/`` (``001_init.sql``, ...). Version
numbers are per backend (here the ``schema_version`` table, in SQLite ``PRAGMA
user_version``) but shared in meaning: a number is the same change on every
backend that has it, and a backend skips a number whose change it can't have
(:data:`POSTGRES_ONLY`: ``005_scope.sql``, row-level security, which SQLite
lacks; ``006_rollups.sql``, the dashboard's rollup tables, which SQLite does without, and
``007_top_problems.sql``, indexes of those, and ``008_problem_rollup.sql``, one more; ``009_drop_cell_index.sql`` is on both). :func:`migrate` applies the missing ones in
order, all in one transaction under an advisory lock (two migrations at once
wait for each other; a failure leaves the database as it was), records each in
the ``schema_version`` table, and refuses a database whose version is newer
than this program's (:class:`~minqing.errors.SchemaVersionError`).

Roles
-----
Three roles, created by :func:`migrate` when missing, all ``NOLOGIN``: people
and programs sign in as login roles that are members of one of them
(``CREATE ROLE web LOGIN PASSWORD '...' IN ROLE minqing_app``), or an
administrator gives one of them ``LOGIN`` and a password. Role names are the
database's name with a suffix (database ``minqing``: ``minqing_owner``,
``minqing_app``, ``minqing_reporting``), or any names given as :class:`Roles`.

owner
    Owns the schema: every table, index and sequence. Migrations run as this
    role (``SET ROLE``), so the user running :func:`migrate` must be a superuser
    or may create roles and grant membership; installing PostGIS
    (``CREATE EXTENSION postgis``) takes a superuser the first time.
app
    What the application connects as, with the least it needs: reads and
    writes the data tables; may only add rows to the append-only history
    (``audit_log``, ``intervention_history``, ``ticket_changes``) and only read
    ``schema_version``. No ``TRUNCATE``, no DDL: it can't drop or alter a table.
reporting
    Read-only, for reports and ad-hoc SQL: reads every table except ``users``
    (password hashes, sign-in state), without the columns that hold callers'
    personal data as given (:data:`REPORTING_WITHHELD`). Free text such as
    ``tickets.text`` stays readable and may still name people.

Scope
-----
The app and reporting roles see tickets under row-level security
(``005_scope.sql``), keyed on the transaction-local setting
``minqing.scope_grids`` (:func:`minqing.store.postgres.scope.set_scope`):
``'*'``, every ticket (whole-district roles: admin, planner, meeting;
imports); a comma-separated list of grid codes, only the tickets whose
``grid_code`` is in it (a grid leader), whatever the query asks for, and no
write into another grid; unset or empty, no ticket at all (fails closed). ``ticket_places`` and ``ticket_changes`` follow their
tickets; ``quarantine`` (rows of no grid) is hidden from a scoped transaction.
The policies are for ``PUBLIC``: every role but the owner follows them; the
owner (owner of the tables, no ``FORCE``) and superusers bypass them.

Every statement is parameterised; identifiers go through :mod:`psycopg.sql`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import resources

import psycopg
from psycopg import sql

from minqing.errors import ConfigError, SchemaVersionError, StoreError
from minqing.model import CATEGORIES, VOCABULARIES

MIGRATE_LOCK = 7_331_004_101
"""Advisory lock key held by a migration (transaction-scoped)."""

APPEND_ONLY = ("audit_log", "intervention_history", "ticket_changes")
"""Tables the app role may read and add rows to, but not change or delete."""

POSTGRES_ONLY = (5, 6, 7, 8)
"""Versions with no SQLite counterpart (the SQLite store skips these numbers)."""

READ_ONLY = ("schema_version",)
"""Tables the app role may only read."""

REPORTING_WITHHELD: dict[str, tuple[str, ...] | None] = {
    "users": None,  # the whole table
    "tickets": ("caller_name", "caller_phone"),
    "quarantine": ("original",),
    "ticket_changes": ("old_value", "new_value"),
}
"""Tables (``None``) or columns the reporting role may not read."""

_NAME_MAX = 63  # PostgreSQL truncates longer identifiers


@dataclass(frozen=True)
class Roles:
    """The names of the store's three roles (see the module docstring)."""

    owner: str
    app: str
    reporting: str

    @classmethod
    def for_database(cls, dbname: str) -> Roles:
        """Return the roles named after database ``dbname``: ``<db>_owner``, ``<db>_app``, ``<db>_reporting``."""
        roles = cls(f"{dbname}_owner", f"{dbname}_app", f"{dbname}_reporting")
        roles.check()
        return roles

    def check(self) -> None:
        """Raise ConfigError for a name PostgreSQL would truncate or two roles of the same name."""
        names = (self.owner, self.app, self.reporting)
        long = [n for n in names if not n or len(n.encode()) > _NAME_MAX]
        if long or len(set(names)) < 3:
            raise ConfigError(
                f"role names {names!r} must be three different names of 1 to {_NAME_MAX} bytes; "
                "give them explicitly (Roles(owner=..., app=..., reporting=...))",
                key="error.config",
            )


@dataclass
class MigrationResult:
    """What :func:`migrate` did.

    Attributes
    ----------
    version : int
        The schema version after the run.
    applied : list of int
        The versions applied by this run (empty when the database was current).
    roles_created : list of str
        The roles this run created.
    seconds : float
        Wall time of the run.
    """

    version: int
    applied: list[int] = field(default_factory=list)
    roles_created: list[str] = field(default_factory=list)
    seconds: float = 0.0


def migrations() -> list[tuple[int, str, str]]:
    """Return ``(version, file name, SQL)`` of every migration, in order."""
    folder = resources.files("minqing.store.postgres") / "sql"
    found = [(int(e.name[:3]), e.name, e.read_text(encoding="utf-8"))
             for e in folder.iterdir() if e.name.endswith(".sql") and e.name[:3].isdigit()]
    return sorted(found)


def latest_version() -> int:
    """Return the schema version this program writes."""
    return migrations()[-1][0]


def schema_version(con: psycopg.Connection) -> int:
    """Return the database's schema version (0 when no migration was applied)."""
    if con.execute("SELECT to_regclass('public.schema_version')").fetchone()[0] is None:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM public.schema_version").fetchone()[0]


def check_version(version: int, where: str) -> None:
    """Raise SchemaVersionError when ``version`` is newer than this program's schema."""
    latest = latest_version()
    if version > latest:
        raise SchemaVersionError(
            f"{where} has schema version {version}, newer than this program's {latest}; "
            "upgrade Minqing Map or open another store.",
            key="error.schema_version",
            found=version,
            supported=latest,
        )


def migrate(target: str | psycopg.Connection, roles: Roles | None = None, *,
            manage_roles: bool = True) -> MigrationResult:
    """Bring a database to this program's schema version, creating the store's roles.

    Parameters
    ----------
    target : str or psycopg.Connection
        A ``postgresql://`` URL (or libpq connection string), or an open connection: the run
        commits on it (or, inside a transaction the caller opened, ends in a savepoint of it).
    roles : Roles, optional
        The role names; by default :meth:`Roles.for_database` of the database's name.
    manage_roles : bool
        False to run as the connected user without creating roles or granting anything.

    Returns
    -------
    MigrationResult

    Raises
    ------
    SchemaVersionError
        The database's schema is newer than this program's.
    StoreError
        The database can't be reached or a migration failed (nothing was changed).
    """
    if isinstance(target, str):
        with connect(target) as con:
            return migrate(con, roles, manage_roles=manage_roles)
    t0 = time.perf_counter()
    con = target
    dbname = con.info.dbname
    roles = roles or Roles.for_database(dbname)
    roles.check()
    try:
        with con.transaction():
            result = _migrate(con, roles if manage_roles else None)
    except (SchemaVersionError, StoreError):
        raise
    except psycopg.Error as exc:
        raise _failed(dbname, exc) from exc
    result.seconds = time.perf_counter() - t0
    return result


def connect(url: str, *, autocommit: bool = False, timeout: float = 10) -> psycopg.Connection:
    """Open a connection to the database of ``url``, or say in one line why not.

    Parameters
    ----------
    url : str
        A ``postgresql://`` URL (``postgresql+psycopg://`` too) or a libpq connection string.
    autocommit : bool
        The connection's autocommit mode.
    timeout : float
        Seconds to wait for the server.

    Raises
    ------
    StoreError
        The server can't be reached or refuses the sign-in; the message shows the URL with ``***`` for a password.
    """
    from minqing.privacy import redact_url

    scheme, sep, rest = url.partition("://")
    if sep and scheme.startswith("postgresql+"):
        url = f"postgresql://{rest}"
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=max(1, round(timeout)))
    except psycopg.Error as exc:
        shown = redact_url(url)
        reason = _reason(exc)
        raise StoreError(
            f"can't connect to the PostgreSQL store {shown}: {reason}; check that the server runs and "
            "the URL (--db or MINQING_DATABASE_URL)",
            key="error.store_open", path=shown, reason=reason,
        ) from exc


def _reason(exc: Exception) -> str:
    """The first line of a driver error (libpq's messages go on with hints), or its type."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _failed(where: str, exc: Exception) -> StoreError:
    reason = _reason(exc)
    return StoreError(f"migrating the PostgreSQL store {where} failed: {reason}",
                      key="error.store_migrate", path=where, reason=reason)


def _migrate(con: psycopg.Connection, roles: Roles | None) -> MigrationResult:
    """The body of :func:`migrate`, inside its transaction."""
    con.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
    con.execute("SET LOCAL search_path = public")
    current = schema_version(con)
    check_version(current, f"database {con.info.dbname!r}")
    _ensure_postgis(con)
    result = MigrationResult(version=current)
    if roles is not None:
        result.roles_created = _ensure_roles(con, roles)
        con.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(roles.owner)))
    for version, name, text in migrations():
        if version <= current:
            continue
        con.execute(text)
        con.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)", (version, name))
        result.applied.append(version)
        result.version = version
    if result.applied:
        _seed_vocabularies(con)
    if roles is not None:
        _grant(con, roles)
    return result


def _seed_vocabularies(con: psycopg.Connection) -> None:
    """Write the labels of the codes (``vocab``, ``categories``) for SQL readers, as this program knows them."""
    with con.cursor() as cur:
        cur.executemany(
            "INSERT INTO vocab (vocab, code, zh, en) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (vocab, code) DO UPDATE SET zh = excluded.zh, en = excluded.en",
            [(v, t.code, t.zh, t.en) for v, terms in VOCABULARIES.items() for t in terms.values()])
        cur.executemany(
            "INSERT INTO categories (code, parent, level, zh, en) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (code) DO UPDATE SET parent = excluded.parent, level = excluded.level, "
            "zh = excluded.zh, en = excluded.en",
            [(c.code, c.parent, c.level, c.zh, c.en) for c in CATEGORIES.values()])


def _ensure_postgis(con: psycopg.Connection) -> None:
    if con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
        return
    if not con.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone():
        raise StoreError(
            f"PostGIS is not installed on the server of database {con.info.dbname!r}; "
            "install it (Debian: postgresql-NN-postgis-3) and run the migration again",
            key="error.store_migrate", path=con.info.dbname, reason="PostGIS is not installed on the server",
        )
    try:
        with con.transaction():
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.errors.InsufficientPrivilege as exc:
        raise StoreError(
            f"PostGIS is not enabled in database {con.info.dbname!r} and {con.info.user!r} may not enable it; "
            "ask a superuser to run CREATE EXTENSION postgis there, then migrate again",
            key="error.store_migrate", path=con.info.dbname, reason="CREATE EXTENSION postgis needs a superuser",
        ) from exc


def _ensure_roles(con: psycopg.Connection, roles: Roles) -> list[str]:
    """Create the missing roles, let the current user act as the owner; return the names created."""
    wanted = [roles.owner, roles.app, roles.reporting]
    have = {r[0] for r in con.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (wanted,))}
    created = []
    for name in wanted:
        if name in have:
            continue
        try:
            with con.transaction():
                con.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
            created.append(name)
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            pass  # created meanwhile by a migration of another database
        except psycopg.errors.InsufficientPrivilege as exc:
            raise _role_error(con, f"may not create role {name!r}") from exc
    user = con.execute("SELECT current_user").fetchone()[0]
    if not con.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (roles.owner,)).fetchone()[0]:
        try:
            with con.transaction():
                con.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(roles.owner), sql.Identifier(user)))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise _role_error(con, f"is not a member of {roles.owner!r} and may not join it") from exc
    public, db = sql.Identifier("public"), sql.Identifier(con.info.dbname)
    owner, app, rep = (sql.Identifier(n) for n in wanted)
    if not con.execute("SELECT has_schema_privilege(%s, 'public', 'CREATE')", (roles.owner,)).fetchone()[0]:
        con.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(public, owner))
    con.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}, {}").format(public, app, rep))
    con.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}, {}, {}").format(db, owner, app, rep))
    return created


def _role_error(con: psycopg.Connection, what: str) -> StoreError:
    reason = f"{con.info.user!r} {what}"
    return StoreError(
        f"migrating database {con.info.dbname!r}: {reason}; run the migration as a superuser "
        "(or a role with CREATEROLE), or create the roles first",
        key="error.store_migrate", path=con.info.dbname, reason=reason,
    )


def _grant(con: psycopg.Connection, roles: Roles) -> None:
    """Grant the app and reporting roles what they need on the owner's tables and sequences (as the owner)."""
    owned = con.execute(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S') "
        "AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = %s) "
        "ORDER BY c.relname", (roles.owner,)).fetchall()
    tables = [name for name, kind in owned if kind != "S"]
    sequences = [name for name, kind in owned if kind == "S"]
    app, rep = sql.Identifier(roles.app), sql.Identifier(roles.reporting)

    def grant(privileges: str, names, role, on: str = "TABLE"):
        if names:
            con.execute(sql.SQL("GRANT {} ON {} {} TO {}").format(
                sql.SQL(privileges), sql.SQL(on), sql.SQL(", ").join(map(sql.Identifier, names)), role))

    writable = [t for t in tables if t not in APPEND_ONLY + READ_ONLY]
    grant("SELECT, INSERT, UPDATE, DELETE", writable, app)
    grant("SELECT, INSERT", [t for t in tables if t in APPEND_ONLY], app)
    grant("SELECT", [t for t in tables if t in READ_ONLY], app)
    grant("USAGE, SELECT", sequences, app, on="SEQUENCE")
    grant("SELECT", [t for t in tables if t not in REPORTING_WITHHELD], rep)
    for table, hidden in REPORTING_WITHHELD.items():
        if table not in tables:
            continue
        con.execute(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(sql.Identifier(table), rep))
        if hidden is None:
            continue
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = %s ORDER BY ordinal_position", (table,)) if r[0] not in hidden]
        con.execute(sql.SQL("GRANT SELECT ({}) ON TABLE {} TO {}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table), rep))
