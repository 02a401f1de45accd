"""Parity on hostile files: payloads, control characters (NUL among them) and broken rows read the same from both stores.

The payloads of ``tests/payloads.py`` go in as ticket ids, texts, addresses,
categories, statuses and place names; a second file holds rows every import
must quarantine (no id, a bad time, coordinates outside the city). Both files
are imported the ordinary way into an SQLite and a PostGIS store of the tiny
city; tickets, links, quarantine and the aggregates must be equal.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from conftest import X0, Y0  # noqa: E402
from payloads import ALL  # noqa: E402

from minqing.ingest.pipeline import ImportOptions, import_file  # noqa: E402
from minqing.ingest.source import NUL_SIGN  # noqa: E402
from minqing.model import UNIT_LEVELS  # noqa: E402
from minqing.store import open_store  # noqa: E402

AS_OF = "2026-01-01 12:00"


def _payload_rows() -> list[dict]:
    rows = []
    for i, p in enumerate(ALL):
        rows.append({
            "工单编号": p if i % 2 else f"HX{i:03d}{p}", "受理时间": f"2025-0{1 + i % 9}-1{i % 10} 0{i % 10}:15",
            "诉求内容": f"{p} 来电人张三丰 13812345678", "诉求地址": p, "诉求分类": p,
            "经度": f"{X0 + 0.001 + (i % 17) * 0.001:.6f}", "纬度": f"{Y0 + 0.001 + (i % 13) * 0.0013:.6f}",
            "来电人": "张三丰", "联系电话": "13812345678", "工单状态": p,
        })
    broken = [
        {"工单编号": "", "受理时间": "2025-03-01 10:00", "诉求内容": "没有编号"},
        {"工单编号": "BAD-TIME", "受理时间": "下周二", "诉求内容": "时间不对"},
        {"工单编号": "FAR-AWAY", "受理时间": "2025-03-01 10:00", "诉求内容": "在外地", "经度": "87.6", "纬度": "43.8"},
        {"工单编号": "NUL-ID\x00", "受理时间": "2025-03-02 10:00", "诉求内容": "nul\x00在编号里"},
    ]
    return rows + [{k: r.get(k, "") for k in rows[0]} for r in broken]


def _write(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _sorted(df: pd.DataFrame, keys) -> pd.DataFrame:
    return df.sort_values(list(keys), kind="stable").reset_index(drop=True)


def test_hostile_files_read_the_same_from_both_stores(tmp_path, pg_fresh_url, tiny_units, tiny_places):
    path = _write(tmp_path / "hostile.csv", _payload_rows())
    stores = [open_store(f"sqlite:///{tmp_path / 'lite.sqlite'}"), open_store(pg_fresh_url)]
    try:
        reports = []
        for store in stores:
            store.write_units(tiny_units.drop(columns="unit_uid"))
            store.write_places(tiny_places)
            reports.append(import_file(store, path, ImportOptions()))
            import_file(store, path, ImportOptions())  # again: nothing changes
        lite, pg = stores
        counts = [(r.rows_read, r.inserted, r.quarantined) for r in reports]
        assert counts[0] == counts[1]
        assert reports[0].inserted >= len(ALL) - 1  # every payload row is stored (one id may repeat another)
        assert pg.ticket_count() == lite.ticket_count()
        pd.testing.assert_frame_equal(pg.read_tickets(), lite.read_tickets())
        texts = " ".join(lite.read_tickets()["text"])
        assert f"nul{NUL_SIGN}byte" in texts and "\x00" not in texts  # NUL shown as ␀: kept, on both stores
        pd.testing.assert_frame_equal(pg.read_ticket_places(), lite.read_ticket_places(), check_dtype=False)
        keep = ["row_number", "source_id", "reason", "original"]
        lq = _sorted(lite.read_quarantine()[keep], keep[:3])
        pq = _sorted(pg.read_quarantine()[keep], keep[:3])
        pd.testing.assert_frame_equal(pq, lq)
        assert len(lq) >= 3
        for level in UNIT_LEVELS:
            pd.testing.assert_frame_equal(_sorted(pg.count_tickets(level), ["code"]),
                                          _sorted(lite.count_tickets(level), ["code"]))
        pd.testing.assert_frame_equal(_sorted(pg.kpi_counts(None, AS_OF), ["month"]),
                                      _sorted(lite.kpi_counts(None, AS_OF), ["month"]))
    finally:
        for store in stores:
            store.close()
