"""The printable meeting page: self-contained, escaped, one PDF page with the Chinese text in it."""

import io
import re

import pandas as pd
import pytest
from pypdf import PdfReader

from minqing.analysis.aggregate import counts_by_unit
from minqing.analysis.kpis import comparison_months, kpi_board, month_bounds, shift_month
from minqing.analysis.top_problems import label_problems, roll_up, top_problems
from minqing.maps.classes import PALETTE
from minqing.report import ReportError, find_chromium, meeting_pdf, meeting_report, unit_svg
from minqing.store import TicketFilter, open_store

needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="Chromium missing: run scripts/ensure_chromium.sh")


def tiny_board():
    cols = ["month", "tickets", "response_due", "responded_in_time", "followed_up", "solved", "partly", "rated",
            "satisfied", "deadline_due", "closed_on_time", "proactive"]
    rows = [("2025-03", 10, 10, 9, 8, 6, 1, 5, 4, 10, 7, 2), ("2025-02", 10, 10, 8, 8, 4, 2, 5, 5, 10, 7, 1)]
    return kpi_board(pd.DataFrame(rows, columns=cols), "2025-03")


def tiny_top(tiny_places, tiny_units, lang="zh"):
    places = tiny_places.copy()
    places.loc[0, "name"] = "<script>alert(1)</script>医院"
    counts = pd.DataFrame(
        [("2025-03", "H1", None, "02.01", 5, 4), ("2025-03", None, "G1", "04.01", 3, 3), ("2025-02", "H1", None, "02.01", 2, 2)],
        columns=["month", "place_id", "grid_code", "category", "tickets", "problems"],
    )
    tp = top_problems(counts, "2025-03")
    return label_problems(tp.table, places, tiny_units[tiny_units.level == "grid"], lang), tp.has_unplaced


def tiny_map_units(tiny_units):
    g = tiny_units[(tiny_units.level == "grid") & tiny_units.valid_to.isna()]
    return counts_by_unit(g, pd.DataFrame({"code": ["G1", "G2", "G3"], "tickets": [5, 0, 3]}))


def test_report_is_self_contained_and_escaped(tiny_places, tiny_units):
    top, unplaced = tiny_top(tiny_places, tiny_units)
    page = meeting_report(tiny_board(), top, tiny_map_units(tiny_units), scope_label="测试街道<b>",
                          theme_label="交通管理 > 违法停车", has_unplaced=unplaced, lang="zh",
                          generated_at=pd.Timestamp("2025-04-02 09:00"))
    assert page.startswith("<!DOCTYPE html>")
    # nothing to fetch: no scripts, links, images or URLs other than the SVG namespace
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert re.findall(r"https?://[^\s\"']+", page) == ["http://www.w3.org/2000/svg"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;医院" in page
    assert "测试街道&lt;b&gt;" in page
    assert "WenQuanYi Micro Hei" in page
    for text in ("2025年3月", "响应率", "90.0%", "满意率", "80.0%", "每月一题", "交通管理 &gt; 违法停车", "网格", "↑"):
        assert text in page, text
    # satisfaction 4/5 vs 5/5: -20 points; response 9/10 vs 8/10: +10 points
    assert "-20.0 个百分点" in page and "+10.0 个百分点" in page
    assert "未关联点位的工单" in page  # the grid row is explained
    assert page.count("<path ") == 5  # one shape per current grid (G1, G2, G3, G4A, G4B) in the map


def test_report_english(tiny_places, tiny_units):
    top, _ = tiny_top(tiny_places, tiny_units, "en")
    page = meeting_report(tiny_board(), top, tiny_map_units(tiny_units), scope_label="Test", lang="en")
    assert "Response rate" in page and "Mar 2025" in page and "Hospital entrance" in page
    assert "Monthly theme" not in page  # no theme chosen


def test_inputs_are_checked(tiny_units):
    with pytest.raises(ReportError, match="label_problems"):
        meeting_report(tiny_board(), pd.DataFrame({"tickets": [1]}), tiny_map_units(tiny_units), scope_label="x")
    with pytest.raises(ReportError):
        meeting_pdf("not a page")


def test_svg_shades_by_tickets(tiny_units):
    svg = unit_svg(tiny_map_units(tiny_units))
    fills = re.findall(r'<path d="[^"]+" fill="(#[0-9a-f]{6})"', svg)
    # G1 5, G2 0, G3 3, G4A 0, G4B 0 tickets: darkest, lightest, between
    assert len(fills) == 5 and len(set(fills)) == 3
    assert fills[0] == PALETTE[-1] and fills[1] == fills[3] == fills[4] == PALETTE[0]
    assert "单元G1: 5" in svg
    assert "<p" in unit_svg(tiny_map_units(tiny_units).iloc[:0])  # empty map says so


@needs_chromium
def test_pdf_is_one_page_with_chinese_text(tiny_places, tiny_units):
    top, unplaced = tiny_top(tiny_places, tiny_units)
    page = meeting_report(tiny_board(), top, tiny_map_units(tiny_units), scope_label="测试街道", has_unplaced=unplaced)
    pdf = meeting_pdf(page)
    assert pdf[:5] == b"%PDF-"
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape
    text = reader.pages[0].extract_text()
    for word in ("党建联席会议", "响应率", "按时办结率", "十大问题", "测试街道"):
        assert word in text, word


@needs_chromium
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_demo_report_fits_one_page(demo_store_url, lang):
    month = "2025-10"
    with open_store(demo_store_url) as store:
        frames = [store.kpi_counts(TicketFilter(start=a, end=b), "2025-11-15")
                  for a, b in (month_bounds(m) for m in comparison_months(month))]
        board = kpi_board(pd.concat(frames), month)
        start, _ = month_bounds(shift_month(month, -3))
        _, end = month_bounds(month)
        tp = top_problems(roll_up(store.problem_counts(TicketFilter(start=start, end=end)), 2), month)
        top = label_problems(tp.table, store.read_places(), store.read_units("grid"), lang)
        a, b = month_bounds(month)
        units = counts_by_unit(store.read_units("subdistrict"), store.count_tickets("subdistrict", TicketFilter(start=a, end=b)))
    assert len(top) == 10
    page = meeting_report(board, top, units, scope_label="全区", lang=lang, has_unplaced=tp.has_unplaced)
    reader = PdfReader(io.BytesIO(meeting_pdf(page)))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert ("响应率" if lang == "zh" else "Response rate") in text
    # the last row of the top-10 table made it onto the page
    assert str(top.iloc[-1]["where_name"])[:4] in text.replace("\n", "")
