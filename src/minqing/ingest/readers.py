"""Readers: CSV (any encoding and delimiter), XLSX, GeoJSON and Open311 GeoReport v2 JSON.

Every reader yields chunks of strings (one DataFrame per chunk, every column
``str``, blanks as ``""``) with a ``_row`` column holding the 1-based data-row
number in the file, so a quarantined row can be found again. The format is
decided by the file's content, not its extension.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd

from minqing.ingest.errors import ReadError

FORMATS = ("csv", "xlsx", "geojson", "open311")
INVALID, ORIGINAL = "_invalid", "_original"
READER_COLUMNS = ("_row", INVALID, ORIGINAL)
"""Columns the readers add: the row number and, for a JSON item that is not an object, why and what it was."""
RAW_ITEM = "raw_item"
"""Column of a quarantined JSON item that is not an object (its JSON text)."""
_MAX_INT_DIGITS = 4000  # Python refuses longer integer strings; such numbers are kept as text
DEFAULT_CHUNKSIZE = 200_000
_SAMPLE = 1 << 20
_FALLBACK = "minqing_gb18030_fallback"
_fallback_hits = {"n": 0}


def _gb_fallback(exc: UnicodeDecodeError):
    """Decode bytes that are not UTF-8 as GB18030 (a file with mixed encodings)."""
    data = exc.object
    for width in (2, 4):
        try:
            ch = bytes(data[exc.start : exc.start + width]).decode("gb18030")
        except UnicodeDecodeError:
            continue
        _fallback_hits["n"] += 1
        return ch, exc.start + width
    _fallback_hits["n"] += 1
    return "\ufffd", exc.start + 1


codecs.register_error(_FALLBACK, _gb_fallback)


@dataclass
class Source:
    """What a file is and how to read it.

    Attributes
    ----------
    path : Path
    format : str
        One of :data:`FORMATS`.
    encoding, delimiter : str or None
        For CSV files.
    sheet : str or None
        For XLSX files, the sheet read.
    sha256 : str
        Hash of the file's bytes.
    size : int
        Bytes.
    notes : list of str
        Things worth telling the user (e.g. the extension did not match the content).
    """

    path: Path
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sha256: str = ""
    size: int = 0
    notes: list = field(default_factory=list)
    mixed_encoding_fixes: int = 0


def open_source(path: Path | str, sheet: str | None = None) -> Source:
    """Inspect a file: its format (by content), encoding, delimiter and hash.

    Raises
    ------
    ReadError
        If the file is missing, empty of bytes, or not CSV/XLSX/GeoJSON/Open311.
    """
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"file {path} does not exist; check the path", key="ingest.error_missing", path=str(path))
    return _inspect(path, sheet)


def _inspect(path: Path, sheet) -> Source:
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    src = Source(path=path, format="csv", sha256=digest.hexdigest(), size=path.stat().st_size, sheet=sheet)
    ext = path.suffix.lower().lstrip(".")
    if head.startswith(b"PK\x03\x04"):
        src.format = "xlsx"
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(f"{path.name} is an old binary Excel (.xls) file; open it in Excel or WPS and save as .xlsx",
                        key="ingest.error_xls", path=str(path))
    else:
        first = _first_char(head)
        if first in ("{", "["):
            src.format = _json_kind(path)
        elif ext in ("json", "geojson") and first and (kind := _json_scalar(path, src.size)):
            raise ReadError(f"{path.name} holds a single JSON value ({kind}), not a list of requests or a GeoJSON "
                            "FeatureCollection; export it again", key="ingest.error_json_scalar", path=str(path),
                            kind=kind)
        elif _looks_binary(head[:4096]):
            raise ReadError(
                f"{path.name} is neither CSV, XLSX, GeoJSON nor Open311 JSON (it holds binary data); "
                "export the work orders as .xlsx or .csv",
                key="ingest.error_format", path=str(path))
        else:
            src.encoding = _detect_encoding(head)
            src.delimiter = _detect_delimiter(head, src.encoding)
    expected = {"csv": ("csv", "txt", "tsv"), "xlsx": ("xlsx", "xlsm"), "geojson": ("geojson", "json"),
                "open311": ("json",)}[src.format]
    if ext and ext not in expected:
        src.notes.append(f"extension_mismatch:{ext}->{src.format}")
    return src


def _looks_binary(head: bytes) -> bool:
    """True when the sample is binary: many NUL bytes (a stray NUL inside a text cell is not enough)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    return head.count(b"\x00") > max(len(head) // 32, 2)


def _first_char(head: bytes) -> str:
    """The first character that is not white space, in UTF-8 (with or without BOM) or BOM-marked UTF-16."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[:256].decode("utf-16", errors="ignore").lstrip("\ufeff \t\r\n")[:1]
    return head.lstrip(b"\xef\xbb\xbf").lstrip()[:1].decode("ascii", errors="ignore")


def _json_scalar(path: Path, size: int) -> str | None:
    """The JSON type of a small .json file that holds a single value (a number, a string, true, null), else None."""
    if size > _SAMPLE:
        return None
    try:
        data = _load_json(path)
    except ReadError:
        return None  # not JSON at all: read it as what it is (CSV), with an extension note
    return None if isinstance(data, (dict, list)) else _json_type(data)


def _parse_int(text: str):
    return int(text) if len(text) <= _MAX_INT_DIGITS else text


def _load_json(path: Path):
    """Parse a JSON file (UTF-8 with or without BOM, UTF-16/32); every failure is a :class:`ReadError`."""
    try:
        raw = path.read_bytes()
        return json.loads(raw, parse_int=_parse_int)
    except RecursionError:
        raise ReadError(f"{path.name} is JSON nested too deeply to read; export it again as CSV or flat JSON",
                        key="ingest.error_json_nested", path=str(path)) from None
    except MemoryError:
        raise ReadError(f"{path.name} is too large to read as JSON in memory; split it or export CSV",
                        key="ingest.error_json_large", path=str(path)) from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise ReadError(f"{path.name} looks like JSON but cannot be parsed ({exc}); re-export it",
                        key="ingest.error_json", path=str(path), reason=str(exc)) from exc


def _json_type(value) -> str:
    """The JSON type of a value, for messages (never the value itself: it may be personal)."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _check_items(path: Path, items: list, what: str) -> None:
    if items and not any(isinstance(x, dict) for x in items):
        kinds = sorted({_json_type(x) for x in items})
        raise ReadError(f"none of the {len(items):,} {what} in {path.name} is an object ({', '.join(kinds)}), so "
                        "none can be read as a work order; export it again",
                        key="ingest.error_json_no_records", path=str(path), count=f"{len(items):,}")


def _json_kind(path: Path) -> str:
    data = _load_json(path)
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            kind = "missing" if "features" not in data else _json_type(features)
            raise ReadError(f"{path.name} is a GeoJSON FeatureCollection but its \"features\" is {kind}, not a list "
                            "of features; export it again", key="ingest.error_geojson_features", path=str(path),
                            kind=kind)
        _check_items(path, features, "features")
        return "geojson"
    if isinstance(data, list):
        _check_items(path, data, "items")
        return "open311"
    if isinstance(data, dict) and isinstance(data.get("service_requests"), list):
        _check_items(path, data["service_requests"], "service requests")
        return "open311"
    if not isinstance(data, dict):
        kind = _json_type(data)
        raise ReadError(f"{path.name} holds a single JSON value ({kind}), not a list of requests or a GeoJSON "
                        "FeatureCollection; export it again", key="ingest.error_json_scalar", path=str(path), kind=kind)
    raise ReadError(f"{path.name} is JSON but neither a GeoJSON FeatureCollection nor an Open311 list of requests",
                    key="ingest.error_json", path=str(path), reason="unknown JSON shape")


def _detect_encoding(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    lines = head.split(b"\n")[:-1] or [head]
    utf8_lines = other_lines = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_lines += 1
        except UnicodeDecodeError:
            other_lines += 1
    if utf8_lines or not other_lines:
        return "utf-8"  # bytes that are not UTF-8 are read as GB18030, line by line (mixed files)
    try:
        b"\n".join(lines).decode("gb18030")
        return "gb18030"  # GB18030 is a superset of GBK and GB2312
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        raise ReadError("the text encoding of the file cannot be detected; save it as UTF-8 CSV",
                        key="ingest.error_encoding")
    enc = best.encoding.lower()
    return "gb18030" if enc in ("gbk", "gb2312", "cp936", "hz") else enc


def _detect_delimiter(head: bytes, encoding: str) -> str:
    text = head.decode(encoding if encoding != "utf-8" else "utf-8", errors="ignore")
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in ",\t;|"}
        return max(counts, key=counts.get) if any(counts.values()) else ","


def read_chunks(src: Source, chunksize: int = DEFAULT_CHUNKSIZE,
                progress: Callable[[int, int], None] | None = None) -> Iterator[pd.DataFrame]:
    """Yield the file's rows as chunks of strings with a ``_row`` column.

    Parameters
    ----------
    src : Source
        From :func:`open_source`.
    chunksize : int
        Rows per chunk.
    progress : callable, optional
        Called with (bytes or rows done, total) after each chunk.
    """
    if chunksize < 1:
        raise ValueError(f"chunksize must be at least 1, got {chunksize}")
    reader = {"csv": _csv_chunks, "xlsx": _xlsx_chunks, "geojson": _geojson_chunks, "open311": _open311_chunks}
    yield from reader[src.format](src, chunksize, progress or (lambda done, total: None))


def _csv_chunks(src: Source, chunksize, progress):
    _fallback_hits["n"] = 0
    errors = _FALLBACK if src.encoding in ("utf-8", "utf-8-sig") else "replace"
    row = 0
    try:
        with open(src.path, "rb") as raw:
            it = pd.read_csv(raw, sep=src.delimiter, dtype=str, na_filter=False, encoding=src.encoding,
                             encoding_errors=errors, chunksize=chunksize, engine="c", skipinitialspace=False,
                             on_bad_lines="error")
            for chunk in it:
                chunk.columns = [str(c).strip().lstrip("\ufeff") for c in chunk.columns]
                chunk["_row"] = np.arange(row + 1, row + len(chunk) + 1)
                row += len(chunk)
                src.mixed_encoding_fixes = _fallback_hits["n"]
                progress(raw.tell(), src.size)
                yield chunk
    except pd.errors.EmptyDataError:
        return
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ReadError(f"{src.path.name} cannot be read as CSV near data row {row + 1}: {exc}; "
                        "check the quoting of that row or re-export the file",
                        key="ingest.error_csv", path=str(src.path), row=row + 1, reason=str(exc)) from exc


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (date, time)):
        return v.isoformat()
    return str(v)


def _xlsx_chunks(src: Source, chunksize, progress):
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(src.path))
        names = wb.sheet_names
        if src.sheet is not None and src.sheet not in names:
            raise ReadError(f"{src.path.name} has no sheet {src.sheet!r}; sheets are: {', '.join(names)}",
                            key="ingest.error_sheet", sheet=str(src.sheet), sheets=", ".join(names))
        src.sheet = src.sheet or names[0]
        rows = wb.get_sheet_by_name(src.sheet).to_python(skip_empty_area=False)
    except ReadError:
        raise
    except Exception as exc:  # calamine raises its own error types for broken zips and XML
        raise ReadError(f"{src.path.name} cannot be read as XLSX ({type(exc).__name__}: {exc}); "
                        "the file may be truncated or damaged: export it again",
                        key="ingest.error_xlsx", path=str(src.path), reason=str(exc)) from exc
    if not rows:
        return
    header = [_cell(h).strip() for h in rows[0]]
    header = [h or f"column_{i + 1}" for i, h in enumerate(header)]
    body = rows[1:]
    while body and all(_cell(v) == "" for v in body[-1]):
        body.pop()
    for lo in range(0, len(body), chunksize):
        part = body[lo : lo + chunksize]
        cols = list(zip(*[list(r) + [None] * (len(header) - len(r)) for r in part])) if part else [[]] * len(header)
        chunk = pd.DataFrame({h: pd.array([_cell(v) for v in col], dtype="str") for h, col in zip(header, cols)})
        chunk["_row"] = np.arange(lo + 1, lo + len(part) + 1)
        progress(lo + len(part), len(body))
        yield chunk


@dataclass
class _NotARecord:
    """A JSON item that cannot be a row (not an object): quarantined as ``not_a_record`` with why and what."""

    detail: str
    original: str


def _not_a_record(item, detail: str) -> _NotARecord:
    try:
        text = json.dumps(item, ensure_ascii=False)
    except (RecursionError, ValueError):
        text = _json_type(item)
    return _NotARecord(detail, json.dumps({RAW_ITEM: text}, ensure_ascii=False))


def _field_text(v) -> str:
    """A field's text: scalars as :func:`_cell`, nested objects and lists as their JSON text."""
    if isinstance(v, (dict, list)):
        try:
            return json.dumps(v, ensure_ascii=False)
        except (RecursionError, ValueError):
            return json.dumps(_json_type(v))
    return _cell(v)


def _records_to_chunks(records: list, chunksize, progress):
    """Chunks of objects (dicts) and :class:`_NotARecord` items; every chunk has the same columns."""
    names: dict = {}  # key -> column, in order of first appearance in the whole file
    for r in records:
        if isinstance(r, dict):
            for k in r:
                if k not in names:
                    name = str(k)
                    names[k] = name + "_field" if name in READER_COLUMNS else name
    invalid = any(isinstance(r, _NotARecord) for r in records)
    for lo in range(0, len(records), chunksize):
        part = records[lo : lo + chunksize]
        data = {name: pd.array([_field_text(r.get(k)) if isinstance(r, dict) else "" for r in part], dtype="str")
                for k, name in names.items()}
        if invalid:
            data[INVALID] = pd.array([r.detail if isinstance(r, _NotARecord) else "" for r in part], dtype="str")
            data[ORIGINAL] = pd.array([r.original if isinstance(r, _NotARecord) else "" for r in part], dtype="str")
        chunk = pd.DataFrame(data, index=pd.RangeIndex(len(part)))
        chunk["_row"] = np.arange(lo + 1, lo + len(part) + 1)
        progress(lo + len(part), len(records))
        yield chunk


def _geojson_chunks(src: Source, chunksize, progress):
    import shapely.geometry

    data = _load_json(src.path)
    records: list = []
    for i, feat in enumerate(data.get("features") or [], start=1):  # a non-list "features" is refused by open_source
        if not isinstance(feat, dict):
            records.append(_not_a_record(feat, f"feature {i} is a JSON {_json_type(feat)}, not an object"))
            continue
        props = feat.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            records.append(_not_a_record(feat, f"the properties of feature {i} are a JSON {_json_type(props)}, "
                                               "not an object"))
            continue
        props = dict(props)
        geom = feat.get("geometry")
        if geom:
            try:
                pt = shapely.geometry.shape(geom)
                pt = pt if pt.geom_type == "Point" else pt.representative_point()
                props["lon"], props["lat"] = pt.x, pt.y
            except Exception:  # noqa: BLE001 - a broken geometry leaves the row without a point
                props.setdefault("lon", "")
                props.setdefault("lat", "")
        records.append(props)
    yield from _records_to_chunks(records, chunksize, progress)


def _open311_chunks(src: Source, chunksize, progress):
    data = _load_json(src.path)
    items = data["service_requests"] if isinstance(data, dict) else data
    records = [r if isinstance(r, dict) else _not_a_record(r, f"item {i} is a JSON {_json_type(r)}, not an object")
               for i, r in enumerate(items, start=1)]
    yield from _records_to_chunks(records, chunksize, progress)


# -- CSV in byte blocks (parsed in worker processes) ------------------------------------
_SPLITTABLE = ("utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "ascii", "latin-1", "iso-8859-1", "cp1252", "big5")


def csv_splittable(src: Source) -> bool:
    """True when the CSV's encoding keeps ``"`` and newline bytes unambiguous, so it can be cut into blocks.

    In UTF-8 and GB18030 the bytes 0x22 and 0x0A never occur inside a multi-byte
    character, so a newline preceded by an even number of quote characters ends a record.
    """
    return src.format == "csv" and (src.encoding or "").lower().replace("_", "-") in _SPLITTABLE


def _record_ends(buf: bytes, quote: int = 0x22) -> np.ndarray:
    """Offsets just past each newline that ends a record (quote parity even) in ``buf``.

    ``buf`` must start at the start of a record.
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl = np.flatnonzero(arr == 0x0A)
    if not len(nl):
        return nl
    quotes = np.flatnonzero(arr == quote)
    if not len(quotes):
        return nl + 1
    return nl[(np.searchsorted(quotes, nl) & 1) == 0] + 1


def csv_blocks(src: Source, block_bytes: int = 32 << 20,
               progress: Callable[[int, int], None] | None = None) -> Iterator[tuple[bytes, bytes]]:
    """Yield ``(header, body)`` byte blocks of a splittable CSV, each body a whole number of records.

    Parse each with :func:`parse_csv_block`. The header record is repeated with every body.
    """
    if block_bytes < 1:
        raise ValueError(f"block_bytes must be positive, got {block_bytes}")
    progress = progress or (lambda done, total: None)
    with open(src.path, "rb") as fh:
        carry = b""
        header = None
        done = 0
        while True:
            data = fh.read(block_bytes)
            buf = carry + data
            if header is None:
                if not data and not buf:
                    return
                ends = _record_ends(buf)
                if not len(ends) and data:
                    carry = buf
                    continue
                cut = int(ends[0]) if len(ends) else len(buf)
                header, buf = buf[:cut], buf[cut:]
                done += cut
            if not data:  # end of file: whatever is left is the last block
                if buf.strip(b"\r\n"):
                    yield header, buf
                progress(src.size, src.size)
                return
            ends = _record_ends(buf)
            if not len(ends):
                carry = buf
                continue
            cut = int(ends[-1])
            carry = buf[cut:]
            done += cut
            yield header, buf[:cut]
            progress(done, src.size)


def parse_csv_block(src: Source, header: bytes, body: bytes) -> tuple[pd.DataFrame, int]:
    """Parse one block from :func:`csv_blocks` into strings; return the frame and its mixed-encoding fixes.

    Rows are numbered ``_row`` 1..n within the block.
    """
    import io

    _fallback_hits["n"] = 0
    errors = _FALLBACK if src.encoding in ("utf-8", "utf-8-sig") else "replace"
    try:
        chunk = pd.read_csv(io.BytesIO(header + body), sep=src.delimiter, dtype=str, na_filter=False,
                            encoding=src.encoding, encoding_errors=errors, engine="c", skipinitialspace=False,
                            on_bad_lines="error")
    except pd.errors.EmptyDataError:
        chunk = pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ReadError(f"{src.path.name} cannot be read as CSV: {exc}; "
                        "check the quoting of that row or re-export the file",
                        key="ingest.error_csv", path=str(src.path), row=0, reason=str(exc)) from exc
    chunk.columns = [str(c).strip().lstrip("\ufeff") for c in chunk.columns]
    chunk["_row"] = np.arange(1, len(chunk) + 1)
    return chunk, _fallback_hits["n"]
