"""Finishing the demo's tickets: ids, handling, times, outcomes, people, text, locations.

:func:`finish` turns the realised ticket parts (times, categories, channels,
kinds, points and grid versions of every ticket) into the two frames of a
:class:`~minqing.demo.scenario.DemoScenario`: the tickets as a 12345 system
holds them and their ground truth.  Every step draws from its own stream
(handling, people, text, locate), always in the same order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minqing import model
from minqing.demo.calendar import Calendar
from minqing.demo.parts import pick
from minqing.demo.texts import add_contacts, addresses, texts
from minqing.demo.world import World, office

TICKET_OUTPUT_COLUMNS = tuple(c for c in model.TICKET_COLUMNS if c not in model.LINK_COLUMNS)
"""Columns of ``DemoScenario.tickets``: the model's ticket columns without the link columns."""
TRUTH_COLUMNS = ("source_id", "grid_code", "grid_valid_from", "place_id", "story")
"""Columns of ``DemoScenario.truth``."""

_UNLOCATED_SHARE = 0.07

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

_SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤")
_GIVEN = tuple("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅林文辉鹏飞丹萍海燕晨宇浩婷雪琳佳欣怡子涵嘉俊凯峰斌宏波亮云莉琴颖慧")
_PHONE_2ND = np.array(list("3456789"))
_PHONE_2ND_P = np.array([0.3, 0.05, 0.1, 0.05, 0.15, 0.3, 0.05])


def finish(f: dict, w: World, cal: Calendar, rngs: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn the realised ticket parts ``f`` into the tickets and truth frames.

    Parameters
    ----------
    f : dict
        Arrays of equal length, one entry per ticket (see ``Accumulator.realise``);
        ``parent`` is the index of the ticket a repeat call repeats (-1 if none).
    w : World
    cal : Calendar
    rngs : dict
        The scenario's generators; the "handling", "people", "text" and "locate"
        streams are drawn from here, in that order.

    Returns
    -------
    (DataFrame, DataFrame)
        The tickets (``TICKET_OUTPUT_COLUMNS``) and their truth (``TRUTH_COLUMNS``).
    """
    f = _in_time_order(f)
    n = len(f["t"])
    source_id = _source_ids(f["t"])
    sd = w.g_sd[f["ver"]]
    has_caller = ~np.isin(f["channel"], ("grid_patrol", "proactive"))
    rng = rngs["handling"]
    unit = _handling_units(f, w, sd, rng)
    times = _handling_times(f, cal, has_caller, rng)
    resolved, satisfaction, status = _outcomes(f, times, rng)
    name, phone, same = _people(f, has_caller, rngs["people"])
    trng = rngs["text"]
    address = addresses(f, w, sd, trng)
    text = texts(f, f["kind"], address, unit, trng)
    text[same] = "再次来电反映：" + text[same]
    add_contacts(text, has_caller, name, phone, trng)
    lon, lat, loc_src, extra = _locations(f, n, rngs["locate"])

    is_child = f["parent"] >= 0
    repeat_of = np.where(is_child, source_id[np.clip(f["parent"], 0, None)], None)
    tickets = pd.DataFrame({
        "source_id": pd.array(source_id, dtype="str"),
        "received_at": _local_times(f["t"]),
        "channel": pd.array(f["channel"], dtype="str"),
        "kind": pd.array(f["kind"], dtype="str"),
        "category": pd.array(f["cat"], dtype="str"),
        "text": pd.array(text, dtype="str"),
        "address": pd.array(address, dtype="str"),
        "lon": lon.astype(float),
        "lat": lat.astype(float),
        "location_source": pd.array(loc_src, dtype="str"),
        "handling_unit": pd.array(unit, dtype="str"),
        "due_at": _local_times(times["due"]),
        "dispatched_at": _local_times(times["dispatched"]),
        "responded_at": _local_times(times["responded"]),
        "closed_at": _local_times(times["closed"], times["closed_ok"]),
        "followed_up_at": _local_times(times["followed"], times["followed_ok"]),
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
    })[list(TRUTH_COLUMNS)]
    return tickets, truth


def _in_time_order(f: dict) -> dict:
    """The tickets sorted by time, a repeat call after its parent, with ``parent`` re-indexed."""
    order = np.lexsort((f["parent"] >= 0, f["t"]))
    # keep a child after its parent: parent times are strictly earlier (dt >= 30 min)
    f = {k: v[order] for k, v in f.items()}
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    f["parent"] = np.where(f["parent"] >= 0, pos[np.clip(f["parent"], 0, None)], -1)
    return f


def _source_ids(t: np.ndarray) -> np.ndarray:
    """Source ids of tickets in time order: YP + yymm + 6-digit sequence within the month."""
    n = len(t)
    ym = t.astype("datetime64[s]").astype("datetime64[M]")
    u_ym, inv = np.unique(ym, return_inverse=True)
    yymm = np.array([str(m)[2:4] + str(m)[5:7] for m in u_ym], dtype=object)[inv]
    first = np.r_[0, np.flatnonzero(ym[1:] != ym[:-1]) + 1]
    seq = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n])) + 1
    return (np.char.add(np.char.add("YP", yymm.astype(str)), np.char.zfill(seq.astype(str), 6))).astype(object)


def _handling_units(f: dict, w: World, sd: np.ndarray, rng) -> np.ndarray:
    """Handling unit by category (longest prefix), the sub-district office for proactive channels."""
    n = len(f["t"])
    proactive_ch = np.isin(f["channel"], model.PROACTIVE_CHANNELS)
    u_sd, inv = np.unique(sd.astype(str), return_inverse=True)
    offices = np.array([office(w.sd_name.get(s, s) if s else "杨浦区") for s in u_sd], dtype=object)[inv]
    unit = np.empty(n, dtype=object)
    cats = f["cat"]
    for code in np.unique(cats):
        m = cats == code
        key = max((p for p in _HANDLING if code.startswith(p)), key=len, default="99")
        unit[m] = pick(rng, _HANDLING[key], int(m.sum()))
    sub = unit == _SD
    unit[sub] = offices[sub]
    unit[proactive_ch] = offices[proactive_ch]
    return unit


def _handling_times(f: dict, cal: Calendar, has_caller: np.ndarray, rng) -> dict:
    """Epoch seconds of dispatch, response, due date, closing and follow-up (with which exist)."""
    n = len(f["t"])
    kind, cats = f["kind"], f["cat"]
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
    followed_ok = closed_ok & has_caller & (rng.random(n) < 0.8) & (followed < cal.snapshot)
    return {"dispatched": dispatched, "responded": responded, "due": due, "closed": closed, "closed_ok": closed_ok,
            "followed": followed, "followed_ok": followed_ok}


def _outcomes(f: dict, times: dict, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resolution, satisfaction and status of every ticket (its story's satisfaction mode decides)."""
    n = len(f["t"])
    kind = f["kind"]
    closed_ok, followed_ok = times["closed_ok"], times["followed_ok"]
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
    return resolved, satisfaction, status


def _people(f: dict, has_caller: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Callers' names and phones; a repeat call comes from the same caller 60 % of the time.

    Returns names, phones and which tickets are repeat calls by the same caller.
    """
    n = len(f["t"])
    surname = np.array(_SURNAMES, dtype=object)[rng.integers(0, len(_SURNAMES), n)]
    given = np.array(_GIVEN, dtype=object)
    g1 = given[rng.integers(0, len(given), n)]
    g2 = np.where(rng.random(n) < 0.7, given[rng.integers(0, len(given), n)], "")
    name = surname + g1 + g2
    phone = np.char.add(np.char.add("1", _PHONE_2ND[rng.choice(7, size=n, p=_PHONE_2ND_P)]),
                        np.char.zfill(rng.integers(0, 10**9, n).astype(str), 9)).astype(object)
    same = (f["parent"] >= 0) & (rng.random(n) < 0.6)
    name[same] = name[f["parent"][same]]
    phone[same] = phone[f["parent"][same]]
    name[~has_caller] = None
    phone[~has_caller] = None
    return name, phone, same


def _locations(f: dict, n: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates (some dropped: 7 % of locatable tickets have none), location source and extra JSON.

    The extra column carries QR code ids and photo counts of app reports.
    """
    locatable = ~np.isin(f["channel"], ("qr_code", "grid_patrol", "proactive"))
    unloc = locatable & (rng.random(n) < _UNLOCATED_SHARE / locatable.mean())
    lon = np.where(unloc, np.nan, f["lon"])
    lat = np.where(unloc, np.nan, f["lat"])
    loc_src = np.where(unloc, "none", "coordinates").astype(object)
    extra = f["extra"].copy()
    photos = np.isin(f["channel"], ("app", "miniprogram")) & pd.isna(extra) & (rng.random(n) < 0.3)
    extra[photos] = np.char.add(np.char.add('{"photos": ', rng.integers(1, 4, photos.sum()).astype(str)), "}")
    return lon, lat, loc_src, extra


def _local_times(sec: np.ndarray, valid: np.ndarray | None = None) -> pd.Series:
    """Local epoch seconds as city-time timestamps (NaT where not ``valid``)."""
    arr = sec.astype("datetime64[s]")
    if valid is not None:
        arr = np.where(valid, arr, np.datetime64("NaT"))
    return pd.Series(pd.DatetimeIndex(arr).as_unit("ns").tz_localize(model.TIMEZONE))
