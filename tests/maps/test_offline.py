"""Tests for minqing.maps.offline: folium maps must not load anything from the internet.

The tests that check files on disk need ``python scripts/fetch_assets.py`` to
have been run first; they fail with that hint otherwise.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import branca
import folium
import pytest
import streamlit_folium
from folium.plugins import Fullscreen, HeatMap, MarkerCluster

from minqing.maps import offline

REPO_ROOT = Path(__file__).resolve().parents[2]
STATIC_DIR = REPO_ROOT / "static"
URL_ROOT = "/app/static/"
FETCH_HINT = "static/vendor is incomplete; run: python scripts/fetch_assets.py"

POLYGON = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "西湖区", "count": 12},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[120.0, 30.2], [120.2, 30.2], [120.2, 30.3], [120.0, 30.3], [120.0, 30.2]]
                ],
            },
        }
    ],
}

LEGEND_TEMPLATE = """
{% macro html(this, kwargs) %}
<div id="legend" style="position: fixed; bottom: 20px; left: 20px; z-index: 9999;
     background: white; padding: 4px 8px; font-family: 'WenQuanYi Micro Hei', sans-serif;">
  <b>投诉量 Complaints</b><br><span style="color:#d73027">&#9632;</span> &gt; 10
</div>
{% endmacro %}
"""


@pytest.fixture(autouse=True)
def _local_assets():
    """Use local assets in each test and give folium its CDN lists back afterwards."""
    offline.use_local_assets()
    yield
    offline.restore_cdn_assets()


def build_map() -> folium.Map:
    """A map like the app's: GeoJson, clustered markers, layer control, legend."""
    m = folium.Map(location=[30.25, 120.1], zoom_start=11, tiles=None)
    folium.GeoJson(POLYGON, name="districts", tooltip=folium.GeoJsonTooltip(["name"])).add_to(m)
    cluster = MarkerCluster(name="tickets").add_to(m)
    folium.Marker([30.25, 120.1], popup="工单 1", icon=folium.Icon(icon="info-sign")).add_to(
        cluster
    )
    folium.Marker(
        [30.26, 120.12], icon=folium.Icon(icon="house", prefix="fa", color="red", angle=45)
    ).add_to(cluster)
    folium.LayerControl().add_to(m)
    Fullscreen().add_to(m)
    legend = branca.element.MacroElement()
    legend._template = branca.element.Template(LEGEND_TEMPLATE)
    m.get_root().add_child(legend)
    return m


def local_urls(html: str) -> list[str]:
    """URLs of script/link tags that point into the static folder."""
    found = re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)""", html)
    return sorted({u for u in found if u.startswith(URL_ROOT)})


def test_map_html_has_no_external_script_or_link():
    html = build_map().get_root().render()
    assert offline.external_urls(html) == []
    assert "https://" not in html.replace("https://leafletjs.com", "")  # attribution only
    assert "http://" not in html
    assert "/app/static/vendor/leaflet/dist/leaflet.js" in html
    assert "/app/static/vendor/leaflet.markercluster/dist/leaflet.markercluster.js" in html
    # our icon-path fix must run right after leaflet.js
    js = [u for _, u in folium.Map.default_js]
    assert js[:2] == [
        "/app/static/vendor/leaflet/dist/leaflet.js",
        "/app/static/minqing/leaflet-icon-path.js",
    ]


def test_external_urls_finds_cdn_links():
    offline.restore_cdn_assets()
    html = folium.Map(tiles=None).get_root().render()
    urls = offline.external_urls(html)
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in urls
    assert len(urls) == 10


def test_use_local_assets_is_idempotent_and_keeps_folium_names():
    before = {cls: (cls.default_js, cls.default_css) for cls in offline.local_assets()}
    offline.use_local_assets()
    offline.use_local_assets()
    for cls, (js, css) in before.items():
        assert cls.default_js == js and cls.default_css == css
    offline.restore_cdn_assets()
    cdn_names = {cls: [n for n, _ in cls.default_js + cls.default_css] for cls in before}
    for cls, (js, css) in before.items():
        local_names = [n for n, _ in js + css if n != "leaflet_icon_path"]
        assert local_names == cdn_names[cls]
    # restoring twice is harmless, and use_local_assets works again after it
    offline.restore_cdn_assets()
    offline.use_local_assets()
    assert folium.Map.default_js == before[folium.Map][0]


def test_prefix_is_configurable():
    offline.use_local_assets(prefix="/base/app/static/vendor/")
    urls = [u for _, u in folium.Map.default_js + folium.Map.default_css]
    assert "/base/app/static/vendor/leaflet/dist/leaflet.js" in urls
    assert "/base/app/static/minqing/leaflet.awesome.rotate.css" in urls


def test_add_js_link_does_not_leak_into_cdn_lists():
    m = folium.Map(tiles=None)
    m.add_js_link("extra", "/app/static/minqing/extra.js")
    offline.restore_cdn_assets()
    assert all(name != "extra" for name, _ in folium.Map.default_js)


def test_st_folium_sends_only_local_links(monkeypatch):
    """What streamlit-folium hands its frontend (it ignores the rendered tags)."""
    captured = {}

    def fake_component(**kwargs):
        captured.update(kwargs)
        return kwargs.get("default")

    monkeypatch.setattr(streamlit_folium, "_component_func", fake_component)
    streamlit_folium.st_folium(build_map(), returned_objects=[])
    links = captured["js_links"] + captured["css_links"]
    assert links and all(link.startswith(URL_ROOT) for link in links), links
    assert offline.external_urls(captured["header"]) == []


def test_make_offline_returns_map_and_warns_on_unvendored_plugin():
    offline.restore_cdn_assets()
    m = build_map()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert offline.make_offline(m) is m
    assert offline.external_urls(m.get_root().render()) == []
    HeatMap([[30.25, 120.1]]).add_to(m)
    with pytest.warns(UserWarning, match="HeatMap"):
        offline.make_offline(m)


def test_make_offline_warns_on_colormap():
    m = build_map()
    branca.colormap.LinearColormap(["white", "red"], vmin=0, vmax=10).add_to(m)
    with pytest.warns(UserWarning, match="ColorMap|colormap"):
        offline.make_offline(m)


def test_missing_assets_lists_everything_for_empty_dir(tmp_path):
    missing = offline.missing_assets(tmp_path)
    assert "vendor/leaflet/dist/leaflet.js" in missing
    assert "minqing/leaflet.awesome.rotate.css" in missing
    assert all(not p.startswith("/") and "\\" not in p for p in missing)


def test_all_referenced_local_files_exist():
    assert offline.missing_assets(STATIC_DIR) == [], FETCH_HINT
    html = build_map().get_root().render()
    urls = local_urls(html)
    assert len(urls) == 16  # Map 6 css + 5 js, MarkerCluster 3, Fullscreen 2
    for url in urls:
        assert (STATIC_DIR / url[len(URL_ROOT) :]).is_file(), f"{url}: {FETCH_HINT}"


def test_css_url_references_resolve():
    """Fonts and images named by url(...) in the vendored CSS are there too."""
    if offline.missing_assets(STATIC_DIR):
        pytest.fail(FETCH_HINT)
    css_files = [
        STATIC_DIR / url[len(URL_ROOT) :]
        for cls_lists in offline.local_assets().values()
        for _, url in cls_lists.css
    ]
    checked = 0
    for css in css_files:
        text = css.read_text(encoding="utf-8")
        for ref in re.findall(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""", text):
            if ref.startswith(("data:", "#")):
                continue
            assert not ref.startswith(("http:", "https:", "//")), f"{css}: {ref}"
            target = (css.parent / ref.split("?")[0].split("#")[0]).resolve()
            assert target.is_file(), f"{css.name} refers to missing {ref}"
            checked += 1
    assert checked > 10


def test_make_offline_sets_max_zoom_only_without_tiles():
    """leaflet.markercluster needs a map maxZoom; tiles=None maps have none."""
    m = offline.make_offline(build_map())
    assert m.options["max_zoom"] == 18
    assert '"maxZoom": 18' in m.get_root().render()
    m = offline.make_offline(folium.Map(tiles=None, zoom_start=3), max_zoom=None)
    assert "max_zoom" not in m.options
    m = folium.Map(tiles=None)
    m.options["max_zoom"] = 12
    assert offline.make_offline(m).options["max_zoom"] == 12
    with_tiles = folium.Map()  # OpenStreetMap tile layer has its own max zoom
    assert "max_zoom" not in offline.make_offline(with_tiles).options
