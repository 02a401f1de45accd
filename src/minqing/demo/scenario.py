"""Seeded demo scenario: two years of synthetic 12345 work orders with planted stories.

:func:`generate_demo` turns the demo city's layers (units and places) into a
ticket table that looks like a real 12345 export, plus the exact ground truth
of what was planted in it: which grid version and place every ticket was
sampled in, the stories of DESIGN.md section 1 and the interventions behind
them.  It is a pure function of its arguments: the same seed gives identical
DataFrames, and it does no I/O (:func:`write_truth` writes the truth out).

Background
    Every current grid gets a rate proportional to its population times a
    gamma-distributed grid effect.  Days follow a weekly rhythm (fewer on
    weekends), a seasonal rhythm (more in summer, holiday dips) and a slight
    trend; categories have their own season (noise, leaks, fumes, elevators in
    summer; streetlights in winter).  About 30 % of the background is "at" a
    place (compounds draw property management, road stretches traffic and
    municipal issues, hospital entrances order and parking).  Tickets of a grid
    that changed boundary are sampled in the version valid when received.

Stories (keys of :attr:`DemoScenario.stories` and of ``truth.story``)
    ``a_hospital_entrance``  安图医院门口: shared bikes, illegal taxis, order at the
        entrance.  Enforcement (2025-01-06) is rated 不满意 and changes nothing;
        the joint meeting (2025-04-20, in place 2025-06-20) cuts counts by 60 %
        and follow-ups turn 满意.  Expected verdict ``improved``.
    ``b_bike_shed``  内江小区 bike shed: proactive visits and works on 2025-09-01;
        12345 problem tickets fall 70 %, proactive-channel tickets rise, praise
        calls arrive.  ``improved``.
    ``c_truck_parking``  trucks parked along a road stretch (军工路 if present),
        about 20 a month all along the line, no intervention: a hotspot.
    ``d_streetlights``  bursts of streetlight failures along 6-8 road stretches,
        more in winter; a category-wide works campaign in 2025-11, before the
        dark season, so the after window holds a winter to compare.  ``improved``.
    ``e_elevator_relapse``  a compound's elevator fixed on 2025-05-01 (-70 %);
        from 2026-03-01 counts climb back to baseline by 2026-06-01 (回潮).
    ``f_regression_to_mean``  a compound with stationary fumes complaints, a
        random 3x month, and enforcement the month after; the enforcement does
        nothing.  ``no_clear_change`` (a naive before/after says improved).
    ``g_qr_code``  a sub-district launches QR codes on 2025-10-01: +150 % extra
        tickets via ``qr_code`` for minor issues; other channels unchanged.
        ``no_clear_change`` in problems.
    ``h_fumes_shop_row``  fumes at a shop row in one grid of 殷行街道, fixed by a
        joint meeting (2025-09-15, in place 2025-10-31; ten months of history
        before it): -75 %.  ``improved``.

How story places are chosen (no place ids are assumed)
    a: the ``hospital_entrance`` named 安图医院门口, else one whose name contains
       安图, else the first in 长白新村街道 (310110013), else the first; ordered
       by place_id.
    b: the ``compound`` named 内江小区, else containing 内江, else the first in
       延吉新村街道 (310110015), else the first.
    c: the first ``road_stretch`` whose name contains 军工路, else the first.
    d: up to 8 road stretches other than c, by place_id (c is added when fewer
       than 6 others exist).
    e, f: seeded picks (a Generator spawned from ``seed``) among the compounds
       not used by other stories, preferring a sub-district other than b's
       (e) and other than b's and e's (f).
    g: 殷行街道 (310110016), chosen because DESIGN.md's 殷行 story is about
       proactive intake; else 长白新村街道 (310110013); else the most populous.
    h: a seeded pick among the grids of 殷行街道 (else g's sub-district) that
       have not changed boundary; the shop row is a 100 m stretch at a seeded
       interior point.

All story rates are base rates before genuine repeat calls, which are added
to ~8 % of all tickets (same place, category and point within 72 hours).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from pyproj import Transformer

from minqing import model
from minqing.errors import ConfigError, GeodataError

__all__ = ["DemoScenario", "generate_demo", "write_truth", "STORY_KEYS"]

METRIC_CRS = "EPSG:32651"
"""UTM zone 51N: metres for Shanghai."""

STORY_KEYS = (
    "a_hospital_entrance",
    "b_bike_shed",
    "c_truck_parking",
    "d_streetlights",
    "e_elevator_relapse",
    "f_regression_to_mean",
    "g_qr_code",
    "h_fumes_shop_row",
)

TICKET_OUTPUT_COLUMNS = tuple(c for c in model.TICKET_COLUMNS if c not in model.LINK_COLUMNS)
TRUTH_COLUMNS = ("source_id", "grid_code", "grid_valid_from", "place_id", "story")
TARGET_COLUMNS = ("intervention_id", "target_type", "target_id")

LEAF_CATEGORIES = tuple(c for c, node in model.CATEGORIES.items() if node.level == 3)

_DAYS_PER_MONTH = 30.44
_REPEAT_SHARE = 0.08  # share of all tickets that are repeat calls
_UNLOCATED_SHARE = 0.07
_PLACE_SHARE = 0.30
_TEXT_CONTACT_SHARE = 0.05

# --------------------------------------------------------------------------
# Vocabularies of the generator
# --------------------------------------------------------------------------

# Background category weights (leaf codes; any leaf not named gets weight 1).
_GENERAL_MIX = {
    "01.01.01": 6, "01.01.02": 3, "01.02.01": 4, "01.03.01": 4,
    "02.01.01": 4, "02.01.02": 1, "02.01.03": 1.5, "02.01.04": 7, "02.02.01": 3,
    "03.01.01": 3, "03.02.01": 4, "03.02.02": 1,
    "04.01.01": 4, "04.02.01": 2, "04.02.02": 2, "04.03.01": 8, "04.03.02": 5,
    "05.01.01": 5, "05.02.01": 4, "06.01.01": 2, "06.01.02": 2,
    "07.01.01": 1, "08.01.01": 8, "08.02.01": 2, "99.99.99": 8,
}
_PLACE_MIX = {
    "compound": {
        "04.01.01": 10, "04.02.01": 7, "04.02.02": 6, "04.03.01": 20, "04.03.02": 12,
        "06.01.01": 8, "06.01.02": 7, "01.01.01": 8, "01.01.02": 6, "05.02.01": 6,
        "05.01.01": 2, "01.03.01": 3, "99.99.99": 5,
    },
    # No 03.01.01 here: streetlights along road stretches are story d's alone.
    "road_stretch": {
        "02.01.04": 25, "02.02.01": 15, "03.02.01": 15, "03.02.02": 8, "02.01.03": 7,
        "01.02.01": 12, "05.01.01": 8, "02.01.01": 10,
    },
    "hospital_entrance": {"07.01.01": 35, "02.01.04": 25, "02.01.01": 20, "02.01.02": 15, "02.02.01": 5},
}
_PLACE_KIND_WEIGHT = {"hospital_entrance": 2.0, "road_stretch": 3.0, "compound": 1.0, "other": 1.0}

# Seasonal amplitude per category prefix: factor 1 + a*cos(2*pi*(doy - 196)/365.25)
# (peak mid-July for a > 0, mid-January for a < 0).
_SEASON = {"05": 0.35, "04.03.02": 0.4, "01.03.01": 0.2, "04.01.01": 0.15, "01.01.01": 0.2, "03.01.01": -0.45}

_CHANNEL_MIX = {
    "hotline_12345": 0.70, "app": 0.06, "web": 0.04, "miniprogram": 0.05,
    "grid_patrol": 0.04, "community_log": 0.03, "proactive": 0.03,
    "petition": 0.01, "other": 0.04,
}
_CITIZEN_CHANNELS = {"hotline_12345": 0.82, "app": 0.07, "miniprogram": 0.05, "web": 0.03, "other": 0.03}
_KIND_MIX = {"complaint": 0.45, "help": 0.20, "consult": 0.20, "report": 0.07, "suggestion": 0.05,
             "praise": 0.02, "other": 0.01}
_KIND_MIX_POLICY = {"consult": 0.75, "help": 0.15, "suggestion": 0.05, "complaint": 0.03, "praise": 0.02}
_KIND_MIX_PROACTIVE = {"report": 0.4, "help": 0.4, "suggestion": 0.1, "complaint": 0.1}

_WEEKDAY = np.array([1.04, 1.0, 1.0, 1.0, 0.98, 0.72, 0.66])
_HOURS = np.array([0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 0.8, 2.5, 5, 7.5, 8, 7.5, 5, 6, 7.5, 7.5, 7, 6, 5, 5.5, 5.5,
                   4.5, 3, 1.5])
_HOLIDAYS = (("2025-01-28", "2025-02-04", 0.65), ("2026-02-16", "2026-02-23", 0.65),
             ("2025-10-01", "2025-10-07", 0.8), ("2026-10-01", "2026-10-07", 0.8))

_SD = "{sd}"  # placeholder: the ticket's sub-district office
_HANDLING = {
    "01.01": {"杨浦区绿化市容局": 0.5, _SD: 0.5},
    "01.02": {"杨浦区城管执法局": 0.7, _SD: 0.3},
    "01.03": {"杨浦区城管执法局": 0.5, "杨浦区生态环境局": 0.3, _SD: 0.2},
    "02.01.01": {"杨浦区建管委": 0.5, _SD: 0.5},
    "02.01.02": {"杨浦公安分局交警支队": 0.6, "杨浦区交通执法大队": 0.4},
    "02.01": {"杨浦公安分局交警支队": 0.8, _SD: 0.2},
    "02.02": {"杨浦公安分局交警支队": 1.0},
    "03": {"杨浦区建管委": 0.6, "杨浦区市政和水务管理事务中心": 0.4},
    "04": {"杨浦区房管局": 0.5, _SD: 0.5},
    "05.01": {"杨浦区城管执法局": 0.6, "杨浦区建管委": 0.4},
    "05.02": {"杨浦公安分局": 0.5, _SD: 0.5},
    "06.01.01": {"杨浦区消防救援支队": 0.5, _SD: 0.5},
    "06.01.02": {"杨浦区消防救援支队": 0.3, "杨浦区房管局": 0.3, _SD: 0.4},
    "07": {"杨浦区卫生健康委": 0.5, "杨浦公安分局交警支队": 0.3, _SD: 0.2},
    "08.01": {"杨浦区人社局": 0.5, "杨浦区医保局": 0.5},
    "08.02": {"杨浦区民政局": 0.6, _SD: 0.4},
    "99": {_SD: 1.0},
}

# Roads per sub-district (real Yangpu street names) for street addresses.
_ROADS = {
    "310110001": ("定海路", "隆昌路", "波阳路", "爱国路", "杨树浦路", "军工路"),
    "310110006": ("平凉路", "霍山路", "惠民路", "临青路", "杨树浦路"),
    "310110008": ("江浦路", "许昌路", "辽源西路", "长阳路", "周家嘴路"),
    "310110009": ("四平路", "铁岭路", "阜新路", "鞍山路", "抚顺路"),
    "310110012": ("控江路", "延吉西路", "凤城路", "靖宇南路", "江浦路"),
    "310110013": ("长白路", "松花江路", "安图路", "延吉东路", "包头路", "军工路"),
    "310110015": ("延吉中路", "内江路", "水丰路", "双阳路", "控江路"),
    "310110016": ("殷行路", "开鲁路", "嫩江路", "市光路", "国和路", "民京路", "闸殷路"),
    "310110018": ("黄兴路", "长阳路", "眉州路", "许昌路", "平凉路"),
    "310110019": ("武东路", "国定路", "政通路", "邯郸路", "国权路", "淞沪路"),
    "310110020": ("政和路", "殷行路", "国晓路", "淞沪路", "政立路"),
    "310110021": ("营口路", "长海路", "国和路", "政立路", "翔殷路", "黄兴路"),
    "": ("黄兴路", "控江路", "国和路", "长阳路", "四平路", "殷行路", "营口路"),
}

# Problem phrases per leaf category: (before address, after address).
_PROBLEMS = {
    "01.01.01": (("", "的生活垃圾好几天没人清运，气味很大"), ("", "垃圾桶已经满出来了，垃圾堆在地上没人收")),
    "01.01.02": (("", "的垃圾分类投放点管理混乱，干湿垃圾混投"), ("", "的垃圾厢房定时投放时间不合理，居民投放不便")),
    "01.02.01": (("", "有无证摊贩占道经营，影响通行"), ("", "路边流动摊贩很多，晚上尤其严重")),
    "01.03.01": (("", "的饭店油烟直排，熏得窗户都不敢开"), ("", "餐饮店油烟很大，气味刺鼻")),
    "02.01.01": (("", "共享单车乱停乱放，人行道被堵死"), ("", "门口共享单车堆积如山，轮椅和推车都过不去")),
    "02.01.02": (("", "有黑车聚集拉客，秩序混乱"), ("", "门口非法营运车辆长期揽客，存在安全隐患")),
    "02.01.03": (("", "大货车长期停在路边，挡住视线，很危险"), ("", "沿线有重型货车违停过夜，占用车道")),
    "02.01.04": (("", "机动车乱停放，占用人行道"), ("", "车辆违停严重，消防车都进不来")),
    "02.02.01": (("", "早晚高峰拥堵严重，希望优化信号灯"), ("", "交通秩序混乱，经常堵车")),
    "03.01.01": (("", "的路灯不亮，晚上漆黑一片"), ("", "有好几盏路灯坏了，夜里走路不安全")),
    "03.02.01": (("", "路面破损坑洼，下雨积水"), ("", "人行道地砖松动破损，老人容易摔倒")),
    "03.02.02": (("", "有井盖缺失，非常危险"), ("", "的窨井盖破损下陷，车辆经过咣当响")),
    "04.01.01": (("", "的电梯又坏了，老人上下楼很困难"), ("", "电梯经常故障停运，还有困人的情况")),
    "04.02.01": (("", "的非机动车棚又脏又乱，灯也不亮"), ("", "车棚里堆满废旧自行车，没法停车")),
    "04.02.02": (("", "车棚没有充电桩，居民只能飞线充电"), ("", "的充电设施不够用，经常要排队")),
    "04.03.01": (("", "物业服务差，保洁、保安都不到位"), ("", "的物业不作为，报修一直没人来")),
    "04.03.02": (("", "楼上漏水，家里天花板渗水严重"), ("", "的屋顶漏水，物业一直推诿")),
    "05.01.01": (("", "附近工地夜间施工，噪声很大影响休息"), ("", "工地晚上十点后还在施工作业")),
    "05.02.01": (("", "广场舞音响声音太大，晚上影响休息"), ("", "每天晚上跳广场舞的音乐很吵")),
    "06.01.01": (("", "消防通道被车辆和杂物堵塞"), ("", "的消防通道长期被占用，存在隐患")),
    "06.01.02": (("", "有居民把电动车推进楼道充电，很危险"), ("", "楼道里飞线给电动车充电，担心起火")),
    "07.01.01": (("", "就医秩序混乱，门口车辆行人挤成一团"), ("", "门口人车混行，救护车进出困难")),
    "08.01.01": (("家住", "，咨询医保报销比例和办理流程"), ("家住", "，咨询退休后社保待遇如何办理")),
    "08.02.01": (("家住", "，咨询社区老年助餐服务怎么申请"), ("", "附近长者食堂的助餐服务想了解一下报名方式")),
    "99.99.99": (("", "有其他问题需要反映"), ("关于", "的相关问题，希望有关部门关注")),
}
_KIND_WRAP = {
    "complaint": (("市民投诉：", "，多次反映未果，要求尽快处理。"), ("来电人反映：", "，严重影响生活，希望相关部门管一管。")),
    "help": (("市民求助：", "，请帮忙协调解决。"), ("来电求助：", "，希望尽快派人来看看。")),
    "consult": (("市民咨询：", "，想了解该找哪个部门、多久能处理。"), ("来电咨询：", "。")),
    "report": (("市民举报：", "，请有关部门依法查处。"), ("来电举报：", "，请尽快处理。")),
    "suggestion": (("市民建议：", "，建议加强日常管理和巡查。"), ("来电建议：", "，希望能统筹解决。")),
    "other": (("市民来电：", "。"), ("来电反映：", "。")),
}
_CHANNEL_PREFIX = {
    "grid_patrol": "网格员巡查发现：",
    "community_log": "民情日志记录：居民反映",
    "proactive": "未诉先办：走访中发现",
    "qr_code": "扫码上报：",
}
_SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤")
_GIVEN = tuple("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅林文辉鹏飞丹萍海燕晨宇浩婷雪琳佳欣怡子涵嘉俊凯峰斌宏波亮云莉琴颖慧")
_PHONE_2ND = np.array(list("3456789"))
_PHONE_2ND_P = np.array([0.3, 0.05, 0.1, 0.05, 0.15, 0.3, 0.05])


@dataclass(frozen=True, eq=False)
class DemoScenario:
    """A generated demo: tickets, their ground truth, interventions and stories.

    Attributes
    ----------
    tickets : DataFrame
        Columns ``model.TICKET_COLUMNS`` without ``model.LINK_COLUMNS``.
    truth : DataFrame
        One row per ticket: source_id, grid_code, grid_valid_from, place_id, story.
    interventions : DataFrame
        Columns ``model.INTERVENTION_COLUMNS``.
    intervention_targets : DataFrame
        intervention_id, target_type ("place", "grid" or "cell"), target_id.
    stories : dict
        JSON-serialisable ground truth of every planted story, keyed by story.
    params : dict
        The arguments the scenario was generated with.
    """

    tickets: pd.DataFrame
    truth: pd.DataFrame
    interventions: pd.DataFrame
    intervention_targets: pd.DataFrame
    stories: dict
    params: dict = field(default_factory=dict)


def generate_demo(
    units: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    *,
    seed: int = 20250401,
    start: str = "2024-11-01",
    end: str = "2026-10-31",
    n_target: int = 200_000,
) -> DemoScenario:
    """Generate the seeded demo scenario for the demo city.

    Parameters
    ----------
    units : GeoDataFrame
        All unit levels in one frame (EPSG:4326) with ``code``, ``level``,
        ``parent_code``, ``population``, ``valid_from``, ``valid_to``.
    places : GeoDataFrame
        The places layer (EPSG:4326) with ``place_id``, ``kind``, ``name`` and
        optionally ``aliases``, ``radius_m``, ``buffer_m``, ``subdistrict_code``.
    seed : int
        Seed of every random draw; the same seed gives identical frames.
    start, end : str
        First and last day ("YYYY-MM-DD") of received tickets, local time.
    n_target : int
        Approximate number of tickets (at least 10,000).

    Returns
    -------
    DemoScenario
    """
    _check_inputs(units, places, start, end, n_target)
    world = _World(units, places)
    cal = _Calendar(start, end)
    names = ("select", "stories", "background", "repeats", "handling", "people", "text", "locate", "kinds")
    rngs = dict(zip(names, (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(names)))))
    acc = _Accumulator(world, cal)
    selection = _select(world, rngs["select"])
    stories, interventions = _plant_stories(acc, selection, cal, rngs["stories"], rngs["select"])
    _background(acc, selection, cal, rngs["background"], n_target)
    frame = acc.realise(rngs["locate"])
    _fill_kinds(frame, rngs["kinds"])
    frame = _add_repeats(frame, world, cal, rngs["repeats"])
    tickets, truth = _finish(frame, world, cal, rngs)
    interventions_df, targets_df = _intervention_frames(interventions)
    for key, story in stories.items():
        sel = truth["story"] == key
        story["n_tickets"] = int(sel.sum())
    params = {"seed": int(seed), "start": start, "end": end, "n_target": int(n_target)}
    return DemoScenario(tickets, truth, interventions_df, targets_df, stories, params)


def write_truth(scenario: DemoScenario, path: Path | str) -> tuple[Path, Path]:
    """Write the stories and interventions as JSON and the per-ticket truth as parquet.

    Parameters
    ----------
    scenario : DemoScenario
    path : path
        The JSON file; the parquet file goes beside it (``path.with_suffix(".parquet")``).

    Returns
    -------
    (Path, Path)
        The JSON and parquet paths.
    """
    path = Path(path)
    doc = {
        "params": scenario.params,
        "stories": scenario.stories,
        "interventions": scenario.interventions.astype(object).where(scenario.interventions.notna(), None)
        .to_dict(orient="records"),
        "intervention_targets": scenario.intervention_targets.to_dict(orient="records"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
    pq = path.with_suffix(".parquet")
    scenario.truth.to_parquet(pq, index=False)
    return path, pq


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"not JSON-serialisable: {value!r}")


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


def _check_inputs(units, places, start, end, n_target) -> None:
    for name, frame, need in (
        ("units", units, ("code", "level", "parent_code", "population", "valid_from", "valid_to")),
        ("places", places, ("place_id", "kind", "name")),
    ):
        if not isinstance(frame, gpd.GeoDataFrame):
            raise GeodataError(f"{name} must be a GeoDataFrame, got {type(frame).__name__}",
                               key="error.geodata", what=name)
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise GeodataError(f"{name} is missing column(s) {missing}; the demo needs {list(need)}",
                               key="error.geodata_columns", columns=", ".join(missing))
        if frame.crs is None or not frame.crs.equals("EPSG:4326", ignore_axis_order=True):
            raise GeodataError(f"{name} must be in EPSG:4326, got {frame.crs}; call .to_crs(4326) first",
                               key="error.layer_crs", path=name)
    if not (units["level"] == "grid").any():
        raise GeodataError("units have no grid level; the demo samples tickets in grids", key="error.no_grids")
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    if t1 <= t0 + pd.Timedelta(days=60):
        raise ConfigError(f"end ({end}) must be at least 60 days after start ({start})", key="error.demo_span",
                          start=str(start), end=str(end))
    if int(n_target) < 10_000:
        raise ConfigError(f"the demo needs at least 10000 tickets (its stories alone need a few thousand), "
                          f"got {n_target}; use --tickets 10000 or more", key="error.demo_tickets", n=str(n_target))


class _Calendar:
    """Days of the period with their weights, months and local epoch seconds."""

    def __init__(self, start: str, end: str):
        days = pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D")
        self.start = days[0]
        self.n = len(days)
        self.sec0 = days.values.astype("datetime64[s]").astype(np.int64)
        self.snapshot = int(self.sec0[-1] + 86400)  # the export is taken at midnight after `end`
        self.dow = days.day_of_week.to_numpy()
        self.doy = days.day_of_year.to_numpy()
        self.month = ((days.year - days[0].year) * 12 + days.month - days[0].month).to_numpy()
        self.n_months = int(self.month.max()) + 1
        self.month_labels = [f"{(days[0].year * 12 + days[0].month - 1 + m) // 12}-"
                             f"{(days[0].month - 1 + m) % 12 + 1:02d}" for m in range(self.n_months)]
        season = 1 + 0.15 * np.cos(2 * np.pi * (self.doy - 196) / 365.25)
        hol = np.ones(self.n)
        for a, b, f in _HOLIDAYS:
            hol[(days >= pd.Timestamp(a)) & (days <= pd.Timestamp(b))] = f
        self.weekday = _WEEKDAY[self.dow] / _WEEKDAY.mean()
        self.weight = self.weekday * season * hol * (1 + 0.04 * np.arange(self.n) / 365)
        self.p = self.weight / self.weight.sum()
        self.hour_p = _HOURS / _HOURS.sum()
        mid = np.array([self.doy[self.month == m].mean() for m in range(self.n_months)])
        self.month_doy = mid

    def day(self, date: str) -> float:
        """Day index of a date (may lie outside the period)."""
        return float((pd.Timestamp(date) - self.start).days)

    def times(self, day_idx: np.ndarray, rng) -> np.ndarray:
        """Local epoch seconds: the day plus an hour from the hourly profile."""
        n = len(day_idx)
        hour = rng.choice(24, size=n, p=self.hour_p)
        return self.sec0[day_idx] + hour * 3600 + rng.integers(0, 3600, size=n)

    def sample_days(self, n: int, rng, first_day: int = 0) -> np.ndarray:
        p = self.p[first_day:] / self.p[first_day:].sum()
        return first_day + rng.choice(self.n - first_day, size=n, p=p)

    def poisson_days(self, rate_per_month: np.ndarray, rng) -> np.ndarray:
        """Day indices of events with the given expected count per month on each day."""
        lam = np.clip(rate_per_month, 0, None) / _DAYS_PER_MONTH * self.weekday
        return np.repeat(np.arange(self.n), rng.poisson(lam))

    def ramp(self, points: list[tuple[str, float]]) -> np.ndarray:
        """Piecewise-linear per-day values through (date, value) points, flat outside."""
        xp = [self.day(d) for d, _ in points]
        return np.interp(np.arange(self.n), xp, [v for _, v in points])

    def season(self, code: str, doy) -> np.ndarray:
        amp = 0.0
        for prefix, a in _SEASON.items():
            if code.startswith(prefix):
                amp = a
        return 1 + amp * np.cos(2 * np.pi * (np.asarray(doy) - 196) / 365.25)


# --------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------


def _to_seconds(values, default: int) -> np.ndarray:
    ts = pd.to_datetime(pd.Series(values, dtype=object).map(lambda v: None if v is None or pd.isna(v) else str(v)[:10]),
                        errors="coerce")
    out = ts.values.astype("datetime64[s]").astype(np.int64)
    out[ts.isna().to_numpy()] = default
    return out


class _World:
    """Grid versions, places and footprints, prepared for vectorised sampling."""

    LOW = np.iinfo(np.int64).min // 2
    HIGH = np.iinfo(np.int64).max // 2

    def __init__(self, units: gpd.GeoDataFrame, places: gpd.GeoDataFrame):
        units = units.reset_index(drop=True)
        self.to_metric = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
        self.to_wgs = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
        grids = units[units["level"] == "grid"]
        order = np.lexsort((_to_seconds(grids["valid_from"], self.LOW), grids["code"].astype(str).to_numpy()))
        grids = grids.iloc[order].reset_index(drop=True)  # independent of the input's row order
        self.g_code = grids["code"].astype(str).to_numpy(dtype=object)
        self.g_vf = _to_seconds(grids["valid_from"], self.LOW)
        self.g_vt = _to_seconds(grids["valid_to"], self.HIGH)
        self.g_vf_str = np.array([None if v is None or pd.isna(v) else str(v)[:10] for v in grids["valid_from"]],
                                 dtype=object)
        self.g_geom = np.asarray(grids.geometry.values, dtype=object)
        shapely.prepare(self.g_geom)
        self.g_bounds = shapely.bounds(self.g_geom)
        pop = pd.to_numeric(grids["population"], errors="coerce").to_numpy(dtype=float)
        pop[~np.isfinite(pop) | (pop <= 0)] = np.nan
        fill = np.nanmedian(pop) if np.isfinite(pop).any() else 1000.0
        self.g_pop = np.where(np.isnan(pop), fill, pop)
        self.g_current = self.g_vt >= self.HIGH
        self.g_sd = self._grid_subdistricts(units, grids)
        self.tree = shapely.STRtree(self.g_geom)
        self.g_pred = self._predecessors()
        sds = units[units["level"] == "subdistrict"]
        self.sd_name = dict(zip(sds["code"].astype(str), sds["name"].astype(str))) if "name" in sds else {}
        # Places and their footprints (metres).
        order = np.argsort(places["place_id"].astype(str).to_numpy(), kind="stable")  # story rules use this order
        places = places.iloc[order].reset_index(drop=True)
        self.p_id = places["place_id"].astype(str).to_numpy(dtype=object)
        self.p_kind = places["kind"].astype(str).to_numpy(dtype=object)
        self.p_name = places["name"].astype(str).to_numpy(dtype=object)
        aliases = places["aliases"] if "aliases" in places else pd.Series([None] * len(places))
        self.p_alias = [[a for a in str(v).split("|") if a.strip()] if isinstance(v, str) else [] for v in aliases]
        metric = places.to_crs(METRIC_CRS)
        self.p_metric = np.asarray(metric.geometry.values, dtype=object)
        nan = pd.Series(np.nan, index=places.index)
        radius = pd.to_numeric(places.get("radius_m", nan), errors="coerce").fillna(80.0).to_numpy(dtype=float)
        buffer = pd.to_numeric(places.get("buffer_m", nan), errors="coerce").fillna(25.0).to_numpy(dtype=float)
        types = shapely.get_type_id(self.p_metric)  # 0 point, 1 line, 3 polygon, 4.. multi
        dist = np.where(np.isin(types, (0, 4)), radius, np.where(np.isin(types, (1, 5)), buffer, 0.0))
        fps = [g.buffer(d, quad_segs=16) if d > 0 else g for g, d in zip(self.p_metric, dist)]
        self.footprints = list(fps)  # grows with story footprints
        self.p_radius, self.p_buffer = radius, buffer
        sd_col = places["subdistrict_code"] if "subdistrict_code" in places else pd.Series([None] * len(places))
        sd = np.array([None if v is None or pd.isna(v) else str(v) for v in sd_col], dtype=object)
        rep = shapely.get_coordinates(places.geometry.representative_point().values)
        if len(rep):
            v = self.lookup(rep[:, 0], rep[:, 1], np.zeros(len(rep), dtype=np.int64) + self.HIGH - 1)
            guess = np.where(v >= 0, self.g_sd[np.clip(v, 0, None)], "")
            sd = np.where(pd.isna(sd), guess, sd)
        self.p_sd = sd.astype(object)

    def _grid_subdistricts(self, units, grids) -> np.ndarray:
        info = {}
        for lvl, code, parent in zip(units["level"], units["code"].astype(str), units["parent_code"]):
            if lvl != "grid":
                info[code] = (lvl, None if parent is None or pd.isna(parent) else str(parent))
        out = []
        for parent in grids["parent_code"]:
            code = None if parent is None or pd.isna(parent) else str(parent)
            found = ""
            for _ in range(4):
                if code is None or code not in info:
                    break
                lvl, up = info[code]
                if lvl == "subdistrict":
                    found = code
                    break
                code = up
            out.append(found)
        out = np.array(out, dtype=object)
        if (out == "").any():  # fall back on space
            sds = units[units["level"] == "subdistrict"]
            if len(sds):
                pts = shapely.point_on_surface(np.asarray(grids.geometry.values, dtype=object))
                tree = shapely.STRtree(np.asarray(sds.geometry.values, dtype=object))
                inp, idx = tree.query(pts, predicate="within")
                codes = sds["code"].astype(str).to_numpy(dtype=object)
                for i, j in zip(inp, idx):
                    if out[i] == "":
                        out[i] = codes[j]
        return out

    def _predecessors(self) -> np.ndarray:
        pred = np.full(len(self.g_code), -1)
        for i in np.flatnonzero(self.g_vf > self.LOW):
            cand = np.flatnonzero(self.g_vt == self.g_vf[i])
            if not len(cand):
                continue
            area = shapely.area(shapely.intersection(self.g_geom[cand], self.g_geom[i]))
            if area.max() > 0:
                pred[i] = cand[int(np.argmax(area))]
        return pred

    def lookup(self, lon, lat, t) -> np.ndarray:
        """Index of the grid version containing each point and valid at ``t`` (-1 if none)."""
        out = np.full(len(lon), -1)
        if not len(lon):
            return out
        inp, idx = self.tree.query(shapely.points(lon, lat), predicate="within")
        ok = (self.g_vf[idx] <= t[inp]) & (t[inp] < self.g_vt[idx])
        inp, idx = inp[ok], idx[ok]
        order = np.lexsort((idx, inp))
        inp, idx = inp[order], idx[order]
        u, first = np.unique(inp, return_index=True)
        out[u] = idx[first]
        return out

    def version_at(self, grid: np.ndarray, t: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """Map current grids to the version valid at ``t``; times before a grid existed are moved."""
        ver, t = grid.copy(), t.copy()
        for _ in range(8):
            early = t < self.g_vf[ver]
            if not early.any():
                break
            p = self.g_pred[ver[early]]
            idx = np.flatnonzero(early)
            has = p >= 0
            ver[idx[has]] = p[has]
            move = idx[~has]
            if len(move):
                span = np.maximum(self.HIGH - self.g_vf[ver[move]], 1)
                t[move] = self.g_vf[ver[move]] + rng.integers(0, np.minimum(span, 30 * 86400))
        return ver, t

    def sample_in_grids(self, ver: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """Uniform points (lon, lat) inside each ticket's grid version (rejection sampling)."""
        n = len(ver)
        lon, lat = np.empty(n), np.empty(n)
        todo = np.arange(n)
        for _ in range(500):
            if not len(todo):
                break
            b = self.g_bounds[ver[todo]]
            x = b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0])
            y = b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1])
            ok = shapely.contains_xy(self.g_geom[ver[todo]], x, y)
            lon[todo[ok]], lat[todo[ok]] = x[ok], y[ok]
            todo = todo[~ok]
        if len(todo):
            raise GeodataError(f"could not sample a point inside grid {self.g_code[ver[todo[0]]]}; is it empty?",
                               key="error.geodata")
        return lon, lat

    def sample_in_footprints(self, fp: np.ndarray, t: np.ndarray, rng):
        """Uniform points in each ticket's footprint (metres) that also lie in a grid valid at ``t``."""
        n = len(fp)
        lon, lat, ver = np.empty(n), np.empty(n), np.full(n, -1)
        geoms = np.asarray(self.footprints, dtype=object)
        shapely.prepare(geoms)
        bounds = shapely.bounds(geoms)
        todo = np.arange(n)
        for _ in range(2000):
            if not len(todo):
                break
            b = bounds[fp[todo]]
            x = b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0])
            y = b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1])
            inside = shapely.contains_xy(geoms[fp[todo]], x, y)
            cand = todo[inside]
            lo, la = self.to_wgs.transform(x[inside], y[inside])
            v = self.lookup(lo, la, t[cand])
            good = v >= 0
            lon[cand[good]], lat[cand[good]], ver[cand[good]] = lo[good], la[good], v[good]
            todo = todo[ver[todo] < 0]
        if len(todo):
            i = fp[todo[0]]
            what = f"place {self.p_id[i]}" if i < len(self.p_id) else f"story footprint {i}"
            raise GeodataError(f"{what} does not overlap any grid valid at the ticket's time; "
                               "check that the places lie inside the grid layer", key="error.geodata")
        return lon, lat, ver


# --------------------------------------------------------------------------
# Collecting tickets before they are located
# --------------------------------------------------------------------------


class _Accumulator:
    """Collects ticket parts (arrays) from the stories and the background."""

    def __init__(self, world: _World, cal: _Calendar):
        self.world, self.cal = world, cal
        self.parts: list[dict] = []

    def add(self, *, t, cat, channel, kind=None, fp=-1, ver=-1, place=-1, story=None, sat=0, extra=None):
        n = len(t)
        if n == 0:
            return

        def arr(v, dtype):
            return np.asarray(v, dtype=dtype) if np.ndim(v) else np.full(n, v, dtype=dtype)

        self.parts.append({
            "t": np.asarray(t, dtype=np.int64), "cat": arr(cat, object), "channel": arr(channel, object),
            "kind": arr(kind, object), "fp": arr(fp, np.int64), "ver": arr(ver, np.int64),
            "place": arr(place, np.int64), "story": arr(story, object), "sat": arr(sat, np.int8),
            "extra": arr(extra, object),
        })

    def count(self) -> int:
        return sum(len(p["t"]) for p in self.parts)

    def realise(self, rng) -> dict:
        """Concatenate the parts and give every ticket a point and its grid version."""
        f = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        n = len(f["t"])
        lon, lat = np.empty(n), np.empty(n)
        by_fp = f["fp"] >= 0
        idx = np.flatnonzero(by_fp)
        lo, la, v = self.world.sample_in_footprints(f["fp"][idx], f["t"][idx], rng)
        lon[idx], lat[idx], f["ver"][idx] = lo, la, v
        idx = np.flatnonzero(~by_fp)
        lo, la = self.world.sample_in_grids(f["ver"][idx], rng)
        lon[idx], lat[idx] = lo, la
        f["lon"], f["lat"] = lon, lat
        f["parent"] = np.full(n, -1)
        return f


def _pick(rng, mix: dict, n: int) -> np.ndarray:
    keys = np.array(list(mix), dtype=object)
    p = np.array(list(mix.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def _categories(cal: _Calendar, mix: dict, day_idx: np.ndarray, rng) -> np.ndarray:
    """Categories drawn from ``mix`` with each category's season in the ticket's month."""
    codes = [c for c in LEAF_CATEGORIES if mix.get(c, 0) > 0] if mix is not _GENERAL_MIX else list(LEAF_CATEGORIES)
    w = np.array([mix.get(c, 1.0) for c in codes], dtype=float)
    table = np.stack([wi * cal.season(c, cal.month_doy) for wi, c in zip(w, codes)], axis=1)  # months x cats
    cum = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(day_idx))
    k = (u[:, None] > cum[cal.month[day_idx]]).sum(axis=1)
    return np.array(codes, dtype=object)[np.minimum(k, len(codes) - 1)]


# --------------------------------------------------------------------------
# Story places
# --------------------------------------------------------------------------


def _select(world: _World, rng) -> dict:
    kind, name, sd = world.p_kind, world.p_name, world.p_sd

    def first(*masks):
        for m in masks:
            hit = np.flatnonzero(m)
            if len(hit):
                return int(hit[0])
        return -1

    def named(s):
        return np.array([s in str(x) for x in name])

    hosp = kind == "hospital_entrance"
    comp = kind == "compound"
    road = kind == "road_stretch"
    sel = {}
    sel["a"] = first(hosp & (name == "安图医院门口"), hosp & named("安图"), hosp & (sd == "310110013"), hosp)
    sel["b"] = first(comp & (name == "内江小区"), comp & named("内江"), comp & (sd == "310110015"), comp)
    sel["c"] = first(road & named("军工路"), road)
    for key, what in (("a", "hospital_entrance"), ("b", "compound"), ("c", "road_stretch")):
        if sel[key] < 0:
            raise GeodataError(f"places has no {what!r}; the demo's stories need hospital entrances, "
                               "compounds and road stretches", key="error.geodata")
    others = [i for i in np.flatnonzero(road) if i != sel["c"]]
    d = others[:8]
    if len(d) < 6:
        d = [sel["c"]] + d
    sel["d"] = d
    used = {sel["b"]}

    def seeded_compound(avoid_sd):
        cand = [i for i in np.flatnonzero(comp) if i not in used]
        pref = [i for i in cand if sd[i] not in avoid_sd]
        pool = pref or cand
        if not pool:
            return sel["b"]
        return int(pool[rng.integers(len(pool))])

    sel["e"] = seeded_compound({sd[sel["b"]]})
    used.add(sel["e"])
    sel["f"] = seeded_compound({sd[sel["b"]], sd[sel["e"]]})
    used.add(sel["f"])
    sds = set(world.g_sd)
    if "310110016" in sds:
        sel["g"] = "310110016"
    elif "310110013" in sds:
        sel["g"] = "310110013"
    else:
        pop = pd.Series(world.g_pop[world.g_current]).groupby(world.g_sd[world.g_current]).sum()
        sel["g"] = str(pop.idxmax())
    h_sd = "310110016" if "310110016" in sds else sel["g"]
    stable = world.g_current & (world.g_pred < 0) & ~np.isin(world.g_vf, world.g_vt)
    cand = [i for i in np.flatnonzero(stable & (world.g_sd == h_sd))]
    if not cand:
        cand = list(np.flatnonzero(world.g_current & (world.g_sd == h_sd)))
    cand.sort(key=lambda i: world.g_code[i])
    sel["h"] = int(cand[rng.integers(len(cand))])
    return sel


# --------------------------------------------------------------------------
# Stories
# --------------------------------------------------------------------------


def _plant_stories(acc: _Accumulator, sel: dict, cal: _Calendar, rng, rng_sel):
    """Add every story's tickets to ``acc``; return (stories, interventions)."""
    w = acc.world
    stories: dict = {}
    ivs: list[dict] = []

    def place_ref(i):
        return {"place_id": str(w.p_id[i]), "name": str(w.p_name[i]), "kind": str(w.p_kind[i]),
                "subdistrict_code": None if w.p_sd[i] in (None, "") else str(w.p_sd[i])}

    def add_rate(rate, cats, *, story, place=-1, fp=None, channels=None, kinds=None, sat=None):
        days = cal.poisson_days(rate, rng)
        n = len(days)
        t = cal.times(days, rng)
        cat = _pick(rng, cats, n) if isinstance(cats, dict) else np.full(n, cats, dtype=object)
        chan = _pick(rng, channels or _CITIZEN_CHANNELS, n)
        kind = _pick(rng, kinds, n) if kinds else np.full(n, None, dtype=object)
        s = np.zeros(n, dtype=np.int8) if sat is None else sat(t)
        acc.add(t=t, cat=cat, channel=chan, kind=kind, fp=place if fp is None else fp, place=place,
                story=story, sat=s)
        return n

    def ambient(i, exclude):
        mix = {c: v for c, v in _PLACE_MIX.get(w.p_kind[i], _GENERAL_MIX).items()
               if c not in exclude and c != "03.01.01"}
        add_rate(np.full(cal.n, 3.0), mix, story=None, place=i)

    def sec(date):
        return int(pd.Timestamp(date).to_datetime64().astype("datetime64[s]").astype(np.int64))

    # (a) hospital entrance --------------------------------------------------------
    a = sel["a"]
    cats_a = {"02.01.01": 0.40, "02.01.02": 0.25, "07.01.01": 0.35}
    rate_a = cal.ramp([("2025-04-20", 25.0), ("2025-06-20", 10.0)])
    enf_start, jm_start, jm_done = sec("2025-01-06"), sec("2025-04-20"), sec("2025-06-20")

    def sat_a(t):
        return np.where(t >= jm_done, 2, np.where(t >= enf_start, 1, 0)).astype(np.int8)

    add_rate(rate_a, cats_a, story="a_hospital_entrance", place=a,
             kinds={"complaint": 0.7, "report": 0.15, "help": 0.15}, sat=sat_a)
    ambient(a, cats_a)
    ivs.append(dict(key="a1", story="a_hospital_entrance", name=f"{w.p_name[a]}违停专项整治", type="enforcement",
                    start_date="2025-01-06", end_date="2025-02-28", implementation_end="2025-01-31",
                    units_involved="杨浦公安分局交警支队、杨浦区城管执法局、长白新村街道办事处",
                    description="交警和城管在医院门口开展违停和非法营运集中执法，以贴单、劝离为主；执法撤离后乱象反弹，回访多为不满意。",
                    target_categories=list(cats_a), targets=[("place", str(w.p_id[a]))]))
    ivs.append(dict(key="a2", story="a_hospital_entrance", name=f"{w.p_name[a]}秩序党建联席会议协调",
                    type="joint_meeting", start_date="2025-04-20", end_date=None, implementation_end="2025-06-20",
                    units_involved="长白新村街道党工委、杨浦公安分局交警支队、安图医院、哈啰/美团/青桔共享单车企业",
                    description="街道将问题提交党建联席会议：单车企业减量投放并划设停放区，交警加强巡逻，医院设置隔离桩和引导员。",
                    target_categories=list(cats_a), targets=[("place", str(w.p_id[a]))]))
    stories["a_hospital_entrance"] = {
        "places": [place_ref(a)], "categories": list(cats_a), "interventions": ["a1", "a2"],
        "dates": {"enforcement_start": "2025-01-06", "joint_meeting_start": "2025-04-20",
                  "implementation_end": "2025-06-20"},
        "planted_effect": {"baseline_per_month": 25.0, "after_per_month": 10.0, "change": -0.6,
                           "enforcement_effect": 0.0,
                           "satisfaction": "2025-01-06..2025-06-19 mostly unsatisfied; from 2025-06-20 mostly satisfied"},
        "expected_verdict": "improved",
        "description_zh": "安图医院门口共享单车、黑车和就医秩序问题：执法整治后回访不满意且数量不变，党建联席会议协调后下降约六成、回访转为满意。",
        "description_en": "Hospital entrance: enforcement changed nothing and was rated unsatisfied; the joint meeting cut "
                          "tickets by ~60% and satisfaction turned positive.",
    }

    # (b) bike shed ------------------------------------------------------------------
    b = sel["b"]
    cats_b = {"04.02.01": 0.45, "04.02.02": 0.30, "06.01.02": 0.25}
    add_rate(cal.ramp([("2025-09-01", 10.0), ("2025-10-31", 3.0)]), cats_b, story="b_bike_shed", place=b,
             kinds={"complaint": 0.5, "help": 0.3, "suggestion": 0.2},
             sat=lambda t: np.where(t >= sec("2025-10-31"), 2, 0).astype(np.int8))
    pro = np.where(np.arange(cal.n) < cal.day("2025-09-01"), 0.5,
                   np.where(np.arange(cal.n) <= cal.day("2025-10-31"), 8.0, 4.0))
    add_rate(pro, cats_b, story="b_bike_shed", place=b, channels={"community_log": 0.5, "proactive": 0.5},
             kinds=_KIND_MIX_PROACTIVE)
    praise = np.where(np.arange(cal.n) < cal.day("2025-11-01"), 0.0,
                      np.where(np.arange(cal.n) <= cal.day("2026-01-31"), 3.0, 0.5))
    add_rate(praise, "04.02.01", story="b_bike_shed", place=b, channels={"hotline_12345": 1.0},
             kinds={"praise": 1.0}, sat=lambda t: np.full(len(t), 2, dtype=np.int8))
    ambient(b, cats_b)
    targets_b = [("place", str(w.p_id[b]))]
    ivs.append(dict(key="b1", story="b_bike_shed", name=f"{w.p_name[b]}车棚主动问需走访", type="proactive_visits",
                    start_date="2025-09-01", end_date="2025-09-30", implementation_end="2025-09-30",
                    units_involved="延吉新村街道办事处、居民区党总支、物业公司",
                    description="社区干部和楼组长逐户上门问需，收集车棚照明、堆物和充电问题，形成改造清单。",
                    target_categories=list(cats_b), targets=targets_b))
    ivs.append(dict(key="b2", story="b_bike_shed", name=f"{w.p_name[b]}非机动车棚改造", type="facility_works",
                    start_date="2025-09-01", end_date=None, implementation_end="2025-10-31",
                    units_involved="延吉新村街道办事处、杨浦区房管局、物业公司",
                    description="清理废旧车辆，更换照明，新增智能充电桩和消防设施，车棚焕然一新。",
                    target_categories=list(cats_b), targets=targets_b))
    stories["b_bike_shed"] = {
        "places": [place_ref(b)], "categories": list(cats_b), "interventions": ["b1", "b2"],
        "dates": {"start": "2025-09-01", "implementation_end": "2025-10-31", "praise_from": "2025-11-01"},
        "planted_effect": {"citizen_channels_baseline_per_month": 10.0, "citizen_channels_after_per_month": 3.0,
                           "change": -0.7, "proactive_channels_before_per_month": 0.5,
                           "proactive_channels_during_per_month": 8.0, "proactive_channels_after_per_month": 4.0,
                           "praise_per_month": {"2025-11..2026-01": 3.0, "after": 0.5},
                           "note": "praise calls come via hotline_12345 with kind praise; exclude them when counting problems"},
        "expected_verdict": "improved",
        "description_zh": "内江小区车棚：主动走访并改造后，12345投诉下降约七成，民情日志和未诉先办渠道上升，并出现表扬来电。",
        "description_en": "Old compound's bike shed: after door-to-door visits and renovation, 12345 complaints fell ~70%, "
                          "proactive-channel records rose and residents called to praise it.",
    }

    # (c) trucks along a road stretch ---------------------------------------------------
    c = sel["c"]
    add_rate(np.full(cal.n, 20.0), "02.01.03", story="c_truck_parking", place=c,
             kinds={"report": 0.5, "complaint": 0.5})
    ambient(c, {"02.01.03"})
    stories["c_truck_parking"] = {
        "places": [place_ref(c)], "categories": ["02.01.03"], "interventions": [],
        "dates": {"start": cal.start.strftime("%Y-%m-%d")},
        "planted_effect": {"per_month": 20.0, "spatial": "uniform along the whole buffered line"},
        "expected_verdict": None, "expected_finding": "hotspot",
        "description_zh": "路段货车违停：整条路段沿线每月约20件，没有治理措施，是一个待发现的路段型热点。",
        "description_en": "Trucks parked along a road stretch: ~20 a month all along the line, no intervention; "
                          "a line-shaped hotspot to be found.",
    }

    # (d) streetlights along road stretches ------------------------------------------------
    d_places = sel["d"]
    bursts = []
    winter = 1 + 0.8 * np.cos(2 * np.pi * (cal.doy - 15) / 365.25)
    after = np.where(np.arange(cal.n) < cal.day("2025-11-01"), 1.0,
                     np.where(np.arange(cal.n) <= cal.day("2025-11-30"), 0.5, 0.1))
    burst_rate = 0.5 * winter * after / _DAYS_PER_MONTH
    for i in d_places:
        line = w.p_metric[i]
        if line.geom_type.startswith("Multi"):
            line = shapely.line_merge(line)
            if line.geom_type.startswith("Multi"):
                line = max(line.geoms, key=lambda g: g.length)
        days = np.flatnonzero(rng.poisson(burst_rate))
        for day0 in days:
            centre = rng.random() * line.length
            seg = shapely.ops.substring(line, max(0.0, centre - 100), min(line.length, centre + 100))
            fp = seg.buffer(w.p_buffer[i]).intersection(w.footprints[i])
            if fp.is_empty or fp.area <= 0:
                fp = w.footprints[i]
            w.footprints.append(fp)
            k = 3 + rng.poisson(3)
            tdays = np.minimum(day0 + np.minimum(rng.exponential(6.0, k), 21).astype(int), cal.n - 1)
            acc.add(t=cal.times(tdays, rng), cat="03.01.01", channel=_pick(rng, _CITIZEN_CHANNELS, k),
                    kind=_pick(rng, {"help": 0.6, "report": 0.2, "complaint": 0.2}, k),
                    fp=len(w.footprints) - 1, place=i, story="d_streetlights")
            bursts.append({"place_id": str(w.p_id[i]), "start": str(cal.start + pd.Timedelta(days=int(day0)))[:10],
                           "tickets": int(k)})
    ivs.append(dict(key="d1", story="d_streetlights", name="路灯集中整治", type="facility_works",
                    start_date="2025-11-01", end_date="2025-11-30", implementation_end="2025-11-30",
                    units_involved="杨浦区建管委、杨浦区市政和水务管理事务中心、各街道办事处",
                    description="依据12345工单定位路灯故障路段，集中更换老化灯具和线缆，一类问题一并解决。",
                    target_categories=["03.01.01"], targets=[("place", str(w.p_id[i])) for i in d_places]))
    stories["d_streetlights"] = {
        "places": [place_ref(i) for i in d_places], "categories": ["03.01.01"], "interventions": ["d1"],
        "dates": {"start": "2025-11-01", "implementation_end": "2025-11-30"},
        "planted_effect": {"burst_rate_per_stretch_per_month": "0.5 x (1 + 0.8 cos(season, peak mid-January))",
                           "tickets_per_burst": "3 + Poisson(3) over up to 3 weeks",
                           "after_factor": 0.1, "during_factor": 0.5,
                           "compare": "2025-12..2026-10 against the same months a year earlier (seasonality)"},
        "bursts": bursts,
        "expected_verdict": "improved",
        "description_zh": "路灯不亮：多条路段冬季集中爆发故障，2025年11月入冬前路灯集中整治后明显减少。",
        "description_en": "Streetlights out along several road stretches, in bursts and more in winter; the November "
                          "2025 campaign, before the dark season, cut them sharply.",
    }

    # (e) elevator relapse ------------------------------------------------------------------
    e = sel["e"]
    rate_e = cal.ramp([("2025-05-01", 8.0), ("2025-05-31", 2.4), ("2026-03-01", 2.4), ("2026-06-01", 8.0)])
    add_rate(rate_e, "04.01.01", story="e_elevator_relapse", place=e, kinds={"help": 0.5, "complaint": 0.5})
    ambient(e, {"04.01.01"})
    ivs.append(dict(key="e1", story="e_elevator_relapse", name=f"{w.p_name[e]}电梯维修更新", type="facility_works",
                    start_date="2025-05-01", end_date="2025-05-31", implementation_end="2025-05-31",
                    units_involved="杨浦区房管局、杨浦区市场监管局、物业公司、电梯维保单位",
                    description="对故障频发的电梯进行大修并更换控制柜，落实维保责任。",
                    target_categories=["04.01.01"], targets=[("place", str(w.p_id[e]))]))
    stories["e_elevator_relapse"] = {
        "places": [place_ref(e)], "categories": ["04.01.01"], "interventions": ["e1"],
        "dates": {"fix_start": "2025-05-01", "implementation_end": "2025-05-31", "relapse_start": "2026-03-01",
                  "back_to_baseline": "2026-06-01"},
        "planted_effect": {"baseline_per_month": 8.0, "after_per_month": 2.4, "change": -0.7,
                           "relapse": "linear climb from 2.4 (2026-03-01) to 8.0 (2026-06-01), then 8.0"},
        "expected_verdict": "improved", "expected_verdict_at": "3 months after implementation_end",
        "expected_relapse": {"flag_month": "2026-03", "by": "2026-05"},
        "description_zh": "电梯故障：2025年5月维修后下降约七成，2026年3月起回潮并回到原有水平。",
        "description_en": "Elevator breakdowns fell ~70% after the May 2025 repair, then relapsed from March 2026 back "
                          "to baseline.",
    }

    # (f) regression to the mean ------------------------------------------------------------
    f = sel["f"]
    first_m = cal.month[int(min(max(cal.day("2025-03-01"), 0), cal.n - 1))]
    last_m = cal.month[int(min(max(cal.day("2025-09-01"), 0), cal.n - 1))]
    peak_m = int(rng_sel.integers(first_m, last_m + 1))
    rate_f = np.where(cal.month == peak_m, 15.0, 5.0)
    add_rate(rate_f, "01.03.01", story="f_regression_to_mean", place=f, kinds={"complaint": 0.8, "report": 0.2})
    ambient(f, {"01.03.01"})
    peak_label = cal.month_labels[peak_m]
    iv_start = (pd.Timestamp(peak_label + "-01") + pd.offsets.MonthBegin(1))
    iv_end = iv_start + pd.offsets.MonthEnd(0)
    ivs.append(dict(key="f1", story="f_regression_to_mean", name=f"{w.p_name[f]}餐饮油烟专项执法", type="enforcement",
                    start_date=iv_start.strftime("%Y-%m-%d"), end_date=iv_end.strftime("%Y-%m-%d"),
                    implementation_end=iv_end.strftime("%Y-%m-%d"),
                    units_involved="杨浦区城管执法局、杨浦区生态环境局",
                    description="投诉高峰后对周边餐饮店油烟净化设施开展检查执法。",
                    target_categories=["01.03.01"], targets=[("place", str(w.p_id[f]))]))
    stories["f_regression_to_mean"] = {
        "places": [place_ref(f)], "categories": ["01.03.01"], "interventions": ["f1"],
        "dates": {"peak_month": peak_label, "intervention_start": iv_start.strftime("%Y-%m-%d")},
        "planted_effect": {"per_month": 5.0, "peak_month_per_month": 15.0, "intervention_effect": 0.0},
        "expected_verdict": "no_clear_change", "naive_before_after": "improved",
        "description_zh": "均值回归：油烟投诉长期平稳，仅执法前一个月偶然冲高三倍；执法后回到原水平，实际无效果。",
        "description_en": "Regression to the mean: stationary fumes complaints with one random 3x month just before "
                          "enforcement; afterwards counts return to the long-run level - the enforcement did nothing.",
    }

    # (g) QR code: only the selection and the intervention here; the extra tickets
    # depend on the background volume and are added in _background.
    g_sd = sel["g"]
    g_grids = sorted({str(w.g_code[i]) for i in np.flatnonzero(w.g_current & (w.g_sd == g_sd))})
    sd_name = w.sd_name.get(g_sd, g_sd)
    ivs.append(dict(key="g1", story="g_qr_code", name=f"{sd_name}“扫码即办”楼道二维码上线", type="policy",
                    start_date="2025-10-01", end_date=None, implementation_end="2025-10-31",
                    units_involved=f"{_office(sd_name)}、各居民区、网格工作站",
                    description="在辖区每个楼道张贴二维码，居民扫码即可上报小区和周边的小问题，工单直派网格。",
                    target_categories=["01.01.01", "03.02.01", "04.03.01", "05.02.01"],
                    targets=[("grid", code) for code in g_grids]))
    stories["g_qr_code"] = {
        "places": [], "subdistrict_code": g_sd, "subdistrict_name": sd_name, "grid_codes": g_grids,
        "categories": ["01.01.01", "03.02.01", "04.03.01", "05.02.01"], "interventions": ["g1"],
        "dates": {"launch": "2025-10-01"},
        "planted_effect": {"extra_qr_share_of_subdistrict_volume": 1.5, "other_channels_change": 0.0},
        "expected_verdict": "no_clear_change", "expected_verdict_on": "channels other than qr_code",
        "selection_rule": "殷行街道 (310110016) if present, else 长白新村街道 (310110013), else the most populous",
        "description_zh": "扫码上报：街道全域上线楼道二维码后工单量大增，但都是新渠道带来的小问题，其他渠道的问题数量不变。",
        "description_en": "QR codes in every stairwell: tickets rose by ~150% after the launch, all via the new channel; "
                          "problem counts on other channels did not change.",
    }

    # (h) fumes at a shop row in one grid -----------------------------------------------------
    gi = sel["h"]
    poly = shapely.transform(w.g_geom[gi], lambda xy: np.column_stack(w.to_metric.transform(xy[:, 0], xy[:, 1])))
    inner = poly.buffer(-70)
    if inner.is_empty:
        inner = poly.buffer(-10)
    if inner.is_empty:
        inner = poly
    bx = shapely.bounds(inner)
    for _ in range(1000):
        px, py = bx[0] + rng_sel.random() * (bx[2] - bx[0]), bx[1] + rng_sel.random() * (bx[3] - bx[1])
        if shapely.contains_xy(inner, px, py):
            break
    else:
        px, py = shapely.get_coordinates(inner.point_on_surface())[0]
    row = shapely.LineString([(px - 50, py), (px + 50, py)]).buffer(12).intersection(poly)
    w.footprints.append(row)
    h_fp = len(w.footprints) - 1
    lon_c, lat_c = w.to_wgs.transform(px, py)
    cell = h3.latlng_to_cell(lat_c, lon_c, model.H3_RESOLUTION)
    add_rate(cal.ramp([("2025-09-15", 8.0), ("2025-10-31", 2.0)]), "01.03.01", story="h_fumes_shop_row",
             fp=h_fp, kinds={"complaint": 0.8, "report": 0.2})
    h_sd_name = w.sd_name.get(str(w.g_sd[gi]), str(w.g_sd[gi]))
    ivs.append(dict(key="h1", story="h_fumes_shop_row", name=f"{h_sd_name}沿街商铺油烟治理联席会议", type="joint_meeting",
                    start_date="2025-09-15", end_date=None, implementation_end="2025-10-31",
                    units_involved=f"{_office(h_sd_name)}、网格工作站、杨浦区城管执法局、杨浦区生态环境局、沿街商户",
                    description="网格工作站召集联席会议，商户统一加装油烟净化器并定期清洗，城管和网格员每周巡查。",
                    target_categories=["01.03.01"],
                    targets=[("grid", str(w.g_code[gi])), ("cell", str(cell))]))
    stories["h_fumes_shop_row"] = {
        "places": [], "grid_code": str(w.g_code[gi]), "grid_valid_from": w.g_vf_str[gi],
        "cell": str(cell), "centre": [round(float(lon_c), 6), round(float(lat_c), 6)],
        "footprint": "100 m x 24 m shop row around centre, clipped to the grid",
        "categories": ["01.03.01"], "interventions": ["h1"],
        "dates": {"start": "2025-09-15", "implementation_end": "2025-10-31"},
        "planted_effect": {"baseline_per_month": 8.0, "after_per_month": 2.0, "change": -0.75},
        "expected_verdict": "improved",
        "description_zh": "殷行街道沿街商铺油烟：网格工作站召开联席会议治理后，油烟投诉下降约七成五。",
        "description_en": "Fumes from a shop row in one grid: the grid station's joint meeting cut complaints by ~75%.",
    }

    # Interventions: ids in order of start date.
    ivs.sort(key=lambda r: (r["start_date"], r["key"]))
    ids = {}
    for n, iv in enumerate(ivs, start=1):
        iv["intervention_id"] = n
        ids[iv["key"]] = n
    for story in stories.values():
        story["interventions"] = [ids[k] for k in story["interventions"]]
        story["intervention_records"] = [
            {k: iv[k] for k in ("intervention_id", "name", "type", "start_date", "end_date", "implementation_end")}
            for iv in ivs if iv["intervention_id"] in story["interventions"]
        ]
    return stories, ivs


def _office(sd_name: str) -> str:
    if sd_name.endswith("镇"):
        return sd_name + "人民政府"
    return sd_name + "办事处" if sd_name.endswith("街道") else sd_name + "街道办事处"


# --------------------------------------------------------------------------
# Background and the QR-code extra tickets
# --------------------------------------------------------------------------


def _background(acc: _Accumulator, sel: dict, cal: _Calendar, rng, n_target: int) -> None:
    w = acc.world
    base_target = n_target * (1 - _REPEAT_SHARE)
    story_n = acc.count()
    cur = np.flatnonzero(w.g_current)
    gw = w.g_pop[cur] * rng.gamma(4.0, 0.25, size=len(cur))
    gw = gw / gw.sum()
    excluded = {sel["a"], sel["b"], sel["c"], sel["e"], sel["f"]}
    eligible = np.array([i for i in range(len(w.p_id)) if i not in excluded], dtype=int)
    pw = np.array([_PLACE_KIND_WEIGHT.get(w.p_kind[i], 1.0) for i in eligible]) * rng.gamma(2.0, 0.5,
                                                                                             size=len(eligible))
    pw = pw / pw.sum() if len(pw) else pw
    place_share = _PLACE_SHARE if len(eligible) else 0.0
    g_sd = sel["g"]
    share = (1 - place_share) * gw[w.g_sd[cur] == g_sd].sum()
    if len(eligible):
        share += place_share * pw[w.p_sd[eligible] == g_sd].sum()
    launch = int(max(cal.day("2025-10-01"), 0))
    post = cal.p[launch:].sum() if launch < cal.n else 0.0
    qr_factor = 1.5 * share * post
    n_bg = int(round((base_target - story_n) / (1 + qr_factor)))
    if n_bg < 0.5 * base_target:
        raise ValueError(f"n_target={n_target} is too small for the planted stories ({story_n} tickets); "
                         "use at least 10000")
    n_place = int(round(place_share * n_bg))
    n_grid = n_bg - n_place

    # Tickets in grids.
    days = cal.sample_days(n_grid, rng)
    t = cal.times(days, rng)
    grid = cur[rng.choice(len(cur), size=n_grid, p=gw)]
    ver, t = w.version_at(grid, t, rng)
    acc.add(t=t, cat=_categories(cal, _GENERAL_MIX, days, rng), channel=_pick(rng, _CHANNEL_MIX, n_grid),
            ver=ver)
    # Tickets at places.
    if n_place:
        days = cal.sample_days(n_place, rng)
        t = cal.times(days, rng)
        pl = eligible[rng.choice(len(eligible), size=n_place, p=pw)]
        cat = np.empty(n_place, dtype=object)
        kinds = w.p_kind[pl]
        for kind in sorted(set(kinds)):
            m = kinds == kind
            cat[m] = _categories(cal, _PLACE_MIX.get(kind, _GENERAL_MIX), days[m], rng)
        acc.add(t=t, cat=cat, channel=_pick(rng, _CHANNEL_MIX, n_place), fp=pl, place=pl)
    # QR-code extra tickets in the chosen sub-district.
    n_qr = int(round(qr_factor * n_bg))
    if n_qr:
        cats = {"01.01.01": 0.3, "03.02.01": 0.2, "04.03.01": 0.3, "05.02.01": 0.2}
        days = cal.sample_days(n_qr, rng, first_day=launch)
        t = cal.times(days, rng)
        sd_comp = np.array([i for i in eligible if w.p_sd[i] == g_sd and w.p_kind[i] == "compound"], dtype=int)
        at_place = (rng.random(n_qr) < 0.4) if len(sd_comp) else np.zeros(n_qr, dtype=bool)
        sd_cur = cur[w.g_sd[cur] == g_sd]
        sgw = w.g_pop[sd_cur] / w.g_pop[sd_cur].sum()
        qr_ids = np.char.add(f"QR-{g_sd[-3:]}-", np.char.zfill(rng.integers(1, 5000, n_qr).astype(str), 4))
        extra = np.char.add(np.char.add('{"qr_code": "', qr_ids), '"}').astype(object)
        kind = _pick(rng, {"help": 0.5, "report": 0.3, "complaint": 0.2}, n_qr)
        cat = _pick(rng, cats, n_qr)
        m = at_place
        if m.any():
            pl = sd_comp[rng.integers(0, len(sd_comp), m.sum())]
            acc.add(t=t[m], cat=cat[m], channel="qr_code", kind=kind[m], fp=pl, place=pl, story="g_qr_code",
                    extra=extra[m])
        m = ~at_place
        grid = sd_cur[rng.choice(len(sd_cur), size=m.sum(), p=sgw)]
        ver, tt = w.version_at(grid, t[m], rng)
        acc.add(t=tt, cat=cat[m], channel="qr_code", kind=kind[m], ver=ver, story="g_qr_code", extra=extra[m])


# --------------------------------------------------------------------------
# Repeat calls
# --------------------------------------------------------------------------


def _fill_kinds(f: dict, rng) -> None:
    """Draw the kind of every ticket whose kind a story did not set."""
    kind = f["kind"]
    missing = pd.isna(kind)
    policy = np.char.startswith(f["cat"].astype(str), "08")
    proactive_ch = np.isin(f["channel"], model.PROACTIVE_CHANNELS)
    for mask, mix in ((missing & proactive_ch, _KIND_MIX_PROACTIVE),
                      (missing & ~proactive_ch & policy, _KIND_MIX_POLICY),
                      (missing & ~proactive_ch & ~policy, _KIND_MIX)):
        kind[mask] = _pick(rng, mix, int(mask.sum()))


def _add_repeats(f: dict, world: _World, cal: _Calendar, rng) -> dict:
    n = len(f["t"])
    kind = f["kind"]
    eligible = np.flatnonzero(~np.isin(f["channel"], ("grid_patrol", "proactive")) & (kind != "praise"))
    n_child = int(round(_REPEAT_SHARE / (1 - _REPEAT_SHARE) * n))
    parents = np.sort(rng.choice(eligible, size=min(n_child, len(eligible)), replace=False))
    dt = rng.integers(1800, 72 * 3600, size=len(parents))
    t = f["t"][parents] + dt
    ver = world.lookup(f["lon"][parents], f["lat"][parents], t)
    keep = (t < cal.snapshot) & (ver >= 0)
    parents, t, ver = parents[keep], t[keep], ver[keep]
    child = {k: v[parents].copy() for k, v in f.items()}
    child["t"], child["ver"], child["parent"] = t, ver, parents
    return {k: np.concatenate([f[k], child[k]]) for k in f}


# --------------------------------------------------------------------------
# Finishing: ids, kinds, handling, times, people, text
# --------------------------------------------------------------------------


def _local_times(sec: np.ndarray, valid: np.ndarray | None = None) -> pd.Series:
    arr = sec.astype("datetime64[s]")
    if valid is not None:
        arr = np.where(valid, arr, np.datetime64("NaT"))
    return pd.Series(pd.DatetimeIndex(arr).as_unit("ns").tz_localize(model.TIMEZONE))


def _finish(f: dict, w: _World, cal: _Calendar, rngs: dict):
    order = np.lexsort((f["parent"] >= 0, f["t"]))
    # keep a child after its parent: parent times are strictly earlier (dt >= 30 min)
    f = {k: v[order] for k, v in f.items()}
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    f["parent"] = np.where(f["parent"] >= 0, pos[np.clip(f["parent"], 0, None)], -1)
    n = len(f["t"])

    # source ids: YP + yymm + 6-digit sequence within the month
    ym = f["t"].astype("datetime64[s]").astype("datetime64[M]")
    u_ym, inv = np.unique(ym, return_inverse=True)
    yymm = np.array([str(m)[2:4] + str(m)[5:7] for m in u_ym], dtype=object)[inv]
    first = np.r_[0, np.flatnonzero(ym[1:] != ym[:-1]) + 1]
    seq = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n])) + 1
    source_id = (np.char.add(np.char.add("YP", yymm.astype(str)), np.char.zfill(seq.astype(str), 6))).astype(object)

    rng = rngs["handling"]
    kind = f["kind"]
    proactive_ch = np.isin(f["channel"], model.PROACTIVE_CHANNELS)
    is_child = f["parent"] >= 0
    sd = w.g_sd[f["ver"]]
    u_sd, inv = np.unique(sd.astype(str), return_inverse=True)
    office = np.array([_office(w.sd_name.get(s, s) if s else "杨浦区") for s in u_sd], dtype=object)[inv]

    # handling unit by category (longest prefix), sub-district office for proactive channels
    unit = np.empty(n, dtype=object)
    cats = f["cat"]
    for code in np.unique(cats):
        m = cats == code
        key = max((p for p in _HANDLING if code.startswith(p)), key=len, default="99")
        unit[m] = _pick(rng, _HANDLING[key], int(m.sum()))
    sub = unit == _SD
    unit[sub] = office[sub]
    unit[proactive_ch] = office[proactive_ch]

    # times
    t = f["t"]
    dispatched = t + (np.exp(rng.normal(np.log(40 * 60), 0.9, n))).astype(np.int64).clip(120, 10 * 3600)
    responded = dispatched + (np.exp(rng.normal(np.log(3 * 3600), 0.8, n))).astype(np.int64).clip(300, 20 * 3600)
    responded = np.minimum(responded, t + 86400 - 1)
    # about 4 % are answered late (1-3 days: weekend backlog), so 响应率 is not a flat 100 %;
    # drawn from a child seed so the handling stream itself is unchanged
    late_rng = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])
    late = late_rng.random(n) < 0.04
    responded = np.where(late, t + late_rng.integers(86400, 3 * 86400, n), responded)
    responded = np.maximum(responded, dispatched)
    due_days = np.full(n, 7)
    works = np.isin(cats, [c for c in np.unique(cats) if c.startswith(("03", "04.01", "04.02", "04.03.02"))])
    due_days[works] = 15
    due_days[np.isin(kind, ("consult", "praise"))] = 3
    due_days[kind == "suggestion"] = 15
    due = t + due_days * 86400
    on_time = rng.random(n) < 0.9
    frac = np.where(on_time, rng.beta(1.5, 3.0, n) * 0.98, 1 + rng.exponential(0.25, n))
    closed = t + (frac * due_days * 86400).astype(np.int64)
    closed = np.maximum(closed, responded + 600)
    closed_ok = closed < cal.snapshot
    followed = closed + rng.integers(86400, 5 * 86400, n)
    has_caller = ~np.isin(f["channel"], ("grid_patrol", "proactive"))
    followed_ok = closed_ok & has_caller & (rng.random(n) < 0.8) & (followed < cal.snapshot)

    # resolution and satisfaction
    sat_mode = f["sat"].copy()
    sat_mode[kind == "praise"] = 2
    res_p = {0: [0.72, 0.18, 0.10], 1: [0.2, 0.4, 0.4], 2: [0.9, 0.1, 0.0]}
    resolved = np.empty(n, dtype=object)
    for mode, p in res_p.items():
        m = sat_mode == mode
        resolved[m] = np.array(["solved", "partly", "not"], dtype=object)[rng.choice(3, size=m.sum(), p=p)]
    sat_levels = np.array(["satisfied", "basically_satisfied", "unsatisfied", "unrated"], dtype=object)
    sat_p = {(0, "solved"): [0.70, 0.22, 0.03, 0.05], (0, "partly"): [0.30, 0.40, 0.25, 0.05],
             (0, "not"): [0.05, 0.15, 0.75, 0.05], (1, None): [0.05, 0.20, 0.70, 0.05],
             (2, None): [0.80, 0.15, 0.02, 0.03]}
    satisfaction = np.full(n, "unrated", dtype=object)
    for (mode, res), p in sat_p.items():
        m = (sat_mode == mode) & followed_ok & ((resolved == res) if res else True)
        satisfaction[m] = sat_levels[rng.choice(4, size=m.sum(), p=p)]
    resolved[~closed_ok] = None
    satisfaction[~closed_ok] = None
    status = np.where(closed_ok, "closed", "open").astype(object)

    # people
    prng = rngs["people"]
    surname = np.array(_SURNAMES, dtype=object)[prng.integers(0, len(_SURNAMES), n)]
    given = np.array(_GIVEN, dtype=object)
    g1 = given[prng.integers(0, len(given), n)]
    g2 = np.where(prng.random(n) < 0.7, given[prng.integers(0, len(given), n)], "")
    name = surname + g1 + g2
    phone = np.char.add(np.char.add("1", _PHONE_2ND[prng.choice(7, size=n, p=_PHONE_2ND_P)]),
                        np.char.zfill(prng.integers(0, 10**9, n).astype(str), 9)).astype(object)
    # a repeat call comes from the same caller 60 % of the time
    same = is_child & (prng.random(n) < 0.6)
    name[same] = name[f["parent"][same]]
    phone[same] = phone[f["parent"][same]]
    name[~has_caller] = None
    phone[~has_caller] = None

    # address
    trng = rngs["text"]
    address = _addresses(f, w, sd, trng)
    # text
    text = _texts(f, kind, address, unit, trng)
    text[same] = "再次来电反映：" + text[same]
    contact = np.flatnonzero(has_caller & (trng.random(n) < _TEXT_CONTACT_SHARE))
    honor = np.where(trng.random(len(contact)) < 0.5, "先生", "女士").astype(object)
    forms = trng.integers(0, 3, len(contact))
    nm, ph = name[contact], phone[contact]
    sn = np.array([x[:1] for x in nm], dtype=object)
    add = np.where(forms == 0, "，请联系" + sn + honor + ph,
                   np.where(forms == 1, "，联系电话" + ph, "。我叫" + nm + "，电话" + ph))
    body = pd.Series(text[contact], dtype=object).str.rstrip("。").to_numpy(dtype=object)
    text[contact] = body + add + "。"

    # locations
    lrng = rngs["locate"]
    locatable = ~np.isin(f["channel"], ("qr_code", "grid_patrol", "proactive"))
    unloc = locatable & (lrng.random(n) < _UNLOCATED_SHARE / locatable.mean())
    lon = np.where(unloc, np.nan, f["lon"])
    lat = np.where(unloc, np.nan, f["lat"])
    loc_src = np.where(unloc, "none", "coordinates").astype(object)

    # extra: QR code ids, photo counts for app reports
    extra = f["extra"].copy()
    photos = np.isin(f["channel"], ("app", "miniprogram")) & pd.isna(extra) & (lrng.random(n) < 0.3)
    extra[photos] = np.char.add(np.char.add('{"photos": ', lrng.integers(1, 4, photos.sum()).astype(str)), "}")

    repeat_of = np.where(is_child, source_id[np.clip(f["parent"], 0, None)], None)
    tickets = pd.DataFrame({
        "source_id": pd.array(source_id, dtype="str"),
        "received_at": _local_times(t),
        "channel": pd.array(f["channel"], dtype="str"),
        "kind": pd.array(kind, dtype="str"),
        "category": pd.array(cats, dtype="str"),
        "text": pd.array(text, dtype="str"),
        "address": pd.array(address, dtype="str"),
        "lon": lon.astype(float),
        "lat": lat.astype(float),
        "location_source": pd.array(loc_src, dtype="str"),
        "handling_unit": pd.array(unit, dtype="str"),
        "due_at": _local_times(due),
        "dispatched_at": _local_times(dispatched),
        "responded_at": _local_times(responded),
        "closed_at": _local_times(closed, closed_ok),
        "followed_up_at": _local_times(followed, followed_ok),
        "status": pd.array(status, dtype="str"),
        "resolved": pd.array(resolved, dtype="str"),
        "satisfaction": pd.array(satisfaction, dtype="str"),
        "caller_name": pd.array(name, dtype="str"),
        "caller_phone": pd.array(phone, dtype="str"),
        "repeat_of": pd.array(repeat_of, dtype="str"),
        "extra": pd.array(extra, dtype="str"),
    })[list(TICKET_OUTPUT_COLUMNS)]
    place_id = np.where(f["place"] >= 0, w.p_id[np.clip(f["place"], 0, None)], None)
    truth = pd.DataFrame({
        "source_id": pd.array(source_id, dtype="str"),
        "grid_code": pd.array(w.g_code[f["ver"]], dtype="str"),
        "grid_valid_from": pd.array(w.g_vf_str[f["ver"]], dtype="str"),
        "place_id": pd.array(place_id, dtype="str"),
        "story": pd.array(f["story"], dtype="str"),
    })
    return tickets, truth


def _addresses(f: dict, w: _World, sd: np.ndarray, rng) -> np.ndarray:
    n = len(f["t"])
    keys = sorted(_ROADS)
    roads = [r for k in keys for r in _ROADS[k]]
    offset = dict(zip(keys, np.cumsum([0] + [len(_ROADS[k]) for k in keys[:-1]])))
    length = {k: len(_ROADS[k]) for k in keys}
    sdk = np.array([s if s in _ROADS else "" for s in sd], dtype=object)
    off = np.array([offset[s] for s in sdk])
    ln = np.array([length[s] for s in sdk])
    roads = np.array(roads, dtype=object)
    r1 = roads[off + (rng.random(n) * ln).astype(int)]
    r2 = roads[off + (rng.random(n) * ln).astype(int)]
    num = rng.integers(1, 1800, n).astype(str).astype(object)
    lane = rng.integers(1, 120, n).astype(str).astype(object)
    form = rng.choice(4, size=n, p=[0.45, 0.3, 0.15, 0.1])
    addr = np.where(form == 0, r1 + num + "号",
                    np.where(form == 1, r1 + num + "弄" + lane + "号",
                             np.where(form == 2, r1 + num + "号附近",
                                      np.where(r1 != r2, r1 + "与" + r2 + "路口", r1 + num + "号"))))
    place = f["place"]
    u = rng.random(n)
    for i in np.unique(place[place >= 0]):
        m = np.flatnonzero(place == i)
        opts = [str(w.p_name[i])] + w.p_alias[i]
        pick = np.where(u[m] < 0.65, 0, 1 + (rng.random(len(m)) * max(len(opts) - 1, 1)).astype(int))
        pick = np.minimum(pick, len(opts) - 1)
        addr[m] = np.array(opts, dtype=object)[pick]
    return addr.astype(object)


def _texts(f: dict, kind: np.ndarray, address: np.ndarray, unit: np.ndarray, rng) -> np.ndarray:
    n = len(kind)
    cats = f["cat"]
    pre = np.empty(n, dtype=object)
    post = np.empty(n, dtype=object)
    which = rng.integers(0, 2, n)
    for code in np.unique(cats):
        m = cats == code
        opts = _PROBLEMS.get(code) or (("", f"的{model.CATEGORIES[code].zh}问题"),) * 2
        pre[m] = np.array([o[0] for o in opts], dtype=object)[which[m] % len(opts)]
        post[m] = np.array([o[1] for o in opts], dtype=object)[which[m] % len(opts)]
    problem = pre + address + post
    kpre = np.empty(n, dtype=object)
    kpost = np.empty(n, dtype=object)
    which = rng.integers(0, 2, n)
    for k, opts in _KIND_WRAP.items():
        m = kind == k
        kpre[m] = np.array([o[0] for o in opts], dtype=object)[which[m]]
        kpost[m] = np.array([o[1] for o in opts], dtype=object)[which[m]]
    other = pd.isna(kpre)
    kpre[other], kpost[other] = "市民来电：", "。"
    for ch, prefix in _CHANNEL_PREFIX.items():
        kpre[f["channel"] == ch] = prefix
    text = kpre + problem + kpost
    praise = kind == "praise"
    if praise.any():
        catname = np.array([model.CATEGORIES[c].zh for c in cats[praise]], dtype=object)
        text[praise] = "市民来电表扬：此前反映的" + address[praise] + catname + "问题已经解决，感谢" + unit[praise] + "的及时处理。"
    return text


# --------------------------------------------------------------------------
# Interventions
# --------------------------------------------------------------------------


def _intervention_frames(ivs: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, targets = [], []
    for iv in ivs:
        rows.append({
            "intervention_id": iv["intervention_id"], "name": iv["name"], "type": iv["type"],
            "start_date": iv["start_date"], "end_date": iv["end_date"],
            "implementation_end": iv["implementation_end"], "units_involved": iv["units_involved"],
            "description": iv["description"],
            "target_categories": json.dumps(iv["target_categories"], ensure_ascii=False),
        })
        targets.extend({"intervention_id": iv["intervention_id"], "target_type": tt, "target_id": tid}
                       for tt, tid in iv["targets"])
    interventions = pd.DataFrame(rows, columns=list(model.INTERVENTION_COLUMNS))
    interventions["intervention_id"] = interventions["intervention_id"].astype("int64")
    targets_df = pd.DataFrame(targets, columns=list(TARGET_COLUMNS))
    targets_df["intervention_id"] = targets_df["intervention_id"].astype("int64")
    return interventions, targets_df
