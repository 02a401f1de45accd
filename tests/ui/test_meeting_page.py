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
