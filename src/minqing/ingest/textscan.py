"""Compiled scans (numba) of a column of Arrow strings, read from its UTF-8 bytes: no Python string per cell.

Each scan reads only one strict, common form of a value and says which cells it read;
everything else is left to the general (pandas) reading, so a cell read here gets exactly
what the general reading would give it:

- :func:`usual_times`: ``YYYY-MM-DD HH:MM:SS`` (how most exports write every time);
- :func:`plain_decimals`: a whole column of unsigned decimals such as ``121.5616665``
  (coordinates), or nothing.

Compiled code is cached on disk (``cache=True``, see :mod:`minqing.kernels`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from numba import njit

MAX_DIGITS = 15
"""Digits of a plain decimal: below 2**53, so the number and its power of ten are exact doubles."""
_POW10 = np.array([10.0**k for k in range(MAX_DIGITS + 1)])  # exact: every 10**k up to 10**22 is a double
_NAT = np.iinfo(np.int64).min


def arrow_strings(values) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """The (bytes, offsets) of each chunk of the Arrow strings behind ``values``; None when there are none.

    Parameters
    ----------
    values : Series or pyarrow Array / ChunkedArray
        A column with no missing value (else None); offsets come back as int64, one more than the cells.
    """
    arr = getattr(values.array, "_pa_array", None) if isinstance(values, pd.Series) else values
    if isinstance(arr, pa.Array):
        arr = pa.chunked_array([arr], type=arr.type)
    if not isinstance(arr, pa.ChunkedArray) or arr.null_count:
        return None
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    out = []
    for chunk in arr.chunks:
        n = len(chunk)
        _, offsets, data = chunk.buffers()
        if not n:
            continue
        off = np.frombuffer(offsets, dtype=width)[chunk.offset : chunk.offset + n + 1].astype(np.int64)
        out.append((np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8), off))
    return out


def usual_times(values) -> np.ndarray:
    """Naive ``datetime64[s]`` of the cells written exactly ``YYYY-MM-DD HH:MM:SS``; NaT for every other cell.

    A cell is read only when it is a valid time of the years 1900-2199 in exactly that form, in
    ASCII digits (pandas' ISO 8601 reading gives it the same); anything else (another form, an
    impossible day such as 29 February 2023, 24:00, a leap second) is NaT, left to the caller.

    Parameters
    ----------
    values : Series of str or pyarrow string Array
    """
    n = len(values)
    out = np.full(n, _NAT, dtype=np.int64)
    chunks = arrow_strings(values) if n else None
    if chunks is None:
        return out.view("datetime64[s]")
    start = 0
    for data, off in chunks:
        _usual_times(data, off, out[start : start + len(off) - 1])
        start += len(off) - 1
    return out.view("datetime64[s]")


def plain_decimals(values) -> np.ndarray | None:
    """The float64 of a column whose every cell is blank or a plain decimal; None when some cell is not.

    A plain decimal is ASCII digits with at most one ``.`` between digits, :data:`MAX_DIGITS`
    digits at most and no sign (``121.5616665``, ``31``); it is read as pandas' ``to_numeric``
    reads it (the digits as an integer divided by a power of ten, both exact: one rounding).
    A blank cell is NaN. Every cell must qualify, because ``to_numeric`` decides the type of a
    column from all its values.

    Parameters
    ----------
    values : Series of str or pyarrow string Array
    """
    chunks = arrow_strings(values)
    if chunks is None:
        return None
    out = np.empty(len(values), dtype=np.float64)
    start = 0
    for data, off in chunks:
        if not _plain_decimals(data, off, _POW10, out[start : start + len(off) - 1]):
            return None
        start += len(off) - 1
    return out


@njit(cache=True)
def _two(data, p):
    a = np.int64(data[p]) - 48
    b = np.int64(data[p + 1]) - 48
    if a < 0 or a > 9 or b < 0 or b > 9:
        return -1
    return a * 10 + b


@njit(cache=True)
def _usual_times(data, offsets, out):
    """Seconds since 1970 of each cell in the usual form (see :func:`usual_times`); cells not read keep ``out``."""
    for i in range(len(out)):
        p = offsets[i]
        if offsets[i + 1] - p != 19:
            continue
        if data[p + 4] != 45 or data[p + 7] != 45 or data[p + 10] != 32 or data[p + 13] != 58 or data[p + 16] != 58:
            continue  # - - space : :
        hi, lo = _two(data, p), _two(data, p + 2)
        month, day = _two(data, p + 5), _two(data, p + 8)
        hour, minute, second = _two(data, p + 11), _two(data, p + 14), _two(data, p + 17)
        if hi < 0 or lo < 0 or month < 1 or month > 12 or day < 1 or hour < 0 or hour > 23:
            continue
        if minute < 0 or minute > 59 or second < 0 or second > 59:
            continue
        year = hi * 100 + lo
        if year < 1900 or year > 2199:
            continue
        leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
        if month == 2:
            last = 29 if leap else 28
        elif month == 4 or month == 6 or month == 9 or month == 11:
            last = 30
        else:
            last = 31
        if day > last:
            continue
        # days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil; years > 0 here)
        y = year - 1 if month <= 2 else year
        era = y // 400
        yoe = y - era * 400
        doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
        doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
        days = era * 146097 + doe - 719468
        out[i] = days * 86400 + hour * 3600 + minute * 60 + second


@njit(cache=True)
def _plain_decimals(data, offsets, pow10, out):
    """Fill ``out`` with the plain decimals (see :func:`plain_decimals`); False at the first cell that is not one."""
    for i in range(len(out)):
        p, end = offsets[i], offsets[i + 1]
        if p == end:
            out[i] = np.nan
            continue
        number = np.int64(0)
        digits = 0
        decimals = -1  # -1: no point yet
        while p < end:
            c = np.int64(data[p])
            if 48 <= c <= 57:
                number = number * 10 + (c - 48)
                digits += 1
                if decimals >= 0:
                    decimals += 1
            elif c == 46 and decimals < 0 and digits > 0:
                decimals = 0
            else:
                return False
            p += 1
        if digits > len(pow10) - 1 or decimals == 0:  # too many digits, or a point with none after it
            return False
        out[i] = np.float64(number) / pow10[max(decimals, 0)]
    return True


def warm_up() -> None:
    """Compile (or load from the cache) the kernels on a tiny input."""
    usual_times(pa.array(["2024-01-05 14:00:00", "x"]))
    plain_decimals(pa.array(["121.5", ""]))
