"""The importer's part of the PostgreSQL store: staging, one-transaction imports, quarantine, change history.

Mixed into :class:`minqing.store.postgres.store.PostgresStore`; the tables are created
by ``sql/002_ingest.sql``.

Staging (:class:`minqing.store.scratch.ScratchImportStage`) keeps each process's chunks in a
scratch folder of the import's temporary folder, as Arrow streams (the forked workers open no
connection at all, so none is ever shared across a fork, and the app's role needs no
right to create tables); :meth:`IngestMixin._write_staged` then COPYs the staged rows
(as CSV that Arrow writes) into temporary tables of one transaction and merges them with the
semantics of the SQLite store's commit, one statement per table (the ``_merge_*``
helpers). A large load into a small table drops the secondary indexes and foreign keys
and builds them once at the end, when the session may act as the tables' owner. A lost
connection rolls the whole import back. Imports serialise through a session-level
advisory lock (:meth:`IngestMixin.import_lock`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql

from minqing.errors import ImportBusyError
from minqing.model import TICKET_COLUMNS
from minqing.store.convert import (
    CHANGE_COLUMNS,
    QUARANTINE_COLUMNS,
    epoch_to_times,
    rows,
    ticket_frame,
)
from minqing.store.postgres.rollups import mark_all, refresh_rollups
from minqing.store.postgres.util import (
    TICKET_SQL_TYPES,
    copy_arrow_csv,
    copy_binary,
    copy_rows,
    epoch,
    insert_place_links,
    ticket_columns_sql,
    ticket_values_sql,
)
from minqing.store.scratch import QUARANTINE_STAGE_COLUMNS, ScratchImportStage, read_arrow_stage
from minqing.store.sqlite.util import REBUILD_MIN

IMPORT_LOCK = 7_331_004_102
"""Advisory lock key held (per session) by the import that runs (pg_locks shows a bigint key as classid, objid)."""
_HOLDER_PREFIX = "minqing import: "
_STAGED = {  # temporary table -> (its columns, their SQL types, the scratch table it is filled from)
    "_s_tickets": (("_key", "_hash", *TICKET_COLUMNS), ("bigint", "bigint", *TICKET_SQL_TYPES.values()), "t_tickets"),
    "_s_places": (("_key", "source_id", "place_id"), ("bigint", "text", "text"), "t_places"),
    "_s_sources": (("_key", "source_id", "row_hash"), ("bigint", "text", "bigint"), "t_sources"),
    "_s_changes": (("_key", "source_id", "field", "old_value", "new_value"), ("bigint",) + ("text",) * 4, "t_changes"),
}
_ARROW_TYPES = {c: {"bigint": "int64", "double precision": "float64"}.get(t, "text")
                for columns, types, _ in _STAGED.values() for c, t in zip(columns, types, strict=True)}
"""The Arrow type of each staged column (:class:`ScratchImportStage` with ``arrow_types``)."""
_QUARANTINE_TYPES = ("bigint", "text", "text", "text", "text", "bigint")
"""The SQL types of :data:`QUARANTINE_STAGE_COLUMNS`."""
REBUILD_MEMORY = "512MB"
"""The sort memory (``maintenance_work_mem``, at least) of the index builds after a large import."""


def _typed(columns, types) -> str:
    """The column list of a CREATE TABLE: ``name type, ...``."""
    return ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))


def _scratch_values(columns, types) -> str:
    """The select list reading ``columns`` from a scratch file as binary COPY types them.

    The scratch tables have no column types, so a text column is read as text (an
    integer there becomes its digits, as a text COPY would have written it).
    """
    return ", ".join(f"CAST({c} AS TEXT)" if t == "text" else c for c, t in zip(columns, types, strict=True))


def _is_empty(con, table: str) -> bool:
    """True if ``table`` (a fixed name) holds no row: an insert of distinct keys then needs no conflict check."""
    return not con.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]


@contextmanager
def _scratch(path, leave_out, column: str = "_key"):
    """Open a scratch file; yield it and the WHERE clause that leaves out the rows whose ``column`` is in ``leave_out``."""
    scratch = sqlite3.connect(path)
    try:
        keep = ""
        if leave_out:
            scratch.execute("CREATE TEMP TABLE _leave_out (k INTEGER PRIMARY KEY)")
            scratch.executemany("INSERT INTO _leave_out VALUES (?)", ((k,) for k in leave_out))
            keep = f" WHERE {column} NOT IN (SELECT k FROM temp._leave_out)"
        yield scratch, keep
    finally:
        scratch.close()


def _kept(batches, drop):
    """Yield ``batches`` without the rows whose ``_key`` is in ``drop`` (an Arrow int64 array)."""
    for batch in batches:
        if len(drop):
            batch = batch.filter(pc.invert(pc.is_in(batch.column("_key"), value_set=drop)))
        if batch.num_rows:
            yield batch


class IngestMixin:
    """Import-related methods of the PostgreSQL store."""

    @contextmanager
    def import_lock(self, holder: str = "", wait: float = 600.0, on_wait=None):
        """Hold the store's import lock: one import at a time, from reading the stored hashes to commit.

        A session-level advisory lock on its own connection (released when the connection
        ends, even by a crash), so imports from the app and the command line serialise
        across machines. Waits up to ``wait`` seconds, calling ``on_wait(holder_text)``
        once, then raises :class:`ImportBusyError`.
        """
        since = time.strftime("%Y-%m-%d %H:%M:%S")
        with self._errors("import"):
            con = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10,
                                  application_name=f"{_HOLDER_PREFIX}{holder[:40]} (since {since})")
        try:
            deadline = time.monotonic() + max(0.0, wait)
            waited = False
            with self._errors("import"):
                while not con.execute("SELECT pg_try_advisory_lock(%s)", (IMPORT_LOCK,)).fetchone()[0]:
                    who = self._lock_holder(con)
                    if time.monotonic() >= deadline:
                        raise ImportBusyError(
                            f"another import into this store is still running: {who}; wait until it has finished "
                            "and run this import again (nothing was written)", holder=who)
                    if not waited and on_wait is not None:
                        on_wait(who)
                    waited = True
                    time.sleep(0.2)
            yield
        finally:
            con.close()  # ending the session releases the lock

    @staticmethod
    def _lock_holder(con) -> str:
        row = con.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s::oid AND l.objid = %s::oid AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (IMPORT_LOCK >> 32, IMPORT_LOCK & 0xFFFFFFFF)).fetchone()
        name = (row[0] or "") if row else ""
        return name[len(_HOLDER_PREFIX):] if name.startswith(_HOLDER_PREFIX) else "another import"

    def read_source_hashes(self) -> pd.Series:
        """Return the stored source-row hash of every ticket (index ``source_id``, int64; 0 without a source row)."""
        df = self._query("SELECT t.source_id, COALESCE(s.row_hash, 0) AS row_hash FROM tickets t "
                         "LEFT JOIN ticket_sources s ON s.source_id = t.source_id")
        return pd.Series(df["row_hash"].to_numpy(dtype="int64"), index=df["source_id"].astype(object), name="row_hash")

    def read_tickets_by_ids(self, source_ids) -> pd.DataFrame:
        """Return the stored tickets with these source ids (all ticket columns, local times)."""
        ids = list(dict.fromkeys(str(i) for i in source_ids))
        cols = list(TICKET_COLUMNS)
        df = self._query(f"SELECT {', '.join(ticket_columns_sql(cols))} FROM tickets WHERE source_id = ANY(%s)", [ids])
        return ticket_frame(df, self.timezone)

    def begin_import(self) -> ScratchImportStage:
        """Open a staging session for one import: Arrow streams in a new temporary folder (COPYd at commit)."""
        return ScratchImportStage(self, arrow_types=_ARROW_TYPES)

    def _write_staged(self, stages, quarantine_stage, drop_keys, dup_rows, report: dict) -> None:
        """Copy one staged import into the store in one transaction (:meth:`ScratchImportStage.commit`).

        The parameters are those of :meth:`minqing.store.sqlite.imports.IngestMixin._write_staged`:
        the scratch files (``t_tickets``, ``t_places``, ``t_sources``, ``t_changes``), the
        quarantine's scratch file or None, the row keys not to store, the row numbers of
        exact repeats left out of the quarantine, and the report (stored as it is).
        """
        iid, at = report["import_id"], int(report["finished_epoch"])
        written = int(report["inserted"]) + int(report["updated"])
        with self._tx() as con:
            self._copy_scratch(con, stages, quarantine_stage, drop_keys, dup_rows)
            # Resolve quarantined rows that now arrived as tickets, and replace the place links of updated ones.
            self._resolve_quarantine(con, iid)
            rebuild = self._merge_tickets(con, written)
            self._merge_places(con)
            self._rebuild_indexes(con, rebuild)
            self._merge_sources(con, iid)
            self._merge_changes(con, iid, at)
            if quarantine_stage is not None:
                self._merge_quarantine(con, iid, report["file"], at)
            con.execute(
                "INSERT INTO import_reports (import_id, file_name, sha256, format, imported_by, started_at, finished_at,"
                " rows_read, inserted, updated, unchanged, quarantined, duplicates, report) VALUES (%s, %s, %s, %s, %s,"
                " to_timestamp(%s), to_timestamp(%s), %s, %s, %s, %s, %s, %s, %s)",
                (iid, report["file"], report["sha256"], report["format"], report.get("user"),
                 int(report["started_epoch"]), at, int(report["rows_read"]), int(report["inserted"]),
                 int(report["updated"]), int(report["unchanged"]), int(report["quarantined"]),
                 int(report["duplicates"]), json.dumps(report, ensure_ascii=False, default=str)))
            refresh_rollups(con)
            if written:
                self._bump(con)
            if written >= REBUILD_MIN:
                self._analyze_tickets(con)

    @staticmethod
    def _copy_scratch(con, stages, quarantine_stage, drop_keys, dup_rows) -> None:
        """COPY the staged rows into temporary tables of ``con``'s transaction.

        Each process's Arrow streams (``stages``: its folder) are written as CSV by Arrow
        (C++, every value quoted but NULL, so an empty text stays empty) and parsed by the
        server: no Python object per value. The rows of ``drop_keys`` and the quarantined
        repeats ``dup_rows`` are left out on the way, so the temporary tables hold exactly
        what is merged.
        """
        for table, (columns, types, _) in _STAGED.items():
            con.execute(f"CREATE TEMP TABLE {table} ({_typed(columns, types)}) ON COMMIT DROP")
        drop = pa.array(sorted({int(k) for k in drop_keys}), type=pa.int64())
        for folder in stages:
            for table, (columns, _, source) in _STAGED.items():
                copy_arrow_csv(con, table, columns, _kept(read_arrow_stage(folder, source), drop))
        if quarantine_stage is not None:
            con.execute(f"CREATE TEMP TABLE _s_quarantine ({_typed(QUARANTINE_STAGE_COLUMNS, _QUARANTINE_TYPES)}) "
                        "ON COMMIT DROP")
            with _scratch(quarantine_stage, sorted({int(r) for r in dup_rows}), "row_number") as (scratch, keep):
                copy_binary(con, "_s_quarantine", QUARANTINE_STAGE_COLUMNS, _QUARANTINE_TYPES, scratch.execute(
                    f"SELECT {_scratch_values(QUARANTINE_STAGE_COLUMNS, _QUARANTINE_TYPES)} FROM t_quarantine{keep}"))

    @staticmethod
    def _resolve_quarantine(con, iid: str) -> None:
        """Mark the unresolved quarantined rows whose source id arrived in this import as resolved by it."""
        for table in ("_s_tickets", "_s_sources"):
            con.execute("UPDATE quarantine SET resolved_by = %s WHERE resolved_by IS NULL AND source_id IN "
                        f"(SELECT source_id FROM {table})", (iid,))

    def _merge_tickets(self, con, staged: int) -> list:
        """Insert or update the staged tickets (their old place links go); return what to rebuild after the links.

        As in the SQLite store: an import of at least :data:`REBUILD_MIN` rows that at least
        doubles the table drops the secondary ticket indexes and the foreign keys
        (:meth:`_drop_indexes`) and builds them at the end (sorting beats a million B-tree
        and GiST insertions); the unique ``source_id`` index stays (``ticket_places``'
        foreign key needs it) unless the table is empty. Into an empty table the rows are
        inserted without the conflict check (the staged ids are unique).
        """
        con.execute("DELETE FROM ticket_places WHERE source_id IN (SELECT source_id FROM _s_tickets)")
        existing = con.execute("SELECT count(*) FROM tickets").fetchone()[0] if staged >= REBUILD_MIN else None
        indexes = self._drop_indexes(con, empty=existing == 0) if existing is not None and staged >= existing else []
        if existing == 0:
            cols = list(TICKET_COLUMNS)
            con.execute(f"INSERT INTO tickets ({', '.join(cols)}) SELECT {', '.join(ticket_values_sql(cols))} "
                        "FROM _s_tickets")
        else:
            self._upsert_tickets(con, "_s_tickets")
        return indexes

    @staticmethod
    def _drop_indexes(con, empty: bool = False) -> list[str]:
        """Drop what a bulk load maintains row by row, if this session may (it acts as the tables' owner).

        The secondary indexes and the foreign keys of ``tickets`` and ``ticket_places`` (a
        per-row trigger each: half the load's time); return the statements that build them
        again (:meth:`_rebuild_indexes`), which checks every foreign key once, so a load
        that breaks one still fails and rolls back. Into an ``empty`` table also the unique
        ``source_id`` index (built again first: a repeated id still fails the load) and the
        rollup triggers of the inserts, which would keep every inserted row in a transition
        table to learn its month: every month is marked for the refresh instead (:func:`mark_all`).
        """
        owned = con.execute("SELECT bool_and(pg_has_role(relowner, 'USAGE')) FROM pg_class "
                            "WHERE oid IN ('tickets'::regclass, 'ticket_places'::regclass)").fetchone()[0]
        if not owned:
            return []
        keys = con.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid IN ('tickets'::regclass, 'ticket_places'::regclass) ORDER BY conrelid::regclass::text, conname"
        ).fetchall()
        indexes = con.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid IN ('tickets'::regclass, 'ticket_places'::regclass) AND NOT x.indisprimary "
            "AND (NOT x.indisunique OR (%s AND x.indrelid = 'tickets'::regclass)) "
            "ORDER BY x.indisunique DESC, i.relname", (empty,)).fetchall()
        triggers = [("tickets", "tickets_rollup_insert"), ("ticket_places", "ticket_places_rollup_insert")] if empty else []
        for table, name, _ in keys:
            con.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name)))
        for name, _ in indexes:
            con.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        for table, name in triggers:
            con.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(sql.Identifier(table), sql.Identifier(name)))
        if triggers:
            mark_all(con)
        return [create for _, create in indexes] + [
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(sql.Identifier(table), sql.Identifier(name))
            + sql.SQL(definition) for table, name, definition in keys] + [
            sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(sql.Identifier(table), sql.Identifier(name))
            for table, name in triggers]

    @staticmethod
    def _rebuild_indexes(con, statements: list) -> None:
        """Run the statements of :meth:`_drop_indexes`, with at least :data:`REBUILD_MEMORY` to sort in."""
        if not statements:
            return
        con.execute("SELECT set_config('maintenance_work_mem', %s, true) WHERE "
                    "pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes(%s)",
                    (REBUILD_MEMORY, REBUILD_MEMORY))
        for statement in statements:
            con.execute(statement)

    @staticmethod
    def _merge_places(con) -> None:
        """Link the staged tickets to their places (a repeated link is stored once)."""
        if _is_empty(con, "ticket_places"):  # the same rows without a conflict check per row
            con.execute("INSERT INTO ticket_places (source_id, place_id) SELECT DISTINCT source_id, place_id "
                        "FROM _s_places")
        else:
            con.execute("INSERT INTO ticket_places (source_id, place_id) SELECT source_id, place_id FROM _s_places "
                        "ON CONFLICT DO NOTHING")

    @staticmethod
    def _merge_sources(con, iid: str) -> None:
        """Record each staged ticket's (and each unchanged row's) source-row hash: the last staged one of an id wins."""
        for table, column in (("_s_tickets", "_hash"), ("_s_sources", "row_hash")):
            if table == "_s_tickets" and _is_empty(con, "ticket_sources"):  # staged tickets have distinct ids
                con.execute(f"INSERT INTO ticket_sources (source_id, row_hash, import_id) SELECT source_id, {column}, %s "
                            f"FROM {table}", (iid,))
                continue
            con.execute("INSERT INTO ticket_sources (source_id, row_hash, import_id) "
                        f"SELECT DISTINCT ON (source_id) source_id, {column}, %s FROM {table} "
                        f"ORDER BY source_id, _key DESC ON CONFLICT (source_id) DO UPDATE SET "
                        "row_hash = excluded.row_hash, import_id = excluded.import_id", (iid,))

    @staticmethod
    def _merge_changes(con, iid: str, at: int) -> None:
        """Append the staged field changes to the change history, in staging order."""
        con.execute(f"INSERT INTO ticket_changes ({', '.join(CHANGE_COLUMNS)}) SELECT source_id, %s, "
                    "to_timestamp(%s), field, old_value, new_value FROM _s_changes ORDER BY _key", (iid, at))

    @staticmethod
    def _merge_quarantine(con, iid: str, file_name: str, at: int) -> None:
        """Quarantine the staged rows (in file order; a row hash already quarantined stays as it was)."""
        con.execute(
            f"INSERT INTO quarantine ({', '.join(QUARANTINE_COLUMNS)}) SELECT %s, %s, row_number, source_id, "
            "reason, detail, original, row_hash, to_timestamp(%s) FROM _s_quarantine "
            "ORDER BY row_number ON CONFLICT DO NOTHING", (iid, file_name, at))

    @staticmethod
    def _analyze_tickets(con) -> None:
        """Refresh the planner's statistics of the tables a large import grew (where this session may)."""
        for table in ("tickets", "ticket_places", "ticket_sources"):
            if con.execute("SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = %s::regclass",
                           (table,)).fetchone()[0]:
                con.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))

    def read_quarantine(self, import_id: str | None = None, include_resolved: bool = False) -> pd.DataFrame:
        """Return quarantined rows (newest import first), unresolved ones unless ``include_resolved``."""
        sql = ("SELECT quarantine_id, import_id, file_name, row_number, source_id, reason, detail, original, "
               f"{epoch('quarantined_at')} AS quarantined_at, resolved_by FROM quarantine WHERE true")
        params: list = []
        if import_id is not None:
            sql += " AND import_id = %s"
            params.append(import_id)
        if not include_resolved:
            sql += " AND resolved_by IS NULL"
        df = self._query(sql + " ORDER BY quarantine.quarantined_at DESC, quarantine_id", params)
        df["quarantined_at"] = epoch_to_times(df["quarantined_at"], index=df.index, tz=self.timezone)
        return df

    def read_import_reports(self, limit: int = 50) -> list[dict]:
        """Return the stored import reports, newest first."""
        df = self._query("SELECT report FROM import_reports ORDER BY started_at DESC, ctid DESC LIMIT %s", (int(limit),))
        return [json.loads(r) for r in df["report"]]

    def read_ticket_changes(self, source_id: str | None = None) -> pd.DataFrame:
        """Return recorded changes (all, or of one ticket) in the order they were made."""
        cols = [f"{epoch(c)} AS {c}" if c == "changed_at" else c for c in CHANGE_COLUMNS]
        return self._read_log(f"SELECT {', '.join(cols)} FROM ticket_changes", "source_id",
                              None if source_id is None else str(source_id))

    def write_relinked(self, links: pd.DataFrame, place_links: pd.DataFrame) -> int:
        """Replace the link columns and place links of stored tickets (one transaction); return the count."""
        link_cols = ["grid_uid", "grid_code", "community_code", "subdistrict_code", "district_code", "h3_cell"]
        with self._tx() as con:
            con.execute("CREATE TEMP TABLE _r_links (source_id text, grid_uid bigint, grid_code text, "
                        "community_code text, subdistrict_code text, district_code text, h3_cell bigint) ON COMMIT DROP")
            copy_rows(con, "_r_links", ["source_id", *link_cols], rows(links, ["source_id", *link_cols]))
            con.execute(f"UPDATE tickets t SET {', '.join(f'{c} = l.{c}' for c in link_cols)} "
                        "FROM _r_links l WHERE t.source_id = l.source_id")
            con.execute("DELETE FROM ticket_places")
            insert_place_links(con, place_links)
            refresh_rollups(con)
            self._bump(con)
        return len(links)

