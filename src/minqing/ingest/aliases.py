"""Built-in aliases: export headers to fields, and raw values to vocabulary codes.

Headers are compared after :func:`norm_header` (case, spaces, brackets and
punctuation removed), so ``"经度(X)"`` and ``"经度 x"`` are the same header.
"""

from __future__ import annotations

import re

from minqing.model import CATEGORIES, CHANNELS, KINDS, RESOLVED, SATISFACTION, STATUSES

#: Field -> header aliases, most specific first (the English ones include the headers of the open 311 exports of
#: New York, Boston, Chicago and San Francisco: Unique Key, Created Date, Complaint Type, open_dt, SR Number, ...).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "source_id": ("工单编号", "工单号", "编号", "受理编号", "ticket_id", "source_id", "id", "service_request_id", "unique key", "case id", "case_enquiry_id", "sr number", "service request number", "request id"),
    "received_at": ("受理时间", "来电时间", "登记时间", "创建时间", "诉求时间", "received_at", "requested_datetime", "created date", "open_dt", "opened", "date created"),
    # the day alone: joined with received_at when that holds only the clock (else it is received_at)
    "received_date": ("受理日期", "来电日期", "登记日期", "创建日期", "诉求日期"),
    "channel": ("诉求渠道", "来源", "来源渠道", "渠道", "受理渠道", "channel"),
    "kind": ("诉求类型", "工单类型", "诉求性质", "kind", "type"),
    "category": ("问题分类", "诉求分类", "分类", "category", "service_name", "service_code", "complaint type", "sr type", "request type", "service request type"),
    "category_l1": ("大类", "一级分类", "问题大类"),
    "category_l2": ("中类", "二级分类", "问题中类"),
    "category_l3": ("小类", "三级分类", "问题小类"),
    "text": ("诉求内容", "诉求描述", "问题描述", "内容", "text", "description", "descriptor", "details"),
    "address": ("诉求地址", "事件发生地", "事发地址", "小区点位", "地址", "address", "incident address", "street address", "事发地点", "发生地点", "问题地址", "详细地址"),
    "lon": ("经度", "x", "lon", "lng", "long", "longitude", "x坐标"),
    "lat": ("纬度", "y", "lat", "latitude", "y坐标"),
    "crs": ("坐标系", "坐标系统", "crs"),
    "district": ("所属区", "区", "所属区县", "district"),
    "subdistrict": ("所属街道", "街道", "街镇", "subdistrict"),
    "community": ("所属社区", "社区", "居委", "community"),
    "grid": ("所属网格", "网格", "grid"),
    "handling_unit": ("承办单位", "主办单位", "处理单位", "handling_unit", "agency_responsible", "agency", "agency name", "responsible agency", "department"),
    "dispatched_at": ("派单时间", "dispatched_at"),
    "responded_at": ("响应时间", "首次响应时间", "responded_at"),
    "closed_at": ("办结时间", "结案时间", "closed_at", "closed date", "closed_dt"),
    "due_at": ("办理时限", "截止时间", "due_at", "expected_datetime"),
    "followed_up_at": ("回访时间", "followed_up_at"),
    "status": ("工单状态", "状态", "办理状态", "status"),
    "satisfaction": ("回访满意度", "是否满意", "满意度", "satisfaction"),
    "resolved": ("是否解决", "解决情况", "resolved"),
    "caller_name": ("来电人", "来电人姓名", "诉求人", "caller_name", "诉求人姓名", "联系人"),
    "caller_phone": ("联系电话", "来电号码", "电话", "caller_phone", "诉求人电话", "来电人电话", "联系方式", "手机号码"),
    "repeat_of": ("重复工单", "repeat_of"),
}
#: Field -> the ``tickets.col_*`` label the app's own ticket export uses as its header (both languages),
#: so an export downloaded from the app imports back with every column.
APP_EXPORT_HEADERS = {
    "source_id": "col_source_id", "received_at": "col_received", "category": "col_category",
    "channel": "col_channel", "kind": "col_kind", "status": "col_status", "satisfaction": "col_satisfaction",
    "resolved": "col_resolved", "grid": "col_grid", "address": "col_address", "text": "col_text",
    "due_at": "col_due", "closed_at": "col_closed", "followed_up_at": "col_followed_up",
    "handling_unit": "col_handling_unit",
}


def _add_app_headers(aliases: dict) -> None:
    from minqing.i18n import t

    for fld, key in APP_EXPORT_HEADERS.items():
        labels = tuple(dict.fromkeys(t(f"tickets.{key}", lang) for lang in ("zh", "en")))
        aliases[fld] = aliases[fld] + tuple(h for h in labels if h not in aliases[fld])


_add_app_headers(HEADER_ALIASES)
TIME_FIELDS = ("received_at", "dispatched_at", "responded_at", "due_at", "closed_at", "followed_up_at")

CRS_ALIASES = {
    "wgs84": "wgs84", "wgs": "wgs84", "gps": "wgs84", "epsg4326": "wgs84", "4326": "wgs84", "wgs1984": "wgs84",
    "gcj02": "gcj02", "gcj": "gcj02", "高德": "gcj02", "腾讯": "gcj02", "火星坐标": "gcj02", "国测局": "gcj02",
    "bd09": "bd09", "bd": "bd09", "百度": "bd09", "bd09ll": "bd09",
}

_PUNCT = re.compile(r"[\s_\-—:：()（）\[\]【】/\\.,，、*＊※]+")  # * and ※ mark required columns in templates


def norm_header(name) -> str:
    """Return a header in comparable form: lower case, no spaces, brackets or punctuation."""
    return _PUNCT.sub("", str(name).strip().lstrip("\ufeff")).lower()


def _norm_value(v) -> str:
    return _PUNCT.sub("", str(v).strip()).lower()


def _value_table(vocab, extra: dict[str, str]) -> dict[str, str]:
    table = {}
    for code, term in vocab.items():
        for name in (code, term.zh, term.en):
            table[_norm_value(name)] = code
    table.update({_norm_value(k): v for k, v in extra.items()})
    return table


CHANNEL_VALUES = _value_table(CHANNELS, {
    "12345": "hotline_12345", "热线": "hotline_12345", "电话": "hotline_12345", "12345热线电话": "hotline_12345",
    "市民热线": "hotline_12345", "来电": "hotline_12345", "网络": "web", "网上": "web", "门户网站": "web",
    "微信": "miniprogram", "微信小程序": "miniprogram", "随申办": "app", "手机app": "app", "app": "app",
    "扫码": "qr_code", "二维码": "qr_code", "码上就来": "qr_code", "网格员上报": "grid_patrol", "巡查": "grid_patrol",
    "民情日记": "community_log", "主动发现": "proactive", "主动问需": "proactive",
})
KIND_VALUES = _value_table(KINDS, {"求决": "help", "意见建议": "suggestion", "感谢": "praise", "表扬感谢": "praise",
                                   "检举": "report", "问询": "consult"})
SATISFACTION_VALUES = _value_table(SATISFACTION, {
    "是": "satisfied", "非常满意": "satisfied", "比较满意": "basically_satisfied", "一般": "basically_satisfied",
    "否": "unsatisfied", "很不满意": "unsatisfied", "未回访": "unrated", "未评": "unrated", "无": "unrated",
})
RESOLVED_VALUES = _value_table(RESOLVED, {"是": "solved", "已解决": "solved", "部分": "partly", "否": "not",
                                          "未解决": "not"})
STATUS_VALUES = _value_table(STATUSES, {"已结案": "closed", "办结": "closed", "已完成": "closed", "closed": "closed",
                                        "处理中": "open", "待处理": "open", "已派单": "open", "open": "open",
                                        "受理": "open", "已受理": "open"})


def category_lookup() -> dict[str, str]:
    """Return normalised category names, paths and codes -> category codes.

    A leaf name (``电梯故障``), a path in any separator (``物业管理->电梯->电梯故障``,
    ``物业管理/电梯/电梯故障``) and a code (``04.01.01``) all find the same node.
    """
    table: dict[str, str] = {}
    for code, node in CATEGORIES.items():
        parts = code.split(".")
        names_zh = [CATEGORIES[".".join(parts[: i + 1])].zh for i in range(len(parts))]
        names_en = [CATEGORIES[".".join(parts[: i + 1])].en for i in range(len(parts))]
        table[_norm_value(code)] = code
        table.setdefault(_norm_value(node.zh), code)  # names repeat across levels: the first (coarsest) wins
        table.setdefault(_norm_value(node.en), code)
        table[_norm_value(">".join(names_zh))] = code
        table[_norm_value(">".join(names_en))] = code
        # the same keys as a raw value gets (a hyphen in "Night-time" reads as a path separator there)
        for names in (names_zh, names_en):
            table.setdefault(category_key(" > ".join(names)), code)
        table.setdefault(category_key(node.en), code)
    # Leaves win over same-named coarser nodes only when given as a leaf name.
    for code, node in CATEGORIES.items():
        if node.level == 3:
            table[_norm_value(node.zh)] = code
    return table


_PATH_SEP = re.compile(r"\s*(?:->|＞|>|/|\\|-|—|→|\|)\s*")


def category_key(value: str) -> str:
    """Return the normalised lookup key of a raw category value (paths joined by ``>``)."""
    parts = [p for p in _PATH_SEP.split(str(value).strip()) if p]
    if len(parts) > 1 and not re.fullmatch(r"[\d.]+", str(value).strip()):
        return _norm_value(">".join(parts)).replace("》", ">")
    return _norm_value(value)


#: Field -> normalised value -> code, for the fields with a vocabulary.
VALUE_TABLES = {"channel": CHANNEL_VALUES, "kind": KIND_VALUES, "status": STATUS_VALUES,
                "satisfaction": SATISFACTION_VALUES, "resolved": RESOLVED_VALUES}


def category_code(value, table: dict[str, str]) -> str | None:
    """Return the category code of a raw value via ``table`` (from :func:`category_lookup`), or None."""
    key = category_key(value)
    code = table.get(key)
    if code is None and ">" in key:
        code = table.get(key.rsplit(">", 1)[-1])
    return code


def user_lookup(field: str, values: dict[str, str]):
    """Return ``f(raw) -> code or None`` for a mapping file's ``[values.<field>]`` table.

    The file's value is matched exactly first, then in the normalised form the
    built-in aliases use (:func:`category_key` for categories, else case, spaces
    and punctuation ignored).
    """
    norm = category_key if field == "category" else _norm_value
    by_norm: dict[str, str] = {}
    for k, v in values.items():
        by_norm.setdefault(norm(k), v)

    def find(raw):
        code = values.get(raw)
        return code if code is not None else by_norm.get(norm(raw))

    return find
