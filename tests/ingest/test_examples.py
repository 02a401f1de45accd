"""The worked examples of docs/importing.md, done as a user does them: with the ``minqing`` command.

Each test starts from an empty SQLite store, loads the example's layer with ``minqing units import``
(the demo's layers for the Yangpu export), writes a starting mapping with ``minqing mapping init``,
imports the file with the example's mapping and imports it again. The files are in
tests/data/examples/ (made by make_examples.py there, seeded); every expected number below is
counted from that script by hand, and the expected values (grids, categories, channels, times)
are worked out here from the raw files, not by the importer's own code.
"""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from minqing.cli.main import main
from minqing.config import geodata_dir
from minqing.store import open_store

EX = Path(__file__).resolve().parents[1] / "data" / "examples"
UTC = "UTC"


# ---------------------------------------------------------------------------------------------
# what a user does
# ---------------------------------------------------------------------------------------------
def cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``minqing ARGS`` in-process; return (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def load_layers(capsys, db: str, layers) -> list[str]:
    outs = []
    for path, level in layers:
        code, out, err = cli(capsys, "--db", db, "units", "import", path, "--level", level)
        assert code == 0, err
        outs.append(out)
    return outs


def mapping_init(capsys, tmp_path, name: str) -> dict:
    """``minqing mapping init FILE -o start.toml``: it must run and write valid TOML."""
    start = tmp_path / f"{Path(name).stem}_start.toml"
    code, out, err = cli(capsys, "mapping", "init", EX / name, "-o", start)
    assert code == 0, err
    assert f"wrote {start}" in out
    return tomllib.loads(start.read_text(encoding="utf-8"))


def import_example(capsys, db: str, name: str, mapping: str):
    """``minqing import FILE --mapping M.toml``; return (printed report, stored report, tickets, quarantine)."""
    code, out, err = cli(capsys, "--db", db, "import", EX / name, "--mapping", EX / mapping)
    assert code == 0, err
    with open_store(db) as store:
        report = store.read_import_reports(1)[0]
        tickets = store.read_tickets().set_index("source_id")
        quarantine = store.read_quarantine(report["import_id"])
    return out, report, tickets, quarantine


def reimport_changes_nothing(capsys, db: str, name: str, mapping: str, stored: int, quarantined: int,
                             duplicates: int) -> None:
    code, _, err = cli(capsys, "--db", db, "import", EX / name, "--mapping", EX / mapping)
    assert code == 0, err
    with open_store(db) as store:
        r = store.read_import_reports(1)[0]
        assert store.ticket_count() == stored
    assert (r["inserted"], r["updated"], r["unchanged"], r["quarantined"], r["duplicates"]) == \
        (0, 0, stored, quarantined, duplicates)


def check_counts(report: dict, out: str, *, read: int, inserted: int, quarantined: int, duplicates: int) -> None:
    """Nothing is lost: rows read = inserted + updated + unchanged + quarantined + duplicates."""
    got = (report["rows_read"], report["inserted"], report["updated"], report["unchanged"], report["quarantined"],
           report["duplicates"])
    assert got == (read, inserted, 0, 0, quarantined, duplicates)
    assert read == inserted + quarantined + duplicates
    assert (f"read {read:,} = inserted {inserted:,} + updated 0 + unchanged 0 + quarantined {quarantined:,} + "
            f"duplicates {duplicates:,}\n") in out


def in_layer(path: Path, lon, lat, code_col: str = "code", when: str | None = None) -> list:
    """The code of the polygon of ``path`` holding each point (None outside), worked out with shapely."""
    layer = gpd.read_file(path)
    if when is not None and "valid_from" in layer.columns:  # the version valid at that time
        t = pd.Timestamp(when)
        vf = pd.to_datetime(layer["valid_from"]).dt.tz_localize(None)
        vt = pd.to_datetime(layer["valid_to"]).dt.tz_localize(None)
        layer = layer[(vf <= t) & (vt.isna() | (t < vt))]
    geoms, codes = layer.geometry.to_numpy(), layer[code_col].astype(str).to_numpy()
    out = []
    for x, y in zip(lon, lat):
        hit = [c for g, c in zip(geoms, codes) if shapely.contains_xy(g, x, y)]
        assert len(hit) <= 1, (x, y, hit)
        out.append(hit[0] if hit else None)
    return out


def utc(values) -> pd.Series:
    """Instants in UTC (times with an offset, or aware timestamps in any zone)."""
    return pd.to_datetime(pd.Series(list(values)), utc=True)


# ---------------------------------------------------------------------------------------------
# a. Yangpu 12345: GBK CSV, Chinese headers, GCJ-02
# ---------------------------------------------------------------------------------------------
A_CATEGORY = {
    "市政设施-路灯-路灯不亮": "03.01.01", "交通管理-违法停车-共享单车乱停放": "02.01.01",
    "交通管理-违法停车-机动车违停": "02.01.04", "市容环卫-垃圾清运-生活垃圾未及时清运": "01.01.01",
    "市容环卫-油烟污染-餐饮油烟扰民": "01.03.01", "物业管理-电梯-电梯故障": "04.01.01",
    "物业管理-物业服务-房屋漏水": "04.03.02", "噪声扰民-施工噪声-夜间施工": "05.01.01",
    "公共安全-消防安全-电动车违规充电": "06.01.02", "社会保障-政策咨询-社保医保咨询": "08.01.01",
    "医疗卫生-就医秩序-医院周边秩序": "07.01.01",
    "住房保障-物业管理-楼道堆物": "06.01.01",  # the mapping file's [values.category]
    "民生服务-燃气-燃气报修": "99.99.99",  # unmapped: reported
    "": "99.99.99",  # blank
}
A_CHANNEL = {"12345热线电话": "hotline_12345", "随申办": "app", "微信小程序": "miniprogram", "码上就来": "qr_code",
             "网格员上报": "grid_patrol", "市长信箱": "web", "": "hotline_12345"}
A_KIND = {"投诉": "complaint", "求助": "help", "求决": "help", "咨询": "consult", "建议": "suggestion",
          "表扬": "praise", "举报": "report", "": "other"}
A_SATISFACTION = {"满意": "satisfied", "非常满意": "satisfied", "基本满意": "basically_satisfied",
                  "不满意": "unsatisfied", "未回访": "unrated", "暂无": None, "": None}


def test_yangpu_12345_export(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'yangpu.sqlite'}"
    geo = geodata_dir()
    load_layers(capsys, db, [(geo / f"{lv}.geojson", lv) for lv in ("district", "subdistrict", "community", "grid")])
    start = mapping_init(capsys, tmp_path, "yangpu_12345.csv")
    assert start["columns"]["source_id"] == "工单编号" and start["columns"]["lon"] == "经度"
    assert start["values"]["channel"]["市长信箱"] == ""  # a TODO the mapping file fills in
    out, r, t, q = import_example(capsys, db, "yangpu_12345.csv", "yangpu_12345.toml")

    # 120 rows: 118 stored, the row without 工单编号 quarantined, one exact repeat
    check_counts(r, out, read=120, inserted=118, quarantined=1, duplicates=1)
    assert r["encoding"] in ("gb18030", "gbk") and r["date_order"] == "YMD"
    assert r["reasons"] == {"missing_id": 1}
    assert q[["row_number", "reason"]].values.tolist() == [[41, "missing_id"]]
    assert r["warnings"] == {"unknown_category": 3, "address_matched": 1, "unlocated": 1}
    assert r["unknown_values"] == {"category": {"民生服务-燃气-燃气报修": 3}}
    assert ("unknown category values (add them to [values.category] in a mapping file): "
            "'民生服务-燃气-燃气报修' x3") in out
    assert r["unreadable"] == {"closed_at": 8}  # 办结时间 "无" on 8 open orders: stored blank
    assert (r["located_by_address"], r["unlocated"], r["linked"]) == (1, 1, 117)

    with (EX / "yangpu_12345.csv").open(encoding="gbk", newline="") as fh:
        raw = pd.DataFrame(list(csv.DictReader(fh))).drop_duplicates()
    raw = raw[raw["工单编号"] != ""].set_index("工单编号")
    assert len(raw) == len(t) == 118 and set(raw.index) == set(t.index)
    t = t.loc[raw.index]
    assert (t["category"] == raw["问题分类"].map(A_CATEGORY)).all()
    assert (t["channel"] == raw["诉求渠道"].map(A_CHANNEL)).all()
    assert (t["kind"] == raw["诉求类型"].map(A_KIND)).all()
    assert t["satisfaction"].fillna("-").tolist() == raw["回访满意度"].map(A_SATISFACTION).fillna("-").tolist()
    # only the unmapped and the blank categories are "other"; no channel is
    assert (t["category"] == "99.99.99").sum() == 3 + (raw["问题分类"] == "").sum()
    assert not t["channel"].eq("other").any()

    # times: Shanghai wall clock; 2024年1月5日 14时 is 06:00 UTC
    assert utc([t.at["240105000001", "received_at"]])[0] == pd.Timestamp("2024-01-05 06:00", tz=UTC)
    plain = raw.index != "240105000001"
    expected = pd.to_datetime(raw.loc[plain, "受理时间"], format="mixed").dt.tz_localize("Asia/Shanghai")
    assert (utc(t.loc[plain, "received_at"]).to_numpy() == expected.dt.tz_convert(UTC).to_numpy()).all()
    open_ = raw["办结时间"].isin(["", "无"])
    assert open_.sum() == 15 and t.loc[open_, "closed_at"].isna().all()
    assert (t["status"] == open_.map({True: "open", False: "closed"})).all()

    # every point links to the grid holding it (GCJ-02 -> WGS-84, then point in polygon, done here)
    from minqing.geo.crs import gcj02_to_wgs84

    located = pd.to_numeric(raw["经度"], errors="coerce").notna()
    assert located.sum() == 116
    lon, lat = gcj02_to_wgs84(raw.loc[located, "经度"].astype(float).to_numpy(),
                              raw.loc[located, "纬度"].astype(float).to_numpy())
    assert abs(t.loc[located, "lon"].to_numpy() - lon).max() < 1e-6
    assert abs(t.loc[located, "lat"].to_numpy() - lat).max() < 1e-6
    grids = in_layer(geo / "grid.geojson", lon, lat, when="2024-01-15")
    assert None not in grids and t.loc[located, "grid_code"].tolist() == grids
    assert (t.loc[located, "subdistrict_code"] == t.loc[located, "grid_code"].str[:9]).all()
    assert (t.loc[located, "district_code"] == "310110").all()
    # 暂无 coordinates, address 杨浦公园: located at the park (a facility of the demo gazetteer)
    park = gpd.read_file(geo / "facilities.geojson").set_index("name").geometry["杨浦公园"]
    by_address = t.loc["240106000002"]
    assert by_address["location_source"] == "address_match"
    assert abs(by_address["lon"] - park.x) < 1e-9 and abs(by_address["lat"] - park.y) < 1e-9
    assert by_address["grid_code"] == in_layer(geo / "grid.geojson", [park.x], [park.y], when="2024-01-15")[0]
    # no coordinates and a vague address: stored, not located
    assert t.at["240107000003", "location_source"] == "none" and pd.isna(t.at["240107000003", "grid_code"])

    reimport_changes_nothing(capsys, db, "yangpu_12345.csv", "yangpu_12345.toml", 118, 1, 1)


def test_demo_grid_layer_keeps_its_versions(tmp_path, capsys):
    """The demo grid layer holds a split (one grid replaced by two on 2025-07-01); loading it keeps that."""
    db = f"sqlite:///{tmp_path / 'grids.sqlite'}"
    path = geodata_dir() / "grid.geojson"
    (layer_out,) = load_layers(capsys, db, [(path, "grid")])
    layer = gpd.read_file(path)
    retired = layer.loc[layer["valid_to"].notna(), "code"].tolist()
    successor = layer[pd.to_datetime(layer["valid_from"]) >= pd.Timestamp("2025-07-01")].iloc[0]
    p = successor.geometry.representative_point()
    orders = tmp_path / "late.csv"
    orders.write_text(f"工单编号,受理时间,经度,纬度\nL1,2025-08-01 10:00,{p.x:.7f},{p.y:.7f}\n", encoding="utf-8")
    code, _, err = cli(capsys, "--db", db, "import", orders)
    assert code == 0, err
    with open_store(db) as store:
        assert store.read_tickets().set_index("source_id").at["L1", "grid_code"] == successor["code"]
        units = store.read_units("grid").set_index("code")
    assert retired and all(str(units.at[c, "valid_to"])[:10] == "2025-07-01" for c in retired)
    assert "overlaps" not in layer_out  # versions that never coexist do not overlap
    assert f"{len(retired)} retired versions kept as history" in layer_out
    early = tmp_path / "early.csv"  # before the split the same point is in the retired grid
    early.write_text(f"工单编号,受理时间,经度,纬度\nE1,2025-03-01 10:00,{p.x:.7f},{p.y:.7f}\n", encoding="utf-8")
    assert cli(capsys, "--db", db, "import", early)[0] == 0
    with open_store(db) as store:
        assert store.read_tickets().set_index("source_id").at["E1", "grid_code"] in retired


# ---------------------------------------------------------------------------------------------
# b. Bloomington, Indiana: Open311 GeoReport v2
# ---------------------------------------------------------------------------------------------
B_LAYER = EX / "bloomington_neighborhoods.geojson"
B_CATEGORY = {"Potholes": "03.02.01", "Streetlight Outage": "03.01.01", "Missed Trash Pickup": "01.01.01",
              "Parking Violation": "02.01.04", "Noise Complaint": "05.02",
              "Graffiti": "99.99.99", "Tree Maintenance": "99.99.99"}  # the last two: unmapped, reported


def test_bloomington_open311_dump(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'bloomington.sqlite'}"
    (layer_out,) = load_layers(capsys, db, [(B_LAYER, "grid")])
    assert "6 read, 6 new" in layer_out and "overlaps" not in layer_out and "gaps" not in layer_out
    start = mapping_init(capsys, tmp_path, "bloomington_open311.json")
    assert start["columns"]["source_id"] == "service_request_id"
    assert (start["columns"]["received_at"], start["columns"]["lon"]) == ("requested_datetime", "long")
    out, r, t, q = import_example(capsys, db, "bloomington_open311.json", "bloomington_open311.toml")

    # 60 requests: 55 stored (one of them without a location), 4 quarantined, one exact repeat
    check_counts(r, out, read=60, inserted=55, quarantined=4, duplicates=1)
    assert r["format"] == "open311"
    assert r["reasons"] == {"duplicate_id_conflict": 2, "zero_coordinates": 1, "outside_region": 1}
    assert sorted(q[["source_id", "reason"]].values.tolist()) == [
        ["81340", "duplicate_id_conflict"], ["81340", "duplicate_id_conflict"], ["81410", "zero_coordinates"],
        ["81515", "outside_region"]]
    assert r["warnings"] == {"unknown_category": 7, "unlocated": 1}
    assert r["unknown_values"] == {"category": {"Graffiti": 4, "Tree Maintenance": 3}}
    assert "'Graffiti' x4, 'Tree Maintenance' x3" in out
    assert (r["located_by_address"], r["unlocated"], r["linked"]) == (0, 1, 54)

    raw = pd.DataFrame(json.loads((EX / "bloomington_open311.json").read_text(encoding="utf-8")))
    raw = raw.drop_duplicates(subset=[c for c in raw.columns])
    raw = raw[~raw["service_request_id"].isin(["81340", "81410", "81515"])].set_index("service_request_id")
    assert len(raw) == len(t) == 55 and set(raw.index) == set(t.index)
    t = t.loc[raw.index]
    assert (t["category"] == raw["service_name"].map(B_CATEGORY)).all()
    assert (t["status"] == raw["status"]).all()
    assert (t["handling_unit"] == raw["agency_responsible"]).all()
    # GeoReport v2 has no channel: every request gets the default channel
    assert (t["channel"] == "hotline_12345").all()
    # requested_datetime carries its offset: the instant is kept, across the change to summer time
    assert (utc(t["received_at"]).to_numpy() == utc(raw["requested_datetime"].map(pd.Timestamp)).to_numpy()).all()
    assert utc([t.at["81235", "received_at"]])[0] == pd.Timestamp("2024-03-10 06:30", tz=UTC)  # 01:30 EST
    assert utc([t.at["81242", "received_at"]])[0] == pd.Timestamp("2024-03-10 07:30", tz=UTC)  # 03:30 EDT
    assert utc([t.at["81249", "received_at"]])[0] == pd.Timestamp("2024-03-12 15:00", tz=UTC)  # Z
    has_due = raw["expected_datetime"].notna()
    assert has_due.sum() == 14 and (raw.loc[has_due, "service_name"] == "Potholes").all()
    assert t.loc[~has_due, "due_at"].isna().all()
    due = utc(raw.loc[has_due, "expected_datetime"].map(pd.Timestamp))
    assert (utc(t.loc[has_due, "due_at"]).to_numpy() == due.to_numpy()).all()
    assert json.loads(t.at["81235", "extra"])["updated_datetime"] == "2024-03-14T09:00:00-04:00"

    located = raw["lat"].notna()
    assert located.sum() == 54 and t.at["81347", "location_source"] == "none"
    grids = in_layer(B_LAYER, raw.loc[located, "long"].astype(float), raw.loc[located, "lat"].astype(float))
    assert None not in grids and t.loc[located, "grid_code"].tolist() == grids

    reimport_changes_nothing(capsys, db, "bloomington_open311.json", "bloomington_open311.toml", 55, 4, 1)


# ---------------------------------------------------------------------------------------------
# c. Bath: FixMyStreet CSV export, wards loaded as communities (a city without grids)
# ---------------------------------------------------------------------------------------------
C_LAYER = EX / "bath_wards.geojson"
C_HEADER = ["Report ID", "Title", "Detail", "User Name", "Category", "Created", "Confirmed", "Acknowledged", "Fixed",
            "Closed", "Status", "Latitude", "Longitude", "Query", "Ward", "Easting", "Northing", "Report URL",
            "Device Type", "Site Used", "Reported As"]  # FixMyStreet::Reporting, _csv_parameters_problems
C_CATEGORY = {"Potholes": "03.02.01", "Street lighting": "03.01.01", "Fly tipping": "01.01.01",
              "Litter": "01.01.01", "Abandoned vehicles": "02.01.04", "Graffiti": "99.99.99",  # mapped so
              "Dog fouling": "99.99.99", "Blocked drains": "99.99.99"}  # unmapped, reported
C_CHANNEL = {"website": "web", "iOS": "app", "Android": "app"}
C_CLOSED = {"fixed - council", "fixed - user", "closed", "unable to fix", "not responsible", "duplicate"}


def _bath(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'bath.sqlite'}"
    (layer_out,) = load_layers(capsys, db, [(C_LAYER, "community")])
    assert "7 read, 7 new" in layer_out and "overlaps" not in layer_out and "gaps" not in layer_out
    out, r, t, q = import_example(capsys, db, "bath_fixmystreet.csv", "bath_fixmystreet.toml")
    with (EX / "bath_fixmystreet.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == C_HEADER
        raw = pd.DataFrame(list(reader)).drop_duplicates()
    raw = raw[raw["Report ID"] != "7401880"].set_index("Report ID")  # the report in Keynsham
    return db, out, r, t, q, raw


def test_bath_fixmystreet_export(tmp_path, capsys):
    start = mapping_init(capsys, tmp_path, "bath_fixmystreet.csv")
    assert (start["columns"]["lat"], start["columns"]["category"]) == ("Latitude", "Category")
    _, out, r, t, q, raw = _bath(tmp_path, capsys)

    # 80 reports: 78 stored, the one in Keynsham quarantined, one exact repeat
    check_counts(r, out, read=80, inserted=78, quarantined=1, duplicates=1)
    assert r["reasons"] == {"outside_region": 1}
    assert q[["source_id", "reason"]].values.tolist() == [["7401880", "outside_region"]]
    assert r["warnings"] == {"unknown_category": 9}
    assert r["unknown_values"] == {"status": {"internal referral": 2},
                                   "category": {"Dog fouling": 5, "Blocked drains": 4}}
    assert "unknown status values (add them to [values.status] in a mapping file): 'internal referral' x2" in out
    assert r["unreadable"] == {}

    assert len(raw) == len(t) == 78 and set(raw.index) == set(t.index)
    t = t.loc[raw.index]
    assert (t["category"] == raw["Category"].map(C_CATEGORY)).all()
    assert (t["channel"] == raw["Device Type"].map(C_CHANNEL)).all()
    closed = raw["Status"].isin(C_CLOSED)
    assert (closed == (raw["Closed"] != "")).all()
    assert (t["status"] == closed.map({True: "closed", False: "open"})).all()  # internal referral: by Closed
    assert (t["text"] == raw["Detail"]).all()  # line breaks inside a quoted field survive
    assert t["text"].str.contains("\n").sum() == raw["Detail"].str.contains("\n").sum() > 0
    assert (t["caller_name"] == raw["User Name"]).all()
    assert json.loads(t.at["7401100", "extra"])["Title"] == "Lamp post flickering all night"
    # Created is Bath wall clock: GMT in March, BST (UTC+1) after 31 March 2024
    expected = pd.to_datetime(raw["Created"]).dt.tz_localize("Europe/London").dt.tz_convert(UTC)
    assert (utc(t["received_at"]).to_numpy() == expected.to_numpy()).all()
    assert utc([t.at["7401100", "received_at"]])[0] == pd.Timestamp("2024-03-15 12:00:00", tz=UTC)
    assert utc([t.at["7401113", "received_at"]])[0] == pd.Timestamp("2024-04-03 07:15:33", tz=UTC)
    expected = pd.to_datetime(raw.loc[closed, "Closed"]).dt.tz_localize("Europe/London").dt.tz_convert(UTC)
    assert (utc(t.loc[closed, "closed_at"]).to_numpy() == expected.to_numpy()).all()


def test_bath_reports_link_to_their_ward(tmp_path, capsys):
    """Wards are the finest level loaded: each report links to the ward FixMyStreet names (and its H3 cell)."""
    db, _, r, t, _, raw = _bath(tmp_path, capsys)
    codes = gpd.read_file(C_LAYER).set_index("name")["code"]
    t = t.loc[raw.index]
    assert (t["community_code"] == raw["Ward"].map(codes)).all()
    assert t["community_code"].notna().all() and t["grid_code"].isna().all() and t["h3_cell"].notna().all()
    wards = in_layer(C_LAYER, raw["Longitude"].astype(float), raw["Latitude"].astype(float))
    assert t["community_code"].tolist() == wards
    assert r["linked"] == 78 and r["unlocated"] == 0
    reimport_changes_nothing(capsys, db, "bath_fixmystreet.csv", "bath_fixmystreet.toml", 78, 1, 1)


# ---------------------------------------------------------------------------------------------
# d. Chicago: a US 311 export, month-first 12-hour times, NA blanks, a grids-only city
# ---------------------------------------------------------------------------------------------
D_LAYER = EX / "chicago_community_areas.geojson"
D_CATEGORY = {"Streetlight Out": "03.01.01", "Alley Light Out": "03.01.01", "Pothole in Street Complaint": "03.02.01",
              "Abandoned Vehicle Complaint": "02.01.04", "Sanitation Code Violation": "01.01.01",
              "Graffiti Removal Request": "99.99.99", "Rodent Baiting/Rat Complaint": "99.99.99"}
D_CHANNEL = {"Phone": "hotline_12345", "Mobile App": "app", "Internet": "web", "E-Mail": "web",
             "Alderman's Office": "other"}
D_STATUS = {"Completed": "closed", "Canceled": "closed", "Open": "open"}


def test_chicago_311_export(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'chicago.sqlite'}"
    (layer_out,) = load_layers(capsys, db, [(D_LAYER, "grid")])
    assert "9 read, 9 new" in layer_out and "overlaps" not in layer_out and "gaps" not in layer_out
    start = mapping_init(capsys, tmp_path, "chicago_311.csv")
    assert start["columns"] == {"lon": "LONGITUDE", "lat": "LATITUDE", "status": "STATUS", "source_id": "SR_NUMBER",
                                "received_at": "CREATED_DATE", "closed_at": "CLOSED_DATE", "category": "SR_TYPE",
                                "address": "STREET_ADDRESS"}  # Chicago's own headers are aliases; the rest by hand
    out, r, t, q = import_example(capsys, db, "chicago_311.csv", "chicago_311.toml")

    # 100 rows: 97 stored (one without a location), O'Hare and the row without a time quarantined, one repeat
    check_counts(r, out, read=100, inserted=97, quarantined=2, duplicates=1)
    assert r["date_order"] == "MDY"
    assert r["reasons"] == {"outside_region": 1, "missing_time": 1}
    assert sorted(q["reason"]) == ["missing_time", "outside_region"]
    assert r["warnings"] == {"unknown_category": 17, "unknown_channel": 5, "unlocated": 1}
    assert r["unknown_values"] == {"channel": {"Alderman's Office": 5},
                                   "category": {"Graffiti Removal Request": 11, "Rodent Baiting/Rat Complaint": 6}}
    assert "unknown channel values (add them to [values.channel] in a mapping file): \"Alderman's Office\" x5" in out
    assert r["unreadable"] == {"closed_at": 22}  # CLOSED_DATE "NA" on the 22 open requests

    with (EX / "chicago_311.csv").open(encoding="utf-8", newline="") as fh:
        raw = pd.DataFrame(list(csv.DictReader(fh))).drop_duplicates()
    quarantined = raw["CREATED_DATE"].eq("NA") | raw["LATITUDE"].eq("41.978600")
    assert quarantined.sum() == 2 and set(q["source_id"]) == set(raw.loc[quarantined, "SR_NUMBER"])
    raw = raw[~quarantined].set_index("SR_NUMBER")
    assert len(raw) == len(t) == 97 and set(raw.index) == set(t.index)
    t = t.loc[raw.index]
    assert (t["category"] == raw["SR_TYPE"].map(D_CATEGORY)).all()
    assert (t["channel"] == raw["ORIGIN"].map(D_CHANNEL)).all()
    assert (t["status"] == raw["STATUS"].map(D_STATUS)).all()
    assert (t["handling_unit"] == raw["OWNER_DEPARTMENT"]).all()

    # the stored instants (Chicago wall clock, CST = UTC-6 in December and January)
    assert utc([t.at["SR17-00000001", "received_at"]])[0] == pd.Timestamp("2018-01-01T05:59:58", tz=UTC)
    assert utc([t.at["SR18-00000002", "received_at"]])[0] == pd.Timestamp("2018-01-01T06:00:05", tz=UTC)  # 12 AM
    assert utc([t.at["SR18-00000003", "received_at"]])[0] == pd.Timestamp("2018-01-01T18:30:00", tz=UTC)  # 12 PM
    assert utc([t.at["SR17-00000004", "received_at"]])[0] == pd.Timestamp("2017-12-01T14:05:00", tz=UTC)
    fmt = "%m/%d/%Y %I:%M:%S %p"
    expected = pd.to_datetime(raw["CREATED_DATE"], format=fmt).dt.tz_localize("America/Chicago").dt.tz_convert(UTC)
    assert (utc(t["received_at"]).to_numpy() == expected.to_numpy()).all()
    na = raw["CLOSED_DATE"] == "NA"
    assert na.sum() == 22 and t.loc[na, "closed_at"].isna().all()
    expected = pd.to_datetime(raw.loc[~na, "CLOSED_DATE"], format=fmt).dt.tz_localize("America/Chicago")
    assert (utc(t.loc[~na, "closed_at"]).to_numpy() == expected.dt.tz_convert(UTC).to_numpy()).all()

    # grids only: every request with coordinates has its community area as grid_code
    located = raw["LATITUDE"] != "NA"
    assert located.sum() == 96 and (r["linked"], r["unlocated"]) == (96, 1)
    assert (t.loc[located, "grid_code"] == "CA" + raw.loc[located, "COMMUNITY_AREA"].str.zfill(2)).all()
    areas = in_layer(D_LAYER, raw.loc[located, "LONGITUDE"].astype(float), raw.loc[located, "LATITUDE"].astype(float))
    assert t.loc[located, "grid_code"].tolist() == areas
    assert t.loc[~located, "grid_code"].isna().all() and (t.loc[~located, "location_source"] == "none").all()
    assert t["community_code"].isna().all()  # no other level is loaded

    reimport_changes_nothing(capsys, db, "chicago_311.csv", "chicago_311.toml", 97, 2, 1)


@pytest.mark.parametrize("name", ["yangpu_12345.csv", "bloomington_open311.json", "bath_fixmystreet.csv",
                                  "chicago_311.csv", "bloomington_neighborhoods.geojson", "bath_wards.geojson",
                                  "chicago_community_areas.geojson"])
def test_example_files_stay_small(name):
    assert (EX / name).stat().st_size < 60_000
