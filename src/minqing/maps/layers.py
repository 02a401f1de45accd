"""Map layers that carry data as data: the one way any text from the store reaches a map.

folium compiles the output of every element it renders as a Jinja template a
second time (``branca.element.MacroElement.render`` wraps it in
``Element(...)``), and places popup and tooltip text inside JavaScript string
literals. Anything from a ticket, a place or a unit layer that went through a
folium ``Popup``, ``Tooltip``, ``GeoJsonTooltip`` or even a ``GeoJson``'s data
would therefore be evaluated on the server (``{{ ... }}``) or could break out
into script in the browser (`` ` ``, ``${...}``, ``</script>``).

Here the data never appears as text in the generated page at all: a layer's
GeoJSON and the legend's entries are serialised to JSON, encoded as base64
(alphabet ``A-Z a-z 0-9 + / =``, which holds neither template nor script
syntax) and decoded in the browser. Popups, tooltips and legend lines are
built there as DOM nodes whose text is set with ``textContent``, so no value is
ever parsed as HTML. Evaluation is impossible by construction, not escaped away.

Feature properties understood by :class:`DataLayer` (all optional):

``_style``
    Leaflet path options for this feature, merged over the layer's ``style``.
``_tip`` / ``_popup``
    Lines of text: a list whose items are strings or ``[text, bold]`` pairs.
``_r``
    For point features: the radius, in metres (``point="circle"``) or pixels
    (``point="circle_marker"``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Sequence

from branca.element import MacroElement, Template
from folium.map import Layer

POINT_KINDS = ("circle", "circle_marker")


def encode_payload(obj) -> str:
    """Return ``obj`` as base64-encoded UTF-8 JSON, safe to place anywhere in HTML or script.

    Examples
    --------
    >>> encode_payload({"a": "{{7*7}}"})
    'eyJhIjogInt7Nyo3fX0ifQ=='
    """
    raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default)
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


def decode_payload(data: str):
    """Return the object :func:`encode_payload` encoded (for tests and debugging)."""
    return json.loads(base64.b64decode(data.encode("ascii")).decode("utf-8"))


_PAYLOAD_CALL = re.compile(r'minqing(DataLayer|Legend|Controls)\("([A-Za-z0-9+/=]*)"')


def page_payloads(page: str) -> list[tuple[str, dict]]:
    """Return the (kind, payload) of every data layer and legend in a rendered map page.

    ``kind`` is ``"DataLayer"`` (payload ``{"data": FeatureCollection, "options": ...}``),
    ``"Legend"`` (payload ``{"items": [...]}``) or ``"Controls"`` (see :class:`MapControls`).
    For tests and debugging: what the browser will draw.
    """
    return [(kind, decode_payload(data)) for kind, data in _PAYLOAD_CALL.findall(page)]


def _json_default(value):
    try:  # numpy scalars
        return value.item()
    except AttributeError:
        return str(value)


def text_lines(*lines) -> list:
    """Return tooltip or popup lines: each a string, or ``(text, True)`` for a bold line; blanks dropped."""
    out = []
    for line in lines:
        if isinstance(line, tuple):
            text, bold = line
            if text is not None and str(text) != "":
                out.append([str(text), bool(bold)])
        elif line is not None and str(line) != "":
            out.append(str(line))
    return out


def labelled_lines(pairs: Iterable[tuple[str, object]], sep: str = "：") -> list:
    """Return lines ``label：value`` for a tooltip, from (label, value) pairs."""
    return [f"{label}{sep}{'' if value is None else value}" for label, value in pairs]


# The script is fixed text. Only names folium generates and base64 go into it.

# One copy per page: builds a GeoJSON layer whose text is set with textContent.
RUNTIME_JS = r"""
(function () {
  if (window.minqingDataLayer) { return; }
  function decode(data) {
    var bin = atob(data), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    return JSON.parse(new TextDecoder("utf-8").decode(bytes));
  }
  function box(lines, cls) {
    var div = document.createElement("div");
    div.className = cls;
    (lines || []).forEach(function (line, i) {
      if (i) { div.appendChild(document.createElement("br")); }
      var bold = Array.isArray(line) && line[1];
      var node = document.createElement(bold ? "b" : "span");
      node.textContent = String(Array.isArray(line) ? line[0] : line);
      div.appendChild(node);
    });
    return div;
  }
  function merge(a, b) {
    var out = {}, k;
    for (k in (a || {})) { out[k] = a[k]; }
    for (k in (b || {})) { out[k] = b[k]; }
    return out;
  }
  window.minqingDecode = decode;
  window.minqingBox = box;
  window.minqingDataLayer = function (data) {
    var p = decode(data), o = p.options;
    var layer = L.geoJson(p.data, {
      interactive: o.interactive,
      style: function (f) { return merge(o.style, f.properties && f.properties._style); },
      pointToLayer: function (f, latlng) {
        var st = merge(o.style, f.properties && f.properties._style);
        var r = f.properties && f.properties._r;
        if (o.point === "circle") { st.radius = r || 50; return L.circle(latlng, st); }
        st.radius = r || 5;
        return L.circleMarker(latlng, st);
      },
      onEachFeature: function (f, l) {
        var props = f.properties || {};
        if (props._tip && o.interactive) {
          l.bindTooltip(function () { return box(props._tip, "minqing-tip"); }, {sticky: o.sticky});
        }
        if (props._label) {  // a permanent label (a projector has no pointer): name and count, a rank
          var lab = box(props._label, "minqing-label");
          lab.style.cssText = "font-size:" + (o.label_px || 15) + "px;font-weight:600;text-align:center;line-height:1.25;";
          l.bindTooltip(lab, {permanent: true, direction: "center", className: "minqing-label", opacity: 0.92,
                              interactive: false});
        }
        if (props._popup && o.interactive) {
          l.bindPopup(function () { return box(props._popup, "minqing-popup"); }, {maxWidth: 320});
        }
        if (o.highlight && o.interactive && l.setStyle) {
          l.on("mouseover", function () { l.setStyle(o.highlight); });
          l.on("mouseout", function () { layer.resetStyle(l); });
        }
      }
    });
    return layer;
  };
  window.minqingLegend = function (data) {
    var p = decode(data);
    var control = L.control({position: "bottomleft"});
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "minqing-legend");
      div.style.cssText = "background: rgba(255,255,255,0.95); padding: 8px 10px; border: 1px solid #999;" +
        "border-radius: 4px; font: 13px/1.4 'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif;";
      p.items.forEach(function (item) {
        var row = document.createElement("div");
        if (item.swatch) {
          var sw = document.createElement("i");
          sw.style.cssText = "display:inline-block;width:14px;height:14px;margin-right:6px;vertical-align:middle;" +
            "border:1px solid #777;" + (item.round ? "border-radius:7px;" : "");
          sw.style.background = item.swatch;
          row.appendChild(sw);
        }
        var text = document.createElement(item.bold ? "b" : "span");
        text.textContent = String(item.text);
        row.appendChild(text);
        div.appendChild(row);
      });
      return div;
    };
    return control;
  };
  window.minqingControls = function (data, map) {
    var p = decode(data);
    L.control.scale(p.scale).addTo(map);
    var z = map.zoomControl;
    [[z && z._zoomInButton, p.zoom_in], [z && z._zoomOutButton, p.zoom_out]].forEach(function (b) {
      if (b[0]) { b[0].setAttribute("title", String(b[1])); b[0].setAttribute("aria-label", String(b[1])); }
    });
  };
})();
"""
# The runtime is repeated in each element's script (it defines itself once): streamlit-folium
# evaluates each element's script on its own, so it must not depend on the page header.
# It holds no Jinja delimiters, so folium's second template pass leaves it as it is.
assert not any(d in RUNTIME_JS for d in ("{{", "{%", "{#", "}}", "%}", "#}"))

_LAYER_JS = (
    "{% macro script(this, kwargs) %}" + RUNTIME_JS
    + 'var {{ this.get_name() }} = minqingDataLayer("{{ this.payload }}");\n{% endmacro %}'
)


class DataLayer(Layer):
    """A GeoJSON layer whose properties, tooltips and popups are data, never markup or code.

    Parameters
    ----------
    data : dict
        A GeoJSON FeatureCollection (EPSG:4326, already in display coordinates).
    name : str, optional
        The layer's name in the layer control (one of our own labels).
    style : dict, optional
        Leaflet path options for every feature; a feature's ``_style`` wins.
    highlight : dict, optional
        Path options applied while the pointer is over a feature.
    interactive : bool
        False lets clicks pass through to the layer below.
    point : {"circle", "circle_marker"}
        How point features are drawn: circles of ``_r`` metres, or markers of ``_r`` pixels.
    sticky : bool
        Whether tooltips follow the pointer.
    control : bool
        Whether the layer is listed in the layer control.
    label_px : int
        Font size of permanent labels (a feature's ``_label`` lines, shown without hovering).
    """

    _template = Template(_LAYER_JS)

    def __init__(self, data: dict, name: str | None = None, *, style: dict | None = None,
                 highlight: dict | None = None, interactive: bool = True, point: str = "circle_marker",
                 sticky: bool = True, control: bool = True, show: bool = True, label_px: int = 15):
        if point not in POINT_KINDS:
            raise ValueError(f"point must be one of {POINT_KINDS}, got {point!r}")
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            raise ValueError("data must be a GeoJSON FeatureCollection dict")
        super().__init__(name=name, overlay=True, control=control, show=show)
        self._name = "DataLayer"
        self.payload = encode_payload({
            "data": data,
            "options": {"style": style or {}, "highlight": highlight, "interactive": bool(interactive),
                        "point": point, "sticky": bool(sticky), "label_px": int(label_px)},
        })


_LEGEND_JS = (
    "{% macro script(this, kwargs) %}" + RUNTIME_JS
    + 'minqingLegend("{{ this.payload }}").addTo({{ this._parent.get_name() }});\n{% endmacro %}'
)


class DataLegend(MacroElement):
    """A legend box whose lines are set with ``textContent``.

    Parameters
    ----------
    items : sequence of dict
        Each ``{"text": str, "swatch": css colour or None, "bold": bool, "round": bool}``.
    """

    _template = Template(_LEGEND_JS)

    def __init__(self, items: Sequence[dict]):
        super().__init__()
        self._name = "DataLegend"
        self.items = [dict(it) for it in items]
        for it in self.items:
            if it.get("swatch") is not None and not _is_colour(it["swatch"]):
                raise ValueError(f"legend swatch must be a #rrggbb colour, got {it['swatch']!r}")
        self.payload = encode_payload({"items": self.items})


_CONTROLS_JS = (
    "{% macro script(this, kwargs) %}" + RUNTIME_JS
    + 'minqingControls("{{ this.payload }}", {{ this._parent.get_name() }});\n{% endmacro %}'
)


class MapControls(MacroElement):
    """A metric-only scale bar (no miles) and zoom buttons titled in the user's language.

    Parameters
    ----------
    zoom_in, zoom_out : str
        The zoom buttons' titles (their tooltips).
    position : str
        Where the scale bar sits: bottom right, away from the legend (bottom left).
    """

    _template = Template(_CONTROLS_JS)

    def __init__(self, zoom_in: str, zoom_out: str, position: str = "bottomright"):
        super().__init__()
        self._name = "MapControls"
        self.payload = encode_payload({"scale": {"metric": True, "imperial": False, "position": position},
                                       "zoom_in": zoom_in, "zoom_out": zoom_out})


def _is_colour(value) -> bool:
    s = str(value)
    return len(s) in (4, 7) and s[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in s[1:])


def feature_collection(features: list[dict]) -> dict:
    """Return a GeoJSON FeatureCollection of ``features``."""
    return {"type": "FeatureCollection", "features": features}


_STEADY_JS = (
    "{% macro script(this, kwargs) %}\n"
    "(function (map) {\n"
    "  var kb = map.keyboard;\n"
    "  if (!kb || !kb._onMouseDown) { return; }\n"
    "  L.DomEvent.off(map.getContainer(), 'mousedown', kb._onMouseDown, kb);\n"
    "  kb._onMouseDown = function () {\n"
    "    if (!this._focused) { this._map.getContainer().focus({preventScroll: true}); }\n"
    "  };\n"
    "  L.DomEvent.on(map.getContainer(), 'mousedown', kb._onMouseDown, kb);\n"
    "})({{ this._parent.get_name() }});\n"
    "{% endmacro %}"
)


class SteadyFocus(MacroElement):
    """Keep the page still when a map is pressed, so a click lands where it was aimed.

    Leaflet focuses its container on mousedown (for the arrow keys) and restores the scroll of
    its own frame only. Inside Streamlit's component frame, focusing scrolls the *page* to bring
    the frame into view when the map is partly below the fold: between mousedown and mouseup the
    map moves under the pointer and the click selects another unit (seen: clicked 长白新村街道,
    got 定海路街道). Focusing with ``preventScroll`` keeps the keyboard and the aim.
    """

    _template = Template(_STEADY_JS)

    def __init__(self):
        super().__init__()
        self._name = "SteadyFocus"
