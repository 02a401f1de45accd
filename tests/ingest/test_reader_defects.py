"""Defects of real exports (issue #12): CR-only line ends, stray quotes, GBK lines in UTF-8, formulas without values.

Tiny hand-made files; every answer is worked out by hand. Each file is read three ways where it
applies: in process (``read_chunks``), in byte blocks of every size (``csv_blocks`` +
``parse_csv_block``, what the import's workers parse) and end to end (``import_file``).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from import_helpers import run_import

from minqing.ingest.csv_blocks import _record_ends, csv_blocks, csv_splittable, parse_csv_block
from minqing.ingest.encodings import redecode_lines
from minqing.ingest.readers import open_source, read_chunks
from minqing.ingest.xlsx import FORMULA_NO_VALUE, _parse_blank_formulas, _scan_blank_formulas

COLS = ["工单编号", "受理时间", "诉求内容", "经度", "纬度"]
NOW = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")


run = run_import


def _in_process(src) -> list[list[str]]:
    return [r[:-1] for c in read_chunks(src, chunksize=2) for r in c.values.tolist()]  # drop _row


def _in_blocks(src, size: int) -> list[list[str]]:
    return [r[:-1] for h, b in csv_blocks(src, size) for r in parse_csv_block(src, h, b)[0].values.tolist()]


def _every_block_size(src, expected) -> None:
    """Cut into blocks of every size from 1 byte to the whole file: always the same rows."""
    for size in range(1, src.size + 2):
        assert _in_blocks(src, size) == expected, size


def _texts(store) -> dict:
    return store.read_tickets().set_index("source_id")["text"].to_dict()


# -- 1. CR-only line endings ---------------------------------------------------------


def test_cr_only_line_endings(store, tmp_path):
    rows = [["C1", "2025-04-03", "路灯不亮", "121.505", "31.285"],
            ["C2", "2025-04-03", "两行\r文本", "121.505", "31.285"],  # a quoted \r stays inside its field
            ["C3", "2025-04-04", "井盖丢失", "121.505", "31.285"]]
    text = ",".join(COLS) + "\r" + "\r".join(",".join(f'"{v}"' if "\r" in v else v for v in r) for r in rows) + "\r"
    path = tmp_path / "mac.csv"
    path.write_bytes(text.encode("utf-8"))
    src = open_source(path)
    assert (src.encoding, src.delimiter, csv_splittable(src)) == ("utf-8", ",", True)
    assert _in_process(src) == rows
    _every_block_size(src, rows)
    assert len(list(csv_blocks(src, 8))) == 3  # really split: one record per block
    r = run(store, path)
    assert (r.rows_read, r.inserted, r.quarantined) == (3, 3, 0) and r.reconciles()
    assert _texts(store) == {"C1": "路灯不亮", "C2": "两行\r文本", "C3": "井盖丢失"}


def test_cr_only_record_ends_by_hand():
    buf = b'id,t\r1,a\r2,"x\ry"\r3,b'
    # "id,t\r" ends at 5, "1,a\r" at 9, '2,"x\ry"\r' at 17 (its first \r is quoted); "3,b" has no end
    assert _record_ends(buf, final=True).tolist() == [5, 9, 17]
    # a \r that is the last byte ends a record only at the end of the file (a \n may follow it)
    assert _record_ends(b"id,t\r1,a\r", final=False).tolist() == [5]
    assert _record_ends(b"id,t\r1,a\r", final=True).tolist() == [5, 9]
    assert _record_ends(b"id,t\r\n1,a\r\n", final=False).tolist() == [6, 11]  # CRLF ends after the \n


def test_mixed_crlf_and_lf_line_endings(store, tmp_path):
    lines = [",".join(COLS), "M1,2025-04-03,a,121.505,31.285", 'M2,2025-04-03,"b\r\nc",121.505,31.285',
             "M3,2025-04-03,d,121.505,31.285"]
    path = tmp_path / "mixed_eol.csv"
    path.write_bytes((lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r\n" + lines[3] + "\n").encode("utf-8"))
    src = open_source(path)
    expected = [["M1", "2025-04-03", "a", "121.505", "31.285"], ["M2", "2025-04-03", "b\r\nc", "121.505", "31.285"],
                ["M3", "2025-04-03", "d", "121.505", "31.285"]]
    assert _in_process(src) == expected
    _every_block_size(src, expected)
    r = run(store, path)
    assert (r.rows_read, r.inserted) == (3, 3)


# -- 2. A stray quote inside an unquoted field -----------------------------------------

STRAY = ('工单编号,受理时间,诉求内容,经度,纬度\n'
         'A1,2025-04-03,他说"好,121.505,31.285\n'
         'A2,2025-04-03,"两行\n文本",121.505,31.285\n'
         'A3,2025-04-03,z,121.505,31.285\n')
STRAY_ROWS = [["A1", "2025-04-03", '他说"好', "121.505", "31.285"],
              ["A2", "2025-04-03", "两行\n文本", "121.505", "31.285"],
              ["A3", "2025-04-03", "z", "121.505", "31.285"]]


def test_stray_quote_in_unquoted_field(store, tmp_path):
    assert list(csv.reader(io.StringIO(STRAY, newline="")))[1:] == STRAY_ROWS  # what the csv module reads
    path = tmp_path / "stray.csv"
    path.write_bytes(STRAY.encode("utf-8"))
    src = open_source(path)
    assert _in_process(src) == STRAY_ROWS
    _every_block_size(src, STRAY_ROWS)
    records = ["工单编号,受理时间,诉求内容,经度,纬度\n", 'A1,2025-04-03,他说"好,121.505,31.285\n',
               'A2,2025-04-03,"两行\n文本",121.505,31.285\n', "A3,2025-04-03,z,121.505,31.285\n"]
    assert _record_ends(STRAY.encode("utf-8")).tolist() == np.cumsum([len(x.encode()) for x in records]).tolist()
    for kw in ({"workers": 1, "block_bytes": 40}, {"workers": 2, "block_bytes": 40}):  # in process and in workers
        r = run(store, path, **kw)
        assert r.rows_read == 3 and r.reconciles(), kw
        assert _texts(store) == {"A1": '他说"好', "A2": "两行\n文本", "A3": "z"}, kw


@pytest.mark.parametrize("text", [
    'a,b\n"ab"c"d,1\nx,2\n',  # junk after a closing quote: the next quote is literal
    'a,b\nx "y,1\nz",2\n',  # a quote after a space is not at the start of the field
    'a,b\nab"",1\n"c""\nd",2\n',  # "" in an unquoted field is two quotes; in a quoted one, one
    'a,b\n他"1,2\n她"3,4\n"e\nf",5\n',  # two stray quotes would pair up if quotes were only counted
    'a;b\n1;x"\n"y\r\nz";2\n',  # another delimiter
])
def test_stray_quotes_read_as_the_csv_module_reads_them(tmp_path, text):
    path = tmp_path / "q.csv"
    path.write_bytes(text.encode("utf-8"))
    src = open_source(path)
    expected = list(csv.reader(io.StringIO(text, newline=""), delimiter=src.delimiter))[1:]
    assert _in_process(src) == expected
    _every_block_size(src, expected)


# -- 3. GBK lines inside a UTF-8 file ----------------------------------------------------

MIXED = [  # (id, text, encoding of its line(s))
    ("G1", "路灯不亮了", "utf-8"),
    ("G2", "井盖丢失了请处理", "gbk"),  # 失 is CA A7 in GBK: also valid UTF-8 (ʧ), so not a byte-wise fix
    ("G3", "噪声扰民，晚上十点后施工", "utf-8"),
    ("G4", "垃圾没人清运\n已经三天", "gbk"),  # 没 is C3 BB (û); a quoted field over two GBK lines
    ("G5", "他说“谢谢”", "utf-8"),
]


def _line(sid: str, text: str) -> str:
    return f"{sid},2025-04-03,{chr(34) + text + chr(34) if chr(10) in text else text},121.505,31.285\n"


def _mixed_bytes(bom: bool) -> bytes:
    data = (b"\xef\xbb\xbf" if bom else b"") + (",".join(COLS) + "\n").encode("utf-8")
    return data + b"".join(_line(sid, text).encode(enc) for sid, text, enc in MIXED)


@pytest.mark.parametrize("bom", [False, True])
def test_gbk_lines_in_utf8_file(store, tmp_path, bom):
    data = _mixed_bytes(bom)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    fixed, lines = redecode_lines(data)
    assert lines == 3  # G2's line and G4's two lines
    assert fixed == (b"\xef\xbb\xbf" if bom else b"") + (",".join(COLS) + "\n").encode("utf-8") + \
        "".join(_line(sid, text) for sid, text, _ in MIXED).encode("utf-8")
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    src = open_source(path)
    assert src.encoding == ("utf-8-sig" if bom else "utf-8")
    expected = [[s, "2025-04-03", t, "121.505", "31.285"] for s, t, _ in MIXED]
    assert _in_process(src) == expected and src.mixed_encoding_fixes == 3
    _every_block_size(src, expected)
    for size in (1, 30, 1 << 20):  # the count is the same however the file is cut (the header is not counted)
        assert sum(parse_csv_block(src, h, b)[1] for h, b in csv_blocks(src, size)) == 3
    r = run(store, path, block_bytes=60)
    assert (r.rows_read, r.inserted, r.quarantined) == (5, 5, 0)
    assert r.warnings["mixed_encoding"] == 3
    assert _texts(store) == {s: t for s, t, _ in MIXED}


# -- 4. XLSX formula cells without saved values ------------------------------------------


def _formula_xlsx(path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "工单"
    ws.append(COLS)
    ws.append(["F1", "2025-04-03 10:00", "路灯不亮", 121.505, 31.285])  # data row 1: stored
    ws.append(["F2", "=B2", "=C2&\"了\"", 121.505, 31.285])  # row 2: received time is a formula: quarantined
    ws.append(["F3", "2025-04-03 11:00", "=C2&\"坏了\"", 121.505, 31.285])  # row 3: stored, text blank
    ws.append(["=A2&\"-4\"", "2025-04-03 12:00", "井盖", 121.505, 31.285])  # row 4: the id is a formula
    ws.append(["=A2", "=B2", "=C2", "=D2", "=E2"])  # row 5: all formulas (not dropped as a blank last row)
    wb.save(path)
    return path


def test_xlsx_formula_cells_without_saved_values(store, tmp_path):
    path = _formula_xlsx(tmp_path / "formulas.xlsx")
    src = open_source(path)
    chunks = list(read_chunks(src))
    assert [r[:-1] for c in chunks for r in c.values.tolist()] == [
        ["F1", "2025-04-03 10:00", "路灯不亮", "121.505", "31.285"], ["F2", "", "", "121.505", "31.285"],
        ["F3", "2025-04-03 11:00", "", "121.505", "31.285"], ["", "2025-04-03 12:00", "井盖", "121.505", "31.285"],
        ["", "", "", "", ""]]
    # cells: row 2 two, row 3 one, row 4 one, row 5 five = 9
    assert src.blank_formulas == {2: ("受理时间", "诉求内容"), 3: ("诉求内容",), 4: ("工单编号",), 5: tuple(COLS)}
    assert src.warnings == {FORMULA_NO_VALUE: 9}
    note = ("9 formula cells have no saved value (columns 工单编号, 受理时间, 诉求内容, 经度, 纬度); the fields "
            "were left blank: open the file in Excel or WPS and save it again")
    assert src.notes == [note]
    list(read_chunks(src))
    assert src.notes == [note] and src.warnings == {FORMULA_NO_VALUE: 9}  # a second read reports once

    r = run(store, path)
    assert (r.rows_read, r.inserted, r.quarantined, r.duplicates) == (5, 2, 3, 0) and r.reconciles()
    assert r.reasons == {FORMULA_NO_VALUE: 3}  # not missing_id / missing_time: the cells are not empty in Excel
    assert r.warnings[FORMULA_NO_VALUE] == 9 and note in r.notes
    texts = _texts(store)
    assert sorted(texts) == ["F1", "F3"] and texts["F1"] == "路灯不亮" and pd.isna(texts["F3"])  # F3: blank
    q = store.read_quarantine().sort_values("row_number")
    assert q["row_number"].tolist() == [2, 4, 5]
    assert q["reason"].tolist() == [FORMULA_NO_VALUE] * 3
    assert q["detail"].tolist() == ["受理时间: formula without a saved value", "工单编号: formula without a saved value",
                                    "工单编号: formula without a saved value"]


def test_xlsx_without_formulas_is_not_scanned(tmp_path, monkeypatch):
    import openpyxl

    from minqing.ingest import xlsx

    wb = openpyxl.Workbook()
    wb.active.append(COLS)
    wb.active.append(["X1", "2025-04-03", "", 121.505, 31.285])  # a blank cell, but no formula
    wb.save(tmp_path / "plain.xlsx")
    scanned = []
    monkeypatch.setattr(xlsx, "_scan_blank_formulas", lambda fh: scanned.append(1) or [])
    src = open_source(tmp_path / "plain.xlsx")
    assert len(next(iter(read_chunks(src)))) == 1
    assert scanned == [] and src.blank_formulas == {} and src.warnings == {} and src.notes == []


SHEET = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
         '<row r="2"><c r="A2" t="str"><f>""</f><v></v></c>'  # a formula whose value is empty text: has a value
         '<c r="B2"><f>A2</f><v/></c>'  # no value (openpyxl)
         '<c r="C2"><f t="shared" si="0"/></c>'  # a shared formula, no <v> at all
         '<c r="D2"><f>1+1</f><v>2</v></c>'  # a saved value
         '<c r="AA2" t="str"><f>B2</f></c></row>'  # text result, but no <v>: no value
         '<row r="3"><c r="B3"><v>5</v></c></row></sheetData></worksheet>')


@pytest.mark.parametrize("xml", [
    SHEET,
    SHEET.replace("<c ", "<x:c ").replace("</c>", "</x:c>").replace("<f", "<x:f").replace("</f>", "</x:f>")
    .replace("<v", "<x:v").replace("</v>", "</x:v>").replace("<worksheet xmlns=", "<worksheet xmlns:x="),
])
def test_formula_cells_without_values_in_sheet_xml(xml):
    expected = [(1, 1), (1, 2), (1, 26)]  # B2, C2, AA2 (0-based row, column)
    assert _scan_blank_formulas(io.BytesIO(xml.encode())) == expected
    assert _parse_blank_formulas(io.BytesIO(xml.encode())) == expected
    no_refs = xml.replace(' r="A2"', "").replace(' r="B2"', "").replace(' r="C2"', "").replace(' r="D2"', "")
    assert _scan_blank_formulas(io.BytesIO(no_refs.encode())) is None  # cells without a reference: the slow path
    assert _parse_blank_formulas(io.BytesIO(no_refs.encode())) == expected


# -- Title rows above the header, a summary row below the orders ------------------------

from minqing.ingest.header_row import TITLE_ROWS, header_row  # noqa: E402

TITLES = [["12345热线工单明细表", "", "", "", ""], ["导出时间：2025-04-05 08:00", "", "", "", ""], ["", "", "", "", ""]]
ORDERS = [["T1", "2025-04-03 10:00", "路灯不亮", "121.505", "31.285"], ["T2", "2025-04-04 11:00", "井盖丢失", "121.505", "31.285"]]


def test_header_row_is_the_first_opening_row_naming_two_fields():
    assert header_row([COLS, *ORDERS]) == 0
    assert header_row([*TITLES, COLS, *ORDERS]) == 3
    assert header_row([["sep=,"], COLS]) == 1
    assert header_row([["说明：经度为GCJ-02"], COLS]) == 1  # one field named (经度) is not a header
    assert header_row([["A", "B"], ["1", "2"]]) == 0  # no row names fields: the first row, as before
    assert header_row([["x"]] * 31 + [COLS]) == 0  # a header further down than any title block is not looked for
    assert header_row([["电话", "备注", "名称"], ["x", "y", "z"]]) == 0  # a full first row is the header, not a title


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "utf-16"])
def test_title_rows_above_the_header_are_skipped_in_every_reader(store, tmp_path, encoding):
    """The CSV blocks (UTF-8, GBK), pandas' stream (UTF-16) and the import: the same two orders, numbered 1 and 2."""
    path = tmp_path / "report.csv"
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([*TITLES, COLS, *ORDERS, ["合计", "2", "", "", ""]])
    src = open_source(path)
    assert src.header_row == 3 and src.warnings == {TITLE_ROWS: 3}
    rows = ORDERS + [["合计", "2", "", "", ""]]
    assert _in_process(src) == rows
    if csv_splittable(src):
        _every_block_size(src, rows)
    r = run(store, path)
    assert (r.rows_read, r.inserted, r.quarantined) == (3, 2, 1) and r.reconciles()
    assert r.reasons == {"summary_row": 1} and r.warnings[TITLE_ROWS] == 3
    assert _texts(store) == {"T1": "路灯不亮", "T2": "井盖丢失"}
    q = store.read_quarantine()
    assert q[["row_number", "source_id"]].values.tolist() == [[3, "合计"]]


def test_title_rows_of_a_workbook_are_skipped(store, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    for row in [["12345热线工单明细表"], ["导出时间：2025-04-05"], [], COLS, *ORDERS, ["总计：", 2]]:
        wb.active.append(row)
    path = tmp_path / "report.xlsx"
    wb.save(path)
    src = open_source(path)
    assert [r[:-1] for c in read_chunks(src) for r in c.values.tolist()] == ORDERS + [["总计：", "2", "", "", ""]]
    assert src.header_row == 3 and src.warnings == {TITLE_ROWS: 3}
    r = run(store, path)
    assert (r.rows_read, r.inserted, r.quarantined) == (3, 2, 1) and r.reasons == {"summary_row": 1}


def test_two_exports_pasted_together_repeat_the_header_once(store, tmp_path):
    """The second file's header (with its byte-order mark) is quarantined as a repeated header, not as a bad time."""
    one = ("\ufeff" + ",".join(COLS) + "\r\n" + "\r\n".join(",".join(r) for r in ORDERS) + "\r\n").encode("utf-8")
    two = ("\ufeff" + ",".join(COLS) + "\r\nT3,2025-04-05 09:00,噪音,121.505,31.285\r\n").encode("utf-8")
    path = tmp_path / "pasted.csv"
    path.write_bytes(one + two)
    r = run(store, path)
    assert (r.rows_read, r.inserted, r.quarantined) == (4, 3, 1) and r.reasons == {"repeated_header": 1}
    assert store.read_quarantine()["row_number"].tolist() == [3]


def test_long_numeric_ids_keep_their_digits_or_are_quarantined(store, tmp_path):
    """A 16-digit id stored as a number is exact (below 2**53) and keeps every digit; an 18-digit one is not,
    nor is Excel's 2.02504E+17 in a CSV it saved: such ids are quarantined, never stored as another order's id."""
    import openpyxl

    from minqing.ingest.source import cell_text

    assert cell_text(2025040310001234.0) == "2025040310001234" and cell_text(float(2**53)) == "9007199254740992.0"
    wb = openpyxl.Workbook()
    for row in [COLS, [2025040310001234, "2025-04-03 10:00", "a", 121.505, 31.285],
                [202504031000123456, "2025-04-03 10:00", "b", 121.505, 31.285]]:
        wb.active.append(row)
    wb.save(tmp_path / "ids.xlsx")
    r = run(store, tmp_path / "ids.xlsx")
    assert (r.inserted, r.quarantined) == (1, 1) and r.reasons == {"id_scientific": 1}
    assert list(_texts(store)) == ["2025040310001234"]
    path = tmp_path / "resaved.csv"
    path.write_text(",".join(COLS) + "\n2.02504E+17,2025-04-03 10:00,c,121.505,31.285\n"
                    "2.02504E+17,2025-04-03 11:00,d,121.505,31.285\n", encoding="utf-8")
    r = run(store, path)
    assert (r.inserted, r.quarantined) == (0, 2) and r.reasons == {"id_scientific": 2}


def test_a_workbook_opening_with_a_notes_sheet_is_read_from_its_orders_sheet(store, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["本表由12345热线系统导出"])
    orders = wb.create_sheet("工单明细")
    for row in [COLS, *ORDERS]:
        orders.append(row)
    wb.save(tmp_path / "cover.xlsx")
    r = run(store, tmp_path / "cover.xlsx")
    assert (r.rows_read, r.inserted) == (2, 2) and "sheet_read:工单明细" in r.notes
    wb.move_sheet("工单明细", offset=-1)  # the orders first: read as always, no note
    wb.save(tmp_path / "first.xlsx")
    src = open_source(tmp_path / "first.xlsx")
    list(read_chunks(src))
    assert src.sheet == "工单明细" and not any(n.startswith("sheet_read:") for n in src.notes)
