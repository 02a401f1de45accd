"""Where the header is: report titles above it (``12345热线工单明细表``, ``导出时间：...``, ``sep=,``).

Exports of government systems often open with a title, the export time or the filter used,
and Excel's ``sep=,`` hint, before the row that names the columns. :func:`header_row` finds the
header as the first of the opening rows that names at least two known fields (by their
built-in header aliases, compared as :func:`minqing.ingest.aliases.norm_header` compares them),
when every row above it fills at most two cells, as titles do; those rows are not work orders
and are skipped (and counted: warning ``title_rows``). Any other file is read as before: its
first row is the header.
"""

from __future__ import annotations

import csv
import io
from functools import cache

from minqing.ingest.encodings import SAMPLE

TITLE_ROWS = "title_rows"
"""The warning counting the rows above the header (they are not work orders)."""
MAX_TITLE_ROWS = 30
"""Rows looked at above the header: a report's title block is a few rows."""
MAX_TITLE_CELLS = 2
"""A title row fills at most this many cells (``导出时间：...``, ``导出人：...``); a fuller row is data."""


@cache
def _known() -> frozenset:
    from minqing.ingest.aliases import HEADER_ALIASES, norm_header

    return frozenset(norm_header(a) for aliases in HEADER_ALIASES.values() for a in aliases)


def names_known_fields(record) -> int:
    """How many distinct known fields a row's cells name (by the built-in header aliases)."""
    from minqing.ingest.aliases import norm_header

    known = _known()
    return len({n for n in (norm_header(c) for c in record if c is not None) if n and n in known})


def header_row(records) -> int:
    """The index of the header among a file's first records (lists of cell texts); 0 unless titles open the file."""
    for i, record in enumerate(list(records)[: MAX_TITLE_ROWS + 1]):
        if names_known_fields(record) >= 2:
            return i
        if sum(1 for c in record if c is not None and str(c).strip()) > MAX_TITLE_CELLS:
            return 0  # a row of data, not a title: the first row is the header, as before
    return 0


def csv_header_row(head: bytes, encoding: str | None, delimiter: str | None) -> int:
    """:func:`header_row` of a CSV file from the first bytes of it (records cut off at the end are left out)."""
    text = head.decode(encoding or "utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if len(head) >= SAMPLE:  # a sample: its last line may be cut
        lines = lines[:-1]
    try:
        records = []
        for record in csv.reader(io.StringIO("".join(lines[: 4 * (MAX_TITLE_ROWS + 1)])), delimiter=delimiter or ","):
            records.append(record)
            if len(records) > MAX_TITLE_ROWS:
                break
    except csv.Error:
        return 0
    return header_row(records)
