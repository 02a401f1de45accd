"""The server store: PostgreSQL with PostGIS, through psycopg 3 and a connection pool.

This module holds the pool, migrations on open, units, places and tickets; the rest of
:class:`PostgresStore` is mixed in from its neighbours, module by module as in the
SQLite store: :mod:`.aggregates` (the dashboard's counts in SQL, read from the rollup tables that
:mod:`.rollups` keeps current in every write's transaction), :mod:`.interventions`,
:mod:`.accounts` and :mod:`.imports`. What every method returns is the contract of
:mod:`minqing.store.contract`; the schema is ``sql/00*.sql`` (:mod:`.migrate`).

Types on the way in and out (the SQLite store's conventions): times are timestamptz,
written with ``to_timestamp(epoch)`` and read as ``extract(epoch ...)::bigint``; days are
``date``, read as ``'YYYY-MM-DD'`` text; flags are boolean; geometries go through WKB
(``ST_GeomFromWKB`` / ``ST_AsBinary``), units as MultiPolygon (``ST_Multi``, a single
part read back as its polygon). Dashboard reads run under ``statement_timeout``
(:data:`TIMEOUT_ENV`, 30 s by default); writes have none.
"""

from __future__ import annotations

import copy
import os
import re
import uuid
from collections import Counter
from contextlib import contextmanager

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
from psycopg_pool import ConnectionPool, PoolTimeout

from minqing.citytime import META_KEY as TZ_META_KEY
from minqing.errors import ConfigError, StoreError
from minqing.model import PLACE_COLUMNS, TICKET_COLUMNS, UNIT_COLUMNS
from minqing.privacy import redact_url
from minqing.store.base import Store, TicketFilter
from minqing.store.checks import check_place_kinds, check_unit_levels, ticket_columns
from minqing.store.convert import epoch_of, epoch_to_times, rows, ticket_frame
from minqing.store.postgres.accounts import AccountsMixin
from minqing.store.postgres.aggregates import AggregatesMixin
from minqing.store.postgres.imports import IngestMixin
from minqing.store.postgres.interventions import InterventionsMixin
from minqing.store.postgres.migrate import (
    check_version,
    latest_version,
    migrate,
    schema_version,
)
from minqing.store.postgres.rollups import mark_all, refresh_rollups, rollups_current
from minqing.store.postgres.rows import RowsMixin
from minqing.store.postgres.scope import scope_value, set_scope
from minqing.store.postgres.util import (
    copy_rows,
    create_ticket_stage,
    insert_place_links,
    ticket_columns_sql,
    ticket_values_sql,
)
from minqing.store.sqlfilter import POSTGRES, where_sql

TIMEOUT_ENV = "MINQING_PG_STATEMENT_TIMEOUT_MS"
"""Environment variable: the statement timeout of reads, in milliseconds (0: none)."""
DEFAULT_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_S = 10
_TEXT_ORDER = 'COLLATE "C"'  # byte order, as SQLite compares text, whatever the database's collation


def statement_timeout_ms() -> int:
    """Return the read statement timeout in force (``MINQING_PG_STATEMENT_TIMEOUT_MS``, default 30 s)."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        return max(0, int(raw)) if raw else DEFAULT_TIMEOUT_MS
    except ValueError:
        raise ConfigError(f"{TIMEOUT_ENV}={raw!r} is not a number of milliseconds (e.g. 30000; 0: no limit)",
                          key="error.config") from None


def conninfo(url: str) -> str:
    """Return the libpq URL of a store URL (``postgresql+psycopg://`` and ``postgres://`` accepted)."""
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", url)


class PostgresStore(AggregatesMixin, InterventionsMixin, AccountsMixin, IngestMixin, RowsMixin, Store):
    """Store backed by a PostgreSQL + PostGIS database, through a small pool of connections.

    Opening checks the schema version and migrates an older schema as the connected user
    when that user may (else :class:`StoreError` ``error.store_needs_migrate``: run
    ``minqing migrate`` as the owner; see :mod:`minqing.store.postgres.migrate` for the roles
    of a real deployment). Every read and write is one transaction that first sets its scope
    (:func:`~minqing.store.postgres.scope.set_scope`): every grid for the store as opened,
    some grids for a view of :meth:`scoped`.

    Parameters
    ----------
    url : str
        ``postgresql://user:password@host:port/database`` (the password is never shown).
    min_size, max_size : int
        The pool's bounds.
    timeout_ms : int, optional
        The statement timeout of reads; by default :func:`statement_timeout_ms`.

    Raises
    ------
    StoreError
        The server can't be reached or the migration failed.
    """

    def __init__(self, url: str, min_size: int = 1, max_size: int = 8, timeout_ms: int | None = None):
        self.url = url
        self.shown_url = redact_url(url)
        self._conninfo = conninfo(url)
        self.timeout_ms = statement_timeout_ms() if timeout_ms is None else int(timeout_ms)
        self._scope: tuple[str, ...] | None = None  # every grid: see scoped()
        self._communities: tuple[str, ...] = ()
        self._owns_pool = True
        self.rollup_uses: Counter = Counter()  # aggregates read from the rollups / from the raw tickets (.aggregates)
        with self._errors("open"), psycopg.connect(self._conninfo, autocommit=True,
                                                   connect_timeout=CONNECT_TIMEOUT_S) as con:
            self._open_schema(con)
            if not rollups_current(con):  # tickets stored before the rollups (migration 006): rolled up once
                with con.transaction():
                    set_scope(con, None)  # every grid
                    refresh_rollups(con)
        self._pool = ConnectionPool(
            self._conninfo, min_size=min_size, max_size=max_size, open=True, name="minqing",
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
            configure=self._configure, check=ConnectionPool.check_connection, timeout=CONNECT_TIMEOUT_S + 5,
        )

    def _open_schema(self, con: psycopg.Connection) -> None:
        """Check the schema on open; migrate it only when it is older and the connected role may.

        A current schema costs one read and no lock or DDL, so the app role (which may not
        change the schema) opens the store as it is; an older one is migrated by a role that
        may (the owner, a superuser), else refused with a clear next step.
        """
        version = schema_version(con)
        if version == latest_version():
            return
        check_version(version, f"the store {self.shown_url}")
        if not _may_migrate(con, version):
            user = con.info.user
            raise StoreError(
                f"the store {self.shown_url} has schema version {version}, older than this program's "
                f"{latest_version()}, and {user!r} may not change the schema; run `minqing migrate` as the "
                "database's owner (or a superuser), then open it again",
                key="error.store_needs_migrate", url=self.shown_url, found=version, supported=latest_version(),
                user=user)
        migrate(con, manage_roles=False)

    def scoped(self, grid_codes, community_codes=()):
        """A view of this store, on the same pool, whose transactions see only the tickets of ``grid_codes``.

        The server enforces it: every transaction of the view starts with
        :func:`~minqing.store.postgres.scope.set_scope` (row-level security, ``sql/005_scope.sql``),
        so a role under the policies (the app role) gets no other grid's ticket whatever the
        query asks for. ``None``: every grid, as the store itself. Closing the view leaves the
        pool open; the store that opened it closes it.
        """
        scope = None if grid_codes is None else tuple(grid_codes)
        scope_value(scope)  # refuse a bad code here, not on the first read
        scope_value(tuple(community_codes))
        view = copy.copy(self)
        view._scope = scope
        view._communities = tuple(community_codes)
        view._owns_pool = False
        return view

    # -- plumbing ----------------------------------------------------------------------
    def _configure(self, con: psycopg.Connection) -> None:
        """Set up a new pooled connection: the reads' statement timeout."""
        con.execute("SELECT set_config('statement_timeout', %s, false)", (str(self.timeout_ms),))

    @contextmanager
    def _errors(self, action: str = "read"):
        """Turn a lost or unreachable server, or a read over the timeout, into a StoreError (no password shown)."""
        try:
            yield
        except psycopg.errors.QueryCanceled as exc:
            raise StoreError(
                f"the store {self.shown_url} took longer than {self.timeout_ms} ms to answer ({_first_line(exc)}); "
                f"narrow the period or the filters, or raise {TIMEOUT_ENV}",
                key="error.store_timeout", url=self.shown_url, ms=self.timeout_ms) from exc
        except psycopg.errors.InsufficientPrivilege as exc:
            reason = _first_line(exc)
            raise StoreError(
                f"the store {self.shown_url} refused the {action} ({reason}): the signed-in role lacks the rights; "
                "run `minqing migrate` as the database's owner (it grants the app role what it needs) and sign in "
                "as the app role", key="error.store_denied", url=self.shown_url, action=action, reason=reason) from exc
        except (psycopg.OperationalError, PoolTimeout) as exc:
            reason = _first_line(exc)
            if not _connection_lost(exc):  # the server answered: e.g. its disk is full
                raise StoreError(
                    f"the store {self.shown_url} failed during {action} ({reason}); nothing was written by the "
                    "failed statement: ask the database's administrator to check the server, then retry",
                    key="error.store_io", path=self.shown_url, action=action, reason=reason) from exc
            raise StoreError(
                f"cannot reach the PostgreSQL store {self.shown_url} during {action} ({reason}); check that the "
                "server is running and the address, user and password in MINQING_DATABASE_URL, then retry",
                key="error.store_unreachable", url=self.shown_url, reason=reason) from exc

    @contextmanager
    def _tx(self):
        """A pooled connection in one transaction (committed at the end, rolled back on any exception); no timeout.

        The transaction first sets its scope (:meth:`scoped`), as every read does.
        """
        with self._errors("write"), self._pool.connection() as con, con.transaction():
            con.execute("SELECT set_config('statement_timeout', '0', true)")
            set_scope(con, self._scope, self._communities)
            yield con

    @contextmanager
    def _read(self):
        """A pooled connection for reads: one transaction under the scope (:meth:`scoped`) and the statement timeout.

        The transaction costs two round trips more than an autocommit read did (``BEGIN`` with
        the scope's ``set_config``, and ``COMMIT``): about 0.17 ms, measured with
        ``benchmarks/bench_pg_scope_tx.py`` (docs/scaling.md); pipelining them was no faster.
        """
        with self._errors("read"), self._pool.connection() as con, con.transaction():
            set_scope(con, self._scope, self._communities)
            yield con

    def _query(self, sql: str, params=()) -> pd.DataFrame:
        with self._read() as con:
            cur = con.execute(sql, params)
            data = cur.fetchall()
            return pd.DataFrame(data, columns=[d.name for d in cur.description])

    def _scalar(self, sql: str, params=()):
        with self._read() as con:
            return con.execute(sql, params).fetchone()[0]

    def _read_log(self, sql: str, key: str, value) -> pd.DataFrame:
        """Rows of a change log (``sql`` selects them; all, or those whose ``key`` is ``value``), oldest first."""
        params: list = []
        if value is not None:
            sql += f" WHERE {key} = %s"
            params.append(value)
        df = self._query(sql + " ORDER BY changed_at, ctid", params)
        df["changed_at"] = epoch_to_times(df["changed_at"], index=df.index, tz=self.timezone)
        return df

    def schema_version(self) -> int:
        with self._read() as con:
            return schema_version(con)

    def close(self) -> None:
        if self._owns_pool:  # a scoped view shares its store's pool
            self._pool.close()

    @staticmethod
    def _bump(con) -> None:
        con.execute("INSERT INTO meta (key, value) VALUES ('data_version', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (uuid.uuid4().hex,))

    # -- metadata --------------------------------------------------------------------------
    def get_meta(self, key, default=None):
        with self._read() as con:
            row = con.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key, value):
        with self._tx() as con:
            con.execute("INSERT INTO meta (key, value) VALUES (%s, %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, str(value)))
            if key == TZ_META_KEY:  # the rollups' months are local: another zone moves them
                mark_all(con)
                refresh_rollups(con)

    # -- units and places --------------------------------------------------------------------
    def write_units(self, units):
        check_unit_levels(units["level"])
        units = units.to_crs(4326) if units.crs is not None else units
        cols = list(UNIT_COLUMNS)
        data = units.drop(columns="geometry").copy()
        return self._upsert_shapes("units", cols, data, units.geometry, ("code", "valid_from"),
                                   "ST_Multi(ST_GeomFromWKB(%s, 4326))")

    def _upsert_shapes(self, table: str, cols: list[str], data: pd.DataFrame, geometry, key: tuple[str, ...],
                       geom_sql: str) -> int:
        """Insert or update rows of ``table`` (``cols`` of ``data`` plus ``geometry`` through ``geom_sql``) by ``key``."""
        data["geometry"] = shapely.to_wkb(geometry.values)
        values = ", ".join(["%s"] * len(cols) + [geom_sql])
        update = ", ".join(f"{c} = excluded.{c}" for c in cols + ["geometry"] if c not in key)
        with self._tx() as con, con.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}, geometry) VALUES ({values}) "
                f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {update}",
                rows(data, cols + ["geometry"]))
            self._bump(con)
        return len(data)

    def read_units(self, level=None, at=None):
        cols = [f"to_char({c}, 'YYYY-MM-DD') AS {c}" if c in ("valid_from", "valid_to") else c for c in UNIT_COLUMNS]
        sql = (f"SELECT unit_uid, {', '.join(cols)}, ST_AsBinary(CASE WHEN ST_NumGeometries(geometry) = 1 "
               "THEN ST_GeometryN(geometry, 1) ELSE geometry END) AS geometry FROM units WHERE true")
        params: list = []
        if level is not None:
            sql += " AND level = %s"
            params.append(level)
        if at is not None:
            day = str(pd.Timestamp(at).date())
            sql += " AND valid_from <= %s::date AND (valid_to IS NULL OR valid_to > %s::date)"
            params += [day, day]
        df = self._query(sql + f" ORDER BY level {_TEXT_ORDER}, code {_TEXT_ORDER}, units.valid_from", params)
        geom = shapely.from_wkb(df.pop("geometry").to_numpy()) if len(df) else []
        df["population"] = df["population"].astype("Int64")
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geom, crs=4326).values, crs=4326)

    def write_places(self, places):
        check_place_kinds(places["kind"])
        places = places.to_crs(4326) if places.crs is not None else places
        cols = list(PLACE_COLUMNS)
        data = places.drop(columns="geometry").copy()
        data["synthetic"] = data.get("synthetic", False)
        data["synthetic"] = data["synthetic"].fillna(False).astype(bool).astype(object)
        return self._upsert_shapes("places", cols, data, places.geometry, ("place_id",), "ST_GeomFromWKB(%s, 4326)")

    def read_places(self):
        df = self._query(f"SELECT {', '.join(PLACE_COLUMNS)}, ST_AsBinary(geometry) AS geometry FROM places "
                         f"ORDER BY place_id {_TEXT_ORDER}")
        geom = shapely.from_wkb(df.pop("geometry").to_numpy()) if len(df) else []
        df["synthetic"] = df["synthetic"].astype(bool)
        for c in ("radius_m", "buffer_m"):
            df[c] = df[c].astype("float64")
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geom, crs=4326).values, crs=4326)

    # -- tickets ---------------------------------------------------------------------------------
    def write_tickets(self, tickets, place_links=None):
        tz = self.timezone
        with self._tx() as con:
            create_ticket_stage(con, "_w_tickets")
            copy_rows(con, "_w_tickets", TICKET_COLUMNS, rows(tickets, list(TICKET_COLUMNS), tz))
            self._upsert_tickets(con, "_w_tickets")
            if place_links is not None:
                con.execute("DELETE FROM ticket_places WHERE source_id IN (SELECT source_id FROM _w_tickets)")
                insert_place_links(con, place_links)
            refresh_rollups(con)
            self._bump(con)
        return len(tickets)

    @staticmethod
    def _upsert_tickets(con, table: str, where: str = "") -> None:
        """Insert or update the tickets staged in ``table`` (epoch times) by source id."""
        cols = list(TICKET_COLUMNS)
        update = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "source_id")
        con.execute(f"INSERT INTO tickets ({', '.join(cols)}) SELECT {', '.join(ticket_values_sql(cols))} "
                    f"FROM {table}{where} ON CONFLICT (source_id) DO UPDATE SET {update}")

    def _epoch_param(self, value) -> int:
        return epoch_of(value, self.timezone)

    def _where(self, where: TicketFilter | None, alias: str = "") -> tuple[str, list]:
        return where_sql(where, POSTGRES, self._epoch_param, alias)

    def count_where(self, where=None):
        clause, params = self._where(where)
        return self._scalar(f"SELECT COUNT(*) FROM tickets{clause}", params)

    def read_tickets(self, where=None):
        cols = ticket_columns(where)
        clause, params = self._where(where)
        desc = " DESC" if where is not None and where.newest_first else ""
        order = f"tickets.received_at{desc}, tickets.source_id {_TEXT_ORDER}{desc}"
        page = ""
        if where is not None and where.limit is not None:
            page = " LIMIT %s OFFSET %s"
            params = [*params, int(where.limit), int(where.offset or 0)]
        df = self._query(f"SELECT {', '.join(ticket_columns_sql(cols))} FROM tickets{clause} ORDER BY {order}{page}",
                         params)
        return ticket_frame(df, self.timezone)

    def read_ticket_places(self, place_ids=None):
        sql = "SELECT source_id, place_id FROM ticket_places"
        params: list = []
        if place_ids is not None:
            sql += " WHERE " + POSTGRES.in_("place_id", place_ids, params)
        return self._query(sql + f" ORDER BY source_id {_TEXT_ORDER}, place_id {_TEXT_ORDER}", params)

    def received_range(self):
        with self._read() as con:
            lo, hi = con.execute("SELECT extract(epoch FROM min(received_at))::bigint, "
                                 "extract(epoch FROM max(received_at))::bigint FROM tickets").fetchone()
        if lo is None:
            return None, None
        first, last = epoch_to_times([lo, hi], tz=self.timezone)
        return first, last

    def ticket_count(self):
        return self._scalar("SELECT COUNT(*) FROM tickets")

    def read_ticket_places_where(self, where=None):
        clause, params = self._where(where, alias="t")
        return self._query(
            "SELECT tp.source_id, tp.place_id FROM ticket_places tp JOIN tickets t ON t.source_id = tp.source_id"
            f"{clause}",
            params,
        )


def _may_migrate(con: psycopg.Connection, version: int) -> bool:
    """True when the connected role may bring the schema from ``version`` up: a superuser, the owner (or a member
    of it) of the schema's tables, or, for a database with no schema yet, a role that may create tables."""
    if con.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
        return True
    if version == 0:
        return con.execute("SELECT has_schema_privilege('public', 'CREATE')").fetchone()[0]
    return con.execute("SELECT pg_has_role(relowner, 'USAGE') FROM pg_class "
                       "WHERE oid = 'public.schema_version'::regclass").fetchone()[0]


def _connection_lost(exc: BaseException) -> bool:
    """True when ``exc`` says the server can't be reached, refused the sign-in or cut the connection.

    Not: an error the server reported on a statement (a full disk, say).
    """
    if isinstance(exc, PoolTimeout):
        return True
    state = getattr(exc, "sqlstate", None)
    # 08: connection, 28: authorization, 3D000: no such database; 57P0x: shut down, crashed, starting up
    return state is None or state.startswith(("08", "28")) or state in ("3D000", "57P01", "57P02", "57P03")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
