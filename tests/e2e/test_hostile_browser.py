"""Hostile data in a real browser: a file of payloads imported the ordinary way, then every page.

The payloads of ``tests/payloads.py`` go in as ticket ids, texts, addresses, categories, callers and
a place's name, through ``minqing import`` and ``minqing places import`` into a copy of the demo
store. Each page where they show (the map down to the grid with its ticket popups and place
tooltips, the ticket search and detail view, the meeting view, my grid, hot spots) is opened in
Chromium. The test fails on any dialog, any console error, any payload that ran (``window.__pwned``
in the page or a map frame, a file on the server, an evaluated ``{{ 7*191191 }}``) and any element
a payload would have created.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil

import pytest
from test_app_browser import _map_frame, _shot, browser, open_page, sign_in_browser  # noqa: F401  (fixture)
from test_offline_map import REPO_ROOT, _is_local, serve_streamlit

pytestmark = pytest.mark.e2e

import sys  # noqa: E402

sys.path.insert(0, str(REPO_ROOT / "tests"))
from payloads import ALL, EVAL_RESULT, PWN_FILE  # noqa: E402

# Elements or attributes only a payload could have put into a page.
_INJECTED = ('img[src="x"], svg[onload], iframe[src^="javascript"], a[href^="javascript"], '
             "[onerror], [onload]")


# Streamlit, served at a page path, probes its health and host config under that path first (404),
# then at the root: not an error of ours. Any other failed response is reported by URL.
_STREAMLIT_PROBE = re.compile(r"/[^/]+/_stcore/(health|host-config)$")
_RESOURCE_404 = "Failed to load resource: the server responded with a status of 404"


@pytest.fixture(scope="module")
def hostile(demo_store_url, ui_accounts, tmp_path_factory):
    """A copy of the demo store with one grid's worth of payload tickets and a payload place."""
    from minqing.cli.main import main
    from minqing.store import open_store

    tmp = tmp_path_factory.mktemp("hostile")
    path = tmp / "hostile.sqlite"
    shutil.copy(demo_store_url.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    with open_store(url) as store:
        _, last = store.received_range()
        units = store.read_units()
    grids = units[(units["level"] == "grid") & units["valid_to"].isna()]
    grid = grids.iloc[len(grids) // 2]
    community = units[(units["code"] == grid["parent_code"])].iloc[0]
    centre = grid.geometry.representative_point()
    when = (last - __import__("pandas").Timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    rows = []
    for i, p in enumerate(ALL):
        rows.append({
            "工单编号": p if i % 2 else f"HX{i:03d}{p}", "受理时间": when, "诉求内容": f"{p} 来电人张三丰 13812345678",
            "诉求地址": p, "诉求分类": p, "经度": f"{centre.x + (i % 7) * 1e-5:.6f}", "纬度": f"{centre.y:.6f}",
            "来电人": "张三丰", "联系电话": "13812345678", "工单状态": p,
        })
    tickets = tmp / "payloads.csv"
    with tickets.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    place = tmp / "place.geojson"
    place.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [centre.x, centre.y]},
         "properties": {"place_id": "PX1", "name": " / ".join(ALL[:12]), "kind": "hospital_entrance"}}]}),
        encoding="utf-8")
    assert main(["--db", url, "import", str(tickets)]) == 0
    assert main(["--db", url, "places", "import", str(place)]) == 0
    from minqing.auth import ScopedStore, User
    from minqing.store import TicketFilter

    with open_store(url) as store:
        shown = ScopedStore(store, User("planner")).read_tickets(TicketFilter(unit_level="grid",
                                                                              unit_codes=(grid["code"],)))
    shown = shown[shown["received_at"] == shown["received_at"].max()]
    assert len(shown) == len(ALL), "every payload row is stored"
    return {"url": url, "shown": shown, "grid": grid["code"], "community": community["code"],
            "subdistrict": community["parent_code"]}


@pytest.fixture(scope="module")
def hostile_app(hostile):
    env = dict(os.environ, MINQING_DATABASE_URL=hostile["url"])
    with serve_streamlit(REPO_ROOT, env) as base:
        yield base


@pytest.fixture
def watched(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    context.route("**/*", lambda r: r.continue_() if _is_local(r.request.url) else r.abort("internetdisconnected"))
    page = context.new_page()
    page.problems = []
    page.on("dialog", lambda d: (page.problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("console", lambda m: m.type == "error" and not m.text.startswith(_RESOURCE_404)
            and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    page.on("response", lambda r: r.status >= 400 and not _STREAMLIT_PROBE.search(r.url)
            and page.problems.append(f"HTTP {r.status}: {r.url}"))
    yield page
    context.close()


def _assert_clean(page, where: str) -> None:
    for frame in page.frames:
        assert not frame.evaluate("() => window.__pwned === 1"), f"a payload ran in {where} ({frame.url})"
        found = frame.evaluate(f"() => Array.from(document.querySelectorAll('{_INJECTED}')).map(e => e.outerHTML)")
        assert not found, f"{where}: injected elements {found[:3]}"
        assert EVAL_RESULT not in frame.content(), f"{where}: a template evaluated data"
    assert not os.path.exists(PWN_FILE), "a payload ran code on the server"
    assert not page.query_selector('[data-testid="stException"]'), f"{where}: traceback shown"
    assert not page.problems, f"{where}: {page.problems[:5]}"


def _settle(page):
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1_000)


_POPUPS_JS = """() => {
  const out = {popups: [], tips: [], tags: new Set()};
  const seen = new Set();
  function visit(l) {
    if (!l || seen.has(l)) return;
    seen.add(l);
    for (const [kind, getter] of [["popups", "getPopup"], ["tips", "getTooltip"]]) {
      const box = l[getter] && l[getter]();
      if (box) {
        const c = box._content;
        const el = typeof c === "function" ? c(l) : c;
        if (el && el.nodeType) {
          out[kind].push(el.textContent);
          el.querySelectorAll("*").forEach(n => out.tags.add(n.tagName.toLowerCase()));
        } else {
          out[kind].push("NOT A NODE: " + String(el));
        }
      }
    }
    if (l.getLayers) l.getLayers().forEach(visit);
    if (l.eachLayer) l.eachLayer(visit);
  }
  Object.values(map_div._layers).forEach(visit);
  out.tags = Array.from(out.tags);
  return out;
}"""


def test_payloads_on_the_map_are_text(watched, hostile_app, hostile, ui_accounts):
    page = watched
    sign_in_browser(page, f"{hostile_app}/map?sd={hostile['subdistrict']}&cm={hostile['community']}"
                          f"&g={hostile['grid']}", ui_accounts["planner"][0])
    _settle(page)
    _, frame = _map_frame(page)
    frame.wait_for_selector(".marker-cluster, path.leaflet-interactive", timeout=30_000)
    found = frame.evaluate(_POPUPS_JS)
    assert set(found["tags"]) <= {"b", "span", "br"}, found["tags"]
    popups = "\n".join(found["popups"])
    tips = "\n".join(found["tips"])
    for sid, text in zip(hostile["shown"]["source_id"], hostile["shown"]["text"]):
        assert sid in popups and text[:200] in popups, f"ticket {sid!r} not shown as text in a popup"
    assert "13812345678" not in popups and "张三丰" not in popups, "popups are masked"
    assert ALL[0] in tips, "the place's name is shown as text in its tooltip"
    # put every payload popup into the page for real (the same content function a click calls)
    frame.evaluate("""() => { for (const l of Object.values(map_div._layers)) {
        if (l.zoomToShowLayer) { l.getLayers().forEach(m => { const p = m.getPopup();
            if (p) { L.popup({autoClose: false}).setLatLng(m.getLatLng()).setContent(p._content(m)).openOn(map_div); }
        }); return; } } }""")
    frame.wait_for_selector(".leaflet-popup-content", timeout=20_000)
    _shot(page, "hostile_map_popup")
    _assert_clean(page, "map")


def test_payloads_in_search_and_detail_are_text(watched, hostile_app, ui_accounts):
    page = watched
    sign_in_browser(page, f"{hostile_app}/tickets", ui_accounts["planner"][0])
    _settle(page)
    page.get_by_label("搜索（工单编号、内容、地址）").fill("pwned")
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector("text=/共 [0-9]+ 条工单/", timeout=30_000)
    _settle(page)
    pick = page.locator('[data-testid="stSelectbox"]').last
    pick.click()
    page.locator('[role="option"]').first.click()
    _settle(page)
    text = page.inner_text("body")
    assert any(p in text for p in ALL if "pwned" in p and "\r" not in p), "the detail view shows the payload as text"
    assert "13812345678" not in text and "张三丰" not in text, "masked for a viewer who is not handling it"
    _shot(page, "hostile_ticket_detail")
    _assert_clean(page, "tickets")


@pytest.mark.parametrize("path", ["meeting", "mygrid", "hotspots", "import", "admin"])
def test_other_pages_with_payloads_stay_clean(watched, hostile_app, ui_accounts, path):
    from test_app_browser import TITLES

    page = watched
    sign_in_browser(page, hostile_app, ui_accounts["admin"][0])
    open_page(page, TITLES[path])
    _settle(page)
    if page.query_selector('iframe[src*="streamlit_folium"]'):
        _map_frame(page, legend=False)
    page.wait_for_timeout(1_000)
    _assert_clean(page, path)
