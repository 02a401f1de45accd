"""Reading times as exports write them.

ISO 8601 (with or without an offset), Excel serial dates, ``2025/4/3 14:05``,
``2025年4月3日 14时05分``, ``20250403``, dates with the year last
(``12/31/2017 11:59:58 PM``, ``31.12.2017``, ``1/1/20 0:05``; the order of day
and month is given or inferred, see :func:`infer_date_order`), 12-hour clocks
(``AM/PM``, ``上午/下午``), two-digit years (00-69 -> 20xx, 70-99 -> 19xx) and
dates without times; compact digits and Unix epochs by their length, Java's ``Date.toString()``,
English month names, weekdays and zone names (:mod:`minqing.ingest.timeforms`). Naive times are
local in the configured time zone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pandas as pd

from minqing.ingest.textscan import usual_times
from minqing.ingest.timeforms import compact_digits, has_other_forms, rewrite_forms
from minqing.model import TIMEZONE

EARLIEST = None
"""No floor by default: ``ImportOptions.earliest`` sets one; times before :data:`OLD` only warn."""
OLD = pd.Timestamp("1990-01-01")
DATE_ORDERS = ("MDY", "DMY", "YMD")
BLANK_TOKENS = ("NA", "N/A", "NULL", "None", "-", "--", "无", "暂无", "空")
_EXCEL_ORIGIN = pd.Timestamp("1899-12-30")
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H", "%Y-%m-%d", "%Y%m%d%H%M%S", "%Y%m%d")
_CN = str.maketrans({"年": "-", "月": "-", "日": " ", "时": ":", "分": ":", "秒": " ", "/": "-", ".": "-", "T": " "})
_BLANKS = ("", "-", "—", "/", "nan", "NaN", "NaT", "null", "NULL", "None")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_CLOCK = (r"(?:[\sT]*(上午|下午|AM|PM)?\s*(\d{1,2})(?:\s*[:时点]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:[.,](\d+))?)?)?"
          r"\s*[时分秒]?\s*(上午|下午|AM|PM)?)?\s*$")
_YEAR_FIRST = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?" + _CLOCK, re.IGNORECASE)
_YEAR_LAST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})" + _CLOCK, re.IGNORECASE)
_YEAR_LAST_DATE = r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](?:\d{4}|\d{2})(?!\d)"


def blank_tokens() -> tuple[str, ...]:
    """Values read as blank in time fields (the mapping's configurable list when there is one)."""
    try:
        from minqing.ingest import mapping as _m

        extra = tuple(getattr(_m, "BLANK_TOKENS", ()) or ())
    except ImportError:  # pragma: no cover
        extra = ()
    return tuple(dict.fromkeys(_BLANKS + BLANK_TOKENS + extra))


def _blank_set() -> set[str]:
    return {b.strip().lower() for b in blank_tokens()}


def _blank_variants() -> list[str]:
    return sorted({v for b in blank_tokens() for v in (b, b.lower(), b.upper(), b.title())})


class DateOrderError(ValueError):
    """Both day-first and month-first readings fit every year-last date (``example`` is one of them)."""

    def __init__(self, example: str):
        super().__init__(example)
        self.example = example


_WIDE = r"[\x{FF01}-\x{FF5E}\x{3000}]|[^0-9\P{Nd}]"
"""A full-width form (１３／０４, the ideographic space) or a decimal digit other than 0-9 (Arrow's RE2 syntax)."""
_WIDE_TABLE = {**{cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}, 0x3000: 0x20}


def _arrow_text(s: pd.Series):
    """A column of text as an Arrow string array (``str`` columns without a copy), None if it holds other values."""
    try:
        return pa.array(s.array if isinstance(s.dtype, pd.StringDtype) else s.to_numpy(dtype=object), type=pa.string(),
                        from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _ascii_char(c: str) -> str:
    if c.isdecimal() and not c.isascii():
        return str(unicodedata.decimal(c))
    return c


def ascii_forms(text: pd.Series) -> pd.Series:
    """Time text with full-width forms and other decimal digits written in ASCII (``１３／04`` → ``13/04``).

    Hand-typed Chinese exports mix them in; every reading of a time (and of the date order) sees the ASCII
    form. Only the values that hold one are rewritten (found in Arrow), the others stay as they are.
    """
    arr = _arrow_text(text) if len(text) else None
    if arr is None:
        return text
    wide = np.asarray(pc.fill_null(pc.match_substring_regex(arr, _WIDE), False), dtype=bool)
    if not wide.any():
        return text
    out = text.copy()
    out[wide] = [None if v is None else "".join(_ascii_char(c) for c in str(v).translate(_WIDE_TABLE))
                 for v in text.to_numpy(dtype=object)[wide]]
    return out


def _ascii_year_first(s: pd.Series) -> np.ndarray:
    """True where a value starts with four ASCII digits (it then matches ``^\\s*\\d{4}``), computed in Arrow."""
    arr = _arrow_text(s)
    if arr is None:  # values that are not all text: the regex decides each
        return np.zeros(len(s), dtype=bool)
    hit = pc.match_substring_regex(pc.utf8_slice_codeunits(arr, 0, 4), "^[0-9]{4}$")
    return hit.to_numpy(zero_copy_only=False).astype(bool, copy=False) if len(arr) else np.zeros(0, dtype=bool)


def date_order_evidence(values) -> tuple[int, int, int, str | None, str | None, str | None]:
    """Count year-last dates that prove DMY, prove MDY, or fit both.

    Returns
    -------
    (dmy, mdy, year_last, example_dmy, example_mdy, example_any)
    """
    s = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        return 0, 0, 0, None, None, None
    s = s.dropna()
    s = ascii_forms(s[~_ascii_year_first(s)].astype(str))  # most values of most files: settled without a regex per value
    s = s[~s.str.match(r"^\s*\d{4}")]  # ISO and other year-first values cannot be year-last
    if not len(s):
        return 0, 0, 0, None, None, None
    parts = s.str.extract(_YEAR_LAST_DATE)
    ok = parts[0].notna()
    if not ok.any():
        return 0, 0, 0, None, None, None
    # int(), not to_numeric: \d also matches full-width and other Unicode digits ("１３"), which int() reads
    a = np.array([int(x) for x in parts.loc[ok, 0]], dtype="int64")
    b = np.array([int(x) for x in parts.loc[ok, 1]], dtype="int64")
    text = s[ok].to_numpy(dtype=object)
    dmy = (a > 12) & (b <= 12) & (a <= 31)
    mdy = (b > 12) & (a <= 12) & (b <= 31)
    def first(m):
        return str(text[np.flatnonzero(m)[0]]).strip() if m.any() else None

    return int(dmy.sum()), int(mdy.sum()), int(ok.sum()), first(dmy), first(mdy), first(np.ones(len(text), bool))


def infer_date_order(columns) -> str | None:
    """Infer the order of day, month and year from all the time columns of a file together.

    Parameters
    ----------
    columns : iterable of Series
        The time columns (raw values).

    Returns
    -------
    str or None
        "DMY" or "MDY" when a year-last date settles it (the majority when both
        occur: the others are then unreadable), "YMD" when no date has the year
        last, None when there are no dates at all.

    Raises
    ------
    DateOrderError
        If there are year-last dates and every one fits both orders.
    """
    dmy = mdy = year_last = 0
    example = None
    any_dates = False
    for col in columns:
        if col is None:
            continue
        d, m, n, _, _, ex = date_order_evidence(col)
        dmy, mdy, year_last = dmy + d, mdy + m, year_last + n
        example = example or ex
        any_dates = any_dates or bool(len(col))
    if dmy or mdy:
        return "DMY" if dmy >= mdy else "MDY"
    if year_last:
        raise DateOrderError(example)
    return "YMD" if any_dates else None


def check_date_order(order) -> str | None:
    """Return ``order`` upper-cased, or raise ValueError naming the allowed values."""
    if order is None or order == "":
        return None
    o = str(order).strip().upper()
    if o not in DATE_ORDERS:
        raise ValueError(f"date order must be one of {', '.join(DATE_ORDERS)}, got {order!r}")
    return o


@dataclass(frozen=True)
class ParsedTimes:
    """Times read from one column.

    Attributes
    ----------
    values : Series
        tz-aware timestamps in the time zone; NaT where blank or unreadable.
    blank, bad, too_early, future : ndarray of bool
        Which rows were blank, unreadable, before ``earliest`` (never when no
        floor is set) or in the future.
    old : ndarray of bool
        Which rows are before 1990 (stored with a warning).
    date_order : str or None
        The order used for year-last dates.
    """

    values: pd.Series
    blank: np.ndarray
    bad: np.ndarray
    too_early: np.ndarray
    future: np.ndarray
    old: np.ndarray = None
    date_order: str | None = None


def parse_times(values, tz: str = TIMEZONE, now=None, *, date_order: str | None = None, earliest=None) -> ParsedTimes:
    """Parse a column of times in any of the supported forms.

    Parameters
    ----------
    values : Series
        Strings, numbers (Excel serial days) or datetimes.
    tz : str
        Time zone of naive times (default Asia/Shanghai).
    now : Timestamp, optional
        The present, for the future check (default: now).
    date_order : {"MDY", "DMY", "YMD"}, optional
        How to read dates with the year last; inferred from the column when None
        (when it cannot be settled, such dates are unreadable).
    earliest : str or Timestamp, optional
        Times before it are flagged ``too_early`` (naive: local time). No floor when None.
    """
    s = pd.Series(values)
    if not isinstance(tz, str) or not tz:
        raise ValueError(f"tz must be an IANA time zone name such as 'Asia/Shanghai', got {tz!r}")
    order = check_date_order(date_order)
    now = pd.Timestamp.now(tz=tz) if now is None else pd.Timestamp(now)
    if now.tzinfo is None:
        now = now.tz_localize(tz)
    return _parse(s, tz, now, order, earliest)


def _parse(s: pd.Series, tz: str, now: pd.Timestamp, order=None, earliest=None) -> ParsedTimes:
    n = len(s)
    utc = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")  # filled positionally, UTC
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        utc[:] = _to_utc(s, tz)
        blank = s.isna().to_numpy()
    else:
        strings = pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype)
        obj = None if strings else s.astype(object)  # a string column is never turned into Python objects
        if strings:
            stripped = pa.array(s.str.strip().array)
            in_blanks = pc.fill_null(pc.is_in(stripped, value_set=pa.array(_blank_variants())), True)
            short = np.asarray(pc.fill_null(pc.less_equal(pc.utf8_length(stripped), 4), False), dtype=bool) & \
                ~np.asarray(in_blanks, dtype=bool)
            if short.any():  # other spellings (nA, NuLL): case-insensitive on the few short values
                low = pd.Series(s.to_numpy(dtype=object)[short]).str.strip().str.lower().isin(_blank_set()).to_numpy()
                in_blanks = np.asarray(in_blanks, dtype=bool).copy()
                in_blanks[np.flatnonzero(short)[low]] = True
            blank = s.isna().to_numpy(dtype=bool) | np.asarray(in_blanks, dtype=bool)
            is_dt = np.zeros(n, dtype=bool)
        else:
            blanks = _blank_set()
            blank = obj.map(lambda v: _is_blank(v, blanks)).to_numpy(dtype=bool)
            # datetime objects (from XLSX readers) first, then numbers, then strings.
            is_dt = obj.map(lambda v: isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "year")).to_numpy(dtype=bool)
        todo = ~blank
        is_dt = is_dt & todo
        if is_dt.any():
            utc[is_dt] = _to_utc(pd.to_datetime(obj[is_dt], errors="coerce"), tz)
        todo &= ~is_dt
        if strings:
            text = pd.Series(s.array[todo], dtype="str").str.strip()
        else:
            text = pd.Series(obj[todo].astype(str).to_numpy(), dtype="str").str.strip()
        text, pos = _usual_first(text, np.flatnonzero(todo), utc, tz)  # most exports write every time alike
        # Only number-like text can be an Excel serial (to_numeric on dates is slow).
        num = pd.Series(np.nan, index=text.index)
        numeric = text.str.fullmatch(r"\d+(?:\.\d*)?").to_numpy(dtype=bool)
        if numeric.any():
            num[numeric] = pd.to_numeric(text[numeric], errors="coerce")
        serial = (num.notna() & (num > 1) & (num < 200_000)).to_numpy(dtype=bool).copy()
        if serial.any():  # but not 20250403 (a date without separators; only number-like rows can be one)
            serial[serial] = ~text[serial].str.fullmatch(r"\d{8}").to_numpy(dtype=bool)
        if serial.any():
            secs = (num[serial].astype("float64").to_numpy() * 86400).round()
            local = _EXCEL_ORIGIN + pd.to_timedelta(secs, unit="s")
            utc[pos[serial]] = _to_utc(pd.Series(local), tz)
        rest = ~serial
        if rest.any():
            utc[pos[rest]] = _parse_strings(text[rest].reset_index(drop=True), tz, order)
    bad = np.isnat(utc) & ~blank
    values = pd.Series(pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(tz), index=s.index)
    known = ~np.isnat(utc)
    old = known & (utc < _local_utc(OLD, tz))
    too_early = known & (utc < _local_utc(earliest, tz)) if earliest is not None else np.zeros(n, dtype=bool)
    future = ~np.isnat(utc) & (utc > np.datetime64((now + pd.Timedelta(days=1)).tz_convert("UTC").tz_localize(None).to_datetime64()))
    return ParsedTimes(values=values, blank=blank, bad=bad, too_early=too_early, future=future, old=old,
                       date_order=order)


def _usual_first(text: pd.Series, pos: np.ndarray, utc: np.ndarray, tz: str) -> tuple[pd.Series, np.ndarray]:
    """Fill ``utc`` at ``pos`` for the texts in the usual form (:func:`~minqing.ingest.textscan.usual_times`); the rest."""
    fast = ~np.isnat(usual := usual_times(text))
    utc[pos[fast]] = _to_utc(usual[fast], tz)
    return text[~fast].reset_index(drop=True), pos[~fast]


def _local_utc(t, tz: str) -> np.datetime64:
    t = pd.Timestamp(t)
    t = t.tz_localize(tz) if t.tzinfo is None else t
    return np.datetime64(t.tz_convert("UTC").tz_localize(None).to_datetime64(), "ns")


def _to_utc(dt: pd.Series, tz: str) -> np.ndarray:
    """Return UTC datetime64[ns] of naive-local or aware times."""
    dt = pd.to_datetime(pd.Series(dt).reset_index(drop=True), errors="coerce")
    if dt.dt.tz is None:
        dt = dt.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return dt.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def _is_blank(v, blanks=None) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    if v is pd.NaT or (not isinstance(v, str) and pd.isna(v) is True):
        return True
    return isinstance(v, str) and v.strip().lower() in (blanks if blanks is not None else _blank_set())


def _parse_strings(text: pd.Series, tz: str, order: str | None = None) -> np.ndarray:
    """UTC ``datetime64[ns]`` of time texts (NaT where unreadable): compact digits and epochs by their length,
    the forms of other systems rewritten first (:mod:`minqing.ingest.timeforms`), then the usual readings."""
    out = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    text = ascii_forms(text)
    digits = text.str.fullmatch(r"\d+").fillna(False).to_numpy(dtype=bool)
    if digits.any():
        out[digits] = compact_digits(text[digits], tz)
        if digits.all():
            return out
        text = text[~digits].reset_index(drop=True)
    other = has_other_forms(text)
    if other.any():
        text = text.astype(object)
        text[other] = rewrite_forms(text[other], tz)
        text = text.astype("str")
    out[~digits] = _parse_text(text, tz, order)
    return out


def _parse_text(text: pd.Series, tz: str, order: str | None = None) -> np.ndarray:
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
        if left.any() and not _year_last_start(sub[left]):  # year-last text never fits these: skip them
            norm = sub[left].str.translate(_CN).str.replace(r"\s+", " ", regex=True).str.strip(" :-")
            for fmt in _FORMATS:
                if not left.any():
                    break
                cand = pd.to_datetime(norm[left[left].index], format=fmt, errors="coerce")
                dt[cand.index] = dt[cand.index].where(dt[cand.index].notna(), cand)
                left = dt.isna()
        if left.any():  # year last, 12-hour clocks, 上午/下午
            idx = left[left].index
            cand = _components(sub[idx], order)
            dt[idx] = dt[idx].where(dt[idx].notna(), cand)
        out[plain] = _to_utc(dt, tz)
    return out


def _year_last_start(text: pd.Series) -> bool:
    """True when the first value looks year-last (``12/31/2017``): a file writes its dates one way."""
    first = str(text.iloc[0]) if len(text) else ""
    return re.match(_YEAR_LAST_DATE, first) is not None


def _year_last_formats(text: pd.Series, order: str) -> pd.Series:
    """Read year-last dates with explicit formats (Arrow's strptime, fast), ranked on a sample of the values.

    Arrow rolls impossible days over (2/30 -> 3/2) and reads a 2-digit year with ``%Y``:
    the day, month and year read are checked against the text.
    """
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    arr = pa.array(text.astype("str").array)
    arr = pc.replace_substring_regex(arr, pattern=r"^(\d{1,2})[.\-](\d{1,2})[.\-]", replacement=r"\1/\2/")
    arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, pattern=r"\s+", replacement=" "))
    parts = pc.extract_regex(arr, pattern=r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4}|\d{2})(?:\D|$)")
    a, b = (pc.cast(pc.struct_field(parts, [k]), pa.int64(), safe=False) for k in (0, 1))
    y = pc.struct_field(parts, [2])
    year = pc.cast(y, pa.int64(), safe=False)
    short = pc.equal(pc.utf8_length(y), 2)
    year = pc.if_else(short, pc.add(year, pc.if_else(pc.less(year, 70), 2000, 1900)), year)
    month, day = (a, b) if order == "MDY" else (b, a)
    m, d = ("%m", "%d") if order == "MDY" else ("%d", "%m")
    formats = [f"{m}/{d}/{yy}{clock}" for yy in ("%Y", "%y")
               for clock in (" %I:%M:%S %p", " %I:%M %p", " %H:%M:%S", " %H:%M", "")]
    sample = arr.slice(0, 200)
    ranked = sorted(formats, key=lambda fmt: pc.strptime(sample, format=fmt, unit="s", error_is_null=True).null_count)
    got = pa.nulls(len(arr), pa.timestamp("s"))
    for fmt in ranked[:4]:
        cand = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
        if "%y" in fmt:  # our pivot: 00-69 -> 20xx, 70-99 -> 19xx
            century = pa.scalar((100 * 365 + 25) * 86400, pa.duration("s"))  # 1969 -> 2069 (25 leap days)
            cand = pc.if_else(pc.fill_null(pc.equal(pc.year(cand), 1969), False), pc.add(cand, century), cand)
        got = pc.coalesce(got, cand)
        if got.null_count == 0:
            break
    ok = pc.and_(pc.and_(pc.equal(pc.year(got), year), pc.equal(pc.month(got), month)), pc.equal(pc.day(got), day))
    got = pc.if_else(pc.fill_null(ok, False), got, pa.scalar(None, pa.timestamp("s")))
    out[:] = got.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
    return out


def _components(text: pd.Series, order: str | None) -> pd.Series:
    """Read year-first and year-last dates (12-hour clocks, two-digit years, 年月日时分) from their parts."""
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if order is None:  # infer from these values alone (only text ISO could not read gets here)
        try:
            order = infer_date_order([text])
        except DateOrderError:
            order = None
    if order in ("MDY", "DMY"):
        fast = _year_last_formats(text, order)
        if fast.notna().all():
            return fast
        out = fast
        text = text[fast.isna()]
    yf = text.str.extract(_YEAR_FIRST)
    parts = [(yf, yf[0].notna(), (0, 1, 2))]
    if order in ("MDY", "DMY"):
        yl = text.str.extract(_YEAR_LAST)
        parts.append((yl, yl[0].notna() & yf[0].isna(), (2, 0, 1) if order == "MDY" else (2, 1, 0)))
    for p, ok, (iy, im, iday) in parts:
        if not ok.any():
            continue
        p = p[ok]

        def num(k, p=p):
            return pd.to_numeric(p[k], errors="coerce")

        year = num(iy)
        short = p[iy].str.len() == 2
        year = year.where(~short, year + np.where(year < 70, 2000, 1900))
        hour = num(4).fillna(0)
        ampm = p[3].where(p[3].notna(), p[8]).str.upper()
        pm = ampm.isin(["PM", "下午"])
        twelve = ampm.notna()
        valid = ~twelve | ((hour >= 1) & (hour <= 12))
        hour = hour.where(~twelve, hour % 12 + np.where(pm, 12, 0))
        frac = p[7].fillna("").str.pad(6, side="right", fillchar="0").str.slice(0, 6)
        comp = pd.DataFrame({"year": year, "month": num(im), "day": num(iday), "hour": hour,
                             "minute": num(5).fillna(0), "second": num(6).fillna(0),
                             "us": pd.to_numeric(frac.where(frac != "", "0"), errors="coerce").fillna(0)})
        good = valid & comp.notna().all(axis=1) & (comp["hour"] < 24) & (comp["minute"] < 60) & (comp["second"] < 62)
        if good.any():
            out[good[good].index] = pd.to_datetime(comp[good].astype("int64"), errors="coerce")
    return out
