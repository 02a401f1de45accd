"""JSON files: a GeoJSON FeatureCollection or an Open311 GeoReport v2 list of service requests.

Each object becomes a row (a feature's properties, with ``lon`` and ``lat`` of its point);
an item that is not an object becomes a row the import quarantines (``_invalid``, ``_original``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from minqing.ingest.encodings import SAMPLE
from minqing.ingest.errors import ReadError
from minqing.ingest.source import INVALID, ORIGINAL, RAW_ITEM, READER_COLUMNS, cell_text

if TYPE_CHECKING:
    from minqing.ingest.source import Source

_MAX_INT_DIGITS = 4000  # Python refuses longer integer strings; such numbers are kept as text


def json_kind(path: Path) -> str:
    """Return "geojson" or "open311" for a JSON file; raise :class:`ReadError` for any other JSON."""
    data = load_json(path)
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            kind = "missing" if "features" not in data else json_type(features)
            raise ReadError(f"{path.name} is a GeoJSON FeatureCollection but its \"features\" is {kind}, not a list "
                            "of features; export it again", key="ingest.error_geojson_features", path=str(path),
                            kind=kind)
        _check_items(path, features, "features")
        return "geojson"
    if isinstance(data, list):
        _check_items(path, data, "items")
        return "open311"
    if isinstance(data, dict) and isinstance(data.get("service_requests"), list):
        _check_items(path, data["service_requests"], "service requests")
        return "open311"
    if not isinstance(data, dict):
        kind = json_type(data)
        raise ReadError(f"{path.name} holds a single JSON value ({kind}), not a list of requests or a GeoJSON "
                        "FeatureCollection; export it again", key="ingest.error_json_scalar", path=str(path), kind=kind)
    raise ReadError(f"{path.name} is JSON but neither a GeoJSON FeatureCollection nor an Open311 list of requests",
                    key="ingest.error_json", path=str(path), reason="unknown JSON shape")


def _check_items(path: Path, items: list, what: str) -> None:
    if items and not any(isinstance(x, dict) for x in items):
        kinds = sorted({json_type(x) for x in items})
        raise ReadError(f"none of the {len(items):,} {what} in {path.name} is an object ({', '.join(kinds)}), so "
                        "none can be read as a work order; export it again",
                        key="ingest.error_json_no_records", path=str(path), count=f"{len(items):,}")


def json_scalar(path: Path, size: int) -> str | None:
    """The JSON type of a small .json file that holds a single value (a number, a string, true, null), else None."""
    if size > SAMPLE:
        return None
    try:
        data = load_json(path)
    except ReadError:
        return None  # not JSON at all: read it as what it is (CSV), with an extension note
    return None if isinstance(data, (dict, list)) else json_type(data)


def load_json(path: Path):
    """Parse a JSON file (UTF-8 with or without BOM, UTF-16/32); every failure is a :class:`ReadError`."""
    try:
        raw = path.read_bytes()
        return json.loads(raw, parse_int=_parse_int)
    except RecursionError:
        raise ReadError(f"{path.name} is JSON nested too deeply to read; export it again as CSV or flat JSON",
                        key="ingest.error_json_nested", path=str(path)) from None
    except MemoryError:
        raise ReadError(f"{path.name} is too large to read as JSON in memory; split it or export CSV",
                        key="ingest.error_json_large", path=str(path)) from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise ReadError(f"{path.name} looks like JSON but cannot be parsed ({exc}); re-export it",
                        key="ingest.error_json", path=str(path), reason=str(exc)) from exc


def _parse_int(text: str):
    return int(text) if len(text) <= _MAX_INT_DIGITS else text


def json_type(value) -> str:
    """The JSON type of a value, for messages (never the value itself: it may be personal)."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


@dataclass
class _NotARecord:
    """A JSON item that cannot be a row (not an object): quarantined as ``not_a_record`` with why and what."""

    detail: str
    original: str


def _not_a_record(item, detail: str) -> _NotARecord:
    try:
        text = json.dumps(item, ensure_ascii=False)
    except (RecursionError, ValueError):
        text = json_type(item)
    return _NotARecord(detail, json.dumps({RAW_ITEM: text}, ensure_ascii=False))


def _field_text(v) -> str:
    """A field's text: scalars as :func:`minqing.ingest.source.cell_text`, nested objects and lists as their JSON text."""
    if isinstance(v, (dict, list)):
        try:
            return json.dumps(v, ensure_ascii=False)
        except (RecursionError, ValueError):
            return json.dumps(json_type(v))
    return cell_text(v)


def _records_to_chunks(records: list, chunksize, progress):
    """Chunks of objects (dicts) and :class:`_NotARecord` items; every chunk has the same columns."""
    names: dict = {}  # key -> column, in order of first appearance in the whole file
    for r in records:
        if isinstance(r, dict):
            for k in r:
                if k not in names:
                    name = str(k)
                    names[k] = name + "_field" if name in READER_COLUMNS else name
    invalid = any(isinstance(r, _NotARecord) for r in records)
    for lo in range(0, len(records), chunksize):
        part = records[lo : lo + chunksize]
        data = {name: pd.array([_field_text(r.get(k)) if isinstance(r, dict) else "" for r in part], dtype="str")
                for k, name in names.items()}
        if invalid:
            data[INVALID] = pd.array([r.detail if isinstance(r, _NotARecord) else "" for r in part], dtype="str")
            data[ORIGINAL] = pd.array([r.original if isinstance(r, _NotARecord) else "" for r in part], dtype="str")
        chunk = pd.DataFrame(data, index=pd.RangeIndex(len(part)))
        chunk["_row"] = np.arange(lo + 1, lo + len(part) + 1)
        progress(lo + len(part), len(records))
        yield chunk


def geojson_chunks(src: Source, chunksize, progress):
    """Yield the features of a GeoJSON file as chunks of strings: their properties, ``lon`` and ``lat``."""
    import shapely.geometry

    data = load_json(src.path)
    records: list = []
    for i, feat in enumerate(data.get("features") or [], start=1):  # a non-list "features" is refused by open_source
        if not isinstance(feat, dict):
            records.append(_not_a_record(feat, f"feature {i} is a JSON {json_type(feat)}, not an object"))
            continue
        props = feat.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            records.append(_not_a_record(feat, f"the properties of feature {i} are a JSON {json_type(props)}, "
                                               "not an object"))
            continue
        props = dict(props)
        geom = feat.get("geometry")
        if geom:
            try:
                pt = shapely.geometry.shape(geom)
                pt = pt if pt.geom_type == "Point" else pt.representative_point()
                props["lon"], props["lat"] = pt.x, pt.y
            except Exception:  # noqa: BLE001 - a broken geometry leaves the row without a point
                props.setdefault("lon", "")
                props.setdefault("lat", "")
        records.append(props)
    yield from _records_to_chunks(records, chunksize, progress)


def open311_chunks(src: Source, chunksize, progress):
    """Yield the service requests of an Open311 GeoReport v2 file as chunks of strings."""
    data = load_json(src.path)
    items = data["service_requests"] if isinstance(data, dict) else data
    records = [r if isinstance(r, dict) else _not_a_record(r, f"item {i} is a JSON {json_type(r)}, not an object")
               for i, r in enumerate(items, start=1)]
    yield from _records_to_chunks(records, chunksize, progress)
