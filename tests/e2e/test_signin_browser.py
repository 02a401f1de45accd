"""Sign-in in a real browser: each role sees exactly its pages, a wrong password is refused, the URL
can't change who you are, sign-out ends the session, and a grid leader sees nothing of another grid.
"""

from __future__ import annotations

import os

import pytest
from conftest import PASSWORD
from test_app_browser import TITLES, _map_frame, _shot, browser, open_page, page, sign_in_browser  # noqa: F401
from test_offline_map import REPO_ROOT, serve_streamlit

from minqing.store import TicketFilter, open_store
from minqing.ui.nav import PAGES

pytestmark = pytest.mark.e2e

EXPECTED = {
    "admin": [v for v, *_ in PAGES],
    "planner": [v for v, *_ in PAGES if v != "admin"],
    "grid_leader": ["meeting", "map", "mygrid", "effects", "tickets", "settings"],
    "meeting": ["meeting", "map", "settings"],
}


@pytest.fixture(scope="module")
def signin_url(demo_store_url, ui_accounts):
    with serve_streamlit(REPO_ROOT, dict(os.environ, MINQING_DATABASE_URL=demo_store_url)) as base:
        yield base


def _menu(page) -> list[str]:
    # each link's text is its icon's name, then its title
    return [x.strip().split("\n")[-1].strip() for x in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


def _no_exception(page, where):
    assert not page.query_selector('[data-testid="stException"]'), where
    assert not page.locator('[data-testid="stAlertContentError"]').count(), (where, page.inner_text("main"))


def test_nothing_before_sign_in_and_a_wrong_password_is_refused(page, signin_url, ui_accounts):
    for path in ("", "tickets", "map?sd=310110016", "admin?embed=true"):
        page.goto(f"{signin_url}/{path}", wait_until="domcontentloaded")
        page.wait_for_selector("text=登录民情地图", timeout=60_000)
        assert not page.query_selector('iframe[src*="streamlit_folium"]'), path
        assert not page.locator('[data-testid="stSidebarNav"] a').count(), path
        assert not page.locator('[data-testid="stDataFrame"]').count(), path
    page.get_by_label("账号").fill(ui_accounts["planner"][0])
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector('[data-testid="stAlertContentError"]', timeout=30_000)
    assert not page.locator("text=退出登录").count(), "a wrong password signs no one in"
    _shot(page, "signin_refused")


@pytest.mark.parametrize("role", ["admin", "planner", "grid_leader", "meeting"])
def test_each_role_sees_exactly_its_pages(page, signin_url, ui_accounts, role):
    name, grid = ui_accounts[role]
    sign_in_browser(page, signin_url, name)
    assert _menu(page) == [TITLES[v] for v in EXPECTED[role]]
    for view in EXPECTED[role]:
        open_page(page, TITLES[view])
        if view in ("map", "meeting"):
            _map_frame(page)
        _no_exception(page, (role, view))
        if role == "meeting" and view == "map":
            assert not page.locator('[data-testid="stDataFrame"]').filter(has_text="诉求内容").count()
    _shot(page, f"role_{role}")


def test_grid_leader_sees_nothing_of_another_grid(page, signin_url, ui_accounts, demo_store_url):
    name, own = ui_accounts["grid_leader"]
    with open_store(demo_store_url) as store:
        units = store.read_units()
        other = next(c for c in units.loc[units["level"] == "grid", "code"] if c != own)
        theirs = store.read_tickets(TicketFilter(unit_level="grid", unit_codes=(other,), limit=1))
    g = units[units["code"] == other].iloc[0]
    cm = units[units["code"] == g["parent_code"]].iloc[0]
    # a URL naming another grid (and the old identity parameter) after signing in
    sign_in_browser(page, f"{signin_url}/map?sd={cm['parent_code']}&cm={cm['code']}&g={other}&grid={other}", name)
    page.wait_for_timeout(3_000)
    _shot(page, "grid_leader_other_grid_url")
    page.wait_for_selector("text=共 0 条工单", timeout=60_000)
    _, frame = _map_frame(page)
    popups = frame.evaluate("""() => { let n = 0; Object.values(map_div._layers).forEach(l => {
        if (l.getPopup && l.getPopup()) n++; if (l.getLayers) n += l.getLayers().filter(m => m.getPopup()).length; });
        return n; }""")
    assert popups == 0, "no ticket of another grid on the map"
    open_page(page, TITLES["tickets"])
    page.get_by_label("搜索（工单编号、内容、地址）").fill(theirs["source_id"].iloc[0])
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector("text=共 0 条工单", timeout=30_000)
    open_page(page, TITLES["mygrid"])
    assert own in page.inner_text("main") and other not in page.inner_text("main")
    _shot(page, "grid_leader_scope")


def test_sign_out_ends_the_session(page, signin_url, ui_accounts):
    sign_in_browser(page, signin_url, ui_accounts["meeting"][0], PASSWORD)
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_selector("text=登录民情地图", timeout=30_000)
    assert not page.locator('[data-testid="stSidebarNav"] a').count()
    page.goto(f"{signin_url}/map", wait_until="domcontentloaded")
    page.wait_for_selector("text=登录民情地图", timeout=60_000)
