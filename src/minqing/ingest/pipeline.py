"""The import pipeline: read, normalise, convert, link, write — in one transaction, nothing lost.

Counts reconcile: ``rows_read = inserted + updated + unchanged + quarantined + duplicates``
(``duplicates`` are exact repeats of a row already counted in the same file).
Re-importing the same file changes nothing: each stored ticket remembers the
hash of the source row it came from, and unchanged rows are skipped before
any work is done on them.

Chunks are processed by :mod:`minqing.ingest.stage` (in forked workers for large
files) into the store's staging session (:meth:`minqing.store.base.Store.begin_import`);
:mod:`minqing.ingest.tally` counts them, and the session commits once at the end.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import re
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from minqing.citytime import check_timezone
from minqing.errors import IngestError
from minqing.ingest.aliases import TIME_FIELDS
from minqing.ingest.coords import DEFAULT_REGION_BUFFER_M, region_from_units
from minqing.ingest.csv_blocks import csv_block_spans, csv_splittable, parse_csv_block, read_span
from minqing.ingest.errors import MappingError, ReadError
from minqing.ingest.geocode import DEFAULT_THRESHOLD, build_gazetteer, load_facilities
from minqing.ingest.mapping import (
    NEW_CATEGORIES,
    ColumnMapping,
    infer_mapping,
    load_mapping_file,
    looks_like_data,
    shown_columns,
)
from minqing.ingest.normalise import normalise_chunk
from minqing.ingest.readers import DEFAULT_CHUNKSIZE, open_source, read_chunks
from minqing.ingest.source import READER_COLUMNS, Source
from minqing.ingest.stage import ChunkContext, ChunkResult, process_chunk, set_context, worker_start
from minqing.ingest.tally import ImportReport, Tally
from minqing.ingest.times import (
    DATE_ORDERS,
    DateOrderError,
    check_date_order,
    infer_date_order,
)
from minqing.model import TIMEZONE
from minqing.store.base import Store
from minqing.store.staging import ImportStage

PARALLEL_MIN_BYTES = 8 << 20
"""Files smaller than this are processed in the importing process (starting workers costs more)."""
MAX_WORKERS = 4
DEFAULT_BLOCK_BYTES = 16 << 20
DATE_SAMPLE_ROWS = 50_000
"""Rows read from the start of a file to decide the order of day, month and year once for all chunks."""


@dataclass
class ImportOptions:
    """How to read a file.

    Attributes
    ----------
    crs : str, optional
        The file's coordinate system (wgs84, gcj02, bd09); the mapping file's
        ``[options] crs`` or "wgs84" when None. A 坐标系 column overrides it per row.
    timezone : str, optional
        Time zone of times without an offset (default: the store's city time zone, see ``minqing settings``).
    sheet : str, optional
        XLSX sheet (default: the first).
    mapping_file : path, optional
        TOML mapping file (see :mod:`minqing.ingest.mapping`).
    mapping : dict, optional
        The same as a dict (``{"columns": {...}, "options": {...}}``).
    match_threshold : float
        Minimum address-match score (0-100) to locate a ticket.
    region_buffer_m : float
        How far outside the loaded districts a point may lie.
    default_channel : str
        Channel of rows with no channel value.
    user : str, optional
        Who runs the import (stored with the report).
    dry_run : bool
        Do everything but write.
    chunksize : int
        Rows per chunk read.
    layers : path, optional
        Folder with ``facilities.geojson`` for the gazetteer (default: the demo city's).
    now : Timestamp, optional
        The present, for the future-time check (tests).
    workers : int, optional
        Worker processes (default: one per core, up to 4, for files over 8 MiB;
        1 = in-process). Processes are forked: a multi-threaded caller (the app) passes 1.
    block_bytes : int
        Bytes of CSV per chunk handed to a worker.
    date_order : {"MDY", "DMY", "YMD"}, optional
        How dates with the year last are read (``12/31/2017`` is MDY); the mapping file's
        ``[options] date_order``, else inferred from the file's time columns (an
        ambiguous file stops the import).
    lock_wait : float
        Seconds to wait for another import into the same store to finish before
        giving up with :class:`ImportBusyError` (imports into one store serialise).
    earliest : str, optional
        Earliest accepted time (e.g. "1990-01-01"; the mapping's ``[options] earliest``):
        earlier rows are quarantined ``time_before_earliest``. Default: no floor
        (times before 1990 are stored with a warning).
    """

    crs: str | None = None
    timezone: str | None = None
    sheet: str | None = None
    mapping_file: str | Path | None = None
    mapping: dict | None = None
    match_threshold: float = DEFAULT_THRESHOLD
    region_buffer_m: float = DEFAULT_REGION_BUFFER_M
    default_channel: str = "hotline_12345"
    user: str | None = None
    dry_run: bool = False
    chunksize: int = DEFAULT_CHUNKSIZE
    layers: str | Path | None = None
    now: object = None
    workers: int | None = None
    block_bytes: int = DEFAULT_BLOCK_BYTES
    date_order: str | None = None
    earliest: str | None = None
    lock_wait: float = 600.0


def import_file(store: Store, path: str | Path, options: ImportOptions | None = None,
                progress: Callable[[str, float], None] | None = None) -> ImportReport:
    """Import a hotline export into ``store``.

    Parameters
    ----------
    store : Store
        An open store with the city's units (and places) loaded.
    path : path
        CSV, XLSX, GeoJSON or Open311 JSON file.
    options : ImportOptions, optional
    progress : callable, optional
        Called with (stage, fraction 0..1).

    Returns
    -------
    ImportReport

    Raises
    ------
    minqing.errors.IngestError
        If the file cannot be read or mapped; nothing is written then.
    """
    options = options or ImportOptions()
    src = open_source(path, options.sheet, hash_later=True)  # hashed while the import sets up
    step = progress or (lambda stage, frac: None)
    if options.dry_run:  # writes nothing: needs no lock
        report = _Run(store, src, options, step).run()
    else:  # one import at a time per store, from reading the stored hashes to commit
        holder = f"{options.user or 'cli'}: {src.path.name}"
        with store.import_lock(holder, wait=options.lock_wait, on_wait=lambda who: step("waiting", 0.0)):
            report = _Run(store, src, options, step).run()
    if not options.dry_run:
        from minqing.audit import audit

        audit(store, options.user or "cli", "import", target=report.file, rows=report.rows_read,
              detail={k: getattr(report, k) for k in ("import_id", "inserted", "updated", "unchanged", "quarantined",
                                                     "duplicates")})
    return report


@dataclass
class Preview:
    """The mapping and the first rows of a file (``minqing import --dry-run`` / the import page)."""

    source: Source
    mapping: ColumnMapping
    raw: pd.DataFrame
    tickets: pd.DataFrame


def preview_file(path: str | Path, options: ImportOptions | None = None, n: int = 5) -> Preview:
    """Return the inferred mapping and the first ``n`` rows, raw and normalised, without writing."""
    options = options or ImportOptions()
    src = open_source(path, options.sheet)
    user_map = _user_mapping(options)
    crs, tz = _crs_tz(options, user_map)
    order, earliest = _date_options(options, user_map)
    for chunk in read_chunks(src, chunksize=max(n, 1000)):
        mapping = _mapping(chunk.columns, user_map, src.path.name)
        if order is None:
            try:
                order = infer_date_order(_time_columns(chunk, mapping))
            except DateOrderError:
                order = None  # the import itself stops and asks
        chunk = chunk.head(n).copy()
        chunk["_hash"] = np.zeros(len(chunk), dtype="int64")
        norm = normalise_chunk(chunk, mapping, crs=crs, tz=tz, now=options.now, date_order=order, earliest=earliest)
        return Preview(src, mapping, chunk.drop(columns=["_hash"]), norm.tickets)
    return Preview(src, ColumnMapping({}, ()), pd.DataFrame(), pd.DataFrame())


def _user_mapping(options: ImportOptions) -> dict:
    if options.mapping_file is not None:
        return load_mapping_file(options.mapping_file)
    return options.mapping or {}


def _crs_tz(options, user_map, city_tz: str = TIMEZONE) -> tuple[str, str]:
    """The file's coordinate system and the zone of its naive times (default: the city's)."""
    opts = user_map.get("options", {})
    crs = options.crs or opts.get("crs") or "wgs84"
    from minqing.geo.crs import _check_crs

    return _check_crs(crs), check_timezone(options.timezone or opts.get("timezone") or city_tz)


def _date_options(options, user_map) -> tuple[str | None, pd.Timestamp | None]:
    """The date order (None: infer) and the earliest accepted time (None: no floor), checked."""
    opts = user_map.get("options", {})
    raw = options.date_order if options.date_order is not None else opts.get("date_order")
    try:
        order = check_date_order(raw)
    except ValueError:
        raise MappingError(f"date order {raw!r} is not one of {', '.join(DATE_ORDERS)}; set "
                           "[options] date_order = \"MDY\" | \"DMY\" | \"YMD\" or --date-order",
                           key="ingest.error_date_order_value", value=str(raw)) from None
    raw = options.earliest if options.earliest is not None else opts.get("earliest")
    earliest = None
    if raw not in (None, ""):
        try:
            earliest = pd.Timestamp(str(raw))
        except (ValueError, TypeError):
            earliest = None
        if earliest is None or pd.isna(earliest):
            raise MappingError(f"the earliest time {raw!r} cannot be read; use e.g. 1990-01-01",
                               key="ingest.error_earliest", value=str(raw))
    return order, earliest


def _time_columns(frame: pd.DataFrame, mapping: ColumnMapping) -> list[pd.Series]:
    return [frame[mapping.fields[k]] for k in (*TIME_FIELDS, "received_date")
            if k in mapping.fields and mapping.fields[k] in frame.columns]


def _ambiguous(example: str, name: str) -> IngestError:
    return IngestError(
        f"{name}: the dates have the year last and every one could be read day-first or month-first "
        f"(e.g. {example!r}); say which: set [options] date_order = \"MDY\" | \"DMY\" | \"YMD\" in the mapping "
        "file, or pass --date-order MDY|DMY|YMD. Nothing was imported",
        key="ingest.error_date_order", example=str(example))


def _mapping(columns, user_map: dict, name: str = "the file") -> ColumnMapping:
    columns = [c for c in columns if c not in READER_COLUMNS]
    mapping = infer_mapping(columns, user_map)
    missing = mapping.missing_required()
    if missing:
        if looks_like_data(columns):  # no header row: its "names" are a caller's name, phone, ... never echo them
            raise MappingError(
                f"the first row of {name} looks like data, not column names; add a header row with the column "
                "names (e.g. 工单编号,受理时间,...) and import again (and a mapping file if the names differ "
                "from the usual ones)",
                key="ingest.error_no_header", path=name)
        raise MappingError(
            f"no column for required field(s) {missing}; the file's columns are: "
            f"{shown_columns(columns)}. Add them to a mapping file "
            "([columns] source_id = \"...\") and pass it with --mapping",
            key="ingest.error_required", fields=", ".join(missing))
    return mapping


def _fingerprint(crs, tz, mapping, date_order=None, earliest=None) -> np.uint64:
    """A stable number that changes when the options that shape a ticket change."""
    import hashlib

    parts = (crs, tz, sorted(mapping.fields.items()))
    if mapping.values or "blank_tokens" in mapping.options:  # value maps and blank tokens shape tickets too
        parts += (sorted((k, sorted(v.items())) for k, v in mapping.values.items()), sorted(mapping.blank_tokens))
    if date_order not in (None, "YMD") or earliest is not None:  # they change how times read
        parts += (date_order, None if earliest is None else str(earliest))
    key = repr(parts).encode("utf-8")
    return np.uint64(int.from_bytes(hashlib.sha256(key).digest()[:8], "little"))


class _Run:
    """One import run: the importing process reads and merges, chunks are processed in workers, the store writes once."""

    def __init__(self, store, src, options, step):
        self.store, self.src, self.options, self.step = store, src, options, step
        self.user_map = _user_mapping(options)
        self.crs, self.tz = _crs_tz(options, self.user_map, store.timezone)
        self.date_order, self.earliest = _date_options(options, self.user_map)
        opts = self.user_map.get("options", {})
        self.threshold = float(opts.get("match_threshold", options.match_threshold))
        self.buffer = float(opts.get("region_buffer_m", options.region_buffer_m))
        self.secs = Counter()
        started = pd.Timestamp.now(tz=self.tz)
        self.report = ImportReport(
            import_id=uuid.uuid4().hex[:16], file=src.path.name, sha256=src.sha256, format=src.format, size=src.size,
            encoding=src.encoding, delimiter=src.delimiter, user=options.user, started_at=started.isoformat(),
            started_epoch=int(started.timestamp()), dry_run=options.dry_run, notes=list(src.notes))
        self.tally = Tally(src, self.report, options.chunksize, self.secs)

    # -- the run ------------------------------------------------------------------------
    def run(self) -> ImportReport:
        wall = time.perf_counter()
        t = wall
        units = self.store.read_units()
        places = self.store.read_places()
        region = region_from_units(units, self.buffer)
        if region is None:
            self.report.notes.append("no_units_loaded")
        stored = self.store.read_source_hashes()
        gazetteer = build_gazetteer(places, _facilities(self.options.layers))
        self.secs["read"] += time.perf_counter() - t
        tasks = self._tasks()
        first = next(tasks, None)
        if first is None:  # 0-row or header-only file
            self.report.notes.append("empty_file")
            with self.store.begin_import() as stage:
                return self._finish(None, stage, np.array([], dtype="int64"), set(), wall)
        mapping = _mapping(self._columns(first), self.user_map, self.src.path.name)
        self.new_categories = mapping.values.get(NEW_CATEGORIES, {})
        self.report.mapping = dict(mapping.fields)
        self.report.unknown_columns = list(mapping.unknown)
        head = [first]
        if self.date_order is None:  # the order is decided from the first rows, before any chunk: all read alike
            order = self._infer_date_order(head, tasks, mapping)
            tasks = itertools.chain(head[1:], tasks)
        else:
            order = self.date_order
        self.report.date_order = order
        with self.store.begin_import() as stage:  # discarded, the store unchanged, unless committed
            ctx = ChunkContext(
                source=self.src, mapping=mapping, crs=self.crs, tz=self.tz, region=region,
                default_channel=self._default_channel(), now=self.options.now,
                fingerprint=_fingerprint(self.crs, self.tz, mapping, order, self.earliest), stored_index=pd.Index(stored.index),
                stored_values=stored.to_numpy(dtype="int64"), gazetteer=gazetteer, threshold=self.threshold,
                units=units, places=places, store_url=self.store.url, stage=stage, store=self.store,
                owner_pid=os.getpid(), earliest=self.earliest, city_tz=self.store.timezone,
                # no year-last date in the sample: each column of a chunk settles its own
                date_order=order if (self.date_order or order in ("MDY", "DMY")) else None)
            tally = self.tally
            # closing(): on a failure the workers stop before the stage is discarded
            with closing(self._results(ctx, itertools.chain([first], tasks))) as results:
                for result in results:
                    tally.merge(result, stage)
            if self.src.mixed_encoding_fixes:
                tally.warnings["mixed_encoding"] += self.src.mixed_encoding_fixes
            tally.warnings.update(self.src.warnings)  # found by the reader (XLSX formula cells without a value)
            self.report.notes.extend(n for n in self.src.notes if n not in self.report.notes)
            p = tally.concatenated()
            drop, dup_rows = tally.duplicates(p, mapping, stage)
            return self._finish(p, stage, drop, dup_rows, wall)

    def _default_channel(self) -> str:
        """The channel of rows without one: the mapping's ``[options] default_channel``, else the option's."""
        from minqing.model import CHANNELS

        value = self.user_map.get("options", {}).get("default_channel", self.options.default_channel)
        if value not in CHANNELS:
            raise MappingError(f"[options] default_channel = {value!r} is not a channel; allowed: {', '.join(CHANNELS)}",
                               key="ingest.error_mapping_value", field="default_channel", value=str(value),
                               target=str(value), allowed=", ".join(CHANNELS))
        return value

    def _infer_date_order(self, head: list, tasks, mapping) -> str | None:
        """Decide the order of day, month and year from the first rows of every time column together.

        ``head`` holds the first task; CSV blocks taken from ``tasks`` until they hold
        :data:`DATE_SAMPLE_ROWS` rows are appended to it (the caller processes them first).
        They are parsed as the workers parse them, not read a second time.
        """
        if head[0][1] == "frame":
            frame = head[0][2]
        else:
            frames, rows = [], 0
            while True:
                try:
                    header, span = head[len(frames)][2]
                    part = parse_csv_block(self.src, header, read_span(self.src, span))[0]
                except ReadError:  # the run reports it with the row
                    break
                frames.append(part)
                rows += len(part)
                if rows >= DATE_SAMPLE_ROWS or (nxt := next(tasks, None)) is None:
                    break
                head.append(nxt)
            if not frames:
                return None
            frame = pd.concat(frames, ignore_index=True).head(DATE_SAMPLE_ROWS) if len(frames) > 1 else \
                frames[0].head(DATE_SAMPLE_ROWS)
        try:
            return infer_date_order(_time_columns(frame, mapping))
        except DateOrderError as exc:
            raise _ambiguous(exc.example, self.src.path.name) from None

    def _tasks(self):
        """Chunks to process: byte blocks of a CSV (parsed by the workers) or frames from the other readers."""
        progress = lambda done, total: self.step("read", done / max(total, 1))
        if csv_splittable(self.src):
            for k, (header, span) in enumerate(csv_block_spans(self.src, self.options.block_bytes, progress)):
                yield (k, "csv", (header, span))  # the worker reads its body from the file
        else:
            for k, chunk in enumerate(read_chunks(self.src, self.options.chunksize, progress)):
                yield (k, "frame", chunk.drop(columns=["_row"]))

    def _columns(self, task) -> list[str]:
        if task[1] == "csv":
            return list(parse_csv_block(self.src, task[2][0], b"")[0].columns.drop("_row"))
        return list(task[2].columns)

    def _workers(self) -> int:
        if self.options.workers is not None:
            return max(1, int(self.options.workers))
        if self.src.size < PARALLEL_MIN_BYTES:
            return 1
        return max(1, min(MAX_WORKERS, os.cpu_count() or 1))

    def _results(self, ctx: ChunkContext, tasks) -> Iterator[ChunkResult]:
        """Process the chunks in order, in worker processes when that pays; at most a few chunks in flight."""
        workers = self._workers()
        self.report.sha256 = self.src.file_hash()  # its thread ends before any worker is forked
        set_context(ctx)
        try:
            if workers <= 1:
                for task in tasks:
                    yield self._checked(task[0], lambda task=task: process_chunk(task))
                return
            pool = multiprocessing.get_context("fork").Pool(workers, initializer=worker_start)
            try:
                pending: deque = deque()
                for task in tasks:
                    pending.append((task[0], pool.apply_async(process_chunk, (task,))))
                    if len(pending) > workers:
                        k, job = pending.popleft()
                        yield self._checked(k, job.get)
                while pending:
                    k, job = pending.popleft()
                    yield self._checked(k, job.get)
                pool.close()
                pool.join()
            finally:
                pool.terminate()
        finally:
            set_context(None)

    def _checked(self, number: int, get) -> ChunkResult:
        """Return a chunk's result; a CSV parse error names the file's row, not the block's."""
        try:
            return get()
        except ReadError as exc:
            line = re.search(r"line (\d+)", str(exc))
            row = self.tally.rows + (int(line.group(1)) - 1 if line else 1)
            raise ReadError(f"{self.src.path.name} cannot be read as CSV near data row {row}: {exc.params.get('reason', exc)}; "
                            "check the quoting of that row or re-export the file",
                            key="ingest.error_csv", path=str(self.src.path), row=row,
                            reason=str(exc.params.get("reason", exc))) from exc

    def _finish(self, p: dict | None, stage: ImportStage, drop_keys: np.ndarray, dup_rows: set,
                wall: float) -> ImportReport:
        t = time.perf_counter()
        self.step("write", 0.0)
        self.report.sha256 = self.src.file_hash()  # (an empty file has no chunk to wait for it)
        r = self.tally.fill(p, stage, drop_keys, dup_rows)
        r.finished_epoch = int(pd.Timestamp.now(tz=self.tz).timestamp())
        self.secs["write"] += time.perf_counter() - t
        t = time.perf_counter()
        if not self.options.dry_run:
            r.seconds = self._seconds(wall)
            if getattr(self, "new_categories", None):  # the city's own categories, before tickets use them
                r.notes.append("new_categories:" + ",".join(self.store.add_city_categories(self.new_categories)))
            stage.commit(r.to_dict(), drop_keys, sorted(dup_rows))
        self.secs["write"] += time.perf_counter() - t
        r.seconds = self._seconds(wall)
        self.step("done", 1.0)
        return r

    def _seconds(self, wall: float) -> dict:
        """Seconds per stage, summed over the chunks (worker time), and the wall-clock total."""
        out = {k: round(v, 3) for k, v in self.secs.items()}
        out["wall"] = round(time.perf_counter() - wall, 3)
        return out


def _facilities(layers):
    from minqing.config import geodata_dir

    try:
        return load_facilities(layers or geodata_dir())
    except Exception:  # noqa: BLE001 - the gazetteer works without facilities
        return None
