"""The rows a store writes: :func:`arrow_rows` (bulk staging through ADBC) holds exactly what :func:`rows` gives;
one time to epoch seconds (``epoch_of``, every filter bound of every store read) keeps the rule of the Series one."""

import sqlite3

import numpy as np
import pandas as pd
import pytest

from minqing.store.convert import arrow_rows, epoch_of, rows, times_to_epoch
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

VALUES = ["2025-03-01", "2025-03-01 10:00:00.7", pd.Timestamp("2025-03-01", tz="Asia/Shanghai"),
          pd.Timestamp("1969-12-31 23:59:59.5", tz="UTC"), "2025-11-02 01:30", "2025-03-09 02:30",
          pd.Timestamp("2025-06-01", tz="America/Chicago").as_unit("s"), pd.Timestamp("2025-06-01 00:00:00.000001"),
          "2024-02-29T23:59:59+05:30", np.datetime64("2025-01-01T00:00")]


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/Chicago", "UTC"])
@pytest.mark.parametrize("value", VALUES, ids=str)
def test_epoch_of_one_time_is_the_series_rule(value, tz):
    """Naive times are local in ``tz``, fractions are floored; an ambiguous or missing local time fails the same way."""
    def outcome(f):
        try:
            return f()
        except Exception as exc:  # noqa: BLE001 - the same failure is part of the rule
            return type(exc)

    one = outcome(lambda: epoch_of(value, tz))
    series = outcome(lambda: times_to_epoch(pd.Series([pd.Timestamp(value)]), tz)[0])
    assert one == series and type(one) is type(series)


def test_numbers_and_missing_values():
    assert epoch_of(1_700_000_000) == 1_700_000_000 and epoch_of(np.int64(5)) == 5 and epoch_of(2.9) == 2
    assert epoch_of(None) is None and epoch_of(pd.NaT) is None and epoch_of(np.nan) is None
