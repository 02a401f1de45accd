"""The import page in AppTest: upload a GBK CSV, see the mapping, import, read a report that adds up,
and the other pages' numbers refresh."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import sign_in
from streamlit.testing.v1 import AppTest

from minqing.config import sqlite_path
from minqing.i18n import t
from minqing.store import open_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store_copy(demo_store_url, tmp_path):
    src = sqlite_path(demo_store_url)
    with open_store(demo_store_url) as s:  # checkpoint the WAL so a file copy is complete
        s._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(src, tmp_path / "copy.sqlite")
    return f"sqlite:///{tmp_path / 'copy.sqlite'}"


def _csv_bytes() -> bytes:
    rows = [
        ["YPX0001", "2026-10-20 09:15", "12345热线", "投诉", "市政设施->路灯->路灯不亮", "路灯不亮，请联系13812345678",
         "长白路100号", "121.5400", "31.2950"],
        ["YPX0002", "2026/10/21 10:00", "网格巡查", "举报", "物业管理->电梯->电梯故障", "电梯停运", "国和路1000号",
         "121.5300", "31.3050"],
        ["YPX0003", "2026-10-22", "12345", "投诉", "噪声扰民", "吵", "", "0", "0"],  # quarantined: 0,0
    ]
    header = ["工单编号", "受理时间", "诉求渠道", "诉求类型", "问题分类", "诉求内容", "诉求地址", "经度", "纬度"]
    return pd.DataFrame(rows, columns=header).to_csv(index=False).encode("gbk")


def test_upload_preview_import_report(ui_accounts, store_copy, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", store_copy)
    with open_store(store_copy) as s:
        before = s.ticket_count()
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120), ui_accounts["planner"][0])
    at.run()
    at.switch_page(str(ROOT / "views" / "import.py"))
    at.run()
    assert not at.exception and at.title[0].value == t("ingest.heading", "zh")
    at.file_uploader(key="import_file").set_value(("orders.csv", _csv_bytes(), "text/csv")).run()
    assert not at.exception, at.exception
    mapping = at.dataframe[0].value
    assert "工单编号" in mapping[t("ingest.mapping_column", "zh")].tolist()
    preview = at.dataframe[1].value
    assert not preview[t("tickets.col_text", "zh")].str.contains("13812345678").any()  # masked
    at.button(key="import_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    counts = " ".join(m.value for m in at.markdown)
    assert t("ingest.report_counts", "zh", read=3, inserted=2, updated=0, unchanged=0, quarantined=1,
             duplicates=0) in counts
    with open_store(store_copy) as s:
        assert s.ticket_count() == before + 2
        assert len(s.read_quarantine()) >= 1
    # the map page's total follows the import (caches are keyed on the data version)
    at.switch_page(str(ROOT / "views" / "map.py"))
    at.run()
    labels = [m.label for m in at.metric]
    total = at.metric[labels.index(t("overview.total", "zh"))].value
    assert int(total.replace(",", "")) == before + 2


def test_report_shows_date_order_and_unreadable_times_table():
    def page():
        from minqing.ui.pages.import_page import _show_report

        _show_report(None, {"rows_read": 2, "inserted": 2, "quarantined": 0, "date_order": "MDY",
                            "unreadable": {"closed_at": 222}, "unreadable_examples": {"closed_at": "NA 13812345678"}},
                     None, "en")

    at = AppTest.from_function(page, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert t("ingest.report_date_order", "en", order="month-day-year (MDY)") in [c.value for c in at.caption]
    assert t("ingest.unreadable_title", "en") in " ".join(m.value for m in at.markdown)
    table = at.dataframe[0].value
    assert table[t("ingest.unreadable_field", "en")].tolist() == [t("tickets.col_closed", "en")]  # named, not the id
    assert table[t("ingest.unreadable_count", "en")].tolist() == ["222"]
    example = table[t("ingest.unreadable_example", "en")].iloc[0]
    assert example.startswith("NA") and "13812345678" not in example  # masked


def test_the_report_names_the_sheet_read_when_not_the_first():
    def page():
        from minqing.ui.pages.import_page import _show_report

        _show_report(None, {"rows_read": 2, "inserted": 2, "notes": ["sheet_read:工单*明细"], "warnings": {"title_rows": 3}},
                     None, "zh")

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception, at.exception
    assert t("ingest.report_sheet_read", "zh", sheet="工单\\*明细") in [c.value for c in at.caption]
    assert t("ingest.warning_title_rows", "zh") in at.dataframe[0].value[t("ingest.col_reason", "zh")].tolist()
