"""The real app in a real browser: every page, the offline map and its legend, a drill-down click
into a grid, the language switch, no request leaving localhost, a screenshot of each page.

Runs ``streamlit run app.py`` on the demo store built by the ``demo_store_url`` fixture and drives
Debian's Chromium through Playwright (installed by ``scripts/ensure_chromium.sh``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import PASSWORD
from test_offline_map import ARTIFACTS, CHROMIUM, REPO_ROOT, _is_local, serve_streamlit

from minqing.i18n import t
from minqing.ui.nav import PAGES as NAV

pytestmark = pytest.mark.e2e

PAGES = [v for v, _, _, _ in NAV]
TITLES = {v: t(k, "zh") for v, k, _, _ in NAV}
MAP_PAGES = {"map": "每千人工单数", "meeting": "工单数"}


def sign_in_browser(page, url: str, name: str, password: str = PASSWORD) -> None:
    """Open ``url`` (a new session: the sign-in page) and sign in through the form."""
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_label("账号").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector("text=退出登录", timeout=60_000)
    page.wait_for_load_state("networkidle")


def open_page(page, title: str) -> None:
    """Go to a page through the sidebar menu (the session, and so the sign-in, stays)."""
    link = page.locator('[data-testid="stSidebarNav"] a').filter(
        has_text=re.compile(rf"{re.escape(title)}\s*$"))  # the link's text: its icon's name, then the title
    before = page.evaluate("() => (document.querySelector('h1') || {}).textContent || ''")
    link.click()
    try:  # the page's own title replaces the previous one (unless it is the page already shown)
        page.wait_for_function("t => ((document.querySelector('h1') || {}).textContent || '') !== t", arg=before,
                               timeout=15_000)
    except Exception:  # noqa: BLE001 - the same page again
        pass
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_timeout(500)


@pytest.fixture(scope="module")
def app_url(demo_store_url, ui_accounts):
    with serve_streamlit(REPO_ROOT, dict(os.environ, MINQING_DATABASE_URL=demo_store_url)) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing; run: bash scripts/ensure_chromium.sh")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    outside: list[str] = []

    def on_route(route):
        if _is_local(route.request.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", on_route)
    p = context.new_page()
    p.outside = outside
    yield p
    context.close()
    assert not outside, f"requests left localhost: {outside[:5]}"


def _map_frame(page, legend: bool = True):
    iframe = page.wait_for_selector('iframe[src*="streamlit_folium"]', state="visible", timeout=60_000)
    frame = iframe.content_frame()
    frame.wait_for_selector(".leaflet-container", timeout=30_000)
    if legend:
        frame.wait_for_selector(".minqing-legend", state="visible", timeout=30_000)
    return iframe, frame


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"app_{name}.png"), full_page=True)


def test_every_page_renders(page, app_url, ui_accounts):
    sign_in_browser(page, app_url, ui_accounts["admin"][0])  # the role with every page
    for name in PAGES:
        open_page(page, TITLES[name])
        if name in MAP_PAGES:
            _, frame = _map_frame(page)
            assert MAP_PAGES[name] in frame.inner_text(".minqing-legend")
        elif page.query_selector('iframe[src*="streamlit_folium"]'):
            _map_frame(page, legend=False)  # every other map renders too (hotspots, effects)
        assert not page.query_selector('[data-testid="stException"]'), name
        page.wait_for_timeout(1_500)  # let the map frames paint before the screenshot
        _shot(page, name)


def test_click_into_a_grid_and_switch_language(page, app_url, ui_accounts):
    sign_in_browser(page, f"{app_url}/map", ui_accounts["planner"][0])
    for param in ("sd", "cm", "g"):
        for dx, dy in ((0, 0), (40, 30), (-40, -30), (60, -50), (-60, 50), (90, 0)):
            page.wait_for_load_state("networkidle", timeout=90_000)
            try:  # the frame of the previous level may still be on its way out: then take the new one
                iframe, frame = _map_frame(page)
                # hide the places layer so the click lands on a unit, then click near the map's middle
                places_toggle = frame.locator(".leaflet-control-layers-overlays label").filter(
                    has_text=re.compile(r"^\s*点位\s*$")
                )
                if places_toggle.count() and places_toggle.locator("input").is_checked(timeout=10_000):
                    places_toggle.click()  # (a unit without places has no such layer)
                box = iframe.bounding_box()
                iframe.click(position={"x": box["width"] / 2 + dx, "y": box["height"] / 2 + dy})
                page.wait_for_function(f"() => location.search.includes('{param}=')", timeout=20_000)
                break
            except Exception:  # the click hit a gap or a line, or the frame was replaced: try again
                continue
        else:
            raise AssertionError(f"clicking the map did not drill down to {param}")
        page.wait_for_timeout(1_000)
    page.wait_for_selector("text=最新工单", timeout=60_000)
    _, frame = _map_frame(page)
    frame.wait_for_selector(".marker-cluster, .leaflet-marker-pane svg, path.leaflet-interactive", timeout=30_000)
    assert frame.query_selector_all(".marker-cluster"), "the grid's tickets are drawn as clusters"
    _shot(page, "grid_drilldown")
    page.get_by_text("English", exact=True).click()
    page.wait_for_selector("text=Latest work orders", timeout=60_000)
    assert "lang=en" in page.url and "g=" in page.url
    _shot(page, "grid_drilldown_en")


SCROLLERS_JS = """() => [window.scrollY, ...[...document.querySelectorAll('*')]
    .filter(e => e.scrollHeight > e.clientHeight + 1 && getComputedStyle(e).overflowY !== 'visible')
    .map(e => e.scrollTop)]"""


def test_a_click_lands_on_the_unit_under_the_pointer_below_the_fold(browser, app_url, ui_accounts, demo_store_url):
    """The map partly below the fold: pressing it must not scroll the page, and the drill-down goes
    to the sub-district under the pointer (Leaflet focused its frame on mousedown, the page
    scrolled, and the click selected a unit 5.7 km away)."""
    import shapely

    from minqing.store import open_store

    context = browser.new_context(viewport={"width": 1400, "height": 700}, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in_browser(page, f"{app_url}/map", ui_accounts["planner"][0])
        iframe, frame = _map_frame(page)
        page.wait_for_timeout(1_000)
        toggle = frame.locator(".leaflet-control-layers-overlays label").filter(has_text=re.compile(r"^\s*点位\s*$"))
        if toggle.count() and toggle.locator("input").is_checked():
            toggle.click()
        box = iframe.bounding_box()
        assert box["y"] + box["height"] > 700 > box["y"] + 60, "the map must be partly below the fold"
        x, y = box["x"] + box["width"] / 2, 700 - 25  # near the bottom of what is visible
        lat, lng = frame.evaluate(
            f"() => {{ const p = map_div.containerPointToLatLng([{x - box['x']}, {y - box['y']}]);"
            " return [p.lat, p.lng]; }")
        with open_store(demo_store_url) as store:
            u = store.read_units()
        u = u[(u["level"] == "subdistrict") & u["valid_to"].isna()]
        under = u[u.contains(shapely.Point(lng, lat))]["code"].tolist()
        assert len(under) == 1, "the point aimed at lies in one sub-district"
        before = page.evaluate(SCROLLERS_JS)
        page.mouse.move(x, y)
        page.mouse.down()
        assert page.evaluate(SCROLLERS_JS) == before, "pressing the map scrolled the page"
        page.mouse.up()
        page.wait_for_function("() => location.search.includes('sd=')", timeout=30_000)
        assert f"sd={under[0]}" in page.url
    finally:
        context.close()
