"""Masking, safe exports, masked search and sign-in (issues 10 and 11). Prints JSON lines.

    .venv/bin/python benchmarks/bench_privacy.py [--rows 200000] [--store sqlite:///data/minqing.sqlite]

- mask_series / mask_tickets on ``--rows`` realistic ticket texts (5 % with a mobile, 2 % landlines,
  1 % plates, 0.5 % e-mails, dates and work-order numbers that must stay readable);
- the formula-safe CSV writer on the same rows x 25 columns, the XLSX writer on 50,000 of them;
- a planner's masked search over the store (``--store``, the demo store by default), a broad and a
  narrow query;
- one argon2id sign-in (``signin.authenticate``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np
import pandas as pd

BODIES = [
    "反映长白路{h}号小区门口有占道经营现象，摊贩每天早上聚集，影响居民出行，希望相关部门尽快处理",
    "来电反映国和路{h}弄{b}栋{r}室楼上漏水，已经持续一周，物业不予处理，要求协调解决问题",
    "市民反映该路段路灯不亮已有数日，夜间出行存在安全隐患，请有关部门尽快派人维修处理",
    "{y}年{m}月{d}日下午在本小区内发现垃圾堆放未清运，气味难闻，影响周边居民生活，请处理",
    "投诉某商户{y}-{m:02d}-{d:02d} {hh}:{mm:02d}起噪音扰民，多次沟通无果，收费{a}元，邮编200082",
    "反映辖区内共享单车乱停乱放，堵塞人行道和盲道，希望加强管理，工单GD2025040300{h:04d}",
]


def texts(n: int, seed: int = 7) -> pd.Series:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = BODIES[i % len(BODIES)].format(h=rng.integers(1, 999), b=rng.integers(1, 30), r=rng.integers(101, 2000),
                                           y=2025, m=rng.integers(1, 13), d=rng.integers(1, 29),
                                           hh=rng.integers(0, 24), mm=rng.integers(0, 60), a=rng.integers(10, 999))
        u = rng.random()
        if u < 0.05:
            t += "，联系电话1" + str(rng.integers(3, 10)) + "%09d" % rng.integers(0, 10**9)
        elif u < 0.07:
            t += "，座机021-6%07d" % rng.integers(0, 10**7)
        elif u < 0.08:
            t += "，车牌沪A%05d" % rng.integers(0, 10**5)
        elif u < 0.085:
            t += "，邮箱user%d@example.com" % rng.integers(0, 10**6)
        out.append(t + f"，编号{i}。")
    return pd.Series(out, dtype="object")


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def emit(**kw) -> None:
    print(json.dumps(kw, ensure_ascii=False), flush=True)


def main() -> None:
    from minqing.export.writer import to_csv_bytes, to_xlsx_bytes
    from minqing.privacy import mask_series, mask_tickets

    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--store", default="sqlite:///data/minqing.sqlite")
    args = ap.parse_args()
    n = args.rows
    s = texts(n)
    names = pd.Series(np.where(np.arange(n) % 2 == 0, "王小明", None), dtype=object)
    emit(step="mask_series", rows=n, seconds=round(best(lambda: mask_series(s, names)), 2))
    df = pd.DataFrame({"caller_name": names, "caller_phone": "13812345678", "text": s, "address": "长白路1号",
                       "extra": np.where(np.arange(n) % 3 == 0, '{"photos": "2", "联系人": "王小明"}', None)})
    emit(step="mask_tickets", rows=n, seconds=round(best(lambda: mask_tickets(df)), 2))

    wide = pd.DataFrame({f"text{i}": s for i in range(16)})
    for i in range(5):
        wide[f"num{i}"] = np.arange(n, dtype=float)
    for i in range(3):
        wide[f"time{i}"] = pd.Timestamp("2025-01-01", tz="Asia/Shanghai") + pd.to_timedelta(np.arange(n), "min")
    wide["formula"] = np.where(np.arange(n) % 10 == 0, "=HYPERLINK(\"x\")", "ok")
    emit(step="csv_export", rows=n, columns=wide.shape[1], seconds=round(best(lambda: to_csv_bytes(wide), 1), 2))
    part = wide.iloc[:50_000]
    emit(step="xlsx_export", rows=len(part), columns=part.shape[1], seconds=round(best(lambda: to_xlsx_bytes(part), 1), 2))

    from minqing.auth import ScopedStore, User
    from minqing.store import TicketFilter, open_store

    try:
        with open_store(args.store) as store:
            total = store.ticket_count()
            planner = ScopedStore(store, User("planner"))
            for query in ("路", "138****", "长白路100号"):
                where = TicketFilter(search=query, limit=50, newest_first=True)
                hits = []
                sec = best(lambda: hits.append(planner.count_where(where)), 3)
                emit(step="masked_search_count", store_tickets=total, query=query, hits=hits[-1], seconds=round(sec, 2))
    except Exception as exc:  # noqa: BLE001 - no demo store: skip this part
        emit(step="masked_search", skipped=type(exc).__name__)

    from minqing.accounts import add_user
    from minqing.signin import authenticate

    with tempfile.TemporaryDirectory() as tmp, open_store(f"sqlite:///{tmp}/a.sqlite") as store:
        add_user(store, "bench", "planner", "a-long-enough-password", actor="bench")
        emit(step="sign_in_argon2id", seconds=round(best(lambda: authenticate(store, "bench", "a-long-enough-password"), 5), 3))


if __name__ == "__main__":
    main()
