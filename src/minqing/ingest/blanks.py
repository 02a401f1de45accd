"""Blank tokens: cell texts (``NA``, ``无``, ...; case-insensitive) that stand for no value.

:func:`blank_out` makes them ``""`` in a column of trimmed cell texts, vectorised: only short
cells can be a token; of Arrow strings the ASCII cells are looked up in Arrow by their lower case
(an ASCII text's case folding), the cells holding a Han character no token holds are left out,
and each distinct cell left is case-folded once as a Python string.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def blank_out(raw: pd.Series, blanks) -> pd.Series:
    """Return trimmed cell texts with the blank tokens (``NA``, ``无``, ...; case-insensitive) made ``""``."""
    if not blanks or raw.empty:
        return raw
    short = _short(raw, max(len(b) for b in blanks))
    if short is None:
        return raw
    cand = raw[short]
    if _arrow(cand) is not None:
        hit = _arrow_hits(_arrow(cand), blanks)
        if not hit.any():
            return raw
        where = np.zeros(len(raw), dtype=bool)
        where[np.flatnonzero(short)[hit]] = True
        return raw.mask(where, "")
    hit = [u for u in _may_be_tokens(cand.unique(), blanks) if isinstance(u, str) and u.casefold() in blanks]
    if not hit:
        return raw
    out = raw.copy()
    out[short] = cand.where(~cand.isin(hit), "")
    return out


def _arrow(s: pd.Series):
    return pa.array(s.array) if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow" else None


def _arrow_hits(arr: pa.Array, blanks) -> np.ndarray:
    """Which Arrow cells are tokens. An ASCII cell's case folding is its ASCII lower case: those (ids, phone
    numbers, codes) are looked up in Arrow, no Python string made; the others as distinct Python strings."""
    ascii_ = pc.fill_null(pc.string_is_ascii(arr), False)
    tokens = pa.array(sorted(b for b in blanks if b.isascii()), type=pa.string())
    hit = pc.fill_null(pc.and_(ascii_, pc.is_in(pc.ascii_lower(arr), value_set=tokens)), False)
    other = pc.and_(pc.invert(ascii_), pc.is_valid(arr))
    if pc.any(other).as_py():
        found = [u for u in _may_be_tokens(pc.unique(arr.filter(other)), blanks) if u.casefold() in blanks]
        if found:
            hit = pc.or_(hit, pc.fill_null(pc.and_(other, pc.is_in(arr, value_set=pa.array(found, pa.string()))), False))
    return hit.to_numpy(zero_copy_only=False)


def _short(raw: pd.Series, longest: int):
    """Where a cell may be a token (at most ``longest`` characters), or None if nowhere.

    Only short cells can be one: a vectorised length test spares long texts any further work.
    Of Arrow strings the test is on bytes (a character is at most 4), read from the offsets
    without scanning the text; it lets through a few cells too long, which the exact test drops.
    """
    arr = _arrow(raw)
    if arr is not None:
        size = pc.binary_length(arr)
        short = pc.fill_null(pc.less_equal(size, 4 * longest), False).to_numpy(zero_copy_only=False)
    else:
        short = raw.str.len().le(longest).fillna(False).to_numpy(dtype=bool)
    return short if short.any() else None


def _may_be_tokens(uniq, blanks) -> list:
    """The distinct cells that may be blank tokens, as Python values.

    Of Arrow strings (found by Arrow, no Python string for the others): a cell holding a Han
    character that no token holds is none (Han characters have no case, folding keeps them),
    which leaves out nearly every name in a 来电人 column.
    """
    if not isinstance(uniq, (pd.api.extensions.ExtensionArray, pa.Array)) or len(uniq) < 64:
        return uniq.to_pylist() if isinstance(uniq, pa.Array) else list(uniq)
    arr = pa.array(uniq) if not isinstance(uniq, pa.Array) else uniq
    kept = _token_han(blanks)
    other = pc.match_substring_regex(arr, f"[^\\P{{Han}}{kept}]" if kept else r"\p{Han}")  # a Han character not kept
    return arr.filter(pc.invert(pc.fill_null(other, False))).to_pylist()


@lru_cache(maxsize=16)
def _token_han(blanks: frozenset) -> str:
    """The Han characters of the blank tokens (``无暂空``)."""
    chars = sorted({ch for b in blanks for ch in b})
    han = pc.match_substring_regex(pa.array(chars, type=pa.string()), r"\p{Han}").to_pylist() if chars else []
    return "".join(ch for ch, h in zip(chars, han) if h)
