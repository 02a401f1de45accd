"""Row hashes of a chunk of strings, read from the Arrow buffers (compiled, numba).

:func:`row_hashes` gives what ``pandas.util.hash_pandas_object(frame, index=False)`` gives
(the hash stored with every ticket and compared on re-import, so it must not change):
each cell is hashed with SipHash-2-4 (pandas' key) over its UTF-8 bytes and mixed, and
the columns are combined as CPython combines a tuple's hashes. pandas turns every text
column into Python strings to hash it; here a column of Arrow strings is hashed from its
offsets and bytes, with no Python object per cell. Any other column (object strings from
a workbook, numbers, a column with missing values) is hashed by pandas' own
:func:`pandas.util.hash_array`.

Compiled code is cached on disk (``cache=True``, see :mod:`minqing.kernels`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from minqing.ingest.textscan import arrow_strings

HASH_KEY = b"0123456789123456"
"""pandas' default hash key (``pandas.core.util.hashing._default_hash_key``)."""
_K0 = np.uint64(int.from_bytes(HASH_KEY[:8], "little"))
_K1 = np.uint64(int.from_bytes(HASH_KEY[8:], "little"))


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """Return one uint64 per row: ``pandas.util.hash_pandas_object(frame, index=False)`` as an array.

    Parameters
    ----------
    frame : DataFrame
        Any columns; Arrow string columns without missing values are hashed here, the others by pandas.
    """
    return _combine([column_hashes(s) for _, s in frame.items()], len(frame))


def column_hashes(values: pd.Series) -> np.ndarray:
    """Return one uint64 per value: ``pandas.util.hash_pandas_object(values, index=False)`` as an array.

    Parameters
    ----------
    values : Series
        Arrow strings without missing values are hashed here, anything else by pandas.
    """
    chunks = arrow_strings(values)
    if chunks is None:
        return pd.util.hash_pandas_object(values, index=False).to_numpy()
    out = np.empty(len(values), dtype=np.uint64)
    start = 0
    for data, off in chunks:
        _siphash_cells(data, off, _K0, _K1, out[start : start + len(off) - 1])
        start += len(off) - 1
    return _mix(out)


def _mix(h: np.ndarray) -> np.ndarray:
    """pandas' spreading of 64-bit hashes (``pandas.core.util.hashing._hash_ndarray``), in place."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def _combine(arrays: list, length: int) -> np.ndarray:
    """pandas' ``combine_hash_arrays`` (CPython's tuple hash) of the columns' hashes."""
    if not arrays:
        return np.full(length, 0x345678 + 97531, dtype=np.uint64)
    num_items = len(arrays)
    mult = np.uint64(1000003)
    out = np.zeros_like(arrays[0]) + np.uint64(0x345678)
    for i, a in enumerate(arrays):
        inverse_i = num_items - i
        out ^= a
        out *= mult
        mult += np.uint64(82520 + inverse_i + inverse_i)
    out += np.uint64(97531)
    return out


@njit(cache=True, inline="always")
def _rotl(x, b):
    return (x << np.uint64(b)) | (x >> np.uint64(64 - b))


@njit(cache=True, inline="always")
def _sipround(v0, v1, v2, v3):
    v0 += v1
    v1 = _rotl(v1, 13)
    v1 ^= v0
    v0 = _rotl(v0, 32)
    v2 += v3
    v3 = _rotl(v3, 16)
    v3 ^= v2
    v0 += v3
    v3 = _rotl(v3, 21)
    v3 ^= v0
    v2 += v1
    v1 = _rotl(v1, 17)
    v1 ^= v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


@njit(cache=True)
def _siphash_cells(data, offsets, k0, k1, out):
    """SipHash-2-4 of each cell ``data[offsets[i]:offsets[i + 1]]`` into ``out[i]`` (the reference algorithm)."""
    for i in range(len(out)):
        lo = offsets[i]
        n = offsets[i + 1] - lo
        v0 = k0 ^ np.uint64(0x736F6D6570736575)
        v1 = k1 ^ np.uint64(0x646F72616E646F6D)
        v2 = k0 ^ np.uint64(0x6C7967656E657261)
        v3 = k1 ^ np.uint64(0x7465646279746573)
        end = lo + n - (n % 8)
        p = lo
        while p < end:
            m = np.uint64(0)
            for j in range(8):
                m |= np.uint64(data[p + j]) << np.uint64(8 * j)
            v3 ^= m
            v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
            v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
            v0 ^= m
            p += 8
        b = np.uint64(n & 0xFF) << np.uint64(56)
        for j in range(n % 8):
            b |= np.uint64(data[end + j]) << np.uint64(8 * j)
        v3 ^= b
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
        v0 ^= b
        v2 ^= np.uint64(0xFF)
        for _ in range(4):
            v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
        out[i] = v0 ^ v1 ^ v2 ^ v3


def warm_up() -> None:
    """Compile (or load from the cache) the kernel on a tiny input."""
    column_hashes(pd.Series(["", "warm"], dtype="str"))
