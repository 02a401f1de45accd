"""The fast CSV path (Arrow reads the records) gives exactly what the general path (pandas) gives.

Every check runs both paths: the general one by making :func:`_arrow_body` refuse, as it does
for records it would read differently. Frames, stored tickets, the quarantine and the report
must not differ, on hostile files too (GBK, CR-only line ends, stray quotes, GBK lines inside
UTF-8, blank tokens, bad times, short and long records).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from import_helpers import run_import

from minqing.ingest import csv_blocks as R
from minqing.ingest.csv_blocks import csv_blocks, parse_csv_block
from minqing.ingest.readers import open_source
from minqing.ingest.source import Source

HEADER = "工单编号,受理时间,诉求内容,经度,纬度"
GOOD = ['YP1,2025-04-01 08:00,"含,逗号",121.505,31.285', 'YP2,2025-04-02,"多\n行",121.506,31.286',
        'YP3,,"a""b",,', 'YP4,2025-04-03,x"y 中间引号,121.505,31.285', '"YP5"z,2025-04-03,收尾,121.5,31.28',
        'YP6,2025-04-04,尾空格 ,  ,', ',,,,', 'YP7,2025/4/5,"\r嵌入回车",121.507,31.287',
        'YP8,NA,无,无,NA', 'YP9,2025-13-45 99:99,坏时间,121.505,31.285', 'YP10,2025-04-06,"  ",121.505,31.285']
HOSTILE = [None, "YP20,短", "YP21,1,2,3,4,5,6", "   ", 'YP22,"未闭合,1,2,3', '"', 'YP23,"a"b"c,1,2,3']
EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"


@pytest.fixture
def store_factory(tmp_path, tiny_units, tiny_places):
    """New empty stores of the tiny city."""
    from minqing.store import open_store

    made = []

    def make():
        s = open_store(f"sqlite:///{tmp_path / f'city{len(made)}.sqlite'}")
        s.write_units(tiny_units.drop(columns="unit_uid"))
        s.write_places(tiny_places)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def _both(src: Source, header: bytes, body: bytes, errors: str):
    """The frame (or error type) from the general path and from :func:`R._parse_block`."""
    out = []
    for parse in (lambda: R._parse_bytes(src, header + body, errors), lambda: R._parse_block(src, header, body, errors)):
        try:
            out.append(parse())
        except Exception as exc:  # noqa: BLE001 - both paths must fail alike
            out.append(type(exc))
    return out


def _cases():
    for enc in ("utf-8", "utf-8-sig", "gb18030"):
        for eol in ("\n", "\r\n", "\r"):
            for extra in HOSTILE:
                for k in (1, 3, 6):
                    body = GOOD[:k] + ([extra] if extra is not None else []) + GOOD[k:]
                    yield enc, eol, extra, (HEADER + eol + eol.join(body) + eol * (k % 3)).encode(enc)


def test_arrow_path_equals_pandas_on_hostile_records():
    fast = 0
    for enc, eol, extra, data in _cases():
        src = Source(path=Path("x.csv"), format="csv", encoding=enc, delimiter=",")
        cut = int(R._record_ends(data, 0x2C)[0])
        ref, got = _both(src, data[:cut], data[cut:], "strict" if enc.startswith("utf") else "replace")
        if isinstance(ref, type) or isinstance(got, type):
            assert ref == got, (enc, eol, extra)
        else:
            pd.testing.assert_frame_equal(ref, got)
            fast += extra is None
    assert fast == 27  # the clean files: every one read by Arrow, not only handed back to pandas


def test_arrow_path_taken_on_a_clean_block():
    data = (HEADER + "\n" + "\n".join(GOOD) + "\n").encode("gb18030")
    cut = int(R._record_ends(data, 0x2C)[0])
    assert R._arrow_body(data[cut:].decode("gb18030").encode("utf-8"), 5, ",") is not None


def test_arrow_refuses_what_pandas_reads_differently():
    for rec in ("YP20,短", "YP21,1,2,3,4,5,6", "   ", 'YP22,"未闭合,1,2,3'):
        assert R._arrow_body(("YP1,a,b,c,d\n" + rec + "\n").encode("utf-8"), 5, ",") is None


def _blocks(path: Path, size: int) -> pd.DataFrame:
    src = open_source(path)
    parts = [parse_csv_block(src, h, b) for h, b in csv_blocks(src, size)]
    return pd.concat([p for p, _ in parts], ignore_index=True), sum(f for _, f in parts)


def _example_csvs():
    return sorted(EXAMPLES.glob("*.csv"))


@pytest.mark.parametrize("path", _example_csvs(), ids=lambda p: p.name)
@pytest.mark.parametrize("size", [1 << 10, 1 << 14, 1 << 24])
def test_example_files_read_alike(path, size, monkeypatch):
    fast, fast_fixes = _blocks(path, size)
    monkeypatch.setattr(R, "_arrow_body", lambda *a, **k: None)
    ref, ref_fixes = _blocks(path, size)
    pd.testing.assert_frame_equal(ref, fast)
    assert ref_fixes == fast_fixes


def _hostile_file(tmp_path: Path, enc: str, eol: str, gbk_lines: bool = False) -> Path:
    rows = [HEADER] + [f"H{i},2025-04-{1 + i % 28:02d} 08:{i % 60:02d},投诉{i} 路灯,121.50{i % 9},31.28{i % 9}"
                       for i in range(40)] + GOOD
    data = eol.join(rows).encode(enc) + eol.encode()
    if gbk_lines:  # two lines of a UTF-8 file saved in GBK
        data += eol.join(["G1,2025-04-09,噪音扰民,121.505,31.285", "G2,2025-04-10,垃圾,121.505,31.285"]).encode("gbk")
    path = tmp_path / f"hostile_{enc}_{len(eol)}{eol[0] == chr(13)}_{gbk_lines}.csv"
    path.write_bytes(data)
    return path


def _stored(store) -> tuple:
    t = store.read_tickets().sort_values("source_id").reset_index(drop=True)
    q = store.read_quarantine(include_resolved=True)[["row_number", "source_id", "reason", "detail", "original"]]
    p = store.read_ticket_places().sort_values(list(store.read_ticket_places().columns)).reset_index(drop=True)
    return t, q.sort_values("row_number").reset_index(drop=True), p


@pytest.mark.parametrize("enc,eol,gbk_lines", [("gb18030", "\n", False), ("gb18030", "\r", False),
                                                ("utf-8", "\r\n", True), ("utf-8-sig", "\r", True)])
def test_import_stores_the_same_on_both_paths(store_factory, tmp_path, monkeypatch, enc, eol, gbk_lines):
    path = _hostile_file(tmp_path, enc, eol, gbk_lines)
    keys = ("rows_read", "inserted", "updated", "unchanged", "quarantined", "duplicates", "reasons", "warnings",
            "unknown_values", "unreadable", "linked")
    fast_store = store_factory()
    fast = run_import(fast_store, path, workers=1, block_bytes=700, mapping={"options": {"blank_tokens": ["NA", "无"]}})
    monkeypatch.setattr(R, "_arrow_body", lambda *a, **k: None)
    ref_store = store_factory()
    ref = run_import(ref_store, path, workers=1, block_bytes=700, mapping={"options": {"blank_tokens": ["NA", "无"]}})
    assert {k: getattr(fast, k) for k in keys} == {k: getattr(ref, k) for k in keys}
    assert fast.rows_read > 40 and fast.quarantined and fast.reconciles()
    for a, b in zip(_stored(fast_store), _stored(ref_store)):
        pd.testing.assert_frame_equal(a, b)
