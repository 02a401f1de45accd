"""Write the worked examples of docs/importing.md ("Worked examples") and tests/ingest/test_examples.py.

Run from the repository root (the files are committed; run this only to change them):

    .venv/bin/python tests/data/examples/make_examples.py

Everything is seeded, so a run writes byte-identical files. Four exports, each with the dirt a
real one has, planted in known numbers (the counts below are what the test asserts):

a. yangpu_12345.csv - a Chinese 12345 export of Yangpu (the demo city): GBK, CRLF, Chinese
   headers, GCJ-02 coordinates. 120 rows: 115 ordinary rows, one received time written
   ``2024年1月5日 14时``, one row whose coordinates are ``暂无`` and whose address names a known
   facility (located by address), one row with no coordinates and a vague address (unlocated),
   one row with an empty 工单编号 (missing_id) and one exact repeat of a row (duplicate).
b. bloomington_open311.json - an Open311 GeoReport v2 dump from Bloomington, Indiana, with its
   own neighbourhood layer. 60 requests: 54 ordinary, one exact repeat (page overlap), one id
   twice with different content (duplicate_id_conflict x2), one at 0,0 (zero_coordinates), one in
   Indianapolis (outside_region), one without lat/long (unlocated).
c. bath_fixmystreet.csv - a FixMyStreet dashboard CSV export (its real header) from Bath, with a
   ward layer loaded as communities. 80 reports: 78 ordinary, one exact repeat (two overlapping
   exports pasted together), one in Keynsham, outside the wards (outside_region).
d. chicago_311.csv - a US 311 export (Chicago data portal style): month-first dates with a
   12-hour clock, ``NA`` for blanks, a grids-only city of 9 community areas. 100 requests:
   96 ordinary, one exact repeat, one at O'Hare (outside_region), one with CREATED_DATE ``NA``
   (missing_time), one with LATITUDE/LONGITUDE ``NA`` (unlocated).

The polygons of b-d are made-up hexagons and squares near the real places, not real boundaries;
the Yangpu grids are the demo's synthetic grids (geodata/). Names of people are invented.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Point, Polygon, box

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "src"))

M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON_EQ = 111_320.0


# ---------------------------------------------------------------------------------------------
# geometry helpers
# ---------------------------------------------------------------------------------------------
class Local:
    """A local flat projection (metres) around a centre; good to a few cm over a few km."""

    def __init__(self, lon0: float, lat0: float):
        self.lon0, self.lat0 = lon0, lat0
        self.kx = M_PER_DEG_LON_EQ * math.cos(math.radians(lat0))

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return self.lon0 + x / self.kx, self.lat0 + y / M_PER_DEG_LAT

    def to_xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * M_PER_DEG_LAT


def hexagons(local: Local, radius_m: float, cells: list[tuple[int, int]]) -> list[Polygon]:
    """Flat-topped hexagons at axial cells (q, r), shared vertices written identically."""
    canon: dict[tuple[int, int], tuple[float, float]] = {}
    out = []
    for q, r in cells:
        cx = radius_m * 1.5 * q
        cy = -radius_m * math.sqrt(3) * (r + q / 2)  # r < 0 is north
        ring = []
        for k in range(6):
            a = math.radians(60 * k)
            x, y = cx + radius_m * math.cos(a), cy + radius_m * math.sin(a)
            key = (round(x * 100), round(y * 100))  # one vertex, one spelling: no slivers between cells
            if key not in canon:
                lon, lat = local.to_lonlat(x, y)
                canon[key] = (round(lon, 6), round(lat, 6))
            ring.append(canon[key])
        out.append(Polygon(ring + ring[:1]))
    return out


def squares(local: Local, size_m: float, cols: int, rows: int) -> list[Polygon]:
    """A cols x rows block of squares, west to east, then south to north."""
    xs = [local.to_lonlat(-cols * size_m / 2 + i * size_m, 0)[0] for i in range(cols + 1)]
    ys = [local.to_lonlat(0, -rows * size_m / 2 + j * size_m)[1] for j in range(rows + 1)]
    xs, ys = [round(v, 6) for v in xs], [round(v, 6) for v in ys]
    return [box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(rows) for i in range(cols)]


def point_inside(rng, poly: Polygon, local: Local, inset_m: float = 60.0) -> tuple[float, float]:
    """A random point at least ``inset_m`` inside ``poly`` (WGS-84, 6 decimals)."""
    xy = Polygon([local.to_xy(x, y) for x, y in poly.exterior.coords]).buffer(-inset_m)
    minx, miny, maxx, maxy = xy.bounds
    while True:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if xy.contains(Point(x, y)):
            lon, lat = local.to_lonlat(x, y)
            return round(lon, 6), round(lat, 6)


def write_layer(path: Path, polys: list[Polygon], props: list[dict]) -> None:
    features = [{"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(g)}
                for g, p in zip(polys, props)]
    for f in features:  # lists, not tuples, and no trailing float noise
        f["geometry"]["coordinates"] = [[[round(x, 6), round(y, 6)] for x, y in ring]
                                        for ring in f["geometry"]["coordinates"]]
    doc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def counted(rng, spec: list[tuple[str, int]]) -> list[str]:
    """Each value exactly as many times as ``spec`` says, in a seeded random order."""
    values = [v for v, n in spec for _ in range(n)]
    rng.shuffle(values)
    return values


# ---------------------------------------------------------------------------------------------
# a. Yangpu 12345 (GBK CSV, Chinese headers, GCJ-02)
# ---------------------------------------------------------------------------------------------
A_HEADER = ["工单编号", "受理时间", "诉求渠道", "诉求类型", "问题分类", "诉求内容", "诉求地址", "经度", "纬度",
            "承办单位", "办结时间", "回访满意度"]
# 119 distinct rows (118 stored + the one without an id); the 120th repeats one of them.
A_CHANNELS = [("12345热线电话", 70), ("随申办", 18), ("微信小程序", 10), ("码上就来", 8), ("网格员上报", 5),
              ("市长信箱", 4), ("", 4)]
A_KINDS = [("投诉", 50), ("求助", 25), ("咨询", 15), ("建议", 8), ("表扬", 4), ("举报", 5), ("求决", 6), ("", 6)]
A_CATEGORIES = [
    ("市政设施-路灯-路灯不亮", 14), ("交通管理-违法停车-共享单车乱停放", 16), ("交通管理-违法停车-机动车违停", 12),
    ("市容环卫-垃圾清运-生活垃圾未及时清运", 12), ("市容环卫-油烟污染-餐饮油烟扰民", 8), ("物业管理-电梯-电梯故障", 10),
    ("物业管理-物业服务-房屋漏水", 8), ("噪声扰民-施工噪声-夜间施工", 9), ("公共安全-消防安全-电动车违规充电", 6),
    ("社会保障-政策咨询-社保医保咨询", 10), ("住房保障-物业管理-楼道堆物", 5), ("民生服务-燃气-燃气报修", 3),
    ("医疗卫生-就医秩序-医院周边秩序", 3), ("", 3),
]
A_SATISFIED = [("满意", 60), ("基本满意", 20), ("不满意", 10), ("非常满意", 4), ("未回访", 5), ("暂无", 3), ("", 2)]
A_OPEN = 15  # rows still open: 8 with 办结时间 "无", 7 with it empty; their 回访满意度 is "" (10) or "暂无" (5)
A_TEXT = {
    "路灯": "{a}附近路灯连续几晚不亮，夜里走路看不清，请尽快修复。",
    "共享单车": "{a}门口共享单车堆满人行道，轮椅和婴儿车过不去。",
    "机动车": "{a}旁边长期有机动车占用消防通道和人行道停放。",
    "垃圾": "{a}垃圾箱房已经两天没有清运，气味很大。",
    "油烟": "{a}楼下饭店油烟直排，家里窗户都不敢开。",
    "电梯": "{a}电梯本周第三次故障停运，楼里老人上下楼困难。",
    "漏水": "{a}楼上卫生间漏水到我家天花板，物业不处理。",
    "夜间施工": "{a}附近工地晚上十一点以后还在施工，噪声很大。",
    "充电": "{a}有居民从楼道拉电线给电动车充电，存在安全隐患。",
    "社保": "咨询退休人员医保报销比例和办理地点。",
    "楼道": "{a}楼道里堆放大量杂物，影响通行。",
    "燃气": "{a}家中燃气灶打不着火，闻到燃气味，请派人检修。",
    "医院": "{a}医院门口非法营运车辆拉客，秩序混乱。",
    "": "{a}的问题请相关部门处理。",
}
A_ROADS = ["国和路", "黄兴路", "控江路", "长阳路", "平凉路", "营口路", "国权路", "政立路", "殷行路", "翔殷路",
           "淞沪路", "大连路", "鞍山路", "延吉中路", "民京路"]


def _a_text(category: str, address: str) -> str:
    for key, text in A_TEXT.items():
        if key and key in category:
            return text.format(a=address)
    return A_TEXT[""].format(a=address)


def make_a(out: Path) -> None:
    import geopandas as gpd
    import pandas as pd

    from minqing.geo.crs import wgs84_to_gcj02

    rng = np.random.default_rng(20240105)
    grids = gpd.read_file(ROOT / "geodata" / "grid.geojson")
    grids = grids[pd.to_datetime(grids["valid_from"]) <= pd.Timestamp("2024-01-01")].reset_index(drop=True)
    subs = gpd.read_file(ROOT / "geodata" / "subdistrict.geojson").set_index("code")["name"]
    metric = grids.to_crs(32651)
    n = 119
    channels, kinds, cats = counted(rng, A_CHANNELS), counted(rng, A_KINDS), counted(rng, A_CATEGORIES)
    # the row without an id (index 40), the repeated row (index 10) and the special rows (0-2) must carry
    # values the report does not count: no unknown value, closed (no 办结时间 "无")
    plain = {0, 1, 2, 10, 40}
    for i in plain:  # (blank channels, kinds and categories are not counted; only the unmapped category is)
        if cats[i] == "民生服务-燃气-燃气报修":
            j = next(k for k in range(n) if k not in plain and cats[k] != "民生服务-燃气-燃气报修")
            cats[i], cats[j] = cats[j], cats[i]
    open_rows = sorted(rng.choice([i for i in range(n) if i not in plain], A_OPEN, replace=False).tolist())
    closed_sat = counted(rng, A_SATISFIED)
    open_sat = counted(rng, [("", 10), ("暂无", 5)])
    open_close = counted(rng, [("无", 8), ("", 7)])
    rows = []
    k_closed = k_open = 0
    for i in range(n):
        day = int(rng.integers(1, 32))
        received = pd.Timestamp(2024, 1, day) + pd.Timedelta(seconds=int(rng.integers(7 * 3600, 22 * 3600)))
        g = int(rng.integers(len(grids)))
        inner = metric.geometry.iloc[g].buffer(-40)
        while True:
            minx, miny, maxx, maxy = inner.bounds
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if inner.contains(p):
                break
        w = gpd.GeoSeries([p], crs=32651).to_crs(4326).iloc[0]
        glon, glat = wgs84_to_gcj02(w.x, w.y)
        sub = subs.get(str(grids["parent_code"].iloc[g])[:9], "杨浦区")
        address = f"杨浦区{A_ROADS[int(rng.integers(len(A_ROADS)))]}{int(rng.integers(1, 1200))}弄{int(rng.integers(1, 40))}号"
        if i in open_rows:
            closed, sat = open_close[k_open], open_sat[k_open]
            k_open += 1
        else:
            closed = (received + pd.Timedelta(minutes=int(rng.integers(90, 5 * 24 * 60)))).strftime("%Y-%m-%d %H:%M:%S")
            sat = closed_sat[k_closed]
            k_closed += 1
        when = received.strftime("%Y-%m-%d %H:%M:%S") if i % 12 else f"{received:%Y/%-m/%-d %H:%M}"
        rows.append({
            "工单编号": f"{received:%y%m%d}{i + 1:06d}", "受理时间": when, "诉求渠道": channels[i], "诉求类型": kinds[i],
            "问题分类": cats[i], "诉求内容": _a_text(cats[i], address), "诉求地址": address,
            "经度": f"{glon:.6f}", "纬度": f"{glat:.6f}", "承办单位": f"{sub}办事处", "办结时间": closed,
            "回访满意度": sat,
        })
    # planted rows
    rows[0].update({"工单编号": "240105000001", "受理时间": "2024年1月5日 14时"})
    rows[0]["办结时间"] = "2024-01-06 10:30:00"
    rows[1].update({"经度": "暂无", "纬度": "暂无", "诉求地址": "杨浦公园", "诉求内容": _a_text(cats[1], "杨浦公园东门")})
    rows[2].update({"经度": "", "纬度": "", "诉求地址": "杨浦区，具体地址不详", "诉求内容": _a_text(cats[2], "来电人住处")})
    rows[40]["工单编号"] = ""
    rows.insert(77, dict(rows[10]))  # the same row twice: exports pasted together
    with (out / "yangpu_12345.csv").open("w", encoding="gbk", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=A_HEADER, lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)
    (out / "yangpu_12345.toml").write_text(A_MAPPING, encoding="utf-8")


A_MAPPING = """\
# Yangpu 12345 export (GBK CSV). The headers are the usual Chinese ones, so [columns] is not needed.
[options]
crs = "gcj02"            # the coordinates come from an Amap (高德) picker

[values.channel]
"市长信箱" = "web"

[values.category]
"住房保障-物业管理-楼道堆物" = "06.01.01"   # 楼道堆物 blocks the escape route: 消防通道堵塞
"""


# ---------------------------------------------------------------------------------------------
# b. Bloomington, Indiana: Open311 GeoReport v2 JSON
# ---------------------------------------------------------------------------------------------
B_CENTRE = (-86.5300, 39.1650)
B_NAMES = ["Prospect Hill", "Downtown", "Elm Heights", "McDoel Gardens", "Bryan Park", "Near West Side"]
B_SERVICES = {  # service_name -> (service_code, agency)
    "Potholes": ("POTHOLE", "Public Works - Street Division"),
    "Streetlight Outage": ("STREETLIGHT", "Public Works - Traffic"),
    "Missed Trash Pickup": ("TRASH", "Sanitation"),
    "Parking Violation": ("PARKING", "Parking Services"),
    "Noise Complaint": ("NOISE", "Police Department"),
    "Graffiti": ("GRAFFITI", "Parks and Recreation"),
    "Tree Maintenance": ("TREES", "Parks and Recreation"),
}
# 58 requests before the repeats; "Graffiti" and "Tree Maintenance" are not in the mapping file (listed as unknown)
B_SPEC = [("Potholes", 14), ("Streetlight Outage", 10), ("Missed Trash Pickup", 12), ("Parking Violation", 9),
          ("Noise Complaint", 6), ("Graffiti", 4), ("Tree Maintenance", 3)]
B_TEXT = {
    "Potholes": "Deep pothole in the right lane, cars swerving around it.",
    "Streetlight Outage": "Streetlight out on the corner for a week, very dark at night.",
    "Missed Trash Pickup": "Trash was not picked up on our scheduled day.",
    "Parking Violation": "Car parked in front of a fire hydrant every evening.",
    "Noise Complaint": "Loud music from a house party past midnight on a weeknight.",
    "Graffiti": "Graffiti sprayed on the underpass wall.",
    "Tree Maintenance": "Large branch hanging over the sidewalk after the storm.",
}
B_STREETS = ["N College Ave", "S Walnut St", "W Kirkwood Ave", "E 3rd St", "S Rogers St", "W 2nd St", "S Washington St",
             "N Morton St", "W 6th St", "S Madison St"]


def _iso(ts) -> str:
    """RFC 3339 with the offset the way GeoReport servers write it: 2024-03-10T01:30:00-05:00."""
    return ts.isoformat()


def make_b(out: Path) -> None:
    import pandas as pd

    rng = np.random.default_rng(20240310)
    local = Local(*B_CENTRE)
    polys = squares(local, 1000.0, 3, 2)
    props = [{"code": f"BLM-N{i + 1:02d}", "name": name,
              "note": "made-up square near the real neighbourhood, for the worked examples; not a real boundary"}
             for i, name in enumerate(B_NAMES)]
    write_layer(out / "bloomington_neighborhoods.geojson", polys, props)
    tz = "America/Indiana/Indianapolis"
    services = counted(rng, B_SPEC)
    # the planted requests (repeated, conflicting, at 0,0, outside, unlocated, fixed times) carry mapped
    # services other than Potholes: the 14 potholes (the only ones with an expected_datetime) are all stored
    special = {3, 5, 6, 7, 20, 21, 30, 45}
    for i in special:
        if services[i] in ("Graffiti", "Tree Maintenance", "Potholes"):
            j = next(k for k in range(len(services)) if k not in special
                     and services[k] not in ("Graffiti", "Tree Maintenance", "Potholes"))
            services[i], services[j] = services[j], services[i]
    reqs = []
    for i, service in enumerate(services):
        day = int(rng.integers(1, 21))
        local_t = pd.Timestamp(2024, 3, day) + pd.Timedelta(seconds=int(rng.integers(6 * 3600, 23 * 3600)))
        t = local_t.tz_localize(tz)
        g = int(rng.integers(len(polys)))
        lon, lat = point_inside(rng, polys[g], local)
        closed = bool(rng.random() < 0.6)
        updated = t + pd.Timedelta(hours=int(rng.integers(3, 96)))
        code, agency = B_SERVICES[service]
        reqs.append({
            "service_request_id": str(81_200 + i * 7),
            "status": "closed" if closed else "open",
            "status_notes": "Work order completed by crew." if closed else None,
            "service_name": service,
            "service_code": code,
            "description": B_TEXT[service],
            "agency_responsible": agency,
            "service_notice": None,
            "requested_datetime": _iso(t),
            "updated_datetime": _iso(updated),
            "expected_datetime": _iso(t + pd.Timedelta(days=5)) if service == "Potholes" else None,
            "address": f"{int(rng.integers(100, 1400))} {B_STREETS[int(rng.integers(len(B_STREETS)))]}, Bloomington, IN",
            "address_id": None,
            "zipcode": "47401" if lat < B_CENTRE[1] else "47404",
            "lat": lat,
            "long": lon,
            "media_url": f"https://bloomington.in.gov/media/{81_200 + i * 7}.jpg" if i % 5 == 0 else None,
        })
    # planted: the night the clocks go forward (02:00 EST -> 03:00 EDT on 10 March 2024), and a UTC time
    reqs[5]["requested_datetime"] = "2024-03-10T01:30:00-05:00"
    reqs[6]["requested_datetime"] = "2024-03-10T03:30:00-04:00"
    reqs[7]["requested_datetime"] = "2024-03-12T15:00:00Z"
    for i in (5, 6, 7):
        reqs[i]["updated_datetime"] = "2024-03-14T09:00:00-04:00"
    # planted: one at 0,0, one in Indianapolis, one with no location
    reqs[30].update({"lat": 0, "long": 0})
    reqs[45].update({"lat": 39.768403, "long": -86.158068, "address": "200 E Washington St, Indianapolis, IN",
                     "zipcode": "46204"})
    reqs[21].update({"lat": None, "long": None, "address": None, "zipcode": None})
    # planted: the same id twice with different content (the request was updated between two pages)
    changed = dict(reqs[20], status="closed", status_notes="Work order completed by crew.",
                   updated_datetime="2024-03-22T16:05:00-04:00")
    reqs[20]["status"], reqs[20]["status_notes"] = "open", None
    reqs.insert(33, changed)
    # planted: one request twice, exactly (the page boundary moved while paging)
    reqs.insert(50, dict(reqs[3]))
    (out / "bloomington_open311.json").write_text(json.dumps(reqs, indent=1) + "\n", encoding="utf-8")
    (out / "bloomington_open311.toml").write_text(B_MAPPING, encoding="utf-8")


B_MAPPING = """\
# Bloomington, IN: Open311 GeoReport v2 requests (GET /requests.json, all pages saved as one list).
# service_request_id, requested_datetime, status, description, address, lat, long, agency_responsible and
# expected_datetime are found by the built-in aliases; service_name is named so service_code stays in extra.
[columns]
category = "service_name"

[options]
timezone = "America/Indiana/Indianapolis"   # the times carry their offset; this is for the ones that do not

[values.category]
"Potholes" = "03.02.01"
"Streetlight Outage" = "03.01.01"
"Missed Trash Pickup" = "01.01.01"
"Parking Violation" = "02.01.04"
"Noise Complaint" = "05.02"
"""


# ---------------------------------------------------------------------------------------------
# c. Bath: FixMyStreet dashboard CSV export (the header of perllib/FixMyStreet/Reporting.pm)
# ---------------------------------------------------------------------------------------------
C_HEADER = ["Report ID", "Title", "Detail", "User Name", "Category", "Created", "Confirmed", "Acknowledged", "Fixed",
            "Closed", "Status", "Latitude", "Longitude", "Query", "Ward", "Easting", "Northing", "Report URL",
            "Device Type", "Site Used", "Reported As"]
C_CENTRE = (-2.3590, 51.3811)
C_WARDS = ["Kingsmead", "Walcot", "Bathwick", "Widcombe & Lyncombe", "Westmoreland", "Newbridge", "Lansdown"]
C_CELLS = [(0, 0), (1, -1), (1, 0), (0, 1), (-1, 1), (-1, 0), (0, -1)]
C_CATEGORIES = [("Potholes", 20), ("Street lighting", 12), ("Fly tipping", 14), ("Litter", 10),
                ("Abandoned vehicles", 6), ("Graffiti", 8), ("Dog fouling", 5), ("Blocked drains", 4)]
C_TITLES = {
    "Potholes": ["Pothole outside number {n}", "Large pothole at junction", "Road surface breaking up"],
    "Street lighting": ["Street light not working", "Lamp post flickering all night"],
    "Fly tipping": ["Mattress dumped in lane", "Bags of rubbish dumped by the bins"],
    "Litter": ["Overflowing litter bin", "Litter along the river path"],
    "Abandoned vehicles": ["Car with no tax parked for weeks"],
    "Graffiti": ["Graffiti on the bus shelter", "Tags sprayed on the wall"],
    "Dog fouling": ["Dog mess on the pavement by the school"],
    "Blocked drains": ["Drain blocked, road floods when it rains"],
}
# status -> share; the closed ones get a Closed time, the fixed ones a Fixed time
C_STATES = [("confirmed", 22), ("investigating", 8), ("action scheduled", 8), ("in progress", 6),
            ("fixed - council", 16), ("fixed - user", 6), ("closed", 4), ("unable to fix", 3), ("not responsible", 2),
            ("duplicate", 2), ("internal referral", 2)]
C_CLOSED = {"fixed - council", "fixed - user", "closed", "unable to fix", "not responsible", "duplicate"}
C_POSTCODES = ["BA1 1LZ", "BA1 2QH", "BA1 5BG", "BA2 4AX", "BA2 6AE", "BA1 3BN", "BA2 3DZ", "BA1 6PT", "BA2 1RN"]
C_NAMES = ["Alice Hughes", "Tom Price", "Sarah Patel", "David Evans", "(anonymous)", "Ruth Morgan", "James O'Neill",
           "Priya Shah", "(anonymous)"]
C_DEVICES = [("website", 48), ("iOS", 18), ("Android", 13)]


def make_c(out: Path) -> None:
    import pandas as pd
    from pyproj import Transformer

    rng = np.random.default_rng(20240503)
    local = Local(*C_CENTRE)
    polys = hexagons(local, 700.0, C_CELLS)
    props = [{"code": f"BATH-W{i + 1:02d}", "name": name,
              "note": "made-up hexagon near the real ward, for the worked examples; not a real boundary"}
             for i, name in enumerate(C_WARDS)]
    write_layer(out / "bath_wards.geojson", polys, props)
    bng = Transformer.from_crs(4326, 27700, always_xy=True)
    n = 79  # distinct reports; the 80th line repeats one of them
    cats = counted(rng, C_CATEGORIES)
    states = counted(rng, C_STATES)
    devices = counted(rng, C_DEVICES)
    # the repeated report (10) and the one outside the wards (60) carry no unmapped value
    for i in (10, 60):
        for seq, bad in ((cats, ("Dog fouling", "Blocked drains")), (states, ("internal referral",))):
            if seq[i] in bad:
                j = next(k for k in range(n) if k not in (10, 60) and seq[k] not in bad)
                seq[i], seq[j] = seq[j], seq[i]
    rows = []
    for i in range(n):
        rid = 7_401_100 + i * 13
        day = int(rng.integers(1, 31))
        created = pd.Timestamp(2024, 4, day) + pd.Timedelta(seconds=int(rng.integers(7 * 3600, 22 * 3600)))
        confirmed = created + pd.Timedelta(seconds=int(rng.integers(20, 900)))
        state = states[i]
        ack = confirmed + pd.Timedelta(hours=int(rng.integers(2, 48))) if state != "confirmed" else None
        closed = ack + pd.Timedelta(days=int(rng.integers(1, 12))) if state in C_CLOSED else None
        fixed = closed if state.startswith("fixed") else None
        w = int(rng.integers(len(polys)))
        lon, lat = point_inside(rng, polys[w], local)
        e, nn = bng.transform(lon, lat)
        cat = cats[i]
        title = C_TITLES[cat][int(rng.integers(len(C_TITLES[cat])))].format(n=int(rng.integers(2, 90)))
        detail = f"{title}. Reported near {C_POSTCODES[int(rng.integers(len(C_POSTCODES)))]}."
        if i % 9 == 4:  # FixMyStreet keeps the reporter's line breaks; the CSV quotes them
            detail = f"{title}.\nIt has been like this for a while,\nplease can someone look at it?"
        device = devices[i]
        rows.append({
            "Report ID": str(rid), "Title": title, "Detail": detail,
            "User Name": C_NAMES[int(rng.integers(len(C_NAMES)))], "Category": cat,
            "Created": created.strftime("%Y-%m-%dT%H:%M:%S"), "Confirmed": confirmed.strftime("%Y-%m-%dT%H:%M:%S"),
            "Acknowledged": ack.strftime("%Y-%m-%dT%H:%M:%S") if ack is not None else "",
            "Fixed": fixed.strftime("%Y-%m-%dT%H:%M:%S") if fixed is not None else "",
            "Closed": closed.strftime("%Y-%m-%dT%H:%M:%S") if closed is not None else "",
            "Status": state, "Latitude": f"{lat:.6f}", "Longitude": f"{lon:.6f}",
            "Query": C_POSTCODES[int(rng.integers(len(C_POSTCODES)))], "Ward": C_WARDS[w],
            "Easting": str(round(e)), "Northing": str(round(nn)),
            "Report URL": f"https://www.fixmystreet.com/report/{rid}", "Device Type": device,
            "Site Used": "bathnes" if device == "website" and i % 3 else "fixmystreet",
            "Reported As": "",
        })
    # planted: a winter time and a summer time (British Summer Time began on 31 March 2024)
    rows[0].update({"Created": "2024-03-15T12:00:00", "Confirmed": "2024-03-15T12:04:10"})
    rows[1].update({"Created": "2024-04-03T08:15:33", "Confirmed": "2024-04-03T08:16:02"})
    # planted: a report in Keynsham, outside the loaded wards
    e, nn = bng.transform(-2.4970, 51.4140)
    rows[60].update({"Latitude": "51.414000", "Longitude": "-2.497000", "Ward": "Keynsham North",
                     "Query": "BS31 1HL", "Easting": str(round(e)), "Northing": str(round(nn))})
    rows.insert(41, dict(rows[10]))  # two overlapping exports pasted together: one report twice
    with (out / "bath_fixmystreet.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=C_HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    (out / "bath_fixmystreet.toml").write_text(C_MAPPING, encoding="utf-8")


C_MAPPING = """\
# Bath: FixMyStreet dashboard export ("Download a CSV of these reports"). Latitude, Longitude and Category are
# found by the built-in aliases; Title, Acknowledged, Fixed, Query, Ward, Easting, Northing, Report URL,
# Site Used and Reported As are kept with each ticket.
[columns]
source_id = "Report ID"
received_at = "Created"
text = "Detail"
caller_name = "User Name"     # masked for anyone not handling the report
closed_at = "Closed"
status = "Status"
channel = "Device Type"

[options]
timezone = "Europe/London"

[values.channel]
"website" = "web"
"iOS" = "app"
"Android" = "app"

[values.status]
"confirmed" = "open"
"investigating" = "open"
"action scheduled" = "open"
"in progress" = "open"
"fixed - council" = "closed"
"fixed - user" = "closed"
"closed" = "closed"
"unable to fix" = "closed"
"not responsible" = "closed"
"duplicate" = "closed"

[values.category]
"Potholes" = "03.02.01"
"Street lighting" = "03.01.01"
"Fly tipping" = "01.01.01"
"Litter" = "01.01.01"
"Abandoned vehicles" = "02.01.04"
"Graffiti" = "99.99.99"        # no graffiti category of ours: other, on purpose (not reported as unknown)
"""


# ---------------------------------------------------------------------------------------------
# d. Chicago: a US 311 export (month-first dates, 12-hour clock, NA), a grids-only city
# ---------------------------------------------------------------------------------------------
D_HEADER = ["SR_NUMBER", "SR_TYPE", "SR_SHORT_CODE", "OWNER_DEPARTMENT", "STATUS", "ORIGIN", "CREATED_DATE",
            "LAST_MODIFIED_DATE", "CLOSED_DATE", "STREET_ADDRESS", "CITY", "STATE", "ZIP_CODE", "COMMUNITY_AREA",
            "LATITUDE", "LONGITUDE"]
D_CENTRE = (-87.6420, 41.8850)
# (community area number, name, axial cell): roughly where the real areas lie around the Loop
D_AREAS = [(32, "Loop", (0, 0)), (8, "Near North Side", (0, -1)), (28, "Near West Side", (-1, 0)),
           (33, "Near South Side", (0, 1)), (24, "West Town", (-1, -1)), (7, "Lincoln Park", (0, -2)),
           (31, "Lower West Side", (-1, 1)), (34, "Armour Square", (0, 2)), (35, "Douglas", (1, 1))]
D_TYPES = {  # SR_TYPE -> (SR_SHORT_CODE, OWNER_DEPARTMENT)
    "Streetlight Out": ("SLA", "CDOT - Department of Transportation"),
    "Alley Light Out": ("SFA", "CDOT - Department of Transportation"),
    "Pothole in Street Complaint": ("PHF", "CDOT - Department of Transportation"),
    "Abandoned Vehicle Complaint": ("SKA", "Streets and Sanitation"),
    "Sanitation Code Violation": ("SCB", "Streets and Sanitation"),
    "Graffiti Removal Request": ("GRAF", "Streets and Sanitation"),
    "Rodent Baiting/Rat Complaint": ("SGA", "Streets and Sanitation"),
}
# 99 distinct requests; the last two types and "Alderman's Office" are not in the mapping file
D_SPEC = [("Streetlight Out", 24), ("Alley Light Out", 10), ("Pothole in Street Complaint", 22),
          ("Abandoned Vehicle Complaint", 12), ("Sanitation Code Violation", 14), ("Graffiti Removal Request", 11),
          ("Rodent Baiting/Rat Complaint", 6)]
D_STATUSES = [("Completed", 54), ("Open", 22), ("Canceled", 23)]
D_ORIGINS = [("Phone", 45), ("Mobile App", 26), ("Internet", 15), ("E-Mail", 8), ("Alderman's Office", 5)]
D_STREETS = ["N STATE ST", "W MADISON ST", "S MICHIGAN AVE", "W RANDOLPH ST", "N CLARK ST", "S HALSTED ST",
             "W CHICAGO AVE", "S WABASH AVE", "W ROOSEVELT RD", "N MILWAUKEE AVE"]
D_UNMAPPED = ("Graffiti Removal Request", "Rodent Baiting/Rat Complaint", "Alderman's Office")


def _us(ts) -> str:
    """12/31/2017 11:59:58 PM: month first, 12-hour clock (the Socrata data portal's CSV form)."""
    return ts.strftime("%m/%d/%Y %I:%M:%S %p")


def make_d(out: Path) -> None:
    import pandas as pd

    rng = np.random.default_rng(20171231)
    local = Local(*D_CENTRE)
    polys = hexagons(local, 1600.0, [cell for _, _, cell in D_AREAS])
    props = [{"code": f"CA{num:02d}", "name": name, "area_number": num,
              "note": "made-up hexagon near the real community area, for the worked examples; not a real boundary"}
             for num, name, _ in D_AREAS]
    write_layer(out / "chicago_community_areas.geojson", polys, props)
    n = 99
    types, origins, statuses = counted(rng, D_SPEC), counted(rng, D_ORIGINS), counted(rng, D_STATUSES)
    # the planted rows (times, the repeat, outside, no time) carry mapped values and are Completed, so the
    # 22 open requests are all stored once; the row without a location (90) is ordinary but for that
    special = {0, 1, 2, 3, 10, 50, 70}
    for seq, bad in ((types, D_UNMAPPED), (origins, D_UNMAPPED), (statuses, ("Open", "Canceled"))):
        for i in special | ({90} if seq is not statuses else set()):
            if seq[i] in bad:
                j = next(k for k in range(n) if k not in special and k != 90 and seq[k] not in bad)
                seq[i], seq[j] = seq[j], seq[i]
    start = pd.Timestamp(2017, 12, 1)
    rows = []
    for i in range(n):
        created = start + pd.Timedelta(seconds=int(rng.integers(0, 62 * 24 * 3600)))
        status = statuses[i]
        closed = created + pd.Timedelta(minutes=int(rng.integers(30, 14 * 24 * 60))) if status != "Open" else None
        modified = closed if closed is not None else created + pd.Timedelta(hours=int(rng.integers(1, 72)))
        a = int(rng.integers(len(polys)))
        lon, lat = point_inside(rng, polys[a], local, inset_m=80.0)
        sr_type = types[i]
        code, dept = D_TYPES[sr_type]
        rows.append({
            "SR_NUMBER": f"SR{17 if created.year == 2017 else 18}-{int(rng.integers(10**7, 10**8)):08d}",
            "SR_TYPE": sr_type, "SR_SHORT_CODE": code, "OWNER_DEPARTMENT": dept, "STATUS": status,
            "ORIGIN": origins[i], "CREATED_DATE": _us(created), "LAST_MODIFIED_DATE": _us(modified),
            "CLOSED_DATE": _us(closed) if closed is not None else "NA",
            "STREET_ADDRESS": f"{int(rng.integers(1, 3000))} {D_STREETS[int(rng.integers(len(D_STREETS)))]}",
            "CITY": "Chicago", "STATE": "Illinois", "ZIP_CODE": str(60600 + int(rng.integers(1, 62))),
            "COMMUNITY_AREA": str(D_AREAS[a][0]), "LATITUDE": f"{lat:.6f}", "LONGITUDE": f"{lon:.6f}",
        })
    # planted times: the last seconds of 2017, just after midnight (12 AM) and just after noon (12 PM)
    for i, created in ((0, "12/31/2017 11:59:58 PM"), (1, "01/01/2018 12:00:05 AM"), (2, "01/01/2018 12:30:00 PM"),
                       (3, "12/01/2017 08:05:00 AM")):
        rows[i].update({"CREATED_DATE": created, "LAST_MODIFIED_DATE": "01/02/2018 09:00:00 AM",
                        "CLOSED_DATE": "01/02/2018 09:00:00 AM"})
        rows[i]["SR_NUMBER"] = f"SR{created.split()[0][-2:]}-0000000{i + 1}"
    # planted: O'Hare, outside the loaded areas; no received time; no location
    rows[50].update({"LATITUDE": "41.978600", "LONGITUDE": "-87.904800", "STREET_ADDRESS": "10000 W OHARE ST",
                     "ZIP_CODE": "60666", "COMMUNITY_AREA": "76"})
    rows[70].update({"CREATED_DATE": "NA"})
    rows[90].update({"LATITUDE": "NA", "LONGITUDE": "NA", "COMMUNITY_AREA": "NA"})
    rows.insert(60, dict(rows[10]))  # one request twice
    with (out / "chicago_311.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=D_HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    (out / "chicago_311.toml").write_text(D_MAPPING, encoding="utf-8")


D_MAPPING = """\
# Chicago 311 service requests (data portal CSV, cleaned in R: blanks written NA).
[columns]
source_id = "SR_NUMBER"
received_at = "CREATED_DATE"
closed_at = "CLOSED_DATE"
category = "SR_TYPE"
channel = "ORIGIN"
handling_unit = "OWNER_DEPARTMENT"
address = "STREET_ADDRESS"
# STATUS, LATITUDE and LONGITUDE are found by the built-in aliases; COMMUNITY_AREA and the other
# columns are kept with each ticket.

[options]
timezone = "America/Chicago"   # CREATED_DATE is Chicago wall-clock time, no offset
date_order = "MDY"             # 12/31/2017 is month first (inferred anyway; saying it is safer)
# NA is a blank token by default (blank_tokens)

[values.channel]
"Phone" = "hotline_12345"      # 311 by phone is the city's hotline
"Mobile App" = "app"
"Internet" = "web"
"E-Mail" = "web"

[values.status]
"Completed" = "closed"
"Canceled" = "closed"

[values.category]
"Streetlight Out" = "03.01.01"
"Alley Light Out" = "03.01.01"
"Pothole in Street Complaint" = "03.02.01"
"Abandoned Vehicle Complaint" = "02.01.04"
"Sanitation Code Violation" = "01.01.01"
"""


def main() -> None:
    make_a(HERE)
    make_b(HERE)
    make_c(HERE)
    make_d(HERE)
    for p in sorted(HERE.iterdir()):
        if p.suffix != ".py":
            print(f"{p.name:40s} {p.stat().st_size:>7,} bytes")


if __name__ == "__main__":
    main()
