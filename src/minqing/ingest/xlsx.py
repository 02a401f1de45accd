"""XLSX workbooks: one sheet read by calamine, and the formula cells saved without a value.

A program that writes formulas without calculating them saves no value, so every reader sees
such a cell blank; the sheet's XML is searched for them, so that a row whose id or time is one
is quarantined as :data:`FORMULA_NO_VALUE` (not as missing) and the user is told why.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from minqing.ingest.errors import ReadError
from minqing.ingest.header_row import MAX_TITLE_ROWS, TITLE_ROWS, header_row, names_known_fields
from minqing.ingest.source import cell_text

if TYPE_CHECKING:
    from minqing.ingest.source import Source

FORMULA_NO_VALUE = "formula_no_value"
"""Warning (per cell) and quarantine reason (per row) of XLSX formula cells saved without their value."""


def xlsx_chunks(src: Source, chunksize, progress):
    """Yield the rows of the workbook's sheet (``src.sheet``, else the first) as chunks of strings."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(src.path))
        names = wb.sheet_names
        if src.sheet is not None and src.sheet not in names:
            raise ReadError(f"{src.path.name} has no sheet {src.sheet!r}; sheets are: {', '.join(names)}",
                            key="ingest.error_sheet", sheet=str(src.sheet), sheets=", ".join(names))
        if src.sheet is None:
            src.sheet = _data_sheet(wb, names)
            _note_sheet(src, names[0])
        rows = wb.get_sheet_by_name(src.sheet).to_python(skip_empty_area=False)
    except ReadError:
        raise
    except Exception as exc:  # calamine raises its own error types for broken zips and XML
        raise ReadError(f"{src.path.name} cannot be read as XLSX ({type(exc).__name__}: {exc}); "
                        "the file may be truncated or damaged: export it again",
                        key="ingest.error_xlsx", path=str(src.path), reason=str(exc)) from exc
    src.header_row = header_row([cell_text(v) for v in r] for r in rows[: MAX_TITLE_ROWS + 1])
    src.warnings.pop(TITLE_ROWS, None)
    if src.header_row:  # a report's title rows above the header: not work orders
        src.warnings[TITLE_ROWS] = src.header_row
        rows = rows[src.header_row:]
    if not rows:
        return
    header = [cell_text(h).strip() for h in rows[0]]
    header = [h or f"column_{i + 1}" for i, h in enumerate(header)]
    body = rows[1:]
    blank = _blank_formulas(src, header)
    body.extend([] for _ in range(len(body), max(blank, default=0)))  # rows of formulas only: no cell has a value
    while body and all(cell_text(v) == "" for v in body[-1]) and len(body) not in blank:
        body.pop()
    _report_blank_formulas(src, blank, header)
    for lo in range(0, len(body), chunksize):
        part = body[lo : lo + chunksize]
        cols = list(zip(*[list(r) + [None] * (len(header) - len(r)) for r in part])) if part else [[]] * len(header)
        chunk = pd.DataFrame({h: pd.array([cell_text(v) for v in col], dtype="str") for h, col in zip(header, cols)})
        chunk["_row"] = np.arange(lo + 1, lo + len(part) + 1)
        progress(lo + len(part), len(body))
        yield chunk


def _data_sheet(wb, names: list[str]) -> str:
    """The sheet to read when none is named: the first, unless only a later one has a header naming fields.

    A workbook often opens with a cover or notes sheet (说明, 封面, 汇总) before the orders' sheet.
    """
    def names_fields(name) -> bool:
        try:
            head = wb.get_sheet_by_name(name).to_python(skip_empty_area=False, nrows=MAX_TITLE_ROWS + 1)
        except Exception:  # noqa: BLE001 - a sheet calamine cannot read is no data sheet; the first is then read
            return False
        records = [[cell_text(v) for v in r] for r in head]
        at = header_row(records)
        return bool(records) and names_known_fields(records[at]) >= 2

    if len(names) < 2 or names_fields(names[0]):
        return names[0]
    return next((n for n in names[1:] if names_fields(n)), names[0])


def _note_sheet(src: Source, first: str) -> None:
    """Say which sheet was read when it is not the first (``sheet_read:<name>``), once."""
    src.notes = [n for n in src.notes if not n.startswith("sheet_read:")]
    if src.sheet != first:
        src.notes.append(f"sheet_read:{src.sheet}")


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
        row -= src.header_row  # the sheet's rows above the header are not read
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
