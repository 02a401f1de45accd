"""The PostgreSQL store's COPY of Arrow batches: every value arrives as it was staged."""

from __future__ import annotations

import psycopg
import pyarrow as pa

from minqing.store.postgres.util import copy_arrow_csv

_VALUES = {
    "k": pa.array([1, None, 2**62, -7], type=pa.int64()),
    "f": pa.array([0.1 + 0.2, None, -0.0, 121.123456789012345], type=pa.float64()),
    "t": pa.array(['a "quoted", text', "", None, "多行\n文本\r\n,␀\\N"], type=pa.string()),
}


def test_arrow_batches_copy_exactly(pg_url):
    batches = [pa.record_batch(_VALUES).slice(0, 2), pa.record_batch(_VALUES).slice(2)]
    with psycopg.connect(pg_url) as con:
        con.execute("CREATE TEMP TABLE c (k bigint, f double precision, t text)")
        assert copy_arrow_csv(con, "c", ("k", "f", "t"), iter(batches)) == 4
        got = con.execute("SELECT k, f, t FROM c").fetchall()
    want = list(zip(*(v.to_pylist() for v in _VALUES.values())))
    assert got == want  # NULL and "" apart, floats bit for bit, quotes, newlines and backslashes as they were
    assert str(got[2][1]) == "-0.0"


def test_a_database_in_another_encoding_still_receives_utf8(pg_url):
    with psycopg.connect(pg_url) as con:
        con.execute("SET client_encoding TO 'GB18030'")
        con.execute("CREATE TEMP TABLE c (t text)")
        copy_arrow_csv(con, "c", ("t",), iter([pa.record_batch({"t": pa.array(["民情地图"])})]))
        assert con.execute("SELECT t FROM c").fetchone() == ("民情地图",)
