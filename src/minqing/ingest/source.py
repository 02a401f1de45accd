"""What a file to import is (:class:`Source`) and what every reader's chunks hold.

Every reader yields chunks of strings (one DataFrame per chunk, every column
``str``, blanks as ``""``) with a ``_row`` column holding the 1-based data-row
number in the file, so a quarantined row can be found again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd

FORMATS = ("csv", "xlsx", "geojson", "open311")
INVALID, ORIGINAL = "_invalid", "_original"
READER_COLUMNS = ("_row", INVALID, ORIGINAL)
"""Columns the readers add: the row number and, for a JSON item that is not an object, why and what it was."""
RAW_ITEM = "raw_item"
"""Column of a quarantined JSON item that is not an object (its JSON text)."""


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
        Hash of the file's bytes ("" until :meth:`file_hash` when computed on a thread).
    size : int
        Bytes.
    notes : list of str
        Things worth telling the user (e.g. the extension did not match the content); the XLSX
        reader adds one when formula cells have no saved value.
    mixed_encoding_fixes : int
        Lines of a UTF-8 CSV that were not UTF-8 and were decoded as GB18030 (set while reading).
    warnings : dict
        Warning code -> count found by the reader itself (:data:`minqing.ingest.xlsx.FORMULA_NO_VALUE`: cells), set while reading.
    blank_formulas : dict
        XLSX: data row -> names of its columns whose cell is a formula with no saved value (read as blank).
    header_row : int
        Rows above the header (a report's title, the export time; see :mod:`minqing.ingest.header_row`), skipped.
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
    header_row: int = 0
    hashing: object = field(default=None, repr=False, compare=False)  # Future of sha256 (open_source hash_later)

    def file_hash(self) -> str:
        """The file's SHA-256, waiting for it when it is computed on a thread."""
        if self.hashing is not None:
            self.sha256 = self.hashing.result()
            self.hashing = None
        return self.sha256


def cell_text(v) -> str:
    """Return a cell's value (from a workbook or a JSON file) as the text a CSV export would hold."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        # every integer below 2**53 is exact in a float: a 16-digit id stored as a number keeps its digits
        return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (date, time)):
        return v.isoformat()
    return str(v)


NUL_SIGN = "\u2400"
"""What a NUL character (U+0000) of a cell becomes: ␀, the symbol for null.

No store keeps NUL inside text alike (PostgreSQL refuses it, SQLite keeps it,
browsers and spreadsheets cut the text there), so every reader shows it as this
visible sign: the row is stored the same everywhere and nothing is silently cut.
"""


def visible_nul(frame):
    """Replace NUL characters in every text cell of ``frame`` with :data:`NUL_SIGN` (in place; returns ``frame``).

    Vectorised per column; a column without NUL is left untouched.
    """
    for col in frame.columns:
        values = frame[col]
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            continue
        try:
            has = values.str.contains("\x00", regex=False, na=False)
        except AttributeError:  # an object column holding no text
            continue
        if has.any():
            frame[col] = values.where(~has, values.str.replace("\x00", NUL_SIGN, regex=False))
    return frame
