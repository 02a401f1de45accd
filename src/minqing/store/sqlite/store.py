"""The embedded store: one SQLite file in WAL mode.

This module holds the connection, migrations, units, places and tickets; the rest of
:class:`SQLiteStore` is mixed in from its neighbours: :mod:`.aggregates` (the
dashboard's counts in SQL), :mod:`.interventions`, :mod:`.accounts` and
:mod:`.imports`. What every method returns is the contract of
:mod:`minqing.store.contract`.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from contextlib import contextmanager
from importlib import resources

import geopandas as gpd
import pandas as pd
import shapely

from minqing.config import sqlite_path
from minqing.errors import SchemaVersionError, StoreError
from minqing.model import (
    CATEGORIES,
    PLACE_COLUMNS,
    TICKET_COLUMNS,
    UNIT_COLUMNS,
    VOCABULARIES,
)
from minqing.store.base import Store, TicketFilter
from minqing.store.checks import check_place_kinds, check_unit_levels, ticket_columns
from minqing.store.convert import (
    epoch_of,
    epoch_to_times,
    rows,
    ticket_frame,
    ticket_select,
)
from minqing.store.sqlfilter import SQLITE, where_sql
from minqing.store.sqlite.accounts import AccountsMixin
from minqing.store.sqlite.aggregates import AggregatesMixin
from minqing.store.sqlite.imports import IngestMixin
from minqing.store.sqlite.interventions import InterventionsMixin
from minqing.store.sqlite.rows import RowsMixin
from minqing.store.sqlite.util import (
    CACHE_KIB,
    REBUILD_MIN,
    is_store_condition,
    secondary_indexes,
    sql_errors,
    store_error,
)

_BATCH = 50_000


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("minqing.store.sqlite") / "sql"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    return sorted(found)


RECEIVED_EPOCHS = "SELECT (SELECT MIN(received_at) FROM tickets), (SELECT MAX(received_at) FROM tickets)"
"""The first and last received time, each read from the received-time index (SQLite reads every ticket for
``MIN`` and ``MAX`` asked in one SELECT: 150-220 ms at 1,000,000 tickets, once paid by every aggregate)."""


class SQLiteStore(AggregatesMixin, InterventionsMixin, AccountsMixin, IngestMixin, RowsMixin, Store):
    """Store backed by one SQLite file (WAL journal, foreign keys on).

    Parameters
    ----------
    url : str
        ``sqlite:///relative/path.sqlite`` or ``sqlite:////absolute/path.sqlite``.
        The folder is created when missing.
    """

    def __init__(self, url: str):
        self.url = url
        self.path = sqlite_path(url)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA foreign_keys=ON")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute(f"PRAGMA cache_size={CACHE_KIB}")
            self._con.execute("PRAGMA temp_store=MEMORY")
        except (sqlite3.Error, OSError) as exc:
            if is_store_condition(exc):
                raise store_error(exc, self.path, "open") from exc
            raise StoreError(
                f"cannot open the SQLite store at {self.path}: {exc}. "
                "Check the path in MINQING_DATABASE_URL and that the folder is writable.",
                key="error.store_open",
                path=str(self.path),
                reason=str(exc),
            ) from exc
        self._lock = threading.RLock()
        self._migrate()

    # -- plumbing ----------------------------------------------------------------------
    @contextmanager
    def transaction(self):
        """Run the block in one transaction; roll back on any exception.

        A read-only file, a full disk, a lock held too long or a damaged file
        raise a :class:`~minqing.errors.StoreError` subclass that says what to do.
        """
        with self._lock:
            with sql_errors(self.path, "write"):
                self._con.execute("BEGIN IMMEDIATE")
            try:
                yield self._con
            except BaseException as exc:
                self._rollback()
                if is_store_condition(exc):
                    raise store_error(exc, self.path, "write") from exc
                raise
            else:
                with sql_errors(self.path, "write"):
                    try:
                        self._con.execute("COMMIT")
                    except BaseException:
                        self._rollback()
                        raise

    def _rollback(self) -> None:
        """Roll back if a transaction is open (SQLite may have rolled back already, e.g. on a full disk)."""
        if self._con.in_transaction:
            try:
                self._con.execute("ROLLBACK")
            except sqlite3.Error:  # the error that led here is the one to report
                pass

    def _query(self, sql: str, params=()) -> pd.DataFrame:
        with self._lock, sql_errors(self.path, "read"):
            cur = self._con.execute(sql, params)
            cols = [d[0] for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=cols)

    def _read_log(self, sql: str, key: str, value) -> pd.DataFrame:
        """Rows of a change log (``sql`` selects them; all, or those whose ``key`` is ``value``), oldest first."""
        params: list = []
        if value is not None:
            sql += f" WHERE {key} = ?"
            params.append(value)
        df = self._query(sql + " ORDER BY changed_at, rowid", params)
        df["changed_at"] = epoch_to_times(df["changed_at"], index=df.index, tz=self.timezone)
        return df

    def schema_version(self) -> int:
        with self._lock:
            return self._con.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        migrations = _migrations()
        latest = migrations[-1][0]
        current = self.schema_version()
        if current > latest:
            raise SchemaVersionError(
                f"{self.path} has schema version {current}, newer than this program's {latest}; "
                "upgrade Minqing Map or open another store.",
                key="error.schema_version",
                found=current,
                supported=latest,
            )
        for version, sql in migrations:
            if version <= current:
                continue
            with self._lock:
                try:
                    self._con.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
                except sqlite3.Error as exc:
                    self._rollback()
                    err = store_error(exc, self.path, "upgrade")
                    if err.key not in ("error.store_io", "error.store_open"):  # read-only, full, locked, damaged
                        raise err from exc
                    raise StoreError(
                        f"migration {version} failed on {self.path}: {exc}",
                        key="error.store_migrate",
                        path=str(self.path),
                        reason=str(exc),
                    ) from exc
        if current < latest:
            self._seed_vocabularies()

    def _seed_vocabularies(self) -> None:
        with self.transaction() as con:
            con.executemany(
                "INSERT OR REPLACE INTO vocab (vocab, code, zh, en) VALUES (?, ?, ?, ?)",
                [(v, t.code, t.zh, t.en) for v, terms in VOCABULARIES.items() for t in terms.values()],
            )
            con.executemany(
                "INSERT OR REPLACE INTO categories (code, parent, level, zh, en) VALUES (?, ?, ?, ?, ?)",
                [(c.code, c.parent, c.level, c.zh, c.en) for c in CATEGORIES.values()],
            )

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def _bump(self, con) -> None:
        con.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('data_version', ?)", (uuid.uuid4().hex,)
        )

    # -- metadata --------------------------------------------------------------------------
    def get_meta(self, key, default=None):
        with self._lock:
            row = self._con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key, value):
        with self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value)))

    # -- units and places --------------------------------------------------------------------
    def write_units(self, units):
        check_unit_levels(units["level"])
        units = units.to_crs(4326) if units.crs is not None else units
        cols = list(UNIT_COLUMNS) + ["geometry"]
        data = units.drop(columns="geometry").copy()
        data["geometry"] = shapely.to_wkb(units.geometry.values)
        with self.transaction() as con:
            con.executemany(
                f"INSERT INTO units ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                "ON CONFLICT (code, valid_from) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("code", "valid_from")),
                rows(data, cols),
            )
            self._bump(con)
        return len(units)

    def read_units(self, level=None, at=None):
        sql = f"SELECT unit_uid, {', '.join(UNIT_COLUMNS)}, geometry FROM units WHERE 1=1"
        params: list = []
        if level is not None:
            sql += " AND level = ?"
            params.append(level)
        if at is not None:
            day = str(pd.Timestamp(at).date())
            sql += " AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)"
            params += [day, day]
        df = self._query(sql + " ORDER BY level, code, valid_from", params)
        geom = shapely.from_wkb(df.pop("geometry").to_numpy()) if len(df) else []
        df["population"] = df["population"].astype("Int64")
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geom, crs=4326).values, crs=4326)

    def write_places(self, places):
        check_place_kinds(places["kind"])
        places = places.to_crs(4326) if places.crs is not None else places
        cols = list(PLACE_COLUMNS) + ["geometry"]
        data = places.drop(columns="geometry").copy()
        data["synthetic"] = data.get("synthetic", False)
        data["synthetic"] = data["synthetic"].fillna(False).astype(bool)
        data["geometry"] = shapely.to_wkb(places.geometry.values)
        with self.transaction() as con:
            con.executemany(
                f"INSERT OR REPLACE INTO places ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                rows(data, cols),
            )
            self._bump(con)
        return len(places)

    def read_places(self):
        df = self._query(f"SELECT {', '.join(PLACE_COLUMNS)}, geometry FROM places ORDER BY place_id")
        geom = shapely.from_wkb(df.pop("geometry").to_numpy()) if len(df) else []
        df["synthetic"] = df["synthetic"].astype(bool)
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geom, crs=4326).values, crs=4326)

    # -- tickets ---------------------------------------------------------------------------------
    def write_tickets(self, tickets, place_links=None):
        with self.transaction() as con:
            self._write_tickets_in(con, tickets, place_links)
            self._bump(con)
        return len(tickets)

    def _write_tickets_in(self, con, tickets: pd.DataFrame, place_links: pd.DataFrame | None) -> None:
        """Insert or update tickets and replace their place links, inside the caller's transaction."""
        cols = list(TICKET_COLUMNS)
        insert = f"INSERT INTO tickets ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        upsert = insert + " ON CONFLICT (source_id) DO UPDATE SET " + ", ".join(
            f"{c} = excluded.{c}" for c in cols if c != "source_id"
        )
        existing = con.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        # A bulk load into a small table is faster with the indexes built once at the
        # end (sorting beats a million B-tree inserts); the unique index on source_id can
        # only go when the table is empty, since updates need it for ON CONFLICT.
        rebuild = len(tickets) >= REBUILD_MIN and len(tickets) >= existing
        indexes = secondary_indexes(con, "tickets", unique=existing == 0) if rebuild else []
        for name, _ in indexes:
            con.execute(f"DROP INDEX {name}")
        sql = insert if existing == 0 else upsert
        tz = self.timezone
        for lo in range(0, len(tickets), _BATCH):
            con.executemany(sql, rows(tickets.iloc[lo : lo + _BATCH], cols, tz))
        for _, create in indexes:  # a duplicate source_id fails here and rolls the load back
            con.execute(create)
        if place_links is None:
            return
        if existing and len(tickets):
            con.execute("CREATE TEMP TABLE IF NOT EXISTS _ids (source_id TEXT PRIMARY KEY) WITHOUT ROWID")
            con.execute("DELETE FROM _ids")
            con.executemany("INSERT OR IGNORE INTO _ids VALUES (?)", ((i,) for i in tickets["source_id"].astype(str)))
            con.execute("DELETE FROM ticket_places WHERE source_id IN (SELECT source_id FROM _ids)")
            con.execute("DELETE FROM _ids")
        con.executemany(
            "INSERT OR IGNORE INTO ticket_places (source_id, place_id) VALUES (?, ?)",
            rows(place_links, ["source_id", "place_id"]),
        )

    def _epoch_param(self, value) -> int:
        return epoch_of(value, self.timezone)

    def _where(self, where: TicketFilter | None, alias: str = "") -> tuple[str, list]:
        return where_sql(where, SQLITE, self._epoch_param, alias)

    def count_where(self, where=None):
        clause, params = self._where(where)
        with self._lock:
            return self._con.execute(f"SELECT COUNT(*) FROM tickets{clause}", params).fetchone()[0]

    def read_tickets(self, where=None):
        cols = ticket_columns(where)
        clause, params = self._where(where)
        select = ticket_select(cols)
        order = "received_at DESC, source_id DESC" if where is not None and where.newest_first else "received_at, source_id"
        page = ""
        if where is not None and where.limit is not None:
            page = " LIMIT ? OFFSET ?"
            params = [*params, int(where.limit), int(where.offset or 0)]
        df = self._query(f"SELECT {', '.join(select)} FROM tickets{clause} ORDER BY {order}{page}", params)
        return ticket_frame(df, self.timezone)

    def read_ticket_places(self, place_ids=None):
        sql = "SELECT source_id, place_id FROM ticket_places"
        params: list = []
        if place_ids is not None:
            sql += f" WHERE place_id IN ({', '.join('?' * len(place_ids)) or 'NULL'})"
            params = list(place_ids)
        return self._query(sql + " ORDER BY source_id, place_id", params)

    def _received_epochs(self) -> tuple:
        """The first and last received time as epoch seconds, or (None, None) (:data:`RECEIVED_EPOCHS`)."""
        with self._lock:
            return self._con.execute(RECEIVED_EPOCHS).fetchone()

    def received_range(self):
        lo, hi = self._received_epochs()
        if lo is None:
            return None, None
        first, last = epoch_to_times([lo, hi], tz=self.timezone)
        return first, last

    def ticket_count(self):
        with self._lock:
            return self._con.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]

    def read_ticket_places_where(self, where=None):
        clause, params = self._where(where, alias="t")
        return self._query(
            "SELECT tp.source_id, tp.place_id FROM ticket_places tp JOIN tickets t ON t.source_id = tp.source_id"
            f"{clause}",
            params,
        )
