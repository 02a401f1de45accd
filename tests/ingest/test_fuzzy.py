"""Fuzzy matching: the bound that rules candidates out never changes which name wins."""

from __future__ import annotations

import random

from rapidfuzz import fuzz, process

from minqing.ingest.fuzzy import FuzzyIndex


def _every_candidate(index: FuzzyIndex, text: str, threshold: float):
    """What matching gives with no candidate ruled out."""
    names = [index.names[i] for i in index.candidates(text)]
    best = process.extractOne(text, names, scorer=fuzz.partial_ratio, score_cutoff=threshold) if names else None
    return None if best is None else (best[0], float(best[1]))


def test_hand_checked_matches():
    index = FuzzyIndex(["测试医院门口", "测试小区", "隆昌路小区", "长阳路1号"])
    assert index.names == sorted(index.names)
    got = index.best(["测试医院们口", "隆昌路小区3号", "完全无关的地址", "长阳镇", "阳长镇"], 80.0)
    assert got[0][0] == "测试医院门口" and 80 <= got[0][1] < 100  # one wrong character
    assert got[1] == ("隆昌路小区", 100.0)
    assert got[2] is None  # no candidate
    assert got[3] == ("长阳路1号", 80.0)  # the window 长阳 (at the start): 2 * 2 / (3 + 2)
    assert got[4] is None  # a candidate, below 80 (one character in order)


def test_the_bound_rules_out_only_names_that_cannot_win():
    rng = random.Random(5)
    alphabet = "路弄号小区医院门口长阳隆昌江浦平凉国和控江0123456789"
    names = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randrange(4, 12))) for _ in range(300)})
    index = FuzzyIndex(names)
    texts = []
    for _ in range(1500):
        if rng.random() < 0.5:  # a name with a typo, inside other text
            name = rng.choice(names)
            k = rng.randrange(len(name))
            texts.append(rng.choice(["", "近", "12"]) + name[:k] + rng.choice(alphabet) + name[k + 1:] + "附近")
        else:
            texts.append("".join(rng.choice(alphabet) for _ in range(rng.randrange(2, 16))))
    for threshold in (60.0, 85.0, 95.0):
        got = index.best(texts, threshold)
        assert got == [_every_candidate(index, t, threshold) for t in texts]
        assert sum(g is not None for g in got) > 20
    cands = [index.candidates(t) for t in texts]
    assert 0 < index._may_reach(texts, cands, 85.0).mean() < 0.9  # the bound does rule candidates out
