"""What an import counts: chunk results merged in file order, repeated ids, and a report whose counts reconcile.

The importing process keeps, per row of the file, a few compact arrays (id hash,
row hash, status, ...) returned by :func:`minqing.ingest.stage.process_chunk`;
once every chunk is back, :meth:`Tally.duplicates` finds repeated ids and
:meth:`Tally.fill` writes the counts, reasons and examples into the
:class:`ImportReport`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from minqing.ingest.normalise import originals
from minqing.ingest.readers import read_chunks
from minqing.ingest.rowhash import row_hashes
from minqing.ingest.source import READER_COLUMNS, Source
from minqing.ingest.stage import (
    INSERTED,
    KEY_BITS,
    QUARANTINED,
    UNCHANGED_CONTENT,
    UNCHANGED_HASH,
    UPDATED,
    ChunkResult,
)
from minqing.ingest.xlsx import formula_reasons
from minqing.store.staging import ImportStage


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
    date_order: str | None = None  # how year-last dates were read (MDY, DMY, YMD; None: no dates)
    unreadable: dict = field(default_factory=dict)  # optional time field -> rows stored with it blank
    unreadable_examples: dict = field(default_factory=dict)  # field -> one raw value (masked)

    def reconciles(self) -> bool:
        """True when rows read = inserted + updated + unchanged + quarantined + duplicates."""
        return self.rows_read == self.inserted + self.updated + self.unchanged + self.quarantined + self.duplicates

    def to_dict(self) -> dict:
        """Return the report as a JSON-serialisable dict."""
        return asdict(self)


class Tally:
    """The importing process's account of one import, filled chunk by chunk.

    Parameters
    ----------
    src : Source
        The file read.
    report : ImportReport
        The report to fill in.
    chunksize : int
        Rows per chunk when the file is read again (the rows of conflicting ids).
    secs : Counter
        Seconds per stage, to which each chunk's are added.
    """

    def __init__(self, src: Source, report: ImportReport, chunksize: int, secs: Counter):
        self.src, self.report, self.chunksize, self.secs = src, report, chunksize, secs
        self.warnings, self.examples, self.unknown = Counter(), {}, {}
        self.unreadable, self.unreadable_examples = {}, {}
        self.rows = 0
        self.conflicts = 0
        self.dropped_rows = np.array([], dtype="int64")  # read, but not stored
        self.parts: dict[str, list] = {k: [] for k in ("ids", "id_hash", "blank_id", "hashes", "rows", "keys", "status",
                                                       "by_address", "unlocated", "linked")}

    def merge(self, res: ChunkResult, stage: ImportStage) -> None:
        """Add one chunk's result (in file order): file row numbers, counts, examples; stage its quarantined rows."""
        off = self.rows
        local = np.arange(1, res.n + 1, dtype="int64")
        for k, v in (("ids", res.ids), ("id_hash", res.id_hash), ("blank_id", res.blank_id), ("hashes", res.hashes),
                     ("rows", off + local),
                     ("keys", (np.int64(res.number) << KEY_BITS) + local), ("status", res.status),
                     ("by_address", res.by_address), ("unlocated", res.unlocated), ("linked", res.linked)):
            self.parts[k].append(v)
        if len(res.quarantine):
            q = res.quarantine.copy()
            q["row_number"] = q["row_number"].to_numpy(dtype="int64") + off
            q = formula_reasons(self.src, q, self.report.mapping)  # an id or time that is a formula without a value
            stage.add_quarantine(q)
        self.warnings.update(res.warnings)
        for code, found in res.examples.items():
            ex = self.examples.setdefault(code, [])
            for e in found[: 3 - len(ex)]:
                ex.append({**e, "row": None if e.get("row") is None else int(e["row"]) + off})
        for k, (rows, values) in res.unknown.items():
            self.unknown.setdefault(k, []).append((rows + off, values))
        self.secs.update(res.seconds)
        for k, v in res.unreadable.items():
            self.unreadable.setdefault(k, []).append(np.asarray(v["rows"], dtype="int64") + off)
            self.unreadable_examples.setdefault(k, v.get("example"))
        self.src.mixed_encoding_fixes += res.encoding_fixes
        self.rows += res.n

    def concatenated(self) -> dict:
        """The per-row arrays of every chunk merged, one array each (the ids stay Arrow chunks)."""
        return {k: (v if k == "ids" else np.concatenate(v)) for k, v in self.parts.items()}

    def duplicates(self, p: dict, mapping, stage: ImportStage) -> tuple[np.ndarray, set]:
        """Find repeated ids: exact repeats are dropped, ids with different content are quarantined as conflicts.

        Returns the keys of rows not to store and the row numbers of exact repeats.
        """
        # Only ids whose hash occurs more than once can repeat; compare their text (few rows) exactly.
        idh = p["id_hash"]
        present = ~p["blank_id"]
        _, inverse, counts = np.unique(idh[present], return_inverse=True, return_counts=True)
        candidates = np.flatnonzero(present)[counts[inverse] > 1]
        ids = pa.concat_arrays(p["ids"]).take(pa.array(candidates)).to_numpy(zero_copy_only=False) if len(candidates) \
            else np.array([], dtype=object)
        df = pd.DataFrame({"id": ids, "h": p["hashes"][candidates], "row": p["rows"][candidates]})
        counts = df.groupby("id")["h"].agg(["size", "nunique"])
        multi = counts[counts["size"] > 1]
        conflict_ids = set(multi.index[multi["nunique"] > 1])
        same = df[df["id"].isin(set(multi.index[multi["nunique"] == 1]))].sort_values("row")
        dup_rows = set(same.loc[same["id"].duplicated(), "row"].tolist())
        # an exact repeat of a quarantined row (e.g. both without an id) is one quarantined row and a duplicate
        dup_rows |= stage.repeated_quarantine_rows()
        conflicts = df[df["id"].isin(conflict_ids)].sort_values("row")
        repeats = conflicts.duplicated(["id", "h"])  # an exact repeat within a conflict: one quarantined row
        dup_rows |= set(conflicts.loc[repeats, "row"].tolist())
        conflict_rows = set(conflicts.loc[~repeats, "row"].tolist())
        self.report.duplicates = len(dup_rows)
        self.dropped_rows = np.array(sorted(dup_rows | conflict_rows), dtype="int64")  # read, but not stored
        drop = np.isin(p["rows"], self.dropped_rows)
        self.conflicts = 0
        if conflict_rows:
            need = conflict_rows - set(p["rows"][p["status"] == QUARANTINED].tolist())
            for chunk in read_chunks(self.src, self.chunksize):
                sel = chunk["_row"].isin(need).to_numpy()
                if sel.any():
                    cols = [c for c in chunk.columns if c != "_row"]
                    h = row_hashes(chunk.loc[sel, cols]).view("int64")
                    sid = chunk.loc[sel, mapping.fields["source_id"]].astype("str").str.strip()
                    stage.add_quarantine(pd.DataFrame({
                        "row_number": chunk.loc[sel, "_row"].to_numpy(), "source_id": sid.to_numpy(dtype=object),
                        "reason": "duplicate_id_conflict", "detail": sid.to_numpy(dtype=object),
                        "original": originals(chunk, sel, [c for c in cols if c not in READER_COLUMNS]),
                        "row_hash": h ^ np.int64(0x5EED)}))
                    self.conflicts += int(sel.sum())
            ex = self.examples.setdefault("duplicate_id_conflict", [])
            first_row = df[df["id"].isin(conflict_ids)].groupby("id")["row"].min()
            for sid in sorted(conflict_ids)[:3]:
                ex.append({"row": int(first_row[sid]), "source_id": sid, "value": sid})
        return p["keys"][drop], dup_rows

    def fill(self, p: dict | None, stage: ImportStage, drop_keys: np.ndarray, dup_rows: set) -> ImportReport:
        """Fill in the report's counts, reasons, warnings and examples (``p`` None: an empty file); return it."""
        r = self.report
        r.rows_read = self.rows
        if p is not None:
            keep = ~np.isin(p["keys"], drop_keys)
            dup = np.isin(p["rows"], list(dup_rows))
            st = p["status"]
            r.inserted = int(((st == INSERTED) & keep).sum())
            r.updated = int(((st == UPDATED) & keep).sum())
            r.unchanged = int((((st == UNCHANGED_HASH) | (st == UNCHANGED_CONTENT)) & keep).sum())
            r.quarantined = int(((st == QUARANTINED) & ~dup).sum()) + self.conflicts
            r.located_by_address = int((p["by_address"] & keep).sum())
            r.unlocated = int((p["unlocated"] & keep).sum())
            r.linked = int((p["linked"] & keep).sum())
            if r.located_by_address:
                self.warnings["address_matched"] += r.located_by_address
            if r.unlocated:
                self.warnings["unlocated"] += r.unlocated
        reasons = stage.quarantine_reasons(dup_rows)
        for code, (n, examples) in reasons.items():
            ex = self.examples.setdefault(code, [])
            if not ex:
                ex.extend(examples)
        r.reasons = {code: n for code, (n, _) in reasons.items()}
        r.warnings = dict(self.warnings)
        # per-column counts describe the rows stored: exact repeats and id conflicts left out
        gone = self.dropped_rows
        r.unreadable = {k: int((~np.isin(np.concatenate(v), gone)).sum()) for k, v in self.unreadable.items()}
        r.unreadable = {k: n for k, n in r.unreadable.items() if n}
        r.unreadable_examples = dict(self.unreadable_examples)
        r.examples = self.examples
        # every unmapped value with its count (up to 100 per field), so the user can add them to [values.<field>]
        unknown = {}
        for k, parts in self.unknown.items():
            rows = np.concatenate([a for a, _ in parts])
            values = np.concatenate([b for _, b in parts])
            counts = Counter(values[~np.isin(rows, gone)].tolist())
            if counts:
                unknown[k] = dict(counts.most_common(100))
        r.unknown_values = unknown
        return r
