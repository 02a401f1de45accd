"""The importer's part of the SQLite store: staging, one-transaction imports, quarantine, change history.

Mixed into :class:`minqing.store.sqlite.store.SQLiteStore`; the tables are created
by ``sql/sqlite/002_ingest.sql``. An import stages into scratch SQLite files in a
temporary folder (:class:`minqing.store.scratch.ScratchImportStage`: one file per process, ``t_tickets``,
``t_places``, ``t_sources``, ``t_changes``, and one for the quarantine), which the
commit attaches and copies in one transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager

try:
    import fcntl
except ImportError:  # not POSIX: imports serialise within one process only
    fcntl = None

import numpy as np
import pandas as pd

from minqing.errors import ImportBusyError
from minqing.model import TICKET_COLUMNS
from minqing.store.convert import (
    CHANGE_COLUMNS,
    QUARANTINE_COLUMNS,
    epoch_to_times,
    rows,
    ticket_frame,
    ticket_select,
)
from minqing.store.scratch import CHUNK_PLACES_GLOB, CHUNK_SOURCES_GLOB, CHUNK_TICKETS_GLOB, ScratchImportStage
from minqing.store.sqlite.util import (
    CACHE_KIB,
    REBUILD_MIN,
    secondary_indexes,
    sql_errors,
)

_PROCESS_LOCKS: dict = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


INDEX_SORT_CACHE_KIB = -1024
"""The page cache while indexes are built (negative: KiB). SQLite sorts runs of this size, each in a worker
thread, and merges them: at 1M tickets about half the time of one sort of everything in a large cache."""


def _parallel_sorts(con, on: bool) -> None:
    """Let SQLite sort in worker threads (or stop it); only outside a transaction.

    SQLite uses no sort threads while temporary data is kept in memory, so the temporary
    store goes to files meanwhile (changing it drops the connection's temporary tables).
    """
    threads = min(4, (os.cpu_count() or 1) + 1) if on else 0
    con.execute(f"PRAGMA temp_store={'FILE' if on else 'MEMORY'}")
    con.execute(f"PRAGMA threads={threads}")


class IngestMixin:
    """Import-related methods of the SQLite store."""

    @contextmanager
    def import_lock(self, holder: str = "", wait: float = 600.0, on_wait=None):
        """Hold the store's import lock: one import at a time, from reading the stored hashes to commit.

        An advisory lock on ``<store>.import-lock`` (released when the process ends, even by a
        crash), so imports from the app and the command line serialise. Waits up to ``wait``
        seconds, calling ``on_wait(holder_text)`` once, then raises :class:`ImportBusyError`.
        """
        path = f"{self.path}.import-lock"
        with _PROCESS_LOCKS_GUARD:
            local = _PROCESS_LOCKS.setdefault(path, threading.Lock())
        deadline = time.monotonic() + max(0.0, wait)
        waited = False
        while not local.acquire(timeout=0.2):
            waited = self._waiting(path, waited, on_wait, deadline, ImportBusyError)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                while fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        waited = self._waiting(path, waited, on_wait, deadline, ImportBusyError)
                        time.sleep(0.2)
                os.ftruncate(fd, 0)
                os.write(fd, json.dumps({"pid": os.getpid(), "holder": holder[:200],
                                         "since": time.strftime("%Y-%m-%d %H:%M:%S")}).encode("utf-8"))
                yield
            finally:
                os.close(fd)  # closing releases the flock
        finally:
            local.release()

    @staticmethod
    def _waiting(path, waited, on_wait, deadline, error) -> bool:
        try:
            with open(path, encoding="utf-8") as fh:
                info = json.loads(fh.read() or "{}")
        except (OSError, ValueError):
            info = {}
        who = f"{info.get('holder') or 'another import'} (since {info.get('since', '?')})"
        if time.monotonic() >= deadline:
            raise error(f"another import into this store is still running: {who}; wait until it has finished "
                        "and run this import again (nothing was written)", holder=who)
        if not waited and on_wait is not None:
            on_wait(who)
        return True

    def read_source_hashes(self) -> pd.Series:
        """Return the stored source-row hash of every ticket (index ``source_id``, int64).

        A ticket stored without a source row (the demo, ``write_tickets``) has hash 0, so an
        import of its id compares content and records what changed instead of passing for new.
        """
        df = self._query("SELECT t.source_id, COALESCE(s.row_hash, 0) AS row_hash FROM tickets t "
                         "LEFT JOIN ticket_sources s ON s.source_id = t.source_id")
        return pd.Series(df["row_hash"].to_numpy(dtype="int64"), index=df["source_id"].astype(object), name="row_hash")

    def read_tickets_by_ids(self, source_ids) -> pd.DataFrame:
        """Return the stored tickets with these source ids (all ticket columns, local times)."""
        ids = list(dict.fromkeys(str(i) for i in source_ids))
        cols = list(TICKET_COLUMNS)
        with self._lock:
            con = self._con
            con.execute("CREATE TEMP TABLE IF NOT EXISTS _lookup (source_id TEXT PRIMARY KEY) WITHOUT ROWID")
            con.execute("DELETE FROM _lookup")
            con.executemany("INSERT OR IGNORE INTO _lookup VALUES (?)", ((i,) for i in ids))
            cur = con.execute(f"SELECT {', '.join(ticket_select(cols, 't.'))} FROM tickets t "
                              "JOIN _lookup l ON l.source_id = t.source_id")
            df = pd.DataFrame(cur.fetchall(), columns=cols)
            con.execute("DELETE FROM _lookup")
        return ticket_frame(df, self.timezone)

    def begin_import(self) -> ScratchImportStage:
        """Open a staging session for one import: scratch files in a new temporary folder, tickets in the store's layout."""
        with self._lock:
            (sql,) = self._con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tickets'").fetchone()
        return ScratchImportStage(self, ticket_table_sql=sql)

    def _write_staged(self, stages, quarantine_stage, drop_keys, dup_rows, report: dict) -> None:
        """Copy one staged import into the store in one transaction (:meth:`ScratchImportStage.commit`).

        Parameters
        ----------
        stages : list of path
            Scratch SQLite files with ``t_tickets``, ``t_places``, ``t_sources`` and ``t_changes``.
        quarantine_stage : path or None
            Scratch file with ``t_quarantine`` (file row numbers).
        drop_keys : array of int
            Row keys not to store (repeated ids).
        dup_rows : list of int
            Row numbers of exact repeats, left out of the quarantine.
        report : dict
            The import report (stored as it is).

        Any exception rolls everything back, so a failed import leaves the store as it was.
        """
        iid, at = report["import_id"], int(report["finished_epoch"])
        bulk = False
        names = [f"stage{i}" for i in range(len(stages))]
        written = int(report["inserted"]) + int(report["updated"])
        sorting = written >= REBUILD_MIN  # indexes may be built: sort in worker threads (before any temp table)
        with self._lock, sql_errors(self.path, "write"):
            con = self._con
            attached = []
            try:
                if sorting:
                    _parallel_sorts(con, True)
                for name, path in zip(names, stages):
                    con.execute(f"ATTACH DATABASE ? AS {name}", (str(path),))
                    attached.append(name)
                if quarantine_stage is not None:
                    con.execute("ATTACH DATABASE ? AS qstage", (str(quarantine_stage),))
                    attached.append("qstage")
                con.execute("CREATE TEMP TABLE IF NOT EXISTS _drop_keys (k INTEGER PRIMARY KEY)")
                con.execute("CREATE TEMP TABLE IF NOT EXISTS _dup_rows (r INTEGER PRIMARY KEY)")
                con.execute("DELETE FROM _drop_keys")
                con.execute("DELETE FROM _dup_rows")
                con.executemany("INSERT OR IGNORE INTO _drop_keys VALUES (?)", ((int(k),) for k in drop_keys))
                con.executemany("INSERT OR IGNORE INTO _dup_rows VALUES (?)", ((int(r),) for r in dup_rows))
                bulk = self._bulk_mode(con, written)
                with self.transaction() as con:
                    self._copy_staged(con, names, iid, at, bulk, written)
                    if quarantine_stage is not None:
                        cols = ", ".join(QUARANTINE_COLUMNS)
                        con.execute(
                            f"INSERT OR IGNORE INTO quarantine ({cols}) SELECT ?, ?, row_number, source_id, reason, detail,"
                            " original, row_hash, ? FROM qstage.t_quarantine WHERE row_number NOT IN (SELECT r FROM _dup_rows)"
                            " ORDER BY row_number", (iid, report["file"], at))
                    con.execute(
                        "INSERT INTO import_reports (import_id, file_name, sha256, format, imported_by, started_at, finished_at,"
                        " rows_read, inserted, updated, unchanged, quarantined, duplicates, report)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (iid, report["file"], report["sha256"], report["format"], report.get("user"),
                         int(report["started_epoch"]), at, report["rows_read"], report["inserted"],
                         report["updated"], report["unchanged"], report["quarantined"], report["duplicates"],
                         json.dumps(report, ensure_ascii=False, default=str)))
                    if written:
                        self._bump(con)
            finally:
                con.execute("DELETE FROM _drop_keys")
                con.execute("DELETE FROM _dup_rows")
                for name in attached:
                    con.execute(f"DETACH DATABASE {name}")
                if bulk:
                    con.execute("PRAGMA foreign_keys=ON")
                    con.execute("PRAGMA journal_mode=WAL")
                if sorting:
                    _parallel_sorts(con, False)

    def _bulk_mode(self, con, staged: int) -> bool:
        """Prepare a large load into an empty store; return True if prepared (undo after the transaction).

        The load then skips the write-ahead log (new pages need no journal, the WAL would
        write them twice) and builds every index, the unique one included, once at the end.
        Foreign keys are off meanwhile: place links come from the linker, which only
        names stored places, and the unique index rebuild still rejects a repeated id.
        """
        if staged < REBUILD_MIN or con.execute("SELECT EXISTS (SELECT 1 FROM tickets)").fetchone()[0]:
            return False
        try:  # only possible while no other connection has the store open; else the WAL stays
            con.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.OperationalError:
            pass
        con.execute("PRAGMA foreign_keys=OFF")
        return True

    def _copy_staged(self, con, names: list[str], iid: str, at: int, bulk: bool, staged: int) -> None:
        """Copy ``staged`` tickets, their place links, source hashes and changes.

        The tickets of each chunk are in ``t_tickets_<chunk>`` in the store's layout (see
        :mod:`minqing.store.scratch`), copied chunk after chunk. In bulk mode with no row to drop
        the copy is ``INSERT INTO tickets SELECT * FROM ...``, which SQLite runs as a transfer of
        the stored records (its ``ticket_id`` is the row's key, unique in the import).
        """
        cols = ", ".join(TICKET_COLUMNS)
        keep = "_key NOT IN (SELECT k FROM _drop_keys)"
        keep_ticket = "ticket_id NOT IN (SELECT k FROM _drop_keys)"
        dropping = con.execute("SELECT EXISTS (SELECT 1 FROM _drop_keys)").fetchone()[0]
        existing = con.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        # As in a bulk load: with the indexes built once at the end, sorting beats a million B-tree inserts.
        # The unique source_id index stays unless in bulk mode: ticket_places' foreign key needs it.
        rebuild = staged >= REBUILD_MIN and staged >= existing
        indexes = secondary_indexes(con, "tickets", unique=bulk) if rebuild else []
        for name, _ in indexes:
            con.execute(f"DROP INDEX {name}")
        update = ", ".join(f"{c} = excluded.{c}" for c in TICKET_COLUMNS if c != "source_id")
        sources = self._chunk_tables(con, names, CHUNK_SOURCES_GLOB)
        if existing:  # resolve quarantined rows that now arrived as tickets (every staged row has a source)
            for n, table in sources:
                con.execute("UPDATE quarantine SET resolved_by = ? WHERE resolved_by IS NULL AND source_id IN "
                            f"(SELECT source_id FROM {n}.{table} WHERE {keep})", (iid,))
        for n, table in self._chunk_tables(con, names, CHUNK_TICKETS_GLOB):
            t = f"{n}.{table}"
            if existing:  # replace the place links of updated tickets
                con.execute(f"DELETE FROM ticket_places WHERE source_id IN (SELECT source_id FROM {t} WHERE {keep_ticket})")
                con.execute(f"INSERT INTO tickets ({cols}) SELECT {cols} FROM {t} WHERE {keep_ticket} "
                            f"ON CONFLICT (source_id) DO UPDATE SET {update}")
            elif bulk and not dropping:
                con.execute(f"INSERT INTO tickets SELECT * FROM {t}")
            else:
                con.execute(f"INSERT INTO tickets ({cols}) SELECT {cols} FROM {t} WHERE {keep_ticket}")
        if indexes:  # sorted in small runs, which worker threads sort and merge
            con.execute(f"PRAGMA cache_size={INDEX_SORT_CACHE_KIB}")
            try:
                for _, create in indexes:
                    con.execute(create)
            finally:
                con.execute(f"PRAGMA cache_size={CACHE_KIB}")
        # into no links at all (a bulk load), the index by place is built after them, as the tickets' are
        place_indexes = secondary_indexes(con, "ticket_places") if bulk else []
        for name, _ in place_indexes:
            con.execute(f"DROP INDEX {name}")
        for n, table in self._chunk_tables(con, names, CHUNK_PLACES_GLOB):
            con.execute(f"INSERT OR IGNORE INTO ticket_places (source_id, place_id) "
                        f"SELECT source_id, place_id FROM {n}.{table} WHERE {keep}")
        for _, create in place_indexes:
            con.execute(create)
        for n, table in sources:
            con.execute(f"INSERT OR REPLACE INTO ticket_sources (source_id, row_hash, import_id) "
                        f"SELECT source_id, row_hash, ? FROM {n}.{table} WHERE {keep}", (iid,))
        for n in names:
            con.execute(f"INSERT INTO ticket_changes ({', '.join(CHANGE_COLUMNS)}) "
                        f"SELECT source_id, ?, ?, field, old_value, new_value FROM {n}.t_changes WHERE {keep}", (iid, at))

    @staticmethod
    def _chunk_tables(con, names: list[str], glob: str) -> list[tuple[str, str]]:
        """(attached stage, table) of every chunk's table named like ``glob``, in chunk order (the file's order)."""
        found = [(table, n) for n in names for (table,) in con.execute(
            f"SELECT name FROM {n}.sqlite_master WHERE type = 'table' AND name GLOB ?", (glob,))]
        return [(n, table) for table, n in sorted(found)]

    def read_quarantine(self, import_id: str | None = None, include_resolved: bool = False) -> pd.DataFrame:
        """Return quarantined rows (newest import first), unresolved ones unless ``include_resolved``."""
        sql = ("SELECT quarantine_id, import_id, file_name, row_number, source_id, reason, detail, original, "
               "quarantined_at, resolved_by FROM quarantine WHERE 1=1")
        params: list = []
        if import_id is not None:
            sql += " AND import_id = ?"
            params.append(import_id)
        if not include_resolved:
            sql += " AND resolved_by IS NULL"
        df = self._query(sql + " ORDER BY quarantined_at DESC, quarantine_id", params)
        df["quarantined_at"] = epoch_to_times(df["quarantined_at"], index=df.index, tz=self.timezone)
        return df

    def read_import_reports(self, limit: int = 50) -> list[dict]:
        """Return the stored import reports, newest first."""
        df = self._query("SELECT report FROM import_reports ORDER BY started_at DESC, rowid DESC LIMIT ?", (int(limit),))
        return [json.loads(r) for r in df["report"]]

    def read_ticket_changes(self, source_id: str | None = None) -> pd.DataFrame:
        """Return recorded changes (all, or of one ticket) in the order they were made."""
        return self._read_log(f"SELECT {', '.join(CHANGE_COLUMNS)} FROM ticket_changes", "source_id",
                              None if source_id is None else str(source_id))

    def write_relinked(self, links: pd.DataFrame, place_links: pd.DataFrame) -> int:
        """Replace the link columns and place links of stored tickets (one transaction); return the count."""
        link_cols = ["grid_uid", "grid_code", "community_code", "subdistrict_code", "district_code", "h3_cell"]
        with self.transaction() as con:
            con.executemany(
                f"UPDATE tickets SET {', '.join(c + ' = ?' for c in link_cols)} WHERE source_id = ?",
                rows(links, link_cols + ["source_id"]))
            con.execute("DELETE FROM ticket_places")
            con.executemany("INSERT OR IGNORE INTO ticket_places (source_id, place_id) VALUES (?, ?)",
                            rows(place_links, ["source_id", "place_id"]))
            self._bump(con)
        return len(links)


__all__ = ["IngestMixin", "np"]
