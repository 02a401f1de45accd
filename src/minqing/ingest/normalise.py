"""Turn one chunk of raw strings into tickets, quarantined rows and counted warnings.

Pure functions, vectorised per column; no store access.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from minqing.cellsafe import restore_series
from minqing.ingest import aliases as al
from minqing.ingest.blanks import blank_out
from minqing.ingest.coords import clean_coordinates, normalise_crs
from minqing.ingest.mapping import ColumnMapping
from minqing.ingest.source import INVALID, ORIGINAL
from minqing.ingest.times import parse_times
from minqing.model import OTHER_CATEGORY, TICKET_COLUMNS
from minqing.privacy import mask_text

MAX_TEXT = 10_000
EXTRA_FIELDS = ("district", "subdistrict", "community", "grid")
_CATEGORIES = al.category_lookup()
_TIME_REASONS = (("bad", "bad_time"), ("too_early", "time_before_earliest"), ("future", "time_in_future"))
_YEAR_LAST = r"^\s*\d{1,2}[-/.]\d{1,2}[-/.]\d{2}"


@dataclass
class Normalised:
    """The result of :func:`normalise_chunk`.

    Attributes
    ----------
    tickets : DataFrame
        Stored-ticket columns (no link columns) plus ``_row`` and ``_hash``.
    quarantine : DataFrame
        row_number, source_id, reason, detail, original, row_hash.
    warnings : Counter
        Warning code -> rows.
    examples : dict
        Reason or warning code -> up to three examples (row, source id, value).
    unknown_values : dict
        Field -> (row numbers, raw values) of values that were not in the alias tables,
        in rows that are not quarantined.
    unreadable : dict
        Optional time field -> {"count", "example" (masked raw value), "rows"}: stored blank, raw kept in extra.
    """

    tickets: pd.DataFrame
    quarantine: pd.DataFrame
    warnings: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)
    unknown_values: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    unreadable: dict = field(default_factory=dict)


SUMMARY_ID = r"(?i)\s*(?:合\s*计|总\s*计|小\s*计|合計|總計|小計|汇\s*总|彙總|累\s*计|(?:grand\s*|sub\s*)?totals?|sum)\s*[:：]?\s*"
"""A work-order id that is a report's summary word (合计, 总计, 小计, Total, ...): the row sums others, it is none."""

SUMMARY_CHARS = "合总小計计總汇彙累tTsS\u017f"
"""Characters a :data:`SUMMARY_ID` match holds one of (each alternative has one; ſ is an s to ``(?i)``)."""

SCIENTIFIC_ID = r"[+-]?\d(?:[.,]\d+)?[eE][+]?\d+"
"""A work-order id in scientific notation (``2.02504E+17``): Excel showed or saved a long numeric id as a number."""


def _summary_ids(sid: pd.Series) -> np.ndarray:
    """Where an id is a summary word (:data:`SUMMARY_ID`). Python's expression (Unicode ``\\s``, case folding)
    decides, on the ids holding a character of :data:`SUMMARY_CHARS` only: of Arrow strings, found in Arrow."""
    if not (isinstance(sid.dtype, pd.StringDtype) and sid.dtype.storage == "pyarrow"):
        return sid.str.fullmatch(SUMMARY_ID).fillna(False).to_numpy(dtype=bool)
    cand = np.flatnonzero(pc.fill_null(pc.match_substring_regex(pa.array(sid.array), f"[{SUMMARY_CHARS}]"), False).to_numpy(
        zero_copy_only=False))
    out = np.zeros(len(sid), dtype=bool)
    if len(cand):
        out[cand] = sid.iloc[cand].astype(object).str.fullmatch(SUMMARY_ID).fillna(False).to_numpy(dtype=bool)
    return out


def _repeated_header(chunk: pd.DataFrame, fields: dict) -> np.ndarray:
    """Rows that repeat the header (two exports pasted one after the other): the id and the received time
    cells hold their own columns' names."""
    names = [fields[k] for k in ("source_id", "received_at") if k in fields]
    if len(names) < 2:
        return np.zeros(len(chunk), dtype=bool)
    same = np.ones(len(chunk), dtype=bool)
    for name in names:
        cells = chunk[name].astype("str").str.strip().str.lstrip("\ufeff").str.strip()
        same &= (cells == str(name).strip().lstrip("\ufeff")).fillna(False).to_numpy(dtype=bool)
    return same


def originals(chunk: pd.DataFrame, mask: np.ndarray, columns) -> list[str]:
    """Return the original rows selected by ``mask`` as JSON objects (header -> cell text)."""
    part = chunk.loc[mask, list(columns)]
    return [json.dumps(dict(zip(columns, r)), ensure_ascii=False) for r in part.itertuples(index=False, name=None)]


def normalise_chunk(chunk: pd.DataFrame, mapping: ColumnMapping, *, crs: str, tz: str, region=None,
                    default_channel: str = "hotline_12345", now=None, date_order: str | None = None,
                    earliest=None) -> Normalised:
    """Normalise one chunk of an export.

    Parameters
    ----------
    chunk : DataFrame
        Raw strings from :func:`minqing.ingest.readers.read_chunks` plus ``_hash``.
    mapping : ColumnMapping
    crs : str
        The file's coordinate system (rows with a 坐标系 column may override it).
    tz : str
        Time zone of naive times.
    region : shapely geometry, optional
        Prepared area points must fall in.
    date_order : {"MDY", "DMY", "YMD"}, optional
        How dates with the year last are read (decided once per file; inferred per column when None).
    earliest : str or Timestamp, optional
        Times before it are quarantined (``time_before_earliest``); no floor when None.
    """
    n = len(chunk)
    f = mapping.fields
    src_cols = [c for c in chunk.columns if c not in ("_row", "_hash", INVALID, ORIGINAL)]
    out = pd.DataFrame(index=chunk.index)
    flag = _Flags(chunk)
    unknown: dict = {}
    blanks = mapping.blank_tokens

    def col(name) -> pd.Series | None:
        return blank_out(restore_series(chunk[f[name]].astype("str").str.strip()), blanks) if name in f else None

    sid = flag.sid = col("source_id")
    out["source_id"] = sid if sid is not None else ""
    not_record = None
    if INVALID in chunk.columns:  # a JSON item that is not an object: nothing else can be read from it
        not_record = (chunk[INVALID].astype("str") != "").to_numpy(dtype=bool)
        flag(not_record, "not_a_record", chunk[INVALID].astype("str").to_numpy(dtype=object))
    flag((out["source_id"] == "").to_numpy(), "missing_id")
    # a report's 合计 / Total row at the end of the sheet is no work order
    flag(_summary_ids(out["source_id"]), "summary_row", out["source_id"].to_numpy(dtype=object))
    flag(_repeated_header(chunk, f), "repeated_header")
    # an id Excel turned into a number too long for it (2.02504E+17): its last digits are gone, it names no order
    flag(out["source_id"].str.fullmatch(SCIENTIFIC_ID).fillna(False).to_numpy(dtype=bool), "id_scientific",
         out["source_id"].to_numpy(dtype=object))

    soft_raw, unreadable, unreadable_raw = _times(out, chunk, f, col, flag, tz=tz, now=now, date_order=date_order,
                                                  earliest=earliest)
    _vocabularies(out, chunk, mapping, col, flag, unknown, default_channel)
    _texts(out, col, flag)
    seconds = _coordinates(out, chunk, f, col, flag, crs, region)

    out["extra"] = _extra(chunk, mapping, src_cols, soft_raw, unreadable_raw)
    for c in TICKET_COLUMNS:
        if c not in out.columns and c not in ("grid_uid", "grid_code", "community_code", "subdistrict_code",
                                              "district_code", "h3_cell"):
            out[c] = None
    out["_row"] = chunk["_row"].to_numpy()
    out["_hash"] = chunk["_hash"].to_numpy()
    bad = flag.reason != None  # noqa: E711
    quarantine = _quarantine(chunk, out, flag, bad, src_cols, not_record)
    rows = chunk["_row"].to_numpy(dtype="int64")
    return Normalised(out.loc[~bad].reset_index(drop=True), quarantine, flag.warnings, flag.examples,
                      _unknown_kept(unknown, bad, rows), seconds, _unreadable_kept(unreadable, bad, rows))


class _Flags:
    """The reason each row of a chunk is quarantined for (the first wins) and the warnings counted.

    Calling it flags the rows of ``mask`` with ``code``; every code keeps up to three examples
    (row, source id, value).
    """

    def __init__(self, chunk: pd.DataFrame):
        self.chunk = chunk
        self.reason = np.full(len(chunk), None, dtype=object)
        self.detail = np.full(len(chunk), None, dtype=object)
        self.warnings: Counter = Counter()
        self.examples: dict = {}
        self.sid: pd.Series | None = None  # the rows' source ids, for the examples

    def __call__(self, mask, code, value=None, quarantine=True, text=None) -> None:
        reason, detail, sid = self.reason, self.detail, self.sid
        mask = np.asarray(mask, dtype=bool)
        if quarantine:
            mask = mask & (reason == None)  # noqa: E711 - first reason wins
        if not mask.any():
            return
        if quarantine:
            reason[mask] = code
            detail[mask] = text if text is not None else (value[mask] if value is not None else None)
        else:
            self.warnings[code] += int(mask.sum())
        ex = self.examples.setdefault(code, [])
        for i in np.flatnonzero(mask)[: 3 - len(ex)]:
            ex.append({"row": int(self.chunk["_row"].iat[i]), "source_id": str(sid.iat[i]) if sid is not None else "",
                       "value": None if value is None else str(value[i])})


def _times(out: pd.DataFrame, chunk: pd.DataFrame, f: dict, col, flag: _Flags, *, tz, now, date_order, earliest):
    """Parse every time field into ``out`` and flag the rows whose times cannot be stored.

    Returns the raw 办理时限 texts kept in ``extra`` (a duration, not a time), the unreadable optional
    times (field -> mask and original texts) and their raw texts per row (field -> Series).
    """
    n = len(chunk)
    soft_raw = None
    unreadable: dict = {}
    unreadable_raw: dict = {}
    old = np.zeros(n, dtype=bool)
    old_value = np.full(n, None, dtype=object)
    for name in al.TIME_FIELDS:
        raw = col(name)
        if name == "received_at" and raw is not None and "received_date" in f:
            raw = with_day(col("received_date"), raw)
        if raw is None:
            out[name] = pd.Series(pd.NaT, index=chunk.index, dtype=f"datetime64[ns, {tz}]")
            continue
        parsed = parse_times(raw, tz=tz, now=now, date_order=date_order, earliest=earliest)
        flagged = parsed.bad | parsed.too_early | parsed.future | parsed.old | (parsed.blank & (name == "received_at"))
        values = raw.to_numpy(dtype=object) if flagged.any() else None  # shown only in flagged rows' examples
        if name == "received_at":
            flag(parsed.blank, "missing_time", values)
        soft = name == "due_at"  # 办理时限 may be a duration ("5个工作日"): kept raw in extra
        optional = name != "received_at"  # an unreadable optional time is stored blank, counted, raw kept
        if optional:
            _keep_unreadable(chunk, f, name, parsed, soft, unreadable, unreadable_raw)
        _flag_bad_times(flag, parsed, values, f[name], soft, optional, date_order)
        new_old = parsed.old & ~old
        if new_old.any():
            old_value[new_old] = np.array([f"{f[name]}={v}" for v in values[new_old]], dtype=object)
        old |= parsed.old
        ok = ~(parsed.bad | parsed.too_early | parsed.future)
        out[name] = parsed.values.where(ok, pd.NaT)
        if soft:
            soft_raw = raw.where(~ok, "")
    if old.any():
        flag(old & pd.isna(flag.reason), "time_before_1990", old_value, quarantine=False)
    return soft_raw, unreadable, unreadable_raw


CLOCK_ONLY = r"\s*(?:上午|下午|AM|PM|am|pm)?\s*\d{1,2}\s*[:：时点.]\s*\d{1,2}(?:\s*[:：分.]\s*\d{1,2}(?:[.,]\d+)?)?\s*[分秒]?\s*(?:上午|下午|AM|PM|am|pm)?\s*"
"""A received time that is only the clock (``10:05``, ``下午3点05分``): its day is in the 受理日期 column."""


def with_day(day: pd.Series, clock: pd.Series) -> pd.Series:
    """The received times of an export writing the day (受理日期) and the clock (受理时间) in two columns.

    A clock-only time gets its row's day in front; an empty time is the day alone (midnight);
    a time that holds its own day is kept as it is.
    """
    only = clock.str.fullmatch(CLOCK_ONLY).fillna(False).to_numpy(dtype=bool)
    empty = (clock == "").to_numpy(dtype=bool)
    has_day = (day != "").to_numpy(dtype=bool)
    if not ((only | empty) & has_day).any():
        return clock
    out = clock.astype(object).copy()
    join = only & has_day
    out[join] = (day[join].astype(str) + " " + clock[join].astype(str)).to_numpy(dtype=object)
    alone = empty & has_day
    out[alone] = day[alone].to_numpy(dtype=object)
    return out.astype("str")


def _keep_unreadable(chunk, f: dict, name: str, parsed, soft: bool, unreadable: dict, unreadable_raw: dict) -> None:
    """Keep the original text of an optional time that cannot be read (text that is no time, or a blank token)."""
    n = len(chunk)
    # unreadable: text that is no time, or a blank token (NA, 无, ...) standing for one
    idx = np.flatnonzero(parsed.bad | parsed.blank)
    orig = np.full(n, "", dtype=object)
    if len(idx):
        orig[idx] = restore_series(chunk[f[name]].iloc[idx].astype("str").str.strip()).to_numpy(dtype=object)
    token = parsed.blank & (orig != "")
    unread = parsed.bad | token
    if unread.any():
        unreadable[name] = (unread, orig)
        # due_at keeps its unreadable text (a duration) under its own column already
        unreadable_raw[name] = pd.Series(np.where(token if soft else unread, orig, ""), index=chunk.index,
                                         dtype=object)


def _flag_bad_times(flag: _Flags, parsed, values: np.ndarray, column: str, soft: bool, optional: bool,
                    date_order: str | None) -> None:
    """Quarantine the rows whose time (in file column ``column``) is unreadable, too early or in the future."""
    for attr, code in _TIME_REASONS:
        mask = getattr(parsed, attr)
        if soft or (optional and attr == "bad") or not mask.any():
            continue
        shown = np.array([f"{column}={v}" for v in values], dtype=object)
        if attr == "bad" and date_order in ("MDY", "DMY"):  # read with the file's date order: say which
            yl = pd.Series(values[mask], dtype=object).astype(str).str.match(_YEAR_LAST).to_numpy(dtype=bool)
            shown[np.flatnonzero(mask)[yl]] += f" (date order {date_order})"
        flag(mask, code, shown)


def _vocabularies(out: pd.DataFrame, chunk: pd.DataFrame, mapping: ColumnMapping, col, flag: _Flags, unknown: dict,
                  default_channel: str) -> None:
    """Map channel, kind, satisfaction, resolved, status and category to their codes (the mapping's values first)."""
    vm = mapping.values
    index = chunk.index
    out["channel"] = _vocab(col("channel"), al.CHANNEL_VALUES, "other", default_channel, "unknown_channel", flag,
                            unknown, "channel", index, vm.get("channel"))
    out["kind"] = _vocab(col("kind"), al.KIND_VALUES, "other", "other", "unknown_kind", flag, unknown, "kind", index,
                         vm.get("kind"))
    out["satisfaction"] = _vocab(col("satisfaction"), al.SATISFACTION_VALUES, None, None, "unknown_satisfaction",
                                 flag, unknown, "satisfaction", index, vm.get("satisfaction"))
    out["resolved"] = _vocab(col("resolved"), al.RESOLVED_VALUES, None, None, None, flag, unknown, "resolved", index,
                             vm.get("resolved"))
    status = _vocab(col("status"), al.STATUS_VALUES, None, None, None, flag, unknown, "status", index,
                    vm.get("status"))
    out["status"] = status.where(status.notna(), np.where(out["closed_at"].notna(), "closed", "open"))
    out["category"] = _category(chunk, mapping.fields, flag, unknown, mapping.blank_tokens, vm.get("category"))


def _texts(out: pd.DataFrame, col, flag: _Flags) -> None:
    """Copy the free-text fields into ``out``, cut at :data:`MAX_TEXT` characters (counted), blanks as None."""
    for name in ("text", "address", "handling_unit", "caller_name", "caller_phone", "repeat_of"):
        raw = col(name)
        if raw is None:
            out[name] = None
            continue
        long = (raw.str.len() > MAX_TEXT).to_numpy(dtype=bool)
        if long.any():
            flag(long, "text_truncated", quarantine=False)
            raw = raw.str.slice(0, MAX_TEXT)
        out[name] = raw.where(raw != "", None)


def _coordinates(out: pd.DataFrame, chunk: pd.DataFrame, f: dict, col, flag: _Flags, crs: str, region) -> dict:
    """Clean the coordinates into ``out`` (WGS-84 lon, lat), flagging the bad ones; return the seconds it took."""
    n = len(chunk)
    t0 = time.perf_counter()
    crs_raw = col("crs") if "crs" in f else None
    crs_codes, bad_crs = (normalise_crs(crs_raw, crs) if "crs" in f else (crs, np.zeros(n, dtype=bool)))
    if "crs" in f:
        if bad_crs.any():
            flag(bad_crs, "bad_crs", crs_raw.to_numpy(dtype=object))
        crs_codes = np.where(bad_crs, crs, crs_codes)
    lon_raw = col("lon") if "lon" in f else pd.Series([""] * n, index=chunk.index)
    lat_raw = col("lat") if "lat" in f else pd.Series([""] * n, index=chunk.index)
    coords = clean_coordinates(lon_raw, lat_raw, crs_codes, region)
    flags = [(coords.reason == code, code, True) for code in ("zero_coordinates", "outside_region")]
    flags += [(coords.swapped, "swapped_lat_lon", False), (coords.invalid, "invalid_coordinates", False)]
    if any(mask.any() for mask, _, _ in flags):  # the raw pairs, shown in the examples, only when some row needs them
        pair = (lon_raw + "," + lat_raw).to_numpy(dtype=object)
        for mask, code, quarantine in flags:
            flag(mask, code, pair, quarantine=quarantine)
    out["lon"] = coords.lon
    out["lat"] = coords.lat
    out["location_source"] = np.where(np.isfinite(coords.lon), "coordinates", "none")
    return {"convert": time.perf_counter() - t0}


def _quarantine(chunk: pd.DataFrame, out: pd.DataFrame, flag: _Flags, bad: np.ndarray, src_cols: list,
                not_record: np.ndarray | None) -> pd.DataFrame:
    """The quarantined rows: number, source id, reason, detail, the original row (JSON) and its hash."""
    original = originals(chunk, bad, src_cols) if bad.any() else []
    if not_record is not None and not_record.any():
        kept = chunk[ORIGINAL].astype("str").to_numpy(dtype=object)[bad]
        original = [o if k == "" else k for o, k in zip(original, kept)]
    return pd.DataFrame({
        "row_number": chunk["_row"].to_numpy()[bad],
        "source_id": out["source_id"].to_numpy(dtype=object)[bad],
        "reason": flag.reason[bad],
        "detail": flag.detail[bad],
        "original": original,
        "row_hash": chunk["_hash"].to_numpy()[bad],
    })


def _vocab(raw, table, unknown_code, blank_code, warn, flag, unknown, name, index, user=None) -> pd.Series:
    if raw is None:
        return pd.Series([blank_code] * len(index), index=index, dtype=object)
    if user:  # the mapping file's [values.<name>] wins over the built-in aliases
        find = al.user_lookup(name, user)
        rows, uniq, look = _per_value(raw, lambda u: c if (c := find(u)) is not None else table.get(al._norm_value(u)))
    else:
        rows, uniq, look = _per_value(raw, lambda u: table.get(al._norm_value(u)))
    blank = uniq == ""  # per distinct value from here on
    miss = pd.isna(look) & ~blank
    if miss.any():
        values = raw.to_numpy(dtype=object)
        unknown[name] = (miss[rows], values)
        if warn:
            flag(miss[rows], warn, values, quarantine=False)
    look[miss] = unknown_code
    look[blank] = blank_code
    return pd.Series(look[rows], index=raw.index, dtype=object)


def _per_value(raw: pd.Series, fn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``fn`` of each distinct cell, called once per distinct value: (row -> distinct value, the values, fn of each).

    The distinct values come from Arrow's dictionary encoding: the column is never turned into Python strings.
    """
    rows, uniq = pd.factorize(raw, use_na_sentinel=False)
    values = np.empty(len(uniq), dtype=object)
    values[:] = list(uniq)
    look = np.empty(len(uniq), dtype=object)
    look[:] = [fn(u) for u in values]
    return rows, values, look


def _category(chunk, f, flag, unknown, blanks=frozenset(), user=None) -> pd.Series:
    n = len(chunk)
    raw = category_raw(chunk, f, blanks)
    if raw is None:
        return pd.Series(OTHER_CATEGORY, index=chunk.index, dtype=object)
    find = al.user_lookup("category", user) if user else (lambda u: None)
    rows, uniq, look = _per_value(raw, lambda u: c if (c := find(u)) is not None else
                                  (al.category_code(u, _CATEGORIES) if u != "" else None))
    miss = pd.isna(look)  # per distinct value
    unmapped = miss & ~(uniq == "")
    if unmapped.any():
        values = raw.to_numpy(dtype=object)
        unknown["category"] = (unmapped[rows], values)
        flag(unmapped[rows], "unknown_category", values, quarantine=False)
    if n:
        look[miss] = OTHER_CATEGORY
    return pd.Series(look[rows], index=raw.index, dtype=object)


def category_raw(chunk, f, blanks=frozenset()) -> pd.Series | None:
    """Return the raw category texts of a chunk (``大类>中类>小类`` when the levels are in separate columns)."""
    if "category" in f:
        raw = blank_out(restore_series(chunk[f["category"]].astype("str").str.strip()), blanks)
    elif any(k in f for k in ("category_l1", "category_l2", "category_l3")):
        parts = [blank_out(chunk[f[k]].astype("str").str.strip(), blanks)
                 for k in ("category_l1", "category_l2", "category_l3") if k in f]
        raw = parts[0]
        for p in parts[1:]:
            raw = raw.where(p == "", raw + ">" + p)
    else:
        return None
    return raw


def _json_values(s: pd.Series) -> pd.Series:
    uniq = pd.unique(s.to_numpy(dtype=object))
    return s.map(dict(zip(uniq, (json.dumps(u, ensure_ascii=False) for u in uniq))))


def _unreadable_kept(unreadable: dict, quarantined: np.ndarray, rows: np.ndarray) -> dict:
    """Field -> {"count", "example", "rows"} of unreadable optional times in stored rows.

    Quarantined rows keep their original; ``rows`` (the rows' numbers) lets the pipeline
    leave out exact repeats found later, so the counts describe what is stored.
    """
    out = {}
    for name, (mask, raw) in unreadable.items():
        hit = mask & ~quarantined
        if hit.any():
            out[name] = {"count": int(hit.sum()), "example": mask_text(str(raw[hit][0])), "rows": rows[hit]}
    return out


def _unknown_kept(unknown: dict, quarantined: np.ndarray, rows: np.ndarray) -> dict:
    """Field -> (row numbers, raw values) of unmapped values in rows that are not quarantined."""
    out = {}
    for name, (mask, raw) in unknown.items():
        hit = mask & ~quarantined
        if hit.any():
            out[name] = (rows[hit], raw[hit])
    return out


def _extra(chunk, mapping: ColumnMapping, src_cols, soft_raw=None, unreadable_raw=None) -> pd.Series:
    keep = list(mapping.unknown) + [mapping.fields[k] for k in EXTRA_FIELDS if k in mapping.fields]
    keep = [c for c in dict.fromkeys(keep) if c in src_cols]
    if soft_raw is not None and (soft_raw != "").any():
        keep.append(mapping.fields["due_at"])
    unreadable_raw = {k: v for k, v in (unreadable_raw or {}).items() if (v != "").any()}
    if not keep and not unreadable_raw:
        return pd.Series(None, index=chunk.index, dtype=object)
    body = pd.Series("", index=chunk.index, dtype=object)
    for c in keep:
        s = soft_raw if (soft_raw is not None and c == mapping.fields.get("due_at")) else chunk[c].astype("str")
        piece = (", " + json.dumps(c, ensure_ascii=False) + ": ") + _json_values(s).astype(object)
        body = body + piece.where(s.str.strip() != "", "").astype(object)
    if unreadable_raw:  # "_unreadable": {"closed_at": "NA"}: the raw text of optional times stored blank
        inner = pd.Series("", index=chunk.index, dtype=object)
        for name, s in unreadable_raw.items():
            piece = (", " + json.dumps(name) + ": ") + _json_values(s).astype(object)
            inner = inner + piece.where(s != "", "").astype(object)
        body = body + (', "_unreadable": {' + inner.str.slice(2) + "}").where(inner != "", "").astype(object)
    extra = "{" + body.str.slice(2) + "}"
    return extra.where(body != "", None).astype(object)
