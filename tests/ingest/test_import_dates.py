"""Importing files whose dates are written as people write them; bad optional times store the row blank."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from minqing.cli.main import main
from minqing.errors import IngestError
from minqing.ingest.pipeline import ImportOptions, import_file, preview_file
from minqing.store import open_store

NOW = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")
HEADER = ["工单编号", "受理时间", "办结时间", "诉求内容", "经度", "纬度"]
P = ("121.505", "31.285")  # inside the tiny city (tests/conftest.py)


@pytest.fixture
def store(city_store):
    return city_store


def csv(path, rows):
    pd.DataFrame([[i, r, c, "text", *P] for i, r, c in rows], columns=HEADER).to_csv(path, index=False)
    return path


def run(store, path, **kw):
    kw.setdefault("now", NOW)
    return import_file(store, path, ImportOptions(**kw))


def local(store, sid, col):
    v = store.read_tickets().set_index("source_id").loc[sid, col]
    return None if pd.isna(v) else pd.Timestamp(v).tz_convert("Asia/Shanghai").strftime("%Y-%m-%d %H:%M:%S")


def balanced(r):
    return r.rows_read == r.inserted + r.updated + r.unchanged + r.quarantined + r.duplicates and r.reconciles()


def test_month_first_inferred_from_any_time_column(store, tmp_path):
    # the received times fit both orders; one close time (12/31) proves month-first for the whole file
    path = csv(tmp_path / "us.csv", [("U1", "1/2/2017 11:59:58 PM", ""), ("U2", "3/4/17 0:05", "12/31/2017 1:00 PM")])
    r = run(store, path)
    assert r.date_order == "MDY" and (r.inserted, r.quarantined) == (2, 0) and balanced(r)
    assert local(store, "U1", "received_at") == "2017-01-02 23:59:58"
    assert local(store, "U2", "received_at") == "2017-03-04 00:05:00"
    assert local(store, "U2", "closed_at") == "2017-12-31 13:00:00"


def test_day_first_inferred(store, tmp_path):
    path = csv(tmp_path / "eu.csv", [("E1", "1/2/2017 10:00", ""), ("E2", "31.12.2017 10:00", "")])
    r = run(store, path)
    assert r.date_order == "DMY" and r.inserted == 2 and balanced(r)
    assert local(store, "E1", "received_at") == "2017-02-01 10:00:00"


@pytest.mark.parametrize("workers", [1, 2])
def test_date_order_sampled_across_blocks(store, tmp_path, workers):
    # blocks of a few rows: the row that proves day-first (31.12) is blocks after the first, still in the sample
    rows = [(f"B{i:03d}", f"{1 + i % 12}/{1 + i % 12}/2017 10:00", "") for i in range(60)] + [("B999", "31.12.2017 10:00", "")]
    path = csv(tmp_path / "eu.csv", rows[:-1][:30] + [("B0X1", "1/2/2017 10:00", ""), rows[-1]] + rows[30:-1])
    r = run(store, path, workers=workers, block_bytes=120)
    assert r.date_order == "DMY" and r.inserted == 62 and balanced(r)
    assert local(store, "B0X1", "received_at") == "2017-02-01 10:00:00"


def test_ambiguous_file_stops_with_the_fix_and_writes_nothing(store, tmp_path):
    path = csv(tmp_path / "amb.csv", [("A1", "1/2/2017", ""), ("A2", "3/4/2017", "5/6/2017")])
    for dry in (False, True):
        with pytest.raises(IngestError) as exc:
            run(store, path, dry_run=dry)
        msg = str(exc.value)
        assert "1/2/2017" in msg and 'date_order = "MDY" | "DMY" | "YMD"' in msg and "--date-order" in msg
        assert exc.value.key == "ingest.error_date_order" and exc.value.params["example"] == "1/2/2017"
    assert store.ticket_count() == 0 and store.read_import_reports() == [] and store.read_quarantine().empty
    pv = preview_file(path, ImportOptions(now=NOW))  # the preview still shows the mapping
    assert pv.mapping.fields["received_at"] == "受理时间"


def test_date_order_option_mapping_file_and_cli_resolve_it(store, tmp_path, tiny_units, capsys):
    path = csv(tmp_path / "amb.csv", [("A1", "1/2/2017", ""), ("A2", "3/4/2017", "5/6/2017")])
    r = run(store, path, date_order="DMY")
    assert r.date_order == "DMY" and r.inserted == 2
    assert local(store, "A1", "received_at") == "2017-02-01 00:00:00"
    mapping = tmp_path / "m.toml"
    mapping.write_text('[options]\ndate_order = "MDY"\n', encoding="utf-8")
    r = run(store, path, mapping_file=mapping)
    assert r.date_order == "MDY" and r.updated == 2
    assert local(store, "A1", "received_at") == "2017-01-02 00:00:00"
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    with open_store(url) as s:
        s.write_units(tiny_units.drop(columns="unit_uid"))
    assert main(["--db", url, "import", str(path)]) != 0
    assert "--date-order" in capsys.readouterr().err
    assert main(["--db", url, "import", str(path), "--date-order", "MDY"]) == 0
    assert "date order: MDY" in capsys.readouterr().out


def test_bad_date_order_value_is_a_clear_error(store, tmp_path):
    with pytest.raises(IngestError, match="MDY, DMY, YMD"):
        run(store, csv(tmp_path / "a.csv", [("A1", "2017-01-02", "")]), date_order="ABC")


def test_old_times_import_with_a_warning_and_earliest_quarantines(store, tmp_path):
    path = csv(tmp_path / "old.csv", [("O1", "1969-07-20 20:17", ""), ("O2", "1984-12-31 23:00", "1985-01-02"),
                                      ("O3", "1995-06-01", "")])
    r = run(store, path)
    assert (r.inserted, r.quarantined) == (3, 0) and balanced(r)
    assert r.warnings["time_before_1990"] == 2
    assert local(store, "O1", "received_at") == "1969-07-20 20:17:00"
    r = run(store, csv(tmp_path / "old2.csv", [("P1", "1969-07-20", ""), ("P2", "1995-06-01", "")]), earliest="1990-01-01")
    assert (r.inserted, r.quarantined) == (1, 1) and r.reasons == {"time_before_earliest": 1} and balanced(r)


def test_unreadable_close_time_stores_the_row_blank_and_counts_it(store, tmp_path, capsys):
    path = csv(tmp_path / "na.csv", [("N1", "2025-04-03 10:00", "NA"), ("N2", "2025-04-03 11:00", "2025-04-04 10:00"),
                                     ("N3", "2025-04-03 12:00", "soon"), ("N4", "2025-04-03 12:00", "暂无"),
                                     ("N5", "garbage", "2025-04-04"), ("N6", "", "")])
    r = run(store, path)
    assert (r.inserted, r.quarantined) == (4, 2) and balanced(r)
    assert r.reasons == {"bad_time": 1, "missing_time": 1}  # only the received time quarantines
    assert r.unreadable == {"closed_at": 3} and r.unreadable_examples == {"closed_at": "NA"}
    t = store.read_tickets().set_index("source_id")
    assert pd.isna(t.loc["N1", "closed_at"]) and pd.isna(t.loc["N3", "closed_at"]) and pd.isna(t.loc["N4", "closed_at"])
    assert t.loc["N1", "status"] == "open"
    assert json.loads(t.loc["N1", "extra"]) == {"_unreadable": {"closed_at": "NA"}}  # the raw text is kept
    assert json.loads(t.loc["N3", "extra"]) == {"_unreadable": {"closed_at": "soon"}}
    assert json.loads(t.loc["N4", "extra"]) == {"_unreadable": {"closed_at": "暂无"}}
    assert pd.isna(t.loc["N2", "extra"])
    from minqing.cli.imports import _print_report

    _print_report(r)
    assert "closed_at: 3 unreadable, stored blank (e.g. 'NA')" in capsys.readouterr().out


def test_na_close_time_counts_closed_at_1(store, tmp_path):
    path = csv(tmp_path / "na.csv", [("M1", "2025-04-03 10:00", "NA"), ("M2", "2025-04-03 11:00", "")])
    r = run(store, path)
    assert r.inserted == 2 and r.quarantined == 0 and r.unreadable == {"closed_at": 1} and balanced(r)
    t = store.read_tickets().set_index("source_id")
    assert pd.isna(t.loc["M1", "closed_at"]) and json.loads(t.loc["M1", "extra"]) == {"_unreadable": {"closed_at": "NA"}}
    assert pd.isna(t.loc["M2", "extra"])  # an empty cell is just blank


def test_later_chunk_contradicting_the_order_is_quarantined_with_the_order(store, tmp_path):
    rows = [(f"C{i}", "12/31/2017 10:00", "") for i in range(30)] + [("X1", "31/12/2017 10:00", "")]
    r = run(store, csv(tmp_path / "c.csv", rows), chunksize=10)
    assert r.date_order == "MDY" and r.inserted == 30 and r.reasons == {"bad_time": 1} and balanced(r)
    q = store.read_quarantine()
    assert q["detail"].iloc[0].endswith("(date order MDY)")
