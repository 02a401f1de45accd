"""Blank tokens, [values.<field>] maps in the mapping file, and `minqing mapping init` (issue 12, items 3 and 4)."""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest

from minqing.ingest.errors import MappingError
from minqing.ingest.mapping import BLANK_TOKENS, load_mapping_file
from minqing.ingest.mapping_init import mapping_template
from minqing.ingest.pipeline import ImportOptions, import_file

NOW = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")
HEADER = ["ticket_id", "received_at", "channel", "type", "status", "satisfaction", "resolved", "category",
          "closed_at", "lon", "lat", "caller_phone"]


@pytest.fixture
def store(city_store):
    return city_store


def row(i, channel="Phone", kind="Complaint", status="Open", sat="", res="", cat="Noise", closed="", **kw):
    return [kw.get("sid", f"U{i:02d}"), kw.get("received", "2025-04-03 10:00"), channel, kind, status, sat, res, cat,
            closed, "121.505", "31.285", "13800138000"]


def csv(tmp_path, rows, name="a.csv"):
    path = tmp_path / name
    pd.DataFrame(rows, columns=HEADER).to_csv(path, index=False)
    return path


def toml(tmp_path, text, name="m.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(store, path, mapping=None, **kw):
    return import_file(store, path, ImportOptions(now=NOW, mapping_file=mapping, **kw))


def tickets(store):
    return store.read_tickets().set_index("source_id")


def test_blank_tokens_default_list():
    assert BLANK_TOKENS == ("NA", "N/A", "NULL", "None", "-", "--", "无", "暂无", "空", "nan")


def test_blank_tokens_are_blank(store, tmp_path):
    rows = [row(1, closed="NA"), row(2, channel="无", closed=" n/a "), row(3, cat="NULL", kind="-"),
            row(4, sid="NA"), row(5, received="暂无"), row(6, sat="None", res="--")]
    r = run(store, csv(tmp_path, rows))
    assert r.reasons == {"missing_id": 1, "missing_time": 1}
    assert r.inserted == 4 and r.reconciles()
    assert "unknown_category" not in r.warnings and "unknown_kind" not in r.warnings
    assert "category" not in r.unknown_values and "kind" not in r.unknown_values
    t = tickets(store)
    assert pd.isna(t.loc["U01", "closed_at"]) and pd.isna(t.loc["U02", "closed_at"])
    assert t.loc["U02", "channel"] == "hotline_12345"  # blank channel -> the default channel, as for an empty cell
    assert t.loc["U03", "category"] == "99.99.99" and t.loc["U03", "kind"] == "other"
    assert pd.isna(t.loc["U06", "satisfaction"]) and pd.isna(t.loc["U06", "resolved"])


def test_blank_tokens_option_replaces_the_list(store, tmp_path):
    m = toml(tmp_path, '[options]\nblank_tokens = ["?"]\n')
    r = run(store, csv(tmp_path, [row(1, channel="?"), row(2, channel="NA")]), m)
    t = tickets(store)
    assert t.loc["U01", "channel"] == "hotline_12345"
    assert t.loc["U02", "channel"] == "other" and r.unknown_values["channel"] == {"NA": 1}
    with pytest.raises(MappingError, match="blank_tokens"):
        load_mapping_file(toml(tmp_path, '[options]\nblank_tokens = "NA"\n', "bad.toml"))


def test_value_maps_every_vocabulary(store, tmp_path):
    m = toml(tmp_path, '''
[values.channel]
"Mobile App" = "app"
[values.kind]
"Service Request" = "help"
[values.status]
"Pending" = "open"
"Done." = "closed"
[values.satisfaction]
"5 stars" = "satisfied"
[values.resolved]
"fixed" = "solved"
[values.category]
"Streetlight Out" = "03.02.01"
[values.category."Graffiti"]
code = "99.99.99"
zh = "涂鸦"
en = "Graffiti"
''')
    rows = [row(1, channel="Mobile App", kind="Service Request", status="Pending", sat="5 stars", res="fixed",
                cat="Streetlight Out"),
            row(2, channel="mobile-app", kind="service request", status="done", sat="5 STARS", res="Fixed",
                cat="graffiti"),
            row(3, channel="Skywriting", kind="Whisper", cat="Pothole Deep")]
    r = run(store, csv(tmp_path, rows), m)
    t = tickets(store)
    assert t.loc["U01", ["channel", "kind", "status", "satisfaction", "resolved", "category"]].tolist() == \
        ["app", "help", "open", "satisfied", "solved", "03.02.01"]
    # normalised match: case, spaces and punctuation ignored, as for the built-in aliases
    assert t.loc["U02", ["channel", "kind", "status", "satisfaction", "resolved", "category"]].tolist() == \
        ["app", "help", "closed", "satisfied", "solved", "99.99.99"]
    # unmapped values keep today's behaviour and are listed with their counts
    assert t.loc["U03", ["channel", "kind", "category"]].tolist() == ["other", "other", "99.99.99"]
    assert r.unknown_values["channel"] == {"Skywriting": 1} and r.unknown_values["kind"] == {"Whisper": 1}
    assert r.unknown_values["category"] == {"Pothole Deep": 1} and r.warnings["unknown_category"] == 1


def test_user_map_beats_alias(store, tmp_path):
    m = toml(tmp_path, '[values.channel]\n"12345" = "web"\n[values.category]\n"噪声扰民" = "03.02.01"\n')
    run(store, csv(tmp_path, [row(1, channel="12345", cat="噪声扰民"), row(2, channel="12345热线")]), m)
    t = tickets(store)
    assert t.loc["U01", "channel"] == "web" and t.loc["U01", "category"] == "03.02.01"
    assert t.loc["U02", "channel"] == "hotline_12345"


def test_changed_value_map_updates_stored_tickets(store, tmp_path):
    path = csv(tmp_path, [row(1, channel="Mobile App")])
    run(store, path)
    r = run(store, path, toml(tmp_path, '[values.channel]\n"Mobile App" = "miniprogram"\n'))
    assert r.updated == 1 and tickets(store).loc["U01", "channel"] == "miniprogram"


@pytest.mark.parametrize("text, match", [
    ('[values.channel]\n"Mobile App" = "mobile"\n', r"'Mobile App'.*'mobile'.*allowed: hotline_12345, web, app"),
    ('[values.kind]\nx = "nope"\n', "allowed: consult"),
    ('[values.status]\nx = "finished"\n', "allowed: open, closed"),
    ('[values.satisfaction]\nx = 5\n', "not text"),
    ('[values.category]\nx = "42.42.42"\n', "a new category needs its labels"),
    ('[values.category.x]\ncode = "98.01.01"\nen = "Graffiti"\n', "needs a zh label"),
    ('[values.category.x]\ncode = "98-01"\nzh = "涂鸦"\n', "must look like 98.01.01"),
    ('[values.colour]\nx = "red"\n', "unknown field"),
])
def test_bad_target_is_a_mapping_error(tmp_path, text, match):
    with pytest.raises(MappingError, match=match) as err:
        load_mapping_file(toml(tmp_path, text))
    assert err.value.key.startswith("ingest.error_")


def test_bad_target_in_a_dict_mapping(store, tmp_path):
    with pytest.raises(MappingError, match="allowed"):
        import_file(store, csv(tmp_path, [row(1)]),
                    ImportOptions(now=NOW, mapping={"values": {"channel": {"Mobile App": "mobile"}}}))


def test_error_texts_in_both_languages():
    from minqing.i18n import t

    for lang in ("zh", "en"):
        text = t("ingest.error_mapping_value", lang=lang, field="channel", value="Mobile App", target="mobile",
                 allowed="app, web")
        assert "Mobile App" in text and "app, web" in text


def test_mapping_init_round_trips(store, tmp_path):
    rows = [row(i, channel="Mobile App" if i % 2 else "Phone", kind="Complaint", cat="Streetlight Out",
                status="Closed") for i in range(1, 7)] + [row(7, channel="Carrier Pigeon", cat="Graffiti")]
    path = csv(tmp_path, rows)
    text = mapping_template(path)
    data = tomllib.loads(text)
    assert data["columns"]["source_id"] == "ticket_id" and data["columns"]["kind"] == "type"
    assert data["values"]["channel"]["Carrier Pigeon"] == "" and "TODO" in text
    assert data["values"]["kind"]["Complaint"] == "complaint"
    assert "13800138000" not in text  # caller phone values are never written
    data["values"]["channel"]["Carrier Pigeon"] = "other"
    data["values"]["channel"]["Mobile App"] = "app"
    data["values"]["channel"]["Phone"] = "hotline_12345"
    data["values"]["category"]["Graffiti"] = "03.02.01"
    import tomli_w

    m = toml(tmp_path, tomli_w.dumps(data))
    r = run(store, path, m)
    t = tickets(store)
    assert r.inserted == 7 and "channel" not in r.unknown_values
    assert t.loc["U01", "channel"] == "app" and t.loc["U07", "category"] == "03.02.01"
    # the untouched generated file imports too ("" = not mapped yet)
    assert load_mapping_file(toml(tmp_path, text, "gen.toml"))["values"]["channel"].get("Carrier Pigeon") is None


def test_mapping_init_escapes_hostile_values(tmp_path):
    hostile = 'He said "hi" \\ then\nleft {{7*7}} \x01 ]]\n[columns]'
    path = csv(tmp_path, [row(1, channel=hostile), row(2, channel=hostile, cat=hostile)])
    text = mapping_template(path)
    data = tomllib.loads(text)
    assert data["values"]["channel"] == {hostile.strip(): ""}
    assert data["values"]["category"][hostile.strip()] == ""
    assert set(data) == {"columns", "options", "values"}


def test_mapping_init_cli(tmp_path, capsys):
    from minqing.cli.main import main

    path = csv(tmp_path, [row(1, channel="Mobile App")])
    out = tmp_path / "my_export.toml"
    assert main(["mapping", "init", str(path), "-o", str(out)]) == 0
    assert tomllib.loads(out.read_text(encoding="utf-8"))["columns"]["channel"] == "channel"


def test_new_category_with_labels_is_kept_by_the_store(store, tmp_path):
    """A city's own category: mapped in [values.category] with zh/en labels, stored, labelled on every page."""
    from minqing.model import CATEGORIES, category_path
    from minqing.store import open_store

    path = csv(tmp_path, [row(1, cat="Graffiti"), row(2, cat="Graffiti"), row(3, cat="Pothole")])
    mapping = toml(tmp_path, '[values.category]\n"Graffiti" = { code = "98.01.01", zh = "涂鸦", en = "Graffiti" }\n')
    dry = run(store, path, mapping, dry_run=True)
    assert "98.01.01" not in store.city_categories()  # a dry run keeps nothing
    r = run(store, path, mapping)
    assert r.inserted == 3 and r.unknown_values["category"] == {"Pothole": 1} and dry.inserted == 3
    t = tickets(store)
    assert t.loc[["U01", "U02"], "category"].tolist() == ["98.01.01", "98.01.01"]
    assert t.loc["U03", "category"] == "99.99.99"
    assert store.city_categories() == {"98.01.01": {"zh": "涂鸦", "en": "Graffiti"}}
    assert category_path("98.01.01", "zh") == "涂鸦 > 涂鸦 > 涂鸦"
    assert category_path("98.01.01", "en") == "Graffiti > Graffiti > Graffiti"
    # another process opening the store knows the labels
    for code in ("98", "98.01", "98.01.01"):
        CATEGORIES.pop(code, None)
    try:
        with open_store(store.url):
            assert CATEGORIES["98.01.01"].zh == "涂鸦" and CATEGORIES["98"].parent is None
    finally:  # the process-wide tree goes back to the national one for the other tests
        for code in ("98", "98.01", "98.01.01"):
            CATEGORIES.pop(code, None)
