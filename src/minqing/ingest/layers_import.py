"""Load a city's own layers: administrative units of one level, or places.

Any file geopandas reads (GeoJSON, GeoPackage, Shapefile) in any CRS; GCJ-02 and BD-09
are declared by option and converted with :mod:`minqing.geo.crs`. Invalid geometries are
repaired and reported; overlaps and gaps between units of one level are reported with their
area; units whose parent is not loaded are reported. A new version of a unit closes the old
one (its ``valid_to`` becomes the new ``valid_from``) instead of overwriting it, so tickets
keep linking to the version valid at their time; run ``minqing relink`` afterwards.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from minqing.errors import IngestError
from minqing.geo.crs import geometry_to_wgs84
from minqing.ingest.errors import MappingError
from minqing.ingest.source import visible_nul
from minqing.model import PLACE_KINDS, UNIT_LEVELS
from minqing.store.base import Store

PARENT_LEVEL = {"subdistrict": "district", "community": "subdistrict", "grid": "community"}
UNIT_FIELDS = {
    "code": ("code", "代码", "编码", "区划代码", "网格编码", "adcode"),
    "name": ("name", "名称", "网格名称", "街道名称", "社区名称"),
    "name_en": ("name_en", "英文名称"),
    "parent_code": ("parent_code", "parent", "上级代码", "所属代码", "上级编码"),
    "population": ("population", "人口", "常住人口"),
    "valid_from": ("valid_from", "生效日期", "启用日期"),
    "valid_to": ("valid_to", "失效日期", "停用日期", "撤销日期"),
}
PLACE_FIELDS = {
    "place_id": ("place_id", "id", "编号", "点位编号"),
    "kind": ("kind", "类型", "点位类型"),
    "name": ("name", "名称", "点位名称"),
    "name_en": ("name_en", "英文名称"),
    "aliases": ("aliases", "别名"),
    "radius_m": ("radius_m", "半径", "半径米"),
    "buffer_m": ("buffer_m", "缓冲", "缓冲米"),
    "subdistrict_code": ("subdistrict_code", "街道代码"),
}
ALL_TIME = "1900-01-01"
"""``valid_from`` of a level's first layer when none is given: valid for every order."""
TOLERANCE_M2 = 10.0  # slivers below this come from coordinate rounding and reprojection, not drawing


@dataclass
class LayerReport:
    """What a layer import did."""

    file: str
    level: str
    read: int = 0
    new: int = 0
    new_versions: int = 0
    unchanged: int = 0
    closed: int = 0
    repaired: int = 0
    overlaps: list = field(default_factory=list)  # [code a, code b, area m²]
    overlap_m2: float = 0.0
    gap_m2: float = 0.0
    orphans: list = field(default_factory=list)
    parents_inferred: int = 0  # units whose parent was found by containment (the file named none, or an unknown one)
    absent: list = field(default_factory=list)  # current units missing from the new layer (closed unless partial)
    valid_from: str = ""
    retired: int = 0  # versions the file itself closes (its valid_to column), written as history


    def to_dict(self) -> dict:
        """Return the report as a JSON-serialisable dict."""
        return asdict(self)


def import_units(
    store: Store,
    path: str | Path,
    level: str,
    *,
    crs: str = "wgs84",
    columns: dict | None = None,
    mapping_file: str | Path | None = None,
    valid_from: str | None = None,
    partial: bool = False,
) -> LayerReport:
    """Load (a new version of) one level of administrative units into ``store``.

    Parameters
    ----------
    store : Store
    path : path
        GeoJSON, GeoPackage or Shapefile.
    level : {"district", "subdistrict", "community", "grid"}
    crs : {"wgs84", "gcj02", "bd09"}
        Only for files whose coordinates are GCJ-02 or BD-09 although labelled
        as (or assumed to be) geographic; a projected CRS in the file is reprojected.
    columns : dict, optional
        Field -> column name (fields: code, name, name_en, parent_code, population, valid_from).
    mapping_file : path, optional
        TOML with a ``[units]`` table of the same form.
    valid_from : str, optional
        Date the layer takes effect (YYYY-MM-DD) when the file has no such column; default: the
        first layer of a level is valid for all time, a new version of a loaded level from today.
    partial : bool
        The file holds only some units of the level: current units missing from it stay
        open. By default a layer is whole, and units missing from it are closed.
    """
    if level not in UNIT_LEVELS:
        raise IngestError(f"unknown level {level!r}; allowed: {', '.join(UNIT_LEVELS)}",
                          key="ingest.error_level", level=str(level), allowed=", ".join(UNIT_LEVELS))
    gdf = _read(path, crs)
    cols = _columns(gdf, UNIT_FIELDS, {**_mapping(mapping_file, "units"), **(columns or {})}, ("code", "name"), path)
    report = LayerReport(file=str(path), level=level, read=len(gdf))
    gdf, report.repaired = _repair(gdf)
    # The first layer of a level is valid for all time (older orders link to it too); a new version
    # of a level already loaded takes effect today unless --valid-from says when.
    first_layer = store.read_units(level).empty
    default_day = ALL_TIME if first_layer else pd.Timestamp.now(tz=store.timezone)
    day = str(pd.Timestamp(valid_from or default_day).date())
    report.valid_from = day
    new = gpd.GeoDataFrame(
        {
            "code": gdf[cols["code"]].astype(str).str.strip(),
            "level": level,
            "name": gdf[cols["name"]].astype(str).str.strip(),
            "name_en": gdf[cols["name_en"]] if "name_en" in cols else None,
            "parent_code": gdf[cols["parent_code"]].astype(str).str.strip() if "parent_code" in cols else None,
            "population": pd.to_numeric(gdf[cols["population"]], errors="coerce").round().astype("Int64")
            if "population" in cols else pd.array([pd.NA] * len(gdf), dtype="Int64"),
            "valid_from": _dates(gdf[cols["valid_from"]]).fillna(day) if "valid_from" in cols else day,
            "valid_to": _dates(gdf[cols["valid_to"]]) if "valid_to" in cols else None,
            "caveat": None,
        },
        geometry=gdf.geometry.values,
        crs=4326,
    )
    _check_code_clash(store, new, level)
    _check_parents(store, new, level, report)
    # A version the file closes itself (valid_to) is history: written as it is, and not "absent".
    retired = new["valid_to"].notna()
    report.retired = int(retired.sum())
    current = new[~retired]
    _check_level(current, report)
    to_write = _versions(store.read_units(level), current, report, close_absent=not partial, day=day,
                         also_present=set(new.loc[retired, "code"]))
    if retired.any():
        to_write = gpd.GeoDataFrame(pd.concat([to_write, new[retired]], ignore_index=True), geometry="geometry", crs=4326)
    if len(to_write):
        store.write_units(to_write)
    return report


def import_places(
    store: Store,
    path: str | Path,
    *,
    crs: str = "wgs84",
    kind: str | None = None,
    columns: dict | None = None,
    mapping_file: str | Path | None = None,
) -> LayerReport:
    """Load places (点位) into ``store``, replacing places with the same ``place_id``.

    A place's kind comes from its column, else from ``kind``, else from its geometry
    (point -> other, line -> road_stretch, polygon -> compound).
    """
    if kind is not None and kind not in PLACE_KINDS:
        raise IngestError(f"unknown place kind {kind!r}; allowed: {', '.join(PLACE_KINDS)}",
                          key="ingest.error_place_kind", kind=str(kind), allowed=", ".join(PLACE_KINDS))
    gdf = _read(path, crs)
    cols = _columns(gdf, PLACE_FIELDS, {**_mapping(mapping_file, "places"), **(columns or {})}, ("name",), path)
    report = LayerReport(file=str(path), level="place", read=len(gdf))
    gdf, report.repaired = _repair(gdf)
    by_geom = np.select(
        [gdf.geom_type.isin(["LineString", "MultiLineString"]), gdf.geom_type.isin(["Polygon", "MultiPolygon"])],
        ["road_stretch", "compound"], "other",
    )
    kinds = gdf[cols["kind"]].astype(str) if "kind" in cols else pd.Series(kind or None, index=gdf.index)
    kinds = kinds.where(kinds.isin(list(PLACE_KINDS)), pd.Series(by_geom, index=gdf.index) if kind is None else kind)
    ids = gdf[cols["place_id"]].astype(str) if "place_id" in cols else pd.Series(
        [f"{Path(path).stem}-{i + 1:04d}" for i in range(len(gdf))], index=gdf.index)
    places = gpd.GeoDataFrame(
        {
            "place_id": ids.str.strip(),
            "kind": kinds,
            "name": gdf[cols["name"]].astype(str).str.strip(),
            "name_en": gdf[cols["name_en"]] if "name_en" in cols else None,
            "aliases": gdf[cols["aliases"]] if "aliases" in cols else None,
            "radius_m": pd.to_numeric(gdf[cols["radius_m"]], errors="coerce") if "radius_m" in cols else 80.0,
            "buffer_m": pd.to_numeric(gdf[cols["buffer_m"]], errors="coerce") if "buffer_m" in cols else 25.0,
            "subdistrict_code": gdf[cols["subdistrict_code"]].astype(str) if "subdistrict_code" in cols else None,
            "source": Path(path).name,
            "synthetic": False,
        },
        geometry=gdf.geometry.values,
        crs=4326,
    )
    dup = places["place_id"].duplicated(keep=False)
    if dup.any():
        raise IngestError(f"{path}: place ids repeat, e.g. {places.loc[dup, 'place_id'].iloc[0]!r}; make them unique",
                          key="ingest.error_duplicate_ids", example=str(places.loc[dup, "place_id"].iloc[0]))
    existing = set(store.read_places()["place_id"])
    report.new = int((~places["place_id"].isin(existing)).sum())
    report.new_versions = len(places) - report.new
    store.write_places(places)
    return report


def _read(path, crs: str) -> gpd.GeoDataFrame:
    try:
        try:
            gdf = gpd.read_file(path)
        except UnicodeDecodeError:  # Shapefiles from Chinese desktop GIS are often GBK without a .cpg
            gdf = gpd.read_file(path, encoding="gbk")
    except Exception as exc:  # pyogrio raises several kinds; all mean "cannot read this file"
        raise IngestError(f"{path} cannot be read as a GeoJSON, GeoPackage or Shapefile ({exc})",
                          key="ingest.error_layer_read", path=str(path), reason=str(exc)) from exc
    gdf = visible_nul(gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].copy())
    if gdf.crs is not None and not gdf.crs.is_geographic:
        gdf = gdf.to_crs(4326)
    gdf = gdf.set_crs(4326, allow_override=True)
    if crs not in ("wgs84", None):
        gdf = geometry_to_wgs84(gdf, crs)
    return gdf


def _mapping(mapping_file, table: str) -> dict:
    if mapping_file is None:
        return {}
    try:
        data = tomllib.loads(Path(mapping_file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"mapping file {mapping_file} cannot be read as UTF-8 TOML ({exc})",
                           key="ingest.error_mapping_file", path=str(mapping_file), reason=str(exc)) from exc
    return dict(data.get(table, {}))


def _columns(gdf, fields: dict, given: dict, required: tuple, path) -> dict:
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise MappingError(f"unknown field(s) {unknown}; allowed: {', '.join(fields)}",
                           key="ingest.error_mapping_field", fields=", ".join(unknown), allowed=", ".join(fields))
    cols = {}
    for fld, aliases in fields.items():
        if fld in given:
            if given[fld] not in gdf.columns:
                raise MappingError(f"{fld} is mapped to column {given[fld]!r}, which {path} does not have",
                                   key="ingest.error_mapping_column", field=fld, column=str(given[fld]))
            cols[fld] = given[fld]
            continue
        found = next((c for c in gdf.columns if str(c).strip().lower() in {a.lower() for a in aliases}), None)
        if found is not None:
            cols[fld] = found
    missing = [f for f in required if f not in cols]
    if missing:
        raise MappingError(f"{path} has no column for {missing}; name it with --{missing[0].replace('_', '-')}-col",
                           key="ingest.error_required", fields=", ".join(missing))
    return cols


def _dates(values: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` of a date column; blank, NaT and unreadable values are None (open-ended)."""
    d = pd.to_datetime(values, errors="coerce")
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_localize(None)
    return d.dt.strftime("%Y-%m-%d").astype(object).where(d.notna(), None)


def _repair(gdf):
    bad = ~gdf.geometry.is_valid
    if bad.any():
        gdf = gdf.copy()
        gdf.loc[bad, "geometry"] = shapely.make_valid(gdf.geometry[bad].values)
    return gdf, int(bad.sum())


def _check_level(units: gpd.GeoDataFrame, report: LayerReport) -> None:
    """Overlaps between units of the level (pairs and area) and gaps inside their outline, in m²."""
    metric = units.to_crs(units.estimate_utm_crs())
    geoms = metric.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    areas = shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]]))
    codes = units["code"].to_numpy()
    report.overlaps = [
        [codes[a], codes[b], round(float(ar), 1)]
        for a, b, ar in zip(left[keep], right[keep], areas) if ar > TOLERANCE_M2
    ]
    report.overlap_m2 = round(float(sum(o[2] for o in report.overlaps)), 1)
    union = shapely.union_all(geoms, grid_size=0.5)  # snap: shared edges drift by millimetres in reprojection
    filled = shapely.union_all([shapely.Polygon(p.exterior) for p in getattr(union, "geoms", [union])
                                if p.geom_type == "Polygon"])
    gap = float(shapely.area(shapely.difference(filled, union)))
    report.gap_m2 = round(gap, 1) if gap > TOLERANCE_M2 else 0.0


def _check_parents(store, units, level, report) -> None:
    """Fill in missing parents by containment and report the units left without one.

    The parent level is the next coarser level that is loaded (a city may skip levels);
    with none loaded, a unit needs no parent.
    """
    from minqing.geo.link import LEVELS, resolve_parents

    stored = store.read_units()
    coarser = [lv for lv in LEVELS[: LEVELS.index(level)] if (stored["level"] == lv).any()]
    if not coarser:
        return
    parent_level = coarser[-1]
    known = set(stored.loc[stored["level"] == parent_level, "code"])
    blank = units["parent_code"].isna() | units["parent_code"].astype(str).str.strip().isin(("", "None", "nan", "NaN"))
    units.loc[blank, "parent_code"] = None
    given = units["parent_code"].where(units["parent_code"].isin(known))
    if blank.any():  # the file names no parent: the coarser unit that contains it (an unknown code stays an orphan)
        pool = stored[stored["level"] == parent_level]
        both = pd.concat([pool, units.assign(unit_uid=-1)], ignore_index=True)
        found = resolve_parents(both, level, [parent_level, level]).to_numpy(dtype=object)
        inferred = blank.to_numpy() & pd.notna(found)
        report.parents_inferred = int(inferred.sum())
        units.loc[inferred, "parent_code"] = found[inferred]
        given = units["parent_code"].where(units["parent_code"].isin(known))
    report.orphans = units.loc[given.isna(), "code"].tolist()


def _check_code_clash(store, units, level) -> None:
    """Codes are unique per level, and a code may not stand for units of two levels."""
    stored = store.read_units()
    other = stored[stored["level"] != level]
    clash = sorted(set(units["code"]) & set(other["code"]))
    if clash:
        levels = ", ".join(sorted(set(other.loc[other["code"].isin(clash), "level"])))
        raise IngestError(
            f"{len(clash)} code(s) of this {level} layer are already codes of another level ({levels}), e.g. "
            f"{clash[0]!r}; a code must name one unit: give this layer its own codes (e.g. a prefix)",
            key="ingest.error_code_clash", count=len(clash), example=str(clash[0]), levels=levels, level=level)
    # a code may repeat only as versions that follow each other (valid_from / valid_to)
    ordered = units.assign(_to=units["valid_to"].fillna("9999-12-31")).sort_values(["code", "valid_from"])
    same = ordered["code"].eq(ordered["code"].shift())
    overlap = same & (ordered["valid_from"] < ordered["_to"].shift())
    dup = ordered.loc[overlap, "code"]
    if len(dup):
        raise IngestError(f"the code {dup.iloc[0]!r} appears twice in the file with overlapping dates; every unit needs its own code, "
                          "or its versions must follow each other (valid_to of one = valid_from of the next)",
                          key="ingest.error_code_twice", example=str(dup.iloc[0]))


def _versions(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, report: LayerReport, *, close_absent: bool,
              day: str, also_present=frozenset()) -> gpd.GeoDataFrame:
    """Return the rows to write: new units, new versions, and the old versions they close.

    ``also_present``: codes the file holds as closed history (not absent from it).
    """
    current = old[old["valid_to"].isna()].set_index("code")
    rows, closed = [], []
    for i, unit in new.iterrows():
        prev = current.loc[unit["code"]] if unit["code"] in current.index else None
        if prev is None:
            report.new += 1
            rows.append(i)
            continue
        same = (prev["name"] == unit["name"] and prev.geometry.equals_exact(unit.geometry, 1e-6)  # ~0.1 m
                and str(prev["parent_code"]) == str(unit["parent_code"]))
        if same:
            report.unchanged += 1
            continue
        if str(prev["valid_from"]) >= str(unit["valid_from"]):
            raise IngestError(
                f"unit {unit['code']}: the new version must start after the current one "
                f"({prev['valid_from']}); give --valid-from",
                key="ingest.error_version_date", code=str(unit["code"]), current=str(prev["valid_from"]))
        report.new_versions += 1
        rows.append(i)
        old_row = old[(old["code"] == unit["code"]) & old["valid_to"].isna()].drop(columns="unit_uid").copy()
        old_row["valid_to"] = unit["valid_from"]
        closed.append(old_row)
    absent = current.index.difference(pd.Index(new["code"])).difference(pd.Index(sorted(also_present)))
    report.absent = sorted(map(str, absent))
    if close_absent and len(absent):
        gone = old[old["code"].isin(absent) & old["valid_to"].isna()].drop(columns="unit_uid").copy()
        gone["valid_to"] = day
        closed.append(gone)
    report.closed = int(sum(len(c) for c in closed))
    parts = [new.loc[rows]] + closed
    out = pd.concat(parts, ignore_index=True) if parts else new.iloc[:0]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)
