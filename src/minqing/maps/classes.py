"""The colours of the maps: class breaks of a measure, its palette and the legend box.

Every map that shades units, cells or places by a count or a rate classes the values
with :func:`class_breaks` and colours them with :func:`color_for`, so one number has
one colour on every map and in the printed report (:mod:`minqing.report`).
"""

from __future__ import annotations

import numpy as np

from minqing.i18n import fmt_float, fmt_int
from minqing.maps.layers import DataLegend
from minqing.model import PLACE_KINDS

# ColorBrewer YlOrRd, 6 classes: calm on a projector, readable in grey print.
PALETTE = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"]
NO_DATA = "#eeeeee"
PLACE_COLORS = {
    "hospital_entrance": "#d7301f",
    "road_stretch": "#6a51a3",
    "compound": "#238b45",
    "other": "#525252",
}
def class_breaks(values, k: int = len(PALETTE), decimals: int = 0) -> list[float]:
    """Return Fisher-Jenks class edges of the finite ``values``, strictly rising.

    Fisher-Jenks (``mapclassify.FisherJenks``, the classifier geopandas'
    ``plot(scheme=...)`` uses) puts breaks where they keep each class's values
    closest together. With a dozen sub-districts or a few dozen grids,
    quantiles put very different counts in one class (738 and 3,064) and split
    equal ones; head/tail breaks suits thousands of units with a heavy tail but
    gives two or three classes for a dozen.

    Class ``i`` holds the values above edge ``i`` up to and including edge
    ``i + 1``; edge 0 is one step (1, or 0.1 with one decimal) below the lowest
    value. Every class holds at least one value.

    Parameters
    ----------
    values : array-like
    k : int
        At most this many classes (fewer when there are fewer distinct values).
    decimals : int
        Values are classed rounded to this many decimals and edges are such
        values: 0 for counts (integer edges), 1 for rates.

    Examples
    --------
    >>> class_breaks([1, 2, 2, 3, 10, 11, 50], k=3)
    [0.0, 3.0, 11.0, 50.0]
    """
    import mapclassify

    v = np.asarray(values, dtype="float64")
    v = np.round(v[np.isfinite(v)], decimals)
    if v.size == 0:
        return []
    distinct = np.unique(v)
    tops = distinct if len(distinct) <= k else np.round(mapclassify.FisherJenks(v, k=k).bins, decimals)
    tops = np.unique(np.append(tops, distinct[-1]))
    tops = tops[np.unique(np.searchsorted(tops, v, side="left"))]  # drop a class that rounding emptied
    low = round(float(distinct[0]) - 10.0 ** -decimals, decimals)
    return [low] + [float(b) for b in tops]


def class_index(value, breaks: list[float], decimals: int = 0) -> int | None:
    """Return the class (0, 1, ...) of ``value`` for edges from :func:`class_breaks`; None when missing."""
    if value is None or not np.isfinite(value) or len(breaks) < 2:
        return None
    i = int(np.searchsorted(breaks[1:], round(float(value), decimals), side="left"))
    return min(i, len(breaks) - 2)


def color_for(value, breaks: list[float], decimals: int = 0) -> str:
    """Return the palette colour of ``value`` for edges from :func:`class_breaks` (spread over the palette)."""
    i = class_index(value, breaks, decimals)
    if i is None:
        return NO_DATA
    return PALETTE[round(i * (len(PALETTE) - 1) / max(len(breaks) - 2, 1))]


def class_labels(breaks: list[float], lang: str = "zh", decimals: int = 0) -> list[str]:
    """Return one legend label per class: ``323–385`` for counts, ``1.2–3.4`` for rates, ``5`` for one value."""
    step = 10.0 ** -decimals

    def fmt(x):
        return fmt_int(x, lang) if decimals == 0 else fmt_float(x, decimals, lang)

    out = []
    for lo, hi in zip(breaks[:-1], breaks[1:]):
        lo = round(lo + step, decimals)
        out.append(fmt(hi) if lo >= hi else f"{fmt(lo)}–{fmt(hi)}")
    return out


def swatch(color: str, text: str, round_: bool = False) -> dict:
    """Return a legend line: ``text`` after a square (or, with ``round_``, round) swatch of ``color``."""
    return {"text": text, "swatch": color, "round": round_}


def legend(title: str, breaks: list[float], lang: str = "zh", places_title: str | None = None,
           extra: list[dict] | None = None, decimals: int = 0) -> DataLegend:
    """Return the legend box: the colour classes and the place kinds, every line set as text.

    Parameters
    ----------
    title : str
    breaks : list of float
        The class edges of :func:`class_breaks`; one line per class (:func:`class_labels`).
    places_title : str, optional
        When given, a section listing the place kinds and their colours.
    extra : list of dict, optional
        More lines (see :class:`minqing.maps.layers.DataLegend`).
    decimals : int
        0 for counts (integer ranges), 1 for rates.
    """
    items = [{"text": title, "bold": True}]
    for i, text in enumerate(class_labels(breaks, lang, decimals)):
        items.append(swatch(color_for(breaks[i + 1], breaks, decimals), text))
    items += extra or []
    if places_title:
        items.append({"text": places_title, "bold": True})
        items += [swatch(color, PLACE_KINDS[kind].label(lang), round_=True)
                  for kind, color in PLACE_COLORS.items() if kind != "other"]
    return DataLegend(items)
