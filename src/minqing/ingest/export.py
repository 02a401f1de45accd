"""Export linked tickets for other tools (CSV, XLSX, GeoJSON) and quarantined rows for correction."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from minqing.geo.h3cells import cells_to_str
from minqing.ingest.errors import IngestError
from minqing.store.base import Store, TicketFilter

EXPORT_FORMATS = ("csv", "xlsx", "geojson")
EXPORT_COLUMNS = (
    "source_id", "received_at", "channel", "kind", "category", "text", "address", "lon", "lat",
    "location_source", "district_code", "subdistrict_code", "community_code", "grid_code", "hex_id",
    "place_ids", "handling_unit", "dispatched_at", "closed_at", "followed_up_at", "status", "resolved",
    "satisfaction",
)


def tickets_for_export(store: Store, unit: str | None = None, start=None, end=None) -> pd.DataFrame:
    """Return tickets with their links as export columns (``hex_id`` is the H3 cell as a hex string).

    Parameters
    ----------
    store : Store
    unit : str, optional
        A unit code of any level; only its tickets.
    start, end : date-like, optional
        Received-time range, start inclusive, end exclusive.
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
    df["hex_id"] = cells_to_str(df["h3_cell"].fillna(-1).astype("int64").to_numpy())
    links = store.read_ticket_places()
    joined = links.groupby("source_id")["place_id"].agg(lambda s: "|".join(sorted(s)))
    df["place_ids"] = df["source_id"].map(joined)
    return df[list(EXPORT_COLUMNS)]


def write_export(df: pd.DataFrame, path: Path | str, fmt: str | None = None) -> Path:
    """Write an export frame as CSV (UTF-8 with BOM, opens in Excel), XLSX or GeoJSON points."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in EXPORT_FORMATS:
        raise IngestError(f"export format {fmt!r} is not supported; allowed: {', '.join(EXPORT_FORMATS)}",
                          key="ingest.error_export_format", format=fmt, allowed=", ".join(EXPORT_FORMATS))
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%S%z").astype(object)
    if fmt == "csv":
        out.to_csv(path, index=False, encoding="utf-8-sig")
    elif fmt == "xlsx":
        out.to_excel(path, index=False, engine="openpyxl")
    else:
        gdf = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs=4326)
        gdf.to_file(path, driver="GeoJSON")
    return path


def quarantine_frame(store: Store, import_id: str | None = None, include_resolved: bool = False,
                     masked: bool = True) -> pd.DataFrame:
    """Return quarantined rows as their original columns plus reason columns, ready to correct and re-import.

    Parameters
    ----------
    masked : bool
        Mask callers' names and phone numbers (the columns the importer maps to
        ``caller_name`` / ``caller_phone``, and phone or ID numbers inside any text),
        as for anyone not handling the orders. Only the people handling them get
        ``masked=False``.
    """
    q = store.read_quarantine(import_id, include_resolved)
    if q.empty:
        return pd.DataFrame(columns=["quarantine_reason", "quarantine_detail", "quarantine_file", "quarantine_row"])
    orig = pd.DataFrame([json.loads(o) for o in q["original"]])
    if masked:
        orig = _mask_originals(orig)
    meta = pd.DataFrame({"quarantine_reason": q["reason"], "quarantine_detail": q["detail"],
                         "quarantine_file": q["file_name"], "quarantine_row": q["row_number"]})
    return pd.concat([orig, meta], axis=1)


def _mask_originals(orig: pd.DataFrame) -> pd.DataFrame:
    from minqing.ingest.mapping import infer_mapping
    from minqing.privacy import mask_name, mask_phone, mask_series

    fields = infer_mapping(list(orig.columns)).fields
    out = orig.copy()
    names = out[fields["caller_name"]] if "caller_name" in fields else None
    for col in out.columns:
        values = out[col].astype("object")
        if col == fields.get("caller_name"):
            out[col] = values.map(mask_name)
        elif col == fields.get("caller_phone"):
            out[col] = values.map(mask_phone)
        else:
            out[col] = mask_series(values.where(values.isna(), values.astype(str)), names)
    return out