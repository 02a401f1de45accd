"""Column mapping: which column of an export holds which field.

The mapping is inferred from the built-in header aliases
(:data:`minqing.ingest.aliases.HEADER_ALIASES`) and can be overridden by a
user mapping file (TOML)::

    [columns]            # field = "header in the export"
    source_id = "流水号"
    text = "反映内容"

    [options]
    crs = "gcj02"        # coordinate system of the file (wgs84, gcj02, bd09)
    timezone = "Asia/Shanghai"
    sheet = "工单明细"    # XLSX sheet name

Columns that map to no field are kept with the ticket (in ``extra``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from minqing.ingest.aliases import HEADER_ALIASES, norm_header
from minqing.ingest.errors import MappingError

_BRACKETS = re.compile(r"[(（\[【].*?[)）\]】]")
_GENERATED = re.compile(r"^(?:column_\d+|Unnamed: \d+)$")  # names the readers give blank headers
_PHONE_LIKE = re.compile(r"^\+?[\d\s\-()]{7,}$")
_DATE_LIKE = re.compile(r"^(?:\d{4}\s*[-/.年]\s*\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b)")
SHOWN_COLUMN_CHARS = 40
SHOWN_COLUMNS = 30
REQUIRED_FIELDS = ("source_id", "received_at")
OPTIONS = ("crs", "timezone", "sheet", "region_buffer_m", "match_threshold")


@dataclass(frozen=True)
class ColumnMapping:
    """Field -> source column, plus the source columns no field uses.

    Attributes
    ----------
    fields : dict
        Field name (``source_id``, ``received_at``, ...) -> column name in the file.
    unknown : tuple of str
        Columns kept in ``extra`` because no field uses them.
    options : dict
        Options from the mapping file (crs, timezone, sheet, ...).
    """

    fields: dict
    unknown: tuple
    options: dict = field(default_factory=dict)

    def missing_required(self) -> list[str]:
        """Return the required fields with no column."""
        return [f for f in REQUIRED_FIELDS if f not in self.fields]


def looks_like_data(columns) -> bool:
    """True when a header row looks like a row of data: a phone-like or date-like cell, or mostly numbers.

    A file without a header row has its first record read as column names; its
    cells must then not be echoed (they hold a caller's name and phone number).
    """
    cells = [str(c).strip() for c in columns]
    cells = [c for c in cells if c and not _GENERATED.match(c)]
    if not cells:
        return False
    numeric = 0
    for c in cells:
        digits = sum(ch.isdigit() for ch in c)
        if _PHONE_LIKE.match(c) and digits >= 7 or _DATE_LIKE.match(c):
            return True
        try:
            float(c.replace(",", ""))
            numeric += 1
        except ValueError:
            pass
    return numeric * 2 >= len(cells)


def shown_columns(columns, limit: int = SHOWN_COLUMNS) -> str:
    """Column names fit for an error message: phone and ID numbers masked, each cut to ~40 characters."""
    from minqing.privacy import mask_text

    names = []
    for c in list(columns)[:limit]:
        name = mask_text(str(c)) or ""
        names.append(name if len(name) <= SHOWN_COLUMN_CHARS else name[: SHOWN_COLUMN_CHARS - 1] + "…")
    more = len(list(columns)) - limit
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def load_mapping_file(path: Path | str) -> dict:
    """Read a TOML mapping file; return ``{"columns": {...}, "options": {...}}``.

    Raises
    ------
    MappingError
        If the file is not valid TOML or names unknown fields or options.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"mapping file {path} cannot be read as UTF-8 TOML ({exc}); fix its syntax",
                           key="ingest.error_mapping_file", path=str(path), reason=str(exc)) from exc
    columns = data.get("columns", {})
    options = data.get("options", {})
    known = set(HEADER_ALIASES)
    bad = sorted(set(columns) - known)
    if bad:
        raise MappingError(
            f"mapping file {path} names unknown field(s) {bad}; allowed: {', '.join(sorted(known))}",
            key="ingest.error_mapping_field", fields=", ".join(bad), allowed=", ".join(sorted(known)))
    bad = sorted(set(options) - set(OPTIONS))
    if bad:
        raise MappingError(f"mapping file {path} has unknown option(s) {bad}; allowed: {', '.join(OPTIONS)}",
                           key="ingest.error_mapping_option", options=", ".join(bad), allowed=", ".join(OPTIONS))
    return {"columns": dict(columns), "options": dict(options)}


def infer_mapping(columns, user: dict | None = None) -> ColumnMapping:
    """Map the columns of an export to fields.

    Parameters
    ----------
    columns : sequence of str
        The file's headers, in order.
    user : dict, optional
        ``{"columns": {field: header}, "options": {...}}`` from :func:`load_mapping_file`;
        its columns take precedence over the built-in aliases.

    Returns
    -------
    ColumnMapping
    """
    columns = [str(c) for c in columns]
    user = user or {}
    return _infer(columns, dict(user.get("columns", {})), dict(user.get("options", {})))


def _infer(columns, user_cols, options) -> ColumnMapping:
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(norm_header(c), c)
    for c in columns:  # "经度(X)" also answers to "经度"
        by_norm.setdefault(norm_header(_BRACKETS.sub("", c)), c)
    fields: dict[str, str] = {}
    used: set[str] = set()
    for fld, header in user_cols.items():
        col = header if header in columns else by_norm.get(norm_header(header))
        if col is None:
            raise MappingError(
                f"the mapping file maps {fld!r} to column {shown_columns([header])!r}, which the file does not have; "
                f"columns are: {shown_columns(columns)}",
                key="ingest.error_mapping_column", field=fld, column=shown_columns([header]))
        fields[fld] = col
        used.add(col)
    for fld, aliases in HEADER_ALIASES.items():
        if fld in fields:
            continue
        for alias in aliases:
            col = by_norm.get(norm_header(alias))
            if col is not None and col not in used:
                fields[fld] = col
                used.add(col)
                break
    unknown = tuple(c for c in columns if c not in used and not c.startswith("quarantine_"))
    return ColumnMapping(fields=fields, unknown=unknown, options=options)
