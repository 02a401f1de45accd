"""Column mapping and category paths on tiny inputs with hand-worked answers."""

from __future__ import annotations

import pytest

from minqing.ingest.aliases import category_key, category_lookup
from minqing.ingest.errors import MappingError
from minqing.ingest.mapping import infer_mapping, load_mapping_file


def test_mapping_aliases_and_unknown_columns_kept():
    m = infer_mapping(["工单编号", "来电时间", "诉求渠道", "经度(X)", "纬度（Y）", "楼栋号"])
    assert m.fields["source_id"] == "工单编号"
    assert m.fields["received_at"] == "来电时间"
    assert m.fields["lon"] == "经度(X)" and m.fields["lat"] == "纬度（Y）"
    assert m.unknown == ("楼栋号",)


def test_mapping_file_overrides_and_errors(tmp_path):
    path = tmp_path / "map.toml"
    path.write_text('[columns]\nsource_id = "流水号"\ntext = "反映内容"\n[options]\ncrs = "gcj02"\n', encoding="utf-8")
    user = load_mapping_file(path)
    m = infer_mapping(["流水号", "受理时间", "反映内容"], user)
    assert m.fields == {"source_id": "流水号", "text": "反映内容", "received_at": "受理时间"}
    assert m.options["crs"] == "gcj02"
    with pytest.raises(MappingError, match="流水号"):
        infer_mapping(["编号X"], user)
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\nnot_a_field = "x"\n', encoding="utf-8")
    with pytest.raises(MappingError, match="not_a_field"):
        load_mapping_file(bad)


def test_category_paths_levels_and_codes():
    table = category_lookup()
    assert table[category_key("物业管理->电梯->电梯故障")] == "04.01.01"
    assert table[category_key("物业管理/电梯/电梯故障")] == "04.01.01"
    assert table[category_key("电梯故障")] == "04.01.01"
    assert table[category_key("04.01.01")] == "04.01.01"
    assert table[category_key("物业管理")] == "04"


@pytest.mark.parametrize("columns, expected", [
    (["Unique Key", "Created Date", "Closed Date", "Agency", "Complaint Type", "Descriptor", "Incident Address",
      "Latitude", "Longitude"],  # New York City 311
     {"source_id": "Unique Key", "received_at": "Created Date", "closed_at": "Closed Date", "handling_unit": "Agency",
      "category": "Complaint Type", "text": "Descriptor", "address": "Incident Address", "lat": "Latitude",
      "lon": "Longitude"}),
    (["case_enquiry_id", "open_dt", "closed_dt", "type", "location", "latitude", "longitude"],  # Boston
     {"source_id": "case_enquiry_id", "received_at": "open_dt", "closed_at": "closed_dt", "kind": "type",
      "lat": "latitude", "lon": "longitude"}),
])
def test_open_311_headers_of_other_cities_are_found(columns, expected):
    assert infer_mapping(columns).fields == expected


def test_template_marks_and_date_headers_are_found():
    m = infer_mapping(["*工单编号", "受理日期＊", "※事发地点", "诉求人电话", "联系人", "经度(WGS84)", "纬度(WGS84)"])
    assert m.fields == {"source_id": "*工单编号", "received_at": "受理日期＊", "address": "※事发地点",
                        "caller_phone": "诉求人电话", "caller_name": "联系人", "lon": "经度(WGS84)", "lat": "纬度(WGS84)"}


def test_a_day_column_is_the_received_time_or_its_day():
    assert infer_mapping(["工单编号", "受理日期", "诉求内容"]).fields["received_at"] == "受理日期"
    m = infer_mapping(["工单编号", "受理日期", "受理时间"])
    assert (m.fields["received_at"], m.fields["received_date"]) == ("受理时间", "受理日期")
