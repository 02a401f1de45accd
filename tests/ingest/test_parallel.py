"""Large files: CSV cut into blocks, processed in worker processes, the same result as in-process; bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from minqing.ingest.errors import ReadError
from minqing.ingest.csv_blocks import csv_block_spans, csv_blocks, parse_csv_block, read_span
from minqing.ingest.readers import open_source

from test_pipeline import HEADER, base_rows, run, write_csv


def _frame(store) -> pd.DataFrame:
    t = store.read_tickets().drop(columns=["ticket_id"], errors="ignore")
    return t.sort_values("source_id").reset_index(drop=True)


def _quarantine(store) -> pd.DataFrame:
    q = store.read_quarantine()[["row_number", "source_id", "reason", "detail", "original"]]
    return q.sort_values(["row_number", "reason"]).reset_index(drop=True)


def test_blocks_cut_only_between_records(tmp_path):
    text = 'id,text,n\r\n1,"two\r\nlines",1\r\n2,"say ""hi""",2\r\n3,plain,3\r\n4,"a,b\nc",4'  # no final newline
    path = tmp_path / "q.csv"
    path.write_bytes(text.encode("utf-8"))
    src = open_source(path)
    whole = pd.read_csv(path, dtype=str, na_filter=False)
    for size in (1, 5, 13, 64, 10_000):
        parts = [parse_csv_block(src, h, b)[0] for h, b in csv_blocks(src, size)]
        got = pd.concat(parts, ignore_index=True).drop(columns="_row")
        pd.testing.assert_frame_equal(got, whole, check_dtype=False)
        assert sum(len(p) for p in parts) == 4
    header_only = tmp_path / "h.csv"
    header_only.write_bytes(b"id,text\n")
    assert list(csv_blocks(open_source(header_only), 4)) == []


def test_block_spans_locate_the_bodies_in_the_file(tmp_path):
    """A worker reads its block from the file (no bytes through the pipe): every span holds the body
    :func:`csv_blocks` cuts, after title rows, with a quoted line break across a cut; a file cut short under
    the import is an error, not a silent loss of rows."""
    text = ("市民热线工单导出\n导出时间：2025-04-01\n工单编号,诉求内容,n\n"
            + "".join(f'{i},"第{i}行\n续行,逗号",{i}\n' for i in range(40)))
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode("gb18030"))
    src = open_source(path)
    assert src.header_row == 2
    for size in (1, 7, 50, 333, 1 << 20):
        blocks = list(csv_blocks(src, size))
        spans = list(csv_block_spans(src, size))
        assert [h for h, _ in spans] == [h for h, _ in blocks]
        assert [read_span(src, sp) for _, sp in spans] == [b for _, b in blocks], size
        assert sum(len(parse_csv_block(src, h, read_span(src, sp))[0]) for h, sp in spans) == 40
    (_, last), = list(csv_block_spans(src, 1 << 20))
    path.write_bytes(text.encode("gb18030")[: last[0] + last[1] // 2])
    with pytest.raises(ReadError) as err:
        read_span(src, last)
    assert err.value.key == "ingest.error_changed"


def test_parallel_import_equals_in_process(tmp_path, tiny_units, tiny_places):
    from minqing.store import open_store

    rows = base_rows()
    rows.insert(3, ["A12", "2025-04-03", "12345", "投诉", "噪声扰民", "第一行\n第二行, \"引号\"", "", "121.505", "31.285",
                    "", "", ""])  # a quoted newline, wherever the blocks are cut
    path = write_csv(tmp_path / "a.csv", rows, encoding="gbk")
    stores = []
    for name, kw in (("one", {"workers": 1}), ("two", {"workers": 2, "block_bytes": 150})):
        s = open_store(f"sqlite:///{tmp_path / (name + '.sqlite')}")
        s.write_units(tiny_units.drop(columns="unit_uid"))
        s.write_places(tiny_places)
        r = run(s, path, **kw)
        assert (r.rows_read, r.inserted, r.quarantined, r.duplicates) == (14, 7, 6, 1), name  # A08 (1985) is stored: no time floor
        assert r.reconciles() and r.reasons["duplicate_id_conflict"] == 2
        again = run(s, path, **kw)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 7), name
        stores.append(s)
    one, two = stores
    pd.testing.assert_frame_equal(_frame(one), _frame(two))
    pd.testing.assert_frame_equal(_quarantine(one), _quarantine(two))
    links = [s.read_ticket_places().sort_values(["source_id", "place_id"]).reset_index(drop=True) for s in stores]
    pd.testing.assert_frame_equal(*links)
    assert _frame(two).set_index("source_id").loc["A12", "text"] == '第一行\n第二行, "引号"'
    # A later export with a change, processed in workers, updates by id and records the change.
    rows[1][9] = "2025-04-06 09:30"
    r = run(two, write_csv(tmp_path / "b.csv", rows), workers=2, block_bytes=150)
    assert (r.inserted, r.updated) == (0, 1) and r.reconciles()
    assert set(two.read_ticket_changes("A02")["field"]) == {"closed_at", "status"}
    for s in stores:
        s.close()


def test_parse_error_in_a_worker_names_the_file_row(store, tmp_path):
    rows = [[f"B{i:02d}", "2025-04-03", "12345", "投诉", "噪声扰民", "吵", "", "121.505", "31.285", "", "", ""]
            for i in range(30)]
    path = write_csv(tmp_path / "bad.csv", rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[25] += ",一个多余的字段"  # data row 25 has a field too many
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ReadError) as err:
        run(store, path, workers=2, block_bytes=300)
    assert err.value.params["row"] == 25
    assert store.ticket_count() == 0 and store.read_import_reports() == []


_CHILD = textwrap.dedent(r"""
    import json, re, resource, sys
    from minqing.ingest.pipeline import ImportOptions, import_file
    from minqing.store import open_store
    import pandas as pd
    store = open_store(sys.argv[1])
    r = import_file(store, sys.argv[2], ImportOptions(now=pd.Timestamp("2026-01-01", tz="Asia/Shanghai")))
    # ru_maxrss survives exec (it would report the test process); VmHWM is this process's own peak.
    own = int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1))
    peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"rows": r.rows_read, "inserted": r.inserted, "ok": r.reconciles(), "peak_mib": peak / 1024,
                      "count": store.ticket_count()}))
""")


def test_200_mb_csv_memory_stays_bounded(tmp_path, tiny_units, tiny_places):
    """A 200 MB GBK export imports with a peak far below what holding it would take."""
    from minqing.store import open_store

    url = f"sqlite:///{tmp_path / 'big.sqlite'}"
    s = open_store(url)
    s.write_units(tiny_units.drop(columns="unit_uid"))
    s.write_places(tiny_places)
    s.close()
    n = 620_000
    rng = np.random.default_rng(7)
    i = np.arange(n)
    frame = pd.DataFrame({
        "工单编号": pd.Series(i).map("WO{:08d}".format),
        "受理时间": (pd.Timestamp("2025-01-01") + pd.to_timedelta(i * 50, unit="s")).strftime("%Y-%m-%d %H:%M:%S"),
        "诉求渠道": "12345热线", "诉求类型": "投诉", "问题分类": "噪声扰民",
        "诉求内容": pd.Series(i).map(lambda k: f"第{k}号诉求：夜间施工噪声扰民，影响休息，请尽快处理。" * 5),
        "诉求地址": "测试路1号",
        "经度": np.round(121.5 + rng.random(n) * 0.02, 6), "纬度": np.round(31.28 + rng.random(n) * 0.02, 6),
    }, columns=HEADER[:9])
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False, encoding="gb18030")
    size_mib = path.stat().st_size / 2**20
    assert size_mib >= 200
    out = subprocess.run([sys.executable, "-c", _CHILD, url, str(path)], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["rows"] == got["inserted"] == got["count"] == n and got["ok"]
    # Held whole, the file's rows as Python strings alone take several times its size.
    assert got["peak_mib"] < 1024, got


@pytest.mark.parametrize("workers", [1, 2])
def test_the_report_holds_the_file_hash_computed_on_a_thread(store, tmp_path, workers):
    """The import hashes the file on a thread while it sets up; the report (and the stored one) holds the hash
    of the file's bytes, for a file of rows and for one with a header only."""
    import hashlib

    for name, rows in (("rows.csv", base_rows()), ("empty.csv", [])):
        path = write_csv(tmp_path / name, rows)
        r = run(store, path, workers=workers, block_bytes=150)
        assert r.sha256 == hashlib.sha256(path.read_bytes()).hexdigest(), name
        assert store.read_import_reports(1)[0]["sha256"] == r.sha256
