"""Serve folium's JavaScript and CSS from our own Streamlit static folder.

folium, its plugins and streamlit-folium load Leaflet, jQuery, Bootstrap,
Font-Awesome, Leaflet.awesome-markers and leaflet.markercluster from public
CDNs.  With no internet the map frame stays blank.  ``scripts/fetch_assets.py``
puts pinned copies of those files under ``static/vendor/`` (and
``static/minqing/`` holds the small CSS file no package ships); Streamlit
serves them at ``/app/static/...`` when ``[server] enableStaticServing`` is
on.  This module points folium at those paths.

Call :func:`use_local_assets` once at start-up (it is safe to call again), or
:func:`make_offline` on each map.  :func:`missing_assets` tells the app
whether the files have been fetched.

Notes
-----
streamlit-folium does not read the rendered ``<script>``/``<link>`` tags: it
collects ``default_js``/``default_css`` from every element of the map and
loads them one by one inside its component frame; if one script fails to load,
the whole map stays blank.  Changing the class attributes therefore covers
both ``st_folium`` and ``Map.get_root().render()``.

streamlit-folium adds two d3 scripts from CDNs (d3js.org, cdnjs) by itself
whenever a ``branca.colormap.ColorMap`` is part of the map; they cannot be
redirected from here.  Draw legends with a ``branca.element.MacroElement``
instead; :func:`make_offline` warns when it finds a ColorMap.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import folium
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, MarkerCluster

__all__ = [
    "DEFAULT_PREFIX",
    "AssetLists",
    "external_urls",
    "local_assets",
    "make_offline",
    "missing_assets",
    "restore_cdn_assets",
    "use_local_assets",
]

#: URL prefix under which Streamlit serves ``static/vendor``.
DEFAULT_PREFIX = "/app/static/vendor"

# Paths relative to static/vendor (first part = ``dest`` in
# scripts/assets.lock.json).  The names are folium's own, so that
# ``add_js_link(name, ...)`` and header de-duplication keep working.
_MAP_JS = [
    ("leaflet", "leaflet/dist/leaflet.js"),
    # Ours (static/minqing): sets L.Icon.Default.imagePath, which Leaflet
    # 1.9.3 gets wrong inside streamlit-folium (default markers 404).
    ("leaflet_icon_path", "../minqing/leaflet-icon-path.js"),
    ("jquery", "jquery/dist/jquery.min.js"),
    ("bootstrap", "bootstrap/dist/js/bootstrap.bundle.min.js"),
    ("awesome_markers", "leaflet-awesome-markers/js/leaflet.awesome-markers.js"),
]
_MAP_CSS = [
    ("leaflet_css", "leaflet/dist/leaflet.css"),
    ("bootstrap_css", "bootstrap/dist/css/bootstrap.min.css"),
    ("glyphicons_css", "glyphicons-only-bootstrap/css/bootstrap.min.css"),
    ("awesome_markers_font_css", "fontawesome-free/css/all.min.css"),
    ("awesome_markers_css", "leaflet-awesome-markers/css/leaflet.awesome-markers.css"),
    # Not from npm: our own copy, committed under static/minqing/.
    ("awesome_rotate_css", "../minqing/leaflet.awesome.rotate.css"),
]
_PLUGINS: dict[type[JSCSSMixin], tuple[list, list]] = {
    MarkerCluster: (
        [("markerclusterjs", "leaflet.markercluster/dist/leaflet.markercluster.js")],
        [
            ("markerclustercss", "leaflet.markercluster/dist/MarkerCluster.css"),
            (
                "markerclusterdefaultcss",
                "leaflet.markercluster/dist/MarkerCluster.Default.css",
            ),
        ],
    ),
    Fullscreen: (
        # jsDelivr minifies on the fly; the npm package ships only the plain file.
        [("Control.Fullscreen.js", "leaflet.fullscreen/Control.FullScreen.js")],
        [("Control.FullScreen.css", "leaflet.fullscreen/Control.FullScreen.css")],
    ),
}

# Files the CSS above refers to (fonts, sprites); checked by missing_assets.
_CSS_DEPENDENCIES = [
    "leaflet/dist/images/layers.png",
    "leaflet/dist/images/layers-2x.png",
    "leaflet/dist/images/marker-icon.png",
    "leaflet/dist/images/marker-icon-2x.png",
    "leaflet/dist/images/marker-shadow.png",
    "fontawesome-free/webfonts/fa-solid-900.woff2",
    "fontawesome-free/webfonts/fa-regular-400.woff2",
    "fontawesome-free/webfonts/fa-brands-400.woff2",
    "fontawesome-free/webfonts/fa-v4compatibility.woff2",
    "glyphicons-only-bootstrap/fonts/glyphicons-halflings-regular.woff2",
    "leaflet-awesome-markers/css/images/markers-soft.png",
    "leaflet-awesome-markers/css/images/markers-soft@2x.png",
    "leaflet-awesome-markers/css/images/markers-shadow.png",
    "leaflet-awesome-markers/css/images/markers-shadow@2x.png",
    "leaflet.fullscreen/icon-fullscreen.svg",
]

_ORIGINAL_ATTR = "_minqing_cdn_assets"

_URL_RE = re.compile(
    r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""",
    re.IGNORECASE,
)


class AssetLists(NamedTuple):
    """The ``(name, url)`` lists for one folium class.

    Attributes
    ----------
    js : list of tuple of (str, str)
        Value for the class's ``default_js``.
    css : list of tuple of (str, str)
        Value for the class's ``default_css``.
    """

    js: list[tuple[str, str]]
    css: list[tuple[str, str]]


def _join(prefix: str, rel: str) -> str:
    """Join a URL prefix and a relative path, resolving a leading ``../``."""
    prefix = prefix.rstrip("/")
    while rel.startswith("../"):
        prefix, rel = prefix.rsplit("/", 1)[0], rel[3:]
    return f"{prefix}/{rel}"


def local_assets(prefix: str = DEFAULT_PREFIX) -> dict[type, AssetLists]:
    """Return the local ``(name, url)`` lists for folium and the plugins we use.

    Parameters
    ----------
    prefix : str, default "/app/static/vendor"
        URL under which ``static/vendor`` is served.  Our own files in
        ``static/minqing`` are served from the sibling folder
        (``<prefix>/../minqing``).

    Returns
    -------
    dict
        Maps each class (``folium.Map``, ``folium.plugins.MarkerCluster``,
        ``folium.plugins.Fullscreen``) to an :class:`AssetLists` with new
        lists; the names are folium's own.

    Examples
    --------
    >>> local_assets()[folium.Map].js[0]
    ('leaflet', '/app/static/vendor/leaflet/dist/leaflet.js')
    """
    table = {folium.Map: (_MAP_JS, _MAP_CSS), **_PLUGINS}
    return {
        cls: AssetLists(
            [(name, _join(prefix, rel)) for name, rel in js],
            [(name, _join(prefix, rel)) for name, rel in css],
        )
        for cls, (js, css) in table.items()
    }


def use_local_assets(prefix: str = DEFAULT_PREFIX) -> None:
    """Point folium and the plugins we use at the locally served files.

    Sets ``default_js`` and ``default_css`` on ``folium.Map``,
    ``folium.plugins.MarkerCluster`` and ``folium.plugins.Fullscreen``
    (class attributes, so maps made before the call are covered too).

    Parameters
    ----------
    prefix : str, default "/app/static/vendor"
        URL under which ``static/vendor`` is served; see :func:`local_assets`.

    Notes
    -----
    Safe to call any number of times, with the same or another prefix: the
    CDN lists are saved once, on the first call, and every call assigns
    fresh lists.  :func:`restore_cdn_assets` undoes it.
    """
    for cls, lists in local_assets(prefix).items():
        if _ORIGINAL_ATTR not in cls.__dict__:
            setattr(
                cls,
                _ORIGINAL_ATTR,
                AssetLists(list(cls.default_js), list(cls.default_css)),
            )
        cls.default_js = lists.js
        cls.default_css = lists.css


def restore_cdn_assets() -> None:
    """Undo :func:`use_local_assets`: give the classes their CDN lists back."""
    for cls in local_assets():
        original = cls.__dict__.get(_ORIGINAL_ATTR)
        if original is not None:
            cls.default_js = list(original.js)
            cls.default_css = list(original.css)
            delattr(cls, _ORIGINAL_ATTR)


def _walk(element) -> Iterator:
    """Yield ``element`` and all its descendants (as streamlit-folium does)."""
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def _is_external(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def make_offline(
    m: folium.Map, prefix: str = DEFAULT_PREFIX, max_zoom: int | None = 18
) -> folium.Map:
    """Make a map work with no internet, loading its files from ``static/``.

    Calls :func:`use_local_assets`, then checks every element of the map and
    warns about any that still loads something from the internet (a plugin
    not vendored yet, or a ``branca`` ColorMap, for which streamlit-folium
    adds CDN d3 scripts itself).

    An offline map usually has no tile layer (``tiles=None``).  Leaflet then
    has no maximum zoom, and leaflet.markercluster refuses to start ("Map has
    no maxZoom specified"), so nothing of the cluster is drawn.  When the map
    has no tile layer and no ``max_zoom`` option, ``max_zoom`` is set.

    Parameters
    ----------
    m : folium.Map
        The map; changed in place.
    prefix : str, default "/app/static/vendor"
        URL under which ``static/vendor`` is served.
    max_zoom : int or None, default 18
        Map ``maxZoom`` to set when the map has neither a tile layer nor its
        own ``max_zoom`` option; ``None`` leaves the map alone.

    Returns
    -------
    folium.Map
        The same map, for chaining.

    Warns
    -----
    UserWarning
        When an element of the map would still load an external URL.
    """
    use_local_assets(prefix)
    import branca.colormap  # folium depends on branca

    elements = list(_walk(m))
    if (
        max_zoom is not None
        and "max_zoom" not in m.options
        and not any(isinstance(e, folium.TileLayer) for e in elements)
    ):
        m.options["max_zoom"] = max_zoom

    problems = []
    for element in elements:
        urls = [
            url
            for _, url in [
                *getattr(element, "default_js", []),
                *getattr(element, "default_css", []),
            ]
            if _is_external(url)
        ]
        if urls:
            problems.append(f"{type(element).__name__}: {', '.join(urls)}")
        if isinstance(element, branca.colormap.ColorMap):
            problems.append(
                f"{type(element).__name__}: streamlit-folium loads d3 from a CDN "
                "for colormaps; use a MacroElement legend"
            )
    if problems:
        warnings.warn(
            "map still needs the internet: " + "; ".join(problems),
            UserWarning,
            stacklevel=2,
        )
    return m


def external_urls(html: str) -> list[str]:
    """Return the external URLs of ``<script src>`` and ``<link href>`` tags.

    Parameters
    ----------
    html : str
        Rendered HTML, e.g. ``m.get_root().render()``.

    Returns
    -------
    list of str
        URLs starting with ``http://``, ``https://`` or ``//``, in order of
        appearance, without duplicates.  Tile URLs live in JavaScript, not in
        tags, and are not reported.
    """
    return list(dict.fromkeys(_URL_RE.findall(html)))


def missing_assets(
    static_dir: str | os.PathLike[str] = "static", prefix: str = DEFAULT_PREFIX
) -> list[str]:
    """List the local asset files that are not there.

    Parameters
    ----------
    static_dir : path-like, default "static"
        Streamlit's static folder (the ``static`` folder next to the app).
    prefix : str, default "/app/static/vendor"
        URL prefix used with :func:`use_local_assets`; only its layout matters.

    Returns
    -------
    list of str
        Missing paths relative to ``static_dir`` with ``/`` separators, e.g.
        ``"vendor/leaflet/dist/leaflet.js"``; empty when all are present.
        The app shows its own (Chinese/English) message and the fix,
        ``python scripts/fetch_assets.py``.
    """
    static = Path(static_dir)
    url_root, vendor_rel = prefix.rstrip("/").rsplit("/", 1)  # /app/static, vendor
    rels: list[str] = []
    for lists in local_assets(prefix).values():
        for _, url in [*lists.js, *lists.css]:
            rels.append(url[len(url_root) + 1 :] if url.startswith(url_root + "/") else url)
    rels += [f"{vendor_rel}/{rel}" for rel in _CSS_DEPENDENCIES]
    return [rel for rel in dict.fromkeys(rels) if not (static / rel).is_file()]
