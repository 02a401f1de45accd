"""The compiled trie walk finds the mention the gazetteer's trie-shaped expression finds (RE2 and Python's re)."""

from __future__ import annotations

import random
import re

import pyarrow as pa
import pyarrow.compute as pc

from minqing.ingest.geocode import _trie_regex
from minqing.ingest.mentions import NameTrie


def _expression(names):
    """The trie-shaped expression without its digit boundaries (as the exact match ran it on RE2)."""
    return _trie_regex(names).pattern[len(r"(?<!\d)("):-len(r")(?!\d)")]


def test_first_start_then_longest_name():
    names = ["测试医院", "测试医院门口", "医院门口东", "长阳路", "长阳路1号"]
    trie = NameTrie(names)
    texts = ["在测试医院门口东侧", "测试医院门", "医院门口东", "长阳路1号楼", "长阳路2号", "无", "", "测长阳路"]
    got = [names[k] if k >= 0 else None for k in trie.first_mentions(pa.array(texts))]
    assert got == ["测试医院门口", "测试医院", "医院门口东", "长阳路1号", "长阳路", None, None, "长阳路"]


def test_the_walk_finds_what_re2_and_re_find():
    rng = random.Random(4)
    alphabet = "路弄号小区医院门口长阳隆昌0123AB"
    names = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randrange(2, 7))) for _ in range(150)})
    texts = ["".join(rng.choice(alphabet + "，。 ") for _ in range(rng.randrange(0, 25))) for _ in range(3000)]
    body = _expression(names)
    want_re2 = pc.extract_regex(pa.array(texts), f"(?P<m>{body})").field("m").to_pylist()
    pattern = re.compile(body)
    want_re = [m.group(0) if (m := pattern.search(t)) else None for t in texts]
    got = [names[k] if k >= 0 else None for k in NameTrie(names).first_mentions(pa.array(texts))]
    assert got == [w or None for w in want_re2] == want_re
    assert sum(g is not None for g in got) > 1000
    sliced = pa.chunked_array([pa.array(texts[:7]), pa.array(texts[7:])]).slice(3, 500)  # offsets not from 0
    assert [names[k] if k >= 0 else None for k in NameTrie(names).first_mentions(sliced)] == got[3:503]
