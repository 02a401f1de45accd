"""Export linked tickets for other tools (CSV, XLSX, GeoJSON) and quarantined rows for correction."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd

from minqing.errors import IngestError
from minqing.export.writer import TABLE_FORMATS, write_table
from minqing.geo.h3cells import cells_to_str
from minqing.store.base import Store, TicketFilter

EXPORT_FORMATS = ("csv", "xlsx", "geojson")
EXPORT_COLUMNS = (
    "source_id", "received_at", "channel", "kind", "category", "text", "address", "lon", "lat",
    "location_source", "district_code", "subdistrict_code", "community_code", "grid_code", "hex_id",
    "place_ids", "handling_unit", "dispatched_at", "closed_at", "followed_up_at", "status", "resolved",
    "satisfaction",
)


def tickets_for_export(store: Store, unit: str | None = None, start=None, end=None,
                       masked: bool = True) -> pd.DataFrame:
    """Return tickets with their links as export columns (``hex_id`` is the H3 cell as a hex string).

    Parameters
    ----------
    store : Store
    unit : str, optional
        A unit code of any level; only its tickets.
    start, end : date-like, optional
        Received-time range, start inclusive, end exclusive.
    masked : bool, default True
        Mask phone numbers, ID numbers and the caller's name inside ``text`` and
        ``address`` (:func:`minqing.privacy.mask_tickets`). Only the people
        handling the orders get ``masked=False``. Caller name and phone are never
        export columns.
    """
    level = None
    if unit is not None:
        units = store.read_units()
        match = units.loc[units["code"] == str(unit), "level"]
        if match.empty:
            raise IngestError(f"unit code {unit!r} is not loaded; use a code listed by `minqing info` or the units layer",
                              key="ingest.error_unit", unit=str(unit))
        level = match.iloc[0]
    where = TicketFilter(start=start, end=end, unit_level=level, unit_codes=(str(unit),) if unit else None)
    df = store.read_tickets(where)
    if masked:
        from minqing.privacy import mask_tickets

        df = mask_tickets(df)
    df["hex_id"] = cells_to_str(df["h3_cell"].fillna(-1).astype("int64").to_numpy())
    links = store.read_ticket_places()
    joined = links.groupby("source_id")["place_id"].agg(lambda s: "|".join(sorted(s)))
    df["place_ids"] = df["source_id"].map(joined)
    return df[list(EXPORT_COLUMNS)]


def write_export(df: pd.DataFrame, path: Path | str, fmt: str | None = None) -> Path:
    """Write an export frame as CSV (UTF-8 with BOM, opens in Excel), XLSX or GeoJSON points.

    CSV and XLSX go through :func:`minqing.export.writer.write_table`, so no cell
    of them runs as a formula in Excel or WPS; GeoJSON keeps text as it is
    (it is not opened in a spreadsheet).
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in EXPORT_FORMATS:
        raise IngestError(f"export format {fmt!r} is not supported; allowed: {', '.join(EXPORT_FORMATS)}",
                          key="ingest.error_export_format", format=fmt, allowed=", ".join(EXPORT_FORMATS))
    if fmt in TABLE_FORMATS:
        return write_table(df, path, fmt)
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%S%z").astype(object)
    gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs=4326)
    gdf.to_file(path, driver="GeoJSON")
    return path


def quarantine_frame(store: Store, import_id: str | None = None, include_resolved: bool = False,
                     masked: bool = True) -> pd.DataFrame:
    """Return quarantined rows as their original columns plus reason columns, ready to correct and re-import.

    Parameters
    ----------
    masked : bool
        Mask callers' names and phone numbers, as for anyone not handling the
        orders: the columns the import mapped to ``caller_name`` /
        ``caller_phone`` (the mapping recorded with its report, so a
        ``--mapping`` file counts, else the built-in aliases), columns whose
        header names a person or a phone, columns whose values are all phone
        numbers, and phone or ID numbers and the caller's name inside every
        other column. Only the people handling them get ``masked=False``.
    """
    q = store.read_quarantine(import_id, include_resolved)
    if q.empty:
        return pd.DataFrame(columns=["quarantine_reason", "quarantine_detail", "quarantine_file", "quarantine_row"])
    orig = pd.DataFrame([json.loads(o) for o in q["original"]])
    detail = q["detail"]
    if masked:
        from minqing.privacy import mask_series

        orig = _mask_originals(orig, q["import_id"].reset_index(drop=True), _recorded_mappings(store))
        detail = mask_series(detail.astype("object"))
    meta = pd.DataFrame({"quarantine_reason": q["reason"], "quarantine_detail": detail,
                         "quarantine_file": q["file_name"], "quarantine_row": q["row_number"]})
    return pd.concat([orig, meta], axis=1)


# Headers that name a phone number or a person (checked in this order; mapped non-personal fields excepted).
_PHONE_HEADER = re.compile(r"电话|手机|联系方式|联系号码|来电号码|回访号码|"
                           r"phone|mobile|(^|[^a-z])tel([^a-z]|$)|telephone", re.IGNORECASE)
_NAME_HEADER = re.compile(r"姓名|名字|来电人|联系人|反映人|诉求人|投诉人|求助人|举报人|咨询人|申请人|当事人|来电者|"
                          r"caller|contact|complainant|requester|reporter|citizen|"
                          r"^((full|first|last|given|family|sur)[\s_]?)?name$", re.IGNORECASE)
_PHONE_VALUE = re.compile(r"^(?:\+|＋)?[\d\s\-()（）]+$")
_DATE_VALUE = re.compile(r"^(?:19|20)\d{2}[-/]?\d{1,2}[-/]?\d{1,2}$")
_PERSONAL_FIELDS = ("caller_name", "caller_phone")


def _recorded_mappings(store: Store) -> dict:
    """Import id -> the field -> column mapping its import used (from the stored import reports)."""
    try:
        reports = store.read_import_reports(limit=1_000_000)
    except (AttributeError, NotImplementedError):  # a store without reports: the built-in aliases only
        return {}
    return {r.get("import_id"): dict(r.get("mapping") or {}) for r in reports if r.get("import_id")}


def _mask_originals(orig: pd.DataFrame, import_ids: pd.Series | None = None,
                    recorded: dict | None = None) -> pd.DataFrame:
    """Mask the original rows, each import's rows with the mapping that import used."""
    orig = orig.astype(object)
    if import_ids is None or import_ids.nunique(dropna=False) <= 1:
        iid = None if import_ids is None or import_ids.empty else import_ids.iloc[0]
        return _mask_part(orig, (recorded or {}).get(iid))
    parts = [_mask_part(orig.loc[idx], (recorded or {}).get(iid))
             for iid, idx in orig.groupby(import_ids.to_numpy(), dropna=False, sort=False).groups.items()]
    return pd.concat(parts).reindex(orig.index)[list(orig.columns)]


def _mask_part(part: pd.DataFrame, mapping: dict | None) -> pd.DataFrame:
    from minqing.ingest.mapping import infer_mapping
    from minqing.privacy import mask_name, mask_series

    present = [c for c in part.columns if part[c].notna().any()]
    fields = dict(infer_mapping(present).fields)
    fields.update({f: c for f, c in (mapping or {}).items() if c in part.columns})
    other = {c for f, c in fields.items() if f not in _PERSONAL_FIELDS}
    phone_cols = {fields["caller_phone"]} if "caller_phone" in fields else set()
    name_cols = {fields["caller_name"]} if "caller_name" in fields else set()
    for col in part.columns:
        header = str(col)
        if col in other or col in phone_cols or col in name_cols:
            continue
        if _PHONE_HEADER.search(header):
            phone_cols.add(col)
        elif _NAME_HEADER.search(header):
            name_cols.add(col)
    names = None
    if name_cols:
        cols = [c for c in part.columns if c in name_cols]
        names = pd.Series([[str(v) for v in row if isinstance(v, str) and v.strip()]
                           for row in part[cols].itertuples(index=False, name=None)], index=part.index, dtype=object)
    out = part.copy()
    for col in part.columns:
        values = part[col]
        text = values.where(values.isna(), values.astype(str))
        if col in name_cols:
            out[col] = values.map(mask_name)
        elif col in phone_cols or (col not in other and _phone_like(text)):
            out[col] = _mask_phones(text, names)
        else:
            out[col] = mask_series(text, names)
    return out


def _phone_like(text: pd.Series) -> bool:
    """True when every value holding a digit is a phone number (7-15 digits, no dates) and there is one."""
    vals = [v.strip() for v in text.dropna() if any(ch.isdigit() for ch in v)]
    if not vals or all(_DATE_VALUE.match(v) for v in vals):
        return False
    return all(_PHONE_VALUE.match(v) and 7 <= sum(ch.isdigit() for ch in v) <= 15 for v in vals)


def _mask_phones(text: pd.Series, names) -> pd.Series:
    """A phone column: every value with a digit through ``mask_phone``, the rest as free text."""
    from minqing.privacy import mask_phone, mask_series

    masked = mask_series(text, names)
    digits = text.map(lambda v: isinstance(v, str) and any(ch.isdigit() for ch in v))
    return masked.where(~digits, text.map(mask_phone))
