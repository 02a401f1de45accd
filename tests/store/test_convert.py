"""The rows a store writes: :func:`arrow_rows` (bulk staging through ADBC) holds exactly what :func:`rows` gives."""

import sqlite3

import numpy as np
import pandas as pd
import pytest

from minqing.store.convert import arrow_rows, rows
from minqing.store.scratch import _StageFile


def _every_kind() -> pd.DataFrame:
    return pd.DataFrame({
        "_key": np.array([1, 2, 3, 4], dtype="int64"),
        "received_at": pd.to_datetime(["2024-01-05 14:00", "2024-06-30 23:59:59", None, "1969-12-31 23:00"],
                                      format="ISO8601"),
        "closed_at": pd.to_datetime(["2024-01-05T06:00:00Z", None, "2024-01-01T00:00:00Z", None], utc=True),
        "lon": [121.5, np.nan, 0.1 + 0.2, -0.0],
        "h3_cell": pd.array([631243922056054783, None, 1, 2**62], dtype="Int64"),
        "flag": [True, False, True, False],
        "text": pd.array(["文本", None, "", "a\nb"], dtype="str"),
        "source_id": np.array(["A1", None, np.nan, "B2"], dtype=object),
    })


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/Los_Angeles"])
def test_arrow_rows_hold_the_values_rows_gives(tz):
    df = _every_kind()
    cols = list(df.columns)
    table = arrow_rows(df, cols, tz)
    got = list(zip(*(table.column(c).to_pylist() for c in cols)))
    assert got == rows(df, cols, tz)
    assert got[0][1] == int(pd.Timestamp("2024-01-05 14:00", tz=tz).timestamp())  # naive times are local
    assert got[1][4] is None and got[3][4] == 2**62  # 64-bit cells exact, missing as null


def test_a_stage_file_stores_what_executemany_would(tmp_path):
    df = _every_kind()
    cols = list(df.columns)
    ddl = f"CREATE TABLE t ({', '.join(cols)})"
    by_adbc = _StageFile(tmp_path / "a.sqlite", [ddl])
    by_adbc.write({"t": arrow_rows(df, cols)})
    by_adbc.close()
    con = sqlite3.connect(tmp_path / "b.sqlite")
    con.execute(ddl)
    con.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(cols))})", rows(df, cols))
    con.commit()
    typed = f"SELECT {', '.join(f'{c}, typeof({c})' for c in cols)} FROM t ORDER BY _key"
    a = sqlite3.connect(tmp_path / "a.sqlite").execute(typed).fetchall()
    assert a == con.execute(typed).fetchall()


def test_other_values_among_text_are_written_as_text():
    df = pd.DataFrame({"source_id": np.array(["A1", 12, None, 3.5], dtype=object)})
    assert arrow_rows(df, ["source_id"]).column("source_id").to_pylist() == ["A1", "12", None, "3.5"]


def test_a_failed_write_leaves_no_part_of_the_chunk(tmp_path):
    import pyarrow as pa

    stage = _StageFile(tmp_path / "s.sqlite", ["CREATE TABLE t1 (a)", "CREATE TABLE t2 (b NOT NULL)"])
    with pytest.raises(Exception):
        stage.write({"t1": pa.table({"a": [1, 2]}), "t2": pa.table({"b": pa.array([None], type=pa.int64())})})
    stage.close()
    assert sqlite3.connect(tmp_path / "s.sqlite").execute("SELECT COUNT(*) FROM t1").fetchone() == (0,)
