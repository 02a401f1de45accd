"""The first gazetteer name each text mentions, found by walking a trie of the names' UTF-8 bytes (compiled, numba).

The rule is that of the gazetteer's trie-shaped regular expression run with leftmost-first
semantics (RE2, Python's ``re``): the mention that starts first wins, and of the names
starting there the longest (the trie's optional endings are greedy). Matching bytes is
matching characters: UTF-8 is prefix-free, and a name never starts with a continuation
byte, so no match can start inside a character.

Compiled code is cached on disk (``cache=True``, see :mod:`minqing.kernels`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minqing.ingest.textscan import arrow_strings


class NameTrie:
    """The names' UTF-8 bytes as a trie in flat arrays (the root's children by byte, the others' sorted)."""

    def __init__(self, names):
        children: list[dict] = [{}]
        word = [-1]
        for k, name in enumerate(names):
            node = 0
            for b in name.encode("utf-8"):
                nxt = children[node].get(b)
                if nxt is None:
                    nxt = len(children)
                    children[node][b] = nxt
                    children.append({})
                    word.append(-1)
                node = nxt
            if word[node] < 0:
                word[node] = k
        self.root = np.full(256, -1, dtype=np.int64)
        for b, child in children[0].items():
            self.root[b] = child
        counts = np.array([len(c) for c in children], dtype=np.int64)
        self.first = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.label = np.zeros(int(counts.sum()), dtype=np.uint8)
        self.child = np.zeros(int(counts.sum()), dtype=np.int64)
        for node, edges in enumerate(children):
            for e, b in enumerate(sorted(edges)):
                self.label[self.first[node] + e] = b
                self.child[self.first[node] + e] = edges[b]
        self.word = np.array(word, dtype=np.int64)

    def first_mentions(self, texts) -> np.ndarray:
        """The number (in ``names``) of the first name each text mentions, -1 where none.

        Parameters
        ----------
        texts : Series of str or pyarrow string Array
            No missing values.
        """
        out = np.full(len(texts), -1, dtype=np.int64)
        chunks = arrow_strings(texts)
        if chunks is None:
            raise ValueError("first_mentions needs Arrow strings without missing values")
        start = 0
        for data, off in chunks:
            _first_mentions(data, off, self.root, self.first, self.label, self.child, self.word,
                            out[start : start + len(off) - 1])
            start += len(off) - 1
        return out


@njit(cache=True)
def _first_mentions(data, offsets, root, first, label, child, word, out):
    for t in range(len(out)):
        hi = offsets[t + 1]
        i = offsets[t]
        found = -1
        while i < hi and found < 0:
            node = root[data[i]]
            if node >= 0:
                found = word[node]
                j = i + 1
                while j < hi:
                    b = data[j]
                    nxt = -1
                    for e in range(first[node], first[node + 1]):
                        if label[e] >= b:
                            if label[e] == b:
                                nxt = child[e]
                            break
                    if nxt < 0:
                        break
                    node = nxt
                    if word[node] >= 0:
                        found = word[node]  # a longer name from the same start
                    j += 1
            i += 1
        out[t] = found


def warm_up() -> None:
    """Compile (or load from the cache) the kernel on a tiny input."""
    import pyarrow as pa

    NameTrie(["测试医院门口"]).first_mentions(pa.array(["在测试医院门口东侧"]))
