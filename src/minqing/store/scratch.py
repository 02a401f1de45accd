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

An SQLite store passes its own ``tickets`` table definition (``ticket_table_sql``):
each chunk's tickets then go to a table of exactly that definition, ``t_tickets_<chunk>``
(:func:`chunk_ticket_table`), whose ``ticket_id`` is the row's key, and every row's source
hash goes to ``t_sources``. A bulk commit into an empty store copies those records as
they are, chunk after chunk in file order (SQLite's transfer optimisation of ``INSERT INTO
tickets SELECT * FROM t_tickets_<chunk>``), without decoding and encoding a million rows again.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from minqing.errors import IngestError
from minqing.model import TICKET_COLUMNS
from minqing.store.convert import arrow_rows, rows
from minqing.store.sqlite.util import is_store_condition
from minqing.store.staging import KEY_BITS, ImportStage

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


SCRATCH_PAGE_SIZE = 16384
"""Page size of a process's scratch file (set before its first table): appending a chunk's tickets through the
ADBC driver takes about 15% less time than with SQLite's 4 KiB pages (fewer, fuller pages to write)."""


class _StageFile:
    """One process's scratch file, written through the ADBC SQLite driver (Arrow columns bound in C).

    With ``bulk_checks`` the ``CHECK`` rules are not evaluated row by row as rows are
    appended (each row's ``IN (...)`` list costs more than the rest of its insert): a
    table written with ``checks`` is then checked once, in one query, before the write commits.
    """

    def __init__(self, path: Path, tables, bulk_checks: bool = False):
        import adbc_driver_sqlite.dbapi as adbc_sqlite

        self._con = adbc_sqlite.connect(str(path), autocommit=True)
        self._cur = self._con.cursor()
        pragmas = ("PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", f"PRAGMA page_size={SCRATCH_PAGE_SIZE}") + (
            ("PRAGMA ignore_check_constraints=ON",)
                                                                         if bulk_checks else ())
        for sql in (*pragmas, *tables):
            self._cur.execute(sql)
            if self._cur.description is not None:  # PRAGMA journal_mode answers with a row
                self._cur.fetchall()

    def write(self, tables: dict, create=(), checks: dict | None = None) -> None:
        """Append each ``{table: arrow table}`` in one transaction (empty tables are skipped), after ``create``.

        ``checks`` maps a table to its ``CHECK`` expressions: a row breaking one stops the write.
        """
        self._cur.execute("BEGIN")
        try:
            for sql in create:
                self._cur.execute(sql)
            for name, data in tables.items():
                if data.num_rows:
                    self._cur.adbc_ingest(name, data, mode="append")
            for name, rules in (checks or {}).items():
                self._check(name, rules)
            self._cur.execute("COMMIT")
        except BaseException:
            self._cur.execute("ROLLBACK")
            raise

    def _check(self, name: str, rules: list[str]) -> None:
        if not rules:
            return
        self._cur.execute(f"SELECT source_id FROM {name} WHERE " + " OR ".join(f"NOT ({r})" for r in rules) + " LIMIT 1")
        bad = self._cur.fetchall()
        if bad:
            broken = [r for r in rules if self._breaks(name, r, bad[0][0])]
            raise ValueError(f"ticket {bad[0][0]!r} breaks the store's rule CHECK ({'; '.join(broken) or rules})")

    def _breaks(self, name: str, rule: str, source_id) -> bool:
        self._cur.execute(f"SELECT 1 FROM {name} WHERE source_id = ? AND NOT ({rule})", (source_id,))
        return bool(self._cur.fetchall())

    def close(self) -> None:
        self._cur.close()
        self._con.close()


def check_rules(table_sql: str) -> list[str]:
    """The expressions of the ``CHECK (...)`` constraints in a ``CREATE TABLE`` statement, in order.

    Quoted strings and identifiers are skipped, so a parenthesis or the word CHECK inside them counts for nothing.
    """
    rules, i, n = [], 0, len(table_sql)
    while i < n:
        ch = table_sql[i]
        if ch in "'\"`[":
            i = _after_quoted(table_sql, i)
            continue
        m = re.match(r"CHECK\s*\(", table_sql[i:], re.IGNORECASE)
        if m and (i == 0 or not (table_sql[i - 1].isalnum() or table_sql[i - 1] == "_")):
            start = j = i + m.end()
            depth = 1
            while depth:
                if j >= n:
                    raise ValueError(f"unbalanced CHECK in {table_sql[:80]!r}")
                if table_sql[j] in "'\"`[":
                    j = _after_quoted(table_sql, j)
                    continue
                depth += {"(": 1, ")": -1}.get(table_sql[j], 0)
                j += 1
            rules.append(table_sql[start:j - 1].strip())
            i = j
            continue
        i += 1
    return rules


def _after_quoted(sql: str, i: int) -> int:
    """The index after the quoted string or identifier starting at ``sql[i]`` (a doubled quote stays inside)."""
    close = {"[": "]"}.get(sql[i], sql[i])
    j = i + 1
    while j < len(sql):
        if sql[j] == close:
            if close != "]" and j + 1 < len(sql) and sql[j + 1] == close:
                j += 2
                continue
            return j + 1
        j += 1
    raise ValueError(f"unterminated quote in {sql[:80]!r}")


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


STORE_LAYOUT_TABLES = {**STAGE_TABLES, "t_tickets": ("ticket_id", *TICKET_COLUMNS)}
"""The scratch tables of a stage in the store's ticket layout (``ticket_table_sql``): no ``_hash`` column."""
CHUNK_TICKETS_GLOB = "t_tickets_[0-9]*"
CHUNK_PLACES_GLOB = "t_places_[0-9]*"
CHUNK_SOURCES_GLOB = "t_sources_[0-9]*"


def chunk_ticket_table(chunk: int) -> str:
    """The scratch table of one chunk's tickets in the store's layout (names sort in chunk order)."""
    return chunk_table("t_tickets", chunk)


def chunk_table(table: str, chunk: int) -> str:
    """The scratch table of one chunk's rows of ``table`` (``t_tickets``, ``t_places``, ``t_sources``), in the
    store's layout: a chunk's rows are copied in file order, chunk after chunk, so the store's B-trees grow at
    their end when the file is in the order of their keys, as exports often are."""
    return f"{table}_{int(chunk):08d}"


def stage_ticket_sql(table_sql: str, name: str = "t_tickets") -> str:
    """The ``CREATE TABLE`` of scratch table ``name`` from a store's ``CREATE TABLE tickets (...)`` (the same columns and rules)."""
    out, n = re.subn(r'^\s*CREATE\s+TABLE\s+(?:"tickets"|tickets)\s*\(', f"CREATE TABLE IF NOT EXISTS {name} (",
                     table_sql, count=1, flags=re.IGNORECASE)
    if not n or not re.fullmatch(r"t_tickets(_[0-9]+)?", name):
        raise ValueError(f"not a CREATE TABLE tickets statement: {table_sql[:80]!r}")
    return out


def _stage_rows(con, tickets, place_links, sources, changes, ticket_sql: str | None = None) -> None:
    """Write one chunk's tickets, place links, source hashes and changes to the process's scratch file.

    With the store's ``ticket_sql`` the tickets go to their chunk's table in the store's layout (the
    key is the ``ticket_id``) and their hashes to ``t_sources``.
    """
    if ticket_sql is None:
        con.write({table: arrow_rows(frame, STAGE_TABLES[table]) for table, frame in
                   zip(STAGE_TABLES, (tickets, place_links, sources, changes), strict=True)})
        return
    tickets = tickets.rename(columns={"_key": "ticket_id"})
    hashes = tickets[["ticket_id", "source_id", "_hash"]].set_axis(list(STAGE_TABLES["t_sources"]), axis=1)
    sources = pd.concat([hashes, sources[list(STAGE_TABLES["t_sources"])]], ignore_index=True) if len(sources) else hashes
    tables, create, checks = {}, [], {}
    keys = [int(f[c].iloc[0]) for f, c in ((tickets, "ticket_id"), (sources, "_key"), (place_links, "_key")) if len(f)]
    chunk = keys[0] >> KEY_BITS if keys else 0  # a chunk's rows carry its number in the key's high bits
    if len(tickets):
        name = chunk_ticket_table(chunk)
        create.append(stage_ticket_sql(ticket_sql, name))
        tables[name] = arrow_rows(tickets, STORE_LAYOUT_TABLES["t_tickets"])
        checks = {name: check_rules(ticket_sql)}
    for table, frame in (("t_places", place_links), ("t_sources", sources)):
        if len(frame):
            name = chunk_table(table, chunk)
            create.append(_STAGE_SQL[list(STAGE_TABLES).index(table)].replace(f"EXISTS {table} ", f"EXISTS {name} ", 1))
            tables[name] = arrow_rows(frame, STAGE_TABLES[table])
    tables["t_changes"] = arrow_rows(changes, STAGE_TABLES["t_changes"])
    con.write(tables, create, checks)


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
    ticket_table_sql : str, optional
        The store's ``CREATE TABLE tickets``: stage the tickets in its layout (see the module).
    """

    def __init__(self, store, arrow_types: dict | None = None, ticket_table_sql: str | None = None):
        self._store = store
        self._arrow_types = arrow_types
        self._ticket_sql = None if ticket_table_sql is None or arrow_types is not None else ticket_table_sql
        if self._ticket_sql is not None:  # a statement it cannot use fails here, not in a worker
            stage_ticket_sql(self._ticket_sql)
            check_rules(self._ticket_sql)
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
                    tables = [sql.format(cols=cols) for sql in _STAGE_SQL  # in the store's layout: t_changes, else per chunk
                              if self._ticket_sql is None or sql.startswith("CREATE TABLE IF NOT EXISTS t_changes ")]
                    self._con = _StageFile(self.folder / f"stage_{os.getpid()}.sqlite", tables,
                                           bulk_checks=self._ticket_sql is not None)
                self._con_pid = os.getpid()
            _stage_rows(self._con, tickets, place_links, sources, changes, self._ticket_sql)

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


__all__ = ["QUARANTINE_STAGE_COLUMNS", "STAGE_TABLES", "CHUNK_PLACES_GLOB", "CHUNK_SOURCES_GLOB", "CHUNK_TICKETS_GLOB", "chunk_table", "STORE_LAYOUT_TABLES", "check_rules", "chunk_ticket_table", "stage_ticket_sql", "ScratchImportStage", "read_arrow_stage", "scratch_errors", "stage_schema"]
