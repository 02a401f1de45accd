"""What a user waits for, measured where the user waits: the real app in headless Chromium.

Each step is timed from the user's action (a click, a choice, Enter) until the page is quiet:
the last script run has finished (Streamlit's ``script_finished`` message on the websocket) and
every map on the page has drawn (its Leaflet panes stop changing), with nothing new for 0.4 s.
The time reported ends at the last of those events, not at the end of the quiet wait.
Per step it also reports when the last script run finished ("run s": the server's part and the
transport), the reruns the action caused and the bytes the server sent (websocket frames, gzipped).

Targets (issue 15): every interaction <= 1.0 s, every first visit <= 2.0 s, map payload <= 1 MB
gzipped per page, on a 1,000,000-ticket store.

Build the store once (about three minutes):
    .venv/bin/minqing --db sqlite:////tmp/bench1m.sqlite demo --tickets 1000000
Run:
    .venv/bin/python benchmarks/bench_browser.py --url sqlite:////tmp/bench1m.sqlite [--sessions 5]
Session 1 runs on a freshly started server (cold caches: "cold" column); the median is over the
later sessions (a new browser session each, as a new viewer of a running server).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from test_offline_map import CHROMIUM, serve_streamlit  # (one way to start the app)

from minqing.i18n import t

USER, PASSWORD = "bench_admin", "bench-password-for-timing-only"
QUIET_S = 0.4
MAP_FRAMES = 'iframe[src*="streamlit_folium"]'
DRAWN_JS = """() => {
  const c = document.querySelector('.leaflet-container');
  if (!c) return -1;
  return c.querySelectorAll('path, .leaflet-marker-icon, .leaflet-tooltip, canvas, img.leaflet-tile').length;
}"""


class Watch:
    """Websocket messages and map draws with their times, for one browser page."""

    def __init__(self, page):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.page, self.events, self.bytes = page, [], []
        self._msg = ForwardMsg

        def on_ws(ws):
            if "_stcore/stream" in ws.url:
                ws.on("framereceived", self._frame)

        page.on("websocket", on_ws)

    def _frame(self, payload):
        now = time.perf_counter()
        raw = payload if isinstance(payload, bytes) else payload.encode()
        self.bytes.append((now, raw))
        try:
            kind = self._msg.FromString(raw).WhichOneof("type")
        except Exception:  # noqa: BLE001 - not a ForwardMsg
            return
        if kind in ("new_session", "script_finished"):
            self.events.append((now, kind))

    def settle(self, t0: float, timeout: float = 120.0) -> dict:
        """Wait until the page is quiet after an action at ``t0``; return the step's figures."""
        draws: dict[int, int] = {}
        last_change = t0
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            self.page.wait_for_timeout(25)
            now = time.perf_counter()
            counts = []
            for i, el in enumerate(self.page.query_selector_all(MAP_FRAMES)):
                try:
                    frame = el.content_frame()
                    n = frame.evaluate(DRAWN_JS) if frame else -1
                except Exception:  # noqa: BLE001 - the frame is being replaced
                    n = -1
                counts.append(n)
                if draws.get(i) != n:
                    draws[i] = n
                    last_change = now
            for i in list(draws):
                if i >= len(counts):
                    del draws[i]
                    last_change = now
            runs = [e for e in self.events if e[0] >= t0]
            starts = [e for e in runs if e[1] == "new_session"]
            ends = [e for e in runs if e[1] == "script_finished"]
            running = bool(runs) and runs[-1][1] == "new_session"
            maps_ready = all(n > 0 for n in counts)
            last = max([last_change] + [e[0] for e in runs])
            if runs and not running and maps_ready and now - last >= QUIET_S:
                sent = b"".join(raw for tt, raw in self.bytes if tt >= t0)
                return {"s": round(last - t0, 3), "run_s": round(ends[-1][0] - t0, 3) if ends else None,
                        "start_s": round(starts[0][0] - t0, 3) if starts else None,
                        "reruns": len(ends), "started": len(starts),
                        "maps": len(counts), "kb": round(len(sent) / 1024, 1),
                        "kb_gz": round(len(gzip.compress(sent)) / 1024, 1)}
        raise TimeoutError("the page did not settle")


def open_app(page, base: str) -> None:
    page.goto(base, wait_until="domcontentloaded")
    page.get_by_label("账号").wait_for(timeout=120_000)


def sign_in(page) -> float:
    page.get_by_label("账号").fill(USER)
    page.get_by_label("密码").fill(PASSWORD)
    t0 = time.perf_counter()
    page.get_by_role("button", name="登录").click()
    return t0


def nav_link(page, title: str):
    return page.locator('[data-testid="stSidebarNav"] a').filter(has_text=re.compile(rf"{re.escape(title)}\s*$"))


def choose(page, label: str, nth_option: int = 1):
    """Open the select box labelled ``label`` and pick its ``nth_option``; return the action time."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    opts = page.locator('[role="option"]')
    opts.nth(0).wait_for(timeout=10_000)
    target = opts.nth(min(nth_option, opts.count() - 1))
    t0 = time.perf_counter()
    target.click()
    return t0


def drill_click(page, watch: Watch, param: str):
    """Click into the map until the URL gains ``param``; return the click's time or None."""
    iframe = page.wait_for_selector(MAP_FRAMES, state="visible", timeout=60_000)
    frame = iframe.content_frame()
    toggle = frame.locator(".leaflet-control-layers-overlays label").filter(has_text=re.compile(r"^\s*点位\s*$"))
    if toggle.count() and toggle.locator("input").is_checked():
        toggle.click()
    iframe.scroll_into_view_if_needed()
    box = iframe.bounding_box()
    for dx, dy in ((0, 0), (40, 30), (-40, -30), (60, -50), (-60, 50), (90, 0), (0, 80)):
        t0 = time.perf_counter()
        iframe.click(position={"x": box["width"] / 2 + dx, "y": box["height"] / 2 + dy})
        try:
            page.wait_for_function(f"() => location.search.includes('{param}=')", timeout=8_000)
            return t0
        except Exception:  # noqa: BLE001 - a gap or a line: try elsewhere
            continue
    return None


def session(browser, base: str, lg: str = "zh") -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    watch = Watch(page)
    out: dict[str, dict] = {}
    t0 = time.perf_counter()
    open_app(page, base)
    out["open the app (sign-in form)"] = watch.settle(t0)
    out["sign in -> home page"] = watch.settle(sign_in(page))

    def visit(view: str, label: str):
        t0 = time.perf_counter()
        nav_link(page, t(title_key[view], lg)).click()
        out[label] = watch.settle(t0)

    from minqing.ui.nav import PAGES

    title_key = {v: k for v, k, _, _ in PAGES}
    for view in ("meeting", "map", "hotspots", "effects", "tickets"):
        visit(view, f"{view}: first visit")
    for view in ("meeting", "map", "hotspots", "effects", "tickets"):
        visit(view, f"{view}: later visit")

    visit("meeting", "meeting: again")
    out["meeting: scope"] = watch.settle(choose(page, t("meeting.scope", lg), 1))
    out["meeting: theme"] = watch.settle(choose(page, t("meeting.theme", lg), 1))

    visit("map", "map: again")
    for param in ("sd", "cm", "g"):
        t0 = drill_click(page, watch, param)
        if t0 is not None:
            out[f"map: drill {param}"] = watch.settle(t0)

    visit("hotspots", "hotspots: again")
    for key in ("grid", "emerging", "rank", "class", "forecast", "channel", "hex"):
        t0 = time.perf_counter()
        page.get_by_role("tab", name=t(f"hotspots.tab_{key}", lg)).click()
        out[f"hotspots: tab {key}"] = watch.settle(t0)

    visit("effects", "effects: again")
    out["effects: switch"] = watch.settle(choose(page, t("effects.choose", lg), 1))

    visit("tickets", "tickets: again")
    box = page.get_by_label(t("tickets.search", lg))
    box.fill("噪音")
    t0 = time.perf_counter()
    page.get_by_role("button", name=t("tickets.apply", lg)).click()
    out["tickets: query"] = watch.settle(t0)
    context.close()
    return out


def ensure_account(url: str) -> None:
    from minqing.accounts import add_user, get_account
    from minqing.store import open_store

    with open_store(url) as store:
        if get_account(store, USER) is None:
            add_user(store, USER, "admin", PASSWORD, actor="bench")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--sessions", type=int, default=5)
    ap.add_argument("--json", default=None, help="write every session's figures here")
    args = ap.parse_args()
    ensure_account(args.url)
    from playwright.sync_api import sync_playwright

    from minqing.store import open_store

    with open_store(args.url) as s:
        print(f"store {args.url}: {s.ticket_count():,} tickets")
    env = dict(os.environ, MINQING_DATABASE_URL=args.url)
    runs = []
    with serve_streamlit(ROOT, env) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for i in range(args.sessions):
            runs.append(session(browser, base))
            print(f"session {i + 1} done", file=sys.stderr)
        browser.close()
    steps = list(runs[0])
    print(f"{'step':28} {'cold s':>7} {'median s':>8} {'max s':>6} {'run s':>6} {'reruns':>6} {'KB gz':>7}")
    for step in steps:
        warm = [r[step]["s"] for r in runs[1:] if step in r] or [runs[0][step]["s"]]
        kb = statistics.median(r[step]["kb_gz"] for r in runs if step in r)
        reruns = max(r[step]["reruns"] for r in runs if step in r)
        run = statistics.median([r[step]["run_s"] or 0 for r in (runs[1:] or runs) if step in r])
        print(f"{step:28} {runs[0][step]['s']:7.2f} {statistics.median(warm):8.2f} {max(warm):6.2f} {run:6.2f} "
              f"{reruns:6d} {kb:7.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(runs, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
