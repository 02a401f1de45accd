"""Row hashes from Arrow buffers equal pandas' hash_pandas_object (the stored row hash must not change)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from minqing.ingest.rowhash import column_hashes, row_hashes


def _pandas(frame) -> np.ndarray:
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def test_row_hashes_are_pandas_hashes_pinned():
    # pandas' own documented example (hash_pandas_object, index=False): the hashes stored with tickets
    df = pd.DataFrame({"a": pd.Series(["a", "b", "c"], dtype="str")})
    assert row_hashes(df).tolist() == [5694802365760992243, 2797248057711234736, 18202460376300699891]


def test_every_length_and_multibyte_text_hashes_as_pandas_does():
    # every tail length of SipHash's 8-byte blocks, Chinese (3 bytes), emoji (4), NUL, blanks
    cells = ["x" * k for k in range(40)] + ["诉求内容" * k for k in range(12)] + ["😀\x00é", " ", "\n\"'"]
    s = pd.Series(cells, dtype="str")
    assert column_hashes(s).tolist() == _pandas(s).tolist()
    df = pd.DataFrame({"a": s, "b": s[::-1].reset_index(drop=True), "c": s.str.upper()})
    assert row_hashes(df).tolist() == _pandas(df).tolist()


def test_sliced_chunked_and_large_arrow_strings():
    cells = [f"工单{i}" * (i % 7) for i in range(50)]
    s = pd.Series(cells, dtype="str")
    part = s.iloc[7:31]  # an Arrow slice: offsets do not start at 0
    assert column_hashes(part).tolist() == _pandas(part).tolist()
    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(cells[:5]), pa.array(cells[5:])])))
    assert column_hashes(chunked).tolist() == _pandas(chunked).tolist()
    large = pd.Series(pd.array(cells, dtype=pd.ArrowDtype(pa.large_string())))
    assert column_hashes(large).tolist() == _pandas(large).tolist()


def test_other_columns_fall_back_to_pandas():
    df = pd.DataFrame({"s": pd.Series(["a", "b", "c"], dtype="str"), "n": [1, 2, 3],
                       "o": pd.Series(["a", None, "c"], dtype=object), "na": pd.Series(["a", None, "c"], dtype="str")})
    assert row_hashes(df).tolist() == _pandas(df).tolist()
    assert row_hashes(pd.DataFrame(index=range(2))).tolist() == _pandas(pd.DataFrame(index=range(2))).tolist()
    assert len(row_hashes(df.iloc[:0])) == 0


def test_id_hashes_from_arrow_equal_hash_array_of_python_strings():
    from minqing.ingest.stage import _ids

    sid = pd.Series(["YP1", "", "工单2", "YP1", "x" * 30], dtype="str")
    ids, hashes = _ids(sid)
    assert ids.type == pa.string() and ids.to_pylist() == sid.tolist()
    assert hashes.tolist() == pd.util.hash_array(sid.to_numpy(dtype=object)).tolist()
    ids, hashes = _ids(pd.Series(["a", "b"], dtype=object))  # not Arrow: as before
    assert ids.to_pylist() == ["a", "b"] and hashes.tolist() == pd.util.hash_array(np.array(["a", "b"], dtype=object)).tolist()
