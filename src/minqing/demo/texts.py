"""What callers say: the addresses and texts of the demo's tickets.

Addresses are street addresses on a sub-district's roads (real Yangpu street
names), or a place's name or alias for tickets at places; texts put the
problem of the ticket's category at its address, wrapped in the phrasing of
its kind and channel, and a few name the caller or the phone number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minqing import model
from minqing.demo.world import World

_TEXT_CONTACT_SHARE = 0.05

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


def addresses(f: dict, w: World, sd: np.ndarray, rng) -> np.ndarray:
    """Street addresses on the sub-district's roads; a place's name or an alias for tickets at places."""
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


def texts(f: dict, kind: np.ndarray, address: np.ndarray, unit: np.ndarray, rng) -> np.ndarray:
    """Ticket texts: the problem at the address, wrapped by kind and channel; praise thanks the unit."""
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


def add_contacts(text: np.ndarray, has_caller: np.ndarray, name: np.ndarray, phone: np.ndarray, rng) -> None:
    """Append the caller's name or phone to a few texts, as callers dictate them."""
    n = len(text)
    contact = np.flatnonzero(has_caller & (rng.random(n) < _TEXT_CONTACT_SHARE))
    honor = np.where(rng.random(len(contact)) < 0.5, "先生", "女士").astype(object)
    forms = rng.integers(0, 3, len(contact))
    nm, ph = name[contact], phone[contact]
    sn = np.array([x[:1] for x in nm], dtype=object)
    add = np.where(forms == 0, "，请联系" + sn + honor + ph,
                   np.where(forms == 1, "，联系电话" + ph, "。我叫" + nm + "，电话" + ph))
    body = pd.Series(text[contact], dtype=object).str.rstrip("。").to_numpy(dtype=object)
    text[contact] = body + add + "。"
