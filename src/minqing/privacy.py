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

The detectors of numbers and e-mail in free text are in
:mod:`minqing.privacy_patterns`; this module is the masking API: names,
fields, whole ticket tables, and passwords in URLs (:func:`redact_url`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from minqing.privacy_patterns import _digits, _half, _mask_patterns

__all__ = ["mask_name", "mask_phone", "mask_series", "mask_text", "mask_tickets", "redact_url"]


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
