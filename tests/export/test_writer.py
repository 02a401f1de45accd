"""Every CSV and XLSX we write opens in Excel and WPS as data: no formulas, nothing lost, personal data masked."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minqing.export.writer import (
    XLSX_MAX_CELL_CHARS,
    ExportError,
    to_csv_bytes,
    to_xlsx_bytes,
    write_table,
)

from test_cellsafe import HARMLESS, PAYLOADS, dangerous

BOM = b"\xef\xbb\xbf"
MOBILE = re.compile(r"1[3-9]\d{9}")


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data[len(BOM):].decode("utf-8"), newline="")))


def xlsx_rows(data: bytes) -> list[list]:
    """Rows of values; asserts that no cell is a formula and no text starts with ``=``."""
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = []
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            assert not (isinstance(cell.value, str) and cell.value.startswith("=")), (cell.coordinate, cell.value)
        rows.append([cell.value for cell in row])
    return rows


def xlsx_clean(text: str) -> str:
    """What an XLSX cell can hold of ``text``: NUL removed, CR/CRLF as LF, other XML-illegal characters U+FFFD."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x01-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "\ufffd", text)


# --- CSV and XLSX on hand-made frames ---------------------------------------------------------------------


def payload_frame() -> pd.DataFrame:
    texts = PAYLOADS + HARMLESS + ["NUL\x00here", "\x00=1", "ctl\x01\x07\x0b\x1f", "长" * 40_000, "中文 \u3000全角"]
    n = len(texts)
    return pd.DataFrame({
        "source_id": [f"Q{i:03d}" for i in range(n - 1)] + ["=1+2"],
        "text": texts,
        "lon": np.linspace(-121.5, 121.5, n),
        "count": np.arange(-3, n - 3),
        "received_at": pd.date_range("2025-04-03 14:05", periods=n, freq="h", tz="Asia/Shanghai"),
    })


def test_csv_quotes_payloads_keeps_everything_else():
    df = payload_frame()
    df.loc[2, "received_at"] = pd.NaT
    data = to_csv_bytes(df)
    rows = csv_rows(data)
    assert rows[0] == list(df.columns) and len(rows) == len(df) + 1
    back = dict(zip(df["text"], (r[1] for r in rows[1:])))
    for p in PAYLOADS:
        assert back[p] == "'" + p
    for h in HARMLESS:
        assert back[h] == h  # CR, CRLF and LF inside a field survive (they are quoted)
    assert back["NUL\x00here"] == "NULhere" and back["\x00=1"] == "'=1"
    assert back["长" * 40_000] == "长" * 40_000  # CSV is not cut
    assert rows[-1][0] == "'=1+2"
    assert rows[1][2] == "-121.5" and rows[1][3] == "-3"  # numbers stay numbers, negative or not
    assert rows[1][4] == "2025-04-03T14:05:00+0800" and rows[3][4] == ""
    assert b"\x00" not in data
    # every record ends in CRLF; a lone CR inside a field is quoted, so no reader splits the row there
    assert data.endswith(b"\r\n") and b'"a\rb"' in data
    assert not any(dangerous(c) for r in rows for c in r[:2])  # the text columns (numbers may be negative)


def test_csv_with_pandas_reads_the_same_row_count():
    df = payload_frame()
    back = pd.read_csv(io.BytesIO(to_csv_bytes(df)), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(back) == len(df) and back["source_id"].iloc[-1] == "'=1+2"


def test_xlsx_is_strings_never_formulas():
    df = payload_frame()
    rows = xlsx_rows(to_xlsx_bytes(df, sheet_name="工单[导出]"))
    assert rows[0] == list(df.columns) and len(rows) == len(df) + 1
    back = dict(zip(df["text"], (r[1] for r in rows[1:])))
    for p in PAYLOADS:
        assert back[p] == "'" + xlsx_clean(p)
    assert back["a\rb"] == "a\nb" and back["a\r\nb"] == "a\nb" and back["line1\nline2"] == "line1\nline2"
    assert back["#N/A"] == "#N/A" and back[""] is None
    assert back["NUL\x00here"] == "NULhere" and back["\x00=1"] == "'=1"
    assert back["ctl\x01\x07\x0b\x1f"] == "ctl\ufffd\ufffd\ufffd\ufffd"
    assert back["长" * 40_000] == "长" * XLSX_MAX_CELL_CHARS
    assert back["中文 \u3000全角"] == "中文 \u3000全角"
    assert rows[-1][0] == "'=1+2"
    assert rows[1][2] == -121.5 and rows[1][3] == -3
    assert rows[1][4] == "2025-04-03T14:05:00+0800"
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(df, sheet_name="工单[导出]"))).active
    assert ws.title == "工单导出"
    assert {c.data_type for c in ws["B"][1:] if c.value is not None} == {"s"}  # "#N/A" is text, not an error


def test_xlsx_odd_values_never_break_the_file():
    df = pd.DataFrame({
        "f": [np.inf, -np.inf, np.nan],
        "naive": pd.to_datetime(["2025-04-03 14:05", None, "2025-01-01 00:00"]),
        "obj": pd.Series([b"=bytes", {"k": "v"}, "lone\ud800surrogate"], dtype=object),
        "ext": pd.array([1, None, -2], dtype="Int64"),
        "cat": pd.Categorical(["=x", "y", None]),
        "emoji": ["😀" * 20_000, "-😀", None],
    })
    rows = xlsx_rows(to_xlsx_bytes(df))
    assert [r[0] for r in rows[1:]] == ["inf", "'-inf", None]
    assert rows[1][1].year == 2025 and rows[2][1] is None
    assert rows[1][2] == "'=bytes" and rows[2][2] == "{'k': 'v'}" and rows[3][2] == "lone\ufffdsurrogate"
    assert [r[3] for r in rows[1:]] == [1, None, -2]
    assert [r[4] for r in rows[1:]] == ["'=x", "y", None]
    assert len(rows[1][5].encode("utf-16-le")) // 2 <= XLSX_MAX_CELL_CHARS and rows[2][5] == "'-😀"
    back = csv_rows(to_csv_bytes(df))
    assert [r[0] for r in back[1:]] == ["inf", "'-inf", ""]
    assert back[1][2] == "'=bytes" and back[3][2] == "lone\ufffdsurrogate"
    assert back[1][4] == "'=x"


def test_headers_are_neutralised_too():
    df = pd.DataFrame({"=1+2": ["x"], "@A": ["y"], "ok": ["z"]})
    assert csv_rows(to_csv_bytes(df))[0] == ["'=1+2", "'@A", "ok"]
    assert xlsx_rows(to_xlsx_bytes(df))[0] == ["'=1+2", "'@A", "ok"]


def test_write_table_files_and_formats(tmp_path):
    df = payload_frame()
    assert csv_rows(write_table(df, tmp_path / "a.csv").read_bytes())[-1][0] == "'=1+2"
    assert xlsx_rows(write_table(df, tmp_path / "a.xlsx").read_bytes())[-1][0] == "'=1+2"
    with pytest.raises(ExportError, match="allowed: csv, xlsx"):
        write_table(df, tmp_path / "a.geojson")


def test_blank_rows_and_empty_frames_keep_their_rows():
    df = pd.DataFrame({"a": ["", None, "z", None], "b": [None, None, None, None]})
    assert len(csv_rows(to_csv_bytes(df))) == 5
    assert len(xlsx_rows(to_xlsx_bytes(df))) == 5
    assert csv_rows(to_csv_bytes(df.iloc[:0])) == [["a", "b"]]


# --- every writer of the app and the command line ---------------------------------------------------------


def test_write_export_csv_and_xlsx(tmp_path):
    from minqing.export.tickets import write_export

    df = payload_frame()
    csv_back = csv_rows(write_export(df, tmp_path / "t.csv").read_bytes())
    xlsx_back = xlsx_rows(write_export(df, tmp_path / "t.xlsx").read_bytes())
    assert len(csv_back) == len(xlsx_back) == len(df) + 1
    for p in PAYLOADS:
        i = PAYLOADS.index(p) + 1
        assert csv_back[i][1] == "'" + p and xlsx_back[i][1] == "'" + xlsx_clean(p)


def test_app_ticket_export_bytes():
    from minqing.ui.tables import export_bytes

    n = len(PAYLOADS)
    t0 = pd.Timestamp("2025-04-03 14:05", tz="Asia/Shanghai")
    rows = pd.DataFrame({
        "source_id": PAYLOADS, "received_at": [t0] * n, "category": ["02.01.01"] * n,
        "channel": ["hotline_12345"] * n, "kind": ["complaint"] * n, "status": ["=1+2"] * n,
        "satisfaction": [None] * n, "grid_code": ["-G1"] * n, "address": PAYLOADS, "text": PAYLOADS,
        "due_at": [t0] * n, "closed_at": [pd.NaT] * n,
    })
    back = csv_rows(export_bytes(rows, "zh", "csv"))
    assert len(back) == n + 1
    assert [r[0] for r in back[1:]] == ["'" + p for p in PAYLOADS]
    assert not any(dangerous(c) for r in back for c in r)
    xback = xlsx_rows(export_bytes(rows, "en", "xlsx"))
    assert len(xback) == n + 1 and [r[0] for r in xback[1:]] == ["'" + xlsx_clean(p) for p in PAYLOADS]


NOW = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")
IMPORT_HEADER = ["工单编号", "受理时间", "诉求内容", "诉求地址", "经度", "纬度", "来电人", "联系电话"]
IMPORT_ROWS = [
    # stored (in grid G1)
    ["=1+2", "2025-04-03 10:00", '=HYPERLINK("http://x","y")', "@SUM(A1)", "121.505", "31.285", "王小明", "13912345678"],
    ["S02", "2025-04-03 11:00", "请王小明回电13912345678", "-1+1号", "121.505", "31.285", "王小明", "13912345678"],
    ["S03", "2025-04-03 12:00", "=cmd|' /C calc'!A0", "a\r\nb", "121.505", "31.285", "", ""],
    # quarantined (zero coordinates)
    ["+1", "2025-04-03 13:00", "=cmd|' /C calc'!A0", "line1\nline2", "0", "0", "李四", "13812345678"],
    ["Q02", "2025-04-03 14:00", "李四说13812345678", "@SUM(A1)", "0", "0", "李四", "138-1234-5678"],
]


@pytest.fixture
def payload_store(tmp_path, tiny_units, tiny_places):
    from minqing.ingest.pipeline import ImportOptions, import_file
    from minqing.store import open_store

    url = f"sqlite:///{tmp_path / 'payload.sqlite'}"
    path = tmp_path / "payload.csv"
    pd.DataFrame(IMPORT_ROWS, columns=IMPORT_HEADER).to_csv(path, index=False)
    with open_store(url) as store:
        store.write_units(tiny_units.drop(columns="unit_uid"))
        store.write_places(tiny_places)
        report = import_file(store, path, ImportOptions(now=NOW))
    assert (report.inserted, report.quarantined) == (3, 2)
    return url


def _read(path):
    return csv_rows(path.read_bytes()) if path.suffix == ".csv" else xlsx_rows(path.read_bytes())


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cli_export_tickets_neutralised_and_masked(payload_store, tmp_path, fmt, capsys):
    from minqing.cli.main import main

    out = tmp_path / f"tickets.{fmt}"
    assert main(["--db", payload_store, "export", "tickets", "-o", str(out)]) == 0
    rows = _read(out)
    assert len(rows) == 4
    header = rows[0]
    by_id = {r[header.index("source_id")]: r for r in rows[1:]}
    assert set(by_id) == {"'=1+2", "S02", "S03"}
    text, address = header.index("text"), header.index("address")
    assert by_id["'=1+2"][text] == "'" + IMPORT_ROWS[0][2] and by_id["'=1+2"][address] == "'@SUM(A1)"
    assert by_id["S03"][text] == "'=cmd|' /C calc'!A0" and by_id["S02"][address] == "'-1+1号"
    assert by_id["S02"][text] == "请王**回电139****5678"
    cells = [c for r in rows for c in r if isinstance(c, str)]
    assert not any(MOBILE.search(c) for c in cells) and not any("王小明" in c for c in cells)
    assert not any(dangerous(c) for c in cells)
    assert "caller_phone" not in header and "caller_name" not in header

    plain = tmp_path / f"plain.{fmt}"
    assert main(["--db", payload_store, "export", "tickets", "--unmasked", "-o", str(plain)]) == 0
    rows = _read(plain)
    assert any("13912345678" in c for r in rows for c in r if isinstance(c, str))
    assert not any(dangerous(c) for r in rows for c in r if isinstance(c, str))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cli_quarantine_export_neutralised_and_masked(payload_store, tmp_path, fmt, capsys):
    from minqing.cli.main import main

    out = tmp_path / f"q.{fmt}"
    assert main(["--db", payload_store, "quarantine", "export", "--format", fmt, "-o", str(out)]) == 0
    rows = _read(out)
    assert len(rows) == 3
    header = rows[0]
    by_id = {r[header.index("工单编号")]: dict(zip(header, r)) for r in rows[1:]}
    assert set(by_id) == {"'+1", "Q02"}
    assert by_id["'+1"]["诉求内容"] == "'=cmd|' /C calc'!A0" and by_id["Q02"]["诉求地址"] == "'@SUM(A1)"
    assert by_id["'+1"]["来电人"] == "李*" and by_id["Q02"]["联系电话"] == "138****5678"
    assert by_id["Q02"]["诉求内容"] == "李*说138****5678"
    cells = [c for r in rows for c in r if isinstance(c, str)]
    assert not any(MOBILE.search(re.sub(r"\D", "", c)) for c in cells) and not any("李四" in c for c in cells)
    assert not any(dangerous(c) for c in cells)


def test_quarantine_masked_whatever_the_mapping(tmp_path, tiny_units, tiny_places):
    """Headers no alias knows, mapped by a --mapping file: the recorded mapping still masks them."""
    from minqing.export.tickets import quarantine_frame
    from minqing.ingest.pipeline import ImportOptions, import_file
    from minqing.store import open_store

    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\nsource_id = "流水"\nreceived_at = "时间"\ntext = "内容"\n'
                       'caller_name = "甲方"\ncaller_phone = "乙方"\n', encoding="utf-8")
    header = ["流水", "时间", "内容", "经度", "纬度", "甲方", "乙方", "备用", "楼栋"]
    rows = [["M01", "2025-04-03", "张三丰反映噪声", "0", "0", "张三丰", "+86 139 1234 5678", "021-65432100", "3"],
            ["M02", "2025-04-03", "无", "0", "0", "赵六", "0571 8765 4321", "", "5"]]
    path = tmp_path / "m.csv"
    pd.DataFrame(rows, columns=header).to_csv(path, index=False)
    with open_store(f"sqlite:///{tmp_path / 'm.sqlite'}") as store:
        store.write_units(tiny_units.drop(columns="unit_uid"))
        store.write_places(tiny_places)
        assert import_file(store, path, ImportOptions(now=NOW, mapping_file=mapping)).quarantined == 2
        masked = quarantine_frame(store).set_index("流水")
        plain = quarantine_frame(store, masked=False).set_index("流水")
    assert masked["甲方"].tolist() == ["张**", "赵*"]
    assert masked.loc["M01", "内容"] == "张**反映噪声"
    assert "1234" not in masked.loc["M01", "乙方"] and masked.loc["M01", "乙方"].endswith("5678")
    assert "8765" not in masked.loc["M02", "乙方"]
    assert "6543" not in masked.loc["M01", "备用"]  # a column of phone numbers the mapping does not name
    assert masked["楼栋"].tolist() == ["3", "5"] and masked["时间"].tolist() == ["2025-04-03"] * 2
    assert plain.loc["M01", "甲方"] == "张三丰" and plain.loc["M01", "备用"] == "021-65432100"


# --- properties -------------------------------------------------------------------------------------------

TRICKY = st.sampled_from(list("=+-@\t\r\n\x00\x01\x0b\x1f ,\"';\uff1d\uff0b\uff0d\uff20\u3000a中#|!"))
CELL = st.text(alphabet=TRICKY | st.characters(), max_size=12)
COLUMNS = st.lists(CELL, min_size=1, max_size=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=COLUMNS, second=st.data())
def test_property_csv_round_trip(first, second):
    other = second.draw(st.lists(CELL, min_size=len(first), max_size=len(first)))
    df = pd.DataFrame({"a": first, "b": other}, dtype=object)  # object: the str dtype cannot hold lone surrogates
    rows = csv_rows(to_csv_bytes(df))
    assert len(rows) == len(df) + 1
    for (x, y), row in zip(zip(first, other), rows[1:]):
        for original, cell in ((x, row[0]), (y, row[1])):
            clean = re.sub(r"[\ud800-\udfff]", "\ufffd", original.replace("\x00", ""))
            assert cell in (clean, "'" + clean)
            assert (cell == "'" + clean) == dangerous(clean)
            assert not dangerous(cell)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=COLUMNS)
def test_property_xlsx_round_trip(values):
    df = pd.DataFrame({"a": pd.Series(values, dtype=object), "n": range(len(values))})
    rows = xlsx_rows(to_xlsx_bytes(df))
    assert len(rows) == len(df) + 1
    for original, row in zip(values, rows[1:]):
        clean = xlsx_clean(original)
        cell = "" if row[0] is None else row[0]
        assert cell in (clean, "'" + clean)
        assert not dangerous(cell)
