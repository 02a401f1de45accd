"""Conversions between DataFrames and the rows every store writes.

Shared by all store implementations so they agree on types: times are UTC
epoch seconds on disk and tz-aware timestamps in the city's time zone in memory;
geometries are WKB on disk and shapely objects in EPSG:4326 in memory; missing
integer ids are SQL NULL on disk and ``<NA>`` of a nullable ``Int64`` column in
memory (the conventions of :mod:`minqing.store.contract`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minqing.model import TICKET_COLUMNS, TICKET_TIME_COLUMNS, TIMEZONE

NULLABLE_INT_COLUMNS = ("grid_uid", "h3_cell")
"""Ticket columns of integers that may be missing (64-bit H3 cells: never through float)."""
_TICKET_TEXT = frozenset(TICKET_COLUMNS) - set(TICKET_TIME_COLUMNS) - set(NULLABLE_INT_COLUMNS) - {"lon", "lat"}
NULL_INT = -1
"""What :func:`ticket_select` reads a missing nullable integer as, on its way to ``<NA>`` (no id is negative)."""


def times_to_epoch(values: pd.Series, tz: str = TIMEZONE) -> list:
    """Return epoch seconds (int or None) for a Series of tz-aware times or naive local times in ``tz``."""
    s = pd.to_datetime(values)
    if s.dt.tz is None:
        s = s.dt.tz_localize(tz)
    secs = (s.dt.tz_convert("UTC") - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(seconds=1)
    arr = secs.to_numpy(dtype="float64", na_value=np.nan)
    mask = np.isnan(arr)
    if not mask.any():
        return arr.astype("int64").tolist()
    out = np.where(mask, 0, arr).astype("int64").astype(object)
    out[mask] = None
    return out.tolist()


def epoch_of(value, tz: str = TIMEZONE) -> int | None:
    """Return the epoch seconds of one time: an int, a timestamp or text (naive times are local in ``tz``).

    Numbers are taken as epoch seconds already; None (or NaN, NaT) stays None.
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return int(value)
    ts = pd.Timestamp(value)  # the rule of times_to_epoch, on one value (a Series of one costs a millisecond)
    if ts.tzinfo is None:
        ts = ts.tz_localize(tz)
    return int((ts.tz_convert("UTC") - _EPOCH) // pd.Timedelta(seconds=1))


_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


QUARANTINE_COLUMNS = ("import_id", "file_name", "row_number", "source_id", "reason", "detail", "original",
                      "row_hash", "quarantined_at")
"""The columns of a store's ``quarantine`` table that an import writes."""
CHANGE_COLUMNS = ("source_id", "import_id", "changed_at", "field", "old_value", "new_value")
"""The columns of a store's ``ticket_changes`` table."""
USER_COLUMNS = ("name", "role", "grid_codes", "community_codes", "password_hash", "disabled", "failed_count",
                "locked_until", "password_changed_at", "created_at", "last_sign_in_at")
"""The columns of a store's ``users`` table (accounts), in order."""
USER_TIME_COLUMNS = ("locked_until", "password_changed_at", "created_at", "last_sign_in_at")
AUDIT_COLUMNS = ("id", "at", "actor", "action", "target", "rows", "masked", "detail")
"""The columns of a store's ``audit_log`` table, in order."""


def user_value(column: str, value):
    """One value of a ``users`` row as the stores write it: times as epoch seconds, scope lists as JSON, flags 0/1."""
    if column in USER_TIME_COLUMNS:
        return epoch_of(value)
    if column == "disabled":
        return int(bool(value))
    if column in ("grid_codes", "community_codes") and not isinstance(value, str):
        import json

        return json.dumps(sorted(str(v) for v in (value or ())), ensure_ascii=False)
    return value


def epoch_to_times(values, index=None, tz: str = TIMEZONE) -> pd.Series:
    """Return timestamps in ``tz`` for epoch seconds (None -> NaT)."""
    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    mask = np.isnan(arr)
    secs = np.where(mask, 0, arr).astype("int64")
    dt = secs.astype("datetime64[s]").astype("datetime64[ns]")
    dt[mask] = np.datetime64("NaT")
    local = pd.DatetimeIndex(dt).tz_localize("UTC").tz_convert(tz)
    return pd.Series(local, index=index)


def column_values(df: pd.DataFrame, column: str, tz: str = TIMEZONE) -> list:
    """Return a column as a Python list with NaN/NA/NaT turned into None."""
    if column not in df.columns:
        return [None] * len(df)
    s = df[column]
    if column in TICKET_TIME_COLUMNS:
        return times_to_epoch(s, tz)
    if pd.api.types.is_float_dtype(s.dtype):
        arr = s.to_numpy(dtype="float64", na_value=np.nan)
        return [None if v != v else v for v in arr.tolist()]
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        missing = s.isna().to_numpy()
        values = s.to_numpy(dtype="int64", na_value=0).tolist()  # exact for 64-bit H3 cells (no float on the way)
        if missing.any():
            out = np.array(values, dtype=object)
            out[missing] = None
            return out.tolist()
        return values
    if pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
        return s.to_numpy(dtype=object, na_value=None).tolist()  # Arrow strings: no object Series on the way
    missing = s.isna().to_numpy()
    if not missing.any():
        return s.tolist()
    obj = s.astype(object)
    return obj.where(~missing, None).tolist()


def rows(df: pd.DataFrame, columns: tuple[str, ...] | list[str], tz: str = TIMEZONE) -> list[tuple]:
    """Return the rows of ``df`` as tuples in ``columns`` order, ready for executemany (naive times local in ``tz``)."""
    return list(zip(*(column_values(df, c, tz) for c in columns), strict=True)) if len(df) else []


def _epoch_array(values: pd.Series, tz: str):
    """Epoch seconds (int64, null when missing) of tz-aware or naive local times, as :func:`times_to_epoch`."""
    import pyarrow as pa

    s = pd.to_datetime(values)
    if s.dt.tz is None:
        s = s.dt.tz_localize(tz)
    secs = (s.dt.tz_convert("UTC") - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(seconds=1)
    mask = secs.isna().to_numpy()
    return pa.array(secs.to_numpy(dtype="int64", na_value=0), mask=mask if mask.any() else None)


def _text_array(s: pd.Series):
    """Text (null when missing) of a column: Arrow strings as they are, other values as ``str``."""
    import pyarrow as pa

    try:
        arr = pa.array(s, from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # mixed Python values: as text, as SQLite's TEXT affinity would
        arr = None
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_null(arr.type)):
        missing = s.isna().to_numpy()
        arr = pa.array([None if m else str(v) for v, m in zip(s.tolist(), missing)], type=pa.string())
    return arr.cast(pa.string())


def column_array(df: pd.DataFrame, column: str, tz: str = TIMEZONE):
    """Return a column as an Arrow array holding what :func:`column_values` returns (None as null).

    Times become int64 epoch seconds, floats float64 with NaN as null, integers and flags
    int64 (64-bit H3 cells exactly), anything else text.
    """
    import pyarrow as pa

    if column not in df.columns:
        return pa.nulls(len(df))
    s = df[column]
    if column in TICKET_TIME_COLUMNS:
        return _epoch_array(s, tz)
    if pd.api.types.is_float_dtype(s.dtype):
        return pa.array(s.to_numpy(dtype="float64", na_value=np.nan), from_pandas=True)
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        mask = s.isna().to_numpy()
        return pa.array(s.to_numpy(dtype="int64", na_value=0), mask=mask if mask.any() else None)
    return _text_array(s)


def arrow_rows(df: pd.DataFrame, columns: tuple[str, ...] | list[str], tz: str = TIMEZONE):
    """Return ``df``'s ``columns`` as an Arrow table with the values of :func:`rows` (for bulk ingestion)."""
    import pyarrow as pa

    return pa.table({c: column_array(df, c, tz) for c in columns})


def ticket_select(columns, prefix: str = "") -> list[str]:
    """Return the SQL select expressions of ticket ``columns`` that :func:`ticket_frame` expects.

    Integers with NULLs would come back as float64 and lose H3 bits: they are read as
    :data:`NULL_INT` instead. ``prefix`` qualifies the columns (e.g. ``"t."``).
    """
    return [f"COALESCE({prefix}{c}, {NULL_INT}) AS {c}" if c in NULLABLE_INT_COLUMNS else f"{prefix}{c}"
            for c in columns]


def ticket_frame(df: pd.DataFrame, tz: str = TIMEZONE) -> pd.DataFrame:
    """Give ticket columns read with :func:`ticket_select` the contract's types, in place; return ``df``.

    Times become timestamps in ``tz`` (NaT when missing), ``grid_uid`` and ``h3_cell``
    nullable ``Int64`` (``<NA>`` when missing), ``lon`` and ``lat`` float64 (NaN), and
    text the ``str`` dtype even where a column holds no value (NaN).
    """
    for c in df.columns:
        if c in TICKET_TIME_COLUMNS:
            df[c] = epoch_to_times(df[c], index=df.index, tz=tz)
        elif c in _TICKET_TEXT and pd.api.types.is_object_dtype(df[c].dtype):  # no value to infer str from
            df[c] = df[c].astype("str")
    for c in NULLABLE_INT_COLUMNS:
        if c in df.columns:
            df[c] = df[c].astype("int64").astype("Int64")
            df.loc[df[c] == NULL_INT, c] = pd.NA
    for c in ("lon", "lat"):
        if c in df.columns:
            df[c] = df[c].astype("float64")
    return df
