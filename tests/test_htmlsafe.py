"""The one escaping helper: HTML and Markdown, on every payload family and on random text."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from payloads import ALL, EVAL_RESULT

from minqing.htmlsafe import escape_html, escape_markdown, markdown_params


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [a for a, _ in attrs]


def _tags(fragment: str) -> _Tags:
    p = _Tags()
    p.feed(fragment)
    p.close()
    return p


@pytest.mark.parametrize("payload", ALL)
def test_escaped_html_holds_no_markup(payload):
    out = escape_html(payload)
    parsed = _tags(f'<td title="{out}">{out}</td>')
    assert parsed.tags == ["td"] and parsed.attrs == ["title"]
    assert html.unescape(out) == payload.replace("\x00", "").replace("\x1b", "").replace("\x07", "").replace(
        "\x0b", "").replace("\x0c", "").replace("\r", "")


def test_escape_html_of_blanks():
    assert escape_html(None) == "" and escape_html(float("nan")) == "" and escape_html(12) == "12"


@pytest.mark.parametrize("payload", ALL)
def test_escaped_markdown_has_no_syntax_left(payload):
    out = escape_markdown(payload)
    assert "\n" not in out and "\r" not in out
    # every Markdown/HTML/directive character is preceded by a backslash
    for i, c in enumerate(out):
        if c in "*_[]()<>`$:#!|{}~":
            assert out[i - 1] == "\\", (payload, out)


def test_markdown_params_escape_text_only():
    assert markdown_params({"name": "**x**", "n": 3}) == {"name": "\\*\\*x\\*\\*", "n": 3}


@given(st.text())
def test_escape_html_round_trips_any_text(text):
    out = escape_html(text)
    assert not set("<>\"'") & set(out)
    assert html.unescape(out) == "".join(c for c in text if c in "\t\n" or not (
        ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F))


@given(st.text())
def test_escape_markdown_never_raises(text):
    assert isinstance(escape_markdown(text), str)


def test_meeting_handout_escapes_unit_names():
    """The printable page's SVG map and tables carry hostile names as text."""
    import geopandas as gpd
    from shapely.geometry import box

    from minqing.report import unit_svg

    units = gpd.GeoDataFrame({"code": [f"U{i}" for i in range(len(ALL))], "name": ALL, "name_en": ALL,
                              "tickets": range(len(ALL)), "rate": 1.0, "population": 1000},
                             geometry=[box(i, 0, i + 1, 1) for i in range(len(ALL))], crs=4326)
    svg = unit_svg(units, "zh")
    parsed = _tags(svg)
    assert set(parsed.tags) <= {"svg", "g", "path", "title", "text", "rect"}, set(parsed.tags)
    assert not {a for a in parsed.attrs if a.startswith("on")}
    assert EVAL_RESULT not in svg
