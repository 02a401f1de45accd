"""Blank tokens: a cell is blank when its case-folded text is a token, however many distinct cells there are."""

from __future__ import annotations

import pandas as pd

from minqing.ingest.blanks import blank_out
from minqing.ingest.mapping import BLANK_TOKENS

BLANKS = frozenset(b.casefold() for b in BLANK_TOKENS)


def _reference(cells, blanks):
    return ["" if c.casefold() in blanks else c for c in cells]


def test_blank_tokens_among_many_names():
    names = [f"{a}{b}" for a in "张王李赵刘陈杨黄" for b in "伟芳娜敏静丽强磊"]  # 64 distinct names: the Arrow path
    tokens = ["无", "暂无", "空", "NA", "na", "N/A", "null", "NONE", "-", "--", "Nan", "nA"]
    others = ["无名", "空调", "〇", "NAN2", "Ｎａ", "-1", "n/a ", "暂", "ΝΑ"]  # not tokens (Ｎａ and ΝΑ fold otherwise)
    cells = names + tokens + others + names[:5] + tokens[:3]
    got = blank_out(pd.Series(cells, dtype="str"), BLANKS)
    assert got.tolist() == _reference(cells, BLANKS)
    assert got.tolist()[64:76] == [""] * 12 and got.tolist()[76:85] == others
    custom = frozenset({"不详", "x"})  # a mapping's own tokens: Han characters of them are kept
    cells = names + ["不详", "不", "详细", "X", "x", "不详 "]
    assert blank_out(pd.Series(cells, dtype="str"), custom).tolist() == _reference(cells, custom)
    assert blank_out(pd.Series(cells, dtype=object), custom).tolist() == _reference(cells, custom)


def test_the_length_test_on_bytes_keeps_every_token_and_only_tokens():
    """Arrow cells are first sifted by their bytes (up to 4 a character): a token of many bytes is still found,
    a cell longer in characters than any token is never one, whatever its bytes."""
    tokens = frozenset({"无", "n/a", "𠀀𠀀"})  # 3, 3 and 8 bytes; the longest token has 3 characters
    cells = ["无", "N/A", "𠀀𠀀", "𠀀𠀀𠀀", "无无无无", "ab", "𠀀𠀀x", "n/a𠀀", "😀😀😀", "", None]
    for dtype in ("str", object):
        got = blank_out(pd.Series(cells, dtype=dtype), tokens).tolist()
        assert got[:3] == ["", "", ""]
        assert got[3:10] == cells[3:10] and pd.isna(got[10])


def test_ascii_cells_looked_up_in_arrow_fold_as_python_folds():
    """Many distinct ASCII cells (ids, phone numbers) and the non-ASCII cells whose folding is ASCII (ß -> ss,
    the Kelvin sign -> k, the long s -> s): each blank exactly when its Python case folding is a token."""
    tokens = frozenset({"na", "ss", "k", "s/n", "无"})
    ids = [f"A{i:05d}" for i in range(500)] + [f"1380013{i:04d}" for i in range(300)]
    cells = ids + ["NA", "nA", "Na", "SS", "ß", "ẞ", "\u212a", "K", "ſ/n", "S/N", "s/N ", "n a", "无", "無", "Ｋ", None, ""]
    for dtype in ("str", object):
        got = blank_out(pd.Series(cells, dtype=dtype), tokens).tolist()
        want = [None if c is None else ("" if c.casefold() in tokens else c) for c in cells]
        assert [None if (g is None or (not isinstance(g, str) and pd.isna(g))) else g for g in got] == want, dtype
        assert got[:800] == ids


def test_summary_ids_found_in_arrow_as_python_finds_them():
    """The Arrow sift of summary-word ids (合计, Total) keeps what Python's expression matches: Unicode
    white space inside (合\u3000计), case folding (ſum, TOTAL), and no plain id."""
    import re

    from minqing.ingest.normalise import SUMMARY_ID, _summary_ids

    cells = ["合计", "合\u3000计", " 小 计：", "ſum", "SUM", "Grand Totals", "TOTAL:", "subtotal", "總計", "累\u00a0计",
             "S123", "sum1", "ST2024", "YP2411000001", "合计A", "", None] + [f"YP{i:08d}" for i in range(200)]
    want = [c is not None and re.fullmatch(SUMMARY_ID, c) is not None for c in cells]
    assert sum(want) == 10
    for dtype in ("str", object):
        assert _summary_ids(pd.Series(cells, dtype=dtype)).tolist() == want, dtype
