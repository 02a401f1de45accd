"""A whole store copied SQLite -> PostGIS -> SQLite reads back the same, and the verification catches a change.

The source is the tiny city of the contract tests with two imports (a change and a
quarantined row), an intervention edited twice, an account and audit rows.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_contract import AS_OF, load_city

from minqing.errors import StoreError
from minqing.store import TicketFilter, open_store
from minqing.store.copy import copy_store, nonempty_tables, verify_copy
from minqing.store.logtables import LOG_TABLES

HEADER = ["工单编号", "受理时间", "诉求渠道", "诉求类型", "问题分类", "诉求内容", "诉求地址", "经度", "纬度"]
ROWS = [["A01", "2025-04-03 14:05", "12345热线", "投诉", "噪声扰民", "吵", "测试路1号", "121.505", "31.285"],
        ["A02", "2025-04-04 09:00", "网站", "求助", "电梯故障", "电梯坏了", "", "121.515", "31.285"],
        ["A03", "2025-04-04", "12345", "投诉", "噪声扰民", "吵", "", "0", "0"]]  # quarantined: zero coordinates


def _fill(store, tiny_units, tiny_places, tmp_path):
    """The tiny city, two imports, an intervention with history, an account and audit rows."""
    from minqing.accounts import add_user
    from minqing.audit import audit
    from minqing.ingest.pipeline import ImportOptions, import_file

    load_city(store, tiny_units, tiny_places)
    store.set_timezone("Asia/Urumqi")
    now = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")
    rows = [list(r) for r in ROWS]
    for name in ("first", "second"):
        path = tmp_path / f"{name}.csv"
        pd.DataFrame(rows, columns=HEADER).to_csv(path, index=False)
        import_file(store, path, ImportOptions(now=now))
        rows[1][5] = "电梯又坏了"  # A02 changes in the second file
    targets = pd.DataFrame({"target_type": ["place", "grid"], "target_id": ["H1", "G1"]})
    record = {"intervention_id": None, "name": "整治", "type": "joint_meeting", "start_date": "2025-04-20",
              "target_categories": '["02.01.01"]'}
    iid = store.save_intervention(record, targets, "ann", json.dumps({"after": {"name": "整治"}}))
    store.save_intervention({**record, "intervention_id": iid, "end_date": "2025-06-01"}, targets.iloc[:1], None,
                            json.dumps({"after": {"end_date": "2025-06-01"}}))
    add_user(store, "ann", "planner", "a long enough password 1")
    audit(store, "ann", "export", target="x.csv", rows=3, masked=True, now=pd.Timestamp("2025-05-01 09:00"))
    audit(store, None, "sign_in_failed", now=pd.Timestamp("2025-05-02 09:00"))
    return store


def _rows_sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), ignore_index=True, na_position="first")


def _reads(store) -> dict:
    """Every read a page makes, for comparing two stores."""
    iv, tg = store.read_interventions()
    return {
        "timezone": store.timezone,
        "categories": store.city_categories(),
        "units": store.read_units().drop(columns="unit_uid"),
        "places": store.read_places(),
        "tickets": store.read_tickets(),
        "links": store.read_ticket_places(),
        "hashes": store.read_source_hashes().sort_index(),
        "quarantine": store.read_quarantine(include_resolved=True),
        "changes": store.read_ticket_changes(),
        "reports": store.read_import_reports(),
        "interventions": iv,
        "targets": tg,
        "history": store.read_intervention_history(),
        "users": store.read_users(),
        "audit": store.read_audit(limit=None),
        "grids": _rows_sorted(store.count_tickets("grid")),  # aggregates: rows in no particular order
        "kpi": _rows_sorted(store.kpi_counts(None, AS_OF)),
        "problems": _rows_sorted(store.problem_counts()),
        "range": store.received_range(),
    }


def _assert_same_reads(got: dict, expected: dict) -> None:
    for name, value in expected.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(pd.DataFrame(got[name]).reset_index(drop=True),
                                          pd.DataFrame(value).reset_index(drop=True), check_dtype=False, obj=name)
        elif isinstance(value, pd.Series):
            pd.testing.assert_series_equal(got[name], value, check_dtype=False, obj=name)
        else:
            assert got[name] == value, name


def test_sqlite_to_postgis_and_back_reads_the_same(tiny_units, tiny_places, tmp_path, pg_fresh_url):
    with open_store(f"sqlite:///{tmp_path / 'a.sqlite'}") as first:
        _fill(first, tiny_units, tiny_places, tmp_path)
        expected = _reads(first)
        assert expected["quarantine"]["reason"].tolist() == ["zero_coordinates"] and len(expected["changes"]) == 1
        with open_store(pg_fresh_url) as pg:
            counts = copy_store(first, pg, chunk=3)
            assert counts["tickets"] == 22 and counts["audit_log"] == len(expected["audit"]) >= 2 and counts["intervention_history"] == 2
            checks = verify_copy(first, pg, chunk=4)
            assert all(c.ok for c in checks), [c for c in checks if not c.ok]
            _assert_same_reads(_reads(pg), expected)
            with open_store(f"sqlite:///{tmp_path / 'b.sqlite'}") as back:
                copy_store(pg, back, chunk=5)
                assert all(c.ok for c in verify_copy(pg, back))
                _assert_same_reads(_reads(back), expected)
                assert all(c.ok for c in verify_copy(first, back))
                # new rows after a copy take ids after the copied ones
                iid = back.save_intervention({"intervention_id": None, "name": "新", "type": "joint_meeting",
                                              "start_date": "2025-07-01"}, pd.DataFrame(
                                                  {"target_type": [], "target_id": []}), None, "{}")
                assert iid == expected["interventions"]["intervention_id"].max() + 1
            pg.write_audit({"action": "sign_in", "actor": "bob"})
            assert pg.read_audit(limit=1)["id"].iloc[0] == expected["audit"]["id"].max() + 1


def test_a_non_empty_destination_is_refused(tiny_units, tiny_places, tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'a.sqlite'}") as src, \
            open_store(f"sqlite:///{tmp_path / 'b.sqlite'}") as dst:
        load_city(src, tiny_units, tiny_places)
        dst.write_audit({"action": "sign_in", "actor": "ann"})
        assert nonempty_tables(dst) == ["audit_log"]
        with pytest.raises(StoreError, match="not empty") as err:
            copy_store(src, dst)
        assert err.value.key == "error.copy_not_empty"
        assert dst.ticket_count() == 0 and not len(dst.read_units())  # nothing written


@pytest.mark.parametrize("change", ["ticket", "link", "audit", "user"])
def test_the_verification_catches_a_change_after_the_copy(tiny_units, tiny_places, tmp_path, change):
    with open_store(f"sqlite:///{tmp_path / 'a.sqlite'}") as src, \
            open_store(f"sqlite:///{tmp_path / 'b.sqlite'}") as dst:
        _fill(src, tiny_units, tiny_places, tmp_path)
        copy_store(src, dst)
        assert all(c.ok for c in verify_copy(src, dst))
        if change == "ticket":
            one = dst.read_tickets(TicketFilter(limit=1, offset=5))
            dst.write_tickets(one.assign(text="changed"))
            broken = {"tickets"}
        elif change == "link":
            dst.write_tickets(dst.read_tickets(TicketFilter(search="T20")), dst.read_ticket_places(["H1"]).iloc[:0])
            broken = {"ticket_places"}
        elif change == "audit":
            dst.write_audit({"action": "sign_in", "actor": "eve"})
            broken = {"audit_log"}
        else:
            dst.update_user("ann", failed_count=3)
            broken = {"users"}
        checks = verify_copy(src, dst)
        assert {c.table for c in checks if not c.ok} == broken
        assert {c.table for c in checks} >= {"tickets", "units", "places", *LOG_TABLES}


def test_grid_uids_follow_their_units_when_the_ids_differ(tiny_units, tiny_places, tmp_path, pg_fresh_url):
    """A PostgreSQL identity may skip values (rolled-back inserts): the copy maps grid_uid by the unit's key."""
    import psycopg

    units = tiny_units.drop(columns="unit_uid")
    with open_store(pg_fresh_url) as pg, open_store(f"sqlite:///{tmp_path / 'b.sqlite'}") as back:
        pg.write_units(units.iloc[[-1]])  # the last unit takes id 1, the others 101...: the ids have a gap
        with psycopg.connect(pg_fresh_url, autocommit=True) as con:
            con.execute("SELECT setval(pg_get_serial_sequence('units', 'unit_uid'), 100)")
        load_city(pg, tiny_units, tiny_places)
        theirs = pg.read_units().set_index("unit_uid")
        assert sorted(theirs.index) != list(range(1, len(theirs) + 1))
        copy_store(pg, back)
        assert all(c.ok for c in verify_copy(pg, back))
        ours = back.read_units().set_index("unit_uid")
        a, b = pg.read_tickets(), back.read_tickets()
        assert a["grid_uid"].notna().sum() == 18 and (a["grid_uid"].isna() == b["grid_uid"].isna()).all()
        located = a["grid_uid"].notna()
        assert (theirs.loc[a.loc[located, "grid_uid"].astype(int), "code"].to_numpy()
                == ours.loc[b.loc[located, "grid_uid"].astype(int), "code"].to_numpy()).all()
        assert (a.loc[located, "grid_uid"].to_numpy() != b.loc[located, "grid_uid"].to_numpy()).any()
