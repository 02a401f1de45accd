"""A starting mapping file from an export's header and values (``minqing mapping init FILE``, :mod:`minqing.cli.mapping`).

The output is TOML (see ``docs/importing.md``): ``[columns]`` with the inferred
field -> header (unmapped headers as comments), ``[options]`` (commented
defaults) and ``[values.<field>]`` with the most frequent values of each field
with a vocabulary and the code the built-in aliases give them (``""`` and a
``# TODO`` when unknown). Values of caller name/phone columns are never
read, and a value that holds a phone or ID number is left out.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import tomli_w

from minqing.ingest import aliases as al
from minqing.ingest.blanks import blank_out
from minqing.ingest.errors import MappingError
from minqing.ingest.mapping import (
    BLANK_TOKENS,
    VALUE_FIELDS,
    _vocabularies,
    blank_set,
    infer_mapping,
    looks_like_data,
)
from minqing.ingest.normalise import _CATEGORIES, category_raw
from minqing.ingest.readers import open_source, read_chunks
from minqing.ingest.source import READER_COLUMNS

MAX_ROWS = 100_000
TOP_VALUES = 20


def _str(value: str) -> str:
    """A TOML basic string (quotes, backslashes, newlines and control characters escaped)."""
    return tomli_w.dumps({"k": value})[len("k = "):].rstrip("\n")


def _line(key: str, value) -> str:
    """One ``key = value`` TOML line, the key quoted when it must be."""
    return tomli_w.dumps({key: value}).rstrip("\n")


def _code(fld: str, value: str) -> str | None:
    if fld == "category":
        return al.category_code(value, _CATEGORIES)
    return al.VALUE_TABLES[fld].get(al._norm_value(value))


def _private(value: str) -> bool:
    from minqing.privacy import mask_text

    return (mask_text(value) or "") != value


def mapping_template(path: Path | str, *, sheet: str | None = None, max_rows: int = MAX_ROWS,
                     top: int = TOP_VALUES) -> str:
    """Return a starting mapping file (TOML text) for the export at ``path``.

    Parameters
    ----------
    path : path
        The export (CSV, XLSX, GeoJSON, Open311 JSON).
    sheet : str, optional
        XLSX sheet (default: the first).
    max_rows : int
        Rows read to count values.
    top : int
        Most frequent values written per field.

    Raises
    ------
    MappingError
        If the first row looks like data rather than column names.
    """
    src = open_source(path, sheet=sheet)
    blanks = blank_set(BLANK_TOKENS)
    columns: list[str] | None = None
    mapping = None
    counts: dict[str, Counter] = {f: Counter() for f in VALUE_FIELDS}
    rows = 0
    for chunk in read_chunks(src, chunksize=min(max_rows, 50_000)):
        if columns is None:
            columns = [c for c in chunk.columns if c not in READER_COLUMNS]
            if looks_like_data(columns):
                raise MappingError(
                    f"the first row of {src.path.name} looks like data, not column names; add a header row "
                    "and run mapping init again", key="ingest.error_no_header", path=src.path.name)
            mapping = infer_mapping(columns)
        chunk = chunk.head(max_rows - rows)
        rows += len(chunk)
        f = mapping.fields
        for fld in VALUE_FIELDS:
            if fld == "category":
                raw = category_raw(chunk, f, blanks)
            elif fld in f:
                raw = blank_out(chunk[f[fld]].astype("str").str.strip(), blanks)
            else:
                raw = None
            if raw is not None:
                counts[fld].update(raw[raw != ""].tolist())
        if rows >= max_rows:
            break
    if columns is None:  # an empty file: header only
        columns = []
        mapping = infer_mapping(columns)
    return _render(src.path.name, columns, mapping, counts, rows, top, sheet)


def _render(name, columns, mapping, counts, rows, top, sheet) -> str:
    out = [f"# Mapping for {' '.join(name.split())}, written by `minqing mapping init` from its first {rows:,} rows.",
           "# Check it, fill in the TODOs and import with: minqing import FILE --mapping THIS.toml",
           "# The format is described in docs/importing.md.", "", "[columns]  # field = \"header in the file\""]
    for fld, col in mapping.fields.items():
        out.append(_line(fld, col))
    used = set(mapping.fields.values())
    unmapped = [c for c in columns if c not in used]
    if unmapped:
        out.append("# Columns no field uses (kept with each ticket); to use one, uncomment and put a field name")
        out.append(f"# (fields: {', '.join(al.HEADER_ALIASES)}):")
        out.extend(f"# ? = {_str(c)}" for c in unmapped)
    out += ["", "[options]", "# crs = \"wgs84\"               # coordinate system of the file: wgs84, gcj02, bd09",
            "# timezone = \"Asia/Shanghai\"   # time zone of times without an offset"]
    if sheet:
        out.append(_line("sheet", sheet))
    out.append("# blank_tokens = [" + ", ".join(_str(t) for t in BLANK_TOKENS) + "]  # cell texts read as blank")
    out.append("# date_order = \"MDY\"           # see --date-order in docs/importing.md")
    vocabs = _vocabularies()
    for fld in VALUE_FIELDS:
        counter = counts[fld]
        if not counter:
            continue
        shown = [(v, n) for v, n in counter.most_common() if not _private(v)][:top]
        if not shown:
            continue
        out += ["", f"[values.{fld}]  # \"value in the file\" = \"our code\"; \"\" = not mapped yet"]
        if fld != "category":
            out.append(f"# codes: {', '.join(vocabs[fld])}")
        else:
            out.append("# codes: a category code such as 03.02.01 (see docs/importing.md); 99.99.99 = other")
        more = len(counter) - len(shown)
        if more > 0:
            out.append(f"# {more:,} less frequent value(s) not listed")
        for value, n in shown:
            code = _code(fld, value)
            note = f"{n:,} row{'s' if n != 1 else ''}"
            out.append(_line(value, code or "") + (f"  # {note}" if code else f"  # TODO: unknown value, {note}"))
    return "\n".join(out) + "\n"
