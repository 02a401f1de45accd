"""The data model: vocabularies, the category tree and the table columns.

Codes are English and stable; every code has a Simplified Chinese and an
English label.  Tables in every store have the columns listed here, and every
DataFrame that crosses a module boundary uses the same names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TIMEZONE = "Asia/Shanghai"
H3_RESOLUTION = 10
"""The finest H3 resolution stored with each ticket; coarser ones are derived."""

UNIT_LEVELS = ("district", "subdistrict", "community", "grid")
"""Administrative levels from the top down (区 > 街道 > 社区 > 网格)."""


@dataclass(frozen=True)
class Term:
    """One code of a controlled vocabulary with its two labels."""

    code: str
    zh: str
    en: str

    def label(self, lang: str = "zh") -> str:
        """Return the label in ``lang`` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en


def _vocab(*terms: Term) -> dict[str, Term]:
    return {t.code: t for t in terms}


LEVELS = _vocab(
    Term("district", "区", "District"),
    Term("subdistrict", "街道(镇)", "Sub-district"),
    Term("community", "社区(居委)", "Community"),
    Term("grid", "网格", "Grid"),
)

CHANNELS = _vocab(
    Term("hotline_12345", "12345热线", "12345 hotline"),
    Term("web", "网站", "Website"),
    Term("app", "移动应用", "Mobile app"),
    Term("miniprogram", "小程序", "Mini program"),
    Term("qr_code", "扫码上报", "QR code"),
    Term("petition", "信访", "Petition"),
    Term("grid_patrol", "网格巡查", "Grid patrol"),
    Term("community_log", "民情日志", "Community log"),
    Term("proactive", "未诉先办", "Proactive"),
    Term("other", "其他", "Other"),
)
PROACTIVE_CHANNELS = ("grid_patrol", "community_log", "proactive")
"""Channels where the government found the problem before anyone complained."""
CITIZEN_CHANNELS = ("hotline_12345", "web", "app", "miniprogram", "petition")
"""The default of every hot spot, map, ranking and top-10: residents' complaints through the standing channels.

The rule: a channel counts by default when a resident starts the order through a
channel every part of the city has had all along -- the 12345 hotline and its
web, app and mini-program front ends, and petitions (信访). Left out by default:

- :data:`PROACTIVE_CHANNELS`: the government's own findings, not complaints;
- ``qr_code``: residents do start these orders, but QR codes go up one
  sub-district at a time and lower the threshold to report (华泾镇: 7.5x orders
  after the launch), so counts with them compare places with and without codes;
- ``other`` (values an import did not know) and any channel a city adds later:
  a new channel changes how people report before it says anything about what
  they report. Add a channel here once it covers the whole city.

Every view can switch to all channels or one (:func:`channels_for`).
"""
CHANNEL_CHOICES = ("citizen", "all") + tuple(CHANNELS)
"""What a channel control offers: the citizen default, every channel, or one channel."""


def channels_for(choice: str) -> tuple[str, ...] | None:
    """Return the channel codes of a channel choice (None: every channel, no filter).

    Examples
    --------
    >>> channels_for("citizen")[0], channels_for("all"), channels_for("qr_code")
    ('hotline_12345', None, ('qr_code',))
    """
    if choice == "citizen":
        return CITIZEN_CHANNELS
    if choice == "all":
        return None
    if choice in CHANNELS:
        return (choice,)
    raise ValueError(f"unknown channel choice {choice!r}; allowed: {', '.join(CHANNEL_CHOICES)}")

KINDS = _vocab(
    Term("consult", "咨询", "Consultation"),
    Term("help", "求助", "Request for help"),
    Term("complaint", "投诉", "Complaint"),
    Term("report", "举报", "Report"),
    Term("suggestion", "建议", "Suggestion"),
    Term("praise", "表扬", "Praise"),
    Term("other", "其他", "Other"),
)

LOCATION_SOURCES = _vocab(
    Term("coordinates", "坐标", "Coordinates"),
    Term("address_match", "地址匹配", "Address match"),
    Term("none", "未定位", "Not located"),
)

RESOLVED = _vocab(
    Term("solved", "已解决", "Solved"),
    Term("partly", "部分解决", "Partly solved"),
    Term("not", "未解决", "Not solved"),
)
FOLLOWED_UP = ("solved", "partly", "not")
"""Follow-up answers of an order followed up with an answer: the denominator of 解决率 ("solved" is the numerator)."""

SATISFACTION = _vocab(
    Term("satisfied", "满意", "Satisfied"),
    Term("basically_satisfied", "基本满意", "Basically satisfied"),
    Term("unsatisfied", "不满意", "Unsatisfied"),
    Term("unrated", "未评价", "Not rated"),
)
RATED = ("satisfied", "basically_satisfied", "unsatisfied")
"""Satisfaction values of a rated order: the denominator of 满意率."""
SATISFIED = ("satisfied", "basically_satisfied")
"""Satisfaction values that count as satisfied: the numerator of 满意率."""

STATUSES = _vocab(
    Term("open", "办理中", "Open"),
    Term("closed", "已办结", "Closed"),
)

PLACE_KINDS = _vocab(
    Term("hospital_entrance", "医院门口", "Hospital entrance"),
    Term("road_stretch", "路段", "Road stretch"),
    Term("compound", "小区", "Compound"),
    Term("other", "其他点位", "Other place"),
)

INTERVENTION_TYPES = _vocab(
    Term("enforcement", "执法整治", "Enforcement"),
    Term("facility_works", "设施改造", "Facility works"),
    Term("joint_meeting", "党建联席会议协调", "Joint-meeting coordination"),
    Term("proactive_visits", "主动走访", "Proactive visits"),
    Term("policy", "政策措施", "Policy"),
    Term("other", "其他", "Other"),
)

VOCABULARIES = {
    "level": LEVELS,
    "channel": CHANNELS,
    "kind": KINDS,
    "location_source": LOCATION_SOURCES,
    "resolved": RESOLVED,
    "satisfaction": SATISFACTION,
    "status": STATUSES,
    "place_kind": PLACE_KINDS,
    "intervention_type": INTERVENTION_TYPES,
}
"""Every coded vocabulary by name (what a store's ``vocab`` table lists, with the labels)."""

# The category tree (诉求分类): 大类 "NN", 中类 "NN.NN", 小类 "NN.NN.NN".
# Modelled on the classification Shanghai's 12345 publishes in its monthly
# reports; real deployments load their own tree with the same shape.
_CATEGORY_ROWS = [
    ("01", "市容环卫", "City appearance and sanitation"),
    ("01.01", "垃圾清运", "Waste collection"),
    ("01.01.01", "生活垃圾未及时清运", "Household waste not collected"),
    ("01.01.02", "垃圾分类", "Waste sorting"),
    ("01.02", "占道经营", "Street vending"),
    ("01.02.01", "无证摊贩", "Unlicensed vendors"),
    ("01.03", "油烟污染", "Cooking fumes"),
    ("01.03.01", "餐饮油烟扰民", "Restaurant fumes"),
    ("02", "交通管理", "Traffic management"),
    ("02.01", "违法停车", "Illegal parking"),
    ("02.01.01", "共享单车乱停放", "Shared bikes parked badly"),
    ("02.01.02", "非法营运", "Illegal taxis"),
    ("02.01.03", "货车违停", "Trucks parked illegally"),
    ("02.01.04", "机动车违停", "Cars parked illegally"),
    ("02.02", "交通秩序", "Traffic order"),
    ("02.02.01", "道路拥堵", "Congestion"),
    ("03", "市政设施", "Municipal facilities"),
    ("03.01", "路灯", "Streetlights"),
    ("03.01.01", "路灯不亮", "Streetlight out"),
    ("03.02", "道路设施", "Roads"),
    ("03.02.01", "道路破损", "Damaged road"),
    ("03.02.02", "井盖缺失", "Missing manhole cover"),
    ("04", "物业管理", "Property management"),
    ("04.01", "电梯", "Elevators"),
    ("04.01.01", "电梯故障", "Elevator breakdown"),
    ("04.02", "非机动车棚", "Bike sheds"),
    ("04.02.01", "车棚脏乱", "Untidy bike shed"),
    ("04.02.02", "充电设施", "Charging points"),
    ("04.03", "物业服务", "Property services"),
    ("04.03.01", "物业服务质量", "Service quality"),
    ("04.03.02", "房屋漏水", "Water leaks"),
    ("05", "噪声扰民", "Noise"),
    ("05.01", "施工噪声", "Construction noise"),
    ("05.01.01", "夜间施工", "Night-time construction"),
    ("05.02", "社会生活噪声", "Neighbourhood noise"),
    ("05.02.01", "广场舞噪声", "Square-dance noise"),
    ("06", "公共安全", "Public safety"),
    ("06.01", "消防安全", "Fire safety"),
    ("06.01.01", "消防通道堵塞", "Blocked fire lane"),
    ("06.01.02", "电动车违规充电", "Unsafe e-bike charging"),
    ("07", "医疗卫生", "Health"),
    ("07.01", "就医秩序", "Order around hospitals"),
    ("07.01.01", "医院周边秩序", "Order at hospital entrances"),
    ("08", "社会保障", "Social security"),
    ("08.01", "政策咨询", "Policy questions"),
    ("08.01.01", "社保医保咨询", "Pension and insurance questions"),
    ("08.02", "养老服务", "Elderly care"),
    ("08.02.01", "助餐服务", "Meal services"),
    ("99", "其他", "Other"),
    ("99.99", "其他", "Other"),
    ("99.99.99", "其他诉求", "Other requests"),
]


@dataclass(frozen=True)
class Category(Term):
    """One node of the category tree."""

    parent: str | None = None

    @property
    def level(self) -> int:
        """1 for 大类, 2 for 中类, 3 for 小类."""
        return self.code.count(".") + 1


CATEGORIES: dict[str, Category] = {
    code: Category(code, zh, en, code.rsplit(".", 1)[0] if "." in code else None)
    for code, zh, en in _CATEGORY_ROWS
}
OTHER_CATEGORY = "99.99.99"
BUILTIN_CATEGORIES = frozenset(CATEGORIES)
"""The codes of the national tree; a city adds its own (:func:`register_categories`)."""
CATEGORY_CODE = re.compile(r"\d{2}(?:\.\d{2}){0,2}")


def register_categories(extra: dict) -> list[str]:
    """Add a city's own categories to :data:`CATEGORIES`; return the codes added.

    ``extra`` maps a code (``98.01.01``) to ``{"zh": ..., "en": ...}``. A missing
    parent (``98``, ``98.01``) is added with the same labels. A city's categories
    are kept by the store (``Store.city_categories``) and registered when it opens.

    Raises
    ------
    ValueError
        If a code is malformed or is a national code with other labels.
    """
    added = []
    for code, labels in sorted(extra.items()):
        if not CATEGORY_CODE.fullmatch(str(code)):
            raise ValueError(f"category code {code!r} must look like 98, 98.01 or 98.01.01")
        zh, en = str(labels.get("zh") or "").strip(), str(labels.get("en") or labels.get("zh") or "").strip()
        if not zh:
            raise ValueError(f"new category {code!r} needs a zh label")
        parts = code.split(".")
        for i in range(1, len(parts) + 1):
            c = ".".join(parts[:i])
            if c in BUILTIN_CATEGORIES:
                if c == code and (CATEGORIES[c].zh, CATEGORIES[c].en) != (zh, en):
                    raise ValueError(f"{code} is a national category ({CATEGORIES[c].zh}); choose a free code such as 98.01.01")
                continue
            if c not in CATEGORIES or c == code:
                CATEGORIES[c] = Category(c, zh, en, ".".join(parts[: i - 1]) or None)
                added.append(c)
    return added


def category_at_level(code: str, level: int) -> str:
    """Return the ancestor of category ``code`` at ``level`` (1, 2 or 3).

    Examples
    --------
    >>> category_at_level("04.01.01", 1)
    '04'
    """
    if level not in (1, 2, 3):
        raise ValueError(f"category level must be 1, 2 or 3, got {level!r}")
    return ".".join(code.split(".")[:level])


def category_path(code: str, lang: str = "zh") -> str:
    """Return the labelled path of a category, e.g. ``物业管理 > 电梯 > 电梯故障``."""
    parts = code.split(".")
    names = []
    for i in range(1, len(parts) + 1):
        node = CATEGORIES.get(".".join(parts[:i]))
        names.append(node.label(lang) if node else ".".join(parts[:i]))
    return " > ".join(names)


# Columns of the tickets table.  Times are timezone-aware (Asia/Shanghai)
# pandas Timestamps in memory and UTC epoch seconds in the stores.
TICKET_TIME_COLUMNS = (
    "received_at",
    "dispatched_at",
    "responded_at",
    "due_at",
    "closed_at",
    "followed_up_at",
)
TICKET_COLUMNS = (
    "source_id",
    "received_at",
    "channel",
    "kind",
    "category",
    "text",
    "address",
    "lon",
    "lat",
    "location_source",
    "grid_uid",
    "grid_code",
    "community_code",
    "subdistrict_code",
    "district_code",
    "h3_cell",
    "handling_unit",
    "due_at",
    "dispatched_at",
    "responded_at",
    "closed_at",
    "followed_up_at",
    "status",
    "resolved",
    "satisfaction",
    "caller_name",
    "caller_phone",
    "repeat_of",
    "extra",
)
LINK_COLUMNS = (
    "grid_uid",
    "grid_code",
    "community_code",
    "subdistrict_code",
    "district_code",
    "h3_cell",
)
"""Columns filled by :func:`minqing.geo.link.link_tickets`."""

UNIT_COLUMNS = (
    "code",
    "level",
    "name",
    "name_en",
    "parent_code",
    "population",
    "valid_from",
    "valid_to",
    "caveat",
)
PLACE_COLUMNS = (
    "place_id",
    "kind",
    "name",
    "name_en",
    "aliases",
    "radius_m",
    "buffer_m",
    "subdistrict_code",
    "source",
    "synthetic",
)
INTERVENTION_COLUMNS = (
    "intervention_id",
    "name",
    "type",
    "start_date",
    "end_date",
    "implementation_end",
    "units_involved",
    "description",
    "target_categories",
)
