"""GBK/GB18030 bytes to UTF-8 without Python strings: always the bytes Python's codec gives, or nothing."""

from __future__ import annotations

import random

import numpy as np
import pytest

from minqing.ingest.transcode import ENCODINGS, _tables, readable, to_utf8


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_character_the_tables_hold_reads_as_python_reads_it(encoding):
    single, pair = _tables(encoding)
    text = "".join(chr(c) for c in np.concatenate([single[single >= 0], pair[pair >= 0]]))
    data = text.encode(encoding)
    assert bytes(to_utf8(data, encoding)) == text.encode("utf-8")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_any_bytes_read_as_python_reads_them_or_not_at_all(encoding):
    rng = random.Random(7)
    given = 0
    for _ in range(2000):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 10)))
        got = to_utf8(data, encoding)
        if got is not None:
            given += 1
            assert bytes(got) == data.decode(encoding).encode("utf-8")
    assert given > 100


def test_hand_checked_bytes():
    assert bytes(to_utf8(b"\xb9\xa4\xb5\xa5A1,", "GB18030")) == "工单A1,".encode()  # any spelling of the name
    assert to_utf8("😀".encode("gb18030"), "gb18030") is None  # a four-byte sequence: left to Python
    assert to_utf8(b"\xb9", "gb18030") is None  # a lead byte with no trail
    assert to_utf8(b"\xff", "gb18030") is None  # no character
    assert bytes(to_utf8(b"", "gb18030")) == b""
    assert readable("GB-18030") and readable("gbk") and not readable("utf-8") and not readable(None)


def test_a_gb18030_block_with_what_the_tables_cannot_read_parses_as_before(tmp_path):
    from minqing.ingest.csv_blocks import csv_blocks, parse_csv_block
    from minqing.ingest.source import Source

    path = tmp_path / "gb.csv"
    path.write_bytes("工单编号,诉求内容\nA1,噪音扰民\n".encode("gb18030") + b"A2,\xff\xb9\n" +
                     "A3,表情😀\n".encode("gb18030"))
    src = Source(path, "csv", encoding="gb18030", delimiter=",", size=path.stat().st_size)
    ((header, body),) = csv_blocks(src)
    frame, _ = parse_csv_block(src, header, body)
    assert frame["诉求内容"].tolist() == ["噪音扰民", "\ufffd\ufffd", "表情😀"]  # Python's reading, replacements and all
    clean = body.split(b"A2")[0]
    frame, _ = parse_csv_block(src, header, clean)  # read by the tables
    assert frame["工单编号"].tolist() == ["A1"] and frame["诉求内容"].tolist() == ["噪音扰民"]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "gbk"])
def test_a_block_body_is_what_decoding_and_encoding_with_python_gives(encoding):
    from minqing.ingest.csv_blocks import _utf8_body

    rng = random.Random(11)
    pieces = [b"A1,", b"\n", "噪音".encode(encoding), "😀".encode(), b"\xed\xa0\x80", b"\xc0\x80", b"\xff",
              b"\xf4\x90\x80\x80", b"\xe5\x99", "表".encode("gb18030")]
    for _ in range(500):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randrange(0, 6)))
        assert bytes(_utf8_body(data, encoding, "replace")) == data.decode(encoding, "replace").encode("utf-8")
        try:
            want = data.decode(encoding).encode("utf-8")
        except UnicodeDecodeError:  # strict: raised as Python raises it (the reader then re-decodes line by line)
            with pytest.raises(UnicodeDecodeError):
                _utf8_body(data, encoding, "strict")
        else:
            assert bytes(_utf8_body(data, encoding, "strict")) == want
