"""What every reader hands on: cells as text, NUL characters shown as ␀ (no store keeps them alike)."""

from __future__ import annotations

import pandas as pd

from minqing.ingest.source import NUL_SIGN, visible_nul


def test_nul_becomes_a_visible_sign_in_text_columns_only():
    frame = pd.DataFrame({"a": ["x\x00y", "plain", None], "b": [1, 2, 3], "c": pd.array(["\x00", "", "z"], dtype="str")})
    out = visible_nul(frame)
    assert out["a"].tolist()[:2] == [f"x{NUL_SIGN}y", "plain"] and pd.isna(out["a"].iloc[2])
    assert out["b"].tolist() == [1, 2, 3]
    assert out["c"].tolist() == [NUL_SIGN, "", "z"]


def test_a_csv_with_nul_imports_it_as_the_sign(tmp_path):
    from minqing.ingest.readers import open_source, read_chunks

    path = tmp_path / "nul.csv"
    path.write_bytes("工单编号,诉求内容\nA1,噪音\x00扰民\n".encode())
    chunk = next(read_chunks(open_source(path)))
    assert chunk["诉求内容"].tolist() == [f"噪音{NUL_SIGN}扰民"]


def test_a_csv_block_the_workers_parse_shows_nul_as_the_sign(tmp_path):
    from minqing.ingest.csv_blocks import csv_blocks, parse_csv_block
    from minqing.ingest.readers import open_source

    for enc in ("utf-8", "gb18030"):
        path = tmp_path / f"nul_{enc}.csv"
        path.write_bytes("工单编号,诉求内容,来电人\nA1,噪音\x00扰民,张\nA2,路灯,\x00\n".encode(enc))
        src = open_source(path)
        ((header, body),) = csv_blocks(src)
        frame, _ = parse_csv_block(src, header, body)
        assert frame["诉求内容"].tolist() == [f"噪音{NUL_SIGN}扰民", "路灯"]
        assert frame["来电人"].tolist() == ["张", NUL_SIGN]
        clean, _ = parse_csv_block(src, header, body.replace(b"\x00", b""))  # no NUL: nothing to replace
        assert clean["诉求内容"].tolist() == ["噪音扰民", "路灯"] and clean["来电人"].tolist() == ["张", ""]
