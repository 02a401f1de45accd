"""One chunk of an import, start to finish: parse, hash, normalise, locate, link, compare, stage.

:func:`process_chunk` runs in a worker process (or in the importing process for
small files). It never writes to the store: tickets, place links, source hashes
and changes go to the import's staging session (:meth:`minqing.store.base.Store.begin_import`,
:class:`minqing.store.staging.ImportStage`), which the store commits in one
transaction at the end. Memory stays bounded by the chunk, whatever the size of the file.

Rows are identified by a *key*, ``chunk_number << 32 | row_in_chunk``, because a
worker does not know how many rows earlier chunks held; the importing process
turns keys into file row numbers as results come back in order.
"""

from __future__ import annotations

import gc
import os
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from minqing.geo.link import link_prepared, prepare_layers
from minqing.ingest.csv_blocks import parse_csv_block, read_span
from minqing.ingest.geocode import match_addresses
from minqing.ingest.normalise import normalise_chunk
from minqing.ingest.rowhash import column_hashes, row_hashes
from minqing.ingest.source import Source
from minqing.ingest.textscan import arrow_strings
from minqing.model import LINK_COLUMNS, TICKET_COLUMNS, TICKET_TIME_COLUMNS, UNIT_LEVELS
from minqing.store.staging import KEY_BITS, ImportStage

FAR_FROM_ADDRESS_M = 500.0
COMPARED = tuple(c for c in TICKET_COLUMNS if c not in LINK_COLUMNS and c != "source_id")

# Row status codes returned per row.
UNCHANGED_HASH, QUARANTINED, INSERTED, UPDATED, UNCHANGED_CONTENT = 0, 1, 2, 3, 4


@dataclass
class ChunkContext:
    """What every chunk of one import needs (set once, shared with forked workers)."""

    source: Source
    mapping: object
    crs: str
    tz: str
    region: object
    default_channel: str
    now: object
    fingerprint: np.uint64
    stored_index: pd.Index
    stored_values: np.ndarray
    gazetteer: object
    threshold: float
    units: object
    places: object
    store_url: str
    stage: ImportStage  # the import's staging session, opened before workers are forked (they inherit it)
    store: object = None  # the importing process's own store, used by chunks processed in that process
    owner_pid: int = 0
    date_order: str | None = None  # decided once per file (pipeline), so every chunk reads dates alike
    earliest: object = None
    city_tz: str | None = None  # the store's zone: boundary versions change on its days


@dataclass
class ChunkResult:
    """What one chunk did; rows are numbered 1..n within the chunk."""

    number: int
    n: int
    ids: pa.Array  # compact: a million ids as Python strings would weigh ~70 MB in the importing process
    id_hash: np.ndarray
    blank_id: np.ndarray
    hashes: np.ndarray
    status: np.ndarray
    by_address: np.ndarray
    unlocated: np.ndarray
    linked: np.ndarray
    quarantine: pd.DataFrame
    warnings: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)
    unknown: dict = field(default_factory=dict)
    seconds: Counter = field(default_factory=Counter)
    encoding_fixes: int = 0
    unreadable: dict = field(default_factory=dict)  # optional time field -> {"count", "example"}


_CTX: ChunkContext | None = None
_LOCAL: dict = {"pid": None, "store": None, "layers": None}  # this process's store; the import's prepared layers


def set_context(ctx: ChunkContext | None) -> None:
    """Set the context :func:`process_chunk` uses (before worker processes are forked)."""
    global _CTX
    # close what this process opened for the previous import
    if _LOCAL["pid"] == os.getpid() and _CTX is not None and _LOCAL["store"] is not _CTX.store:
        _LOCAL["store"].close()
    _CTX = ctx
    _LOCAL.update(pid=None, store=None, layers=None)


def worker_start() -> None:
    """Start a forked worker: what it inherited (modules, gazetteer, layers) is left out of garbage collection.

    ``gc.freeze`` moves those objects to the permanent generation, so the collector no longer
    walks them each time a chunk's many temporary objects trigger a full collection.
    """
    gc.freeze()


def _local_store():
    """This process's store (to compare with stored tickets): a forked worker opens its own."""
    pid = os.getpid()
    if _LOCAL["pid"] != pid:  # a new (forked) process: its own connection
        store = _CTX.store
        if store is None or _CTX.owner_pid != pid:  # never use a connection inherited across fork
            from minqing.store import open_store

            store = open_store(_CTX.store_url)
        _LOCAL.update(pid=pid, store=store)
    return _LOCAL["store"]


def process_chunk(task: tuple) -> ChunkResult:
    """Process one chunk: ``(number, "csv", (header, (offset, length)))`` (a CSV block, see
    :func:`~minqing.ingest.csv_blocks.csv_block_spans`) or ``(number, "frame", DataFrame)``."""
    ctx = _CTX
    number, kind, payload = task
    secs: Counter = Counter()
    t = time.perf_counter()
    fixes = 0
    if kind == "csv":  # (header, where the body lies in the file)
        header, span = payload
        chunk, fixes = parse_csv_block(ctx.source, header, read_span(ctx.source, span))
    else:
        chunk = payload.copy()
        chunk["_row"] = np.arange(1, len(chunk) + 1)
    n = len(chunk)
    cols = [c for c in chunk.columns if c != "_row"]
    missing = [c for c in ctx.mapping.fields.values() if c not in cols]
    if missing:  # a block whose header differs cannot happen with one file; guard anyway
        raise ValueError(f"chunk {number} lacks columns {missing}")
    h = (row_hashes(chunk[cols]) ^ ctx.fingerprint).view("int64")
    chunk["_hash"] = h
    sid_col = chunk[ctx.mapping.fields["source_id"]].astype("str").str.strip()
    if len(ctx.stored_index):
        pos = ctx.stored_index.get_indexer(sid_col.to_numpy(dtype=object))
        same = (pos >= 0) & (ctx.stored_values[np.where(pos >= 0, pos, 0)] == h)
    else:
        same = np.zeros(n, dtype=bool)
    status = np.full(n, UNCHANGED_HASH, dtype=np.int8)
    by_address = np.zeros(n, dtype=bool)
    unlocated = np.zeros(n, dtype=bool)
    linked = np.zeros(n, dtype=bool)
    result = ChunkResult(number, n, *_ids(sid_col), (sid_col == "").to_numpy(dtype=bool), h, status, by_address,
                         unlocated, linked, _empty_quarantine(), seconds=secs, encoding_fixes=fixes)
    rest = chunk.loc[~same]
    secs["read"] += time.perf_counter() - t
    if not len(rest):
        return result
    t = time.perf_counter()
    norm = normalise_chunk(rest, ctx.mapping, crs=ctx.crs, tz=ctx.tz, region=ctx.region,
                           default_channel=ctx.default_channel, now=ctx.now, date_order=ctx.date_order,
                           earliest=ctx.earliest)
    for k, v in norm.seconds.items():
        secs[k] += v
    secs["normalise"] += time.perf_counter() - t - sum(norm.seconds.values())
    result.quarantine = norm.quarantine
    result.warnings.update(norm.warnings)
    result.examples = {k: list(v) for k, v in norm.examples.items()}
    result.unknown = dict(norm.unknown_values)  # field -> (row numbers in the chunk, raw values)
    result.unreadable = dict(norm.unreadable)
    status[norm.quarantine["row_number"].to_numpy(dtype="int64") - 1] = QUARANTINED
    tickets = norm.tickets
    if not len(tickets):
        return result
    t = time.perf_counter()
    tickets = _locate(ctx, tickets, result)
    secs["convert"] += time.perf_counter() - t
    t = time.perf_counter()
    tickets, place_links = _link(ctx, tickets)
    secs["link"] += time.perf_counter() - t
    t = time.perf_counter()
    store = _local_store()
    local = tickets["_row"].to_numpy(dtype="int64")
    exists = ctx.stored_index.get_indexer(tickets["source_id"].to_numpy(dtype=object)) >= 0 if len(ctx.stored_index) \
        else np.zeros(len(tickets), dtype=bool)
    changed, changes = _diff(store, tickets, exists, ctx.tz)
    status[local - 1] = np.where(~exists, INSERTED, np.where(changed, UPDATED, UNCHANGED_CONTENT))
    by_address[local - 1] = (tickets["location_source"] == "address_match").to_numpy()
    unlocated[local - 1] = (tickets["location_source"] == "none").to_numpy()
    # linked: to a unit of some loaded level (a city may have no grids, only communities)
    linked[local - 1] = tickets[[f"{lv}_code" for lv in UNIT_LEVELS]].notna().any(axis=1).to_numpy()
    secs["compare"] += time.perf_counter() - t
    t = time.perf_counter()
    base = np.int64(number) << KEY_BITS
    tickets["_key"] = base + local
    write = ~exists | changed
    ctx.stage.add(*_staged_rows(tickets, write, place_links, changes, base))
    secs["stage"] += time.perf_counter() - t
    return result


def _ids(sid: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """A chunk's source ids as an Arrow array and their hashes (``pandas.util.hash_array``), from Arrow when they are."""
    if arrow_strings(sid) is not None:  # no Python string per id
        return pa.array(sid.array).cast(pa.string()), column_hashes(sid)
    values = sid.to_numpy(dtype=object)
    return pa.array(values, type=pa.string()), pd.util.hash_array(values)


def _staged_rows(tickets, write, place_links, changes, base) -> tuple:
    """One chunk's rows as :meth:`minqing.store.staging.ImportStage.add` takes them.

    Tickets new or changed in content are staged with their place links; of the others
    only the new source hash (the hash of tickets staged travels with them).
    """
    to_write = tickets.loc[write]
    pos = place_links["_pos"].to_numpy(dtype="int64")  # each link's ticket, by position
    staged = write[pos]
    pl = place_links.loc[staged, ["source_id", "place_id"]].assign(_key=tickets["_key"].to_numpy()[pos[staged]])
    sources = tickets.loc[~write, ["_key", "source_id", "_hash"]].rename(columns={"_hash": "row_hash"})
    changes["_key"] = base + changes["_row"].to_numpy(dtype="int64")
    return to_write, pl, sources, changes


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in
                         ("row_number", "source_id", "reason", "detail", "original", "row_hash")})


def _example(result: ChunkResult, code: str, row, source_id, value) -> None:
    ex = result.examples.setdefault(code, [])
    if len(ex) < 3:
        ex.append({"row": None if row is None else int(row), "source_id": str(source_id), "value": value})


def _locate(ctx: ChunkContext, tickets: pd.DataFrame, result: ChunkResult) -> pd.DataFrame:
    """Locate tickets without coordinates by their address (or an exact mention in the text); flag far ones."""
    gaz = ctx.gazetteer
    unlocated = (tickets["location_source"] == "none").to_numpy()
    address = _texts_or_blank(tickets["address"])
    if unlocated.any() and gaz is not None and gaz.names:
        idx = np.flatnonzero(unlocated)
        m = match_addresses(address.iloc[idx], gaz, ctx.threshold)
        ok = np.isfinite(m.lon)
        if (~ok).any():  # try the complaint text (exact mentions only)
            text = _texts_or_blank(tickets["text"].iloc[idx[~ok]])
            m2 = match_addresses(text, gaz, 100.0, fuzzy=False)
            for arr, arr2 in ((m.lon, m2.lon), (m.lat, m2.lat), (m.score, m2.score), (m.name, m2.name)):
                arr[~ok] = np.where(np.isfinite(m2.lon), arr2, arr[~ok])
            ok = np.isfinite(m.lon)
        hit = idx[ok]
        tickets.loc[hit, "lon"] = m.lon[ok]
        tickets.loc[hit, "lat"] = m.lat[ok]
        tickets.loc[hit, "location_source"] = "address_match"
        note = pd.Series([f'"_address_match": {{"name": "{n}", "score": {s:.0f}}}' for n, s in zip(m.name[ok], m.score[ok])],
                         index=hit, dtype=object)
        old = tickets.loc[hit, "extra"]
        tickets.loc[hit, "extra"] = np.where(old.isna(), "{" + note + "}", old.astype(str).str.slice(0, -1) + ", " + note + "}")
    _far_check(tickets, address, gaz, result)
    return tickets


def _texts_or_blank(s: pd.Series) -> pd.Series:
    """A text column as ``str`` with its missing values ``""`` (a ``str`` column stays in Arrow)."""
    if isinstance(s.dtype, pd.StringDtype):
        return s.fillna("")
    return s.astype(object).where(s.notna(), "").astype(str)


def _haversine_m(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * np.arcsin(np.sqrt(a))


def _far_check(tickets, address, gaz, result: ChunkResult) -> None:
    """Warn about points far from the known place their address names (e.g. BD-09 data labelled WGS-84)."""
    has = (tickets["location_source"] == "coordinates").to_numpy() & (address != "").to_numpy()
    if not has.any() or gaz is None or not gaz.names:
        return
    idx = np.flatnonzero(has)
    m = match_addresses(address.iloc[idx], gaz, 100.0, fuzzy=False)
    ok = np.isfinite(m.lon) & m.pointlike
    if not ok.any():
        return
    lon = tickets["lon"].to_numpy(dtype="float64")[idx[ok]]
    lat = tickets["lat"].to_numpy(dtype="float64")[idx[ok]]
    d = _haversine_m(lon, lat, m.lon[ok], m.lat[ok])
    far = d > FAR_FROM_ADDRESS_M
    if far.any():
        result.warnings["far_from_address"] += int(far.sum())
        rows_ = tickets["_row"].to_numpy()[idx[ok]][far]
        sids = tickets["source_id"].to_numpy()[idx[ok]][far]
        for r, s, dist, name in list(zip(rows_, sids, d[far], m.name[ok][far]))[:3]:
            _example(result, "far_from_address", r, s, f"{name}: {dist:.0f} m")


def _link(ctx: ChunkContext, tickets: pd.DataFrame):
    units, places = ctx.units, ctx.places
    empty = pd.DataFrame({"source_id": pd.Series([], dtype=object), "place_id": pd.Series([], dtype=object),
                          "_pos": np.zeros(0, dtype="int64")})
    if units is None or units.empty:  # any loaded level links (the finest and every coarser one)
        for c in LINK_COLUMNS:
            tickets[c] = None
        return tickets, empty
    if _LOCAL.get("layers") is None:  # once per import and process: the units and places do not change
        _LOCAL["layers"] = prepare_layers(units, places if places is not None and len(places) else None)
    result = link_prepared(tickets, _LOCAL["layers"], tz=ctx.city_tz)
    out = tickets.drop(columns=[c for c in LINK_COLUMNS if c in tickets.columns]).join(result.links)
    return out, _place_links(tickets, result.place_links)


def _place_links(tickets: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """The place links of :func:`minqing.geo.link.apply_links` with ``_pos``, each link's ticket by position.

    Arrow ids are taken in Arrow: no Python string per ticket of the chunk.
    """
    pos = links["row"].to_numpy(dtype="int64")
    sid = tickets["source_id"]
    if arrow_strings(sid) is not None:
        ids = pd.Series(sid.array.take(pos), dtype=sid.dtype)
    else:
        ids = pd.Series(sid.to_numpy(dtype=object)[pos], dtype=object)
    return pd.DataFrame({"source_id": ids, "place_id": links["place_id"].to_numpy(dtype=object), "_pos": pos})


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


def _diff(store, tickets: pd.DataFrame, exists: np.ndarray, tz: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Compare tickets already stored with their new version; return which changed and the changes."""
    changed_all = np.zeros(len(tickets), dtype=bool)
    empty = pd.DataFrame(columns=["_row", "source_id", "field", "old_value", "new_value"])
    if not exists.any():
        return changed_all, empty
    new = tickets.loc[exists].reset_index(drop=True)
    old = store.read_tickets_by_ids(new["source_id"]).set_index("source_id").reindex(new["source_id"]).reset_index()
    changed = np.zeros(len(new), dtype=bool)
    parts = []
    for col in COMPARED:
        a, b = _comparable(old, col), _comparable(new, col)
        diff = np.array([x != y for x, y in zip(a, b)], dtype=bool)
        if diff.any():
            changed |= diff
            parts.append(pd.DataFrame({"_row": new["_row"].to_numpy()[diff],
                                       "source_id": new["source_id"].to_numpy(dtype=object)[diff], "field": col,
                                       "old_value": [None if v is None else str(v) for v in a[diff]],
                                       "new_value": [None if v is None else str(v) for v in b[diff]]}))
    changes = pd.concat(parts, ignore_index=True) if parts else empty
    is_time = changes["field"].isin(TICKET_TIME_COLUMNS)
    if is_time.any():  # times as readable local times, not epoch seconds
        for col in ("old_value", "new_value"):
            vals = pd.to_numeric(changes.loc[is_time, col], errors="coerce")
            changes.loc[is_time, col] = [None if pd.isna(v) else pd.Timestamp(int(v), unit="s", tz="UTC").tz_convert(tz).isoformat()
                                         for v in vals]
    changed_all[np.flatnonzero(exists)] = changed
    return changed_all, changes
