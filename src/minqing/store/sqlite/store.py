"""The embedded store: one SQLite file in WAL mode."""

from __future__ import annotations

import re
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from importlib import resources

import geopandas as gpd
import pandas as pd
import shapely

from minqing.citytime import local_seconds_sql, offset_segments
from minqing.config import sqlite_path
from minqing.errors import SchemaVersionError, StoreError
from minqing.model import (
    CATEGORIES,
    CHANNELS,
    INTERVENTION_COLUMNS,
    INTERVENTION_TYPES,
    KINDS,
    LEVELS,
    LOCATION_SOURCES,
    PLACE_COLUMNS,
    PLACE_KINDS,
    RATED,
    RESOLVED,
    SATISFIED,
    SATISFACTION,
    STATUSES,
    TICKET_COLUMNS,
    TICKET_TIME_COLUMNS,
    UNIT_COLUMNS,
    UNIT_LEVELS,
)
from minqing.store.base import Store, TicketFilter
from minqing.store.convert import epoch_to_times, rows, times_to_epoch
from minqing.store.sqlite.imports import IngestMixin
from minqing.store.sqlite.util import (
    CACHE_KIB,
    REBUILD_MIN,
    is_store_condition,
    secondary_indexes,
    sql_errors,
    store_error,
)

_VOCABS = {
    "level": LEVELS,
    "channel": CHANNELS,
    "kind": KINDS,
    "location_source": LOCATION_SOURCES,
    "resolved": RESOLVED,
    "satisfaction": SATISFACTION,
    "status": STATUSES,
    "place_kind": PLACE_KINDS,
    "intervention_type": INTERVENTION_TYPES,
}
_BATCH = 50_000
USER_COLUMNS = ("name", "role", "grid_codes", "community_codes", "password_hash", "disabled", "failed_count",
                "locked_until", "password_changed_at", "created_at", "last_sign_in_at")
USER_TIME_COLUMNS = ("locked_until", "password_changed_at", "created_at", "last_sign_in_at")
AUDIT_COLUMNS = ("id", "at", "actor", "action", "target", "rows", "masked", "detail")
_NULLABLE_INTS = ("grid_uid", "h3_cell")


def search_pattern(search: str) -> str:
    """Return the LIKE pattern (``ESCAPE '\\'``) of a search: a substring, where ``*`` matches any run of characters."""
    pieces = [p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for p in re.split(r"\*+", search)]
    return "%" + "%".join(p for p in pieces if p) + "%"


def _sql_list(constants) -> str:
    """Quote our own vocabulary codes (never user input) as an SQL list."""
    assert all(str(c).isidentifier() for c in constants), constants
    return ", ".join(f"'{c}'" for c in constants)


def _in(column: str, values, params: list) -> str:
    values = list(values)
    params += values
    return f"{column} IN ({', '.join('?' * len(values)) or 'NULL'})"


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("minqing.store.sqlite") / "sql"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    return sorted(found)


class SQLiteStore(IngestMixin, Store):
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
                [(v, t.code, t.zh, t.en) for v, terms in _VOCABS.items() for t in terms.values()],
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
        bad = set(units["level"]) - set(UNIT_LEVELS)
        if bad:
            raise StoreError(
                f"unknown unit level(s) {sorted(bad)}; allowed: {', '.join(UNIT_LEVELS)}",
                key="error.unit_level",
                levels=", ".join(sorted(map(str, bad))),
            )
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
        bad = set(places["kind"]) - set(PLACE_KINDS)
        if bad:
            raise StoreError(
                f"unknown place kind(s) {sorted(bad)}; allowed: {', '.join(PLACE_KINDS)}",
                key="error.place_kind",
                kinds=", ".join(sorted(map(str, bad))),
            )
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

    def _where(self, where: TicketFilter | None, alias: str = "") -> tuple[str, list]:
        clauses, params = [], []
        p = f"{alias}." if alias else ""
        if where is None:
            return "", params
        if where.start is not None:
            clauses.append(f"{p}received_at >= ?")
            params.append(times_to_epoch(pd.Series([pd.Timestamp(where.start)]), self.timezone)[0])
        if where.end is not None:
            clauses.append(f"{p}received_at < ?")
            params.append(times_to_epoch(pd.Series([pd.Timestamp(where.end)]), self.timezone)[0])
        if where.unit_codes is not None:
            level = where.unit_level or "grid"
            if level not in UNIT_LEVELS:
                raise StoreError(
                    f"unknown unit level {level!r}; allowed: {', '.join(UNIT_LEVELS)}",
                    key="error.unit_level",
                    levels=str(level),
                )
            clauses.append(_in(f"{p}{level}_code", where.unit_codes, params))
        if where.scope_grid_codes is not None or where.scope_community_codes is not None:
            scope = [_in(f"{p}{level}_code", codes, params)
                     for level, codes in (("grid", where.scope_grid_codes), ("community", where.scope_community_codes))
                     if codes]
            clauses.append("(" + " OR ".join(scope) + ")" if scope else "0")
        if where.categories:
            ors = []
            for code in where.categories:
                ors.append(f"({p}category = ? OR {p}category LIKE ?)")
                params += [code, f"{code}.%"]
            clauses.append("(" + " OR ".join(ors) + ")")
        for column, values in (
            ("channel", where.channels),
            ("kind", where.kinds),
            ("status", where.statuses),
            ("satisfaction", where.satisfactions),
        ):
            if values:
                clauses.append(_in(f"{p}{column}", values, params))
        if where.place_ids:
            sub = _in("place_id", where.place_ids, params)
            clauses.append(f"{p}source_id IN (SELECT source_id FROM ticket_places WHERE {sub})")
        if where.search:
            like = search_pattern(where.search)
            clauses.append(
                f"({p}source_id LIKE ? ESCAPE '\\' OR {p}text LIKE ? ESCAPE '\\' OR {p}address LIKE ? ESCAPE '\\')"
            )
            params += [like, like, like]
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def count_where(self, where=None):
        clause, params = self._where(where)
        with self._lock:
            return self._con.execute(f"SELECT COUNT(*) FROM tickets{clause}", params).fetchone()[0]

    def read_tickets(self, where=None):
        cols = list(where.columns) if where is not None and where.columns else list(TICKET_COLUMNS)
        unknown = set(cols) - set(TICKET_COLUMNS)
        if unknown:
            raise StoreError(f"unknown ticket column(s) {sorted(unknown)}", key="error.column")
        clause, params = self._where(where)
        # Integers with NULLs would come back as float64 and lose H3 bits: read -1 instead.
        select = [f"IFNULL({c}, -1) AS {c}" if c in _NULLABLE_INTS else c for c in cols]
        order = "received_at DESC, source_id DESC" if where is not None and where.newest_first else "received_at, source_id"
        page = ""
        if where is not None and where.limit is not None:
            page = " LIMIT ? OFFSET ?"
            params = [*params, int(where.limit), int(where.offset or 0)]
        df = self._query(f"SELECT {', '.join(select)} FROM tickets{clause} ORDER BY {order}{page}", params)
        for c in TICKET_TIME_COLUMNS:
            if c in df.columns:
                df[c] = epoch_to_times(df[c], index=df.index, tz=self.timezone)
        for c in _NULLABLE_INTS:
            if c in df.columns:
                df[c] = df[c].astype("int64").astype("Int64")
                df.loc[df[c] == -1, c] = pd.NA
        for c in ("lon", "lat"):
            if c in df.columns:
                df[c] = df[c].astype("float64")
        return df

    def read_ticket_places(self, place_ids=None):
        sql = "SELECT source_id, place_id FROM ticket_places"
        params: list = []
        if place_ids is not None:
            sql += f" WHERE place_id IN ({', '.join('?' * len(place_ids)) or 'NULL'})"
            params = list(place_ids)
        return self._query(sql + " ORDER BY source_id, place_id", params)

    def count_tickets(self, level, where=None, by_channel=False):
        if level not in UNIT_LEVELS:
            raise StoreError(f"unknown unit level {level!r}; allowed: {', '.join(UNIT_LEVELS)}", key="error.unit_level", levels=level)
        clause, params = self._where(where)
        keys = f"{level}_code, channel" if by_channel else f"{level}_code"
        return self._query(
            f"SELECT {level}_code AS code, {'channel, ' if by_channel else ''}COUNT(*) AS tickets FROM tickets{clause} "
            f"GROUP BY {keys} ORDER BY {keys}",
            params,
        )

    def received_range(self):
        with self._lock:
            lo, hi = self._con.execute("SELECT MIN(received_at), MAX(received_at) FROM tickets").fetchone()
        if lo is None:
            return None, None
        first, last = epoch_to_times([lo, hi], tz=self.timezone)
        return first, last

    def ticket_count(self):
        with self._lock:
            return self._con.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]

    # -- meeting-view aggregates (same results as the pure functions, in SQL) -----------------
    def _local_month(self, column: str) -> str:
        """SQL for the city-local month ("YYYY-MM") of epoch seconds in ``column`` (any zone, with DST)."""
        with self._lock:
            lo, hi = self._con.execute("SELECT MIN(received_at), MAX(received_at) FROM tickets").fetchone()
        segments = offset_segments(self.timezone, lo or 0, hi or 0)
        return f"strftime('%Y-%m', {local_seconds_sql(column, segments)}, 'unixepoch')"

    def kpi_counts(self, where, as_of):
        from minqing.analysis.kpis import COUNT_COLUMNS, RESPONSE_HOURS
        from minqing.model import PROACTIVE_CHANNELS

        clause, params = self._where(where)
        as_of_s = int(times_to_epoch(pd.Series([pd.Timestamp(as_of)]), self.timezone)[0])
        std = RESPONSE_HOURS * 3600
        proactive = _sql_list(PROACTIVE_CHANNELS)
        flags = {
            "tickets": "1",
            "response_due": f"responded_at IS NOT NULL OR received_at <= {as_of_s - std}",
            "responded_in_time": f"responded_at IS NOT NULL AND responded_at - received_at <= {std}",
            "followed_up": "resolved IN ('solved', 'partly', 'not')",
            "solved": "resolved = 'solved'",
            "partly": "resolved = 'partly'",
            "rated": f"satisfaction IN ({_sql_list(RATED)})",
            "satisfied": f"satisfaction IN ({_sql_list(SATISFIED)})",
            "deadline_due": f"due_at IS NOT NULL AND (closed_at IS NOT NULL OR due_at < {as_of_s})",
            "closed_on_time": "due_at IS NOT NULL AND closed_at IS NOT NULL AND closed_at <= due_at",
            "proactive": f"channel IN ({proactive})",
        }
        sums = ", ".join(f"SUM(CASE WHEN {flags[c]} THEN 1 ELSE 0 END) AS {c}" for c in COUNT_COLUMNS)
        month = self._local_month("received_at")
        df = self._query(f"SELECT {month} AS month, {sums} FROM tickets{clause} GROUP BY 1 ORDER BY 1", params)
        df["month"] = df["month"].astype("object")
        for c in COUNT_COLUMNS:
            df[c] = df[c].astype("int64")
        return df

    def problem_counts(self, where=None, by_channel=False):
        clause, params = self._where(where, alias="t")
        month = self._local_month("t.received_at")
        chan, keys = (", t.channel AS channel", "1, 2, 3, 4, 5") if by_channel else ("", "1, 2, 3, 4")
        df = self._query(
            f"SELECT {month} AS month, tp.place_id AS place_id, "
            f"CASE WHEN tp.place_id IS NULL THEN t.grid_code END AS grid_code, t.category AS category{chan}, "
            "COUNT(*) AS tickets, SUM(CASE WHEN t.repeat_of IS NULL THEN 1 ELSE 0 END) AS problems "
            f"FROM tickets t LEFT JOIN ticket_places tp ON tp.source_id = t.source_id{clause} "
            f"GROUP BY {keys} HAVING tp.place_id IS NOT NULL OR grid_code IS NOT NULL ORDER BY {keys}",
            params,
        )
        for c in ("month", "place_id", "grid_code", "category") + (("channel",) if by_channel else ()):
            df[c] = df[c].astype("object")
        for c in ("tickets", "problems"):
            df[c] = df[c].astype("int64")
        return df

    # -- interventions -----------------------------------------------------------------------------
    def write_interventions(self, interventions, targets):
        cols = list(INTERVENTION_COLUMNS)
        with self.transaction() as con:
            con.executemany(
                f"INSERT OR REPLACE INTO interventions ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                rows(interventions, cols),
            )
            ids = [(int(i),) for i in interventions["intervention_id"]]
            con.executemany("DELETE FROM intervention_targets WHERE intervention_id = ?", ids)
            con.executemany(
                "INSERT OR IGNORE INTO intervention_targets (intervention_id, target_type, target_id) VALUES (?, ?, ?)",
                rows(targets, ["intervention_id", "target_type", "target_id"]),
            )
            self._bump(con)
        return len(interventions)

    def read_interventions(self):
        iv = self._query(f"SELECT {', '.join(INTERVENTION_COLUMNS)} FROM interventions ORDER BY intervention_id")
        tg = self._query(
            "SELECT intervention_id, target_type, target_id FROM intervention_targets "
            "ORDER BY intervention_id, target_type, target_id"
        )
        return iv, tg

    def save_intervention(self, intervention, targets, changed_by, change):
        cols = [c for c in INTERVENTION_COLUMNS if c != "intervention_id"]
        values = [intervention.get(c) for c in cols]
        iid = intervention.get("intervention_id")
        with self.transaction() as con:
            if iid is None:
                cur = con.execute(
                    f"INSERT INTO interventions ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values
                )
                iid = int(cur.lastrowid)
            else:
                iid = int(iid)
                con.execute(f"UPDATE interventions SET {', '.join(c + ' = ?' for c in cols)} WHERE intervention_id = ?",
                            [*values, iid])
            con.execute("DELETE FROM intervention_targets WHERE intervention_id = ?", (iid,))
            con.executemany(
                "INSERT OR IGNORE INTO intervention_targets (intervention_id, target_type, target_id) VALUES (?, ?, ?)",
                [(iid, str(a), str(b)) for a, b in zip(targets["target_type"], targets["target_id"])],
            )
            con.execute(
                "INSERT INTO intervention_history (intervention_id, changed_at, changed_by, change) "
                "VALUES (?, CAST(strftime('%s', 'now') AS INTEGER), ?, ?)",
                (iid, changed_by, change),
            )
            self._bump(con)
        return iid

    def read_intervention_history(self, intervention_id=None):
        sql = "SELECT intervention_id, changed_at, changed_by, change FROM intervention_history"
        params: list = []
        if intervention_id is not None:
            sql += " WHERE intervention_id = ?"
            params.append(int(intervention_id))
        df = self._query(sql + " ORDER BY changed_at, rowid", params)
        df["changed_at"] = epoch_to_times(df["changed_at"], index=df.index, tz=self.timezone)
        return df

    def read_effect_tickets(self, categories, start):
        params: list = []
        cond = (_in("category", categories, params) + " AND " if categories else "") + "received_at >= ?"
        params.append(times_to_epoch(pd.Series([pd.Timestamp(start)]), self.timezone)[0])
        cols = ("source_id, received_at, channel, kind, category, satisfaction, lon, lat, IFNULL(h3_cell, -1) AS h3_cell, "
                "grid_code, repeat_of")
        tk = self._query(f"SELECT {cols} FROM tickets WHERE {cond}", params)
        links = self._query(
            "SELECT tp.source_id, tp.place_id FROM tickets t JOIN ticket_places tp ON tp.source_id = t.source_id "
            f"WHERE {cond.replace('category', 't.category').replace('received_at', 't.received_at')}", params)
        tk["received_at"] = epoch_to_times(tk["received_at"], index=tk.index, tz=self.timezone)
        tk["h3_cell"] = tk["h3_cell"].astype("int64")
        for c in ("lon", "lat"):
            tk[c] = tk[c].astype("float64")
        return tk, links

    def read_ticket_places_where(self, where=None):
        clause, params = self._where(where, alias="t")
        return self._query(
            "SELECT tp.source_id, tp.place_id FROM ticket_places tp JOIN tickets t ON t.source_id = tp.source_id"
            f"{clause}",
            params,
        )

    # -- accounts and the audit log (not ticket data: data_version stays) -----------------------
    def read_users(self, name: str | None = None):
        where, params = ("WHERE name = ?", [name]) if name is not None else ("", [])
        df = self._query(f"SELECT {', '.join(USER_COLUMNS)} FROM users {where} ORDER BY name", params)
        for c in USER_TIME_COLUMNS:
            df[c] = epoch_to_times(df[c], index=df.index, tz=self.timezone)
        df["disabled"] = df["disabled"].astype(bool)
        df["failed_count"] = df["failed_count"].astype("int64")
        return df

    def write_user(self, row):
        unknown = set(row) - set(USER_COLUMNS)
        if unknown:
            raise StoreError(f"unknown account column(s) {sorted(unknown)}; allowed: {', '.join(USER_COLUMNS)}",
                             key="accounts.error_column", columns=", ".join(sorted(unknown)))
        cols = list(row)
        with self.transaction() as con:
            con.execute(f"INSERT OR REPLACE INTO users ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        [_user_value(c, row[c]) for c in cols])

    def update_user(self, name, **fields):
        unknown = set(fields) - (set(USER_COLUMNS) - {"name"})
        if unknown:
            raise StoreError(f"unknown account column(s) {sorted(unknown)}; allowed: {', '.join(USER_COLUMNS[1:])}",
                             key="accounts.error_column", columns=", ".join(sorted(unknown)))
        if not fields:
            return
        cols = list(fields)
        with self.transaction() as con:
            cur = con.execute(f"UPDATE users SET {', '.join(c + ' = ?' for c in cols)} WHERE name = ?",
                              [*(_user_value(c, fields[c]) for c in cols), str(name)])
            if cur.rowcount == 0:
                raise StoreError(f"no account named {name!r}; `minqing user list` shows the accounts",
                                 key="accounts.error_unknown_user", name=str(name))

    def write_audit(self, row):
        cols = [c for c in AUDIT_COLUMNS if c != "id"]
        unknown = set(row) - set(cols)
        if unknown:
            raise StoreError(f"unknown audit column(s) {sorted(unknown)}; allowed: {', '.join(cols)}",
                             key="accounts.error_column", columns=", ".join(sorted(unknown)))
        values = [_epoch(row.get("at")) if c == "at" else row.get(c) for c in cols]
        if values[0] is None:
            values[0] = _epoch(pd.Timestamp.now(tz="UTC"))
        with self.transaction() as con:
            con.execute(f"INSERT INTO audit_log ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values)

    def read_audit(self, limit=1000, actor=None, action=None, since=None):
        clauses, params = [], []
        if actor is not None:
            clauses.append("actor = ?")
            params.append(str(actor))
        if action is not None:
            clauses.append("action = ?")
            params.append(str(action))
        if since is not None:
            clauses.append("at >= ?")
            params.append(_epoch(since))
        sql = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        df = self._query(sql, params)
        df["at"] = epoch_to_times(df["at"], index=df.index, tz=self.timezone)
        for c in ("rows", "masked"):
            df[c] = pd.to_numeric(df[c]).astype("Int64")
        return df


def _epoch(value) -> int | None:
    """Epoch seconds of an int, a timestamp or a date string (naive times are local); None stays None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return times_to_epoch(pd.Series([pd.Timestamp(value)]))[0]


def _user_value(column: str, value):
    """One value of a ``users`` row as SQLite stores it."""
    if column in USER_TIME_COLUMNS:
        return _epoch(value)
    if column == "disabled":
        return int(bool(value))
    if column in ("grid_codes", "community_codes") and not isinstance(value, str):
        import json

        return json.dumps(sorted(str(v) for v in (value or ())), ensure_ascii=False)
    return value
