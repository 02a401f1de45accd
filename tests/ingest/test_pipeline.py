"""The import pipeline end to end on tiny hand-made files: nothing lost, one transaction, idempotent."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from import_helpers import run_import

from minqing.errors import IngestError
from minqing.geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from minqing.ingest.errors import ReadError
from minqing.export.tickets import quarantine_frame, tickets_for_export, write_export
from minqing.ingest.pipeline import ImportOptions, preview_file
from minqing.ingest.readers import open_source, read_chunks

NOW = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")
HEADER = ["工单编号", "受理时间", "诉求渠道", "诉求类型", "问题分类", "诉求内容", "诉求地址", "经度", "纬度", "办结时间",
          "回访满意度", "楼栋号"]
# The tiny city spans lon 121.50-121.52, lat 31.28-31.30 (see tests/conftest.py).
H1 = (121.505, 31.285)  # the hospital entrance place


def base_rows():
    """Thirteen rows; the expected fate of each is in the comment (worked out by hand)."""
    gx, gy = wgs84_to_gcj02(121.515, 31.285)
    return [
        ["A01", "2025-04-03 14:05", "12345热线", "投诉", "交通管理->违法停车->共享单车乱停放", "单车堵门", "测试路1号", "121.505", "31.285", "2025-04-05 10:00", "满意", "1栋"],  # insert, G1
        ["A02", "2025/4/3 15:00", "网站", "求助", "电梯故障", "电梯坏了", "测试路2号", "31.285", "121.515", "", "", ""],  # swapped -> G3
        ["A03", "2025年4月3日 16时00分", "码上就来", "建议", "未知分类X", "<script>alert(1)</script>", "测试医院门口", "", "", "", "", ""],  # address match H1
        ["A04", "45750.5", "火星渠道", "表扬", "04.01.01", "夸物业", "无名地址", "NaN", "inf", "", "非常满意", ""],  # unlocated; unknown channel
        ["A05", "2025-04-03", "12345", "投诉", "噪声扰民", "吵", "", "0", "0", "", "", ""],  # quarantine zero_coordinates
        ["A06", "2025-04-03", "12345", "投诉", "噪声扰民", "吵", "", "120.0", "30.0", "", "", ""],  # quarantine outside_region
        ["A07", "2099-01-01", "12345", "投诉", "噪声扰民", "吵", "", "121.505", "31.285", "", "", ""],  # quarantine future
        ["A08", "1985-05-01", "12345", "投诉", "噪声扰民", "吵", "", "121.505", "31.285", "", "", ""],  # insert (no floor), warning before 1990
        ["", "2025-04-03", "12345", "投诉", "噪声扰民", "吵", "", "121.505", "31.285", "", "", ""],  # quarantine missing id
        ["A09", "2025-04-03", "12345", "投诉", "噪声扰民", "x" * 20_000, "", f"{gx}", f"{gy}", "", "", ""],  # GCJ row? no: file is wgs84 -> G3 area anyway
        ["A10", "2025-04-04", "12345", "投诉", "噪声扰民", "第一版", "", "121.505", "31.295", "", "", ""],  # conflict
        ["A10", "2025-04-04", "12345", "投诉", "噪声扰民", "第二版", "", "121.505", "31.295", "", "", ""],  # conflict
        ["A01", "2025-04-03 14:05", "12345热线", "投诉", "交通管理->违法停车->共享单车乱停放", "单车堵门", "测试路1号", "121.505", "31.285", "2025-04-05 10:00", "满意", "1栋"],  # exact duplicate
    ]


def write_csv(path, rows, encoding="utf-8", sep=","):
    pd.DataFrame(rows, columns=HEADER).to_csv(path, index=False, encoding=encoding, sep=sep)
    return path


run = run_import


def test_tiny_import_every_row_accounted_for(store, tmp_path):
    r = run(store, write_csv(tmp_path / "a.csv", base_rows(), encoding="gbk"))
    assert r.encoding == "gb18030"
    assert r.rows_read == 13
    assert (r.inserted, r.updated, r.unchanged, r.quarantined, r.duplicates) == (6, 0, 0, 6, 1)
    assert r.reconciles()
    assert r.reasons == {"zero_coordinates": 1, "outside_region": 1, "time_in_future": 1,
                         "missing_id": 1, "duplicate_id_conflict": 2}
    assert r.warnings["swapped_lat_lon"] == 1
    assert r.warnings["unknown_channel"] == 1 and r.unknown_values["channel"] == {"火星渠道": 1}
    assert r.warnings["unknown_category"] == 1
    assert r.warnings["invalid_coordinates"] == 1
    assert r.warnings["text_truncated"] == 1
    assert r.warnings["time_before_1990"] == 1  # A08, stored: no floor by default
    assert r.located_by_address == 1 and r.unlocated == 1
    t = store.read_tickets().set_index("source_id")
    assert t.loc["A01", "grid_code"] == "G1" and t.loc["A01", "channel"] == "hotline_12345"
    assert t.loc["A01", "category"] == "02.01.01" and t.loc["A01", "satisfaction"] == "satisfied"
    assert t.loc["A01", "status"] == "closed" and t.loc["A02", "status"] == "open"
    assert json.loads(t.loc["A01", "extra"]) == {"楼栋号": "1栋"}
    assert t.loc["A02", "grid_code"] == "G3" and t.loc["A02", "category"] == "04.01.01"
    assert t.loc["A03", "location_source"] == "address_match" and t.loc["A03", "grid_code"] == "G1"
    assert t.loc["A03", "text"] == "<script>alert(1)</script>"  # stored as text, unchanged
    assert t.loc["A03", "category"] == "99.99.99" and t.loc["A03", "channel"] == "qr_code"
    assert t.loc["A04", "location_source"] == "none" and pd.isna(t.loc["A04", "grid_code"])
    assert t.loc["A04", "channel"] == "other" and t.loc["A04", "received_at"].hour == 12
    assert len(t.loc["A09", "text"]) == 10_000
    assert set(store.read_ticket_places()["source_id"]) >= {"A01", "A03"}
    q = store.read_quarantine()
    assert len(q) == 6
    orig = json.loads(q.loc[q["reason"] == "zero_coordinates", "original"].iloc[0])
    assert orig["工单编号"] == "A05" and orig["经度"] == "0"
    assert len(store.read_import_reports()) == 1


@pytest.mark.parametrize("rows", [base_rows(), base_rows()[:10]], ids=["with-repeats", "no-repeats"])
def test_a_bulk_load_stores_what_a_row_by_row_load_stores(store, tmp_path, tiny_units, tiny_places, monkeypatch, rows):
    """The bulk path (an empty store: records transferred, indexes built at the end) against the ordinary one."""
    import minqing.store.sqlite.imports as lite
    from minqing.store import open_store

    path = write_csv(tmp_path / "a.csv", rows)
    plain = run(store, path)
    monkeypatch.setattr(lite, "REBUILD_MIN", 1)
    bulk_store = open_store(f"sqlite:///{tmp_path / 'bulk.sqlite'}")
    try:
        bulk_store.write_units(tiny_units.drop(columns="unit_uid"))
        bulk_store.write_places(tiny_places)
        bulk = run(bulk_store, path)
        assert (bulk.inserted, bulk.quarantined, bulk.duplicates) == (plain.inserted, plain.quarantined, plain.duplicates)
        assert bulk.reconciles()
        pd.testing.assert_frame_equal(bulk_store.read_tickets(), store.read_tickets())
        pd.testing.assert_series_equal(bulk_store.read_source_hashes().sort_index(), store.read_source_hashes().sort_index())
        cols = ["source_id", "place_id"]
        assert sorted(bulk_store.read_ticket_places()[cols].values.tolist()) == sorted(store.read_ticket_places()[cols].values.tolist())
        q = ["row_number", "source_id", "reason", "detail"]
        pd.testing.assert_frame_equal(bulk_store.read_quarantine()[q].sort_values("row_number", ignore_index=True),
                                      store.read_quarantine()[q].sort_values("row_number", ignore_index=True))
        again = run(bulk_store, path)  # and a re-import into it changes nothing
        assert again.unchanged == plain.inserted and again.inserted == 0
    finally:
        bulk_store.close()


def test_reimport_changes_nothing(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", base_rows())
    run(store, path)
    before = store.read_tickets()
    version = store.data_version()
    r = run(store, path)
    assert (r.inserted, r.updated, r.quarantined, r.duplicates) == (0, 0, 6, 1)
    assert r.unchanged == 6 and r.reconciles()
    pd.testing.assert_frame_equal(store.read_tickets(), before)
    assert len(store.read_quarantine()) == 6  # not quarantined twice
    assert store.data_version() == version


def test_later_export_updates_by_id_and_records_changes(store, tmp_path):
    rows = base_rows()[:2]
    run(store, write_csv(tmp_path / "a.csv", rows))
    rows[1][9] = "2025-04-06 09:30"  # A02 closed later, rated
    rows[1][10] = "不满意"
    rows.append(["A11", "2025-04-07", "12345", "投诉", "噪声扰民", "新", "", "121.505", "31.285", "", "", ""])
    r = run(store, write_csv(tmp_path / "b.csv", rows))
    assert (r.inserted, r.updated, r.unchanged, r.quarantined) == (1, 1, 1, 0)
    t = store.read_tickets().set_index("source_id")
    assert t.loc["A02", "status"] == "closed" and t.loc["A02", "satisfaction"] == "unsatisfied"
    ch = store.read_ticket_changes("A02")
    assert set(ch["field"]) == {"closed_at", "status", "satisfaction"}
    st = ch.set_index("field").loc["status"]
    assert (st["old_value"], st["new_value"]) == ("open", "closed")


def test_crash_leaves_store_as_it_was(store, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "a.csv", base_rows())
    before = store.ticket_count()

    def boom(con):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_bump", boom)
    with pytest.raises(RuntimeError):
        run(store, path)
    monkeypatch.undo()
    assert store.ticket_count() == before == 0
    assert store.read_quarantine().empty and store.read_import_reports() == []


def test_quarantine_export_correct_and_reimport(store, tmp_path):
    run(store, write_csv(tmp_path / "a.csv", base_rows()))
    df = quarantine_frame(store)
    assert set(df["quarantine_reason"]) >= {"zero_coordinates", "time_in_future"}
    fixed = df[df["quarantine_reason"].isin(["zero_coordinates", "time_in_future"])].copy()
    fixed["经度"], fixed["纬度"] = "121.505", "31.285"
    fixed["受理时间"] = "2025-04-03"
    path = write_export(fixed, tmp_path / "fixed.csv")
    r = run(store, path)
    assert r.inserted == 2 and r.quarantined == 0
    assert {"A05", "A07"} <= set(store.read_tickets()["source_id"])
    assert len(store.read_quarantine()) == 4
    assert len(store.read_quarantine(include_resolved=True)) == 6


def test_bd09_labelled_wgs84_is_flagged(store, tmp_path):
    bx, by = wgs84_to_bd09(*H1)
    rows = [["B01", "2025-04-03", "12345", "投诉", "就医秩序", "门口乱", "测试医院门口", f"{bx}", f"{by}", "", "", ""]]
    r = run(store, write_csv(tmp_path / "bd.csv", rows))
    assert r.inserted == 1 and r.warnings.get("far_from_address") == 1
    r2 = run(store, write_csv(tmp_path / "bd2.csv", [[*rows[0][:7], f"{bx}", f"{by}", "", "", ""]]), crs="bd09")
    assert r2.warnings.get("far_from_address") is None


def test_bom_semicolon_and_mixed_encodings(store, tmp_path):
    path = write_csv(tmp_path / "bom.csv", base_rows()[:2], encoding="utf-8-sig", sep=";")
    src = open_source(path)
    assert (src.encoding, src.delimiter) == ("utf-8-sig", ";")
    assert run(store, path).inserted == 2
    mixed = tmp_path / "mixed.csv"
    lines = [",".join(HEADER), ",".join(base_rows()[0])]
    data = (lines[0] + "\n" + lines[1] + "\n").encode("utf-8") + (",".join(base_rows()[1]) + "\n").encode("gbk")
    mixed.write_bytes(data)
    r = run(store, mixed)
    assert r.rows_read == 2 and r.quarantined == 0
    assert r.warnings.get("mixed_encoding", 0) >= 1
    t = store.read_tickets().set_index("source_id")
    assert t.loc["A02", "text"] == "电梯坏了"  # the GBK line decoded correctly


def test_gbk_read_as_utf8_would_fail_but_is_detected(tmp_path):
    path = write_csv(tmp_path / "g.csv", base_rows(), encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    chunks = list(read_chunks(open_source(path), chunksize=5))
    assert [len(c) for c in chunks] == [5, 5, 3]  # streamed in chunks
    assert chunks[0]["诉求内容"].iloc[1] == "电梯坏了"


def test_empty_header_only_and_wrong_files(store, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    r = run(store, empty)
    assert r.rows_read == 0 and r.reconciles() and "empty_file" in r.notes
    header = tmp_path / "header.csv"
    header.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    r = run(store, header)
    assert r.rows_read == 0 and r.reconciles()
    png = tmp_path / "orders.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100))
    with pytest.raises(ReadError, match="binary"):
        run(store, png)
    nocols = tmp_path / "nocols.csv"
    nocols.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(IngestError, match="source_id"):
        run(store, nocols)
    assert store.ticket_count() == 0


def xlsx_file(path, rows, excel_dates=True):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "工单明细"
    ws.append(HEADER)
    for r in rows:
        r = list(r)
        if excel_dates:
            r[1] = pd.Timestamp(r[1]).to_pydatetime() if r[1] else r[1]
        r[7] = float(r[7]) if r[7] not in ("", "NaN", "inf") else r[7]
        r[8] = float(r[8]) if r[8] not in ("", "NaN", "inf") else r[8]
        ws.append(r)
    wb.save(path)
    return path


def test_xlsx_dates_sheet_and_truncated(store, tmp_path):
    rows = [base_rows()[0], ["X02", "2025-04-03 15:00", "12345", "投诉", "电梯故障", "电梯", "", "121.515", "31.285", "", "", ""]]
    path = xlsx_file(tmp_path / "a.xlsx", rows)
    r = run(store, path, sheet="工单明细")
    assert r.format == "xlsx" and r.inserted == 2
    t = store.read_tickets().set_index("source_id")
    assert t.loc["X02", "received_at"] == pd.Timestamp("2025-04-03 15:00", tz="Asia/Shanghai")
    with pytest.raises(ReadError, match="no sheet"):
        run(store, path, sheet="Sheet9")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(ReadError):
        run(store, broken)
    renamed = tmp_path / "really_xlsx.csv"
    renamed.write_bytes(path.read_bytes())
    r = run(store, renamed)
    assert r.format == "xlsx" and any(n.startswith("extension_mismatch") for n in r.notes)


def test_open311_and_geojson(store, tmp_path):
    reqs = [{"service_request_id": "O1", "service_name": "电梯故障", "description": "电梯坏了",
             "requested_datetime": "2025-04-03T14:05:00+08:00", "status": "closed", "address": "测试路",
             "lat": 31.285, "long": 121.505, "agency_responsible": "房管局"},
            {"service_request_id": "O2", "service_name": "Pothole", "description": "hole",
             "requested_datetime": "2025-04-03T06:05:00Z", "status": "open", "lat": 31.285, "long": 121.515}]
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(reqs, ensure_ascii=False), encoding="utf-8")
    r = run(store, path)
    assert r.format == "open311" and r.inserted == 2
    t = store.read_tickets().set_index("source_id")
    assert t.loc["O1", "category"] == "04.01.01" and t.loc["O1", "handling_unit"] == "房管局"
    assert t.loc["O2", "category"] == "99.99.99" and t.loc["O2", "received_at"].hour == 14
    assert t.loc["O1", "grid_code"] == "G1" and t.loc["O2", "grid_code"] == "G3"
    gj = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"工单编号": "G1", "受理时间": "2025-04-03 10:00", "问题分类": "电梯故障"},
         "geometry": {"type": "Point", "coordinates": [121.505, 31.295]}}]}
    gpath = tmp_path / "t.geojson"
    gpath.write_text(json.dumps(gj, ensure_ascii=False), encoding="utf-8")
    r = run(store, gpath)
    assert r.format == "geojson" and r.inserted == 1
    assert store.read_tickets().set_index("source_id").loc["G1", "grid_code"] == "G2"


def test_dry_run_writes_nothing_and_preview(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", base_rows())
    r = run(store, path, dry_run=True)
    assert r.inserted == 6 and r.reconciles()
    assert store.ticket_count() == 0 and store.read_import_reports() == []
    pv = preview_file(path, ImportOptions(now=NOW), n=3)
    assert pv.mapping.fields["source_id"] == "工单编号" and len(pv.raw) == 3


def test_export_tickets_with_hex_id(store, tmp_path):
    import h3

    run(store, write_csv(tmp_path / "a.csv", base_rows()))
    df = tickets_for_export(store, unit="C1")
    assert set(df["source_id"]) == {"A01", "A03"}
    assert all(h3.is_valid_cell(h) for h in df["hex_id"])
    assert "caller_phone" not in df.columns
    assert df.set_index("source_id").loc["A01", "place_ids"] == "H1"
    for fmt in ("csv", "xlsx", "geojson"):
        out = write_export(tickets_for_export(store), tmp_path / f"out.{fmt}")
        assert out.stat().st_size > 0
    back = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert back["hex_id"].notna().sum() == 5  # A04 is unlocated (A08, 1985, is stored too)


def test_quarantine_export_masks_callers_unless_asked(store, tmp_path):
    header = ["工单编号", "受理时间", "诉求内容", "经度", "纬度", "来电人", "联系电话"]
    rows = [["Q01", "2025-04-03", "请回电13912345678", "0", "0", "王小明", "13912345678"]]
    path = tmp_path / "q.csv"
    pd.DataFrame(rows, columns=header).to_csv(path, index=False)
    run(store, path)
    masked = quarantine_frame(store)
    assert masked["来电人"].tolist() == ["王**"]
    assert masked["联系电话"].tolist() == ["139****5678"]
    assert masked["诉求内容"].tolist() == ["请回电139****5678"]
    plain = quarantine_frame(store, masked=False)
    assert plain["来电人"].tolist() == ["王小明"] and plain["联系电话"].astype(str).tolist() == ["13912345678"]
