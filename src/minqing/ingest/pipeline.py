"""The import pipeline: read, normalise, convert, link, write — in one transaction, nothing lost.

Counts reconcile: ``rows_read = inserted + updated + unchanged + quarantined + duplicates``
(``duplicates`` are exact repeats of a row already counted in the same file).
Re-importing the same file changes nothing: each stored ticket remembers the
hash of the source row it came from, and unchanged rows are skipped before
any work is done on them.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from minqing.geo.link import apply_links, link_tickets
from minqing.ingest.coords import DEFAULT_REGION_BUFFER_M, region_from_units
from minqing.ingest.errors import MappingError
from minqing.ingest.geocode import DEFAULT_THRESHOLD, build_gazetteer, load_facilities, match_addresses
from minqing.ingest.mapping import ColumnMapping, infer_mapping, load_mapping_file
from minqing.ingest.normalise import normalise_chunk, originals
from minqing.ingest.readers import DEFAULT_CHUNKSIZE, Source, open_source, read_chunks
from minqing.model import LINK_COLUMNS, TICKET_COLUMNS, TICKET_TIME_COLUMNS, TIMEZONE
from minqing.store.base import Store

FAR_FROM_ADDRESS_M = 500.0
COMPARED = tuple(c for c in TICKET_COLUMNS if c not in LINK_COLUMNS)


@dataclass
class ImportOptions:
    """How to read a file.

    Attributes
    ----------
    crs : str, optional
        The file's coordinate system (wgs84, gcj02, bd09); the mapping file's
        ``[options] crs`` or "wgs84" when None. A 坐标系 column overrides it per row.
    timezone : str, optional
        Time zone of times without an offset (default Asia/Shanghai).
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


@dataclass
class ImportReport:
    """What one import did; the counts reconcile (see :meth:`reconciles`)."""

    import_id: str
    file: str
    sha256: str
    format: str
    size: int
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    user: str | None = None
    started_at: str = ""
    started_epoch: int = 0
    finished_epoch: int = 0
    dry_run: bool = False
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    duplicates: int = 0
    located_by_address: int = 0
    unlocated: int = 0
    linked: int = 0
    reasons: dict = field(default_factory=dict)
    warnings: dict = field(default_factory=dict)
    examples: dict = field(default_factory=dict)
    unknown_values: dict = field(default_factory=dict)
    mapping: dict = field(default_factory=dict)
    unknown_columns: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)

    def reconciles(self) -> bool:
        """True when rows read = inserted + updated + unchanged + quarantined + duplicates."""
        return self.rows_read == self.inserted + self.updated + self.unchanged + self.quarantined + self.duplicates

    def to_dict(self) -> dict:
        """Return the report as a JSON-serialisable dict."""
        return asdict(self)


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
    minqing.ingest.errors.IngestError
        If the file cannot be read or mapped; nothing is written then.
    """
    options = options or ImportOptions()
    src = open_source(path, options.sheet)
    return _Run(store, src, options, progress or (lambda stage, frac: None)).run()


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
    for chunk in read_chunks(src, chunksize=max(n, 1)):
        mapping = _mapping(chunk, user_map)
        chunk = chunk.head(n).copy()
        chunk["_hash"] = np.zeros(len(chunk), dtype="int64")
        norm = normalise_chunk(chunk, mapping, crs=crs, tz=tz, now=options.now)
        return Preview(src, mapping, chunk.drop(columns=["_hash"]), norm.tickets)
    return Preview(src, ColumnMapping({}, ()), pd.DataFrame(), pd.DataFrame())


def _user_mapping(options: ImportOptions) -> dict:
    if options.mapping_file is not None:
        return load_mapping_file(options.mapping_file)
    return options.mapping or {}


def _crs_tz(options, user_map) -> tuple[str, str]:
    opts = user_map.get("options", {})
    crs = options.crs or opts.get("crs") or "wgs84"
    from minqing.geo.crs import _check_crs

    return _check_crs(crs), options.timezone or opts.get("timezone") or TIMEZONE


def _mapping(chunk: pd.DataFrame, user_map: dict) -> ColumnMapping:
    mapping = infer_mapping([c for c in chunk.columns if c != "_row"], user_map)
    missing = mapping.missing_required()
    if missing:
        raise MappingError(
            f"no column for required field(s) {missing}; the file's columns are: "
            f"{', '.join(c for c in chunk.columns if c != '_row')}. Add them to a mapping file "
            "([columns] source_id = \"...\") and pass it with --mapping",
            key="ingest.error_required", fields=", ".join(missing))
    return mapping


def _comparable(df: pd.DataFrame, col: str) -> np.ndarray:
    s = df[col]
    if col in TICKET_TIME_COLUMNS:
        s = pd.to_datetime(s)
        v = (s.dt.tz_convert("UTC").dt.tz_localize(None) - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
        return np.array([None if pd.isna(x) else int(x) for x in v], dtype=object)
    if col in ("lon", "lat"):
        v = pd.to_numeric(s, errors="coerce").round(7)
        return np.array([None if pd.isna(x) else float(x) for x in v], dtype=object)
    return np.array([None if (x is None or (not isinstance(x, str) and pd.isna(x))) else str(x) for x in s], dtype=object)


def _fingerprint(crs, tz, mapping) -> np.uint64:
    """A stable number that changes when the options that shape a ticket change."""
    import hashlib

    key = repr((crs, tz, sorted(mapping.fields.items()))).encode("utf-8")
    return np.uint64(int.from_bytes(hashlib.sha256(key).digest()[:8], "little"))


def _haversine_m(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * np.arcsin(np.sqrt(a))


class _Run:
    """One import run (state shared by the stages)."""

    def __init__(self, store, src, options, step):
        self.store, self.src, self.options, self.step = store, src, options, step
        self.user_map = _user_mapping(options)
        self.crs, self.tz = _crs_tz(options, self.user_map)
        opts = self.user_map.get("options", {})
        self.threshold = float(opts.get("match_threshold", options.match_threshold))
        self.buffer = float(opts.get("region_buffer_m", options.region_buffer_m))
        self.secs = Counter()
        started = pd.Timestamp.now(tz=self.tz)
        self.report = ImportReport(
            import_id=uuid.uuid4().hex[:16], file=src.path.name, sha256=src.sha256, format=src.format, size=src.size,
            encoding=src.encoding, delimiter=src.delimiter, user=options.user, started_at=started.isoformat(),
            started_epoch=int(started.timestamp()), dry_run=options.dry_run, notes=list(src.notes))
        self.reasons, self.warnings, self.examples, self.unknown = Counter(), Counter(), {}, {}

    # -- stages -------------------------------------------------------------------------
    def run(self) -> ImportReport:
        t = time.perf_counter()
        units = self.store.read_units()
        places = self.store.read_places()
        region = region_from_units(units, self.buffer)
        if region is None:
            self.report.notes.append("no_units_loaded")
        stored = self.store.read_source_hashes()
        stored_index, stored_values = pd.Index(stored.index), stored.to_numpy(dtype="int64")
        self.secs["read"] += time.perf_counter() - t
        frames, quarantines, ids, hashes, rownums = [], [], [], [], []
        mapping = None
        unchanged_rows: list[np.ndarray] = []
        t = time.perf_counter()
        for chunk in read_chunks(self.src, self.options.chunksize, lambda d, tot: self.step("read", d / max(tot, 1))):
            if mapping is None:
                mapping = _mapping(chunk, self.user_map)
                fp = _fingerprint(self.crs, self.tz, mapping)
            cols = [c for c in chunk.columns if c != "_row"]
            h = (pd.util.hash_pandas_object(chunk[cols], index=False).to_numpy() ^ fp).view("int64")
            chunk["_hash"] = h
            sid = chunk[mapping.fields["source_id"]].astype("str").str.strip().to_numpy(dtype=object)
            ids.append(sid)
            hashes.append(h)
            rownums.append(chunk["_row"].to_numpy())
            if len(stored):
                pos = stored_index.get_indexer(sid)
                same = (pos >= 0) & (stored_values[np.where(pos >= 0, pos, 0)] == h)
            else:
                same = np.zeros(len(sid), dtype=bool)
            unchanged_rows.append(chunk["_row"].to_numpy()[same])
            rest = chunk.loc[~same]
            self.secs["read"] += time.perf_counter() - t
            t = time.perf_counter()
            if len(rest):
                norm = normalise_chunk(rest, mapping, crs=self.crs, tz=self.tz, region=region,
                                       default_channel=self.options.default_channel, now=self.options.now)
                frames.append(norm.tickets)
                quarantines.append(norm.quarantine)
                self.warnings.update(norm.warnings)
                for k, v in norm.examples.items():
                    self.examples.setdefault(k, []).extend(v[: 3 - len(self.examples.get(k, []))])
                for k, v in norm.unknown_values.items():
                    self.unknown.setdefault(k, Counter()).update(v)
                for k, v in norm.seconds.items():
                    self.secs[k] += v
                    self.secs["normalise"] -= v
            self.secs["normalise"] += time.perf_counter() - t
            t = time.perf_counter()
        self.secs["read"] += time.perf_counter() - t
        if self.src.mixed_encoding_fixes:
            self.warnings["mixed_encoding"] += self.src.mixed_encoding_fixes
        if mapping is None:  # 0-row or header-only file
            self.report.notes.append("empty_file")
            return self._finish(pd.DataFrame(columns=list(TICKET_COLUMNS)), pd.DataFrame(), _empty_quarantine(), pd.DataFrame(), {})
        self.report.mapping = dict(mapping.fields)
        self.report.unknown_columns = list(mapping.unknown)
        ids = np.concatenate(ids)
        hashes = np.concatenate(hashes)
        rownums = np.concatenate(rownums)
        self.report.rows_read = len(ids)
        tickets = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(TICKET_COLUMNS) + ["_row", "_hash"])
        quarantine = pd.concat(quarantines, ignore_index=True) if quarantines else _empty_quarantine()
        unchanged = np.concatenate(unchanged_rows) if unchanged_rows else np.array([], dtype="int64")
        tickets, quarantine, unchanged = self._duplicates(ids, hashes, rownums, tickets, quarantine, unchanged, mapping)
        t = time.perf_counter()
        self.step("convert", 0.0)
        tickets = self._locate(tickets, places)
        self.secs["convert"] += time.perf_counter() - t
        t = time.perf_counter()
        self.step("link", 0.0)
        tickets, place_links = self._link(tickets, units, places)
        self.secs["link"] += time.perf_counter() - t
        self.report.unchanged = len(unchanged)
        return self._finish(tickets, place_links, quarantine, stored, mapping)

    def _duplicates(self, ids, hashes, rownums, tickets, quarantine, unchanged, mapping):
        df = pd.DataFrame({"id": ids, "h": hashes, "row": rownums})
        df = df[df["id"] != ""]
        counts = df.groupby("id")["h"].agg(["size", "nunique"])
        multi = counts[counts["size"] > 1]
        conflict_ids = set(multi.index[multi["nunique"] > 1])
        dup_rows = set()
        same = df[df["id"].isin(set(multi.index[multi["nunique"] == 1]))].sort_values("row")
        dup_rows = set(same.loc[same["id"].duplicated(), "row"].tolist())
        self.report.duplicates = len(dup_rows)
        conflict_rows = set(df.loc[df["id"].isin(conflict_ids), "row"].tolist())
        drop = dup_rows | conflict_rows
        if drop:
            tickets = tickets[~tickets["_row"].isin(drop)].reset_index(drop=True)
            quarantine = quarantine[~quarantine["row_number"].isin(dup_rows)]
            unchanged = unchanged[~np.isin(unchanged, list(drop))]
        if conflict_rows:
            already = set(quarantine["row_number"].tolist())
            need = conflict_rows - already
            extra = []
            for chunk in read_chunks(self.src, self.options.chunksize):
                sel = chunk["_row"].isin(need).to_numpy()
                if sel.any():
                    cols = [c for c in chunk.columns if c != "_row"]
                    h = (pd.util.hash_pandas_object(chunk.loc[sel, cols], index=False).to_numpy()).view("int64")
                    sid = chunk.loc[sel, mapping.fields["source_id"]].astype("str").str.strip()
                    extra.append(pd.DataFrame({
                        "row_number": chunk.loc[sel, "_row"].to_numpy(), "source_id": sid.to_numpy(dtype=object),
                        "reason": "duplicate_id_conflict", "detail": sid.to_numpy(dtype=object),
                        "original": originals(chunk, sel, cols), "row_hash": h ^ np.int64(0x5EED)}))
            if extra:
                quarantine = pd.concat([quarantine, *extra], ignore_index=True)
            ex = self.examples.setdefault("duplicate_id_conflict", [])
            for sid in sorted(conflict_ids)[:3]:
                ex.append({"row": None, "source_id": sid, "value": sid})
        return tickets, quarantine, unchanged

    def _locate(self, tickets, places):
        if tickets.empty:
            return tickets
        facilities = None
        try:
            from minqing.config import geodata_dir

            facilities = load_facilities(self.options.layers or geodata_dir())
        except Exception:  # noqa: BLE001 - the gazetteer works without facilities
            facilities = None
        gaz = build_gazetteer(places, facilities)
        unlocated = (tickets["location_source"] == "none").to_numpy()
        address = tickets["address"].astype(object).where(tickets["address"].notna(), "").astype(str)
        if unlocated.any() and gaz.names:
            idx = np.flatnonzero(unlocated)
            m = match_addresses(address.to_numpy()[idx], gaz, self.threshold)
            ok = np.isfinite(m.lon)
            if (~ok).any():  # try the complaint text (exact mentions only)
                text = tickets["text"].astype(object).where(tickets["text"].notna(), "").astype(str).to_numpy()[idx[~ok]]
                m2 = match_addresses(text, gaz, 100.0, fuzzy=False)
                for arr, arr2 in ((m.lon, m2.lon), (m.lat, m2.lat), (m.score, m2.score), (m.name, m2.name)):
                    arr[~ok] = np.where(np.isfinite(m2.lon), arr2, arr[~ok])
                ok = np.isfinite(m.lon)
            hit = idx[ok]
            tickets.loc[hit, "lon"] = m.lon[ok]
            tickets.loc[hit, "lat"] = m.lat[ok]
            tickets.loc[hit, "location_source"] = "address_match"
            note = pd.Series([f'"_address_match": {{"name": "{n}", "score": {s:.0f}}}' for n, s in zip(m.name[ok], m.score[ok])], index=hit)
            old = tickets.loc[hit, "extra"]
            tickets.loc[hit, "extra"] = np.where(old.isna(), "{" + note + "}", old.astype(str).str.slice(0, -1) + ", " + note + "}")
            self.report.located_by_address = int(ok.sum())
            if ok.any():
                self.warnings["address_matched"] += int(ok.sum())
        self.report.unlocated = int((tickets["location_source"] == "none").sum())
        if self.report.unlocated:
            self.warnings["unlocated"] += self.report.unlocated
        self._far_check(tickets, address, gaz)
        return tickets

    def _far_check(self, tickets, address, gaz):
        has = (tickets["location_source"] == "coordinates").to_numpy() & (address != "").to_numpy()
        if not has.any() or not gaz.names:
            return
        idx = np.flatnonzero(has)
        m = match_addresses(address.to_numpy()[idx], gaz, 100.0, fuzzy=False)
        ok = np.isfinite(m.lon) & m.pointlike
        if not ok.any():
            return
        lon = tickets["lon"].to_numpy(dtype="float64")[idx[ok]]
        lat = tickets["lat"].to_numpy(dtype="float64")[idx[ok]]
        d = _haversine_m(lon, lat, m.lon[ok], m.lat[ok])
        far = d > FAR_FROM_ADDRESS_M
        if far.any():
            self.warnings["far_from_address"] += int(far.sum())
            ex = self.examples.setdefault("far_from_address", [])
            rows = tickets["_row"].to_numpy()[idx[ok]][far]
            sids = tickets["source_id"].to_numpy()[idx[ok]][far]
            for r, s, dist, name in list(zip(rows, sids, d[far], m.name[ok][far]))[: 3 - len(ex)]:
                ex.append({"row": int(r), "source_id": str(s), "value": f"{name}: {dist:.0f} m"})

    def _link(self, tickets, units, places):
        empty = pd.DataFrame({"source_id": pd.Series([], dtype=object), "place_id": pd.Series([], dtype=object)})
        if tickets.empty or units.empty or not (units["level"] == "grid").any():
            for c in LINK_COLUMNS:
                tickets[c] = None
            return tickets, empty
        result = link_tickets(tickets, units, places if len(places) else None)
        tickets, place_links = apply_links(tickets, result)
        self.report.linked = int(tickets["grid_code"].notna().sum())
        return tickets, place_links

    def _finish(self, tickets, place_links, quarantine, stored, mapping):
        t = time.perf_counter()
        self.step("write", 0.0)
        r = self.report
        iid = r.import_id
        changes = pd.DataFrame(columns=["source_id", "import_id", "changed_at", "field", "old_value", "new_value"])
        to_write = tickets
        if len(tickets) and len(stored):
            exists = tickets["source_id"].isin(stored.index).to_numpy()
            if exists.any():
                to_write, changes, same = self._diff(tickets, exists)
                r.unchanged += same
        r.inserted = int(len(tickets) - (tickets["source_id"].isin(stored.index).sum() if len(stored) and len(tickets) else 0))
        r.updated = int(len(to_write) - r.inserted)
        r.quarantined = len(quarantine)
        self.reasons.update(quarantine["reason"].tolist())
        for k in self.reasons:
            self.examples.setdefault(k, [])
        for code in self.reasons:
            if not self.examples[code]:
                sub = quarantine[quarantine["reason"] == code].head(3)
                self.examples[code] = [{"row": int(a), "source_id": str(b), "value": None if c is None else str(c)}
                                       for a, b, c in zip(sub["row_number"], sub["source_id"], sub["detail"])]
        r.reasons = dict(self.reasons)
        r.warnings = dict(self.warnings)
        r.examples = self.examples
        r.unknown_values = {k: dict(v.most_common(10)) for k, v in self.unknown.items()}
        now = pd.Timestamp.now(tz=self.tz)
        r.finished_epoch = int(now.timestamp())
        if not self.options.dry_run:
            sources = pd.DataFrame({"source_id": tickets["source_id"].to_numpy(dtype=object) if len(tickets) else [],
                                    "row_hash": tickets["_hash"].to_numpy(dtype="int64") if len(tickets) else [],
                                    "import_id": iid})
            q = quarantine.copy()
            q["import_id"] = iid
            q["file_name"] = r.file
            q["quarantined_at"] = r.finished_epoch
            unresolved = self.store.read_quarantine()
            resolve = sorted(set(unresolved["source_id"].dropna()) & set(tickets["source_id"])) if len(unresolved) and len(tickets) else []
            write_cols = [c for c in TICKET_COLUMNS]
            self.secs["write"] += time.perf_counter() - t
            t = time.perf_counter()
            r.seconds = {k: round(v, 3) for k, v in self.secs.items()}
            self.store.write_import(to_write[write_cols] if len(to_write) else to_write.reindex(columns=write_cols),
                                    place_links[place_links["source_id"].isin(set(to_write["source_id"]))] if len(place_links) else place_links,
                                    sources, q, changes, r.to_dict(), resolve_ids=resolve)
        self.secs["write"] += time.perf_counter() - t
        r.seconds = {k: round(v, 3) for k, v in self.secs.items()}
        self.step("done", 1.0)
        return r

    def _diff(self, tickets, exists):
        new = tickets.loc[exists].reset_index(drop=True)
        old = self.store.read_tickets_by_ids(new["source_id"]).set_index("source_id").reindex(new["source_id"]).reset_index()
        changed = np.zeros(len(new), dtype=bool)
        parts = []
        for col in COMPARED:
            if col == "source_id":
                continue
            a, b = _comparable(old, col), _comparable(new, col)
            diff = np.array([x != y for x, y in zip(a, b)], dtype=bool)
            if diff.any():
                changed |= diff
                parts.append(pd.DataFrame({"source_id": new["source_id"].to_numpy(dtype=object)[diff], "field": col,
                                           "old_value": [None if v is None else str(v) for v in a[diff]],
                                           "new_value": [None if v is None else str(v) for v in b[diff]]}))
        changes = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["source_id", "field", "old_value", "new_value"])
        for col in ("old_value", "new_value"):  # times as readable local times, not epoch seconds
            is_time = changes["field"].isin(TICKET_TIME_COLUMNS)
            if is_time.any():
                vals = pd.to_numeric(changes.loc[is_time, col], errors="coerce")
                changes.loc[is_time, col] = [None if pd.isna(v) else pd.Timestamp(int(v), unit="s", tz="UTC").tz_convert(self.tz).isoformat()
                                             for v in vals]
        changes["import_id"] = self.report.import_id
        changes["changed_at"] = int(pd.Timestamp.now(tz="UTC").timestamp())
        keep = np.ones(len(tickets), dtype=bool)
        keep[np.flatnonzero(exists)[~changed]] = False
        return tickets.loc[keep], changes, int((~changed).sum())


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in
                         ("row_number", "source_id", "reason", "detail", "original", "row_hash")})
