"""The effects and interventions pages render on the demo store without errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from minqing.i18n import t


@pytest.mark.parametrize("view", ["effects", "interventions"])
def test_page_renders(view, demo_store_url, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)
    from minqing.auth import User

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "views" / f"{view}.py"), default_timeout=60)
    at.session_state["user"] = User("planner", name="t_planner")  # a page run on its own: the user app.py sets
    at.run()
    assert not at.exception, at.exception
    assert at.title


def test_effects_page_shows_the_place_time_line_and_methods(demo_store_url, monkeypatch):
    """The hospital entrance: both interventions on one time line; the methods the history allowed."""
    import json

    from minqing.auth import User
    from minqing.i18n import t
    from minqing.store import open_store

    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)
    with open_store(demo_store_url) as store:
        truth = json.loads(Path(store.get_meta("demo_truth")).read_text(encoding="utf-8"))
    stories = truth["stories"] if "stories" in truth else truth
    first, meeting = stories["a_hospital_entrance"]["interventions"][:2]
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "views" / "effects.py"), default_timeout=90)
    at.session_state["user"] = User("planner", name="t_planner")
    at.run()
    at.selectbox(key="effects_iv").set_value(int(first)).run()
    assert not at.exception, at.exception
    assert t("effects.timeline", "zh") in [s.value for s in at.subheader]
    texts = " ".join(m.value for m in at.markdown)
    assert t("effects.methods_title", "zh") in texts
    assert "周" in " ".join(str(c.value) for c in at.markdown)  # judged in weeks, said so
    frames = [d.value for d in at.dataframe]
    methods = next(f for f in frames if t("effects.method_did", "zh") in set(f.iloc[:, 0]))
    assert len(methods) == 5


def test_before_after_maps_are_never_shared_between_viewers(demo_store_url):
    """A folium map rendered twice stays blank for the second viewer: every run gets its own."""
    from minqing.store import open_store
    from minqing.ui.cache import effects as di

    with open_store(demo_store_url) as store:
        iid = int(di.interventions(store.url, store.data_version())["intervention_id"].iloc[-1])
        version = store.data_version()
    a = di.window_maps(demo_store_url, version, iid, 150, "zh")
    b = di.window_maps(demo_store_url, version, iid, 150, "zh")
    assert a[0] is not b[0] and a[1] is not b[1]
    assert a[0].get_root().render() and b[0].get_root().render()  # both render in full


def test_before_after_maps_have_one_legend_on_one_scale(demo_store_url):
    """Both windows' hexagons are classed on one Fisher-Jenks scale, and each map says what the colours mean."""
    from minqing.maps.layers import DataLegend
    from minqing.store import open_store
    from minqing.ui.cache import effects as di

    with open_store(demo_store_url) as store:
        iid = int(di.interventions(store.url, store.data_version())["intervention_id"].iloc[-1])
        version = store.data_version()
    maps = di.window_maps(demo_store_url, version, iid, 150, "zh")
    legends = [[c for c in m._children.values() if isinstance(c, DataLegend)] for m in maps]
    assert [len(x) for x in legends] == [1, 1]
    assert legends[0][0].items == legends[1][0].items  # the same classes before and after
    assert legends[0][0].items[0]["text"] == t("effects.map_legend", "zh")


def test_effects_text_comes_from_the_numbers(demo_store_url, monkeypatch):
    """No fixed claim that 12345 fell: the sentence is generated; the ring keeps its width and interval;
    the series are indexed so pooled controls and the target share one honest axis."""
    import json

    from minqing.auth import User

    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "views" / "effects.py"), default_timeout=90)
    at.session_state["user"] = User("planner", name="t_planner")
    at.run()
    assert not at.exception, at.exception
    texts = " ".join(m.value for m in at.markdown)
    assert "12345热线每30天" in texts and "95% 区间" in texts
    captions = [c.value for c in at.caption]
    assert not any("说明治理在起作用" in c for c in captions)  # the old fixed claim
    spill = [m for m in at.metric if m.label.startswith("外溢环带")]
    if spill:  # a ring was evaluated
        assert spill[0].label == t("effects.spillover", "zh", ring=150)
        assert any(c.startswith("95% 区间") for c in captions)
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    layers = json.dumps(spec, ensure_ascii=False)
    assert '"field": "index"' in layers and t("effects.index_axis", "zh") in layers
