"""Fuzzy address matching: candidate names, a bound that rules most of them out, rapidfuzz for the rest.

An address with no exact mention of a gazetteer name is scored with rapidfuzz's
``fuzz.partial_ratio`` against the names sharing a two-character start or end with it (one
typo leaves the first or the last two characters intact); the best at or above the
threshold wins (ties: the first name in sorted order).

Most candidates cannot reach the threshold, and that can be seen without scoring them:
``partial_ratio`` is the best ``ratio`` of the shorter string against a window of the
longer, ``ratio = 200 * LCS / (len(a) + len(b))``, and a common subsequence uses no more of
a character than both strings hold. With ``m`` the shorter length and ``c`` the characters
the two have in common (counted with repeats, at most ``m``), every window scores at most
``200 * c / (m + c)``. A candidate whose bound is below the threshold would not be chosen,
so leaving it out changes no result; the bound is computed for all candidates at once (compiled,
numba: cached on disk, see :mod:`minqing.kernels`).
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

_MARGIN = 1e-6
"""Scores are floats: a candidate is left out only when its bound is clearly below the threshold."""


class FuzzyIndex:
    """The gazetteer's names prepared for :meth:`best`: sorted, their two-character ends and character counts."""

    def __init__(self, names):
        self.names = sorted(set(names))  # a name's position here is its number: numbers sort as names do
        self.ends: dict[str, set] = {}
        for i, name in enumerate(self.names):
            self.ends.setdefault(name[:2], set()).add(i)
            self.ends.setdefault(name[-2:], set()).add(i)
        self.vocab = {ch: k for k, ch in enumerate(sorted({ch for name in self.names for ch in name}))}
        per_name = [sorted(set(name)) for name in self.names]
        width = max((len(chars) for chars in per_name), default=0)
        self.chars = np.full((len(self.names), width), len(self.vocab), dtype=np.int64)
        self.counts = np.zeros((len(self.names), width), dtype=np.int64)  # 0 ends a name's characters
        for i, (name, chars) in enumerate(zip(self.names, per_name)):
            self.chars[i, : len(chars)] = [self.vocab[ch] for ch in chars]
            self.counts[i, : len(chars)] = [name.count(ch) for ch in chars]
        self.length = np.array([len(name) for name in self.names], dtype=np.int64)

    def candidates(self, text: str) -> list:
        """The numbers of the names sharing a two-character start or end with two characters of ``text``, in order."""
        found: set = set()
        for k in range(len(text) - 1):
            found |= self.ends.get(text[k : k + 2], set())
        return sorted(found)

    def best(self, texts, threshold: float) -> list:
        """The best name of each text and its score (``partial_ratio``, at least ``threshold``), or None."""
        from rapidfuzz import fuzz, process

        cands = [self.candidates(t) for t in texts]
        keep = self._may_reach(texts, cands, threshold)
        out = []
        start = 0
        for text, numbers in zip(texts, cands):
            kept = [self.names[i] for i, k in zip(numbers, keep[start : start + len(numbers)]) if k]
            start += len(numbers)
            best = process.extractOne(text, kept, scorer=fuzz.partial_ratio, score_cutoff=threshold) if kept else None
            out.append(None if best is None else (best[0], float(best[1])))
        return out

    def _may_reach(self, texts, cands, threshold: float) -> np.ndarray:
        """For every (text, candidate) pair in order: False when ``partial_ratio`` cannot reach ``threshold``."""
        sizes = np.array([len(c) for c in cands], dtype=np.int64)
        if not sizes.sum():
            return np.zeros(0, dtype=bool)
        text_of = np.repeat(np.arange(len(texts)), sizes)
        name_of = np.fromiter(itertools.chain.from_iterable(cands), dtype=np.int64, count=int(sizes.sum()))
        other = len(self.vocab) + 1  # columns: the names' characters, then any other character
        ids = np.fromiter((self.vocab.get(ch, other - 1) for t in texts for ch in t), dtype=np.int64)
        lengths = np.array([len(t) for t in texts], dtype=np.int64)
        rows = np.repeat(np.arange(len(texts)), lengths)
        held = np.bincount(rows * other + ids, minlength=len(texts) * other).reshape(len(texts), other)
        common = np.empty(len(text_of), dtype=np.int64)
        _common(held, text_of, name_of, self.chars, self.counts, common)
        m = np.minimum(lengths[text_of], self.length[name_of])
        c = np.minimum(common, m)
        return 200.0 * c >= (threshold - _MARGIN) * (m + c)


@njit(cache=True)
def _common(held, text_of, name_of, chars, counts, out):
    """Characters each (text, name) pair has in common, counted with repeats (``held``: text x character counts)."""
    for p in range(len(out)):
        t = text_of[p]
        n = name_of[p]
        total = 0
        for j in range(chars.shape[1]):
            k = counts[n, j]
            if k == 0:
                break
            h = held[t, chars[n, j]]
            total += min(k, h)
        out[p] = total


def warm_up() -> None:
    """Compile (or load from the cache) the kernel on a tiny input."""
    FuzzyIndex(["测试医院门口"]).best(["测试医院们口"], 80.0)
