"""Never a traceback, nothing personal in errors and logs: odd files, broken disks, unexpected errors.

Every case runs the real ``minqing`` command (``minqing.cli.main.main``) on tiny files
in ``tmp_path``; a failure must end with exit code 2 (130 when interrupted) and
one clear line on standard error.
"""

from __future__ import annotations

import errno
import json
import os
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from minqing.cli.main import main
from minqing.errors import (
    StoreCorruptError,
    StoreFullError,
    StoreLockedError,
    StoreReadOnlyError,
)
from minqing.ingest.errors import MappingError
from minqing.ingest.pipeline import ImportOptions, import_file
from minqing.store import open_store

NAME, PHONE = "王小明", "13812345678"
OK_ROW = {"工单编号": "R1", "受理时间": "2025-04-03 10:00", "问题分类": "电梯故障", "诉求内容": "电梯坏了",
          "经度": "121.505", "纬度": "31.285"}
REPORT = re.compile(r"read (\d+) = inserted (\d+) \+ updated (\d+) \+ unchanged (\d+) \+ quarantined (\d+) "
                    r"\+ duplicates (\d+)")


@pytest.fixture
def db(tmp_path, tiny_units, monkeypatch):
    """A tiny store with the test city's units; the log goes to tmp_path/minqing.log."""
    monkeypatch.setenv("MINQING_LOG_FILE", str(tmp_path / "minqing.log"))
    path = tmp_path / "store" / "s.sqlite"
    url = f"sqlite:///{path}"
    with open_store(url) as s:
        s.write_units(tiny_units.drop(columns="unit_uid"))
    return url


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def csv_file(path: Path, rows=(OK_ROW,)) -> Path:
    pd.DataFrame(list(rows)).to_csv(path, index=False)
    return path


def counts(out: str) -> tuple[int, ...]:
    m = REPORT.search(out)
    assert m, out
    return tuple(int(x) for x in m.groups())


def reconciles(c) -> bool:
    read, ins, upd, unch, quar, dup = c
    return read == ins + upd + unch + quar + dup


def _store_path(url: str) -> Path:
    return Path(url[len("sqlite:///"):])


# -- the store: read-only, full, locked, damaged -------------------------------------------------------------
def _connect_as(monkeypatch, path: Path, **changes):
    """Make the store's connections to ``path`` read-only (``mode=ro``) or give them other options.

    Root writes through chmod, so this is how a test run as root gets SQLite's real
    "attempt to write a readonly database".
    """
    real = sqlite3.connect

    def connect(target, *args, **kw):
        if str(target) == str(path):
            kw.update(changes.get("kw", {}))
            if changes.get("read_only"):
                return real(f"file:{path}?mode=ro", *args, uri=True, **kw)
        return real(target, *args, **kw)

    monkeypatch.setattr(sqlite3, "connect", connect)


def test_read_only_store_is_a_clear_error(db, tmp_path, capsys, monkeypatch):
    src = csv_file(tmp_path / "a.csv")
    _connect_as(monkeypatch, _store_path(db), read_only=True)
    code, _, err = cli(capsys, "--db", db, "import", str(src))
    assert code == 2
    assert "cannot be written" in err and "readonly" in err and "writable" in err
    code, _, err = cli(capsys, "--db", db, "demo", "--tickets", "10")
    assert code == 2 and "cannot be written" in err
    monkeypatch.undo()
    with open_store(db) as s:
        assert s.ticket_count() == 0 and s.read_import_reports() == []


def test_read_only_store_raises_store_error_in_the_store(db, monkeypatch):
    _connect_as(monkeypatch, _store_path(db), read_only=True)
    with open_store(db) as s:  # reading works: viewers may browse a read-only store
        assert s.ticket_count() == 0
        with pytest.raises(StoreReadOnlyError) as info:
            s.set_meta("k", "v")
    assert info.value.key == "error.store_readonly" and info.value.params["path"].endswith("s.sqlite")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes through chmod")
def test_read_only_file_and_folder_by_chmod(db, tmp_path, capsys):
    path = _store_path(db)
    with open_store(db) as s:
        s._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.chmod(path, 0o444)
    os.chmod(path.parent, 0o555)
    try:
        code, _, err = cli(capsys, "--db", db, "import", str(csv_file(tmp_path / "a.csv")))
        assert code == 2 and ("read-only" in err or "cannot be written" in err or "cannot open" in err)
    finally:
        os.chmod(path.parent, 0o755)
        os.chmod(path, 0o644)


def test_store_disk_full_rolls_back(db, tmp_path, capsys, monkeypatch):
    from minqing.store.sqlite.store import SQLiteStore

    def full(*args, **kw):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SQLiteStore, "_copy_staged", full)
    code, _, err = cli(capsys, "--db", db, "import", str(csv_file(tmp_path / "a.csv")))
    assert code == 2 and "is full" in err and "free some space" in err
    monkeypatch.undo()
    with open_store(db) as s:
        assert s.ticket_count() == 0 and s.read_import_reports() == []
        with pytest.raises(StoreFullError), s.transaction():
            raise sqlite3.OperationalError("database or disk is full")
        s.set_meta("still", "works")  # the failed transaction was rolled back


def test_scratch_disk_full_is_an_ingest_error(db, tmp_path, capsys, monkeypatch):
    import tempfile

    from minqing.store import scratch as stage_module

    def full(*args, **kw):
        raise sqlite3.OperationalError("database or disk is full")

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(stage_module, "_stage_rows", full)
    code, _, err = cli(capsys, "--db", db, "import", str(csv_file(tmp_path / "a.csv")))
    assert code == 2 and "temporary folder" in err and str(scratch) in err and "TMPDIR" in err
    assert list(scratch.iterdir()) == []  # the import's scratch folder is gone
    monkeypatch.undo()
    with open_store(db) as s:
        assert s.ticket_count() == 0


def test_locked_store(db, tmp_path, capsys, monkeypatch):
    path = _store_path(db)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        _connect_as(monkeypatch, path, kw={"timeout": 0.1})
        code, _, err = cli(capsys, "--db", db, "import", str(csv_file(tmp_path / "a.csv")))
        assert code == 2 and "locked by another program" in err
        with open_store(db) as s, pytest.raises(StoreLockedError):
            s.set_meta("k", "v")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_file_that_is_not_a_store(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MINQING_LOG_FILE", str(tmp_path / "minqing.log"))
    bad = tmp_path / "notes.sqlite"
    bad.write_bytes(b"this is not a database, just notes " * 200)
    with pytest.raises(StoreCorruptError):
        open_store(f"sqlite:///{bad}")
    code, _, err = cli(capsys, "--db", f"sqlite:///{bad}", "info")
    assert code == 2 and "not a usable Minqing Map store" in err
    folder = tmp_path / "a_folder.sqlite"
    folder.mkdir()
    code, _, err = cli(capsys, "--db", f"sqlite:///{folder}", "info")
    assert code == 2 and "cannot open" in err


def test_integrity_errors_stay_bugs(db):
    """A constraint violation is a bug, not a condition of the disk: it is not dressed up as a StoreError."""
    with open_store(db) as s, pytest.raises(sqlite3.IntegrityError), s.transaction() as con:
        con.execute("INSERT INTO meta (key, value) VALUES (NULL, NULL)")


# -- output files and the environment ---------------------------------------------------------------------------
def test_missing_output_folder(db, tmp_path, capsys):
    out = tmp_path / "no" / "such" / "q.csv"
    code, _, err = cli(capsys, "--db", db, "quarantine", "export", "-o", str(out))
    assert code == 2 and "no such file or folder" in err and str(out) in err


def test_output_disk_full(db, tmp_path, capsys, monkeypatch):
    out = tmp_path / "q.csv"
    real = Path.write_bytes

    def full(self, data):
        if self == out:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    code, _, err = cli(capsys, "--db", db, "quarantine", "export", "-o", str(out))
    assert code == 2 and "disk is full" in err and str(out) in err


@pytest.mark.parametrize("exc, expected", [
    (PermissionError(errno.EACCES, "Permission denied", "orders.csv"), "permission denied for orders.csv"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "save the file as UTF-8"),
    (MemoryError(), "out of memory"),
    (sqlite3.OperationalError("database or disk is full"), "is full"),
    (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/x.csv"), "read-only"),
])
def test_environment_errors_are_plain_messages(db, tmp_path, capsys, monkeypatch, exc, expected):
    from minqing.ingest import pipeline

    def fail(*args, **kw):
        raise exc

    monkeypatch.setattr(pipeline, "import_file", fail)
    code, _, err = cli(capsys, "--db", db, "import", str(csv_file(tmp_path / "a.csv")))
    assert code == 2 and expected in err and "reference" not in err


def test_keyboard_interrupt(db, tmp_path, capsys, monkeypatch):
    from minqing.ingest import pipeline

    def interrupt(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "import_file", interrupt)
    code, _, err = cli(capsys, "--db", db, "import", str(csv_file(tmp_path / "a.csv")))
    assert code == 130 and err.strip().startswith("interrupted")


# -- unexpected errors: a reference, a log without personal data --------------------------------------------------
def _ticket_crash(*args, **kw):
    caller = f"{NAME} {PHONE}"  # a local holding personal data: never logged
    raise ValueError(f"cannot handle the order of {caller}: 路灯不亮")


def test_unexpected_error_gives_a_reference_and_logs_without_personal_data(db, tmp_path, capsys, monkeypatch):
    from minqing.ingest import pipeline

    monkeypatch.setattr(pipeline, "import_file", _ticket_crash)
    code, _, err = cli(capsys, "--db", db, "import", str(csv_file(tmp_path / "a.csv")))
    assert code == 2
    m = re.search(r"unexpected error \(reference ([0-9a-f]{8})\); the administrator can find it in (.+)$", err.strip())
    assert m, err
    ref, where = m.groups()
    assert Path(where) == tmp_path / "minqing.log"
    log = Path(where).read_text(encoding="utf-8")
    assert ref in log and "builtins.ValueError" in log and "_ticket_crash" in log and "cli import" in log
    assert PHONE not in log and "138****5678" in log  # the message is masked
    assert "caller = " not in log  # no source lines, no locals
    assert PHONE not in err and NAME not in err


def test_recursion_error_elsewhere(db, tmp_path, capsys, monkeypatch):
    from minqing.ingest import pipeline

    def deep(*args, **kw):
        return deep()

    monkeypatch.setattr(pipeline, "import_file", deep)
    code, _, err = cli(capsys, "--db", db, "import", str(csv_file(tmp_path / "a.csv")))
    assert code == 2 and "nested too deeply" in err
    ref = re.search(r"reference ([0-9a-f]{8})", err).group(1)
    log = (tmp_path / "minqing.log").read_text(encoding="utf-8")
    assert ref in log and "frames omitted" in log


def test_log_goes_beside_the_store_by_default(db, tmp_path, capsys, monkeypatch):
    from minqing.ingest import pipeline

    monkeypatch.delenv("MINQING_LOG_FILE")
    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml here
    monkeypatch.setattr(pipeline, "import_file", _ticket_crash)
    code, _, err = cli(capsys, "--db", db, "import", str(csv_file(tmp_path / "a.csv")))
    assert code == 2
    log = _store_path(db).parent / "minqing.log"
    assert str(log) in err and re.search(r"reference ([0-9a-f]{8})", err).group(1) in log.read_text(encoding="utf-8")


def test_describe_cuts_deep_tracebacks_and_follows_causes():
    from minqing.errlog import MAX_FRAMES, describe

    def deep(n):
        return deep(n + 1)

    try:
        try:
            deep(0)
        except RecursionError as exc:
            raise RuntimeError(f"wrapped for {PHONE}") from exc
    except RuntimeError as exc:
        lines = describe(exc)
    assert lines[0].startswith("builtins.RuntimeError: wrapped for 138****5678")
    assert any(line.startswith("caused by builtins.RecursionError") for line in lines)
    assert len(lines) < 2 * (MAX_FRAMES + 3) and any("frames omitted" in line for line in lines)


def test_app_error_boundary_shows_a_reference(tmp_path, monkeypatch):
    from minqing.errors import ConfigError
    from minqing.i18n import t
    from minqing.ui import components

    monkeypatch.setenv("MINQING_LOG_FILE", str(tmp_path / "app.log"))
    shown = []

    class FakeSt:
        def error(self, text):
            shown.append(("error", text))

        def info(self, text):
            shown.append(("info", text))

    monkeypatch.setattr(components, "st", FakeSt())
    try:
        _ticket_crash()
    except ValueError as exc:
        components.show_error(exc, "zh")
    kind, text = shown[0]
    ref = re.search(r"编号 ([0-9a-f]{8})", text).group(1)
    assert kind == "error" and str(tmp_path / "app.log") in text and PHONE not in text
    log = (tmp_path / "app.log").read_text(encoding="utf-8")
    assert ref in log and " in app " in log and PHONE not in log
    shown.clear()
    components.show_error(sqlite3.OperationalError("attempt to write a readonly database"), "en")
    assert shown[0][0] == "error" and "read-only" in shown[0][1]
    shown.clear()
    components.show_error(ConfigError("bad", key="error.bad_url", url="x://"), "en")
    # values from the data are shown as text: Markdown-escaped (rendered as "x://")
    assert shown[0] == ("error", t("error.bad_url", "en", url="x\\://"))


# -- odd but valid files ------------------------------------------------------------------------------------------
def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


FEATURE = {"type": "Feature", "properties": {"工单编号": "G1", "受理时间": "2025-04-03 10:00"},
           "geometry": {"type": "Point", "coordinates": [121.505, 31.295]}}


@pytest.mark.parametrize("name, content, expected", [
    ("str.geojson", {"type": "FeatureCollection", "features": "abc"}, '"features" is string'),
    ("num.geojson", {"type": "FeatureCollection", "features": 5}, '"features" is number'),
    ("dict.geojson", {"type": "FeatureCollection", "features": {"a": FEATURE}}, '"features" is object'),
    ("none.geojson", {"type": "FeatureCollection"}, '"features" is missing'),
    ("strings.geojson", {"type": "FeatureCollection", "features": ["a", 1, None]}, "none of the 3 features"),
    ("strings.json", [PHONE, 5, [1]], "none of the 3 items"),
    ("scalar.json", "hello", "single JSON value (string)"),
    ("number.json", 42, "single JSON value (number)"),
    ("other.json", {"a": 1}, "neither a GeoJSON FeatureCollection nor an Open311"),
])
def test_json_shapes_that_cannot_be_read(db, tmp_path, capsys, name, content, expected):
    code, _, err = cli(capsys, "--db", db, "import", str(write_json(tmp_path / name, content)))
    assert code == 2 and expected in err and PHONE not in err


def test_deeply_nested_json(db, tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    code, _, err = cli(capsys, "--db", db, "import", str(path))
    assert code == 2 and "nested too deeply" in err


def test_broken_json_and_empty_files(db, tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('[{"service_request_id": "O1", ', encoding="utf-8")
    code, _, err = cli(capsys, "--db", db, "import", str(broken))
    assert code == 2 and "cannot be parsed" in err
    for name, data in (("empty.json", b""), ("bom.csv", b"\xef\xbb\xbf"), ("blank.json", b"  \n")):
        (tmp_path / name).write_bytes(data)
        code, out, err = cli(capsys, "--db", db, "import", str(tmp_path / name))
        assert code == 0 and counts(out) == (0, 0, 0, 0, 0, 0) and "empty_file" in out


def test_geojson_with_odd_features_quarantines_and_reconciles(db, tmp_path, capsys):
    features = [
        FEATURE,  # stored, grid G2
        {"type": "Feature", "properties": {"工单编号": "G2", "受理时间": "2025-04-03 11:00"}},  # no geometry: unlocated
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.505, 31.295]}},  # no properties: missing_id
        {"type": "Feature", "properties": ["工单编号", "G3"], "geometry": None},  # list properties: not_a_record
        {"type": "Feature", "properties": f"{NAME}{PHONE}"},  # string properties: not_a_record
        {"type": "Feature", "properties": {"工单编号": "G4", "受理时间": "2025-04-03 12:00"}, "geometry": "broken"},
        "a string", 42, None,  # not objects: not_a_record
    ]
    path = write_json(tmp_path / "odd.geojson", {"type": "FeatureCollection", "features": features})
    code, out, err = cli(capsys, "--db", db, "import", str(path))
    assert code == 0, err
    c = counts(out)
    assert c == (9, 3, 0, 0, 6, 0) and reconciles(c)
    assert "not_a_record x5" in out and "missing_id x1" in out and PHONE not in out
    with open_store(db) as s:
        t = s.read_tickets().set_index("source_id")
        assert t.loc["G1", "grid_code"] == "G2" and pd.isna(t.loc["G4", "lon"])
        q = s.read_quarantine()
        assert len(q) == 6 and (q["reason"] == "not_a_record").sum() == 5
        assert all(isinstance(json.loads(o), dict) for o in q["original"])  # exportable as columns
    code, out, _ = cli(capsys, "--db", db, "import", str(path))  # re-importing changes nothing
    assert code == 0 and counts(out) == (9, 0, 0, 3, 6, 0)


def test_open311_list_mixing_objects_and_values(db, tmp_path, capsys):
    items = [
        {"service_request_id": "O1", "requested_datetime": "2025-04-03T14:05:00+08:00", "service_name": "电梯故障",
         "description": {"nested": [1, {"deep": ["x"]}]}, "address": "测试路", "lat": 31.285, "long": 121.505,
         "big": 10**30},
        5, PHONE, [1, 2], None, True,
        {"service_request_id": "O2", "requested_datetime": "2025-04-03T15:05:00+08:00", "lat": float("nan"),
         "long": float("inf"), "n": "HUGE"},
    ]
    text = json.dumps(items, ensure_ascii=False).replace('"HUGE"', "9" * 5000)  # more digits than Python converts
    assert "NaN" in text and "Infinity" in text
    path = tmp_path / "requests.json"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # with a BOM
    code, out, err = cli(capsys, "--db", db, "import", str(path))
    assert code == 0, err
    c = counts(out)
    assert c == (7, 2, 0, 0, 5, 0) and reconciles(c) and "not_a_record x5" in out
    assert PHONE not in out and "invalid_coordinates" in out
    with open_store(db) as s:
        t = s.read_tickets().set_index("source_id")
        assert json.loads(t.loc["O1", "text"]) == {"nested": [1, {"deep": ["x"]}]}  # nested: its JSON text
        assert json.loads(t.loc["O1", "extra"])["big"] == str(10**30)
        assert json.loads(t.loc["O2", "extra"])["n"] == "9" * 5000  # a huge number kept as its digits
        assert pd.isna(t.loc["O2", "address"])  # a missing key is blank, not "nan"
        assert t.loc["O1", "grid_code"] == "G1"
    utf16 = tmp_path / "requests16.json"
    utf16.write_bytes(text.encode("utf-16"))
    code, out, _ = cli(capsys, "--db", db, "import", str(utf16))
    assert code == 0 and counts(out)[0] == 7


# -- files without a header row -----------------------------------------------------------------------------------
def test_headerless_csv_does_not_echo_the_first_row(db, tmp_path, capsys):
    path = tmp_path / "noheader.csv"
    path.write_text(f"{NAME},{PHONE},2025-04-03 10:00,噪声扰民\n李四,13912345678,2025-04-04 10:00,路灯\n",
                    encoding="utf-8")
    code, _, err = cli(capsys, "--db", db, "import", str(path))
    assert code == 2 and "looks like data, not column names" in err and "header row" in err
    assert NAME not in err and PHONE not in err and "2025-04-03" not in err
    code, _, err = cli(capsys, "--db", db, "import", "--dry-run", str(path))
    assert code == 2 and NAME not in err and PHONE not in err


def test_headerless_xlsx_does_not_echo_the_first_row(db, tmp_path, capsys):
    from datetime import datetime

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([NAME, int(PHONE), datetime(2025, 4, 3, 10, 0), "噪声扰民"])
    ws.append(["李四", 13912345678, datetime(2025, 4, 4, 10, 0), "路灯"])
    path = tmp_path / "noheader.xlsx"
    wb.save(path)
    code, _, err = cli(capsys, "--db", db, "import", str(path))
    assert code == 2 and "looks like data" in err and NAME not in err and PHONE not in err


def test_listed_column_names_are_masked_and_cut(db, tmp_path):
    path = tmp_path / "odd.csv"
    long = "备注" * 40
    pd.DataFrame([{f"联系人电话{PHONE}": "x", long: "y", "名称": "z"}]).to_csv(path, index=False)
    with open_store(db) as s, pytest.raises(MappingError) as info:
        import_file(s, path, ImportOptions())
    msg = str(info.value)
    assert "the file's columns are" in msg and PHONE not in msg and "138****5678" in msg
    assert long not in msg and long[:30] in msg


def test_mapping_file_naming_a_missing_column(db, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text(f'[columns]\nsource_id = "编号{PHONE}"\n', encoding="utf-8")
    with open_store(db) as s, pytest.raises(MappingError) as info:
        import_file(s, csv_file(tmp_path / "a.csv"), ImportOptions(mapping_file=mapping))
    assert PHONE not in str(info.value) and PHONE not in json.dumps(info.value.params, ensure_ascii=False)


# -- URLs with a password -----------------------------------------------------------------------------------------
def test_store_urls_never_echo_a_password(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("MINQING_LOG_FILE", str(tmp_path / "minqing.log"))
    code, _, err = cli(capsys, "--db", "postgresql://minqing:s3cret@db:5432/minqing", "info")
    assert code == 2 and "s3cret" not in err and "minqing:***@db" in err
    monkeypatch.setenv("MINQING_DATABASE_URL", "mysql://minqing:s3cret@db/minqing")
    code, _, err = cli(capsys, "info")
    assert code == 2 and "s3cret" not in err and "***" in err


def test_info_prints_the_store(db, capsys):
    code, out, _ = cli(capsys, "--db", db, "info")
    assert code == 0 and f"store: {db}" in out


# -- the import page leaves nothing in the temporary folder --------------------------------------------------------
def test_import_page_deletes_uploads(demo_store_url, tmp_path, monkeypatch):
    import shutil
    import tempfile

    from streamlit.testing.v1 import AppTest

    from minqing.config import sqlite_path

    copy = tmp_path / "copy.sqlite"
    with open_store(demo_store_url) as s:
        s._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(sqlite_path(demo_store_url), copy)
    monkeypatch.setenv("MINQING_DATABASE_URL", f"sqlite:///{copy}")
    monkeypatch.setenv("MINQING_LOG_FILE", str(tmp_path / "minqing.log"))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    root = Path(__file__).resolve().parents[1]
    import time

    from minqing.accounts import add_user

    with open_store(f"sqlite:///{copy}") as s:
        add_user(s, "uploader", "planner", "a-long-enough-password", actor="tests")
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    at.session_state["auth"] = {"name": "uploader", "signed_in_at": time.time(), "last_seen": time.time()}
    at.run()
    at.switch_page(str(root / "views" / "import.py"))
    at.run()
    good = pd.DataFrame([{**OK_ROW, "工单编号": "UPX1", "经度": "121.54", "纬度": "31.295"}]).to_csv(index=False)
    at.file_uploader(key="import_file").set_value(("orders.csv", good.encode("utf-8"), "text/csv")).run()
    assert not at.exception and list(scratch.iterdir()) == []  # the preview's copy is gone
    at.button(key="import_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert list(scratch.iterdir()) == []  # and the import's copy and scratch folder
    bad = f"{NAME},{PHONE},2025-04-03 10:00\n".encode()
    at.file_uploader(key="import_file").set_value(("bad.csv", bad, "text/csv")).run()
    assert at.error and NAME not in at.error[0].value and PHONE not in at.error[0].value
    assert list(scratch.iterdir()) == []  # also after a failure
