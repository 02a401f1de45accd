"""Write tables as CSV and XLSX that are safe to open in Excel and WPS.

Every CSV and XLSX file the app and the command line write goes through this
module. Ticket text, addresses and the columns of a quarantined row come from
outside and may hold spreadsheet formulas (``=HYPERLINK(...)``,
``=cmd|' /C calc'!A0``), control characters or line breaks, so:

- a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return (the OWASP CSV-injection rule), also after leading whitespace and in
  their full-width forms ``＝＋－＠``, gets a leading ``'`` (:func:`minqing.cellsafe.neutralise`);
- CSV is UTF-8 with a byte-order mark (Excel then reads Chinese correctly),
  rows end in CRLF, and every field holding a CR or LF is quoted; NUL
  characters are removed;
- XLSX cells holding text are always string cells, never formulas or error
  values; characters XML cannot hold become U+FFFD (NUL is removed), line
  breaks are stored as LF, and text is cut at Excel's 32,767-character limit.

Numbers, booleans, missing values and naive datetimes stay what they are;
timezone-aware datetimes are written as ISO 8601 strings with their offset.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES

from minqing.cellsafe import FORMULA_LEADS, neutralise
from minqing.errors import MinqingError

TABLE_FORMATS = ("csv", "xlsx")
#: Excel's limits: characters in a cell (UTF-16 code units), rows and columns in a sheet.
XLSX_MAX_CELL_CHARS = 32_767
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_COLUMNS = 16_384
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%z"

# First characters that send a text cell down the slow path: formula leads and whitespace (``str.isspace``).
_PLAIN_FIRST_EXCLUDED = FORMULA_LEADS | frozenset(chr(i) for i in range(0x3001) if chr(i).isspace())
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# What XML 1.0 (and so XLSX) cannot hold: C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF; plus CR.
_XLSX_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\r\ud800-\udfff\ufffe\uffff]")
_XLSX_FIX = re.compile(r"\r\n?|[\x01-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ERROR_CODES = frozenset(ERROR_CODES)
_SHEET_BAD = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


class ExportError(MinqingError, ValueError):
    """A table cannot be written in the asked format (unknown format, too big for a sheet)."""

    key = "error.generic"


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Return ``df`` as CSV bytes that Excel and WPS open as plain data.

    UTF-8 with a byte-order mark, a header row, CRLF row ends, fields holding a
    comma, quote, CR or LF quoted; every text cell and header passed through
    :func:`minqing.cellsafe.neutralise` after NUL characters are removed; infinities as
    ``inf`` / ``'-inf``; timezone-aware
    datetimes as ISO 8601 strings (``2025-04-03T14:05:00+0800``); the index is
    not written.

    Parameters
    ----------
    df : DataFrame

    Returns
    -------
    bytes
    """
    columns = [_csv_column(df.iloc[:, i]) for i in range(df.shape[1])]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # CRLF ends: a field holding a lone CR is quoted too
    writer.writerow([_csv_text(str(c)) for c in df.columns])
    writer.writerows(zip(*columns) if columns else ([] for _ in range(len(df))))
    text = buf.getvalue()
    try:
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (badly decoded input) cannot be UTF-8
        return b"\xef\xbb\xbf" + _SURROGATES.sub("\ufffd", text).encode("utf-8")


def to_xlsx_bytes(df: pd.DataFrame, sheet_name: str = "Sheet1") -> bytes:
    """Return ``df`` as an XLSX workbook with one sheet whose text cells are never formulas.

    Text cells and headers are cleaned (characters XML cannot hold become
    U+FFFD, NUL is removed, CR and CRLF become LF), passed through
    :func:`minqing.cellsafe.neutralise`, cut at 32,767 characters and written as string cells.
    Missing values are empty cells, infinities the text ``inf`` / ``'-inf`` (as in CSV),
    naive datetimes Excel dates, timezone-aware ones ISO 8601 strings.

    Parameters
    ----------
    df : DataFrame
    sheet_name : str, default "Sheet1"
        Cut to Excel's 31 characters, without ``[]:*?/\\``.

    Returns
    -------
    bytes

    Raises
    ------
    ExportError
        If ``df`` has more rows or columns than an Excel sheet holds; write CSV then.
    """
    if len(df) + 1 > XLSX_MAX_ROWS or df.shape[1] > XLSX_MAX_COLUMNS:
        raise ExportError(
            f"{len(df):,} rows x {df.shape[1]:,} columns do not fit in an Excel sheet "
            f"(at most {XLSX_MAX_ROWS - 1:,} rows and {XLSX_MAX_COLUMNS:,} columns); export CSV instead "
            "or narrow the selection")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(sheet_name))
    columns = [_xlsx_column(df.iloc[:, i]) for i in range(df.shape[1])]
    ws.append([_string_cell(ws, _xlsx_text(str(c))) for c in df.columns])
    for row in zip(*columns):
        if _ERROR_CODES.intersection(v for v in row if v.__class__ is str):
            row = [_string_cell(ws, v) if v.__class__ is str else v for v in row]
        elif all(v is None for v in row):  # an empty cell keeps a row of blanks a row (readers skip cell-less rows)
            row = ("", *row[1:])
        ws.append(row)
    if not columns:
        for _ in range(len(df)):
            ws.append([])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_table(df: pd.DataFrame, path: Path | str, fmt: str | None = None, sheet_name: str = "Sheet1") -> Path:
    """Write ``df`` to ``path`` as CSV or XLSX (see :func:`to_csv_bytes`, :func:`to_xlsx_bytes`).

    Parameters
    ----------
    df : DataFrame
    path : path
    fmt : {"csv", "xlsx"}, optional
        Default: from the file's suffix, else CSV.
    sheet_name : str, default "Sheet1"
        The XLSX sheet's name.

    Returns
    -------
    Path

    Raises
    ------
    ExportError
        If ``fmt`` is not ``csv`` or ``xlsx``, or the table does not fit an Excel sheet.
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in TABLE_FORMATS:
        raise ExportError(f"table format {fmt!r} is not supported; allowed: {', '.join(TABLE_FORMATS)}")
    data = to_csv_bytes(df) if fmt == "csv" else to_xlsx_bytes(df, sheet_name=sheet_name)
    path.write_bytes(data)
    return path


# --- CSV ------------------------------------------------------------------------------------------------


def _csv_column(s: pd.Series) -> list:
    """The column as a list of values for :mod:`csv` (``None`` for missing)."""
    dtype = s.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _iso_strings(s)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        arr = s.to_numpy()
        out = arr.astype(object)
        out[np.isnan(arr)] = None
        out[np.isneginf(arr)] = "'-inf"
        return out.tolist()
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return s.tolist()
    plain = _PLAIN_FIRST_EXCLUDED
    return [v if v.__class__ is str and v[:1] not in plain and "\x00" not in v else
            _csv_text(v if v.__class__ is str else str(v)) if isinstance(v, str) else _csv_other(v)
            for v in s.astype(object).tolist()]


def _csv_text(v: str) -> str:
    if "\x00" in v:
        v = v.replace("\x00", "")
    return neutralise(v)


def _csv_other(v):
    if v is None or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_, int, np.integer)):
        return v
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else "'-inf" if v == -np.inf else v
    if isinstance(v, dt.datetime):
        return v.strftime(ISO_FORMAT) if v.tzinfo is not None else v
    if isinstance(v, (dt.date, dt.time, dt.timedelta)) or (isinstance(v, Decimal) and v.is_finite()):
        return v
    if isinstance(v, bytes):
        return _csv_text(v.decode("utf-8", errors="replace"))
    if _is_missing(v):
        return None
    return _csv_text(str(v))


def _iso_strings(s: pd.Series) -> list:
    """Timezone-aware times as ``2025-04-03T14:05:00+0800`` (``None`` for NaT), vectorised."""
    wall = s.dt.tz_localize(None).to_numpy()
    utc = s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    missing = np.isnat(wall)
    diff = np.where(missing, np.timedelta64(0, "m"), wall - utc)
    minutes = (diff // np.timedelta64(1, "m")).astype(np.int64)
    offsets = {m: f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}{abs(m) % 60:02d}" for m in np.unique(minutes).tolist()}
    text = np.datetime_as_string(wall, unit="s").tolist()
    return [None if gone else t + offsets[m] for t, m, gone in zip(text, minutes.tolist(), missing.tolist())]


def _is_missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


# --- XLSX -----------------------------------------------------------------------------------------------


def _xlsx_column(s: pd.Series) -> list:
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        arr = s.to_numpy()
        out = arr.astype(object)
        out[np.isnan(arr)] = None
        out[np.isposinf(arr)] = "inf"
        out[np.isneginf(arr)] = "'-inf"
        return out.tolist()
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return s.tolist()
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _iso_strings(s)
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return [None if v is pd.NaT else v.to_pydatetime() for v in s.astype(object).tolist()]
    return [_xlsx_value(v) for v in s.astype(object).tolist()]


def _xlsx_value(v):
    if v is None or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, str):
        return _xlsx_text(v if v.__class__ is str else str(v))
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return None
        if v in (np.inf, -np.inf):
            return "inf" if v > 0 else "'-inf"
        return float(v)
    if isinstance(v, Decimal):
        return v if v.is_finite() else _xlsx_text(str(v))
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            return _xlsx_text(v.strftime(ISO_FORMAT))
        return v.to_pydatetime() if isinstance(v, pd.Timestamp) else v
    if isinstance(v, dt.time) and v.tzinfo is not None:
        return _xlsx_text(v.isoformat())
    if isinstance(v, pd.Timedelta):
        return v.to_pytimedelta()
    if isinstance(v, (dt.date, dt.time, dt.timedelta)):
        return v
    if isinstance(v, np.datetime64):
        return _xlsx_value(pd.Timestamp(v))
    if isinstance(v, bytes):
        return _xlsx_text(v.decode("utf-8", errors="replace"))
    if _is_missing(v):
        return None
    return _xlsx_text(str(v))


def _xlsx_text(v: str) -> str:
    if _XLSX_BAD.search(v):
        v = _XLSX_FIX.sub(lambda m: "\n" if m.group(0)[0] == "\r" else "\ufffd", v.replace("\x00", ""))
    v = neutralise(v)
    if len(v) > XLSX_MAX_CELL_CHARS // 2:
        v = _cut_utf16(v, XLSX_MAX_CELL_CHARS)
    return v


def _cut_utf16(v: str, limit: int) -> str:
    """Cut ``v`` to at most ``limit`` UTF-16 code units (Excel counts those), never inside a character."""
    units = v.encode("utf-16-le")
    if len(units) <= 2 * limit:
        return v
    return units[:2 * limit].decode("utf-16-le", errors="ignore")


def _string_cell(ws, v):
    """A write-only cell that holds ``v`` as text even if openpyxl would guess a formula or an error value."""
    if not isinstance(v, str):
        return v
    cell = WriteOnlyCell(ws)
    cell._value = v
    cell.data_type = "s"
    return cell


def _sheet_title(name) -> str:
    title = _SHEET_BAD.sub("", str(name)).strip("'")[:31]
    return title or "Sheet1"
