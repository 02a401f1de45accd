"""The Hotspots maps draw what matters: emerging classes per cell, a class of cases' places by count."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
from conftest import X0, Y0
from shapely.geometry import LineString, Point, box

from minqing.i18n import t
from minqing.maps.classes import PALETTE, class_breaks, class_labels, color_for
from minqing.maps.hotspots import EMERGING_COLORS, class_of_cases_map, emerging_map
from minqing.maps.layers import page_payloads


def _payloads(m):
    page = m.get_root().render()
    got = page_payloads(page)
    return page, [p for k, p in got if k == "DataLayer"], [p for k, p in got if k == "Legend"]


def _cell(i, res=9):
    return np.int64(np.uint64(h3.str_to_int(h3.latlng_to_cell(Y0 + 0.004 * i, X0 + 0.004 * i, res))))


def _emerging_frame():
    classes = ["intensifying", "new", "no_pattern", "persistent_cold", "no_pattern"]
    return pd.DataFrame({"cell": [_cell(i) for i in range(5)], "class": classes, "hot_steps": [22, 1, 0, 0, 3],
                         "cold_steps": [0, 0, 0, 23, 1], "tickets": [340, 12, 5, 0, 9],
                         "where": ["定海第1社区第1网格", "军工路社区第2网格", "x", "y", "z"]})


def test_emerging_map_colours_cells_by_class_and_leaves_out_no_pattern():
    for lang in ("zh", "en"):
        _, layers, legends = _payloads(emerging_map(_emerging_frame(), lang))
        feats = [f for layer in layers for f in layer["data"]["features"]]
        assert len(feats) == 3  # the two cells with no pattern are not drawn
        fills = [f["properties"]["_style"]["fillColor"] for f in feats]
        assert fills == [EMERGING_COLORS[k] for k in ("intensifying", "new", "persistent_cold")]
        assert len(set(fills)) == 3
        tip = feats[0]["properties"]["_tip"]
        text = " ".join(x if isinstance(x, str) else x[0] for x in tip)
        assert t("hotspots.class_intensifying", lang) in text and "定海第1社区第1网格" in text
        assert "340" in text and "22" in text  # the counts: tickets, hot months
        lines = [it["text"] for it in legends[0]["items"]]
        assert lines[0] == t("emerging_map.legend_title", lang)
        # one line per class drawn, in the user's language, in the catalog's order
        assert lines[1:] == [t(f"hotspots.class_{k}", lang) for k in ("new", "intensifying", "persistent_cold")]
        assert t("hotspots.class_no_pattern", lang) not in lines


def test_emerging_map_html_grows_only_with_the_cells_drawn():
    f = _emerging_frame()
    many = pd.concat([f] + [f.assign(cell=[_cell(10 + 5 * j + i) for i in range(5)], **{"class": "no_pattern"})
                            for j in range(40)], ignore_index=True)
    small, _, _ = _payloads(emerging_map(f))
    big, _, _ = _payloads(emerging_map(many))
    assert abs(len(big) - len(small)) < 500  # 200 cells with no pattern add nothing


def _places():
    return gpd.GeoDataFrame({
        "place_id": ["H1", "R1", "P1", "R2"], "kind": ["hospital_entrance", "road_stretch", "compound", "road_stretch"],
        "name": ["测试医院门口", "测试路段", "测试小区", "无关路段"], "name_en": ["H", "R", "P", "R2"],
        "radius_m": [80.0, None, None, None]},
        geometry=[Point(X0 + 0.005, Y0 + 0.005), LineString([(X0 + 0.011, Y0 + 0.005), (X0 + 0.019, Y0 + 0.005)]),
                  box(X0 + 0.002, Y0 + 0.012, X0 + 0.004, Y0 + 0.014),
                  LineString([(X0, Y0), (X0 + 0.001, Y0)])], crs=4326)


def test_class_of_cases_map_draws_the_places_coloured_by_count_over_faint_cells():
    table = pd.DataFrame({"where_type": ["place", "place", "cell", "place"],
                          "where_id": ["R1", "H1", _cell(3), "P1"], "tickets": [40, 12, 5, 3],
                          "months": [9, 5, 2, 2]})
    _, layers, legends = _payloads(class_of_cases_map(_places(), table, "zh"))
    assert len(layers) == 2  # the cells underneath, the places on top
    cell_layer, place_layer = layers
    cells, places = cell_layer["data"]["features"], place_layer["data"]["features"]
    breaks = class_breaks(table["tickets"])
    road = [f for f in places if f["geometry"]["type"] == "LineString"]
    assert len(road) == 2  # the stretch where the category recurs (R2 has none: not drawn) and its casing
    widths = sorted(f["properties"]["_style"]["weight"] for f in road)
    assert widths[0] >= 6 and widths[-1] > widths[0]  # a thick line on a darker casing
    top = next(f for f in road if f["properties"]["_style"]["weight"] == widths[0])  # the casing is wider
    assert top["properties"]["_style"]["color"] == color_for(40, breaks) == PALETTE[-1]
    fills = {f["geometry"]["type"]: f["properties"]["_style"].get("fillColor") for f in places}
    assert fills["Point"] == color_for(12, breaks) and fills["Polygon"] == color_for(3, breaks)
    # the cells are faint: thinner, lighter than every place
    assert cell_layer["options"]["style"]["fillOpacity"] <= 0.35
    assert all(f["properties"]["_style"].get("fillOpacity", 1) >= 0.8 for f in places if "fillColor" in
               f["properties"]["_style"])
    assert len(cells) == 1
    tip = " ".join(x if isinstance(x, str) else x[0] for x in top["properties"]["_tip"])
    assert "测试路段" in tip and "40" in tip and "9" in tip
    lines = [it["text"] for it in legends[0]["items"]]
    assert lines[0] == t("class_map.legend_title", "zh")
    assert class_labels(breaks, "zh")[-1] in lines and t("class_map.legend_cells", "zh") in lines
