"""No text from the data is ever evaluated by folium's templates or placed into script source.

Every map builder gets hostile unit names, place names and ticket fields (``tests/payloads.py``);
the rendered page must show no evaluation, hold none of the payloads as markup, and carry each
one back, unchanged, as data for the browser to set with ``textContent``.
"""

from __future__ import annotations

import os
import re

import geopandas as gpd
import pandas as pd
import pytest
from conftest import X0, Y0
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payloads import ALL, EVAL_RESULT, PWN_FILE
from shapely.geometry import LineString, Point, box

from minqing.maps.choropleth import unit_map
from minqing.maps.hotspots import class_of_cases_map, units_bins_map
from minqing.maps.layers import (
    RUNTIME_JS,
    DataLayer,
    decode_payload,
    encode_payload,
    feature_collection,
    page_payloads,
)
from minqing.maps.tickets import add_ticket_points


def _units(names):
    n = len(names)
    return gpd.GeoDataFrame(
        {"code": [f"U{i}" for i in range(n)], "name": names, "name_en": names, "population": 1000,
         "tickets": range(n), "rate": [float(i) for i in range(n)]},
        geometry=[box(X0 + i * 0.01, Y0, X0 + (i + 1) * 0.01, Y0 + 0.01) for i in range(n)], crs=4326)


def _places(names):
    geoms = [Point(X0 + 0.001, Y0 + 0.001), LineString([(X0, Y0), (X0 + 0.002, Y0 + 0.002)]),
             box(X0, Y0, X0 + 0.001, Y0 + 0.001)]
    kinds = ["hospital_entrance", "road_stretch", "compound"]
    return gpd.GeoDataFrame(
        {"place_id": [f"P{i}" for i in range(len(names))], "kind": [kinds[i % 3] for i in range(len(names))],
         "name": names, "name_en": names, "radius_m": 60.0},
        geometry=[geoms[i % 3] for i in range(len(names))], crs=4326)


def _tickets(texts):
    n = len(texts)
    return pd.DataFrame({
        "source_id": texts, "received_at": pd.Timestamp("2025-01-01 08:00", tz="Asia/Shanghai"),
        "category": texts, "text": texts, "lon": X0 + 0.005, "lat": Y0 + 0.005, "h3_cell": pd.NA,
    }, index=range(n))


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def _render(m) -> tuple[str, set[str]]:
    page = m.get_root().render()
    carried = set()
    for _, payload in page_payloads(page):
        carried.update(_strings(payload))
    return page, carried


def _check(page: str, carried: set[str], payloads) -> None:
    assert EVAL_RESULT not in page, "a template evaluated data"
    assert not os.path.exists(PWN_FILE), "a template ran code on the server"
    for p in payloads:
        if any(c in p for c in "<>{}`$\\\"'&\r\n\x00"):
            assert p not in page, f"payload {p!r} reached the page as markup or code"
        assert any(p in s for s in carried), f"payload {p!r} did not reach the map as data"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unit_map_carries_every_payload_as_data(lang):
    m = unit_map(_units(ALL), _places(ALL), level="grid", outlines=_units(ALL), lang=lang,
                      tickets=_tickets(ALL))
    page, carried = _render(m)
    _check(page, carried, ALL)


def test_hotspot_maps_carry_payloads_as_data():
    units = _units(ALL).assign(bin=[(i % 7) - 3 for i in range(len(ALL))], value=1.0)
    page, carried = _render(units_bins_map(units, "zh", places=_places(ALL), value_label=ALL[0]))
    _check(page, carried, ALL)
    table = pd.DataFrame({"where_type": "place", "where_id": [f"P{i}" for i in range(len(ALL))], "tickets": 3})
    page, carried = _render(class_of_cases_map(_places(ALL), table, "zh"))
    _check(page, carried, ALL)


def test_many_tickets_become_counts_without_text():
    import h3

    t = _tickets(ALL * 3)
    t["h3_cell"] = h3.str_to_int(h3.latlng_to_cell(Y0 + 0.005, X0 + 0.005, 10))
    m = unit_map(_units(["a"]))
    group = add_ticket_points(m, t, max_markers=5)
    page, carried = _render(m)
    assert group is not None and EVAL_RESULT not in page
    assert not any(p in s for p in ALL if len(p) > 3 for s in carried)


def test_st_folium_script_holds_no_payload():
    """streamlit-folium builds its script from each element's macro: the same data, the same safety."""
    from streamlit_folium import _get_map_string

    m = unit_map(_units(ALL), _places(ALL), level="grid", tickets=_tickets(ALL))
    m.render()
    script = _get_map_string(m)
    assert EVAL_RESULT not in script
    for p in ALL:
        if any(c in p for c in "<>{}`$\\"):
            assert p not in script


def test_runtime_builds_text_nodes_only():
    assert "innerHTML" not in RUNTIME_JS and "eval(" not in RUNTIME_JS and "insertAdjacentHTML" not in RUNTIME_JS
    assert "textContent" in RUNTIME_JS


def test_payload_alphabet_is_inert():
    data = encode_payload({"x": ALL})
    assert re.fullmatch(r"[A-Za-z0-9+/=]*", data)
    assert decode_payload(data) == {"x": ALL}


def test_data_layer_refuses_what_is_not_geojson():
    with pytest.raises(ValueError):
        DataLayer({"type": "Feature"})
    with pytest.raises(ValueError):
        DataLayer(feature_collection([]), point="marker")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=4))
def test_any_text_renders_and_round_trips(names):
    m = unit_map(_units(names), _places(names), tickets=_tickets(names))
    page, carried = _render(m)
    assert EVAL_RESULT not in page or any(EVAL_RESULT in n for n in names)
    for n in names:
        assert any(n in s for s in carried)
