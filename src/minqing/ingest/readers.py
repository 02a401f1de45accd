"""Readers: CSV (any encoding and delimiter), XLSX, GeoJSON and Open311 GeoReport v2 JSON.

Every reader yields chunks of strings (one DataFrame per chunk, every column
``str``, blanks as ``""``) with a ``_row`` column holding the 1-based data-row
number in the file, so a quarantined row can be found again. The format is
decided by the file's content, not its extension.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
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
_BOM = b"\xef\xbb\xbf"
_UTF8 = ("utf-8", "utf-8-sig")
FORMULA_NO_VALUE = "formula_no_value"
"""Warning (per cell) and quarantine reason (per row) of XLSX formula cells saved without their value."""


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
        Things worth telling the user (e.g. the extension did not match the content); the XLSX
        reader adds one when formula cells have no saved value.
    mixed_encoding_fixes : int
        Lines of a UTF-8 CSV that were not UTF-8 and were decoded as GB18030 (set while reading).
    warnings : dict
        Warning code -> count found by the reader itself (:data:`FORMULA_NO_VALUE`: cells), set while reading.
    blank_formulas : dict
        XLSX: data row -> names of its columns whose cell is a formula with no saved value (read as blank).
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
    warnings: dict = field(default_factory=dict)
    blank_formulas: dict = field(default_factory=dict)


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
    lines = head.splitlines()  # \n, \r\n or \r alone (old Mac Excel)
    if len(head) >= _SAMPLE:  # the sample's last line may be cut inside a character
        lines = lines[:-1] or [head]
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
    if csv_splittable(src):  # the same blocks and parser as the import's workers: the same rows, numbered alike
        yield from _block_chunks(src, chunksize, progress)
        return
    row = 0
    try:
        with open(src.path, "rb") as raw:
            it = pd.read_csv(raw, sep=src.delimiter, dtype=str, na_filter=False, encoding=src.encoding,
                             encoding_errors="replace", chunksize=chunksize, engine="c", skipinitialspace=False,
                             on_bad_lines="error")
            for chunk in it:
                chunk.columns = [str(c).strip().lstrip("\ufeff") for c in chunk.columns]
                chunk["_row"] = np.arange(row + 1, row + len(chunk) + 1)
                row += len(chunk)
                progress(raw.tell(), src.size)
                yield chunk
    except pd.errors.EmptyDataError:
        return
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise _csv_error(src, row + 1, exc) from exc


def _csv_error(src: Source, row: int, exc: Exception) -> ReadError:
    reason = str(exc.params.get("reason", exc)) if isinstance(exc, ReadError) else str(exc)
    return ReadError(f"{src.path.name} cannot be read as CSV near data row {row}: {reason}; "
                     "check the quoting of that row or re-export the file",
                     key="ingest.error_csv", path=str(src.path), row=row, reason=reason)


def _block_chunks(src: Source, chunksize, progress):
    """Chunks of ``chunksize`` rows (the last may be shorter) parsed from the blocks of :func:`csv_blocks`.

    A file with a header and no rows gives one empty chunk (its columns), as pandas does.
    """
    src.mixed_encoding_fixes = 0
    block_bytes = min(32 << 20, max(1 << 18, chunksize * 512))  # a block usually holds a whole chunk
    parsed = done = 0
    pending: list[pd.DataFrame] = []
    frame = None
    for header, body in _blocks(src, block_bytes, progress, header_only=True):
        try:
            frame, fixes = parse_csv_block(src, header, body)
        except ReadError as exc:
            line = re.search(r"line (\d+)", str(exc.params.get("reason", exc)))
            raise _csv_error(src, parsed + (int(line.group(1)) - 1 if line else 1), exc) from exc
        src.mixed_encoding_fixes += fixes
        frame["_row"] = np.arange(parsed + 1, parsed + len(frame) + 1)
        parsed += len(frame)
        if len(frame):
            pending.append(frame)
        if parsed - done >= chunksize:
            rows = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
            whole = (len(rows) // chunksize) * chunksize
            for lo in range(0, whole, chunksize):
                yield _numbered(rows.iloc[lo : lo + chunksize], done)
                done += chunksize
            pending = [rows.iloc[whole:]] if whole < len(rows) else []
    if pending:
        rows = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
        yield _numbered(rows, done)
    elif not done and frame is not None:  # a header and no rows
        yield frame


def _numbered(chunk: pd.DataFrame, start: int) -> pd.DataFrame:
    chunk = chunk.copy()
    chunk.index = pd.RangeIndex(start, start + len(chunk))
    return chunk


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
    blank = _blank_formulas(src, header)
    body.extend([] for _ in range(len(body), max(blank, default=0)))  # rows of formulas only: no cell has a value
    while body and all(_cell(v) == "" for v in body[-1]) and len(body) not in blank:
        body.pop()
    _report_blank_formulas(src, blank, header)
    for lo in range(0, len(body), chunksize):
        part = body[lo : lo + chunksize]
        cols = list(zip(*[list(r) + [None] * (len(header) - len(r)) for r in part])) if part else [[]] * len(header)
        chunk = pd.DataFrame({h: pd.array([_cell(v) for v in col], dtype="str") for h, col in zip(header, cols)})
        chunk["_row"] = np.arange(lo + 1, lo + len(part) + 1)
        progress(lo + len(part), len(body))
        yield chunk


_FORMULA_ADVICE = ": open the file in Excel or WPS and save it again"


def _blank_formulas(src: Source, header: list) -> dict:
    """Data row -> column numbers (0-based) of formula cells with no saved value, which every reader sees blank.

    A program that writes formulas without calculating them (openpyxl, many export scripts)
    saves no value; Excel and WPS save one. The sheet's XML is searched for a formula first, and
    read cell by cell only when it has one, so a file without formulas costs one decompression.
    """
    import zipfile

    try:
        with zipfile.ZipFile(src.path) as zf:
            part = _sheet_part(zf, src.sheet)
            if part is None:
                return {}
            with zf.open(part) as fh:
                if not _has_formula(fh):
                    return {}
            with zf.open(part) as fh:
                cells = _scan_blank_formulas(fh)
            if cells is None:  # a cell without a reference: count the cells one by one
                with zf.open(part) as fh:
                    cells = _parse_blank_formulas(fh)
    except Exception:  # noqa: BLE001 - calamine read the file; this check is best effort
        return {}
    out: dict = {}
    for row, col in cells:
        if row >= 1 and col < len(header):  # row 0 is the header row
            out.setdefault(row, []).append(col)
    return out


def _report_blank_formulas(src: Source, blank: dict, header: list) -> None:
    """Record the formula cells without a value on ``src``: per row, the count and a note (afresh on every read)."""
    src.notes = [n for n in src.notes if not n.endswith(_FORMULA_ADVICE)]
    src.warnings.pop(FORMULA_NO_VALUE, None)
    src.blank_formulas = {row: tuple(header[c] for c in sorted(cols)) for row, cols in sorted(blank.items())}
    n = sum(len(cols) for cols in src.blank_formulas.values())
    if not n:
        return
    used = sorted({c for cols in blank.values() for c in cols})
    names = ", ".join(header[c] for c in used)
    src.warnings[FORMULA_NO_VALUE] = n
    src.notes.append(f"{n:,} formula cell{'s have' if n != 1 else ' has'} no saved value "
                     f"(column{'s' if len(used) != 1 else ''} {names}); the field{'s were' if n != 1 else ' was'} "
                     f"left blank{_FORMULA_ADVICE}")


def formula_reasons(src: Source, quarantine: pd.DataFrame, fields: dict) -> pd.DataFrame:
    """Give quarantined rows whose id or received time is a formula with no saved value the reason ``formula_no_value``.

    Such a row would otherwise read ``missing_id`` or ``missing_time``, which sends the user to fill in a
    cell that is not empty in Excel. ``quarantine`` has file row numbers (``row_number``) and the
    reasons; ``fields`` maps field -> column of the import's mapping.
    """
    if not src.blank_formulas or not len(quarantine):
        return quarantine
    wanted = {"missing_id": fields.get("source_id"), "missing_time": fields.get("received_at")}
    reason = quarantine["reason"].to_numpy(dtype=object).copy()
    detail = quarantine["detail"].to_numpy(dtype=object).copy()
    hit = False
    for i, (row, code) in enumerate(zip(quarantine["row_number"].tolist(), reason)):
        column = wanted.get(code)
        if column is not None and column in src.blank_formulas.get(int(row), ()):
            reason[i], detail[i], hit = FORMULA_NO_VALUE, f"{column}: formula without a saved value", True
    if not hit:
        return quarantine
    out = quarantine.copy()
    out["reason"], out["detail"] = reason, detail
    return out


def _sheet_part(zf, sheet: str | None) -> str | None:
    """The zip member holding the worksheet named ``sheet`` (via the workbook and its relationships)."""
    import posixpath
    import xml.etree.ElementTree as ET

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    names = set(zf.namelist())
    book = "xl/workbook.xml"
    if "_rels/.rels" in names:
        for rel in ET.fromstring(zf.read("_rels/.rels")):
            if rel.get("Type", "").endswith("/officeDocument"):
                book = rel.get("Target", book).lstrip("/")
    rid = None
    for el in ET.fromstring(zf.read(book)).iter():
        if local(el.tag) == "sheet" and (sheet is None or el.get("name") == sheet):
            rid = next((v for k, v in el.attrib.items() if k != "sheetId" and local(k) == "id"), None)
            break
    folder = posixpath.dirname(book)
    rels = posixpath.join(folder, "_rels", posixpath.basename(book) + ".rels")
    if rid is None or rels not in names:
        return None
    for rel in ET.fromstring(zf.read(rels)):
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            return part if part in names else None
    return None


def _has_formula(fh) -> bool:
    """True when the sheet XML may hold a formula (``<f>..</f>``, also prefixed ``<x:f>``; ``<f .../>``)."""
    last = b""
    while block := fh.read(1 << 22):
        edge = last + block[:2]  # a tag cut between two reads
        if b"f>" in block or b"<f " in block or b"f>" in edge or b"<f " in edge:
            return True
        last = block[-2:]
    return False


_CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d+)$")
# A formula (<f>..</f>, or a shared formula's <f .../>) followed by the cell's end or an empty value; in a
# cell <f> comes before <v> (ECMA-376 CT_Cell). A namespace prefix (<x:f>) is allowed.
_NO_VALUE = re.compile(rb"(?:</(\w+:)?f>|<(\w+:)?f\b[^<>]*/>)\s*"
                       rb"(?:</(?:\w+:)?c>|<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)")
_ATTR = re.compile(rb"""\s(r|t)\s*=\s*["']([^"']*)["']""")


def _column_number(letters: str) -> int:
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return col - 1


def _scan_blank_formulas(fh) -> list[tuple[int, int]] | None:
    """(row, column), 0-based, of the cells of a sheet's XML that hold a formula and no saved value.

    No value: no ``<v>``, or an empty one that is not a formula's empty text (``t="str"``). The XML
    is searched in pieces cut after a ``</row>``. None when a cell has no ``r`` reference (allowed,
    rare): then :func:`_parse_blank_formulas` counts the cells one by one.
    """
    out: list[tuple[int, int]] = []
    carry = b""
    while True:
        block = fh.read(1 << 22)
        buf = carry + block
        cut = buf.rfind(b"row>") + 4 if block else len(buf)
        if block and cut < 4:  # no row has ended yet: read on
            carry = buf
            continue
        part, carry = buf[:cut], buf[cut:]
        for m in _NO_VALUE.finditer(part):
            tag = b"<" + (m.group(1) or m.group(2) or b"") + b"c"
            i = part.rfind(tag, 0, m.start())
            while i >= 0 and part[i + len(tag) : i + len(tag) + 1] not in (b" ", b"\t", b"\r", b"\n"):
                i = part.rfind(tag, 0, i)
            j = part.find(b">", i)
            if i < 0 or j < 0:
                return None
            attrs = dict(_ATTR.findall(part[i + len(tag) : j]))
            ref = _CELL_REF.match(attrs.get(b"r", b"").decode("ascii", "replace"))
            if ref is None:
                return None
            if attrs.get(b"t") == b"str" and not m.group(0).endswith(b"c>"):
                continue  # an empty <v> of a formula whose result is empty text: it has a value
            out.append((int(ref.group(2)) - 1, _column_number(ref.group(1))))
        if not block:
            return out


def _parse_blank_formulas(fh) -> list[tuple[int, int]]:
    """:func:`_scan_blank_formulas` for any sheet XML (cells numbered by position when they have no ``r``), slower."""
    import xml.parsers.expat

    out: list[tuple[int, int]] = []
    st = {"row": -1, "col": -1, "f": False, "v": None, "is": False, "t": None, "in_v": False}

    def start(name, attrs):
        tag = name.rsplit(" ", 1)[-1]
        if tag == "row":
            r = attrs.get("r")
            st["row"] = int(r) - 1 if r and r.isdigit() else st["row"] + 1
            st["col"] = -1
        elif tag == "c":
            m = _CELL_REF.match(attrs.get("r") or "")
            if m:
                st["col"], st["row"] = _column_number(m.group(1)), int(m.group(2)) - 1
            else:
                st["col"] += 1
            st.update(f=False, v=None, t=attrs.get("t"), **{"is": False})
        elif tag == "f":
            st["f"] = True
        elif tag == "v":
            st["v"], st["in_v"] = "", True
        elif tag == "is":
            st["is"] = True

    def end(name):
        tag = name.rsplit(" ", 1)[-1]
        if tag == "v":
            st["in_v"] = False
        elif tag == "c" and st["f"] and not st["is"]:
            v = st["v"]
            if v is None or (not v.strip() and st["t"] != "str"):
                out.append((st["row"], st["col"]))

    def text(data):
        if st["in_v"]:
            st["v"] += data

    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    parser.buffer_text = True
    parser.ParseFile(fh)
    return out


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
    """True when the CSV's encoding keeps quote, delimiter and line-break bytes unambiguous, so it can be cut into blocks.

    In UTF-8 and GB18030 the bytes 0x22 (quote), 0x0A and 0x0D (line breaks) and 0x2C, 0x09, 0x3B
    (comma, tab, semicolon) never occur inside a multi-byte character, so the records can be found
    by scanning the bytes (:func:`_record_ends`). Line breaks may be ``\n``, ``\r\n`` or ``\r`` alone.
    (``|``, 0x7C, can be the second byte of a GBK or Big5 character: a quote right after such a
    character in a ``|``-separated file would be taken to start a field.)
    """
    return src.format == "csv" and (src.encoding or "").lower().replace("_", "-") in _SPLITTABLE


_QUOTE, _LF, _CR = 0x22, 0x0A, 0x0D


def _record_ends(buf: bytes, delimiter: int | None = 0x2C, final: bool = True, quote: int = _QUOTE) -> np.ndarray:
    """Offsets just past each line break that ends a record in ``buf`` (which starts at the start of a record).

    A record ends at ``\n`` (also of ``\r\n``) or at a ``\r`` alone (old Mac Excel) outside quoted
    fields. Quotes are read as Python's :mod:`csv` module and pandas' parsers read them (RFC 4180):
    a quote opens a quoted field only at the start of a field; a quote anywhere else in an unquoted
    field is a literal character; inside a quoted field ``""`` stands for a quote. A ``\r`` that is
    the last byte of ``buf`` ends a record only when ``final`` (otherwise a ``\n`` may follow it).
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    ends = np.flatnonzero(arr == _LF)
    cr = np.flatnonzero(arr == _CR)
    if len(cr):
        nxt = cr + 1
        inside = nxt < len(arr)
        lone = cr[inside][arr[nxt[inside]] != _LF]
        if final and not inside[-1]:
            lone = np.append(lone, cr[-1])
        if len(lone):
            ends = np.sort(np.concatenate([ends, lone]))
    if not len(ends):
        return ends
    quotes = np.flatnonzero(arr == quote)
    if not len(quotes):
        return ends + 1
    toggles = _toggling_quotes(arr, quotes, delimiter, quote)
    return ends[(np.searchsorted(toggles, ends) & 1) == 0] + 1


def _toggling_quotes(arr: np.ndarray, quotes: np.ndarray, delimiter: int | None, quote: int = _QUOTE) -> np.ndarray:
    """The quotes that open or close quoted fields (a ``""`` inside one counts twice); literal quotes left out.

    Fast path: in a file quoted by the rules every quote toggles. That holds when each quote that
    would open a field (an even number of quotes before it) follows a delimiter, a line break, the
    start of ``buf`` or the quote just closed, and each quote that would close one is followed by a
    delimiter, a line break, a quote or the end of ``buf``. Otherwise the quotes are walked one by one.
    """
    seps = [_LF, _CR] if delimiter is None else [_LF, _CR, delimiter]
    prev = arr[np.maximum(quotes - 1, 0)]
    starts = np.isin(prev, seps) | (quotes == 0)  # a quote here opens a field (when not inside one)
    nxt = arr[np.minimum(quotes + 1, len(arr) - 1)]
    opening = (np.arange(len(quotes)) & 1) == 0
    if np.where(opening, starts | (prev == quote), np.isin(nxt, seps + [quote]) | (quotes == len(arr) - 1)).all():
        return quotes
    out = []
    quoted, closed = False, -2
    for pos, start in zip(quotes.tolist(), starts.tolist()):
        if quoted:  # closes the field, or is the first of a ""
            quoted, closed = False, pos
            out.append(pos)
        elif start or pos == closed + 1:  # opens a field, or is the second of a ""
            quoted = True
            out.append(pos)
        # else: a literal quote inside an unquoted field (or after a closed one)
    return np.asarray(out, dtype=np.int64)


def _delimiter_byte(src: Source) -> int | None:
    raw = (src.delimiter or ",").encode("utf-8")
    return raw[0] if len(raw) == 1 else None


def csv_blocks(src: Source, block_bytes: int = 32 << 20,
               progress: Callable[[int, int], None] | None = None) -> Iterator[tuple[bytes, bytes]]:
    """Yield ``(header, body)`` byte blocks of a splittable CSV, each body a whole number of records.

    Parse each with :func:`parse_csv_block`. The header record is repeated with every body.
    """
    yield from _blocks(src, block_bytes, progress)


def _blocks(src: Source, block_bytes: int, progress=None, header_only: bool = False):
    """:func:`csv_blocks`; with ``header_only``, a file with a header and no records gives ``(header, b"")``."""
    if block_bytes < 1:
        raise ValueError(f"block_bytes must be positive, got {block_bytes}")
    progress = progress or (lambda done, total: None)
    delimiter = _delimiter_byte(src)
    with open(src.path, "rb") as fh:
        carry = b""
        header = None
        done = 0
        sent = False
        while True:
            data = fh.read(block_bytes)
            buf = carry + data
            if header is None:
                if not data and not buf:
                    return
                ends = _record_ends(buf, delimiter, final=not data)
                if not len(ends) and data:
                    carry = buf
                    continue
                cut = int(ends[0]) if len(ends) else len(buf)
                header, buf = buf[:cut], buf[cut:]
                done += cut
            if not data:  # end of file: whatever is left is the last block
                if buf.strip(b"\r\n"):
                    yield header, buf
                elif header_only and not sent:
                    yield header, b""
                progress(src.size, src.size)
                return
            ends = _record_ends(buf, delimiter, final=False)
            if not len(ends):
                carry = buf
                continue
            cut = int(ends[-1])
            carry = buf[cut:]
            done += cut
            sent = True
            yield header, buf[:cut]
            progress(done, src.size)


def _redecode_lines(data: bytes) -> tuple[bytes, int]:
    """Return ``data`` (UTF-8 with stray lines in another encoding) as UTF-8, and how many lines were fixed.

    A line that is not valid UTF-8 is decoded as GB18030 (a superset of GBK and GB2312) as a whole;
    one that is not valid GB18030 either is decoded as UTF-8 with U+FFFD for the bad bytes. Line
    breaks, quotes and delimiters are single bytes in both encodings, so records stay as they were.
    """
    bom = _BOM if data.startswith(_BOM) else b""
    data = data[len(bom):]
    try:
        data.decode("utf-8")
        return bom + data, 0
    except UnicodeDecodeError as exc:
        start = max(data.rfind(b"\n", 0, exc.start), data.rfind(b"\r", 0, exc.start)) + 1
    parts = [bom, data[:start]]
    fixes = 0
    for line in data[start:].splitlines(keepends=True):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            fixes += 1
            try:
                line = line.decode("gb18030").encode("utf-8")
            except UnicodeDecodeError:
                line = line.decode("utf-8", errors="replace").encode("utf-8")
        parts.append(line)
    return b"".join(parts), fixes


def _parse_bytes(src: Source, data: bytes, errors: str) -> pd.DataFrame:
    import io

    return pd.read_csv(io.BytesIO(data), sep=src.delimiter, dtype=str, na_filter=False, encoding=src.encoding,
                       encoding_errors=errors, engine="c", skipinitialspace=False, on_bad_lines="error")


def _parse_block(src: Source, header: bytes, body: bytes, errors: str) -> pd.DataFrame:
    """Parse a header and a body of records: Arrow's CSV reader when it reads them as pandas would, else pandas'.

    The header is always read by pandas (its names, repeated names made unique, stay pandas'). Arrow
    reads the body (decoded here, as pandas decodes it) unless the file has one column or a single-byte
    delimiter cannot be named; where the two parsers could differ (a record with too few or too many
    fields, a blank-looking line of spaces, an unterminated quote) Arrow refuses and pandas reads the
    whole block, so every frame is the one pandas gives. A decoding error is raised as pandas raises it.
    """
    names = _parse_bytes(src, header, errors).columns if body else None
    delimiter = src.delimiter or ","
    if names is None or len(names) < 2 or len(delimiter) != 1 or len(delimiter.encode("utf-8")) != 1:
        return _parse_bytes(src, header + body, errors)
    encoding = "utf-8" if src.encoding in _UTF8 else src.encoding  # a byte-order mark can only open the header
    text = body.decode(encoding, errors)  # a UnicodeDecodeError as pandas' strict read raises it
    frame = _arrow_body(text.encode("utf-8"), len(names), delimiter)
    if frame is None:
        return _parse_bytes(src, header + body, errors)
    frame.columns = names
    return frame


def _arrow_body(data: bytes, ncols: int, delimiter: str) -> pd.DataFrame | None:
    """Records (UTF-8, no header) as a frame of ``str`` columns 0..ncols-1; None when Arrow refuses them."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [str(i) for i in range(ncols)]
    try:
        table = pcsv.read_csv(
            pa.py_buffer(data),
            read_options=pcsv.ReadOptions(column_names=names, use_threads=False, block_size=max(1 << 20, len(data) + 1)),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                            newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in names}, null_values=[],
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if table.num_rows == 0:
        return None
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get)


def parse_csv_block(src: Source, header: bytes, body: bytes) -> tuple[pd.DataFrame, int]:
    """Parse one block from :func:`csv_blocks` into strings; return the frame and its mixed-encoding fixes.

    Rows are numbered ``_row`` 1..n within the block. In a UTF-8 file, a line that is not UTF-8 is
    read as GB18030 (see :func:`_redecode_lines`); the fixes count such lines of ``body`` (the
    header, repeated with every block, is re-decoded but not counted).
    """
    utf8 = src.encoding in _UTF8
    fixes = 0
    try:
        try:
            chunk = _parse_block(src, header, body, "strict" if utf8 else "replace")
        except UnicodeDecodeError:
            if not utf8:
                raise
            header, _ = _redecode_lines(header)
            body, fixes = _redecode_lines(body)
            chunk = _parse_block(src, header, body, "replace")
    except pd.errors.EmptyDataError:
        chunk = pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ReadError(f"{src.path.name} cannot be read as CSV: {exc}; "
                        "check the quoting of that row or re-export the file",
                        key="ingest.error_csv", path=str(src.path), row=0, reason=str(exc)) from exc
    chunk.columns = [str(c).strip().lstrip("\ufeff") for c in chunk.columns]
    chunk["_row"] = np.arange(1, len(chunk) + 1)
    return chunk, fixes
