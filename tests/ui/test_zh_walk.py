"""Walk every page as every role and read what a person sees: no English (or raw ids) in the Chinese UI.

Each role signs in, opens each page it may open and does the page's main interactions (tabs, a
selected intervention, a ticket's detail, the map drill-down ``?sd=&cm=&g=``, an upload preview).
The walk collects the visible text of every element AppTest exposes, the text Streamlit's
frontend adds on its own when we give it nothing (placeholders, the uploader's labels), the text
of every chart spec, and the text of every folium map (legend, layer names, tooltips, popups,
scale bar), and fails on Latin words in the Chinese UI.

What is allowed, and why (``ALLOWED`` and the rules beside it):

* proper names, standards and formats people use as they are: H3, KPI, CSV, XLSX, PDF, HTML, TOML,
  JSON, GeoJSON, Open311, Excel, WPS, UTF-8, GCJ-02, WGS-84, BD-09, GPS, OpenStreetMap, AMap,
  Leaflet, Esri; statistics by their names and symbols: Gi* (Getis-Ord), FDR, Mann-Kendall, Fisher-Jenks,
  z (as in z 值), p (as in p < 0.05); QR (as in QR code);
* units: km, m, MB;
* "English" / "中文" in the language switch (each language named in its own language);
* `code spans`: commands, environment variables and file names a person types as they are
  (`minqing demo`, `MINQING_DATABASE_URL`, `.streamlit/secrets.toml`);
* data, not UI (``data_words``): what came from the city's files or from people, shown as it is —
  ticket numbers, text and addresses, unit, place and intervention names, account names (also as
  the actor of an audit row), what an audit row acted on (an account, a file name), imported file names, the store's address on the settings page, and
  the IANA time-zone names of the settings page's list (standard identifiers, as the city's clock
  is set; an administrator's choice);
* ids only beside a readable name: an H3 cell or a place code (``HOSP-13``) in parentheses after
  its name or coordinates (``安图医院门口（HOSP-13）``), or in a column headed as an id (``H3 编号``,
  ``点位编号``) beside a column that names the place.

Besides words, the walk fails on raw numbers (``163.9459``, ``nan``, float columns with more than
two decimals and no display format), on missing values a table would draw as "None", on Vega-Lite
fields without a title (the chart would show the field name) and time axes without a Chinese
format (d3 names the months in English), and on the few Chinese words that say the wrong thing
(``MISLEADING``).

The English walk (the planner, who sees nearly every page) mirrors the check for Chinese
characters: data may be Chinese (names, ticket text, the headers of an uploaded file); labels may not.

Not seen by AppTest, so not checked here: what Streamlit's frontend draws by itself beyond the
placeholders and the uploader (the date picker's calendar, the table toolbar's tooltips, the
uploader's drag-and-drop overlay) and Leaflet's attribution link ("Leaflet", allowed anyway).
"""

from __future__ import annotations

import html.parser
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import busiest_grid, sign_in
from streamlit.testing.v1 import AppTest

from minqing.maps.layers import page_payloads
from minqing.ui.nav import allowed_pages

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")

ALLOWED = {
    "H3", "KPI", "CSV", "XLSX", "PDF", "HTML", "TOML", "Excel", "WPS", "UTF-8", "GCJ-02", "WGS-84", "BD-09",
    "JSON", "GeoJSON", "Open311", "GPS", "OpenStreetMap", "AMap", "Leaflet", "Gi*", "FDR", "QR", "Mann-Kendall",
    "Esri", "z", "p", "Fisher-Jenks", "km", "m", "MB",
    "English",  # the language switch names each language in its own language
}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_*]*(?:-[A-Za-z0-9_]+)*")
CJK = re.compile(r"[\u3400-\u9fff]+")
ID = re.compile(r"^(?:[0-9a-f]{15}|[A-Z]{2,6}-\d{2,4})$")  # an H3 cell, a place code
SECONDARY_ID = re.compile(r"[（(](?:H3 )?(?:[0-9a-f]{15}|[A-Z]{2,6}-\d{2,4})[）)]")  # "安图医院门口（HOSP-13）"
ID_HEADERS = ("编号", "code", " id", "ID")  # a column of ids, shown beside a readable name
CJK_ALLOWED = {"中文"}  # the language switch names each language in its own language
# Chinese words that say the wrong thing (found by users): a test for the words, not only the script.
MISLEADING = {"技能": "forecast skill: say in plain words how much better than the simple guess",
              "未诉先办预测": "未诉先办 is proactive handling, not a forecast"}
RAW_FLOAT = re.compile(r"(?<![\d.])\d+\.\d{3,}(?![\d°])|\bnan\b|\bNaN\b")
# Streamlit's frontend adds these when a widget is given no text of ours (checked in 1.67's bundle).
SELECT_PLACEHOLDER = "Choose an option"
MULTI_PLACEHOLDER = "Choose options"
UPLOADER_TEXT = "Upload · 200MB per file"
UPLOADER_OVERRIDE = "mq-uploader-zh"  # the marker of our override (components.uploader_text)


# --------------------------------------------------------------------------
# Reading what is on screen
# --------------------------------------------------------------------------


class _Text(html.parser.HTMLParser):
    """The text nodes of an HTML fragment (no script, no style)."""

    def __init__(self):
        super().__init__()
        self.out, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.out.append(data.strip())


def html_text(body: str) -> list[str]:
    p = _Text()
    p.feed(body)
    return p.out


def _nodes(node):
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _nodes(child)


class Screen:
    """Everything the walk saw: (where, text) pairs, and findings that are not words."""

    def __init__(self):
        self.texts: list[tuple[str, str]] = []
        self.problems: list[str] = []
        self.lang = "zh"

    def add(self, where: str, *texts) -> None:
        for text in texts:
            if text is None:
                continue
            text = str(text)
            if text.strip():
                self.texts.append((where, text))

    def read(self, at: AppTest, where: str) -> None:
        """Read every element of ``at``'s last run."""
        assert not at.exception, (where, [e.message for e in at.exception])
        bodies = [str(h.proto.body) for h in at.get("html")]
        overridden = any(UPLOADER_OVERRIDE in b for b in bodies)
        for node in _nodes(at._tree):
            kind = getattr(node, "type", "")
            w = f"{where} [{kind}]"
            if kind in ("text", "code"):  # shown as it is
                self.add(w, node.value)
            elif kind in ("markdown", "caption", "title", "header", "subheader", "latex",
                          "error", "warning", "info", "success", "toast"):
                self.add(w, _markdown_text(node.value))
            elif kind == "metric":
                self.add(w, node.label, node.value, node.proto.delta, node.proto.help)
            elif kind == "dataframe":
                self._frame(w, node.value, node.proto.placeholder, _formats(node.proto.columns))
            elif kind in ("selectbox", "radio", "multiselect", "select_slider"):
                self.add(w, node.label, node.help, *node.options)
                if kind == "selectbox" and node.value is None and not node.proto.placeholder:
                    self.add(w, SELECT_PLACEHOLDER)
                if kind == "multiselect" and not node.proto.placeholder:
                    self.add(w, MULTI_PLACEHOLDER)
                if kind in ("selectbox", "multiselect") and node.proto.placeholder.strip():
                    self.add(w, node.proto.placeholder)
            elif kind in ("button", "download_button", "checkbox", "toggle", "text_input", "text_area",
                          "number_input", "date_input", "time_input", "color_picker", "slider"):
                self.add(w, getattr(node, "label", None), getattr(node.proto, "help", None),
                         getattr(node.proto, "placeholder", None))
            elif kind == "file_uploader":
                self.add(w, node.label, node.proto.help)
                if not overridden:
                    self.add(w, UPLOADER_TEXT)
            elif kind == "html":
                self.add(w, *html_text(str(node.proto.body)))
            elif kind in ("vega_lite_chart", "arrow_vega_lite_chart"):
                self._chart(w, node.proto)
            elif kind == "component_instance":
                self._map(f"{where} [map]", node.proto.json_args)
            elif kind in ("tab", "expander", "status"):
                self.add(w, node.label)
            elif kind == "progress":
                self.add(w, node.proto.text)

    def _frame(self, where: str, frame, placeholder: str = "", formats: dict | None = None) -> None:
        if not isinstance(frame, pd.DataFrame):
            return
        self.add(where, *[str(c) for c in frame.columns])
        id_cols = [c for c in frame.columns if any(h in str(c) for h in ID_HEADERS)]
        for col in frame.columns:
            values = frame[col]
            if values.isna().any() and not placeholder:
                self.add(f"{where} column {col!r}", "None")  # st.dataframe draws a missing value as "None"
            if pd.api.types.is_float_dtype(values) and not (formats or {}).get(str(col)):  # no display format
                v = values.dropna().to_numpy()
                if len(v) and (abs(v * 100 - (v * 100).round()) > 1e-6).any():
                    self.problems.append(f"{where}: raw floats in {col!r}: {v[:3].tolist()}")
            elif values.dtype == object or pd.api.types.is_string_dtype(values):
                for v in values.dropna().unique()[:2000]:
                    s = str(v)
                    if col in id_cols and ID.match(s):
                        continue  # a secondary id column (checked below: there is a readable one beside it)
                    self.add(f"{where} column {col!r}", s)
        if id_cols and len(frame.columns) == len(id_cols):
            self.problems.append(f"{where}: an id column with nothing readable beside it")

    def _chart(self, where: str, proto) -> None:
        spec = json.loads(proto.spec)
        for title in _find(spec, "title"):
            if isinstance(title, str):
                self.add(where, title)
        for channel, enc in _encodings(spec):
            field, typ = enc.get("field"), enc.get("type")
            if field and "title" not in enc and channel in TITLED:
                self.add(f"{where} untitled {channel}", field)  # Vega-Lite titles an axis with the field name
            if typ == "temporal" and channel in TITLED and self.lang == "zh":
                fmt = (enc.get("axis") or {}).get("format") or enc.get("format") or ""
                label = (enc.get("axis") or {}).get("labelExpr")
                if not label and (not fmt or re.search(r"%[-_0]?[bBaA]", fmt)):
                    self.add(f"{where} time axis {field!r}", "January")  # d3's default month names

    def _map(self, where: str, json_args: str) -> None:
        args = json.loads(json_args)
        page = "\n".join(str(args.get(k) or "") for k in ("script", "html", "layer_control", "feature_group"))
        controls = []
        for kind, payload in page_payloads(page):
            if kind == "Legend":
                self.add(f"{where} legend", *[it.get("text") for it in payload["items"]])
            elif kind == "Controls":
                controls.append(payload)
                self.add(f"{where} zoom buttons", payload["zoom_in"], payload["zoom_out"])
                if payload["scale"].get("imperial", True):
                    self.add(f"{where} scale bar", "1 mi")
            else:
                for f in payload["data"]["features"]:
                    props = f.get("properties") or {}
                    for key in ("_tip", "_popup"):
                        for line in props.get(key) or []:
                            self.add(f"{where} {key}", line[0] if isinstance(line, list) else line)
        for block in re.findall(r"overlays\s*:\s*\{(.*?)\}", page, flags=re.DOTALL):
            names = re.findall(r'("(?:[^"\\]|\\.)*")\s*:', block)
            self.add(f"{where} layer control", *[json.loads(n) for n in names])
        if re.search(r"L\.control\.scale\(\)", page):  # folium's control_scale: metres and miles
            self.add(f"{where} scale bar", "1 mi")
        if not controls:
            self.add(f"{where} zoom buttons", "Zoom in", "Zoom out")  # Leaflet's own button titles

    # --- checks -----------------------------------------------------------

    def latin(self, data: set[str]) -> list[tuple[str, str, str]]:
        """Return (where, word, text) of every Latin word that is neither allowed nor data."""
        out = []
        for where, text in self.texts:
            for bad in MISLEADING:
                if bad in text:
                    out.append((where, bad, text[:120]))
            for word in WORD.findall(SECONDARY_ID.sub(" ", _code(text))):
                if word not in ALLOWED and word not in data:
                    out.append((where, word, text[:120]))
            if RAW_FLOAT.search(text):
                out.append((where, RAW_FLOAT.search(text).group(0), text[:120]))
        return out

    def cjk(self, data: set[str]) -> list[tuple[str, str, str]]:
        """Return (where, run, text) of every run of Chinese characters that is not data."""
        out = []
        for where, text in self.texts:
            if text in data:
                continue
            rest = _strip_data(text, data)
            for run in CJK.findall(rest):
                if run not in data and run not in CJK_ALLOWED:
                    out.append((where, run, text[:120]))
        return out


def _strip_data(text: str, data: set[str]) -> str:
    """``text`` without the data strings inside it (a name in a heading, a ticket's text in its detail)."""
    label, sep, value = text.partition("：")
    if sep and value.strip() in data:  # "诉求内容：<the ticket's text>"
        return label
    names = _names_pattern(frozenset(d for d in data if len(d) <= 40))
    text = names.sub(" ", text)
    for part in re.split(r"[：:\n]| · |、| > ", text):
        part = part.strip().strip("*")
        if part in data:
            text = text.replace(part, " ")
    return text


_PATTERNS: dict = {}


def _names_pattern(names: frozenset):
    if names not in _PATTERNS:
        _PATTERNS.clear()
        _PATTERNS[names] = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True) if n))
    return _PATTERNS[names]


def _code(text: str) -> str:
    """``text`` without `code spans`: commands, file names and settings a person types as they are."""
    return re.sub(r"`[^`]*`", " ", text)


def _markdown_text(value: str) -> str:
    value = re.sub(r"\]\([^)]*\)", "]", str(value))  # link targets are not shown
    value = re.sub(r"\\(.)", r"\1", value.replace("**", " "))  # emphasis and escapes are not shown
    return re.sub(r":material/[a-z_]+:", " ", value)


def _formats(columns: str) -> dict:
    """Column name -> the number format its column config gives (shown formatted, e.g. as a percentage)."""
    try:
        config = json.loads(columns or "{}")
    except ValueError:
        return {}
    out = {}
    for name, c in config.items():
        fmt = (c.get("type_config") or {}).get("format") if isinstance(c, dict) else None
        out[str(c.get("label", name)) if isinstance(c, dict) else name] = fmt
        out[name] = fmt
    return out


TITLED = ("x", "y", "x2", "y2", "color", "tooltip", "theta", "size", "shape", "opacity")


def _find(tree, key):
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k == key:
                yield v
            yield from _find(v, key)
    elif isinstance(tree, list):
        for v in tree:
            yield from _find(v, key)


def _encodings(spec):
    for enc in _find(spec, "encoding"):
        if isinstance(enc, dict):
            for channel, e in enc.items():
                items = e if isinstance(e, list) else [e]
                for item in items:
                    if isinstance(item, dict):
                        yield channel, item


# --------------------------------------------------------------------------
# The walk
# --------------------------------------------------------------------------


def _page(view: str) -> str:
    return str(ROOT / "views" / f"{view}.py")


def _open(at: AppTest, view: str, **query) -> AppTest:
    at.query_params.clear()
    at.query_params.update(query)
    at.switch_page(_page(view))
    return at.run()


def _csv() -> bytes:
    header = "工单编号,受理时间,诉求渠道,诉求类型,问题分类,诉求内容,诉求地址,经度,纬度\n"
    rows = "YPW0001,2026-10-20 09:15,12345热线,投诉,市政设施->路灯->路灯不亮,路灯不亮,长白路100号,121.5400,31.2950\n" \
           "YPW0002,2026-10-22,12345,投诉,噪声扰民,吵,,0,0\n"
    return (header + rows).encode("utf-8")


def walk(at: AppTest, screen: Screen, role: str, grid: str, url: str, lang: str) -> None:
    """Open every page ``role`` may open, with its main interactions, reading the screen each time."""
    from minqing.auth import User
    from minqing.store import open_store

    with open_store(url) as store:
        units = store.read_units()
        ivs, _ = store.read_interventions()
        linked = store.read_ticket_places()
    parent = dict(zip(units["code"], units["parent_code"]))
    cm = parent[grid]
    sd = parent[cm]
    screen.lang = lang
    at.query_params["lang"] = lang
    at.run()
    screen.read(at, "start")
    views = [v for v, _, _ in allowed_pages(User(role, (grid,) if role == "grid_leader" else ()))]
    for view in views:
        at = _open(at, view)
        screen.read(at, view)
        if view == "meeting":
            if role != "grid_leader":
                at.selectbox(key="meeting_sd").set_value(sd).run()
                screen.read(at, "meeting sd")
            at.selectbox(key="meeting_theme").set_value("04").run()
            screen.read(at, "meeting theme")
        elif view == "map":
            at.radio(key="overview_measure").set_value("tickets").run()
            screen.read(at, "map count")
            for query in ({"sd": sd}, {"sd": sd, "cm": cm}, {"sd": sd, "cm": cm, "g": grid}):
                screen.read(_open(at, "map", **query), f"map {query}")
        elif view == "hotspots":
            for tab in at.tabs:
                label = tab.label
                at.session_state["hs_tab"] = label
                at.run()
                screen.read(at, f"hotspots {label}")
                if any(r.key == "hs_fc_level" for r in at.radio):  # the forecast: by place, then by cell
                    at.radio(key="hs_fc_level").set_value("cell").run()
                    screen.read(at, f"hotspots {label} cells")
        elif view == "effects":
            for iid in ivs["intervention_id"].astype(int).tolist():
                box = at.selectbox(key="effects_iv")
                if iid in box.options or str(iid) in [o.split(" ")[0] for o in box.options]:
                    box.set_value(iid).run()
                    screen.read(at, f"effects {iid}")
        elif view == "tickets":
            box = at.selectbox(key="tickets_detail")
            ids = [o for o in box.options]
            with_place = [i for i in ids if i in set(linked["source_id"])] or ids
            box.set_value(with_place[0]).run()
            screen.read(at, "ticket detail")
        elif view == "import":
            at.file_uploader(key="import_file").set_value(("orders.csv", _csv(), "text/csv")).run()
            screen.read(at, "import preview")
            at.checkbox(key="import_dry").check().run()
            at.button(key="import_run").click().run()
            screen.read(at, "import dry run")


def data_words(url: str) -> tuple[set[str], set[str]]:
    """Return (Latin words, strings) that come from the data: shown as they are, not UI text."""
    from minqing.accounts import list_users
    from minqing.audit import read_audit
    from minqing.auth import ScopedStore, User
    from minqing.citytime import timezone_names
    from minqing.privacy import redact_url
    from minqing.store import open_store

    with open_store(url) as store:
        tickets = store.read_tickets()
        masked = ScopedStore(store, User("planner")).read_tickets()
        units = store.read_units()
        places = store.read_places()
        ivs, _ = store.read_interventions()
        audit = read_audit(store, limit=None)
        users = [a.name for a in list_users(store)] + audit["actor"].dropna().tolist()
        # what an audit row acted on: an account, an intervention, a file (an export's name, an import's)
        users += audit["target"].dropna().astype(str).tolist()
        files = [r["file"] for r in store.read_import_reports()]
    # the settings page names the store and lists the IANA time zones (standard identifiers, an admin's choice)
    strings: set[str] = set(users) | set(files) | set(timezone_names()) | {redact_url(url)}
    strings |= {"orders.csv", "YPW0001", "YPW0002", "长白路100号", "路灯不亮", "吵"}  # the file the walk uploads
    strings |= set(_csv().decode("utf-8").splitlines()[0].split(","))  # its column names
    for frame, cols in ((tickets, ("source_id", "text", "address", "handling_unit")), (units, ("name",)),
                        (places, ("name",)), (ivs, ("name", "description", "units_involved"))):
        for col in cols:
            if col in frame.columns:
                strings |= set(frame[col].dropna().astype(str))
    for col in ("text", "caller_name"):  # as most roles see them, masked
        strings |= set(masked[col].dropna().astype(str))
    words = {w for s in strings for w in WORD.findall(s)}
    return words, strings


def _summary(found, what: str) -> str:
    """``found`` by word: how often, and where it was first seen."""
    from collections import Counter

    counts = Counter(word for _, word, _ in found)
    first = {}
    for where, word, text in found:
        first.setdefault(word, (where, text))
    distinct = len({(where.split(" [")[0], word, text) for where, word, text in found})
    lines = [f"{sum(counts.values())} {what} ({distinct} distinct by page and text, {len(counts)} words):"]
    for word, n in counts.most_common(200):
        where, text = first[word]
        lines.append(f"  {n:4d} {word!r} e.g. in {text!r} — {where}")
    return "\n".join(lines) + "\n"


ROLES = ("admin", "planner", "grid_leader", "meeting")


def _walked(role: str, lang: str, url: str, accounts, monkeypatch) -> Screen:
    """The screen of ``role``'s walk over every page in ``lang``."""
    monkeypatch.setenv("MINQING_DATABASE_URL", url)
    name, grid = accounts[role]
    screen = Screen()
    at = sign_in(AppTest.from_file(APP, default_timeout=180), name)
    walk(at, screen, role, grid or busiest_grid(url), url, lang)
    return screen


@pytest.mark.parametrize("role", ROLES)
def test_chinese_ui_has_no_english(role, demo_store_url, ui_accounts, monkeypatch):
    screen = _walked(role, "zh", demo_store_url, ui_accounts, monkeypatch)
    found = screen.latin(data_words(demo_store_url)[0])
    assert not found and not screen.problems, _summary(found, f"Latin words in the Chinese UI ({role})") + \
        "\n".join(sorted(set(screen.problems))[:50])


def test_english_ui_has_no_chinese_labels(demo_store_url, ui_accounts, monkeypatch):
    """One role (the planner sees nearly every page) in English: Chinese only where it is data."""
    screen = _walked("planner", "en", demo_store_url, ui_accounts, monkeypatch)
    found = screen.cjk(data_words(demo_store_url)[1])
    assert not found, _summary(found, "Chinese runs in the English UI (planner)")
