"""Masking of personal data: names, phone numbers, ID numbers, plates and e-mail, also inside free text.

Anyone who is not handling a ticket sees ``张*`` and ``138****5678``. The rules:

========================  ==========================  ==============================
what                      example                     masked
========================  ==========================  ==============================
caller name               ``张三丰``                  ``张**`` (one character: ``*``)
mobile, any spelling      ``+86 138-1234-5678``       ``138****5678``
landline with area code   ``(021)65432100``           ``021-****2100``
number after a keyword    ``电话：65432100``          ``电话：******00``
ID number (18 or 15)      ``310110199001011234``      ``310*************34``
licence plate             ``沪A·12345``               ``沪A****5``
e-mail address            ``zhangsan@example.com``    ``z***@example.com``
========================  ==========================  ==============================

Full-width digits and letters (``１３８``, ``＋８６``) are recognised; the digits
that stay visible are written as ASCII. Dates, times, house numbers, amounts,
postcodes and work-order numbers (``GD20250403000123``) are left alone: a digit
run longer than a pattern is never partly matched. Masking is idempotent.

Free text is masked row by row with compiled regular expressions and one
replacement callback; rows without a digit or an ``@`` skip them, and the
number expression only runs around runs of seven or more digits.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["mask_name", "mask_phone", "mask_series", "mask_text", "mask_tickets", "redact_url"]

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space, mapped one to one
# onto ASCII so a normalised copy has the same length as the original.
_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALF[0x3000] = 0x20


def _half(text: str) -> str:
    return text.translate(_HALF)


# ---------------------------------------------------------------- patterns
_D = "[0-9０-９]"
_SP = r"[ \t\u00a0\u3000]"
# one optional separator between digit groups: spaces, or a dash/dot with spaces around it
_SEP = rf"(?:{_SP}{{0,2}}[-－‐–—.．·・]{_SP}{{0,2}}|{_SP}{{1,2}})?"
# inside ID numbers only a single space or dash
_ISEP = r"[ \u00a0\u3000\-－]?"
_CC = r"(?:[+＋]|00|００)?(?:86|８６)"  # country code
_INTL = rf"[(（]?{_CC}[)）]?{_SEP}"
_NOT_D_BEFORE = r"(?<!\d)"
_NOT_D_AFTER = r"(?!\d)"

# E-mail is matched on the half-width copy of the text (same length, so the spans
# carry over). A local part right after "digit + space/bracket" may be the tail of
# a spaced phone number (138 1234 5678@...) when it starts with a digit: it is left
# to the number patterns.
_EMAIL = (r"(?P<em>(?<![A-Za-z0-9._%+\-])(?!(?<=\d[ \t\u00a0‐–—·・•()])\d)[A-Za-z0-9._%+\-]+@"
          r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-]))")
_ID = (rf"(?P<id>{_NOT_D_BEFORE}[1-9１-９](?:{_ISEP}{_D}){{14}}"
       rf"(?:(?:{_ISEP}{_D}){{2}}{_ISEP}[0-9０-９XxＸｘ])?{_NOT_D_AFTER})")
_MOB_BODY = (rf"[1１][3-9３-９]{_D}(?:{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}|{_D}{_SEP}{_D}{{3}}{_SEP}{_D}{{4}}"
             rf"|{_D}{_SEP}{_D}{{4}}{_SEP}{_D}{{3}})")
_MOBILE = rf"(?P<mo>{_NOT_D_BEFORE}(?:{_INTL})?{_MOB_BODY}{_NOT_D_AFTER})"
_AREA = rf"(?:[1１][0０]|[2２]{_D}|[3-9３-９]{_D}{_D})"  # without its leading 0
_SUB = rf"[2-9２-９]{_D}{{2,3}}{_SEP}{_D}{{4}}"
_LANDLINE = (rf"(?P<ll>{_NOT_D_BEFORE}"
             rf"(?:{_INTL}[(（]?[0０]?(?P<la>{_AREA})[)）]?|[(（]?[0０](?P<lb>{_AREA})[)）]?)"
             rf"{_SEP}(?P<ls>{_SUB}){_NOT_D_AFTER})")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PL = "[A-HJ-NP-Za-hj-np-zＡ-ＨＪ-ＮＰ-Ｚａ-ｈｊ-ｎｐ-ｚ]"  # no I or O
_PC = "[A-HJ-NP-Z0-9a-hj-np-zＡ-ＨＪ-ＮＰ-Ｚａ-ｈｊ-ｎｐ-ｚ０-９]"
_PLATE = (rf"(?P<pl>[{_PROVINCES}]{_PL}[·.．・•･∙\- \u3000]?"
          rf"(?P<pt>(?={_PC}{{0,5}}[0-9０-９]){_PC}{{5,6}}(?![A-Za-z0-9Ａ-Ｚａ-ｚ０-９])"
          rf"|(?={_PC}{{0,3}}[0-9０-９]){_PC}{{4}}[挂学警领试超港澳]))")
# literal first characters keep the search for a keyword fast (a charset prefix)
_KEYWORDS = ("电话|手机|座机|联系方式|致电|拨打|回电|"
             + "|".join(f"{c}(?<![A-Za-z]{c})(?i:{rest})" for word in ("tel", "phone", "mobile")
                        for c, rest in ((word[0], word[1:]), (word[0].upper(), word[1:]))))
_KEYWORD = (rf"(?P<kw>(?P<kp>(?:{_KEYWORDS})[^0-9０-９\n]{{0,5}}?)"
            rf"(?P<kn>{_NOT_D_BEFORE}{_D}{{3,4}}{_SEP}{_D}{{4}})(?!{_SEP}\d))")

_NUMBERS = re.compile(f"{_ID}|{_MOBILE}|{_LANDLINE}")
_NO_ID = re.compile(f"{_MOBILE}|{_LANDLINE}")
_KEYWORD_NUMBERS = re.compile(_KEYWORD)
_EMAILS = re.compile(_EMAIL)
_EMAILS_ANY = re.compile(_EMAIL.replace(r"(?!(?<=\d[ \t\u00a0‐–—·・•()])\d)", ""))
_PLATES = re.compile(_PLATE)
_CANDIDATE = re.compile(r"[\d@＠]")
# A run of digits and the characters that may sit inside a number, holding at
# least 7 digits: every number pattern lies in one, plus at most 2 characters
# of prefix before it (``(+86)``, ``（021）``).
_RUN_SEP = "XxＸｘ \t\u00a0\u3000\\-－‐–—.．·・()（）"
_RUN = re.compile(rf"[0-9０-９](?:[{_RUN_SEP}]*[0-9０-９]){{6}}[0-9０-９{_RUN_SEP}]*")
_RUN_LEAD = 2
_NOT_DIGIT = re.compile(r"[^0-9]")
_ID_DATE = re.compile(r"(?:18|19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
_ID_DATE15 = re.compile(r"\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


def _digits(text: str) -> str:
    return _NOT_DIGIT.sub("", _half(text))


def _replace(m: re.Match) -> str:
    kind = m.lastgroup
    if kind == "em":
        local, _, domain = m.group().rpartition("@")
        return local[0] + "***@" + domain
    if kind == "id":
        chars = re.sub(r"[^0-9X]", "", _half(m.group()).upper())
        if (len(chars) == 18 and _ID_DATE.fullmatch(chars, 6, 14)) or (
                len(chars) == 15 and chars.isdigit() and _ID_DATE15.fullmatch(chars, 6, 12)):
            return chars[:3] + "*" * (len(chars) - 5) + chars[-2:]
        # not an ID after all: the digits may still hold a phone number
        return _NO_ID.sub(_replace, m.group())
    if kind == "mo":
        d = _digits(m.group())[-11:]
        return d[:3] + "****" + d[-4:]
    if kind == "ll":
        area = "0" + _digits(m.group("la") or m.group("lb"))
        sub = _digits(m.group("ls"))
        keep = 4 if len(sub) >= 8 else 3
        return area + "-" + "*" * (len(sub) - keep) + sub[-keep:]
    if kind == "pl":
        head = _half(m.group()[:2]).upper()
        tail = m.group("pt")
        return head + "*" * (len(tail) - 1) + _half(tail[-1]).upper()
    # kw: a bare local number right after a phone keyword; keep the last 2 digits
    d = _digits(m.group("kn"))
    return m.group("kp") + "*" * (len(d) - 2) + d[-2:]


def _mask_numbers(text: str) -> str:
    # The number expression is slow to try at every position, so it only runs
    # in windows around long digit runs: lookbehinds still see the whole string,
    # and each window ends one character past its run for the lookaheads.
    first = _RUN.search(text)
    if first is None:
        return text
    windows: list[list[int]] = []
    for run in _RUN.finditer(text, first.start()):
        lo, hi = max(0, run.start() - _RUN_LEAD), min(len(text), run.end() + 1)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = hi
        else:
            windows.append([lo, hi])
    pieces, last = [], 0
    for lo, hi in windows:
        for m in _NUMBERS.finditer(text, max(lo, last), hi):
            pieces += (text[last:m.start()], _replace(m))
            last = m.end()
    if pieces:
        pieces.append(text[last:])
        text = "".join(pieces)
    # a bare local number after 电话/tel/...: its search has a fast literal prefix
    return _KEYWORD_NUMBERS.sub(_replace, text)


def _mask_emails(text: str, rx: re.Pattern) -> str:
    pieces, last = [], 0
    for m in rx.finditer(_half(text)):
        pieces += (text[last:m.start()], _replace(m))
        last = m.end()
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def _mask_patterns(text: str) -> str:
    if _CANDIDATE.search(text) is None:
        return text
    mail = "@" in text or "＠" in text
    if mail:
        text = _mask_emails(text, _EMAILS)
    text = _mask_numbers(text)
    if mail:  # what the first pass left to the number patterns
        text = _mask_emails(text, _EMAILS_ANY)
    return _PLATES.sub(_replace, text)


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return False
    if isinstance(value, float):
        return math.isnan(value)
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def _names_of(who) -> list[str]:
    if isinstance(who, str):
        items: Iterable = [who]
    elif isinstance(who, Iterable) and not isinstance(who, (bytes, dict)):
        items = list(who)
    else:
        return []
    out = {str(n).strip() for n in items if not _is_missing(n)}
    # longest first, so 王小明 is masked before 王小; one character is too common to mask in text
    return sorted((n for n in out if len(n) >= 2), key=len, reverse=True)


def _mask_names(text: str, names: list[str]) -> str:
    for name in names:
        if name in text:
            text = text.replace(name, mask_name(name))
    return text


# ---------------------------------------------------------------- public API
def mask_name(name) -> str | None:
    """Return ``name`` with all but its first character masked.

    ``张三丰`` -> ``张**``; a one-character name is masked whole (``*``).

    Parameters
    ----------
    name : str or None
        A person's name; surrounding spaces are dropped.

    Returns
    -------
    str or None
        None for a missing value, ``""`` for a blank one.

    Examples
    --------
    >>> mask_name("张三")
    '张*'
    >>> mask_name("李")
    '*'
    """
    if _is_missing(name):
        return None
    name = str(name).strip()
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


_PHONE_SPLIT = re.compile(r"([/,;，；、|]+|或|和)")


def _mask_one_phone(part: str) -> str:
    norm = _half(part)
    seq = re.sub(r"[^0-9*]", "", norm)
    if not seq:
        return "*" * len(part.strip())
    if seq.isdigit():
        cc = "0086" if seq.startswith("0086") else "86" if seq.startswith("86") else ""
        rest = seq[len(cc):]
        if cc and re.fullmatch(r"1[3-9]\d{9}", rest):
            seq = rest  # +86 138 1234 5678
        elif cc and (cc == "0086" or "+" in norm) and 9 <= len(rest) <= 11 and rest[0] != "0":
            seq = "0" + rest  # +86 21 6543 2100
    n = len(seq)  # a masked value counts its stars as digits, so masking it again changes nothing
    if n >= 11:
        return seq[:3] + "*" * (n - 7) + seq[-4:]
    if n >= 7:
        return "*" * (n - 2) + seq[-2:]
    return "*" * n


def mask_phone(phone) -> str | None:
    """Return a phone number with its middle digits masked.

    Eleven or more digits show the first 3 and the last 4 (``13812345678`` ->
    ``138****5678``; ``+8613812345678`` is read as the mobile); 7 to 10 digits
    (a local landline) show only the last 2 (``65432100`` -> ``******00``);
    shorter numbers are masked whole. Spaces, dots, dashes, parentheses and
    full-width digits are accepted; several numbers separated by ``/``, ``,``,
    ``、`` or ``;`` are masked one by one.

    Parameters
    ----------
    phone : str, int or None

    Returns
    -------
    str or None
        None for a missing value.

    Examples
    --------
    >>> mask_phone("138 1234 5678")
    '138****5678'
    >>> mask_phone("021-65432100")
    '021****2100'
    """
    if _is_missing(phone):
        return None
    if isinstance(phone, float) and phone.is_integer():
        phone = int(phone)
    text = str(phone).strip()
    text = re.sub(r"(?<=\d)\.0$", "", text)  # 13812345678.0 from a spreadsheet
    parts = _PHONE_SPLIT.split(text)
    return "".join(p if i % 2 else _mask_one_phone(p) for i, p in enumerate(parts))


def mask_text(text, names=None) -> str | None:
    """Return free text with phone, ID, plate and e-mail details and the given names masked.

    Parameters
    ----------
    text : str or None
        Ticket text (诉求内容) or address.
    names : str or iterable of str, optional
        Names to mask wherever they occur (the caller's own name, say).

    Returns
    -------
    str or None
        None for a missing value.

    Examples
    --------
    >>> mask_text("王小明13812345678", ["王小明"])
    '王**138****5678'
    """
    if _is_missing(text):
        return None
    out = _mask_patterns(str(text))
    return _mask_names(out, _names_of(names)) if names is not None else out


def mask_series(texts: pd.Series, names: pd.Series | None = None) -> pd.Series:
    """Mask phone numbers, ID numbers, plates, e-mail and per-row names in a Series of texts.

    Parameters
    ----------
    texts : Series
        Any values; non-strings are masked as their ``str``, missing values stay None.
    names : Series, optional
        Aligned on the index of ``texts``; each value a name or a list of names
        to mask in that row.

    Returns
    -------
    Series of object
        Same index and length as ``texts``.

    Raises
    ------
    TypeError
        If ``names`` is neither a Series nor None.
    ValueError
        If ``names`` cannot be aligned on ``texts`` because of duplicate labels.
    """
    if not isinstance(texts, pd.Series):
        texts = pd.Series(list(texts), dtype=object)
    values = texts.to_numpy(dtype=object, na_value=None)
    if names is None:
        who = None
    elif isinstance(names, pd.Series):
        if names.index.equals(texts.index):
            who = names.to_numpy(dtype=object)
        elif names.index.has_duplicates or texts.index.has_duplicates:
            raise ValueError("names must have the same index as texts when either index has duplicate labels; "
                             "pass names=names.set_axis(texts.index) if they are in the same order")
        else:
            who = names.reindex(texts.index).to_numpy(dtype=object)
    else:
        raise TypeError(f"names must be a pandas Series aligned with texts or None, not {type(names).__name__}")
    out = np.empty(len(values), dtype=object)
    memo: dict[str, str] = {}
    for i, v in enumerate(values):
        if v.__class__ is not str:
            if _is_missing(v):
                continue  # out[i] stays None
            v = str(v)
        m = memo.get(v)
        if m is None:
            m = memo[v] = _mask_patterns(v)
        if who is not None:
            w = who[i]
            if w.__class__ is str:  # the common case, kept fast
                w = w.strip()
                if len(w) >= 2 and w in m:
                    m = m.replace(w, mask_name(w))
            elif w is not None and w.__class__ is not float:
                m = _mask_names(m, _names_of(w))
        out[i] = m
    return pd.Series(out, index=texts.index, dtype=object, name=texts.name)


# ---------------------------------------------------------------- the extra column
_PHONE_KEY = re.compile(r"电话|手机|座机|联系方式|联系号码|来电号码|主叫号码|phone|mobile|(?<![a-z])(?:tel|cell)(?![a-z])",
                        re.IGNORECASE)
_ID_KEY = re.compile(r"身份证|证件|id[\s_-]?(?:card|no|number)", re.IGNORECASE)
_NAME_KEY = re.compile(
    r"姓名|联系人|来电人|投诉人|反映人|诉求人|举报人|当事人|申请人|来访人|报告人|户主"
    r"|^(?:full[\s_-]?)?name$|(?:caller|contact|customer|citizen|person|reporter|complainant)"
    r"(?:[\s_-]?name)?$|^contact",
    re.IGNORECASE,
)


def _mask_json_value(value, names: list[str]):
    if isinstance(value, str):
        return _mask_names(_mask_patterns(value), names)
    if isinstance(value, dict):
        return {k: _mask_json_value(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_json_value(v, names) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = str(value)
        masked = _mask_patterns(text)
        return value if masked == text else masked
    return value


def _mask_by_key(key: str, value, names: list[str]):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (dict, list)):
        return _mask_json_value(value, names)
    text = str(value)
    if _PHONE_KEY.search(key):
        return mask_phone(text)
    if _ID_KEY.search(key):
        text = _half(text).strip()
        return text[:3] + "*" * max(len(text) - 5, 0) + text[-2:] if len(text) > 5 else "*" * len(text)
    if _NAME_KEY.search(key):
        return mask_phone(text) if len(_digits(text)) >= 7 else mask_name(text)
    return _mask_json_value(value, names)


def _mask_extra(text: str, names: list[str]) -> str:
    try:
        obj = json.loads(text)
    except ValueError:
        return _mask_names(_mask_patterns(text), names)
    if isinstance(obj, dict):
        masked = {k: _mask_by_key(str(k), v, names) for k, v in obj.items()}
    else:
        masked = _mask_json_value(obj, names)
    return text if masked == obj else json.dumps(masked, ensure_ascii=False)


_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')


def _mask_extra_series(extra: pd.Series, names: pd.Series | None) -> pd.Series:
    # Each distinct value is parsed once. The caller's name is then masked in
    # the JSON text itself, which equals masking it in every value as long as
    # the name holds nothing JSON escapes (a quote, a backslash, a control character).
    values = extra.to_numpy(dtype=object, na_value=None)
    who = names.to_numpy(dtype=object) if names is not None else np.full(len(values), None, dtype=object)
    out = np.empty(len(values), dtype=object)
    memo: dict[str, str] = {}
    for i, (v, w) in enumerate(zip(values, who)):
        if _is_missing(v):
            continue
        key = v if isinstance(v, str) else str(v)
        m = memo.get(key)
        if m is None:
            m = memo[key] = _mask_extra(key, [])
        row_names = _names_of(w)
        if row_names:
            if any(_JSON_ESCAPED.search(n) for n in row_names):
                m = _mask_extra(key, row_names)
            else:
                m = _mask_names(m, row_names)
        out[i] = m
    return pd.Series(out, index=extra.index, dtype=object, name=extra.name)


def _map_unique(values: pd.Series, fn) -> pd.Series:
    arr = values.to_numpy(dtype=object, na_value=None)
    memo: dict = {}
    out = np.empty(len(arr), dtype=object)
    for i, v in enumerate(arr):
        if _is_missing(v):
            continue
        try:
            m = memo[v]
        except KeyError:
            m = memo[v] = fn(v)
        except TypeError:  # unhashable
            m = fn(v)
        out[i] = m
    return pd.Series(out, index=values.index, dtype=object, name=values.name)


def mask_tickets(tickets: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``tickets`` safe to show to someone not handling them.

    Masks ``caller_name`` and ``caller_phone``; inside ``text`` and ``address``
    phone numbers, ID numbers, plates, e-mail addresses and the caller's name;
    and every value of the ``extra`` JSON object the same way, values under a
    name-, phone- or ID-like key (姓名, 联系人, 电话, phone, contact, ...) whole.

    Parameters
    ----------
    tickets : DataFrame
        Tickets as read from the store; the input is not modified.

    Returns
    -------
    DataFrame
    """
    out = tickets.copy()
    names = out["caller_name"] if "caller_name" in out.columns else None
    for col in ("text", "address"):
        if col in out.columns:
            out[col] = mask_series(out[col], names)
    if "extra" in out.columns:
        out["extra"] = _mask_extra_series(out["extra"], names)
    if "caller_name" in out.columns:
        out["caller_name"] = _map_unique(out["caller_name"], mask_name)
    if "caller_phone" in out.columns:
        out["caller_phone"] = _map_unique(out["caller_phone"], mask_phone)
    return out


# ---------------------------------------------------------------- URLs
_URL_USERINFO = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<netloc>[^/?#]*)")
_URL_PARAM = re.compile(r"(?P<k>(?:^|[?&;\s])(?:ssl)?(?:password|passwd|pwd)\s*=\s*)(?P<v>'[^']*'|[^&#;\s]*)",
                        re.IGNORECASE)


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``, safe to log or show.

    Handles the password of the user info (``postgresql://user:secret@host/db``
    -> ``postgresql://user:***@host/db``) and ``password=``/``pwd=`` query or
    connection-string parameters; ``sqlite:///path`` comes back unchanged.

    Parameters
    ----------
    url : str
        A database URL or libpq connection string.

    Returns
    -------
    str

    Examples
    --------
    >>> redact_url("postgresql://minqing:secret@db:5432/minqing?sslmode=require")
    'postgresql://minqing:***@db:5432/minqing?sslmode=require'
    """
    if not isinstance(url, str) or not url:
        return url
    m = _URL_USERINFO.match(url)
    if m and "@" in m.group("netloc"):
        userinfo, _, host = m.group("netloc").rpartition("@")
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            url = m.group("head") + user + ":***@" + host + url[m.end():]
    return _URL_PARAM.sub(lambda p: p.group("k") + "***", url)
