"""show_map sends the component what st_folium would, and builds a map once per view."""

from __future__ import annotations

import re

import folium
import streamlit_folium

from minqing.ui import mapview


def _map():
    m = folium.Map(location=[31.3, 121.5], zoom_start=13, tiles=None)
    folium.GeoJson({"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.5, 31.3]},
                    "properties": {"code": "G1"}}).add_to(m)
    return m


def _norm(args: dict) -> dict:
    """Folium names its objects with random ids: compare with those replaced."""
    out = {}
    for k, v in args.items():
        if k in ("on_change",):
            continue
        out[k] = re.sub(r"[0-9a-f]{32}", "ID", v) if isinstance(v, str) else v
    return out


def test_payload_is_what_st_folium_sends(monkeypatch):
    direct: dict = {}
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: direct.update(kw))
    streamlit_folium.st_folium(_map(), key="k", height=300, use_container_width=True,
                               returned_objects=["last_active_drawing"])
    monkeypatch.undo()
    captured = mapview._capture(_map, "k", 300, ("last_active_drawing",))
    assert streamlit_folium._component_func is mapview._COMPONENT  # restored after the capture
    assert set(captured) == set(direct) - {"on_change"}
    norm_direct, norm_captured = _norm(direct), _norm(captured)
    for k in norm_captured:
        if k != "key":  # the component key hashes the script, ids included
            assert norm_captured[k] == norm_direct[k], k


def test_built_once_per_view(monkeypatch):
    calls = []
    sent = []
    monkeypatch.setattr(mapview, "_COMPONENT", lambda **kw: sent.append(kw))

    def build():
        calls.append(1)
        return _map()

    mapview._payload.clear()
    for _ in range(3):
        mapview.show_map(build, ("view", 1), key="m1", height=300)
    mapview.show_map(build, ("view", 2), key="m1", height=300)
    assert len(calls) == 2  # one build per view, however many reruns
    assert sent[0]["script"] == sent[1]["script"] == sent[2]["script"]  # same strings: the browser keeps the map
    assert all(callable(kw["on_change"]) for kw in sent)
