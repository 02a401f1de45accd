"""Bytes of a Chinese double-byte encoding turned into UTF-8, compiled (numba), as Python's codec reads them.

A GBK/GB18030 export is decoded block by block before Arrow parses it; Python's codec
(``bytes.decode`` then ``str.encode("utf-8")``) makes a Python string of every block on the
way. :func:`to_utf8` goes from bytes to UTF-8 bytes directly, with a table taken from
Python's own codec: what each single byte reads as, and what each two-byte sequence reads
as. It handles only what the table holds; a byte it cannot read alone or in a pair (a
GB18030 four-byte sequence, an invalid byte) makes it give up, and the caller decodes the
block with Python as before. The result is then always the bytes Python's codec would give.

Compiled code is cached on disk (``cache=True``, see :mod:`minqing.kernels`).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numba import njit

ENCODINGS = ("gb18030", "gbk", "gb2312", "big5")
"""Encodings read here: ASCII-compatible, every other character one lead byte and one trail byte
(GB18030's four-byte sequences, rare in exports, are left to Python)."""


def to_utf8(data: bytes, encoding: str) -> memoryview | None:
    """Return the bytes of ``data.decode(encoding).encode("utf-8")``, or None when the tables cannot read it all.

    Parameters
    ----------
    data : bytes
    encoding : str
        One of :data:`ENCODINGS` (any spelling Python's codecs accept, e.g. ``GB18030``).
    """
    single, pair = _tables(_name(encoding))
    raw = np.frombuffer(data, dtype=np.uint8)
    out = np.empty(3 * len(raw), dtype=np.uint8)  # a byte gives at most 3 bytes, a pair at most 3 (the BMP)
    n = _transcode(raw, single, pair, out)
    return None if n < 0 else memoryview(out[:n])  # no copy: Arrow reads it as it is


def readable(encoding: str | None) -> bool:
    """True when :func:`to_utf8` reads ``encoding``."""
    return _name(encoding) in ENCODINGS


def _name(encoding: str | None) -> str:
    return (encoding or "").lower().replace("_", "").replace("-", "")


@cache
def _tables(encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """The code point of each byte read alone, and of each (lead, trail) pair; -1 where Python's codec reads none.

    A byte that reads alone is never a lead byte (these encodings are prefix codes); a pair
    counts only when it reads as exactly one character that UTF-8 can hold (no surrogate).
    """
    single = np.full(256, -1, dtype=np.int32)
    pair = np.full((256, 256), -1, dtype=np.int32)
    for b in range(256):
        try:
            ch = bytes([b]).decode(encoding)
        except UnicodeDecodeError:
            continue
        if len(ch) == 1 and ord(ch) < 0x10000 and not 0xD800 <= ord(ch) <= 0xDFFF:
            single[b] = ord(ch)
    for lead in np.flatnonzero(single < 0).tolist():
        for trail in range(256):
            try:
                ch = bytes([lead, trail]).decode(encoding)
            except UnicodeDecodeError:
                continue
            if len(ch) == 1 and ord(ch) < 0x10000 and not 0xD800 <= ord(ch) <= 0xDFFF:
                pair[lead, trail] = ord(ch)
    return single, pair.ravel()


@njit(cache=True)
def _transcode(data, single, pair, out):
    """Write the UTF-8 of ``data`` into ``out``; return its length, or -1 at the first byte the tables cannot read.

    ``pair`` is flat: the pair (lead, trail) is at ``lead << 8 | trail``.
    """
    i = 0
    o = 0
    n = len(data)
    while i < n:
        b = data[i]
        if b < 0x80 and single[b] == b:  # ASCII, as in every encoding read here
            out[o] = b
            o += 1
            i += 1
            continue
        cp = single[b]
        if cp >= 0:
            i += 1
        else:
            if i + 1 >= n:
                return -1
            cp = pair[(np.int64(b) << 8) | data[i + 1]]
            if cp < 0:
                return -1
            i += 2
        if cp < 0x80:
            out[o] = cp
            o += 1
        elif cp < 0x800:
            out[o] = 0xC0 | (cp >> 6)
            out[o + 1] = 0x80 | (cp & 0x3F)
            o += 2
        else:
            out[o] = 0xE0 | (cp >> 12)
            out[o + 1] = 0x80 | ((cp >> 6) & 0x3F)
            out[o + 2] = 0x80 | (cp & 0x3F)
            o += 3
    return o


def warm_up() -> None:
    """Compile (or load from the cache) the kernel on a tiny input."""
    to_utf8("工单".encode("gb18030"), "gb18030")
