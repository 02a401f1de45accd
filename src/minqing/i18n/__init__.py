"""Message catalogs: Simplified Chinese (default) and English.

Strings live in ``zh.toml`` and ``en.toml`` with the same keys; pages never
hold literal user-facing text.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from functools import cache
from importlib import resources

import pandas as pd

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


@cache
def catalog(lang: str) -> dict[str, str]:
    """Return the flat ``{key: text}`` catalog of ``lang``."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; allowed: {', '.join(LANGS)}")
    raw = tomllib.loads((resources.files("minqing.i18n") / f"{lang}.toml").read_text(encoding="utf-8"))
    return dict(_flatten(raw))


def _flatten(tree: dict, prefix: str = ""):
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, full + ".")
        else:
            yield full, str(value)


def t(key: str, lang: str = DEFAULT_LANG, **params) -> str:
    """Return the text of ``key`` in ``lang`` with ``params`` filled in.

    A missing key returns the key itself, so a gap shows on screen instead of
    crashing a meeting; the catalog test catches gaps before they ship.
    """
    text = catalog(lang if lang in LANGS else DEFAULT_LANG).get(key)
    if text is None:
        return key
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


def fmt_int(n, lang: str = DEFAULT_LANG) -> str:
    """Format an integer with thousands separators (the same in both locales)."""
    if n is None or pd.isna(n):
        return "—"
    return f"{int(n):,}"


def fmt_float(x, digits: int = 1, lang: str = DEFAULT_LANG) -> str:
    """Format a number with ``digits`` decimals."""
    if x is None or pd.isna(x):
        return "—"
    return f"{x:,.{digits}f}"


def fmt_date(d, lang: str = DEFAULT_LANG) -> str:
    """Format a date: ``2025年4月3日`` in Chinese, ``3 Apr 2025`` in English."""
    if d is None or (not isinstance(d, (date, datetime)) and pd.isna(d)):
        return "—"
    d = pd.Timestamp(d)
    if lang == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {d.strftime('%b')} {d.year}"


def fmt_month(d, lang: str = DEFAULT_LANG) -> str:
    """Format a month: ``2025年4月`` or ``Apr 2025``."""
    d = pd.Timestamp(d)
    return f"{d.year}年{d.month}月" if lang == "zh" else d.strftime("%b %Y")


def fmt_lonlat(lon, lat, lang: str = DEFAULT_LANG, digits: int = 4) -> str:
    """Format a point for people: ``北纬 31.2834°，东经 121.5012°`` or ``31.2834°N, 121.5012°E``."""
    if lon is None or lat is None or pd.isna(lon) or pd.isna(lat):
        return "—"
    la, lo = f"{abs(lat):.{digits}f}°", f"{abs(lon):.{digits}f}°"
    if lang == "zh":
        return f"{'北纬' if lat >= 0 else '南纬'} {la}，{'东经' if lon >= 0 else '西经'} {lo}"
    return f"{la}{'N' if lat >= 0 else 'S'}, {lo}{'E' if lon >= 0 else 'W'}"
