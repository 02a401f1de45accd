"""Address matching against the gazetteer: exact, fuzzy and the threshold."""

from __future__ import annotations

import numpy as np

from minqing.ingest.geocode import build_gazetteer, match_addresses


def test_address_matching_exact_fuzzy_and_threshold(tiny_places):
    gaz = build_gazetteer(tiny_places)
    m = match_addresses(["测试医院门口东侧", "测试小区3号楼", "测试医院们口", "完全无关的地址", ""], gaz, threshold=80)
    assert m.name[0] == "测试医院门口" and m.score[0] == 100
    assert m.name[1] == "测试小区3号楼" or m.name[1] == "测试小区" or m.ref[1] == "P1"
    assert m.ref[2] == "H1" and 80 <= m.score[2] < 100  # one wrong character: fuzzy match
    assert m.name[3] is None and np.isnan(m.lon[3])
    assert m.name[4] is None
    strict = match_addresses(["测试医院们口"], gaz, threshold=95)
    assert strict.name[0] is None
