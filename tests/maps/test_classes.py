"""Class breaks of choropleths: Fisher-Jenks, integer edges on counts, one decimal on rates, a legend per map."""

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from minqing.maps.choropleth import unit_map
from minqing.maps.classes import class_breaks, class_index, class_labels, color_for
from minqing.maps.layers import DataLegend
from minqing.report import unit_svg

# A dozen sub-districts: most around 300-420, two far above (the shape of the demo's October).
SUBDISTRICTS = [300, 310, 320, 323, 330, 340, 350, 385, 400, 420, 738, 3064]


def test_fisher_jenks_by_hand():
    # three obvious groups: {1, 2, 2, 3}, {10, 11}, {50}; edge 0 is one below the lowest value
    assert class_breaks([1, 2, 2, 3, 10, 11, 50], k=3) == [0.0, 3.0, 11.0, 50.0]
    assert [class_index(v, [0.0, 3.0, 11.0, 50.0]) for v in (1, 3, 4, 11, 12, 50)] == [0, 0, 1, 1, 2, 2]


def test_outliers_get_their_own_class():
    b = class_breaks(SUBDISTRICTS)
    # quantiles (the old rule) put 738 and 3,064 in the top sixth together
    q = np.quantile(SUBDISTRICTS, np.linspace(0, 1, 7))
    assert q[-2] < 738  # the top sixth starts at ~474: 738 and 3,064 shared one colour
    assert class_index(738, b) != class_index(3064, b)
    assert color_for(738, b) != color_for(3064, b)
    assert all(x.is_integer() for x in b) and all(np.diff(b) > 0)
    assert len({class_index(v, b) for v in SUBDISTRICTS}) == len(b) - 1  # no empty class


def test_integer_labels_for_counts():
    b = class_breaks(SUBDISTRICTS)
    labels = class_labels(b, "zh")
    assert labels[0].startswith("300–") and labels[-1] == "739–3,064"
    assert not any(".0" in x or ".5" in x for x in labels)
    # each class starts one above the previous class's top: 323–385 style, no overlap
    assert class_labels([322.0, 385.0, 738.0], "en") == ["323–385", "386–738"]


def test_rates_one_decimal_and_rounded_classes():
    b = class_breaks([1.04, 1.06, 2.33, 2.35, 7.9, 8.04, 15.5], k=3, decimals=1)
    assert b == [0.9, 2.4, 8.0, 15.5]
    assert class_labels(b, "zh", 1) == ["1.0–2.4", "2.5–8.0", "8.1–15.5"]
    assert class_index(2.44, b, 1) == 0  # shown as 2.4: classed as 2.4


def test_few_distinct_values_and_empty():
    assert class_breaks([]) == []
    assert class_breaks([5, 5, 5]) == [4.0, 5.0] and class_labels([4.0, 5.0]) == ["5"]
    assert class_breaks([1, 2]) == [0.0, 1.0, 2.0]
    assert color_for(float("nan"), [0.0, 1.0]) == "#eeeeee"


def _units(values):
    rows = [box(121.5 + i * 0.01, 31.3, 121.51 + i * 0.01, 31.31) for i in range(len(values))]
    return gpd.GeoDataFrame({"code": [f"U{i}" for i in range(len(values))], "name": [f"单元{i}" for i in range(len(values))],
                             "name_en": None, "population": 1000, "tickets": values,
                             "rate": np.asarray(values) / 1.0}, geometry=rows, crs=4326)


@pytest.mark.parametrize("measure", ["tickets", "rate"])
def test_unit_map_legend_shows_integer_ranges(measure):
    m = unit_map(_units(SUBDISTRICTS), measure=measure)
    legends = [c for c in m._children.values() if isinstance(c, DataLegend)]
    assert len(legends) == 1
    texts = [it["text"] for it in legends[0].items if it.get("swatch") and not it.get("round")]
    if measure == "tickets":
        assert texts[0].startswith("300–") and texts[-1] == "739–3,064"
        assert not any("." in x for x in texts)
    else:
        assert texts[0].startswith("300.0–")  # one decimal for rates


def test_report_svg_legend_integer():
    svg = unit_svg(_units(SUBDISTRICTS), "zh")
    assert "3,064</text>" in svg and "323.0" not in svg
