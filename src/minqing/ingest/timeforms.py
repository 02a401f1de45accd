"""Time texts of other systems, rewritten into the forms :mod:`minqing.ingest.times` reads, or read here.

Exports of real systems write times in ways beyond ``2025-04-03 10:05``:

* compact digits: ``20250403``, ``2025040310``, ``202504031005``, ``20250403100500`` and Unix
  epochs in seconds or milliseconds (``1743645900``, ``1743645900000``). They are read by their
  exact length, every field of its fixed width (:func:`compact_digits`). A lenient reading
  takes ``202504031005`` for 10:00:05 and ``1743645900`` for a day in 1743; here a 10- or
  13-digit value starting with ``1`` is an epoch (2001-09-09 to 2033-05-18, when no ``YYYY``
  year starts with 1 worth reading), any other length of digits no time.
* Java's ``Date.toString()``: ``Thu Apr 03 10:05:00 CST 2025``; English month names
  (``03-Apr-2025 10:05``, ``Apr 3, 2025 10:05 AM``, ``3 April 2025``); Oracle's default timestamps
  (``03-APR-25 10.05.00.000000 AM``, in Chinese ``03-4月 -25 10.05.00.000000 上午``).
* weekdays (``2025-04-03 星期四 10:05``, ``2025-04-03(周四)``, ``Thu, 03 Apr 2025``), which say nothing more;
* zone names: ``UTC``/``GMT``/``Z``, ``GMT+8``/``UTC+08:00``, and ``CST`` or ``北京时间``, China
  Standard Time (+08:00), read only when the city's own zone is at +08:00 (a Chinese server
  writes CST for Asia/Shanghai; elsewhere the abbreviation means other zones, and such a time stays
  unread). Other abbreviations (PST, EST, ...) are ambiguous and stay unread: quarantined, not guessed.

:func:`rewrite_forms` turns the text forms into ``YYYY-MM-DD HH:MM[:SS][ AM|PM][ ±HH:MM]``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_WEEKDAY = re.compile(
    r"[(（]\s*(?:星期|周|礼拜)[一二三四五六日天]\s*[)）]|(?:星期|礼拜)[一二三四五六日天]|周[一二三四五六日天]"
    r"|\b(?:mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?\b\.?,?", re.IGNORECASE)
_CLOCK = r"(\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AP]M)?)"
_JAVA = re.compile(rf"^{_MONTH}\s+(\d{{1,2}})\s+{_CLOCK}\s+(\S+)\s+(\d{{4}})$", re.IGNORECASE)
_MONTH_DAY_YEAR = re.compile(rf"^{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?:[\sT,]+(.*))?$", re.IGNORECASE)
_DAY_MONTH_YEAR = re.compile(rf"^(\d{{1,2}})(?:st|nd|rd|th)?[-\s/.]+{_MONTH}[-\s/.,]+(\d{{4}}|\d{{2}})(?:[\sT:,]+(.*))?$",
                             re.IGNORECASE)
_UTC_NAME = re.compile(r"\s+(?:UTC|GMT)$", re.IGNORECASE)  # ISO's own Z is read as it is
_NAMED_OFFSET = re.compile(r"\s*(?:UTC|GMT)\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_CHINA = re.compile(r"\s*(?:CST|CCT|北京时间|[(（]北京时间[)）])$|^(?:北京时间|[(（]北京时间[)）])\s*", re.IGNORECASE)
_DOTTED_CLOCK = re.compile(r"(?<=\s)(\d{1,2})\.(\d{2})(?:\.(\d{2})(?:\.(\d+))?)?(?=\s|$)")
"""A clock written with dots after the date: Oracle's ``HH.MI.SS.FF`` (``10.05.00.000000``), ``10.05``."""
_ORACLE_CN = re.compile(r"^(\d{1,2})-(\d{1,2})月\s*-(\d{4}|\d{2})(?=\s|$)")
"""Oracle's ``DD-MON-RR`` in Chinese (``03-4月 -25``)."""
_OTHER = (r"(?i)(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun|utc|gmt|cst|cct)"
          r"|星期|礼拜|周[一二三四五六日天]|北京时间|\s\d{1,2}\.\d{2}(?:\s|$|\.)|\d月\s*-\d")
"""What marks a text for :func:`rewrite_forms` (ISO's ``T`` and ``Z``, AM/PM and 上午/下午 are read as they are)."""
_COMPACT = {8: (4, 2, 2), 10: (4, 2, 2, 2), 12: (4, 2, 2, 2, 2), 14: (4, 2, 2, 2, 2, 2)}


def compact_digits(digits: pd.Series, tz: str) -> np.ndarray:
    """UTC ``datetime64[ns]`` of values that are only ASCII digits, read by their length (NaT when none fits).

    8, 10, 12 or 14 digits are ``YYYYMMDD[HH[MM[SS]]]`` in local time, each field of fixed width
    and checked (a 13th month or a 30 February is no time); 10 or 13 digits starting with ``1``
    are Unix epochs in seconds or milliseconds (UTC).
    """
    from minqing.ingest.times import _to_utc

    out = np.full(len(digits), np.datetime64("NaT"), dtype="datetime64[ns]")
    text = digits.astype(str).to_numpy(dtype=object)
    lengths = np.fromiter((len(t) for t in text), dtype=np.int64, count=len(text))
    first = np.fromiter((t[:1] == "1" for t in text), dtype=bool, count=len(text))
    epoch = ((lengths == 10) | (lengths == 13)) & first
    if epoch.any():
        ms = np.array([int(t) * (1000 if len(t) == 10 else 1) for t in text[epoch]], dtype=np.int64)
        out[epoch] = ms.astype("datetime64[ms]").astype("datetime64[ns]")
    for length, widths in _COMPACT.items():
        sel = (lengths == length) & ~epoch
        if not sel.any():
            continue
        cuts = np.cumsum((0, *widths))
        parts = {name: np.array([int(t[a:b]) for t in text[sel]], dtype=np.int64)
                 for name, a, b in zip(("year", "month", "day", "hour", "minute", "second"), cuts[:-1], cuts[1:])}
        comp = pd.DataFrame({"year": parts["year"], "month": parts["month"], "day": parts["day"],
                             "hour": parts.get("hour", 0), "minute": parts.get("minute", 0),
                             "second": parts.get("second", 0)})
        ok = comp["month"].between(1, 12) & comp["day"].between(1, 31) & (comp["hour"] < 24) & \
            (comp["minute"] < 60) & (comp["second"] < 60) & comp["year"].between(1900, 2199)
        local = pd.Series(pd.NaT, index=comp.index, dtype="datetime64[ns]")
        if ok.any():
            local[ok] = pd.to_datetime(comp[ok], errors="coerce")
        out[np.flatnonzero(sel)] = _to_utc(local, tz)
    return out


def has_other_forms(text: pd.Series) -> np.ndarray:
    """Where a time text holds letters, a weekday or a zone name: only those are rewritten."""
    return text.str.contains(_OTHER, regex=True).fillna(False).to_numpy(dtype=bool)


def rewrite_forms(text: pd.Series, tz: str) -> pd.Series:
    """Rewrite weekdays, English month names, Java's ``Date.toString()`` and zone names (see the module).

    A column of Java times, the one form a whole large export is likely to be written in, is
    rewritten in Arrow (:func:`_java_in_arrow`); the others value by value.
    """
    china = _at_china_offset(tz)
    out = pd.Series(text.to_numpy(dtype=object), index=text.index, dtype=object)
    fast = _java_in_arrow(text, china)
    done = fast.notna().to_numpy(dtype=bool) if fast is not None else np.zeros(len(text), dtype=bool)
    if done.any():
        out[done] = fast[done].to_numpy(dtype=object)
    rest = ~done
    if rest.any():
        out[rest] = [_rewrite(str(t), china) for t in out[rest]]
    return out


_JAVA_ARROW = (r"^\s*(?:[A-Za-z]{3})\s+(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{2})\s+(?P<clock>\d{2}:\d{2}:\d{2})\s+"
               r"(?P<zone>CST|UTC|GMT|GMT[+-]\d{2}:\d{2})\s+(?P<year>\d{4})\s*$")
"""``Date.toString()`` exactly as Java writes it (``EEE MMM dd HH:mm:ss zzz yyyy``), with the zones read here."""


def _java_in_arrow(text: pd.Series, china: bool) -> pd.Series | None:
    """The ISO text of the values written exactly as Java's ``Date.toString()`` (null for the others), in Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if not len(arr):
        return None
    parts = pc.extract_regex(arr, _JAVA_ARROW)
    field = {name: pc.struct_field(parts, [i]) for i, name in enumerate(("mon", "day", "clock", "zone", "year"))}
    month = pc.add(pc.index_in(pc.utf8_lower(field["mon"]), value_set=pa.array(list(_MONTHS))), 1)
    month = pc.utf8_lpad(pc.cast(month, pa.string()), 2, "0")
    zone = pc.replace_substring_regex(field["zone"], r"^(?:UTC|GMT)$", "+00:00")
    zone = pc.replace_substring_regex(zone, r"^GMT([+-]\d{2}:\d{2})$", r"\1")
    zone = pc.replace_substring(zone, "CST", "+08:00") if china else pc.if_else(pc.equal(zone, "CST"), None, zone)
    iso = pc.binary_join_element_wise(field["year"], "-", month, "-", field["day"], " ", field["clock"], " ", zone, "")
    return pd.Series(iso.to_numpy(zero_copy_only=False), index=text.index, dtype=object)


def _rewrite(t: str, china: bool) -> str:
    t = _WEEKDAY.sub(" ", t)
    t = re.sub(r"\s+", " ", t).strip(" ,")
    t = _DOTTED_CLOCK.sub(lambda m: f"{m[1]}:{m[2]}" + (f":{m[3]}" if m[3] else "") + (f".{m[4]}" if m[4] else ""), t)
    m = _ORACLE_CN.match(t)
    if m:
        day, month, year = m.groups()
        t = f"{_full_year(year)}-{int(month):02d}-{int(day):02d}{t[m.end():]}"
    m = _JAVA.match(t)
    if m:
        month, day, clock, zone, year = m.groups()
        t = f"{year}-{_month(month):02d}-{int(day):02d} {clock} {zone}"
    else:
        m = _MONTH_DAY_YEAR.match(t)
        if m:
            month, day, year, rest = m.groups()
            t = f"{year}-{_month(month):02d}-{int(day):02d} {rest or ''}".strip()
        else:
            m = _DAY_MONTH_YEAR.match(t)
            if m:
                day, month, year, rest = m.groups()
                t = f"{_full_year(year)}-{_month(month):02d}-{int(day):02d} {rest or ''}".strip()
    return _zone(t, china)


def _zone(t: str, china: bool) -> str:
    """The time with a zone name at its end (or 北京时间 at its start) as an offset ``±HH:MM``."""
    m = _NAMED_OFFSET.search(t)
    if m:
        sign, hours, minutes = m.groups()
        return f"{t[:m.start()]} {sign}{int(hours):02d}:{int(minutes or 0):02d}"
    m = _UTC_NAME.search(t)
    if m:
        return f"{t[:m.start()]} +00:00"
    m = _CHINA.search(t)
    if m and china:
        return f"{(t[:m.start()] + t[m.end():]).strip()} +08:00"
    return t


def _full_year(year: str) -> str:
    """A two-digit year as the readers of :mod:`minqing.ingest.times` pivot it (00-69 -> 20xx, 70-99 -> 19xx)."""
    return year if len(year) != 2 else str(int(year) + (2000 if int(year) < 70 else 1900))


def _month(name: str) -> int:
    return _MONTHS[name[:3].lower()]


def _at_china_offset(tz: str) -> bool:
    """True when the city's zone is at +08:00 (CST there is China Standard Time)."""
    try:
        return pd.Timestamp("2025-01-15", tz=tz).utcoffset() == pd.Timedelta(hours=8)
    except (ValueError, KeyError, TypeError):
        return False
