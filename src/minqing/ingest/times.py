"""Reading times as exports write them.

ISO 8601 (with or without an offset), Excel serial dates, ``2025/4/3 14:05``,
``2025年4月3日 14时05分``, ``20250403``, and dates without times. Naive times
are local in the configured time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pandas as pd

from minqing.model import TIMEZONE

EARLIEST = pd.Timestamp("2000-01-01")
_EXCEL_ORIGIN = pd.Timestamp("1899-12-30")
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H", "%Y-%m-%d", "%Y%m%d%H%M%S", "%Y%m%d")
_CN = str.maketrans({"年": "-", "月": "-", "日": " ", "时": ":", "分": ":", "秒": " ", "/": "-", ".": "-", "T": " "})
_BLANKS = ("", "-", "—", "/", "nan", "NaN", "NaT", "null", "NULL", "None")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


@dataclass(frozen=True)
class ParsedTimes:
    """Times read from one column.

    Attributes
    ----------
    values : Series
        tz-aware timestamps in the time zone; NaT where blank or unreadable.
    blank, bad, too_early, future : ndarray of bool
        Which rows were blank, unreadable, before 2000 or in the future.
    """

    values: pd.Series
    blank: np.ndarray
    bad: np.ndarray
    too_early: np.ndarray
    future: np.ndarray


def parse_times(values, tz: str = TIMEZONE, now=None) -> ParsedTimes:
    """Parse a column of times in any of the supported forms.

    Parameters
    ----------
    values : Series
        Strings, numbers (Excel serial days) or datetimes.
    tz : str
        Time zone of naive times (default Asia/Shanghai).
    now : Timestamp, optional
        The present, for the future check (default: now).
    """
    s = pd.Series(values)
    if not isinstance(tz, str) or not tz:
        raise ValueError(f"tz must be an IANA time zone name such as 'Asia/Shanghai', got {tz!r}")
    return _parse(s, tz, pd.Timestamp.now(tz=tz) if now is None else pd.Timestamp(now))


def _parse(s: pd.Series, tz: str, now: pd.Timestamp) -> ParsedTimes:
    n = len(s)
    utc = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")  # filled positionally, UTC
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        utc[:] = _to_utc(s, tz)
        blank = s.isna().to_numpy()
    else:
        obj = s.astype(object)
        if pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
            stripped = pa.array(s.str.strip().array)
            in_blanks = pc.fill_null(pc.is_in(stripped, value_set=pa.array(list(_BLANKS))), True)
            blank = s.isna().to_numpy(dtype=bool) | np.asarray(in_blanks, dtype=bool)
            is_dt = np.zeros(n, dtype=bool)
        else:
            blank = obj.map(_is_blank).to_numpy(dtype=bool)
            # datetime objects (from XLSX readers) first, then numbers, then strings.
            is_dt = obj.map(lambda v: isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "year")).to_numpy(dtype=bool)
        todo = ~blank
        is_dt = is_dt & todo
        if is_dt.any():
            utc[is_dt] = _to_utc(pd.to_datetime(obj[is_dt], errors="coerce"), tz)
        todo &= ~is_dt
        text = pd.Series(obj[todo].astype(str).to_numpy(), dtype="str").str.strip()
        pos = np.flatnonzero(todo)
        # Only number-like text can be an Excel serial (to_numeric on dates is slow).
        num = pd.Series(np.nan, index=text.index)
        numeric = text.str.fullmatch(r"\d+(?:\.\d*)?").to_numpy(dtype=bool)
        if numeric.any():
            num[numeric] = pd.to_numeric(text[numeric], errors="coerce")
        serial = (num.notna() & (num > 1) & (num < 200_000) & ~text.str.fullmatch(r"\d{8}")).to_numpy(dtype=bool)
        if serial.any():
            secs = (num[serial].astype("float64").to_numpy() * 86400).round()
            local = _EXCEL_ORIGIN + pd.to_timedelta(secs, unit="s")
            utc[pos[serial]] = _to_utc(pd.Series(local), tz)
        rest = ~serial
        if rest.any():
            utc[pos[rest]] = _parse_strings(text[rest].reset_index(drop=True), tz)
    bad = np.isnat(utc) & ~blank
    values = pd.Series(pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(tz), index=s.index)
    earliest = _to_utc(pd.Series([EARLIEST]), tz)[0]
    too_early = ~np.isnat(utc) & (utc < earliest)
    future = ~np.isnat(utc) & (utc > np.datetime64((now + pd.Timedelta(days=1)).tz_convert("UTC").tz_localize(None).to_datetime64()))
    return ParsedTimes(values=values, blank=blank, bad=bad, too_early=too_early, future=future)


def _to_utc(dt: pd.Series, tz: str) -> np.ndarray:
    """Return UTC datetime64[ns] of naive-local or aware times."""
    dt = pd.to_datetime(pd.Series(dt).reset_index(drop=True), errors="coerce")
    if dt.dt.tz is None:
        dt = dt.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return dt.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def _is_blank(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    if v is pd.NaT or (not isinstance(v, str) and pd.isna(v) is True):
        return True
    return isinstance(v, str) and v.strip() in _BLANKS


def _parse_strings(text: pd.Series, tz: str) -> np.ndarray:
    out = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    tail = text.str.slice(16)
    has_offset = (text.str.endswith("Z") | tail.str.contains("+", regex=False) | tail.str.contains("-", regex=False)).to_numpy(dtype=bool)
    if has_offset.any():
        dt = pd.to_datetime(text[has_offset], format="ISO8601", errors="coerce", utc=True)
        out[has_offset] = dt.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    plain = ~has_offset
    if plain.any():
        sub = text[plain]
        dt = pd.to_datetime(sub, format="ISO8601", errors="coerce")
        left = dt.isna()
        if left.any():
            norm = sub[left].str.translate(_CN).str.replace(r"\s+", " ", regex=True).str.strip(" :-")
            for fmt in _FORMATS:
                if not left.any():
                    break
                cand = pd.to_datetime(norm[left[left].index], format=fmt, errors="coerce")
                dt[cand.index] = dt[cand.index].where(dt[cand.index].notna(), cand)
                left = dt.isna()
        out[plain] = _to_utc(dt, tz)
    return out
