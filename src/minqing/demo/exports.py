"""Write tickets the way a 12345 system exports them: Chinese headers, labels, GCJ-02.

Used to make realistic test and benchmark files from the demo scenario.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minqing.geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from minqing.model import CATEGORIES, CHANNELS, KINDS, RESOLVED, SATISFACTION, STATUSES

EXPORT_HEADERS = {
    "source_id": "工单编号", "received_at": "受理时间", "channel": "诉求渠道", "kind": "诉求类型",
    "category": "问题分类", "text": "诉求内容", "address": "诉求地址", "lon": "经度", "lat": "纬度",
    "handling_unit": "承办单位", "dispatched_at": "派单时间", "closed_at": "办结时间", "due_at": "办理时限",
    "followed_up_at": "回访时间", "status": "工单状态", "satisfaction": "回访满意度", "resolved": "是否解决",
    "caller_name": "来电人", "caller_phone": "联系电话",
}


def to_hotline_export(tickets: pd.DataFrame, crs: str = "gcj02") -> pd.DataFrame:
    """Return ``tickets`` (model columns, WGS-84) as a hotline export with Chinese headers and labels.

    Parameters
    ----------
    tickets : DataFrame
        Columns of ``model.TICKET_COLUMNS`` (e.g. ``DemoScenario.tickets``).
    crs : {"wgs84", "gcj02", "bd09"}
        The coordinate system the export's 经度/纬度 are written in.
    """
    if crs not in ("wgs84", "gcj02", "bd09"):
        raise ValueError(f"crs must be 'wgs84', 'gcj02' or 'bd09', got {crs!r}")
    out = pd.DataFrame(index=tickets.index)
    out["工单编号"] = tickets["source_id"].astype(str)
    for col in ("received_at", "dispatched_at", "closed_at", "due_at", "followed_up_at"):
        out[EXPORT_HEADERS[col]] = pd.to_datetime(tickets[col]).dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    labels = {code: " > ".join(_path(code)) for code in CATEGORIES}
    out["诉求渠道"] = tickets["channel"].map({k: v.zh for k, v in CHANNELS.items()})
    out["诉求类型"] = tickets["kind"].map({k: v.zh for k, v in KINDS.items()})
    out["问题分类"] = tickets["category"].map(labels).str.replace(" > ", "->", regex=False)
    out["诉求内容"] = tickets["text"]
    out["诉求地址"] = tickets["address"]
    lon = tickets["lon"].to_numpy(dtype="float64")
    lat = tickets["lat"].to_numpy(dtype="float64")
    if crs == "gcj02":
        lon, lat = wgs84_to_gcj02(lon, lat)
    elif crs == "bd09":
        lon, lat = wgs84_to_bd09(lon, lat)
    out["经度"] = np.where(np.isfinite(lon), np.round(lon, 7), np.nan)
    out["纬度"] = np.where(np.isfinite(lat), np.round(lat, 7), np.nan)
    out["坐标系"] = np.where(np.isfinite(lon), crs.upper(), "")
    out["承办单位"] = tickets["handling_unit"]
    out["工单状态"] = tickets["status"].map({k: v.zh for k, v in STATUSES.items()})
    out["回访满意度"] = tickets["satisfaction"].map({k: v.zh for k, v in SATISFACTION.items()})
    out["是否解决"] = tickets["resolved"].map({k: v.zh for k, v in RESOLVED.items()})
    out["来电人"] = tickets["caller_name"]
    out["联系电话"] = tickets["caller_phone"]
    return out.reset_index(drop=True)


def _path(code: str) -> list[str]:
    parts = code.split(".")
    return [CATEGORIES[".".join(parts[: i + 1])].zh for i in range(len(parts))]
