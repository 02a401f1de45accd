
import geopandas as gpd
import pytest
from shapely.geometry import Point

from minqing.maps.basemaps import BASEMAPS, BasemapError, tile_url, to_display
from minqing.maps.layers import page_payloads
from minqing.maps.choropleth import base_map, overview_map

# googollee/eviltransform python/test.py: WGS-84 (121.5272106, 31.1774276) is
# GCJ-02 (121.531541859215, 31.17530398364597) in Shanghai.
WGS = (121.5272106, 31.1774276)
GCJ = (121.531541859215, 31.17530398364597)


def test_amap_shifts_our_layers_to_gcj02():
    p = to_display(Point(*WGS), "amap")
    assert p.x == pytest.approx(GCJ[0], abs=1e-6) and p.y == pytest.approx(GCJ[1], abs=1e-6)
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(*WGS)], crs=4326)
    out = to_display(gdf, "amap")
    assert out.geometry.iloc[0].x == pytest.approx(GCJ[0], abs=1e-6)
    assert gdf.geometry.iloc[0].x == WGS[0]  # input untouched


@pytest.mark.parametrize("basemap", ["none", "osm", "tianditu"])
def test_wgs84_basemaps_leave_layers_alone(basemap):
    assert to_display(Point(*WGS), basemap).equals(Point(*WGS))


def test_known_point_lands_on_the_amap_spot(tiny_units, tiny_places):
    """The hospital place drawn on AMap sits at its GCJ-02 position in the map's HTML."""
    places = tiny_places.copy()
    places.loc[0, "geometry"] = Point(*WGS)
    sub = tiny_units[tiny_units["level"] == "subdistrict"].assign(tickets=1, rate=1.0, population=1000)
    html = overview_map(sub, tiny_units[tiny_units["level"] == "grid"], places, basemap="amap").get_root().render()
    centres = [tuple(f["geometry"]["coordinates"]) for kind, p in page_payloads(html) if kind == "DataLayer"
               and p["options"]["point"] == "circle" for f in p["data"]["features"]
               if f["geometry"]["type"] == "Point"]
    assert any(abs(lat - GCJ[1]) < 2e-6 and abs(lon - GCJ[0]) < 2e-6 for lon, lat in centres), centres
    assert "autonavi.com" in html
    html_none = overview_map(sub, tiny_units[tiny_units["level"] == "grid"], places).get_root().render()
    assert "autonavi" not in html_none and "tile.openstreetmap" not in html_none


def test_tianditu_needs_a_key():
    with pytest.raises(BasemapError, match="needs a key"):
        tile_url("tianditu")
    assert "tk=abc" in tile_url("tianditu", "abc")
    with pytest.raises(BasemapError, match="allowed: none, osm, amap, tianditu"):
        base_map((121.5, 31.2, 121.6, 31.3), "google")
    assert set(BASEMAPS) == {"none", "osm", "amap", "tianditu"}


def test_ticket_points_are_escaped_and_aggregate_beyond_the_limit():
    import pandas as pd

    from minqing.maps.choropleth import base_map
    from minqing.maps.tickets import add_ticket_points

    n = 12
    tickets = pd.DataFrame(
        {
            "source_id": [f"T{i}" for i in range(n)],
            "received_at": pd.date_range("2025-01-01", periods=n, freq="h", tz="Asia/Shanghai"),
            "category": "03.01.01",
            "text": ["<script>alert(1)</script>路灯不亮"] * n,
            "lon": [121.52 + i * 1e-4 for i in range(n)],
            "lat": [31.28] * n,
        }
    )
    from minqing.geo.h3cells import latlng_to_cells

    tickets["h3_cell"] = latlng_to_cells(tickets["lat"], tickets["lon"], 10)
    m = base_map((121.5, 31.27, 121.54, 31.29))
    add_ticket_points(m, tickets)
    html_ = m.get_root().render()
    # the text goes as data (set with textContent in the browser), never as markup
    assert "<script>alert(1)</script>" not in html_ and "markerClusterGroup" in html_
    layers = [p for kind, p in page_payloads(html_) if kind == "DataLayer"]
    points = [f for p in layers for f in p["data"]["features"] if f["geometry"]["type"] == "Point"]
    assert len(points) == n and all("<script>alert(1)</script>路灯不亮" in f["properties"]["_popup"] for f in points)
    m2 = base_map((121.5, 31.27, 121.54, 31.29))
    add_ticket_points(m2, tickets, max_markers=5)
    html2 = m2.get_root().render()
    layers = [p for kind, p in page_payloads(html2) if kind == "DataLayer"]
    assert all(f["geometry"]["type"] == "Polygon" for p in layers for f in p["data"]["features"])
    assert sum(f["properties"]["tickets"] for p in layers for f in p["data"]["features"]) == n
