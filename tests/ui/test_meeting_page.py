"""The meeting view (联席会议) in AppTest on the demo store: cards, top 10, theme, scope, language."""

import re
from pathlib import Path

import pytest
from conftest import sign_in
from streamlit.testing.v1 import AppTest

from minqing.i18n import t

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = str(Path(__file__).resolve().parents[2] / "views" / "meeting.py")
KPIS = ("response", "resolution", "satisfaction", "on_time", "proactive")


@pytest.fixture
def app(demo_store_url, ui_accounts, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)
    at = sign_in(AppTest.from_file(APP, default_timeout=90), ui_accounts["meeting"][0])
    at.switch_page(PAGE)
    return at


def _html(at):
    return " ".join(str(h.proto.body) for h in at.get("html"))


def test_meeting_view_in_chinese(app):
    app.run()
    assert not app.exception and not app.error
    assert app.title[0].value == t("meeting.heading", "zh")
    assert [m.label for m in app.metric] == [t(f"meeting.kpi_{k}", "zh") for k in KPIS]
    assert all(m.value.endswith("%") for m in app.metric)
    # definitions on hover
    assert app.metric[0].proto.help == t("meeting.kpi_response_help", "zh")
    assert app.selectbox(key="meeting_month").value == "2026-10"  # the last complete month of the demo
    html = _html(app)
    assert html.count("<tr>") == 11  # header + 10 problems
    assert t("meeting.col_vs_3m", "zh") in html


def test_theme_and_scope_focus_the_page(app):
    app.run()
    app.selectbox(key="meeting_theme").set_value("04").run()
    assert not app.exception and not app.error
    html = _html(app)
    assert t("meeting.theme_focus", "zh", theme="物业管理") in html
    cats = set(re.findall(r"<td class='cat'>([^<]+)</td>", html.split("<tbody>")[1]))
    assert cats and cats <= {"电梯", "非机动车棚", "物业服务"}  # top list only within the theme, short names
    before = app.metric[0].proto.body
    app.selectbox(key="meeting_sd").set_value("310110016").run()
    assert not app.exception and not app.error  # the page's error boundary would show st.error
    assert "310110016" in str(app.query_params.get("sd"))
    assert not any(i.value == t("meeting.map_empty", "zh") for i in app.info)  # the sub-district's grids are drawn
    assert _html(app).count("<tr>") >= 2
    assert before is not None


def test_meeting_view_in_english(app):
    app.run()
    app.sidebar.radio(key="lang_switch").set_value("en").run()
    assert not app.exception and not app.error
    assert app.title[0].value == t("meeting.heading", "en")
    assert app.metric[2].label == "Satisfaction rate"


def test_grid_leader_sees_only_their_grid(app, ui_accounts):
    sign_in(app, ui_accounts["grid_leader"][0])
    app.run()
    assert not app.exception and not app.error
    assert any(i.value == t("meeting.grid_leader_scope", "zh") for i in app.info)
    assert app.selectbox(key="meeting_sd").options == [t("meeting.scope_all", "zh")]
    html = _html(app).split("<tbody>")
    if len(html) > 1:  # every row is in the leader's own grid or at a place inside it
        assert html[1].count("<tr>") <= 10


def test_channels_default_to_citizen_and_a_channel_driven_unit_is_flagged(app):
    app.run()
    box = app.selectbox(key="meeting_channels")
    assert box.value == "citizen"
    assert any(t("channels.caption_citizen", "zh", channels="12345热线、网站、移动应用、小程序、信访") in c.value
               for c in app.caption)
    assert not any("扫码上报" in w.value for w in app.warning)  # QR orders are not counted by default
    box.set_value("all").run()
    assert not app.exception and not app.error
    assert app.query_params.get("ch") in ("all", ["all"])
    flags = [w.value for w in app.warning if "扫码上报" in w.value]
    assert flags and "殷行街道 扫码上报" in flags[0]  # the QR sub-district, with its share


def test_kpi_change_is_short_and_says_what_it_compares_with(app):
    app.run()
    for m in app.metric:
        delta = m.proto.delta
        assert t("meeting.vs_month", "zh") not in delta and len(delta) <= 12  # "+2.5 个百分点": not cut off
    assert t("meeting.vs_month", "zh") in _html(app)  # said in full below the card


def test_meeting_map_has_permanent_labels_and_numbered_top_places(demo_store_url):
    from minqing.auth import User
    from minqing.maps.layers import page_payloads
    from minqing.store import open_store
    from minqing.ui.cache import meeting as dm

    with open_store(demo_store_url) as store:
        version = store.data_version()
    user = User(role="meeting", name="t")
    scope = dm.Scope()
    html = dm.meeting_map(demo_store_url, version, user, scope, "2026-10", "subdistrict", None, "zh", 2
                          ).get_root().render()
    feats = [f for kind, p in page_payloads(html) if kind == "DataLayer" for f in p["data"]["features"]]
    labels = [f["properties"]["_label"] for f in feats if "_label" in f["properties"]]
    units = dm.month_units(demo_store_url, version, user, scope, "2026-10", "subdistrict", None)
    names = {lab[0][0] for lab in labels if isinstance(lab[0], list) and len(lab) >= 2}
    assert set(units["name"]) <= names  # every sub-district: name and count
    ranks = sorted(int(lab[0][0]) for lab in labels if len(lab) == 1)
    top = dm.top(demo_store_url, version, user, scope, "2026-10", 2, "zh").table
    assert ranks and set(ranks) <= set(top["rank"])  # the numbers match the top-10 table
