"""Real-browser check: a folium map in st_folium renders with no request off localhost.

Starts a tiny Streamlit app (written to ``tmp_path``, with a copy of the repo's
``static/`` folder next to it) and drives Debian's Chromium through Playwright.
Every request the page or the map's component frame makes is recorded; any
request to a host other than localhost/127.0.0.1 is blocked (so the check means
the same on a machine that does have internet) and fails the test.

Needs: ``python scripts/fetch_assets.py``, ``bash scripts/ensure_chromium.sh``
and ``pip install playwright`` (no ``playwright install``: we use
``/usr/bin/chromium``).  Run with ``pytest -m e2e tests/e2e``.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
STATIC_DIR = REPO_ROOT / "static"
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("MINQING_CHROMIUM", "/usr/bin/chromium")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
INTERNAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-extension"}

pytestmark = pytest.mark.e2e

APP_SOURCE = textwrap.dedent(
    '''
    import folium
    from folium.plugins import MarkerCluster
    import streamlit as st
    from streamlit_folium import st_folium

    from minqing.maps.offline import make_offline, missing_assets

    st.set_page_config(page_title="offline map check", layout="wide")
    st.write("民情地图 offline map check")
    missing = missing_assets("static")
    if missing:
        st.error("missing: " + ", ".join(missing))

    m = folium.Map(location=[30.25, 120.1], zoom_start=11, tiles=None)
    folium.GeoJson(
        {
            "type": "Feature",
            "properties": {"name": "西湖区"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[120.0, 30.2], [120.2, 30.2], [120.2, 30.3],
                                 [120.0, 30.3], [120.0, 30.2]]],
            },
        },
        style_function=lambda f: {"color": "#d73027", "fillOpacity": 0.4, "weight": 3},
        tooltip="西湖区",
    ).add_to(m)
    folium.Marker([30.25, 120.1], tooltip="工单", icon=folium.Icon(icon="info-sign")).add_to(m)
    folium.Marker([30.28, 120.05], tooltip="default icon").add_to(m)
    cluster = MarkerCluster(name="工单 tickets").add_to(m)
    for i in range(5):
        folium.Marker([30.22 + i * 0.001, 120.17]).add_to(cluster)
    make_offline(m)
    st_folium(m, returned_objects=[], height=500, width=700)
    '''
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"streamlit not healthy at {url} after {timeout}s")


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in INTERNAL_SCHEMES:
        return True
    return parts.hostname in LOCAL_HOSTS


@pytest.fixture(scope="module")
def streamlit_app(tmp_path_factory):
    """Run the tiny app on a free port; yield its base URL."""
    from minqing.maps.offline import missing_assets

    missing = missing_assets(STATIC_DIR)
    if missing:
        pytest.fail(f"run `python scripts/fetch_assets.py` first; missing: {missing[:3]}")

    app_dir = tmp_path_factory.mktemp("offline_app")
    (app_dir / "app.py").write_text(APP_SOURCE, encoding="utf-8")
    shutil.copytree(STATIC_DIR, app_dir / "static")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(REPO_ROOT / "src"), env.get("PYTHONPATH", "")] if p
    )
    with serve_streamlit(app_dir, env, ["--server.enableStaticServing=true"]) as base:
        yield base


@contextmanager
def serve_streamlit(cwd: Path, env: dict, extra_args: list[str] = ()):
    """Run ``streamlit run app.py`` in ``cwd`` on a free localhost port; yield its base URL."""
    port = _free_port()
    log_path = Path(tempfile.mkstemp(prefix="streamlit_", suffix=".log")[1])
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "app.py",
                "--server.port", str(port),
                "--server.address", "127.0.0.1",
                "--server.headless=true",
                "--browser.gatherUsageStats=false",
                *extra_args,
            ],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(f"{base}/_stcore/health", proc)
        yield base
    except Exception:
        print(log_path.read_text(encoding="utf-8", errors="replace"))
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_map_renders_offline(streamlit_app):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing; run: bash scripts/ensure_chromium.sh")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

    requests: list[str] = []
    blocked: list[str] = []
    failed: list[str] = []
    bad_status: list[str] = []

    def on_route(route):
        url = route.request.url
        if _is_local(url):
            route.continue_()
        else:
            blocked.append(url)
            route.abort("internetdisconnected")

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            context = browser.new_context(viewport={"width": 1000, "height": 800})
            # Context-level routing also covers the component iframe.
            context.route("**/*", on_route)
            page = context.new_page()
            page.on("request", lambda req: requests.append(req.url))
            page.on(
                "requestfailed",
                lambda req: failed.append(f"{req.url} ({req.failure})"),
            )
            page.on(
                "response",
                lambda resp: resp.status >= 400
                and bad_status.append(f"{resp.status} {resp.url}"),
            )
            page.goto(streamlit_app, wait_until="domcontentloaded")

            iframe = page.wait_for_selector(
                'iframe[src*="streamlit_folium"]', state="attached", timeout=60_000
            )
            frame = iframe.content_frame()
            assert frame is not None, "component iframe has no frame"
            frame.wait_for_selector(".leaflet-container", timeout=30_000)
            polygon = frame.wait_for_selector(
                "svg path.leaflet-interactive", state="visible", timeout=30_000
            )
            marker = frame.wait_for_selector(
                ".leaflet-marker-pane .awesome-marker", state="visible", timeout=30_000
            )
            # Leaflet's default marker: its image must really load
            default_icon = frame.wait_for_selector(
                "img.leaflet-marker-icon", state="visible", timeout=30_000
            )
            frame.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=default_icon, timeout=10_000
            )
            cluster_icon = frame.wait_for_selector(
                ".marker-cluster", state="visible", timeout=30_000
            )
            assert cluster_icon.inner_text().strip() == "5"
            box = polygon.bounding_box()
            assert box and box["width"] > 50 and box["height"] > 50, box
            assert marker.bounding_box()
            # the glyphicon font really loaded (its CSS and font are local)
            frame.wait_for_function(
                """() => [...document.fonts].some(f =>
                    f.family.replace(/["']/g, "") === "Glyphicons Halflings"
                    && f.status === "loaded")""",
                timeout=10_000,
            )
            page.wait_for_load_state("networkidle")

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "offline_map.png"), full_page=True)
            iframe.screenshot(path=str(ARTIFACTS / "offline_map_frame.png"))
        except Exception as exc:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "offline_map_failed.png"), full_page=True)
            raise AssertionError(
                f"map did not render: {exc}\nblocked (non-local): {blocked}\n"
                f"failed: {failed}\nHTTP errors: {bad_status}"
            ) from exc
        finally:
            browser.close()

    outside = [u for u in requests if not _is_local(u)]
    assert not outside and not blocked, f"requests left localhost: {outside or blocked}"
    assert any("/app/static/vendor/leaflet/dist/leaflet.js" in u for u in requests)
    assert not [f for f in failed if "/app/static/" in f], failed
    assert not [s for s in bad_status if "/app/static/" in s], bad_status
