"""Escaping of data wherever it becomes HTML or Markdown: the one helper every page and export uses.

Ticket text, addresses, unit and place names and file column names come from
citizens and other systems; any of them may hold HTML, script, Markdown or
Streamlit's own directives (``:red[...]``, ``$...$``). Maps never take text at
all (see :mod:`minqing.maps.layers`); everything else that writes HTML
(``st.html``, the meeting handout and its SVG) goes through :func:`escape_html`,
and data shown through Markdown (``st.markdown``, ``st.subheader``,
``st.caption``, ``st.error`` ...) through :func:`escape_markdown`.
"""

from __future__ import annotations

import html
import re

import pandas as pd

# C0 controls (but tab and newline), DEL and C1 controls: never meaningful in a page, and some
# (NUL, U+0085) break parsers; dropped wherever text becomes HTML or Markdown.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the ones
# Markdown, GitHub-flavoured tables, Streamlit's colour/emoji directives and LaTeX use.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&\"'])")


def _text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        try:
            if pd.isna(value):
                return ""
        except (TypeError, ValueError):
            pass
    return _CONTROL.sub("", str(value))


def escape_html(value) -> str:
    """Return ``value`` as text safe inside HTML element content and quoted attributes.

    ``None`` and NaN become the empty string; control characters are dropped.

    Examples
    --------
    >>> escape_html('<b onclick="x()">{{7*7}}</b>')
    '&lt;b onclick=&quot;x()&quot;&gt;{{7*7}}&lt;/b&gt;'
    """
    return html.escape(_text(value), quote=True)


def escape_markdown(value) -> str:
    """Return ``value`` as literal text inside Markdown: no emphasis, link, directive, formula or HTML.

    Newlines become spaces, so a value cannot start a heading, list or table row.

    Examples
    --------
    >>> escape_markdown("**x** [a](javascript:y) :red[z] $1$")
    '\\\\*\\\\*x\\\\*\\\\* \\\\[a\\\\]\\\\(javascript\\\\:y\\\\) \\\\:red\\\\[z\\\\] \\\\$1\\\\$'
    """
    text = _text(value).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return _MARKDOWN.sub(r"\\\1", text)


def markdown_params(params: dict) -> dict:
    """Return ``params`` with every string value escaped by :func:`escape_markdown` (numbers kept)."""
    return {k: escape_markdown(v) if isinstance(v, str) else v for k, v in params.items()}
