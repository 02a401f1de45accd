"""Address matching against the gazetteer: places and their aliases, facilities, their addresses.

Exact mentions are found as one trie-shaped regular expression finds them (a
compiled walk of the names' trie, :mod:`minqing.ingest.mentions`); what is left is matched fuzzily with rapidfuzz
(``fuzz.partial_ratio``, see :mod:`minqing.ingest.fuzzy`), scored 0-100. Only
matches at or above the threshold locate a ticket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minqing.ingest.fuzzy import FuzzyIndex
from minqing.ingest.mentions import NameTrie

DEFAULT_THRESHOLD = 85.0
MIN_NAME_LENGTH = 4
_GENERIC = {"社区医院", "卫生中心", "示意段", "小区门口"}


@dataclass(frozen=True)
class Gazetteer:
    """Names that locate an address.

    Attributes
    ----------
    names : list of str
        One entry per name (a place with aliases has several).
    lon, lat : ndarray
        WGS-84 location of each name (a representative point of the place).
    ref : list of str
        The place id or facility id behind each name.
    """

    names: list
    lon: np.ndarray
    lat: np.ndarray
    ref: list
    pointlike: np.ndarray | None = None

    def __post_init__(self):
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(self.names)})
        object.__setattr__(self, "_pattern", _trie_regex(self.names) if self.names else None)

    @cached_property
    def trie(self) -> NameTrie:
        """The names as a trie, for finding exact mentions (built on first use)."""
        return NameTrie(self.names)

    @cached_property
    def fuzzy(self) -> FuzzyIndex:
        """The names prepared for fuzzy matching (built on first use)."""
        return FuzzyIndex(self.names)


@dataclass(frozen=True)
class Matches:
    """Address matches of a batch of strings (same order as the input).

    Attributes
    ----------
    lon, lat : ndarray
        Location of the match; NaN below the threshold.
    score : ndarray
        0-100; 0 when nothing matched.
    name, ref : ndarray of object
        The gazetteer name and its place/facility id (None when unmatched).
    """

    lon: np.ndarray
    lat: np.ndarray
    score: np.ndarray
    name: np.ndarray
    ref: np.ndarray
    pointlike: np.ndarray | None = None


def build_gazetteer(places: gpd.GeoDataFrame | None, facilities: gpd.GeoDataFrame | None = None) -> Gazetteer:
    """Return the gazetteer of the loaded places (names and ``|``-separated aliases) and facilities."""
    names, xs, ys, refs = [], [], [], []

    def add(name, pt, ref, pointlike=True):
        name = str(name).strip()
        if len(name) >= MIN_NAME_LENGTH and name not in _GENERIC and name not in seen:
            seen.add(name)
            point_flags.append(pointlike)
            names.append(name)
            xs.append(pt.x)
            ys.append(pt.y)
            refs.append(ref)

    seen: set = set()
    point_flags: list = []
    for frame, id_col in ((places, "place_id"), (facilities, "facility_id")):
        if frame is None or len(frame) == 0:
            continue
        frame = frame.to_crs(4326) if frame.crs is not None else frame
        pts = [_anchor(g) for g in frame.geometry.values]
        for (_, row), pt in zip(frame.iterrows(), pts):
            if pt is None:
                continue
            ref = str(row.get(id_col, ""))
            pointlike = row.get("kind") != "road_stretch"
            add(row.get("name", ""), pt, ref, pointlike)
            aliases = row.get("aliases")
            if isinstance(aliases, str):
                for alias in aliases.split("|"):
                    add(alias, pt, ref, pointlike)
            if isinstance(row.get("address"), str):
                add(row["address"], pt, ref)
    return Gazetteer(names, np.array(xs, dtype="float64"), np.array(ys, dtype="float64"), refs,
                     np.array(point_flags, dtype=bool))


def load_facilities(folder: Path | str) -> gpd.GeoDataFrame | None:
    """Return ``facilities.geojson`` of a layer folder, or None when there is none."""
    path = Path(folder) / "facilities.geojson"
    return gpd.read_file(path) if path.is_file() else None


def _anchor(geom):
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("LineString", "MultiLineString"):
        return shapely.line_interpolate_point(shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom,
                                              0.5, normalized=True)
    return geom.representative_point() if geom.geom_type != "Point" else geom


def _exact(texts: pd.Series, gaz: Gazetteer) -> np.ndarray:
    """First gazetteer name mentioned in each text, or None (a compiled trie walk; digit boundaries checked in Python).

    ``texts`` is a ``str`` Series; only the texts with a mention become Python strings. The
    first mention is the one the trie-shaped expression finds (:mod:`minqing.ingest.mentions`);
    one glued to a digit is looked for again with the expression's digit boundaries.
    """
    out = np.full(len(texts), None, dtype=object)
    if len(texts) == 0:
        return out
    word = gaz.trie.first_mentions(texts)
    found = np.flatnonzero(word >= 0)
    names = np.asarray(gaz.names, dtype=object)
    for k, text, hit in zip(found.tolist(), texts.iloc[found].tolist(), names[word[found]].tolist()):
        i = text.find(hit)
        if (i > 0 and text[i - 1].isdigit()) or (i + len(hit) < len(text) and text[i + len(hit)].isdigit()):
            m = gaz._pattern.search(text)
            hit = m.group(1) if m else None
        out[k] = hit
    return out


def _trie_regex(words) -> re.Pattern:
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node) -> str:
        if "" in node and len(node) == 1:
            return ""
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        optional = "" in node
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if optional else body

    return re.compile(r"(?<!\d)(" + build(trie) + r")(?!\d)")


def match_addresses(texts, gazetteer: Gazetteer, threshold: float = DEFAULT_THRESHOLD, fuzzy: bool = True) -> Matches:
    """Match addresses (or complaint texts) against the gazetteer.

    Each distinct text is matched once and its match given to every row holding it.

    Parameters
    ----------
    texts : array-like of str
        Addresses; blanks never match. A Series of ``str`` dtype is read as it is (its
        missing values as blanks), without turning it into Python strings.
    gazetteer : Gazetteer
    threshold : float
        Minimum score (0-100) for a match to count.
    fuzzy : bool
        Also try rapidfuzz on strings with no exact mention.
    """
    if not 0 <= threshold <= 100:
        raise ValueError(f"threshold must be between 0 and 100, got {threshold}")
    codes, uniq = _distinct(texts)
    return _take(_match(uniq, gazetteer, float(threshold), fuzzy), codes)


def _distinct(texts) -> tuple[np.ndarray, pd.Series]:
    """Return (code per text, the distinct texts as a ``str`` Series); missing values are ``""``."""
    if isinstance(texts, pd.Series) and isinstance(texts.dtype, pd.StringDtype):
        s = texts
    else:
        s = pd.Series(texts, dtype=object).fillna("").astype(str)
    codes, uniq = pd.factorize(s)  # missing values (of a str Series) get -1: the blank at the end
    uniq = pd.Series(uniq, dtype="str")
    if (codes < 0).any():
        codes = np.where(codes < 0, len(uniq), codes)
        uniq = pd.concat([uniq, pd.Series([""], dtype="str")], ignore_index=True)
    return codes, uniq


def _take(m: Matches, codes: np.ndarray) -> Matches:
    """The matches of distinct texts given to the rows holding them (``codes``: row -> distinct text)."""
    return Matches(m.lon[codes], m.lat[codes], m.score[codes], m.name[codes], m.ref[codes],
                   m.pointlike[codes] if m.pointlike is not None else None)


def _match(s: pd.Series, gaz: Gazetteer, threshold: float, fuzzy: bool) -> Matches:
    """Match distinct texts (a ``str`` Series without missing values)."""
    n = len(s)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    score = np.zeros(n)
    name = np.full(n, None, dtype=object)
    ref = np.full(n, None, dtype=object)
    pointlike = np.zeros(n, dtype=bool)
    if not gaz.names or n == 0:
        return Matches(lon, lat, score, name, ref, pointlike)
    pos = np.flatnonzero((s.str.strip() != "").to_numpy(dtype=bool))
    uniq = s.iloc[pos]
    hit_name = _exact(uniq, gaz)
    hit_score = np.where(hit_name != None, 100.0, 0.0)
    if fuzzy:
        rest = np.flatnonzero(hit_name == None)
        if len(rest):
            for i, best in zip(rest.tolist(), gaz.fuzzy.best(uniq.iloc[rest].tolist(), threshold)):
                if best is not None:
                    hit_name[i], hit_score[i] = best
    ok = (hit_score >= threshold) & (hit_name != None)
    if not ok.any():
        return Matches(lon, lat, score, name, ref, pointlike)
    idx = np.array([gaz._index[v] for v in hit_name[ok]], dtype="int64")
    rows = pos[ok]
    lon[rows] = gaz.lon[idx]
    lat[rows] = gaz.lat[idx]
    score[pos] = hit_score
    name[rows] = hit_name[ok]
    ref[rows] = np.array(gaz.ref, dtype=object)[idx]
    if gaz.pointlike is not None:
        pointlike[rows] = gaz.pointlike[idx]
    return Matches(lon, lat, score, name, ref, pointlike)
