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
    blank_tokens = ["NA", "-"]  # cell texts read as blank (default: BLANK_TOKENS)
    date_order = "MDY"   # 12/31/2017 month first (MDY, DMY, YMD; default: inferred from the file)
    earliest = "1990-01-01"  # earlier times are quarantined (default: no floor)
    default_channel = "app"  # channel of rows without one (Open311 has no channel field; default hotline_12345)

    [values.channel]     # a file's value = our code (also kind, status, satisfaction, resolved)
    "Mobile App" = "app"

    [values.category]
    "Streetlight Out" = "03.02.01"

Columns that map to no field are kept with the ticket (in ``extra``). The full
format is in ``docs/importing.md``.
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
OPTIONS = ("crs", "timezone", "sheet", "region_buffer_m", "match_threshold", "blank_tokens", "date_order", "earliest",
           "default_channel")
#: Cell texts read as a blank cell in every mapped field (trimmed, case-insensitive);
#: ``[options] blank_tokens = [...]`` in a mapping file replaces the list.
BLANK_TOKENS = ("NA", "N/A", "NULL", "None", "-", "--", "无", "暂无", "空", "nan")
#: Fields whose values a mapping file may map to our codes (``[values.<field>]``).
VALUE_FIELDS = ("channel", "kind", "status", "satisfaction", "resolved", "category")


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
    values: dict = field(default_factory=dict)  # field -> {file value: our code}, from [values.<field>]

    @property
    def blank_tokens(self) -> frozenset:
        """Case-folded cell texts read as blank (``[options] blank_tokens`` or :data:`BLANK_TOKENS`)."""
        return blank_set(self.options.get("blank_tokens", BLANK_TOKENS))

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
    bad = sorted(set(data) - {"columns", "options", "values"})
    if bad:
        raise MappingError(f"mapping file {path} has unknown table(s) {bad}; allowed: [columns], [options], "
                           f"[values.<field>]", key="ingest.error_mapping_table", tables=", ".join(bad))
    if "blank_tokens" in options:
        blank_set(options["blank_tokens"])  # raises on a wrong type
    return {"columns": dict(columns), "options": dict(options), "values": check_values(data.get("values", {}))}


def blank_set(tokens) -> frozenset:
    """Return blank tokens as a set of trimmed, case-folded texts.

    Raises
    ------
    MappingError
        If ``tokens`` is not a list of strings.
    """
    if isinstance(tokens, str) or not isinstance(tokens, (list, tuple, set, frozenset)) \
            or not all(isinstance(t, str) for t in tokens):
        raise MappingError(
            f"[options] blank_tokens must be a list of texts, e.g. blank_tokens = [\"NA\", \"-\"], got {tokens!r}",
            key="ingest.error_blank_tokens")
    return frozenset(t.strip().casefold() for t in tokens if t.strip())


def _vocabularies() -> dict:
    from minqing import model as m

    return {"channel": m.CHANNELS, "kind": m.KINDS, "status": m.STATUSES, "satisfaction": m.SATISFACTION,
            "resolved": m.RESOLVED, "category": m.CATEGORIES}


def check_values(values) -> dict:
    """Validate ``[values.<field>]`` tables; return ``{field: {file value: our code}}``.

    A target ``""`` means "not mapped yet" (``minqing mapping init`` writes it for
    values it does not know) and is dropped. A category target is a code, or a
    table ``{code = "...", zh = "...", en = "..."}`` whose code must be one of ours.

    Raises
    ------
    MappingError
        If a field is not one of :data:`VALUE_FIELDS` or a target is not a code of its vocabulary.
    """
    if not isinstance(values, dict):
        raise MappingError("[values] must hold tables like [values.channel]", key="ingest.error_mapping_values_field",
                           fields="values", allowed=", ".join(VALUE_FIELDS))
    values = dict(values)
    carried = values.pop(NEW_CATEGORIES, None) or {}  # already checked (a checked mapping checked again)
    bad = sorted(set(values) - set(VALUE_FIELDS))
    if bad:
        raise MappingError(
            f"the mapping file has value maps for unknown field(s) {bad}; allowed: "
            f"{', '.join(f'[values.{v}]' for v in VALUE_FIELDS)}",
            key="ingest.error_mapping_values_field", fields=", ".join(bad), allowed=", ".join(VALUE_FIELDS))
    vocabs = _vocabularies()
    out: dict = {}
    new_categories: dict = dict(carried)
    for fld, table in values.items():
        if not isinstance(table, dict):
            raise MappingError(f"[values.{fld}] must be a table of \"file value\" = \"code\" lines",
                               key="ingest.error_mapping_values_field", fields=fld, allowed=", ".join(VALUE_FIELDS))
        codes = vocabs[fld]
        allowed = ", ".join(codes) if fld != "category" else "a category code such as 03.02.01 (see docs/importing.md)"
        mapped = {}
        for value, target in table.items():
            if fld == "category" and isinstance(target, dict):
                extra = sorted(set(target) - {"code", "zh", "en"})
                if extra or not isinstance(target.get("code"), str):
                    raise MappingError(
                        f"[values.category] {shown_columns([value])!r} must be a code or a table with code, zh, en "
                        f"(e.g. code = \"98.01.01\", zh = \"涂鸦\", en = \"Graffiti\")",
                        key="ingest.error_mapping_value", field=fld, value=shown_columns([value]),
                        target=str(target), allowed=allowed)
                code = target["code"].strip()
                if code not in codes:  # a code of ours with labels is just that code
                    _new_category(code, target, value, allowed)
                    new_categories[code] = {"zh": str(target.get("zh", "")).strip(),
                                            "en": str(target.get("en") or target.get("zh", "")).strip()}
                target = code
            if not isinstance(target, str):
                raise MappingError(
                    f"[values.{fld}] maps {shown_columns([value])!r} to {target!r}, which is not text; "
                    f"write a code in quotes, one of: {allowed}",
                    key="ingest.error_mapping_value", field=fld, value=shown_columns([value]), target=str(target),
                    allowed=allowed)
            target = target.strip()
            if target == "":
                continue
            if target not in codes and not (fld == "category" and target in new_categories):
                new = fld == "category" and re.fullmatch(r"\d{2}(?:\.\d{2}){0,2}", target)
                raise MappingError(
                    f"[values.{fld}] maps {shown_columns([value])!r} to {target!r}, which is not a {fld} code"
                    + ("; a new category needs its labels: write { code = \"98.01.01\", zh = \"涂鸦\", en = \"Graffiti\" }"
                       if new else "")
                    + f"; allowed: {allowed}; fix the value in the mapping file (or leave it \"\" to keep it unmapped)",
                    key="ingest.error_mapping_new_category" if new else "ingest.error_mapping_value", field=fld,
                    value=shown_columns([value]), target=target, allowed=allowed)
            mapped[str(value).strip()] = target
        if mapped:
            out[fld] = mapped
    if new_categories:
        out[NEW_CATEGORIES] = new_categories
    return out


NEW_CATEGORIES = "new_categories"
"""Key of ``check_values``' result holding the city's new categories: ``{code: {"zh", "en"}}``."""


def _new_category(code: str, target: dict, value, allowed: str) -> None:
    """Check a new category of a value map: a free code and a zh label."""
    from minqing.model import CATEGORY_CODE

    problem = None
    if not CATEGORY_CODE.fullmatch(code):
        problem, key = "its code must look like 98.01.01", "ingest.error_new_category_code"
    elif not str(target.get("zh", "")).strip():
        problem, key = "a new category needs a zh label (and an en label)", "ingest.error_new_category_label"
    if problem:
        raise MappingError(f"[values.category] {shown_columns([value])!r}: {problem}", key=key, field="category",
                           value=shown_columns([value]), target=code)


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
    options = dict(user.get("options", {}))
    if "blank_tokens" in options:
        blank_set(options["blank_tokens"])
    return _infer(columns, dict(user.get("columns", {})), options, check_values(user.get("values", {})))


def _infer(columns, user_cols, options, values=None) -> ColumnMapping:
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
    if "received_at" not in fields and "received_date" in fields:  # only the day: it is the received time
        fields["received_at"] = fields.pop("received_date")
    unknown = tuple(c for c in columns if c not in used and not c.startswith("quarantine_"))
    return ColumnMapping(fields=fields, unknown=unknown, options=options, values=values or {})
