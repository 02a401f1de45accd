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


def test_each_distinct_text_is_matched_once_and_given_to_every_row(tiny_places, monkeypatch):
    import pandas as pd

    from minqing.ingest import geocode

    gaz = build_gazetteer(tiny_places)
    texts = ["测试医院们口", "测试小区3号楼", "测试医院们口", None, "  ", "测试小区3号楼", "完全无关的地址"]
    seen = []
    real = geocode._match
    monkeypatch.setattr(geocode, "_match", lambda s, *a: seen.append(list(s)) or real(s, *a))
    for given in (texts, pd.Series(texts, dtype="str")):  # object values, and a str Series kept in Arrow
        m = match_addresses(given, gaz, threshold=80)
        one = [match_addresses([t], gaz, threshold=80) for t in texts]  # each text alone
        assert m.name.tolist() == [x.name[0] for x in one]
        assert m.ref.tolist() == [x.ref[0] for x in one]
        assert m.score.tolist() == [x.score[0] for x in one]
        assert m.pointlike.tolist() == [x.pointlike[0] for x in one]
        assert np.array_equal(m.lon, np.array([x.lon[0] for x in one]), equal_nan=True)
        assert m.name[0] == m.name[2] == "测试医院门口" and m.name[1] == m.name[5] and m.name[3] is None
        assert sorted(seen[0], key=str) == sorted(["测试医院们口", "测试小区3号楼", "", "  ", "完全无关的地址"])
        seen.clear()


def test_an_exact_mention_glued_to_a_digit_does_not_count(tiny_places):
    gaz = build_gazetteer(tiny_places)
    m = match_addresses(["1测试小区 测试医院门口", "测试小区2", "测试小区 2", "近测试路段口"], gaz, threshold=100, fuzzy=False)
    assert m.name.tolist() == ["测试医院门口", None, "测试小区", "测试路段"]
    assert m.score.tolist() == [100.0, 0.0, 100.0, 100.0]
