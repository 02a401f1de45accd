"""The app, driven by Streamlit's AppTest on a demo store: every page, drill-down, language, scope."""

from pathlib import Path

import pandas as pd
import pytest
from conftest import sign_in
from streamlit.testing.v1 import AppTest

from minqing.i18n import t

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def app(demo_store_url, ui_accounts, monkeypatch):
    """The app, signed in as a planner (all units, masked data)."""
    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)
    return sign_in(AppTest.from_file(APP, default_timeout=90), ui_accounts["planner"][0])


def _texts(at):
    return " ".join(x.value for x in list(at.markdown) + list(at.caption) + list(at.text) + list(at.info))


def _map(app):
    app.run()
    app.switch_page(_page("map"))
    return app.run()


def test_default_page_is_the_meeting_view(app):
    app.run()
    assert not app.exception
    assert app.title[0].value == t("meeting.heading", "zh")


def test_overview_renders_in_chinese(app):
    _map(app)
    assert not app.exception
    assert app.title[0].value == t("overview.heading", "zh")
    labels = [m.label for m in app.metric]
    total = app.metric[labels.index(t("overview.total", "zh"))].value
    assert int(total.replace(",", "")) > 0
    table = app.dataframe[0].value
    assert len(table) == 12
    assert t("overview.col_rate", "zh") in table.columns
    assert any(e.label == t("caveat.title", "zh") for e in app.expander)


def test_language_switch(app):
    _map(app)
    app.sidebar.radio(key="lang_switch").set_value("en").run()
    assert not app.exception
    assert app.title[0].value == t("overview.heading", "en")
    assert t("overview.col_rate", "en") in app.dataframe[0].value.columns


def test_drill_down_by_url(app):
    app.query_params["sd"] = "310110016"
    _map(app)
    assert not app.exception
    assert t("drill.table_community", "zh") in [s.value for s in app.subheader]
    communities = app.dataframe[0].value
    assert len(communities) >= 4 and communities[t("overview.col_code", "zh")].str.startswith("310110016").all()
    cm = communities[t("overview.col_code", "zh")].iloc[0]
    app.query_params["cm"] = cm
    app.run()
    grids = app.dataframe[0].value
    assert grids[t("overview.col_code", "zh")].str.startswith(cm).all()
    app.query_params["g"] = grids[t("overview.col_code", "zh")].iloc[0]
    app.run()
    assert not app.exception
    assert any(t("drill.grid_tickets", "zh", name="")[:-1] in s.value or "最新工单" in s.value for s in app.subheader)
    # the breadcrumb leads back up
    app.button(key="crumb_0").click().run()
    assert "sd" not in app.query_params
    assert len(app.dataframe[0].value) == 12


def test_measure_switch(app):
    _map(app)
    app.radio(key="overview_measure").set_value("tickets").run()
    assert not app.exception


def test_tickets_page_filters_and_masks(app, demo_store_url):
    from minqing.privacy import mask_name, mask_phone
    from minqing.store import open_store

    app.run()
    app.switch_page(_page("tickets"))
    app.run()
    assert not app.exception
    assert app.title[0].value == t("tickets.heading", "zh")
    table = app.dataframe[0].value
    assert 0 < len(table) <= 100
    caller_col = t("tickets.col_text", "zh")
    assert not table[caller_col].astype(str).str.contains(r"1[3-9]\d{9}").any(), "phone numbers must be masked"
    sid = table[t("tickets.col_source_id", "zh")].iloc[0]
    app.selectbox(key="tickets_detail").set_value(sid).run()
    assert not app.exception
    lines = [x.value for x in app.text if x.value.startswith(t("tickets.col_caller", "zh"))]
    assert lines
    with open_store(demo_store_url) as store:
        raw = store.read_tickets_by_ids([sid]).iloc[0]
    for value, masked in ((raw["caller_name"], mask_name(raw["caller_name"])),
                          (raw["caller_phone"], mask_phone(raw["caller_phone"]))):
        if isinstance(value, str) and value:
            assert masked in lines[0]
            assert value not in lines[0] or value == masked


def test_grid_leader_sees_only_own_grid(app, ui_accounts):
    name, grid = ui_accounts["grid_leader"]
    sign_in(app, name)
    app.query_params["grid"] = "310110001001001"  # a URL can't pick another identity (the old ?grid=)
    app.run()
    assert not app.exception
    assert grid in app.subheader[0].value  # a grid leader starts at their own grid
    app.switch_page(_page("tickets"))
    app.run()
    grids = set(app.dataframe[0].value[t("tickets.col_grid", "zh")].dropna())
    assert grids <= {grid}


def test_settings_page(app):
    app.run()
    app.switch_page(_page("settings"))
    app.run()
    assert not app.exception
    app.radio(key="settings_basemap").set_value("amap").run()
    assert not app.exception
    app.switch_page(_page("map"))
    app.run()
    assert not app.exception
    assert app.session_state["basemap"] == "amap"


def test_empty_store_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", f"sqlite:///{tmp_path}/empty.sqlite")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == t("signin.title", "zh"), "nothing but the sign-in page"
    assert any("minqing user add" in i.value for i in at.info), "a store with no accounts says how to add one"
    from minqing.accounts import add_user
    from minqing.store import open_store

    with open_store(f"sqlite:///{tmp_path}/empty.sqlite") as store:
        add_user(store, "first", "admin", "a-long-enough-password", actor="tests")
    sign_in(at, "first").run()
    assert not at.exception
    assert at.info, "an empty store must say so"
    assert any("minqing demo" in m.value for m in at.markdown), "and say what to do"
    at.switch_page(_page("map"))
    at.run()
    assert any(t("empty.no_units", "zh") in i.value for i in at.info)


def test_unopenable_store_is_explained(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("MINQING_DATABASE_URL", f"sqlite:///{tmp_path}/file/x.sqlite")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert any("无法打开数据库" in e.value for e in at.error)


def _page(name: str) -> str:
    return str(Path(APP).parent / "views" / f"{name}.py")


@pytest.mark.parametrize("view", sorted(p.stem for p in (Path(APP).parent / "views").glob("*.py")))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_without_error(app, ui_accounts, view, lang):
    sign_in(app, ui_accounts["admin"][0])  # the role that has every page
    app.query_params["lang"] = lang
    app.run()
    app.switch_page(_page(view))
    app.run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert app.title, f"{view} has no title"


def test_exports_are_masked_and_open_in_excel(demo_store_url):
    import io

    import pandas as pd

    from minqing.auth import ScopedStore, User
    from minqing.store import TicketFilter, open_store
    from minqing.ui.tables import export_bytes

    with open_store(demo_store_url) as store:
        rows = ScopedStore(store, User("planner")).read_tickets(TicketFilter(limit=300))
    csv = export_bytes(rows, "zh", "csv")
    assert csv.startswith("\ufeff".encode("utf-8"))
    back = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig")
    assert len(back) == 300 and t("tickets.col_source_id", "zh") in back.columns
    assert not back[t("tickets.col_text", "zh")].astype(str).str.contains(r"1[3-9]\d{9}").any()
    xlsx = pd.read_excel(io.BytesIO(export_bytes(rows, "en", "xlsx")))
    assert len(xlsx) == 300 and t("tickets.col_source_id", "en") in xlsx.columns


def test_hotspots_tabs_each_render(app):
    """Only the open tab is computed; each one renders its content without error."""
    app.run()
    app.switch_page(_page("hotspots"))
    app.run()
    names = ("hex", "grid", "emerging", "rank", "class", "forecast", "channel")
    labels = [t(f"hotspots.tab_{k}", "zh") for k in names]
    assert [tb.label for tb in app.tabs] == labels
    for label in labels:
        app.session_state["hs_tab"] = label
        app.run()
        assert not app.exception and not app.error, (label, app.exception, [e.value for e in app.error])
        filled = [tb.label for tb in app.tabs if len(tb.children)]
        assert filled == [label], filled


def test_hotspots_count_citizen_channels_by_default_and_flag_a_channel(app):
    """The default leaves QR codes and the government's own findings out; with all channels the
    hot spots one channel makes are flagged beside the map and in the place ranking."""
    app.run()
    app.switch_page(_page("hotspots"))
    app.run()
    box = app.selectbox(key="hs_chan")
    assert box.value == "citizen" and t("channels.all", "zh") in box.options
    assert any(t("channels.caption_citizen", "zh", channels="12345热线、网站、移动应用、小程序、信访") == c.value
               for c in app.caption)
    box.set_value("all").run()
    assert not app.exception and not app.error
    assert any(t("channels.caption_all", "zh") == c.value for c in app.caption)
    app.session_state["hs_tab"] = t("hotspots.tab_rank", "zh")
    app.run()
    rank = app.dataframe[0].value
    col = t("map.tooltip_channel", "zh")
    assert rank[col].astype(str).str.contains("扫码上报").any()  # places the QR codes drive say so


def test_one_class_of_cases_respects_the_time_range(app):
    app.run()
    app.switch_page(_page("hotspots"))
    app.run()
    lo, hi = app.date_input(key="hs_period").value
    app.session_state["hs_tab"] = t("hotspots.tab_class", "zh")
    app.run()
    assert not app.exception and not app.error
    tab = app.dataframe[0].value
    first, last = t("hotspots.first", "zh"), t("hotspots.last", "zh")
    assert len(tab) and (tab[first] >= str(lo)).all() and (tab[last] <= str(hi)).all()


def test_admin_sets_the_city_time_zone(tmp_path, monkeypatch, tiny_units):
    from minqing.accounts import add_user
    from minqing.audit import read_audit
    from minqing.ingest.pipeline import ImportOptions, import_file
    from minqing.store import open_store

    url = f"sqlite:///{tmp_path}/tz.sqlite"
    with open_store(url) as store:
        store.write_units(tiny_units.drop(columns="unit_uid"))
        csv = tmp_path / "a.csv"
        csv.write_text("工单编号,受理时间,诉求内容,经度,纬度\nT1,2024-03-31 23:30,x,121.505,31.285\n", encoding="utf-8")
        import_file(store, csv, ImportOptions(now=pd.Timestamp("2025-01-01", tz="UTC")))
        add_user(store, "boss", "admin", "a-long-enough-password", actor="tests")
        add_user(store, "plan", "planner", "a-long-enough-password", actor="tests")
    monkeypatch.setenv("MINQING_DATABASE_URL", url)
    at = sign_in(AppTest.from_file(APP, default_timeout=60), "boss").run()
    at.switch_page(_page("settings"))
    at.run()
    assert not at.exception
    box = at.selectbox(key="settings_timezone")
    assert box.value == "Asia/Shanghai"
    box.set_value("America/Chicago").run()
    assert not at.exception
    assert any("America/Chicago" in s.value for s in at.success)
    with open_store(url) as store:
        assert store.timezone == "America/Chicago"
        log = read_audit(store)
        row = log[log["action"] == "settings_change"].iloc[0]
        assert row["actor"] == "boss" and "America/Chicago" in row["detail"]
        # the order received 2024-04-01 12:30 Shanghai is a March order in Chicago
        assert store.read_tickets()["received_at"].iloc[0].month == 3
    at.switch_page(_page("meeting"))
    at.run()
    assert not at.exception
    # a planner sees no time-zone control (the store's settings are for administrators)
    other = sign_in(AppTest.from_file(APP, default_timeout=60), "plan").run()
    other.switch_page(_page("settings"))
    other.run()
    assert not other.exception and not [b for b in other.selectbox if b.key == "settings_timezone"]


def test_grid_leader_page_counts_as_of_the_data_end(app_leader_store):
    """The demo ends before today: the page says so, and counts 'this month' at the data's end, not 0."""
    at = app_leader_store
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "数据截至" in warnings
    labels = [m.label for m in at.metric]
    this_month = at.metric[labels.index(t("mygrid.this_month", "zh"))].value
    assert int(this_month.replace(",", "")) > 0
    open_table = next(d.value for d in at.dataframe if t("mygrid.col_days_overdue", "zh") in d.value.columns)
    days = open_table[t("mygrid.col_days_overdue", "zh")].dropna()
    assert (days >= 0).all()


@pytest.fixture
def app_leader_store(demo_store_url, ui_accounts, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)
    at = sign_in(AppTest.from_file(APP, default_timeout=90), ui_accounts["grid_leader"][0]).run()
    at.switch_page(_page("mygrid"))
    return at.run()


@pytest.mark.parametrize("view", ["meeting", "map", "mygrid", "hotspots", "effects", "tickets"])
def test_every_data_page_says_how_old_its_data_is(view, demo_store_url, ui_accounts, monkeypatch):
    """The demo ends before today: every page showing orders says up to when (the data's end)."""
    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)
    at = sign_in(AppTest.from_file(APP, default_timeout=120), ui_accounts["admin"][0]).run()
    at.switch_page(_page(view))
    at.run()
    assert not at.exception
    texts = " ".join(e.value for e in [*at.warning, *at.info, *at.caption, *at.sidebar.warning, *at.sidebar.caption])
    assert "数据截至" in texts, view

def test_hotspots_default_period_ends_with_the_last_complete_month(app, demo_store_url):
    """Six complete months: never a part month at the end (the demo data ends inside a month)."""
    from minqing.citytime import default_period, last_complete_month
    from minqing.store import open_store

    with open_store(demo_store_url) as store:
        first, last = store.received_range()
    month = last_complete_month(last)
    app.run()
    app.switch_page(_page("hotspots"))
    app.run()
    lo, hi = app.date_input(key="hs_period").value
    assert (lo, hi) == default_period(first, last)
    assert hi == month.end_time.date() and lo == (month - 5).start_time.date()
    if last.day != last.days_in_month:  # the old default ended on the data's last day
        assert hi < last.date()


def test_map_cards_and_caption_follow_the_chosen_level(app):
    """Every level's cards show the chosen unit's own figures; the caption names the level shown."""
    def metric(label):
        return int(app.metric[[m.label for m in app.metric].index(label)].value.replace(",", ""))

    def caption():
        return " ".join(c.value for c in app.caption)

    tickets, code = t("overview.tickets", "zh"), t("overview.col_code", "zh")
    _map(app)
    assert t("overview_level.level_subdistrict", "zh") in caption()
    sds = app.dataframe[0].value
    sd = sds.iloc[0]
    app.query_params["sd"] = sd[code]
    app.run()
    assert t("overview_level.level_community", "zh") in caption()
    assert t("overview_level.level_subdistrict", "zh") not in caption()
    assert metric(tickets) == int(str(sd[t("overview.col_tickets", "zh")]).replace(",", ""))
    cms = app.dataframe[0].value
    cm = cms.iloc[0]
    app.query_params["cm"] = cm[code]
    app.run()
    assert t("overview_level.level_grid", "zh") in caption()
    assert metric(tickets) == int(str(cm[t("overview.col_tickets", "zh")]).replace(",", ""))
    grids = app.dataframe[0].value
    community_places = metric(t("overview.places", "zh"))
    g = grids.iloc[-1]  # the quietest grid: its own count differs from the community's
    app.query_params["g"] = g[code]
    app.run()
    assert not app.exception and not app.error
    own = int(str(g[t("overview.col_tickets", "zh")]).replace(",", ""))
    assert metric(tickets) == own
    assert metric(t("overview.places", "zh")) <= community_places
    assert t("overview_level.level_grid", "zh") in caption() and g[t("overview.col_name", "zh")] in caption()


def _map_payloads(app):
    """What the page's maps draw: the (kind, payload) of every data layer and legend of every map."""
    import json

    from minqing.maps.layers import page_payloads

    out = []
    for el in app.get("component_instance"):
        out += page_payloads(json.loads(el.proto.json_args).get("script", ""))
    return out


def _hotspots_tab(app, name):
    """Open the Hotspots tab ``name``; return its first table."""
    app.run()
    app.switch_page(_page("hotspots"))
    app.run()
    app.session_state["hs_tab"] = t(f"hotspots.tab_{name}", "zh")
    app.run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    return app.dataframe[0].value


def test_emerging_tab_maps_the_classes_and_names_where_each_cell_lies(app):
    tab = _hotspots_tab(app, "emerging")
    where, cell = t("emerging_map.where_grid", "zh"), t("hotspots.col_cell_id", "zh")
    assert (tab.columns[0], tab.columns[-1]) == (where, cell)  # the place first, the id after
    assert tab[where].str.endswith("网格").mean() > 0.9
    payloads = _map_payloads(app)
    feats = [f for kind, p in payloads if kind == "DataLayer" for f in p["data"]["features"]]
    assert len(feats) == len(tab)  # one hexagon per cell with a pattern, none for the rest
    legend = [it["text"] for kind, p in payloads if kind == "Legend" for it in p["items"]]
    assert legend[0] == t("emerging_map.legend_title", "zh")
    assert set(legend[1:]) == set(tab[t("hotspots.class", "zh")])


def test_class_of_cases_map_draws_its_places_by_count(app):
    tab = _hotspots_tab(app, "class")
    payloads = _map_payloads(app)
    legend = [it["text"] for kind, p in payloads if kind == "Legend" for it in p["items"]]
    assert legend and legend[0] == t("class_map.legend_title", "zh")
    places = (tab[t("hotspots.where", "zh")] == t("hotspots.where_place", "zh")).sum()
    feats = [f for kind, p in payloads if kind == "DataLayer" for f in p["data"]["features"]]
    lines = [f for f in feats if f["geometry"]["type"] in ("LineString", "MultiLineString")]
    assert places and all(f["properties"]["_style"]["weight"] >= 6 for f in lines)
