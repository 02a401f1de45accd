"""The import stage of every store: scratch SQLite files in a temporary folder, one per process.

:class:`ScratchImportStage` is what :meth:`minqing.store.base.Store.begin_import` returns
on both backends. Each process that stages rows writes its own file (a forked worker
opens its own on its first chunk: no connection, to a file or a server, is ever
inherited across a fork), with tables ``t_tickets``, ``t_places``, ``t_sources`` and
``t_changes``; the importing process keeps the quarantined rows in one more. The commit
hands the files to the store's ``_write_staged(stages, quarantine_stage, drop_keys,
dup_rows, report)``, which copies them in one transaction (SQLite: attached; PostgreSQL:
COPY into temporary tables).

A worker's rows go into its file through the ADBC SQLite driver, which binds Arrow
columns in C (a tenth of the time of ``executemany`` with Python tuples, the largest
cost of staging before); the file is an ordinary SQLite database either way.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from minqing.errors import IngestError
from minqing.model import TICKET_COLUMNS
from minqing.store.convert import arrow_rows, rows
from minqing.store.sqlite.util import is_store_condition
from minqing.store.staging import ImportStage

_STAGE_SQL = (
    "CREATE TABLE IF NOT EXISTS t_tickets (_key INTEGER, _hash INTEGER, {cols})",
    "CREATE TABLE IF NOT EXISTS t_places (_key INTEGER, source_id TEXT, place_id TEXT)",
    "CREATE TABLE IF NOT EXISTS t_sources (_key INTEGER, source_id TEXT, row_hash INTEGER)",
    "CREATE TABLE IF NOT EXISTS t_changes (_key INTEGER, source_id TEXT, field TEXT, old_value TEXT, new_value TEXT)",
)
QUARANTINE_STAGE_COLUMNS = ("row_number", "source_id", "reason", "detail", "original", "row_hash")
_QUARANTINE_SQL = ("CREATE TABLE IF NOT EXISTS t_quarantine (row_number INTEGER, source_id TEXT, reason TEXT,"
                   " detail TEXT, original TEXT, row_hash INTEGER)")


@contextmanager
def scratch_errors(folder):
    """Turn a full disk or an unwritable folder while writing the import's scratch files into an :class:`IngestError`.

    Parameters
    ----------
    folder : path
        The import's scratch folder (the message names the temporary folder holding it).
    """
    try:
        yield
    except Exception as exc:
        if not (isinstance(exc, OSError) or is_store_condition(exc) or _is_adbc_condition(exc)):
            raise
        where = str(Path(folder).parent)
        raise IngestError(
            f"the import's temporary folder {where} is full or not writable ({exc}); the import was cancelled and "
            "the store is unchanged: free some space there, or set TMPDIR to a folder with room, and retry",
            key="ingest.error_scratch", path=where, reason=str(exc)) from exc


def _scratch_connection(path: Path, tables) -> sqlite3.Connection:
    """A scratch file without journal or syncing (lost on a crash, as the import is) holding ``tables``."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    for sql in tables:
        con.execute(sql)
    return con


def _is_adbc_condition(exc: BaseException) -> bool:
    """True for an ADBC driver error caused by the file or disk (as :func:`is_store_condition` for sqlite3)."""
    try:
        import adbc_driver_manager as adbc
    except ImportError:
        return False
    return isinstance(exc, adbc.DatabaseError) and not isinstance(
        exc, (adbc.IntegrityError, adbc.ProgrammingError, adbc.InternalError, adbc.NotSupportedError))


class _StageFile:
    """One process's scratch file, written through the ADBC SQLite driver (Arrow columns bound in C)."""

    def __init__(self, path: Path, tables):
        import adbc_driver_sqlite.dbapi as adbc_sqlite

        self._con = adbc_sqlite.connect(str(path), autocommit=True)
        self._cur = self._con.cursor()
        for sql in ("PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", *tables):
            self._cur.execute(sql)
            if self._cur.description is not None:  # PRAGMA journal_mode answers with a row
                self._cur.fetchall()

    def write(self, tables: dict) -> None:
        """Append each ``{table: arrow table}`` in one transaction (empty tables are skipped)."""
        self._cur.execute("BEGIN")
        try:
            for name, data in tables.items():
                if data.num_rows:
                    self._cur.adbc_ingest(name, data, mode="append")
            self._cur.execute("COMMIT")
        except BaseException:
            self._cur.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._cur.close()
        self._con.close()


STAGE_TABLES = {  # scratch table -> its columns and their Arrow types (the SQL types of both stores' staging)
    "t_tickets": ("_key", "_hash", *TICKET_COLUMNS),
    "t_places": ("_key", "source_id", "place_id"),
    "t_sources": ("_key", "source_id", "row_hash"),
    "t_changes": ("_key", "source_id", "field", "old_value", "new_value"),
}


def stage_schema(table: str, types: dict | None = None):
    """The Arrow schema of scratch ``table``: ``types`` maps a column to "int64", "float64" (else text)."""
    import pyarrow as pa

    kinds = {"int64": pa.int64(), "float64": pa.float64()}
    types = {"_key": "int64", "_hash": "int64", "row_hash": "int64", **(types or {})}
    return pa.schema([(c, kinds.get(types.get(c), pa.string())) for c in STAGE_TABLES[table]])


class _ArrowStageFolder:
    """One process's staged rows as Arrow IPC streams in its own folder (for a store that COPYs them).

    Each :meth:`write` writes one complete stream per table, ``<table>.<n>.arrows``,
    cast to the table's fixed schema (:func:`stage_schema` with the store's ``types``):
    a chunk is whole on disk when :meth:`write` returns, whether or not the process
    ever closes anything (forked workers just end).
    """

    def __init__(self, folder: Path, types: dict):
        folder.mkdir()
        self._folder = folder
        self._schemas = {t: stage_schema(t, types) for t in STAGE_TABLES}
        self._written = 0

    def write(self, tables: dict) -> None:
        import pyarrow as pa

        self._written += 1
        for name, data in tables.items():
            if data.num_rows:
                with pa.OSFile(str(self._folder / f"{name}.{self._written:08d}.arrows"), "wb") as sink, \
                        pa.ipc.new_stream(sink, self._schemas[name]) as writer:
                    writer.write_table(data.cast(self._schemas[name]))

    def close(self) -> None:
        pass


def read_arrow_stage(folder: Path, table: str):
    """Yield the record batches of one process's staged ``table`` in staging order (see :class:`_ArrowStageFolder`)."""
    import pyarrow as pa

    for path in sorted(Path(folder).glob(f"{table}.*.arrows")):
        with pa.OSFile(str(path)) as source:  # read whole (one chunk): no batch outlives its file
            batches = pa.ipc.open_stream(source).read_all().to_batches()
        yield from batches


def _stage_rows(con, tickets, place_links, sources, changes) -> None:
    """Write one chunk's tickets, place links, source hashes and changes to the process's scratch file."""
    con.write({table: arrow_rows(frame, STAGE_TABLES[table]) for table, frame in
               zip(STAGE_TABLES, (tickets, place_links, sources, changes), strict=True)})


class ScratchImportStage(ImportStage):
    """An import staged in scratch SQLite files of a temporary folder, copied into the store by :meth:`commit`.

    Each process that calls :meth:`add` writes its own ``stage_<pid>.sqlite`` (a forked
    worker opens its own on its first chunk); the importing process keeps the
    quarantined rows in ``quarantine.sqlite``. The folder goes when the stage is
    discarded (leaving the ``with`` block), committed or not.

    A store that COPYs the rows into a server instead of attaching the files passes
    ``arrow_types``: each process then writes Arrow IPC streams (``stage_<pid>.arrow/``,
    :func:`read_arrow_stage`), which the commit reads without a Python object per value.

    Parameters
    ----------
    store : Store
        The store the import commits into.
    arrow_types : dict, optional
        Stage as Arrow streams, a column's type "int64" or "float64" (else text) as this maps it.
    """

    def __init__(self, store, arrow_types: dict | None = None):
        self._store = store
        self._arrow_types = arrow_types
        self._owner = os.getpid()
        with scratch_errors(Path(tempfile.gettempdir()) / "minqing-import"):
            # ignore_cleanup_errors: a failed clean-up must not hide the error that ends the import
            self._dir = tempfile.TemporaryDirectory(prefix="minqing-import-", ignore_cleanup_errors=True)
        self.folder = Path(self._dir.name)
        self._con, self._con_pid = None, None  # this process's scratch file
        self._quarantine = None
        self._done = False

    def add(self, tickets, place_links, sources, changes) -> None:
        with scratch_errors(self.folder):
            if self._con_pid != os.getpid():  # a new (forked) process: its own file, never an inherited connection
                if self._arrow_types is not None:
                    self._con = _ArrowStageFolder(self.folder / f"stage_{os.getpid()}.arrow", self._arrow_types)
                else:
                    cols = ", ".join(TICKET_COLUMNS)
                    self._con = _StageFile(self.folder / f"stage_{os.getpid()}.sqlite",
                                           [sql.format(cols=cols) for sql in _STAGE_SQL])
                self._con_pid = os.getpid()
            _stage_rows(self._con, tickets, place_links, sources, changes)

    def _quarantine_con(self, create: bool = True):
        self._check_owner()
        if self._quarantine is None and (create or self._quarantine_path().exists()):
            with scratch_errors(self.folder):
                self._quarantine = _scratch_connection(self._quarantine_path(), [_QUARANTINE_SQL])
        return self._quarantine

    def _quarantine_path(self) -> Path:
        return self.folder / "quarantine.sqlite"

    def add_quarantine(self, frame: pd.DataFrame) -> None:
        con = self._quarantine_con()
        with scratch_errors(self.folder):
            con.execute("BEGIN")
            con.executemany("INSERT INTO t_quarantine VALUES (?, ?, ?, ?, ?, ?)", rows(frame, list(QUARANTINE_STAGE_COLUMNS)))
            con.execute("COMMIT")

    def repeated_quarantine_rows(self) -> set[int]:
        con = self._quarantine_con(create=False)
        if con is None:
            return set()
        with scratch_errors(self.folder):
            cur = con.execute(
                "SELECT row_number FROM (SELECT row_number, ROW_NUMBER() OVER (PARTITION BY row_hash "
                "ORDER BY row_number) AS k FROM t_quarantine) WHERE k > 1")
            return {int(r) for (r,) in cur}

    def quarantine_reasons(self, dup_rows) -> dict:
        self._check_owner()
        path = self._quarantine_path()
        if not path.exists():
            return {}
        con = sqlite3.connect(path)
        try:
            con.execute("CREATE TEMP TABLE _dup (r INTEGER PRIMARY KEY)")
            con.executemany("INSERT INTO _dup VALUES (?)", ((int(r),) for r in dup_rows))
            keep = "row_number NOT IN (SELECT r FROM _dup)"
            out = {}
            for reason, n in con.execute(f"SELECT reason, COUNT(*) FROM t_quarantine WHERE {keep} GROUP BY reason"):
                ex = con.execute(f"SELECT row_number, source_id, detail FROM t_quarantine WHERE {keep} AND reason = ? "
                                 "ORDER BY row_number LIMIT 3", (reason,)).fetchall()
                out[reason] = (n, [{"row": int(a), "source_id": str(b), "value": None if c is None else str(c)}
                                   for a, b, c in ex])
            return out
        finally:
            con.close()

    def commit(self, report: dict, drop_keys=(), dup_rows=()) -> None:
        self._check_owner()
        self._close()
        stages = sorted(self.folder.glob("stage_*.arrow" if self._arrow_types is not None else "stage_*.sqlite"))
        quarantine = self._quarantine_path() if self._quarantine_path().exists() else None
        self._store._write_staged(stages, quarantine, drop_keys, dup_rows, report)

    def discard(self) -> None:
        self._check_owner()
        if not self._done:
            self._done = True
            self._close()
            self._dir.cleanup()

    def _close(self) -> None:
        for con in (self._con, self._quarantine):
            if con is not None:
                con.close()
        self._con = self._con_pid = self._quarantine = None

    def _check_owner(self) -> None:
        if os.getpid() != self._owner:
            raise RuntimeError("only the process that began the import may read, commit or discard its stage")


__all__ = ["QUARANTINE_STAGE_COLUMNS", "STAGE_TABLES", "ScratchImportStage", "read_arrow_stage", "scratch_errors", "stage_schema"]
