"""Masking of personal data: caller names and phone numbers, also inside free text.

Anyone who is not handling a ticket sees ``张*`` and ``138****1234``. Masking
is applied to whole columns at once (vectorised string operations).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# Mainland mobile numbers (optionally +86 / 86 prefixed, optionally split by
# spaces or dashes as 3-4-4), landlines with an area code, and ID card numbers.
_MOBILE = r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)"
_LANDLINE = r"(?<!\d)(0\d{2,3})[\s-]?(\d{3,4})(\d{4})(?!\d)"
_ID_CARD = r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])"


def mask_name(name) -> str | None:
    """Return ``name`` with all but its first character masked: ``张三丰`` -> ``张**``.

    Examples
    --------
    >>> mask_name("张三")
    '张*'
    """
    if name is None or (not isinstance(name, str) and pd.isna(name)):
        return None
    name = str(name).strip()
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone) -> str | None:
    """Return ``phone`` with the middle digits masked: ``13812345678`` -> ``138****5678``."""
    if phone is None or (not isinstance(phone, str) and pd.isna(phone)):
        return None
    digits = re.sub(r"\D", "", str(phone))
    if len(digits) >= 7:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * len(digits)


def mask_text(text, names=None) -> str | None:
    """Return free text with phone numbers, ID numbers and the given names masked.

    Parameters
    ----------
    text : str
        Ticket text (诉求内容) or address.
    names : iterable of str, optional
        Names to mask wherever they occur (the caller's own name, say).
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return None
    out = mask_series(pd.Series([str(text)]), pd.Series([list(names or [])]))
    return out.iloc[0]


def mask_series(texts: pd.Series, names: pd.Series | None = None) -> pd.Series:
    """Mask phone numbers, ID numbers and per-row names in a Series of texts.

    Parameters
    ----------
    texts : Series of str
    names : Series, optional
        Same index; each value a name or a list of names to mask in that row.
    """
    s = texts.astype("object").where(texts.notna(), None)
    has = s.notna()
    v = s[has].astype(str)
    v = v.str.replace(_ID_CARD, r"\1********\2", regex=True)
    v = v.str.replace(_MOBILE, r"\1****\3", regex=True)
    v = v.str.replace(_LANDLINE, r"\1-****\3", regex=True)
    if names is not None:
        nm = names.reindex(s.index)[has]
        vals = v.tolist()
        for i, (text, who) in enumerate(zip(vals, nm.tolist())):
            for name in ([who] if isinstance(who, str) else list(who) if isinstance(who, (list, tuple, np.ndarray)) else []):
                name = str(name).strip()
                if len(name) >= 2 and name in text:
                    text = text.replace(name, mask_name(name))
            vals[i] = text
        v = pd.Series(vals, index=v.index, dtype="object")
    out = s.copy()
    out[has] = v
    return out


def mask_tickets(tickets: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``tickets`` safe to show to someone not handling them.

    Masks ``caller_name``, ``caller_phone`` and, inside ``text`` and
    ``address``, phone numbers, ID numbers and the caller's name.
    """
    out = tickets.copy()
    names = out["caller_name"] if "caller_name" in out.columns else None
    for col in ("text", "address"):
        if col in out.columns:
            out[col] = mask_series(out[col], names)
    if "caller_name" in out.columns:
        out["caller_name"] = out["caller_name"].map(mask_name)
    if "caller_phone" in out.columns:
        out["caller_phone"] = out["caller_phone"].map(mask_phone)
    return out
